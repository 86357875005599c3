//! The `http` target: arbitrary bytes as the server's side of a Runtime API connection, read
//! by the client's response reader (`jwt_authorizer::function::runtime::http`) in reads of varying
//! size, response after response. Every accepted response is re-parsed from the bytes it
//! consumed by [`strict`], an independent parser of RFC 9112 written here (no `httparse`),
//! which must accept it with the same status, fields, body and persistence.

use jwt_authorizer::function::runtime::http::{
    Body, Buffer, MAX_BODY, MAX_CHUNK_LINE, MAX_HEAD, MAX_HEADERS, MAX_INTERIM, read_response,
};
use std::io::{self, Read};

/// The server's bytes, handed out in reads of 1 to 64 bytes or as much as asked, chosen by
/// a generator seeded from the input.
struct Server<'a> {
    bytes: &'a [u8],
    sent: usize,
    seed: u64,
}

impl Read for Server<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.seed = self.seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let piece = match self.seed >> 60 {
            0..=3 => buf.len(),
            r => (((self.seed >> 32) % 64) as usize + 1).min(if r < 8 { 1 } else { 64 }),
        };
        let n = piece.min(buf.len()).min(self.bytes.len() - self.sent);
        buf[..n].copy_from_slice(&self.bytes[self.sent..self.sent + n]);
        self.sent += n;
        Ok(n)
    }
}

/// Field names and values, in order.
pub type Fields = Vec<(String, Vec<u8>)>;

/// One response as `strict` reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    pub status: u16,
    pub fields: Fields,
    pub body: Vec<u8>,
    pub close: bool,
}

/// Reads `data` (first byte: the read-size seed) as responses on one connection; panics if
/// a limit is passed or an accepted response is not one `strict` accepts identically.
pub fn check(data: &[u8]) {
    let Some((&seed, bytes)) = data.split_first() else { return };
    let mut server = Server { bytes, sent: 0, seed: u64::from(seed) };
    let (mut buffer, mut stored) = (Buffer::new(), Vec::new());
    let mut start = 0;
    // The seed's low bit: whether the client pipelined another request after each one; the
    // next two: how much of each body is kept (all of it, none, 5 bytes, or 1 KiB).
    let pipelined = seed & 1 == 1;
    let keep = [MAX_BODY, 0, 5, 1024][usize::from((seed >> 1) & 3)];
    loop {
        let mut fields = Vec::new();
        let mut body = Body::new(&mut stored, keep);
        let result = read_response(&mut server, &mut buffer, &mut body, pipelined, &mut |name: &str, value: &[u8]| {
            fields.push((name.to_owned(), value.to_vec()));
            Ok(())
        });
        let len = body.len();
        assert!(buffer.pending().len() <= MAX_HEAD, "buffered {} bytes", buffer.pending().len());
        assert!(len <= MAX_BODY && stored.len() == len.min(keep), "body of {len} bytes, {} kept", stored.len());
        assert!(stored.capacity() <= keep.max(1).min(2 * MAX_BODY), "{} bytes held to keep {keep}", stored.capacity());
        let Ok(response) = result else { return };
        let end = server.sent - buffer.pending().len();
        let consumed = &bytes[start..end];
        let expected = strict(consumed).unwrap_or_else(|why| {
            panic!("accepted a malformed response ({why}): {:?}", String::from_utf8_lossy(consumed))
        });
        assert_eq!(len, expected.body.len(), "the whole body is counted");
        let kept = Parsed { body: expected.body[..len.min(keep)].to_vec(), ..expected.clone() };
        let got = Parsed { status: response.status, fields, body: stored.clone(), close: expected.close };
        assert_eq!(got, kept, "{:?}", String::from_utf8_lossy(consumed));
        // Reused exactly when the response lets the connection stay open and, unless another
        // request was pipelined behind this one, nothing arrived after it.
        let reusable = !expected.close && (pipelined || buffer.pending().is_empty());
        assert_eq!(response.reusable, reusable, "reuse (pipelined: {pipelined})");
        if !response.reusable {
            return;
        }
        start = end;
    }
}

