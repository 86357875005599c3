//! Configuration from environment variables, read once at cold start.
//!
//! Every error names the variable; an invalid configuration never serves a decision.
//! One rule for every variable read, `JWT_*` and `AWS_LAMBDA_*` alike ([`value`]): an empty
//! value counts as unset (deployment templates pass empty parameters through); a value of
//! only whitespace is an error. So is an unknown `JWT_*` variable, and a `JWT_*` or
//! `AWS_LAMBDA_*` name or value that is not UTF-8 ([`check_encoding`]): a typo or an
//! unreadable value must never turn a check off silently.

use crate::apigw::response::{ContextClaim, Format};
use crate::authorizer::Authorizer;
use crate::jwt::claims::{DEFAULT_LEEWAY, MAX_LEEWAY, Policy, Rule};
use crate::jwt::header::{Alg, AlgSet};
use crate::jwt::keys::{Key, KeySet, parse_jwks};
use crate::jwt::path;
use std::borrow::Cow;
use std::ffi::OsString;
use std::path::PathBuf;

/// A configuration error: which variable, and what is wrong with it. The problem is fixed
/// text, or names a rule or context item, a file path or an unknown variable's name: never
/// a key or any other value that could be secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub var: Cow<'static, str>,
    pub problem: Cow<'static, str>,
}

impl ConfigError {
    pub fn new(var: impl Into<Cow<'static, str>>, problem: impl Into<Cow<'static, str>>) -> ConfigError {
        ConfigError { var: var.into(), problem: problem.into() }
    }
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "invalid configuration: {}: {}", self.var, self.problem)
    }
}

impl std::error::Error for ConfigError {}

/// The loaded authorizer, its decision cache, and warnings to log (skipped JWKS entries and
/// the like).
#[derive(Debug)]
pub struct Loaded {
    pub authorizer: Authorizer,
    pub cache: crate::cache::DecisionCache,
    /// `None`: metrics off (`JWT_METRICS_NAMESPACE` unset or empty).
    pub metrics: Option<MetricsConfig>,
    /// Whether an invocation's answer and the next `GET /next` go out in one write
    /// (`JWT_RUNTIME_PIPELINING`, default `on`; see `crate::function::runtime`).
    pub pipelining: bool,
    pub warnings: Vec<String>,
}

/// Every variable read, for documentation and the CLI.
pub const VARIABLES: [&str; 26] = [
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
    "JWT_METRICS_NAMESPACE",
    "JWT_METRICS_INTERVAL_SECONDS",
    "JWT_TOKEN_HEADER",
    "JWT_RUNTIME_PIPELINING",
    "JWT_TOKEN_QUERY",
    "JWT_JWKS_URL",
    "JWT_JWKS_REFRESH_SECONDS",
    "JWT_JWKS_MIN_REFRESH_SECONDS",
    "JWT_JWKS_TIMEOUT_MS",
    "JWT_OIDC_DISCOVERY",
];

/// The `AWS_LAMBDA_*` variables the function reads (Lambda sets them:
/// <https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime>;
/// `AWS_LAMBDA_MAX_CONCURRENCY` on Managed Instances). [`load`] holds them to the rule for
/// blank values too, so that a cold start fails on a blank one whichever module reads it.
pub const LAMBDA_VARIABLES: [&str; 6] = [
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_MAX_CONCURRENCY",
    "AWS_LAMBDA_LOG_LEVEL",
    "AWS_LAMBDA_LOG_FORMAT",
    "AWS_LAMBDA_RUNTIME_API",
    "AWS_LAMBDA_FUNCTION_NAME",
];

/// API Gateway's largest authorizer result TTL (`AuthorizerResultTtlInSeconds`), seconds.
pub const MAX_CACHE_TTL: u64 = 3600;
/// Expected token lifetime when `JWT_TOKEN_LIFETIME_SECONDS` is unset: Clerk's session tokens.
pub const DEFAULT_TOKEN_LIFETIME: u64 = 60;
/// Largest accepted `JWT_TOKEN_LIFETIME_SECONDS` (one day).
pub const MAX_TOKEN_LIFETIME: u64 = 86_400;

