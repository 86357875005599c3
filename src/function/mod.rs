//! Lambda's side: configuration at cold start, then invocations from the Runtime API, handled
//! on this thread or by workers (Managed Instances), with metrics.

/// Environment configuration, read once at cold start: builds the authorizer, its cache and
/// the metrics settings.
pub mod config;

/// What the binary calls: one invocation's event → outcome (logged, counted), init errors.
pub mod handler;

/// A small blocking client for the Lambda Runtime API (replaces `lambda_runtime`).
pub mod runtime;

/// Lambda Managed Instances: several workers in one process.
pub mod workers;

/// Decision metrics in CloudWatch's embedded metric format, one line per flush.
pub mod metrics;
