//! Responses API Gateway understands: HTTP API simple responses and IAM policies.
//!
//! Built with `aws_lambda_events` types. Context claims keep their JSON type in simple
//! responses; IAM contexts only carry strings, numbers and booleans, so arrays and objects
//! are forwarded as JSON text there.

use crate::jwt::json::Value;
use crate::jwt::path;
use aws_lambda_events::apigw::{
    ApiGatewayCustomAuthorizerPolicy, ApiGatewayCustomAuthorizerResponse, ApiGatewayV2CustomAuthorizerSimpleResponse,
};
use aws_lambda_events::iam::{IamPolicyEffect, IamPolicyStatement};
use serde_json::Map;

/// How HTTP API (2.0) events are answered (`JWT_RESPONSE_FORMAT`). REST events always get IAM.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    /// `{"isAuthorized": bool, "context": {...}}` (`EnableSimpleResponses: true`).
    #[default]
    Simple,
    /// An IAM policy, for HTTP APIs configured without simple responses.
    Iam,
}

/// One forwarded claim: `key=path`, or `path` alone (the key is then
/// [`Path::default_key`](crate::jwt::path::Path::default_key): `metadata.role` → `metadata_role`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContextClaim {
    pub key: String,
    pub path: Vec<String>,
}

impl ContextClaim {
    pub fn parse(text: &str) -> Result<ContextClaim, &'static str> {
        let (key, path) = match path::split_once_unquoted(text, '=')? {
            Some((key, path)) => (Some(key.trim()), path::parse(path)?),
            None => (None, path::parse(text)?),
        };
        let key = key.map_or(path.default_key, str::to_owned);
        if key.is_empty() {
            return Err("a context claim has an empty key");
        }
        Ok(ContextClaim { key, path: path.segments })
    }
}

/// What the function answers.
#[derive(Clone, Debug, PartialEq)]
pub enum Response {
    Simple(ApiGatewayV2CustomAuthorizerSimpleResponse),
    Policy(ApiGatewayCustomAuthorizerResponse),
    /// The invocation fails with the error message `Unauthorized`: a 401 on REST APIs. An
    /// HTTP API documents no such mapping (it answers 500 to a function error), so HTTP API
    /// events are refused with a `Deny` policy instead (see `Authorizer::answer`).
    Unauthorized,
}

impl Response {
    /// Simple response; `context` is omitted on deny.
    pub fn simple(authorized: bool, context: Map<String, serde_json::Value>) -> Response {
        let mut r = ApiGatewayV2CustomAuthorizerSimpleResponse::default();
        r.is_authorized = authorized;
        r.context = serde_json::Value::Object(context);
        Response::Simple(r)
    }

    /// IAM policy for `principal` with one `execute-api:Invoke` statement on `resource`.
    pub fn policy(principal: &str, allow: bool, resource: String, context: Map<String, serde_json::Value>) -> Response {
        let mut statement = IamPolicyStatement::default();
        statement.action = vec!["execute-api:Invoke".to_owned()];
        statement.effect = if allow { IamPolicyEffect::Allow } else { IamPolicyEffect::Deny };
        statement.resource = vec![resource];
        let mut doc = ApiGatewayCustomAuthorizerPolicy::default();
        doc.version = Some("2012-10-17".to_owned());
        doc.statement = vec![statement];
        let mut r = ApiGatewayCustomAuthorizerResponse::default();
        r.principal_id = Some(principal.to_owned());
        r.policy_document = doc;
        r.context = serde_json::Value::Object(context);
        Response::Policy(r)
    }

    /// True only for an allowing answer.
    pub fn allows(&self) -> bool {
        match self {
            Response::Simple(r) => r.is_authorized,
            Response::Policy(r) => r.policy_document.statement.iter().all(|s| s.effect == IamPolicyEffect::Allow),
            Response::Unauthorized => false,
        }
    }

