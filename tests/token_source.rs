//! The token comes only from the identity source, which is API Gateway's cache key (issue 8 §2).
//!
//! Events have the shapes AWS documents:
//! - HTTP API payload 2.0 and 1.0: "Control access to HTTP APIs with AWS Lambda authorizers",
//!   <https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-lambda-authorizer.html>
//!   (2.0: `identitySource` is an array of the identity sources' values; 1.0: a string with
//!   the values joined by commas, and `authorizationToken` the same string).
//! - REST TOKEN and REQUEST: "Input to an API Gateway Lambda authorizer",
//!   <https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-input.html>
//!   (REQUEST events carry headers, query string, stage variables and context, but no
//!   `identitySource`).
//!
//! - WebSocket `$connect` REQUEST: "Control access to WebSocket APIs with AWS Lambda REQUEST
//!   authorizers",
//!   <https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-lambda-auth.html>
//!   (`tests/common`'s `connect_event` is its example): headers and query string in both the
//!   single- and multi-value forms, no `identitySource`.
//!
//! Tokens are signed at test time with fixture key A.

mod common;

use common::*;
use jwt_authorizer::Reason;
use serde_json::{Value, json};

/// AWS's payload 2.0 example, with our ARN and `identity_source` as the identity source values.
fn v2(identity_source: Value, extra: Value) -> String {
    let mut e = json!({
        "version": "2.0",
        "type": "REQUEST",
        "routeArn": ROUTE_ARN,
        "identitySource": identity_source,
        "routeKey": "POST /orders/{id}",
        "rawPath": "/prod/orders/7",
        "rawQueryString": "parameter1=value1&parameter1=value2&parameter2=value",
        "cookies": ["cookie1", "cookie2"],
        "headers": { "header1": "value1", "header2": "value2" },
        "queryStringParameters": { "parameter1": "value1,value2", "parameter2": "value" },
        "requestContext": {
            "accountId": "123456789012", "apiId": "abcdef1234", "domainName": "id.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "id",
            "http": { "method": "POST", "path": "/prod/orders/7", "protocol": "HTTP/1.1", "sourceIp": "IP", "userAgent": "agent" },
            "requestId": "id", "routeKey": "POST /orders/{id}", "stage": "prod",
            "time": "12/Mar/2020:19:03:58 +0000", "timeEpoch": 1583348638390u64
        },
        "pathParameters": { "id": "7" },
        "stageVariables": { "stageVariable1": "value1", "stageVariable2": "value2" }
    });
    merge(&mut e, extra);
    e.to_string()
}

/// AWS's payload 1.0 example: `identitySource` and `authorizationToken` are the joined values.
fn v1(joined: &str, extra: Value) -> String {
    let mut e = json!({
        "version": "1.0",
        "type": "REQUEST",
        "methodArn": METHOD_ARN,
        "identitySource": joined,
        "authorizationToken": joined,
        "resource": "/pets/{id}",
        "path": "/pets/42",
        "httpMethod": "GET",
        "headers": { "X-AMZ-Date": "20170718T062915Z", "Accept": "*/*", "HeaderAuth1": "headerValue1", "User-Agent": "..." },
        "queryStringParameters": { "QueryString1": "queryValue1" },
        "pathParameters": {},
        "stageVariables": { "StageVar1": "stageValue1" },
        "requestContext": {
            "path": "/pets/42", "accountId": "123456789012", "resourceId": "05c7jb", "stage": "dev", "requestId": "...",
            "identity": { "apiKey": "...", "sourceIp": "..." }, "resourcePath": "/pets/{id}", "httpMethod": "GET",
            "apiId": "qwerty9876"
        }
    });
    merge(&mut e, extra);
    e.to_string()
}

