//! Reading one HTTP/1.1 response of the Runtime API from any [`Read`] (RFC 9112): the head is
//! parsed by `httparse`, the body framed by `Content-Length`, the chunked coding or the end
//! of the stream. Nothing the server sends is trusted: the head, each chunk-size line, the
//! trailer section, the number of header fields, the number of interim (1xx) responses and
//! the body are all bounded, and every size is computed with checked arithmetic.
//!
//! Generic over `Read`: a `TcpStream` (through the deadline in `super`) in production, bytes
//! in small random pieces in the fuzz target (`fuzz/fuzz_targets/http.rs`).

use super::Error;
use std::io::{self, Read};

/// Largest response head (status line and header section), and so the most this reader
/// ever buffers: no read makes the buffer larger.
pub const MAX_HEAD: usize = 64 * 1024;
/// Largest body accepted, however it is framed (Lambda's synchronous payload limit is 6 MB).
pub const MAX_BODY: usize = 8 * 1024 * 1024;
/// Most header fields in one head (or trailer section). The Runtime API sends about eight.
pub const MAX_HEADERS: usize = 32;
/// Longest chunk-size line, extensions included.
pub const MAX_CHUNK_LINE: usize = 1024;
/// Most interim (1xx) responses before the final one (RFC 9110 §15.2: a client must parse
/// any number; this one stops at a few, none is expected).
pub const MAX_INTERIM: usize = 4;
/// Bytes asked of the stream per read.
const READ_SIZE: usize = 16 * 1024;

/// Why reading a response failed.
#[derive(Debug)]
pub enum Failure {
    /// The stream ended or failed before any byte of the response: on a kept-alive
    /// connection this is the server having closed it, and the request may be retried.
    BeforeResponse(io::Error),
    /// Anything later, or a malformed response.
    Fatal(Error),
}

fn protocol(what: &'static str) -> Failure {
    Failure::Fatal(Error::Protocol(what))
}

/// A final response, read to its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    /// Whether the connection may carry the next request (or, pipelined, the next response):
    /// not after `Connection: close`, HTTP/1.0, a body read to the end of the stream, or —
    /// unless another request was pipelined behind this one — bytes left over after it.
    pub reusable: bool,
}

/// How the body of a response is delimited (RFC 9112 §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    None,
    Length(usize),
    Chunked,
    ToEof,
}

/// The bytes read from a connection and not consumed yet (`buf[start..end]`), kept between
/// responses (for a pipelined response, or to notice leftovers). `buf` is storage, zeroed
/// once when it grows (never past [`MAX_HEAD`]) and then reused: a read does not clear it.
#[derive(Debug, Default)]
pub struct Buffer {
    buf: Vec<u8>,
    start: usize,
    end: usize,
}

impl Buffer {
    pub fn new() -> Buffer {
        Buffer { buf: vec![0; READ_SIZE], start: 0, end: 0 }
    }

    /// The unconsumed bytes.
    pub fn pending(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    pub fn clear(&mut self) {
        self.start = 0;
        self.end = 0;
    }

    fn consume(&mut self, n: usize) {
        self.start = self.start.saturating_add(n).min(self.end);
        if self.start == self.end {
            self.clear();
        }
    }

    /// Reads once more from `stream` (`Ok(0)` at the end of the stream), never making the
    /// buffer hold more than [`MAX_HEAD`] bytes; callers check that there is room first.
    fn fill(&mut self, stream: &mut impl Read) -> io::Result<usize> {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        let end = self.end;
        let room = MAX_HEAD.saturating_sub(end).min(READ_SIZE);
        if room == 0 {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "read buffer full"));
        }
        if self.buf.len() < end + room {
            self.buf.resize(end + room, 0);
        }
        let n = loop {
            match stream.read(&mut self.buf[end..end + room]) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                r => break r,
            }
        };
        self.end = end + (*n.as_ref().unwrap_or(&0)).min(room);
        n
    }
}

/// Where a response body goes: its first `keep` bytes into `bytes` (cleared first), the
/// rest counted and dropped. So a large body costs the reader no memory past `keep`, and the
/// connection stays usable (the body is still read to its end). The whole body, stored or
/// not, is bounded by [`MAX_BODY`].
#[derive(Debug)]
pub struct Body<'a> {
    bytes: &'a mut Vec<u8>,
    keep: usize,
    len: usize,
}

