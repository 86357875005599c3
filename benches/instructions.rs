//! Instruction counts (Callgrind, through gungraun): deterministic, so CI can gate on them.
//!
//! Every case gets its inputs from a setup function (not counted) that has already run the
//! same call once, so one-time work — CPU feature detection, buffer growth, a cache fill —
//! is never attributed to the measured call; inputs are leaked so their drop is not either. `.ci/bench.sh` reads the JSON summary and
//! fails when `decide` exceeds 1.08 × `ring_verify`, or `decide_cached` its bound; and, for
//! ES256, ES384 and Ed25519 (issue 18), when `decide_curve` exceeds 1.05 × `ring_verify_curve`
//! of the same algorithm.
//!
//! Needs valgrind and `gungraun-runner` (same version as the `gungraun` dev-dependency):
//! `cargo bench --bench instructions`.

mod common;

use common::{CurveFixture, Fixture, PeerClaims};
use gungraun::prelude::*;
use jwt_authorizer::Scratch;
use jwt_authorizer::cache::{CachedAuthorizer, DecisionCache};
use ring::signature::{RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents};
use std::hint::black_box;

struct Ready {
    f: Fixture,
    scratch: Scratch,
    cached: CachedAuthorizer,
}

/// Leaked, so dropping the fixture is never counted in a benchmark.
fn ready() -> &'static mut Ready {
    let f = Fixture::new();
    let mut scratch = Scratch::default();
    let mut cached = CachedAuthorizer::new(f.authorizer.clone(), DecisionCache::new(128, 300));
    // Warm every path once: lazy CPU-feature detection, buffers, and the cache entry.
    assert_eq!(f.authorizer.decide(f.token.as_bytes(), f.now, &mut scratch), Ok(()));
    assert!(f.authorizer.handle(&f.event, f.now, &mut scratch).denial.is_none());
    assert_eq!(cached.decide(f.token.as_bytes(), f.now, &mut scratch), Ok(()));
    assert!(cached.handle(&f.event, f.now, &mut scratch).denial.is_none());
    Box::leak(Box::new(Ready { f, scratch, cached }))
}

#[library_benchmark]
#[bench::rs256(setup = ready)]
fn ring_verify(r: &'static mut Ready) -> bool {
    let key = RsaPublicKeyComponents { n: &r.f.modulus[..], e: &r.f.exponent[..] };
    black_box(key.verify(&RSA_PKCS1_2048_8192_SHA256, black_box(&r.f.signing_input), black_box(&r.f.signature)).is_ok())
}

#[library_benchmark]
#[bench::rs256(setup = ready)]
fn decide(r: &'static mut Ready) -> bool {
    black_box(r.f.authorizer.decide(black_box(r.f.token.as_bytes()), r.f.now, &mut r.scratch).is_ok())
}

#[library_benchmark]
#[bench::rs256(setup = ready)]
fn decide_cached(r: &'static mut Ready) -> bool {
    let token = black_box(r.f.token.as_bytes());
    black_box(r.cached.decide(token, r.f.now, &mut r.scratch).is_ok())
}

#[library_benchmark]
#[bench::v2_event(setup = ready)]
fn handle(r: &'static mut Ready) -> Option<String> {
    black_box(r.f.authorizer.handle(black_box(&r.f.event), r.f.now, &mut r.scratch).response.to_json())
}

#[library_benchmark]
#[bench::v2_event(setup = ready)]
fn handle_cached(r: &'static mut Ready) -> Option<String> {
    let event = black_box(&r.f.event[..]);
    black_box(r.cached.handle(event, r.f.now, &mut r.scratch).response.to_json())
}

/// The same decision with the key fetched from `JWT_JWKS_URL` (issue 17) instead of `JWT_JWKS`:
/// what choosing among fetched keys (a lock-free load of the current set) costs. The setup
/// serves the JWKS once from a loopback server and fetches it as the cold start does.
struct Fetched {
    f: Fixture,
    scratch: Scratch,
    authorizer: jwt_authorizer::Authorizer,
}

fn fetched() -> &'static mut Fetched {
    fetched_by(false)
}

/// The same with `JWT_OIDC_DISCOVERY=on`: the key bound to its issuer, so the decision reads
/// the token's unverified `iss` first to choose the set.
fn discovered() -> &'static mut Fetched {
    fetched_by(true)
}

