//! API Gateway's own request id, `requestContext.requestId`, read from an event so that a
//! deny line can be joined with the API's access log (`$context.requestId`):
//! <https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-lambda-authorizer.html>
//! (payload 2.0 and 1.0 REQUEST events carry it; REST TOKEN events have no `requestContext`).
//!
//! Read only on the deny path, with `serde_json` on the raw bytes (the decision's own parse
//! has ended by then): nothing is added to an allow. Whatever the event holds, the value is
//! bounded and plain: at most [`MAX_LEN`] bytes of ASCII letters, digits, `-`, `_`, `=`, `.`
//! and `+` (API Gateway's ids are such, e.g. `JKJaXmPLvHcESHA=`); anything else is dropped.

use serde_json::value::RawValue;
use std::borrow::Cow;
use std::collections::BTreeMap;

/// Longest id kept; API Gateway's are 16 (HTTP API) or 36 (REST API) characters.
pub const MAX_LEN: usize = 64;

/// A JSON object's members, values left unparsed. Only an object is accepted (an array is
/// not read as a struct), and a repeated name keeps its last value, as `serde_json::Value`.
type Object<'a> = BTreeMap<Cow<'a, str>, &'a RawValue>;

fn plain(id: &str) -> bool {
    (1..=MAX_LEN).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_=.+".contains(&b))
}

/// `requestContext.requestId` of `event`, when it is there, a string, and plain.
pub fn of(event: &[u8]) -> Option<String> {
    if event.len() > crate::apigw::event::MAX_EVENT_LEN {
        return None;
    }
    let top: Object<'_> = serde_json::from_slice(event).ok()?;
    let context: Object<'_> = serde_json::from_str(top.get("requestContext")?.get()).ok()?;
    let id: Cow<'_, str> = serde_json::from_str(context.get("requestId")?.get()).ok()?;
    plain(&id).then(|| id.into_owned())
}

#[cfg(test)]
mod tests {
    use super::of;

    #[test]
    fn reads_plain_ids_only() {
        let ev = |rc: &str| format!(r#"{{"version":"2.0","requestContext":{rc},"headers":{{}}}}"#);
        assert_eq!(of(ev(r#"{"requestId":"JKJaXmPLvHcESHA="}"#).as_bytes()).as_deref(), Some("JKJaXmPLvHcESHA="));
        assert_eq!(
            of(ev(r#"{"requestId":"c6af9ac6-7b61-11e6-9a41-93e8deadbeef","http":{}}"#).as_bytes()).as_deref(),
            Some("c6af9ac6-7b61-11e6-9a41-93e8deadbeef")
        );
        assert_eq!(of(ev(r#"{"requestId":"a\nINFO allow"}"#).as_bytes()), None, "no control bytes or spaces");
        assert_eq!(of(ev(&format!(r#"{{"requestId":"{}"}}"#, "a".repeat(65))).as_bytes()), None, "bounded");
        assert_eq!(of(ev(&format!(r#"{{"requestId":"{}"}}"#, "a".repeat(64))).as_bytes()).map(|s| s.len()), Some(64));
        assert_eq!(of(ev(r#"{"requestId":""}"#).as_bytes()), None);
        assert_eq!(of(ev(r#"{"requestId":7}"#).as_bytes()), None);
        assert_eq!(of(ev("{}").as_bytes()), None);
        assert_eq!(of(br#"{"type":"TOKEN","authorizationToken":"x"}"#), None);
        assert_eq!(of(b"\x00 not json"), None);
        assert_eq!(of(b"[]"), None);
        // Only objects: an array is not read as a struct.
        assert_eq!(of(br#"[{"requestId":"abc"}]"#), None);
        assert_eq!(of(br#"{"requestContext":["abc"]}"#), None);
        // A repeated name keeps its last value, as serde_json::Value does.
        assert_eq!(of(br#"{"requestContext":{"requestId":"a","requestId":"b"}}"#).as_deref(), Some("b"));
        assert_eq!(of(br#"{"requestContext":{"requestId":"a\u0062"}}"#).as_deref(), Some("ab"), "escapes decoded");
    }
}
