//! The crate's base64url decoder vs the `base64` crate's strict `URL_SAFE_NO_PAD`
//! (no padding, no trailing bits): same accept/reject, same bytes, and canonical round trip.
#![no_main]
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jwt_authorizer::jwt::b64;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|src: &[u8]| {
    let mut buf = vec![0u8; src.len()];
    let ours = b64::decode(src, &mut buf).map(|d| d.to_vec()).ok();
    assert_eq!(ours, URL_SAFE_NO_PAD.decode(src).ok(), "decoders disagree");
    if let Some(bytes) = ours {
        assert_eq!(b64::encode(&bytes).as_bytes(), src, "accepted a non-canonical encoding");
    }
});
