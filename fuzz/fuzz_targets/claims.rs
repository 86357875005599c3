//! Any bytes as the decoded claims JSON → `json::Parser` + `claims::validate`, under the
//! fixture policy and a typed-rules policy. Invariant: no panic; the verdict equals the
//! `serde_json` re-implementation (`oracle`), which rejects every duplicate member name.
#![no_main]
use jwt_authorizer_fuzz::oracle::expected_claims;
use jwt_authorizer_fuzz::{FIXTURE, NOW, TYPED_POLICY, validate_claims};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|claims: &[u8]| {
    for policy in [FIXTURE.simple.policy(), &*TYPED_POLICY] {
        let ours = validate_claims(claims, policy, NOW);
        let expected = expected_claims(claims, policy, NOW).unwrap_or(Err("serde_json rejects the document"));
        assert_eq!(ours.is_ok(), expected.is_ok(), "ours: {ours:?}, expected: {expected:?}");
    }
});
