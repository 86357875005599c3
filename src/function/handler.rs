//! The Lambda glue: raw event bytes in, decision out, over the Runtime API client
//! ([`crate::function::runtime`]).
//!
//! The event is never deserialized into owned structs first: [`Function::reply`] decides on
//! the raw bytes (`handle`), so malformed JSON is a refusal, not an invocation error.

use crate::apigw::response::dropped_warning;
use crate::authorizer::{Authorizer, Handled, Scratch};
use crate::cache::{CachedAuthorizer, DecisionCache};
use crate::config::{ConfigError, MetricsConfig};
use crate::function::log;
use crate::function::metrics::{CacheUse, Metrics, Sample, SharedMetrics, write_line};
use crate::function::runtime::{self, Client, Invocation, Outcome};
use crate::function::shutdown::Shutdown;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// API Gateway maps the error message `Unauthorized` to HTTP 401.
pub const UNAUTHORIZED: Outcome<'static> = Outcome::Error { error_type: "Unauthorized", message: "Unauthorized" };

pub fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Logs the verdict (deny lines, with API Gateway's request id from `event`; allow at DEBUG)
/// and returns the response JSON, or `None` for the `Unauthorized` error.
pub(crate) fn finish(handled: Handled, event: &[u8], ctx: &log::Context<'_>) -> Option<String> {
    match &handled.denial {
        Some(d) => {
            log::deny(ctx, d.reason.code(), d.sub.as_deref(), crate::apigw::api_request_id::of(event).as_deref())
        }
        None if log::debug_enabled() => {
            if let crate::apigw::response::Response::Simple(r) = &handled.response {
                log::allow(ctx, r.context.get("sub").and_then(|s| s.as_str()).unwrap_or(""));
            }
        }
        None => {}
    }
    handled.response.to_json()
}

/// The function's state between invocations: the authorizer with its decision cache, the
/// scratch buffers, and the metrics (when configured).
pub struct Function {
    cached: CachedAuthorizer,
    scratch: Scratch,
    metrics: Option<Arc<SharedMetrics>>,
}

impl Function {
    pub fn new(authorizer: Authorizer, cache: DecisionCache) -> Function {
        Function { cached: CachedAuthorizer::new(authorizer, cache), scratch: Scratch::default(), metrics: None }
    }

    /// Counts every decision into `metrics` (and writes its line when the interval is up).
    pub fn with_metrics(mut self, metrics: Arc<SharedMetrics>) -> Function {
        self.metrics = Some(metrics);
        self
    }

    /// Answers one raw event at `now` and logs the verdict (with the invocation's ids).
    pub fn reply(&mut self, event: &[u8], now: u64, ctx: &log::Context<'_>) -> Outcome<'static> {
        self.reply_by(event, now, ctx, None)
    }

    /// [`reply`](Self::reply) for an invocation due by `deadline`: a refresh of fetched keys
    /// (`function::refresh::decide`) ends by then.
    pub fn reply_by(
        &mut self,
        event: &[u8],
        now: u64,
        ctx: &log::Context<'_>,
        deadline: Option<std::time::Instant>,
    ) -> Outcome<'static> {
        let Function { cached, scratch, metrics } = self;
        #[cfg(feature = "remote-keys")]
        if let Some(remote) = cached.authorizer().remote().cloned() {
            return serve(event, ctx, scratch, metrics.as_deref(), |s| {
                let cached = std::cell::RefCell::new(cached);
                crate::function::refresh::decide(
                    &remote,
                    now,
                    deadline,
                    s,
                    |s| cached.borrow_mut().handle(event, now, s),
                    || cached.borrow_mut().clear_cache(),
                )
            });
        }
        #[cfg(not(feature = "remote-keys"))]
        let _ = deadline;
        serve(event, ctx, scratch, metrics.as_deref(), |s| cached.handle(event, now, s))
    }
}

/// One invocation, on any worker: `decide` with the worker's scratch buffers, log the
/// verdict (with the invocation's ids), and count it into `metrics` when they are on,
/// writing the metrics line when its interval has passed.
pub(crate) fn serve(
    event: &[u8],
    ctx: &log::Context<'_>,
    scratch: &mut Scratch,
    metrics: Option<&SharedMetrics>,
    decide: impl FnOnce(&mut Scratch) -> Handled,
) -> Outcome<'static> {
    let Some(metrics) = metrics else {
        let answer = reply(finish(decide(scratch), event, ctx));
        warn_dropped(scratch, ctx);
        return answer;
    };
    let (start, before) = (Instant::now(), scratch.work());
    let handled = decide(scratch);
    let denied = handled.denial.as_ref().map(|d| d.reason);
    let answer = reply(finish(handled, event, ctx));
    warn_dropped(scratch, ctx);
    let (micros, after) = (start.elapsed().as_micros() as u64, scratch.work());
    let cache = match (after.cache_hits > before.cache_hits, after.cache_misses > before.cache_misses) {
        (true, _) => CacheUse::Hit,
        (false, true) => CacheUse::Miss,
        (false, false) => CacheUse::None,
    };
    let sample = Sample {
        denied,
        cache,
        verified: after.verifications > before.verifications,
        micros,
        key_fetch_failures: after.key_fetch_failures - before.key_fetch_failures,
    };
    if let Some(line) = metrics.record(&sample, now_ms()) {
        write_line(&line);
    }
    answer
}

