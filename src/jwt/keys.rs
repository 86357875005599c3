//! Public keys, parsed once at cold start: PEM (SPKI or PKCS#1) and JWKS (RFC 7517).
//!
//! A key is stored as its big-endian modulus and exponent, ready for `ring`; selection by
//! `kid` is a plain string comparison — `kid` is an untrusted lookup string, never a path.

use crate::jwt::Rejection;
use crate::jwt::b64;
use crate::jwt::header::Alg;
use ring::signature::RsaPublicKeyComponents;

/// Why a key could not be loaded. Static text: no key material is ever echoed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyError(pub &'static str);

impl std::fmt::Display for KeyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

/// Smallest modulus accepted (RFC 7518 §3.3: 2048 bits or larger).
pub const MIN_MODULUS_BITS: usize = 2048;
/// Largest modulus `ring` verifies.
pub const MAX_MODULUS_BITS: usize = 8192;

/// One RSA public key.
#[derive(Clone, Debug)]
pub struct Key {
    kid: Option<Box<str>>,
    alg: Option<Alg>,
    components: RsaPublicKeyComponents<Box<[u8]>>,
}

impl Key {
    /// From big-endian modulus and exponent bytes; checks what `ring` would refuse later,
    /// so a bad key fails the cold start instead of every request.
    pub fn from_modulus_exponent(n: &[u8], e: &[u8]) -> Result<Key, KeyError> {
        let n = strip_leading_zeros(n);
        let e = strip_leading_zeros(e);
        let bits = bit_len(n);
        if bits < MIN_MODULUS_BITS {
            return Err(KeyError("RSA modulus is shorter than 2048 bits"));
        }
        if bits > MAX_MODULUS_BITS {
            return Err(KeyError("RSA modulus is longer than 8192 bits"));
        }
        if n.last().is_none_or(|b| b & 1 == 0) {
            return Err(KeyError("RSA modulus is even"));
        }
        // ring accepts odd exponents 3 ≤ e < 2^33.
        if e.is_empty() || e.len() > 5 || e.last().is_none_or(|b| b & 1 == 0) {
            return Err(KeyError("RSA exponent is not an odd number below 2^33"));
        }
        let e_val = e.iter().fold(0u64, |acc, b| acc << 8 | u64::from(*b));
        if !(3..(1u64 << 33)).contains(&e_val) {
            return Err(KeyError("RSA exponent is not an odd number below 2^33"));
        }
        Ok(Key { kid: None, alg: None, components: RsaPublicKeyComponents { n: n.into(), e: e.into() } })
    }

    /// From a PEM public key: `BEGIN PUBLIC KEY` (SPKI, RFC 5280) or `BEGIN RSA PUBLIC KEY`
    /// (PKCS#1, RFC 8017). Newlines may be real or the two characters `\n`.
    pub fn from_pem(pem: &str) -> Result<Key, KeyError> {
        let text = normalize_pem(pem);
        let (label, der) = pkcs1::der::pem::decode_vec(text.as_bytes())
            .map_err(|_| KeyError("not a PEM block (expected -----BEGIN PUBLIC KEY-----)"))?;
        match label {
            "PUBLIC KEY" => Key::from_spki_der(&der),
            "RSA PUBLIC KEY" => Key::from_pkcs1_der(&der),
            "PRIVATE KEY" | "RSA PRIVATE KEY" | "ENCRYPTED PRIVATE KEY" => {
                Err(KeyError("this is a private key; configure the public key"))
            }
            _ => Err(KeyError("expected BEGIN PUBLIC KEY or BEGIN RSA PUBLIC KEY")),
        }
    }

