//! Logging, following Lambda's conventions: `AWS_LAMBDA_LOG_LEVEL` (default INFO) and
//! `AWS_LAMBDA_LOG_FORMAT` (`JSON`: every line is one JSON object; otherwise text).
//!
//! What is logged: one line per deny with its reason code (and `sub` when authentic),
//! configuration problems and warnings. Never the token, the signature or other claims.
//! `lambda_runtime` logs whole raw events at TRACE, so its targets are capped at DEBUG.

use lambda_runtime::tracing::{self, Level, subscriber};
use subscriber::filter::{LevelFilter, Targets};
use subscriber::prelude::*;

/// Installs the process-wide subscriber (stderr). Reads the environment once.
pub fn init() {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .ok()
        .and_then(|l| l.trim().parse::<LevelFilter>().ok())
        .unwrap_or(LevelFilter::INFO);
    let runtime_level = level.min(LevelFilter::DEBUG);
    let filter = Targets::new()
        .with_default(level)
        .with_target("lambda_runtime", runtime_level)
        .with_target("lambda_runtime_api_client", runtime_level)
        .with_target("hyper", runtime_level)
        .with_target("hyper_util", runtime_level);
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let fmt = subscriber::fmt::layer().with_writer(std::io::stderr).without_time().with_target(false);
    let registry = subscriber::registry().with(filter);
    // `try_init` fails only if a subscriber is already set (tests); keep the first one.
    let _ = if json { registry.with(fmt.json()).try_init() } else { registry.with(fmt).try_init() };
}

/// One line per refused request: the stable reason code, and the subject when known.
pub fn deny(reason: &'static str, sub: Option<&str>) {
    match sub {
        Some(sub) => tracing::info!(reason, sub, "deny"),
        None => tracing::info!(reason, "deny"),
    }
}

/// Allowed requests are logged at DEBUG only.
pub fn allow(sub: &str) {
    tracing::debug!(sub, "allow");
}

/// A configuration warning at cold start.
pub fn warn(message: &str) {
    tracing::warn!("{message}");
}

/// A configuration error at cold start (names the variable; never the value).
pub fn config_error(error: &crate::config::ConfigError) {
    tracing::error!(variable = error.var, problem = error.problem, "{error}");
}

/// Whether DEBUG lines are on (lets callers skip work for them).
pub fn debug_enabled() -> bool {
    tracing::enabled!(Level::DEBUG)
}
