//! Lambda's side: configuration at cold start, the Runtime API, the workers, logs and metrics.

/// Environment configuration, read once at cold start.
pub mod config;
/// The Lambda glue used by the function binary: event → reply, init errors.
pub mod handler;
/// Decision metrics in CloudWatch's embedded metric format, one line per flush.
pub mod metrics;
/// A small blocking client for the Lambda Runtime API (replaces `lambda_runtime`).
pub mod runtime;
/// Lambda Managed Instances: several workers in one process.
pub mod workers;
