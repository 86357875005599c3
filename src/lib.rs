//! jwt-authorizer: a networkless RS256 JWT authorizer for API Gateway, on AWS Lambda.
//!
//! Read top to bottom, this is the request's path:
#![forbid(unsafe_code)]

/// API Gateway's request id from an event, for deny lines.
pub mod api_request_id;
/// Token → verdict and event → response, with reusable scratch buffers.
pub mod authorizer;
/// Canonical unpadded base64url into caller buffers.
pub mod b64;
/// The `exp`-aware decision cache for repeated tokens.
pub mod cache;
/// Claims validation: time, subject, issuer, audience, `azp`, rules.
pub mod claims;
/// Environment configuration, read once at cold start.
pub mod config;
/// Authorizer events: flavour, token source, resource ARN.
pub mod event;
/// The JOSE header: `alg` allowlist, `crit`, `typ`, `kid`.
pub mod header;
/// simd-json tapes, parsed in place, read through borrowed views.
pub mod json;
/// Public keys (PEM, JWKS) and selection by `kid`.
pub mod keys;
/// The Lambda glue used by the function binary: event → reply, init errors.
pub mod lambda;
/// Logging by Lambda's conventions; never a token.
pub mod log;
/// Decision metrics in CloudWatch's embedded metric format, one line per flush.
pub mod metrics;
/// Signing test tokens (CLI, tests, benches, fuzzing).
pub mod mint;
/// Claim paths (`metadata.role`, `"https://example.com/roles"`) for rules and context.
pub mod path;
/// Why a request was denied: stable reason codes.
pub mod reason;
/// Simple responses and IAM policies.
pub mod response;
/// A small blocking client for the Lambda Runtime API (replaces `lambda_runtime`).
pub mod runtime;
/// The decision cache shared by the workers of one process (Managed Instances).
pub mod shared_cache;
/// Compact JWS → three segments (size limit first).
pub mod token;
/// The signature check with `ring`.
pub mod verify;

/// Lambda Managed Instances: several workers in one process.
pub mod workers;

pub use authorizer::{Authorizer, Denial, Handled, Scratch};
pub use reason::Reason;
pub use response::Response;
