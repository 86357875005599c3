//! Authorizer events: which flavour, where the token is, which resource is asked for.
//!
//! **The token is read from the identity source, which is API Gateway's cache key**, and
//! from nowhere else. API Gateway reuses a cached answer for every request with the same
//! identity-source values; a token read from anywhere else (another header, a cookie, a query
//! parameter that is not the identity source) would let a caller plant an allow under a key the
//! token did not come from.
//!
//! - HTTP API payload 2.0: `identitySource`, an array of the identity sources' values.
//! - HTTP API payload 1.0: `identitySource`, the same values joined by `,` (so a value that
//!   itself holds a comma is split; a token never does).
//! - REST TOKEN: `authorizationToken`, the value of the authorizer's token-source header.
//! - REST REQUEST (no `identitySource` in the event): the header named by `JWT_TOKEN_HEADER`
//!   (default `Authorization`), which must be the authorizer's identity source; or, with
//!   `JWT_TOKEN_QUERY`, the query-string parameter of that name.
//! - WebSocket `$connect` REQUEST (a REST REQUEST event whose `requestContext` says
//!   `eventType: CONNECT`, `routeKey: $connect`): read as REST REQUEST, from the header or the
//!   query-string parameter; with `JWT_TOKEN_HEADER=Sec-WebSocket-Protocol`, the offered
//!   subprotocol right after the marker [`SUBPROTOCOL_MARKER`] (see [`subprotocol_token`]).
//!
//! A value given twice is refused (`malformed_token`): a header or query parameter named twice
//! in the single-value map, several values in the multi-value map, or the two maps disagreeing.
//! Which of them API Gateway checked as the identity source is unknown.
//!
//! Which identity-source value carries the token: the first that holds a credential, that is
//! `Bearer <token>`, or (with `JWT_TOKEN_COOKIE`) a `Cookie` header that has that cookie.
//! If none does, the first value is read as a bare token; with `JWT_TOKEN_COOKIE` set, the
//! token is missing instead (a `Cookie` header is never taken whole as the token). Every
//! value is part of the cache key, so whichever carries the token, the answer cached for
//! that key was decided on that token. An event with `identitySource` but none of these
//! values (`null`, `[]`) has no token.
//!
//! Event shapes: <https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-lambda-authorizer.html>
//! (2.0 and 1.0) and <https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-input.html>
//! (REST TOKEN and REQUEST), and for WebSocket APIs
//! <https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-lambda-auth.html>
//! (no `httpMethod` or `path`; `methodArn` ends in `/<stage>/$connect`; `headers`,
//! `multiValueHeaders`, `queryStringParameters`, `multiValueQueryStringParameters`,
//! `requestContext` with `routeKey`, `eventType`, `connectionId`).

use crate::jwt::json::Value;
use crate::reason::Reason;

/// Largest event accepted (authorizer events carry headers, never a body); larger → deny,
/// so one huge event cannot grow the reused buffers without bound.
pub const MAX_EVENT_LEN: usize = 1024 * 1024;

/// The header REST REQUEST events are read from when `JWT_TOKEN_HEADER` is unset.
pub const DEFAULT_TOKEN_HEADER: &str = "Authorization";

/// The header that carries the subprotocols a WebSocket client offers (RFC 6455 §4.1, §11.3.4):
/// with `JWT_TOKEN_HEADER` set to it, the token is read by [`subprotocol_token`].
pub const SUBPROTOCOL_HEADER: &str = "Sec-WebSocket-Protocol";

/// The subprotocol that announces a token in `Sec-WebSocket-Protocol`: the client offers
/// `jwt, <token>` (a browser: `new WebSocket(url, ["jwt", token])`), and the `$connect`
/// integration answers `Sec-WebSocket-Protocol: jwt`, never the token.
pub const SUBPROTOCOL_MARKER: &str = "jwt";

/// The flavour of an authorizer event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// HTTP API, payload format 2.0 (answers a simple response unless configured `iam`).
    HttpV2,
    /// REST API TOKEN authorizer (answers an IAM policy).
    Token,
    /// REST API or payload 1.0 REQUEST authorizer (answers an IAM policy).
    Request,
    /// WebSocket API REQUEST authorizer on `$connect` (answers an IAM policy, as REST does).
    WebSocket,
}

