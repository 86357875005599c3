//! The decision cache: a repeated valid token answered without redoing the RSA check.
//!
//! - **Keyed on the whole token.** A keyed SipHash (random per process) picks the set; a hit
//!   also needs the stored token bytes to equal the presented ones, so no entry can ever
//!   answer for a different token, whatever the hash does.
//! - **Never past `exp`.** An entry serves `now` in `[stored_at, min(exp, stored_at + max))`,
//!   `exp` taken without the leeway and rounded down: once a token's `exp` is reached the full
//!   check runs again (and refuses it once the leeway is spent). Before `stored_at` (a clock
//!   stepping back) the entry is not used either, so `nbf`/`iat` can never be bypassed.
//!   Everything else a decision depends on — the key set and the policy — is fixed at cold
//!   start, and an entry is only made behind a verified signature and a passed policy.
//! - **Only allows are stored.** Refusals always take the full path, so forged or junk tokens
//!   never touch the cache: evicting entries takes validly signed tokens.
//! - **Bounded, O(1).** A fixed array of two-way sets, allocated once: a miss looks at two
//!   slots, an insert replaces a free or expired slot, else the less recently used of the two.
//!   Tokens longer than [`MAX_CACHED_TOKEN_LEN`] are never stored, so memory stays under
//!   `entries × (MAX_CACHED_TOKEN_LEN + context)` whatever is thrown at it.
//!
//! A cache answers for exactly one [`Authorizer`]: [`CachedAuthorizer`] owns both, so no
//! entry can be consulted under another key set or policy.

use crate::authorizer::{Authorizer, Denial, Handled, Scratch};
use serde_json::{Map, Value};
use std::hash::{BuildHasher, RandomState};

/// Default number of entries (`JWT_DECISION_CACHE`).
pub const DEFAULT_ENTRIES: usize = 256;
/// Largest configurable number of entries.
pub const MAX_ENTRIES: usize = 65_536;
/// Default longest life of an entry in seconds (`JWT_DECISION_CACHE_MAX_SECONDS`); `exp`
/// usually ends it sooner.
pub const DEFAULT_MAX_SECONDS: u64 = 300;
/// Largest configurable entry lifetime, in seconds.
pub const MAX_MAX_SECONDS: u64 = 86_400;
/// Longer tokens are verified every time and never stored.
pub const MAX_CACHED_TOKEN_LEN: usize = 4096;

/// A bounded, `exp`-aware cache of allow decisions, keyed on the full token bytes.
pub struct DecisionCache {
    slots: Box<[Slot]>,
    /// `sets − 1`; sets are a power of two, two slots each.
    mask: usize,
    hasher: RandomState,
    max_seconds: u64,
}

#[derive(Default)]
struct Slot {
    hash: u64,
    token: Vec<u8>,
    stored_at: u64,
    /// First second at which the entry is no longer valid; 0 for an empty slot.
    expires: u64,
    /// Used more recently than the other slot of its set.
    recent: bool,
    answer: Option<Answer>,
}

/// What an allow answers with: the subject and the response context, for one flavour
/// (IAM contexts are flattened, simple ones are not).
#[derive(Clone)]
struct Answer {
    iam: bool,
    sub: String,
    context: Map<String, Value>,
}

impl Slot {
    fn serves(&self, hash: u64, token: &[u8], now: u64) -> bool {
        self.hash == hash && self.stored_at <= now && now < self.expires && self.token == token
    }
}

impl Default for DecisionCache {
    /// The default size and lifetime.
    fn default() -> Self {
        DecisionCache::new(DEFAULT_ENTRIES, DEFAULT_MAX_SECONDS)
    }
}

impl std::fmt::Debug for DecisionCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DecisionCache")
            .field("entries", &self.capacity())
            .field("max_seconds", &self.max_seconds)
            .finish_non_exhaustive()
    }
}

impl DecisionCache {
    /// A cache of about `entries` entries (rounded up to an even power of two, at most
    /// [`MAX_ENTRIES`]) whose entries live at most `max_seconds`. `entries == 0` or
    /// `max_seconds == 0` disables it.
    pub fn new(entries: usize, max_seconds: u64) -> DecisionCache {
        let sets =
            if entries == 0 || max_seconds == 0 { 0 } else { entries.min(MAX_ENTRIES).div_ceil(2).next_power_of_two() };
        DecisionCache {
            slots: (0..sets * 2).map(|_| Slot::default()).collect(),
            mask: sets.saturating_sub(1),
            hasher: RandomState::new(),
            max_seconds,
        }
    }

