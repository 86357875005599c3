//! The forwarded context: keys API Gateway reserves are refused at cold start, and the answer
//! stays within API Gateway's documented authorizer result size (8 KB) — a claim that would
//! break it is dropped, with a WARN line that names its key and never its value.

mod common;

use common::*;
use jwt_authorizer::apigw::response::{MAX_RESPONSE_BYTES, RESERVED_CONTEXT_KEYS};
use serde_json::{Value, json};
use std::io::Write;
use std::process::{Command, Stdio};

/// A route ARN as long as API Gateway allows a policy's resource to be (AWS: "currently
/// limited to 512 characters"), so the envelope is at its largest.
fn long_route_arn() -> String {
    let prefix = "arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/";
    let stage = "s".repeat(512 - prefix.len() - "/*".len());
    format!("{prefix}{stage}/GET/orders")
}

#[test]
fn reserved_keys_are_refused_naming_the_variable_and_the_key() {
    let pem = public_pem("rsa2048-a");
    assert_eq!(RESERVED_CONTEXT_KEYS.len(), 8);
    for (key, _) in RESERVED_CONTEXT_KEYS {
        // As an explicit key, and as the key a bare path gives.
        for setting in [format!("email,{key}=email"), key.to_owned()] {
            let e = load_err(&[("JWT_PUBLIC_KEY", &pem), ("JWT_CONTEXT_CLAIMS", &setting)]);
            assert_eq!(e.var, "JWT_CONTEXT_CLAIMS", "{setting}");
            let message = e.to_string();
            assert!(message.contains(&format!(" {key} ")), "{setting}: {message}");
        }
    }
    // The documented names exactly: other keys, and other spellings, are fine.
    for fine in ["claim", "Claims", "principal", "errors", "state", "role=metadata.role", "org_status=org.status"] {
        load(&[("JWT_PUBLIC_KEY", &pem), ("JWT_CONTEXT_CLAIMS", fine)]);
    }
}

/// (response JSON length, context) for an allow of `claims`, in each flavour.
fn answers(claims: &Value, wanted: &'static str) -> Vec<(usize, Value)> {
    let simple = with_key_a(&[("JWT_CONTEXT_CLAIMS", wanted)]);
    let iam = with_key_a(&[("JWT_CONTEXT_CLAIMS", wanted), ("JWT_RESPONSE_FORMAT", "iam")]);
    let token = token_a(claims);
    let arn = long_route_arn();
    let v2 = json!({ "version": "2.0", "type": "REQUEST", "routeArn": arn,
        "identitySource": [format!("Bearer {token}")], "headers": {} })
    .to_string();
    let rest =
        json!({ "type": "TOKEN", "authorizationToken": format!("Bearer {token}"), "methodArn": arn }).to_string();
    let mut out = Vec::new();
    for (auth, event) in [(&simple, &v2), (&iam, &v2), (&simple, &rest)] {
        let handled = auth.handle(event.as_bytes(), NOW, &mut jwt_authorizer::Scratch::default());
        assert!(handled.denial.is_none(), "{:?}", handled.denial);
        let text = handled.response.to_json().unwrap();
        let json: Value = serde_json::from_str(&text).unwrap();
        out.push((text.len(), json["context"].clone()));
    }
    out
}

#[test]
fn a_claim_that_would_break_the_limit_is_dropped_and_later_ones_still_fit() {
    let claims = claims_with(json!({ "bio": "b".repeat(9_000), "email": "ada@example.com",
        "metadata": { "role": "admin" } }));
    for (len, ctx) in answers(&claims, "bio,email,role=metadata.role") {
        assert!(len <= MAX_RESPONSE_BYTES, "{len} bytes");
        assert_eq!(ctx.get("bio"), None, "{ctx}");
        assert_eq!(ctx["email"], "ada@example.com");
        assert_eq!(ctx["role"], "admin");
        assert_eq!(ctx["sub"], "user_2abc");
    }
}

#[test]
fn many_claims_fill_the_answer_up_to_the_limit_in_order() {
    let fields: serde_json::Map<String, Value> =
        (0..20).map(|i| (format!("f{i:02}"), Value::from(format!("{i:02}").repeat(250)))).collect();
    let claims = claims_with(Value::Object(fields));
    let wanted = "f00,f01,f02,f03,f04,f05,f06,f07,f08,f09,f10,f11,f12,f13,f14,f15,f16,f17,f18,f19";
    for (len, ctx) in answers(&claims, wanted) {
        assert!(len <= MAX_RESPONSE_BYTES, "{len} bytes");
        let kept: Vec<&String> = ctx.as_object().unwrap().keys().filter(|k| k.starts_with('f')).collect();
        // 500-byte values: about 13 fit in the ~7 KB the context gets; the first ones, in order.
        assert!((8..20).contains(&kept.len()), "{} kept", kept.len());
        let expected: Vec<String> = (0..kept.len()).map(|i| format!("f{i:02}")).collect();
        assert_eq!(kept, expected.iter().collect::<Vec<_>>());
        // Nothing more would have fitted.
        assert!(len + 510 > MAX_RESPONSE_BYTES - 1024, "{len}: room was left unused");
    }
}

#[test]
fn small_contexts_are_unchanged() {
    let claims = claims_with(json!({ "email": "ada@example.com", "metadata": { "role": "admin", "tags": ["a", 1] } }));
    let got = answers(&claims, "email,role=metadata.role,meta=metadata");
    assert_eq!(
        got[0].1,
        json!({ "sub": "user_2abc", "email": "ada@example.com", "role": "admin", "meta": { "role": "admin", "tags": ["a", 1] } })
    );
    assert_eq!(got[2].1["meta"], r#"{"role":"admin","tags":["a",1]}"#, "IAM contexts carry JSON text");
}

/// The WARN line, as the CLI (the same library code the function runs) writes it: the key,
/// and never the claim's value.
#[test]
fn the_warning_names_the_key_and_never_the_value() {
    let secret = "s3cr3t-VALUE-".repeat(700); // ~9 KB
    let token = token_a(&claims_with(json!({ "bio": secret, "email": "ada@example.com" })));
    let event = v2_event(&format!("Bearer {token}"), true);
    let mut child = Command::new(env!("CARGO_BIN_EXE_jwt-authorizer-cli"))
        .args(["check", "--event", "-", "--now", &NOW.to_string()])
        .env_clear()
        .env("JWT_PUBLIC_KEY", public_pem("rsa2048-a"))
        .env("JWT_CONTEXT_CLAIMS", "bio,email")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the CLI");
    child.stdin.take().unwrap().write_all(event.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "allowed: {stderr}");
    let warn = stderr.lines().find(|l| l.contains("WARN")).unwrap_or_else(|| panic!("no WARN line: {stderr}"));
    assert!(warn.contains("JWT_CONTEXT_CLAIMS: claim \"bio\" not forwarded"), "{warn}");
    assert!(warn.contains(&MAX_RESPONSE_BYTES.to_string()), "{warn}");
    for text in [&stderr, &stdout] {
        assert!(!text.contains("s3cr3t"), "the claim's value was written out: {text}");
        assert!(!text.contains(&token[..40]), "the token was written out");
    }
    let response: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(response["context"]["email"], "ada@example.com");
    assert_eq!(response["context"].get("bio"), None);
}
