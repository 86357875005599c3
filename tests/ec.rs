//! ES256, ES384 and EdDSA (Ed25519) tokens (issue 18): each algorithm allowed with its own key
//! type, every mismatch refused before any cryptography, ECDSA only as fixed-size R‖S, ring's
//! rule for high S documented, and every broken or private key refused at cold start.
//! Real keys (tests/fixtures, tests/fixtures/generate.sh) and real signatures throughout.

mod common;

use common::*;
use jwt_authorizer::Reason;
use jwt_authorizer::jwt::header::Alg;
use jwt_authorizer::jwt::keys::{Curve, Key, parse_jwks};
use jwt_authorizer::jwt::verify::verify;
use serde_json::{Value, json};

/// The fixture key name and the algorithm it signs.
const KEYS: [(&str, Alg); 3] = [("ec-p256", Alg::ES256), ("ec-p384", Alg::ES384), ("ed25519", Alg::EdDSA)];

/// The public JWK of fixture key `name`, built from the private key's own public half
/// (not through `Key::to_jwk`, which another test checks against this).
fn jwk(name: &str, kid: &str) -> Value {
    let public = signer(name).public_key_bytes();
    match name {
        "ed25519" => json!({ "kty": "OKP", "crv": "Ed25519", "kid": kid, "x": b64(&public) }),
        _ => {
            let (crv, size) = if name.starts_with("ec-p384") { ("P-384", 48) } else { ("P-256", 32) };
            assert_eq!(public.len(), 1 + 2 * size);
            json!({ "kty": "EC", "crv": crv, "kid": kid, "x": b64(&public[1..=size]), "y": b64(&public[1 + size..]) })
        }
    }
}

fn jwks(keys: &[Value]) -> String {
    json!({ "keys": keys }).to_string()
}

const ALL_ALGS: &str = "RS256,ES256,ES384,EdDSA";

fn pem_authorizer(name: &str, algs: &str) -> jwt_authorizer::Authorizer {
    load(&[("JWT_PUBLIC_KEY", &public_pem(name)), ("JWT_ALGORITHMS", algs)])
}

/// `token` with its signature replaced by `sig`.
fn with_signature(token: &str, sig: &[u8]) -> String {
    let (h, c, _) = segments(token);
    format!("{h}.{c}.{}", b64(sig))
}

fn signature(token: &str) -> Vec<u8> {
    unb64(&segments(token).2)
}

/// Big-endian `a - b` (a ≥ b), same length.
fn sub_be(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; a.len()];
    let mut borrow = 0i16;
    for i in (0..a.len()).rev() {
        let d = i16::from(a[i]) - i16::from(b[i]) - borrow;
        borrow = i16::from(d < 0);
        out[i] = (d + 256 * borrow) as u8;
    }
    assert_eq!(borrow, 0);
    out
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

/// The group orders (SEC 2 §2.4.2, §2.5.1) and Ed25519's L (RFC 8032 §5.1), big-endian.
const P256_N: &str = "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551";
const P384_N: &str = "ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973";
const ED25519_L: &str = "1000000000000000000000000000000014def9dea2f79cd65812631a5cf5d3ed";

