//! Where the Runtime API is: `AWS_LAMBDA_RUNTIME_API`, validated once at cold start.
//!
//! Lambda sets it to `host:port` (<https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html>:
//! "the host and port of the runtime API", e.g. `127.0.0.1:9001`); emulators such as
//! `cargo lambda watch` set `http://host:port/prefix`. The value becomes part of every request
//! head (`Host:`) and path, so it is checked byte by byte before any request is made: a CR,
//! LF, space or any byte outside the grammar below fails the cold start naming the variable,
//! never reaching the wire.
//!
//! Accepted: an optional `http://`, then a host — a DNS name or IPv4 address (letters,
//! digits, `-`, `.`, `_`) or an IPv6 address in brackets (RFC 3986 §3.2.2: `[::1]`; an
//! unbracketed IPv6 address is refused, since its last `:` could not be told from the
//! port's) — then `:` and a port from 1 to 65535, then optionally a path of RFC 3986 `pchar`s
//! and `/` (no `%`, `?` or `#`).

/// The variable Lambda sets.
pub const VARIABLE: &str = "AWS_LAMBDA_RUNTIME_API";

/// A validated Runtime API address: only [`Endpoint::parse`] makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    host: String,
    prefix: String,
}

impl Endpoint {
    /// `host:port` as it goes into the `Host` header and is resolved (`[::1]:9001` for IPv6).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Path prefix before `/2018-06-01/…`: empty on Lambda; `/.rt/<fn>` under `cargo lambda`.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Parses and validates a value of [`VARIABLE`]; the error says what is wrong with it.
    pub fn parse(value: &str) -> Result<Endpoint, &'static str> {
        let rest = value.strip_prefix("http://").unwrap_or(value);
        let (authority, path) = rest.split_once('/').map_or((rest, ""), |(a, p)| (a, p));
        let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
            let (ip, after) = bracketed.split_once(']').ok_or("an IPv6 address without its closing ]")?;
            if ip.is_empty() || !ip.bytes().all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.') {
                return Err("a malformed IPv6 address (hexadecimal digits, : and . in brackets)");
            }
            let port = after.strip_prefix(':').ok_or("no :port after the IPv6 address")?;
            (&authority[..ip.len() + 2], port)
        } else {
            let (host, port) = authority.rsplit_once(':').ok_or("no :port (expected host:port)")?;
            if host.contains(':') {
                return Err("an IPv6 address must be in brackets ([::1]:9001)");
            }
            if host.is_empty() || !host.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b)) {
                return Err("a malformed host (letters, digits, - . _, or an IPv6 address in brackets)");
            }
            (host, port)
        };
        let port_ok = (1..=5).contains(&port.len())
            && port.bytes().all(|b| b.is_ascii_digit())
            && port.parse::<u32>().is_ok_and(|p| (1..=65_535).contains(&p));
        if !port_ok {
            return Err("a malformed port (a number from 1 to 65535)");
        }
        // RFC 3986 §3.3: pchar = unreserved / pct-encoded / sub-delims / ":" / "@" (no
        // percent-encoding here: nothing needs it).
        let pchar = |b: u8| b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/".contains(&b);
        if !path.bytes().all(pchar) {
            return Err("a malformed path (letters, digits and - . _ ~ ! $ & ' ( ) * + , ; = : @ /)");
        }
        let path = path.trim_matches('/');
        let prefix = if path.is_empty() { String::new() } else { format!("/{path}") };
        Ok(Endpoint { host: format!("{host}:{port}"), prefix })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(v: &str) -> (String, String) {
        let e = Endpoint::parse(v).unwrap_or_else(|why| panic!("{v:?}: {why}"));
        (e.host, e.prefix)
    }

    #[test]
    fn lambdas_and_emulators_forms() {
        let pair = |h: &str, p: &str| (h.to_owned(), p.to_owned());
        assert_eq!(ok("127.0.0.1:9001"), pair("127.0.0.1:9001", ""));
        assert_eq!(ok("localhost:9001"), pair("localhost:9001", ""));
        assert_eq!(ok("http://127.0.0.1:9000/.rt/jwt-authorizer"), pair("127.0.0.1:9000", "/.rt/jwt-authorizer"));
        assert_eq!(ok("http://127.0.0.1:9000/"), pair("127.0.0.1:9000", ""));
        assert_eq!(ok("[::1]:9001"), pair("[::1]:9001", ""));
        assert_eq!(ok("http://[::ffff:127.0.0.1]:65535/a/b"), pair("[::ffff:127.0.0.1]:65535", "/a/b"));
    }

    #[test]
    fn anything_that_could_reach_a_request_head_malformed_is_refused() {
        for bad in [
            "127.0.0.1:9001\r\nX-Injected: 1",
            "127.0.0.1:9001\n",
            "127.0.0.1:9001/a\r\nb",
            "127.0.0.1:9001/a b",
            "127.0.0.1:9001/a%0d",
            "127.0.0.1:9001/a?b",
            "127.0.0.1:9001/a#b",
            " 127.0.0.1:9001",
            "127.0.0.1",
            "127.0.0.1:",
            "127.0.0.1:0",
            "127.0.0.1:65536",
            "127.0.0.1:+80",
            "127.0.0.1:123456",
            ":9001",
            "::1:9001",
            "[::1]",
            "[::1:9001",
            "[]:9001",
            "[fe80::1%eth0]:9001",
            "[::1]x:9001",
            "host name:9001",
            "https://127.0.0.1:9001",
            "user@127.0.0.1:9001",
            "",
        ] {
            assert!(Endpoint::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
