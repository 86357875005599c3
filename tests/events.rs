//! Events → responses: HTTP API 2.0 (simple and `iam`), REST TOKEN and REQUEST (IAM policy,
//! Deny, `Unauthorized`), the Bearer scheme, stage wildcard,
//! and unknown or malformed events — which must be refused without a panic, after which
//! the same scratch buffers keep serving.

mod common;

use common::*;
use jwt_authorizer::{Reason, Scratch};
use serde_json::json;

fn bearer() -> String {
    format!("Bearer {}", valid_token())
}

#[test]
fn v2_valid_token_is_allowed_with_sub_in_context() {
    let auth = default_authorizer();
    let out = handle(&auth, &v2_event(&bearer(), true));
    assert_eq!(out.simple_allow(), &json!({ "sub": "user_2abc" }));
    assert_eq!(out.json, Some(json!({ "isAuthorized": true, "context": { "sub": "user_2abc" } })));
    // Only the identity source is read (tests/token_source.rs has the rest of that rule).
    assert_eq!(handle(&auth, &v2_event(&bearer(), false)).simple_deny(), Reason::MissingToken);
}

#[test]
fn v2_bearer_scheme() {
    let auth = default_authorizer();
    let token = valid_token();
    let ids = |value: serde_json::Value| v2_event_with(json!({ "identitySource": [value] }));
    // The scheme is case-insensitive; one or more SP follow it; a bare token is accepted.
    for value in [format!("Bearer {token}"), format!("bearer {token}"), format!("BEARER  {token} "), token.clone()] {
        handle(&auth, &ids(json!(value))).simple_allow();
    }
    // Other schemes, empty values, missing tokens.
    for (value, reason) in [
        (format!("Basic {token}"), Reason::BadScheme),
        (format!("Token {token}"), Reason::BadScheme),
        (format!("Bearer {token} extra"), Reason::Malformed),
        ("".to_owned(), Reason::MissingToken),
        ("   ".to_owned(), Reason::MissingToken),
    ] {
        assert_eq!(handle(&auth, &ids(json!(value))).simple_deny(), reason, "{value:?}");
    }
    assert_eq!(handle(&auth, &v2_event_with(json!({}))).simple_deny(), Reason::MissingToken);
    assert_eq!(handle(&auth, &ids(json!(12345))).simple_deny(), Reason::MissingToken);
}

#[test]
fn every_invalid_token_is_the_same_bare_v2_deny() {
    let auth = with_key_a(&[("JWT_REQUIRE", "metadata.role=admin")]);
    let expired = token_a(&claims_with(json!({ "exp": NOW - 600, "metadata": { "role": "admin" } })));
    let viewer = token_a(&claims_with(json!({ "metadata": { "role": "viewer" } })));
    let wrong_key = signer("rsa2048-b").sign(
        &claims_with(json!({ "metadata": { "role": "admin" } })),
        jwt_authorizer::jwt::header::Alg::RS256,
        None,
    );
    for (token, reason) in [(expired, Reason::Expired), (viewer, Reason::RuleFailed), (wrong_key, Reason::BadSignature)]
    {
        let out = handle(&auth, &v2_event(&format!("Bearer {token}"), true));
        assert_eq!(out.simple_deny(), reason);
    }
}

#[test]
fn cookie_source_is_opt_in_and_read_from_the_identity_source() {
    let token = valid_token();
    let plain = default_authorizer();
    let auth = with_key_a(&[("JWT_TOKEN_COOKIE", "__session")]);
    let cookie = format!("theme=dark; __session={token}; other=1");
    let from_cookie_header = v2_event_with(json!({ "identitySource": [cookie] }));
    assert_eq!(handle(&plain, &from_cookie_header).simple_deny(), Reason::BadScheme, "opt-in only");
    handle(&auth, &from_cookie_header).simple_allow();
    // A differently named cookie is not read; a name that merely ends the same is not either.
    let other = v2_event_with(json!({ "identitySource": [format!("session={token}; x__session={token}")] }));
    assert_eq!(handle(&auth, &other).simple_deny(), Reason::MissingToken);
    // An invalid cookie token is refused like any other.
    let bad = v2_event_with(json!({ "identitySource": ["__session=aaa.bbb.ccc"] }));
    assert!(matches!(handle(&auth, &bad).simple_deny(), Reason::BadBase64 | Reason::BadJson));
    // REST REQUEST: the Cookie header when it is JWT_TOKEN_HEADER.
    let rest = request_event(json!({ "cookie": format!("__session={token}") }));
    let cookie_header = with_key_a(&[("JWT_TOKEN_COOKIE", "__session"), ("JWT_TOKEN_HEADER", "Cookie")]);
    assert_eq!(handle(&cookie_header, &rest).policy().1, "Allow");
    assert_eq!(handle(&auth, &rest).unauthorized(), Reason::MissingToken, "the default header is Authorization");
}

