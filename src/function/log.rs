//! Logging, following Lambda's conventions: `AWS_LAMBDA_LOG_LEVEL` (default INFO) and
//! `AWS_LAMBDA_LOG_FORMAT` (`JSON`: every line is one JSON object; otherwise text).
//!
//! What is logged: one line per deny with its reason code (and `sub` when authentic),
//! configuration problems and warnings. Never the token, the signature or other claims.
//!
//! Lines keep the shape `tracing-subscriber`'s formatter gave them (this crate used it until
//! the Runtime API client replaced `lambda_runtime`): text ` INFO deny reason="expired"
//! sub="user_1"`, JSON `{"level":"INFO","fields":{"message":"deny","reason":"expired",…}}`.
//! Field values are quoted and escaped, so a claim cannot forge a log line.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

/// Severity, most severe first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Error = 1,
    Warn = 2,
    Info = 3,
    Debug = 4,
    Trace = 5,
}

impl Level {
    /// A level name as Lambda's advanced logging controls set it (any case); `FATAL` is
    /// `ERROR`. Also `0`–`5`, and `OFF`, as before.
    pub fn parse(name: &str) -> Option<u8> {
        let max = match name.trim().to_ascii_uppercase().as_str() {
            "OFF" | "0" => 0,
            "ERROR" | "FATAL" | "1" => Level::Error as u8,
            "WARN" | "WARNING" | "2" => Level::Warn as u8,
            "INFO" | "3" => Level::Info as u8,
            "DEBUG" | "4" => Level::Debug as u8,
            "TRACE" | "5" => Level::Trace as u8,
            _ => return None,
        };
        Some(max)
    }

    fn name(self) -> &'static str {
        match self {
            Level::Error => "ERROR",
            Level::Warn => "WARN",
            Level::Info => "INFO",
            Level::Debug => "DEBUG",
            Level::Trace => "TRACE",
        }
    }
}

static MAX: AtomicU8 = AtomicU8::new(Level::Info as u8);
static JSON: AtomicBool = AtomicBool::new(false);

/// Reads the environment once (stderr is the only sink).
pub fn init() {
    let max = std::env::var("AWS_LAMBDA_LOG_LEVEL").ok().and_then(|l| Level::parse(&l)).unwrap_or(Level::Info as u8);
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.trim().eq_ignore_ascii_case("json"));
    MAX.store(max, Ordering::Relaxed);
    JSON.store(json, Ordering::Relaxed);
}

fn enabled(level: Level) -> bool {
    level as u8 <= MAX.load(Ordering::Relaxed)
}

/// Formats one line (without writing it).
pub fn line(json: bool, level: Level, message: &str, fields: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(96);
    if json {
        let mut obj = serde_json::Map::new();
        obj.insert("message".to_owned(), message.into());
        for (k, v) in fields {
            obj.insert((*k).to_owned(), (*v).into());
        }
        let v = serde_json::json!({ "level": level.name(), "fields": obj });
        out.push_str(&v.to_string());
    } else {
        let _ = write!(out, "{:>5} {message}", level.name());
        for (k, v) in fields {
            let _ = write!(out, " {k}={v:?}");
        }
    }
    out.push('\n');
    out
}

fn emit(level: Level, message: &str, fields: &[(&str, &str)]) {
    if enabled(level)
        && let Some(mut err) = crate::function::output::stderr()
    {
        // A failing stderr is not a reason to fail a request.
        let _ = emit_to(&mut err, JSON.load(Ordering::Relaxed), level, message, fields);
    }
}

/// One line, its newline included, in one `write` call ([`crate::function::output`]).
fn emit_to(out: &mut impl Write, json: bool, level: Level, message: &str, fields: &[(&str, &str)]) -> io::Result<()> {
    crate::function::output::whole_line(out, line(json, level, message, fields).as_bytes())
}

/// The invocation a line is about: its request id and X-Ray trace id (either may be empty),
/// passed explicitly to every line written while handling it — never process-wide state,
/// so invocations handled at the same time on several threads each log their own.
#[derive(Debug, Clone, Copy, Default)]
pub struct Context<'a> {
    pub request_id: &'a str,
    pub trace_id: &'a str,
}

