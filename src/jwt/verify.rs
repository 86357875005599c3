//! Signature verification with `ring` (RFC 7518 §3.3 RSASSA-PKCS1-v1_5, §3.5 RSASSA-PSS).
//!
//! The policy is named once per algorithm in [`params`]; a failure carries no detail.

use crate::jwt::Rejection;
use crate::jwt::header::Alg;
use crate::jwt::keys::Key;
use ring::signature::{self, RsaParameters};

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
pub fn verify(key: &Key, alg: Alg, signing_input: &[u8], signature: &[u8]) -> Result<(), Rejection> {
    key.components().verify(params(alg), signing_input, signature).map_err(|_| Rejection::BadSignature)
}
