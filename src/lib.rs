//! jwt-authorizer: a networkless RS256 JWT authorizer for API Gateway, on AWS Lambda.
//!
//! Read top to bottom, this is the request's path:
#![forbid(unsafe_code)]

/// API Gateway's side: the authorizer events and the answers it expects.
pub mod apigw;
/// The decision: token → verdict, and event → response, with reusable scratch buffers.
pub mod authorizer;
/// The `exp`-aware decision cache for repeated tokens.
pub mod cache;
/// Lambda's side: configuration, the Runtime API client, the workers, metrics.
pub mod function;
/// The JWT core: compact JWS, JOSE header, keys, signature, claims; nothing of AWS.
pub mod jwt;
/// Logging by Lambda's conventions; never a token.
pub mod log;
/// Why a request was denied: stable reason codes.
pub mod reason;
/// The decision cache shared by the workers of one process (Managed Instances).
pub mod shared_cache;

pub use apigw::response::Response;
pub use authorizer::{Authorizer, Denial, Handled, Scratch};
pub use reason::Reason;
