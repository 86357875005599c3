//! Shared helpers for the integration tests: committed fixture keys, tokens signed at
//! test time with `jwt_authorizer::jwt::mint::Signer`, a fixed clock, and event builders.
//!
//! Nothing here reads the clock: every decision is taken at [`NOW`].
#![allow(dead_code)] // each test crate uses a different subset

pub mod jwks_server;
pub mod runtime_api;

use jwt_authorizer::config::{self, ConfigError};
use jwt_authorizer::jwt::header::Alg;
use jwt_authorizer::jwt::mint::Signer;
use jwt_authorizer::{Authorizer, Reason, Scratch};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::PathBuf;

/// The fixed "current time" every library-level test decides at (2027-01-15).
pub const NOW: u64 = 1_800_000_000;

/// An execute-api method ARN (REST) and route ARN (HTTP API), and their stage wildcards.
pub const METHOD_ARN: &str = "arn:aws:execute-api:us-east-1:123456789012:qwerty9876/dev/GET/pets/42";
pub const METHOD_STAGE: &str = "arn:aws:execute-api:us-east-1:123456789012:qwerty9876/dev/*";
pub const ROUTE_ARN: &str = "arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/prod/POST/orders/7";
pub const ROUTE_STAGE: &str = "arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/prod/*";

pub fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests").join("fixtures")
}

/// The text of a committed fixture file.
pub fn fixture(name: &str) -> String {
    let path = fixtures_dir().join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The signer for fixture key `name` ("rsa2048-a", "rsa2048-b", "rsa3072-c", "rsa1024").
pub fn signer(name: &str) -> Signer {
    Signer::from_pkcs8(fixture(&format!("{name}.key.pem")).as_bytes()).expect("fixture private key")
}

/// SPKI PEM public key of fixture `name`.
pub fn public_pem(name: &str) -> String {
    fixture(&format!("{name}.pub.pem"))
}

/// An environment lookup over fixed pairs (what `config::load` takes).
pub fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    move |name: &str| map.get(name).cloned()
}

/// Loads a configuration from `pairs`, panicking with the error if it is refused.
pub fn load(pairs: &[(&str, &str)]) -> Authorizer {
    match config::load(env_of(pairs)) {
        Ok(loaded) => loaded.authorizer,
        Err(e) => panic!("configuration {pairs:?} refused: {e}"),
    }
}

/// The configuration error for `pairs` (panics if the configuration loads).
pub fn load_err(pairs: &[(&str, &str)]) -> ConfigError {
    match config::load(env_of(pairs)) {
        Ok(_) => panic!("configuration {pairs:?} was accepted"),
        Err(e) => e,
    }
}

/// Key A as `JWT_PUBLIC_KEY`, plus `extra` settings.
pub fn with_key_a(extra: &[(&'static str, &'static str)]) -> Authorizer {
    let pem = public_pem("rsa2048-a");
    let mut pairs: Vec<(&str, &str)> = vec![("JWT_PUBLIC_KEY", &pem)];
    pairs.extend_from_slice(extra);
    load(&pairs)
}

/// The default authorizer: key A, everything else default.
pub fn default_authorizer() -> Authorizer {
    with_key_a(&[])
}

/// Claims that pass the default policy at [`NOW`].
pub fn claims() -> Value {
    json!({ "sub": "user_2abc", "iat": NOW - 10, "nbf": NOW - 10, "exp": NOW + 50 })
}

/// `claims()` with `extra` members merged in (a `null` removes the member).
pub fn claims_with(extra: Value) -> Value {
    let mut c = claims();
    let obj = c.as_object_mut().unwrap();
    for (k, v) in extra.as_object().expect("extra claims must be an object") {
        if v.is_null() {
            obj.remove(k);
        } else {
            obj.insert(k.clone(), v.clone());
        }
    }
    c
}

/// A token for `claims`, RS256, key A, no `kid`.
pub fn token_a(claims: &Value) -> String {
    signer("rsa2048-a").sign(claims, Alg::RS256, None)
}

/// A valid default token (key A, RS256).
pub fn valid_token() -> String {
    token_a(&claims())
}

/// Decides `token` at [`NOW`] with fresh scratch buffers; the reason on deny.
pub fn decide(auth: &Authorizer, token: &str) -> Result<(), Reason> {
    auth.decide(token.as_bytes(), NOW, &mut Scratch::default()).map_err(|d| d.reason)
}

/// The three segments of a compact token.
pub fn segments(token: &str) -> (String, String, String) {
    let mut it = token.split('.').map(str::to_owned);
    let parts = (it.next().unwrap(), it.next().unwrap(), it.next().unwrap());
    assert!(it.next().is_none(), "expected three segments");
    parts
}

