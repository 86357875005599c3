//! PEM public keys (`JWT_PUBLIC_KEY`): `BEGIN PUBLIC KEY` (SPKI, RFC 5280 §4.1.2.7) for RSA,
//! EC P-256/P-384 (RFC 5480) and Ed25519 (RFC 8410), or `BEGIN RSA PUBLIC KEY` (PKCS#1).
//! A private key is refused with a message that says so.

use crate::jwt::keys::{Curve, Key, KeyError};
use pkcs1::der::Decode as _;

// 1.2.840.113549.1.1.1 (RFC 8017 Appendix C)
const RSA_ENCRYPTION: spki::ObjectIdentifier = spki::ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
// id-ecPublicKey 1.2.840.10045.2.1, with a named curve: secp256r1 / secp384r1 (RFC 5480 §2.1.1.1)
const EC_PUBLIC_KEY: spki::ObjectIdentifier = spki::ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const SECP256R1: spki::ObjectIdentifier = spki::ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const SECP384R1: spki::ObjectIdentifier = spki::ObjectIdentifier::new_unwrap("1.3.132.0.34");
// id-Ed25519 1.3.101.112, id-Ed448 1.3.101.113 (RFC 8410 §3): no parameters
const ED25519: spki::ObjectIdentifier = spki::ObjectIdentifier::new_unwrap("1.3.101.112");
const ED448: spki::ObjectIdentifier = spki::ObjectIdentifier::new_unwrap("1.3.101.113");

impl Key {
    /// From a PEM public key: `BEGIN PUBLIC KEY` (SPKI: RSA, EC P-256/P-384, Ed25519) or
    /// `BEGIN RSA PUBLIC KEY` (PKCS#1, RFC 8017). Newlines may be real or the two characters `\n`.
    pub fn from_pem(pem: &str) -> Result<Key, KeyError> {
        let text = normalize_pem(pem);
        let (label, der) = pkcs1::der::pem::decode_vec(text.as_bytes())
            .map_err(|_| KeyError("not a PEM block (expected -----BEGIN PUBLIC KEY-----)"))?;
        match label {
            "PUBLIC KEY" => Key::from_spki_der(&der),
            "RSA PUBLIC KEY" => Key::from_pkcs1_der(&der),
            "PRIVATE KEY" | "RSA PRIVATE KEY" | "EC PRIVATE KEY" | "ENCRYPTED PRIVATE KEY" => {
                Err(KeyError("this is a private key; configure the public key"))
            }
            _ => Err(KeyError("expected BEGIN PUBLIC KEY or BEGIN RSA PUBLIC KEY")),
        }
    }

    /// From DER `SubjectPublicKeyInfo`: rsaEncryption, id-ecPublicKey on P-256 or P-384, or
    /// id-Ed25519.
    pub fn from_spki_der(der: &[u8]) -> Result<Key, KeyError> {
        let info =
            spki::SubjectPublicKeyInfoRef::from_der(der).map_err(|_| KeyError("malformed SubjectPublicKeyInfo"))?;
        let bits = info.subject_public_key.as_bytes().ok_or(KeyError("malformed SubjectPublicKeyInfo"))?;
        match info.algorithm.oid {
            RSA_ENCRYPTION => Key::from_pkcs1_der(bits),
            EC_PUBLIC_KEY => {
                // RFC 5480 §2.1.1: the parameters are a namedCurve OID.
                let curve = match info.algorithm.parameters_oid() {
                    Ok(SECP256R1) => Curve::P256,
                    Ok(SECP384R1) => Curve::P384,
                    Ok(_) => return Err(KeyError("an EC key on a curve other than P-256 or P-384 (not supported)")),
                    Err(_) => return Err(KeyError("an EC key without a named curve")),
                };
                Key::from_ec_point(curve, bits)
            }
            // RFC 8410 §3: "the parameters MUST be absent".
            ED25519 if info.algorithm.parameters.is_none() => Key::from_ed25519(bits),
            ED25519 => Err(KeyError("an Ed25519 key with parameters (RFC 8410 §3: they must be absent)")),
            ED448 => Err(KeyError("an Ed448 key (not supported: ring implements Ed25519 only)")),
            _ => Err(KeyError("not an RSA, EC (P-256, P-384) or Ed25519 public key")),
        }
    }

    /// From DER PKCS#1 `RSAPublicKey`.
    pub fn from_pkcs1_der(der: &[u8]) -> Result<Key, KeyError> {
        let key = pkcs1::RsaPublicKeyRef::try_from(der).map_err(|_| KeyError("malformed RSA public key"))?;
        Key::from_modulus_exponent(key.modulus.as_bytes(), key.public_exponent.as_bytes())
    }
}

/// Accepts what people paste into environment variables: literal `\n`, CRLF, indentation,
/// and newlines turned into spaces (a console that folds a pasted value onto one line).
/// The last is unambiguous: the base64 body holds no spaces, so all white space inside the
/// `-----BEGIN …-----` / `-----END …-----` pair is dropped and the body wrapped again.
fn normalize_pem(pem: &str) -> String {
    let pem = pem.replace("\\n", "\n");
    let marker = |from: usize, prefix: &str| {
        let start = from + pem.get(from..)?.find(prefix)?;
        let end = start + prefix.len() + pem[start + prefix.len()..].find("-----")? + 5;
        Some((start, end))
    };
    let Some(((b0, b1), (e0, e1))) = marker(0, "-----BEGIN ").and_then(|b| Some((b, marker(b.1, "-----END ")?))) else {
        return pem; // not PEM: the decoder says so
    };
    let body: String = pem[b1..e0].chars().filter(|c| !c.is_whitespace()).collect();
    let mut out = String::with_capacity(body.len() + body.len() / 64 + 128);
    out.push_str(&pem[b0..b1]);
    for chunk in body.as_bytes().chunks(64) {
        out.push('\n');
        out.push_str(&String::from_utf8_lossy(chunk));
    }
    out.push('\n');
    out.push_str(&pem[e0..e1]);
    out.push('\n');
    out
}
