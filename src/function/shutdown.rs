//! The end of the process, the same at every concurrency (one invocation at a time on the
//! main thread, or `AWS_LAMBDA_MAX_CONCURRENCY` workers): on `SIGTERM` (or `SIGINT` by hand)
//! stop taking new invocations, let those in flight finish within [`GRACE`], then write the
//! last metrics line and exit 0.
//!
//! Lambda's shutdown phase
//! (<https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html#runtimes-lifecycle-shutdown>):
//! when an extension is registered, Lambda sends the runtime `SIGTERM` and reserves it up to
//! 300 ms (500 ms with an internal extension) of the phase's 2,000 ms limit, then ends
//! whatever is left with `SIGKILL`. Hence [`GRACE`]: 250 ms for the invocations in flight,
//! which leaves the rest of the smallest reservation (300 ms) for the last line and the exit.
//!
//! One [`Shutdown`] per process, shared by whoever serves invocations:
//! - [`runtime::run`](crate::function::runtime::run) checks [`Shutdown::stopping`] before it
//!   asks for the next invocation (and stands by instead), and holds an [`InFlight`] from the
//!   moment an invocation's event is received until its answer has been posted and
//!   acknowledged (or has failed): a count, no process-wide state about the invocation itself.
//! - [`on_signals`] catches the signals on a thread of its own, which [`Shutdown::stop`]s
//!   (sets "stopping", waits for the count to reach 0, at most [`GRACE`]) and then ends the
//!   process (the caller's `then`: the last metrics line, exit 0).
//!
//! The last line and a decision still being counted: the line is written, and the process
//! ends, while the metrics' lock is held
//! ([`SharedMetrics::finish`](crate::function::metrics::SharedMetrics::finish)). A decision
//! is counted before its answer is posted, under that lock; so a decision either was counted
//! before the last line (and is in it), or its worker waits for the lock until the process
//! ends and its answer is never posted. No answered decision is missing from the metrics.
//! Once the count of invocations in flight is 0 with "stopping" set, the only decision that
//! can still start is one whose event arrives on a `GET /next` sent before "stopping" was set
//! (pipelined or not, or between `next` returning and the invocation being counted): it is
//! the second case. When [`GRACE`] runs
//! out with invocations still in flight, their number is logged (not silent) before the
//! line; each of them is again the first case or the second.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::Thread;
use std::time::{Duration, Instant};

pub use signal_hook::consts::{SIGINT, SIGTERM};

/// How long the invocations in flight at `SIGTERM` may take to finish before the last
/// metrics line is written anyway (see the module documentation for why 250 ms).
pub const GRACE: Duration = Duration::from_millis(250);

/// The high bit of [`Shutdown::state`]: stopping; the other bits count invocations in flight.
const STOPPING: usize = 1 << (usize::BITS - 1);

/// Whether the process is stopping, and how many invocations are in flight.
#[derive(Debug, Default)]
pub struct Shutdown {
    /// [`STOPPING`] | invocations in flight: one atomic, so "stopping with none in flight"
    /// is one value, seen whole by both sides.
    state: AtomicUsize,
    /// The thread waiting in [`Shutdown::stop`], woken by the last [`InFlight`] to end.
    waiter: OnceLock<Thread>,
}

/// One invocation in flight: from its event received to its answer posted. Dropping it (on
/// every path, a panic included) ends it.
#[must_use = "the invocation is in flight for as long as this lives"]
#[derive(Debug)]
pub struct InFlight<'a>(&'a Shutdown);

impl Shutdown {
    pub fn new() -> Shutdown {
        Shutdown::default()
    }

    /// Whether a signal asked the process to stop: ask for no new invocation.
    pub fn stopping(&self) -> bool {
        self.state.load(Ordering::SeqCst) & STOPPING != 0
    }

    /// Invocations in flight right now.
    pub fn in_flight(&self) -> usize {
        self.state.load(Ordering::SeqCst) & !STOPPING
    }

