//! The Runtime API a function process talks to, and one measured run of that process.
//!
//! A listener on 127.0.0.1 (a new one for every spawned process, so a killed process's late
//! request can never take the next one's event), one thread per connection, HTTP/1.1
//! keep-alive. `GET …/invocation/next` parks until the driver releases work and fewer than
//! `in_flight` invocations are out, so many can be parked at once, as on Lambda Managed
//! Instances (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html).

use crate::events::Load;
use crate::http::{Conn, Head};
use crate::procfs;
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const ACK: &[u8] = b"{\"status\":\"OK\"}";
const ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:jwt-authorizer";
const TRACE: &str = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0";
const ID_PREFIX: &str = "8e5b7c1a-0000-4000-8000-";

/// How one invocation was answered.
#[derive(Clone, Copy, PartialEq)]
enum Answer {
    None,
    Ok,
    Wrong,
}

#[derive(Default)]
struct State {
    closed: bool,
    /// Invocations `[0, release)` may be handed out.
    release: usize,
    next: usize,
    in_flight: usize,
    max_in_flight: usize,
    answers: Vec<Answer>,
    answered: usize,
    duplicates: usize,
    unknown: usize,
    wrong: Vec<String>,
    errors_posted: usize,
    parked: usize,
    /// The driver is waiting for this many parked requests (`usize::MAX`: it is not).
    watch_parked: usize,
    parked_before_first: usize,
    first_next: Option<Instant>,
    first_answer: Option<Instant>,
    last_answer: Option<Instant>,
    init_error: Option<String>,
    connections: usize,
    /// The body of the first answer (`error <type>` for an error).
    first_body: Option<String>,
}

struct Shared {
    state: Mutex<State>,
    /// Parked `GET /next` requests wait here.
    work: Condvar,
    /// The driver waits here.
    driver: Condvar,
    load: Arc<Load>,
    check: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn request_id(i: usize) -> String {
    format!("{ID_PREFIX}{i:012x}")
}

fn parse_request_id(id: &str) -> Option<usize> {
    let hex = id.strip_prefix(ID_PREFIX)?;
    if hex.len() != 12 {
        return None;
    }
    usize::from_str_radix(hex, 16).ok()
}

fn now_ms() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis())
}

/// `--split-writes`: send every response's head and body in two writes (two TCP segments,
/// with `TCP_NODELAY`), as Python's `http.server` does, instead of one. A diagnostic: it
/// shows what that costs the function (docs/performance.md).
pub static SPLIT_WRITES: AtomicBool = AtomicBool::new(false);

/// `--delay-us N`: wait N µs before handing out each event, as a slower Runtime API would (a
/// diagnostic: how the time a function sleeps between invocations changes its CPU per
/// invocation).
pub static DELAY_US: AtomicU64 = AtomicU64::new(0);

/// Writes a response whose head ends at `head_len`.
fn send(conn: &mut Conn, out: &[u8], head_len: usize) -> io::Result<()> {
    if SPLIT_WRITES.load(Ordering::Relaxed) {
        conn.write_all(&out[..head_len])?;
        conn.write_all(&out[head_len..])
    } else {
        conn.write_all(out)
    }
}

fn reply(conn: &mut Conn, status: &str, body: &[u8]) -> io::Result<()> {
    let mut out =
        format!("HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n", body.len())
            .into_bytes();
    let head_len = out.len();
    out.extend_from_slice(body);
    send(conn, &out, head_len)
}

