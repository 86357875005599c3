//! Configuration from environment variables, read once at cold start.
//!
//! Every error names the variable; an invalid configuration never serves a decision.
//! An empty value counts as unset (deployment templates pass empty parameters through).

use crate::authorizer::Authorizer;
use crate::claims::{DEFAULT_LEEWAY, MAX_LEEWAY, Policy, Rule};
use crate::keys::{Key, KeySet, parse_jwks};
use crate::response::{ContextClaim, Format};
use crate::verify::{Alg, AlgSet};
use std::path::PathBuf;

/// A configuration error: which variable, and what is wrong with it (static text, so no
/// secret or key material can leak into logs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub var: &'static str,
    pub problem: &'static str,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "invalid configuration: {}: {}", self.var, self.problem)
    }
}

impl std::error::Error for ConfigError {}

/// The loaded authorizer, and warnings to log (skipped JWKS entries and the like).
#[derive(Debug)]
pub struct Loaded {
    pub authorizer: Authorizer,
    pub warnings: Vec<String>,
}

/// Every variable read, for documentation and the CLI.
pub const VARIABLES: [&str; 17] = [
    "JWT_PUBLIC_KEY",
    "JWT_JWKS",
    "JWT_JWKS_FILE",
    "JWT_ALGORITHMS",
    "JWT_ISSUER",
    "JWT_AUDIENCE",
    "JWT_AUTHORIZED_PARTIES",
    "JWT_LEEWAY_SECONDS",
    "JWT_REQUIRE",
    "JWT_CONTEXT_CLAIMS",
    "JWT_TOKEN_COOKIE",
    "JWT_RESPONSE_FORMAT",
    "JWT_CACHE_TTL_SECONDS",
    "JWT_TOKEN_LIFETIME_SECONDS",
    "JWT_DECISION_CACHE",
    "JWT_DECISION_CACHE_MAX_SECONDS",
    "JWT_TOKEN_HEADER",
];

/// API Gateway's largest authorizer result TTL (`AuthorizerResultTtlInSeconds`), seconds.
pub const MAX_CACHE_TTL: u64 = 3600;
/// Expected token lifetime when `JWT_TOKEN_LIFETIME_SECONDS` is unset: Clerk's session tokens.
pub const DEFAULT_TOKEN_LIFETIME: u64 = 60;
/// Largest accepted `JWT_TOKEN_LIFETIME_SECONDS` (one day).
pub const MAX_TOKEN_LIFETIME: u64 = 86_400;

/// Loads from the process environment.
pub fn from_env() -> Result<Loaded, ConfigError> {
    load(|name| std::env::var(name).ok())
}

