//! A JWKS URL (`JWT_JWKS_URL`): `https://host[:port]/path`, or `http://` to a loopback host
//! only (127.0.0.0/8, `::1`, `localhost`: tests and local runs). Anything else — another
//! scheme, `http://` to any other host, user info, a fragment, a blank host or port — is a
//! configuration error naming the variable, never a fetch.

use std::net::IpAddr;

/// One parsed URL: what the fetch connects to and asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JwksUrl {
    /// `true` for `https://` (TLS), `false` for loopback `http://`.
    pub tls: bool,
    /// The host as written, without IPv6 brackets (a DNS name or an IP literal).
    pub host: String,
    pub port: u16,
    /// The request target: path and query (`/` when empty).
    pub target: String,
    /// The URL as configured (for logs and the CLI; a URL holds no secret once user info is refused).
    pub text: String,
}

impl JwksUrl {
    /// The `Host` header field value (RFC 9110 §7.2): brackets for IPv6, the port when not the default.
    pub fn authority(&self) -> String {
        let host = if self.host.contains(':') { format!("[{}]", self.host) } else { self.host.clone() };
        match (self.tls, self.port) {
            (true, 443) | (false, 80) => host,
            (_, port) => format!("{host}:{port}"),
        }
    }
}

/// Whether `host` is a loopback host: `localhost`, 127.0.0.0/8 or `::1`.
pub fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost") || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Parses one URL (RFC 3986 §3, the subset a JWKS endpoint needs).
pub fn parse(text: &str) -> Result<JwksUrl, &'static str> {
    let (tls, rest) = if let Some(rest) = strip_prefix_ignore_case(text, "https://") {
        (true, rest)
    } else if let Some(rest) = strip_prefix_ignore_case(text, "http://") {
        (false, rest)
    } else {
        return Err("must start with https:// (http:// only to a loopback host)");
    };
    if text.bytes().any(|b| b <= b' ' || b == 0x7f || b >= 0x80) {
        return Err("must be an ASCII URL without spaces or control characters");
    }
    if text.contains('#') {
        return Err("must not have a fragment (#)");
    }
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, target) = rest.split_at(end);
    if authority.contains('@') {
        return Err("must not carry user info (user@host): no credentials in a URL");
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let close = v6.find(']').ok_or("an IPv6 host needs its closing bracket")?;
        let host = &v6[..close];
        if host.parse::<std::net::Ipv6Addr>().is_err() {
            return Err("the bracketed host is not an IPv6 address");
        }
        (host, &v6[close + 1..])
    } else {
        match authority.rfind(':') {
            Some(i) => (&authority[..i], &authority[i..]),
            None => (authority, ""),
        }
    };
    let port = match port {
        "" => {
            if tls {
                443
            } else {
                80
            }
        }
        p => p
            .strip_prefix(':')
            .filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|d| d.parse::<u16>().ok())
            .filter(|&p| p != 0)
            .ok_or("the port must be a number from 1 to 65535")?,
    };
    let name_ok = |h: &str| h.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    if host.is_empty() || !(host.contains(':') || name_ok(host)) {
        return Err("the host must be a DNS name or an IP address");
    }
    if !tls && !is_loopback(host) {
        return Err("http:// is accepted only to a loopback host (127.0.0.0/8, ::1, localhost): use https://");
    }
    let target = if target.is_empty() {
        "/".to_owned()
    } else if target.starts_with('?') {
        format!("/{target}")
    } else {
        target.to_owned()
    };
    Ok(JwksUrl { tls, host: host.to_owned(), port, target, text: text.to_owned() })
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| &text[prefix.len()..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_anywhere_http_only_to_loopback() {
        let u =
            parse("https://www.googleapis.com/service_accounts/v1/jwk/securetoken@system.gserviceaccount.com").unwrap();
        assert_eq!((u.tls, u.host.as_str(), u.port), (true, "www.googleapis.com", 443));
        assert_eq!(u.target, "/service_accounts/v1/jwk/securetoken@system.gserviceaccount.com");
        assert_eq!(u.authority(), "www.googleapis.com");
        let u = parse("https://example.com:8443").unwrap();
        assert_eq!((u.port, u.target.as_str(), u.authority().as_str()), (8443, "/", "example.com:8443"));
        for ok in ["http://127.0.0.1:8080/jwks", "http://127.9.9.9/x", "http://localhost:1/", "http://[::1]:9/j"] {
            let u = parse(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
            assert!(!u.tls, "{ok}");
        }
        assert_eq!(parse("http://[::1]:9/j").unwrap().authority(), "[::1]:9");
        // Named for what it is: credentials have no place in a configured URL.
        assert!(parse("https://user@example.com/jwks").unwrap_err().contains("user info"));
        for bad in [
            "http://example.com/jwks",
            "http://10.0.0.1/jwks",
            "http://128.0.0.1/",
            "http://[::2]/",
            "http://localhost.example.com/",
            "ftp://example.com/",
            "example.com/jwks",
            "https:///jwks",
            "https://user:pw@example.com/jwks",
            "https://example.com:0/",
            "https://example.com:65536/",
            "https://example.com:/",
            "https://example.com:x/",
            "https://exa mple.com/",
            "https://example.com/#frag",
            "https://[::1/",
            "https://[example]/",
            "https://ex_ample.com/",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
