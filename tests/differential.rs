//! Differential test: for a few thousand generated tokens — valid ones, and ones with changed
//! claims, algorithms, keys, times, audiences and issuers, or with bytes flipped afterwards —
//! our allow/deny equals the `jsonwebtoken` crate's, configured with the same policy: the
//! same key, issuer, audience, leeway, required `exp` and `sub`, and `nbf` checked. Once per
//! algorithm: RS256, ES256, ES384 and EdDSA (Ed25519) — `jsonwebtoken` verifies with
//! aws-lc-rs, an implementation independent of our `ring`.
//!
//! Where the two deliberately differ (docs/fuzzing.md, "Differential test") the case is
//! classified from the token's content alone, counted, and checked for *our* documented
//! behaviour instead of equality: never silently skipped.
//!
//! `jsonwebtoken` reads the system clock, so times are generated relative to the real
//! clock, and every comparison passes the same second to our `decide`: the clock is read
//! before and after both decisions, and the comparison is repeated if the second changed.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use jwt_authorizer::jwt::header::Alg;
use jwt_authorizer::jwt::mint::Signer;
use jwt_authorizer::{Authorizer, Scratch, config};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

const ISSUER: &str = "https://issuer.example";
const AUDIENCE: &str = "api";
/// Signed base tokens; each is decided under several policies and mutated several times.
const POOL: usize = 400;

fn fixture(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn clock() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("clock after 1970").as_secs()
}

/// xorshift64*: deterministic cases, so a failure reproduces (up to the clock).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn percent(&mut self, p: u64) -> bool {
        self.next() % 100 < p
    }
    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len())]
    }
}

/// The policy both sides are configured with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct Policy {
    issuer: bool,
    audience: bool,
    leeway: u64,
}

/// Our authorizers, loaded through `config::load` like the Lambda does, one per policy.
struct Ours {
    pem: String,
    alg: Alg,
    loaded: HashMap<Policy, Authorizer>,
    scratch: Scratch,
}

impl Ours {
    fn decide(&mut self, token: &[u8], p: Policy, now: u64) -> bool {
        let pem = self.pem.clone();
        let alg = self.alg.name();
        let authorizer = self.loaded.entry(p).or_insert_with(|| {
            let leeway = p.leeway.to_string();
            let mut env: HashMap<&str, String> = HashMap::from([
                ("JWT_PUBLIC_KEY", pem),
                ("JWT_LEEWAY_SECONDS", leeway),
                ("JWT_ALGORITHMS", alg.into()),
            ]);
            if p.issuer {
                env.insert("JWT_ISSUER", ISSUER.into());
            }
            if p.audience {
                env.insert("JWT_AUDIENCE", AUDIENCE.into());
            }
            config::load(|name| env.get(name).cloned()).expect("configuration loads").authorizer
        });
        authorizer.decide(token, now, &mut self.scratch).is_ok()
    }
}

/// `jsonwebtoken` with the same policy.
fn theirs(token: &[u8], p: Policy, key: &DecodingKey, alg: Algorithm) -> bool {
    let mut v = Validation::new(alg);
    v.leeway = p.leeway;
    v.validate_exp = true;
    v.validate_nbf = true;
    v.validate_aud = true;
    let mut required = vec!["exp", "sub"];
    if p.issuer {
        v.set_issuer(&[ISSUER]);
        required.push("iss");
    }
    if p.audience {
        v.set_audience(&[AUDIENCE]);
        required.push("aud");
    }
    v.set_required_spec_claims(&required);
    jsonwebtoken::decode::<Value>(token, key, &v).is_ok()
}

/// A deliberate difference (docs/fuzzing.md), found from the token's content and the policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Difference {
    // We refuse; jsonwebtoken may accept. Checked: our decision is deny.
    DuplicateMember,
    Crit,
    Typ,
    FutureIat,
    MalformedIat,
    ExpBoundary,
    IssArray,
    // Either side may be the stricter one. Counted; no assertion.
    MixedAudArray,
    NegativeNbf,
    FractionalTime,
}

impl Difference {
    fn we_refuse(self) -> bool {
        self < Difference::MixedAudArray
    }
}

