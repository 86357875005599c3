//! The one test Lambda Runtime API (HTTP/1.1 on 127.0.0.1, keep-alive), shared by every test
//! that needs one: the integration tests (`mod common;`) and the Runtime API client's unit
//! tests (`src/function/runtime/mod.rs` includes this file by path).
//!
//! One server, three ways to answer:
//! - [`RuntimeApi::start`]: an emulator. Invocations `req-1`, `req-2`, … from a queue;
//!   `/next` long-polls while the queue is empty; results and init errors are acknowledged.
//! - [`RuntimeApi::scripted`]: raw bytes, one answer per request in order, whatever the
//!   connection (chunked bodies, closes, junk).
//! - [`RuntimeApi::serve`]: any answer a test decides per request, including none at all
//!   ([`Action::Silent`]) or one byte at a time ([`Action::Trickle`]).
//!
//! Every connection is served on its own thread (any number of `/next` can be parked at once)
//! and numbered in the order it was accepted; every request read is sent to
//! [`RuntimeApi::requests`] before it is answered. Every wait is bounded.
#![allow(dead_code)] // each test crate uses a different subset

use serde_json::Value;
use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Longest any single step may take (debug binary, shared CI machine).
pub const STEP: Duration = Duration::from_secs(30);
pub const FUNCTION_ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:jwt-authorizer";
/// An acknowledgement of a result or an init error, as Lambda's Runtime API sends it.
pub const ACK: &[u8] =
    b"HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: 15\r\n\r\n{\"status\":\"OK\"}";
/// How long [`Action::Silent`] and [`Action::Trickle`] keep a connection.
const HOLD: Duration = Duration::from_secs(30);

/// One request the client made.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// Which connection it came on (0, 1, … in the order they were accepted).
    pub conn: usize,
    /// The request line as sent (`GET /2018-06-01/runtime/invocation/next HTTP/1.1`).
    pub line: String,
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Bytes of the next request had already arrived when this one was read whole (the client
    /// pipelined them).
    pub pipelined: bool,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!("{} {}: body is not JSON ({e}): {:?}", self.method, self.path, String::from_utf8_lossy(&self.body))
        })
    }
}

/// How the server answers one request.
pub enum Action {
    /// Write these bytes; keep the connection when they are framed (a `Content-Length` or a
    /// `Transfer-Encoding`), else close it: the body ends when the server closes (RFC 9112 §6.3).
    /// A response that says `Connection: close` closes it too, unread requests and all (§9.6).
    Write(Vec<u8>),
    /// Write these bytes, then close the connection.
    WriteThenClose(Vec<u8>),
    /// Close the connection without answering.
    Close,
    /// Never answer: keep the connection open, silent, for 30 s.
    Silent,
    /// Write the bytes one at a time (cycling through them) every `every`, for 30 s.
    Trickle(Vec<u8>, Duration),
    /// Write these bytes at once, then act as the second action says (for example, a head
    /// at once and its body trickled).
    WriteThen(Vec<u8>, Box<Action>),
    /// Wait this long, then act (an acknowledgement that comes late).
    After(Duration, Box<Action>),
}

/// One connection, as the answering function sees it.
pub struct Conn {
    /// Its number, in the order the connections were accepted.
    pub n: usize,
    /// Invocations handed out on it so far (the emulator counts them).
    pub served: usize,
}

type Respond = dyn Fn(&mut Conn, &Recorded) -> Action + Send + Sync;

/// What the server shares between its connections (the emulator's state, and the counters).
#[derive(Default)]
pub struct Shared {
    /// Invocations not yet handed out: (request id, event bytes).
    pub queue: Mutex<VecDeque<(String, Vec<u8>)>>,
    /// Request ids handed out so far (the next is `req-{issued + 1}`).
    pub issued: AtomicUsize,
    /// `GET /next` waiting right now, and the most ever waiting at once.
    pub parked: AtomicUsize,
    pub max_parked: AtomicUsize,
    pub connections: AtomicUsize,
    /// Each connection serves one invocation at most (then its `/next` waits until the end),
    /// so that consecutive invocations go to different workers.
    pub one_per_connection: AtomicBool,
    /// Connections whose `GET /next` is answered HTTP 500 (and then closed), and whether every
    /// connection's is.
    pub fail_conns: Mutex<Vec<usize>>,
    pub fail_all: AtomicBool,
    pub stop: AtomicBool,
    /// Every invocation's `Lambda-Runtime-Trace-Id`, when set (else one made from its id).
    pub trace: Option<String>,
}

