//! Whole lines to standard output (metrics) and standard error (logs): each line, its `\n`
//! included, is one buffer handed to one `write(2)` on the raw file descriptor.
//!
//! Why one call: Lambda captures both streams, and on Managed Instances several workers
//! write at once. POSIX makes a `write` of at most `PIPE_BUF` bytes (4,096 on Linux) to a
//! pipe atomic: its bytes are never interleaved with another writer's
//! (<https://pubs.opengroup.org/onlinepubs/9799919799/functions/write.html>, "Write requests
//! of {PIPE_BUF} bytes or less shall not be interleaved"). A line written in two calls — the
//! text, then `\n`, as `std`'s line-buffered stdout can do — lets another thread's line land
//! between them. Above `PIPE_BUF` nothing is promised: when the pipe is full the kernel may
//! take the line in parts and interleave other writers' bytes between them, and a `write`
//! interrupted after some bytes returns short (the rest then follows in another call). Log
//! lines and metrics lines are far below 4,096 bytes in practice (a metrics line with 100
//! time values is about 2.5 KB).
//!
//! The descriptors are duplicated once (`dup`, safe `std` API) into unbuffered `File`s, so
//! no `std` buffer (stdout's `LineWriter`) stands between a line and its `write`.

use std::fs::File;
use std::io::{self, Write};
use std::os::fd::AsFd;
use std::sync::OnceLock;

/// Writes `line` (which ends with `\n`) to `out` in one `write` call: the whole line is one
/// buffer. Only a short `write` (an interrupted one, or a line over `PIPE_BUF` on a full
/// pipe) leads to a second call, for the rest.
pub fn whole_line(out: &mut impl Write, line: &[u8]) -> io::Result<()> {
    debug_assert!(line.ends_with(b"\n"), "a whole line ends with its newline");
    out.write_all(line)
}

fn raw(
    fd: &'static OnceLock<Option<File>>,
    of: impl FnOnce() -> io::Result<std::os::fd::OwnedFd>,
) -> Option<&'static File> {
    fd.get_or_init(|| of().ok().map(File::from)).as_ref()
}

/// Standard output, unbuffered: one `write` per call (`None` when it cannot be had).
pub fn stdout() -> Option<&'static File> {
    static FD: OnceLock<Option<File>> = OnceLock::new();
    raw(&FD, || io::stdout().as_fd().try_clone_to_owned())
}

/// Standard error, unbuffered: one `write` per call.
pub fn stderr() -> Option<&'static File> {
    static FD: OnceLock<Option<File>> = OnceLock::new();
    raw(&FD, || io::stderr().as_fd().try_clone_to_owned())
}

/// A `Write` that records every call it gets (for the tests of whole lines).
#[cfg(test)]
#[derive(Default)]
pub(crate) struct Calls(pub Vec<Vec<u8>>);

#[cfg(test)]
impl Write for Calls {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.push(buf.to_vec());
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_one_write_call_with_its_newline() {
        let mut calls = Calls::default();
        whole_line(&mut calls, b"{\"a\":1}\n").unwrap();
        assert_eq!(calls.0, vec![b"{\"a\":1}\n".to_vec()]);
    }
}