/// Classifies a token (possibly mutated) by its decoded content, without deciding it.
fn classify(token: &[u8], p: Policy, now: u64) -> Option<Difference> {
    let mut parts = token.split(|&b| b == b'.');
    let (h, c) = (parts.next()?, parts.next()?);
    let (h, c) = (URL_SAFE_NO_PAD.decode(h).ok()?, URL_SAFE_NO_PAD.decode(c).ok()?);
    if has_duplicate(&h) || has_duplicate(&c) {
        return Some(Difference::DuplicateMember);
    }
    let header: Value = serde_json::from_slice(&h).ok()?;
    let claims: Value = serde_json::from_slice(&c).ok()?;
    if header.get("crit").is_some() {
        return Some(Difference::Crit);
    }
    if let Some(t) = header.get("typ") {
        // RFC 7515 §4.1.9: `application/` optional, case-insensitive.
        let known = t.as_str().is_some_and(|t| {
            let t = t.to_ascii_lowercase();
            let sub = t.strip_prefix("application/").unwrap_or(&t);
            !sub.contains('/') && (sub == "jwt" || sub == "at+jwt")
        });
        if !known {
            return Some(Difference::Typ);
        }
    }
    let num = |name: &str| claims.get(name).and_then(Value::as_f64);
    let fractional = ["exp", "nbf"].iter().any(|n| num(n).is_some_and(|t| t.fract() != 0.0));
    if fractional {
        return Some(Difference::FractionalTime);
    }
    match claims.get("iat") {
        Some(Value::Number(n)) if n.as_f64().is_some_and(|iat| iat > (now + p.leeway) as f64) => {
            return Some(Difference::FutureIat);
        }
        Some(Value::Number(_)) | None => {}
        Some(_) => return Some(Difference::MalformedIat),
    }
    if num("exp").is_some_and(|exp| exp + p.leeway as f64 == now as f64) {
        return Some(Difference::ExpBoundary);
    }
    if claims.get("nbf").and_then(Value::as_f64).is_some_and(|n| n < 0.0) {
        return Some(Difference::NegativeNbf);
    }
    if p.issuer && claims.get("iss").is_some_and(Value::is_array) {
        return Some(Difference::IssArray);
    }
    let aud_mixed = claims.get("aud").and_then(Value::as_array).is_some_and(|a| a.iter().any(|x| !x.is_string()));
    if aud_mixed {
        return Some(Difference::MixedAudArray);
    }
    None
}

/// Duplicate member names anywhere in a JSON document (after unescaping).
fn has_duplicate(json: &[u8]) -> bool {
    use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
    struct Dup<'a>(&'a mut bool);
    impl<'de> DeserializeSeed<'de> for Dup<'_> {
        type Value = ();
        fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_any(self)
        }
    }
    impl<'de> Visitor<'de> for Dup<'_> {
        type Value = ();
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("JSON")
        }
        fn visit_bool<E>(self, _: bool) -> Result<(), E> {
            Ok(())
        }
        fn visit_i64<E>(self, _: i64) -> Result<(), E> {
            Ok(())
        }
        fn visit_u64<E>(self, _: u64) -> Result<(), E> {
            Ok(())
        }
        fn visit_f64<E>(self, _: f64) -> Result<(), E> {
            Ok(())
        }
        fn visit_str<E>(self, _: &str) -> Result<(), E> {
            Ok(())
        }
        fn visit_unit<E>(self) -> Result<(), E> {
            Ok(())
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<(), A::Error> {
            while a.next_element_seed(Dup(&mut *self.0))?.is_some() {}
            Ok(())
        }
        fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<(), A::Error> {
            let mut names = HashSet::new();
            while let Some(name) = a.next_key::<String>()? {
                *self.0 |= !names.insert(name);
                a.next_value_seed(Dup(&mut *self.0))?;
            }
            Ok(())
        }
    }
    let mut dup = false;
    let mut de = serde_json::Deserializer::from_slice(json);
    Dup(&mut dup).deserialize(&mut de).is_ok() && dup
}

