//! ES256 / ES384 / EdDSA (issue 18): a token signed by a P-256, P-384 or Ed25519 fuzz key under
//! a header naming any of several algorithms and kids, its signature kept or edited (cut,
//! extended, flipped, replaced, DER, high S). Invariant: allow exactly when `ring`, with the
//! key pair's own public key, verifies the signature and the kid's key type fits the `alg`.
#![no_main]
use jwt_authorizer_fuzz::ec::{Case, EC_FIXTURE};
use jwt_authorizer_fuzz::{NOW, with_scratch};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|case: Case| {
    let built = case.build();
    let verdict = with_scratch(|s| EC_FIXTURE.authorizer.decide(&built.token, NOW, s));
    assert_eq!(verdict.is_ok(), built.expected, "{case:?}: ours {verdict:?}");
});
