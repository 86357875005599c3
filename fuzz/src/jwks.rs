//! The JWKS fetch's side of a connection (issue 17): any bytes as the issuer's answer →
//! `jwks::fetch::exchange` (the HTTP reader, the status rule, the 150,000-byte and wire
//! limits) → `jwks::remote::parse` (the strict JWKS rules, a `kid` on every key) and
//! `jwks::remote::parse_discovery` (the issuer exactly, a `jwks_uri` by the URL rules).

use jwt_authorizer::jwks::fetch::{self, MAX_BYTES};
use jwt_authorizer::jwks::remote;
use std::io::{self, Read, Write};

/// The server: `data` in reads of 1 to 64 bytes (sizes from the data itself), writes swallowed.
struct Server<'a> {
    data: &'a [u8],
    read: usize,
}

impl Read for Server<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = &self.data[self.read..];
        let step = 1 + usize::from(left.first().copied().unwrap_or(0) % 64);
        let n = step.min(left.len()).min(buf.len());
        buf[..n].copy_from_slice(&left[..n]);
        self.read += n;
        Ok(n)
    }
}

impl Write for Server<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Invariants: no panic; a body taken is at most [`MAX_BYTES`]; a document taken (the body,
/// or the bytes themselves as a body) has at least one key and every key a `kid`.
pub fn check(data: &[u8]) {
    if let Ok(body) = fetch::exchange(Server { data, read: 0 }, b"GET / HTTP/1.1\r\n\r\n") {
        assert!(body.len() <= MAX_BYTES, "a body of {} bytes was taken", body.len());
        document(&body);
    }
    document(data);
}

fn document(doc: &[u8]) {
    if let Ok((keys, _)) = remote::parse(doc) {
        assert!(!keys.is_empty() && keys.iter().all(|k| k.kid().is_some()));
    }
    // The same bytes as a discovery document (OpenID Connect Discovery 1.0): taken only with
    // the issuer exactly, and a jwks_uri by the JWT_JWKS_URL rules.
    if let Ok(uri) = remote::parse_discovery(doc, ISSUER) {
        let v: serde_json::Value = serde_json::from_slice(doc).expect("taken: it is JSON");
        assert_eq!(v["issuer"], ISSUER);
        assert!(uri.tls || jwt_authorizer::jwks::url::is_loopback(&uri.host), "{}", uri.text);
    }
}

/// The issuer the discovery documents are checked against (the seeds name it).
const ISSUER: &str = "https://issuer.example";