impl<'a> Body<'a> {
    pub fn new(bytes: &'a mut Vec<u8>, keep: usize) -> Body<'a> {
        bytes.clear();
        Body { bytes, keep, len: 0 }
    }

    /// The body's whole length as framed (it may be longer than what was kept).
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The bytes kept: the first `keep` of the body.
    pub fn kept(&self) -> &[u8] {
        self.bytes
    }

    /// Takes the next `data` of the body.
    fn push(&mut self, data: &[u8]) -> Result<(), Failure> {
        let len = self.len.checked_add(data.len()).filter(|&n| n <= MAX_BODY).ok_or_else(too_large)?;
        let stored = &data[..data.len().min(self.keep.saturating_sub(self.bytes.len()))];
        let need = self.bytes.len().saturating_add(stored.len());
        if need > self.bytes.capacity() {
            // Double as a Vec would, but never past `keep`: no capacity is held beyond it.
            let want = need.max(self.bytes.capacity().saturating_mul(2)).min(self.keep);
            self.bytes.reserve_exact(want - self.bytes.len());
        }
        self.bytes.extend_from_slice(stored);
        self.len = len;
        Ok(())
    }
}

/// Reads one response to its end: [`read_head`], then [`read_body`].
pub fn read_response(
    stream: &mut impl Read,
    buffer: &mut Buffer,
    body: &mut Body<'_>,
    pipelined: bool,
    on_header: &mut impl FnMut(&str, &[u8]) -> Result<(), &'static str>,
) -> Result<Response, Failure> {
    let head = read_head(stream, buffer, on_header)?;
    read_body(stream, buffer, &head, body, pipelined)
}

/// Reads the head of the final response: interim (1xx) responses are skipped (RFC 9110
/// §15.2), and every header field of the final one other than the framing ones
/// (`Content-Length`, `Transfer-Encoding`, `Connection`) is handed to `on_header` (name,
/// value without surrounding whitespace), which may refuse it.
pub fn read_head(
    stream: &mut impl Read,
    buffer: &mut Buffer,
    on_header: &mut impl FnMut(&str, &[u8]) -> Result<(), &'static str>,
) -> Result<Head, Failure> {
    let mut interim = 0usize;
    loop {
        let head = read_one_head(stream, buffer, interim == 0, on_header)?;
        if head.status >= 200 {
            return Ok(head);
        }
        // RFC 9110 §15.2.2: 101 only answers a request with `Upgrade`, which is never sent.
        if head.status == 101 {
            return Err(protocol("101 Switching Protocols without an Upgrade request"));
        }
        interim = interim.checked_add(1).ok_or_else(|| protocol("too many interim responses"))?;
        if interim > MAX_INTERIM {
            return Err(protocol("too many interim (1xx) responses"));
        }
    }
}

/// Reads the body `head` announces into `body`, and says whether the connection may be
/// reused. `pipelined`: another request was sent after this one on the connection (RFC 9112
/// §9.3.2), so bytes after this response are the start of the next one, kept in `buffer`;
/// otherwise they answer nothing that was asked and the connection is not reused.
pub fn read_body(
    stream: &mut impl Read,
    buffer: &mut Buffer,
    head: &Head,
    body: &mut Body<'_>,
    pipelined: bool,
) -> Result<Response, Failure> {
    let mut reusable = !head.close;
    match head.framing {
        Framing::None => {
            // RFC 9110 §6.4.1: 204 and 304 have no content; bytes after the head are one
            // (unless another response was asked for: then they are that one).
            if !pipelined && !buffer.pending().is_empty() {
                return Err(protocol("content after a response that has none"));
            }
        }
        Framing::Length(n) => take(stream, buffer, n, body)?,
        Framing::Chunked => read_chunked(stream, buffer, body)?,
        Framing::ToEof => {
            // RFC 9112 §6.3 (8): the body is what arrives before the server closes.
            loop {
                body.push(buffer.pending())?;
                buffer.clear();
                if fill(stream, buffer)? == 0 {
                    break;
                }
            }
            reusable = false;
        }
    }
    // Bytes after a complete response answer nothing that was asked: never reuse.
    if !pipelined && !buffer.pending().is_empty() {
        reusable = false;
    }
    Ok(Response { status: head.status, reusable })
}

/// A response head: its status, how its body is framed, whether it ends the connection.
#[derive(Debug)]
pub struct Head {
    pub status: u16,
    framing: Framing,
    close: bool,
}

fn fill(stream: &mut impl Read, buffer: &mut Buffer) -> Result<usize, Failure> {
    buffer.fill(stream).map_err(|e| Failure::Fatal(Error::Io(e)))
}

/// RFC 9110 §5.5: a field value containing NUL (or CR, LF) is invalid and a recipient must
/// reject the message or replace each such byte with SP; other control bytes are invalid
/// too. Header lines (after the status line, up to the blank line) get their control bytes
/// other than HTAB, CR and LF replaced with SP, so that a control byte in a value the Runtime
/// API relays (the trace id can come from the caller's `X-Amzn-Trace-Id`) costs only that
/// value, never the response. A control byte in a name still makes the head malformed.
fn blank_controls(head: &mut [u8]) {
    let Some(status_end) = head.iter().position(|&b| b == b'\n') else { return };
    let mut line_start = true;
    for b in &mut head[status_end + 1..] {
        match *b {
            b'\n' if line_start => return, // the blank line ending the head
            b'\n' => line_start = true,
            b'\r' => {}
            0x00..=0x08 | 0x0B | 0x0C | 0x0E..=0x1F | 0x7F => {
                *b = b' ';
                line_start = false;
            }
            _ => line_start = false,
        }
    }
}

fn read_one_head(
    stream: &mut impl Read,
    buffer: &mut Buffer,
    first: bool,
    on_header: &mut impl FnMut(&str, &[u8]) -> Result<(), &'static str>,
) -> Result<Head, Failure> {
    loop {
        if let Some(&b) = buffer.pending().first()
            && (b == b'\r' || b == b'\n')
        {
            return Err(protocol("empty line before a status line"));
        }
        let (start, end) = (buffer.start, buffer.end);
        blank_controls(&mut buffer.buf[start..end]);
        let mut fields = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut parsed = httparse::Response::new(&mut fields);
        match parsed.parse(buffer.pending()) {
            Ok(httparse::Status::Complete(len)) => {
                let head = interpret(&parsed, on_header)?;
                buffer.consume(len);
                return Ok(head);
            }
            Ok(httparse::Status::Partial) => {}
            Err(httparse::Error::TooManyHeaders) => return Err(protocol("too many header fields")),
            Err(httparse::Error::Version) => return Err(protocol("not an HTTP/1.x response")),
            Err(httparse::Error::Status) => return Err(protocol("malformed status line")),
            Err(_) => return Err(protocol("malformed header field")),
        }
        if buffer.pending().len() >= MAX_HEAD {
            return Err(protocol("response head too large"));
        }
        let nothing_yet = first && buffer.pending().is_empty();
        match buffer.fill(stream) {
            Ok(0) if nothing_yet => return Err(Failure::BeforeResponse(io::ErrorKind::UnexpectedEof.into())),
            Ok(0) => return Err(protocol("connection closed inside a response head")),
            Ok(_) => {}
            Err(e) if nothing_yet && !matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {
                return Err(Failure::BeforeResponse(e));
            }
            Err(e) => return Err(Failure::Fatal(Error::Io(e))),
        }
    }
}

/// Status, framing and persistence of a parsed head; the other fields of a final response
/// go to `on_header`.
fn interpret(
    parsed: &httparse::Response<'_, '_>,
    on_header: &mut impl FnMut(&str, &[u8]) -> Result<(), &'static str>,
) -> Result<Head, Failure> {
    let status = parsed.code.ok_or_else(|| protocol("malformed status line"))?;
    // RFC 9110 §15: every status code is within 100..=599 (httparse: exactly three digits).
    if !(100..=599).contains(&status) {
        return Err(protocol("status code out of range"));
    }
    // RFC 9112 §9.3: HTTP/1.0 connections are not persistent (keep-alive is not spoken).
    let mut close = parsed.version != Some(1);
    let mut length = None;
    let mut chunked = false;
    for field in parsed.headers.iter() {
        let value = trim_ows(field.value);
        if field.name.eq_ignore_ascii_case("content-length") {
            // RFC 9110 §8.6 / RFC 9112 §6.3 (5): one valid length or the framing is invalid.
            if length.is_some() {
                return Err(protocol("more than one Content-Length"));
            }
            length = Some(content_length(value)?);
        } else if field.name.eq_ignore_ascii_case("transfer-encoding") {
            // Only `chunked` is ever acceptable: no other coding is asked for (no TE header).
            if chunked {
                return Err(protocol("more than one Transfer-Encoding"));
            }
            if !value.eq_ignore_ascii_case(b"chunked") {
                return Err(protocol("unsupported Transfer-Encoding"));
            }
            chunked = true;
        } else if field.name.eq_ignore_ascii_case("connection") {
            close |= value.split(|&b| b == b',').any(|t| trim_ows(t).eq_ignore_ascii_case(b"close"));
        }
    }
    let framing = match (status, length, chunked) {
        // RFC 9112 §6.3 (3): both is a smuggling attempt and ought to be an error.
        (_, Some(_), true) => return Err(protocol("both Content-Length and Transfer-Encoding")),
        // RFC 9110 §8.6, RFC 9112 §6.1: never Content-Length or Transfer-Encoding on 1xx, 204;
        // RFC 9110 §15.4.5: 304 has no content (a Content-Length there describes another).
        (100..=199 | 204, Some(_), _) | (100..=199 | 204 | 304, _, true) => {
            return Err(protocol("framing header on a response without content"));
        }
        (100..=199 | 204 | 304, _, _) => Framing::None,
        (_, Some(n), _) => Framing::Length(n),
        (_, None, true) => Framing::Chunked,
        (_, None, false) => Framing::ToEof,
    };
    if status >= 200 {
        for field in parsed.headers.iter() {
            let framing_field = ["content-length", "transfer-encoding", "connection"]
                .iter()
                .any(|n| field.name.eq_ignore_ascii_case(n));
            if !framing_field {
                on_header(field.name, trim_ows(field.value)).map_err(protocol)?;
            }
        }
    }
    Ok(Head { status, framing, close })
}

/// RFC 9110 §5.6.3: optional whitespace is SP and HTAB.
fn trim_ows(value: &[u8]) -> &[u8] {
    let start = value.iter().position(|&b| b != b' ' && b != b'\t').unwrap_or(value.len());
    let end = value.iter().rposition(|&b| b != b' ' && b != b'\t').map_or(start, |i| i + 1);
    &value[start..end]
}

/// RFC 9110 §8.6: `Content-Length = 1*DIGIT` (no sign, no list), at most [`MAX_BODY`].
fn content_length(value: &[u8]) -> Result<usize, Failure> {
    if value.is_empty() || !value.iter().all(u8::is_ascii_digit) {
        return Err(protocol("malformed Content-Length"));
    }
    let mut n: usize = 0;
    for &d in value {
        n = n.checked_mul(10).and_then(|n| n.checked_add(usize::from(d - b'0'))).ok_or_else(too_large)?;
    }
    if n > MAX_BODY {
        return Err(too_large());
    }
    Ok(n)
}

/// What a body over [`MAX_BODY`] (announced or read) is called.
pub const BODY_TOO_LARGE: &str = "response body larger than the limit";

fn too_large() -> Failure {
    protocol(BODY_TOO_LARGE)
}

/// Moves exactly `n` body bytes (buffered first, then from the stream) into `body`.
fn take(stream: &mut impl Read, buffer: &mut Buffer, n: usize, body: &mut Body<'_>) -> Result<(), Failure> {
    if body.len().checked_add(n).is_none_or(|total| total > MAX_BODY) {
        return Err(too_large());
    }
    let mut left = n;
    loop {
        let have = left.min(buffer.pending().len());
        body.push(&buffer.pending()[..have])?;
        buffer.consume(have);
        left -= have;
        if left == 0 {
            return Ok(());
        }
        if fill(stream, buffer)? == 0 {
            return Err(protocol("connection closed inside a response body"));
        }
    }
}

/// RFC 9112 §7.1: chunks (size line, data, CRLF) until the last chunk, then the trailer
/// section, which is read and ignored (RFC 9110 §6.5.1 lets a recipient discard it).
fn read_chunked(stream: &mut impl Read, buffer: &mut Buffer, body: &mut Body<'_>) -> Result<(), Failure> {
    loop {
        let size = loop {
            // `parse_chunk_size` reads an empty size as 0: require a digit (chunk-size = 1*HEXDIG).
            if buffer.pending().first().is_some_and(|b| !b.is_ascii_hexdigit()) {
                return Err(protocol("malformed chunk size"));
            }
            match httparse::parse_chunk_size(buffer.pending()) {
                Ok(httparse::Status::Complete((len, size))) => {
                    // httparse takes any byte in an extension; RFC 9112 §7.1.1 allows no
                    // control byte there (HTAB aside), and the line has its bound however it arrives.
                    let line = &buffer.pending()[..len.saturating_sub(2)];
                    if len > MAX_CHUNK_LINE {
                        return Err(protocol("chunk-size line too long"));
                    }
                    if line.iter().any(|&b| (b < 0x20 && b != b'\t') || b == 0x7F) {
                        return Err(protocol("malformed chunk size"));
                    }
                    buffer.consume(len);
                    break size;
                }
                Ok(httparse::Status::Partial) => {}
                Err(httparse::InvalidChunkSize) => return Err(protocol("malformed chunk size")),
            }
            if buffer.pending().len() >= MAX_CHUNK_LINE {
                return Err(protocol("chunk-size line too long"));
            }
            if fill(stream, buffer)? == 0 {
                return Err(protocol("connection closed inside a chunk-size line"));
            }
        };
        if size == 0 {
            return read_trailers(stream, buffer);
        }
        let size = usize::try_from(size).map_err(|_| too_large())?;
        take(stream, buffer, size, body)?;
        while buffer.pending().len() < 2 {
            if fill(stream, buffer)? == 0 {
                return Err(protocol("connection closed inside a chunk"));
            }
        }
        if !buffer.pending().starts_with(b"\r\n") {
            return Err(protocol("chunk data not followed by CRLF"));
        }
        buffer.consume(2);
    }
}

fn read_trailers(stream: &mut impl Read, buffer: &mut Buffer) -> Result<(), Failure> {
    loop {
        let mut fields = [httparse::EMPTY_HEADER; MAX_HEADERS];
        match httparse::parse_headers(buffer.pending(), &mut fields) {
            Ok(httparse::Status::Complete((len, _))) => {
                buffer.consume(len);
                return Ok(());
            }
            Ok(httparse::Status::Partial) => {}
            Err(httparse::Error::TooManyHeaders) => return Err(protocol("too many trailer fields")),
            Err(_) => return Err(protocol("malformed trailer section")),
        }
        if buffer.pending().len() >= MAX_HEAD {
            return Err(protocol("trailer section too large"));
        }
        if fill(stream, buffer)? == 0 {
            return Err(protocol("connection closed inside the trailer section"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `prefix`, then `pattern` repeated without end (a server that keeps sending), in reads
    /// of at most `piece` bytes; after `cap` bytes it ends the stream, so a missing limit
    /// shows as a wrong answer, not a hung test.
    struct Endless {
        prefix: Vec<u8>,
        pattern: Vec<u8>,
        piece: usize,
        sent: usize,
        cap: usize,
    }

    impl Endless {
        fn new(prefix: &[u8], pattern: &[u8]) -> Endless {
            Endless { prefix: prefix.to_vec(), pattern: pattern.to_vec(), piece: 10_000, sent: 0, cap: 32 << 20 }
        }
    }

    impl Read for Endless {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(self.piece).min(self.cap - self.sent);
            for (i, b) in buf[..n].iter_mut().enumerate() {
                let at = self.sent + i;
                *b = match self.prefix.get(at) {
                    Some(&b) => b,
                    None => self.pattern[(at - self.prefix.len()) % self.pattern.len()],
                };
            }
            self.sent += n;
            Ok(n)
        }
    }

    /// The fields the reader handed over.
    type Fields = Vec<(String, Vec<u8>)>;

    fn read_all(stream: &mut impl Read) -> (Result<Response, Failure>, Buffer, Vec<u8>, Fields) {
        let mut buffer = Buffer::new();
        let mut body = Vec::new();
        let mut seen = Vec::new();
        let r =
            read_response(stream, &mut buffer, &mut Body::new(&mut body, MAX_BODY), false, &mut |n: &str, v: &[u8]| {
                seen.push((n.to_owned(), v.to_vec()));
                Ok(())
            });
        assert!(buffer.pending().len() <= MAX_HEAD, "buffered {} bytes", buffer.pending().len());
        assert!(body.len() <= MAX_BODY);
        (r, buffer, body, seen)
    }

    fn read(bytes: &[u8]) -> (Result<Response, Failure>, Vec<u8>, Fields) {
        let (r, _, body, seen) = read_all(&mut &bytes[..]);
        (r, body, seen)
    }

    fn protocol_error(r: &Result<Response, Failure>) -> &'static str {
        match r {
            Err(Failure::Fatal(Error::Protocol(what))) => what,
            other => panic!("expected a protocol error, got {other:?}"),
        }
    }

    fn endless_error(prefix: &[u8], pattern: &[u8]) -> &'static str {
        let (r, ..) = read_all(&mut Endless::new(prefix, pattern));
        protocol_error(&r)
    }

    #[test]
    fn endless_streams_stop_at_their_limit() {
        assert_eq!(endless_error(b"HTTP/1.1 200 OK\r\nX-Long: ", b"a"), "response head too large");
        assert_eq!(endless_error(b"HTTP/1.1 200 OK\r\nX-Long: ", b"\x00"), "response head too large");
        let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
        assert_eq!(endless_error(&[&chunked[..], b"1;ext="].concat(), b"x"), "chunk-size line too long");
        let mut chunk = b"ffff\r\n".to_vec();
        chunk.extend(std::iter::repeat_n(b'c', 0xffff));
        chunk.extend_from_slice(b"\r\n");
        assert_eq!(endless_error(chunked, &chunk), "response body larger than the limit");
        assert_eq!(endless_error(chunked, b"3\r\nccc\r\n"), "response body larger than the limit");
        assert_eq!(endless_error(&[&chunked[..], b"0\r\nX-T: "].concat(), b"t"), "trailer section too large");
        assert_eq!(endless_error(b"HTTP/1.1 200 OK\r\n\r\n", b"body"), "response body larger than the limit");
        assert_eq!(endless_error(b"", b"HTTP/1.1 100 Continue\r\n\r\n"), "too many interim (1xx) responses");
        assert_eq!(endless_error(b"HTTP/1.1 200 OK\r\n", b"X-A: b\r\n"), "too many header fields");
    }

    #[test]
    fn sizes_at_and_past_the_limits() {
        let len = |n: usize| format!("HTTP/1.1 200 OK\r\nContent-Length: {n}\r\n\r\n").into_bytes();
        let (r, _, body, _) = read_all(&mut Endless::new(&len(MAX_BODY), b"b"));
        assert_eq!(r.unwrap(), Response { status: 200, reusable: false }, "bytes left over: not reusable");
        assert_eq!(body.len(), MAX_BODY);
        assert_eq!(protocol_error(&read(&len(MAX_BODY + 1)).0), "response body larger than the limit");
        let huge = b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999999\r\n\r\n";
        assert_eq!(protocol_error(&read(huge).0), "response body larger than the limit");
        // A chunk of 2^64-1 bytes (issue 8: it once grew the buffer without bound).
        let chunk = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n";
        assert_eq!(endless_error(chunk, b"x"), "response body larger than the limit");
        let two = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\nfffffffffffffff\r\n";
        assert_eq!(endless_error(two, b"x"), "response body larger than the limit");
        // A chunk-size line past its limit is refused even when it arrives in one read.
        let long = [
            &b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;"[..],
            &[b'x'; MAX_CHUNK_LINE],
            b"\r\na\r\n0\r\n\r\n",
        ]
        .concat();
        assert_eq!(protocol_error(&read(&long).0), "chunk-size line too long");
        // The head may be just under its limit.
        let mut head = b"HTTP/1.1 204 No Content\r\nX: ".to_vec();
        head.resize(MAX_HEAD - 4, b'v');
        head.extend_from_slice(b"\r\n\r\n");
        assert_eq!(read(&head).0.unwrap().status, 204);
    }

    #[test]
    fn a_body_past_what_is_kept_is_read_to_its_end_and_dropped() {
        // Every framing: the body is read whole (the connection stays usable) but only its
        // first `keep` bytes are stored, and the storage never grows past them.
        let big = vec![b'e'; 3 * READ_SIZE + 7];
        let chunked: Vec<u8> = [
            &b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"[..],
            format!("{:x}\r\n", big.len()).as_bytes(),
            &big,
            b"\r\n0\r\n\r\n",
        ]
        .concat();
        let length = [format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", big.len()).as_bytes(), &big].concat();
        let to_eof = [&b"HTTP/1.1 200 OK\r\n\r\n"[..], &big].concat();
        for (what, bytes, reusable) in [("chunked", chunked, true), ("length", length, true), ("to eof", to_eof, false)]
        {
            for keep in [0, 1, 100, READ_SIZE + 1, big.len(), MAX_BODY] {
                let (mut buffer, mut stored) = (Buffer::new(), Vec::new());
                let mut body = Body::new(&mut stored, keep);
                let mut stream = &bytes[..];
                let r = read_response(&mut stream, &mut buffer, &mut body, false, &mut |_: &str, _: &[u8]| Ok(()));
                assert_eq!(r.unwrap(), Response { status: 200, reusable }, "{what}, keep {keep}");
                assert_eq!(body.len(), big.len(), "{what}: the whole length is counted");
                assert_eq!(body.kept(), &big[..keep.min(big.len())], "{what}, keep {keep}");
                assert!(stored.capacity() <= keep.max(1), "{what}: {} bytes held to keep {keep}", stored.capacity());
            }
        }
    }

    #[test]
    fn framing_is_strict() {
        let cases: &[(&[u8], &str)] = &[
            (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n{}", "more than one Content-Length"),
            (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}x", "more than one Content-Length"),
            (b"HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\n{}", "malformed Content-Length"),
            (b"HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\n{}", "malformed Content-Length"),
            (b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n{}", "malformed Content-Length"),
            (b"HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n{}", "malformed Content-Length"),
            (
                b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                "both Content-Length and Transfer-Encoding",
            ),
            (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", "unsupported Transfer-Encoding"),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
                "more than one Transfer-Encoding",
            ),
            (b"HTTP/1.1 +200 OK\r\nContent-Length: 0\r\n\r\n", "malformed status line"),
            (b"HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n", "malformed status line"),
            (b"HTTP/1.1 20 OK\r\nContent-Length: 0\r\n\r\n", "malformed status line"),
            (b"HTTP/1.1 099 Low\r\nContent-Length: 0\r\n\r\n", "status code out of range"),
            (b"HTTP/1.1 600 High\r\nContent-Length: 0\r\n\r\n", "status code out of range"),
            (b"HTTP/2 200 OK\r\n\r\n", "not an HTTP/1.x response"),
            (b"\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", "empty line before a status line"),
            (b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n", "framing header on a response without content"),
            (
                b"HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n",
                "framing header on a response without content",
            ),
            (b"HTTP/1.1 100 Continue\r\nContent-Length: 0\r\n\r\n", "framing header on a response without content"),
            (b"HTTP/1.1 204 No Content\r\n\r\n{}", "content after a response that has none"),
            (b"HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\nhello", "content after a response that has none"),
            (
                b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n",
                "101 Switching Protocols without an Upgrade request",
            ),
            (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\n", "malformed chunk size"),
            (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n", "malformed chunk size"),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;a\x00b\r\nx\r\n0\r\n\r\n",
                "malformed chunk size",
            ),
            (b"HTTP/1.1 304 Not Modified\r\nContent-Length: 9000000\r\n\r\n", "response body larger than the limit"),
            (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n",
                "chunk data not followed by CRLF",
            ),
            (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{}", "connection closed inside a response body"),
            (b"HTTP/1.1 200 OK\r\nX-Ok: 1\r\nno colon\r\n\r\n", "malformed header field"),
            (b"HTTP/1.1 200 OK\r\nX\x00Bad: 1\r\n\r\n", "malformed header field"),
        ];
        for (bytes, expected) in cases {
            let (r, ..) = read(bytes);
            assert_eq!(protocol_error(&r), *expected, "{:?}", String::from_utf8_lossy(bytes));
        }
        assert!(matches!(read(b"").0, Err(Failure::BeforeResponse(_))), "nothing at all: retry on a new connection");
    }

    #[test]
    fn well_formed_responses_and_reuse() {
        let (r, body, seen) = read(b"HTTP/1.1 100 Continue\r\nX-Interim: 1\r\n\r\nHTTP/1.1 103 Early Hints\r\n\r\nHTTP/1.1 200 OK\r\nX-Final:  v \r\nContent-Length: 2\r\n\r\n{}");
        assert_eq!(r.unwrap(), Response { status: 200, reusable: true });
        assert_eq!(body, b"{}");
        assert_eq!(seen, [("X-Final".to_owned(), b"v".to_vec())], "only the final response's fields, trimmed");
        let (r, body, _) = read(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n4\r\n{\"a\"\r\n3;ext=1\r\n:1}\r\n0\r\nX-Trailer: y\r\n\r\n");
        assert_eq!((r.unwrap().reusable, &body[..]), (true, &b"{\"a\":1}"[..]));
        let (r, body, _) = read(b"HTTP/1.1 200 OK\r\n\r\nto the end");
        assert_eq!((r.unwrap().reusable, &body[..]), (false, &b"to the end"[..]), "read to EOF: never reused");
        assert!(!read(b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n").0.unwrap().reusable);
        assert!(
            !read(b"HTTP/1.1 200 OK\r\nConnection: keep-alive, close\r\nContent-Length: 0\r\n\r\n").0.unwrap().reusable
        );
        assert!(
            !read(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\n").0.unwrap().reusable,
            "leftover"
        );
        assert!(read(b"HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n").0.unwrap().reusable);
        // RFC 9110 §5.5: control bytes in a field value become spaces; the response stands.
        let (r, _, seen) = read(b"HTTP/1.1 200 OK\r\nX-Trace: a\x00b\x01c\x7fd\r\nContent-Length: 0\r\n\r\n");
        assert_eq!(r.unwrap().status, 200);
        assert_eq!(seen[0].1, b"a b c d");
    }

    #[test]
    fn several_responses_on_one_stream_in_small_pieces() {
        let one = b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc";
        let two = b"HTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nde\r\n0\r\n\r\n";
        let all = [&one[..], &two[..]].concat();
        struct Pieces<'a>(&'a [u8]);
        impl Read for Pieces<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = buf.len().min(self.0.len()).min(1);
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut stream = Pieces(&all);
        let (mut buffer, mut body) = (Buffer::new(), Vec::new());
        let r = read_response(
            &mut stream,
            &mut buffer,
            &mut Body::new(&mut body, MAX_BODY),
            false,
            &mut |_: &str, _: &[u8]| Ok(()),
        )
        .unwrap();
        assert_eq!((r.status, r.reusable, &body[..]), (200, true, &b"abc"[..]));
        let r = read_response(
            &mut stream,
            &mut buffer,
            &mut Body::new(&mut body, MAX_BODY),
            false,
            &mut |_: &str, _: &[u8]| Ok(()),
        )
        .unwrap();
        assert_eq!((r.status, r.reusable, &body[..]), (202, true, &b"de"[..]));
    }

    #[test]
    fn bytes_after_a_response_are_the_next_one_only_when_it_was_asked_for() {
        let ack = &b"HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\nok"[..];
        let none = &b"HTTP/1.1 204 No Content\r\n\r\n"[..];
        let next = &b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n{}\n"[..];
        for first in [ack, none] {
            let all = [first, next].concat();
            let read_two = |pipelined: bool| {
                let (mut stream, mut buffer, mut body) = (&all[..], Buffer::new(), Vec::new());
                let mut one = || {
                    read_response(
                        &mut stream,
                        &mut buffer,
                        &mut Body::new(&mut body, MAX_BODY),
                        pipelined,
                        &mut |_: &str, _: &[u8]| Ok(()),
                    )
                };
                let a = one();
                (a, one())
            };
            // Asked for: the first leaves the connection reusable and the second is read whole.
            let (a, b) = read_two(true);
            assert!(a.unwrap().reusable);
            assert_eq!(b.unwrap(), Response { status: 200, reusable: true });
            // Not asked for: the same bytes are leftovers (or content after a 204).
            match read_two(false).0 {
                Ok(r) => assert!(!r.reusable, "leftover bytes: never reused"),
                Err(Failure::Fatal(Error::Protocol(_))) => assert_eq!(first, none),
                Err(_) => panic!("unexpected failure"),
            }
        }
    }
}
