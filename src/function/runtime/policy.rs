//! How long each part of an exchange with the Runtime API may take, and when a request is
//! made again. Plain rules, no I/O: the client asks, the connection keeps to the answer.
//!
//! - The invocation's deadline (`Lambda-Runtime-Deadline-Ms`) bounds the function's own
//!   part: reading the rest of the event once its head has arrived, and writing the answer.
//!   A deadline near or already past gets the same [`FLOOR`] (one rule either side of it:
//!   the answer is still tried, briefly); an invocation sent without one gets
//!   [`NO_DEADLINE`].
//! - Once the answer is written the function's work is done: its acknowledgement is awaited
//!   [`ACK_WAIT`], whatever the deadline, and a late or missing one costs that connection
//!   (dropped; the next request opens another), never the worker ([`super::run`]).
//! - `GET …/invocation/next` waits for its head without a deadline: the Runtime API holds it
//!   until there is work.
//! - A request that meets a kept-alive connection the server already closed (nothing of the
//!   response read) is made again once on a new one ([`retry_on_new_connection`]).
//! - The init error is reported with attempts of [`INIT_ERROR_ATTEMPT`] until
//!   [`INIT_ERROR_BUDGET`] is spent ([`report_init_error_again`]).

use super::Error;
use super::http::Failure;
use std::time::{Duration, Instant};

/// Time for the event's body and the answer when the invocation came without a deadline.
pub const NO_DEADLINE: Duration = Duration::from_secs(10);
/// The least time the event's body or the answer gets, even past the deadline.
pub const FLOOR: Duration = Duration::from_millis(250);
/// How long an acknowledgement is awaited once the answer is written.
pub const ACK_WAIT: Duration = Duration::from_secs(2);
/// How long one attempt to report an init error may take, and all attempts together.
pub const INIT_ERROR_ATTEMPT: Duration = Duration::from_secs(3);
pub const INIT_ERROR_BUDGET: Duration = Duration::from_secs(10);
/// Pause between two attempts to report an init error.
const INIT_ERROR_PAUSE: Duration = Duration::from_millis(100);

/// When the function's own part of an invocation must be done (see the module's rules).
pub fn by_deadline(deadline: Option<Instant>, now: Instant) -> Instant {
    match deadline {
        Some(d) => d.max(now + FLOOR),
        None => now + NO_DEADLINE,
    }
}

/// How long the response to a request may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// Until this instant (`None`: for as long as it takes).
    Until(Option<Instant>),
    /// This long after the request is written.
    After(Duration),
}

impl Wait {
    /// The instant the response must be read by, the request having been written at `sent`.
    pub fn from(self, sent: Instant) -> Option<Instant> {
        match self {
            Wait::Until(until) => until,
            Wait::After(d) => Some(sent + d),
        }
    }
}

/// Whether a request that failed with `failure` is made again on a new connection: only
/// when the connection was a kept-alive one and failed before any byte of the response
/// (the server had closed it while idle), and only once.
pub fn retry_on_new_connection(failure: &Failure, reused: bool) -> bool {
    reused && matches!(failure, Failure::BeforeResponse(_))
}

/// Whether an init-error report is made again after `result`, at `now`, given that all
/// attempts must end by `until`: after an I/O failure or a 5xx, while the budget lasts.
/// Returns the pause to take first.
pub fn report_init_error_again(result: &Result<u16, Error>, now: Instant, until: Instant) -> Option<Duration> {
    let again = match result {
        Ok(status) => *status >= 500,
        Err(Error::Io(_)) => true,
        Err(_) => false,
    };
    (again && now + INIT_ERROR_PAUSE < until).then_some(INIT_ERROR_PAUSE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deadline_near_or_past_gets_the_same_floor() {
        let now = Instant::now();
        let far = now + Duration::from_secs(30);
        assert_eq!(by_deadline(Some(far), now), far);
        assert_eq!(by_deadline(Some(now + Duration::from_millis(1)), now), now + FLOOR);
        assert_eq!(by_deadline(Some(now), now), now + FLOOR);
        let past = now.checked_sub(Duration::from_secs(5)).unwrap_or(now);
        assert_eq!(by_deadline(Some(past), now), now + FLOOR, "past: the same as just before, not a longer default");
        assert_eq!(by_deadline(None, now), now + NO_DEADLINE);
        assert!(FLOOR < NO_DEADLINE);
    }

    #[test]
    fn an_acknowledgement_is_awaited_from_the_end_of_the_write() {
        let sent = Instant::now();
        assert_eq!(Wait::After(ACK_WAIT).from(sent), Some(sent + ACK_WAIT));
        assert_eq!(Wait::Until(None).from(sent), None);
    }

    #[test]
    fn init_errors_are_reported_again_only_after_failures_that_may_pass() {
        let now = Instant::now();
        let until = now + INIT_ERROR_BUDGET;
        let io = || Err(Error::Io(std::io::ErrorKind::ConnectionRefused.into()));
        assert_eq!(report_init_error_again(&io(), now, until), Some(INIT_ERROR_PAUSE));
        assert_eq!(report_init_error_again(&Ok(503), now, until), Some(INIT_ERROR_PAUSE));
        assert_eq!(report_init_error_again(&Ok(202), now, until), None);
        assert_eq!(report_init_error_again(&Ok(400), now, until), None);
        assert_eq!(report_init_error_again(&Err(Error::Protocol("x")), now, until), None);
        assert_eq!(report_init_error_again(&io(), now, now + INIT_ERROR_PAUSE), None, "the budget is spent");
    }

    #[test]
    fn only_a_kept_alive_connection_closed_before_any_response_byte_is_retried() {
        let before = || Failure::BeforeResponse(std::io::ErrorKind::UnexpectedEof.into());
        assert!(retry_on_new_connection(&before(), true));
        assert!(!retry_on_new_connection(&before(), false));
        assert!(!retry_on_new_connection(&Failure::Fatal(Error::Protocol("x")), true));
    }
}
