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

/// Public keys (RSA, EC, Ed25519), which algorithms each may verify, selection by `kid`/`alg`.
pub mod keys;

/// PEM public keys: SPKI (RSA, EC, Ed25519) and PKCS#1.
pub mod pem;

/// JWKS documents: RSA, EC and OKP entries, the skip and refusal rules.
pub mod jwks;

/// The signature check with `ring`: RSA, ECDSA (fixed-size R‖S) and Ed25519.
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