/// Where the configuration says the token is, beyond what the event itself says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Source<'c> {
    /// The header a REST REQUEST event's token is read from (`JWT_TOKEN_HEADER`).
    pub header: &'c str,
    /// The cookie read from a `Cookie` header value (`JWT_TOKEN_COOKIE`).
    pub cookie: Option<&'c str>,
    /// The query-string parameter a REST REQUEST or WebSocket event's token is read from
    /// instead of the header (`JWT_TOKEN_QUERY`); `None`: the header.
    pub query: Option<&'c str>,
}

impl Default for Source<'_> {
    fn default() -> Self {
        Source { header: DEFAULT_TOKEN_HEADER, cookie: None, query: None }
    }
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

/// [`read_from`] with the default token header and the given cookie.
pub fn read<'b>(event: Value<'_, 'b>, cookie: Option<&str>) -> Result<Request<'b>, Reason> {
    read_from(event, Source { cookie, ..Source::default() })
}

/// Reads the event. `Err(BadEvent)` when it is not an authorizer event we know.
pub fn read_from<'b>(event: Value<'_, 'b>, source: Source<'_>) -> Result<Request<'b>, Reason> {
    let field = |name: &str| event.get(name).and_then(|v| v.as_str());
    let version = event.get("version");
    // `type` is only looked at when `version` does not say 2.0 (the hot path).
    let kind = match version.map(|v| v.as_str()) {
        Some(Some("2.0")) => Kind::HttpV2,
        Some(Some("1.0")) if field("type") == Some("REQUEST") => Kind::Request,
        None if field("type") == Some("REQUEST") => match is_connect(event) {
            true => Kind::WebSocket,
            false => Kind::Request,
        },
        None if field("type") == Some("TOKEN") => Kind::Token,
        _ => return Err(Reason::BadEvent),
    };
    let token = match (kind, event.get("identitySource")) {
        (Kind::Token, _) => credential_in(field("authorizationToken").into_iter(), source.cookie),
        // Payload 2.0 (an array) and 1.0 (a comma-separated string): the cache key itself.
        (_, Some(ids)) => match ids.as_str() {
            Some(joined) => credential_in(joined.split(','), source.cookie),
            None => credential_in(ids.elements().filter_map(|v| v.as_str()), source.cookie),
        },
        // REST REQUEST and WebSocket: the configured header or query-string parameter, which
        // must be the identity source.
        (_, None) if version.is_none() => request_token(event, source),
        // Payload 2.0 / 1.0 without an identity source: API Gateway cannot cache such an
        // authorizer, but nothing else is a cache key either, so there is no token.
        (_, None) => Err(Reason::MissingToken),
    };
    let arn = match kind {
        Kind::HttpV2 => field("routeArn"),
        Kind::Token | Kind::Request | Kind::WebSocket => field("methodArn"),
    };
    Ok(Request { kind, token, arn })
}

/// The token in `values` (identity-source values in order): the first value that holds a
/// credential (`Bearer …`, or the configured cookie); else, without a configured cookie,
/// the first value as a bare token.
fn credential_in<'b>(values: impl Iterator<Item = &'b str>, cookie: Option<&str>) -> Result<&'b str, Reason> {
    let mut first = None;
    for value in values {
        if let Some(c) = cookie.and_then(|name| cookie_in(value, name)) {
            return token68(c);
        }
        if let Some(t) = bearer_credential(value) {
            return t;
        }
        first.get_or_insert(value);
    }
    match (first, cookie) {
        (Some(value), None) => bearer(value),
        _ => Err(Reason::MissingToken),
    }
}

/// Whether a REST-shaped REQUEST event is a WebSocket `$connect`: its `requestContext` says
/// `eventType: CONNECT` and `routeKey: $connect` ("Control access to WebSocket APIs with AWS
/// Lambda REQUEST authorizers",
/// <https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-lambda-auth.html>).
fn is_connect(event: Value<'_, '_>) -> bool {
    let context = event.get("requestContext");
    let field = |name: &str| context.and_then(|c| c.get(name)).and_then(|v| v.as_str());
    field("eventType") == Some("CONNECT") && field("routeKey") == Some("$connect")
}