#[test]
fn rest_token_allow_is_a_stage_wide_policy_for_sub() {
    let auth = with_key_a(&[("JWT_CONTEXT_CLAIMS", "email")]);
    let t = token_a(&claims_with(json!({ "email": "ada@example.com" })));
    for value in [format!("Bearer {t}"), t.clone(), format!("bearer {t}")] {
        let out = handle(&auth, &token_event(&value));
        assert_eq!(out.reason, None);
        let (principal, effect, resource, ctx) = out.policy();
        assert_eq!(principal, "user_2abc");
        assert_eq!(effect, "Allow");
        assert_eq!(resource, METHOD_STAGE);
        assert_eq!(ctx, json!({ "sub": "user_2abc", "email": "ada@example.com" }));
    }
    let json = handle(&auth, &token_event(&t)).json.unwrap();
    assert!(json.get("usageIdentifierKey").is_none(), "{json}");
}

#[test]
fn rest_token_rule_failure_is_a_deny_policy_for_the_authentic_sub() {
    let auth = with_key_a(&[("JWT_REQUIRE", "metadata.role=admin")]);
    let viewer = token_a(&claims_with(json!({ "sub": "user_viewer", "metadata": { "role": "viewer" } })));
    let out = handle(&auth, &token_event(&format!("Bearer {viewer}")));
    assert_eq!(out.reason, Some(Reason::RuleFailed));
    let (principal, effect, resource, _) = out.policy();
    assert_eq!((principal.as_str(), effect.as_str(), resource.as_str()), ("user_viewer", "Deny", METHOD_STAGE));
    let admin = token_a(&claims_with(json!({ "metadata": { "role": "admin" } })));
    assert_eq!(handle(&auth, &token_event(&admin)).policy().1, "Allow");
}

#[test]
fn rest_token_authentication_failures_are_unauthorized() {
    let auth = with_key_a(&[
        ("JWT_ISSUER", "https://iss.example"),
        ("JWT_AUDIENCE", "api"),
        ("JWT_AUTHORIZED_PARTIES", "https://app"),
    ]);
    let good = json!({ "iss": "https://iss.example", "aud": "api", "azp": "https://app" });
    let t = |extra: serde_json::Value| {
        let mut c = claims_with(good.clone());
        for (k, v) in extra.as_object().unwrap() {
            if v.is_null() {
                c.as_object_mut().unwrap().remove(k);
            } else {
                c[k] = v.clone();
            }
        }
        token_a(&c)
    };
    assert_eq!(handle(&auth, &token_event(&t(json!({})))).policy().1, "Allow");
    let (h, c, _) = segments(&t(json!({})));
    let cases = [
        (t(json!({ "exp": NOW - 60 })), Reason::Expired),
        (t(json!({ "nbf": NOW + 600 })), Reason::NotYetValid),
        (t(json!({ "iat": NOW + 600 })), Reason::IssuedInFuture),
        (t(json!({ "iss": "https://other" })), Reason::WrongIssuer),
        (t(json!({ "aud": "other" })), Reason::WrongAudience),
        (t(json!({ "azp": null })), Reason::MissingAzp),
        (t(json!({ "sub": null })), Reason::MissingSub),
        (t(json!({ "exp": null })), Reason::MissingExp),
        (
            signer("rsa2048-b").sign(&claims_with(good.clone()), jwt_authorizer::jwt::header::Alg::RS256, None),
            Reason::BadSignature,
        ),
        (format!("{h}.{c}.{}", b64(&[7; 256])), Reason::BadSignature),
        (format!("{h}.{c}"), Reason::Malformed),
        ("".to_owned(), Reason::MissingToken),
    ];
    for (token, reason) in cases {
        let out = handle(&auth, &token_event(&token));
        assert_eq!(out.unauthorized(), reason, "{token}");
    }
    assert_eq!(handle(&auth, &token_event("Basic dXNlcjpwYXNz")).unauthorized(), Reason::BadScheme);
    let missing = json!({ "type": "TOKEN", "methodArn": METHOD_ARN }).to_string();
    assert_eq!(handle(&auth, &missing).unauthorized(), Reason::MissingToken);
}