/// Loads from any lookup (tests pass a map). Non-UTF-8 values count as unset.
pub fn load(env: impl Fn(&str) -> Option<String>) -> Result<Loaded, ConfigError> {
    let get = |name: &str| env(name).filter(|v| !v.trim().is_empty());
    let err = |var, problem| ConfigError { var, problem };
    let mut warnings = Vec::new();

    let algorithms = match get("JWT_ALGORITHMS") {
        None => AlgSet::default(),
        Some(list) => items(&list).try_fold(AlgSet::EMPTY, |set, name| {
            Alg::from_name(name).map(|a| set.with(a)).ok_or(err(
                "JWT_ALGORITHMS",
                "unsupported algorithm (allowed: RS256, RS384, RS512, PS256, PS384, PS512)",
            ))
        })?,
    };

    let pem = match get("JWT_PUBLIC_KEY") {
        None => None,
        Some(text) => Some(Key::from_pem(&text).map_err(|e| err("JWT_PUBLIC_KEY", e.0))?),
    };
    let mut jwks = Vec::new();
    let mut jwks_sources = Vec::new();
    if let Some(text) = get("JWT_JWKS") {
        jwks_sources.push(("JWT_JWKS", text));
    }
    if let Some(file) = get("JWT_JWKS_FILE") {
        let base = env("LAMBDA_TASK_ROOT").filter(|r| !r.is_empty()).map(PathBuf::from).unwrap_or_default();
        let text = std::fs::read_to_string(base.join(file.trim())).map_err(|_| {
            err("JWT_JWKS_FILE", "cannot read the file (relative to LAMBDA_TASK_ROOT or the working directory)")
        })?;
        jwks_sources.push(("JWT_JWKS_FILE", text));
    }
    for (var, text) in &jwks_sources {
        let (keys, skipped) = parse_jwks(text).map_err(|e| err(var, e.0))?;
        for s in skipped {
            warnings.push(format!("{var}: skipped key {}: {}", s.kid.as_deref().unwrap_or("(no kid)"), s.why));
        }
        for k in keys {
            if let Some(a) = k.alg().filter(|a| !algorithms.contains(*a)) {
                warnings.push(format!(
                    "{var}: key {} is for {} which JWT_ALGORITHMS does not allow; it will never match",
                    k.kid().unwrap_or("(no kid)"),
                    a.name()
                ));
            }
            jwks.push(k);
        }
    }
    if let Some((var, _)) = jwks_sources.first() {
        if jwks.is_empty() && pem.is_none() {
            return Err(err(var, "no usable key (need an RSA signing key)"));
        }
        if jwks.len() > 1 && jwks.iter().any(|k| k.kid().is_none()) {
            return Err(err(var, "several keys, and one of them has no kid"));
        }
    }
    let keys = KeySet::new(pem, jwks);
    if keys.is_empty() {
        return Err(err("JWT_PUBLIC_KEY", "no key configured: set JWT_PUBLIC_KEY, JWT_JWKS or JWT_JWKS_FILE"));
    }

    let leeway = match get("JWT_LEEWAY_SECONDS") {
        None => DEFAULT_LEEWAY,
        Some(v) => v
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|l| *l <= MAX_LEEWAY)
            .ok_or(err("JWT_LEEWAY_SECONDS", "must be a whole number of seconds from 0 to 300"))?,
    };
    let require = match get("JWT_REQUIRE") {
        None => Vec::new(),
        Some(v) => items(&v).map(Rule::parse).collect::<Result<_, _>>().map_err(|p| err("JWT_REQUIRE", p))?,
    };
    let context: Vec<ContextClaim> = match get("JWT_CONTEXT_CLAIMS") {
        None => Vec::new(),
        Some(v) => {
            items(&v).map(ContextClaim::parse).collect::<Result<_, _>>().map_err(|p| err("JWT_CONTEXT_CLAIMS", p))?
        }
    };
    for (i, c) in context.iter().enumerate() {
        if c.key == "sub" || context[..i].iter().any(|o| o.key == c.key) {
            return Err(err("JWT_CONTEXT_CLAIMS", "a context key is repeated (sub is always forwarded)"));
        }
    }
    let cookie = match get("JWT_TOKEN_COOKIE") {
        None => None,
        Some(c) if is_token(c.trim()) => Some(c.trim().to_owned()),
        Some(_) => return Err(err("JWT_TOKEN_COOKIE", "not a valid cookie name")),
    };
    // REST REQUEST events carry no identitySource: the token is read from this header,
    // which the deployment must make the authorizer's identity source (the cache key).
    let token_header = match get("JWT_TOKEN_HEADER") {
        None => crate::event::DEFAULT_TOKEN_HEADER.to_owned(),
        Some(h) if is_token(h.trim()) => h.trim().to_owned(),
        Some(_) => return Err(err("JWT_TOKEN_HEADER", "not an HTTP header name (RFC 9110 §5.1)")),
    };
    if token_header.eq_ignore_ascii_case("cookie") && cookie.is_none() {
        return Err(err(
            "JWT_TOKEN_HEADER",
            "needs JWT_TOKEN_COOKIE as well: which name=value pair of that header holds the token",
        ));
    }
    let format = match get("JWT_RESPONSE_FORMAT").as_deref().map(str::trim) {
        None | Some("simple") => Format::Simple,
        Some("iam") => Format::Iam,
        Some(_) => return Err(err("JWT_RESPONSE_FORMAT", "must be simple or iam")),
    };
    // API Gateway caches a decision for the TTL whatever the token's `exp`: an allow cached
    // just before expiry is served up to TTL (+ leeway) seconds after it. Only a hint (the
    // template passes its cache parameter), checked against the expected token lifetime.
    let cache_ttl = seconds(get("JWT_CACHE_TTL_SECONDS"), 0, MAX_CACHE_TTL)
        .map_err(|()| err("JWT_CACHE_TTL_SECONDS", "must be a whole number of seconds from 0 to 3600"))?;
    let lifetime = seconds(get("JWT_TOKEN_LIFETIME_SECONDS"), 1, MAX_TOKEN_LIFETIME)
        .map_err(|()| err("JWT_TOKEN_LIFETIME_SECONDS", "must be a whole number of seconds from 1 to 86400"))?
        .unwrap_or(DEFAULT_TOKEN_LIFETIME);
    if let Some(ttl) = cache_ttl.filter(|ttl| *ttl > lifetime) {
        warnings.push(format!(
            "JWT_CACHE_TTL_SECONDS ({ttl} s) exceeds JWT_TOKEN_LIFETIME_SECONDS ({lifetime} s): API Gateway's cache \
             can keep allowing a token up to {} s after it expires; set the cache TTL to the token lifetime or less",
            ttl + leeway
        ));
    }
    let policy = Policy {
        algorithms,
        issuers: list(get("JWT_ISSUER")),
        audiences: list(get("JWT_AUDIENCE")),
        authorized_parties: list(get("JWT_AUTHORIZED_PARTIES")),
        leeway,
        require,
    };
    Ok(Loaded { authorizer: Authorizer { keys, policy, context, cookie, token_header, format }, warnings })
}

