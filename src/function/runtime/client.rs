//! The Runtime API client: the requests a function makes ([`Client::next`],
//! [`Client::post_outcome`], [`Client::post_outcome_and_ask_next`], [`Client::init_error`])
//! over one kept-alive [`Connection`], with the pipelining state, under the time rules of
//! [`policy`].
//!
//! The answer to an invocation and the next `GET …/invocation/next` may go out in one write
//! (HTTP/1.1 pipelining, RFC 9112 §9.3.2: a client MAY send several requests without waiting;
//! the server answers them in order): one write and one wake-up per invocation instead of
//! two (docs/performance.md §2). The acknowledgement is read at once; the pipelined `GET`'s
//! response is read by the following [`Client::next`], or asked for again on a new
//! connection when the acknowledgement left the connection unusable (a server closing it
//! never reads the `GET`: RFC 9112 §9.6).

use super::connection::Connection;
use super::endpoint::{Endpoint, VARIABLE};
use super::http::{self, Body, Failure};
use super::invocation::{Invocation, Outcome};
use super::policy::{self, Wait};
use super::{Error, KEEP_EVENT, request};
use std::time::Instant;

/// The Runtime API client: endpoint, one connection, reusable buffers.
pub struct Client {
    api: Endpoint,
    pub(super) conn: Connection,
    /// The request being written.
    out: Vec<u8>,
    /// Where acknowledgements' bodies go: nowhere (nothing of them is kept).
    ack: Vec<u8>,
    /// Whether [`run`](super::run) asks for the next invocation in the write that answers
    /// the last one (default; `JWT_RUNTIME_PIPELINING=off` turns it off).
    pipelining: bool,
    /// A `GET …/invocation/next` was sent on the connection behind an answer and its
    /// response is still to read.
    pub(super) next_asked: bool,
}

impl Client {
    /// A client for a value of `AWS_LAMBDA_RUNTIME_API` (`host:port`, or
    /// `http://host:port/prefix` as `cargo lambda watch` sets it), validated
    /// ([`Endpoint::parse`]). Connects lazily.
    pub fn new(api: &str) -> Result<Client, Error> {
        Endpoint::parse(api).map(Client::at).map_err(Error::BadApi)
    }

    /// A client for a validated endpoint.
    pub fn at(api: Endpoint) -> Client {
        Client {
            api,
            conn: Connection::new(),
            out: Vec::with_capacity(4096),
            ack: Vec::new(),
            pipelining: true,
            next_asked: false,
        }
    }

    /// From `AWS_LAMBDA_RUNTIME_API`: [`Error::NoApi`] when it is unset or empty,
    /// [`Error::BadApi`] when it is not a valid address (or not UTF-8).
    pub fn from_env() -> Result<Client, Error> {
        match std::env::var_os(VARIABLE) {
            None => Err(Error::NoApi),
            Some(v) if v.is_empty() => Err(Error::NoApi),
            Some(v) => Client::new(v.to_str().ok_or(Error::BadApi("not valid UTF-8"))?),
        }
    }

    /// Whether [`run`](super::run) pipelines the next `GET /next` behind each answer
    /// ([`post_outcome_and_ask_next`](Self::post_outcome_and_ask_next)) or sends it after the
    /// acknowledgement ([`post_outcome`](Self::post_outcome)). On by default.
    pub fn set_pipelining(&mut self, on: bool) {
        self.pipelining = on;
    }

    /// Where the Runtime API is.
    pub fn endpoint(&self) -> &Endpoint {
        &self.api
    }

    pub fn pipelining(&self) -> bool {
        self.pipelining
    }

    /// Connections opened so far.
    pub fn connections(&self) -> usize {
        self.conn.opened()
    }

    /// Waits for the next invocation (`GET …/invocation/next`) and fills `inv`.
    /// No deadline for the head: the Runtime API holds this request until there is work.
    pub fn next(&mut self, inv: &mut Invocation) -> Result<(), Error> {
        self.next_until(inv, None)
    }

    /// [`next`](Self::next), given up (an `Io` error of kind `TimedOut`) at `deadline`.
    /// Once the head has arrived, the event's body is read by the invocation's own deadline
    /// ([`policy::by_deadline`]); a body that does not arrive by then is [`Error::Late`]
    /// (the connection is dropped).
    pub fn next_until(&mut self, inv: &mut Invocation, deadline: Option<Instant>) -> Result<(), Error> {
        self.out.clear();
        super::request::next(&mut self.out, &self.api);
        // Sent already (pipelined behind the last answer) on the connection still open: only
        // its response is read; were that connection found closed, `out` asks again.
        let sent = std::mem::take(&mut self.next_asked) && self.conn.is_open();
        inv.clear();
        let (head, _) =
            self.start(sent, deadline, Wait::Until(deadline), &mut |name, value| inv.take_field(name, value))?;
        if head.status != 200 {
            self.conn.close();
            return Err(Error::Status(head.status));
        }
        if let Err(what) = inv.arrived() {
            self.conn.close();
            return Err(Error::Protocol(what));
        }
        let until = policy::by_deadline(inv.deadline, Instant::now());
        self.finish(&head, Some(until), &mut Body::new(&mut inv.body, KEEP_EVENT), false).map_err(|e| match e {
            Error::Io(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                Error::Late("the event did not arrive whole by the invocation's deadline")
            }
            e => e,
        })?;
        Ok(())
    }

