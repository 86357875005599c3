//! Any bytes as a JWKS server's answer → the fetch's response reading and the JWKS rules
//! (`fuzz/src/jwks.rs`). Invariant: no panic, the size limit holds, a document taken has keys,
//! each with a `kid`.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| jwt_authorizer_fuzz::jwks::check(data));