pub struct RuntimeApi {
    pub addr: SocketAddr,
    pub requests: Receiver<Recorded>,
    pub shared: Arc<Shared>,
}

impl RuntimeApi {
    /// The emulator: serves `events` in order as invocations `req-1`, `req-2`, …; once they
    /// are used up, `/next` long-polls (as the real API does) until more are pushed or the
    /// server is dropped.
    pub fn start(events: Vec<Vec<u8>>) -> RuntimeApi {
        RuntimeApi::start_with_trace(events, None)
    }

    /// As `start`, every invocation carrying `trace` as its `Lambda-Runtime-Trace-Id`.
    pub fn start_with_trace(events: Vec<Vec<u8>>, trace: Option<&str>) -> RuntimeApi {
        let shared = Arc::new(Shared { trace: trace.map(str::to_owned), ..Shared::default() });
        let state = shared.clone();
        let api = RuntimeApi::with_shared(
            shared,
            Arc::new(move |conn: &mut Conn, req: &Recorded| emulate(&state, conn, req)),
        );
        api.push(events);
        api
    }

    /// Plays `script`: the answer to each request, in order, whatever its connection; `None`
    /// closes the connection without answering. Once the script is played, the connection
    /// that played its last answer is closed (a truncated answer ends there), and so is any
    /// other.
    pub fn scripted(script: Vec<Option<Vec<u8>>>) -> RuntimeApi {
        let script = Mutex::new(VecDeque::from(script));
        RuntimeApi::serve(move |_, _| {
            let mut script = script.lock().unwrap();
            match (script.pop_front(), script.is_empty()) {
                (Some(Some(bytes)), false) => Action::Write(bytes),
                (Some(Some(bytes)), true) => Action::WriteThenClose(bytes),
                (Some(None), _) | (None, _) => Action::Close,
            }
        })
    }

    /// Answers each request as `respond` decides.
    pub fn serve(respond: impl Fn(&mut Conn, &Recorded) -> Action + Send + Sync + 'static) -> RuntimeApi {
        RuntimeApi::with_shared(Arc::new(Shared::default()), Arc::new(respond))
    }

    fn with_shared(shared: Arc<Shared>, respond: Arc<Respond>) -> RuntimeApi {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = mpsc::channel();
        let state = shared.clone();
        std::thread::spawn(move || {
            for (n, stream) in listener.incoming().enumerate() {
                if state.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                state.connections.fetch_add(1, Ordering::SeqCst);
                let (respond, tx) = (respond.clone(), tx.clone());
                std::thread::spawn(move || serve_connection(stream, Conn { n, served: 0 }, &*respond, &tx));
            }
        });
        RuntimeApi { addr, requests: rx, shared }
    }

    /// Queues more invocations (ids go on from the last one); returns their ids.
    pub fn push(&self, events: Vec<Vec<u8>>) -> Vec<String> {
        let mut queue = self.shared.queue.lock().unwrap();
        events
            .into_iter()
            .map(|e| {
                let id = format!("req-{}", self.shared.issued.fetch_add(1, Ordering::SeqCst) + 1);
                queue.push_back((id.clone(), e));
                id
            })
            .collect()
    }

