//! One bounded `GET` of a JWKS document: DNS, connect, TLS, request, head and body all within
//! one deadline (`JWT_JWKS_TIMEOUT_MS`), the body within [`MAX_BYTES`], no redirect followed,
//! `Content-Type` not looked at (the document is parsed strictly whatever it claims to be).
//!
//! TLS is rustls on `ring` (no OpenSSL); the response head and body are read by the Runtime
//! API client's reader ([`crate::function::runtime::http`]: `httparse`, every size bounded),
//! generic over [`Read`], here over the TLS stream (or plain TCP to a loopback host).

use super::url::JwksUrl;
use crate::function::runtime::http::{self, Body, Buffer, Failure};
use rustls::pki_types::ServerName;
use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Largest JWKS document accepted: API Gateway's own limit for the JWKS its JWT authorizers
/// fetch ("Response size from JSON Web Key Set endpoint: 150000 bytes", next to "Timeout for
/// JSON Web Key Set endpoint: 1500 ms", the default of `JWT_JWKS_TIMEOUT_MS`:
/// <https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html>).
pub const MAX_BYTES: usize = 150_000;
/// Most bytes read from the connection for one response: the head ([`http::MAX_HEAD`]), the
/// body and room for chunked framing. Reading stops there, whatever the framing says.
const MAX_WIRE: usize = http::MAX_HEAD + MAX_BYTES + 16 * 1024;

/// Why a fetch failed: each is logged (with the URL) and counted, never a panic.
#[derive(Debug)]
pub enum FetchError {
    /// The name did not resolve (or to no address).
    Dns(String),
    /// No address accepted the connection.
    Connect(io::Error),
    /// The TLS handshake or record layer failed (untrusted or wrong-name certificate, …).
    Tls(String),
    /// The deadline passed.
    Timeout,
    /// A 3xx: redirects are not followed (the configured URL must be the document's).
    Redirect(u16),
    /// Any other status than 200.
    Status(u16),
    /// The body is longer than [`MAX_BYTES`].
    TooLarge,
    /// A malformed HTTP response, or the connection failed mid-response.
    Protocol(String),
}

impl std::fmt::Display for FetchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FetchError::Dns(e) => write!(f, "dns: {e}"),
            FetchError::Connect(e) => write!(f, "connect: {e}"),
            FetchError::Tls(e) => write!(f, "tls: {e}"),
            FetchError::Timeout => write!(f, "timeout"),
            FetchError::Redirect(s) => write!(f, "redirect (HTTP {s}) not followed"),
            FetchError::Status(s) => write!(f, "HTTP {s}"),
            FetchError::TooLarge => write!(f, "response larger than {MAX_BYTES} bytes"),
            FetchError::Protocol(e) => write!(f, "http: {e}"),
        }
    }
}

impl FetchError {
    /// A short stable code for logs and metrics.
    pub fn code(&self) -> &'static str {
        match self {
            FetchError::Dns(_) => "dns",
            FetchError::Connect(_) => "connect",
            FetchError::Tls(_) => "tls",
            FetchError::Timeout => "timeout",
            FetchError::Redirect(_) => "redirect",
            FetchError::Status(_) => "status",
            FetchError::TooLarge => "too_large",
            FetchError::Protocol(_) => "http",
        }
    }
}

/// `GET url` by `deadline`: the body of a 200 answer, at most [`MAX_BYTES`].
pub fn get(url: &JwksUrl, tls: &Arc<rustls::ClientConfig>, deadline: Instant) -> Result<Vec<u8>, FetchError> {
    let addrs = resolve(&url.host, url.port, deadline)?;
    let tcp = connect(&addrs, deadline)?;
    let timed = Timed { stream: tcp, deadline };
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: jwt-authorizer\r\nAccept: application/json\r\nConnection: close\r\n\r\n",
        url.target,
        url.authority()
    );
    if url.tls {
        let name =
            ServerName::try_from(url.host.clone()).map_err(|_| FetchError::Tls("not a valid server name".into()))?;
        let conn = rustls::ClientConnection::new(tls.clone(), name).map_err(|e| FetchError::Tls(e.to_string()))?;
        exchange(rustls::StreamOwned::new(conn, timed), request.as_bytes())
    } else {
        exchange(timed, request.as_bytes())
    }
}

/// Sends `request` on `stream` and reads the answer: a 200's body, at most [`MAX_BYTES`]
/// (public for the fuzz target, which plays the server with any bytes).
pub fn exchange(mut stream: impl Read + Write, request: &[u8]) -> Result<Vec<u8>, FetchError> {
    stream.write_all(request).map_err(io_error)?;
    stream.flush().map_err(io_error)?;
    let mut capped = Capped { inner: stream, left: MAX_WIRE };
    let (mut buffer, mut bytes) = (Buffer::new(), Vec::new());
    let mut body = Body::new(&mut bytes, MAX_BYTES + 1);
    let head = http::read_head(&mut capped, &mut buffer, &mut |_, _| Ok(())).map_err(failure)?;
    if (300..400).contains(&head.status) {
        return Err(FetchError::Redirect(head.status));
    }
    if head.status != 200 {
        return Err(FetchError::Status(head.status));
    }
    http::read_body(&mut capped, &mut buffer, &head, &mut body, false).map_err(failure)?;
    if body.len() > MAX_BYTES {
        return Err(FetchError::TooLarge);
    }
    Ok(bytes)
}

