//! The fetched key sets, one per URL, and when to fetch them again.
//!
//! - **Readers never wait.** Deciders read the current [`Snapshot`] through an
//!   [`ArcSwap`]: a load is a few atomic operations, no lock, no syscall; a refresh builds a
//!   new snapshot and swaps it in whole, so a decision sees the old keys or the new ones, never
//!   a mix.
//! - **One fetch in flight per URL.** A fetch holds its URL's [`Source`] lock. A scheduled
//!   refresh only tries that lock (another thread fetching already: keep deciding with the
//!   current keys); an unknown `kid` waits for the fetch in flight (bounded by its deadline)
//!   and then finds it needs none (the rate limit counts from that fetch).
//! - **When.** At cold start ([`Trigger::ColdStart`]); when a set is older than
//!   `JWT_JWKS_REFRESH_SECONDS`, or a failed fetch's backoff has passed
//!   ([`Trigger::Scheduled`], [`Remote::due`]); when a token's `kid` is unknown or no set is
//!   usable ([`Trigger::UnknownKid`]), at most once per `JWT_JWKS_MIN_REFRESH_SECONDS` per URL.
//! - **Stale-if-error.** A set that cannot be refreshed is used until
//!   [`STALE_LIMIT_SECONDS`] past its fetch time, then no more ([`Snapshot::find`]).
//! - **Removal.** A refresh that drops a key bumps [`Remote::removals`] and says so
//!   ([`Report::removed`]): the caller clears its decision cache.
//!
//! Time is passed in (Unix seconds, the decision's `now`), so the tests choose the clock.

use super::fetch::{self, FetchError};
use super::settings::{STALE_LIMIT_SECONDS, Settings};
use super::source::Source;
use crate::jwt::header::Alg;
use crate::jwt::keys::{Key, KeySet, Skipped, parse_jwks};
use arc_swap::ArcSwap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One URL's keys as last fetched.
#[derive(Debug)]
pub struct Fetched {
    pub keys: KeySet,
    /// The issuer these keys are bound to (discovered), `None`: any issuer (`JWT_JWKS_URL`).
    pub issuer: Option<String>,
    /// When they were fetched (Unix seconds).
    pub fetched_at: u64,
}

/// Every URL's keys (index = the URL's place in `JWT_JWKS_URL`; `None`: never fetched).
#[derive(Debug, Default)]
pub struct Snapshot {
    pub sets: Vec<Option<Arc<Fetched>>>,
}

impl Snapshot {
    /// The fetched key with this `kid` that may verify `alg`, from a set still usable at `now`
    /// (fetched less than [`STALE_LIMIT_SECONDS`] ago) for a token claiming issuer `iss` (a
    /// discovered issuer's set serves only tokens whose `iss` is exactly that issuer).
    pub fn find(&self, kid: &str, alg: Alg, now: u64, iss: Option<&str>) -> Option<&Key> {
        self.usable(now, iss).find_map(|set| set.keys.select(Some(kid), alg).ok().filter(|k| k.kid() == Some(kid)))
    }

    /// Whether any set is usable at `now` for a token claiming issuer `iss`.
    pub fn any_usable(&self, now: u64, iss: Option<&str>) -> bool {
        self.usable(now, iss).next().is_some()
    }

    fn usable<'a, 'i>(&'a self, now: u64, iss: Option<&'i str>) -> impl Iterator<Item = &'a Fetched> + use<'a, 'i> {
        self.sets.iter().flatten().map(|s| &**s).filter(move |s| {
            fresh_enough(s.fetched_at, now) && s.issuer.as_deref().is_none_or(|bound| Some(bound) == iss)
        })
    }
}

/// Whether a set fetched at `fetched_at` may still be used at `now` (stale-if-error limit).
pub fn fresh_enough(fetched_at: u64, now: u64) -> bool {
    now < fetched_at.saturating_add(STALE_LIMIT_SECONDS)
}

/// Why a refresh runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    /// Inside init: every URL, once.
    ColdStart,
    /// A set is older than the refresh interval, or a failed fetch may be tried again.
    Scheduled,
    /// A token's `kid` is in no set, or no set is usable: rate-limited per URL.
    UnknownKid,
}

/// Why a fetched document was not taken.
#[derive(Debug)]
pub enum RefreshError {
    Fetch(FetchError),
    /// Not a JWKS document by the rules of `JWT_JWKS`, or without a usable key; or not a
    /// discovery document with a `jwks_uri` by the URL rules.
    Document(&'static str),
    /// The discovery document's `issuer` is not the configured issuer, exactly (OpenID Connect
    /// Discovery 1.0 §4.3): at cold start, a configuration error.
    IssuerMismatch,
}

impl RefreshError {
    /// A short stable code for the log line.
    pub fn code(&self) -> &'static str {
        match self {
            RefreshError::Fetch(e) => e.code(),
            RefreshError::Document(_) => "bad_jwks",
            RefreshError::IssuerMismatch => "issuer_mismatch",
        }
    }
}

