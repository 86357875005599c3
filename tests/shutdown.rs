//! Issue 16, item 2: `SIGTERM` at every concurrency, on the real binary against the test
//! Runtime API. Lambda's shutdown phase
//! (<https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html#runtimes-lifecycle-shutdown>)
//! sends the runtime `SIGTERM` and leaves it up to 300 ms (500 ms with an internal
//! extension) before `SIGKILL`: the function takes no new invocation, answers those in
//! flight, writes the last metrics line (counting every decision) and exits 0 — with one
//! invocation at a time (`AWS_LAMBDA_MAX_CONCURRENCY` 1) and with several workers.
//!
//! Every wait is bounded: a hung binary fails the test instead of hanging CI.

mod common;

use common::runtime_api::{Action, RuntimeApi, STEP};
use common::{public_pem, signer};
use jwt_authorizer::jwt::header::Alg;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const ROUTE_ARN: &str = "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/GET/orders";

/// The running binary, its stderr read line by line as it comes (to act on a log line), its
/// stdout read to the end. Killed (by its own pid) when dropped.
struct Function {
    child: Child,
    lines: Receiver<String>,
    stderr: Vec<String>,
    stdout: Option<JoinHandle<String>>,
}

impl Function {
    fn spawn(api: &RuntimeApi, env: &[(&str, &str)]) -> Function {
        let mut child = Command::new(env!("CARGO_BIN_EXE_jwt-authorizer"))
            .env_clear()
            .env("AWS_LAMBDA_RUNTIME_API", api.addr.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", "jwt-authorizer")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn the jwt-authorizer binary");
        let (tx, lines) = mpsc::channel();
        let stderr = BufReader::new(child.stderr.take().unwrap());
        std::thread::spawn(move || stderr.lines().map_while(Result::ok).try_for_each(|l| tx.send(l)));
        let mut out = child.stdout.take().unwrap();
        let stdout = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = out.read_to_string(&mut text);
            text
        });
        Function { child, lines, stderr: Vec::new(), stdout: Some(stdout) }
    }

    fn sigterm(&self) {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill").args(["-TERM", &pid]).status().expect("run kill").success());
    }

    /// Waits (bounded) for a stderr line containing `text`; `false` if stderr ends first (the
    /// process is gone).
    fn wait_line(&mut self, text: &str) -> bool {
        let deadline = Instant::now() + STEP;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    let found = line.contains(text);
                    self.stderr.push(line);
                    if found {
                        return true;
                    }
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => return false,
                Err(mpsc::RecvTimeoutError::Timeout) => panic!("no {text:?} on stderr within {STEP:?}"),
            }
        }
    }

    /// Waits (bounded) for the process to exit; its status, stdout and the rest of stderr.
    fn exit(mut self) -> (ExitStatus, String, Vec<String>) {
        let deadline = Instant::now() + STEP;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                break status;
            }
            assert!(Instant::now() < deadline, "the function did not exit within {STEP:?}");
            std::thread::sleep(Duration::from_millis(10));
        };
        let stdout = self.stdout.take().unwrap().join().unwrap();
        while let Ok(line) = self.lines.recv_timeout(STEP) {
            self.stderr.push(line);
        }
        (status, stdout, std::mem::take(&mut self.stderr))
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn token(key: &str, sub: &str) -> String {
    let t = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    signer(key).sign(&json!({ "sub": sub, "iat": t, "nbf": t - 5, "exp": t + 300 }), Alg::RS256, None)
}

fn v2(token: &str) -> Vec<u8> {
    json!({
        "version": "2.0", "type": "REQUEST", "routeArn": ROUTE_ARN,
        "identitySource": [format!("Bearer {token}")],
        "requestContext": { "http": { "method": "GET", "path": "/prod/orders" } }
    })
    .to_string()
    .into_bytes()
}

