//! A `JWT_*` or `AWS_LAMBDA_*` variable whose name or value is not UTF-8 fails the cold start
//! naming it — in the real function binary, and in the CLI's `config` and `check`, which run
//! the same code. Read as a `String` it would count as unset: `JWT_ISSUER=$'https://good.example\xff'`
//! would turn the issuer check off and `config` would say "issuer: not checked".
//!
//! Every wait is bounded: a hung binary fails the test instead of hanging CI.

mod common;

use common::runtime_api::{RuntimeApi, STEP};
use common::{NOW, public_pem, valid_token};
use std::ffi::{OsStr, OsString};
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

fn os(bytes: &[u8]) -> OsString {
    OsStr::from_bytes(bytes).to_owned()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Variables (name, value) of which one is not UTF-8, and how the error names it.
fn cases() -> Vec<(OsString, OsString, &'static str)> {
    vec![
        (os(b"JWT_ISSUER"), os(b"https://good.example\xff"), "JWT_ISSUER:"),
        (os(b"JWT_AUDIENCE"), os(b"\xc3\x28"), "JWT_AUDIENCE:"),
        (os(b"JWT_REQUIRE"), os(b"role=admin\x80"), "JWT_REQUIRE:"),
        (os(b"AWS_LAMBDA_LOG_LEVEL"), os(b"DEBUG\xfe"), "AWS_LAMBDA_LOG_LEVEL:"),
        (os(b"AWS_LAMBDA_MAX_CONCURRENCY"), os(b"8\xff"), "AWS_LAMBDA_MAX_CONCURRENCY:"),
        (os(b"AWS_LAMBDA_FUNCTION_MEMORY_SIZE"), os(b"\xff1024"), "AWS_LAMBDA_FUNCTION_MEMORY_SIZE:"),
        (os(b"LAMBDA_TASK_ROOT"), os(b"/var/task\xff"), "LAMBDA_TASK_ROOT:"),
        // A name that is not UTF-8 is named lossily (U+FFFD for each bad byte).
        (os(b"JWT_ISS\xffUER"), os(b"https://good.example"), "JWT_ISS\u{FFFD}UER:"),
        (os(b"jwt_\xff"), os(b"x"), "jwt_\u{FFFD}:"),
        (os(b"AWS_LAMBDA_\xfeX"), os(b"1"), "AWS_LAMBDA_\u{FFFD}X:"),
    ]
}

fn cli(args: &[&str], env: &[(OsString, OsString)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_jwt-authorizer-cli"));
    cmd.args(args).env_clear().envs(env.iter().map(|(k, v)| (k, v)));
    cmd.output().expect("run jwt-authorizer-cli")
}

#[test]
fn config_and_check_exit_2_naming_a_variable_that_is_not_utf8() {
    let pem = public_pem("rsa2048-a");
    let key = (OsString::from("JWT_PUBLIC_KEY"), OsString::from(&pem));
    // The same variable in UTF-8 is accepted and shown: only the encoding fails it.
    let good = cli(&["config"], &[key.clone(), ("JWT_ISSUER".into(), "https://good.example".into())]);
    assert_eq!(good.status.code(), Some(0), "{}", text(&good.stderr));
    assert!(text(&good.stdout).contains("https://good.example"), "{}", text(&good.stdout));
    let (token, now) = (valid_token(), NOW.to_string());
    for (name, value, named) in cases() {
        let env = [key.clone(), (name.clone(), value.clone())];
        for args in [&["config"][..], &["check", "--token", &token, "--now", &now]] {
            let out = cli(args, &env);
            let stderr = text(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{args:?} {name:?}={value:?}: {stderr}");
            assert!(stderr.contains(named) && stderr.contains("not valid UTF-8"), "{name:?}: {stderr}");
            assert!(!text(&out.stdout).contains("not checked"), "{name:?}: {}", text(&out.stdout));
            assert!(!stderr.contains("good.example"), "the value is never echoed: {stderr}");
        }
    }
    // An unrelated variable that is not UTF-8 is none of our business.
    let out = cli(&["config"], &[key, (os(b"HOME"), os(b"/home/\xff"))]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

/// The function binary, killed (by its own pid) when dropped.
struct Function(Child);

impl Function {
    fn wait_exit(&mut self) -> ExitStatus {
        let deadline = Instant::now() + STEP;
        loop {
            if let Some(status) = self.0.try_wait().expect("try_wait") {
                return status;
            }
            assert!(Instant::now() < deadline, "the function did not exit within {STEP:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_function_fails_its_cold_start_naming_a_variable_that_is_not_utf8() {
    let pem = public_pem("rsa2048-a");
    for (name, value, named) in cases() {
        // An event is queued: a function that (wrongly) went on to serve would take it.
        let event = format!(r#"{{"version":"2.0","type":"REQUEST","identitySource":["Bearer {}"]}}"#, valid_token());
        let api = RuntimeApi::start(vec![event.into_bytes()]);
        let child = Command::new(env!("CARGO_BIN_EXE_jwt-authorizer"))
            .env_clear()
            .env("AWS_LAMBDA_RUNTIME_API", api.addr.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", "jwt-authorizer")
            .env("JWT_PUBLIC_KEY", &pem)
            .env(&name, &value)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn the jwt-authorizer binary");
        let mut function = Function(child);
        let post = api.next_post("POST /runtime/init/error");
        assert_eq!(post.path, "/2018-06-01/runtime/init/error", "{name:?}");
        let message = post.json()["errorMessage"].as_str().unwrap_or_default().to_owned();
        assert!(message.contains(named) && message.contains("not valid UTF-8"), "{name:?}: {message}");
        let status = function.wait_exit();
        assert!(!status.success(), "{name:?}: exit status {status}");
        let mut stderr = String::new();
        function.0.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
        assert!(stderr.contains(named), "stderr names {named}: {stderr}");
        let rest = api.drain();
        assert!(rest.iter().all(|r| !r.path.ends_with("/invocation/next")), "{name:?}: {rest:?}");
    }
}
