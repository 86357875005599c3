//! `jwt-authorizer-cli`: the authorizer on your machine, through the Lambda's code path.
//!
//!   demo                         authorize bundled sample events with a bundled demo key
//!   check --event FILE|- | --token TOKEN [--now UNIX]
//!                                authorize with the same env configuration as the Lambda,
//!                                through its configuration code; exit 0 allow, 1 deny, 2 error
//!   mint --key PKCS8.pem --claims JSON [--ttl SECONDS] [--alg ALG] [--kid KID]
//!   jwks --key PUBLIC.pem [--kid KID] [--alg ALG]
//! (keys: RSA, EC P-256/P-384, Ed25519; --alg defaults to the key's: RS256, ES256, ES384, EdDSA)
#![forbid(unsafe_code)]

use jwt_authorizer::apigw::response::dropped_warning;
use jwt_authorizer::cache::CachedAuthorizer;
use jwt_authorizer::function::log;
use jwt_authorizer::jwt::header::Alg;
use jwt_authorizer::jwt::keys::Key;
use jwt_authorizer::jwt::mint::Signer;
use jwt_authorizer::{Authorizer, Scratch, config};
use std::process::ExitCode;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// Each command's usage: what `<command> --help` prints, and together the whole usage.
const COMMANDS: [(&str, &str); 5] = [
    ("demo", "  demo                              authorize bundled sample events with the bundled demo key"),
    (
        "check",
        "  check (--event FILE|- | --token TOKEN) [--now UNIX_SECONDS]
                                    authorize with the Lambda's JWT_* environment, through the
                                    Lambda's own configuration code (decision cache included);
                                    --token takes `Bearer <token>` or a bare token;
                                    exit 0 allow, 1 deny, 2 error (a configuration error too)",
    ),
    (
        "mint",
        "  mint --key PKCS8.pem --claims JSON [--ttl SECONDS] [--alg ALG] [--kid KID] [--now UNIX_SECONDS]
                                    sign a test token (exp = now + ttl, default 60) with an RSA,
                                    EC P-256/P-384 or Ed25519 PKCS#8 key; --alg defaults to the
                                    key's: RS256, ES256, ES384 or EdDSA",
    ),
    (
        "jwks",
        "  jwks --key PUBLIC.pem [--kid KID] [--alg ALG] [--key PUBLIC2.pem [--kid KID2] [--alg ALG] …]
                                    print one JWKS for one or more PEM public keys (RSA, EC
                                    P-256/P-384, Ed25519); each --kid and --alg applies to the
                                    --key before it (default kid: the key's RFC 7638 thumbprint;
                                    default alg: the key's, RS256 for RSA): the two-key set of
                                    a key rotation",
    ),
    (
        "config",
        "  config [--env-file FILE]        check a configuration before deploying: run the function's
                                    cold-start configuration code on the JWT_* environment (or on
                                    a file of NAME=value lines) and print the effective settings
                                    and every warning; exit 0 if the cold start would succeed,
                                    2 (naming the variable) if it would fail",
    ),
];

fn usage() -> String {
    let mut out = "usage: jwt-authorizer-cli <command>   (<command> --help: that command alone)".to_owned();
    for (_, text) in COMMANDS {
        out.push('\n');
        out.push_str(text);
    }
    out
}

const DEMO_PRIVATE_KEY: &str = include_str!("../../demo/demo.key.pem");
const DEMO_PUBLIC_KEY: &str = include_str!("../../demo/demo.pub.pem");
const EVENT_V2: &str = include_str!("../../demo/events/http-api-v2.json");
const EVENT_V2_NO_TOKEN: &str = include_str!("../../demo/events/http-api-v2-no-token.json");
const EVENT_REST_TOKEN: &str = include_str!("../../demo/events/rest-token.json");
const EVENT_REST_REQUEST: &str = include_str!("../../demo/events/rest-request.json");

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some((_, text)) = COMMANDS.iter().find(|(name, _)| args.first().is_some_and(|a| a == name))
        && args[1..].iter().any(|a| a == "-h" || a == "--help")
    {
        println!("usage: jwt-authorizer-cli\n{text}");
        return ExitCode::SUCCESS;
    }
    let result = match args.first().map(String::as_str) {
        Some("demo") => demo(),
        Some("check") => check(&args[1..]),
        Some("mint") => mint(&args[1..]),
        Some("jwks") => jwks(&args[1..]),
        Some("config") => show_config(&args[1..]),
        Some("-h" | "--help" | "help") => {
            println!("{}", usage());
            Ok(ExitCode::SUCCESS)
        }
        _ => Err(usage()),
    };
    result.unwrap_or_else(|e| {
        eprintln!("{e}");
        ExitCode::from(2)
    })
}

