//! The JWT core: it knows nothing of AWS.

/// Canonical unpadded base64url into caller buffers.
pub mod b64;
/// Claims validation: time, subject, issuer, audience, `azp`, rules.
pub mod claims;
/// The JOSE header: `alg` allowlist, `crit`, `typ`, `kid`.
pub mod header;
/// simd-json tapes, parsed in place, read through borrowed views.
pub mod json;
/// Public keys (PEM, JWKS) and selection by `kid`.
pub mod keys;
/// Signing test tokens (CLI, tests, benches, fuzzing).
pub mod mint;
/// Claim paths (`metadata.role`, `"https://example.com/roles"`) for rules and context.
pub mod path;
/// Why the core refused a token (the crate's `Reason` converts from it).
pub mod rejection;
/// Compact JWS → three segments (size limit first).
pub mod token;
/// The signature check with `ring`.
pub mod verify;

pub use rejection::Rejection;
