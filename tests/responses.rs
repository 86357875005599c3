//! The status a client sees, for every API type and every kind of refusal, and that the
//! README's table says the same.
//!
//! The function never picks a status; API Gateway derives it from the answer. What AWS
//! documents, and what [`status`] encodes:
//! - REST APIs: an `Allow` policy → the integration (200 here), a `Deny` policy → 403, the
//!   function error `Unauthorized` → 401, any other error or an invalid answer → 500
//!   (https://docs.aws.amazon.com/apigateway/latest/developerguide/call-api-with-api-gateway-lambda-authorization.html,
//!   https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-output.html).
//! - HTTP APIs: `{"isAuthorized":true}` or an `Allow` policy → 200, `{"isAuthorized":false}`
//!   or a `Deny` policy → 403, and "If API Gateway can't invoke your Lambda authorizer, or your
//!   Lambda authorizer returns a response in an invalid format, clients receive a 500" — no
//!   401 is documented for a function error
//!   (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-lambda-authorizer.html).
//! - WebSocket APIs (`$connect`): the Lambda authorizer is "similar to that for REST APIs"
//!   (https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-lambda-auth.html),
//!   so the same mapping, on the upgrade request: no connection is made on a refusal.
//! - All: a request without the identity source gets API Gateway's 401 and never reaches the
//!   function (same pages). That row of the README is not the function's doing, so it is not
//!   checked here.

mod common;

use common::*;
use jwt_authorizer::Authorizer;
use serde_json::{Value, json};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Api {
    Http,
    Rest,
    WebSocket,
}

/// The status API Gateway answers for the function's answer (`None` = the `Unauthorized`
/// error), given whether the authorizer is configured for simple responses (HTTP API 2.0
/// with `EnableSimpleResponses`) or for IAM policies (everything else).
fn status(api: Api, simple: bool, answer: &Option<Value>) -> u16 {
    let Some(json) = answer else {
        return if api == Api::Http { 500 } else { 401 };
    };
    let effect = json["policyDocument"]["Statement"][0]["Effect"].as_str();
    match (simple, json.get("isAuthorized").and_then(Value::as_bool), effect) {
        (true, Some(true), _) => 200,
        (true, Some(false), _) => 403,
        // A WebSocket upgrade that passes `$connect` is answered 101 Switching Protocols.
        (false, None, Some("Allow")) if api == Api::WebSocket => 101,
        (false, None, Some("Allow")) => 200,
        (false, None, Some("Deny")) => 403,
        _ => 500, // a response in the wrong format
    }
}

/// One column of the README's table: how a deployment is configured and what it is sent.
struct Column {
    title: &'static str,
    api: Api,
    /// Simple responses enabled (else IAM policies are expected).
    simple: bool,
    authorizer: Authorizer,
    /// The event carrying `authorization` (the identity source's value).
    event: fn(&str) -> String,
}

fn columns() -> Vec<Column> {
    let rule = ("JWT_REQUIRE", "metadata.role=admin");
    let http_v1 = |authorization: &str| {
        json!({ "version": "1.0", "type": "REQUEST", "methodArn": ROUTE_ARN, "identitySource": authorization,
            "headers": { "Authorization": authorization } })
        .to_string()
    };
    vec![
        Column {
            title: "HTTP API, simple responses",
            api: Api::Http,
            simple: true,
            authorizer: with_key_a(&[rule]),
            event: |a| v2_event(a, true),
        },
        Column {
            title: "HTTP API, `JWT_RESPONSE_FORMAT=iam`",
            api: Api::Http,
            simple: false,
            authorizer: with_key_a(&[rule, ("JWT_RESPONSE_FORMAT", "iam")]),
            event: |a| v2_event(a, true),
        },
        Column {
            title: "HTTP API, payload 1.0",
            api: Api::Http,
            simple: false,
            authorizer: with_key_a(&[rule]),
            event: http_v1,
        },
        Column {
            title: "REST TOKEN",
            api: Api::Rest,
            simple: false,
            authorizer: with_key_a(&[rule]),
            event: token_event,
        },
        Column {
            title: "REST REQUEST",
            api: Api::Rest,
            simple: false,
            authorizer: with_key_a(&[rule]),
            event: |a| request_event(json!({ "Authorization": a })),
        },
        Column {
            title: "WebSocket `$connect`",
            api: Api::WebSocket,
            simple: false,
            authorizer: with_key_a(&[rule, ("JWT_TOKEN_QUERY", "token")]),
            // template-websocket.yaml: the token in the `token` query parameter, bare.
            event: |a| connect_event(json!({}), json!({ "token": a.strip_prefix("Bearer ").unwrap_or(a) })),
        },
    ]
}