/// AWS's REST REQUEST example (proxy integration), with `headers` added to its own.
fn rest_request(headers: Value, extra: Value) -> String {
    let mut e = json!({
        "type": "REQUEST",
        "methodArn": METHOD_ARN,
        "resource": "/pets/{id}",
        "path": "/pets/42",
        "httpMethod": "GET",
        "headers": {
            "X-AMZ-Date": "20170718T062915Z", "Accept": "*/*", "HeaderAuth1": "headerValue1",
            "CloudFront-Viewer-Country": "US", "User-Agent": "...", "X-Forwarded-Proto": "https",
            "Host": "qwerty9876.execute-api.us-east-1.amazonaws.com", "cache-control": "no-cache"
        },
        "queryStringParameters": { "QueryString1": "queryValue1" },
        "pathParameters": {},
        "stageVariables": { "StageVar1": "stageValue1" },
        "requestContext": {
            "path": "/pets/42", "accountId": "123456789012", "resourceId": "05c7jb", "stage": "dev", "requestId": "...",
            "identity": { "apiKey": "...", "sourceIp": "..." }, "resourcePath": "/pets/{id}", "httpMethod": "GET",
            "apiId": "qwerty9876"
        }
    });
    merge(&mut e["headers"], headers);
    merge(&mut e, extra);
    e.to_string()
}

/// Sets every member of `extra` on `target` (objects merged one level deep).
fn merge(target: &mut Value, extra: Value) {
    for (k, v) in extra.as_object().cloned().unwrap_or_default() {
        match (target.get_mut(&k), v) {
            (Some(Value::Object(t)), Value::Object(v)) => t.extend(v),
            (_, v) => target[k] = v,
        }
    }
}

/// A valid token for subject `sub` (key A).
fn token_for(sub: &str) -> String {
    token_a(&claims_with(json!({ "sub": sub })))
}

#[test]
fn v2_with_an_authorization_identity_source() {
    let auth = default_authorizer();
    let t = token_for("user_v2");
    // API Gateway also passes the header itself; the identity source is what is read.
    let e = v2(json!([format!("Bearer {t}")]), json!({ "headers": { "authorization": format!("Bearer {t}") } }));
    assert_eq!(handle(&auth, &e).simple_allow(), &json!({ "sub": "user_v2" }));
    let other = token_for("user_other");
    let e = v2(json!([format!("Bearer {t}")]), json!({ "headers": { "authorization": format!("Bearer {other}") } }));
    assert_eq!(handle(&auth, &e).simple_allow()["sub"], "user_v2", "the identity source, not the header");
}

#[test]
fn v2_with_a_cookie_identity_source_and_jwt_token_cookie() {
    let auth = with_key_a(&[("JWT_TOKEN_COOKIE", "__session")]);
    let t = token_for("user_cookie");
    // Identity source `$request.header.Cookie`: the whole Cookie header is the value.
    let cookie = format!("theme=dark; __client_uat=1712345678; __session={t}; other=1");
    let e = v2(
        json!([cookie]),
        json!({ "cookies": ["theme=dark", format!("__session={t}")], "headers": { "cookie": cookie } }),
    );
    assert_eq!(handle(&auth, &e).simple_allow()["sub"], "user_cookie");
    // Without JWT_TOKEN_COOKIE the Cookie header is just a value, and not a credential.
    assert_eq!(handle(&default_authorizer(), &e).simple_deny(), Reason::BadScheme);
    // The cookie must be in the identity source value itself, never read from `cookies`.
    let e = v2(json!(["theme=dark; other=1"]), json!({ "cookies": [format!("__session={t}")] }));
    assert_eq!(handle(&auth, &e).simple_deny(), Reason::MissingToken);
    // The whole Cookie header is never taken as the token, whatever it looks like.
    for value in [format!("__session_abc={t}"), t.clone(), format!("x__session={t}")] {
        assert_eq!(handle(&auth, &v2(json!([value]), json!({}))).simple_deny(), Reason::MissingToken, "{value}");
    }
}

