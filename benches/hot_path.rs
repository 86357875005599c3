//! Wall-clock benches: each stage of the hot path, the end-to-end decision, and the peers
//! (ring's verify alone on the same signing input; the `jsonwebtoken` crate on the same
//! token and policy), side by side in one run. Setup is outside every measured closure.
//!
//! `cargo bench --bench hot_path` (full) or `cargo bench --bench hot_path -- --quick`;
//! `.ci/bench.sh` runs it quickly and prints a table from criterion's estimates.

mod common;

use common::{AZP, CurveFixture, Fixture, PeerClaims};
use criterion::{Criterion, criterion_group, criterion_main};
use jwt_authorizer::Scratch;
use jwt_authorizer::apigw::event;
use jwt_authorizer::cache::{CachedAuthorizer, DecisionCache};
use jwt_authorizer::jwt::json::{PADDING, Parser};
use jwt_authorizer::jwt::{b64, claims, header, token, verify};
use ring::signature::{RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents};
use std::hint::black_box;

/// The end-to-end decision next to its floor and its peer, in one group.
fn floor(c: &mut Criterion) {
    let f = Fixture::new();
    let mut g = c.benchmark_group("floor");
    let ring_key = RsaPublicKeyComponents { n: &f.modulus[..], e: &f.exponent[..] };
    g.bench_function("ring_verify", |b| {
        b.iter(|| ring_key.verify(&RSA_PKCS1_2048_8192_SHA256, black_box(&f.signing_input), black_box(&f.signature)))
    });
    let mut scratch = Scratch::default();
    let token = f.token.as_bytes();
    assert_eq!(f.authorizer.decide(token, f.now, &mut scratch), Ok(()));
    g.bench_function("decide", |b| b.iter(|| f.authorizer.decide(black_box(token), f.now, &mut scratch)));

    let (key, validation) = f.peer();
    let check = |t: &str| jsonwebtoken::decode::<PeerClaims>(t, &key, &validation).is_ok_and(|d| d.claims.azp == AZP);
    assert!(check(&f.token), "jsonwebtoken accepts the fixture");
    g.bench_function("jsonwebtoken", |b| b.iter(|| check(black_box(&f.token))));
    g.finish();
}

/// Each stage alone, on the same token and event.
fn stages(c: &mut Criterion) {
    let f = Fixture::new();
    let a = &f.authorizer;
    let token = f.token.as_bytes();
    let parts = token::split(token).expect("three segments");
    let mut g = c.benchmark_group("stage");

    g.bench_function("split", |b| b.iter(|| token::split(black_box(token))));

    let mut hbuf = vec![0u8; 512 + PADDING];
    let mut cbuf = vec![0u8; 1024 + PADDING];
    let mut sbuf = [0u8; 1024];
    g.bench_function("base64_x3", |b| {
        b.iter(|| {
            let h = b64::decode(black_box(parts.header), &mut hbuf).map(|d| d.len());
            let c = b64::decode(black_box(parts.claims), &mut cbuf).map(|d| d.len());
            let s = b64::decode(black_box(parts.signature), &mut sbuf).map(|d| d.len());
            (h, c, s)
        })
    });

    let hlen = b64::decode(parts.header, &mut hbuf).expect("header").len();
    let clen = b64::decode(parts.claims, &mut cbuf).expect("claims").len();
    let mut parser = Parser::with_capacity(2048);
    g.bench_function("header", |b| {
        // simd-json unescapes in place; this header has no escapes, so re-parsing is exact.
        b.iter(|| {
            parser.parse(&mut hbuf, hlen, |h| {
                let h = header::parse(h, a.algorithms())?;
                a.keys().select(h.kid, h.alg).map(|_| ())
            })
        })
    });
    g.bench_function("claims", |b| {
        b.iter(|| parser.parse(&mut cbuf, clen, |c| claims::validate(c, a.policy(), f.now).map(|v| v.sub.len())))
    });

    let key = a.keys().select(Some(common::KID), header::Alg::RS256).expect("key");
    g.bench_function("verify", |b| {
        b.iter(|| verify::verify(key, header::Alg::RS256, black_box(&f.signing_input), black_box(&f.signature)))
    });

    let mut ebuf = f.event.clone();
    ebuf.resize(f.event.len() + PADDING, 0);
    let elen = f.event.len();
    let mut eparser = Parser::with_capacity(4096);
    g.bench_function("event", |b| {
        b.iter(|| {
            ebuf[..elen].copy_from_slice(&f.event); // parsing unescapes in place: restore
            eparser.parse(&mut ebuf, elen, |ev| event::read(ev, None).map(|r| r.token.map(str::len)))
        })
    });

    let mut scratch = Scratch::default();
    g.bench_function("handle", |b| b.iter(|| a.handle(black_box(&f.event), f.now, &mut scratch).response.to_json()));

    let mut cached = CachedAuthorizer::new(a.clone(), DecisionCache::new(128, 300));
    assert_eq!(cached.decide(token, f.now, &mut scratch), Ok(()));
    g.bench_function("decide_cached", |b| b.iter(|| cached.decide(black_box(token), f.now, &mut scratch)));
    assert!(cached.handle(&f.event, f.now, &mut scratch).denial.is_none());
    g.bench_function("handle_cached", |b| {
        b.iter(|| cached.handle(black_box(&f.event), f.now, &mut scratch).response.to_json())
    });
    g.finish();
}

/// ES256, ES384, Ed25519 (issue 18): ring's verify alone and the decision, per algorithm; the
/// report divides each by the RS256 `floor/ring_verify` too, so the algorithms compare.
fn curves(c: &mut Criterion) {
    use jwt_authorizer::jwt::header::Alg;
    let mut g = c.benchmark_group("curve");
    for (alg, id) in [(Alg::ES256, "es256"), (Alg::ES384, "es384"), (Alg::EdDSA, "ed25519")] {
        let f = CurveFixture::new(alg);
        let key = ring::signature::UnparsedPublicKey::new(f.ring_alg, &f.public[..]);
        g.bench_function(format!("ring_verify_{id}"), |b| {
            b.iter(|| key.verify(black_box(&f.signing_input), black_box(&f.signature)))
        });
        let mut scratch = Scratch::default();
        let token = f.token.as_bytes();
        assert_eq!(f.authorizer.decide(token, f.now, &mut scratch), Ok(()));
        g.bench_function(format!("decide_{id}"), |b| {
            b.iter(|| f.authorizer.decide(black_box(token), f.now, &mut scratch))
        });
    }
    g.finish();
}

criterion_group!(benches, floor, stages, curves);
criterion_main!(benches);
