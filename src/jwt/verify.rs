//! Signature verification with `ring` (RFC 7518 §3.3 RSASSA-PKCS1-v1_5, §3.5 RSASSA-PSS).
//!
//! The policy is named once per algorithm in [`params`]; a failure carries no detail.

use crate::jwt::keys::Key;
use crate::reason::Reason;
use ring::signature::{self, RsaParameters};

/// A JWS `alg` this crate can verify (RFC 7518 §3.1). HMAC, ECDSA and `none` are not here:
/// keys come from configuration as RSA public keys, so no token can select another mechanism.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Alg {
    RS256,
    RS384,
    RS512,
    PS256,
    PS384,
    PS512,
}

impl Alg {
    pub const ALL: [Alg; 6] = [Alg::RS256, Alg::RS384, Alg::RS512, Alg::PS256, Alg::PS384, Alg::PS512];

    /// The header value, case-sensitive as RFC 7515 §4.1.1 requires.
    pub fn from_name(name: &str) -> Option<Alg> {
        Alg::ALL.into_iter().find(|a| a.name() == name)
    }

    pub const fn name(self) -> &'static str {
        match self {
            Alg::RS256 => "RS256",
            Alg::RS384 => "RS384",
            Alg::RS512 => "RS512",
            Alg::PS256 => "PS256",
            Alg::PS384 => "PS384",
            Alg::PS512 => "PS512",
        }
    }

    const fn bit(self) -> u8 {
        1 << self as u8
    }
}

/// The algorithm allowlist (`JWT_ALGORITHMS`). Default: exactly `RS256`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AlgSet(u8);

impl AlgSet {
    pub const EMPTY: AlgSet = AlgSet(0);

    pub const fn with(self, alg: Alg) -> AlgSet {
        AlgSet(self.0 | alg.bit())
    }

    pub const fn contains(self, alg: Alg) -> bool {
        self.0 & alg.bit() != 0
    }
}

impl Default for AlgSet {
    fn default() -> Self {
        AlgSet::EMPTY.with(Alg::RS256)
    }
}

/// The verification policy for each algorithm: 2048–8192-bit moduli only.
fn params(alg: Alg) -> &'static RsaParameters {
    match alg {
        Alg::RS256 => &signature::RSA_PKCS1_2048_8192_SHA256,
        Alg::RS384 => &signature::RSA_PKCS1_2048_8192_SHA384,
        Alg::RS512 => &signature::RSA_PKCS1_2048_8192_SHA512,
        Alg::PS256 => &signature::RSA_PSS_2048_8192_SHA256,
        Alg::PS384 => &signature::RSA_PSS_2048_8192_SHA384,
        Alg::PS512 => &signature::RSA_PSS_2048_8192_SHA512,
    }
}

/// RFC 7515 §5.2 step 8: validate the signature over `signing_input` (`header.claims`).
pub fn verify(key: &Key, alg: Alg, signing_input: &[u8], signature: &[u8]) -> Result<(), Reason> {
    key.components().verify(params(alg), signing_input, signature).map_err(|_| Reason::BadSignature)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_case_sensitively() {
        for a in Alg::ALL {
            assert_eq!(Alg::from_name(a.name()), Some(a));
        }
        for bad in ["rs256", "none", "None", "HS256", "ES256", "RS256 ", ""] {
            assert_eq!(Alg::from_name(bad), None);
        }
    }

    #[test]
    fn default_allowlist_is_exactly_rs256() {
        let d = AlgSet::default();
        assert!(d.contains(Alg::RS256));
        assert!(Alg::ALL[1..].iter().all(|a| !d.contains(*a)));
    }
}
