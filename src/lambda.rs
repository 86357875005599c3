//! The Lambda glue: raw event bytes in, decision out, over the Runtime API client
//! ([`crate::runtime`]).
//!
//! The event is never deserialized into owned structs first: [`Function::reply`] decides on
//! the raw bytes (`handle`), so malformed JSON is a refusal, not an invocation error.

use crate::authorizer::{Authorizer, Handled, Scratch};
use crate::cache::{CachedAuthorizer, DecisionCache};
use crate::config::ConfigError;
use crate::log;
use crate::runtime::{self, Client, Invocation, Reply};
use std::cell::RefCell;
use std::time::{SystemTime, UNIX_EPOCH};

/// API Gateway maps the error message `Unauthorized` to HTTP 401.
pub const UNAUTHORIZED: Reply = Reply::Error { error_type: "Unauthorized", message: "Unauthorized" };

pub(crate) fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Logs the verdict (deny lines, with API Gateway's request id from `event`; allow at DEBUG)
/// and returns the response JSON, or `None` for the `Unauthorized` error.
pub(crate) fn finish(handled: Handled, event: &[u8], ctx: &log::Context<'_>) -> Option<String> {
    match &handled.denial {
        Some(d) => log::deny(ctx, d.reason.code(), d.sub.as_deref(), crate::api_request_id::of(event).as_deref()),
        None if log::debug_enabled() => {
            if let crate::response::Response::Simple(r) = &handled.response {
                log::allow(ctx, r.context.get("sub").and_then(|s| s.as_str()).unwrap_or(""));
            }
        }
        None => {}
    }
    handled.response.to_json()
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Decides on one raw event without a cache and logs the verdict; returns the response
/// body (`null` for `Unauthorized`).
pub fn respond(authorizer: &Authorizer, event: &[u8]) -> bytes::Bytes {
    let handled = SCRATCH.with_borrow_mut(|scratch| authorizer.handle(event, now(), scratch));
    match finish(handled, event, &log::Context::default()) {
        Some(json) => json.into(),
        None => bytes::Bytes::from_static(b"null"),
    }
}

/// The function's state between invocations: the authorizer with its decision cache, and
/// the scratch buffers.
pub struct Function {
    cached: CachedAuthorizer,
    scratch: Scratch,
}

impl Function {
    pub fn new(authorizer: Authorizer, cache: DecisionCache) -> Function {
        Function { cached: CachedAuthorizer::new(authorizer, cache), scratch: Scratch::default() }
    }

    /// Answers one raw event at `now` and logs the verdict (with the invocation's ids).
    pub fn reply(&mut self, event: &[u8], now: u64, ctx: &log::Context<'_>) -> Reply {
        match finish(self.cached.handle(event, now, &mut self.scratch), event, ctx) {
            Some(json) => Reply::Response(json.into_bytes()),
            None => UNAUTHORIZED,
        }
    }
}

/// Serves invocations until the Runtime API fails. Each invocation's log lines carry its
/// request id and trace id (passed along, never stored in the process environment).
pub fn run(function: &mut Function, client: &mut Client) -> runtime::Error {
    runtime::run(client, |inv: &Invocation| {
        let ctx = log::Context { request_id: &inv.request_id, trace_id: &inv.trace_id };
        function.reply(&inv.body, now(), &ctx)
    })
}

/// Reports a configuration error the way Lambda expects at init: a log line naming the
/// variable, then `POST /runtime/init/error` (when a Runtime API is there).
pub fn report_init_error(error: &ConfigError) {
    log::config_error(error);
    if let Ok(mut client) = Client::from_env()
        && let Err(e) = client.init_error("Runtime.ConfigError", &error.to_string())
    {
        log::error(&format!("could not report the init error: {e}"));
    }
}
