//! Keys from the issuer: JWKS documents fetched by URL (`JWT_JWKS_URL`), kept fresh without a
//! redeploy, next to the static keys of `JWT_PUBLIC_KEY`, `JWT_JWKS` and `JWT_JWKS_FILE`.
//! Nothing here runs unless a URL is configured.
//!
//! In the order a fetch happens:

/// The URL rules: `https://`, or `http://` to a loopback host.
pub mod url;

/// `JWT_JWKS_URL`, `JWT_JWKS_REFRESH_SECONDS`, `JWT_JWKS_MIN_REFRESH_SECONDS`, `JWT_JWKS_TIMEOUT_MS`.
pub mod settings;

/// The CAs trusted: `SSL_CERT_FILE`, else the system bundle.
pub mod roots;

/// One bounded `GET` (rustls on ring; the Runtime API client's HTTP reader).
pub mod fetch;

/// One URL's refresh state (and the lock that keeps one fetch in flight).
pub mod source;

/// The fetched sets, swapped atomically; when to refresh; stale-if-error.
pub mod remote;

/// Choosing a token's key among static and fetched keys.
pub mod select;

pub use remote::{Remote, Report, Snapshot, Trigger};