/// `--name value` options; every option takes a value.
fn options<'a>(args: &'a [String], known: &[&str]) -> Result<Vec<(&'a str, &'a str)>, String> {
    let mut out = Vec::new();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        if !known.contains(&flag.as_str()) {
            return Err(format!("unknown argument {flag}\n{}", usage()));
        }
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        out.push((flag.as_str(), value.as_str()));
    }
    Ok(out)
}

fn opt<'a>(opts: &[(&str, &'a str)], name: &str) -> Option<&'a str> {
    opts.iter().rev().find(|(k, _)| *k == name).map(|(_, v)| *v)
}

fn now_or(opts: &[(&str, &str)]) -> Result<u64, String> {
    match opt(opts, "--now") {
        Some(n) => n.parse().map_err(|_| "--now takes Unix seconds".to_owned()),
        None => Ok(SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())),
    }
}

fn read(path: &str) -> Result<Vec<u8>, String> {
    if path == "-" {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf).map_err(|e| format!("stdin: {e}"))?;
        return Ok(buf);
    }
    std::fs::read(path).map_err(|e| format!("{path}: {e}"))
}

/// `--alg`, or `default` (the key's own); an algorithm the key cannot sign or verify is refused.
fn parse_alg(opts: &[(&str, &str)], default: Alg, fits: impl Fn(Alg) -> bool, key: &str) -> Result<Alg, String> {
    let Some(name) = opt(opts, "--alg") else { return Ok(default) };
    let alg = Alg::from_name(name).ok_or(format!("--alg: unsupported algorithm {name}"))?;
    if !fits(alg) {
        return Err(format!(
            "--alg {name} does not fit {key} (RSA: RS*/PS*, P-256: ES256, P-384: ES384, Ed25519: EdDSA)"
        ));
    }
    Ok(alg)
}

/// A payload-2.0 event carrying `authorization` (used for `check --token`).
fn v2_event(authorization: &str) -> Vec<u8> {
    EVENT_V2.replace("{{AUTHORIZATION}}", &json_escape(authorization)).into_bytes()
}

fn with_token(template: &str, authorization: &str) -> Vec<u8> {
    template.replace("{{AUTHORIZATION}}", &json_escape(authorization)).into_bytes()
}

fn json_escape(s: &str) -> String {
    let quoted = serde_json::to_string(s).unwrap_or_default();
    quoted[1..quoted.len().saturating_sub(1)].to_owned()
}

