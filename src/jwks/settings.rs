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

/// One issuer whose keys are found by OpenID Connect Discovery (`JWT_OIDC_DISCOVERY=on`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Discovery {
    /// The issuer exactly as configured in `JWT_ISSUER`.
    pub issuer: String,
    /// `<issuer>/.well-known/openid-configuration` (OpenID Connect Discovery 1.0 §4: a
    /// terminating `/` of the issuer is removed first).
    pub url: JwksUrl,
}

/// What `JWT_JWKS_URL`, `JWT_OIDC_DISCOVERY`, `JWT_JWKS_REFRESH_SECONDS`,
/// `JWT_JWKS_MIN_REFRESH_SECONDS` and `JWT_JWKS_TIMEOUT_MS` say.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    pub urls: Vec<JwksUrl>,
    /// The issuers whose keys are discovered (empty: discovery off).
    pub discovery: Vec<Discovery>,
    /// The longest a fetched set is used before it is fetched again (60–86400 s).
    pub refresh_seconds: u64,
    /// The least time between two fetches of one URL caused by unknown `kid`s (0–3600 s).
    pub min_refresh_seconds: u64,
    /// The bound on one whole fetch (100–10000 ms).
    pub timeout_ms: u64,
}

/// `None` when `JWT_JWKS_URL` is unset or empty and discovery is off. A `JWT_JWKS_*` number set without it is still
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
    let discovery = discovery(env)?;
    let Some(list) = value(env, "JWT_JWKS_URL")? else {
        return Ok((!discovery.is_empty()).then_some(Settings {
            urls: Vec::new(),
            discovery,
            refresh_seconds,
            min_refresh_seconds,
            timeout_ms,
        }));
    };
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
    Ok(Some(Settings { urls, discovery, refresh_seconds, min_refresh_seconds, timeout_ms }))
}

/// `JWT_OIDC_DISCOVERY` (`on`/`off`, default off): with `on`, one discovery URL per
/// `JWT_ISSUER`, each by the rules of a JWKS URL (`https://`, or `http://` to loopback).
fn discovery(env: &impl Fn(&str) -> Option<String>) -> Result<Vec<Discovery>, ConfigError> {
    const VAR: &str = "JWT_OIDC_DISCOVERY";
    match value(env, VAR)?.as_deref().map(str::trim) {
        None => return Ok(Vec::new()),
        Some(v) if v.eq_ignore_ascii_case("off") => return Ok(Vec::new()),
        Some(v) if v.eq_ignore_ascii_case("on") => {}
        Some(_) => return Err(ConfigError::new(VAR, "must be on or off")),
    }
    let Some(issuers) = value(env, "JWT_ISSUER")? else {
        return Err(ConfigError::new(VAR, "needs JWT_ISSUER: the issuers whose keys are discovered"));
    };
    let issuers: Vec<&str> = issuers.split(',').map(str::trim).collect();
    if issuers.len() > MAX_URLS {
        return Err(ConfigError::new(VAR, "at most 16 issuers"));
    }
    let mut out = Vec::with_capacity(issuers.len());
    for (i, issuer) in issuers.iter().enumerate() {
        // OpenID Connect Discovery 1.0 §4: remove a terminating `/`, then append the path.
        let text = format!("{}/.well-known/openid-configuration", issuer.strip_suffix('/').unwrap_or(issuer));
        let url = url::parse(&text).map_err(|p| {
            ConfigError::new(
                VAR,
                format!("JWT_ISSUER item {} of {}: no discovery URL from it: {p}", i + 1, issuers.len()),
            )
        })?;
        out.push(Discovery { issuer: (*issuer).to_owned(), url });
    }
    Ok(out)
}