/// The token of a REST REQUEST or WebSocket event: from the query-string parameter
/// `source.query` when configured, else from the header `source.header` (through
/// [`subprotocol_token`] when that is `Sec-WebSocket-Protocol`).
fn request_token<'b>(event: Value<'_, 'b>, source: Source<'_>) -> Result<&'b str, Reason> {
    if let Some(name) = source.query {
        // Parameter names are case-sensitive; API Gateway has decoded the value. The value is
        // the token itself (no scheme: a query string carries no `Authorization` syntax).
        let forms = ["queryStringParameters", "multiValueQueryStringParameters"];
        return match single_value(event, forms, |k| k == name)? {
            Some(value) => token68(value),
            None => Err(Reason::MissingToken),
        };
    }
    let value = header_value(event, source.header)?;
    if source.header.eq_ignore_ascii_case(SUBPROTOCOL_HEADER) {
        return value.map_or(Err(Reason::MissingToken), subprotocol_token);
    }
    credential_in(value.into_iter(), source.cookie)
}

/// The value of header `name` (names compare case-insensitively, RFC 9110 §5.1); `Ok(None)`
/// when absent; given twice, refused (see [`single_value`]).
fn header_value<'b>(event: Value<'_, 'b>, name: &str) -> Result<Option<&'b str>, Reason> {
    single_value(event, ["headers", "multiValueHeaders"], |k| k.eq_ignore_ascii_case(name))
}

/// The one value named by `matches` in the single-value map `forms[0]` and the multi-value map
/// `forms[1]` (REST and WebSocket events carry both). Given twice — two spellings in the
/// single-value map, several values in the multi-value map, or the two maps disagreeing — the
/// value is ambiguous: which one API Gateway checked as the identity source is unknown.
fn single_value<'b>(
    event: Value<'_, 'b>,
    forms: [&'static str; 2],
    matches: impl Fn(&str) -> bool,
) -> Result<Option<&'b str>, Reason> {
    // Every map of that name (an event naming a map twice is read whole, not by its first).
    let matches = &matches;
    let named = |form: &'static str| {
        event.members().filter(move |(k, _)| *k == form).flat_map(|(_, m)| m.members()).filter(|(k, _)| matches(k))
    };
    let mut single = named(forms[0]);
    let value = single.next().and_then(|(_, v)| v.as_str());
    if single.next().is_some() {
        return Err(Reason::Malformed);
    }
    // A multi-value entry that is not an array counts as one value.
    let mut multi = named(forms[1]).flat_map(|(_, v)| {
        let array = v.is_array();
        v.elements().map(|e| e.as_str()).chain(std::iter::once(v.as_str()).filter(move |_| !array))
    });
    let other = multi.next();
    if multi.next().is_some() {
        return Err(Reason::Malformed);
    }
    match (value, other) {
        (Some(v), Some(Some(m))) if v != m => Err(Reason::Malformed),
        (Some(v), _) => Ok(Some(v)),
        (None, Some(m)) => Ok(m),
        (None, None) => Ok(None),
    }
}

/// The token in a `Sec-WebSocket-Protocol` value: the offered subprotocols are a
/// comma-separated list (RFC 6455 §4.1, §11.3.4; list syntax and optional whitespace, RFC 9110
/// §5.6.1), and the token is the element right after [`SUBPROTOCOL_MARKER`] (compared exactly,
/// as subprotocol names are). No marker, or nothing after it: no token. The marker offered
/// twice names two candidate tokens: refused.
pub fn subprotocol_token(value: &str) -> Result<&str, Reason> {
    let mut offered = value.split(',').map(trim_ows);
    if !offered.any(|p| p == SUBPROTOCOL_MARKER) {
        return Err(Reason::MissingToken);
    }
    let token = offered.next();
    if token == Some(SUBPROTOCOL_MARKER) || offered.any(|p| p == SUBPROTOCOL_MARKER) {
        return Err(Reason::Malformed);
    }
    token.map_or(Err(Reason::MissingToken), token68)
}

/// The value of cookie `name` in a `Cookie` header (`a=1; b=2`, RFC 6265 §4.2.1): the first
/// pair with that name (names are case-sensitive), its value unquoted.
fn cookie_in<'b>(header: &'b str, name: &str) -> Option<&'b str> {
    header.split(';').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (trim_ows(k) == name).then(|| {
            let v = trim_ows(v);
            v.strip_prefix('"').and_then(|v| v.strip_suffix('"')).unwrap_or(v)
        })
    })
}

