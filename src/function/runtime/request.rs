//! The requests the function makes of the Runtime API (2018-06-01), written into a buffer:
//! `GET …/invocation/next`, `POST …/invocation/{id}/response` and `…/error`, and
//! `POST …/init/error` (<https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html>).
//! Kept from `lambda_runtime`: the paths, the error body `{"errorType","errorMessage"}` and the
//! `Lambda-Runtime-Function-Error-Type` header (`unhandled` for invocation errors).
//!
//! Every value that reaches a head is validated before it gets here: the endpoint at cold
//! start ([`super::endpoint`]), the request id when it arrived ([`super::valid_request_id`]);
//! the error type, which this program writes, has CR and LF stripped regardless.

use super::Error;
use super::endpoint::Endpoint;
use super::invocation::{Outcome, valid_request_id};
use std::io::Write as _;

const USER_AGENT: &str = concat!("jwt-authorizer/", env!("CARGO_PKG_VERSION"));
pub const NEXT: &str = "/2018-06-01/runtime/invocation/next";
pub const INIT_ERROR: &str = "/2018-06-01/runtime/init/error";
const INVOCATION: &str = "/2018-06-01/runtime/invocation/";

/// `GET …/invocation/next`, appended to `out`.
pub fn next(out: &mut Vec<u8>, api: &Endpoint) {
    head(out, "GET", &[api.prefix(), NEXT], api.host(), None, None);
}

/// The answer to invocation `request_id`, appended to `out`. A protocol error when the id
/// could not be a Lambda request id (nothing is written).
pub fn outcome(out: &mut Vec<u8>, api: &Endpoint, request_id: &str, outcome: &Outcome<'_>) -> Result<(), Error> {
    if !valid_request_id(request_id.as_bytes()) {
        return Err(Error::Protocol("malformed Lambda-Runtime-Aws-Request-Id"));
    }
    match outcome {
        Outcome::Response(body) => {
            let path = [api.prefix(), INVOCATION, request_id, "/response"];
            head(out, "POST", &path, api.host(), Some(body.len()), None);
            out.extend_from_slice(body);
        }
        Outcome::Error { error_type, message } => {
            let body = diagnostic(error_type, message);
            let path = [api.prefix(), INVOCATION, request_id, "/error"];
            head(out, "POST", &path, api.host(), Some(body.len()), Some("unhandled"));
            out.extend_from_slice(body.as_bytes());
        }
    }
    Ok(())
}

/// `POST …/init/error`, appended to `out`.
pub fn init_error(out: &mut Vec<u8>, api: &Endpoint, error_type: &str, message: &str) {
    let body = diagnostic(error_type, message);
    head(out, "POST", &[api.prefix(), INIT_ERROR], api.host(), Some(body.len()), Some(error_type));
    out.extend_from_slice(body.as_bytes());
}

/// `lambda_runtime`'s error body: `{"errorType":…,"errorMessage":…}`.
fn diagnostic(error_type: &str, message: &str) -> String {
    serde_json::json!({ "errorType": error_type, "errorMessage": message }).to_string()
}

fn head(out: &mut Vec<u8>, method: &str, path: &[&str], host: &str, len: Option<usize>, error_type: Option<&str>) {
    let _ = write!(out, "{method} ");
    path.iter().for_each(|part| out.extend_from_slice(part.as_bytes()));
    let _ = write!(out, " HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {USER_AGENT}\r\n");
    if let Some(len) = len {
        let _ = write!(out, "Content-Type: application/json\r\nContent-Length: {len}\r\n");
    }
    if let Some(t) = error_type {
        let _ = write!(out, "Lambda-Runtime-Function-Error-Type: {}\r\n", t.replace(['\r', '\n'], ""));
    }
    out.extend_from_slice(b"\r\n");
}
