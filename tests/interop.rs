//! Interoperability (issue 8 §3, from a differential test against another JOSE library):
//! whitespace around the credential, `typ` media types, and every case this authorizer
//! deliberately denies although widely used libraries accept it (README.md, "Security
//! behaviour"). Tokens are signed at test time with fixture key A (or as written, when the
//! point is text no encoder would produce).

mod common;

use common::*;
use jwt_authorizer::Reason;
use jwt_authorizer::jwt::header::Alg;
use serde_json::json;

/// Decides `value` as a payload 2.0 identity source and as a REST `authorizationToken`;
/// both must agree, and the reason is returned (`None` = allowed).
fn as_credential(value: &str) -> Option<Reason> {
    let auth = default_authorizer();
    let v2 = handle(&auth, &v2_event_with(json!({ "identitySource": [value] })));
    let rest = handle(&auth, &token_event(value));
    assert_eq!(v2.reason, rest.reason, "{value:?}");
    v2.reason
}

/// RFC 9110 §5.6.3: optional whitespace is SP and HTAB. RFC 6750 §2.1:
/// `credentials = "Bearer" 1*SP b64token`. Anything else is a malformed token.
#[test]
fn only_sp_and_htab_surround_the_credential_and_only_sp_follows_bearer() {
    let t = valid_token();
    for ok in [
        format!("Bearer {t}"),
        format!(" Bearer {t} "),
        format!("\tBearer {t}\t"),
        format!("Bearer   {t}"),
        format!(" \t{t}\t "),
    ] {
        assert_eq!(as_credential(&ok), None, "{ok:?}");
    }
    // What `str::trim` strips but HTTP does not call whitespace, around the credential.
    for ws in ['\u{a0}', '\u{b}', '\u{c}', '\u{85}', '\u{2028}', '\u{2029}', '\u{3000}', '\u{feff}', '\n', '\r'] {
        for value in [format!("{ws}Bearer {t}"), format!("Bearer {t}{ws}"), format!("{ws}{t}"), format!("{t}{ws}")] {
            assert_eq!(as_credential(&value), Some(Reason::Malformed), "{value:?}");
        }
    }
    // Between the scheme and the token: SP only.
    for sep in ["\t", "\n", "\u{c}", "\u{b}", "\r", " \t", "\t ", "\u{a0}", "\u{3000}"] {
        let value = format!("Bearer{sep}{t}");
        assert!(as_credential(&value).is_some(), "{value:?}");
        assert_ne!(as_credential(&value), Some(Reason::BadSignature), "{value:?}");
    }
    assert_eq!(as_credential(&format!("Bearer\t{t}")), Some(Reason::Malformed));
    assert_eq!(as_credential(&format!("Bearer\n{t}")), Some(Reason::Malformed));
    assert_eq!(as_credential(&format!("Bearer \t{t}")), Some(Reason::Malformed));
}

/// RFC 7515 §4.1.9: the `application/` prefix may be omitted, and media types compare
/// case-insensitively: `JWT` (RFC 7519 §5.1) and `at+jwt` (RFC 9068 §2.1) in every form.
#[test]
fn typ_is_compared_as_a_media_type() {
    let auth = default_authorizer();
    let sign_typ = |typ: serde_json::Value| {
        let h = json!({ "alg": "RS256", "typ": typ }).to_string();
        signer("rsa2048-a").sign_raw(h.as_bytes(), claims().to_string().as_bytes(), Alg::RS256)
    };
    for typ in [
        "JWT",
        "jwt",
        "application/jwt",
        "Application/JWT",
        "at+jwt",
        "AT+JWT",
        "application/at+jwt",
        "APPLICATION/At+Jwt",
    ] {
        assert_eq!(decide(&auth, &sign_typ(json!(typ))), Ok(()), "{typ}");
    }
    for typ in [
        json!("JWE"),
        json!("application/jose"),
        json!("application/jose+json"),
        json!("text/jwt"),
        json!("application/jwt; charset=utf-8"),
        json!("application/at+jwt/x"),
        json!("/jwt"),
        json!(""),
        json!(7),
        json!(["JWT"]),
    ] {
        assert_eq!(decide(&auth, &sign_typ(typ.clone())), Err(Reason::BadType), "{typ}");
    }
}

/// Header and claims exactly as written (no encoder round trip), signed with key A.
fn as_written(header: &str, claims: &str) -> String {
    signed_segments(&b64(header.as_bytes()), &b64(claims.as_bytes()))
}

