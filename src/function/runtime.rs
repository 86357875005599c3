//! A small, blocking client for the Lambda Runtime API (2018-06-01), used by the function
//! binary instead of `lambda_runtime` (why: docs/performance.md).
//!
//! One kept-alive HTTP/1.1 connection on a `std` `TcpStream` (`TCP_NODELAY`), one thread,
//! no async runtime. Every response is read to its end by [`http`] — including the
//! `{"status":"OK"}` acknowledgement of a POST — so the connection stays reusable; it is
//! dropped instead whenever a response leaves any doubt (`Connection: close`, HTTP/1.0, a
//! body read to the end of the stream, bytes after the response that no request asked for).
//! A request that meets a connection the server already closed is retried once on a fresh
//! one. The answer to an invocation and the next `GET …/invocation/next` go out in one write
//! (HTTP/1.1 pipelining, [`Client::post_outcome_and_ask_next`]; `JWT_RUNTIME_PIPELINING=off`
//! turns it off): one write and one wake-up per invocation instead of two.
//!
//! Kept from `lambda_runtime`: the request paths and error format (`{"errorType",
//! "errorMessage"}` with a `Lambda-Runtime-Function-Error-Type` header; `unhandled` for
//! invocation errors), the request id from `Lambda-Runtime-Aws-Request-Id`, the X-Ray trace
//! id (`Lambda-Runtime-Trace-Id`, kept per invocation for its log lines), a handler panic
//! reported as that invocation's error, and a clean exit — an error, not a panic — when the
//! Runtime API fails or goes away. The deadline (`Lambda-Runtime-Deadline-Ms`) bounds the
//! whole answer — connecting, writing the result and reading the acknowledgement — however
//! slowly the server sends: every read, write and connect waits at most the time left, and
//! the answer fails once it is spent. The process environment is never modified
//! (`_X_AMZN_TRACE_ID` is not set: nothing in this process reads it).

pub mod http;

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub use http::{MAX_BODY, MAX_HEAD};

const NEXT: &str = "/2018-06-01/runtime/invocation/next";
const INIT_ERROR: &str = "/2018-06-01/runtime/init/error";
const USER_AGENT: &str = concat!("jwt-authorizer/", env!("CARGO_PKG_VERSION"));
/// Time an answer may take when no invocation deadline applies (none sent, or already past).
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one attempt to report an init error may take, and all attempts together.
pub const INIT_ERROR_ATTEMPT: Duration = Duration::from_secs(3);
pub const INIT_ERROR_BUDGET: Duration = Duration::from_secs(10);
/// Longest request id accepted. Lambda's are UUIDs, 36 characters such as
/// `8476a536-e9f4-11e8-9739-2dfe598c3fcd`
/// (<https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html>); 64 leaves room for
/// an emulator's own scheme (a UUID without dashes is 32) and keeps the path short.
pub const MAX_REQUEST_ID: usize = 64;

/// Why the runtime stopped, or a request failed.
#[derive(Debug)]
pub enum Error {
    /// `AWS_LAMBDA_RUNTIME_API` is not set (not running under Lambda).
    NoApi,
    /// Connecting, reading or writing failed (a spent deadline is `TimedOut`).
    Io(io::Error),
    /// The Runtime API answered something that is not a well-formed HTTP response.
    Protocol(&'static str),
    /// The Runtime API answered with this HTTP status where success was expected.
    Status(u16),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::NoApi => f.write_str("AWS_LAMBDA_RUNTIME_API is not set"),
            Error::Io(e) => write!(f, "Runtime API I/O: {e}"),
            Error::Protocol(what) => write!(f, "Runtime API protocol: {what}"),
            Error::Status(s) => write!(f, "Runtime API answered HTTP {s}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Error::Io(e)
    }
}

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
    /// The event.
    pub body: Vec<u8>,
}