fn failure(f: Failure) -> FetchError {
    match f {
        Failure::BeforeResponse(e) => io_error(e),
        Failure::Fatal(crate::function::runtime::Error::Io(e)) => io_error(e),
        Failure::Fatal(crate::function::runtime::Error::Protocol(http::BODY_TOO_LARGE)) => FetchError::TooLarge,
        Failure::Fatal(e) => FetchError::Protocol(e.to_string()),
    }
}

fn io_error(e: io::Error) -> FetchError {
    if matches!(e.kind(), io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock) {
        return FetchError::Timeout;
    }
    if e.kind() == io::ErrorKind::FileTooLarge {
        return FetchError::TooLarge;
    }
    // rustls reports its failures as `InvalidData` errors wrapping a `rustls::Error`.
    match e.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()) {
        Some(tls) => FetchError::Tls(tls.to_string()),
        None => FetchError::Protocol(e.to_string()),
    }
}

fn left(deadline: Instant) -> Result<Duration, FetchError> {
    Some(deadline.saturating_duration_since(Instant::now())).filter(|d| !d.is_zero()).ok_or(FetchError::Timeout)
}

/// DNS within the deadline: the system resolver has no timeout of its own to pass, so a name
/// is resolved on a helper thread and waited for at most until `deadline` (an IP literal
/// needs none).
fn resolve(host: &str, port: u16, deadline: Instant) -> Result<Vec<SocketAddr>, FetchError> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let (tx, rx) = std::sync::mpsc::channel();
    let name = (host.to_owned(), port);
    std::thread::Builder::new()
        .name("jwks-dns".into())
        .spawn(move || drop(tx.send(name.to_socket_addrs().map(Vec::from_iter))))
        .map_err(|e| FetchError::Dns(e.to_string()))?;
    match rx.recv_timeout(left(deadline)?) {
        Ok(Ok(addrs)) if !addrs.is_empty() => Ok(addrs),
        Ok(Ok(_)) => Err(FetchError::Dns("no address".into())),
        Ok(Err(e)) => Err(FetchError::Dns(e.to_string())),
        Err(_) => Err(FetchError::Timeout),
    }
}

fn connect(addrs: &[SocketAddr], deadline: Instant) -> Result<TcpStream, FetchError> {
    let mut last = io::Error::new(io::ErrorKind::NotFound, "no address");
    for addr in addrs {
        match TcpStream::connect_timeout(addr, left(deadline)?) {
            Ok(s) => {
                let _ = s.set_nodelay(true);
                return Ok(s);
            }
            Err(e) if matches!(e.kind(), io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock) => {
                return Err(FetchError::Timeout);
            }
            Err(e) => last = e,
        }
    }
    Err(FetchError::Connect(last))
}

/// TCP under a deadline: each read and write waits at most the time left, so the deadline
/// bounds the whole exchange, however the server trickles.
struct Timed {
    stream: TcpStream,
    deadline: Instant,
}

fn time_left(deadline: Instant) -> io::Result<Duration> {
    left(deadline).map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "deadline"))
}

impl Read for Timed {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.stream.set_read_timeout(Some(time_left(self.deadline)?))?;
        self.stream.read(buf)
    }
}

impl Write for Timed {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.stream.set_write_timeout(Some(time_left(self.deadline)?))?;
        self.stream.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.stream.flush()
    }
}

/// Refuses to read more than `left` bytes in all: a response larger than a JWKS can be is cut
/// off here, not read to the end of its announced length.
struct Capped<R> {
    inner: R,
    left: usize,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            return Err(io::Error::new(io::ErrorKind::FileTooLarge, "response too large"));
        }
        let n = buf.len().min(self.left);
        let read = self.inner.read(&mut buf[..n])?;
        self.left -= read;
        Ok(read)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A server that answers `head` and then endless bytes: counts what was read of it.
    struct Endless {
        head: Vec<u8>,
        read: usize,
    }

    impl Read for Endless {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(4096);
            for (i, b) in buf[..n].iter_mut().enumerate() {
                *b = self.head.get(self.read + i).copied().unwrap_or(b' ');
            }
            self.read += n;
            Ok(n)
        }
    }

    impl Write for Endless {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// Whatever the framing announces (a length under the HTTP reader's own 8 MB limit, or
    /// none: to the end of the stream), reading stops at [`MAX_WIRE`] bytes.
    #[test]
    fn reading_stops_soon_after_the_limit_whatever_the_framing() {
        for head in ["HTTP/1.1 200 OK\r\nContent-Length: 8000000\r\n\r\n", "HTTP/1.1 200 OK\r\n\r\n"] {
            let mut server = Endless { head: head.as_bytes().to_vec(), read: 0 };
            let err = exchange(&mut server, b"GET / HTTP/1.1\r\n\r\n").unwrap_err();
            assert!(matches!(err, FetchError::TooLarge), "{head:?}: {err}");
            assert!(server.read <= MAX_WIRE, "{head:?}: read {} bytes", server.read);
        }
    }
}
