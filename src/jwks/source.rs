//! One URL's refresh state: when it was last fetched (or tried), how many tries in a row
//! failed, and when the next scheduled try may run. Behind its own lock in
//! [`Remote`](super::remote::Remote): holding it is what makes a fetch of this URL the only
//! one in flight.

use super::remote::Trigger;
use super::url::JwksUrl;
use std::sync::{Mutex, MutexGuard, TryLockError};

/// First wait after a failed fetch, seconds; it doubles with each failure in a row, up to the
/// refresh interval.
pub const FIRST_BACKOFF_SECONDS: u64 = 5;

#[derive(Debug)]
pub struct Source {
    /// The JWKS URL, or for a discovered issuer its discovery document's URL.
    pub url: JwksUrl,
    /// The issuer whose keys these are (`JWT_OIDC_DISCOVERY`): they verify only tokens whose
    /// `iss` is exactly this; `None` for a `JWT_JWKS_URL`, whose keys verify any issuer.
    pub issuer: Option<String>,
    state: Mutex<State>,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct State {
    /// A discovered issuer's `jwks_uri`, once its discovery document was read (forgotten after
    /// a failed fetch, so the next one discovers it again).
    pub jwks_uri: Option<JwksUrl>,
    /// When the last fetch was tried (Unix seconds), whatever its outcome.
    pub last_attempt: Option<u64>,
    /// Failed fetches in a row.
    pub failures: u32,
    /// No scheduled fetch before this (Unix seconds): the backoff after a failure.
    pub next_retry: u64,
}

impl State {
    /// Records a fetch tried at `now` and whether it succeeded.
    pub fn record(&mut self, now: u64, ok: bool, refresh_seconds: u64) {
        self.last_attempt = Some(now);
        if ok {
            self.failures = 0;
            self.next_retry = 0;
        } else {
            self.failures = self.failures.saturating_add(1);
            let shift = self.failures.saturating_sub(1).min(20);
            let wait = FIRST_BACKOFF_SECONDS.saturating_mul(1 << shift).min(refresh_seconds);
            self.next_retry = now.saturating_add(wait);
        }
    }

    /// Whether `trigger` calls for a fetch at `now`, given the set held (its fetch time) and
    /// the settings' intervals:
    /// - cold start: when nothing is held yet;
    /// - scheduled: when the backoff after a failure is over and the set held, if any, is
    ///   at least `refresh_seconds` old;
    /// - unknown kid: not within `min_refresh_seconds` of the last try.
    pub fn needs_fetch(
        &self,
        trigger: Trigger,
        held_since: Option<u64>,
        now: u64,
        refresh: u64,
        min_refresh: u64,
    ) -> bool {
        match trigger {
            Trigger::ColdStart => held_since.is_none(),
            Trigger::Scheduled => {
                now >= self.next_retry && held_since.is_none_or(|at| now >= at.saturating_add(refresh))
            }
            Trigger::UnknownKid => self.may_fetch_for_unknown_kid(now, min_refresh),
        }
    }

    /// Whether an unknown `kid` may cause a fetch at `now`: not within `min_refresh` seconds of
    /// the last try (so a flood of made-up kids costs one fetch per interval).
    pub fn may_fetch_for_unknown_kid(&self, now: u64, min_refresh: u64) -> bool {
        self.last_attempt.is_none_or(|t| now.saturating_sub(t) >= min_refresh && now >= t)
    }
}

impl Source {
    pub fn new(url: JwksUrl, issuer: Option<String>) -> Source {
        Source { url, issuer, state: Mutex::new(State::default()) }
    }

    /// The state, waiting for a fetch in flight to end (it is bounded by its deadline).
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The state, or `None` while another thread fetches this URL.
    pub fn try_lock(&self) -> Option<MutexGuard<'_, State>> {
        match self.state.try_lock() {
            Ok(g) => Some(g),
            Err(TryLockError::Poisoned(p)) => Some(p.into_inner()),
            Err(TryLockError::WouldBlock) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_refresh_interval_and_resets_on_success() {
        let mut s = State::default();
        assert!(s.may_fetch_for_unknown_kid(1000, 30));
        s.record(1000, false, 3600);
        assert_eq!((s.failures, s.next_retry), (1, 1005));
        s.record(1005, false, 3600);
        assert_eq!(s.next_retry, 1015);
        for _ in 0..40 {
            s.record(2000, false, 3600);
        }
        assert_eq!(s.next_retry, 2000 + 3600);
        s.record(3000, true, 3600);
        assert_eq!((s.failures, s.next_retry, s.last_attempt), (0, 0, Some(3000)));
        assert!(!s.may_fetch_for_unknown_kid(3029, 30));
        assert!(s.may_fetch_for_unknown_kid(3030, 30));
        assert!(s.may_fetch_for_unknown_kid(3000, 0));
        assert!(!s.may_fetch_for_unknown_kid(2999, 0), "a clock that went back is not a reason to fetch");
    }

    #[test]
    fn what_each_trigger_needs() {
        let (refresh, min) = (3600, 30);
        let fresh = State::default();
        let need = |s: &State, t, held, now| s.needs_fetch(t, held, now, refresh, min);
        assert!(need(&fresh, Trigger::ColdStart, None, 1000));
        assert!(!need(&fresh, Trigger::ColdStart, Some(900), 1000), "held already");
        assert!(need(&fresh, Trigger::Scheduled, None, 1000), "nothing held: due");
        assert!(!need(&fresh, Trigger::Scheduled, Some(1000), 4599), "younger than the refresh interval");
        assert!(need(&fresh, Trigger::Scheduled, Some(1000), 4600));
        let mut failed = State::default();
        failed.record(1000, false, refresh);
        assert!(!need(&failed, Trigger::Scheduled, None, 1004), "within the backoff");
        assert!(!need(&failed, Trigger::Scheduled, Some(0), 1004), "within the backoff, however old the set");
        assert!(need(&failed, Trigger::Scheduled, None, 1005));
        assert!(!need(&failed, Trigger::UnknownKid, None, 1029));
        assert!(need(&failed, Trigger::UnknownKid, None, 1030));
    }
}