const fn tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~'
        )
}

/// One line: the bytes before the next LF without one CR just before it (RFC 9112 §2.2
/// lets a recipient take a bare LF as the end of a line), and where the next line starts.
fn line(msg: &[u8], at: usize) -> Result<(&[u8], usize), &'static str> {
    let rest = msg.get(at..).ok_or("past the end")?;
    let lf = rest.iter().position(|&b| b == b'\n').ok_or("unterminated line")?;
    let l = &rest[..lf];
    let l = l.strip_suffix(b"\r").unwrap_or(l);
    if l.contains(&b'\r') {
        return Err("bare CR");
    }
    Ok((l, at + lf + 1))
}

fn ows(v: &[u8]) -> &[u8] {
    let s = v.iter().position(|&b| b != b' ' && b != b'\t').unwrap_or(v.len());
    let e = v.iter().rposition(|&b| b != b' ' && b != b'\t').map_or(s, |i| i + 1);
    &v[s..e]
}

/// A field section (header or trailer) from `at`: fields and the index after the blank line.
/// `blank`: control bytes other than HTAB become SP first (RFC 9110 §5.5), as for heads.
fn fields(msg: &[u8], mut at: usize, blank: bool) -> Result<(Fields, usize), &'static str> {
    let mut out = Vec::new();
    loop {
        let (l, next) = line(msg, at)?;
        at = next;
        if l.is_empty() {
            return Ok((out, at));
        }
        let l: Vec<u8> =
            l.iter().map(|&b| if blank && (b < 0x20 && b != b'\t' || b == 0x7f) { b' ' } else { b }).collect();
        let colon = l.iter().position(|&b| b == b':').ok_or("field without colon")?;
        let (name, value) = (&l[..colon], ows(&l[colon + 1..]));
        if name.is_empty() || !name.iter().all(|&b| tchar(b)) {
            return Err("bad field name");
        }
        if value.iter().any(|&b| b < 0x20 && b != b'\t' || b == 0x7f) {
            return Err("control byte in a field value");
        }
        if out.len() == MAX_HEADERS {
            return Err("too many fields");
        }
        out.push((String::from_utf8(name.to_vec()).map_err(|_| "name")?, value.to_vec()));
    }
}