#[test]
fn rest_request_reads_the_token_header_case_insensitively_and_1_0_the_identity_source() {
    let auth = default_authorizer();
    let token = valid_token();
    for name in ["Authorization", "authorization", "AUTHORIZATION", "AuThOrIzAtIoN"] {
        let out = handle(&auth, &request_event(json!({ "Host": "x", name: format!("Bearer {token}") })));
        let (principal, effect, resource, _) = out.policy();
        assert_eq!(
            (principal.as_str(), effect.as_str(), resource.as_str()),
            ("user_2abc", "Allow", METHOD_STAGE),
            "{name}"
        );
    }
    // Payload 1.0: identitySource (a comma-separated string), never the header.
    let mut e: serde_json::Value = serde_json::from_str(&request_event(json!({ "Host": "x" }))).unwrap();
    e["version"] = json!("1.0");
    e["identitySource"] = json!(format!("Bearer {token}"));
    assert_eq!(handle(&auth, &e.to_string()).policy().1, "Allow");
    // The identity source alone: a header is never read for a 1.0 event.
    e["headers"]["authorization"] = json!("Bearer junk");
    assert_eq!(handle(&auth, &e.to_string()).policy().1, "Allow");
    // A payload 1.0 event comes from an HTTP API, where a refusal is a Deny policy
    // (tests/responses.rs).
    e["identitySource"] = json!("Bearer junk");
    e["headers"]["authorization"] = json!(format!("Bearer {token}"));
    let out = handle(&auth, &e.to_string());
    assert_eq!((out.policy().1.as_str(), out.reason), ("Deny", Some(Reason::Malformed)));
    // Missing token → Unauthorized; a rule failure → Deny.
    assert_eq!(handle(&auth, &request_event(json!({}))).unauthorized(), Reason::MissingToken);
    assert_eq!(handle(&auth, &request_event(json!(null))).unauthorized(), Reason::MissingToken);
    let rules = with_key_a(&[("JWT_REQUIRE", "metadata.role=admin")]);
    let out = handle(&rules, &request_event(json!({ "Authorization": format!("Bearer {token}") })));
    assert_eq!(out.policy().1, "Deny");
    assert_eq!(out.reason, Some(Reason::RuleFailed));
}

#[test]
fn v2_events_answer_iam_policies_when_configured() {
    let auth = with_key_a(&[("JWT_RESPONSE_FORMAT", "iam"), ("JWT_REQUIRE", "metadata.role=admin")]);
    let admin = token_a(&claims_with(json!({ "metadata": { "role": "admin" } })));
    let (principal, effect, resource, ctx) = handle(&auth, &v2_event(&format!("Bearer {admin}"), true)).policy();
    assert_eq!((principal.as_str(), effect.as_str(), resource.as_str()), ("user_2abc", "Allow", ROUTE_STAGE));
    assert_eq!(ctx["sub"], "user_2abc");
    let viewer = token_a(&claims_with(json!({ "metadata": { "role": "viewer" } })));
    let out = handle(&auth, &v2_event(&format!("Bearer {viewer}"), true));
    assert_eq!(out.policy().1, "Deny");
    // On an HTTP API every refusal is a Deny policy (tests/responses.rs has the details).
    let expired = token_a(&claims_with(json!({ "exp": NOW - 60, "metadata": { "role": "admin" } })));
    let out = handle(&auth, &v2_event(&format!("Bearer {expired}"), true));
    assert_eq!((out.policy().1.as_str(), out.reason), ("Deny", Some(Reason::Expired)));
    // `simple` is the default and can be named.
    let simple = with_key_a(&[("JWT_RESPONSE_FORMAT", "simple")]);
    handle(&simple, &v2_event(&format!("Bearer {admin}"), true)).simple_allow();
}

#[test]
fn the_allow_resource_is_the_whole_stage_and_needs_an_execute_api_arn() {
    let auth = default_authorizer();
    let token = valid_token();
    let arn_event = |arn: serde_json::Value| {
        json!({ "type": "TOKEN", "authorizationToken": format!("Bearer {token}"), "methodArn": arn }).to_string()
    };
    for (arn, stage) in [
        (
            "arn:aws:execute-api:us-east-1:123456789012:api1/prod/GET/",
            "arn:aws:execute-api:us-east-1:123456789012:api1/prod/*",
        ),
        (
            "arn:aws:execute-api:us-east-1:123456789012:api1/prod/POST/a/b/c",
            "arn:aws:execute-api:us-east-1:123456789012:api1/prod/*",
        ),
        (
            "arn:aws-cn:execute-api:cn-north-1:1:api2/$default/*/x",
            "arn:aws-cn:execute-api:cn-north-1:1:api2/$default/*",
        ),
        (
            "arn:aws-us-gov:execute-api:us-gov-west-1:1:api3/v1/DELETE/r",
            "arn:aws-us-gov:execute-api:us-gov-west-1:1:api3/v1/*",
        ),
    ] {
        let (_, effect, resource, _) = handle(&auth, &arn_event(json!(arn))).policy();
        assert_eq!((effect.as_str(), resource.as_str()), ("Allow", stage), "{arn}");
    }
    // Not an execute-api ARN, a wildcard api/stage, or missing: never an Allow.
    for arn in [
        json!("arn:aws:lambda:us-east-1:1:function:f"),
        json!("arn:aws:execute-api:us-east-1:1:*/prod/GET/"),
        json!("arn:aws:execute-api:us-east-1:1:api/*/GET/"),
        json!("*"),
        json!(""),
        json!(null),
        json!(42),
    ] {
        let out = handle(&auth, &arn_event(arn.clone()));
        assert_eq!(out.json, None, "{arn}");
    }
}

