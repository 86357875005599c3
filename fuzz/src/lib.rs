//! Shared setup for the fuzz targets (`fuzz_targets/*.rs`): the fuzz key, one fixed policy,
//! a fixed clock, reusable scratch buffers, and the *independent* checks the targets assert
//! against — `ring` directly for signatures, the `base64` crate, and `serde_json` for JSON.
//! None of these checks call back into the code under test.
//!
//! The fuzz key (`keys/fuzz.key.pem`) is a copy of `tests/fixtures/rsa2048-a.key.pem`: it
//! signs seed tokens and the structure-aware target's tokens. `keys/other.pub.pem` is
//! fixture B's public key, configured under kid `other`; its private key is not here.
//! `keys/ec-p256.key.pem`, `keys/ec-p384.key.pem` and `keys/ed25519.key.pem` are copies of the
//! fixtures of the same names: the `ec_signature` target's signing keys ([`ec`]).

pub mod cache;
pub mod ec;
pub mod http;
pub mod jwks;
pub mod oracle;
pub mod signed;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jwt_authorizer::jwt::Rejection;
use jwt_authorizer::jwt::claims::{self, Policy, Rule};
use jwt_authorizer::jwt::json::{PADDING, Parser};
use jwt_authorizer::jwt::mint::Signer;
use jwt_authorizer::{Authorizer, Scratch, config};
use ring::signature::{self, KeyPair as _, RsaKeyPair, RsaPublicKeyComponents, UnparsedPublicKey};
use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

/// The fixed "current time" of every decision (2027-01-15).
pub const NOW: u64 = 1_800_000_000;
/// A far-future `exp` for seed tokens (2096).
pub const FAR_FUTURE: u64 = 4_000_000_000;
pub const FUZZ_KID: &str = "fuzz-key";
pub const OTHER_KID: &str = "other";
pub const ISSUER: &str = "https://issuer.example";
pub const AUDIENCES: &str = "api,api2";
pub const AZP: &str = "https://app.example";
pub const RULE: &str = "metadata.role=admin|owner";
pub const CONTEXT: &str = "email,role=metadata.role,meta=metadata";
pub const COOKIE: &str = "__session";

pub const FUZZ_PRIVATE_KEY: &str = include_str!("../keys/fuzz.key.pem");
pub const FUZZ_PUBLIC_KEY: &str = include_str!("../keys/fuzz.pub.pem");
pub const OTHER_PUBLIC_KEY: &str = include_str!("../keys/other.pub.pem");

/// Everything built once per process.
pub struct Fixture {
    /// JWKS (fuzz key as `fuzz-key`, RS256; fixture B as `other`), issuer, audiences, azp,
    /// a rule and context claims; simple responses for 2.0 events.
    pub simple: Authorizer,
    /// The same, answering IAM policies for 2.0 events too.
    pub iam: Authorizer,
    /// `simple` reading REST REQUEST and WebSocket events' token from the query-string
    /// parameter `token` (`JWT_TOKEN_QUERY`).
    pub query: Authorizer,
    /// `simple` reading it from `Sec-WebSocket-Protocol`, after the `jwt` subprotocol.
    pub subprotocol: Authorizer,
    /// Signs with the fuzz private key.
    pub signer: Signer,
    /// The fuzz public key as PKCS#1 DER, derived by `ring` from the private key.
    public_der: Vec<u8>,
    /// The `JWT_JWKS` text the authorizers were loaded from.
    pub jwks: String,
}

pub static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let der = pem_body(FUZZ_PRIVATE_KEY);
    let pair = RsaKeyPair::from_pkcs8(&der).expect("fuzz key is PKCS#8 RSA");
    let public_der = pair.public_key().as_ref().to_vec();
    let fuzz: RsaPublicKeyComponents<Vec<u8>> = pair.public_key().into();
    let other = other_components();
    let jwk = |kid: &str, c: &RsaPublicKeyComponents<Vec<u8>>| {
        format!(
            r#"{{"kty":"RSA","use":"sig","alg":"RS256","kid":"{kid}","n":"{}","e":"{}"}}"#,
            URL_SAFE_NO_PAD.encode(&c.n),
            URL_SAFE_NO_PAD.encode(&c.e)
        )
    };
    let jwks = format!(r#"{{"keys":[{},{}]}}"#, jwk(FUZZ_KID, &fuzz), jwk(OTHER_KID, &other));
    let load_with = |format: &str, extra: Option<(&'static str, &str)>| {
        let mut env = fixture_env(&jwks, format);
        env.extend(extra.map(|(k, v)| (k, v.to_owned())));
        config::load(|name| env.get(name).cloned()).expect("fixture configuration loads").authorizer
    };
    let load = |format: &str| load_with(format, None);
    Fixture {
        simple: load("simple"),
        iam: load("iam"),
        query: load_with("simple", Some(("JWT_TOKEN_QUERY", "token"))),
        subprotocol: load_with("simple", Some(("JWT_TOKEN_HEADER", "Sec-WebSocket-Protocol"))),
        signer: Signer::from_pkcs8(FUZZ_PRIVATE_KEY.as_bytes()).expect("fuzz key signs"),
        public_der,
        jwks: jwks.clone(),
    }
});