impl Invocation {
    /// Time left before the deadline (`None`: no deadline sent).
    pub fn remaining(&self) -> Option<Duration> {
        self.deadline.map(|d| d.saturating_duration_since(Instant::now()))
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

/// The Runtime API client: endpoint, one connection, reusable buffers.
pub struct Client {
    host: String,
    /// Path prefix before `/2018-06-01/…`: empty on Lambda; emulators use one (`/.rt/<fn>`).
    prefix: String,
    /// `prefix` + the `…/invocation/next` path, built once.
    next_path: String,
    conn: Option<TcpStream>,
    /// Bytes read from the connection and not consumed yet.
    inbuf: http::Buffer,
    /// The request being written.
    out: Vec<u8>,
    /// Connections opened so far (for tests and diagnostics).
    connections: usize,
    /// The timeouts set on `conn` so far (see [`Timed`]).
    timeouts: Timeouts,
    /// Whether [`run`] asks for the next invocation in the write that answers the last one
    /// (default; `JWT_RUNTIME_PIPELINING=off` turns it off: [`Client::set_pipelining`]).
    pipelining: bool,
    /// A `GET …/invocation/next` was sent on `conn` behind an answer
    /// ([`post_outcome_and_ask_next`](Self::post_outcome_and_ask_next)) and its response is still to read.
    next_asked: bool,
}

impl Client {
    /// A client for `host:port` (the value of `AWS_LAMBDA_RUNTIME_API`). Connects lazily.
    /// Also takes `http://host:port/prefix`, as `cargo lambda watch` sets it.
    pub fn new(api: &str) -> Client {
        let api = api.strip_prefix("http://").unwrap_or(api);
        let (host, prefix) = api.split_once('/').map_or((api, ""), |(h, p)| (h, p.trim_matches('/')));
        let prefix = if prefix.is_empty() { String::new() } else { format!("/{prefix}") };
        Client {
            host: host.to_owned(),
            next_path: format!("{prefix}{NEXT}"),
            prefix,
            conn: None,
            inbuf: http::Buffer::new(),
            out: Vec::with_capacity(4096),
            connections: 0,
            timeouts: Timeouts::default(),
            pipelining: true,
            next_asked: false,
        }
    }

    /// From `AWS_LAMBDA_RUNTIME_API`.
    pub fn from_env() -> Result<Client, Error> {
        match std::env::var("AWS_LAMBDA_RUNTIME_API") {
            Ok(api) if !api.trim().is_empty() => Ok(Client::new(api.trim())),
            _ => Err(Error::NoApi),
        }
    }

    /// Whether [`run`] pipelines the next `GET /next` behind each answer
    /// ([`post_outcome_and_ask_next`](Self::post_outcome_and_ask_next)) or sends it after the
    /// acknowledgement ([`post_outcome`](Self::post_outcome)). On by default.
    pub fn set_pipelining(&mut self, on: bool) {
        self.pipelining = on;
    }

    /// Connections opened so far.
    pub fn connections(&self) -> usize {
        self.connections
    }

    /// Waits for the next invocation (`GET …/invocation/next`) and fills `inv`.
    /// No deadline: the Runtime API holds this request until there is work.
    pub fn next(&mut self, inv: &mut Invocation) -> Result<(), Error> {
        self.next_until(inv, None)
    }

    /// [`next`](Self::next), given up (an `Io` error of kind `TimedOut`) at `deadline`.
    pub fn next_until(&mut self, inv: &mut Invocation, deadline: Option<Instant>) -> Result<(), Error> {
        self.out.clear();
        write_head(&mut self.out, "GET", &self.next_path, &self.host, None, None);
        // Sent already (pipelined behind the last answer) on the connection still open: only
        // its response is read; were that connection found closed, `out` asks again.
        let sent = std::mem::take(&mut self.next_asked) && self.conn.is_some();
        inv.request_id.clear();
        inv.trace_id.clear();
        inv.function_arn.clear();
        inv.deadline_ms = None;
        inv.deadline = None;
        let mut ids = 0usize;
        let status = self.exchange(deadline, &mut inv.body, sent, false, |name, value| {
            if name.eq_ignore_ascii_case("lambda-runtime-aws-request-id") {
                // A second id is a protocol error, never a concatenation or a choice.
                ids += 1;
                if ids > 1 {
                    return Err("more than one Lambda-Runtime-Aws-Request-Id");
                }
                if !valid_request_id(value) {
                    return Err("malformed Lambda-Runtime-Aws-Request-Id");
                }
                inv.request_id.push_str(std::str::from_utf8(value).unwrap_or_default());
            } else if name.eq_ignore_ascii_case("lambda-runtime-deadline-ms") {
                inv.deadline_ms = std::str::from_utf8(value).ok().and_then(|v| v.parse().ok());
            } else if name.eq_ignore_ascii_case("lambda-runtime-trace-id") {
                inv.trace_id.clear();
                inv.trace_id.push_str(&String::from_utf8_lossy(value));
            } else if name.eq_ignore_ascii_case("lambda-runtime-invoked-function-arn") {
                inv.function_arn.clear();
                inv.function_arn.push_str(&String::from_utf8_lossy(value));
            }
            Ok(())
        })?;
        if status != 200 {
            return Err(Error::Status(status));
        }
        if inv.request_id.is_empty() {
            return Err(Error::Protocol("missing Lambda-Runtime-Aws-Request-Id"));
        }
        let now_ms = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis());
        inv.deadline = inv.deadline_ms.and_then(|d| {
            let left = u64::try_from(u128::from(d).saturating_sub(now_ms)).unwrap_or(u64::MAX);
            Instant::now().checked_add(Duration::from_millis(left))
        });
        Ok(())
    }

    /// Posts an invocation's outcome (`…/{id}/response` or `…/{id}/error`), reads the
    /// acknowledgement, and returns its HTTP status (202 when accepted). The whole answer is
    /// bounded by the invocation's deadline ([`DEFAULT_TIMEOUT`] from now when there is none
    /// or it has passed); a spent deadline is an `Io` error of kind `TimedOut`.
    pub fn post_outcome(&mut self, inv: &Invocation, outcome: &Outcome<'_>) -> Result<u16, Error> {
        self.post_then(inv, outcome, false)
    }

    /// [`post_outcome`](Self::post_outcome), with the next invocation asked for in the same
    /// write: the `POST` and a `GET …/invocation/next` are pipelined (RFC 9112 §9.3.2: a client
    /// MAY send several requests without waiting; the server answers them in order), which
    /// saves a write and a wake-up per invocation (docs/performance.md §2). The
    /// acknowledgement is read here, under the invocation's deadline; the next invocation's
    /// response is read by the following [`next`](Self::next) (when the acknowledgement
    /// leaves the connection unusable, that `next` asks again on a fresh one).
    pub fn post_outcome_and_ask_next(&mut self, inv: &Invocation, outcome: &Outcome<'_>) -> Result<u16, Error> {
        self.post_then(inv, outcome, true)
    }

    fn post_then(&mut self, inv: &Invocation, outcome: &Outcome<'_>, ask_next: bool) -> Result<u16, Error> {
        self.forget_asked_next();
        let now = Instant::now();
        let deadline = inv.deadline.filter(|d| *d > now).unwrap_or(now + DEFAULT_TIMEOUT);
        if !valid_request_id(inv.request_id.as_bytes()) {
            return Err(Error::Protocol("malformed Lambda-Runtime-Aws-Request-Id"));
        }
        let mut path = String::with_capacity(64);
        path.push_str(&self.prefix);
        path.push_str("/2018-06-01/runtime/invocation/");
        path.push_str(&inv.request_id);
        self.out.clear();
        match outcome {
            Outcome::Response(body) => {
                path.push_str("/response");
                write_head(&mut self.out, "POST", &path, &self.host, Some(body.len()), None);
                self.out.extend_from_slice(body);
            }
            Outcome::Error { error_type, message } => {
                path.push_str("/error");
                let body = diagnostic(error_type, message);
                write_head(&mut self.out, "POST", &path, &self.host, Some(body.len()), Some("unhandled"));
                self.out.extend_from_slice(body.as_bytes());
            }
        }
        if ask_next {
            write_head(&mut self.out, "GET", &self.next_path, &self.host, None, None);
        }
        let mut ack = Vec::new();
        let status = self.exchange(Some(deadline), &mut ack, false, ask_next, |_, _| Ok(()))?;
        // The `GET` is answered on this connection only if it is still open after the
        // acknowledgement (a server closing it never reads the `GET`: RFC 9112 §9.6).
        self.next_asked = ask_next && self.conn.is_some();
        Ok(status)
    }

    /// Reports an initialization failure (`POST /runtime/init/error`) and returns the
    /// acknowledgement's status. Lambda freezes or ends the process after this, so it is
    /// the only report there will be: an attempt that gets no answer within
    /// [`INIT_ERROR_ATTEMPT`] (an emulator such as `cargo lambda watch` can leave it
    /// unanswered while it starts the invocation), cannot connect, or is answered 5xx is
    /// made again on a new connection, until [`INIT_ERROR_BUDGET`] is spent.
    pub fn init_error(&mut self, error_type: &str, message: &str) -> Result<u16, Error> {
        self.forget_asked_next();
        let body = diagnostic(error_type, message);
        let path = format!("{}{INIT_ERROR}", self.prefix);
        let until = Instant::now() + INIT_ERROR_BUDGET;
        loop {
            self.out.clear();
            write_head(&mut self.out, "POST", &path, &self.host, Some(body.len()), Some(error_type));
            self.out.extend_from_slice(body.as_bytes());
            let result = self.post(Some((Instant::now() + INIT_ERROR_ATTEMPT).min(until)));
            let again = match &result {
                Ok(status) => *status >= 500,
                Err(Error::Io(_)) => true,
                Err(_) => false,
            };
            let pause = Duration::from_millis(100);
            if !again || Instant::now() + pause >= until {
                return result;
            }
            self.conn = None;
            std::thread::sleep(pause);
        }
    }

    /// A request other than `next` while a pipelined `GET /next` is still unanswered on the
    /// connection (not what [`run`] does): that connection is dropped, so its pending response
    /// can never be read as this request's.
    fn forget_asked_next(&mut self) {
        if std::mem::take(&mut self.next_asked) {
            self.conn = None;
        }
    }

    fn post(&mut self, deadline: Option<Instant>) -> Result<u16, Error> {
        let mut ack = Vec::new();
        self.exchange(deadline, &mut ack, false, false, |_, _| Ok(()))
    }

    /// Sends `self.out` (unless `sent`: it was sent already) and reads the whole response
    /// (body into `body`; `pipelined`: another request follows it, see
    /// [`http::read_response`]), retrying once — sending `self.out` — on a fresh connection
    /// when a reused one turns out closed before any response byte. Returns the status.
    fn exchange(
        &mut self,
        deadline: Option<Instant>,
        body: &mut Vec<u8>,
        sent: bool,
        pipelined: bool,
        mut on_header: impl FnMut(&str, &[u8]) -> Result<(), &'static str>,
    ) -> Result<u16, Error> {
        let reused = self.conn.is_some();
        match self.try_exchange(deadline, body, sent, pipelined, &mut on_header) {
            Err(http::Failure::BeforeResponse(_)) if reused => {
                self.conn = None;
                self.try_exchange(deadline, body, false, pipelined, &mut on_header).map_err(into_error)
            }
            r => r.map_err(into_error),
        }
        .inspect_err(|_| self.conn = None)
    }

    fn try_exchange(
        &mut self,
        deadline: Option<Instant>,
        body: &mut Vec<u8>,
        sent: bool,
        pipelined: bool,
        on_header: &mut impl FnMut(&str, &[u8]) -> Result<(), &'static str>,
    ) -> Result<u16, http::Failure> {
        if self.conn.is_none() {
            let stream = connect(&self.host, deadline).map_err(|e| http::Failure::Fatal(e.into()))?;
            stream.set_nodelay(true).map_err(|e| http::Failure::Fatal(e.into()))?;
            self.connections += 1;
            self.inbuf.clear();
            self.timeouts = Timeouts::default();
            self.conn = Some(stream);
        }
        let Client { conn: Some(stream), inbuf, out, timeouts, .. } = self else { unreachable!("connected above") };
        let mut io = Timed { stream, deadline, timeouts };
        if !sent {
            io.write_all(out).map_err(http::Failure::BeforeResponse)?;
        }
        let response = http::read_response(&mut io, inbuf, body, pipelined, on_header)?;
        if !response.reusable {
            self.conn = None;
        }
        Ok(response.status)
    }
}

fn into_error(failure: http::Failure) -> Error {
    match failure {
        http::Failure::BeforeResponse(e) => Error::Io(e),
        http::Failure::Fatal(e) => e,
    }
}

fn timed_out() -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, "no answer before the deadline")
}