/// The rows: a README label and the identity source's value (`None`: a malformed event).
fn rows() -> Vec<(&'static str, Option<String>)> {
    let admin = token_a(&claims_with(json!({ "metadata": { "role": "admin" } })));
    let viewer = token_a(&claims_with(json!({ "metadata": { "role": "viewer" } })));
    let expired = token_a(&claims_with(json!({ "exp": NOW - 60, "metadata": { "role": "admin" } })));
    vec![
        ("valid token, rules hold", Some(format!("Bearer {admin}"))),
        ("no token in the identity source (`Bearer `, another scheme)", Some("Basic dXNlcjpwYXNz".to_owned())),
        ("invalid token (forged, expired, wrong issuer, …)", Some(format!("Bearer {expired}"))),
        ("authentic token, a `JWT_REQUIRE` rule fails", Some(format!("Bearer {viewer}"))),
        ("malformed event (not JSON, unknown shape)", None),
    ]
}

/// What each column answers for each row, as statuses.
fn observed() -> Vec<(&'static str, Vec<(&'static str, u16)>)> {
    let columns = columns();
    rows()
        .into_iter()
        .map(|(label, authorization)| {
            let cells = columns
                .iter()
                .map(|c| {
                    let event = match &authorization {
                        Some(a) => (c.event)(a),
                        None => "{\"not\": \"an authorizer event\"}".to_owned(),
                    };
                    (c.title, status(c.api, c.simple, &handle(&c.authorizer, &event).json))
                })
                .collect();
            (label, cells)
        })
        .collect()
}

#[test]
fn http_apis_never_get_the_unauthorized_error_for_a_readable_event() {
    for (label, cells) in observed() {
        for (title, status) in cells {
            if title.starts_with("HTTP") && !label.starts_with("malformed") {
                assert_ne!(status, 500, "{title}: {label}");
            }
        }
    }
}

#[test]
fn every_refusal_on_an_http_api_with_iam_is_a_deny_policy() {
    let iam = with_key_a(&[("JWT_RESPONSE_FORMAT", "iam"), ("JWT_REQUIRE", "metadata.role=admin")]);
    let expired = token_a(&claims_with(json!({ "exp": NOW - 60 })));
    let forged = {
        let (h, c, _) = segments(&valid_token());
        let (_, _, s) = segments(&signer("rsa2048-b").sign(&claims(), jwt_authorizer::jwt::header::Alg::RS256, None));
        format!("{h}.{c}.{s}")
    };
    for (authorization, principal) in [
        (format!("Bearer {expired}"), "user_2abc"), // authentic: the principal is its sub
        (format!("Bearer {forged}"), "anonymous"),  // not authentic: no sub is believed
        ("Bearer not.a.jwt".to_owned(), "anonymous"),
        ("Basic dXNlcjpwYXNz".to_owned(), "anonymous"),
    ] {
        let out = handle(&iam, &v2_event(&authorization, true));
        let (p, effect, resource, context) = out.policy();
        assert_eq!(
            (p.as_str(), effect.as_str(), resource.as_str()),
            (principal, "Deny", ROUTE_STAGE),
            "{authorization}"
        );
        assert!(context.is_null() || context == json!({}), "a deny forwards no context: {context}");
        assert!(out.reason.is_some());
    }
    // No token at all (the identity source would normally stop this at API Gateway).
    assert_eq!(handle(&iam, &v2_event_with(json!({}))).policy().1, "Deny");
}

#[test]
fn rest_apis_keep_401_for_authentication_and_403_for_rules() {
    let rest = with_key_a(&[("JWT_REQUIRE", "metadata.role=admin")]);
    let expired = token_a(&claims_with(json!({ "exp": NOW - 60 })));
    assert_eq!(status(Api::Rest, false, &handle(&rest, &token_event(&format!("Bearer {expired}"))).json), 401);
    let viewer = token_a(&claims_with(json!({ "metadata": { "role": "viewer" } })));
    let out = handle(&rest, &request_event(json!({ "Authorization": format!("Bearer {viewer}") })));
    assert_eq!(status(Api::Rest, false, &out.json), 403);
}

/// The README's table ("Status codes a client sees") is what the function does.
#[test]
fn the_readme_table_matches() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let section = readme.split("### Status codes a client sees").nth(1).expect("README section");
    let table: Vec<Vec<String>> = section
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .map(|l| l.trim_matches('|').split('|').map(|c| c.trim().to_owned()).collect())
        .collect();
    let header = &table[0];
    for (label, cells) in observed() {
        let row = table.iter().find(|r| r[0] == label).unwrap_or_else(|| panic!("README row {label:?}"));
        for (title, status) in cells {
            let col = header.iter().position(|h| h == title).unwrap_or_else(|| panic!("README column {title:?}"));
            let cell = &row[col];
            assert!(
                cell.starts_with(&status.to_string()),
                "README says {cell:?} for {title} / {label}; the function gives {status}"
            );
        }
    }
}