/// The environment the fixture authorizers are loaded from.
pub fn fixture_env(jwks: &str, format: &str) -> HashMap<&'static str, String> {
    HashMap::from([
        ("JWT_JWKS", jwks.to_owned()),
        ("JWT_ISSUER", ISSUER.to_owned()),
        ("JWT_AUDIENCE", AUDIENCES.to_owned()),
        ("JWT_AUTHORIZED_PARTIES", AZP.to_owned()),
        ("JWT_REQUIRE", RULE.to_owned()),
        ("JWT_CONTEXT_CLAIMS", CONTEXT.to_owned()),
        ("JWT_TOKEN_COOKIE", COOKIE.to_owned()),
        ("JWT_RESPONSE_FORMAT", format.to_owned()),
    ])
}

/// A second policy for the claims target: no issuer/audience/azp, zero leeway, typed rules.
pub static TYPED_POLICY: LazyLock<Policy> = LazyLock::new(|| Policy {
    leeway: 0,
    require: vec![Rule::parse("email_verified=true").unwrap(), Rule::parse("org.level=3|-1").unwrap()],
    ..Policy::default()
});

static SCRATCH: LazyLock<Mutex<Scratch>> = LazyLock::new(|| Mutex::new(Scratch::default()));

/// Runs `f` with the process's one `Scratch`, reused across inputs as the Lambda reuses it.
pub fn with_scratch<R>(f: impl FnOnce(&mut Scratch) -> R) -> R {
    let mut guard = SCRATCH.lock().unwrap_or_else(|p| p.into_inner());
    f(&mut guard)
}

static PARSER: LazyLock<Mutex<Parser>> = LazyLock::new(|| Mutex::new(Parser::with_capacity(4096)));

/// `claims::validate` on raw claims JSON, parsed in place by the crate's `json::Parser`.
pub fn validate_claims(claims: &[u8], policy: &Policy, now: u64) -> Result<String, Rejection> {
    let mut buf = claims.to_vec();
    buf.resize(claims.len() + PADDING, 0);
    let mut parser = PARSER.lock().unwrap_or_else(|p| p.into_inner());
    parser.parse(&mut buf, claims.len(), |c| claims::validate(c, policy, now).map(|v| v.sub.to_owned())).and_then(|r| r)
}

/// Claims that satisfy the fixture policy at [`NOW`].
pub fn valid_claims(sub: &str, exp: u64) -> serde_json::Value {
    serde_json::json!({
        "sub": sub,
        "iss": ISSUER,
        "aud": ["api", "other-api"],
        "azp": AZP,
        "exp": exp,
        "iat": NOW - 60,
        "nbf": NOW - 60,
        "email": format!("{sub}@example.com"),
        "metadata": {"role": "admin", "tags": ["a", 1]},
    })
}

/// A token the fixture authorizers allow at [`NOW`] (kid `fuzz-key`).
pub static VALID_TOKEN: LazyLock<String> = LazyLock::new(|| {
    FIXTURE.signer.sign(&valid_claims("user_fuzz", FAR_FUTURE), jwt_authorizer::jwt::header::Alg::RS256, Some(FUZZ_KID))
});

/// Independent check: does the text before the last `.` carry an RS256 signature by the
/// fuzz key, encoded as canonical base64url (per the `base64` crate) after the last `.`?
pub fn signed_by_fuzz_key(token: &[u8]) -> bool {
    let Some(dot) = token.iter().rposition(|&b| b == b'.') else { return false };
    let Ok(sig) = URL_SAFE_NO_PAD.decode(&token[dot + 1..]) else { return false };
    UnparsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, &FIXTURE.public_der)
        .verify(&token[..dot], &sig)
        .is_ok()
}

/// Independent check for events: does any string in `event` (raw, or JSON-unescaped, keys
/// included, duplicates included) contain a `header.claims.signature` run that
/// [`signed_by_fuzz_key`] accepts? A fuzzer cannot forge one, so an allow needs one.
pub fn carries_fuzz_signed_token(event: &[u8]) -> bool {
    let mut texts: Vec<Vec<u8>> = vec![event.to_vec()];
    if let Ok(walk) = oracle::walk(event) {
        texts.extend(walk.strings.into_iter().map(String::into_bytes));
    }
    texts.iter().any(|t| {
        t.split(|b| !(b.is_ascii_alphanumeric() || b"-_.".contains(b)))
            .filter(|piece| piece.iter().filter(|&&b| b == b'.').count() == 2)
            .any(signed_by_fuzz_key)
    })
}