/// One generated JWT: header and claims as JSON members written by hand (so duplicates and
/// odd spellings are possible), signed with `alg` by key A (or, sometimes, key B).
fn generate(rng: &mut Rng, t0: u64, n: usize, a: &Signer, b: &Signer, alg: Alg, b_alg: Alg) -> Vec<u8> {
    let alg_json = format!("\"{}\"", alg.name());
    let t = |off: i64| (t0 as i64 + off).to_string();
    let mut claims: Vec<(&str, String)> = Vec::new();
    let exp = match rng.below(100) {
        0..=49 => t(rng.pick(&[60, 3600, 86_400])),
        50..=87 => t(rng.pick(&[-400, -301, -300, -61, -60, -6, -5, -4, -1, 0, 1, 2, 5, 6])),
        88..=91 => String::new(),
        92..=94 => format!("\"{}\"", t(3600)),
        95..=97 => format!("{}.5", t(rng.pick(&[-6, -1, 0, 60]))),
        _ => "-5".into(),
    };
    if !exp.is_empty() {
        claims.push(("exp", exp));
    }
    match rng.below(100) {
        0..=49 => {}
        50..=94 => claims.push(("nbf", t(rng.pick(&[-100, -6, -5, -1, 0, 1, 4, 5, 6, 100])))),
        95..=97 => claims.push(("nbf", "null".into())),
        _ => claims.push(("nbf", "-5".into())),
    }
    match rng.below(100) {
        0..=49 => {}
        50..=96 => claims.push(("iat", t(rng.pick(&[-60, -1, 0, 1, 5, 6, 100])))),
        _ => claims.push(("iat", "\"yesterday\"".into())),
    }
    match rng.below(100) {
        0..=89 => claims.push(("sub", format!("\"user-{n}\""))),
        90..=94 => {}
        _ => claims.push(("sub", "42".into())),
    }
    match rng.below(100) {
        0..=79 => claims.push(("iss", format!("\"{ISSUER}\""))),
        80..=87 => claims.push(("iss", "\"https://evil.example\"".into())),
        88..=94 => {}
        _ => claims.push(("iss", format!("[\"{ISSUER}\"]"))),
    }
    match rng.below(100) {
        0..=59 => claims.push(("aud", format!("\"{AUDIENCE}\""))),
        60..=74 => claims.push(("aud", format!("[\"x\",\"{AUDIENCE}\"]"))),
        75..=82 => claims.push(("aud", "\"other\"".into())),
        83..=90 => {}
        91..=94 => claims.push(("aud", "[]".into())),
        _ => claims.push(("aud", format!("[1,\"{AUDIENCE}\"]"))),
    }
    if rng.percent(50) {
        claims.push(("email", format!("\"u{n}@example.com\"")));
    }
    if rng.percent(3) {
        let name = rng.pick(&["sub", "email", "exp"]);
        claims.push((name, "\"again\"".into()));
    }
    let mut header: Vec<(&str, String)> = vec![("alg", alg_json.clone())];
    match rng.below(100) {
        0..=69 => header.push(("typ", "\"JWT\"".into())),
        70..=79 => {}
        80..=89 => header.push(("typ", "\"at+jwt\"".into())),
        90..=92 => header.push(("typ", "\"jwt\"".into())),
        93..=94 => header.push(("typ", "\"Application/At+JWT\"".into())),
        _ => header.push(("typ", "\"JWE\"".into())),
    }
    if rng.percent(50) {
        header.push(("kid", "\"k1\"".into()));
    }
    if rng.percent(3) {
        header.push(("crit", "[\"exp\"]".into()));
        header.push(("exp", "1".into()));
    }
    if rng.percent(2) {
        header.push(("alg", alg_json));
    }
    let obj = |m: &[(&str, String)]| {
        format!("{{{}}}", m.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect::<Vec<_>>().join(","))
    };
    let (signer, signed_with) = if rng.percent(5) { (b, b_alg) } else { (a, alg) };
    signer.sign_raw(obj(&header).as_bytes(), obj(&claims).as_bytes(), signed_with).into_bytes()
}

/// The group orders of P-256 and P-384 (SEC 2 §2.4.2, §2.5.1), big-endian.
const P256_N: [u8; 32] = hex("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551");
const P384_N: [u8; 48] =
    hex("ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973");

const fn hex<const N: usize>(s: &str) -> [u8; N] {
    let b = s.as_bytes();
    let mut out = [0u8; N];
    let mut i = 0;
    while i < N {
        out[i] = nib(b[2 * i]) << 4 | nib(b[2 * i + 1]);
        i += 1;
    }
    out
}

const fn nib(c: u8) -> u8 {
    if c <= b'9' { c - b'0' } else { c - b'a' + 10 }
}

/// Big-endian `n - s` when `s <= n`, else `s` unchanged.
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

/// DER `ECDSA-Sig-Value` (RFC 3279 §2.2.3) of a signature's two halves.
fn der(fixed: &[u8]) -> Vec<u8> {
    let int = |b: &[u8]| {
        let b = &b[b.iter().position(|x| *x != 0).unwrap_or(b.len().saturating_sub(1))..];
        let pad = usize::from(b.first().is_some_and(|x| x & 0x80 != 0));
        let len = b.len() + pad;
        let mut v = vec![0x02];
        if len >= 128 {
            v.extend([0x82, (len >> 8) as u8, len as u8]);
        } else {
            v.push(len as u8);
        }
        v.extend(std::iter::repeat_n(0, pad));
        v.extend_from_slice(b);
        v
    };
    let (r, s) = fixed.split_at(fixed.len() / 2);
    let body = [int(r), int(s)].concat();
    let mut out = vec![0x30];
    match body.len() {
        0..128 => out.push(body.len() as u8),
        128..256 => out.extend([0x81, body.len() as u8]),
        _ => out.extend([0x82, (body.len() >> 8) as u8, body.len() as u8]),
    }
    out.extend(body);
    out
}