/// Serves one connection until EOF, an error, or the end of the run.
fn serve(shared: &Shared, stream: TcpStream) -> io::Result<()> {
    let mut conn = Conn::new(stream)?;
    let mut body = Vec::with_capacity(4096);
    let mut out = Vec::with_capacity(8192);
    while let Some(head) = conn.read_request()? {
        conn.read_body(&head, &mut body)?;
        let path = head.path.as_str();
        let Some(rest) = path.strip_prefix("/2018-06-01/runtime/") else {
            reply(&mut conn, "404 Not Found", b"{\"errorMessage\":\"unknown path\"}")?;
            continue;
        };
        match (head.method.as_str(), rest) {
            ("GET", "invocation/next") => {
                let Some(i) = park(shared) else { return Ok(()) };
                let delay = DELAY_US.load(Ordering::Relaxed);
                if delay > 0 {
                    std::thread::sleep(Duration::from_micros(delay));
                }
                let event = shared.load.event(i);
                out.clear();
                out.extend_from_slice(
                    format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nLambda-Runtime-Aws-Request-Id: {}\r\n\
                         Lambda-Runtime-Deadline-Ms: {}\r\nLambda-Runtime-Invoked-Function-Arn: {ARN}\r\n\
                         Lambda-Runtime-Trace-Id: {TRACE}\r\nContent-Length: {}\r\n\r\n",
                        request_id(i),
                        now_ms() + 30_000,
                        event.body.len()
                    )
                    .as_bytes(),
                );
                let head_len = out.len();
                out.extend_from_slice(&event.body);
                send(&mut conn, &out, head_len)?;
            }
            ("POST", "init/error") => {
                let mut st = shared.lock();
                st.init_error = Some(format!("{} {}", head.error_type, String::from_utf8_lossy(&body)));
                drop(st);
                shared.driver.notify_all();
                reply(&mut conn, "202 Accepted", ACK)?;
            }
            ("POST", rest) => {
                let Some((id, kind)) = rest.strip_prefix("invocation/").and_then(|r| r.rsplit_once('/')) else {
                    reply(&mut conn, "404 Not Found", b"{\"errorMessage\":\"unknown path\"}")?;
                    continue;
                };
                let ok = match kind {
                    "response" => answer(shared, id, Some(&body), &head),
                    "error" => answer(shared, id, None, &head),
                    _ => false,
                };
                if ok {
                    reply(&mut conn, "202 Accepted", ACK)?;
                } else {
                    reply(&mut conn, "400 Bad Request", b"{\"errorMessage\":\"unknown or answered request id\"}")?;
                }
            }
            _ => reply(&mut conn, "404 Not Found", b"{\"errorMessage\":\"unknown path\"}")?,
        }
    }
    Ok(())
}

/// Parks a `GET /next` until an invocation may be handed out; `None` when the run is over.
fn park(shared: &Shared) -> Option<usize> {
    let mut st = shared.lock();
    let first = st.first_next.is_none();
    st.first_next.get_or_insert_with(Instant::now);
    st.parked += 1;
    if st.next == 0 {
        st.parked_before_first = st.parked_before_first.max(st.parked);
    }
    // Wake the driver only when what it waits for may hold (not once per request).
    if first || st.parked >= st.watch_parked {
        shared.driver.notify_all();
    }
    loop {
        if st.closed {
            st.parked -= 1;
            return None;
        }
        if st.next < st.release && st.in_flight < st.max_in_flight {
            let i = st.next;
            st.next += 1;
            st.in_flight += 1;
            st.parked -= 1;
            return Some(i);
        }
        st = shared.work.wait(st).unwrap_or_else(|e| e.into_inner());
    }
}

/// Records the answer to invocation `id` (`body` for a response, `None` for an error).
/// `false` when the id was never handed out or was already answered.
fn answer(shared: &Shared, id: &str, body: Option<&[u8]>, head: &Head) -> bool {
    let at = Instant::now();
    let Some(i) = parse_request_id(id) else {
        shared.lock().unknown += 1;
        return false;
    };
    // Check outside the lock: it parses JSON.
    let verdict = if !shared.check || i >= shared.load.len() {
        Ok(())
    } else {
        shared.load.event(i).expect.check(body, &head.error_type)
    };
    let mut st = shared.lock();
    if i >= st.next {
        st.unknown += 1;
        return false;
    }
    if st.answers[i] != Answer::None {
        st.duplicates += 1;
        return false;
    }
    st.answers[i] = if verdict.is_ok() { Answer::Ok } else { Answer::Wrong };
    if let Err(e) = verdict
        && st.wrong.len() < 5
    {
        st.wrong.push(format!("invocation {i}: {e}"));
    }
    if body.is_none() {
        st.errors_posted += 1;
    }
    if st.first_body.is_none() {
        st.first_body = Some(match body {
            Some(b) => String::from_utf8_lossy(b).into_owned(),
            None => format!("error {}", head.error_type),
        });
    }
    st.in_flight -= 1;
    st.answered += 1;
    st.first_answer.get_or_insert(at);
    st.last_answer = Some(at);
    let all_answered = st.answered >= st.release;
    drop(st);
    shared.work.notify_one();
    if all_answered {
        shared.driver.notify_all();
    }
    true
}

