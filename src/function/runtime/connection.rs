//! The one kept-alive connection to the Runtime API, and its I/O under deadlines.
//!
//! A `std` `TcpStream` (`TCP_NODELAY`) with the bytes read and not consumed yet. Every
//! connect, write and read waits at most until the deadline it is given, however slowly the
//! server sends: before each read or write the socket's timeout is made at most the time
//! left ([`Timed`]), so a server that trickles one byte at a time cannot stretch it. What a
//! deadline is for (the answer, its acknowledgement, the event's body) is decided by the
//! caller ([`super::policy`]); this file only keeps to it.

use super::http::{self, Failure};
use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

/// The connection (when open), its read buffer, and the socket timeouts set on it.
#[derive(Debug, Default)]
pub(super) struct Connection {
    stream: Option<TcpStream>,
    /// Bytes read from the connection and not consumed yet.
    inbuf: http::Buffer,
    /// The timeouts set on `stream` so far (see [`Timed`]).
    timeouts: Timeouts,
    /// Connections opened so far (for tests and diagnostics).
    opened: usize,
}

impl Connection {
    pub(super) fn new() -> Connection {
        Connection { inbuf: http::Buffer::new(), ..Connection::default() }
    }

    pub(super) fn is_open(&self) -> bool {
        self.stream.is_some()
    }

    pub(super) fn opened(&self) -> usize {
        self.opened
    }

    /// Drops the connection (the next request opens a new one).
    pub(super) fn close(&mut self) {
        self.stream = None;
    }

    /// Opens a connection to `host` unless one is open, within `until`.
    pub(super) fn open(&mut self, host: &str, until: Option<Instant>) -> io::Result<()> {
        if self.stream.is_none() {
            let stream = connect(host, until)?;
            stream.set_nodelay(true)?;
            self.opened += 1;
            self.inbuf.clear();
            self.timeouts = Timeouts::default();
            self.stream = Some(stream);
        }
        Ok(())
    }

    /// Writes all of `bytes` by `until`.
    pub(super) fn send(&mut self, bytes: &[u8], until: Option<Instant>) -> io::Result<()> {
        self.timed(until)?.write_all(bytes)
    }

    /// Reads the head of the next response by `until`.
    pub(super) fn read_head(
        &mut self,
        until: Option<Instant>,
        on_header: &mut impl FnMut(&str, &[u8]) -> Result<(), &'static str>,
    ) -> Result<http::Head, Failure> {
        let (mut io, inbuf) = self.timed_with_buffer(until).map_err(|e| Failure::Fatal(e.into()))?;
        http::read_head(&mut io, inbuf, on_header)
    }

    /// Reads the body `head` announces by `until`; the connection is dropped when the
    /// response leaves it unusable.
    pub(super) fn read_body(
        &mut self,
        head: &http::Head,
        until: Option<Instant>,
        body: &mut http::Body<'_>,
        pipelined: bool,
    ) -> Result<u16, Failure> {
        let (mut io, inbuf) = self.timed_with_buffer(until).map_err(|e| Failure::Fatal(e.into()))?;
        let response = http::read_body(&mut io, inbuf, head, body, pipelined)?;
        if !response.reusable {
            self.close();
        }
        Ok(response.status)
    }

    fn timed(&mut self, deadline: Option<Instant>) -> io::Result<Timed<'_>> {
        Ok(self.timed_with_buffer(deadline)?.0)
    }

    fn timed_with_buffer(&mut self, deadline: Option<Instant>) -> io::Result<(Timed<'_>, &mut http::Buffer)> {
        let Connection { stream, inbuf, timeouts, .. } = self;
        let stream = stream.as_ref().ok_or_else(|| io::Error::new(io::ErrorKind::NotConnected, "not connected"))?;
        Ok((Timed { stream, deadline, timeouts }, inbuf))
    }
}

pub(super) fn timed_out() -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, "no answer before the deadline")
}

/// Time left before `deadline`, or a `TimedOut` error once it is spent.
fn left(deadline: Instant) -> io::Result<Duration> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() { Err(timed_out()) } else { Ok(left) }
}

