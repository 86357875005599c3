//! Token signing, for the CLI (`mint`, `demo`), tests, benches and fuzzing.
//! Not used by the Lambda function.

use crate::jwt::b64;
use crate::jwt::header::Alg;
use ring::rand::SystemRandom;
use ring::signature::{self, RsaKeyPair};

/// An RSA private key for signing test tokens.
pub struct Signer {
    pair: RsaKeyPair,
}

impl Signer {
    /// From a PKCS#8 private key, PEM (`BEGIN PRIVATE KEY`) or DER.
    pub fn from_pkcs8(key: &[u8]) -> Result<Signer, &'static str> {
        let der = match pkcs1::der::pem::decode_vec(key) {
            Ok(("PRIVATE KEY", der)) => der,
            Ok(_) => return Err("expected a PKCS#8 key (BEGIN PRIVATE KEY)"),
            Err(_) => key.to_vec(),
        };
        let pair = RsaKeyPair::from_pkcs8(&der).map_err(|_| "not an RSA PKCS#8 private key")?;
        Ok(Signer { pair })
    }

    /// The matching public key's modulus and exponent.
    pub fn public_components(&self) -> (Vec<u8>, Vec<u8>) {
        use ring::signature::KeyPair as _;
        let c: signature::RsaPublicKeyComponents<Vec<u8>> = self.pair.public_key().into();
        (c.n, c.e)
    }

    /// Signs `header.claims` (both JSON text, used byte for byte) with `alg`.
    pub fn sign_raw(&self, header: &[u8], claims: &[u8], alg: Alg) -> String {
        let mut token = b64::encode(header);
        token.push('.');
        token.push_str(&b64::encode(claims));
        let mut sig = vec![0u8; self.pair.public().modulus_len()];
        let encoding: &'static dyn signature::RsaEncoding = match alg {
            Alg::RS256 => &signature::RSA_PKCS1_SHA256,
            Alg::RS384 => &signature::RSA_PKCS1_SHA384,
            Alg::RS512 => &signature::RSA_PKCS1_SHA512,
            Alg::PS256 => &signature::RSA_PSS_SHA256,
            Alg::PS384 => &signature::RSA_PSS_SHA384,
            Alg::PS512 => &signature::RSA_PSS_SHA512,
        };
        // Signing only fails for a key/buffer mismatch, which `modulus_len` rules out.
        self.pair
            .sign(encoding, &SystemRandom::new(), token.as_bytes(), &mut sig)
            .expect("RSA signing with a buffer of modulus length");
        token.push('.');
        token.push_str(&b64::encode(&sig));
        token
    }

    /// Signs `claims` with a header `{"alg":…,"typ":"JWT"[,"kid":…]}`.
    pub fn sign(&self, claims: &serde_json::Value, alg: Alg, kid: Option<&str>) -> String {
        let mut header = serde_json::json!({"alg": alg.name(), "typ": "JWT"});
        if let Some(kid) = kid {
            header["kid"] = kid.into();
        }
        self.sign_raw(header.to_string().as_bytes(), claims.to_string().as_bytes(), alg)
    }
}