impl std::fmt::Display for RefreshError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RefreshError::Fetch(e) => e.fmt(f),
            RefreshError::Document(why) => f.write_str(why),
            RefreshError::IssuerMismatch => f.write_str(
                "the discovery document's issuer is not the configured issuer exactly (OpenID Connect Discovery 1.0 §4.3)",
            ),
        }
    }
}

/// One fetch's outcome: how many keys (and which entries were skipped), or why not.
#[derive(Debug)]
pub struct Fetch {
    pub url: String,
    pub result: Result<(usize, Vec<Skipped>), RefreshError>,
    pub elapsed: Duration,
}

/// What one refresh did.
#[derive(Debug, Default)]
pub struct Report {
    pub fetches: Vec<Fetch>,
    /// A new set was swapped in.
    pub changed: bool,
    /// A key held before is gone: decisions made with it must not be answered from a cache.
    pub removed: bool,
}

/// The fetched keys and their refresh state (see the module's documentation).
pub struct Remote {
    settings: Settings,
    sources: Vec<Source>,
    current: ArcSwap<Snapshot>,
    /// Serializes building a new snapshot from the current one (fetches of different URLs
    /// may end together); readers never take it.
    publish: Mutex<()>,
    /// The earliest Unix second at which a scheduled refresh is due (`u64::MAX`: none).
    next_due: AtomicU64,
    /// How many refreshes removed a key.
    removals: AtomicU64,
    /// How many sets have been swapped in.
    generation: AtomicU64,
    tls: Arc<rustls::ClientConfig>,
}

impl std::fmt::Debug for Remote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Remote").field("settings", &self.settings).finish_non_exhaustive()
    }
}