/// Optional whitespace (RFC 9110 §5.6.3) is SP and HTAB only: `str::trim` would also strip
/// VT, NEL, NBSP, U+2028, U+3000 and more, which no HTTP peer treats as whitespace.
fn trim_ows(value: &str) -> &str {
    value.trim_matches([' ', '\t'])
}

/// `Some` when `value` is a Bearer credential: `Bearer 1*SP b64token` (RFC 6750 §2.1), the
/// scheme compared case-insensitively (RFC 9110 §11.1), optional whitespace around it.
fn bearer_credential(value: &str) -> Option<Result<&str, Reason>> {
    let value = trim_ows(value);
    let b = value.as_bytes();
    let is_bearer = b.len() > 6 && b[6] == b' ' && b[..6].eq_ignore_ascii_case(b"bearer");
    // `b[6]` is ASCII, so byte 7 starts a character.
    is_bearer.then(|| token68(value[7..].trim_start_matches(' ')))
}

/// The credential itself: non-empty, and visible ASCII only (RFC 5234 VCHAR, a superset of
/// RFC 6750's b64token). Anything else — SP, HTAB, LF, VT, NBSP or any other non-ASCII
/// whitespace — is a malformed token. Bytewise and branch-free, so it vectorizes (a `char`
/// scan of a 1 KB token costs ~6k instructions).
fn token68(token: &str) -> Result<&str, Reason> {
    match token {
        "" => Err(Reason::MissingToken),
        t if t.bytes().fold(false, |bad, b| bad | !is_vchar(b)) => Err(Reason::Malformed),
        t => Ok(t),
    }
}

/// `Bearer <token>` (see [`bearer_credential`]) or a bare token; optional whitespace (SP,
/// HTAB) around it is ignored. Any other whitespace or control character is a malformed
/// token; otherwise a value with a space in it uses another scheme, refused.
pub fn bearer(value: &str) -> Result<&str, Reason> {
    if let Some(token) = bearer_credential(value) {
        return token;
    }
    let value = trim_ows(value);
    let (sp, other) =
        value.bytes().fold((false, false), |(sp, other), b| (sp | (b == b' '), other | (b != b' ' && !is_vchar(b))));
    match (sp, other) {
        (_, true) => Err(Reason::Malformed),
        (true, false) => Err(Reason::BadScheme),
        (false, false) => token68(value),
    }
}