fn check(args: &[String]) -> Result<ExitCode, String> {
    let opts = options(args, &["--event", "--token", "--now"])?;
    let now = now_or(&opts)?;
    let event = match (opt(&opts, "--event"), opt(&opts, "--token")) {
        (Some(path), None) => read(path)?,
        // As the events carry it: `<scheme> <token>` as given, a bare token as `Bearer <token>`.
        (None, Some(token)) if token.trim().contains(' ') => v2_event(token),
        (None, Some(token)) => v2_event(&format!("Bearer {token}")),
        _ => return Err(format!("check needs exactly one of --event or --token\n{}", usage())),
    };
    // Exactly what the function runs at cold start: every variable, the cache included.
    let loaded = config::from_env().map_err(|e| e.to_string())?;
    for w in &loaded.warnings {
        eprintln!("warning: {w}");
    }
    let mut function = CachedAuthorizer::new(loaded.authorizer, loaded.cache);
    let mut scratch = Scratch::default();
    let handled = function.handle(&event, now, &mut scratch);
    for key in scratch.dropped_claims().into_iter().flatten() {
        log::warn(&dropped_warning(&key));
    }
    match handled.response.to_json() {
        Some(json) => println!("{json}"),
        None => println!(r#"{{"errorType":"Unauthorized","errorMessage":"Unauthorized"}}"#),
    }
    match handled.denial {
        None => {
            eprintln!("decision: allow");
            Ok(ExitCode::SUCCESS)
        }
        Some(d) => {
            eprintln!("decision: deny ({})", d.reason);
            Ok(ExitCode::from(1))
        }
    }
}

fn mint(args: &[String]) -> Result<ExitCode, String> {
    let opts = options(args, &["--key", "--claims", "--ttl", "--alg", "--kid", "--now"])?;
    let key = read(opt(&opts, "--key").ok_or("mint needs --key")?)?;
    let signer = Signer::from_pkcs8(&key).map_err(|e| format!("--key: {e}"))?;
    let mut claims: serde_json::Value =
        serde_json::from_str(opt(&opts, "--claims").unwrap_or("{}")).map_err(|e| format!("--claims: {e}"))?;
    let obj = claims.as_object_mut().ok_or("--claims must be a JSON object")?;
    let now = now_or(&opts)?;
    let ttl: u64 = opt(&opts, "--ttl").unwrap_or("60").parse().map_err(|_| "--ttl takes seconds")?;
    obj.entry("iat").or_insert(now.into());
    obj.entry("exp").or_insert((now + ttl).into());
    let alg = parse_alg(&opts, signer.default_alg(), |a| signer.fits(a), "this key")?;
    println!("{}", signer.sign(&claims, alg, opt(&opts, "--kid")));
    Ok(ExitCode::SUCCESS)
}

fn jwks(args: &[String]) -> Result<ExitCode, String> {
    let opts = options(args, &["--key", "--kid", "--alg"])?;
    // One key: options in any order. Several: each --kid / --alg belongs to the --key before it.
    let groups: Vec<&[(&str, &str)]> = if opts.iter().filter(|(k, _)| *k == "--key").count() <= 1 {
        vec![&opts[..]]
    } else {
        if opts.first().is_some_and(|(k, _)| *k != "--key") {
            return Err("with several --key, each --kid and --alg follows the --key it is for".to_owned());
        }
        let starts: Vec<usize> = opts.iter().enumerate().filter(|(_, (k, _))| *k == "--key").map(|(i, _)| i).collect();
        starts.iter().enumerate().map(|(n, &i)| &opts[i..starts.get(n + 1).copied().unwrap_or(opts.len())]).collect()
    };
    let mut keys = Vec::new();
    for group in groups {
        let path = opt(group, "--key").ok_or("jwks needs --key")?;
        let pem = read(path)?;
        let key = Key::from_pem(&String::from_utf8_lossy(&pem)).map_err(|e| format!("--key {path}: {e}"))?;
        let kid = opt(group, "--kid").map_or_else(|| key.thumbprint(), str::to_owned);
        if keys.iter().any(|k: &serde_json::Value| k["kid"] == kid.as_str()) {
            return Err(format!("two keys have the kid {kid}: give each its own --kid"));
        }
        let default = key.curve().map_or(Alg::RS256, |c| c.alg());
        keys.push(
            key.to_jwk(&kid, parse_alg(group, default, |a| key.fits(a), &format!("the {} key", key.describe()))?),
        );
    }
    println!("{}", serde_json::json!({ "keys": keys }));
    Ok(ExitCode::SUCCESS)
}

/// `NAME=value` lines (blank lines and `#` comments skipped; a value may be quoted).
fn env_file(path: &str) -> Result<Vec<(String, String)>, String> {
    let text = String::from_utf8(read(path)?).map_err(|_| format!("{path}: not UTF-8"))?;
    let mut vars = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let (name, value) = line.split_once('=').ok_or(format!("{path}:{}: expected NAME=value", n + 1))?;
        let value = value.trim_end_matches(['\r', '\n']);
        let unquoted = [('"', '"'), ('\'', '\'')]
            .iter()
            .find_map(|(a, b)| value.strip_prefix(*a).and_then(|v| v.strip_suffix(*b)))
            .unwrap_or(value);
        vars.push((name.trim().to_owned(), unquoted.to_owned()));
    }
    Ok(vars)
}