    /// The JSON the function returns, or `None` for the `Unauthorized` error.
    pub fn to_json(&self) -> Option<String> {
        let json = match self {
            Response::Simple(r) if r.is_authorized => serde_json::to_string(r),
            Response::Simple(_) => Ok(r#"{"isAuthorized":false}"#.to_owned()),
            Response::Policy(r) => serde_json::to_value(r).and_then(|mut v| {
                // `usageIdentifierKey` is only for usage plans; omit it rather than send null.
                if let Some(o) = v.as_object_mut() {
                    o.remove("usageIdentifierKey");
                }
                serde_json::to_string(&v)
            }),
            Response::Unauthorized => return None,
        };
        // Serializing these types cannot fail (string keys, finite numbers); deny if it did.
        Some(json.unwrap_or_else(|_| r#"{"isAuthorized":false}"#.to_owned()))
    }
}

/// Context keys API Gateway reserves: it fills these `$context.authorizer.*` variables itself,
/// so a claim forwarded under one of these names would be shadowed or misread. Each comes with
/// the (static) configuration error that names it.
///
/// - HTTP APIs: `claims` (JWT authorizers' claims; "Calling `$context.authorizer.claims`
///   returns null"), `error`, `principalId`
///   (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-logging-variables.html).
/// - REST APIs: `claims`, `principalId`, and the authorizer's own `error`,
///   `integrationLatency`, `integrationStatus`, `latency`, `requestId`, `status`
///   (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-variables-for-access-logging.html).
pub const RESERVED_CONTEXT_KEYS: [(&str, &str); 8] = [
    ("claims", "the context key claims is reserved by API Gateway ($context.authorizer.claims)"),
    ("principalId", "the context key principalId is reserved by API Gateway ($context.authorizer.principalId)"),
    ("error", "the context key error is reserved by API Gateway ($context.authorizer.error)"),
    (
        "integrationLatency",
        "the context key integrationLatency is reserved by API Gateway ($context.authorizer.integrationLatency)",
    ),
    (
        "integrationStatus",
        "the context key integrationStatus is reserved by API Gateway ($context.authorizer.integrationStatus)",
    ),
    ("latency", "the context key latency is reserved by API Gateway ($context.authorizer.latency)"),
    ("requestId", "the context key requestId is reserved by API Gateway ($context.authorizer.requestId)"),
    ("status", "the context key status is reserved by API Gateway ($context.authorizer.status)"),
];

/// The largest answer the function gives: 8 KB, the "AWS Lambda authorizer result size" quota,
/// the only size AWS documents for an authorizer's answer (in its WebSocket API table; the REST
/// and HTTP API tables name none), so the safe bound for all of them
/// (https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html).
pub const MAX_RESPONSE_BYTES: usize = 8192;
/// What an answer holds besides the context and `principalId`: at most 1 KB, since the policy
/// document is ~170 bytes around one resource ARN, which AWS limits to 512 characters
/// (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-output.html).
pub const RESPONSE_ENVELOPE_BYTES: usize = 1024;

/// Counts the bytes a serializer writes (no allocation).
struct Counter(usize);

impl std::io::Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 = self.0.saturating_add(buf.len());
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The length of `v` serialized as JSON.
pub fn json_len(v: &(impl serde::Serialize + ?Sized)) -> usize {
    let mut c = Counter(0);
    // Serializing strings, numbers and maps of them cannot fail; if it did, count it as too big.
    serde_json::to_writer(&mut c, v).map_or(usize::MAX, |()| c.0)
}

/// The context forwarded on allow: `sub`, then each configured claim that is present.
/// `flatten` (IAM) turns arrays and objects into JSON text and drops nulls.
///
/// Bounded: the whole answer (context, `principalId` = `sub`, and the rest) stays within
/// [`MAX_RESPONSE_BYTES`]. A claim that would break that bound is dropped and its key (never
/// its value) pushed on `dropped`, for the caller to log ([`dropped_warning`]); later,
/// smaller claims may still fit. `sub` is always forwarded.
pub fn context(
    claims: Value<'_, '_>,
    sub: &str,
    wanted: &[ContextClaim],
    flatten: bool,
    dropped: &mut Vec<String>,
) -> Map<String, serde_json::Value> {
    let mut map = Map::new();
    map.insert("sub".to_owned(), sub.into());
    // `{"sub":…}` now, and `principalId` beside it in a policy.
    let budget = (MAX_RESPONSE_BYTES - RESPONSE_ENVELOPE_BYTES).saturating_sub(json_len(sub));
    let mut size = json_len(&map);
    for c in wanted {
        let Some(v) = claims.pointer(c.path.iter().map(String::as_str)) else { continue };
        let value = if flatten && (v.is_object() || v.is_array()) {
            serde_json::to_string(&v).map(serde_json::Value::String)
        } else {
            serde_json::to_value(v)
        };
        match value {
            Ok(serde_json::Value::Null) if flatten => {}
            Ok(value) => {
                // `,"key":value`
                let grown = size.saturating_add(json_len(&c.key)).saturating_add(json_len(&value)).saturating_add(2);
                if grown > budget {
                    dropped.push(c.key.clone());
                    continue;
                }
                size = grown;
                map.insert(c.key.clone(), value);
            }
            Err(_) => {} // unrepresentable (non-finite); JSON input cannot produce one
        }
    }
    map
}

/// The WARN line for a context claim left out: it names the key (configuration, never token
/// data) and the limit, never the claim's value.
pub fn dropped_warning(key: &str) -> String {
    format!(
        "JWT_CONTEXT_CLAIMS: claim {key:?} not forwarded: the authorizer response would exceed \
         {MAX_RESPONSE_BYTES} bytes"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jwt::json::{PADDING, Parser};

    fn ctx(claims: &str, wanted: &[&str], flatten: bool) -> serde_json::Value {
        let wanted: Vec<_> = wanted.iter().map(|w| ContextClaim::parse(w).unwrap()).collect();
        let mut buf = claims.as_bytes().to_vec();
        let len = buf.len();
        buf.resize(len + PADDING, 0);
        Parser::with_capacity(64)
            .parse(&mut buf, len, |v| serde_json::Value::Object(context(v, "u1", &wanted, flatten, &mut Vec::new())))
            .unwrap()
    }

    #[test]
    fn a_claim_that_would_overflow_the_answer_is_dropped_and_its_key_reported() {
        let big = "x".repeat(MAX_RESPONSE_BYTES);
        let claims = format!(r#"{{"sub":"u1","bio":"{big}","email":"a@b.c"}}"#);
        let wanted: Vec<_> = ["bio", "email"].iter().map(|w| ContextClaim::parse(w).unwrap()).collect();
        let mut buf = claims.as_bytes().to_vec();
        let len = buf.len();
        buf.resize(len + PADDING, 0);
        let mut dropped = Vec::new();
        let map =
            Parser::with_capacity(64).parse(&mut buf, len, |v| context(v, "u1", &wanted, false, &mut dropped)).unwrap();
        assert_eq!(dropped, ["bio"], "the key, never the value");
        assert!(map.get("bio").is_none() && map["email"] == "a@b.c", "later, smaller claims still fit");
    }

    #[test]
    fn context_keeps_types_in_simple_and_flattens_for_iam() {
        let claims =
            r#"{"sub":"u1","email":"a@b.c","metadata":{"role":"admin","tags":["x",1]},"n":3,"ok":true,"z":null}"#;
        let wanted = ["email", "metadata.role", "tags=metadata.tags", "n", "ok", "meta=metadata", "z", "absent"];
        assert_eq!(
            ctx(claims, &wanted, false).to_string(),
            r#"{"email":"a@b.c","meta":{"role":"admin","tags":["x",1]},"metadata_role":"admin","n":3,"ok":true,"sub":"u1","tags":["x",1],"z":null}"#
        );
        assert_eq!(
            ctx(claims, &wanted, true).to_string(),
            r#"{"email":"a@b.c","meta":"{\"role\":\"admin\",\"tags\":[\"x\",1]}","metadata_role":"admin","n":3,"ok":true,"sub":"u1","tags":"[\"x\",1]"}"#
        );
    }

    #[test]
    fn context_claim_syntax() {
        assert_eq!(ContextClaim::parse("metadata.role").unwrap().key, "metadata_role");
        assert_eq!(ContextClaim::parse("role=metadata.role").unwrap().path, vec!["metadata", "role"]);
        let auth0 = ContextClaim::parse(r#""https://example.com/roles""#).unwrap();
        assert_eq!(
            (auth0.key.as_str(), auth0.path.as_slice()),
            ("roles", &["https://example.com/roles".to_owned()][..])
        );
        assert_eq!(ContextClaim::parse(r#"r="https://example.com/roles""#).unwrap().key, "r");
        for bad in ["", "=a", "a=", "a..b", "k=.a", "a=b=c", r#"k="x"#] {
            assert!(ContextClaim::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn shapes() {
        assert_eq!(Response::simple(false, Map::new()).to_json().unwrap(), r#"{"isAuthorized":false}"#);
        let allow = Response::simple(true, Map::from_iter([("sub".to_owned(), "u".into())]));
        assert_eq!(allow.to_json().unwrap(), r#"{"isAuthorized":true,"context":{"sub":"u"}}"#);
        assert!(allow.allows());
        let p = Response::policy("u", true, "arn:aws:execute-api:r:1:a/s/*".into(), Map::new());
        let v: serde_json::Value = serde_json::from_str(&p.to_json().unwrap()).unwrap();
        assert_eq!(v["principalId"], "u");
        assert_eq!(v["policyDocument"]["Version"], "2012-10-17");
        assert_eq!(v["policyDocument"]["Statement"][0]["Action"][0], "execute-api:Invoke");
        assert_eq!(v["policyDocument"]["Statement"][0]["Effect"], "Allow");
        assert_eq!(v["policyDocument"]["Statement"][0]["Resource"][0], "arn:aws:execute-api:r:1:a/s/*");
        assert!(!Response::policy("u", false, "r".into(), Map::new()).allows());
        assert_eq!(Response::Unauthorized.to_json(), None);
    }
}
