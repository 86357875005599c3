//! Regenerates the committed seed corpora under `fuzz/corpus/<target>/`:
//!
//!     cd fuzz && cargo run --example seeds
//!
//! Deterministic (RSA PKCS#1 v1.5 signing is), so re-running rewrites identical files.
//! Seeds: valid tokens signed with the fuzz key (far-future `exp`), every attack of the
//! test suite as a token, its claims and its segments, the demo events with tokens
//! substituted, configurations, and structure-aware inputs covering each verdict.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jwt_authorizer::jwt::header::Alg;
use jwt_authorizer::jwt::mint::Signer;
use jwt_authorizer_fuzz::cache::CacheCase;
use jwt_authorizer_fuzz::signed::Case;
use jwt_authorizer_fuzz::*;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let corpus = root.join("corpus");
    let fixtures = root.join("../tests/fixtures");
    let read = |p: PathBuf| std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let wrong_key = Signer::from_pkcs8(read(fixtures.join("rsa2048-b.key.pem")).as_bytes()).unwrap();
    let f = &*FIXTURE;
    let sign = |claims: &Value| f.signer.sign(claims, Alg::RS256, Some(FUZZ_KID));
    let raw = |header: &str, claims: &str| f.signer.sign_raw(header.as_bytes(), claims.as_bytes(), Alg::RS256);
    let good = || valid_claims("user_seed", FAR_FUTURE);
    let with = |edit: &dyn Fn(&mut Value)| {
        let mut c = good();
        edit(&mut c);
        c
    };
    let hdr = r#"{"alg":"RS256","typ":"JWT","kid":"fuzz-key"}"#;
    let claims_text = good().to_string();

    // -- tokens: valid, then one per attack -----------------------------------------------
    let mut tokens: BTreeMap<&str, String> = BTreeMap::new();
    tokens.insert("valid", VALID_TOKEN.clone());
    tokens.insert("valid-at-jwt", raw(r#"{"alg":"RS256","typ":"at+jwt","kid":"fuzz-key"}"#, &claims_text));
    tokens.insert("valid-aud-string", sign(&with(&|c| c["aud"] = json!("api2"))));
    tokens.insert("valid-role-array", sign(&with(&|c| c["metadata"]["role"] = json!(["viewer", "owner"]))));
    tokens.insert("valid-escaped", raw(hdr, &claims_text.replace("\"sub\"", "\"\\u0073ub\"")));
    tokens.insert("valid-float-exp", sign(&with(&|c| c["exp"] = json!(4.0e9 + 0.5))));
    tokens.insert("expired", sign(&with(&|c| c["exp"] = json!(NOW - 5))));
    tokens.insert("expired-within-leeway", sign(&with(&|c| c["exp"] = json!(NOW - 4))));
    tokens.insert("no-exp", sign(&with(&|c| drop(c.as_object_mut().unwrap().remove("exp")))));
    tokens.insert("exp-string", sign(&with(&|c| c["exp"] = json!("4000000000"))));
    tokens.insert("nbf-future", sign(&with(&|c| c["nbf"] = json!(NOW + 6))));
    tokens.insert("iat-future", sign(&with(&|c| c["iat"] = json!(NOW + 6))));
    tokens.insert("no-sub", sign(&with(&|c| drop(c.as_object_mut().unwrap().remove("sub")))));
    tokens.insert("sub-number", sign(&with(&|c| c["sub"] = json!(7))));
    tokens.insert("wrong-iss", sign(&with(&|c| c["iss"] = json!("https://evil.example"))));
    tokens.insert("wrong-aud", sign(&with(&|c| c["aud"] = json!(["x", "y"]))));
    tokens.insert("no-aud", sign(&with(&|c| drop(c.as_object_mut().unwrap().remove("aud")))));
    tokens.insert("wrong-azp", sign(&with(&|c| c["azp"] = json!("https://evil.example"))));
    tokens.insert("rule-fails", sign(&with(&|c| c["metadata"]["role"] = json!("viewer"))));
    tokens.insert("dup-claim", raw(hdr, &claims_text.replacen('{', r#"{"sub":"admin","#, 1)));
    tokens.insert("dup-claim-escaped", raw(hdr, &claims_text.replacen('{', r#"{"\u0073ub":"admin","#, 1)));
    tokens
        .insert("dup-nested", raw(hdr, &claims_text.replace(r#""role":"admin""#, r#""role":"viewer","role":"admin""#)));
    tokens.insert("claims-array", raw(hdr, "[1]"));
    tokens.insert("claims-deep", raw(hdr, &format!("{}{}", "[".repeat(70), "]".repeat(70))));
    tokens.insert("dup-alg", raw(r#"{"alg":"HS256","alg":"RS256","kid":"fuzz-key"}"#, &claims_text));
    tokens.insert("crit", raw(r#"{"alg":"RS256","kid":"fuzz-key","crit":["exp"],"exp":1}"#, &claims_text));
    tokens.insert("typ-jwe", raw(r#"{"alg":"RS256","kid":"fuzz-key","typ":"JWE"}"#, &claims_text));
    tokens.insert("kid-number", raw(r#"{"alg":"RS256","kid":7}"#, &claims_text));
    tokens.insert("kid-other", f.signer.sign(&good(), Alg::RS256, Some(OTHER_KID)));
    tokens.insert("kid-unknown", f.signer.sign(&good(), Alg::RS256, Some("../../etc/passwd")));
    tokens.insert("kid-missing", f.signer.sign(&good(), Alg::RS256, None));
    tokens.insert(
        "embedded-keys",
        raw(
            r#"{"alg":"RS256","kid":"fuzz-key","jku":"https://evil/jwks","jwk":{"kty":"RSA"},"x5c":["AA"]}"#,
            &claims_text,
        ),
    );
    tokens.insert("wrong-key", wrong_key.sign(&good(), Alg::RS256, Some(FUZZ_KID)));
    tokens.insert("ps256-signed", f.signer.sign_raw(hdr.as_bytes(), claims_text.as_bytes(), Alg::PS256));
    tokens.insert("ps256-header", f.signer.sign(&good(), Alg::PS256, Some(FUZZ_KID)));
    let unsigned = |h: &str| format!("{}.{}.", URL_SAFE_NO_PAD.encode(h), URL_SAFE_NO_PAD.encode(&claims_text));
    tokens.insert("alg-none", unsigned(r#"{"alg":"none","typ":"JWT"}"#));
    tokens.insert("alg-None", unsigned(r#"{"alg":"None"}"#));
    // HS256 with the public key as the HMAC secret (the classic key-confusion attack).
    let hs_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256","typ":"JWT","kid":"fuzz-key"}"#),
        URL_SAFE_NO_PAD.encode(&claims_text)
    );
    let mac = ring::hmac::sign(
        &ring::hmac::Key::new(ring::hmac::HMAC_SHA256, FUZZ_PUBLIC_KEY.as_bytes()),
        hs_input.as_bytes(),
    );
    tokens.insert("hs256-confusion", format!("{hs_input}.{}", URL_SAFE_NO_PAD.encode(mac.as_ref())));
    tokens.insert("alg-missing", raw(r#"{"typ":"JWT","kid":"fuzz-key"}"#, &claims_text));
    tokens.insert("alg-number", raw(r#"{"alg":256,"kid":"fuzz-key"}"#, &claims_text));
    tokens.insert("rs384", f.signer.sign(&good(), Alg::RS384, Some(FUZZ_KID)));
    tokens.insert("header-not-object", raw(r#"["RS256"]"#, &claims_text));
    let bad_utf8 = [&claims_text.as_bytes()[..claims_text.len() - 1], b",\"x\":\"\xff\"}"].concat();
    tokens.insert("claims-invalid-utf8", f.signer.sign_raw(hdr.as_bytes(), &bad_utf8, Alg::RS256));
    let nest = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
    tokens.insert("claims-depth-64", raw(hdr, &claims_text.replacen('{', &format!(r#"{{"deep":{},"#, nest(63)), 1)));
    tokens.insert("claims-depth-65", raw(hdr, &claims_text.replacen('{', &format!(r#"{{"deep":{},"#, nest(64)), 1)));
    // Non-canonical segments, validly signed exactly as written (the signature covers the text).
    let pair = ring::signature::RsaKeyPair::from_pkcs8(&pem_body(FUZZ_PRIVATE_KEY)).unwrap();
    let sign_text = |input: &str| {
        let mut sig = vec![0u8; pair.public().modulus_len()];
        let rng = ring::rand::SystemRandom::new();
        pair.sign(&ring::signature::RSA_PKCS1_SHA256, &rng, input.as_bytes(), &mut sig).unwrap();
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
    };
    let (h64, c64) = (URL_SAFE_NO_PAD.encode(hdr), URL_SAFE_NO_PAD.encode(&claims_text));
    tokens.insert("canonical-resigned", sign_text(&format!("{h64}.{c64}")));
    tokens.insert("header-padded-signed", sign_text(&format!("{h64}==.{c64}")));
    tokens.insert("claims-trailing-bits-signed", sign_text(&format!("{h64}.{}", flip_trailing_bits(&c64))));
    let v = VALID_TOKEN.clone();
    let (body, sig) = v.rsplit_once('.').unwrap();
    tokens.insert("sig-padded", format!("{v}=="));
    tokens.insert("sig-trailing-bits", format!("{body}.{}", flip_trailing_bits(sig)));
    tokens.insert("sig-std-alphabet", format!("{body}.{}", sig.replace('-', "+").replace('_', "/")));
    tokens.insert("sig-truncated", format!("{body}.{}", &sig[..sig.len() - 4]));
    tokens.insert("sig-empty", format!("{body}."));
    tokens.insert("jwe-5-segments", format!("{v}.AA.AA"));
    tokens.insert("empty-claims", format!("{}..{sig}", body.split('.').next().unwrap()));
    tokens.insert("whitespace", format!(" {v}"));
    tokens.insert("junk", "not a token".to_owned());
    let kid_added = URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256","typ":"JWT","kid":"other"}"#);
    tokens.insert("tampered-header", format!("{kid_added}.{}", v.split_once('.').unwrap().1));

    write_dir(&corpus.join("token"), tokens.iter().map(|(k, t)| (k.to_string(), t.clone().into_bytes())));

    // -- base64url: every segment of every token, and the classic non-canonical forms ----
    let mut b64: Vec<(String, Vec<u8>)> = Vec::new();
    for (name, t) in [("valid", &*VALID_TOKEN), ("sig-trailing-bits", &tokens["sig-trailing-bits"])] {
        for (i, seg) in t.split('.').enumerate() {
            b64.push((format!("{name}-{i}"), seg.as_bytes().to_vec()));
        }
    }
    for (i, s) in ["", "QQ", "QUI", "QUJD", "QR", "QUJ", "Q", "QQ==", "QUI=", "Q+8", "Q/8", "QU I", "QUJD\n", "_-8A"]
        .iter()
        .enumerate()
    {
        b64.push((format!("classic-{i}"), s.as_bytes().to_vec()));
    }
    write_dir(&corpus.join("base64url"), b64);

    // -- claims: the decoded claims of each token, and typed-rule claims ------------------
    let mut claims: Vec<(String, Vec<u8>)> = tokens
        .iter()
        .filter_map(|(k, t)| {
            let seg = t.split('.').nth(1)?;
            Some((k.to_string(), URL_SAFE_NO_PAD.decode(seg).ok()?))
        })
        .collect();
    claims.push((
        "typed".into(),
        json!({"sub":"u","exp":NOW+60,"email_verified":true,"org":{"level":3}}).to_string().into_bytes(),
    ));
    claims.push((
        "typed-neg".into(),
        format!(r#"{{"sub":"u","exp":{}.5,"email_verified":true,"org":{{"level":-1}}}}"#, NOW).into_bytes(),
    ));
    claims.push(("numbers".into(), br#"{"sub":"u","exp":1.8e9,"nbf":-0,"iat":18000000000E-1,"n":[1e308,-1e-308,18446744073709551615,-9223372036854775808]}"#.to_vec()));
    claims.dedup_by(|a, b| a.1 == b.1);
    write_dir(&corpus.join("claims"), claims);

    // -- events: the demo samples with tokens substituted, and small ones -----------------
    let mut events: Vec<(String, Vec<u8>)> = Vec::new();
    let demo = root.join("../demo/events");
    let mut samples: Vec<_> = std::fs::read_dir(&demo).unwrap().map(|e| e.unwrap().path()).collect();
    samples.sort();
    for path in samples {
        let text = read(path.clone());
        let stem = path.file_stem().unwrap().to_string_lossy().to_string();
        for (t, tok) in
            [("valid", &*VALID_TOKEN), ("expired", &tokens["expired"]), ("rule-fails", &tokens["rule-fails"])]
        {
            let e = text.replace("{{AUTHORIZATION}}", &format!("Bearer {tok}"));
            events.push((format!("{stem}-{t}"), minify(&e)));
            if !text.contains("{{AUTHORIZATION}}") {
                break;
            }
        }
    }
    for (i, e) in events_with(&VALID_TOKEN).iter().enumerate() {
        events.push((format!("small-{i}"), e.clone().into_bytes()));
    }
    for (i, e) in websocket_events_with(&VALID_TOKEN).iter().enumerate() {
        events.push((format!("websocket-{i}"), e.clone().into_bytes()));
    }
    for (i, e) in
        [r#"{}"#, r#"[]"#, r#"{"type":"token"}"#, r#"{"version":"2.0","headers":{"authorization":"Basic Zm9v"}}"#]
            .iter()
            .enumerate()
    {
        events.push((format!("junk-{i}"), e.as_bytes().to_vec()));
    }
    write_dir(&corpus.join("event"), events);

    // -- config: NUL-separated fields in CONFIG_VARS order --------------------------------
    let cfg = |vals: &[(&str, &str)]| -> Vec<u8> {
        let fields: Vec<&str> =
            CONFIG_VARS.iter().map(|v| vals.iter().find(|(k, _)| k == v).map_or("", |(_, x)| *x)).collect();
        fields.join("\0").into_bytes()
    };
    let pkcs1 = read(fixtures.join("rsa2048-a.rsapub.pem"));
    let escaped = FUZZ_PUBLIC_KEY.replace('\n', "\\n");
    let jwks = f.jwks.clone();
    let env = fixture_env(&jwks, "simple");
    let full: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let configs: Vec<(String, Vec<u8>)> = vec![
        ("pem".into(), cfg(&[("JWT_PUBLIC_KEY", FUZZ_PUBLIC_KEY)])),
        ("pkcs1".into(), cfg(&[("JWT_PUBLIC_KEY", &pkcs1), ("JWT_RESPONSE_FORMAT", "iam")])),
        ("pem-escaped".into(), cfg(&[("JWT_PUBLIC_KEY", &escaped), ("JWT_LEEWAY_SECONDS", "300")])),
        ("fixture".into(), cfg(&full)),
        (
            "jwks-mixed".into(),
            cfg(&[
                ("JWT_JWKS", &read(fixtures.join("jwks.json")).replacen("[", r#"[{"kty":"EC","kid":"ec","crv":"P-256"},{"kty":"RSA","kid":"enc","use":"enc","n":"AQAB","e":"AQAB"},"#, 1)),
                ("JWT_ALGORITHMS", "RS256,PS256"),
                ("JWT_REQUIRE", "a.b=c|d,email_verified=true"),
                ("JWT_CONTEXT_CLAIMS", "x=a.b,email"),
                ("JWT_TOKEN_COOKIE", "__session"),
                ("JWT_CACHE_TTL_SECONDS", "300"),
                ("JWT_TOKEN_LIFETIME_SECONDS", "60"),
                ("JWT_DECISION_CACHE", "1000"),
                ("JWT_DECISION_CACHE_MAX_SECONDS", "86401"),
            ]),
        ),
        // Issue 18: EC and Ed25519 keys, as PEM and JWKS (EC, OKP), with their algorithms; and
        // what is refused: a private JWK (`d`), Ed448, a compressed point, an ES* key under RS256.
        ("pem-ec-p256".into(), cfg(&[("JWT_PUBLIC_KEY", &read(fixtures.join("ec-p256.pub.pem"))), ("JWT_ALGORITHMS", "ES256")])),
        ("pem-ec-p384".into(), cfg(&[("JWT_PUBLIC_KEY", &read(fixtures.join("ec-p384.pub.pem"))), ("JWT_ALGORITHMS", "ES384,RS256")])),
        ("pem-ed25519".into(), cfg(&[("JWT_PUBLIC_KEY", &read(fixtures.join("ed25519.pub.pem"))), ("JWT_ALGORITHMS", "EdDSA")])),
        ("pem-ed448".into(), cfg(&[("JWT_PUBLIC_KEY", &read(fixtures.join("ed448.pub.pem"))), ("JWT_ALGORITHMS", "EdDSA")])),
        ("pem-ec-compressed".into(), cfg(&[("JWT_PUBLIC_KEY", &read(fixtures.join("ec-p256.compressed.pub.pem"))), ("JWT_ALGORITHMS", "ES256")])),
        ("pem-ec-default-algs".into(), cfg(&[("JWT_PUBLIC_KEY", &read(fixtures.join("ec-p256.pub.pem")))])),
        ("jwks-ec-okp".into(), cfg(&[("JWT_JWKS", &ec::EC_FIXTURE_JWKS), ("JWT_ALGORITHMS", "RS256,ES256,ES384,EdDSA")])),
        ("jwks-ec-private".into(), cfg(&[("JWT_JWKS", &ec::EC_FIXTURE_JWKS.replacen(r#""kty":"EC","#, r#""kty":"EC","d":"AAAA","#, 1)), ("JWT_ALGORITHMS", "ES256")])),
        ("jwks-ec-alg-mismatch".into(), cfg(&[("JWT_JWKS", &ec::EC_FIXTURE_JWKS.replacen(r#""kty":"EC","#, r#""kty":"EC","alg":"ES384","#, 1)), ("JWT_ALGORITHMS", "ES256,ES384")])),
        ("bad-values".into(), cfg(&[("JWT_PUBLIC_KEY", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----"), ("JWT_LEEWAY_SECONDS", "301"), ("JWT_ALGORITHMS", "HS256")])),
    ];
    write_dir(&corpus.join("config"), configs);

    // -- signed: the empty input is the all-first-choices case (valid); then inputs that
    //    reach each distinct verdict, found by a seeded search biased toward zero bytes.
    let mut signed: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    signed.insert("valid".into(), Vec::new());
    let mut rng = 0x9E37_79B9_7F4A_7C15u64;
    for _ in 0..4000 {
        let len = (next(&mut rng) % 96) as usize;
        let bytes: Vec<u8> =
            (0..len).map(|_| if next(&mut rng).is_multiple_of(4) { next(&mut rng) as u8 } else { 0 }).collect();
        let Ok(case) = <Case as arbitrary::Arbitrary>::arbitrary_take_rest(arbitrary::Unstructured::new(&bytes)) else {
            continue;
        };
        let built = case.build();
        let key = match built.expected {
            Ok(()) => "allow".to_owned(),
            Err(why) => why.replace(|c: char| !c.is_ascii_alphanumeric(), "-"),
        };
        let n = signed.keys().filter(|k| k.starts_with(&key)).count();
        if n < 2 {
            signed.insert(format!("{key}-{n}"), bytes);
        }
    }
    write_dir(&corpus.join("signed"), signed);

    // -- cache: operation sequences (checked to agree, so a seed is never a crash) --------
    let mut cache: Vec<(String, Vec<u8>)> = Vec::new();
    for n in 0..12 {
        let len = 32 + 24 * n;
        let bytes: Vec<u8> = (0..len).map(|_| next(&mut rng) as u8).collect();
        let case = <CacheCase as arbitrary::Arbitrary>::arbitrary_take_rest(arbitrary::Unstructured::new(&bytes));
        if case.is_ok_and(|c| c.run().is_ok()) {
            cache.push((format!("ops-{n}"), bytes));
        }
    }
    write_dir(&corpus.join("cache"), cache);

    // -- ec_signature: for each key, edit and verdict, the first input of a seeded search --
    let mut ec_seeds: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for _ in 0..20_000 {
        let len = (next(&mut rng) % 48) as usize;
        let bytes: Vec<u8> = (0..len).map(|_| next(&mut rng) as u8).collect();
        let Ok(case) = <ec::Case as arbitrary::Arbitrary>::arbitrary_take_rest(arbitrary::Unstructured::new(&bytes))
        else {
            continue;
        };
        let edit = format!("{:?}", case.edit);
        let edit = edit.split(['(', ' ']).next().unwrap_or_default().to_owned();
        let built = case.build();
        let verdict = if built.expected { "allow" } else { "deny" };
        ec_seeds.entry(format!("key{}-{edit}-{verdict}", case.key % 3)).or_insert(bytes);
    }
    write_dir(&corpus.join("ec_signature"), ec_seeds);
}

/// One xorshift64* step.
fn next(s: &mut u64) -> u64 {
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    s.wrapping_mul(0x2545_F491_4F6C_DD1D)
}

/// Sets the unused low bits of the last character (a 256-byte signature leaves 4 of them).
fn flip_trailing_bits(sig: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut b = sig.as_bytes().to_vec();
    let last = b.last_mut().unwrap();
    let i = ALPHABET.iter().position(|c| c == last).unwrap();
    *last = ALPHABET[i | 1];
    String::from_utf8(b).unwrap()
}

fn minify(json: &str) -> Vec<u8> {
    serde_json::from_str::<Value>(json).map(|v| v.to_string().into_bytes()).unwrap_or_else(|_| json.as_bytes().to_vec())
}

fn write_dir(dir: &Path, files: impl IntoIterator<Item = (String, Vec<u8>)>) {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).unwrap();
    for (name, bytes) in files {
        std::fs::write(dir.join(format!("seed-{name}")), bytes).unwrap();
    }
}