/// The DER inside a PEM block, decoded with the `base64` crate (not the crate under test).
pub fn pem_body(pem: &str) -> Vec<u8> {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).map(str::trim).collect();
    STANDARD.decode(body).expect("PEM body is base64")
}

/// Fixture B's public modulus and exponent (setup only: parsed by the crate's own loader).
fn other_components() -> RsaPublicKeyComponents<Vec<u8>> {
    let key = jwt_authorizer::jwt::keys::Key::from_pem(OTHER_PUBLIC_KEY).expect("fixture B public key");
    RsaPublicKeyComponents { n: key.modulus().to_vec(), e: key.exponent().to_vec() }
}

/// Splits `data` at NUL bytes into at most `n` UTF-8 fields (invalid UTF-8 → `None`).
pub fn fields(data: &[u8], n: usize) -> Vec<Option<String>> {
    data.splitn(n, |&b| b == 0).map(|f| String::from_utf8(f.to_vec()).ok()).collect()
}

/// The variables the config target fills, in the order of its NUL-separated fields: every
/// variable the function reads except `JWT_JWKS_FILE` (a path; the fuzzer must not read files).
pub static CONFIG_VARS: std::sync::LazyLock<Vec<&'static str>> = std::sync::LazyLock::new(|| {
    jwt_authorizer::config::VARIABLES.iter().copied().filter(|v| *v != "JWT_JWKS_FILE").collect()
});

/// WebSocket `$connect` events carrying `token` (AWS's documented shape, trimmed): in the
/// `Authorization` header, in the `token` query parameter (single- and multi-value forms), in
/// `Sec-WebSocket-Protocol` after `jwt`; and the refused shapes (a parameter given twice, the
/// forms disagreeing, `jwt` offered twice).
pub fn websocket_events_with(token: &str) -> [String; 6] {
    let connect = |extra: &str| {
        format!(
            r#"{{"type":"REQUEST","methodArn":"arn:aws:execute-api:us-east-1:123456789012:abcdef123/default/$connect","requestContext":{{"routeKey":"$connect","eventType":"CONNECT","stage":"default","connectionId":"Zk9vYmFy","apiId":"abcdef123"}},{extra}}}"#
        )
    };
    [
        connect(&format!(
            r#""headers":{{"Authorization":"Bearer {token}"}},"multiValueHeaders":{{"Authorization":["Bearer {token}"]}}"#
        )),
        connect(&format!(
            r#""queryStringParameters":{{"token":"{token}"}},"multiValueQueryStringParameters":{{"token":["{token}"]}}"#
        )),
        connect(&format!(
            r#""headers":{{"Sec-WebSocket-Protocol":"jwt, {token}"}},"multiValueHeaders":{{"Sec-WebSocket-Protocol":["jwt, {token}"]}}"#
        )),
        connect(&format!(
            r#""queryStringParameters":{{"token":"{token}"}},"multiValueQueryStringParameters":{{"token":["x","{token}"]}}"#
        )),
        connect(&format!(
            r#""queryStringParameters":{{"token":"{token}"}},"multiValueQueryStringParameters":{{"token":["x"]}}"#
        )),
        connect(&format!(r#""headers":{{"sec-websocket-protocol":"jwt, {token}, jwt, {token}"}}"#)),
    ]
}

/// An event of each flavour carrying `token` in its identity source (for the config target
/// and the seeds): 2.0 with an Authorization and with a Cookie identity source (next to
/// `$context.routeKey`), 1.0, REST TOKEN, and REST REQUEST (the default `JWT_TOKEN_HEADER`).
pub fn events_with(token: &str) -> [String; 5] {
    let arn = "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/GET/orders";
    [
        format!(
            r#"{{"version":"2.0","type":"REQUEST","routeArn":"{arn}","identitySource":["Bearer {token}"],"headers":{{}}}}"#
        ),
        format!(
            r#"{{"version":"2.0","type":"REQUEST","routeArn":"{arn}","identitySource":["a=1; {COOKIE}={token}","GET /orders"],"headers":{{"cookie":"a=1; {COOKIE}={token}"}}}}"#
        ),
        format!(
            r#"{{"version":"1.0","type":"REQUEST","methodArn":"{arn}","identitySource":"Bearer {token}","headers":{{}}}}"#
        ),
        format!(r#"{{"type":"TOKEN","authorizationToken":"Bearer {token}","methodArn":"{arn}"}}"#),
        format!(r#"{{"type":"REQUEST","methodArn":"{arn}","headers":{{"Authorization":"Bearer {token}"}}}}"#),
    ]
}
