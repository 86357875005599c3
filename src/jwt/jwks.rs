//! JWKS documents (RFC 7517 §5): RSA (RFC 7518 §6.3), EC (RFC 7518 §6.2) and OKP Ed25519
//! (RFC 8037 §2) signing keys.
//!
//! An entry this function cannot use (another `kty` or curve, `use` ≠ `sig`, an unknown `alg`
//! or one its key type cannot verify, no `kid` in a multi-key set) is skipped and reported; a
//! usable-looking entry that is malformed, weak, off its curve, or that holds a private key
//! (`d`) is an error: the cold start fails.

use crate::jwt::b64;
use crate::jwt::header::Alg;
use crate::jwt::keys::{Curve, Key, KeyError};

/// A JWKS entry that was skipped at load time, and why (logged as a warning).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    pub kid: Option<String>,
    pub why: &'static str,
}

#[derive(serde::Deserialize)]
struct JwkSet {
    keys: Vec<serde_json::Value>,
}

#[derive(serde::Deserialize)]
struct Jwk {
    kty: Option<String>,
    #[serde(rename = "use")]
    use_: Option<String>,
    kid: Option<String>,
    alg: Option<String>,
    crv: Option<String>,
    n: Option<String>,
    e: Option<String>,
    x: Option<String>,
    y: Option<String>,
    /// Present only in a private key (RFC 7518 §6.2.2.1, §6.3.2.1; RFC 8037 §2): refused.
    d: Option<serde_json::Value>,
}

/// What a JWK's `kty` and `crv` say it is, before its members are decoded.
enum Kind {
    Rsa,
    Curve(Curve),
}

/// Parses a JWKS document (RFC 7517 §5). See the module for what is skipped and what fails.
pub fn parse_jwks(json: &str) -> Result<(Vec<Key>, Vec<Skipped>), KeyError> {
    let set: JwkSet = serde_json::from_str(json).map_err(|_| KeyError("not a JWKS document ({\"keys\":[...]})"))?;
    let multi = set.keys.len() > 1;
    let mut keys = Vec::new();
    let mut skipped = Vec::new();
    for raw in set.keys {
        let jwk: Jwk = serde_json::from_value(raw).map_err(|_| KeyError("a JWK member has the wrong type"))?;
        // A private key published by mistake: whatever its type, never load it, and say why.
        if jwk.d.is_some() {
            return Err(KeyError("a JWK holds a private key (member d): publish and configure only public keys"));
        }
        let skip = |why| Skipped { kid: jwk.kid.clone(), why };
        let kind = match (jwk.kty.as_deref(), jwk.crv.as_deref()) {
            (Some("RSA"), _) => Kind::Rsa,
            (Some("EC"), Some("P-256")) => Kind::Curve(Curve::P256),
            (Some("EC"), Some("P-384")) => Kind::Curve(Curve::P384),
            (Some("EC"), _) => {
                skipped.push(skip("EC crv is not P-256 or P-384 (P-521 and others are not supported)"));
                continue;
            }
            (Some("OKP"), Some("Ed25519")) => Kind::Curve(Curve::Ed25519),
            (Some("OKP"), Some("Ed448")) => {
                skipped.push(skip("Ed448 is not supported (ring implements Ed25519 only)"));
                continue;
            }
            (Some("OKP"), _) => {
                skipped.push(skip("OKP crv is not Ed25519"));
                continue;
            }
            _ => {
                skipped.push(skip("kty is not RSA, EC or OKP"));
                continue;
            }
        };
        if jwk.use_.as_deref().is_some_and(|u| u != "sig") {
            skipped.push(skip("use is not sig"));
            continue;
        }
        let alg = match jwk.alg.as_deref() {
            None => None,
            Some(name) => match Alg::from_name(name) {
                Some(a) => Some(a),
                None => {
                    skipped.push(skip("alg is not a supported signature algorithm"));
                    continue;
                }
            },
        };
        if multi && jwk.kid.is_none() {
            skipped.push(skip("no kid in a multi-key set"));
            continue;
        }
        let key = match kind {
            Kind::Rsa => {
                let (Some(n), Some(e)) = (jwk.n.as_deref(), jwk.e.as_deref()) else {
                    return Err(KeyError("an RSA JWK lacks n or e"));
                };
                let bad = "an RSA JWK's n or e is not base64url";
                Key::from_modulus_exponent(&decode(n, bad)?, &decode(e, bad)?)?
            }
            Kind::Curve(Curve::Ed25519) => {
                let x = jwk.x.as_deref().ok_or(KeyError("an OKP JWK lacks x"))?;
                Key::from_ed25519(&decode(x, "an OKP JWK's x is not base64url")?)?
            }
            Kind::Curve(curve) => {
                let (Some(x), Some(y)) = (jwk.x.as_deref(), jwk.y.as_deref()) else {
                    return Err(KeyError("an EC JWK lacks x or y"));
                };
                let bad = "an EC JWK's x or y is not base64url";
                Key::from_ec_coordinates(curve, &decode(x, bad)?, &decode(y, bad)?)?
            }
        };
        // RFC 8725 §3.1: a key is for one family; an `alg` its type cannot verify is never usable.
        if alg.is_some_and(|a| !key.fits(a)) {
            skipped
                .push(skip("alg does not fit the key type (RSA: RS*/PS*, P-256: ES256, P-384: ES384, Ed25519: EdDSA)"));
            continue;
        }
        keys.push(key.with_kid(jwk.kid.as_deref()).with_alg(alg));
    }
    Ok((keys, skipped))
}

fn decode(s: &str, bad: &'static str) -> Result<Vec<u8>, KeyError> {
    let mut buf = vec![0u8; s.len()];
    let len = b64::decode(s.as_bytes(), &mut buf).map_err(|_| KeyError(bad))?.len();
    buf.truncate(len);
    Ok(buf)
}
