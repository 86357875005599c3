//! Any bytes as a whole Lambda event → `Authorizer::handle`, simple and IAM configurations,
//! and the token read from a query parameter or `Sec-WebSocket-Protocol` (WebSocket `$connect`).
//! Invariant: no panic; the response and the denial agree; an allow only when the event
//! carries a token the fuzz key signed (checked independently with `ring`).
#![no_main]
use jwt_authorizer_fuzz::{FIXTURE, NOW, carries_fuzz_signed_token, with_scratch};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|event: &[u8]| {
    for authorizer in [&FIXTURE.simple, &FIXTURE.iam, &FIXTURE.query, &FIXTURE.subprotocol] {
        let handled = with_scratch(|s| authorizer.handle(event, NOW, s));
        assert_eq!(handled.response.allows(), handled.denial.is_none(), "{handled:?}");
        assert!(!handled.response.allows() || carries_fuzz_signed_token(event), "allowed without a signed token");
        let _ = handled.response.to_json();
    }
});
