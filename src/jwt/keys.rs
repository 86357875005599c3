//! Public keys, parsed once at cold start (from PEM in [`crate::jwt::pem`], from a JWKS in
//! [`crate::jwt::jwks`]), and the one a token's header selects.
//!
//! A key is stored ready for `ring`: an RSA modulus and exponent, an uncompressed EC point, or
//! an Ed25519 public key. Each key verifies only its own family of algorithms (RFC 8725 §3.1,
//! §3.2): RSA → RS*/PS*, P-256 → ES256, P-384 → ES384, Ed25519 → EdDSA; a JWK `alg` narrows
//! it to one. Selection by `kid` is a plain string comparison — `kid` is an untrusted lookup
//! string, never a path.

use crate::jwt::Rejection;
use crate::jwt::b64;
use crate::jwt::header::Alg;
use ring::signature::RsaPublicKeyComponents;

pub use crate::jwt::jwks::{Skipped, parse_jwks};

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

/// The elliptic curves a key may be on (RFC 7518 §6.2.1.1, RFC 8037 §2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Curve {
    P256,
    P384,
    Ed25519,
}

impl Curve {
    /// The JWK `crv` name.
    pub const fn name(self) -> &'static str {
        match self {
            Curve::P256 => "P-256",
            Curve::P384 => "P-384",
            Curve::Ed25519 => "Ed25519",
        }
    }

    /// Bytes of one coordinate (RFC 7518 §6.2.1.2: `x`, `y` are exactly this long) or of
    /// an Ed25519 public key (RFC 8037 §2).
    pub const fn size(self) -> usize {
        match self {
            Curve::P256 => 32,
            Curve::P384 => 48,
            Curve::Ed25519 => 32,
        }
    }

    /// The one algorithm a key on this curve verifies.
    pub const fn alg(self) -> Alg {
        match self {
            Curve::P256 => Alg::ES256,
            Curve::P384 => Alg::ES384,
            Curve::Ed25519 => Alg::EdDSA,
        }
    }
}

/// What a key is, ready for `ring`.
#[derive(Clone, Debug)]
enum Material {
    /// Big-endian modulus and exponent, leading zeros stripped.
    Rsa(RsaPublicKeyComponents<Box<[u8]>>),
    /// A P-256 or P-384 point, uncompressed (SEC 1 §2.3.3: `04 ‖ x ‖ y`), on the curve.
    Ec(Curve, Box<[u8]>),
    /// The 32-byte Ed25519 public key (RFC 8032 §5.1.5).
    Ed25519([u8; 32]),
}

/// One public key: RSA, EC (P-256, P-384) or Ed25519.
#[derive(Clone, Debug)]
pub struct Key {
    kid: Option<Box<str>>,
    alg: Option<Alg>,
    material: Material,
}