/// Time left before `deadline`, or a `TimedOut` error once it is spent.
fn left(deadline: Instant) -> io::Result<Duration> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() { Err(timed_out()) } else { Ok(left) }
}

/// Connects to `host`, within the deadline when there is one.
fn connect(host: &str, deadline: Option<Instant>) -> io::Result<TcpStream> {
    let Some(deadline) = deadline else { return TcpStream::connect(host) };
    let mut last = io::Error::new(io::ErrorKind::InvalidInput, "no address for the Runtime API");
    for addr in host.to_socket_addrs()? {
        match TcpStream::connect_timeout(&addr, left(deadline)?) {
            Ok(stream) => return Ok(stream),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// The timeouts currently set on a socket (`None`: none, it waits forever).
#[derive(Debug, Default, Clone, Copy)]
struct Timeouts {
    read: Option<Duration>,
    write: Option<Duration>,
}

/// The connection under a deadline: before every read and write the socket's timeout is made
/// at most the time left, so the deadline bounds the whole exchange, not each syscall — a
/// server that trickles one byte at a time cannot stretch it. A timeout that runs out before
/// the deadline (it was set shorter) is not an error: the call is made again, with the
/// timeout shrunk to what is left. Without a deadline, a timeout left on the socket by an
/// earlier answer only makes the call start again.
///
/// Timeouts are set only when they must shrink, and then to half the time left: the next
/// answer, with a deadline as far away, finds the timeout short enough already, so a warm
/// worker makes no `setsockopt` per invocation (it made four: ~5 % of its CPU at 8 workers,
/// docs/performance.md §6).
struct Timed<'a> {
    stream: &'a TcpStream,
    deadline: Option<Instant>,
    timeouts: &'a mut Timeouts,
}

/// Makes `current` (the socket's timeout for one direction) at most the time left before
/// `deadline`, through `set`; a spent deadline is a `TimedOut` error.
fn bound(
    current: &mut Option<Duration>,
    deadline: Option<Instant>,
    set: impl FnOnce(Option<Duration>) -> io::Result<()>,
) -> io::Result<()> {
    let Some(deadline) = deadline else {
        // No deadline (a parked `GET /next`): a short timeout left by an answer near its
        // deadline would wake the worker often for nothing; anything of a second or more is
        // kept (a wake-up a second at most, and no syscall per invocation).
        if current.is_some_and(|t| t < IDLE_TIMEOUT_FLOOR) {
            set(None)?;
            *current = None;
        }
        return Ok(());
    };
    let left = left(deadline)?;
    if current.is_none_or(|t| t > left) {
        let t = (left / 2).max(Duration::from_millis(1)).min(left);
        set(Some(t))?;
        *current = Some(t);
    }
    Ok(())
}

/// Shortest socket timeout kept while waiting without a deadline (see [`bound`]).
const IDLE_TIMEOUT_FLOOR: Duration = Duration::from_secs(1);

/// Whether an I/O error is a socket timeout running out (EAGAIN on Unix).
fn ran_out(e: &io::Error) -> bool {
    matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut)
}

impl Read for Timed<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            bound(&mut self.timeouts.read, self.deadline, |t| self.stream.set_read_timeout(t))?;
            match (&mut &*self.stream).read(buf) {
                // The socket's timeout, not necessarily the deadline: `bound` says which.
                Err(e) if ran_out(&e) => continue,
                r => return r,
            }
        }
    }
}

