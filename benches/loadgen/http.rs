//! HTTP/1.1 message framing for both sides of the Runtime API: heads parsed with `httparse`,
//! bodies by `Content-Length` or chunked, every size bounded.

use std::io::{self, Read, Write};
use std::net::TcpStream;

/// Longest request or response head accepted.
pub const MAX_HEAD: usize = 16 * 1024;
/// Longest body accepted: Lambda's 6 MB synchronous response limit
/// (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html).
pub const MAX_BODY: usize = 6 * 1024 * 1024;
const MAX_HEADERS: usize = 32;

fn bad(msg: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

/// One kept-alive connection with its read buffer (bytes `[0, len)` are unconsumed).
pub struct Conn {
    pub stream: TcpStream,
    buf: Vec<u8>,
    len: usize,
}

/// What the reader needs from a head: the method and path of a request, or the status of a
/// response, and how the body is framed.
pub struct Head {
    pub method: String,
    pub path: String,
    pub status: u16,
    pub request_id: String,
    pub error_type: String,
    content_length: Option<usize>,
    chunked: bool,
}

impl Conn {
    pub fn new(stream: TcpStream) -> io::Result<Conn> {
        stream.set_nodelay(true)?;
        Ok(Conn { stream, buf: vec![0; MAX_HEAD], len: 0 })
    }

    /// Reads more bytes into the buffer; `Ok(0)` at EOF.
    fn fill(&mut self) -> io::Result<usize> {
        if self.len == self.buf.len() {
            return Err(bad("head too long"));
        }
        let n = self.stream.read(&mut self.buf[self.len..])?;
        self.len += n;
        Ok(n)
    }

    fn consume(&mut self, n: usize) {
        self.buf.copy_within(n..self.len, 0);
        self.len -= n;
    }

    /// Reads one request head (server side); `Ok(None)` on a clean EOF between requests.
    pub fn read_request(&mut self) -> io::Result<Option<Head>> {
        loop {
            let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
            let mut req = httparse::Request::new(&mut headers);
            match req.parse(&self.buf[..self.len]).map_err(|_| bad("malformed request head"))? {
                httparse::Status::Complete(n) => {
                    let mut head = Head::from_headers(req.headers)?;
                    head.method = req.method.unwrap_or_default().to_owned();
                    head.path = req.path.unwrap_or_default().to_owned();
                    self.consume(n);
                    return Ok(Some(head));
                }
                httparse::Status::Partial => {
                    if self.fill()? == 0 {
                        return if self.len == 0 { Ok(None) } else { Err(bad("EOF inside a request head")) };
                    }
                }
            }
        }
    }

    /// Reads one response head (client side).
    pub fn read_response(&mut self) -> io::Result<Head> {
        loop {
            let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
            let mut resp = httparse::Response::new(&mut headers);
            match resp.parse(&self.buf[..self.len]).map_err(|_| bad("malformed response head"))? {
                httparse::Status::Complete(n) => {
                    let mut head = Head::from_headers(resp.headers)?;
                    head.status = resp.code.unwrap_or(0);
                    self.consume(n);
                    return Ok(head);
                }
                httparse::Status::Partial => {
                    if self.fill()? == 0 {
                        return Err(bad("EOF inside a response head"));
                    }
                }
            }
        }
    }

    /// Reads the body that `head` announces into `body` (cleared first).
    pub fn read_body(&mut self, head: &Head, body: &mut Vec<u8>) -> io::Result<()> {
        body.clear();
        if head.chunked {
            loop {
                let line = self.read_line()?;
                let size = std::str::from_utf8(&line)
                    .ok()
                    .and_then(|l| usize::from_str_radix(l.split(';').next().unwrap_or("").trim(), 16).ok())
                    .ok_or_else(|| bad("malformed chunk size"))?;
                if size == 0 {
                    // Trailers (none expected) up to the empty line.
                    while !self.read_line()?.is_empty() {}
                    return Ok(());
                }
                if body.len().checked_add(size).is_none_or(|total| total > MAX_BODY) {
                    return Err(bad("body too long"));
                }
                self.read_exact_into(size, body)?;
                if !self.read_line()?.is_empty() {
                    return Err(bad("chunk not followed by CRLF"));
                }
            }
        }
        let n = head.content_length.unwrap_or(0);
        if n > MAX_BODY {
            return Err(bad("body too long"));
        }
        self.read_exact_into(n, body)
    }

    fn read_exact_into(&mut self, n: usize, body: &mut Vec<u8>) -> io::Result<()> {
        let buffered = n.min(self.len);
        body.extend_from_slice(&self.buf[..buffered]);
        self.consume(buffered);
        let start = body.len();
        body.resize(start + (n - buffered), 0);
        self.stream.read_exact(&mut body[start..])
    }

    /// One CRLF-terminated line (without the CRLF), for chunked framing.
    fn read_line(&mut self) -> io::Result<Vec<u8>> {
        loop {
            if let Some(i) = self.buf[..self.len].windows(2).position(|w| w == b"\r\n") {
                let line = self.buf[..i].to_vec();
                self.consume(i + 2);
                return Ok(line);
            }
            if self.fill()? == 0 {
                return Err(bad("EOF inside chunked body"));
            }
        }
    }

    pub fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes)
    }
}

impl Head {
    fn from_headers(headers: &[httparse::Header<'_>]) -> io::Result<Head> {
        let mut head = Head {
            method: String::new(),
            path: String::new(),
            status: 0,
            request_id: String::new(),
            error_type: String::new(),
            content_length: None,
            chunked: false,
        };
        for h in headers {
            let value = std::str::from_utf8(h.value).map_err(|_| bad("header value not UTF-8"))?.trim();
            if h.name.eq_ignore_ascii_case("content-length") {
                let n = value.parse().map_err(|_| bad("malformed Content-Length"))?;
                if head.content_length.is_some_and(|m| m != n) {
                    return Err(bad("conflicting Content-Length"));
                }
                head.content_length = Some(n);
            } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
                head.chunked = value.eq_ignore_ascii_case("chunked");
                if !head.chunked {
                    return Err(bad("unsupported Transfer-Encoding"));
                }
            } else if h.name.eq_ignore_ascii_case("lambda-runtime-aws-request-id") {
                head.request_id = value.to_owned();
            } else if h.name.eq_ignore_ascii_case("lambda-runtime-function-error-type") {
                head.error_type = value.to_owned();
            }
        }
        if head.chunked && head.content_length.is_some() {
            return Err(bad("both Content-Length and chunked"));
        }
        Ok(head)
    }
}