    /// A cache that stores nothing.
    pub fn disabled() -> DecisionCache {
        DecisionCache::new(0, 0)
    }

    /// Number of entries it can hold (0 when disabled).
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// Longest life of an entry, in seconds.
    pub fn max_seconds(&self) -> u64 {
        self.max_seconds
    }

    /// Entries currently valid at `now`.
    pub fn len_at(&self, now: u64) -> usize {
        self.slots.iter().filter(|s| s.stored_at <= now && now < s.expires).count()
    }

    /// Bytes of token storage currently held (bounded by `capacity × MAX_CACHED_TOKEN_LEN`).
    pub fn token_bytes(&self) -> usize {
        self.slots.iter().map(|s| s.token.capacity()).sum()
    }

    /// Drops every entry.
    pub fn clear(&mut self) {
        for s in self.slots.iter_mut() {
            s.expires = 0;
            s.answer = None;
        }
    }

    fn enabled(&self, token: &[u8]) -> bool {
        !self.slots.is_empty() && token.len() <= MAX_CACHED_TOKEN_LEN
    }

    /// The index of the slot holding `token` valid at `now`, marking it recently used.
    fn find(&mut self, token: &[u8], now: u64) -> Option<(usize, u64)> {
        if !self.enabled(token) {
            return None;
        }
        let hash = self.hasher.hash_one(token);
        let set = (hash as usize & self.mask) * 2;
        let hit = (set..set + 2).find(|&i| self.slots[i].serves(hash, token, now))?;
        self.slots[hit].recent = true;
        self.slots[hit ^ 1].recent = false;
        Some((hit, hash))
    }

    /// Whether `token` is known to authorize at `now`.
    pub(crate) fn allows(&mut self, token: &[u8], now: u64) -> bool {
        self.find(token, now).is_some()
    }

    /// The stored answer (subject, context) for `token` at `now` in the given flavour.
    pub(crate) fn answer(&mut self, token: &[u8], now: u64, iam: bool) -> Option<(String, Map<String, Value>)> {
        let (i, _) = self.find(token, now)?;
        let a = self.slots[i].answer.as_ref().filter(|a| a.iam == iam)?;
        Some((a.sub.clone(), a.context.clone()))
    }

    /// Records that `token`, carrying `exp`, was allowed at `now`; returns the slot used,
    /// or `None` when nothing was stored (disabled, token too long, or no lifetime left).
    fn insert(&mut self, token: &[u8], now: u64, exp: f64) -> Option<usize> {
        if !self.enabled(token) {
            return None;
        }
        // `as` saturates: +inf → u64::MAX, negative or NaN → 0 (nothing stored).
        let expires = (exp.floor() as u64).min(now.saturating_add(self.max_seconds));
        if expires <= now {
            return None;
        }
        let hash = self.hasher.hash_one(token);
        let set = (hash as usize & self.mask) * 2;
        let (a, b) = (&self.slots[set], &self.slots[set + 1]);
        let same = |s: &Slot| s.hash == hash && s.token == token;
        let free = |s: &Slot| !(s.stored_at <= now && now < s.expires);
        let i = if same(a) {
            set
        } else if same(b) {
            set + 1
        } else if free(a) {
            set
        } else if free(b) || a.recent {
            set + 1
        } else {
            set
        };
        let slot = &mut self.slots[i];
        if !same(slot) {
            slot.answer = None;
            slot.token.clear();
            slot.token.reserve_exact(token.len()); // capacity ≤ the longest token stored here
            slot.token.extend_from_slice(token);
            slot.hash = hash;
        }
        slot.stored_at = now;
        slot.expires = expires;
        slot.recent = true;
        self.slots[i ^ 1].recent = false;
        Some(i)
    }

    /// Records an allow without a response (the `decide` path).
    pub(crate) fn store_allow(&mut self, token: &[u8], now: u64, exp: f64) {
        self.insert(token, now, exp);
    }

    /// Records an allow with its response answer.
    pub(crate) fn store_answer(
        &mut self,
        token: &[u8],
        now: u64,
        exp: f64,
        iam: bool,
        sub: &str,
        context: &Map<String, Value>,
    ) {
        if let Some(i) = self.insert(token, now, exp) {
            self.slots[i].answer = Some(Answer { iam, sub: sub.to_owned(), context: context.clone() });
        }
    }
}

