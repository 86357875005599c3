//! The fetched keys on Lambda's side (`JWT_JWKS_URL`; without it nothing here runs): fetched
//! inside init, refreshed around decisions within the invocation's deadline, every fetch
//! logged, and the decision cache cleared when a refresh removed a key.
//!
//! - Cold start ([`cold_start`]): every URL once, within `JWT_JWKS_TIMEOUT_MS`, before the
//!   first `GET /next`, so its time is the init's. A failure is logged, not fatal: the
//!   function serves, refusing what it cannot verify with `keys_unavailable`.
//! - Before a decision ([`decide`]): when a set is older than `JWT_JWKS_REFRESH_SECONDS` (or
//!   a failed fetch's backoff is over), one worker fetches while the others keep deciding
//!   with the keys they have (one atomic load tells whether one is due).
//! - After a refusal for `unknown_kid` or `keys_unavailable`: a fetch (at most one per URL per
//!   `JWT_JWKS_MIN_REFRESH_SECONDS`), then the event is decided again if the keys changed.
//!
//! A refresh inside an invocation ends by the invocation's deadline less [`ANSWER_RESERVE`],
//! or is not started when less than [`MIN_WINDOW`] is left.

use crate::authorizer::{Authorizer, Handled, Scratch};
use crate::config::ConfigError;
use crate::function::log;
use crate::jwks::remote::RefreshError;
use crate::jwks::{Remote, Report, Trigger};
use crate::reason::Reason;
use std::time::{Duration, Instant};

/// Time kept back from an invocation's deadline to answer it after a refresh.
pub const ANSWER_RESERVE: Duration = Duration::from_millis(100);
/// Least time worth starting a fetch in.
pub const MIN_WINDOW: Duration = Duration::from_millis(50);

/// Fetches every URL inside init (when `authorizer` has fetched keys); logs each outcome and
/// returns how many fetches failed (for the first metrics line). A network failure is not an
/// error (the function serves, refusing with `keys_unavailable`); a discovery document whose
/// `issuer` is not the configured one is: it names `JWT_ISSUER`.
pub fn cold_start(authorizer: &Authorizer, now: u64) -> Result<u64, ConfigError> {
    let Some(remote) = authorizer.remote() else { return Ok(0) };
    let report = remote.refresh(now, Trigger::ColdStart, Instant::now() + remote.timeout());
    log_report(&report);
    match report.fetches.iter().find(|f| matches!(f.result, Err(RefreshError::IssuerMismatch))) {
        Some(f) => Err(ConfigError::new(
            "JWT_ISSUER",
            format!(
                "the discovery document at {} names another issuer: the configured issuer must equal its issuer exactly (OpenID Connect Discovery 1.0 §4.3)",
                f.url
            ),
        )),
        None => Ok(failures(&report)),
    }
}

/// Decides one event with `decide`, refreshing the fetched keys around it as the module says;
/// `clear` empties the decision cache after a refresh that removed a key. `deadline`: the
/// invocation's (`None`: only the fetch timeout bounds a refresh).
pub fn decide(
    remote: &Remote,
    now: u64,
    deadline: Option<Instant>,
    scratch: &mut Scratch,
    mut decide: impl FnMut(&mut Scratch) -> Handled,
    mut clear: impl FnMut(),
) -> Handled {
    if remote.due(now)
        && let Some(until) = window(deadline)
    {
        let report = remote.refresh(now, Trigger::Scheduled, until);
        after(&report, &mut clear, scratch);
    }
    let generation = remote.generation();
    let handled = decide(scratch);
    let retry =
        handled.denial.as_ref().is_some_and(|d| matches!(d.reason, Reason::UnknownKid | Reason::KeysUnavailable));
    if !retry {
        return handled;
    }
    let Some(until) = window(deadline) else { return handled };
    let report = remote.refresh(now, Trigger::UnknownKid, until);
    after(&report, &mut clear, scratch);
    // New keys, from this refresh or another thread's (waited for, or done meanwhile).
    if report.changed || remote.generation() != generation { decide(scratch) } else { handled }
}

fn after(report: &Report, clear: &mut impl FnMut(), scratch: &mut Scratch) {
    log_report(report);
    scratch.count_key_fetch_failures(failures(report));
    if report.removed {
        clear();
        log::info("jwks: a refresh removed a key; the decision cache was cleared");
    }
}

/// When a refresh inside this invocation must end, or `None` when too little time is left.
fn window(deadline: Option<Instant>) -> Option<Instant> {
    let Some(deadline) = deadline else { return Some(Instant::now() + Duration::from_secs(3600)) };
    let until = deadline.checked_sub(ANSWER_RESERVE)?;
    (until.saturating_duration_since(Instant::now()) >= MIN_WINDOW).then_some(until)
}

/// How many of a refresh's fetches failed (each is a `KeyFetchFailures` in the metrics line).
pub fn failures(report: &Report) -> u64 {
    report.fetches.iter().filter(|f| f.result.is_err()).count() as u64
}

/// One log line per fetch: the URL, the outcome (keys taken, or the failure's code and
/// detail) and how long it took; skipped JWKS entries as warnings.
pub fn log_report(report: &Report) {
    for f in &report.fetches {
        let ms = f.elapsed.as_millis();
        match &f.result {
            Ok((n, skipped)) => {
                log::info(&format!("jwks: fetched {} ({n} keys, {ms} ms)", f.url));
                for s in skipped {
                    // The kid is the server's: quoted and escaped ({:?}), never a line of its own.
                    log::warn(&format!("jwks: {}: skipped key {:?}: {}", f.url, s.kid.as_deref().unwrap_or(""), s.why));
                }
            }
            Err(e) => log::warn(&format!("jwks: fetch of {} failed ({}): {e} ({ms} ms)", f.url, e.code())),
        }
    }
}