fn times() -> String {
    format!(r#""sub":"user_2abc","iat":{},"exp":{}"#, NOW - 10, NOW + 50)
}

const HEADER: &str = r#"{"alg":"RS256","typ":"JWT"}"#;

#[test]
fn baseline_the_hand_written_token_is_allowed() {
    assert_eq!(decide(&default_authorizer(), &as_written(HEADER, &format!("{{{}}}", times()))), Ok(()));
}

/// Integers outside i64/u64 (other parsers silently turn them into floats).
#[test]
fn stricter_integers_outside_i64_and_u64_are_denied() {
    let auth = default_authorizer();
    for n in ["18446744073709551616", "-9223372036854775809", "123456789012345678901234567890"] {
        let t = as_written(HEADER, &format!(r#"{{{},"n":{n}}}"#, times()));
        assert_eq!(decide(&auth, &t), Err(Reason::BadJson), "{n}");
        let t = as_written(HEADER, &format!(r#"{{"sub":"user_2abc","exp":{n}}}"#));
        assert_eq!(decide(&auth, &t), Err(Reason::BadJson), "exp {n}");
    }
}

/// Numbers that overflow f64: another library reads `"exp": 1e400` as infinity, a token
/// that never expires.
#[test]
fn stricter_numbers_that_overflow_f64_are_denied() {
    let auth = default_authorizer();
    for n in ["1e400", "-1e400", "1.5e309"] {
        let t = as_written(HEADER, &format!(r#"{{"sub":"user_2abc","exp":{n}}}"#));
        assert_eq!(decide(&auth, &t), Err(Reason::BadJson), "exp {n}");
        let t = as_written(HEADER, &format!(r#"{{{},"n":{n}}}"#, times()));
        assert_eq!(decide(&auth, &t), Err(Reason::BadJson), "{n}");
    }
}

/// A `\u` escape of half a surrogate pair is not a Unicode character (RFC 8259 §8.2).
#[test]
fn stricter_lone_surrogate_escapes_are_denied() {
    let auth = default_authorizer();
    for s in [r#"\ud800"#, r#"\udc00"#, r#"x\udbffy"#, r#"\udc00\ud800"#] {
        let t = as_written(HEADER, &format!(r#"{{{},"name":"{s}"}}"#, times()));
        assert_eq!(decide(&auth, &t), Err(Reason::BadJson), "{s}");
        let t = as_written(&format!(r#"{{"alg":"RS256","kid2":"{s}"}}"#), &format!("{{{}}}", times()));
        assert_eq!(decide(&auth, &t), Err(Reason::BadJson), "header {s}");
    }
}

/// A UTF-8 byte order mark before the header or the claims JSON (RFC 8259 §8.1: MUST NOT add).
#[test]
fn stricter_a_byte_order_mark_before_the_json_is_denied() {
    let auth = default_authorizer();
    let claims = format!("{{{}}}", times());
    assert_eq!(decide(&auth, &as_written(&format!("\u{feff}{HEADER}"), &claims)), Err(Reason::BadJson));
    assert_eq!(decide(&auth, &as_written(HEADER, &format!("\u{feff}{claims}"))), Err(Reason::BadJson));
}

/// `kid` must be a string (RFC 7515 §4.1.4), even where the key would not depend on it.
#[test]
fn stricter_a_non_string_kid_is_denied() {
    let auth = default_authorizer(); // a PEM key matches any kid
    for kid in ["42", "null", "true", r#"["k1"]"#, r#"{"k":"k1"}"#] {
        let t = as_written(&format!(r#"{{"alg":"RS256","kid":{kid}}}"#), &format!("{{{}}}", times()));
        assert_eq!(decide(&auth, &t), Err(Reason::MalformedKid), "{kid}");
    }
}

/// `crit` is denied whatever it lists, `b64` (RFC 7797) included: no extension is understood.
#[test]
fn stricter_crit_is_denied_even_with_b64() {
    let auth = default_authorizer();
    for h in [r#"{"alg":"RS256","crit":["b64"],"b64":true}"#, r#"{"alg":"RS256","crit":["b64"],"b64":false}"#] {
        assert_eq!(decide(&auth, &as_written(h, &format!("{{{}}}", times()))), Err(Reason::CritHeader), "{h}");
    }
}

/// Without a `kid`, a JWKS with several keys does not say which key: denied, never tried in turn.
#[test]
fn stricter_no_kid_with_several_jwks_keys_is_denied() {
    let jwks = fixture("jwks.json");
    let keys = serde_json::from_str::<serde_json::Value>(&jwks).unwrap()["keys"].as_array().unwrap().len();
    assert!(keys > 1, "the fixture JWKS has several keys");
    let auth = load(&[("JWT_JWKS", &jwks)]);
    let t = signer("rsa2048-a").sign(&claims(), Alg::RS256, None);
    assert_eq!(decide(&auth, &t), Err(Reason::UnknownKid));
}

/// An RSA signature one octet shorter than the modulus: a valid signature whose leading
/// octet is zero, with that octet stripped (the same integer). RFC 8017 §8.1.2 and §8.2.2
/// step 1 require a signature of exactly k octets, the modulus length; jose accepts the
/// short one. Real keys and real signatures, for PS256 (the case reported) and RS256.
#[test]
fn stricter_an_rsa_signature_one_octet_short_is_denied() {
    let auth = with_key_a(&[("JWT_ALGORITHMS", "RS256,PS256")]);
    let signer = signer("rsa2048-a");
    for alg in [Alg::PS256, Alg::RS256] {
        // One signature in 256 starts with a zero octet: PSS salts are random, and a
        // PKCS #1 v1.5 signature changes with the claims (`jti`).
        let (token, sig) = (0..8192)
            .find_map(|i| {
                let token = signer.sign(&claims_with(json!({ "jti": i.to_string() })), alg, None);
                let sig = unb64(&segments(&token).2);
                (sig[0] == 0).then_some((token, sig))
            })
            .expect("a signature with a leading zero octet");
        assert_eq!(sig.len(), 256, "k octets for a 2048-bit modulus");
        assert_eq!(decide(&auth, &token), Ok(()), "{}: the full-length signature verifies", alg.name());
        let (header, claims, _) = segments(&token);
        let short = format!("{header}.{claims}.{}", b64(&sig[1..]));
        assert_eq!(decide(&auth, &short), Err(Reason::BadSignature), "{}: 255 octets", alg.name());
    }
}