/// Loads from the process environment: what the Lambda runs at cold start, and what the
/// CLI's `check` and `config` run. Every `JWT_*` and `AWS_LAMBDA_*` name and value must be
/// UTF-8 ([`check_encoding`]), and every `JWT_*` name one of [`VARIABLES`].
pub fn from_env() -> Result<Loaded, ConfigError> {
    check_encoding(std::env::vars_os())?;
    check_names(std::env::vars_os().filter_map(|(name, _)| name.into_string().ok()))?;
    // Every variable read below is UTF-8 now: `var(..).ok()` is `None` only when unset.
    load(|name| std::env::var(name).ok())
}

/// Name prefixes (any case, as [`check_names`]) of the variables whose names and values
/// must be UTF-8: ours, and Lambda's (all of them, not only those in [`LAMBDA_VARIABLES`]:
/// simpler, and Lambda sets none that is not); `LAMBDA_TASK_ROOT` is read too.
const ENCODED: [&[u8]; 2] = [b"JWT_", b"AWS_LAMBDA_"];

/// Refuses a `JWT_*`, `AWS_LAMBDA_*` or `LAMBDA_TASK_ROOT` variable whose name or value is
/// not UTF-8: read as `String`s, it would count as unset and turn its check off
/// (`JWT_ISSUER=$'https://good.example\xff'` would accept any issuer). The error names the
/// variable (a name that is not UTF-8 lossily, with U+FFFD), never the value.
pub fn check_encoding(vars: impl IntoIterator<Item = (OsString, OsString)>) -> Result<(), ConfigError> {
    for (name, value) in vars {
        let bytes = name.as_encoded_bytes();
        let ours = ENCODED.iter().any(|p| bytes.get(..p.len()).is_some_and(|b| b.eq_ignore_ascii_case(p)))
            || bytes == b"LAMBDA_TASK_ROOT";
        if !ours {
            continue;
        }
        let Some(name) = name.to_str() else {
            return Err(ConfigError::new(name.to_string_lossy().into_owned(), "the name is not valid UTF-8"));
        };
        if value.to_str().is_none() {
            return Err(ConfigError::new(
                name.to_owned(),
                "the value is not valid UTF-8 (an unreadable value never counts as unset)",
            ));
        }
    }
    Ok(())
}

/// Refuses a `JWT_*` name that is not one of [`VARIABLES`], naming the closest known one.
pub fn check_names(names: impl IntoIterator<Item = String>) -> Result<(), ConfigError> {
    for name in names {
        // Any case: `jwt_issuer` is a typo of `JWT_ISSUER` too (names are case-sensitive).
        let upper = name.to_ascii_uppercase();
        if upper.starts_with("JWT_") && !VARIABLES.contains(&name.as_str()) {
            let closest = VARIABLES.iter().min_by_key(|known| edit_distance(known, &upper)).copied();
            let near = |known: &&str| edit_distance(known, &upper) <= (upper.len() / 3).max(3);
            let problem = match closest.filter(near) {
                Some(known) => format!("unknown variable; did you mean {known}?"),
                None => "unknown variable (README.md, Configuration, lists them all)".to_owned(),
            };
            return Err(ConfigError::new(name, problem));
        }
    }
    Ok(())
}

/// Levenshtein distance, for "did you mean".
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let next = (diagonal + usize::from(ca != *cb)).min(row[j] + 1).min(row[j + 1] + 1);
            diagonal = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

/// A variable's value, by the one rule for every variable read (`JWT_*` and `AWS_LAMBDA_*`):
/// unset and empty are `None`; only whitespace is an error naming it.
pub fn value(env: &impl Fn(&str) -> Option<String>, var: &'static str) -> Result<Option<String>, ConfigError> {
    match env(var) {
        Some(v) if v.is_empty() => Ok(None),
        Some(v) if v.trim().is_empty() => {
            Err(ConfigError::new(var, "only whitespace (leave it empty or unset it to mean unset)"))
        }
        v => Ok(v),
    }
}

