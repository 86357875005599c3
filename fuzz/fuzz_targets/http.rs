//! Any bytes as the Runtime API's side of the connection → the client's response reader,
//! response after response, in reads of varying size. Invariant: no panic, the buffers stay
//! within their limits, and every accepted response is one an independent strict parser
//! accepts identically (`fuzz/src/http.rs`).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| jwt_authorizer_fuzz::http::check(data));