/// `config`: the cold-start configuration code, run on the environment or a file, and
/// what it configured.
fn show_config(args: &[String]) -> Result<ExitCode, String> {
    let opts = options(args, &["--env-file"])?;
    let loaded = match opt(&opts, "--env-file") {
        None => config::from_env(),
        Some(path) => {
            let vars = env_file(path)?;
            config::check_names(vars.iter().map(|(k, _)| k.clone()))
                .and_then(|()| config::load(|name| vars.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.clone())))
        }
    };
    let loaded = match loaded {
        Ok(loaded) => loaded,
        Err(e) => {
            eprintln!("{e}");
            eprintln!("the function's cold start would fail with this configuration");
            return Ok(ExitCode::from(2));
        }
    };
    let a = &loaded.authorizer;
    let p = a.policy();
    let list = |items: &[String], none: &str| if items.is_empty() { none.to_owned() } else { items.join(", ") };
    println!("keys ({}):", a.keys().len());
    for key in a.keys().iter() {
        // An EC or Ed25519 key verifies one algorithm only; an RSA key any allowed RS*/PS*.
        let alg = key.alg().or(key.curve().map(|c| c.alg())).map_or("any allowed", |alg| alg.name());
        let kid = key.kid().unwrap_or("(none: matches any kid)");
        println!("  kid {kid}: {}, alg {alg}, RFC 7638 thumbprint {}", key.describe(), key.thumbprint());
    }
    #[cfg(feature = "remote-keys")]
    if let Some(remote) = a.remote()
        && let Err(e) = show_fetched(remote)
    {
        eprintln!("{e}");
        eprintln!("the function's cold start would fail with this configuration");
        return Ok(ExitCode::from(2));
    }
    let algs: Vec<&str> = Alg::ALL.iter().filter(|x| a.algorithms().contains(**x)).map(|x| x.name()).collect();
    println!("algorithms: {}", algs.join(", "));
    println!("issuer: {}", list(&p.issuers, "not checked"));
    println!("audience: {}", list(&p.audiences, "none (a token that carries aud is refused)"));
    println!("authorized parties (azp): {}", list(&p.authorized_parties, "not checked"));
    println!("leeway: {} s", p.leeway);
    let path = |segments: &[String]| {
        let quote =
            |s: &String| if s.contains(['.', '"', '=', ',', '|', ' ']) { format!("\"{s}\"") } else { s.clone() };
        segments.iter().map(quote).collect::<Vec<_>>().join(".")
    };
    let rules: Vec<String> = p.require.iter().map(|r| format!("{}={}", path(&r.path), r.values.join("|"))).collect();
    println!("rules (all must hold): {}", list(&rules, "none"));
    let context: Vec<String> = a.context().iter().map(|c| format!("{} <- {}", c.key, path(&c.path))).collect();
    println!("context: sub <- sub{}", context.iter().map(|c| format!(", {c}")).collect::<String>());
    println!("token cookie: {}", a.cookie().unwrap_or("none"));
    match a.token_query() {
        Some(q) => println!("token query parameter (REST REQUEST and WebSocket events): {q}"),
        None => println!("token header (REST REQUEST and WebSocket events): {}", a.token_header()),
    }
    println!("HTTP API answers: {:?}", a.format());
    println!("decision cache: {:?}", loaded.cache);
    match &loaded.metrics {
        Some(m) => println!("metrics: namespace {}, every {} s", m.namespace, m.interval_seconds),
        None => println!("metrics: off"),
    }
    for w in &loaded.warnings {
        println!("warning: {w}");
    }
    println!("ok: the function's cold start would succeed ({} warning(s))", loaded.warnings.len());
    Ok(ExitCode::SUCCESS)
}

