//! One invocation as the Runtime API delivers it (`GET …/invocation/next`: the event and the
//! `Lambda-Runtime-*` header fields, <https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html#runtimes-api-next>),
//! and its result as the handler returns it. No I/O here: the fields are read from the
//! header fields the HTTP reader hands over, one at a time.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Longest request id accepted. Lambda's are UUIDs, 36 characters such as
/// `8476a536-e9f4-11e8-9739-2dfe598c3fcd`
/// (<https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html>); 64 leaves room for
/// an emulator's own scheme (a UUID without dashes is 32) and keeps the path short.
pub const MAX_REQUEST_ID: usize = 64;

/// One invocation, in buffers reused from one invocation to the next.
#[derive(Debug, Default)]
pub struct Invocation {
    /// `Lambda-Runtime-Aws-Request-Id`: where the answer goes (validated: letters, digits
    /// and `-`, 1 to [`MAX_REQUEST_ID`] bytes).
    pub request_id: String,
    /// `Lambda-Runtime-Deadline-Ms` (Unix milliseconds), when sent.
    pub deadline_ms: Option<u64>,
    /// The same deadline on the monotonic clock, taken when the invocation arrived.
    pub deadline: Option<Instant>,
    /// `Lambda-Runtime-Trace-Id` (empty when absent; control bytes replaced by spaces).
    pub trace_id: String,
    /// `Lambda-Runtime-Invoked-Function-Arn` (empty when absent).
    pub function_arn: String,
    /// The event: at most [`KEEP_EVENT`](super::KEEP_EVENT) bytes of it (an event longer than
    /// the authorizer's limit is kept only far enough to be seen as too long).
    pub body: Vec<u8>,
}

impl Invocation {
    /// Time left before the deadline (`None`: no deadline sent).
    pub fn remaining(&self) -> Option<Duration> {
        self.deadline.map(|d| d.saturating_duration_since(Instant::now()))
    }

    /// Forgets the last invocation's fields (the buffers are kept).
    pub(super) fn clear(&mut self) {
        self.request_id.clear();
        self.trace_id.clear();
        self.function_arn.clear();
        self.deadline_ms = None;
        self.deadline = None;
    }

    /// Takes one header field of the `/next` response. A field that decides where the answer
    /// goes or how long it may take (the request id, the deadline) may come once only: a
    /// second one is a protocol error, never a concatenation or a choice.
    pub(super) fn take_field(&mut self, name: &str, value: &[u8]) -> Result<(), &'static str> {
        if name.eq_ignore_ascii_case("lambda-runtime-aws-request-id") {
            if !self.request_id.is_empty() {
                return Err("more than one Lambda-Runtime-Aws-Request-Id");
            }
            if !valid_request_id(value) {
                return Err("malformed Lambda-Runtime-Aws-Request-Id");
            }
            self.request_id.extend(value.iter().map(|&b| char::from(b)));
        } else if name.eq_ignore_ascii_case("lambda-runtime-deadline-ms") {
            if self.deadline_ms.is_some() {
                return Err("more than one Lambda-Runtime-Deadline-Ms");
            }
            let ms = std::str::from_utf8(value).ok().filter(|v| v.bytes().all(|b| b.is_ascii_digit()));
            self.deadline_ms = Some(ms.and_then(|v| v.parse().ok()).ok_or("malformed Lambda-Runtime-Deadline-Ms")?);
        } else if name.eq_ignore_ascii_case("lambda-runtime-trace-id") {
            self.trace_id.clear();
            self.trace_id.push_str(&String::from_utf8_lossy(value));
        } else if name.eq_ignore_ascii_case("lambda-runtime-invoked-function-arn") {
            self.function_arn.clear();
            self.function_arn.push_str(&String::from_utf8_lossy(value));
        }
        Ok(())
    }

    /// Once the head is read: the deadline on the monotonic clock, from `deadline_ms` and the
    /// wall clock now (Lambda sends Unix milliseconds).
    pub(super) fn arrived(&mut self) -> Result<(), &'static str> {
        if self.request_id.is_empty() {
            return Err("missing Lambda-Runtime-Aws-Request-Id");
        }
        let now_ms = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis());
        self.deadline = self.deadline_ms.and_then(|d| {
            let left = u64::try_from(u128::from(d).saturating_sub(now_ms)).unwrap_or(u64::MAX);
            Instant::now().checked_add(Duration::from_millis(left))
        });
        Ok(())
    }
}

/// Whether `id` can be a Lambda request id: ASCII letters, digits and `-`, 1 to
/// [`MAX_REQUEST_ID`] bytes. It becomes part of a request path, so nothing else (no `.`,
/// `/`, `%`, space or control byte) is ever accepted.
pub fn valid_request_id(id: &[u8]) -> bool {
    (1..=MAX_REQUEST_ID).contains(&id.len()) && id.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'-')
}

/// An invocation's result, as a handler returns it and the client posts it: the response
/// JSON, or an error (`errorType`, `errorMessage`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome<'a> {
    Response(Vec<u8>),
    Error { error_type: &'a str, message: &'a str },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn take(fields: &[(&str, &str)]) -> Result<Invocation, &'static str> {
        let mut inv = Invocation::default();
        for (name, value) in fields {
            inv.take_field(name, value.as_bytes())?;
        }
        inv.arrived().map(|()| inv)
    }

    #[test]
    fn the_request_id_and_the_deadline_come_once() {
        let id = ("Lambda-Runtime-Aws-Request-Id", "r-1");
        let deadline = ("Lambda-Runtime-Deadline-Ms", "4102444800000");
        let inv = take(&[id, deadline]).unwrap();
        assert_eq!((inv.request_id.as_str(), inv.deadline_ms), ("r-1", Some(4_102_444_800_000)));
        assert!(inv.remaining().unwrap() > Duration::from_secs(3600));
        assert_eq!(take(&[id, id]).unwrap_err(), "more than one Lambda-Runtime-Aws-Request-Id");
        assert_eq!(take(&[id, deadline, deadline]).unwrap_err(), "more than one Lambda-Runtime-Deadline-Ms");
        let other = ("lambda-runtime-deadline-ms", "1");
        assert_eq!(take(&[id, deadline, other]).unwrap_err(), "more than one Lambda-Runtime-Deadline-Ms");
        for bad in ["", "soon", "-1", "+1", "1.5", "1 2", "99999999999999999999999"] {
            let r = take(&[id, ("Lambda-Runtime-Deadline-Ms", bad)]);
            assert_eq!(r.unwrap_err(), "malformed Lambda-Runtime-Deadline-Ms", "{bad:?}");
        }
        assert_eq!(take(&[deadline]).unwrap_err(), "missing Lambda-Runtime-Aws-Request-Id");
        let past = take(&[id, ("Lambda-Runtime-Deadline-Ms", "1")]).unwrap();
        assert_eq!(past.remaining(), Some(Duration::ZERO), "a deadline in the past has no time left");
    }
}