    /// An invocation's event was received: it is in flight until the guard is dropped.
    pub fn begin(&self) -> InFlight<'_> {
        self.state.fetch_add(1, Ordering::SeqCst);
        InFlight(self)
    }

    /// Sets "stopping", then waits until no invocation is in flight or `grace` has passed;
    /// returns how many are still in flight (0: all finished).
    pub fn stop(&self, grace: Duration) -> usize {
        let _ = self.waiter.set(std::thread::current());
        let until = Instant::now() + grace;
        self.state.fetch_or(STOPPING, Ordering::SeqCst);
        loop {
            let left = self.in_flight();
            let now = Instant::now();
            if left == 0 || now >= until {
                return left;
            }
            // Woken by the last `InFlight` to end (an unpark before this park is kept).
            std::thread::park_timeout(until - now);
        }
    }

    /// What a thread that serves invocations does once the process is stopping: nothing,
    /// until the thread that caught the signal ends the process.
    pub fn stand_by(&self) -> ! {
        loop {
            std::thread::park();
        }
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        let before = self.0.state.fetch_sub(1, Ordering::SeqCst);
        if before == STOPPING | 1
            && let Some(waiter) = self.0.waiter.get()
        {
            waiter.unpark();
        }
    }
}

/// Catches `SIGTERM` and `SIGINT` from now on. At the first one, on a thread of its own: logs
/// `shutting down (SIGTERM)`, [`Shutdown::stop`]s within [`GRACE`], logs how many
/// invocations were still in flight if any, and calls `then` (which ends the process).
pub fn on_signals(shutdown: std::sync::Arc<Shutdown>, then: impl FnOnce() + Send + 'static) -> std::io::Result<()> {
    use crate::function::log;
    let mut signals = signal_hook::iterator::Signals::new([SIGTERM, SIGINT])?;
    std::thread::Builder::new().name("shutdown".into()).spawn(move || {
        let Some(signal) = signals.forever().next() else { return };
        log::info(if signal == SIGINT { "shutting down (SIGINT)" } else { "shutting down (SIGTERM)" });
        let left = shutdown.stop(GRACE);
        if left > 0 {
            log::warn(&format!("{left} invocation(s) still in flight after {} ms: not answered", GRACE.as_millis()));
        }
        then();
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::mpsc;

    #[test]
    fn stop_waits_for_the_invocations_in_flight() {
        let shutdown = Arc::new(Shutdown::new());
        let (ended, ended_rx) = mpsc::channel();
        let (go, go_rx) = mpsc::channel::<()>();
        let s = shutdown.clone();
        let (begun, begun_rx) = mpsc::channel();
        std::thread::spawn(move || {
            let _in_flight = s.begin();
            begun.send(()).unwrap();
            let _ = go_rx.recv(); // until the test lets it end
        });
        begun_rx.recv().unwrap();
        assert_eq!(shutdown.in_flight(), 1);
        let s = shutdown.clone();
        std::thread::spawn(move || ended.send(s.stop(Duration::from_secs(60))).unwrap());
        // Stopping is set at once, and stop does not return while one is in flight.
        while !shutdown.stopping() {
            std::thread::yield_now();
        }
        assert!(ended_rx.recv_timeout(Duration::from_millis(100)).is_err(), "returned with one in flight");
        go.send(()).unwrap();
        let left = ended_rx.recv_timeout(Duration::from_secs(30)).expect("stop returns once none is in flight");
        assert_eq!(left, 0);
        assert!(shutdown.stopping());
    }

    #[test]
    fn stop_gives_up_after_the_grace_period_and_says_how_many_are_left() {
        let shutdown = Shutdown::new();
        let a = shutdown.begin();
        let b = shutdown.begin();
        drop(a);
        assert_eq!(shutdown.stop(Duration::from_millis(1)), 1);
        drop(b);
        assert_eq!(shutdown.in_flight(), 0);
        assert!(shutdown.stopping(), "stopping stays set");
        assert_eq!(Shutdown::new().stop(Duration::ZERO), 0);
    }

    #[test]
    fn an_invocation_that_panics_still_ends() {
        let shutdown = Shutdown::new();
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _in_flight = shutdown.begin();
            panic!("in the handler");
        }));
        assert!(r.is_err());
        assert_eq!(shutdown.in_flight(), 0);
    }
}
