//! Structure-aware: header and claims built from `arbitrary` choices, written by our own
//! JSON writer, signed with the fuzz key (so the policy behind the signature is reached),
//! maybe tampered with. Invariant: the decision equals the verdict predicted from the
//! description (`signed::predict`), and an allow is always a valid fuzz-key signature.
#![no_main]
use jwt_authorizer_fuzz::signed::Case;
use jwt_authorizer_fuzz::{FIXTURE, NOW, signed_by_fuzz_key, with_scratch};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|case: Case| {
    let built = case.build();
    let verdict = with_scratch(|s| FIXTURE.simple.decide(&built.token, NOW, s));
    assert_eq!(verdict.is_ok(), built.expected.is_ok(), "ours: {verdict:?}, expected: {:?}", built.expected);
    assert!(verdict.is_err() || signed_by_fuzz_key(&built.token));
});