/// An [`Authorizer`] with its own [`DecisionCache`]: the same answers as the authorizer
/// alone, minus the RSA check for a token it allowed before and whose `exp` is still ahead.
pub struct CachedAuthorizer {
    authorizer: Authorizer,
    cache: DecisionCache,
}

impl CachedAuthorizer {
    pub fn new(authorizer: Authorizer, cache: DecisionCache) -> CachedAuthorizer {
        CachedAuthorizer { authorizer, cache }
    }

    pub fn authorizer(&self) -> &Authorizer {
        &self.authorizer
    }

    pub fn cache(&self) -> &DecisionCache {
        &self.cache
    }

    /// [`Authorizer::decide`], answered from the cache when it can be (no allocation then).
    pub fn decide(&mut self, token: &[u8], now: u64, scratch: &mut Scratch) -> Result<(), Denial> {
        self.authorizer.decide_cached(token, now, scratch, &mut self.cache)
    }

    /// [`Authorizer::handle`], with the token's answer from the cache when it can be.
    pub fn handle(&mut self, event: &[u8], now: u64, scratch: &mut Scratch) -> Handled {
        self.authorizer.handle_cached(event, now, scratch, &mut self.cache)
    }
}

impl std::fmt::Debug for CachedAuthorizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedAuthorizer").field("cache", &self.cache).finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_700_000_000;

    #[test]
    fn lifetime_is_the_earlier_of_exp_and_the_maximum() {
        let mut c = DecisionCache::new(8, 300);
        c.store_allow(b"a.b.c", NOW, (NOW + 60) as f64);
        assert!(c.allows(b"a.b.c", NOW));
        assert!(c.allows(b"a.b.c", NOW + 59));
        assert!(!c.allows(b"a.b.c", NOW + 60), "at exp: full check again");
        c.store_allow(b"x.y.z", NOW, (NOW + 10_000) as f64);
        assert!(c.allows(b"x.y.z", NOW + 299));
        assert!(!c.allows(b"x.y.z", NOW + 300), "configured maximum");
        assert!(!c.allows(b"x.y.z", NOW - 1), "clock stepped back: not served");
    }

    #[test]
    fn fractional_past_and_odd_exp_values() {
        let mut c = DecisionCache::new(8, 300);
        c.store_allow(b"frac", NOW, NOW as f64 + 0.9);
        assert!(!c.allows(b"frac", NOW), "rounded down: no lifetime left");
        c.store_allow(b"past", NOW, (NOW - 3) as f64); // allowed within leeway, never cached
        assert!(!c.allows(b"past", NOW));
        c.store_allow(b"nan", NOW, f64::NAN);
        assert!(!c.allows(b"nan", NOW));
        c.store_allow(b"inf", NOW, f64::INFINITY);
        assert!(c.allows(b"inf", NOW + 299) && !c.allows(b"inf", NOW + 300));
    }

    #[test]
    fn only_the_same_bytes_hit() {
        let mut c = DecisionCache::new(8, 300);
        c.store_allow(b"a.b.c", NOW, (NOW + 60) as f64);
        for other in [&b"a.b.C"[..], b"a.b.c ", b"a.b.", b"", b"a.b.cc"] {
            assert!(!c.allows(other, NOW));
        }
    }

    #[test]
    fn disabled_and_long_tokens_store_nothing() {
        for mut c in [DecisionCache::new(0, 300), DecisionCache::new(8, 0), DecisionCache::disabled()] {
            c.store_allow(b"a.b.c", NOW, (NOW + 60) as f64);
            assert!(!c.allows(b"a.b.c", NOW));
            assert_eq!(c.capacity(), 0);
        }
        let mut c = DecisionCache::new(8, 300);
        let long = vec![b'a'; MAX_CACHED_TOKEN_LEN + 1];
        c.store_allow(&long, NOW, (NOW + 60) as f64);
        assert!(!c.allows(&long, NOW));
        assert_eq!(c.token_bytes(), 0);
    }

    #[test]
    fn a_flood_stays_bounded_and_recent_entries_survive_in_their_set() {
        let mut c = DecisionCache::new(64, 300);
        assert_eq!(c.capacity(), 64);
        for i in 0..100_000u32 {
            c.store_allow(format!("token-{i}").as_bytes(), NOW, (NOW + 60) as f64);
        }
        assert_eq!(c.capacity(), 64);
        assert!(c.len_at(NOW) <= 64);
        assert!(c.token_bytes() <= 64 * "token-99999".len(), "slots reuse their buffers: {}", c.token_bytes());
        // the last insert is always present
        assert!(c.allows(b"token-99999", NOW));
    }

    #[test]
    fn answers_are_per_flavour() {
        let mut c = DecisionCache::new(8, 300);
        let ctx = Map::from_iter([("sub".to_owned(), Value::from("u"))]);
        c.store_answer(b"t", NOW, (NOW + 60) as f64, false, "u", &ctx);
        assert_eq!(c.answer(b"t", NOW, false), Some(("u".to_owned(), ctx.clone())));
        assert_eq!(c.answer(b"t", NOW, true), None);
        c.store_allow(b"t", NOW + 1, (NOW + 60) as f64); // same token: the answer is kept
        assert!(c.answer(b"t", NOW + 1, false).is_some());
    }

    #[test]
    fn configuration_knobs() {
        let with = |pairs: &[(&str, &str)]| {
            let pairs: Vec<(String, String)> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            crate::config::decision_cache(move |k| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()))
        };
        assert_eq!(with(&[]).unwrap().capacity(), DEFAULT_ENTRIES, "on by default");
        assert_eq!(with(&[("JWT_DECISION_CACHE", " ")]).unwrap().capacity(), DEFAULT_ENTRIES);
        assert_eq!(with(&[("JWT_DECISION_CACHE", "0")]).unwrap().capacity(), 0, "0 disables");
        assert_eq!(with(&[("JWT_DECISION_CACHE", "1000")]).unwrap().capacity(), 1024);
        assert_eq!(with(&[("JWT_DECISION_CACHE_MAX_SECONDS", "0")]).unwrap().capacity(), 0);
        for (var, bad) in [
            ("JWT_DECISION_CACHE", "-1"),
            ("JWT_DECISION_CACHE", "lots"),
            ("JWT_DECISION_CACHE", "65537"),
            ("JWT_DECISION_CACHE_MAX_SECONDS", "86401"),
            ("JWT_DECISION_CACHE_MAX_SECONDS", "1.5"),
        ] {
            assert_eq!(with(&[(var, bad)]).unwrap_err().var, var, "{var}={bad}");
        }
    }

    // With real signed tokens, through `CachedAuthorizer`, against the authorizer alone.
    mod differential {
        use super::super::*;
        use crate::config;
        use crate::mint::Signer;
        use crate::verify::Alg;

        const NOW: u64 = 1_800_000_000;

        fn fixture(name: &str) -> String {
            format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
        }

        fn authorizer(leeway: &str, format: &str) -> Authorizer {
            let pem = std::fs::read_to_string(fixture("rsa2048-a.pub.pem")).unwrap();
            let env = |k: &str| match k {
                "JWT_PUBLIC_KEY" => Some(pem.clone()),
                "JWT_LEEWAY_SECONDS" => Some(leeway.to_owned()),
                "JWT_RESPONSE_FORMAT" => Some(format.to_owned()),
                "JWT_CONTEXT_CLAIMS" => Some("org.role,tags".to_owned()),
                _ => None,
            };
            config::load(env).unwrap().authorizer
        }

        fn signer() -> Signer {
            Signer::from_pkcs8(&std::fs::read(fixture("rsa2048-a.key.pem")).unwrap()).unwrap()
        }

        fn v2(token: &str) -> Vec<u8> {
            format!(
                r#"{{"version":"2.0","type":"REQUEST","routeArn":"arn:aws:execute-api:us-east-1:1:api/prod/GET/a","identitySource":["Bearer {token}"]}}"#
            )
            .into_bytes()
        }

        fn rest(token: &str, stage: &str) -> Vec<u8> {
            format!(
                r#"{{"type":"TOKEN","authorizationToken":"Bearer {token}","methodArn":"arn:aws:execute-api:us-east-1:1:api/{stage}/GET/a"}}"#
            )
            .into_bytes()
        }

        /// Every answer equals the uncached one, at every instant of a clock that also steps
        /// back; and the cache never answers at or after `exp` (leeway 0 makes that visible).
        #[test]
        fn same_answers_as_uncached_across_the_lifetime() {
            let s = signer();
            let claims = serde_json::json!({"sub": "u1", "exp": NOW + 60, "nbf": NOW + 10, "iat": NOW,
                "org": {"role": "admin"}, "tags": ["a", 1]});
            let token = s.sign(&claims, Alg::RS256, None);
            let times = [0, 9, 10, 5, 30, 59, 60, 61, 64, 65, 66, 12, 1000, 20, 59, 60];
            for (leeway, format) in [("0", "simple"), ("5", "simple"), ("0", "iam"), ("5", "iam")] {
                let plain = authorizer(leeway, format);
                let mut cached = CachedAuthorizer::new(plain.clone(), DecisionCache::new(16, 300));
                let (mut s1, mut s2) = (Scratch::default(), Scratch::default());
                for t in times {
                    let now = NOW + t;
                    let want = plain.decide(token.as_bytes(), now, &mut s1);
                    assert_eq!(
                        cached.decide(token.as_bytes(), now, &mut s2),
                        want,
                        "decide at +{t}, {leeway}, {format}"
                    );
                    for ev in [v2(&token), rest(&token, "prod"), rest(&token, "beta")] {
                        let want = plain.handle(&ev, now, &mut s1);
                        assert_eq!(cached.handle(&ev, now, &mut s2), want, "handle at +{t}, {leeway}, {format}");
                    }
                    if t >= 60 {
                        assert_eq!(cached.cache().len_at(now), 0, "an entry outlived exp at +{t}");
                    }
                }
                // leeway 0: refused from exp on, cache or not
                if leeway == "0" {
                    assert!(cached.decide(token.as_bytes(), NOW + 60, &mut s2).is_err());
                }
            }
        }

        #[test]
        fn the_configured_maximum_caps_the_lifetime() {
            let token = signer().sign(&serde_json::json!({"sub": "u", "exp": NOW + 3600}), Alg::RS256, None);
            let mut cached = CachedAuthorizer::new(authorizer("5", "simple"), DecisionCache::new(16, 30));
            let mut s = Scratch::default();
            assert_eq!(cached.decide(token.as_bytes(), NOW, &mut s), Ok(()));
            assert_eq!(cached.cache().len_at(NOW + 29), 1);
            assert_eq!(cached.cache().len_at(NOW + 30), 0);
        }

        /// A cached token never answers for another: a forged sibling (same header and claims,
        /// other signature) and a token differing in one claim byte are fully checked.
        #[test]
        fn an_entry_never_answers_another_token() {
            let s = signer();
            let token = s.sign(&serde_json::json!({"sub": "u", "exp": NOW + 600}), Alg::RS256, None);
            let mut cached = CachedAuthorizer::new(authorizer("5", "simple"), DecisionCache::new(2, 300));
            let mut sc = Scratch::default();
            assert_eq!(cached.decide(token.as_bytes(), NOW, &mut sc), Ok(()));
            let (input, _) = token.rsplit_once('.').unwrap();
            let other = s.sign(&serde_json::json!({"sub": "v", "exp": NOW + 600}), Alg::RS256, None);
            let forged = format!("{input}.{}", other.rsplit_once('.').unwrap().1);
            assert_eq!(cached.decide(forged.as_bytes(), NOW, &mut sc).unwrap_err().reason, crate::Reason::BadSignature);
            let mut flipped = token.clone().into_bytes();
            let last = flipped.len() - 1;
            flipped[last] = if flipped[last] == b'A' { b'B' } else { b'A' };
            assert!(cached.decide(&flipped, NOW, &mut sc).is_err());
            assert_eq!(cached.decide(token.as_bytes(), NOW, &mut sc), Ok(()));
        }

        /// Many distinct valid tokens: the cache stays at its size and keeps answering right.
        #[test]
        fn a_flood_of_valid_tokens_stays_bounded() {
            let s = signer();
            let plain = authorizer("5", "simple");
            let mut cached = CachedAuthorizer::new(plain.clone(), DecisionCache::new(8, 300));
            let mut sc = Scratch::default();
            let tokens: Vec<String> = (0..64)
                .map(|i| s.sign(&serde_json::json!({"sub": format!("user{i}"), "exp": NOW + 600}), Alg::RS256, None))
                .collect();
            for round in 0..2 {
                for t in &tokens {
                    assert_eq!(cached.decide(t.as_bytes(), NOW + round, &mut sc), Ok(()));
                    assert_eq!(cached.handle(&v2(t), NOW + round, &mut sc), plain.handle(&v2(t), NOW + round, &mut sc));
                }
            }
            assert_eq!(cached.cache().capacity(), 8);
            assert!(cached.cache().len_at(NOW + 1) <= 8);
            assert!(cached.cache().token_bytes() <= 8 * MAX_CACHED_TOKEN_LEN);
        }
    }
}