/// Connects to `host`, within the deadline when there is one.
fn connect(host: &str, deadline: Option<Instant>) -> io::Result<TcpStream> {
    let Some(deadline) = deadline else { return TcpStream::connect(host) };
    let mut last = io::Error::new(io::ErrorKind::InvalidInput, "no address for the Runtime API");
    for addr in host.to_socket_addrs()? {
        match TcpStream::connect_timeout(&addr, left(deadline)?) {
            Ok(stream) => return Ok(stream),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// The timeouts currently set on a socket (`None`: none, it waits forever).
#[derive(Debug, Default, Clone, Copy)]
struct Timeouts {
    read: Option<Duration>,
    write: Option<Duration>,
}

/// The connection under a deadline: before every read and write the socket's timeout is made
/// at most the time left, so the deadline bounds the whole exchange, not each syscall — a
/// server that trickles one byte at a time cannot stretch it. A timeout that runs out before
/// the deadline (it was set shorter) is not an error: the call is made again, with the
/// timeout shrunk to what is left. Without a deadline, a timeout left on the socket by an
/// earlier answer only makes the call start again.
///
/// Timeouts are set only when they must shrink, and then to half the time left: the next
/// answer, with a deadline as far away, finds the timeout short enough already, so a warm
/// worker makes no `setsockopt` per invocation (it made four: ~5 % of its CPU at 8 workers,
/// docs/performance.md §6).
struct Timed<'a> {
    stream: &'a TcpStream,
    deadline: Option<Instant>,
    timeouts: &'a mut Timeouts,
}

/// Makes `current` (the socket's timeout for one direction) at most the time left before
/// `deadline`, through `set`; a spent deadline is a `TimedOut` error.
fn bound(
    current: &mut Option<Duration>,
    deadline: Option<Instant>,
    set: impl FnOnce(Option<Duration>) -> io::Result<()>,
) -> io::Result<()> {
    let Some(deadline) = deadline else {
        // No deadline (a parked `GET /next`): a short timeout left by an answer near its
        // deadline would wake the worker often for nothing; anything of a second or more is
        // kept (a wake-up a second at most, and no syscall per invocation).
        if current.is_some_and(|t| t < IDLE_TIMEOUT_FLOOR) {
            set(None)?;
            *current = None;
        }
        return Ok(());
    };
    let left = left(deadline)?;
    if current.is_none_or(|t| t > left) {
        let t = (left / 2).max(Duration::from_millis(1)).min(left);
        set(Some(t))?;
        *current = Some(t);
    }
    Ok(())
}

/// Shortest socket timeout kept while waiting without a deadline (see [`bound`]).
const IDLE_TIMEOUT_FLOOR: Duration = Duration::from_secs(1);

/// Whether an I/O error is a socket timeout running out (EAGAIN on Unix).
fn ran_out(e: &io::Error) -> bool {
    matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut)
}

impl Read for Timed<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            bound(&mut self.timeouts.read, self.deadline, |t| self.stream.set_read_timeout(t))?;
            match (&mut &*self.stream).read(buf) {
                // The socket's timeout, not necessarily the deadline: `bound` says which.
                Err(e) if ran_out(&e) => continue,
                r => return r,
            }
        }
    }
}

impl Write for Timed<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        loop {
            bound(&mut self.timeouts.write, self.deadline, |t| self.stream.set_write_timeout(t))?;
            match (&mut &*self.stream).write(buf) {
                Err(e) if ran_out(&e) => continue,
                r => return r,
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_timeouts_are_set_only_to_shrink_below_the_deadline() {
        let mut calls = Vec::new();
        let mut current = None;
        let far = Instant::now() + Duration::from_secs(10);
        bound(&mut current, Some(far), |t| {
            calls.push(t);
            Ok(())
        })
        .unwrap();
        let set = current.expect("a timeout was set");
        assert!(set <= Duration::from_secs(5) && set > Duration::from_secs(4), "{set:?}");
        // The next answer, as far from its deadline: no syscall.
        bound(&mut current, Some(Instant::now() + Duration::from_secs(10)), |t| {
            calls.push(t);
            Ok(())
        })
        .unwrap();
        assert_eq!(calls.len(), 1);
        // A nearer deadline: shrunk below what is left.
        bound(&mut current, Some(Instant::now() + Duration::from_millis(400)), |t| {
            calls.push(t);
            Ok(())
        })
        .unwrap();
        assert_eq!(calls.len(), 2);
        assert!(current.unwrap() <= Duration::from_millis(400));
        // Without a deadline, a timeout under a second is cleared, not kept to wake an idle worker.
        bound(&mut current, None, |t| {
            calls.push(t);
            Ok(())
        })
        .unwrap();
        assert_eq!((calls.last().copied(), current), (Some(None), None));
        let mut long = Some(Duration::from_secs(5));
        bound(&mut long, None, |t| {
            calls.push(t);
            Ok(())
        })
        .unwrap();
        assert_eq!((calls.len(), long), (3, Some(Duration::from_secs(5))));
        // A spent deadline is an error, whatever the socket has.
        let spent = bound(&mut current, Some(Instant::now()), |_| Ok(()));
        assert_eq!(spent.unwrap_err().kind(), io::ErrorKind::TimedOut);
    }
}