    /// Posts an invocation's outcome (`…/{id}/response` or `…/{id}/error`), reads the
    /// acknowledgement, and returns its HTTP status (202 when accepted). Writing the answer
    /// is bounded by the invocation's deadline ([`policy::by_deadline`]); the
    /// acknowledgement is awaited [`policy::ACK_WAIT`] after that. Either one running out is
    /// [`Error::Late`], and the connection is dropped.
    pub fn post_outcome(&mut self, inv: &Invocation, outcome: &Outcome<'_>) -> Result<u16, Error> {
        self.post_then(inv, outcome, false)
    }

    /// [`post_outcome`](Self::post_outcome), with the next invocation asked for in the same
    /// write (see the module's documentation).
    pub fn post_outcome_and_ask_next(&mut self, inv: &Invocation, outcome: &Outcome<'_>) -> Result<u16, Error> {
        self.post_then(inv, outcome, true)
    }

    fn post_then(&mut self, inv: &Invocation, outcome: &Outcome<'_>, ask_next: bool) -> Result<u16, Error> {
        self.forget_asked_next();
        self.out.clear();
        request::outcome(&mut self.out, &self.api, &inv.request_id, outcome)?;
        if ask_next {
            request::next(&mut self.out, &self.api);
        }
        let send_by = policy::by_deadline(inv.deadline, Instant::now());
        let status = self.exchange(Some(send_by), Wait::After(policy::ACK_WAIT), ask_next).map_err(|e| match e {
            Error::Io(e) if e.kind() == std::io::ErrorKind::TimedOut => {
                Error::Late("the answer or its acknowledgement was not through in time")
            }
            e => e,
        })?;
        // The `GET` is answered on this connection only if it is still open after the
        // acknowledgement (a server closing it never reads the `GET`: RFC 9112 §9.6).
        self.next_asked = ask_next && self.conn.is_open();
        Ok(status)
    }

    /// Reports an initialization failure (`POST /runtime/init/error`) and returns the
    /// acknowledgement's status. Lambda freezes or ends the process after this, so it is
    /// the only report there will be: an attempt that gets no answer within
    /// [`policy::INIT_ERROR_ATTEMPT`] (an emulator such as `cargo lambda watch` can leave it
    /// unanswered while it starts the invocation), cannot connect, or is answered 5xx is
    /// made again on a new connection, until [`policy::INIT_ERROR_BUDGET`] is spent.
    pub fn init_error(&mut self, error_type: &str, message: &str) -> Result<u16, Error> {
        self.forget_asked_next();
        let until = Instant::now() + policy::INIT_ERROR_BUDGET;
        loop {
            self.out.clear();
            request::init_error(&mut self.out, &self.api, error_type, message);
            let attempt = Some((Instant::now() + policy::INIT_ERROR_ATTEMPT).min(until));
            let result = self.exchange(attempt, Wait::Until(attempt), false);
            match policy::report_init_error_again(&result, Instant::now(), until) {
                None => return result,
                Some(pause) => {
                    self.conn.close();
                    std::thread::sleep(pause);
                }
            }
        }
    }

    /// A request other than `next` while a pipelined `GET /next` is still unanswered on the
    /// connection (not what [`run`](super::run) does): that connection is dropped, so its
    /// pending response can never be read as this request's.
    fn forget_asked_next(&mut self) {
        if std::mem::take(&mut self.next_asked) {
            self.conn.close();
        }
    }

    /// Sends `self.out` by `send_by` and reads the whole response, whose body is not kept.
    fn exchange(&mut self, send_by: Option<Instant>, wait: Wait, pipelined: bool) -> Result<u16, Error> {
        let (head, until) = self.start(false, send_by, wait, &mut |_, _| Ok(()))?;
        let mut ack = std::mem::take(&mut self.ack);
        let status = self.finish(&head, until, &mut Body::new(&mut ack, 0), pipelined);
        self.ack = ack;
        status
    }

    /// Sends `self.out` (unless `sent`: it was sent already) and reads the head of its
    /// response, made again once on a new connection when [`policy::retry_on_new_connection`]
    /// says so. Returns the head and the instant its body must be read by.
    fn start(
        &mut self,
        sent: bool,
        send_by: Option<Instant>,
        wait: Wait,
        on_header: &mut impl FnMut(&str, &[u8]) -> Result<(), &'static str>,
    ) -> Result<(http::Head, Option<Instant>), Error> {
        let reused = self.conn.is_open();
        match self.try_start(sent, send_by, wait, on_header) {
            Err(f) if policy::retry_on_new_connection(&f, reused) => {
                self.conn.close();
                self.try_start(false, send_by, wait, on_header)
            }
            r => r,
        }
        .map_err(into_error)
        .inspect_err(|_| self.conn.close())
    }

    fn try_start(
        &mut self,
        sent: bool,
        send_by: Option<Instant>,
        wait: Wait,
        on_header: &mut impl FnMut(&str, &[u8]) -> Result<(), &'static str>,
    ) -> Result<(http::Head, Option<Instant>), Failure> {
        self.conn.open(self.api.host(), send_by).map_err(|e| Failure::Fatal(e.into()))?;
        if !sent {
            self.conn.send(&self.out, send_by).map_err(Failure::BeforeResponse)?;
        }
        let until = wait.from(Instant::now());
        Ok((self.conn.read_head(until, on_header)?, until))
    }

    /// Reads the body `head` announces, by `until`.
    fn finish(
        &mut self,
        head: &http::Head,
        until: Option<Instant>,
        body: &mut Body<'_>,
        pipelined: bool,
    ) -> Result<u16, Error> {
        self.conn.read_body(head, until, body, pipelined).map_err(into_error).inspect_err(|_| self.conn.close())
    }
}

fn into_error(failure: Failure) -> Error {
    match failure {
        Failure::BeforeResponse(e) => Error::Io(e),
        Failure::Fatal(e) => e,
    }
}