/// DER `ECDSA-Sig-Value` (RFC 3279 §2.2.3) of a fixed-size R‖S: what JCA/OpenSSL produce.
fn der(fixed: &[u8]) -> Vec<u8> {
    let int = |b: &[u8]| {
        let b = &b[b.iter().position(|x| *x != 0).unwrap_or(b.len() - 1)..];
        let mut v = vec![0x02];
        let pad = usize::from(b[0] & 0x80 != 0);
        v.push(u8::try_from(b.len() + pad).unwrap());
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
    out.push(u8::try_from(body.len()).unwrap());
    out.extend(body);
    out
}

#[test]
fn each_algorithm_with_its_own_key_is_allowed_from_pem_and_from_jwks() {
    for (name, alg) in KEYS {
        let token = signer(name).sign(&claims(), alg, None);
        assert_eq!(decide(&pem_authorizer(name, alg.name()), &token), Ok(()), "{name} PEM");
        let set = jwks(&[jwk(name, "k1")]);
        let auth = load(&[("JWT_JWKS", &set), ("JWT_ALGORITHMS", alg.name())]);
        assert_eq!(decide(&auth, &signer(name).sign(&claims(), alg, Some("k1"))), Ok(()), "{name} JWKS");
        // A valid signature by another key of the same type is not enough.
        let other = match name {
            "ec-p256" => "ec-p256-b",
            _ => continue,
        };
        assert_eq!(decide(&auth, &signer(other).sign(&claims(), alg, Some("k1"))), Err(Reason::BadSignature));
    }
}

#[test]
fn a_mixed_jwks_picks_each_key_by_kid_and_alg() {
    let (n, e) = signer("rsa2048-a").public_components();
    let rsa = json!({ "kty": "RSA", "kid": "rsa", "n": b64(&n), "e": b64(&e) });
    let set = jwks(&[rsa, jwk("ec-p256", "p256"), jwk("ec-p384", "p384"), jwk("ed25519", "ed")]);
    let auth = load(&[("JWT_JWKS", &set), ("JWT_ALGORITHMS", ALL_ALGS)]);
    assert_eq!(decide(&auth, &signer("rsa2048-a").sign(&claims(), Alg::RS256, Some("rsa"))), Ok(()));
    assert_eq!(decide(&auth, &signer("ec-p256").sign(&claims(), Alg::ES256, Some("p256"))), Ok(()));
    assert_eq!(decide(&auth, &signer("ec-p384").sign(&claims(), Alg::ES384, Some("p384"))), Ok(()));
    assert_eq!(decide(&auth, &signer("ed25519").sign(&claims(), Alg::EdDSA, Some("ed"))), Ok(()));
}

/// RFC 8725 §3.1/§3.2: a key verifies only its own family. The refusal is `unknown_kid` (no
/// configured key may verify this `alg` under this `kid`), decided before any cryptography:
/// were the key tried, the refusal would be `bad_signature`.
#[test]
fn wrong_key_type_or_curve_is_refused_before_any_cryptography() {
    let (n, e) = signer("rsa2048-a").public_components();
    let rsa = json!({ "kty": "RSA", "kid": "rsa", "n": b64(&n), "e": b64(&e) });
    let set = jwks(&[rsa, jwk("ec-p256", "p256"), jwk("ec-p384", "p384"), jwk("ed25519", "ed")]);
    let auth = load(&[("JWT_JWKS", &set), ("JWT_ALGORITHMS", ALL_ALGS)]);
    let refusals = [
        // (signing key, alg in the header and signed with, kid of a key of another type/curve)
        ("ec-p256", Alg::ES256, "rsa"),    // EC token, RSA key
        ("ec-p256", Alg::ES256, "p384"),   // P-256 token, P-384 key (wrong curve)
        ("ec-p384", Alg::ES384, "p256"),   // P-384 token, P-256 key (wrong curve)
        ("ed25519", Alg::EdDSA, "p256"),   // EdDSA token, EC key
        ("ec-p256", Alg::ES256, "ed"),     // ES256 token, Ed25519 key
        ("rsa2048-a", Alg::RS256, "p256"), // RSA token, EC key
        ("rsa2048-a", Alg::RS256, "ed"),   // RSA token, Ed25519 key
    ];
    for (name, alg, kid) in refusals {
        let token = signer(name).sign(&claims(), alg, Some(kid));
        assert_eq!(decide(&auth, &token), Err(Reason::UnknownKid), "{name} {alg:?} kid {kid}");
    }
    // The same through a PEM key (the fallback for any kid).
    let p256 = pem_authorizer("ec-p256", ALL_ALGS);
    assert_eq!(decide(&p256, &signer("ec-p384").sign(&claims(), Alg::ES384, None)), Err(Reason::UnknownKid));
    assert_eq!(decide(&p256, &signer("ed25519").sign(&claims(), Alg::EdDSA, None)), Err(Reason::UnknownKid));
    assert_eq!(decide(&p256, &valid_token()), Err(Reason::UnknownKid));
    let rsa = load(&[("JWT_PUBLIC_KEY", &public_pem("rsa2048-a")), ("JWT_ALGORITHMS", ALL_ALGS)]);
    assert_eq!(decide(&rsa, &signer("ec-p256").sign(&claims(), Alg::ES256, None)), Err(Reason::UnknownKid));
    assert_eq!(decide(&rsa, &signer("ed25519").sign(&claims(), Alg::EdDSA, None)), Err(Reason::UnknownKid));
}

/// The verifier refuses a key/alg mismatch on its own too (defence in depth behind `select`).
#[test]
fn verify_refuses_a_key_of_another_type_whatever_the_signature() {
    let p256 = Key::from_pem(&public_pem("ec-p256")).unwrap();
    let p384 = Key::from_pem(&public_pem("ec-p384")).unwrap();
    let ed = Key::from_pem(&public_pem("ed25519")).unwrap();
    let rsa = Key::from_pem(&public_pem("rsa2048-a")).unwrap();
    let cases = [
        (&p256, "ec-p256", Alg::ES256, [Alg::ES384, Alg::EdDSA, Alg::RS256]),
        (&p384, "ec-p384", Alg::ES384, [Alg::ES256, Alg::EdDSA, Alg::PS384]),
        (&ed, "ed25519", Alg::EdDSA, [Alg::ES256, Alg::ES384, Alg::RS256]),
        (&rsa, "rsa2048-a", Alg::RS256, [Alg::ES256, Alg::ES384, Alg::EdDSA]),
    ];
    for (key, name, own, others) in cases {
        let token = signer(name).sign(&claims(), own, None);
        let (h, c, s) = segments(&token);
        let input = format!("{h}.{c}");
        let sig = unb64(&s);
        assert_eq!(verify(key, own, input.as_bytes(), &sig), Ok(()), "{name}");
        for alg in others {
            assert_eq!(verify(key, alg, input.as_bytes(), &sig), Err(jwt_authorizer::jwt::Rejection::BadSignature));
        }
    }
}

#[test]
fn a_jwk_alg_that_does_not_fit_the_key_type_is_skipped_and_one_that_fits_is_kept() {
    let mut narrowed = jwk("ed25519", "ed");
    narrowed["alg"] = json!("EdDSA");
    let mut wrong_alg = jwk("ec-p256", "p256");
    wrong_alg["alg"] = json!("ES384"); // a P-256 key cannot verify ES384
    let mut rsa_alg = jwk("ec-p384", "p384");
    rsa_alg["alg"] = json!("RS256");
    let set = jwks(&[narrowed, wrong_alg, rsa_alg]);
    let loaded = jwt_authorizer::config::load(env_of(&[("JWT_JWKS", &set), ("JWT_ALGORITHMS", ALL_ALGS)])).unwrap();
    assert_eq!(loaded.authorizer.keys().len(), 1);
    let skips: Vec<&String> = loaded.warnings.iter().filter(|w| w.contains("alg does not fit the key type")).collect();
    assert_eq!(skips.len(), 2, "{:?}", loaded.warnings);
    assert!(skips[0].contains("p256") && skips[1].contains("p384"));
    let auth = &loaded.authorizer;
    assert_eq!(decide(auth, &signer("ed25519").sign(&claims(), Alg::EdDSA, Some("ed"))), Ok(()));
    assert_eq!(decide(auth, &signer("ec-p256").sign(&claims(), Alg::ES256, Some("p256"))), Err(Reason::UnknownKid));
    assert_eq!(decide(auth, &signer("ec-p384").sign(&claims(), Alg::ES384, Some("p384"))), Err(Reason::UnknownKid));
}

#[test]
fn an_algorithm_outside_the_allowlist_is_refused_though_the_key_would_verify_it() {
    // The default allowlist is RS256 only, so an EC key in a JWKS is loaded with a warning...
    let set = jwks(&[jwk("ec-p256", "p256")]);
    let loaded = jwt_authorizer::config::load(env_of(&[("JWT_JWKS", &set)])).unwrap();
    assert!(loaded.warnings.iter().any(|w| w.contains("none of which JWT_ALGORITHMS allows")), "{:?}", loaded.warnings);
    let token = signer("ec-p256").sign(&claims(), Alg::ES256, Some("p256"));
    assert_eq!(decide(&loaded.authorizer, &token), Err(Reason::AlgNotAllowed));
    // ...and each algorithm needs its own name in the list.
    for (name, alg) in KEYS {
        let others: Vec<&str> = KEYS.iter().filter(|k| k.1 != alg).map(|k| k.1.name()).collect();
        let set = jwks(&[jwk(name, "k")]);
        let auth = load(&[("JWT_JWKS", &set), ("JWT_ALGORITHMS", &format!("RS256,{}", others.join(",")))]);
        assert_eq!(decide(&auth, &signer(name).sign(&claims(), alg, Some("k"))), Err(Reason::AlgNotAllowed), "{name}");
    }
    // A PEM key that verifies no allowed algorithm fails the cold start, naming the fix.
    for (name, alg) in KEYS {
        let e = load_err(&[("JWT_PUBLIC_KEY", &public_pem(name))]);
        assert_eq!(e.var, "JWT_PUBLIC_KEY");
        assert!(e.problem.contains(&format!("verifies only {}", alg.name())), "{}", e.problem);
    }
}

#[test]
fn a_der_encoded_ecdsa_signature_is_refused() {
    for (name, alg) in &KEYS[..2] {
        let token = signer(name).sign(&claims(), *alg, None);
        let auth = pem_authorizer(name, alg.name());
        assert_eq!(decide(&auth, &token), Ok(()));
        let der = der(&signature(&token));
        assert!((70..=104).contains(&der.len()), "{}", der.len());
        assert_eq!(decide(&auth, &with_signature(&token, &der)), Err(Reason::BadSignature), "{name} DER");
    }
}

#[test]
fn a_truncated_or_extended_signature_is_refused() {
    for (name, alg) in KEYS {
        let token = signer(name).sign(&claims(), alg, None);
        let auth = pem_authorizer(name, alg.name());
        let sig = signature(&token);
        assert_eq!(sig.len(), if alg == Alg::ES384 { 96 } else { 64 });
        for bad in [&sig[..sig.len() - 1], &sig[1..], &[&sig[..], &[0]].concat(), &[&[0], &sig[..]].concat()] {
            assert_eq!(decide(&auth, &with_signature(&token, bad)), Err(Reason::BadSignature), "{name} {}", bad.len());
        }
        // Both halves, each alone, and one bit flipped.
        let mut flipped = sig.clone();
        flipped[sig.len() / 2] ^= 1;
        for bad in [&sig[..sig.len() / 2], &sig[sig.len() / 2..], &flipped[..]] {
            assert_eq!(decide(&auth, &with_signature(&token, bad)), Err(Reason::BadSignature), "{name}");
        }
    }
}

/// ring's rules, documented in src/jwt/verify.rs: ECDSA accepts S in the upper half ("high
/// S", `(R, n − S)` for a valid `(R, S)`), and refuses R or S of 0 or ≥ n; Ed25519 refuses
/// S ≥ L (RFC 8032 §5.1.7), so `S + L` is refused.
#[test]
fn high_s_is_accepted_by_ecdsa_as_ring_does_and_out_of_range_scalars_are_refused() {
    for (name, alg, order) in [("ec-p256", Alg::ES256, P256_N), ("ec-p384", Alg::ES384, P384_N)] {
        let n = hex(order);
        let token = signer(name).sign(&claims(), alg, None);
        let auth = pem_authorizer(name, alg.name());
        let sig = signature(&token);
        let (r, s) = sig.split_at(n.len());
        let high = [r, &sub_be(&n, s)[..]].concat();
        assert_eq!(decide(&auth, &with_signature(&token, &high)), Ok(()), "{name}: (R, n - S) verifies");
        // aws-lc-rs (through jsonwebtoken), an independent implementation, accepts it too.
        let key = jsonwebtoken::DecodingKey::from_ec_pem(public_pem(name).as_bytes()).unwrap();
        let their_alg = if alg == Alg::ES256 { jsonwebtoken::Algorithm::ES256 } else { jsonwebtoken::Algorithm::ES384 };
        let mut validation = jsonwebtoken::Validation::new(their_alg);
        validation.validate_exp = false;
        validation.set_required_spec_claims::<&str>(&[]);
        for sig in [&sig[..], &high[..]] {
            let decoded = jsonwebtoken::decode::<Value>(with_signature(&token, sig), &key, &validation);
            assert!(decoded.is_ok(), "{name}: jsonwebtoken {decoded:?}");
        }
        let zero = vec![0u8; n.len()];
        for bad in [[r, &zero[..]].concat(), [&zero[..], s].concat(), [r, &n[..]].concat(), [&n[..], s].concat()] {
            assert_eq!(decide(&auth, &with_signature(&token, &bad)), Err(Reason::BadSignature), "{name}");
        }
    }
    let token = signer("ed25519").sign(&claims(), Alg::EdDSA, None);
    let auth = pem_authorizer("ed25519", "EdDSA");
    let sig = signature(&token);
    let mut l = hex(ED25519_L);
    l.reverse(); // S is little-endian (RFC 8032 §5.1.2)
    let mut s_plus_l = sig.clone();
    let mut carry = 0u16;
    for i in 0..32 {
        let v = u16::from(sig[32 + i]) + u16::from(l[i]) + carry;
        s_plus_l[32 + i] = v as u8;
        carry = v >> 8;
    }
    assert_eq!(carry, 0, "S + L fits in 32 bytes");
    assert_eq!(decide(&auth, &with_signature(&token, &s_plus_l)), Err(Reason::BadSignature));
}

#[test]
fn a_point_not_on_the_curve_is_refused_at_cold_start() {
    for name in ["ec-p256", "ec-p384"] {
        let mut k = jwk(name, "k");
        let mut y = unb64(k["y"].as_str().unwrap());
        *y.last_mut().unwrap() ^= 1;
        k["y"] = json!(b64(&y));
        let e = load_err(&[("JWT_JWKS", &jwks(&[k])), ("JWT_ALGORITHMS", ALL_ALGS)]);
        assert_eq!(e.var, "JWT_JWKS");
        assert!(e.problem.contains("not on its curve"), "{}", e.problem);
    }
    // The same point, straight: x and y must each be exactly the curve's size.
    let p = signer("ec-p256").public_key_bytes();
    assert!(Key::from_ec_coordinates(Curve::P256, &p[1..33], &p[33..]).is_ok());
    let mut off = p.clone();
    off[64] ^= 1;
    assert!(Key::from_ec_point(Curve::P256, &off).is_err());
    let e = Key::from_ec_point(Curve::P384, &p).unwrap_err();
    assert!(e.0.contains("04 || x || y of the curve's size"), "a P-256 point is not a P-384 key: {e}");
    let e = Key::from_ec_point(Curve::P256, &[&[0x05], &p[1..]].concat()).unwrap_err();
    assert!(e.0.contains("04 || x || y"), "{e}");
}

#[test]
fn coordinates_of_the_wrong_size_are_refused() {
    for name in ["ec-p256", "ec-p384"] {
        for member in ["x", "y"] {
            let k = jwk(name, "k");
            let bytes = unb64(k[member].as_str().unwrap());
            for bad in [bytes[1..].to_vec(), [&[0], &bytes[..]].concat()] {
                let mut k = k.clone();
                k[member] = json!(b64(&bad));
                let e = load_err(&[("JWT_JWKS", &jwks(&[k])), ("JWT_ALGORITHMS", ALL_ALGS)]);
                assert!(e.problem.contains("exactly the curve's size"), "{name} {member}: {}", e.problem);
            }
        }
    }
    let k = jwk("ed25519", "k");
    let x = unb64(k["x"].as_str().unwrap());
    for bad in [x[1..].to_vec(), [&x[..], &[0]].concat()] {
        let mut k = k.clone();
        k["x"] = json!(b64(&bad));
        let e = load_err(&[("JWT_JWKS", &jwks(&[k])), ("JWT_ALGORITHMS", ALL_ALGS)]);
        assert!(e.problem.contains("32 bytes"), "{}", e.problem);
    }
    for (k, missing) in [
        (json!({"kty": "EC", "crv": "P-256", "x": "AAAA"}), "lacks x or y"),
        (json!({"kty": "OKP", "crv": "Ed25519"}), "lacks x"),
    ] {
        assert!(parse_jwks(&jwks(&[k])).unwrap_err().0.contains(missing));
    }
}

#[test]
fn a_private_key_is_refused_at_cold_start_saying_why() {
    // JWKS: a private JWK (`d`) of every type, even with its public members intact.
    let (n, e) = signer("rsa2048-a").public_components();
    for mut k in [
        jwk("ec-p256", "k"),
        jwk("ec-p384", "k"),
        jwk("ed25519", "k"),
        json!({"kty": "RSA", "kid": "k", "n": b64(&n), "e": b64(&e)}),
    ] {
        k["d"] = json!("AAAA");
        let e = load_err(&[("JWT_JWKS", &jwks(&[k])), ("JWT_ALGORITHMS", ALL_ALGS)]);
        assert_eq!(e.var, "JWT_JWKS");
        assert!(e.problem.contains("private key"), "{}", e.problem);
    }
    // PEM: PKCS#8 (EC, Ed25519) and SEC 1 `BEGIN EC PRIVATE KEY`.
    for file in ["ec-p256.key.pem", "ec-p384.key.pem", "ed25519.key.pem", "ec-p256.sec1.key.pem"] {
        let e = load_err(&[("JWT_PUBLIC_KEY", &fixture(file)), ("JWT_ALGORITHMS", ALL_ALGS)]);
        assert_eq!(e.var, "JWT_PUBLIC_KEY");
        assert!(e.problem.contains("private key"), "{file}: {}", e.problem);
    }
}

#[test]
fn unsupported_curves_and_encodings_are_refused_or_skipped_with_the_reason() {
    // PEM: Ed448 (not in ring), secp256k1 (not a JOSE ES256/ES384 curve), a compressed point.
    for (file, says) in [
        ("ed448.pub.pem", "Ed448"),
        ("secp256k1.pub.pem", "other than P-256 or P-384"),
        ("ec-p256.compressed.pub.pem", "compressed"),
    ] {
        let e = load_err(&[("JWT_PUBLIC_KEY", &fixture(file)), ("JWT_ALGORITHMS", ALL_ALGS)]);
        assert!(e.problem.contains(says), "{file}: {}", e.problem);
    }
    // JWKS: such entries are skipped with a warning; the usable one still loads.
    let set = jwks(&[
        json!({"kty": "OKP", "crv": "Ed448", "kid": "ed448", "x": "AAAA"}),
        json!({"kty": "OKP", "crv": "X25519", "kid": "x25519", "x": "AAAA"}),
        json!({"kty": "EC", "crv": "P-521", "kid": "p521", "x": "AAAA", "y": "AAAA"}),
        json!({"kty": "EC", "crv": "secp256k1", "kid": "k1", "x": "AAAA", "y": "AAAA"}),
        json!({"kty": "oct", "kid": "hmac", "k": "AAAA"}),
        jwk("ec-p256", "p256"),
    ]);
    let loaded = jwt_authorizer::config::load(env_of(&[("JWT_JWKS", &set), ("JWT_ALGORITHMS", "ES256")])).unwrap();
    assert_eq!(loaded.authorizer.keys().len(), 1);
    let w = loaded.warnings.join("\n");
    for says in
        ["ed448: Ed448 is not supported", "x25519: OKP crv is not Ed25519", "p521: EC crv", "k1: EC crv", "hmac: kty"]
    {
        assert!(w.contains(says), "{says}: {w}");
    }
    // Only unusable entries: the cold start fails.
    let e = load_err(&[("JWT_JWKS", &jwks(&[json!({"kty": "OKP", "crv": "Ed448", "kid": "a", "x": "AAAA"})]))]);
    assert!(e.problem.contains("no usable key"), "{}", e.problem);
}

#[test]
fn pem_keys_load_with_their_type_and_jwks_round_trip_through_to_jwk() {
    for (name, alg) in KEYS {
        let key = Key::from_pem(&public_pem(name)).unwrap();
        assert!(key.fits(alg) && Alg::ALL.iter().filter(|a| key.fits(**a)).count() == 1, "{name}");
        assert_eq!(key.curve().map(|c| c.alg()), Some(alg));
        // `to_jwk` writes what a JWK built from the private key's public half says.
        let written = key.to_jwk("k", alg);
        let mut expected = jwk(name, "k");
        for (k, v) in [("use", json!("sig")), ("alg", json!(alg.name()))] {
            expected[k] = v;
        }
        assert_eq!(written, expected, "{name}");
        let (keys, skipped) = parse_jwks(&jwks(&[written])).unwrap();
        assert!(skipped.is_empty());
        assert_eq!(keys[0].public_bytes(), key.public_bytes());
        assert_eq!(keys[0].thumbprint(), key.thumbprint());
    }
    // RFC 8037 Appendix A.3: the thumbprint of the RFC's Ed25519 key.
    let rfc = jwks(&[json!({"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"})]);
    let (keys, _) = parse_jwks(&rfc).unwrap();
    assert_eq!(keys[0].thumbprint(), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
}

#[test]
fn an_ed25519_spki_with_parameters_is_refused() {
    // RFC 8410 §3: id-Ed25519's parameters MUST be absent; the same key with a NULL is refused.
    let key = Key::from_pem(&public_pem("ed25519")).unwrap();
    let x = key.public_bytes();
    let plain = [&[0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00][..], x].concat();
    assert_eq!(Key::from_spki_der(&plain).unwrap().public_bytes(), x);
    let with_null =
        [&[0x30, 0x2c, 0x30, 0x07, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x05, 0x00, 0x03, 0x21, 0x00][..], x].concat();
    assert!(Key::from_spki_der(&with_null).unwrap_err().0.contains("parameters"));
}

/// The encodings of the Ed25519 points of small order (libsodium's list), and each with the
/// sign bit of x set: every one would make a key that accepts forged signatures.
fn small_order_points() -> Vec<[u8; 32]> {
    let mut p_minus_1 = [0xff; 32];
    p_minus_1[0] = 0xec;
    p_minus_1[31] = 0x7f;
    let (mut p, mut p_plus_1, mut one) = (p_minus_1, p_minus_1, [0u8; 32]);
    p[0] = 0xed;
    p_plus_1[0] = 0xee;
    one[0] = 1;
    let order_8 = [
        hex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"),
        hex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"),
    ];
    let mut all = vec![[0u8; 32], one, p_minus_1, p, p_plus_1];
    all.extend(order_8.iter().map(|h| <[u8; 32]>::try_from(&h[..]).unwrap()));
    let signed: Vec<[u8; 32]> = all
        .iter()
        .map(|y| {
            let mut x = *y;
            x[31] |= 0x80;
            x
        })
        .collect();
    all.extend(signed);
    all
}

#[test]
fn an_ed25519_key_of_small_order_is_refused_at_cold_start() {
    // With the identity as the key, the signature R = identity, S = 0 verifies for every
    // message in ring (and with the all-zero key, for about a quarter of them): a forged
    // token for any subject. Such a key never loads, from a JWKS or from a PEM.
    for x in small_order_points() {
        let k = json!({ "kty": "OKP", "crv": "Ed25519", "kid": "k", "x": b64(&x) });
        let e = load_err(&[("JWT_JWKS", &jwks(&[k])), ("JWT_ALGORITHMS", "EdDSA")]);
        assert_eq!(e.var, "JWT_JWKS", "{x:02x?}");
        assert!(e.problem.contains("small order"), "{x:02x?}: {}", e.problem);
        let spki = [&hex("302a300506032b6570032100")[..], &x].concat();
        let pem = format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &spki)
        );
        let e = load_err(&[("JWT_PUBLIC_KEY", &pem), ("JWT_ALGORITHMS", "EdDSA")]);
        assert_eq!(e.var, "JWT_PUBLIC_KEY", "{x:02x?}");
        assert!(e.problem.contains("small order"), "{x:02x?}: {}", e.problem);
    }
    // A non-canonical y (p + 2 .. 2^255 − 1) is refused; the real key still loads.
    let mut big = [0xff; 32];
    big[31] = 0x7f;
    assert!(Key::from_ed25519(&big).unwrap_err().0.contains("canonical"));
    assert!(Key::from_ed25519(&signer("ed25519").public_key_bytes()).is_ok());
}