impl Remote {
    /// For these settings, trusting `roots` (see [`roots`](super::roots)). Fetches nothing.
    pub fn new(settings: Settings, roots: rustls::RootCertStore) -> Remote {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map(|b| b.with_root_certificates(roots).with_no_client_auth())
            .expect("ring supports the default protocol versions");
        let urls = settings.urls.iter().map(|u| Source::new(u.clone(), None));
        let discovered = settings.discovery.iter().map(|d| Source::new(d.url.clone(), Some(d.issuer.clone())));
        let sources = urls.chain(discovered).collect::<Vec<_>>();
        let current = ArcSwap::from_pointee(Snapshot { sets: vec![None; sources.len()] });
        Remote {
            settings,
            sources,
            current,
            publish: Mutex::new(()),
            next_due: AtomicU64::new(0),
            removals: AtomicU64::new(0),
            generation: AtomicU64::new(0),
            tls: Arc::new(tls),
        }
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Whether some keys are bound to an issuer (discovery on): a decision then reads the
    /// token's unverified `iss` to choose among them.
    pub fn binds_issuers(&self) -> bool {
        !self.settings.discovery.is_empty()
    }

    /// The keys deciders use now (lock-free).
    #[inline]
    pub fn snapshot(&self) -> arc_swap::Guard<Arc<Snapshot>> {
        self.current.load()
    }

    /// Whether a scheduled refresh is due at `now` (one atomic load).
    #[inline]
    pub fn due(&self, now: u64) -> bool {
        now >= self.next_due.load(Ordering::Relaxed)
    }

    /// How many refreshes so far removed a key.
    pub fn removals(&self) -> u64 {
        self.removals.load(Ordering::Acquire)
    }

    /// Counts a removal as a refresh that dropped a key does (tests of what reads the count).
    #[cfg(test)]
    pub(crate) fn count_removal(&self) {
        self.removals.fetch_add(1, Ordering::AcqRel);
    }

    /// How many sets have been swapped in so far (a decision that found no key can tell
    /// whether another thread's fetch brought new ones since).
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// How long one fetch may take (`JWT_JWKS_TIMEOUT_MS`).
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.settings.timeout_ms)
    }

    /// Fetches what `trigger` calls for at `now`, each fetch ending by `deadline` at the
    /// latest (and within `JWT_JWKS_TIMEOUT_MS`).
    pub fn refresh(&self, now: u64, trigger: Trigger, deadline: Instant) -> Report {
        let mut report = Report::default();
        for (i, source) in self.sources.iter().enumerate() {
            let mut state = match trigger {
                Trigger::Scheduled => match source.try_lock() {
                    Some(s) => s,
                    None => continue, // being fetched: keep deciding with the current keys
                },
                Trigger::ColdStart | Trigger::UnknownKid => source.lock(),
            };
            let held = self.current.load().sets.get(i).cloned().flatten();
            let held_since = held.as_ref().map(|s| s.fetched_at);
            let (refresh, min_refresh) = (self.settings.refresh_seconds, self.settings.min_refresh_seconds);
            let needed = state.needs_fetch(trigger, held_since, now, refresh, min_refresh);
            let until = deadline.min(Instant::now() + self.timeout());
            if !needed || until <= Instant::now() {
                continue;
            }
            let started = Instant::now();
            let result = self.fetch_keys(source, &mut state, until);
            state.record(now, result.is_ok(), self.settings.refresh_seconds);
            if result.is_err() {
                state.jwks_uri = None; // discover it again next time
            }
            let result = match result {
                Ok((keys, skipped)) => {
                    let n = keys.len();
                    let removed = self.publish(i, KeySet::new(None, keys), source.issuer.clone(), now);
                    report.changed = true;
                    report.removed |= removed;
                    Ok((n, skipped))
                }
                Err(e) => Err(e),
            };
            report.fetches.push(Fetch { url: source.url.text.clone(), result, elapsed: started.elapsed() });
            drop(state);
        }
        self.update_due();
        report
    }

    /// One source's keys: its JWKS URL's, or for a discovered issuer, its discovery
    /// document's `jwks_uri`'s (the document read first when that is not known yet).
    fn fetch_keys(
        &self,
        source: &Source,
        state: &mut super::source::State,
        until: Instant,
    ) -> Result<(Vec<Key>, Vec<Skipped>), RefreshError> {
        let url = match (&source.issuer, &state.jwks_uri) {
            (None, _) => source.url.clone(),
            (Some(_), Some(known)) => known.clone(),
            (Some(issuer), None) => {
                let doc = fetch::get(&source.url, &self.tls, until).map_err(RefreshError::Fetch)?;
                let jwks_uri = parse_discovery(&doc, issuer)?;
                state.jwks_uri = Some(jwks_uri.clone());
                jwks_uri
            }
        };
        let body = fetch::get(&url, &self.tls, until).map_err(RefreshError::Fetch)?;
        parse(&body)
    }

    /// Swaps in `keys` as URL `i`'s set; says whether a key held before is gone.
    fn publish(&self, i: usize, keys: KeySet, issuer: Option<String>, now: u64) -> bool {
        let _one = self.publish.lock().unwrap_or_else(|p| p.into_inner());
        let old = self.current.load_full();
        let removed =
            old.sets[i].as_ref().is_some_and(|prev| prev.keys.iter().any(|k| !keys.iter().any(|n| same(k, n))));
        let mut sets = old.sets.clone();
        sets[i] = Some(Arc::new(Fetched { keys, issuer, fetched_at: now }));
        self.current.store(Arc::new(Snapshot { sets }));
        self.generation.fetch_add(1, Ordering::AcqRel);
        if removed {
            self.removals.fetch_add(1, Ordering::AcqRel);
        }
        removed
    }

    /// The earliest time any URL needs a scheduled fetch.
    fn update_due(&self) {
        let snapshot = self.current.load();
        let mut due = u64::MAX;
        for (source, set) in self.sources.iter().zip(&snapshot.sets) {
            // A source being fetched right now (its lock taken): due now. Skipping it could
            // store a later time than its fetch will need (this call may land after the
            // fetcher's own), and scheduled refreshes would stop; "due now" costs the next
            // decision one `try_lock` per source, and the next call here sets it right.
            let Some(state) = source.try_lock() else {
                due = 0;
                continue;
            };
            let at = match set {
                None => state.next_retry,
                Some(s) => s.fetched_at.saturating_add(self.settings.refresh_seconds).max(state.next_retry),
            };
            due = due.min(at);
        }
        self.next_due.store(due, Ordering::Relaxed);
    }
}

/// The same key: kid, algorithm and key material (its RFC 7638 thumbprint: `n` and `e` for
/// RSA, the curve and point for EC and OKP). A key replaced under the same kid is a removal.
fn same(a: &Key, b: &Key) -> bool {
    a.kid() == b.kid() && a.alg() == b.alg() && a.thumbprint() == b.thumbprint()
}