impl Write for Timed<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        loop {
            bound(&mut self.timeouts.write, self.deadline, |t| self.stream.set_write_timeout(t))?;
            match (&mut &*self.stream).write(buf) {
                Err(e) if ran_out(&e) => continue,
                r => return r,
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// `lambda_runtime`'s error body: `{"errorType":…,"errorMessage":…}`.
fn diagnostic(error_type: &str, message: &str) -> String {
    serde_json::json!({ "errorType": error_type, "errorMessage": message }).to_string()
}

fn write_head(out: &mut Vec<u8>, method: &str, path: &str, host: &str, len: Option<usize>, error_type: Option<&str>) {
    // Values come from this program or the validated request id; strip CR/LF regardless.
    let clean = |s: &str| s.replace(['\r', '\n'], "");
    let _ = write!(out, "{method} {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {USER_AGENT}\r\n");
    if let Some(len) = len {
        let _ = write!(out, "Content-Type: application/json\r\nContent-Length: {len}\r\n");
    }
    if let Some(t) = error_type {
        let _ = write!(out, "Lambda-Runtime-Function-Error-Type: {}\r\n", clean(t));
    }
    out.extend_from_slice(b"\r\n");
}

/// Serves invocations until the Runtime API fails, and returns why: `handler` answers each
/// invocation (its request id and trace id are for its log lines). A handler panic (when
/// panics unwind) becomes that invocation's error and the loop goes on; a result the
/// Runtime API refuses (e.g. 410, past the deadline) is logged and the loop goes on; an I/O
/// or protocol failure of the Runtime API ends it with the error. Once `shutdown` is
/// stopping (SIGTERM), it asks for no new invocation and stands by; each invocation is in
/// flight for `shutdown` from its event received to its answer posted
/// ([`crate::function::shutdown`]).
pub fn run(
    client: &mut Client,
    shutdown: &crate::function::shutdown::Shutdown,
    mut handler: impl FnMut(&Invocation) -> Outcome<'static>,
) -> Error {
    let mut inv = Invocation::default();
    loop {
        // Stopping (SIGTERM): no new invocation; the thread that caught it ends the process.
        if shutdown.stopping() {
            shutdown.stand_by();
        }
        if let Err(e) = client.next(&mut inv) {
            return e;
        }
        // In flight from here until the answer is posted (the end of this iteration).
        let _in_flight = shutdown.begin();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handler(&inv)))
            .unwrap_or(Outcome::Error { error_type: "Runtime.Panic", message: "the handler panicked" });
        let posted = if client.pipelining {
            client.post_outcome_and_ask_next(&inv, &outcome)
        } else {
            client.post_outcome(&inv, &outcome)
        };
        match posted {
            Ok(status) if !(200..300).contains(&status) => {
                let ctx = crate::function::log::Context { request_id: &inv.request_id, trace_id: &inv.trace_id };
                crate::function::log::warn_in(
                    &ctx,
                    &format!("the Runtime API answered HTTP {status} to an invocation result"),
                );
            }
            Ok(_) => {}
            Err(e) => return e,
        }
    }
}

/// The one test Runtime API server, shared with the integration tests.
#[cfg(test)]
#[path = "../../tests/common/runtime_api.rs"]
mod test_runtime_api;

#[cfg(test)]
mod tests {
    use super::test_runtime_api::{ACK, Action, Recorded as Seen, RuntimeApi};
    use super::*;
    use std::net::TcpListener;
    use std::sync::mpsc;
    use std::thread;
    use std::time::Instant;

    /// What the server answers to each request, in order: raw bytes written as they are
    /// (so tests can send chunked bodies, closes, junk). `None`: close the connection
    /// without answering.
    type Script = Vec<Option<Vec<u8>>>;

