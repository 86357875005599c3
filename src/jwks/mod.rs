//! Keys from the issuer: JWKS documents fetched by URL (`JWT_JWKS_URL`), kept fresh without a
//! redeploy, next to the static keys of `JWT_PUBLIC_KEY`, `JWT_JWKS` and `JWT_JWKS_FILE`.
//! Nothing here runs unless a URL is configured; without the cargo feature `remote-keys`
//! (on by default) nothing here is built, and a `JWT_JWKS_URL` fails the cold start.
//!
//! In the order a fetch happens:

#[cfg(feature = "remote-keys")]
/// The URL rules: `https://`, or `http://` to a loopback host.
pub mod url;

#[cfg(feature = "remote-keys")]
/// `JWT_JWKS_URL`, `JWT_JWKS_REFRESH_SECONDS`, `JWT_JWKS_MIN_REFRESH_SECONDS`, `JWT_JWKS_TIMEOUT_MS`.
pub mod settings;

#[cfg(feature = "remote-keys")]
/// The CAs trusted: `SSL_CERT_FILE`, else the system bundle.
pub mod roots;

#[cfg(feature = "remote-keys")]
/// One bounded `GET` (rustls on ring; the Runtime API client's HTTP reader).
pub mod fetch;

#[cfg(feature = "remote-keys")]
/// One URL's refresh state (and the lock that keeps one fetch in flight).
pub mod source;

#[cfg(feature = "remote-keys")]
/// The fetched sets, swapped atomically; when to refresh; stale-if-error.
pub mod remote;

#[cfg(feature = "remote-keys")]
/// Choosing a token's key among static and fetched keys.
pub mod select;

#[cfg(feature = "remote-keys")]
pub use remote::{Remote, Report, Snapshot, Trigger};