/// One WARN line per context claim the decision left out for size: its key, never its value.
fn warn_dropped(scratch: &mut Scratch, ctx: &log::Context<'_>) {
    for key in scratch.dropped_claims().into_iter().flatten() {
        log::warn_in(ctx, &dropped_warning(&key));
    }
}

fn reply(json: Option<String>) -> Outcome<'static> {
    match json {
        Some(json) => Outcome::Response(json.into_bytes()),
        None => UNAUTHORIZED,
    }
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// The metrics configured at cold start, shared by every worker; `None` when they are off.
pub fn metrics(config: Option<MetricsConfig>) -> Option<Arc<SharedMetrics>> {
    let function = std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|_| "unknown".to_owned());
    config.map(|c| Arc::new(SharedMetrics::new(Metrics::new(c, &function, now_ms()))))
}

/// Ends the process with `code` after the last metrics line, written with the counts locked
/// so that nothing can be counted after it ([`SharedMetrics::finish`]).
pub fn exit_after_last_line(metrics: Option<&SharedMetrics>, code: i32) -> ! {
    let end = |line: Option<String>| {
        if let Some(line) = line {
            write_line(&line);
        }
        std::process::exit(code)
    };
    match metrics {
        Some(m) => m.finish(now_ms(), end),
        None => match end(None) {},
    }
}

/// Serves invocations until the Runtime API fails, or, once `shutdown` is stopping, stands
/// by for the end of the process. Each invocation's log lines carry its request id and
/// trace id (passed along, never stored in the process environment).
pub fn run(function: &mut Function, client: &mut Client, shutdown: &Shutdown) -> runtime::Error {
    let error = runtime::run(client, shutdown, |inv: &Invocation| {
        let ctx = log::Context { request_id: &inv.request_id, trace_id: &inv.trace_id };
        function.reply_by(&inv.body, now(), &ctx, inv.deadline)
    });
    if shutdown.stopping() {
        shutdown.stand_by(); // a connection that ends during shutdown is no failure
    }
    error
}

/// Reports a configuration error the way Lambda expects at init: a log line naming the
/// variable, then `POST /runtime/init/error` (when a Runtime API is there).
///
/// When that report gets no answer (`cargo lambda watch` 1.9.2 leaves about half of them
/// unanswered while it starts the invocation, and the invoke then hangs), the function
/// takes the pending invocation, if one comes within [`INIT_FALLBACK`], and answers it with
/// the same `Runtime.ConfigError`, so the caller sees the variable named either way. The
/// process exits non-zero after this in every case.
pub fn report_init_error(error: &ConfigError) {
    log::config_error(&error.to_string(), &error.var, &error.problem);
    let Ok(mut client) = Client::from_env() else { return };
    let message = error.to_string();
    match client.init_error("Runtime.ConfigError", &message) {
        Ok(status) if (200..300).contains(&status) => return,
        Ok(status) => log::error(&format!("could not report the init error: the Runtime API answered HTTP {status}")),
        Err(e) => log::error(&format!("could not report the init error: {e}")),
    }
    let mut inv = Invocation::default();
    if client.next_until(&mut inv, Some(std::time::Instant::now() + INIT_FALLBACK)).is_ok() {
        let outcome = Outcome::Error { error_type: "Runtime.ConfigError", message: &message };
        match client.post_outcome(&inv, &outcome) {
            Ok(_) => log::error("answered the pending invocation with the configuration error instead"),
            Err(e) => log::error(&format!("could not answer the pending invocation either: {e}")),
        }
    }
}

/// How long a function whose init-error report went unanswered waits for an invocation to
/// answer with that error instead.
pub const INIT_FALLBACK: std::time::Duration = std::time::Duration::from_secs(5);