#[test]
fn v2_with_two_identity_sources_authorization_and_route_key() {
    let auth = default_authorizer();
    let t = token_for("user_routes");
    // `$request.header.Authorization, $context.routeKey`, in either order.
    for ids in
        [json!([format!("Bearer {t}"), "POST /orders/{id}"]), json!(["POST /orders/{id}", format!("Bearer {t}")])]
    {
        assert_eq!(handle(&auth, &v2(ids.clone(), json!({}))).simple_allow()["sub"], "user_routes", "{ids}");
    }
    // The first value that holds a credential carries the token: never the route key.
    let other = token_for("user_second");
    let ids = json!(["POST /orders/{id}", format!("Bearer {t}"), format!("Bearer {other}")]);
    assert_eq!(handle(&auth, &v2(ids, json!({}))).simple_allow()["sub"], "user_routes");
    // A cookie and a route key.
    let cookies = with_key_a(&[("JWT_TOKEN_COOKIE", "__session")]);
    let ids = json!(["POST /orders/{id}", format!("a=b; __session={t}")]);
    assert_eq!(handle(&cookies, &v2(ids, json!({}))).simple_allow()["sub"], "user_routes");
}

#[test]
fn v1_reads_the_joined_identity_source() {
    let auth = default_authorizer();
    let t = token_for("user_v1");
    let (principal, effect, resource, _) = handle(&auth, &v1(&format!("Bearer {t}"), json!({}))).policy();
    assert_eq!((principal.as_str(), effect.as_str(), resource.as_str()), ("user_v1", "Allow", METHOD_STAGE));
    // Two identity sources: the header and a query string value, joined by a comma.
    let (principal, ..) = handle(&auth, &v1(&format!("queryValue1,Bearer {t}"), json!({}))).policy();
    assert_eq!(principal, "user_v1");
    // An Authorization header outside the identity source is never read.
    let e = v1("queryValue1", json!({ "headers": { "Authorization": format!("Bearer {t}") } }));
    assert_eq!(handle(&auth, &e).deny_policy(), Reason::Malformed);
}

#[test]
fn rest_token_reads_authorization_token() {
    let auth = default_authorizer();
    let t = token_for("user_token");
    let e =
        json!({ "type": "TOKEN", "authorizationToken": format!("Bearer {t}"), "methodArn": METHOD_ARN }).to_string();
    let (principal, effect, resource, _) = handle(&auth, &e).policy();
    assert_eq!((principal.as_str(), effect.as_str(), resource.as_str()), ("user_token", "Allow", METHOD_STAGE));
}

#[test]
fn rest_request_reads_the_header_named_by_jwt_token_header() {
    let custom = with_key_a(&[("JWT_TOKEN_HEADER", "X-Api-Token")]);
    let t = token_for("user_custom");
    let other = token_for("user_authorization");
    let e = rest_request(
        json!({ "x-api-token": format!("Bearer {t}"), "Authorization": format!("Bearer {other}") }),
        json!({}),
    );
    assert_eq!(handle(&custom, &e).policy().0, "user_custom");
    assert_eq!(handle(&default_authorizer(), &e).policy().0, "user_authorization", "default: Authorization");
    let e = rest_request(json!({ "Authorization": format!("Bearer {other}") }), json!({}));
    assert_eq!(handle(&custom, &e).unauthorized(), Reason::MissingToken);
    // A header given twice is ambiguous (which value API Gateway keyed on is unknown).
    let e = rest_request(
        json!({ "X-Api-Token": format!("Bearer {t}") }),
        json!({ "multiValueHeaders": { "X-Api-Token": [format!("Bearer {other}"), format!("Bearer {t}")] } }),
    );
    assert_eq!(handle(&custom, &e).unauthorized(), Reason::Malformed);
    let e = rest_request(
        json!({ "X-Api-Token": format!("Bearer {t}"), "x-api-token": format!("Bearer {other}") }),
        json!({}),
    );
    assert_eq!(handle(&custom, &e).unauthorized(), Reason::Malformed);
    // `JWT_TOKEN_HEADER=Cookie` with `JWT_TOKEN_COOKIE`: the cookie in that header.
    let cookie = with_key_a(&[("JWT_TOKEN_HEADER", "Cookie"), ("JWT_TOKEN_COOKIE", "__session")]);
    let e = rest_request(json!({ "Cookie": format!("a=1; __session={t}") }), json!({}));
    assert_eq!(handle(&cookie, &e).policy().0, "user_custom");
}

