//! A small, blocking client for the Lambda Runtime API (2018-06-01), used by the function
//! binary instead of `lambda_runtime` (why: docs/performance.md).
//!
//! One kept-alive HTTP/1.1 connection on a `std` `TcpStream`, one thread, no async runtime.
//! Read in the order a request travels:
//!
//! 1. [`endpoint`] — `AWS_LAMBDA_RUNTIME_API`, validated at cold start (nothing malformed
//!    ever reaches a request head).
//! 2. [`request`] — the requests, written into a buffer.
//! 3. [`connection`] — the connection and its I/O, every connect, write and read under a
//!    deadline.
//! 4. [`http`] — one response read to its end, every size bounded (`httparse` for the head).
//! 5. [`invocation`] — the invocation the `/next` response carries, and its outcome.
//! 6. [`policy`] — how long each part may take, and when a request is made again.
//! 7. [`client`] — the requests a function makes, over the connection, with the pipelining
//!    state.
//! 8. [`run`](mod@run) — the loop: what ends it (only the Runtime API failing to give the next
//!    invocation) and what does not (a panic, a late acknowledgement, a late event).
//!
//! Kept from `lambda_runtime`: the request paths and error format, the request id from
//! `Lambda-Runtime-Aws-Request-Id`, the X-Ray trace id (`Lambda-Runtime-Trace-Id`, kept per
//! invocation for its log lines), a handler panic reported as that invocation's error, and a
//! clean exit — an error, not a panic — when the Runtime API fails or goes away. The process
//! environment is never modified (`_X_AMZN_TRACE_ID` is not set: nothing in this process
//! reads it).

pub mod client;
pub mod connection;
pub mod endpoint;
pub mod http;
pub mod invocation;
pub mod policy;
pub mod request;
pub mod run;

pub use client::Client;
pub use endpoint::Endpoint;
pub use http::{MAX_BODY, MAX_HEAD};
pub use invocation::{Invocation, MAX_REQUEST_ID, Outcome, valid_request_id};
pub use policy::{INIT_ERROR_ATTEMPT, INIT_ERROR_BUDGET};
pub use run::run;

use std::io;

/// The most of an event kept in memory: one byte past the authorizer's limit
/// ([`MAX_EVENT_LEN`](crate::apigw::event::MAX_EVENT_LEN), 1 MiB), enough for the
/// authorizer to see that it is over and refuse it. The rest of a longer event is read (so
/// the connection stays usable) and dropped: a worker never holds more than this for an
/// event, whatever the Runtime API sends (up to [`MAX_BODY`]).
pub const KEEP_EVENT: usize = crate::apigw::event::MAX_EVENT_LEN + 1;

/// Why the runtime stopped, or a request failed.
#[derive(Debug)]
pub enum Error {
    /// `AWS_LAMBDA_RUNTIME_API` is not set (not running under Lambda).
    NoApi,
    /// `AWS_LAMBDA_RUNTIME_API` is not a valid address: why.
    BadApi(&'static str),
    /// Connecting, reading or writing failed (a spent deadline is `TimedOut`).
    Io(io::Error),
    /// The Runtime API answered something that is not a well-formed HTTP response.
    Protocol(&'static str),
    /// The Runtime API answered with this HTTP status where success was expected.
    Status(u16),
    /// Part of one invocation's exchange took longer than [`policy`] allows: what. Costs that
    /// invocation's connection, never the loop.
    Late(&'static str),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::NoApi => f.write_str("AWS_LAMBDA_RUNTIME_API is not set"),
            Error::BadApi(why) => write!(f, "AWS_LAMBDA_RUNTIME_API: {why}"),
            Error::Io(e) => write!(f, "Runtime API I/O: {e}"),
            Error::Protocol(what) => write!(f, "Runtime API protocol: {what}"),
            Error::Status(s) => write!(f, "Runtime API answered HTTP {s}"),
            Error::Late(what) => write!(f, "Runtime API too slow: {what}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Error::Io(e)
    }
}

/// The one test Runtime API server, shared with the integration tests.
#[cfg(test)]
#[path = "../../../tests/common/runtime_api.rs"]
mod test_runtime_api;

/// The client against the test Runtime API: every exchange, every failure.
#[cfg(test)]
mod tests;