    /// Waits (bounded) until at least `n` `GET /next` are parked at once.
    pub fn wait_parked(&self, n: usize) {
        let deadline = Instant::now() + STEP;
        while self.parked() < n {
            assert!(Instant::now() < deadline, "fewer than {n} GET /next parked within {STEP:?}");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    pub fn parked(&self) -> usize {
        self.shared.parked.load(Ordering::SeqCst)
    }

    pub fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// The next request the client makes, or a panic after `STEP`.
    pub fn next_request(&self, what: &str) -> Recorded {
        self.requests.recv_timeout(STEP).unwrap_or_else(|_| panic!("no {what} from the function within {STEP:?}"))
    }

    /// The next POST (skipping `/next` polls).
    pub fn next_post(&self, what: &str) -> Recorded {
        let deadline = Instant::now() + STEP;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let r = self.requests.recv_timeout(left).unwrap_or_else(|_| panic!("no {what} within {STEP:?}"));
            if r.method == "POST" {
                return r;
            }
        }
    }

    /// The next `n` POSTs, within `limit` in all; the `GET /next` seen meanwhile go to `gets`.
    pub fn posts(&self, n: usize, limit: Duration, gets: &mut Vec<Recorded>) -> Vec<Recorded> {
        let deadline = Instant::now() + limit;
        let mut posts = Vec::with_capacity(n);
        while posts.len() < n {
            let left = deadline.saturating_duration_since(Instant::now());
            let Ok(r) = self.requests.recv_timeout(left) else {
                panic!("{} of {n} results within {limit:?}", posts.len());
            };
            if r.method == "POST" { posts.push(r) } else { gets.push(r) }
        }
        posts
    }

    /// Everything requested so far (non-blocking).
    pub fn drain(&self) -> Vec<Recorded> {
        self.requests.try_iter().collect()
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1)); // wake accept()
    }
}

/// Counts a `GET /next` as parked for as long as it waits, however it ends.
struct Parked<'a>(&'a Shared);

impl<'a> Parked<'a> {
    fn new(shared: &'a Shared) -> Parked<'a> {
        let now = shared.parked.fetch_add(1, Ordering::SeqCst) + 1;
        shared.max_parked.fetch_max(now, Ordering::SeqCst);
        Parked(shared)
    }
}

impl Drop for Parked<'_> {
    fn drop(&mut self) {
        self.0.parked.fetch_sub(1, Ordering::SeqCst);
    }
}

enum Next {
    Event(String, Vec<u8>),
    Fail,
    Stop,
}