/// A valid token anywhere but the identity source — headers, cookies, query string, path,
/// stage variables, context — is never allowed, with or without `JWT_TOKEN_COOKIE`.
#[test]
fn a_valid_token_outside_the_identity_source_is_never_allowed() {
    let t = token_for("user_planted");
    let bearer = format!("Bearer {t}");
    let cookie = format!("__session={t}");
    let everywhere = json!({
        "headers": { "authorization": bearer, "Authorization": bearer, "cookie": cookie, "x-api-token": bearer },
        "multiValueHeaders": { "Authorization": [bearer], "Cookie": [cookie] },
        "cookies": [cookie],
        "rawQueryString": format!("token={t}&access_token={t}"),
        "queryStringParameters": { "token": t, "access_token": t, "authorization": bearer },
        "multiValueQueryStringParameters": { "token": [t] },
        "pathParameters": { "id": t },
        "stageVariables": { "token": bearer },
        "requestContext": { "authorizer": { "token": bearer } }
    });
    for auth in [default_authorizer(), with_key_a(&[("JWT_TOKEN_COOKIE", "__session")])] {
        // 2.0: identity sources holding no credential (a route key, a junk header), or none.
        for ids in [json!(["POST /orders/{id}"]), json!(["not-a-token"]), json!([]), json!(null)] {
            handle(&auth, &v2(ids, everywhere.clone())).simple_deny();
        }
        let mut no_ids: Value = serde_json::from_str(&v2(json!(null), everywhere.clone())).unwrap();
        no_ids.as_object_mut().unwrap().remove("identitySource");
        assert_eq!(handle(&auth, &no_ids.to_string()).simple_deny(), Reason::MissingToken);
        // 1.0: the same.
        for joined in ["queryValue1", "not-a-token", ""] {
            handle(&auth, &v1(joined, everywhere.clone())).deny_policy();
        }
        // REST TOKEN: only authorizationToken.
        let mut token_event: Value = everywhere.clone();
        token_event["type"] = json!("TOKEN");
        token_event["methodArn"] = json!(METHOD_ARN);
        token_event["authorizationToken"] = json!("");
        assert_eq!(handle(&auth, &token_event.to_string()).unauthorized(), Reason::MissingToken);
    }
    // REST REQUEST with JWT_TOKEN_HEADER=X-Api-Token: every other header is outside the key.
    let custom = with_key_a(&[("JWT_TOKEN_HEADER", "X-Api-Token"), ("JWT_TOKEN_COOKIE", "__session")]);
    let mut rest = everywhere.clone();
    rest["headers"].as_object_mut().unwrap().remove("x-api-token");
    let e = rest_request(json!({}), rest);
    assert_eq!(handle(&custom, &e).unauthorized(), Reason::MissingToken);
}

/// `event` with `value` set at `path` (an edit AWS's example cannot express: a name given
/// twice, forms that disagree).
fn edited(event: &str, path: &[&str], value: Value) -> String {
    let mut e: Value = serde_json::from_str(event).unwrap();
    let mut at = &mut e;
    for p in path {
        at = &mut at[*p];
    }
    *at = value;
    e.to_string()
}