/// Key A, metrics on, written only at the end (the interval is an hour), `concurrency`.
fn env(concurrency: &str) -> Vec<(&'static str, String)> {
    vec![
        ("JWT_PUBLIC_KEY", public_pem("rsa2048-a")),
        ("JWT_METRICS_NAMESPACE", "JwtAuthorizer".into()),
        ("JWT_METRICS_INTERVAL_SECONDS", "3600".into()),
        ("AWS_LAMBDA_MAX_CONCURRENCY", concurrency.into()),
    ]
}

fn pairs<'a>(env: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    env.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// The metrics lines on stdout.
fn metrics_lines(stdout: &str) -> Vec<Value> {
    stdout.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l:?}"))).collect()
}

#[test]
fn sigterm_writes_the_last_metrics_line_and_exits_0_at_every_concurrency() {
    for concurrency in ["1", "4"] {
        let workers: usize = concurrency.parse().unwrap();
        let api = RuntimeApi::start(Vec::new());
        let env = env(concurrency);
        let mut function = Function::spawn(&api, &pairs(&env));
        api.wait_parked(workers);
        let allow = v2(&token("rsa2048-a", "user_1"));
        let forged = v2(&token("rsa2048-b", "user_1"));
        let mut events = vec![allow; 5]; // one verification, then cache hits
        events.extend([forged.clone(), forged, b"not json".to_vec()]);
        let n = events.len();
        api.push(events);
        let posts = api.posts(n, STEP, &mut Vec::new());
        assert_eq!(posts.len(), n);
        api.wait_parked(workers); // every answer acknowledged, every worker idle again
        function.sigterm();
        assert!(function.wait_line("shutting down (SIGTERM)"), "{concurrency}: the process died on SIGTERM");
        let (status, stdout, stderr) = function.exit();
        assert_eq!(status.code(), Some(0), "{concurrency}: {status} {stderr:?}");
        let lines = metrics_lines(&stdout);
        assert_eq!(lines.len(), 1, "{concurrency}: one line, written at SIGTERM: {stdout}");
        let l = &lines[0];
        let count = |name: &str| l[name].as_u64();
        assert_eq!(count("Decisions"), Some(8), "{concurrency}: every decision counted: {l}");
        assert_eq!((count("Allowed"), count("Denied")), (Some(5), Some(3)), "{concurrency}");
        assert_eq!((count("Denied.bad_signature"), count("Denied.bad_event")), (Some(2), Some(1)), "{concurrency}");
        assert!(!stderr.iter().any(|l| l.contains("ERROR")), "{concurrency}: {stderr:?}");
    }
}

/// A gate the test opens once; the server waits on it (bounded).
#[derive(Default)]
struct Gate(Mutex<bool>, Condvar);

impl Gate {
    fn open(&self) {
        *self.0.lock().unwrap() = true;
        self.1.notify_all();
    }

    fn wait(&self) -> bool {
        let open = self.0.lock().unwrap();
        let (open, _) = self.1.wait_timeout_while(open, STEP, |open| !*open).unwrap();
        *open
    }
}