/// RFC 5234 VCHAR: visible ASCII.
fn is_vchar(b: u8) -> bool {
    (0x21..=0x7e).contains(&b)
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
    use crate::jwt::json::{PADDING, Parser};

    /// An owned copy of what `read_from` returns: kind, token (or why none), ARN.
    type Owned = (Kind, Result<String, Reason>, Option<String>);

    fn read_with(json: &str, source: Source<'_>) -> Result<Owned, Reason> {
        let mut buf = json.as_bytes().to_vec();
        let len = buf.len();
        buf.resize(len + PADDING, 0);
        Parser::with_capacity(64)
            .parse(&mut buf, len, |v| {
                read_from(v, source).map(|r| (r.kind, r.token.map(String::from), r.arn.map(String::from)))
            })
            .map_err(Reason::from)
            .and_then(|r| r)
    }

    fn token(json: &str, cookie: Option<&str>) -> Result<String, Reason> {
        read_with(json, Source { cookie, ..Source::default() }).expect("a known event").1
    }

    #[test]
    fn bearer_rules() {
        assert_eq!(bearer("Bearer abc"), Ok("abc"));
        assert_eq!(bearer("bearer   abc "), Ok("abc"));
        assert_eq!(bearer(" \tBEARER abc\t "), Ok("abc"), "SP and HTAB are optional whitespace");
        assert_eq!(bearer("abc"), Ok("abc"));
        assert_eq!(bearer("Basic dXNlcjpwYXNz"), Err(Reason::BadScheme));
        assert_eq!(bearer("Bearer"), Ok("Bearer"), "a bare token that happens to read Bearer; fails later");
        assert_eq!(bearer("Bearer "), Ok("Bearer"));
        assert_eq!(bearer("   "), Err(Reason::MissingToken));
        assert_eq!(bearer(""), Err(Reason::MissingToken));
        assert_eq!(bearer("Bearer a b"), Err(Reason::Malformed));
        assert_eq!(bearer("Béarer abc"), Err(Reason::Malformed), "non-ASCII never panics");
        assert_eq!(bearer("Beare\u{e9} abc"), Err(Reason::Malformed));
    }

    /// RFC 9110 §5.6.3: OWS is SP / HTAB; RFC 6750 §2.1: `Bearer 1*SP b64token`.
    #[test]
    fn only_sp_and_htab_are_whitespace_and_only_sp_follows_bearer() {
        for ws in ["\u{a0}", "\u{b}", "\u{c}", "\n", "\r", "\u{85}", "\u{2028}", "\u{3000}", "\u{feff}", "\0"] {
            for value in [format!("{ws}abc"), format!("abc{ws}"), format!("Bearer abc{ws}"), format!("Bearer {ws}abc")]
            {
                assert_eq!(bearer(&value), Err(Reason::Malformed), "{value:?}");
            }
        }
        for sep in ["\t", "\n", "\u{c}", "\u{b}", "\r", "\u{a0}"] {
            assert_eq!(bearer(&format!("Bearer{sep}abc")), Err(Reason::Malformed), "{sep:?} after Bearer");
        }
        assert_eq!(bearer("Bearer \tabc"), Err(Reason::Malformed), "only SP between scheme and token");
        assert_eq!(bearer("Bearer\t abc"), Err(Reason::Malformed));
        assert_eq!(bearer("\u{a0}Bearer abc"), Err(Reason::Malformed));
    }

    #[test]
    fn v2_reads_the_identity_source_alone() {
        let arn = "arn:aws:execute-api:us-east-1:123456789012:abc/prod/GET/x";
        let e = format!(
            r#"{{"version":"2.0","type":"REQUEST","routeArn":"{arn}","identitySource":["Bearer one"],"headers":{{"authorization":"Bearer two"}}}}"#
        );
        assert_eq!(read_with(&e, Source::default()), Ok((Kind::HttpV2, Ok("one".into()), Some(arn.into()))));
        // Never a header or cookie fallback.
        let e = r#"{"version":"2.0","identitySource":null,"headers":{"Authorization":"Bearer two"},"cookies":["__session=c"]}"#;
        assert_eq!(token(e, None), Err(Reason::MissingToken));
        assert_eq!(token(e, Some("__session")), Err(Reason::MissingToken));
        let e = r#"{"version":"2.0","headers":{"authorization":"Bearer two"}}"#;
        assert_eq!(token(e, None), Err(Reason::MissingToken));
        let e = r#"{"version":"2.0","identitySource":[],"headers":{"authorization":"Bearer two"}}"#;
        assert_eq!(token(e, None), Err(Reason::MissingToken));
        let e = r#"{"version":"2.0","identitySource":[""],"headers":{"authorization":"Bearer two"}}"#;
        assert_eq!(token(e, None), Err(Reason::MissingToken));
        let e = r#"{"version":"2.0","identitySource":["Basic Zm9v"]}"#;
        assert_eq!(token(e, None), Err(Reason::BadScheme));
    }

    #[test]
    fn the_first_identity_source_value_that_holds_a_credential_carries_the_token() {
        // `$context.routeKey` first or second; stage variables; a bare token only first.
        for ids in
            [r#"["Bearer t","GET /orders"]"#, r#"["GET /orders","Bearer t"]"#, r#"["prod","v1.2.3","bearer  t"]"#]
        {
            let e = format!(r#"{{"version":"2.0","identitySource":{ids}}}"#);
            assert_eq!(token(&e, None).as_deref(), Ok("t"), "{ids}");
        }
        let e = r#"{"version":"2.0","identitySource":["Bearer one","Bearer two"]}"#;
        assert_eq!(token(e, None).as_deref(), Ok("one"));
        let e = r#"{"version":"2.0","identitySource":["t.t.t","GET /orders"]}"#;
        assert_eq!(token(e, None).as_deref(), Ok("t.t.t"), "a bare token in the first value");
        let e = r#"{"version":"2.0","identitySource":["GET /orders","t.t.t"]}"#;
        assert_eq!(token(e, None), Err(Reason::BadScheme), "else the first value decides");
        // Payload 1.0: the values joined by commas.
        let e = r#"{"version":"1.0","type":"REQUEST","methodArn":"m","identitySource":"GET /x,Bearer t"}"#;
        assert_eq!(read_with(e, Source::default()), Ok((Kind::Request, Ok("t".into()), Some("m".into()))));
    }

    #[test]
    fn a_cookie_identity_source_is_parsed_for_the_configured_cookie() {
        let e = r#"{"version":"2.0","identitySource":["theme=dark; __session=c1; other=1"]}"#;
        assert_eq!(token(e, Some("__session")).as_deref(), Ok("c1"));
        assert_eq!(token(e, None), Err(Reason::BadScheme), "without JWT_TOKEN_COOKIE it is just a value");
        let e = r#"{"version":"2.0","identitySource":["x__session=a; session=b;__session=\"c2\""]}"#;
        assert_eq!(token(e, Some("__session")).as_deref(), Ok("c2"), "exact names; quotes removed");
        let e = r#"{"version":"2.0","identitySource":["__session=c3; __session=other"]}"#;
        assert_eq!(token(e, Some("__session")).as_deref(), Ok("c3"), "the first of two");
        // The whole Cookie header is never the token.
        for ids in [r#"["theme=dark"]"#, r#"["__session_x=a.b.c"]"#, r#"["a.b.c"]"#, r#"["__session="]"#] {
            let e = format!(r#"{{"version":"2.0","identitySource":{ids}}}"#);
            assert_eq!(token(&e, Some("__session")), Err(Reason::MissingToken), "{ids}");
        }
        // A Bearer value still counts; the first credential wins.
        let e = r#"{"version":"2.0","identitySource":["GET /x","Bearer b","__session=c"]}"#;
        assert_eq!(token(e, Some("__session")).as_deref(), Ok("b"));
        let e = r#"{"version":"2.0","identitySource":["__session=c\u00a0"]}"#;
        assert_eq!(token(e, Some("__session")), Err(Reason::Malformed));
    }

    #[test]
    fn rest_token_and_request() {
        let e = r#"{"type":"TOKEN","authorizationToken":"Bearer t","methodArn":"arn:aws:execute-api:eu-west-1:1:a/s/GET/"}"#;
        assert_eq!(read_with(e, Source::default()).unwrap().0, Kind::Token);
        assert_eq!(token(e, None).as_deref(), Ok("t"));
        let e = r#"{"type":"TOKEN","authorizationToken":"","methodArn":"x"}"#;
        assert_eq!(token(e, None), Err(Reason::MissingToken));
        // With a cookie configured, a bare token is not a credential anywhere.
        let e = r#"{"type":"TOKEN","authorizationToken":"t.t.t","methodArn":"x"}"#;
        assert_eq!(token(e, None).as_deref(), Ok("t.t.t"));
        assert_eq!(token(e, Some("__session")), Err(Reason::MissingToken));
        let e = r#"{"type":"TOKEN","authorizationToken":"Bearer t.t.t","methodArn":"x"}"#;
        assert_eq!(token(e, Some("__session")).as_deref(), Ok("t.t.t"));
        // REST REQUEST: the configured header only (any case), never identitySource-less fallbacks.
        let e = r#"{"type":"REQUEST","methodArn":"m","headers":{"AUTHORIZATION":"Bearer h","X-Api-Token":"Bearer x","Cookie":"__session=c"}}"#;
        assert_eq!(token(e, None).as_deref(), Ok("h"));
        let custom = Source { header: "x-api-token", ..Source::default() };
        assert_eq!(read_with(e, custom).unwrap().1.as_deref(), Ok("x"));
        let cookie = Source { header: "Cookie", cookie: Some("__session"), query: None };
        assert_eq!(read_with(e, cookie).unwrap().1.as_deref(), Ok("c"));
        let e = r#"{"type":"REQUEST","methodArn":"m","headers":{"Cookie":"__session=c"},"queryStringParameters":{"token":"Bearer q"}}"#;
        assert_eq!(token(e, Some("__session")), Err(Reason::MissingToken));
        // A header given twice is ambiguous.
        let e = r#"{"type":"REQUEST","headers":{"Authorization":"Bearer a","authorization":"Bearer b"}}"#;
        assert_eq!(token(e, None), Err(Reason::Malformed));
        let e = r#"{"type":"REQUEST","headers":{"Authorization":"Bearer b"},"multiValueHeaders":{"Authorization":["Bearer a","Bearer b"]}}"#;
        assert_eq!(token(e, None), Err(Reason::Malformed));
        let e = r#"{"type":"REQUEST","headers":{"Authorization":"Bearer b"},"multiValueHeaders":{"Authorization":["Bearer b"]}}"#;
        assert_eq!(token(e, None).as_deref(), Ok("b"));
    }

    /// AWS's WebSocket `$connect` example (apigateway-websocket-api-lambda-auth.html), trimmed
    /// to what is read, plus the token.
    fn connect(extra: &str) -> String {
        format!(
            r#"{{"type":"REQUEST","methodArn":"arn:aws:execute-api:us-east-1:123456789012:abcdef123/default/$connect","headers":{{"HeaderAuth1":"headerValue1"}},"multiValueHeaders":{{"HeaderAuth1":["headerValue1"]}},"queryStringParameters":{{"QueryString1":"queryValue1"}},"multiValueQueryStringParameters":{{"QueryString1":["queryValue1"]}},"stageVariables":{{}},"requestContext":{{"routeKey":"$connect","eventType":"CONNECT","stage":"default","connectionId":"...","apiId":"abcdef123"}}{extra}}}"#
        )
    }

    #[test]
    fn websocket_connect_is_recognized_and_read_like_rest_request() {
        let e = connect(r#","queryStringParameters":{"token":"q"}"#);
        let query = Source { query: Some("token"), ..Source::default() };
        let arn = "arn:aws:execute-api:us-east-1:123456789012:abcdef123/default/$connect";
        assert_eq!(read_with(&e, query), Ok((Kind::WebSocket, Ok("q".into()), Some(arn.into()))));
        assert_eq!(read_with(&e, Source::default()).unwrap().1, Err(Reason::MissingToken));
        // A REST REQUEST event (no CONNECT) stays one.
        let e = r#"{"type":"REQUEST","methodArn":"m","requestContext":{"routeKey":"$connect"}}"#;
        assert_eq!(read_with(e, Source::default()).unwrap().0, Kind::Request);
        let e = r#"{"type":"REQUEST","methodArn":"m","requestContext":{"eventType":"CONNECT"}}"#;
        assert_eq!(read_with(e, Source::default()).unwrap().0, Kind::Request);
        // A map named twice is read whole: its second copy cannot hide a second value.
        let e = connect(r#","queryStringParameters":{"token":"a"},"queryStringParameters":{"token":"b"}"#);
        assert_eq!(read_with(&e, query).unwrap().1, Err(Reason::Malformed));
    }

    #[test]
    fn subprotocols() {
        assert_eq!(subprotocol_token("jwt, a.b.c"), Ok("a.b.c"));
        assert_eq!(subprotocol_token("chat,jwt,\ta.b.c ,x"), Ok("a.b.c"));
        assert_eq!(subprotocol_token("a.b.c"), Err(Reason::MissingToken));
        assert_eq!(subprotocol_token("jwt"), Err(Reason::MissingToken));
        assert_eq!(subprotocol_token("jwt,"), Err(Reason::MissingToken));
        assert_eq!(subprotocol_token("jwt, a, jwt, b"), Err(Reason::Malformed));
        assert_eq!(subprotocol_token("jwt, jwt"), Err(Reason::Malformed));
        assert_eq!(subprotocol_token("jwt, a\u{a0}"), Err(Reason::Malformed), "non-ASCII never panics");
        assert_eq!(subprotocol_token(""), Err(Reason::MissingToken));
    }

    #[test]
    fn unknown_events() {
        for e in [
            r#"{}"#,
            r#"{"type":"token"}"#,
            r#"{"version":"1.0"}"#,
            r#"{"version":"1.0","type":"TOKEN","authorizationToken":"t"}"#,
            r#"{"version":"3.0","type":"REQUEST"}"#,
            r#"{"version":2.0,"type":"REQUEST"}"#,
            r#"{"version":null,"type":"REQUEST"}"#,
            r#"[]"#,
            r#""x""#,
            r#"{"version":2.0}"#,
        ] {
            assert_eq!(read_with(e, Source::default()), Err(Reason::BadEvent), "{e}");
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
