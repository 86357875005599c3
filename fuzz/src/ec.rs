//! The `ec_signature` target's input and oracle (issue 18): a token whose header names one of
//! several algorithms and kids, signed by the P-256, P-384 or Ed25519 fuzz key, whose
//! signature is then kept, replaced, cut, extended, flipped, DER-encoded or given a high S.
//!
//! The expected verdict is computed without the crate: the kid is looked up in our own table
//! of the configured JWKS, the key's type must fit the header's `alg` (RSA: none of these
//! keys' algorithms; P-256: ES256; P-384: ES384; Ed25519: EdDSA), and `ring` verifies the
//! signature with the public key taken from the private key pair.

use crate::{FAR_FUTURE, FUZZ_PUBLIC_KEY, NOW};
use arbitrary::Arbitrary;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jwt_authorizer::jwt::header::Alg;
use jwt_authorizer::jwt::mint::Signer;
use jwt_authorizer::{Authorizer, config};
use ring::signature::{self, UnparsedPublicKey, VerificationAlgorithm};
use std::sync::LazyLock;

pub const P256_KEY: &str = include_str!("../keys/ec-p256.key.pem");
pub const P384_KEY: &str = include_str!("../keys/ec-p384.key.pem");
pub const ED25519_KEY: &str = include_str!("../keys/ed25519.key.pem");

/// The configured kids, in `Case::kid` order; the last is not configured.
pub const KIDS: [&str; 5] = ["p256", "p384", "ed", "rsa", "nope"];
/// Header `alg` values, in `Case::alg` order.
pub const ALGS: [&str; 12] =
    ["ES256", "ES384", "EdDSA", "RS256", "PS256", "ES512", "Ed25519", "HS256", "none", "es256", "EDDSA", "ES256K"];

/// The three signing keys, each with its algorithm, kid and `ring` verification parameters.
pub struct EcFixture {
    pub authorizer: Authorizer,
    keys: Vec<(Signer, Alg, &'static dyn VerificationAlgorithm, Vec<u8>)>,
    jwks: String,
}

pub static EC_FIXTURE: LazyLock<EcFixture> = LazyLock::new(|| {
    let p256 = Signer::from_pkcs8(P256_KEY.as_bytes()).expect("P-256 fuzz key");
    let p384 = Signer::from_pkcs8(P384_KEY.as_bytes()).expect("P-384 fuzz key");
    let ed = Signer::from_pkcs8(ED25519_KEY.as_bytes()).expect("Ed25519 fuzz key");
    let b64 = |b: &[u8]| URL_SAFE_NO_PAD.encode(b);
    let ec = |kid: &str, crv: &str, point: &[u8]| {
        let size = (point.len() - 1) / 2;
        format!(
            r#"{{"kty":"EC","kid":"{kid}","crv":"{crv}","x":"{}","y":"{}"}}"#,
            b64(&point[1..=size]),
            b64(&point[1 + size..])
        )
    };
    let rsa = jwt_authorizer::jwt::keys::Key::from_pem(FUZZ_PUBLIC_KEY).expect("fuzz RSA key");
    let jwks: String = format!(
        r#"{{"keys":[{},{},{{"kty":"OKP","kid":"ed","crv":"Ed25519","x":"{}"}},{{"kty":"RSA","kid":"rsa","n":"{}","e":"{}"}}]}}"#,
        ec("p256", "P-256", &p256.public_key_bytes()),
        ec("p384", "P-384", &p384.public_key_bytes()),
        b64(&ed.public_key_bytes()),
        b64(rsa.modulus()),
        b64(rsa.exponent()),
    );
    let env = |name: &str| match name {
        "JWT_JWKS" => Some(jwks.to_owned()),
        "JWT_ALGORITHMS" => Some("RS256,ES256,ES384,EdDSA".to_owned()),
        _ => None,
    };
    let authorizer = config::load(env).expect("EC fuzz configuration loads").authorizer;
    let keys = vec![
        (p256, Alg::ES256, &signature::ECDSA_P256_SHA256_FIXED as &dyn VerificationAlgorithm),
        (p384, Alg::ES384, &signature::ECDSA_P384_SHA384_FIXED as &dyn VerificationAlgorithm),
        (ed, Alg::EdDSA, &signature::ED25519 as &dyn VerificationAlgorithm),
    ]
    .into_iter()
    .map(|(s, alg, v)| {
        let public = s.public_key_bytes();
        (s, alg, v, public)
    })
    .collect();
    EcFixture { authorizer, keys, jwks }
});

/// The JWKS the `ec_signature` authorizer is loaded from (P-256 `p256`, P-384 `p384`,
/// Ed25519 `ed`, the RSA fuzz key `rsa`): a config seed too.
pub static EC_FIXTURE_JWKS: LazyLock<String> = LazyLock::new(|| EC_FIXTURE.jwks.clone());

/// What happens to the real signature.
#[derive(Arbitrary, Clone, Debug)]
pub enum Edit {
    Keep,
    Replace(Vec<u8>),
    Flip(u16, u8),
    Truncate(u16),
    Append(Vec<u8>),
    Prepend(Vec<u8>),
    /// R‖S as a DER `ECDSA-Sig-Value`, as JCA/OpenSSL write it.
    Der,
    /// `(R, n − S)` for ECDSA (ring accepts it), `S + L` for Ed25519 (ring refuses it).
    HighS,
}

#[derive(Arbitrary, Clone, Debug)]
pub struct Case {
    /// Which key signs: P-256, P-384, Ed25519.
    pub key: u8,
    /// Index into [`ALGS`] for the header.
    pub alg: u8,
    /// Index into [`KIDS`]; `None`: no kid (several keys: refused).
    pub kid: Option<u8>,
    pub edit: Edit,
}

/// A token and whether the fixture authorizer must allow it.
pub struct Built {
    pub token: Vec<u8>,
    pub expected: bool,
}

const P256_N: [u8; 32] = hex32("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551");
const P384_N: [u8; 48] =
    hex48("ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973");
/// Ed25519's group order L (RFC 8032 §5.1), little-endian as S is.
const ED25519_L: [u8; 32] = {
    let be = hex32("1000000000000000000000000000000014def9dea2f79cd65812631a5cf5d3ed");
    let mut le = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        le[i] = be[31 - i];
        i += 1;
    }
    le
};