fn items(list: &str) -> impl Iterator<Item = &str> {
    list.split(',').map(str::trim).filter(|s| !s.is_empty())
}

/// An optional whole number of seconds within `min..=max`.
fn seconds(value: Option<String>, min: u64, max: u64) -> Result<Option<u64>, ()> {
    match value {
        None => Ok(None),
        Some(v) => v.trim().parse::<u64>().ok().filter(|s| (min..=max).contains(s)).map(Some).ok_or(()),
    }
}

fn list(value: Option<String>) -> Vec<String> {
    value.as_deref().map(|v| items(v).map(str::to_owned).collect()).unwrap_or_default()
}

/// An RFC 9110 §5.6.2 token: a header field name (§5.1) or a cookie name (RFC 6265 §4.1.1).
fn is_token(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// The decision cache, from `JWT_DECISION_CACHE` (entries; default
/// [`DEFAULT_ENTRIES`](crate::cache::DEFAULT_ENTRIES), `0` disables it) and
/// `JWT_DECISION_CACHE_MAX_SECONDS` (longest entry life; default 300; `exp` ends it sooner).
pub fn decision_cache(env: impl Fn(&str) -> Option<String>) -> Result<crate::cache::DecisionCache, ConfigError> {
    use crate::cache::{DEFAULT_ENTRIES, DEFAULT_MAX_SECONDS, DecisionCache, MAX_ENTRIES, MAX_MAX_SECONDS};
    let number = |var: &'static str, max: u64, problem: &'static str| -> Result<Option<u64>, ConfigError> {
        match env(var).filter(|v| !v.trim().is_empty()) {
            None => Ok(None),
            Some(v) => v.trim().parse::<u64>().ok().filter(|n| *n <= max).map(Some).ok_or(ConfigError { var, problem }),
        }
    };
    let entries =
        number("JWT_DECISION_CACHE", MAX_ENTRIES as u64, "must be a number of entries from 0 (off) to 65536")?
            .map_or(DEFAULT_ENTRIES, |n| n as usize);
    let max =
        number("JWT_DECISION_CACHE_MAX_SECONDS", MAX_MAX_SECONDS, "must be a whole number of seconds from 0 to 86400")?
            .unwrap_or(DEFAULT_MAX_SECONDS);
    Ok(DecisionCache::new(entries, max))
}