#[cfg(feature = "remote-keys")]
/// `JWT_JWKS_URL`: the settings, then a fetch of every URL as the cold start makes it, and the
/// keys fetched (kid, thumbprint, URL, fetch time) or why not.
/// Every source: the `JWT_JWKS_URL`s, then each discovered issuer's document. An `Err` when a
/// discovery document names another issuer (the cold start would fail on it).
fn show_fetched(remote: &jwt_authorizer::jwks::Remote) -> Result<(), String> {
    use jwt_authorizer::jwks::Trigger;
    let s = remote.settings();
    println!(
        "fetched keys: refresh every {} s, unknown kids at most every {} s per URL, timeout {} ms, used up to 24 h when a refresh fails",
        s.refresh_seconds, s.min_refresh_seconds, s.timeout_ms
    );
    let now = jwt_authorizer::function::handler::now();
    let report = remote.refresh(now, Trigger::ColdStart, std::time::Instant::now() + remote.timeout());
    let snapshot = remote.snapshot();
    let discovered = s.discovery.iter().map(|d| &d.url);
    for (i, url) in s.urls.iter().chain(discovered).enumerate() {
        let outcome = report.fetches.iter().find(|f| f.url == url.text);
        match (snapshot.sets.get(i).cloned().flatten(), outcome.map(|f| &f.result)) {
            (Some(set), _) => {
                let serves = set.issuer.as_deref().map_or("any issuer".to_owned(), |i| format!("issuer {i} only"));
                println!(
                    "  {} (fetched at {} Unix seconds, {} keys, for {serves}):",
                    url.text,
                    set.fetched_at,
                    set.keys.len()
                );
                for key in set.keys.iter() {
                    let alg = key.alg().map_or("any allowed", |alg| alg.name());
                    println!(
                        "    kid {}: RSA {} bits, alg {alg}, RFC 7638 thumbprint {}",
                        key.kid().unwrap_or("?"),
                        key.modulus_bits(),
                        key.thumbprint()
                    );
                }
            }
            (None, Some(Err(e))) => println!(
                "  {}: fetch failed ({}): {e}; the function would serve and refuse with keys_unavailable until a fetch works",
                url.text,
                e.code()
            ),
            (None, _) => println!("  {}: not fetched", url.text),
        }
        if let Some(Ok((_, skipped))) = outcome.map(|f| &f.result) {
            for k in skipped {
                println!("    skipped key {}: {}", k.kid.as_deref().unwrap_or("(no kid)"), k.why);
            }
        }
    }
    match report
        .fetches
        .iter()
        .find(|f| matches!(f.result, Err(jwt_authorizer::jwks::remote::RefreshError::IssuerMismatch)))
    {
        Some(f) => {
            Err(format!("invalid configuration: JWT_ISSUER: the discovery document at {} names another issuer", f.url))
        }
        None => Ok(()),
    }
}

