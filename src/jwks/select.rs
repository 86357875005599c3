//! Choosing the key for a token among the static keys (`JWT_PUBLIC_KEY`, `JWT_JWKS`,
//! `JWT_JWKS_FILE`) and the fetched ones:
//!
//! 1. a static JWKS key with the token's `kid` (or, without `kid`, the lone static JWKS key:
//!    [`KeySet::select`]'s rule);
//! 2. else a fetched key with the token's `kid`, from a set fetched less than 24 h ago
//!    (fetched keys are chosen by `kid` only) — and, for a set found by OpenID Connect
//!    Discovery, only when the token's `iss` (read unverified, only to choose) is that set's
//!    issuer exactly: a token claiming issuer A is never verified with issuer B's keys;
//! 3. else the PEM key (`JWT_PUBLIC_KEY`), which matches any `kid`;
//! 4. else `unknown_kid` — or `keys_unavailable` when no fetched set is usable (none fetched
//!    yet, or all past the stale limit): the token might be good, its keys cannot be had.
//!
//! Every key comes from a configured source; the signature is checked with it afterwards.

use super::remote::Snapshot;
use crate::jwt::header::Alg;
use crate::jwt::keys::{Key, KeySet};
use crate::reason::Reason;

/// The key for `kid` and `alg` at `now` (see the module's rules).
pub fn select<'a>(
    statics: &'a KeySet,
    fetched: &'a Snapshot,
    kid: Option<&str>,
    alg: Alg,
    now: u64,
    iss: Option<&str>,
) -> Result<&'a Key, Reason> {
    let from_static = statics.select(kid, alg);
    if let Ok(k) = from_static
        && k.kid().is_some()
    {
        return Ok(k);
    }
    if let Some(k) = kid.and_then(|kid| fetched.find(kid, alg, now, iss)) {
        return Ok(k);
    }
    match from_static {
        Ok(k) => Ok(k),
        Err(_) if !fetched.any_usable(now, iss) => Err(Reason::KeysUnavailable),
        Err(r) => Err(r.into()),
    }
}