#[test]
fn websocket_connect_reads_the_query_parameter_named_by_jwt_token_query() {
    let query = with_key_a(&[("JWT_TOKEN_QUERY", "token"), ("JWT_CONTEXT_CLAIMS", "metadata")]);
    let t = token_for("user_ws");
    let other = token_for("user_header");
    let e = connect_event(json!({ "Authorization": format!("Bearer {other}") }), json!({ "token": t }));
    let (principal, effect, resource, context) = handle(&query, &e).policy();
    assert_eq!((principal.as_str(), effect.as_str(), resource.as_str()), ("user_ws", "Allow", CONNECT_STAGE));
    assert_eq!(context["sub"], "user_ws");
    // Without JWT_TOKEN_QUERY the query string is never read: the header is the source.
    assert_eq!(handle(&default_authorizer(), &e).policy().0, "user_header");
    let only_query = connect_event(json!({}), json!({ "token": t }));
    assert_eq!(handle(&default_authorizer(), &only_query).unauthorized(), Reason::MissingToken);
    // With it, the header is never read; names are case-sensitive; the value is the token.
    let e = connect_event(json!({ "Authorization": format!("Bearer {other}") }), json!({}));
    assert_eq!(handle(&query, &e).unauthorized(), Reason::MissingToken);
    let e = connect_event(json!({}), json!({ "Token": t }));
    assert_eq!(handle(&query, &e).unauthorized(), Reason::MissingToken);
    let e = connect_event(json!({}), json!({ "token": format!("Bearer {t}") }));
    assert_eq!(handle(&query, &e).unauthorized(), Reason::Malformed);
    let e = connect_event(json!({}), json!({ "token": "" }));
    assert_eq!(handle(&query, &e).unauthorized(), Reason::MissingToken);
    // REST REQUEST events read the same way.
    let e = rest_request(json!({}), json!({ "queryStringParameters": { "token": t } }));
    assert_eq!(handle(&query, &e).policy().0, "user_ws");
}

/// `?token=a&token=b`: API Gateway puts the last value in `queryStringParameters` and both in
/// `multiValueQueryStringParameters`. Which one it checked as the identity source is unknown.
#[test]
fn a_query_parameter_or_header_given_twice_is_refused() {
    let query = with_key_a(&[("JWT_TOKEN_QUERY", "token")]);
    let (a, b) = (token_for("user_a"), token_for("user_b"));
    let e = connect_event(json!({}), json!({ "token": b }));
    assert_eq!(handle(&query, &e).policy().0, "user_b", "the two forms agree");
    let twice = edited(&e, &["multiValueQueryStringParameters", "token"], json!([a, b]));
    assert_eq!(handle(&query, &twice).unauthorized(), Reason::Malformed);
    let disagree = edited(&e, &["multiValueQueryStringParameters", "token"], json!([a]));
    assert_eq!(handle(&query, &disagree).unauthorized(), Reason::Malformed);
    let same_twice = edited(&e, &["multiValueQueryStringParameters", "token"], json!([b, b]));
    assert_eq!(handle(&query, &same_twice).unauthorized(), Reason::Malformed, "given twice, even alike");
    let only_multi = edited(&e, &["queryStringParameters"], json!({}));
    assert_eq!(handle(&query, &only_multi).policy().0, "user_b", "the multi-value form alone");
    let only_multi_twice = edited(&only_multi, &["multiValueQueryStringParameters", "token"], json!([b, a]));
    assert_eq!(handle(&query, &only_multi_twice).unauthorized(), Reason::Malformed);
    // Headers: the same rule (REST REQUEST and WebSocket).
    let e = connect_event(json!({ "Authorization": format!("Bearer {b}") }), json!({}));
    assert_eq!(handle(&default_authorizer(), &e).policy().0, "user_b");
    let disagree = edited(&e, &["multiValueHeaders", "Authorization"], json!([format!("Bearer {a}")]));
    assert_eq!(handle(&default_authorizer(), &disagree).unauthorized(), Reason::Malformed);
    let twice =
        edited(&e, &["multiValueHeaders", "Authorization"], json!([format!("Bearer {a}"), format!("Bearer {b}")]));
    assert_eq!(handle(&default_authorizer(), &twice).unauthorized(), Reason::Malformed);
}