/// The demo: a fixed configuration, real tokens signed now with the bundled demo key,
/// real event shapes, and `Authorizer::handle` — what the Lambda runs per invocation.
fn demo() -> Result<ExitCode, String> {
    let demo_env = |name: &str| -> Option<String> {
        match name {
            "JWT_PUBLIC_KEY" => Some(DEMO_PUBLIC_KEY.to_owned()),
            "JWT_ISSUER" => Some("https://demo.clerk.accounts.dev".to_owned()),
            "JWT_AUTHORIZED_PARTIES" => Some("https://app.example.com".to_owned()),
            "JWT_REQUIRE" => Some("metadata.role=admin".to_owned()),
            "JWT_CONTEXT_CLAIMS" => Some("email,role=metadata.role".to_owned()),
            _ => None,
        }
    };
    let authorizer = config::load(demo_env).map_err(|e| e.to_string())?.authorizer;
    let signer = Signer::from_pkcs8(DEMO_PRIVATE_KEY.as_bytes()).map_err(|e| e.to_string())?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let claims = |role: &str, iat: u64| {
        serde_json::json!({
            "sub": "user_2abcDEMO", "iss": "https://demo.clerk.accounts.dev", "azp": "https://app.example.com",
            "iat": iat, "nbf": iat - 5, "exp": iat + 60, "email": "ada@example.com", "metadata": { "role": role },
        })
    };
    let valid = signer.sign(&claims("admin", now), Alg::RS256, None);
    let expired = signer.sign(&claims("admin", now - 3600), Alg::RS256, None);
    let viewer = signer.sign(&claims("viewer", now), Alg::RS256, None);
    let tampered = {
        // Same signature, claims edited from "viewer" to "admin".
        let mut parts: Vec<String> = viewer.split('.').map(str::to_owned).collect();
        let forged = claims("admin", now).to_string();
        parts[1] = jwt_authorizer::jwt::b64::encode(forged.as_bytes());
        parts.join(".")
    };
    let alg_none = format!(
        "{}.{}.",
        jwt_authorizer::jwt::b64::encode(br#"{"alg":"none","typ":"JWT"}"#),
        jwt_authorizer::jwt::b64::encode(claims("admin", now).to_string().as_bytes())
    );
    let bearer = |t: &str| format!("Bearer {t}");
    let cases: [(&str, Vec<u8>); 8] = [
        ("HTTP API v2: valid admin token", with_token(EVENT_V2, &bearer(&valid))),
        ("HTTP API v2: expired token", with_token(EVENT_V2, &bearer(&expired))),
        ("HTTP API v2: wrong role (viewer)", with_token(EVENT_V2, &bearer(&viewer))),
        ("HTTP API v2: tampered claims", with_token(EVENT_V2, &bearer(&tampered))),
        ("HTTP API v2: alg none", with_token(EVENT_V2, &bearer(&alg_none))),
        ("HTTP API v2: missing token", EVENT_V2_NO_TOKEN.as_bytes().to_vec()),
        ("REST TOKEN: valid admin token", with_token(EVENT_REST_TOKEN, &bearer(&valid))),
        ("REST REQUEST: wrong role (viewer)", with_token(EVENT_REST_REQUEST, &bearer(&viewer))),
    ];
    println!("jwt-authorizer demo: bundled demo key (RS256, 2048-bit), issuer https://demo.clerk.accounts.dev,");
    println!("azp https://app.example.com, JWT_REQUIRE=metadata.role=admin, context: email, role\n");
    let mut scratch = Scratch::default();
    for (name, event) in &cases {
        run_case(&authorizer, name, event, now, &mut scratch);
    }
    Ok(ExitCode::SUCCESS)
}

fn run_case(authorizer: &Authorizer, name: &str, event: &[u8], now: u64, scratch: &mut Scratch) {
    authorizer.handle(event, now, scratch); // warm the scratch buffers
    const ROUNDS: u32 = 200;
    let start = Instant::now();
    for _ in 0..ROUNDS {
        std::hint::black_box(authorizer.handle(std::hint::black_box(event), now, scratch));
    }
    let per = start.elapsed() / ROUNDS;
    let handled = authorizer.handle(event, now, scratch);
    let decision = if handled.response.allows() { "ALLOW" } else { "DENY " };
    let reason = handled.denial.as_ref().map_or("-", |d| d.reason.code());
    let body = handled.response.to_json().unwrap_or_else(|| "error: Unauthorized (HTTP 401)".to_owned());
    println!("{decision} {name:<36} reason={reason:<16} {:>7.1} µs/event", per.as_secs_f64() * 1e6);
    println!("      → {body}");
}