pub fn b64(bytes: &[u8]) -> String {
    jwt_authorizer::jwt::b64::encode(bytes)
}

pub fn unb64(s: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s).expect("canonical base64url")
}

/// An HTTP API payload 2.0 REQUEST event whose `authorization` header is `authorization`
/// (and `identitySource` too when `identity_source`).
pub fn v2_event(authorization: &str, identity_source: bool) -> String {
    let ids = if identity_source { json!([authorization]) } else { Value::Null };
    json!({
        "version": "2.0",
        "type": "REQUEST",
        "routeArn": ROUTE_ARN,
        "identitySource": ids,
        "routeKey": "POST /orders/{id}",
        "rawPath": "/prod/orders/7",
        "rawQueryString": "",
        "headers": { "authorization": authorization, "host": "abcdef1234.execute-api.eu-west-1.amazonaws.com" },
        "requestContext": { "accountId": "123456789012", "apiId": "abcdef1234", "stage": "prod",
            "http": { "method": "POST", "path": "/prod/orders/7" } }
    })
    .to_string()
}

/// A 2.0 event built from `extra` members on top of version, type and routeArn.
pub fn v2_event_with(extra: Value) -> String {
    let mut e = json!({ "version": "2.0", "type": "REQUEST", "routeArn": ROUTE_ARN, "headers": {} });
    for (k, v) in extra.as_object().unwrap() {
        e[k] = v.clone();
    }
    e.to_string()
}

/// A REST TOKEN authorizer event.
pub fn token_event(authorization: &str) -> String {
    json!({ "type": "TOKEN", "authorizationToken": authorization, "methodArn": METHOD_ARN }).to_string()
}

/// A REST REQUEST authorizer event with the given headers.
pub fn request_event(headers: Value) -> String {
    json!({
        "type": "REQUEST",
        "methodArn": METHOD_ARN,
        "resource": "/pets/{id}",
        "path": "/pets/42",
        "httpMethod": "GET",
        "headers": headers,
        "requestContext": { "accountId": "123456789012", "apiId": "qwerty9876", "stage": "dev" }
    })
    .to_string()
}

/// The `methodArn` of AWS's WebSocket `$connect` example, and the stage its policies cover.
pub const CONNECT_ARN: &str = "arn:aws:execute-api:us-east-1:123456789012:abcdef123/default/$connect";
pub const CONNECT_STAGE: &str = "arn:aws:execute-api:us-east-1:123456789012:abcdef123/default/*";

/// AWS's example input to a WebSocket API's REQUEST authorizer on `$connect`, copied from
/// "Control access to WebSocket APIs with AWS Lambda REQUEST authorizers"
/// (https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-lambda-auth.html),
/// with `headers` and `query` added to its own, in both the single- and the multi-value form
/// as API Gateway sends them (a string value `v` is `[v]` in the multi-value form).
pub fn connect_event(headers: Value, query: Value) -> String {
    let mut e = json!({
        "type": "REQUEST",
        "methodArn": CONNECT_ARN,
        "headers": {
            "Connection": "upgrade", "content-length": "0", "HeaderAuth1": "headerValue1",
            "Host": "abcdef123.execute-api.us-east-1.amazonaws.com",
            "Sec-WebSocket-Extensions": "permessage-deflate; client_max_window_bits", "Sec-WebSocket-Key": "...",
            "Sec-WebSocket-Version": "13", "Upgrade": "websocket", "X-Amzn-Trace-Id": "...",
            "X-Forwarded-For": "...", "X-Forwarded-Port": "443", "X-Forwarded-Proto": "https"
        },
        "multiValueHeaders": {
            "Connection": ["upgrade"], "content-length": ["0"], "HeaderAuth1": ["headerValue1"],
            "Host": ["abcdef123.execute-api.us-east-1.amazonaws.com"],
            "Sec-WebSocket-Extensions": ["permessage-deflate; client_max_window_bits"], "Sec-WebSocket-Key": ["..."],
            "Sec-WebSocket-Version": ["13"], "Upgrade": ["websocket"], "X-Amzn-Trace-Id": ["..."],
            "X-Forwarded-For": ["..."], "X-Forwarded-Port": ["443"], "X-Forwarded-Proto": ["https"]
        },
        "queryStringParameters": { "QueryString1": "queryValue1" },
        "multiValueQueryStringParameters": { "QueryString1": ["queryValue1"] },
        "stageVariables": {},
        "requestContext": {
            "routeKey": "$connect", "eventType": "CONNECT", "extendedRequestId": "...",
            "requestTime": "19/Jan/2023:21:13:26 +0000", "messageDirection": "IN", "stage": "default",
            "connectedAt": 1674162806344u64, "requestTimeEpoch": 1674162806345u64, "identity": { "sourceIp": "..." },
            "requestId": "...", "domainName": "abcdef123.execute-api.us-east-1.amazonaws.com", "connectionId": "...",
            "apiId": "abcdef123"
        }
    });
    for (single, multi, extra) in
        [("headers", "multiValueHeaders", headers), ("queryStringParameters", "multiValueQueryStringParameters", query)]
    {
        for (k, v) in extra.as_object().cloned().unwrap_or_default() {
            e[multi][&k] = if v.is_string() { json!([v.clone()]) } else { v.clone() };
            e[single][&k] = v;
        }
    }
    e.to_string()
}