const fn nibble(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        _ => c - b'a' + 10,
    }
}

const fn hex32(s: &str) -> [u8; 32] {
    let b = s.as_bytes();
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        out[i] = nibble(b[2 * i]) << 4 | nibble(b[2 * i + 1]);
        i += 1;
    }
    out
}

const fn hex48(s: &str) -> [u8; 48] {
    let b = s.as_bytes();
    let mut out = [0u8; 48];
    let mut i = 0;
    while i < 48 {
        out[i] = nibble(b[2 * i]) << 4 | nibble(b[2 * i + 1]);
        i += 1;
    }
    out
}

/// Big-endian `n − s` (when `s ≤ n`; else `s` unchanged).
fn sub_be(n: &[u8], s: &[u8]) -> Vec<u8> {
    if s > n {
        return s.to_vec();
    }
    let mut out = vec![0u8; n.len()];
    let mut borrow = 0i16;
    for i in (0..n.len()).rev() {
        let d = i16::from(n[i]) - i16::from(s[i]) - borrow;
        borrow = i16::from(d < 0);
        out[i] = (d + 256 * borrow) as u8;
    }
    out
}

fn der(fixed: &[u8]) -> Vec<u8> {
    let int = |b: &[u8]| {
        let b = &b[b.iter().position(|x| *x != 0).unwrap_or(b.len().saturating_sub(1))..];
        let pad = usize::from(b.first().is_some_and(|x| x & 0x80 != 0));
        let mut v = vec![0x02, (b.len() + pad) as u8];
        v.extend(std::iter::repeat_n(0, pad));
        v.extend_from_slice(b);
        v
    };
    let (r, s) = fixed.split_at(fixed.len() / 2);
    let body = [int(r), int(s)].concat();
    let mut out = vec![0x30];
    if body.len() >= 128 {
        out.push(0x81);
    }
    out.push(body.len() as u8);
    out.extend(body);
    out
}

impl Case {
    pub fn build(&self) -> Built {
        let f = &*EC_FIXTURE;
        let k = usize::from(self.key) % f.keys.len();
        let (signer, own_alg, _, _) = &f.keys[k];
        let alg_name = ALGS[usize::from(self.alg) % ALGS.len()];
        let kid = self.kid.map(|i| KIDS[usize::from(i) % KIDS.len()]);
        let mut header = format!(r#"{{"alg":"{alg_name}""#);
        if let Some(kid) = kid {
            header.push_str(&format!(r#","kid":"{kid}""#));
        }
        header.push('}');
        let claims = format!(r#"{{"sub":"u","exp":{FAR_FUTURE},"iat":{}}}"#, NOW - 1);
        let signed = signer.sign_raw(header.as_bytes(), claims.as_bytes(), *own_alg);
        let dot = signed.rfind('.').expect("three segments");
        let input = &signed[..dot];
        let mut sig = URL_SAFE_NO_PAD.decode(&signed[dot + 1..]).expect("our signature");
        match &self.edit {
            Edit::Keep => {}
            Edit::Replace(b) => sig.clone_from(b),
            Edit::Flip(i, x) => {
                let i = usize::from(*i) % sig.len();
                sig[i] ^= *x;
            }
            Edit::Truncate(n) => sig.truncate(usize::from(*n) % sig.len()),
            Edit::Append(b) => sig.extend_from_slice(b),
            Edit::Prepend(b) => sig.splice(0..0, b.iter().copied()).for_each(drop),
            Edit::Der => sig = der(&sig),
            Edit::HighS => match own_alg {
                Alg::ES256 => sig = [&sig[..32], &sub_be(&P256_N, &sig[32..])[..]].concat(),
                Alg::ES384 => sig = [&sig[..48], &sub_be(&P384_N, &sig[48..])[..]].concat(),
                _ => {
                    let mut carry = 0u16;
                    for (i, l) in ED25519_L.iter().enumerate() {
                        let v = u16::from(sig[32 + i]) + u16::from(*l) + carry;
                        sig[32 + i] = v as u8;
                        carry = v >> 8;
                    }
                }
            },
        }
        let token = format!("{input}.{}", URL_SAFE_NO_PAD.encode(&sig)).into_bytes();
        // The oracle: kid → configured key (our own table), its type fits the header's alg,
        // and ring verifies with the key pair's own public key.
        let by_kid = match kid {
            Some("p256") => Some(0),
            Some("p384") => Some(1),
            Some("ed") => Some(2),
            _ => None, // "rsa" fits none of these algorithms; "nope" and no kid select nothing
        };
        let expected = by_kid.is_some_and(|i| {
            let (_, alg, verification, public) = &f.keys[i];
            alg.name() == alg_name
                && UnparsedPublicKey::new(*verification, public).verify(input.as_bytes(), &sig).is_ok()
        });
        Built { token, expected }
    }
}
