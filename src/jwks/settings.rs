//! The fetched-keys settings, read once at cold start (`JWT_JWKS_*`), as plain data with their
//! defaults. No `JWT_JWKS_URL`: [`from_env`] is `None` and nothing of this module runs.

use super::url::{self, JwksUrl};
use crate::config::{ConfigError, value};

/// Default `JWT_JWKS_REFRESH_SECONDS`: API Gateway caches an issuer's keys "for up to 1 hour"
/// (<https://docs.aws.amazon.com/apigateway/latest/developerguide/rest-api-jwt-authorizer-keys.html>).
pub const DEFAULT_REFRESH_SECONDS: u64 = 3600;
/// Default `JWT_JWKS_MIN_REFRESH_SECONDS`.
pub const DEFAULT_MIN_REFRESH_SECONDS: u64 = 30;
/// Default `JWT_JWKS_TIMEOUT_MS`: API Gateway's own JWKS timeout, 1500 ms
/// (<https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html>).
pub const DEFAULT_TIMEOUT_MS: u64 = 1500;
/// How long past its fetch time a set that cannot be refreshed is still used (stale-if-error),
/// then refused: 24 hours.
pub const STALE_LIMIT_SECONDS: u64 = 86_400;
/// Most URLs in `JWT_JWKS_URL`.
pub const MAX_URLS: usize = 16;

/// What `JWT_JWKS_URL`, `JWT_JWKS_REFRESH_SECONDS`, `JWT_JWKS_MIN_REFRESH_SECONDS` and
/// `JWT_JWKS_TIMEOUT_MS` say.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    pub urls: Vec<JwksUrl>,
    /// The longest a fetched set is used before it is fetched again (60–86400 s).
    pub refresh_seconds: u64,
    /// The least time between two fetches of one URL caused by unknown `kid`s (0–3600 s).
    pub min_refresh_seconds: u64,
    /// The bound on one whole fetch (100–10000 ms).
    pub timeout_ms: u64,
}

/// `None` when `JWT_JWKS_URL` is unset or empty. A `JWT_JWKS_*` number set without it is still
/// checked (a typo must not hide), then unused.
pub fn from_env(env: &impl Fn(&str) -> Option<String>) -> Result<Option<Settings>, ConfigError> {
    let number = |var: &'static str, min: u64, max: u64, default: u64, problem: &'static str| match value(env, var)? {
        None => Ok(default),
        Some(v) => {
            v.trim().parse::<u64>().ok().filter(|n| (min..=max).contains(n)).ok_or(ConfigError::new(var, problem))
        }
    };
    let refresh_seconds = number(
        "JWT_JWKS_REFRESH_SECONDS",
        60,
        86_400,
        DEFAULT_REFRESH_SECONDS,
        "must be a whole number of seconds from 60 to 86400",
    )?;
    let min_refresh_seconds = number(
        "JWT_JWKS_MIN_REFRESH_SECONDS",
        0,
        3600,
        DEFAULT_MIN_REFRESH_SECONDS,
        "must be a whole number of seconds from 0 to 3600",
    )?;
    let timeout_ms = number(
        "JWT_JWKS_TIMEOUT_MS",
        100,
        10_000,
        DEFAULT_TIMEOUT_MS,
        "must be a whole number of milliseconds from 100 to 10000",
    )?;
    let Some(list) = value(env, "JWT_JWKS_URL")? else { return Ok(None) };
    let items: Vec<&str> = list.split(',').map(str::trim).collect();
    if items.len() > MAX_URLS {
        return Err(ConfigError::new("JWT_JWKS_URL", "at most 16 URLs"));
    }
    let mut urls: Vec<JwksUrl> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        if item.is_empty() {
            return Err(ConfigError::new(
                "JWT_JWKS_URL",
                format!("item {} of {} is empty (a stray comma)", i + 1, items.len()),
            ));
        }
        let url = url::parse(item)
            .map_err(|p| ConfigError::new("JWT_JWKS_URL", format!("item {} of {}: {p}", i + 1, items.len())))?;
        if urls.iter().any(|u| u.text == url.text) {
            return Err(ConfigError::new("JWT_JWKS_URL", format!("item {} of {} is repeated", i + 1, items.len())));
        }
        urls.push(url);
    }
    Ok(Some(Settings { urls, refresh_seconds, min_refresh_seconds, timeout_ms }))
}
