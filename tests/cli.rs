//! The CLI as a user runs it: `--help` everywhere, `check` through the Lambda's own
//! configuration code (every variable, the decision cache included), `check --token` with
//! or without the `Bearer` scheme.

mod common;

use common::*;
use std::process::{Command, Output};

fn cli(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_jwt-authorizer-cli"));
    cmd.args(args).env_clear();
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run jwt-authorizer-cli")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn every_command_answers_help_with_its_usage_and_exit_0() {
    for command in ["demo", "check", "mint", "jwks"] {
        for flag in ["--help", "-h"] {
            let out = cli(&[command, flag], &[]);
            assert_eq!(out.status.code(), Some(0), "{command} {flag}: {}", text(&out.stderr));
            let usage = text(&out.stdout);
            assert!(usage.contains(&format!("  {command} ")), "{command} {flag}: {usage}");
            for other in ["demo", "check", "mint", "jwks"].iter().filter(|c| **c != command) {
                assert!(!usage.contains(&format!("\n  {other} ")), "{command} --help shows {other}: {usage}");
            }
        }
    }
    let out = cli(&["--help"], &[]);
    assert_eq!(out.status.code(), Some(0));
    assert!(["demo", "check", "mint", "jwks"].iter().all(|c| text(&out.stdout).contains(&format!("  {c} "))));
    assert_eq!(cli(&["nonsense"], &[]).status.code(), Some(2));
    assert_eq!(cli(&[], &[]).status.code(), Some(2));
}

#[test]
fn check_accepts_a_token_with_or_without_the_bearer_scheme() {
    let pem = public_pem("rsa2048-a");
    let env = [("JWT_PUBLIC_KEY", pem.as_str())];
    let token = valid_token();
    let now = NOW.to_string();
    for given in [token.clone(), format!("Bearer {token}"), format!("bearer {token}")] {
        let out = cli(&["check", "--token", &given, "--now", &now], &env);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert!(text(&out.stdout).contains(r#""isAuthorized":true"#));
    }
    let out = cli(&["check", "--token", &format!("Basic {token}"), "--now", &now], &env);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("bad_scheme"), "{}", text(&out.stderr));
}

#[test]
fn check_runs_all_of_the_cold_start_configuration() {
    let pem = public_pem("rsa2048-a");
    let token = valid_token();
    let now = NOW.to_string();
    // Each of these fails the function's cold start, so check must fail too (exit 2),
    // naming the variable, and never decide.
    for (var, value, says) in [
        ("JWT_DECISION_CACHE", "abc", "JWT_DECISION_CACHE"),
        ("JWT_DECISION_CACHE_MAX_SECONDS", "-1", "JWT_DECISION_CACHE_MAX_SECONDS"),
        ("JWT_ISSUERS", "https://typo", "did you mean JWT_ISSUER?"),
        ("JWT_ISSUER", "  ", "whitespace"),
        ("JWT_CONTEXT_CLAIMS", "a=b=c", "a=b=c"),
    ] {
        let out = cli(&["check", "--token", &token, "--now", &now], &[("JWT_PUBLIC_KEY", &pem), (var, value)]);
        assert_eq!(out.status.code(), Some(2), "{var}={value}: {}", text(&out.stderr));
        assert!(text(&out.stderr).contains(says), "{var}={value}: {}", text(&out.stderr));
        assert!(out.stdout.is_empty(), "no decision is printed");
    }
}
