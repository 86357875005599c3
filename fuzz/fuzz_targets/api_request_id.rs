//! API Gateway's request id from any bytes: never a panic; when found, plain, and the same
//! string `serde_json::Value` finds at `requestContext.requestId` (which also refuses numbers
//! beyond f64 elsewhere in the event, where skipping them does not: then there is no oracle).
#![no_main]
use jwt_authorizer::apigw::api_request_id::{MAX_LEN, of};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some(id) = of(data) else { return };
    assert!(id.len() <= MAX_LEN && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_=.+".contains(&b)));
    match serde_json::from_slice::<serde_json::Value>(data) {
        Ok(v) => assert_eq!(v["requestContext"]["requestId"].as_str(), Some(id.as_str()), "differs from Value"),
        Err(e) => assert!(e.to_string().contains("number out of range"), "not JSON to Value: {e}"),
    }
});
