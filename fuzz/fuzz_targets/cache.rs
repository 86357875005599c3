//! Structure-aware: a sequence of `decide` / `handle` calls on real tokens whose answers
//! depend on the time, at a clock moving both ways, through a small `CachedAuthorizer`
//! (the Lambda's production path), under a byte budget from the input. Invariants: each
//! answer equals the plain `Authorizer`'s, and the cache never holds more than its budget.
#![no_main]
use jwt_authorizer_fuzz::cache::CacheCase;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|case: CacheCase| {
    if let Err(disagreement) = case.run() {
        panic!("the decision cache broke an invariant: {disagreement}");
    }
});