/// What an event got: the response JSON (`None` = the `Unauthorized` error) and the reason.
#[derive(Debug)]
pub struct Outcome {
    pub json: Option<Value>,
    pub reason: Option<Reason>,
}

impl Outcome {
    /// A v2 simple response that allows; returns its context.
    pub fn simple_allow(&self) -> &Value {
        let json = self.json.as_ref().expect("a response body");
        assert_eq!(self.reason, None, "{json}");
        assert_eq!(json["isAuthorized"], true, "{json}");
        &json["context"]
    }

    /// A v2 simple deny: exactly `{"isAuthorized":false}`; returns the reason.
    pub fn simple_deny(&self) -> Reason {
        assert_eq!(self.json, Some(json!({ "isAuthorized": false })));
        self.reason.expect("a deny carries a reason")
    }

    /// The `Unauthorized` error (HTTP 401); returns the reason.
    pub fn unauthorized(&self) -> Reason {
        assert_eq!(self.json, None, "expected the Unauthorized error");
        self.reason.expect("a deny carries a reason")
    }

    /// An IAM `Deny` policy (HTTP 403: how HTTP APIs answered with policies refuse); returns
    /// the reason.
    pub fn deny_policy(&self) -> Reason {
        assert_eq!(self.policy().1, "Deny");
        self.reason.expect("a deny carries a reason")
    }

    /// An IAM policy with one statement; returns (principalId, effect, resource, context).
    pub fn policy(&self) -> (String, String, String, Value) {
        let json = self.json.as_ref().expect("a policy document");
        assert_eq!(json["policyDocument"]["Version"], "2012-10-17", "{json}");
        let statements = json["policyDocument"]["Statement"].as_array().expect("statements");
        assert_eq!(statements.len(), 1, "{json}");
        let s = &statements[0];
        let one = |v: &Value| match v {
            Value::String(s) => s.clone(),
            Value::Array(a) if a.len() == 1 => a[0].as_str().unwrap().to_owned(),
            other => panic!("unexpected {other}"),
        };
        assert_eq!(one(&s["Action"]), "execute-api:Invoke");
        (
            json["principalId"].as_str().expect("principalId").to_owned(),
            s["Effect"].as_str().unwrap().to_owned(),
            one(&s["Resource"]),
            json.get("context").cloned().unwrap_or(Value::Null),
        )
    }
}

/// Handles raw `event` bytes at [`NOW`].
pub fn handle_bytes(auth: &Authorizer, event: &[u8], scratch: &mut Scratch) -> Outcome {
    let handled = auth.handle(event, NOW, scratch);
    let json = handled.response.to_json().map(|s| serde_json::from_str(&s).expect("responses are JSON"));
    // Consistency between the two views of the outcome.
    assert_eq!(handled.denial.is_none(), handled.response.allows(), "denial vs response: {json:?}");
    Outcome { json, reason: handled.denial.map(|d| d.reason) }
}

pub fn handle(auth: &Authorizer, event: &str) -> Outcome {
    handle_bytes(auth, event.as_bytes(), &mut Scratch::default())
}

/// An RS256 signature (base64url) by fixture key `name` over `signing_input` exactly as
/// given — for tokens whose segments `Signer` would never encode (non-canonical base64).
pub fn rs256_over(name: &str, signing_input: &str) -> String {
    use base64::Engine as _;
    let pem = fixture(&format!("{name}.key.pem"));
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = base64::engine::general_purpose::STANDARD.decode(body).expect("PEM body");
    let pair = ring::signature::RsaKeyPair::from_pkcs8(&der).expect("PKCS#8 RSA key");
    let mut sig = vec![0; pair.public().modulus_len()];
    pair.sign(&ring::signature::RSA_PKCS1_SHA256, &ring::rand::SystemRandom::new(), signing_input.as_bytes(), &mut sig)
        .expect("sign");
    b64(&sig)
}

/// `header.claims` (already encoded, used verbatim) signed with key A.
pub fn signed_segments(header: &str, claims: &str) -> String {
    format!("{header}.{claims}.{}", rs256_over("rsa2048-a", &format!("{header}.{claims}")))
}
