//! Signature verification with `ring`: RFC 7518 §3.3 RSASSA-PKCS1-v1_5, §3.5 RSASSA-PSS,
//! §3.4 ECDSA (P-256/SHA-256, P-384/SHA-384) and RFC 8037 §3.1 Ed25519.
//!
//! The policy is named once per algorithm in [`rsa_params`] and [`ecdsa_params`]; a failure
//! carries no detail. The key was chosen for this `alg` by [`crate::jwt::keys::KeySet::select`]
//! (its type fits, before any cryptography); a mismatch here is refused all the same.
//!
//! ECDSA signatures are the fixed-size `R ‖ S` of RFC 7518 §3.4 (64 bytes for ES256, 96 for
//! ES384): `ring`'s `*_FIXED` algorithms refuse any other length, so a DER (ASN.1) signature is
//! a `bad_signature`. `ring` accepts an `S` in the upper half of the group order ("high S"),
//! as FIPS 186-4 and RFC 7518 do: ECDSA signatures are malleable (`(R, n − S)` verifies too).
//! That yields a second valid token for the same claims, never a new one; each is cached as its
//! own token. `R` and `S` must be in `[1, n − 1]`. Ed25519 (RFC 8032 §5.1.7) refuses
//! `S ≥ L`, so it is not malleable.

use crate::jwt::Rejection;
use crate::jwt::header::Alg;
use crate::jwt::keys::{Curve, Key, Verifying};
use ring::signature::{self, EcdsaVerificationAlgorithm, RsaParameters, UnparsedPublicKey};

/// The RSA verification policy for each RSA algorithm: 2048–8192-bit moduli only.
fn rsa_params(alg: Alg) -> Option<&'static RsaParameters> {
    match alg {
        Alg::RS256 => Some(&signature::RSA_PKCS1_2048_8192_SHA256),
        Alg::RS384 => Some(&signature::RSA_PKCS1_2048_8192_SHA384),
        Alg::RS512 => Some(&signature::RSA_PKCS1_2048_8192_SHA512),
        Alg::PS256 => Some(&signature::RSA_PSS_2048_8192_SHA256),
        Alg::PS384 => Some(&signature::RSA_PSS_2048_8192_SHA384),
        Alg::PS512 => Some(&signature::RSA_PSS_2048_8192_SHA512),
        Alg::ES256 | Alg::ES384 | Alg::EdDSA => None,
    }
}

/// The ECDSA policy for a curve, when `alg` is that curve's: fixed-size `R ‖ S` only.
fn ecdsa_params(curve: Curve, alg: Alg) -> Option<&'static EcdsaVerificationAlgorithm> {
    match (curve, alg) {
        (Curve::P256, Alg::ES256) => Some(&signature::ECDSA_P256_SHA256_FIXED),
        (Curve::P384, Alg::ES384) => Some(&signature::ECDSA_P384_SHA384_FIXED),
        _ => None,
    }
}

/// RFC 7515 §5.2 step 8: validate the signature over `signing_input` (`header.claims`).
#[inline]
pub fn verify(key: &Key, alg: Alg, signing_input: &[u8], signature: &[u8]) -> Result<(), Rejection> {
    let verified = match key.verifying() {
        Verifying::Rsa(components) => {
            let params = rsa_params(alg).ok_or(Rejection::BadSignature)?;
            components.verify(params, signing_input, signature)
        }
        Verifying::Ec(curve, point) => {
            let params = ecdsa_params(curve, alg).ok_or(Rejection::BadSignature)?;
            UnparsedPublicKey::new(params, point).verify(signing_input, signature)
        }
        Verifying::Ed25519(x) if alg == Alg::EdDSA => {
            UnparsedPublicKey::new(&signature::ED25519, x).verify(signing_input, signature)
        }
        Verifying::Ed25519(_) => return Err(Rejection::BadSignature),
    };
    verified.map_err(|_| Rejection::BadSignature)
}