/// How a function process is started.
#[derive(Clone)]
pub struct Spawn {
    pub program: PathBuf,
    /// A command the program runs under (e.g. `qemu-aarch64-static -L /usr/aarch64-linux-gnu`
    /// for an arm64 binary; its timings then mean nothing).
    pub runner: Vec<String>,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    /// `AWS_LAMBDA_MAX_CONCURRENCY`, when set.
    pub max_concurrency: Option<usize>,
}

/// One measured run: a listener, a spawned function, its connections.
pub struct Run {
    shared: Arc<Shared>,
    addr: SocketAddr,
    child: Child,
    stderr: PathBuf,
    spawned: Instant,
    acceptor: Option<std::thread::JoinHandle<()>>,
}

pub type Fail = String;

impl Run {
    pub fn start(spawn: &Spawn, load: Arc<Load>, total: usize, in_flight: usize, check: bool) -> Result<Run, Fail> {
        let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("bind: {e}"))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                max_in_flight: in_flight.max(1),
                watch_parked: usize::MAX,
                answers: vec![Answer::None; total],
                ..State::default()
            }),
            work: Condvar::new(),
            driver: Condvar::new(),
            load,
            check,
        });
        let acceptor = {
            let shared = shared.clone();
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    let Ok(stream) = stream else { continue };
                    let mut st = shared.lock();
                    if st.closed {
                        return;
                    }
                    st.connections += 1;
                    drop(st);
                    let shared = shared.clone();
                    std::thread::spawn(move || {
                        let _ = serve(&shared, stream);
                    });
                }
            })
        };
        static SEQ: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let stderr = std::env::temp_dir().join(format!("loadgen-{}-{seq}.stderr", std::process::id()));
        let errfile = std::fs::File::create(&stderr).map_err(|e| format!("{}: {e}", stderr.display()))?;
        let mut cmd = match spawn.runner.split_first() {
            Some((runner, runner_args)) => {
                let mut c = Command::new(runner);
                c.args(runner_args).arg(&spawn.program);
                c
            }
            None => Command::new(&spawn.program),
        };
        cmd.args(&spawn.args)
            .env_remove("AWS_LAMBDA_MAX_CONCURRENCY")
            .envs(spawn.env.iter().map(|(k, v)| (k, v)))
            .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", "jwt-authorizer")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/jwt-authorizer")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "2026/11/30/[1]0123456789abcdef")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env("_HANDLER", "bootstrap")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(errfile);
        if let Some(n) = spawn.max_concurrency {
            cmd.env("AWS_LAMBDA_MAX_CONCURRENCY", n.to_string());
        }
        let spawned = Instant::now();
        let child = cmd.spawn().map_err(|e| format!("{}: {e}", spawn.program.display()))?;
        Ok(Run { shared, addr, child, stderr, spawned, acceptor: Some(acceptor) })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits until `done` holds, the deadline passes, the function posts an init error or
    /// exits (the last three are errors).
    fn wait(&mut self, deadline: Instant, done: impl Fn(&State) -> bool) -> Result<(), Fail> {
        let shared = self.shared.clone();
        let mut st = shared.lock();
        loop {
            if done(&st) {
                return Ok(());
            }
            if let Some(e) = &st.init_error {
                return Err(format!("the function posted an init error: {e}"));
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("the function exited ({status})"));
            }
            let now = Instant::now();
            if now >= deadline {
                return Err("timed out".into());
            }
            let slice = (deadline - now).min(Duration::from_millis(50));
            st = shared.driver.wait_timeout(st, slice).unwrap_or_else(|e| e.into_inner()).0;
        }
    }

    /// Waits for the first `GET /next`; returns exec → first `GET /next`.
    pub fn wait_init(&mut self, timeout: Duration) -> Result<Duration, Fail> {
        self.wait(Instant::now() + timeout, |st| st.first_next.is_some())?;
        let first = self.shared.lock().first_next.unwrap_or_else(Instant::now);
        Ok(first - self.spawned)
    }

    /// Waits (up to `timeout`) until `n` `GET /next` are parked; returns how many are.
    pub fn wait_parked(&mut self, n: usize, timeout: Duration) -> usize {
        self.shared.lock().watch_parked = n;
        let _ = self.wait(Instant::now() + timeout, |st| st.parked >= n);
        let mut st = self.shared.lock();
        st.watch_parked = usize::MAX;
        st.parked
    }

    /// Lets invocations `[0, upto)` be handed out and waits until all are answered.
    pub fn serve_until(&mut self, upto: usize, timeout: Duration) -> Result<(), Fail> {
        self.shared.lock().release = upto;
        self.shared.work.notify_all();
        self.wait(Instant::now() + timeout, |st| st.answered >= upto).map_err(|e| {
            let st = self.shared.lock();
            format!("{e}: {} of {upto} invocations answered, {} handed out", st.answered, st.next)
        })
    }

    pub fn since_spawn(&self, t: Instant) -> Duration {
        t.saturating_duration_since(self.spawned)
    }

    pub fn first_answer(&self) -> Option<Instant> {
        self.shared.lock().first_answer
    }

    pub fn last_answer(&self) -> Option<Instant> {
        self.shared.lock().last_answer
    }

    pub fn snapshot(&self) -> Result<procfs::Cpu, Fail> {
        procfs::cpu(self.pid()).map_err(|e| format!("/proc/{}: {e}", self.pid()))
    }

    /// Ends the run: reads the process's figures, kills it, stops every server thread.
    pub fn finish(mut self) -> Outcome {
        let pid = self.pid();
        let peak_rss_kib = procfs::status_kib(pid, "VmHWM").unwrap_or(0);
        let threads = procfs::status_kib(pid, "Threads").unwrap_or(0);
        let _ = self.child.kill();
        let _ = self.child.wait();
        let mut st = self.shared.lock();
        st.closed = true;
        drop(st);
        self.shared.work.notify_all();
        // Wake the acceptor so that it sees `closed`.
        let _ = TcpStream::connect(self.addr);
        if let Some(a) = self.acceptor.take() {
            let _ = a.join();
        }
        let st = self.shared.lock();
        let lost = st.answers.iter().take(st.release).filter(|a| **a == Answer::None).count();
        let out = Outcome {
            peak_rss_kib,
            threads,
            connections: st.connections,
            parked_before_first: st.parked_before_first,
            answered: st.answered,
            lost,
            duplicates: st.duplicates,
            unknown: st.unknown,
            wrong: st.answers.iter().filter(|a| **a == Answer::Wrong).count(),
            wrong_examples: st.wrong.clone(),
            errors_posted: st.errors_posted,
            first_answer: st.first_body.clone(),
            stderr_tail: stderr_tail(&self.stderr),
        };
        let _ = std::fs::remove_file(&self.stderr);
        out
    }
}

fn stderr_tail(path: &PathBuf) -> String {
    let text = std::fs::read(path).unwrap_or_default();
    let tail = &text[text.len().saturating_sub(600)..];
    String::from_utf8_lossy(tail).into_owned()
}

/// What the server saw over a run.
pub struct Outcome {
    pub peak_rss_kib: u64,
    pub threads: u64,
    pub connections: usize,
    pub parked_before_first: usize,
    pub answered: usize,
    pub lost: usize,
    pub duplicates: usize,
    pub unknown: usize,
    pub wrong: usize,
    pub wrong_examples: Vec<String>,
    pub errors_posted: usize,
    pub first_answer: Option<String>,
    pub stderr_tail: String,
}

impl Outcome {
    /// Problems with the answers: lost, doubled, unknown or wrong ones.
    pub fn problems(&self) -> Vec<String> {
        let mut p = Vec::new();
        for (n, what) in [
            (self.lost, "lost"),
            (self.duplicates, "answered twice"),
            (self.unknown, "answers to unknown ids"),
            (self.wrong, "wrong answers"),
        ] {
            if n > 0 {
                p.push(format!("{n} {what}"));
            }
        }
        p.extend(self.wrong_examples.iter().cloned());
        p
    }
}
