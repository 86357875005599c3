//! Authorizer events: which flavour, where the token is, which resource is asked for.
//!
//! Works on the raw event parsed in place (never deserialized into owned structs).
//! - HTTP API payload 2.0 REQUEST: `identitySource[0]`, else `headers.authorization`,
//!   else the configured cookie (`cookies`, then a `cookie` header).
//! - REST TOKEN: `authorizationToken`.
//! - REST / payload 1.0 REQUEST: the `Authorization` header, else `identitySource`,
//!   else the configured cookie from the `Cookie` header.

use crate::json::Value;
use crate::reason::Reason;

/// The flavour of an authorizer event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// HTTP API, payload format 2.0 (answers a simple response unless configured `iam`).
    HttpV2,
    /// REST API TOKEN authorizer (answers an IAM policy).
    Token,
    /// REST API or payload 1.0 REQUEST authorizer (answers an IAM policy).
    Request,
}

/// What an event asks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Request<'b> {
    pub kind: Kind,
    /// The bare token (scheme stripped), or why there is none.
    pub token: Result<&'b str, Reason>,
    /// `routeArn` (2.0) or `methodArn` (REST / 1.0), if present.
    pub arn: Option<&'b str>,
}

/// Reads the event. `Err(BadEvent)` when it is not an authorizer event we know.
pub fn read<'b>(event: Value<'_, 'b>, cookie: Option<&str>) -> Result<Request<'b>, Reason> {
    let field = |name: &str| event.get(name).and_then(|v| v.as_str());
    let kind = if field("version") == Some("2.0") {
        Kind::HttpV2
    } else {
        match field("type") {
            Some("TOKEN") => Kind::Token,
            Some("REQUEST") => Kind::Request,
            _ => return Err(Reason::BadEvent),
        }
    };
    let headers = event.get("headers");
    let header = |name: &str| headers.and_then(|h| header_value(h, name));
    let raw = match kind {
        Kind::HttpV2 => identity_source(event)
            .or_else(|| header("authorization"))
            .or_else(|| cookie.and_then(|c| v2_cookie(event, c).or_else(|| cookie_in(header("cookie")?, c)))),
        Kind::Token => field("authorizationToken").filter(|t| !t.is_empty()),
        Kind::Request => header("authorization")
            .or_else(|| identity_source(event))
            .or_else(|| cookie.and_then(|c| cookie_in(header("cookie")?, c))),
    };
    let token = raw.ok_or(Reason::MissingToken).and_then(bearer);
    let arn = match kind {
        Kind::HttpV2 => field("routeArn"),
        Kind::Token | Kind::Request => field("methodArn"),
    };
    Ok(Request { kind, token, arn })
}

/// First non-empty entry of `identitySource`: an array (2.0) or a comma-separated string (1.0).
fn identity_source<'b>(event: Value<'_, 'b>) -> Option<&'b str> {
    let src = event.get("identitySource")?;
    if let Some(s) = src.as_str() {
        return s.split(',').map(str::trim).find(|s| !s.is_empty());
    }
    src.elements().filter_map(|v| v.as_str()).find(|s| !s.trim().is_empty())
}

/// A header's value; names compare case-insensitively (RFC 9110 §5.1).
fn header_value<'b>(headers: Value<'_, 'b>, name: &str) -> Option<&'b str> {
    headers
        .members()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| v.as_str())
        .filter(|v| !v.trim().is_empty())
}

/// Payload 2.0 carries cookies as an array of `name=value` strings.
fn v2_cookie<'b>(event: Value<'_, 'b>, name: &str) -> Option<&'b str> {
    event.get("cookies")?.elements().filter_map(|c| c.as_str()).find_map(|c| cookie_in(c, name))
}

/// The value of cookie `name` in a `Cookie` header (`a=1; b=2`, RFC 6265 §4.2).
fn cookie_in<'b>(header: &'b str, name: &str) -> Option<&'b str> {
    header.split(';').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        let v = v.trim();
        let v = v.strip_prefix('"').and_then(|v| v.strip_suffix('"')).unwrap_or(v);
        (k.trim() == name && !v.is_empty()).then_some(v)
    })
}