    fn event_response(id: &str, body: &str) -> Option<Vec<u8>> {
        Some(
            format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nLambda-Runtime-Aws-Request-Id: {id}\r\n\
                 Lambda-Runtime-Deadline-Ms: 4102444800000\r\nLambda-Runtime-Trace-Id: Root=1-abc;Sampled=0\r\n\
                 Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:1:function:f\r\n\
                 Content-Length: {}\r\n\r\n{body}",
                body.len()
            )
            .into_bytes(),
        )
    }

    fn ack() -> Option<Vec<u8>> {
        Some(ACK.to_vec())
    }

    /// The shared test Runtime API playing `script`; its address, and the server (it reports
    /// every request it reads).
    fn server(script: Script) -> (String, RuntimeApi) {
        let api = RuntimeApi::scripted(script);
        (api.addr.to_string(), api)
    }

    #[test]
    fn socket_timeouts_are_set_only_to_shrink_below_the_deadline() {
        let mut calls = Vec::new();
        let mut current = None;
        let far = Instant::now() + Duration::from_secs(10);
        bound(&mut current, Some(far), |t| {
            calls.push(t);
            Ok(())
        })
        .unwrap();
        let set = current.expect("a timeout was set");
        assert!(set <= Duration::from_secs(5) && set > Duration::from_secs(4), "{set:?}");
        // The next answer, as far from its deadline: no syscall.
        bound(&mut current, Some(Instant::now() + Duration::from_secs(10)), |t| {
            calls.push(t);
            Ok(())
        })
        .unwrap();
        assert_eq!(calls.len(), 1);
        // A nearer deadline: shrunk below what is left.
        bound(&mut current, Some(Instant::now() + Duration::from_millis(400)), |t| {
            calls.push(t);
            Ok(())
        })
        .unwrap();
        assert_eq!(calls.len(), 2);
        assert!(current.unwrap() <= Duration::from_millis(400));
        // Without a deadline, a timeout under a second is cleared, not kept to wake an idle worker.
        bound(&mut current, None, |t| {
            calls.push(t);
            Ok(())
        })
        .unwrap();
        assert_eq!((calls.last().copied(), current), (Some(None), None));
        let mut long = Some(Duration::from_secs(5));
        bound(&mut long, None, |t| {
            calls.push(t);
            Ok(())
        })
        .unwrap();
        assert_eq!((calls.len(), long), (3, Some(Duration::from_secs(5))));
        // A spent deadline is an error, whatever the socket has.
        let spent = bound(&mut current, Some(Instant::now()), |_| Ok(()));
        assert_eq!(spent.unwrap_err().kind(), io::ErrorKind::TimedOut);
    }

    #[test]
    fn invocations_round_trip_on_one_kept_alive_connection() {
        let mut script = Vec::new();
        for i in 0..5 {
            script.push(event_response(&format!("id-{i}"), &format!("{{\"n\":{i}}}")));
            script.push(ack());
        }
        let (addr, seen) = server(script);
        let mut c = Client::new(&addr);
        let mut inv = Invocation::default();
        for i in 0..5 {
            c.next(&mut inv).unwrap();
            assert_eq!(inv.request_id, format!("id-{i}"));
            assert_eq!(inv.body, format!("{{\"n\":{i}}}").as_bytes());
            assert_eq!(inv.deadline_ms, Some(4_102_444_800_000));
            assert_eq!(inv.trace_id, "Root=1-abc;Sampled=0");
            assert_eq!(inv.function_arn, "arn:aws:lambda:us-east-1:1:function:f");
            assert!(inv.remaining().unwrap() > Duration::from_secs(3600));
            assert_eq!(c.post_outcome(&inv, &Outcome::Response(b"{\"ok\":true}".to_vec())).unwrap(), 202);
        }
        assert_eq!(c.connections(), 1, "the acknowledgement is read, so the connection is reused");
        let all: Vec<Seen> = seen.drain().into_iter().collect();
        assert_eq!(all.len(), 10);
        assert!(all.iter().all(|s| s.conn == 0));
        assert_eq!((all[0].method.as_str(), all[0].path.as_str()), ("GET", NEXT));
        assert_eq!(all[1].path, "/2018-06-01/runtime/invocation/id-0/response");
        assert_eq!(all[1].body, b"{\"ok\":true}");
        assert_eq!(all[1].header("content-type"), Some("application/json"));
        assert!(all[0].header("host").is_some() && all[0].header("user-agent").is_some());
    }

    #[test]
    fn errors_use_lambda_runtimes_format() {
        let (addr, seen) = server(vec![event_response("abc-1", "{}"), ack(), ack()]);
        let mut c = Client::new(&addr);
        let mut inv = Invocation::default();
        c.next(&mut inv).unwrap();
        let out = Outcome::Error { error_type: "Unauthorized", message: "Unauthorized" };
        assert_eq!(c.post_outcome(&inv, &out).unwrap(), 202);
        assert_eq!(c.init_error("Runtime.ConfigError", "invalid configuration: JWT_X: \"bad\"").unwrap(), 202);
        let all: Vec<Seen> = seen.drain().into_iter().collect();
        let err = &all[1];
        assert_eq!(err.path, "/2018-06-01/runtime/invocation/abc-1/error");
        assert_eq!(err.header("Lambda-Runtime-Function-Error-Type"), Some("unhandled"));
        let body: serde_json::Value = serde_json::from_slice(&err.body).unwrap();
        assert_eq!(body, serde_json::json!({"errorType": "Unauthorized", "errorMessage": "Unauthorized"}));
        let init = &all[2];
        assert_eq!(init.path, INIT_ERROR);
        assert_eq!(init.header("Lambda-Runtime-Function-Error-Type"), Some("Runtime.ConfigError"));
        let body: serde_json::Value = serde_json::from_slice(&init.body).unwrap();
        assert_eq!(body["errorMessage"], "invalid configuration: JWT_X: \"bad\"");
    }

    #[test]
    fn chunked_bodies_and_closed_connections() {
        let chunked = b"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: c-1\r\nTransfer-Encoding: chunked\r\n\r\n\
            4\r\n{\"a\"\r\n3;ext=1\r\n:1}\r\n0\r\nX-Trailer: y\r\n\r\n"
            .to_vec();
        let close_after = b"HTTP/1.1 202 Accepted\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}".to_vec();
        let (addr, seen) = server(vec![Some(chunked), Some(close_after), event_response("c-2", "[]"), None]);
        let mut c = Client::new(&addr);
        let mut inv = Invocation::default();
        c.next(&mut inv).unwrap();
        assert_eq!((inv.request_id.as_str(), &inv.body[..]), ("c-1", &b"{\"a\":1}"[..]));
        assert_eq!(inv.deadline_ms, None);
        assert_eq!(inv.trace_id, "");
        assert_eq!(c.post_outcome(&inv, &Outcome::Response(b"1".to_vec())).unwrap(), 202);
        c.next(&mut inv).unwrap(); // after `Connection: close`: a new connection
        assert_eq!(inv.request_id, "c-2");
        assert_eq!(c.connections(), 2);
        // the server now closes without answering the POST: reconnect once, then fail cleanly
        assert!(c.post_outcome(&inv, &Outcome::Response(b"1".to_vec())).is_err());
        let conns: Vec<usize> = seen.drain().into_iter().map(|s| s.conn).collect();
        assert_eq!(&conns[..3], &[0, 0, 1]);
    }

    #[test]
    fn the_next_request_goes_out_with_the_answer_and_is_asked_again_after_a_closing_ack() {
        let closing_ack = b"HTTP/1.1 202 Accepted\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}".to_vec();
        let script = vec![
            event_response("p-0", "{}"),
            ack(),
            event_response("p-1", "{}"),
            Some(closing_ack),
            event_response("p-2", "{}"),
            ack(),
        ];
        let (addr, seen) = server(script);
        let mut c = Client::new(&addr);
        let mut inv = Invocation::default();
        c.next(&mut inv).unwrap();
        assert_eq!(inv.request_id, "p-0");
        assert_eq!(c.post_outcome_and_ask_next(&inv, &Outcome::Response(b"{\"n\":0}".to_vec())).unwrap(), 202);
        // The GET went out with the answer: only its response is read.
        c.next(&mut inv).unwrap();
        assert_eq!((inv.request_id.as_str(), c.connections()), ("p-1", 1));
        // This acknowledgement closes the connection: the GET that rode with it was never read.
        assert_eq!(c.post_outcome_and_ask_next(&inv, &Outcome::Error { error_type: "E", message: "m" }).unwrap(), 202);
        c.next(&mut inv).unwrap();
        assert_eq!((inv.request_id.as_str(), c.connections()), ("p-2", 2));
        assert_eq!(c.post_outcome(&inv, &Outcome::Response(b"{}".to_vec())).unwrap(), 202);
        let all = seen.drain();
        let got: Vec<(usize, &str, &str, bool)> =
            all.iter().map(|s| (s.conn, s.method.as_str(), s.path.as_str(), s.pipelined)).collect();
        assert_eq!(
            got,
            [
                (0, "GET", NEXT, false),
                (0, "POST", "/2018-06-01/runtime/invocation/p-0/response", true),
                (0, "GET", NEXT, false),
                (0, "POST", "/2018-06-01/runtime/invocation/p-1/error", true),
                (1, "GET", NEXT, false),
                (1, "POST", "/2018-06-01/runtime/invocation/p-2/response", false),
            ]
        );
        assert_eq!(all[1].body, b"{\"n\":0}");
    }

    #[test]
    fn after_each_kind_of_ack_the_pipelined_request_is_read_or_asked_again() {
        // (the acknowledgement, whether the connection it came on serves the pipelined GET)
        let acks: [(&[u8], bool); 5] = [
            (b"HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\nok", true),
            (b"HTTP/1.1 204 No Content\r\n\r\n", true),
            (b"HTTP/1.1 410 Gone\r\nContent-Length: 2\r\n\r\nno", true),
            (b"HTTP/1.0 202 Accepted\r\nContent-Length: 2\r\n\r\nok", false),
            (b"HTTP/1.1 202 Accepted\r\n\r\nread to the end", false), // the server closes
        ];
        for (ack_bytes, kept) in acks {
            let what = String::from_utf8_lossy(ack_bytes).lines().next().unwrap().to_owned();
            let script =
                vec![event_response("k-0", "{}"), Some(ack_bytes.to_vec()), event_response("k-1", "{}"), ack()];
            let (addr, seen) = server(script);
            let (tx, rx) = mpsc::channel();
            let name = what.clone();
            thread::spawn(move || {
                let mut c = Client::new(&addr);
                let mut inv = Invocation::default();
                c.next(&mut inv).unwrap();
                let status = c.post_outcome_and_ask_next(&inv, &Outcome::Response(b"{}".to_vec())).unwrap();
                assert_eq!(status, name.split(' ').nth(1).unwrap().parse::<u16>().unwrap(), "{name}");
                let asked = c.next_asked;
                c.next(&mut inv).unwrap_or_else(|e| panic!("{name}: {e}"));
                let _ = tx.send((asked, inv.request_id.clone(), c.connections()));
            });
            let (asked, id, connections) = rx.recv_timeout(Duration::from_secs(10)).expect("the client hung");
            assert_eq!(asked, kept, "{what}: the pipelined GET still expected on this connection");
            assert_eq!((id.as_str(), connections), ("k-1", if kept { 1 } else { 2 }), "{what}");
            let gets: Vec<usize> = seen.drain().into_iter().filter(|s| s.method == "GET").map(|s| s.conn).collect();
            assert_eq!(gets, if kept { vec![0, 0] } else { vec![0, 1] }, "{what}: where the GETs were read");
        }
    }

    #[test]
    fn a_pipelined_request_on_a_connection_closed_after_the_ack_is_asked_again() {
        let script = vec![event_response("s-0", "{}"), ack(), None, event_response("s-1", "{}"), ack()];
        let (addr, _seen) = server(script);
        let mut c = Client::new(&addr);
        let mut inv = Invocation::default();
        c.next(&mut inv).unwrap();
        assert_eq!(c.post_outcome_and_ask_next(&inv, &Outcome::Response(b"{}".to_vec())).unwrap(), 202);
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let r = c.next(&mut inv).map(|_| (inv.request_id.clone(), c.connections()));
            let _ = tx.send(r.map_err(|e| e.to_string()));
        });
        let got = rx.recv_timeout(Duration::from_secs(10)).expect("next() hung");
        assert_eq!(got, Ok(("s-1".to_owned(), 2)));
    }

    #[test]
    fn another_request_while_a_pipelined_one_is_unanswered_never_reads_its_response() {
        // Not what `run` does, but the client is public: a POST (or an init error) after a
        // pipelined GET whose response was not read goes on a new connection, never taking the
        // event as its acknowledgement. The server answers by method, whatever the order.
        let api = RuntimeApi::serve(|_, req| {
            Action::Write(if req.method == "GET" { event_response("x-0", "{}").unwrap() } else { ACK.to_vec() })
        });
        let mut c = Client::new(&api.addr.to_string());
        let mut inv = Invocation::default();
        c.next(&mut inv).unwrap();
        assert_eq!(c.post_outcome_and_ask_next(&inv, &Outcome::Response(b"{}".to_vec())).unwrap(), 202);
        assert_eq!(c.post_outcome(&inv, &Outcome::Response(b"{}".to_vec())).unwrap(), 202, "the event read as the ack");
        assert_eq!(c.connections(), 2);
        c.next(&mut inv).unwrap();
        assert_eq!(c.post_outcome_and_ask_next(&inv, &Outcome::Response(b"{}".to_vec())).unwrap(), 202);
        assert_eq!(c.init_error("Runtime.X", "m").unwrap(), 202, "the event read as the init error's ack");
        assert_eq!(c.connections(), 3);
    }

    #[test]
    fn an_idle_connection_closed_by_the_server_is_replaced() {
        // The server answers one /next, then closes that connection (a kept-alive idle
        // connection dropped): the POST is retried on a new one and succeeds.
        let (addr, seen) = server(vec![event_response("r-1", "{}"), None, ack()]);
        let mut c = Client::new(&addr);
        let mut inv = Invocation::default();
        c.next(&mut inv).unwrap();
        // the server reads our POST on connection 0 then closes it: still counted as "seen"
        let status = c.post_outcome(&inv, &Outcome::Response(b"{}".to_vec()));
        assert_eq!(status.unwrap(), 202);
        assert_eq!(c.connections(), 2);
        let posts: Vec<Seen> = seen.drain().into_iter().filter(|s| s.method == "POST").collect();
        assert_eq!(posts.last().unwrap().conn, 1);
    }

    #[test]
    fn failures_are_errors_not_panics() {
        let junk = |b: &[u8]| Some(b.to_vec());
        let cases: Vec<(Option<Vec<u8>>, &str)> = vec![
            (junk(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n"), "status"),
            (junk(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"), "no request id"),
            (junk(b"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: ../x\r\nContent-Length: 0\r\n\r\n"), "bad id"),
            (junk(b"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: a\r\nContent-Length: x\r\n\r\n"), "length"),
            (junk(b"garbage\r\n\r\n"), "status line"),
            (junk(b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n"), "header"),
            (junk(b"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: a\r\nContent-Length: 10\r\n\r\n{}"), "short"),
            (junk(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n"), "encoding"),
            (junk(format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", MAX_BODY + 1).as_bytes()), "too large"),
            (junk(&[b'a'; MAX_HEAD + 10]), "head too large"),
            (None, "closed"),
        ];
        for (answer, what) in cases {
            let (addr, _seen) = server(vec![answer]);
            let mut c = Client::new(&addr);
            assert!(c.next(&mut Invocation::default()).is_err(), "{what}");
        }
        // nobody listening
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut c = Client::new(&format!("127.0.0.1:{port}"));
        assert!(matches!(c.next(&mut Invocation::default()), Err(Error::Io(_))));
    }

    #[test]
    fn the_loop_answers_reports_panics_and_stops_on_a_runtime_api_failure() {
        let script = vec![
            event_response("a", "1"),
            ack(),
            event_response("b", "2"),
            ack(),
            Some(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n".to_vec()),
        ];
        let (addr, seen) = server(script);
        let mut c = Client::new(&addr);
        let mut traces = Vec::new();
        let r = run(&mut c, &crate::function::shutdown::Shutdown::new(), |inv| {
            traces.push(inv.trace_id.clone());
            if inv.body == b"2" {
                panic!("boom");
            }
            Outcome::Response(b"\"ok\"".to_vec())
        });
        assert!(matches!(r, Error::Status(500)), "{r:?}");
        assert_eq!(traces, ["Root=1-abc;Sampled=0"; 2]);
        let posts: Vec<Seen> = seen.drain().into_iter().filter(|s| s.method == "POST").collect();
        assert_eq!(posts[0].path, "/2018-06-01/runtime/invocation/a/response");
        assert_eq!(posts[1].path, "/2018-06-01/runtime/invocation/b/error");
        let body: serde_json::Value = serde_json::from_slice(&posts[1].body).unwrap();
        assert_eq!(body["errorType"], "Runtime.Panic");
    }

    fn next_with(answer: &[u8]) -> (Result<(), Error>, Vec<Seen>) {
        let (addr, seen) = server(vec![Some(answer.to_vec()), ack()]);
        let mut c = Client::new(&addr);
        let mut inv = Invocation::default();
        let r = c.next(&mut inv);
        if r.is_ok() {
            let _ = c.post_outcome(&inv, &Outcome::Response(b"{}".to_vec()));
        }
        (r, seen.drain().into_iter().collect())
    }

    #[test]
    fn request_ids_are_letters_digits_and_dashes_and_never_reach_a_path() {
        let head = |ids: &[&str]| {
            let mut h = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n".to_owned();
            for id in ids {
                h.push_str(&format!("Lambda-Runtime-Aws-Request-Id: {id}\r\n"));
            }
            h.push_str("\r\n{}");
            h.into_bytes()
        };
        let long = "a".repeat(MAX_REQUEST_ID + 1);
        for bad in [
            &[".."][..],
            &["a.b"],
            &["../x"],
            &["a_b"],
            &["a%2e"],
            &["a b"],
            &["a\u{1}b"],
            &[long.as_str()],
            &["a", "b"],
            &["a", "a"],
            &[""],
        ] {
            let (r, seen) = next_with(&head(bad));
            assert!(matches!(r, Err(Error::Protocol(_))), "{bad:?}: {r:?}");
            assert!(seen.iter().all(|s| s.method == "GET"), "{bad:?}: nothing is posted: {seen:?}");
        }
        let max = "Z".repeat(MAX_REQUEST_ID);
        for good in ["8476a536-e9f4-11e8-9739-2dfe598c3fcd", "req-1", max.as_str()] {
            let (r, seen) = next_with(&head(&[good]));
            assert!(r.is_ok(), "{good}: {r:?}");
            assert_eq!(seen[1].path, format!("/2018-06-01/runtime/invocation/{good}/response"));
        }
    }

    #[test]
    fn control_bytes_in_the_trace_id_cost_only_the_trace_id() {
        let answer = b"HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: t-1\r\n\
            Lambda-Runtime-Trace-Id: Root=1-\x00abc;\x01\x7fSampled=0\r\nContent-Length: 2\r\n\r\n{}";
        let (addr, _seen) = server(vec![Some(answer.to_vec()), ack()]);
        let mut c = Client::new(&addr);
        let mut inv = Invocation::default();
        c.next(&mut inv).unwrap();
        assert_eq!(inv.trace_id, "Root=1- abc;  Sampled=0");
        assert_eq!(c.post_outcome(&inv, &Outcome::Response(b"{}".to_vec())).unwrap(), 202);
    }

    #[test]
    fn a_response_with_bytes_left_over_or_read_to_the_end_is_not_reused() {
        let leftover = b"HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\n{}HTTP/1.1 200 OK\r\n\r\n".to_vec();
        let to_eof = b"HTTP/1.1 202 Accepted\r\n\r\n{}".to_vec();
        let (addr, seen) = server(vec![
            event_response("a-1", "{}"),
            Some(leftover),
            event_response("a-2", "{}"),
            Some(to_eof),
            event_response("a-3", "{}"),
        ]);
        let mut c = Client::new(&addr);
        let mut inv = Invocation::default();
        c.next(&mut inv).unwrap();
        assert_eq!(c.post_outcome(&inv, &Outcome::Response(b"1".to_vec())).unwrap(), 202);
        c.next(&mut inv).unwrap();
        assert_eq!(inv.request_id, "a-2", "the leftover bytes were not read as this response");
        assert_eq!(c.connections(), 2);
        c.post_outcome(&inv, &Outcome::Response(b"1".to_vec())).unwrap();
        c.next(&mut inv).unwrap();
        assert_eq!((inv.request_id.as_str(), c.connections()), ("a-3", 3));
        let conns: Vec<usize> = seen.drain().into_iter().map(|s| s.conn).collect();
        assert_eq!(conns, [0, 0, 1, 1, 2]);
    }

    /// A Runtime API that reads one request per connection and answers it with `answer`
    /// one byte every `every` (up to 30 s), or not at all when `answer` is empty — except
    /// the connections numbered in `fine`, answered at once with an acknowledgement.
    fn slow_server(answer: &'static [u8], every: Duration, fine: &'static [usize]) -> RuntimeApi {
        RuntimeApi::serve(move |conn, _| match fine.contains(&conn.n) {
            true => Action::WriteThenClose(ACK.to_vec()),
            false => Action::Trickle(answer.to_vec(), every),
        })
    }

    #[test]
    fn the_deadline_bounds_the_whole_answer_against_a_trickling_server() {
        // One header byte every 50 ms, forever: each read succeeds, so only a deadline on
        // the whole answer stops it.
        let api = slow_server(
            b"HTTP/1.1 202 Accepted\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            Duration::from_millis(50),
            &[],
        );
        let mut c = Client::new(&api.addr.to_string());
        let inv = Invocation {
            request_id: "slow-1".into(),
            deadline: Some(Instant::now() + Duration::from_millis(800)),
            ..Invocation::default()
        };
        let start = Instant::now();
        let r = c.post_outcome(&inv, &Outcome::Response(b"{}".to_vec()));
        let took = start.elapsed();
        assert!(matches!(&r, Err(Error::Io(e)) if e.kind() == io::ErrorKind::TimedOut), "{r:?}");
        assert!(took < Duration::from_secs(5), "the answer took {took:?} for an 800 ms deadline");
    }

    #[test]
    fn the_init_error_report_survives_a_runtime_api_that_does_not_answer_at_first() {
        // The first two connections get no answer (as `cargo lambda watch` sometimes did);
        // the third is answered: the report arrives, within the budget.
        for _ in 0..3 {
            let api = slow_server(b"", Duration::from_millis(50), &[2]);
            let mut c = Client::new(&api.addr.to_string());
            let start = Instant::now();
            assert_eq!(c.init_error("Runtime.ConfigError", "invalid configuration: JWT_X").unwrap(), 202);
            assert!(start.elapsed() < INIT_ERROR_BUDGET);
            assert_eq!(c.connections(), 3);
        }
        // Answered slowly (one byte every 10 ms: ~1 s) but within an attempt: one connection.
        let api = slow_server(ACK_BYTES, Duration::from_millis(10), &[]);
        let mut c = Client::new(&api.addr.to_string());
        assert_eq!(c.init_error("Runtime.ConfigError", "x").unwrap(), 202);
        assert_eq!(c.connections(), 1);
        // Never answered: an error once the budget is spent, not a hang.
        let api = slow_server(b"", Duration::from_millis(50), &[]);
        let addr = api.addr.to_string();
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || tx.send(Client::new(&addr).init_error("Runtime.ConfigError", "x").is_err()));
        let failed = rx.recv_timeout(INIT_ERROR_BUDGET + Duration::from_secs(3));
        assert_eq!(failed, Ok(true), "an error within the budget");
    }

    const ACK_BYTES: &[u8] = b"HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: 0\r\n\r\n";
}