/// An invocation whose answer is posted before `SIGTERM` and acknowledged only after the
/// function has logged that it is shutting down: the function still reads that
/// acknowledgement (the Runtime API answers 413 here so that reading it shows in the log —
/// `the Runtime API answered HTTP 413 to an invocation result`), and only then writes the
/// last metrics line and exits 0. Today's code died on `SIGTERM` with one invocation at a
/// time, and with workers flushed and exited at once, leaving the invocation unfinished.
#[test]
fn an_invocation_in_flight_at_sigterm_is_finished_before_the_last_line_and_the_exit() {
    for concurrency in ["1", "4"] {
        let gate = Arc::new(Gate::default());
        let (event, handed) = (v2(&token("rsa2048-a", "user_1")), Mutex::new(false));
        let held = gate.clone();
        let api = RuntimeApi::serve(move |_, req| {
            if req.method == "POST" {
                // The answer is recorded (the test sees it) before this waits.
                if !held.wait() {
                    return Action::Close;
                }
                return Action::Write(b"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 0\r\n\r\n".to_vec());
            }
            let mut handed = handed.lock().unwrap();
            if std::mem::replace(&mut *handed, true) {
                return Action::Silent; // no further invocation: this GET stays parked
            }
            let mut answer = format!(
                "HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: req-1\r\nLambda-Runtime-Deadline-Ms: {}\r\nContent-Length: {}\r\n\r\n",
                SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() + 60_000,
                event.len()
            )
            .into_bytes();
            answer.extend_from_slice(&event);
            Action::Write(answer)
        });
        let env = env(concurrency);
        let mut function = Function::spawn(&api, &pairs(&env));
        let post = api.next_post("the answer to req-1");
        assert_eq!(post.path, "/2018-06-01/runtime/invocation/req-1/response", "{concurrency}");
        function.sigterm();
        let alive = function.wait_line("shutting down (SIGTERM)");
        gate.open();
        assert!(alive, "{concurrency}: the process died on SIGTERM");
        let (status, stdout, stderr) = function.exit();
        assert_eq!(status.code(), Some(0), "{concurrency}: {status} {stderr:?}");
        assert!(
            stderr.iter().any(|l| l.contains("HTTP 413")),
            "{concurrency}: the acknowledgement was not read before the exit: {stderr:?}"
        );
        assert!(!stderr.iter().any(|l| l.contains("still in flight")), "{concurrency}: {stderr:?}");
        let lines = metrics_lines(&stdout);
        assert_eq!(lines.len(), 1, "{concurrency}: {stdout}");
        assert_eq!(lines[0]["Decisions"].as_u64(), Some(1), "{concurrency}: {stdout}");
    }
}

/// `runtime::run` (the loop every worker and the single-invocation path run) asks for no new
/// invocation once the process is stopping, and an invocation ends (its `InFlight` dropped)
/// only once its answer has been acknowledged. Here the handler of the first invocation sets
/// "stopping" itself (as `SIGTERM` would while it is in flight); a second invocation is
/// waiting, and a loop that asked for it would be seen asking.
#[test]
fn once_stopping_the_loop_asks_for_no_new_invocation() {
    use jwt_authorizer::function::runtime::{self, Client, Outcome};
    use jwt_authorizer::function::shutdown::Shutdown;
    let api = RuntimeApi::start(vec![b"{\"n\":1}".to_vec(), b"{\"n\":2}".to_vec()]);
    let shutdown = Arc::new(Shutdown::new());
    let (s, addr) = (shutdown.clone(), api.addr.to_string());
    let (in_flight_tx, in_flight) = mpsc::channel();
    std::thread::spawn(move || {
        let mut client = Client::new(&addr).unwrap();
        client.set_pipelining(false); // so that asking for the next one is a request of its own
        runtime::run(&mut client, &s, |inv| {
            // Stopping while this invocation is in flight: `stop` gives up at once and says so.
            in_flight_tx.send(s.stop(Duration::ZERO)).unwrap();
            Outcome::Response(inv.body.clone())
        })
    });
    let first = api.next_request("GET /next");
    assert_eq!((first.method.as_str(), first.path.as_str()), ("GET", "/2018-06-01/runtime/invocation/next"));
    assert_eq!(in_flight.recv_timeout(STEP).unwrap(), 1, "the invocation is in flight while it is handled");
    let post = api.next_post("the answer");
    assert_eq!(post.path, "/2018-06-01/runtime/invocation/req-1/response");
    // Acknowledged: nothing is in flight any more, and no further request comes.
    let deadline = Instant::now() + STEP;
    while shutdown.in_flight() > 0 {
        assert!(Instant::now() < deadline, "the invocation never ended");
        std::thread::sleep(Duration::from_millis(5));
    }
    let more = api.requests.recv_timeout(Duration::from_millis(300));
    assert!(more.is_err(), "asked for a new invocation while stopping: {more:?}");
    assert_eq!(api.shared.queue.lock().unwrap().len(), 1, "req-2 was not taken");
}