/// Changes a signed token without re-signing it.
fn mutate(rng: &mut Rng, token: &[u8], pool: &[Vec<u8>]) -> Vec<u8> {
    let mut t = token.to_vec();
    let dots: Vec<usize> = t.iter().enumerate().filter(|(_, b)| **b == b'.').map(|(i, _)| i).collect();
    let (d1, d2) = (dots[0], dots[1]);
    match rng.below(11) {
        0..=2 => {
            // flip a byte in the header, the claims or the signature
            let (lo, hi) = [(0, d1), (d1 + 1, d2), (d2 + 1, t.len())][rng.below(3)];
            let i = lo + rng.below(hi - lo);
            t[i] ^= 1 + rng.below(255) as u8;
        }
        3 => {
            // another algorithm in the header, same claims and signature
            let alg = rng.pick(&["HS256", "none", "RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"]);
            let h = URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#));
            t = [h.as_bytes(), &token[d1..]].concat();
        }
        4 => {
            // the claims of another token
            let other = &pool[rng.below(pool.len())];
            let mut o = other.split(|&b| b == b'.');
            let claims = o.nth(1).expect("three segments");
            t = [&token[..=d1], claims, &token[d2..]].concat();
        }
        5 => t.truncate(rng.below(t.len())),
        6 => {
            // padding, or the standard alphabet, on one segment
            let seg = rng.below(3);
            let at = [d1, d2, t.len()][seg];
            if rng.percent(50) {
                t.splice(at..at, *b"==");
            } else {
                for b in &mut t[..at] {
                    *b = match *b {
                        b'-' => b'+',
                        b'_' => b'/',
                        x => x,
                    };
                }
            }
        }
        7 => {
            // set the unused trailing bits of the signature's last character
            const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
            if let Some(i) = t.last().and_then(|l| ALPHABET.iter().position(|c| c == l)) {
                *t.last_mut().expect("non-empty") = ALPHABET[i ^ 1];
            }
        }
        9 => {
            // ECDSA's other valid signature (R, n - S): a 64-byte signature taken as P-256's,
            // 96 bytes as P-384's (RSA and Ed25519 signatures only become invalid)
            if let Ok(sig) = URL_SAFE_NO_PAD.decode(&token[d2 + 1..]) {
                let n = match sig.len() {
                    64 => P256_N.to_vec(),
                    96 => P384_N.to_vec(),
                    _ => vec![0xff; sig.len() / 2],
                };
                let (r, s) = sig.split_at(sig.len() / 2);
                let high = [r, &sub_be(&n, s)[..]].concat();
                t = [&token[..=d2], URL_SAFE_NO_PAD.encode(high).as_bytes()].concat();
            }
        }
        10 => {
            // the signature's halves as a DER ECDSA-Sig-Value (what JCA and OpenSSL produce)
            if let Ok(sig) = URL_SAFE_NO_PAD.decode(&token[d2 + 1..]) {
                t = [&token[..=d2], URL_SAFE_NO_PAD.encode(der(&sig)).as_bytes()].concat();
            }
        }
        _ => {
            // the signature of another token
            let other = &pool[rng.below(pool.len())];
            let sig = other.rsplit(|&b| b == b'.').next().expect("a signature");
            t = [&token[..=d2], sig].concat();
        }
    }
    t
}

#[test]
fn our_decisions_match_jsonwebtoken() {
    differential(Alg::RS256, Algorithm::RS256, "rsa2048-a", "rsa2048-b", 0x005E_ED0F_D1FF);
}

#[test]
fn our_es256_decisions_match_jsonwebtoken() {
    differential(Alg::ES256, Algorithm::ES256, "ec-p256", "ec-p256-b", 0x00E5_2560_D1FF);
}

#[test]
fn our_es384_decisions_match_jsonwebtoken() {
    // Key B is on another curve: its signatures are refused by both sides.
    differential(Alg::ES384, Algorithm::ES384, "ec-p384", "ec-p256", 0x00E5_3840_D1FF);
}