    /// From DER `SubjectPublicKeyInfo` whose algorithm is rsaEncryption.
    pub fn from_spki_der(der: &[u8]) -> Result<Key, KeyError> {
        use pkcs1::der::Decode as _;
        // 1.2.840.113549.1.1.1 (RFC 8017 Appendix C)
        const RSA_ENCRYPTION: spki::ObjectIdentifier = spki::ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
        let info =
            spki::SubjectPublicKeyInfoRef::from_der(der).map_err(|_| KeyError("malformed SubjectPublicKeyInfo"))?;
        if info.algorithm.oid != RSA_ENCRYPTION {
            return Err(KeyError("not an RSA key (only RSA public keys are supported)"));
        }
        let pkcs1 = info.subject_public_key.as_bytes().ok_or(KeyError("malformed SubjectPublicKeyInfo"))?;
        Key::from_pkcs1_der(pkcs1)
    }

    /// From DER PKCS#1 `RSAPublicKey`.
    pub fn from_pkcs1_der(der: &[u8]) -> Result<Key, KeyError> {
        let key = pkcs1::RsaPublicKeyRef::try_from(der).map_err(|_| KeyError("malformed RSA public key"))?;
        Key::from_modulus_exponent(key.modulus.as_bytes(), key.public_exponent.as_bytes())
    }

    pub fn with_kid(mut self, kid: Option<&str>) -> Key {
        self.kid = kid.map(Into::into);
        self
    }

    pub fn with_alg(mut self, alg: Option<Alg>) -> Key {
        self.alg = alg;
        self
    }

    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    pub fn alg(&self) -> Option<Alg> {
        self.alg
    }

    pub fn modulus(&self) -> &[u8] {
        &self.components.n
    }

    pub fn exponent(&self) -> &[u8] {
        &self.components.e
    }

    pub fn modulus_bits(&self) -> usize {
        bit_len(&self.components.n)
    }

    pub(crate) fn components(&self) -> &RsaPublicKeyComponents<Box<[u8]>> {
        &self.components
    }

    /// True when this key may verify `alg` (a JWK `alg` restricts it, RFC 7517 §4.4).
    fn permits(&self, alg: Alg) -> bool {
        self.alg.is_none_or(|a| a == alg)
    }