/// Loads from any lookup (tests pass a map; [`from_env`] checks the encoding first).
pub fn load(env: impl Fn(&str) -> Option<String>) -> Result<Loaded, ConfigError> {
    for var in VARIABLES.into_iter().chain(LAMBDA_VARIABLES) {
        value(&env, var)?;
    }
    let get = |name: &'static str| value(&env, name).ok().flatten();
    let err = |var: &'static str, problem: &'static str| ConfigError::new(var, problem);
    let mut warnings = Vec::new();

    let algorithms = match get("JWT_ALGORITHMS") {
        None => AlgSet::default(),
        Some(list) => items("JWT_ALGORITHMS", &list)?.into_iter().try_fold(AlgSet::EMPTY, |set, name| {
            Alg::from_name(name).map(|a| set.with(a)).ok_or(err(
                "JWT_ALGORITHMS",
                "unsupported algorithm (allowed: RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, EdDSA)",
            ))
        })?,
    };

    let pem = match get("JWT_PUBLIC_KEY") {
        None => None,
        Some(text) => Some(Key::from_pem(&text).map_err(|e| err("JWT_PUBLIC_KEY", e.0))?),
    };
    // RFC 8725 §3.1: a key verifies only its own family; one that fits no allowed algorithm
    // would refuse every token.
    if let Some(key) = pem.as_ref().filter(|k| !Alg::ALL.iter().any(|a| k.fits(*a) && algorithms.contains(*a))) {
        return Err(ConfigError::new(
            "JWT_PUBLIC_KEY",
            format!(
                "an {} key, which verifies only {}, none of which JWT_ALGORITHMS allows (set JWT_ALGORITHMS)",
                key.describe(),
                key.fitting_algorithms()
            ),
        ));
    }
    let mut jwks = Vec::new();
    let mut jwks_sources = Vec::new();
    if let Some(text) = get("JWT_JWKS") {
        jwks_sources.push(("JWT_JWKS", text));
    }
    if let Some(file) = get("JWT_JWKS_FILE") {
        let base = env("LAMBDA_TASK_ROOT").filter(|r| !r.is_empty()).map(PathBuf::from).unwrap_or_default();
        let path = base.join(file.trim());
        let text = std::fs::read_to_string(&path).map_err(|e| {
            let problem = format!("cannot read {} ({e}); the path is relative to LAMBDA_TASK_ROOT", path.display());
            ConfigError::new("JWT_JWKS_FILE", problem)
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
            } else if !Alg::ALL.iter().any(|a| k.fits(*a) && algorithms.contains(*a)) {
                warnings.push(format!(
                    "{var}: key {} is an {} key, which verifies only {}, none of which JWT_ALGORITHMS allows; \
                     it will never match",
                    k.kid().unwrap_or("(no kid)"),
                    k.describe(),
                    k.fitting_algorithms()
                ));
            }
            jwks.push(k);
        }
    }
    if let Some((var, _)) = jwks_sources.first() {
        if jwks.is_empty() && pem.is_none() {
            return Err(err(var, "no usable key (need an RSA, EC P-256/P-384 or Ed25519 signing key)"));
        }
        if jwks.len() > 1 && jwks.iter().any(|k| k.kid().is_none()) {
            return Err(err(var, "several keys, and one of them has no kid"));
        }
    }
    let keys = KeySet::new(pem, jwks);
    #[cfg(feature = "remote-keys")]
    let remote = crate::jwks::settings::from_env(&env)?;
    #[cfg(not(feature = "remote-keys"))]
    let remote = value(&env, "JWT_JWKS_URL")?;
    if keys.is_empty() && remote.is_none() {
        return Err(err(
            "JWT_PUBLIC_KEY",
            "no key configured: set JWT_PUBLIC_KEY, JWT_JWKS, JWT_JWKS_FILE or JWT_JWKS_URL",
        ));
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
        Some(v) => parse_items("JWT_REQUIRE", &v, Rule::parse)?,
    };
    let context: Vec<ContextClaim> = match get("JWT_CONTEXT_CLAIMS") {
        None => Vec::new(),
        Some(v) => parse_items("JWT_CONTEXT_CLAIMS", &v, ContextClaim::parse)?,
    };
    for (i, c) in context.iter().enumerate() {
        if c.key == "sub" || context[..i].iter().any(|o| o.key == c.key) {
            return Err(err("JWT_CONTEXT_CLAIMS", "a context key is repeated (sub is always forwarded)"));
        }
        if let Some((_, problem)) = crate::apigw::response::RESERVED_CONTEXT_KEYS.iter().find(|(k, _)| *k == c.key) {
            return Err(err("JWT_CONTEXT_CLAIMS", problem));
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
        None => crate::apigw::event::DEFAULT_TOKEN_HEADER.to_owned(),
        Some(h) if is_token(h.trim()) => h.trim().to_owned(),
        Some(_) => return Err(err("JWT_TOKEN_HEADER", "not an HTTP header name (RFC 9110 §5.1)")),
    };
    if token_header.eq_ignore_ascii_case("cookie") && cookie.is_none() {
        return Err(err(
            "JWT_TOKEN_HEADER",
            "needs JWT_TOKEN_COOKIE as well: which name=value pair of that header holds the token",
        ));
    }
    // REST REQUEST and WebSocket events: the token from this query-string parameter instead
    // of the header, which the deployment must make the identity source. One source only.
    let token_query = match get("JWT_TOKEN_QUERY") {
        None => None,
        Some(q) if is_token(q.trim()) => Some(q.trim().to_owned()),
        Some(_) => return Err(err("JWT_TOKEN_QUERY", "not a valid query-string parameter name")),
    };
    if token_query.is_some() && get("JWT_TOKEN_HEADER").is_some() {
        return Err(err("JWT_TOKEN_QUERY", "JWT_TOKEN_HEADER is set too: the token has one source, set only one"));
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
        issuers: list("JWT_ISSUER", get("JWT_ISSUER"))?,
        audiences: list("JWT_AUDIENCE", get("JWT_AUDIENCE"))?,
        authorized_parties: list("JWT_AUTHORIZED_PARTIES", get("JWT_AUTHORIZED_PARTIES"))?,
        leeway,
        require,
    };
    let cache = decision_cache(&env)?;
    let metrics = MetricsConfig::from_env(&env)?;
    let pipelining = match get("JWT_RUNTIME_PIPELINING") {
        None => true,
        Some(v) if v.trim().eq_ignore_ascii_case("on") => true,
        Some(v) if v.trim().eq_ignore_ascii_case("off") => false,
        Some(_) => return Err(err("JWT_RUNTIME_PIPELINING", "must be on or off")),
    };
    #[cfg_attr(not(feature = "remote-keys"), allow(unused_mut))]
    let mut authorizer =
        Authorizer::new(keys, algorithms, policy, context, cookie, token_header, format).with_token_query(token_query);
    #[cfg(feature = "remote-keys")]
    if let Some(settings) = remote {
        authorizer = authorizer.with_remote(std::sync::Arc::new(remote_keys(&env, settings)?));
    }
    #[cfg(not(feature = "remote-keys"))]
    if remote.is_some() {
        return Err(err("JWT_JWKS_URL", "this build cannot fetch keys (built without the cargo feature remote-keys)"));
    }
    Ok(Loaded { authorizer, cache, metrics, pipelining, warnings })
}

#[cfg(feature = "remote-keys")]
/// The fetched keys' state for `settings` (nothing fetched yet: the cold start does that),
/// trusting `SSL_CERT_FILE` or the system bundle when a URL is `https://`.
fn remote_keys(
    env: &impl Fn(&str) -> Option<String>,
    settings: crate::jwks::settings::Settings,
) -> Result<crate::jwks::Remote, ConfigError> {
    use crate::jwks::roots;
    let roots = if settings.urls.iter().chain(settings.discovery.iter().map(|d| &d.url)).any(|u| u.tls) {
        let var =
            if env(roots::VARIABLE).is_some_and(|v| !v.trim().is_empty()) { roots::VARIABLE } else { "JWT_JWKS_URL" };
        roots::load(env).map_err(|why| ConfigError::new(var, why))?.0
    } else {
        rustls::RootCertStore::empty()
    };
    Ok(crate::jwks::Remote::new(settings, roots))
}

/// The comma-separated items of a list; an empty item (`a,,b`, a leading or trailing comma)
/// is an error, so that no item parses to nothing.
fn items<'a>(var: &'static str, list: &'a str) -> Result<Vec<&'a str>, ConfigError> {
    let items: Vec<&str> = list.split(',').map(str::trim).collect();
    match items.iter().position(|s| s.is_empty()) {
        Some(i) => Err(ConfigError::new(var, format!("item {} of {} is empty (a stray comma)", i + 1, items.len()))),
        None => Ok(items),
    }
}

/// Rules and context claims: comma-separated outside double quotes, each parsed by `parse`;
/// the error names the item (these are claim paths, not secrets; cut to 80 characters).
fn parse_items<T>(
    var: &'static str,
    list: &str,
    parse: impl Fn(&str) -> Result<T, &'static str>,
) -> Result<Vec<T>, ConfigError> {
    let items = path::split_unquoted(list, ',').map_err(|p| ConfigError::new(var, p))?;
    let count = items.len();
    let mut out = Vec::with_capacity(count);
    for (i, item) in items.into_iter().map(str::trim).enumerate() {
        if item.is_empty() {
            return Err(ConfigError::new(var, format!("item {} of {count} is empty (a stray comma)", i + 1)));
        }
        let shown: String = item.chars().take(80).collect();
        out.push(parse(item).map_err(|p| ConfigError::new(var, format!("{p}: {shown}")))?);
    }
    Ok(out)
}

/// An optional whole number of seconds within `min..=max`.
fn seconds(value: Option<String>, min: u64, max: u64) -> Result<Option<u64>, ()> {
    match value {
        None => Ok(None),
        Some(v) => v.trim().parse::<u64>().ok().filter(|s| (min..=max).contains(s)).map(Some).ok_or(()),
    }
}

fn list(var: &'static str, value: Option<String>) -> Result<Vec<String>, ConfigError> {
    match value {
        None => Ok(Vec::new()),
        Some(v) => Ok(items(var, &v)?.into_iter().map(str::to_owned).collect()),
    }
}

/// An RFC 9110 §5.6.2 token: a header field name (§5.1) or a cookie name (RFC 6265 §4.1.1).
fn is_token(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Smallest `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`, MB (the API's `MemorySize` minimum).
pub const MIN_MEMORY_MB: u64 = 128;
/// Largest `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`, MB (the API's `MemorySize` maximum, 32 GB).
pub const MAX_MEMORY_MB: u64 = 32_768;

/// The decision cache, from `JWT_DECISION_CACHE` (entries; default
/// [`DEFAULT_ENTRIES`](crate::cache::DEFAULT_ENTRIES), `0` disables it),
/// `JWT_DECISION_CACHE_MAX_SECONDS` (longest entry life; default 300; `exp` ends it sooner)
/// and `AWS_LAMBDA_FUNCTION_MEMORY_SIZE` (MB, set by Lambda; default 128): the cache holds at
/// most [`BUDGET_PERCENT`](crate::cache::BUDGET_PERCENT) % of the function's memory, tokens,
/// contexts and slots together, whatever the number of entries.
pub fn decision_cache(env: &impl Fn(&str) -> Option<String>) -> Result<crate::cache::DecisionCache, ConfigError> {
    use crate::cache::{
        DEFAULT_ENTRIES, DEFAULT_MAX_SECONDS, DEFAULT_MEMORY_MB, DecisionCache, MAX_ENTRIES, MAX_MAX_SECONDS,
        budget_for,
    };
    let number = |var: &'static str, min: u64, max: u64, problem: &'static str| -> Result<Option<u64>, ConfigError> {
        match value(env, var)? {
            None => Ok(None),
            Some(v) => v
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|n| (min..=max).contains(n))
                .map(Some)
                .ok_or(ConfigError::new(var, problem)),
        }
    };
    let entries =
        number("JWT_DECISION_CACHE", 0, MAX_ENTRIES as u64, "must be a number of entries from 0 (off) to 65536")?
            .map_or(DEFAULT_ENTRIES, |n| n as usize);
    let max = number(
        "JWT_DECISION_CACHE_MAX_SECONDS",
        0,
        MAX_MAX_SECONDS,
        "must be a whole number of seconds from 0 to 86400",
    )?
    .unwrap_or(DEFAULT_MAX_SECONDS);
    // Lambda sets it to the configured memory, a whole number of MB: 128 to 10,240 on Lambda
    // (default) (https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html),
    // 2,048 and up on Managed Instances
    // (https://docs.aws.amazon.com/lambda/latest/dg/lambda-managed-instances-best-practices.html);
    // a function's `MemorySize` is 128 to 32,768
    // (https://docs.aws.amazon.com/lambda/latest/api/API_UpdateFunctionCode.html, Response Elements).
    let memory = number(
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        MIN_MEMORY_MB,
        MAX_MEMORY_MB,
        "must be the function's memory in MB, a whole number from 128 to 32768 (Lambda sets it)",
    )?
    .map_or(DEFAULT_MEMORY_MB, |n| n as usize);
    Ok(DecisionCache::with_budget(entries, max, budget_for(memory)))
}

// ---- metrics (`JWT_METRICS_*`; the counting and the lines: `crate::function::metrics`)

/// Default flush interval (`JWT_METRICS_INTERVAL_SECONDS`), seconds.
pub const DEFAULT_INTERVAL_SECONDS: u64 = 60;
/// Largest flush interval, seconds.
pub const MAX_INTERVAL_SECONDS: u64 = 3600;

/// Where metrics go and how often (`JWT_METRICS_NAMESPACE`, `JWT_METRICS_INTERVAL_SECONDS`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetricsConfig {
    pub namespace: String,
    pub interval_seconds: u64,
}

impl MetricsConfig {
    /// `None` when `JWT_METRICS_NAMESPACE` is unset or empty (metrics off).
    pub fn from_env(env: &impl Fn(&str) -> Option<String>) -> Result<Option<MetricsConfig>, ConfigError> {
        let interval = match value(env, "JWT_METRICS_INTERVAL_SECONDS")? {
            None => DEFAULT_INTERVAL_SECONDS,
            Some(v) => v.trim().parse().ok().filter(|s| (1..=MAX_INTERVAL_SECONDS).contains(s)).ok_or(
                ConfigError::new("JWT_METRICS_INTERVAL_SECONDS", "must be a whole number of seconds from 1 to 3600"),
            )?,
        };
        let Some(namespace) = value(env, "JWT_METRICS_NAMESPACE")? else { return Ok(None) };
        let namespace = namespace.trim();
        // CloudWatch: 1–255 characters; `AWS/` is reserved for AWS's own namespaces.
        let valid = |c: char| c.is_ascii_alphanumeric() || " ._-/#:".contains(c);
        if namespace.is_empty()
            || namespace.len() > 255
            || !namespace.chars().all(valid)
            || namespace.starts_with("AWS/")
        {
            return Err(ConfigError::new(
                "JWT_METRICS_NAMESPACE",
                "must be 1 to 255 letters, digits or . _ - / # : and space, not starting with AWS/",
            ));
        }
        Ok(Some(MetricsConfig { namespace: namespace.to_owned(), interval_seconds: interval }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::ffi::OsStringExt;

    fn os(bytes: &[u8]) -> OsString {
        OsString::from_vec(bytes.to_vec())
    }

    #[test]
    fn a_jwt_or_lambda_name_or_value_that_is_not_utf8_is_named() {
        let check = |name: &[u8], value: &[u8]| check_encoding([(os(b"PATH"), os(b"/bin")), (os(name), os(value))]);
        let e = check(b"JWT_ISSUER", b"https://good.example\xff").unwrap_err();
        assert_eq!(
            (&*e.var, &*e.problem),
            ("JWT_ISSUER", "the value is not valid UTF-8 (an unreadable value never counts as unset)")
        );
        assert_eq!(check(b"aws_lambda_log_level", b"\xc3\x28").unwrap_err().var, "aws_lambda_log_level");
        assert_eq!(check(b"LAMBDA_TASK_ROOT", b"/var/\xff").unwrap_err().var, "LAMBDA_TASK_ROOT");
        let e = check(b"JWT_\xffISSUER", b"x").unwrap_err();
        assert_eq!((&*e.var, &*e.problem), ("JWT_\u{FFFD}ISSUER", "the name is not valid UTF-8"));
        assert_eq!(check(b"AWS_LAMBDA_\xfe", b"").unwrap_err().var, "AWS_LAMBDA_\u{FFFD}");
        // Not ours: another program's variables may hold any bytes.
        for (name, value) in
            [(&b"HOME"[..], &b"/home/\xff"[..]), (b"X\xff", b"1"), (b"JWT", b"\xff"), (b"LAMBDA_TASK_ROOTS", b"\xff")]
        {
            assert_eq!(check(name, value), Ok(()), "{name:?}");
        }
        assert_eq!(check(b"JWT_ISSUER", "https://ü.example".as_bytes()), Ok(()));
    }
}
