//! The Lambda glue: raw event bytes in, decision out, through `lambda_runtime`.
//!
//! `lambda_runtime` would deserialize every event with serde before calling a handler, and
//! turn malformed JSON into an invocation error. Authorizing must not depend on that, so a
//! tower layer decides on the raw bytes first (`Authorizer::handle`) and hands the
//! runtime's handler the finished response JSON (or `null` for `Unauthorized`) to return.

use crate::authorizer::{Authorizer, Scratch};
use crate::config::ConfigError;
use crate::log;
use lambda_runtime::{Diagnostic, Error, LambdaEvent, LambdaInvocation, Runtime, service_fn, tower};
use serde_json::value::RawValue;
use std::cell::RefCell;
use std::task::{Context, Poll};
use std::time::{SystemTime, UNIX_EPOCH};

/// Serves invocations until the Runtime API goes away.
pub async fn run(authorizer: &'static Authorizer) -> Result<(), Error> {
    let handler = service_fn(|event: LambdaEvent<Option<Box<RawValue>>>| async move {
        event.payload.ok_or_else(unauthorized)
    });
    Runtime::new(handler).layer(DecideLayer { authorizer }).run().await
}

/// API Gateway maps the error message `Unauthorized` to HTTP 401.
fn unauthorized() -> Diagnostic {
    Diagnostic { error_type: "Unauthorized".to_owned(), error_message: "Unauthorized".to_owned() }
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Decides on the raw event and logs the verdict; returns the response body for the handler.
pub fn respond(authorizer: &Authorizer, event: &[u8]) -> bytes::Bytes {
    let handled = SCRATCH.with_borrow_mut(|scratch| authorizer.handle(event, now(), scratch));
    match &handled.denial {
        Some(d) => log::deny(d.reason.code(), d.sub.as_deref()),
        None if log::debug_enabled() => {
            if let crate::response::Response::Simple(r) = &handled.response {
                log::allow(r.context.get("sub").and_then(|s| s.as_str()).unwrap_or(""));
            }
        }
        None => {}
    }
    match handled.response.to_json() {
        Some(json) => json.into(),
        None => bytes::Bytes::from_static(b"null"),
    }
}

#[derive(Clone, Copy)]
struct DecideLayer {
    authorizer: &'static Authorizer,
}

impl<S> tower::Layer<S> for DecideLayer {
    type Service = Decide<S>;
    fn layer(&self, inner: S) -> Decide<S> {
        Decide { inner, authorizer: self.authorizer }
    }
}

struct Decide<S> {
    inner: S,
    authorizer: &'static Authorizer,
}

impl<S> tower::Service<LambdaInvocation> for Decide<S>
where
    S: tower::Service<LambdaInvocation, Response = (), Error = Error>,
{
    type Response = ();
    type Error = Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: LambdaInvocation) -> S::Future {
        req.body = respond(self.authorizer, &req.body);
        self.inner.call(req)
    }
}

/// Reports a configuration error the way Lambda expects at init: a log line naming the
/// variable, then `POST /runtime/init/error` (when a Runtime API is there).
pub async fn report_init_error(error: &ConfigError) {
    log::config_error(error);
    let Ok(api) = std::env::var("AWS_LAMBDA_RUNTIME_API") else { return };
    let Ok(uri) = format!("http://{api}").parse() else { return };
    let client = lambda_runtime_api_client::PooledClient::builder().with_endpoint(uri).build();
    let body = serde_json::json!({ "errorType": "Runtime.ConfigError", "errorMessage": error.to_string() });
    let req = lambda_runtime_api_client::build_request()
        .method("POST")
        .uri("/2018-06-01/runtime/init/error")
        .header("lambda-runtime-function-error-type", "Runtime.ConfigError")
        .body(lambda_runtime_api_client::body::Body::from(body.to_string()));
    if let Ok(req) = req {
        let _ = client.call(req).await;
    }
}
