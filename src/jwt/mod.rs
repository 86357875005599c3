//! The JWT core (RFC 7515, 7518, 7519): from a compact token to a verified subject. It knows
//! nothing of AWS and imports nothing else from the crate; its refusals are `Rejection`s.
//!
//! In the order a token is read:

/// Compact JWS → three segments (size limit first).
pub mod token;

/// Canonical unpadded base64url into caller buffers.
pub mod b64;

/// simd-json tapes, parsed in place, read through borrowed views.
pub mod json;

/// The JOSE header: the `alg` allowlist, `crit`, `typ`, `kid`.
pub mod header;

/// Public keys (PEM, JWKS) and selection by `kid` and `alg`.
pub mod keys;

/// The signature check with `ring`.
pub mod verify;

/// Claims validation: time, subject, issuer, audience, `azp`, rules.
pub mod claims;

/// Claim paths (`metadata.role`, `"https://example.com/roles"`) for rules and context.
pub mod path;

/// Why the core refused a token (the crate's `Reason` converts from it).
pub mod rejection;

/// Signing test tokens (CLI, tests, benches, fuzzing).
pub mod mint;

pub use rejection::Rejection;