/// Waits for work for a `GET /next` on connection `conn`, which has served `served` so far.
fn next_for(shared: &Shared, conn: usize, served: usize) -> Next {
    let _parked = Parked::new(shared);
    loop {
        if shared.stop.load(Ordering::SeqCst) {
            return Next::Stop;
        }
        if shared.fail_all.load(Ordering::SeqCst) || shared.fail_conns.lock().unwrap().contains(&conn) {
            return Next::Fail;
        }
        if served == 0 || !shared.one_per_connection.load(Ordering::SeqCst) {
            let mut queue = shared.queue.lock().unwrap();
            if let Some((id, event)) = queue.pop_front() {
                return Next::Event(id, event);
            }
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// The emulator's answer to one request.
fn emulate(shared: &Shared, conn: &mut Conn, req: &Recorded) -> Action {
    let (status, headers, body): (&str, Vec<(String, String)>, Vec<u8>) = match (req.method.as_str(), req.path.as_str())
    {
        ("GET", "/2018-06-01/runtime/invocation/next") => {
            let (id, event) = match next_for(shared, conn.n, conn.served) {
                Next::Event(id, event) => (id, event),
                Next::Stop => return Action::Close,
                Next::Fail => {
                    return Action::WriteThenClose(
                        b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n".to_vec(),
                    );
                }
            };
            conn.served += 1;
            let deadline = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() + 60_000;
            let headers = vec![
                ("Content-Type".into(), "application/json".into()),
                ("Lambda-Runtime-Aws-Request-Id".into(), id.clone()),
                ("Lambda-Runtime-Deadline-Ms".into(), deadline.to_string()),
                ("Lambda-Runtime-Invoked-Function-Arn".into(), FUNCTION_ARN.into()),
                (
                    "Lambda-Runtime-Trace-Id".into(),
                    shared.trace.clone().unwrap_or_else(|| {
                        format!("Root=1-65a1b2c3-{:0>24};Parent=53995c3f42cd8ad8;Sampled=0", id.len())
                    }),
                ),
            ];
            ("200 OK", headers, event)
        }
        ("POST", p)
            if p == "/2018-06-01/runtime/init/error"
                || (p.starts_with("/2018-06-01/runtime/invocation/")
                    && (p.ends_with("/response") || p.ends_with("/error"))) =>
        {
            ("202 Accepted", vec![("Content-Type".into(), "application/json".into())], br#"{"status":"OK"}"#.to_vec())
        }
        _ => (
            "404 Not Found",
            vec![("Content-Type".into(), "application/json".into())],
            br#"{"errorMessage":"not found"}"#.to_vec(),
        ),
    };
    let mut head = format!("HTTP/1.1 {status}\r\n");
    for (k, v) in &headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    let mut answer = head.into_bytes();
    answer.extend_from_slice(&body);
    Action::Write(answer)
}

fn serve_connection(stream: TcpStream, mut conn: Conn, respond: &Respond, tx: &Sender<Recorded>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(120)));
    let mut writer = match stream.try_clone() {
        Ok(w) => w,
        Err(_) => return,
    };
    let mut reader = BufReader::new(stream);
    while let Some(mut req) = read_request(&mut reader) {
        req.conn = conn.n;
        let _ = tx.send(req.clone());
        let mut action = respond(&mut conn, &req);
        loop {
            match action {
                Action::WriteThen(bytes, then) => {
                    if writer.write_all(&bytes).and_then(|_| writer.flush()).is_err() {
                        return;
                    }
                    action = *then;
                }
                Action::After(pause, then) => {
                    std::thread::sleep(pause);
                    action = *then;
                }
                other => {
                    if !act(&mut writer, other) {
                        return;
                    }
                    break;
                }
            }
        }
    }
}

/// Carries out one action; whether the connection goes on.
fn act(writer: &mut TcpStream, action: Action) -> bool {
    match action {
        Action::Write(bytes) => {
            if writer.write_all(&bytes).and_then(|_| writer.flush()).is_err() {
                return false;
            }
            let has = |h: &[u8]| bytes.windows(h.len()).any(|w| w.eq_ignore_ascii_case(h));
            // 204 and 304 have no content, so they need no length (RFC 9110 §6.4.1).
            let bodiless = bytes.starts_with(b"HTTP/1.1 204") || bytes.starts_with(b"HTTP/1.1 304");
            let framed = bodiless || has(b"content-length") || has(b"transfer-encoding");
            // HTTP/1.0 (without keep-alive) and `Connection: close` end the connection.
            !(!framed || has(b"connection: close") || bytes.starts_with(b"HTTP/1.0"))
        }
        Action::WriteThenClose(bytes) => {
            let _ = writer.write_all(&bytes);
            false
        }
        Action::Close => false,
        Action::Silent => {
            std::thread::sleep(HOLD);
            false
        }
        Action::Trickle(bytes, every) => {
            let start = Instant::now();
            let mut next = bytes.iter().cycle();
            while start.elapsed() < HOLD {
                if let Some(b) = next.next()
                    && writer.write_all(&[*b]).is_err()
                {
                    return false;
                }
                std::thread::sleep(every);
            }
            false
        }
        Action::WriteThen(..) | Action::After(..) => unreachable!("unfolded by serve_connection"),
    }
}

/// Reads one HTTP/1.1 request (Content-Length or chunked body). `None` at EOF or on error.
fn read_request(r: &mut BufReader<TcpStream>) -> Option<Recorded> {
    let mut line = String::new();
    if r.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next()?.to_owned(), parts.next()?.to_owned());
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if r.read_line(&mut h).ok()? == 0 {
            return None;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':')?;
        headers.push((k.trim().to_owned(), v.trim().to_owned()));
    }
    let get = |name: &str| headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone());
    let mut body = Vec::new();
    if get("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        loop {
            let mut size = String::new();
            r.read_line(&mut size).ok()?;
            let n = usize::from_str_radix(size.trim().split(';').next()?, 16).ok()?;
            let mut chunk = vec![0; n + 2]; // data + CRLF
            r.read_exact(&mut chunk).ok()?;
            if n == 0 {
                break; // (no trailers expected)
            }
            body.extend_from_slice(&chunk[..n]);
        }
    } else if let Some(len) = get("content-length") {
        body.resize(len.parse().ok()?, 0);
        r.read_exact(&mut body).ok()?;
    }
    let pipelined = !r.buffer().is_empty();
    Some(Recorded { conn: 0, line: line.trim_end().to_owned(), method, path, headers, body, pipelined })
}