/// What `ring` needs to verify one signature with a key (see [`crate::jwt::verify`]).
pub(crate) enum Verifying<'k> {
    Rsa(&'k RsaPublicKeyComponents<Box<[u8]>>),
    Ec(Curve, &'k [u8]),
    Ed25519(&'k [u8; 32]),
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
        let components = RsaPublicKeyComponents { n: n.into(), e: e.into() };
        Ok(Key { kid: None, alg: None, material: Material::Rsa(components) })
    }

    /// From the affine coordinates of a P-256 or P-384 point, each exactly the curve's size
    /// (RFC 7518 §6.2.1.2). The point must be on the curve: `ring`'s own public-key validation
    /// (NIST SP 800-56A §5.6.2.3.3, the one its ECDSA verification runs) checks it here, through
    /// an ECDH agreement with a throwaway key, so a bad point fails the cold start.
    pub fn from_ec_coordinates(curve: Curve, x: &[u8], y: &[u8]) -> Result<Key, KeyError> {
        let size = curve.size();
        if x.len() != size || y.len() != size {
            return Err(KeyError(
                "an EC key's x or y is not exactly the curve's size (32 bytes for P-256, 48 for P-384)",
            ));
        }
        let mut point = Vec::with_capacity(1 + 2 * size);
        point.push(0x04);
        point.extend_from_slice(x);
        point.extend_from_slice(y);
        Key::from_ec_point(curve, &point)
    }

    /// From an uncompressed SEC 1 point (`04 ‖ x ‖ y`); compressed points are refused.
    pub fn from_ec_point(curve: Curve, point: &[u8]) -> Result<Key, KeyError> {
        use ring::agreement;
        let ecdh = match curve {
            Curve::P256 => &agreement::ECDH_P256,
            Curve::P384 => &agreement::ECDH_P384,
            Curve::Ed25519 => return Err(KeyError("Ed25519 is not a curve for ECDSA")),
        };
        if point.first().is_some_and(|b| *b == 0x02 || *b == 0x03) {
            return Err(KeyError("a compressed EC point (use the uncompressed form, 04 || x || y)"));
        }
        if point.len() != 1 + 2 * curve.size() || point[0] != 0x04 {
            return Err(KeyError("an EC point is not 04 || x || y of the curve's size"));
        }
        let rng = ring::rand::SystemRandom::new();
        let mine = agreement::EphemeralPrivateKey::generate(ecdh, &rng)
            .map_err(|_| KeyError("no randomness for the EC point check"))?;
        agreement::agree_ephemeral(mine, &agreement::UnparsedPublicKey::new(ecdh, point), |_| ())
            .map_err(|_| KeyError("an EC point is not on its curve"))?;
        Ok(Key { kid: None, alg: None, material: Material::Ec(curve, point.into()) })
    }

    /// From a 32-byte Ed25519 public key (RFC 8037 §2 `x`). A point of small order, in any
    /// of its encodings, is refused ([`small_order`]): `ring` verifies against it, and such a
    /// key accepts forged signatures (R = [S]B verifies whenever [k]A is the identity, for
    /// any message). A non-canonical encoding (y ≥ p) is refused too. Whether another value
    /// decodes to a curve point is checked by `ring` at each verification: one that does not
    /// verifies nothing.
    pub fn from_ed25519(x: &[u8]) -> Result<Key, KeyError> {
        let x: [u8; 32] = x.try_into().map_err(|_| KeyError("an Ed25519 key is not exactly 32 bytes"))?;
        if small_order(&x) {
            return Err(KeyError("an Ed25519 key of small order (it would accept forged signatures)"));
        }
        if !canonical_y(&x) {
            return Err(KeyError("an Ed25519 key that is not a canonical encoding (y is p or more)"));
        }
        Ok(Key { kid: None, alg: None, material: Material::Ed25519(x) })
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

    /// The RSA modulus (big-endian); empty for an EC or Ed25519 key.
    pub fn modulus(&self) -> &[u8] {
        match &self.material {
            Material::Rsa(c) => &c.n,
            _ => &[],
        }
    }

    /// The RSA exponent (big-endian); empty for an EC or Ed25519 key.
    pub fn exponent(&self) -> &[u8] {
        match &self.material {
            Material::Rsa(c) => &c.e,
            _ => &[],
        }
    }

    /// The RSA modulus' bits; 0 for an EC or Ed25519 key.
    pub fn modulus_bits(&self) -> usize {
        bit_len(self.modulus())
    }

    /// The curve of an EC or Ed25519 key; `None` for RSA.
    pub fn curve(&self) -> Option<Curve> {
        match &self.material {
            Material::Rsa(_) => None,
            Material::Ec(curve, _) => Some(*curve),
            Material::Ed25519(_) => Some(Curve::Ed25519),
        }
    }

    /// The JWK `kty`: `RSA`, `EC` or `OKP`.
    pub fn kty(&self) -> &'static str {
        match &self.material {
            Material::Rsa(_) => "RSA",
            Material::Ec(..) => "EC",
            Material::Ed25519(_) => "OKP",
        }
    }

    /// For the CLI's `config`: `RSA 2048 bits`, `EC P-256`, `OKP Ed25519`.
    pub fn describe(&self) -> String {
        match self.curve() {
            None => format!("RSA {} bits", self.modulus_bits()),
            Some(curve) => format!("{} {}", self.kty(), curve.name()),
        }
    }

    /// The public key bytes: an EC key's uncompressed point, an Ed25519 key's 32 bytes;
    /// empty for RSA (see [`Key::modulus`]).
    pub fn public_bytes(&self) -> &[u8] {
        match &self.material {
            Material::Rsa(_) => &[],
            Material::Ec(_, point) => point,
            Material::Ed25519(x) => x,
        }
    }

    /// The key material with what `ring` needs for it.
    #[inline]
    pub(crate) fn verifying(&self) -> Verifying<'_> {
        match &self.material {
            Material::Rsa(c) => Verifying::Rsa(c),
            Material::Ec(curve, point) => Verifying::Ec(*curve, point),
            Material::Ed25519(x) => Verifying::Ed25519(x),
        }
    }

    /// True when this key's type can verify `alg` at all (RFC 8725 §3.1/§3.2: no algorithm
    /// confusion): RSA only RS*/PS*, P-256 only ES256, P-384 only ES384, Ed25519 only EdDSA.
    pub fn fits(&self, alg: Alg) -> bool {
        match self.curve() {
            None => matches!(alg, Alg::RS256 | Alg::RS384 | Alg::RS512 | Alg::PS256 | Alg::PS384 | Alg::PS512),
            Some(curve) => curve.alg() == alg,
        }
    }

    /// The algorithms this key's type can verify, by name (`RS256, …, PS512` or one).
    pub fn fitting_algorithms(&self) -> String {
        let names: Vec<&str> = Alg::ALL.iter().filter(|a| self.fits(**a)).map(|a| a.name()).collect();
        names.join(", ")
    }

    /// True when this key may verify `alg`: its type fits, and a JWK `alg` names it
    /// (RFC 7517 §4.4). Decided before any cryptography.
    fn permits(&self, alg: Alg) -> bool {
        self.fits(alg) && self.alg.is_none_or(|a| a == alg)
    }

    /// RFC 7638 JWK thumbprint (SHA-256, base64url): a stable `kid` for a PEM key. The
    /// required members in lexicographic order: RSA `e kty n` (RFC 7638 §3.2), EC `crv kty x y`,
    /// OKP `crv kty x` (RFC 8037 §2).
    pub fn thumbprint(&self) -> String {
        let canonical = match &self.material {
            Material::Rsa(_) => {
                format!(
                    r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
                    b64::encode(self.exponent()),
                    b64::encode(self.modulus())
                )
            }
            Material::Ec(curve, point) => {
                let (x, y) = point[1..].split_at(curve.size());
                format!(r#"{{"crv":"{}","kty":"EC","x":"{}","y":"{}"}}"#, curve.name(), b64::encode(x), b64::encode(y))
            }
            Material::Ed25519(x) => format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#, b64::encode(x)),
        };
        b64::encode(ring::digest::digest(&ring::digest::SHA256, canonical.as_bytes()).as_ref())
    }

    /// This key as a JWK: `kty`, `use`, `alg`, `kid`, then `n`, `e` (RSA), `crv`, `x`, `y`
    /// (EC, RFC 7518 §6.2.1) or `crv`, `x` (OKP, RFC 8037 §2).
    pub fn to_jwk(&self, kid: &str, alg: Alg) -> serde_json::Value {
        let mut jwk = serde_json::json!({ "kty": self.kty(), "use": "sig", "alg": alg.name(), "kid": kid });
        match &self.material {
            Material::Rsa(_) => {
                jwk["n"] = b64::encode(self.modulus()).into();
                jwk["e"] = b64::encode(self.exponent()).into();
            }
            Material::Ec(curve, point) => {
                let (x, y) = point[1..].split_at(curve.size());
                jwk["crv"] = curve.name().into();
                jwk["x"] = b64::encode(x).into();
                jwk["y"] = b64::encode(y).into();
            }
            Material::Ed25519(x) => {
                jwk["crv"] = "Ed25519".into();
                jwk["x"] = b64::encode(x).into();
            }
        }
        jwk
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

/// The encodings of the Ed25519 points of small order (order 1, 2, 4 or 8), the sign bit of
/// x cleared: y = 0 (order 4), 1 (the identity), the two y of the points of order 8, p − 1
/// (order 2), and the non-canonical p (= 0) and p + 1 (= 1). libsodium refuses the same list
/// (`ge25519_has_small_order`, src/libsodium/crypto_core/ed25519/ref10/ed25519_ref10.c); RFC
/// 8032 §5.1.7 checks no key order, and neither does `ring`.
const SMALL_ORDER_Y: [[u8; 32]; 7] = {
    let mut p_minus_1 = [0xff; 32];
    p_minus_1[0] = 0xec;
    p_minus_1[31] = 0x7f;
    let (mut p, mut p_plus_1) = (p_minus_1, p_minus_1);
    p[0] = 0xed;
    p_plus_1[0] = 0xee;
    let mut one = [0; 32];
    one[0] = 1;
    [
        [0; 32],
        one,
        [
            0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98, 0xf0, 0xd5, 0xdf,
            0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05,
        ],
        [
            0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67, 0x0f, 0x2a, 0x20,
            0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a,
        ],
        p_minus_1,
        p,
        p_plus_1,
    ]
};

/// The y coordinate of an encoded Ed25519 point (RFC 8032 §5.1.3): the sign bit of x cleared.
fn y_of(x: &[u8; 32]) -> [u8; 32] {
    let mut y = *x;
    y[31] &= 0x7f;
    y
}

/// Whether an encoded Ed25519 point is of small order (see [`SMALL_ORDER_Y`]).
fn small_order(x: &[u8; 32]) -> bool {
    SMALL_ORDER_Y.contains(&y_of(x))
}

/// Whether y < p = 2^255 − 19 (RFC 8032 §5.1.3: a larger y is not a valid encoding).
fn canonical_y(x: &[u8; 32]) -> bool {
    let y = y_of(x);
    let mut p = [0xff; 32];
    p[0] = 0xed;
    p[31] = 0x7f;
    y.iter().rev().cmp(p.iter().rev()).is_lt()
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
              {{"kty":"EC","kid":"ec","crv":"P-521","x":"AA","y":"AA"}},
              {{"kty":"oct","kid":"hmac","k":"AA"}},
              {{"kty":"RSA","kid":"enc","use":"enc","n":"{n}","e":"AQAB"}},
              {{"kty":"RSA","kid":"oaep","alg":"RSA-OAEP","n":"{n}","e":"AQAB"}},
              {{"kty":"RSA","n":"{n}","e":"AQAB"}}
            ]}}"#
        );
        let (keys, skipped) = parse_jwks(&doc).unwrap();
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].kid(), Some("ok"));
        assert_eq!(keys[0].alg(), Some(Alg::RS256));
        assert_eq!(skipped.len(), 5);
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