fn fetched_by(discovery: bool) -> &'static mut Fetched {
    use std::io::{Read, Write};
    let f = Fixture::new();
    let jwks = f
        .authorizer
        .keys()
        .iter()
        .next()
        .expect("the fixture's key")
        .to_jwk(common::KID, jwt_authorizer::jwt::header::Alg::RS256);
    let body = serde_json::json!({ "keys": [jwks] }).to_string();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let url = format!("http://{}/jwks", listener.local_addr().unwrap());
    // Discovery: the issuer is this server, whose document names it and points at /jwks.
    let origin = url.trim_end_matches("/jwks").to_owned();
    let doc = serde_json::json!({ "issuer": origin, "jwks_uri": url }).to_string();
    let answers = if discovery { vec![doc, body] } else { vec![body] };
    let server = std::thread::spawn(move || {
        for body in answers {
            let (mut conn, _) = listener.accept().expect("the fetch");
            let mut head = [0u8; 4096];
            let _ = conn.read(&mut head);
            let answer = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}", body.len());
            conn.write_all(answer.as_bytes()).expect("answer");
        }
    });
    let issuer = if discovery { origin.clone() } else { common::ISSUER.to_owned() };
    let env = |k: &str| match k {
        "JWT_JWKS_URL" if !discovery => Some(url.clone()),
        "JWT_OIDC_DISCOVERY" if discovery => Some("on".to_owned()),
        "JWT_ISSUER" => Some(issuer.clone()),
        "JWT_AUTHORIZED_PARTIES" => Some(common::AZP.to_owned()),
        _ => None,
    };
    let authorizer = jwt_authorizer::config::load(env).expect("configuration").authorizer;
    jwt_authorizer::function::refresh::cold_start(&authorizer, f.now).expect("cold start");
    server.join().expect("served");
    let mut scratch = Scratch::default();
    let mut f = f;
    if discovery {
        // The fixture's token, issued by this server instead.
        let claims = serde_json::json!({ "azp": common::AZP, "exp": f.now + 3600, "iat": f.now - 10, "iss": origin, "nbf": f.now - 15, "sub": "user_2lNbUv6JgT3yQ9mZkP1xR8wVd4E" });
        let private =
            std::fs::read(format!("{}/tests/fixtures/rsa2048-a.key.pem", env!("CARGO_MANIFEST_DIR"))).unwrap();
        let signer = jwt_authorizer::jwt::mint::Signer::from_pkcs8(&private).unwrap();
        f.token = signer.sign(&claims, jwt_authorizer::jwt::header::Alg::RS256, Some(common::KID));
    }
    assert_eq!(authorizer.decide(f.token.as_bytes(), f.now, &mut scratch), Ok(()));
    Box::leak(Box::new(Fetched { f, scratch, authorizer }))
}

#[library_benchmark]
#[bench::rs256(setup = discovered)]
fn decide_discovered(r: &'static mut Fetched) -> bool {
    black_box(r.authorizer.decide(black_box(r.f.token.as_bytes()), r.f.now, &mut r.scratch).is_ok())
}

#[library_benchmark]
#[bench::rs256(setup = fetched)]
fn decide_fetched(r: &'static mut Fetched) -> bool {
    black_box(r.authorizer.decide(black_box(r.f.token.as_bytes()), r.f.now, &mut r.scratch).is_ok())
}

/// The function's own per-invocation step (`function::handler::Function::reply`: decision, logging,
/// response JSON), without and with metrics: what metrics cost is the difference.
struct Replying {
    f: Fixture,
    plain: jwt_authorizer::function::handler::Function,
    metered: jwt_authorizer::function::handler::Function,
}

fn replying(cache: bool) -> &'static mut Replying {
    use jwt_authorizer::config::MetricsConfig;
    use jwt_authorizer::function::metrics::{Metrics, SharedMetrics};
    let f = Fixture::new();
    let new_cache = || if cache { DecisionCache::new(128, 300) } else { DecisionCache::disabled() };
    let config = MetricsConfig { namespace: "Bench".into(), interval_seconds: 3600 };
    let metrics = std::sync::Arc::new(SharedMetrics::new(Metrics::new(config, "bench", u64::MAX / 2)));
    let plain = jwt_authorizer::function::handler::Function::new(f.authorizer.clone(), new_cache());
    let metered =
        jwt_authorizer::function::handler::Function::new(f.authorizer.clone(), new_cache()).with_metrics(metrics);
    let mut r = Replying { f, plain, metered };
    let ctx = jwt_authorizer::function::log::Context::default();
    for _ in 0..2 {
        assert!(matches!(
            r.plain.reply(&r.f.event, r.f.now, &ctx),
            jwt_authorizer::function::runtime::Outcome::Response(_)
        ));
        assert!(matches!(
            r.metered.reply(&r.f.event, r.f.now, &ctx),
            jwt_authorizer::function::runtime::Outcome::Response(_)
        ));
    }
    Box::leak(Box::new(r))
}

