//! Lambda's side: invocations from the Runtime API, handled on this thread or by workers
//! (Managed Instances), logged and counted; configured at cold start by [`crate::config`].

/// What the binary calls: one invocation's event → outcome (logged, counted), init errors.
pub mod handler;

/// A small blocking client for the Lambda Runtime API (replaces `lambda_runtime`).
pub mod runtime;

/// The fetched keys (`JWT_JWKS_URL`): fetched inside init, refreshed within an invocation's
/// deadline, logged; the decision cache cleared when a key is removed.
#[cfg(feature = "remote-keys")]
pub mod refresh;

/// Lambda Managed Instances: several workers in one process.
pub mod workers;

/// Logging by Lambda's conventions (text or JSON, the invocation's ids); never a token.
pub mod log;

/// Decision metrics in CloudWatch's embedded metric format, one line per flush.
pub mod metrics;

// The end of the process at every concurrency: `SIGTERM`, the invocations in flight, the
// last metrics line (its own module docs, whose links resolve inside it).
pub mod shutdown;

/// Whole lines to stdout and stderr, one `write` each.
pub mod output;
