//! Attacks on the token itself: algorithm confusion, forged or tampered signatures,
//! hostile headers, duplicate members, non-canonical encodings, segment counts, size and depth.
//! Every token is really signed (fixture keys) and every decision is taken at a fixed `NOW`.

mod common;

use base64::Engine as _;
use common::*;
use jwt_authorizer::Reason;
use jwt_authorizer::jwt::header::Alg;
use serde_json::json;

/// Signs `header` and `claims` (JSON text, byte for byte) with key A.
fn raw_a(header: &str, claims: &str, alg: Alg) -> String {
    signer("rsa2048-a").sign_raw(header.as_bytes(), claims.as_bytes(), alg)
}

fn claims_text() -> String {
    claims().to_string()
}

#[test]
fn baseline_a_correctly_signed_token_is_allowed() {
    // The control for every attack below: the same key, claims and time allow.
    assert_eq!(decide(&default_authorizer(), &valid_token()), Ok(()));
    assert_eq!(decide(&default_authorizer(), &raw_a(r#"{"alg":"RS256"}"#, &claims_text(), Alg::RS256)), Ok(()));
}

#[test]
fn alg_none_is_refused_in_every_spelling() {
    let auth = default_authorizer();
    let real_sig = segments(&valid_token()).2;
    for alg in ["none", "None", "NONE", "nOnE"] {
        let header = b64(format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#).as_bytes());
        let body = b64(claims_text().as_bytes());
        // Unsecured JWS (empty signature), and with a real RS256 signature attached.
        assert_eq!(decide(&auth, &format!("{header}.{body}.")), Err(Reason::AlgNotAllowed), "{alg}");
        assert_eq!(decide(&auth, &format!("{header}.{body}.{real_sig}")), Err(Reason::AlgNotAllowed), "{alg}");
    }
    // Even when every configurable algorithm is allowed.
    let all = with_key_a(&[("JWT_ALGORITHMS", "RS256,RS384,RS512,PS256,PS384,PS512")]);
    let t = format!("{}.{}.", b64(br#"{"alg":"none"}"#), b64(claims_text().as_bytes()));
    assert_eq!(decide(&all, &t), Err(Reason::AlgNotAllowed));
    // Missing or non-string alg.
    for header in [r#"{"typ":"JWT"}"#, r#"{"alg":null}"#, r#"{"alg":["RS256"]}"#, r#"{"alg":"rs256"}"#] {
        assert_eq!(decide(&auth, &raw_a(header, &claims_text(), Alg::RS256)), Err(Reason::AlgNotAllowed), "{header}");
    }
}

#[test]
fn hs256_signed_with_the_public_key_as_hmac_secret_is_refused() {
    // The classic key-confusion attack: the attacker knows the public key (it is public),
    // and signs with HMAC using the PEM bytes as the shared secret.
    let pem = public_pem("rsa2048-a");
    let secrets = [pem.clone(), pem.trim_end().to_owned(), pem.replace('\n', "\\n")];
    let rsapub = fixture("rsa2048-a.rsapub.pem");
    for (hs, alg) in
        [("HS256", &ring::hmac::HMAC_SHA256), ("HS384", &ring::hmac::HMAC_SHA384), ("HS512", &ring::hmac::HMAC_SHA512)]
    {
        for secret in secrets.iter().chain([&rsapub]) {
            let input = format!(
                "{}.{}",
                b64(format!(r#"{{"alg":"{hs}","typ":"JWT"}}"#).as_bytes()),
                b64(claims_text().as_bytes())
            );
            let key = ring::hmac::Key::new(*alg, secret.as_bytes());
            let tag = ring::hmac::sign(&key, input.as_bytes());
            let token = format!("{input}.{}", b64(tag.as_ref()));
            // The HMAC itself is genuine (so the test exercises the allowlist, not a typo):
            ring::hmac::verify(&key, input.as_bytes(), &unb64(&segments(&token).2)).unwrap();
            for cfg in [
                vec![("JWT_PUBLIC_KEY", pem.as_str())],
                vec![("JWT_PUBLIC_KEY", pem.as_str()), ("JWT_ALGORITHMS", "RS256,RS384,RS512,PS256,PS384,PS512")],
            ] {
                assert_eq!(decide(&load(&cfg), &token), Err(Reason::AlgNotAllowed), "{hs}");
            }
            // With a JWKS and the JWK's kid in the header.
            let jwks = fixture("jwks.json");
            let input = format!(
                "{}.{}",
                b64(format!(r#"{{"alg":"{hs}","kid":"key-a"}}"#).as_bytes()),
                b64(claims_text().as_bytes())
            );
            let token = format!("{input}.{}", b64(ring::hmac::sign(&key, input.as_bytes()).as_ref()));
            assert_eq!(decide(&load(&[("JWT_JWKS", &jwks)]), &token), Err(Reason::AlgNotAllowed));
        }
    }
}

#[test]
fn rs384_and_rs512_are_refused_unless_configured() {
    let token512 = signer("rsa2048-a").sign(&claims(), Alg::RS512, None);
    let token384 = signer("rsa2048-a").sign(&claims(), Alg::RS384, None);
    let auth = default_authorizer();
    assert_eq!(decide(&auth, &token512), Err(Reason::AlgNotAllowed));
    assert_eq!(decide(&auth, &token384), Err(Reason::AlgNotAllowed));
    // Allowed once JWT_ALGORITHMS lists them (and RS256 still works alongside).
    let both = with_key_a(&[("JWT_ALGORITHMS", "RS256, RS512")]);
    assert_eq!(decide(&both, &token512), Ok(()));
    assert_eq!(decide(&both, &valid_token()), Ok(()));
    assert_eq!(decide(&both, &token384), Err(Reason::AlgNotAllowed));
    // Only RS512: RS256 is then refused.
    let only512 = with_key_a(&[("JWT_ALGORITHMS", "RS512")]);
    assert_eq!(decide(&only512, &token512), Ok(()));
    assert_eq!(decide(&only512, &valid_token()), Err(Reason::AlgNotAllowed));
    let rs384 = with_key_a(&[("JWT_ALGORITHMS", "RS384")]);
    assert_eq!(decide(&rs384, &token384), Ok(()));
}

#[test]
fn pss_is_refused_by_default_and_verified_when_configured() {
    let a = signer("rsa2048-a");
    let auth = default_authorizer();
    for alg in [Alg::PS256, Alg::PS384, Alg::PS512] {
        let t = a.sign(&claims(), alg, None);
        assert_eq!(decide(&auth, &t), Err(Reason::AlgNotAllowed), "{}", alg.name());
        let cfg = with_key_a(&[("JWT_ALGORITHMS", alg.name())]);
        assert_eq!(decide(&cfg, &t), Ok(()), "{}", alg.name());
        // A PSS token signed by another key does not verify.
        let forged = signer("rsa2048-b").sign(&claims(), alg, None);
        assert_eq!(decide(&cfg, &forged), Err(Reason::BadSignature));
    }
}

#[test]
fn a_signature_made_with_another_padding_than_the_header_says_is_refused() {
    // Header says RS256 but the signature is PSS over the same input, and vice versa.
    let auth = with_key_a(&[("JWT_ALGORITHMS", "RS256,PS256,RS512")]);
    let body = claims_text();
    assert_eq!(decide(&auth, &raw_a(r#"{"alg":"RS256"}"#, &body, Alg::PS256)), Err(Reason::BadSignature));
    assert_eq!(decide(&auth, &raw_a(r#"{"alg":"PS256"}"#, &body, Alg::RS256)), Err(Reason::BadSignature));
    assert_eq!(decide(&auth, &raw_a(r#"{"alg":"RS256"}"#, &body, Alg::RS512)), Err(Reason::BadSignature));
    assert_eq!(decide(&auth, &raw_a(r#"{"alg":"RS256"}"#, &body, Alg::RS256)), Ok(()));
}

#[test]
fn tampered_claims_are_refused_and_not_examined() {
    let auth = with_key_a(&[("JWT_REQUIRE", "metadata.role=admin")]);
    let viewer = token_a(&claims_with(json!({ "metadata": { "role": "viewer" } })));
    assert_eq!(decide(&auth, &viewer), Err(Reason::RuleFailed));
    let (h, _, s) = segments(&viewer);
    let forged = b64(claims_with(json!({ "metadata": { "role": "admin" } })).to_string().as_bytes());
    let tampered = format!("{h}.{forged}.{s}");
    let denial = auth.decide(tampered.as_bytes(), NOW, &mut Default::default()).unwrap_err();
    assert_eq!(denial.reason, Reason::BadSignature);
    assert_eq!(denial.sub, None, "nothing from unverified claims is reported");
    // Signature before claims: an expired, tampered token reports the signature, not the time.
    let expired = token_a(&claims_with(json!({ "exp": NOW - 3600 })));
    let (h, c, s) = segments(&expired);
    assert_eq!(decide(&auth, &format!("{h}.{c}.{s}")), Err(Reason::Expired));
    let other = b64(claims_with(json!({ "exp": NOW - 3600, "sub": "mallory" })).to_string().as_bytes());
    assert_eq!(decide(&auth, &format!("{h}.{other}.{s}")), Err(Reason::BadSignature));
    // Tampered header: same claims and signature, header gains a kid.
    let (_, c, s) = segments(&valid_token());
    let h2 = b64(br#"{"alg":"RS256","typ":"JWT","kid":"x"}"#);
    assert_eq!(decide(&default_authorizer(), &format!("{h2}.{c}.{s}")), Err(Reason::BadSignature));
}

#[test]
fn tampered_truncated_or_missing_signatures_are_refused() {
    let auth = default_authorizer();
    let token = valid_token();
    let (h, c, s) = segments(&token);
    let sig = unb64(&s);
    assert_eq!(sig.len(), 256);
    for i in [0, 1, 128, 255] {
        let mut bad = sig.clone();
        bad[i] ^= 0x01;
        assert_eq!(decide(&auth, &format!("{h}.{c}.{}", b64(&bad))), Err(Reason::BadSignature), "bit flip at {i}");
    }
    for bad in [&sig[..255], &sig[1..], &[][..], &[0u8; 256][..], &[0u8; 1024][..], &[0xffu8; 2000][..]] {
        assert_eq!(decide(&auth, &format!("{h}.{c}.{}", b64(bad))), Err(Reason::BadSignature), "len {}", bad.len());
    }
    // A signature from another token (same key).
    let other = segments(&token_a(&claims_with(json!({ "sub": "someone_else" })))).2;
    assert_eq!(decide(&auth, &format!("{h}.{c}.{other}")), Err(Reason::BadSignature));
}

#[test]
fn tokens_signed_by_a_key_that_is_not_configured_are_refused() {
    let auth = default_authorizer();
    for name in ["rsa2048-b", "rsa3072-c"] {
        let t = signer(name).sign(&claims(), Alg::RS256, None);
        assert_eq!(decide(&auth, &t), Err(Reason::BadSignature), "{name}");
        // The same token verifies against its own key: the refusal is about the key.
        let own = load(&[("JWT_PUBLIC_KEY", &public_pem(name))]);
        assert_eq!(decide(&own, &t), Ok(()), "{name}");
    }
}

#[test]
fn crit_headers_are_refused() {
    let auth = default_authorizer();
    for header in [
        r#"{"alg":"RS256","crit":["exp"],"exp":1}"#,
        r#"{"alg":"RS256","crit":["b64"],"b64":false}"#,
        r#"{"alg":"RS256","crit":[]}"#,
        r#"{"alg":"RS256","crit":null}"#,
    ] {
        assert_eq!(decide(&auth, &raw_a(header, &claims_text(), Alg::RS256)), Err(Reason::CritHeader), "{header}");
    }
}

#[test]
fn keys_embedded_or_referenced_in_the_header_are_never_used() {
    let auth = default_authorizer();
    let b = signer("rsa2048-b");
    let (n, e) = b.public_components();
    let jwk = json!({ "kty": "RSA", "n": b64(&n), "e": b64(&e), "kid": "attacker", "alg": "RS256" });
    let pem_b = public_pem("rsa2048-b");
    let der_b = pem_b.lines().filter(|l| !l.starts_with("-----")).collect::<String>();
    let headers = [
        json!({ "alg": "RS256", "jwk": jwk }),
        json!({ "alg": "RS256", "jwk": jwk, "kid": "attacker" }),
        json!({ "alg": "RS256", "jku": "https://attacker.example/jwks.json", "kid": "attacker" }),
        json!({ "alg": "RS256", "x5u": "https://attacker.example/cert.pem" }),
        json!({ "alg": "RS256", "x5c": [der_b] }),
    ];
    for header in &headers {
        // Attacker signs with their own key B and points at it: still refused.
        let forged = b.sign_raw(header.to_string().as_bytes(), claims_text().as_bytes(), Alg::RS256);
        assert_eq!(decide(&auth, &forged), Err(Reason::BadSignature), "{header}");
        // Same header with a JWKS of key A only: kid "attacker" matches nothing.
        let jwks_a = load(&[(
            "JWT_JWKS",
            &json!({ "keys": [json!({ "kty": "RSA", "kid": "key-a",
            "n": b64(&signer("rsa2048-a").public_components().0), "e": "AQAB" })] })
            .to_string(),
        )]);
        let r = decide(&jwks_a, &forged);
        assert!(matches!(r, Err(Reason::UnknownKid | Reason::BadSignature)), "{header}: {r:?}");
        // Signed by the configured key, the header fields are merely ignored.
        let honest = raw_a(&header.to_string(), &claims_text(), Alg::RS256);
        assert_eq!(decide(&auth, &honest), Ok(()), "{header}");
    }
}

#[test]
fn kid_is_a_lookup_string_never_a_path() {
    let jwks = fixture("jwks.json");
    let auth = load(&[("JWT_JWKS", &jwks)]);
    for kid in ["../../../../dev/null", "/etc/passwd", "key-a/../key-b", "file:///proc/self/environ", "KEY-A", "key-a "]
    {
        let t = signer("rsa2048-a").sign(&claims(), Alg::RS256, Some(kid));
        assert_eq!(decide(&auth, &t), Err(Reason::UnknownKid), "{kid}");
    }
    let t = raw_a(r#"{"alg":"RS256","kid":42}"#, &claims_text(), Alg::RS256);
    assert_eq!(decide(&auth, &t), Err(Reason::MalformedKid));
}

#[test]
fn duplicate_member_names_are_refused_in_header_and_claims() {
    let auth = with_key_a(&[("JWT_REQUIRE", "metadata.role=admin")]);
    let ok_claims = claims_with(json!({ "metadata": { "role": "admin" } })).to_string();
    assert_eq!(decide(&auth, &raw_a(r#"{"alg":"RS256"}"#, &ok_claims, Alg::RS256)), Ok(()));
    for header in [
        r#"{"alg":"RS256","alg":"RS256"}"#,
        r#"{"alg":"none","alg":"RS256"}"#,
        r#"{"alg":"RS256","alg":"none"}"#,
        r#"{"alg":"RS256","kid":"a","kid":"b"}"#,
        r#"{"alg":"RS256","\u0061lg":"RS256"}"#,
    ] {
        assert_eq!(decide(&auth, &raw_a(header, &ok_claims, Alg::RS256)), Err(Reason::DuplicateMember), "{header}");
    }
    let (exp, iat) = (NOW + 50, NOW - 10);
    for body in [
        format!(r#"{{"sub":"user_1","sub":"admin","exp":{exp}}}"#),
        format!(r#"{{"sub":"user_1","exp":{exp},"exp":{}}}"#, NOW + 999_999),
        format!(r#"{{"sub":"user_1","exp":{exp},"iat":{iat},"metadata":{{"role":"viewer","role":"admin"}}}}"#),
        format!(r#"{{"sub":"user_1","exp":{exp},"metadata":{{"role":"admin"}},"metadata":{{"role":"admin"}}}}"#),
        format!(r#"{{"sub":"user_1","exp":{exp},"metadata":{{"role":"admin"}},"list":[{{"k":1,"k":2}}]}}"#),
        format!(r#"{{"s\u0075b":"user_1","sub":"user_2","exp":{exp}}}"#),
    ] {
        assert_eq!(
            decide(&auth, &raw_a(r#"{"alg":"RS256"}"#, &body, Alg::RS256)),
            Err(Reason::DuplicateMember),
            "{body}"
        );
    }
}

/// The same segment with non-zero unused trailing bits: lenient decoders read the same bytes.
fn with_trailing_bits(seg: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    assert!(seg.len() % 4 >= 2, "segment must end in a partial group");
    let last = *seg.as_bytes().last().unwrap();
    let i = ALPHABET.iter().position(|&c| c == last).unwrap();
    let bumped = format!("{}{}", &seg[..seg.len() - 1], ALPHABET[i + 1] as char);
    let lenient = base64::engine::GeneralPurpose::new(
        &base64::alphabet::URL_SAFE,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    assert_eq!(lenient.decode(&bumped).unwrap(), unb64(seg), "same bytes to a lenient decoder");
    bumped
}

#[test]
fn non_canonical_base64_is_refused_in_every_segment() {
    let auth = default_authorizer();
    // Header and claims lengths chosen so every segment ends in a partial group.
    let header = r#"{"alg":"RS256","typ":"JWT","kid":"k"}"#;
    let mut body = claims_with(json!({ "pad": "" }));
    while body.to_string().len().is_multiple_of(3) {
        body["pad"] = json!(format!("{}x", body["pad"].as_str().unwrap()));
    }
    assert_ne!(header.len() % 3, 0);
    let token = raw_a(header, &body.to_string(), Alg::RS256);
    assert_eq!(decide(&auth, &token), Ok(()));
    let (h, c, s) = segments(&token);
    // The control: re-signing the canonical segments verbatim gives an allowed token, so
    // each refusal below is about the encoding (the signature covers the exact text).
    assert_eq!(decide(&auth, &signed_segments(&h, &c)), Ok(()));
    let std_alphabet = |seg: &str| seg.replace('-', "+").replace('_', "/");
    // Canonical base64 is never 1 mod 4 characters long.
    let one_mod_4 = |seg: &str| seg[..seg.len() - (seg.len() % 4 + 3) % 4].to_owned();

    // Variants of the header and claims segments, each validly signed as written.
    let weird = claims_with(json!({ "x": "\u{3fe}\u{3ff}??>>>~~~", "pad": "ab" }));
    let wc = b64(weird.to_string().as_bytes());
    assert_ne!(std_alphabet(&wc), wc, "precondition: the claims use - or _");
    assert_eq!(decide(&auth, &signed_segments(&h, &wc)), Ok(()));
    let cases = [
        (format!("{h}="), c.clone()),
        (format!("{h}=="), c.clone()),
        (h.clone(), format!("{c}=")),
        (h.clone(), format!("{c}==")),
        (with_trailing_bits(&h), c.clone()),
        (h.clone(), with_trailing_bits(&c)),
        (h.clone(), std_alphabet(&wc)),
        (format!(" {h}"), c.clone()),
        (h.clone(), format!("{c} ")),
        (h.clone(), format!("{}\n{}", &c[..20], &c[20..])),
        (h.clone(), format!("{}\r\n{}", &c[..20], &c[20..])),
        (h.clone(), format!("{}\t{}", &c[..20], &c[20..])),
        (one_mod_4(&h), c.clone()),
        (h.clone(), one_mod_4(&c)),
    ];
    for (hv, cv) in &cases {
        assert_eq!(decide(&auth, &signed_segments(hv, cv)), Err(Reason::BadBase64), "{hv}.{cv}");
    }

    // The signature segment: padding, trailing bits, `+` `/`, whitespace.
    let sig_std = std_alphabet(&s);
    assert_ne!(sig_std, s, "precondition: the signature uses - or _");
    for sv in [
        format!("{s}="),
        format!("{s}=="),
        with_trailing_bits(&s),
        sig_std,
        format!("{}\n{}", &s[..100], &s[100..]),
        format!("{}\t{}", &s[..100], &s[100..]),
        format!("{s} "),
        one_mod_4(&s),
    ] {
        assert_eq!(decide(&auth, &format!("{h}.{c}.{sv}")), Err(Reason::BadSignature), "{sv}");
    }
    // Whitespace around the whole token, as a raw token (an event trims it first).
    for t in [format!(" {token}"), format!("{token}\n"), format!("{token}\r\n")] {
        assert!(decide(&auth, &t).is_err(), "{t:?}");
    }
}

#[test]
fn anything_but_three_segments_is_refused() {
    let auth = default_authorizer();
    let token = valid_token();
    let (h, c, s) = segments(&token);
    for t in [
        String::new(),
        h.clone(),
        format!("{h}.{c}"),
        format!("{h}.{c}.{s}.{s}"),
        format!("{h}.{c}.{s}."),
        format!(".{h}.{c}.{s}"),
        format!("{h}.{c}.{s}.{s}.{s}"),
        format!("{h}.{h}.{c}.{s}.{s}"), // JWE shape
        format!("{h}..{s}"),
        format!(".{c}.{s}"),
        "..".to_owned(),
        "....".to_owned(),
    ] {
        assert_eq!(decide(&auth, &t), Err(Reason::Malformed), "{t:?}");
    }
}

#[test]
fn tokens_over_16_kib_are_refused_before_decoding_even_when_validly_signed() {
    let auth = default_authorizer();
    const LIMIT: usize = 16 * 1024;
    // Grow a claim until the signed token is exactly at the limit, then one byte over.
    let sized = |pad: usize| token_a(&claims_with(json!({ "pad": "x".repeat(pad) })));
    let base = sized(0).len();
    let mut pad = (LIMIT - base) * 3 / 4;
    while sized(pad).len() < LIMIT {
        pad += 1;
    }
    while sized(pad).len() > LIMIT {
        pad -= 1;
    }
    let at_limit = sized(pad);
    assert!(at_limit.len() <= LIMIT && at_limit.len() > LIMIT - 4, "{}", at_limit.len());
    assert_eq!(decide(&auth, &at_limit), Ok(()));
    let mut over = pad + 1;
    while sized(over).len() <= LIMIT {
        over += 1;
    }
    assert_eq!(decide(&auth, &sized(over)), Err(Reason::TokenTooLarge));
    assert_eq!(decide(&auth, &sized(100_000)), Err(Reason::TokenTooLarge));
    // Junk over the limit is refused the same way (no decoding attempted).
    assert_eq!(decide(&auth, &"A".repeat(LIMIT + 1)), Err(Reason::TokenTooLarge));
    assert_eq!(decide(&auth, &".".repeat(1 << 20)), Err(Reason::TokenTooLarge));
    // Through an event too.
    let event = v2_event(&format!("Bearer {}", sized(over)), true);
    assert_eq!(handle(&auth, &event).simple_deny(), Reason::TokenTooLarge);
}

#[test]
fn nesting_deeper_than_64_is_refused_in_claims_header_and_event() {
    let auth = default_authorizer();
    let nest = |levels: usize| format!("{}1{}", "[".repeat(levels), "]".repeat(levels));
    // The claims object is level 1: 63 more levels is depth 64 (allowed), 64 more is 65.
    let body = |levels: usize| {
        let mut s = claims_text();
        s.insert_str(1, &format!(r#""deep":{},"#, nest(levels)));
        s
    };
    assert_eq!(decide(&auth, &raw_a(r#"{"alg":"RS256"}"#, &body(63), Alg::RS256)), Ok(()));
    assert_eq!(decide(&auth, &raw_a(r#"{"alg":"RS256"}"#, &body(64), Alg::RS256)), Err(Reason::BadJson));
    assert_eq!(decide(&auth, &raw_a(r#"{"alg":"RS256"}"#, &body(5000), Alg::RS256)), Err(Reason::BadJson));
    let objects = |levels: usize| format!("{}1{}", r#"{"a":"#.repeat(levels), "}".repeat(levels));
    let deep_obj = format!(r#"{{"sub":"u","exp":{},"o":{}}}"#, NOW + 50, objects(64));
    assert_eq!(decide(&auth, &raw_a(r#"{"alg":"RS256"}"#, &deep_obj, Alg::RS256)), Err(Reason::BadJson));
    let header = |levels: usize| format!(r#"{{"alg":"RS256","x":{}}}"#, nest(levels));
    assert_eq!(decide(&auth, &raw_a(&header(63), &claims_text(), Alg::RS256)), Ok(()));
    assert_eq!(decide(&auth, &raw_a(&header(64), &claims_text(), Alg::RS256)), Err(Reason::BadJson));

    // The event itself: the token is valid, the event around it is too deep.
    let token = valid_token();
    let event = |levels: usize| {
        v2_event_with(json!({ "identitySource": [format!("Bearer {token}")], "deep": "PLACEHOLDER" }))
            .replace(r#""PLACEHOLDER""#, &nest(levels))
    };
    handle(&auth, &event(63)).simple_allow();
    assert_eq!(handle(&auth, &event(64)).simple_deny(), Reason::BadEvent);
    let huge = event(200_000);
    let out = handle(&auth, &huge);
    assert_eq!(out.json, Some(json!({ "isAuthorized": false })));
    // A REST event that is too deep is refused as Unauthorized, never allowed.
    let rest = token_event(&format!("Bearer {token}")).replacen('{', &format!(r#"{{"deep":{},"#, nest(70)), 1);
    assert!(handle(&auth, &rest).json.is_none_or(|j| j["isAuthorized"] == false));
}

#[test]
fn header_and_claims_must_be_json_objects_in_utf8() {
    let auth = default_authorizer();
    for (header, body) in [
        (r#"["RS256"]"#, claims_text()),
        (r#""RS256""#, claims_text()),
        (r#"{"alg":"RS256"}"#, "[1,2]".to_owned()),
        (r#"{"alg":"RS256"}"#, "null".to_owned()),
        (r#"{"alg":"RS256"}"#, r#""user_1""#.to_owned()),
        (r#"{"alg":"RS256"}"#, format!("{} trailing", claims_text())),
        (r#"{"alg":"RS256"}"#, claims_text()[..20].to_owned()),
        (r#"{"alg":"RS256"}"#, String::new() + " "),
    ] {
        let r = decide(&auth, &raw_a(header, &body, Alg::RS256));
        assert!(matches!(r, Err(Reason::BadJson | Reason::AlgNotAllowed)), "{header} {body}: {r:?}");
    }
    // Invalid UTF-8 inside a string in the (validly signed) claims.
    let mut bytes = claims_text().into_bytes();
    let at = bytes.len() - 1;
    bytes.splice(at..at, br#","name":"caf"#.iter().copied().chain([0xE9, b'"']));
    let t = signer("rsa2048-a").sign_raw(br#"{"alg":"RS256"}"#, &bytes, Alg::RS256);
    assert_eq!(decide(&auth, &t), Err(Reason::BadJson));
    // And in the header.
    let t = signer("rsa2048-a").sign_raw(b"{\"alg\":\"RS256\",\"kid\":\"\xff\"}", claims_text().as_bytes(), Alg::RS256);
    assert_eq!(decide(&auth, &t), Err(Reason::BadJson));
    // `typ` other than JWT / at+jwt.
    for (typ, ok) in [("JWT", true), ("jwt", true), ("at+jwt", true), ("AT+JWT", true), ("JWE", false), ("", false)] {
        let t = raw_a(&format!(r#"{{"alg":"RS256","typ":"{typ}"}}"#), &claims_text(), Alg::RS256);
        assert_eq!(decide(&auth, &t).is_ok(), ok, "typ {typ}");
    }
    assert_eq!(decide(&auth, &raw_a(r#"{"alg":"RS256","typ":1}"#, &claims_text(), Alg::RS256)), Err(Reason::BadType));
}

#[test]
fn one_scratch_serves_any_sequence_of_good_and_hostile_tokens() {
    // Scratch buffers are reused: a hostile token must not poison the next decision.
    let auth = default_authorizer();
    let mut scratch = jwt_authorizer::Scratch::default();
    let good = valid_token();
    let big = token_a(&claims_with(json!({ "pad": "y".repeat(9_000) })));
    let hostile = [
        "x".repeat(20_000),
        format!("{}.{}.", b64(br#"{"alg":"none"}"#), b64(claims_text().as_bytes())),
        big.clone(),
        "\u{0}\u{1}.\u{2}.\u{3}".to_owned(),
        format!("{}.{}.{}", b64(&[0xff; 9000]), b64(&[0xfe; 3000]), b64(&[0; 2000])),
    ];
    for h in &hostile {
        let _ = auth.decide(h.as_bytes(), NOW, &mut scratch);
        assert_eq!(auth.decide(good.as_bytes(), NOW, &mut scratch), Ok(()));
        assert_eq!(auth.decide(big.as_bytes(), NOW, &mut scratch), Ok(()));
    }
}