fn replying_uncached() -> &'static mut Replying {
    replying(false)
}

fn replying_cached() -> &'static mut Replying {
    replying(true)
}

#[library_benchmark]
#[bench::uncached(setup = replying_uncached)]
#[bench::cached(setup = replying_cached)]
fn reply(r: &'static mut Replying) -> jwt_authorizer::function::runtime::Outcome<'static> {
    black_box(r.plain.reply(black_box(&r.f.event), r.f.now, &jwt_authorizer::function::log::Context::default()))
}

#[library_benchmark]
#[bench::uncached(setup = replying_uncached)]
#[bench::cached(setup = replying_cached)]
fn reply_metrics(r: &'static mut Replying) -> jwt_authorizer::function::runtime::Outcome<'static> {
    black_box(r.metered.reply(black_box(&r.f.event), r.f.now, &jwt_authorizer::function::log::Context::default()))
}

struct Peer {
    token: String,
    key: jsonwebtoken::DecodingKey,
    validation: jsonwebtoken::Validation,
}

fn peer() -> &'static Peer {
    let f = Fixture::new();
    let (key, validation) = f.peer();
    assert!(jsonwebtoken::decode::<PeerClaims>(&f.token, &key, &validation).is_ok());
    Box::leak(Box::new(Peer { token: f.token, key, validation }))
}

#[library_benchmark]
#[bench::rs256(setup = peer)]
fn jsonwebtoken_decode(p: &'static Peer) -> bool {
    black_box(jsonwebtoken::decode::<PeerClaims>(black_box(&p.token), &p.key, &p.validation).is_ok())
}

/// ES256, ES384, Ed25519: the same token shape and policy, its own key type (issue 18).
struct CurveReady {
    f: CurveFixture,
    scratch: Scratch,
}

fn curve_ready(alg: jwt_authorizer::jwt::header::Alg) -> &'static mut CurveReady {
    let f = CurveFixture::new(alg);
    let mut scratch = Scratch::default();
    assert_eq!(f.authorizer.decide(f.token.as_bytes(), f.now, &mut scratch), Ok(()));
    let ring_key = ring::signature::UnparsedPublicKey::new(f.ring_alg, &f.public[..]);
    assert!(ring_key.verify(&f.signing_input, &f.signature).is_ok());
    Box::leak(Box::new(CurveReady { f, scratch }))
}

fn es256() -> &'static mut CurveReady {
    curve_ready(jwt_authorizer::jwt::header::Alg::ES256)
}

fn es384() -> &'static mut CurveReady {
    curve_ready(jwt_authorizer::jwt::header::Alg::ES384)
}

fn ed25519() -> &'static mut CurveReady {
    curve_ready(jwt_authorizer::jwt::header::Alg::EdDSA)
}

#[library_benchmark]
#[bench::es256(setup = es256)]
#[bench::es384(setup = es384)]
#[bench::ed25519(setup = ed25519)]
fn ring_verify_curve(r: &'static mut CurveReady) -> bool {
    let key = ring::signature::UnparsedPublicKey::new(r.f.ring_alg, &r.f.public[..]);
    black_box(key.verify(black_box(&r.f.signing_input), black_box(&r.f.signature)).is_ok())
}

#[library_benchmark]
#[bench::es256(setup = es256)]
#[bench::es384(setup = es384)]
#[bench::ed25519(setup = ed25519)]
fn decide_curve(r: &'static mut CurveReady) -> bool {
    black_box(r.f.authorizer.decide(black_box(r.f.token.as_bytes()), r.f.now, &mut r.scratch).is_ok())
}

library_benchmark_group!(
    name = curves;
    benchmarks = ring_verify_curve, decide_curve
);

library_benchmark_group!(
    name = floor;
    benchmarks = ring_verify, decide, decide_cached, handle, handle_cached, jsonwebtoken_decode, decide_fetched,
        decide_discovered
);

library_benchmark_group!(
    name = function;
    benchmarks = reply, reply_metrics
);

main!(library_benchmark_groups = floor, function, curves);
