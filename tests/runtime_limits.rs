//! What the Runtime API's bytes cannot do to the real function (issue 16): an address that
//! would inject into request heads fails the cold start naming the variable, and one large
//! event per worker leaves no worker holding more than the 1 MiB event limit.

mod common;

use common::public_pem;
use common::runtime_api::{RuntimeApi, STEP};
use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

fn spawn(api: &str, env: &[(&str, &str)]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_jwt-authorizer"))
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", api)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the jwt-authorizer binary")
}

/// Waits (bounded) for `child` to exit; its status and stderr.
fn exit_of(mut child: Child) -> (std::process::ExitStatus, String) {
    let deadline = Instant::now() + STEP;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the function did not exit within {STEP:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    (status, stderr)
}

#[test]
fn a_runtime_api_address_with_cr_lf_fails_the_cold_start_and_reaches_no_head() {
    let api = RuntimeApi::start(Vec::new());
    let pem = public_pem("rsa2048-a");
    let addr = api.addr.to_string();
    for bad in [
        format!("{addr}/x\r\nX-Injected: 1"),
        format!("{addr}\r\nX-Injected: 1"),
        format!("http://{addr}/a b"),
        format!("::1:{}", api.addr.port()),
        " ".to_owned(),
    ] {
        let (status, stderr) = exit_of(spawn(&bad, &[("JWT_PUBLIC_KEY", &pem)]));
        assert!(!status.success(), "{bad:?}: {status}");
        assert!(stderr.contains("invalid configuration: AWS_LAMBDA_RUNTIME_API"), "{bad:?}: {stderr}");
        assert!(!stderr.contains("X-Injected"), "the value is not echoed whole: {stderr}");
    }
    let seen = api.drain();
    assert!(seen.is_empty(), "no request reached the Runtime API: {seen:?}");
}

/// Resident memory of a running process, in bytes (`/proc/PID/status`, VmRSS).
fn rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line["VmRSS:".len()..].trim().trim_end_matches("kB").trim().parse::<u64>().unwrap() * 1024
}

#[test]
fn one_large_event_per_worker_leaves_no_worker_holding_more_than_the_limit() {
    // Issue 16: 16 workers, one 7 MB event each, once held 77–118 MiB for the life of the
    // process. Each event is refused and read to its end, and a worker keeps at most
    // KEEP_EVENT (1 MiB + 1 byte) of it.
    const WORKERS: usize = 16;
    let api = RuntimeApi::start(Vec::new());
    api.shared.one_per_connection.store(true, Ordering::SeqCst);
    let pem = public_pem("rsa2048-a");
    let workers = WORKERS.to_string();
    let mut child = spawn(
        &api.addr.to_string(),
        &[
            ("JWT_PUBLIC_KEY", &pem),
            ("AWS_LAMBDA_MAX_CONCURRENCY", &workers),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
        ],
    );
    api.wait_parked(WORKERS);
    let before = rss(child.id());
    let ids = api.push(vec![vec![b' '; 7_000_000]; WORKERS]);
    let posts = api.posts(WORKERS, STEP * 2, &mut Vec::new());
    let mut answered: Vec<String> = posts.iter().map(|p| p.path.split('/').nth(4).unwrap().to_owned()).collect();
    answered.sort();
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(answered, expected, "every large event answered once");
    for p in &posts {
        let body = String::from_utf8_lossy(&p.body);
        assert_eq!(body, r#"{"isAuthorized":false}"#, "refused (bad_event): {}", p.path);
    }
    let after = rss(child.id());
    let _ = child.kill();
    let _ = child.wait();
    let limit = before + (WORKERS as u64) * (2 << 20);
    eprintln!("RSS before {before} bytes, after one 7 MB event per worker {after} bytes (limit {limit})");
    assert!(after <= limit, "RSS grew from {before} to {after} bytes: more than 2 MiB per worker");
}