/// `Bearer <token>` (scheme case-insensitive, RFC 6750 §2.1) or a bare token.
/// Any other scheme is refused.
pub fn bearer(value: &str) -> Result<&str, Reason> {
    let value = value.trim();
    match value.split_once(|c: char| c.is_ascii_whitespace()) {
        None if value.is_empty() => Err(Reason::MissingToken),
        None => Ok(value),
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => {
            let token = rest.trim();
            match token {
                "" => Err(Reason::MissingToken),
                // Bytewise and branch-free, so it vectorizes (a `char` scan of a 1 KB token
                // costs ~6k instructions); ASCII whitespace is never part of a longer UTF-8 char.
                t if t.bytes().fold(false, |ws, b| ws | b.is_ascii_whitespace()) => Err(Reason::Malformed),
                t => Ok(t),
            }
        }
        Some(_) => Err(Reason::BadScheme),
    }
}

/// The IAM resource an Allow/Deny covers: every method and path of the stage,
/// `arn:…:execute-api:region:account:api-id/stage/*`, so a cached policy does not break
/// sibling routes. `None` when the ARN is not an execute-api method/route ARN.
pub fn stage_wildcard(arn: &str) -> Option<String> {
    let mut fields = arn.splitn(6, ':');
    let (arn_, partition, service, region, account, rest) =
        (fields.next()?, fields.next()?, fields.next()?, fields.next()?, fields.next()?, fields.next()?);
    if arn_ != "arn" || service != "execute-api" || [partition, region, account].iter().any(|f| f.is_empty()) {
        return None;
    }
    let mut path = rest.splitn(3, '/');
    let (api, stage) = (path.next()?, path.next()?);
    if api.is_empty() || stage.is_empty() || api.contains('*') || stage.contains('*') {
        return None;
    }
    Some(format!("arn:{partition}:execute-api:{region}:{account}:{api}/{stage}/*"))
}

