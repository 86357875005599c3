//! Any bytes as the bearer token → the full verify + policy path (fixture key and policy).
//! Invariant: no panic, and an allow only for a token whose RS256 signature by the fuzz key
//! `ring` verifies independently.
#![no_main]
use jwt_authorizer_fuzz::{FIXTURE, NOW, signed_by_fuzz_key, with_scratch};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|token: &[u8]| {
    let verdict = with_scratch(|s| FIXTURE.simple.decide(token, NOW, s));
    if verdict.is_ok() {
        assert!(signed_by_fuzz_key(token), "allowed a token the fuzz key did not sign");
    }
});