#[test]
fn our_eddsa_decisions_match_jsonwebtoken() {
    // Key B is another type: the token names EdDSA but carries an ES256 signature.
    differential(Alg::EdDSA, Algorithm::EdDSA, "ed25519", "ec-p256", 0x00ED_2551_9D1F);
}

/// The whole comparison for one algorithm: key `a` (configured on both sides) signs most
/// tokens, key `b` the rest (the wrong key; for ES384 and EdDSA another type or curve, and its
/// own algorithm's signature, which `Signer` requires).
fn differential(alg: Alg, their_alg: Algorithm, a_name: &str, b_name: &str, seed: u64) {
    let a = Signer::from_pkcs8(fixture(&format!("{a_name}.key.pem")).as_bytes()).expect("key A");
    let b = Signer::from_pkcs8(fixture(&format!("{b_name}.key.pem")).as_bytes()).expect("key B");
    let pem = fixture(&format!("{a_name}.pub.pem"));
    let key = match alg {
        Alg::ES256 | Alg::ES384 => DecodingKey::from_ec_pem(pem.as_bytes()),
        Alg::EdDSA => DecodingKey::from_ed_pem(pem.as_bytes()),
        _ => DecodingKey::from_rsa_pem(pem.as_bytes()),
    }
    .expect("jsonwebtoken reads key A");
    let mut ours = Ours { pem, alg, loaded: HashMap::new(), scratch: Scratch::default() };

    let mut rng = Rng(seed);
    let t0 = clock();
    // Key B signs with its own algorithm; the header still names `alg`.
    let b_alg = if b.fits(alg) { alg } else { b.default_alg() };
    let pool: Vec<Vec<u8>> = (0..POOL).map(|n| generate(&mut rng, t0, n, &a, &b, alg, b_alg)).collect();

    let mut cases: Vec<(Vec<u8>, Policy, bool)> = Vec::new(); // (token, policy, leeway on the exp boundary)
    for token in &pool {
        for (issuer, audience) in [(true, true), (true, true), (false, true), (true, false)] {
            let leeway = rng.pick(&[0, 5, 60, 300]);
            cases.push((token.clone(), Policy { issuer, audience, leeway }, rng.percent(25)));
        }
        for _ in 0..7 {
            let leeway = rng.pick(&[0, 5, 60]);
            cases.push((mutate(&mut rng, token, &pool), Policy { issuer: true, audience: true, leeway }, false));
        }
    }

    let (mut compared, mut allowed, mut retried) = (0usize, 0usize, 0usize);
    let mut differences: BTreeMap<Difference, (usize, usize)> = BTreeMap::new(); // (cases, decisions differed)
    for (token, policy, on_boundary) in &cases {
        let (now, p, our, their) = loop {
            let now = clock();
            let mut p = *policy;
            if *on_boundary {
                // pick the leeway that puts `now` exactly at `exp + leeway`, when it can
                let exp = URL_SAFE_NO_PAD
                    .decode(token.split(|&b| b == b'.').nth(1).unwrap_or_default())
                    .ok()
                    .and_then(|c| serde_json::from_slice::<Value>(&c).ok())
                    .and_then(|c| c.get("exp").and_then(Value::as_u64));
                if let Some(l) = exp.and_then(|e| now.checked_sub(e)).filter(|l| *l <= 300) {
                    p.leeway = l;
                }
            }
            let our = ours.decide(token, p, now);
            let their = theirs(token, p, &key, their_alg);
            if clock() == now {
                break (now, p, our, their);
            }
            retried += 1;
        };
        let shown = String::from_utf8_lossy(token);
        match classify(token, p, now) {
            Some(d) => {
                let entry = differences.entry(d).or_default();
                entry.0 += 1;
                entry.1 += usize::from(our != their);
                if d.we_refuse() {
                    assert!(!our, "{d:?}: we must refuse {shown} under {p:?} at {now}");
                }
            }
            None => {
                assert_eq!(our, their, "ours vs jsonwebtoken on {shown} under {p:?} at {now}");
                compared += 1;
                allowed += usize::from(our);
            }
        }
    }
    println!(
        "differential {}: {} cases, {compared} compared ({allowed} allowed by both), {retried} retried on a clock tick",
        alg.name(),
        cases.len()
    );
    for (d, (n, differed)) in &differences {
        println!("  documented difference {d:?}: {n} cases, {differed} decided differently");
    }
    assert!(compared >= 2000, "too few comparable cases: {compared}");
    assert!(allowed >= 150 && compared - allowed >= 1000, "both outcomes must be exercised: {allowed} allowed");
    assert_eq!(differences.len(), 10, "every documented difference must be exercised: {differences:?}");
}