/// A discovery document (OpenID Connect Discovery 1.0 §3, §4.2): a JSON object whose
/// `issuer` is exactly `issuer` (§4.3) and whose `jwks_uri` is a URL by the rules of
/// `JWT_JWKS_URL` (`https://`, or `http://` to loopback). A member given twice is refused.
pub fn parse_discovery(body: &[u8], issuer: &str) -> Result<super::url::JwksUrl, RefreshError> {
    #[derive(serde::Deserialize)]
    struct Doc {
        issuer: Option<String>,
        jwks_uri: Option<String>,
    }
    // RFC 8259 §8.1: JSON is UTF-8. Checked first: serde skips an unknown member's string
    // without validating it (the fuzz target found a document with a stray 0xB4 taken).
    let text = std::str::from_utf8(body).map_err(|_| RefreshError::Document("not UTF-8"))?;
    let doc: Doc = serde_json::from_str(text).map_err(|_| RefreshError::Document("not a discovery document"))?;
    let found = doc.issuer.ok_or(RefreshError::Document("the discovery document has no issuer"))?;
    if found != issuer {
        return Err(RefreshError::IssuerMismatch);
    }
    let uri = doc.jwks_uri.ok_or(RefreshError::Document("the discovery document has no jwks_uri"))?;
    let url = super::url::parse(&uri)
        .map_err(|_| RefreshError::Document("the discovery document's jwks_uri is not an https URL"))?;
    // Loopback `http://` is for a configured URL (tests, local runs), never one a remote
    // document names: it would aim the fetch at this host's own services (the Lambda Runtime
    // API on 127.0.0.1:9001, an extension).
    if issuer.starts_with("https://") && !url.tls {
        return Err(RefreshError::Document("the discovery document's jwks_uri is not an https URL"));
    }
    Ok(url)
}

/// A fetched body, by the rules of `JWT_JWKS` ([`parse_jwks`]), with at least one usable key,
/// each with a `kid` (fetched keys are chosen by `kid` only).
pub fn parse(body: &[u8]) -> Result<(Vec<Key>, Vec<Skipped>), RefreshError> {
    let text = std::str::from_utf8(body).map_err(|_| RefreshError::Document("not UTF-8"))?;
    let (keys, mut skipped) = parse_jwks(text).map_err(|e| RefreshError::Document(e.0))?;
    let (keys, no_kid): (Vec<Key>, Vec<Key>) = keys.into_iter().partition(|k| k.kid().is_some());
    skipped.extend(no_kid.iter().map(|_| Skipped { kid: None, why: "no kid (fetched keys are chosen by kid)" }));
    if keys.is_empty() {
        return Err(RefreshError::Document("no usable key (need a signing key with a kid)"));
    }
    Ok((keys, skipped))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_replaced_under_the_same_kid_is_not_the_same_key() {
        // EC and Ed25519 keys have no modulus or exponent: their material must be compared.
        let x: [u8; 32] = std::array::from_fn(|i| i as u8 + 2);
        let mut y = x;
        y[0] ^= 1;
        let a = Key::from_ed25519(&x).unwrap().with_kid(Some("k")).with_alg(Some(Alg::EdDSA));
        let b = Key::from_ed25519(&y).unwrap().with_kid(Some("k")).with_alg(Some(Alg::EdDSA));
        assert!(same(&a, &a.clone()));
        assert!(!same(&a, &b), "an Ed25519 key replaced under the same kid");
        let other_kid = Key::from_ed25519(&x).unwrap().with_kid(Some("j")).with_alg(Some(Alg::EdDSA));
        assert!(!same(&a, &other_kid));
    }

    #[test]
    fn a_discovery_document_is_strict_json_with_the_issuer_exactly() {
        let ok = br#"{"issuer":"https://i.example","jwks_uri":"https://i.example/keys","x":[1,{"y":null}]}"#;
        assert_eq!(parse_discovery(ok, "https://i.example").unwrap().text, "https://i.example/keys");
        // A loopback issuer (tests, local runs) may name a loopback http jwks_uri.
        let local = br#"{"issuer":"http://127.0.0.1:8080","jwks_uri":"http://127.0.0.1:8080/keys"}"#;
        assert!(parse_discovery(local, "http://127.0.0.1:8080").is_ok());
        assert!(matches!(parse_discovery(ok, "https://i.example/"), Err(RefreshError::IssuerMismatch)));
        assert!(matches!(parse_discovery(ok, "https://I.example"), Err(RefreshError::IssuerMismatch)));
        // Found by the fuzz target: a byte that is not UTF-8 in a member nobody reads.
        let stray = b"{\"issuer\":\"https://i.example\",\"other\":\"\xb4\",\"jwks_uri\":\"https://i.example/keys\"}";
        assert!(parse_discovery(stray, "https://i.example").is_err());
        let twice = br#"{"issuer":"https://i.example","issuer":"https://i.example","jwks_uri":"https://i.example/k"}"#;
        assert!(parse_discovery(twice, "https://i.example").is_err(), "a member given twice");
        let runtime_api =
            br#"{"issuer":"https://i.example","jwks_uri":"http://127.0.0.1:9001/2018-06-01/runtime/invocation/next"}"#;
        for bad in
            [&br#"{"issuer":"https://i.example","jwks_uri":"http://i.example/k"}"#[..], runtime_api, b"[]", b"", b"{}"]
        {
            assert!(parse_discovery(bad, "https://i.example").is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }
}