/// `JWT_TOKEN_HEADER=Sec-WebSocket-Protocol`: the client offers `jwt, <token>` (a browser:
/// `new WebSocket(url, ["jwt", token])`); the token is the subprotocol after the marker.
#[test]
fn websocket_connect_reads_the_token_after_the_jwt_subprotocol() {
    let protocol = with_key_a(&[("JWT_TOKEN_HEADER", "Sec-WebSocket-Protocol")]);
    let (a, b) = (token_for("user_a"), token_for("user_b"));
    let offered = |value: String| connect_event(json!({ "Sec-WebSocket-Protocol": value }), json!({}));
    for value in [format!("jwt, {a}"), format!("chat,jwt,{a}"), format!("jwt,{a}, chat.v2")] {
        assert_eq!(handle(&protocol, &offered(value.clone())).policy().0, "user_a", "{value}");
    }
    for (value, reason) in [
        (a.clone(), Reason::MissingToken), // no marker: no token
        (format!("{a}, jwt"), Reason::MissingToken),
        ("jwt".to_owned(), Reason::MissingToken),
        (format!("jwt, {a}, jwt, {b}"), Reason::Malformed), // two candidate tokens
        (format!("jwt, jwt, {a}"), Reason::Malformed),
        (format!("JWT, {a}"), Reason::MissingToken), // subprotocol names compare exactly
        (format!("jwt, Bearer {a}"), Reason::Malformed),
    ] {
        assert_eq!(handle(&protocol, &offered(value.clone())).unauthorized(), reason, "{value}");
    }
    // The header given twice (two header lines: two values in the multi-value form).
    let e = offered(format!("jwt, {a}"));
    let twice = edited(&e, &["multiValueHeaders", "Sec-WebSocket-Protocol"], json!(["chat", format!("jwt, {a}")]));
    assert_eq!(handle(&protocol, &twice).unauthorized(), Reason::Malformed);
    // Only that header: an Authorization header is not read.
    let e = connect_event(json!({ "Authorization": format!("Bearer {a}") }), json!({}));
    assert_eq!(handle(&protocol, &e).unauthorized(), Reason::MissingToken);
}

#[test]
fn jwt_token_query_is_a_parameter_name_and_the_only_source() {
    for (value, var) in [(" ", "JWT_TOKEN_QUERY"), ("to ken", "JWT_TOKEN_QUERY"), ("a=b", "JWT_TOKEN_QUERY")] {
        assert_eq!(load_err(&[("JWT_PUBLIC_KEY", &public_pem("rsa2048-a")), ("JWT_TOKEN_QUERY", value)]).var, var);
    }
    let both = load_err(&[
        ("JWT_PUBLIC_KEY", &public_pem("rsa2048-a")),
        ("JWT_TOKEN_QUERY", "token"),
        ("JWT_TOKEN_HEADER", "Authorization"),
    ]);
    assert_eq!(both.var, "JWT_TOKEN_QUERY");
    assert_eq!(
        load(&[("JWT_PUBLIC_KEY", &public_pem("rsa2048-a")), ("JWT_TOKEN_QUERY", " token ")]).token_query(),
        Some("token")
    );
}

/// WebSocket `$connect`: a valid token anywhere but the configured source — other headers,
/// other query parameters, `Sec-WebSocket-Protocol` not after `jwt`, stage variables,
/// context — is never allowed, whichever source is configured.
#[test]
fn a_valid_token_outside_the_websocket_identity_source_is_never_allowed() {
    let t = token_for("user_planted");
    let bearer = format!("Bearer {t}");
    let headers =
        json!({ "Authorization": bearer, "X-Api-Token": bearer, "Sec-WebSocket-Protocol": format!("chat, {t}") });
    let query = json!({ "Token": t, "access_token": t, "authorization": bearer });
    let mut e: Value = serde_json::from_str(&connect_event(headers, query)).unwrap();
    e["stageVariables"] = json!({ "token": t });
    e["requestContext"]["authorizer"] = json!({ "token": bearer });
    let mut without_authorization = e.clone();
    for form in ["headers", "multiValueHeaders"] {
        without_authorization[form].as_object_mut().unwrap().remove("Authorization");
    }
    let sources = [
        with_key_a(&[("JWT_TOKEN_QUERY", "token")]),
        with_key_a(&[("JWT_TOKEN_HEADER", "Sec-WebSocket-Protocol")]),
        with_key_a(&[("JWT_TOKEN_HEADER", "X-Other")]),
    ];
    for auth in &sources {
        assert_eq!(handle(auth, &e.to_string()).unauthorized(), Reason::MissingToken);
    }
    assert_eq!(handle(&default_authorizer(), &without_authorization.to_string()).unauthorized(), Reason::MissingToken);
}
