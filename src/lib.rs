//! jwt-authorizer: a networkless RS256 JWT authorizer for API Gateway, on AWS Lambda.
//!
//! Read top to bottom, this is the request's path:
#![forbid(unsafe_code)]

/// Why a request was denied: stable reason codes.
pub mod reason;
/// Compact JWS → three segments (size limit first).
pub mod token;
/// Canonical unpadded base64url into caller buffers.
pub mod b64;
/// simd-json tapes, parsed in place, read through borrowed views.
pub mod json;
/// The JOSE header: `alg` allowlist, `crit`, `typ`, `kid`.
pub mod header;
/// Public keys (PEM, JWKS) and selection by `kid`.
pub mod keys;
/// The signature check with `ring`.
pub mod verify;
/// Claims validation: time, subject, issuer, audience, `azp`, rules.
pub mod claims;
/// Authorizer events: flavour, token source, resource ARN.
pub mod event;
/// Simple responses and IAM policies.
pub mod response;
/// Token → verdict and event → response, with reusable scratch buffers.
pub mod authorizer;
/// Environment configuration, read once at cold start.
pub mod config;
/// Logging by Lambda's conventions; never a token.
pub mod log;
/// The `lambda_runtime` glue used by the function binary.
pub mod lambda;
/// Signing test tokens (CLI, tests, benches, fuzzing).
pub mod mint;

pub use authorizer::{Authorizer, Denial, Handled, Scratch};
pub use reason::Reason;
pub use response::Response;