/// RFC 9112 (with RFC 9110's framing rules and this client's limits), strictly: the whole of
/// `msg` must be zero to `MAX_INTERIM` interim responses and one final response.
pub fn strict(msg: &[u8]) -> Result<Parsed, &'static str> {
    let mut at = 0;
    for interim in 0.. {
        if interim > MAX_INTERIM {
            return Err("too many interim responses");
        }
        let head_start = at;
        let (status_line, next) = line(msg, at)?;
        let version = status_line.get(..9).ok_or("short status line")?;
        let http10 = match version {
            b"HTTP/1.0 " => true,
            b"HTTP/1.1 " => false,
            _ => return Err("version"),
        };
        let code = status_line.get(9..12).ok_or("short status")?;
        if !code.iter().all(u8::is_ascii_digit) {
            return Err("status digits");
        }
        let status = code.iter().fold(0u16, |n, d| n * 10 + u16::from(d - b'0'));
        match status_line.get(12..) {
            Some([]) => {}
            Some([b' ', reason @ ..]) if reason.iter().all(|&b| b == b'\t' || b >= 0x20 && b != 0x7f) => {}
            _ => return Err("reason phrase"),
        }
        if !(100..=599).contains(&status) {
            return Err("status range");
        }
        let (mut all, body_at) = fields(msg, next, true)?;
        if body_at - head_start > MAX_HEAD {
            return Err("head too large");
        }
        at = body_at;
        let named = |all: &[(String, Vec<u8>)], n: &str| {
            all.iter().filter(|(k, _)| k.eq_ignore_ascii_case(n)).map(|(_, v)| v.clone()).collect::<Vec<_>>()
        };
        let lengths = named(&all, "content-length");
        let codings = named(&all, "transfer-encoding");
        if lengths.len() > 1 || codings.len() > 1 {
            return Err("repeated framing field");
        }
        let length = match lengths.first() {
            None => None,
            Some(v) if !v.is_empty() && v.iter().all(u8::is_ascii_digit) => {
                let digits = std::str::from_utf8(v).unwrap().trim_start_matches('0');
                if digits.len() > 8 {
                    return Err("length too large");
                }
                Some(digits.parse::<usize>().unwrap_or(0))
            }
            Some(_) => return Err("bad length"),
        };
        let chunked = match codings.first() {
            None => false,
            Some(v) if v.eq_ignore_ascii_case(b"chunked") => true,
            Some(_) => return Err("coding"),
        };
        if length.is_some() && chunked {
            return Err("length and chunked");
        }
        let no_content = (100..200).contains(&status) || status == 204 || status == 304;
        if chunked && no_content || length.is_some() && status != 304 && no_content {
            return Err("framing on a response without content");
        }
        if status < 200 {
            if status == 101 {
                return Err("101");
            }
            continue;
        }
        let close = http10
            || named(&all, "connection")
                .iter()
                .any(|v| v.split(|&b| b == b',').any(|t| ows(t).eq_ignore_ascii_case(b"close")));
        let rest = &msg[at..];
        let body = if no_content {
            if !rest.is_empty() {
                return Err("content where none may be");
            }
            Vec::new()
        } else if let Some(n) = length {
            if n > MAX_BODY || rest.len() != n {
                return Err("body length");
            }
            rest.to_vec()
        } else if chunked {
            chunked_body(msg, at)?
        } else {
            if rest.len() > MAX_BODY {
                return Err("body too large");
            }
            rest.to_vec()
        };
        all.retain(|(k, _)| {
            !["content-length", "transfer-encoding", "connection"].iter().any(|n| k.eq_ignore_ascii_case(n))
        });
        return Ok(Parsed { status, fields: all, body, close: close || (!no_content && length.is_none() && !chunked) });
    }
    unreachable!()
}

/// RFC 9112 §7.1: chunks, the last chunk, the trailer section — and nothing after it.
fn chunked_body(msg: &[u8], mut at: usize) -> Result<Vec<u8>, &'static str> {
    let mut body = Vec::new();
    loop {
        let rest = msg.get(at..).ok_or("end")?;
        let cr = rest.iter().position(|&b| b == b'\r').ok_or("no CR")?;
        if rest.get(cr + 1) != Some(&b'\n') || cr + 2 > MAX_CHUNK_LINE {
            return Err("chunk line");
        }
        let l = &rest[..cr];
        let digits = l.iter().take_while(|b| b.is_ascii_hexdigit()).count();
        if digits == 0 || digits > 16 {
            return Err("chunk size digits");
        }
        let after = &l[digits..];
        let ws = after.iter().take_while(|&&b| b == b' ' || b == b'\t').count();
        match &after[ws..] {
            [] => {}
            [b';', ext @ ..] if ext.iter().all(|&b| b == b'\t' || b >= 0x20 && b != 0x7f) => {}
            _ => return Err("chunk extension"),
        }
        let size = u64::from_str_radix(std::str::from_utf8(&l[..digits]).unwrap(), 16).map_err(|_| "size")?;
        at += cr + 2;
        if size == 0 {
            let (_, end) = fields(msg, at, false)?;
            if end - at > MAX_HEAD || end != msg.len() {
                return Err("trailer section");
            }
            return Ok(body);
        }
        let size = usize::try_from(size).map_err(|_| "size")?;
        if body.len() + size > MAX_BODY {
            return Err("body too large");
        }
        let data = msg.get(at..at + size).ok_or("short chunk")?;
        body.extend_from_slice(data);
        at += size;
        if msg.get(at..at + 2) != Some(b"\r\n") {
            return Err("chunk CRLF");
        }
        at += 2;
    }
}