#[test]
fn unknown_and_malformed_events_are_refused_without_panicking() {
    let simple = default_authorizer();
    let iam = with_key_a(&[("JWT_RESPONSE_FORMAT", "iam")]);
    let token = valid_token();
    let mut bad: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b" ".to_vec(),
        b"[]".to_vec(),
        b"{}".to_vec(),
        b"null".to_vec(),
        b"true".to_vec(),
        b"42".to_vec(),
        b"\"Bearer x\"".to_vec(),
        b"{".to_vec(),
        b"}".to_vec(),
        b"\x00\x01\x02\xff\xfe".to_vec(),
        b"\xef\xbb\xbf{}".to_vec(),
        b"{\"version\":\"2.0\",\"headers\":{\"authorization\":\"\xff\xfe\"}}".to_vec(),
        b"{\"version\":\"2.0\",\"headers\":{\"authorization\":\"Bearer \xc3\x28\"}}".to_vec(),
        br#"{"version":"1.0"}"#.to_vec(),
        br#"{"version":2.0,"headers":{}}"#.to_vec(),
        br#"{"type":"token","authorizationToken":"x"}"#.to_vec(),
        br#"{"type":"WEBSOCKET"}"#.to_vec(),
        br#"{"version":"2.0","identitySource":"#.to_vec(),
        format!(r#"{{"type":"TOKEN","authorizationToken":"Bearer {token}"}} trailing"#).into_bytes(),
        format!(r#"{{"type":"TOKEN","authorizationToken":"Bearer {token}","#).into_bytes(),
        format!(r#"[{{"type":"TOKEN","authorizationToken":"Bearer {token}","methodArn":"{METHOD_ARN}"}}]"#)
            .into_bytes(),
        format!(r#"{{"authorizationToken":"Bearer {token}","methodArn":"{METHOD_ARN}"}}"#).into_bytes(),
        format!(r#"{{"identitySource":["Bearer {token}"],"routeArn":"{ROUTE_ARN}"}}"#).into_bytes(),
        "[".repeat(100_000).into_bytes(),
        "{\"a\":".repeat(50_000).into_bytes(),
        vec![0xff; 1 << 20],
    ];
    // Every truncation of a valid event.
    let valid = v2_event(&format!("Bearer {token}"), true);
    bad.extend((1..valid.len()).step_by(7).map(|n| valid.as_bytes()[..n].to_vec()));
    let mut scratch = Scratch::default();
    for event in &bad {
        let out = handle_bytes(&simple, event, &mut scratch);
        assert!(out.reason.is_some(), "{:?}", String::from_utf8_lossy(&event[..event.len().min(80)]));
        assert!(out.json.is_none() || out.json == Some(json!({ "isAuthorized": false })), "{:?}", out.json);
        let out = handle_bytes(&iam, event, &mut scratch);
        assert!(out.reason.is_some());
        assert!(out.json.is_none() || out.json == Some(json!({ "isAuthorized": false })), "{:?}", out.json);
        // The same buffers serve the next good request.
        handle_bytes(&simple, valid.as_bytes(), &mut scratch).simple_allow();
    }
    // Non-JSON and unknown shapes are reported as bad events.
    for event in [&b""[..], b"[]", b"{}", b"\x00\xff", b"null", b"{\"type\":\"WEBSOCKET\"}"] {
        assert_eq!(handle_bytes(&simple, event, &mut scratch).simple_deny(), Reason::BadEvent, "{event:?}");
    }
}

#[test]
fn json_escapes_in_the_event_are_decoded_before_use() {
    let auth = default_authorizer();
    let token = valid_token();
    // `\/` and `\u0042earer` are the same characters to any JSON reader.
    let escaped = format!(r#"{{"version":"2.0","routeArn":"{ROUTE_ARN}","identitySource":["\u0042earer {token}"]}}"#);
    handle(&auth, &escaped).simple_allow();
    let name_escaped = format!(r#"{{"version":"2.0","\u0069dentitySource":["Bearer {token}"]}}"#);
    handle(&auth, &name_escaped).simple_allow();
}

/// The 1 MiB event limit (`MAX_EVENT_LEN`), at its edge: a valid event with a real token,
/// padded by a header to exactly the limit, is decided; one byte more is refused as
/// `bad_event` before it is read, in either response format.
#[test]
fn an_event_of_1_mib_is_decided_and_one_byte_more_is_refused() {
    const MIB: usize = 1024 * 1024;
    let padded = |len: usize| {
        let event = |pad: usize| {
            v2_event_with(json!({
                "identitySource": [bearer()],
                "headers": { "authorization": bearer(), "x-pad": "p".repeat(pad) },
                "requestContext": { "requestId": "JKJaXmPLvHcESHA=" },
            }))
        };
        let event = event(len - event(0).len());
        assert_eq!(event.len(), len);
        event
    };
    let (at, over) = (padded(MIB), padded(MIB + 1));
    let mut scratch = Scratch::default();
    let simple = default_authorizer();
    assert_eq!(handle_bytes(&simple, at.as_bytes(), &mut scratch).simple_allow(), &json!({ "sub": "user_2abc" }));
    assert_eq!(handle_bytes(&simple, over.as_bytes(), &mut scratch).simple_deny(), Reason::BadEvent);
    let iam = with_key_a(&[("JWT_RESPONSE_FORMAT", "iam")]);
    assert_eq!(handle_bytes(&iam, at.as_bytes(), &mut scratch).policy().1, "Allow");
    assert_eq!(handle_bytes(&iam, over.as_bytes(), &mut scratch).unauthorized(), Reason::BadEvent);
    // API Gateway's request id, read for the deny line, has the same limit.
    use jwt_authorizer::apigw::api_request_id;
    assert_eq!(api_request_id::of(at.as_bytes()).as_deref(), Some("JKJaXmPLvHcESHA="));
    assert_eq!(api_request_id::of(over.as_bytes()), None);
    assert_eq!(jwt_authorizer::apigw::event::MAX_EVENT_LEN, MIB, "the limit the README documents");
}

/// WebSocket `$connect` (AWS's documented example event, `tests/common::connect_event`): an IAM
/// policy on the stage, `principalId` = `sub`, context flattened as for REST; refusals as for
/// REST (the `Unauthorized` error → 401, a `Deny` → 403, on the upgrade request).
#[test]
fn websocket_connect_gets_an_iam_policy_for_the_method_arn() {
    let auth = with_key_a(&[
        ("JWT_TOKEN_QUERY", "token"),
        ("JWT_REQUIRE", "metadata.role=admin"),
        ("JWT_CONTEXT_CLAIMS", "email,metadata"),
    ]);
    let admin = token_a(&claims_with(json!({ "email": "a@b.c", "metadata": { "role": "admin" } })));
    let out = handle(&auth, &connect_event(json!({}), json!({ "token": admin })));
    let (principal, effect, resource, context) = out.policy();
    assert_eq!((principal.as_str(), effect.as_str()), ("user_2abc", "Allow"));
    // The methodArn `…/default/$connect` is covered by the stage wildcard.
    assert_eq!(resource, CONNECT_STAGE);
    assert_eq!(context, json!({ "sub": "user_2abc", "email": "a@b.c", "metadata": r#"{"role":"admin"}"# }));
    let viewer = token_a(&claims_with(json!({ "metadata": { "role": "viewer" } })));
    let out = handle(&auth, &connect_event(json!({}), json!({ "token": viewer })));
    assert_eq!(out.policy().0, "user_2abc");
    assert_eq!(out.deny_policy(), Reason::RuleFailed);
    let expired = token_a(&claims_with(json!({ "exp": NOW - 600, "metadata": { "role": "admin" } })));
    assert_eq!(handle(&auth, &connect_event(json!({}), json!({ "token": expired }))).unauthorized(), Reason::Expired);
    // A methodArn that is not an execute-api ARN: refused, never an Allow on something else.
    let mut e: serde_json::Value = serde_json::from_str(&connect_event(json!({}), json!({ "token": admin }))).unwrap();
    e["methodArn"] = json!("$connect");
    assert_eq!(handle(&auth, &e.to_string()).unauthorized(), Reason::BadEvent);
}