    /// RFC 7638 JWK thumbprint (SHA-256, base64url): a stable `kid` for a PEM key.
    pub fn thumbprint(&self) -> String {
        let canonical =
            format!(r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#, b64::encode(self.exponent()), b64::encode(self.modulus()));
        b64::encode(ring::digest::digest(&ring::digest::SHA256, canonical.as_bytes()).as_ref())
    }

    /// This key as a JWK (`kty`, `use`, `alg`, `kid`, `n`, `e`).
    pub fn to_jwk(&self, kid: &str, alg: Alg) -> serde_json::Value {
        serde_json::json!({
            "kty": "RSA",
            "use": "sig",
            "alg": alg.name(),
            "kid": kid,
            "n": b64::encode(self.modulus()),
            "e": b64::encode(self.exponent()),
        })
    }
}

fn strip_leading_zeros(b: &[u8]) -> &[u8] {
    let first = b.iter().position(|&x| x != 0).unwrap_or(b.len());
    &b[first..]
}

fn bit_len(be: &[u8]) -> usize {
    match be.first() {
        Some(&top) => (be.len() - 1) * 8 + (8 - top.leading_zeros() as usize),
        None => 0,
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
    n: Option<String>,
    e: Option<String>,
}

/// Parses a JWKS document (RFC 7517 §5). Unusable entries (not RSA, `use` ≠ `sig`, an
/// encryption or unknown `alg`, no `kid` in a multi-key set) are skipped and reported;
/// a usable-looking RSA entry that is malformed or weak is an error.
pub fn parse_jwks(json: &str) -> Result<(Vec<Key>, Vec<Skipped>), KeyError> {
    let set: JwkSet = serde_json::from_str(json).map_err(|_| KeyError("not a JWKS document ({\"keys\":[...]})"))?;
    let multi = set.keys.len() > 1;
    let mut keys = Vec::new();
    let mut skipped = Vec::new();
    for raw in set.keys {
        let jwk: Jwk = serde_json::from_value(raw).map_err(|_| KeyError("a JWK member has the wrong type"))?;
        let skip = |why| Skipped { kid: jwk.kid.clone(), why };
        if jwk.kty.as_deref() != Some("RSA") {
            skipped.push(skip("kty is not RSA"));
            continue;
        }
        if jwk.use_.as_deref().is_some_and(|u| u != "sig") {
            skipped.push(skip("use is not sig"));
            continue;
        }
        let alg = match jwk.alg.as_deref() {
            None => None,
            Some(name) => match Alg::from_name(name) {
                Some(a) => Some(a),
                None => {
                    skipped.push(skip("alg is not an RSA signature algorithm"));
                    continue;
                }
            },
        };
        if multi && jwk.kid.is_none() {
            skipped.push(skip("no kid in a multi-key set"));
            continue;
        }
        let (Some(n), Some(e)) = (jwk.n.as_deref(), jwk.e.as_deref()) else {
            return Err(KeyError("an RSA JWK lacks n or e"));
        };
        let decode = |s: &str| {
            let mut buf = vec![0u8; s.len()];
            let len = b64::decode(s.as_bytes(), &mut buf)
                .map_err(|_| KeyError("an RSA JWK's n or e is not base64url"))?
                .len();
            buf.truncate(len);
            Ok::<_, KeyError>(buf)
        };
        let key = Key::from_modulus_exponent(&decode(n)?, &decode(e)?)?;
        keys.push(key.with_kid(jwk.kid.as_deref()).with_alg(alg));
    }
    Ok((keys, skipped))
}

/// Every configured key: JWKS keys chosen by `kid`, and an optional PEM key that matches
/// any `kid` (the fallback).
#[derive(Clone, Debug, Default)]
pub struct KeySet {
    jwks: Vec<Key>,
    pem: Option<Key>,
}

impl KeySet {
    pub fn new(pem: Option<Key>, jwks: Vec<Key>) -> KeySet {
        KeySet { jwks, pem }
    }

    pub fn len(&self) -> usize {
        self.jwks.len() + usize::from(self.pem.is_some())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The JWKS keys, then the PEM key (for the CLI's `config`).
    pub fn iter(&self) -> impl Iterator<Item = &Key> {
        self.jwks.iter().chain(self.pem.as_ref())
    }

    /// The key for a token's `kid` and `alg`:
    /// a JWKS key with that `kid` (and a compatible `alg`), else the PEM key; a token
    /// without `kid` needs a PEM key or exactly one JWKS key.
    pub fn select(&self, kid: Option<&str>, alg: Alg) -> Result<&Key, Rejection> {
        let by_kid = match kid {
            Some(kid) => self.jwks.iter().find(|k| k.kid() == Some(kid) && k.permits(alg)),
            None if self.pem.is_none() && self.jwks.len() == 1 => self.jwks.first(),
            None => None,
        };
        by_kid.or(self.pem.as_ref()).filter(|k| k.permits(alg)).ok_or(Rejection::UnknownKid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(kid: &str, alg: Option<Alg>) -> Key {
        let mut n = vec![0xC5u8; 256];
        n[255] = 0x01;
        Key::from_modulus_exponent(&n, &[1, 0, 1]).unwrap().with_kid(Some(kid)).with_alg(alg)
    }

    #[test]
    fn modulus_and_exponent_rules() {
        let mut n = vec![0xC5u8; 256];
        n[255] |= 1;
        assert!(Key::from_modulus_exponent(&n, &[1, 0, 1]).is_ok());
        let mut with_zero = vec![0];
        with_zero.extend_from_slice(&n);
        assert_eq!(Key::from_modulus_exponent(&with_zero, &[0, 1, 0, 1]).unwrap().modulus_bits(), 2048);
        assert!(Key::from_modulus_exponent(&n[1..], &[1, 0, 1]).is_err(), "2040 bits");
        assert!(Key::from_modulus_exponent(&n, &[1, 0, 0]).is_err(), "even e");
        assert!(Key::from_modulus_exponent(&n, &[1]).is_err(), "e = 1");
        assert!(Key::from_modulus_exponent(&n, &[]).is_err(), "empty e");
        let mut even = n.clone();
        even[255] = 0x02;
        assert!(Key::from_modulus_exponent(&even, &[3]).is_err(), "even n");
    }

    #[test]
    fn selection_by_kid_alg_and_fallback() {
        let a = key("a", None);
        let b = key("b", Some(Alg::RS384));
        let only_jwks = KeySet::new(None, vec![a.clone(), b.clone()]);
        assert_eq!(only_jwks.select(Some("a"), Alg::RS256).unwrap().kid(), Some("a"));
        assert_eq!(only_jwks.select(Some("b"), Alg::RS384).unwrap().kid(), Some("b"));
        assert_eq!(only_jwks.select(Some("b"), Alg::RS256).unwrap_err(), Rejection::UnknownKid);
        assert_eq!(only_jwks.select(Some("c"), Alg::RS256).unwrap_err(), Rejection::UnknownKid);
        assert_eq!(only_jwks.select(None, Alg::RS256).unwrap_err(), Rejection::UnknownKid);
        let single = KeySet::new(None, vec![a.clone()]);
        assert_eq!(single.select(None, Alg::RS256).unwrap().kid(), Some("a"));
        let pem = key("pem", None).with_kid(None);
        let both = KeySet::new(Some(pem), vec![a, b]);
        assert_eq!(both.select(Some("a"), Alg::RS256).unwrap().kid(), Some("a"));
        assert_eq!(both.select(Some("zzz"), Alg::RS256).unwrap().kid(), None);
        assert_eq!(both.select(None, Alg::RS256).unwrap().kid(), None);
        assert_eq!(both.select(Some("../../etc/passwd"), Alg::RS256).unwrap().kid(), None);
    }

    #[test]
    fn jwks_skips_unusable_entries_and_rejects_broken_ones() {
        let n = b64::encode(&{
            let mut n = vec![0xC5u8; 256];
            n[255] = 1;
            n
        });
        let doc = format!(
            r#"{{"keys":[
              {{"kty":"RSA","kid":"ok","use":"sig","alg":"RS256","n":"{n}","e":"AQAB"}},
              {{"kty":"EC","kid":"ec","crv":"P-256","x":"AA","y":"AA"}},
              {{"kty":"RSA","kid":"enc","use":"enc","n":"{n}","e":"AQAB"}},
              {{"kty":"RSA","kid":"oaep","alg":"RSA-OAEP","n":"{n}","e":"AQAB"}},
              {{"kty":"RSA","n":"{n}","e":"AQAB"}}
            ]}}"#
        );
        let (keys, skipped) = parse_jwks(&doc).unwrap();
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].kid(), Some("ok"));
        assert_eq!(keys[0].alg(), Some(Alg::RS256));
        assert_eq!(skipped.len(), 4);
        assert!(parse_jwks(r#"{"keys":[{"kty":"RSA","kid":"x","n":"AQAB"}]}"#).is_err());
        assert!(parse_jwks(r#"{"keys":[{"kty":"RSA","kid":"x","n":"AQAB","e":"AQAB"}]}"#).is_err());
        assert!(parse_jwks("[]").is_err());
        assert_eq!(parse_jwks(r#"{"keys":[]}"#).unwrap().0.len(), 0);
    }

    #[test]
    fn pem_garbage_is_an_error_not_a_panic() {
        for bad in [
            "",
            "hello",
            "-----BEGIN PUBLIC KEY-----\n!!!\n-----END PUBLIC KEY-----",
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----",
        ] {
            assert!(Key::from_pem(bad).is_err(), "{bad}");
        }
    }
}