/// Whether the event comes from an HTTP API: its payloads (2.0 and 1.0) carry `version`
/// ("Working with AWS Lambda authorizers for HTTP APIs",
/// https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-lambda-authorizer.html);
/// REST TOKEN and REQUEST events never do ("Input to an API Gateway Lambda authorizer",
/// https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-input.html).
pub fn from_http_api(event: Value<'_, '_>) -> bool {
    event.get("version").is_some_and(|v| v.as_str().is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::{PADDING, Parser};

    /// An owned copy of what `read` returns: kind, token (or why none), ARN.
    type Owned = (Kind, Result<String, Reason>, Option<String>);

    fn read_owned(json: &str, cookie: Option<&str>) -> Result<Owned, Reason> {
        let mut buf = json.as_bytes().to_vec();
        let len = buf.len();
        buf.resize(len + PADDING, 0);
        Parser::with_capacity(64)
            .parse(&mut buf, len, |v| {
                read(v, cookie).map(|r| (r.kind, r.token.map(String::from), r.arn.map(String::from)))
            })
            .and_then(|r| r)
    }

    #[test]
    fn bearer_rules() {
        assert_eq!(bearer("Bearer abc"), Ok("abc"));
        assert_eq!(bearer("bearer   abc "), Ok("abc"));
        assert_eq!(bearer("BEARER\tabc"), Ok("abc"));
        assert_eq!(bearer("abc"), Ok("abc"));
        assert_eq!(bearer("Basic dXNlcjpwYXNz"), Err(Reason::BadScheme));
        assert_eq!(bearer("Bearer"), Ok("Bearer"), "a bare token that happens to read Bearer; fails later");
        assert_eq!(bearer("Bearer "), Ok("Bearer"));
        assert_eq!(bearer("   "), Err(Reason::MissingToken));
        assert_eq!(bearer("Bearer a b"), Err(Reason::Malformed));
    }

    #[test]
    fn v2_sources_in_order() {
        let arn = "arn:aws:execute-api:us-east-1:123456789012:abc/prod/GET/x";
        let e = format!(
            r#"{{"version":"2.0","type":"REQUEST","routeArn":"{arn}","identitySource":["Bearer one"],"headers":{{"authorization":"Bearer two"}}}}"#
        );
        assert_eq!(read_owned(&e, None), Ok((Kind::HttpV2, Ok("one".into()), Some(arn.into()))));
        let e = r#"{"version":"2.0","identitySource":["",null],"headers":{"Authorization":"Bearer two"}}"#;
        assert_eq!(read_owned(e, None).unwrap().1.as_deref(), Ok("two"));
        let e = r#"{"version":"2.0","cookies":["a=1","__session=three"],"headers":{}}"#;
        assert_eq!(read_owned(e, Some("__session")).unwrap().1.as_deref(), Ok("three"));
        assert_eq!(read_owned(e, None).unwrap().1, Err(Reason::MissingToken), "cookie is opt-in");
        let e = r#"{"version":"2.0","headers":{"cookie":"x=1; __session=\"four\""}}"#;
        assert_eq!(read_owned(e, Some("__session")).unwrap().1.as_deref(), Ok("four"));
        let e = r#"{"version":"2.0","headers":{"authorization":"Basic Zm9v"}}"#;
        assert_eq!(read_owned(e, None).unwrap().1, Err(Reason::BadScheme));
    }

    #[test]
    fn rest_token_and_request() {
        let e = r#"{"type":"TOKEN","authorizationToken":"Bearer t","methodArn":"arn:aws:execute-api:eu-west-1:1:a/s/GET/"}"#;
        assert_eq!(read_owned(e, None).unwrap().0, Kind::Token);
        assert_eq!(read_owned(e, None).unwrap().1.as_deref(), Ok("t"));
        let e = r#"{"type":"TOKEN","authorizationToken":"","methodArn":"x"}"#;
        assert_eq!(read_owned(e, None).unwrap().1, Err(Reason::MissingToken));
        let e =
            r#"{"type":"REQUEST","methodArn":"m","headers":{"AUTHORIZATION":"Bearer h"},"identitySource":"Bearer i"}"#;
        assert_eq!(read_owned(e, None).unwrap().1.as_deref(), Ok("h"));
        let e = r#"{"version":"1.0","type":"REQUEST","methodArn":"m","headers":{},"identitySource":"Bearer i"}"#;
        assert_eq!(read_owned(e, None).unwrap().1.as_deref(), Ok("i"));
        let e = r#"{"type":"REQUEST","methodArn":"m","headers":{"Cookie":"__session=c"}}"#;
        assert_eq!(read_owned(e, Some("__session")).unwrap().1.as_deref(), Ok("c"));
    }

    #[test]
    fn unknown_events() {
        for e in [r#"{}"#, r#"{"type":"token"}"#, r#"{"version":"1.0"}"#, r#"[]"#, r#""x""#, r#"{"version":2.0}"#] {
            assert_eq!(read_owned(e, None), Err(Reason::BadEvent), "{e}");
        }
    }

    #[test]
    fn stage_wildcards() {
        assert_eq!(
            stage_wildcard("arn:aws:execute-api:us-east-1:123456789012:abcdef123/test/GET/request").as_deref(),
            Some("arn:aws:execute-api:us-east-1:123456789012:abcdef123/test/*")
        );
        assert_eq!(
            stage_wildcard("arn:aws-cn:execute-api:cn-north-1:1:api/$default/POST/a/b:c").as_deref(),
            Some("arn:aws-cn:execute-api:cn-north-1:1:api/$default/*")
        );
        for bad in [
            "",
            "arn:aws:lambda:us-east-1:1:function:x",
            "arn:aws:execute-api:us-east-1:1:api",
            "arn:aws:execute-api:::api/s/GET",
            "arn:aws:execute-api:r:1:*/s/GET",
        ] {
            assert_eq!(stage_wildcard(bad), None, "{bad}");
        }
    }
}
