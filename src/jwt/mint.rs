//! Token signing, for the CLI (`mint`, `demo`), tests, benches and fuzzing.
//! Not used by the Lambda function.

use crate::jwt::b64;
use crate::jwt::header::Alg;
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, RsaKeyPair};

/// A private key for signing test tokens: RSA, EC P-256/P-384, or Ed25519.
pub struct Signer {
    pair: Pair,
}

enum Pair {
    Rsa(RsaKeyPair),
    /// With the one algorithm it signs: ES256 (P-256) or ES384 (P-384).
    Ec(EcdsaKeyPair, Alg),
    Ed25519(Ed25519KeyPair),
}

impl Signer {
    /// From a PKCS#8 private key, PEM (`BEGIN PRIVATE KEY`) or DER: RSA, EC P-256 or P-384,
    /// or Ed25519 (PKCS#8 v1 as OpenSSL writes it, or v2).
    pub fn from_pkcs8(key: &[u8]) -> Result<Signer, &'static str> {
        let der = match pkcs1::der::pem::decode_vec(key) {
            Ok(("PRIVATE KEY", der)) => der,
            Ok(_) => return Err("expected a PKCS#8 key (BEGIN PRIVATE KEY)"),
            Err(_) => key.to_vec(),
        };
        let rng = SystemRandom::new();
        let pair = if let Ok(pair) = RsaKeyPair::from_pkcs8(&der) {
            Pair::Rsa(pair)
        } else if let Ok(pair) = EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &der, &rng) {
            Pair::Ec(pair, Alg::ES256)
        } else if let Ok(pair) = EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P384_SHA384_FIXED_SIGNING, &der, &rng) {
            Pair::Ec(pair, Alg::ES384)
        } else if let Ok(pair) = Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der) {
            Pair::Ed25519(pair)
        } else {
            return Err("not an RSA, EC (P-256, P-384) or Ed25519 PKCS#8 private key");
        };
        Ok(Signer { pair })
    }

    /// The matching RSA public key's modulus and exponent; empty for an EC or Ed25519 key.
    pub fn public_components(&self) -> (Vec<u8>, Vec<u8>) {
        match &self.pair {
            Pair::Rsa(pair) => {
                let c: signature::RsaPublicKeyComponents<Vec<u8>> = pair.public_key().into();
                (c.n, c.e)
            }
            _ => (Vec::new(), Vec::new()),
        }
    }

    /// The matching public key's bytes: an EC key's uncompressed point (`04 ‖ x ‖ y`), an
    /// Ed25519 key's 32 bytes, an RSA key's DER `RSAPublicKey`.
    pub fn public_key_bytes(&self) -> Vec<u8> {
        match &self.pair {
            Pair::Rsa(pair) => pair.public_key().as_ref().to_vec(),
            Pair::Ec(pair, _) => pair.public_key().as_ref().to_vec(),
            Pair::Ed25519(pair) => pair.public_key().as_ref().to_vec(),
        }
    }

    /// True when this key signs `alg`: RSA RS*/PS*, P-256 ES256, P-384 ES384, Ed25519 EdDSA.
    pub fn fits(&self, alg: Alg) -> bool {
        match &self.pair {
            Pair::Rsa(_) => !matches!(alg, Alg::ES256 | Alg::ES384 | Alg::EdDSA),
            Pair::Ec(_, own) => *own == alg,
            Pair::Ed25519(_) => alg == Alg::EdDSA,
        }
    }

    /// This key's natural algorithm: RS256 for RSA, ES256/ES384 for EC, EdDSA for Ed25519.
    pub fn default_alg(&self) -> Alg {
        match &self.pair {
            Pair::Rsa(_) => Alg::RS256,
            Pair::Ec(_, own) => *own,
            Pair::Ed25519(_) => Alg::EdDSA,
        }
    }

    /// Signs `header.claims` (both JSON text, used byte for byte) with `alg`, which the header
    /// need not name (tests forge mismatches that way).
    ///
    /// # Panics
    /// When this key cannot sign `alg` ([`Signer::fits`]): the CLI checks first.
    pub fn sign_raw(&self, header: &[u8], claims: &[u8], alg: Alg) -> String {
        assert!(self.fits(alg), "a {} key cannot sign with it", alg.name());
        let mut token = b64::encode(header);
        token.push('.');
        token.push_str(&b64::encode(claims));
        let rng = SystemRandom::new();
        let sig = match &self.pair {
            Pair::Rsa(pair) => {
                let mut sig = vec![0u8; pair.public().modulus_len()];
                let encoding: &'static dyn signature::RsaEncoding = match alg {
                    Alg::RS384 => &signature::RSA_PKCS1_SHA384,
                    Alg::RS512 => &signature::RSA_PKCS1_SHA512,
                    Alg::PS256 => &signature::RSA_PSS_SHA256,
                    Alg::PS384 => &signature::RSA_PSS_SHA384,
                    Alg::PS512 => &signature::RSA_PSS_SHA512,
                    _ => &signature::RSA_PKCS1_SHA256,
                };
                // Signing only fails for a key/buffer mismatch, which `modulus_len` rules out.
                pair.sign(encoding, &rng, token.as_bytes(), &mut sig)
                    .expect("RSA signing with a buffer of modulus length");
                sig
            }
            // RFC 7518 §3.4: the fixed-size R ‖ S (the `*_FIXED_SIGNING` format).
            Pair::Ec(pair, _) => pair.sign(&rng, token.as_bytes()).expect("ECDSA signing").as_ref().to_vec(),
            Pair::Ed25519(pair) => pair.sign(token.as_bytes()).as_ref().to_vec(),
        };
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
