//! jwt-authorizer: a networkless JWT authorizer for API Gateway, on AWS Lambda (RS256 by
//! default; RS/PS 384/512, ES256, ES384 and EdDSA with Ed25519 when allowed).
//!
//! Three worlds, one folder each: [`jwt`] (the JWT core, which knows nothing of AWS),
//! [`apigw`] (API Gateway's side) and [`function`] (Lambda's side); the decision, its cache,
//! the configuration and the reason codes sit at the top. Imports point one way: `jwt` ←
//! `apigw` ← the top ← `function` (`reason` is a leaf anyone above `jwt` may use).
//!
//! Read top to bottom, this is a request's path:
//!
//! 1. [`apigw::event`] — the authorizer event: its flavour, where its token is, the route ARN.
//! 2. [`jwt::token`] — the compact JWS split into three segments (size limit first).
//! 3. [`jwt::b64`], [`jwt::json`] — base64url into reused buffers; JSON tapes read in place.
//! 4. [`jwt::header`] — the JOSE header: the `alg` allowlist, `crit`, `typ`, `kid`.
//! 5. [`jwt::keys`] — the public keys (RSA, EC, Ed25519; loaded by [`jwt::pem`] and
//!    [`jwt::jwks`]) and the one the header selects, only of a type that fits its `alg`.
//!    With `JWT_JWKS_URL`, [`jwks`] adds the fetched ones ([`jwks::select`]).
//! 6. [`jwt::verify`] — the signature check with `ring`.
//! 7. [`jwt::claims`] — the claims behind a valid signature: time, subject, issuer,
//!    audience, `azp`, rules ([`jwt::path`]); a refusal is a [`jwt::Rejection`].
//! 8. [`authorizer`] — the decision: token → verdict, event → response, and why a refusal
//!    ([`reason`]).
//! 9. [`cache`], [`shared_cache`] — the decision cache, per worker and shared by workers.
//! 10. [`apigw::response`] — the answer API Gateway expects: simple, or an IAM policy.
//! 11. [`function::runtime`] — posted back through the Lambda Runtime API, by the
//!     [`function::handler`] (one process) or the [`function::workers`] (Managed Instances),
//!     logged ([`function::log`]) and counted ([`function::metrics`]), as configured at
//!     cold start ([`config`]); at `SIGTERM`, [`function::shutdown`].
#![forbid(unsafe_code)]

/// API Gateway's side: the authorizer events, their request ids, and the responses.
pub mod apigw;

/// The JWT core: split, decode, header, keys, signature, claims, minting. Nothing of AWS.
pub mod jwt;

/// The decision: token → verdict, and event → response, with reusable scratch buffers.
pub mod authorizer;

/// The `exp`-aware decision cache for repeated tokens.
pub mod cache;

/// Keys from the issuer: JWKS fetched by URL (`JWT_JWKS_URL`), refreshed, chosen by `kid`.
/// Its fetch reads responses with [`function::runtime::http`] (the one import against the
/// grain: that reader is generic over `Read` and knows nothing of Lambda).
pub mod jwks;

/// The decision cache shared by the workers of one process (Managed Instances).
pub mod shared_cache;

/// Why a request was denied: stable reason codes.
pub mod reason;

/// Environment configuration, read once at cold start: builds the authorizer, its cache and
/// the metrics settings; every error names its variable.
pub mod config;

/// Lambda's side: the Runtime API client, the handler, the workers, logging, metrics.
pub mod function;

pub use apigw::response::Response;
pub use authorizer::{Authorizer, Denial, Handled, Scratch};
pub use reason::Reason;