/// `fields`, then the invocation's `requestId` and `xrayTraceId` (the names
/// `lambda_runtime`'s tracing span gave them) when known.
fn emit_in(level: Level, ctx: &Context<'_>, message: &str, fields: &[(&str, &str)]) {
    if !enabled(level) {
        return;
    }
    let ids = [("requestId", ctx.request_id), ("xrayTraceId", ctx.trace_id)];
    let mut all = Vec::with_capacity(fields.len() + ids.len());
    all.extend_from_slice(fields);
    all.extend(ids.into_iter().filter(|(_, v)| !v.is_empty()));
    emit(level, message, &all);
}

/// One line per refused request: the stable reason code, the subject when known, and API
/// Gateway's request id from the event (`apiRequestId`, for joining with the API's access
/// log) when it has one.
pub fn deny(ctx: &Context<'_>, reason: &'static str, sub: Option<&str>, api_request_id: Option<&str>) {
    let fields = [("reason", Some(reason)), ("sub", sub), ("apiRequestId", api_request_id)];
    let fields: Vec<(&str, &str)> = fields.iter().filter_map(|(k, v)| v.map(|v| (*k, v))).collect();
    emit_in(Level::Info, ctx, "deny", &fields);
}

/// Allowed requests are logged at DEBUG only.
pub fn allow(ctx: &Context<'_>, sub: &str) {
    emit_in(Level::Debug, ctx, "allow", &[("sub", sub)]);
}

/// A warning about one invocation.
pub fn warn_in(ctx: &Context<'_>, message: &str) {
    emit_in(Level::Warn, ctx, message, &[]);
}

/// A configuration warning at cold start.
pub fn warn(message: &str) {
    emit(Level::Warn, message, &[]);
}

/// A lifecycle event of the process (e.g. shutting down).
pub fn info(message: &str) {
    emit(Level::Info, message, &[]);
}

/// A problem of the runtime itself (the Runtime API failed or went away).
pub fn error(message: &str) {
    emit(Level::Error, message, &[]);
}

/// A configuration error at cold start (names the variable; never the value).
pub fn config_error(message: &str, variable: &str, problem: &str) {
    emit(Level::Error, message, &[("variable", variable), ("problem", problem)]);
}

/// Whether DEBUG lines are on (lets callers skip work for them).
pub fn debug_enabled() -> bool {
    enabled(Level::Debug)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_lines_look_as_they_did_and_quote_values() {
        assert_eq!(line(false, Level::Info, "deny", &[("reason", "expired")]), " INFO deny reason=\"expired\"\n");
        assert_eq!(
            line(false, Level::Info, "deny", &[("reason", "rule_failed"), ("sub", "u\n INFO allow")]),
            " INFO deny reason=\"rule_failed\" sub=\"u\\n INFO allow\"\n",
            "a subject cannot start a new line"
        );
        assert_eq!(line(false, Level::Error, "bad", &[]), "ERROR bad\n");
        assert_eq!(line(false, Level::Warn, "w", &[]), " WARN w\n");
    }

    #[test]
    fn json_lines_are_one_object_each() {
        let l = line(true, Level::Info, "deny", &[("reason", "expired"), ("sub", "a\"b\nc")]);
        assert_eq!(l.matches('\n').count(), 1);
        let v: serde_json::Value = serde_json::from_str(&l).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"level": "INFO", "fields": {"message": "deny", "reason": "expired", "sub": "a\"b\nc"}})
        );
    }

    #[test]
    fn a_log_line_and_its_newline_are_one_write_call() {
        for json in [false, true] {
            let mut calls = crate::function::output::Calls::default();
            emit_to(&mut calls, json, Level::Info, "deny", &[("reason", "expired")]).unwrap();
            assert_eq!(calls.0, vec![line(json, Level::Info, "deny", &[("reason", "expired")]).into_bytes()]);
            assert!(calls.0[0].ends_with(b"\n"));
        }
    }

    #[test]
    fn level_names() {
        assert_eq!(Level::parse("debug"), Some(4));
        assert_eq!(Level::parse(" FATAL "), Some(1));
        assert_eq!(Level::parse("off"), Some(0));
        assert_eq!(Level::parse("verbose"), None);
    }
}
