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
//! - **Bounded in entries and in bytes, O(1).** A fixed array of [`WAYS`]-way sets, allocated
//!   once: a miss looks at the slots of one set, an insert replaces a free or expired slot,
//!   else the least recently used of those that have not answered since they were stored
//!   (tokens seen once), else the least recently used: a stream of tokens seen once — new
//!   sessions, most of them — cannot push out the tokens that keep coming back, and an entry
//!   that stops coming back still leaves at its `exp` or after `max_seconds`. The
//!   bytes held — the slot array, every stored token and every
//!   stored answer, counted by their heap capacity — never exceed the byte budget (by default
//!   [`BUDGET_PERCENT`] % of the function's memory): an insert that would break it first
//!   releases the expired entries' buffers (at most once per second), and if it still does not
//!   fit, nothing is stored. Tokens longer than [`MAX_CACHED_TOKEN_LEN`] are never stored.
//!   Answers are kept as their JSON text, so their size is exact.
//!
//! A cache answers for exactly one [`Authorizer`]: [`CachedAuthorizer`] owns both, so no
//! entry can be consulted under another key set or policy.

use crate::authorizer::{Authorizer, Denial, Handled, Scratch, Store};
use serde_json::{Map, Value};
use std::hash::BuildHasher;

/// What picks a token's set: a keyed SipHash, random per process. The unit tests swap in one
/// that can give every token the same hash (`tests::TestHasher`), so that only the stored
/// bytes can tell two tokens apart; every other build uses `RandomState` itself.
#[cfg(not(test))]
type SetHasher = std::hash::RandomState;
#[cfg(test)]
type SetHasher = tests::TestHasher;

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
/// The share of the function's memory (`AWS_LAMBDA_FUNCTION_MEMORY_SIZE`) the cache may hold.
pub const BUDGET_PERCENT: usize = 5;
/// The function memory assumed when `AWS_LAMBDA_FUNCTION_MEMORY_SIZE` is unset (outside
/// Lambda): Lambda's smallest and default setting, 128 MB.
pub const DEFAULT_MEMORY_MB: usize = 128;

/// The byte budget for a function with `memory_mb` MB of memory: [`BUDGET_PERCENT`] % of it
/// (Lambda's MB are MiB: `AWS_LAMBDA_FUNCTION_MEMORY_SIZE` × 1,048,576 bytes).
pub const fn budget_for(memory_mb: usize) -> usize {
    memory_mb.saturating_mul(1024 * 1024) / 100 * BUDGET_PERCENT
}

/// Slots per set. Four, not two: with 100 tokens coming back in 256 entries, two-way sets
/// left several sets with three or more of them taking turns to evict each other (a fifth of
/// the lookups missed in the load generator's mix; docs/performance.md §6).
pub const WAYS: usize = 4;

/// A bounded, `exp`-aware cache of allow decisions, keyed on the full token bytes.
pub struct DecisionCache {
    slots: Box<[Slot]>,
    /// `sets − 1`; sets are a power of two, [`WAYS`] slots each.
    mask: usize,
    /// Counts lookups and inserts: the clock of `Slot::used`.
    tick: u64,
    hasher: SetHasher,
    max_seconds: u64,
    /// Most bytes held at once: the slot array plus every token and answer buffer.
    budget: usize,
    /// Bytes held now (kept in step with the slots' buffers).
    held: usize,
    /// When expired entries were last released to make room.
    swept_at: Option<u64>,
}

#[derive(Default)]
struct Slot {
    hash: u64,
    token: Vec<u8>,
    stored_at: u64,
    /// First second at which the entry is no longer valid; 0 for an empty slot.
    expires: u64,
    /// `tick` when last stored or used.
    used: u64,
    /// Has answered since it was stored.
    reused: bool,
    answer: Option<Answer>,
}

/// What an allow answers with, for one flavour (IAM contexts are flattened, simple ones are
/// not): the response context (`sub` included) as JSON text.
struct Answer {
    iam: bool,
    context: String,
}

impl Slot {
    fn serves(&self, hash: u64, token: &[u8], now: u64) -> bool {
        self.hash == hash && self.stored_at <= now && now < self.expires && self.token == token
    }

    fn holds(&self, hash: u64, token: &[u8]) -> bool {
        self.hash == hash && self.token == token
    }

    fn free_at(&self, now: u64) -> bool {
        !(self.stored_at <= now && now < self.expires)
    }

    fn answer_bytes(&self) -> usize {
        self.answer.as_ref().map_or(0, |a| a.context.capacity())
    }

    /// Heap bytes this slot's buffers hold.
    fn heap_bytes(&self) -> usize {
        self.token.capacity() + self.answer_bytes()
    }
}

const SLOT_BYTES: usize = std::mem::size_of::<Slot>();

impl Default for DecisionCache {
    /// The default size, lifetime and budget.
    fn default() -> Self {
        DecisionCache::new(DEFAULT_ENTRIES, DEFAULT_MAX_SECONDS)
    }
}

impl std::fmt::Debug for DecisionCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DecisionCache")
            .field("entries", &self.capacity())
            .field("max_seconds", &self.max_seconds)
            .field("budget", &self.budget)
            .finish_non_exhaustive()
    }
}

/// One worker's cache, borrowed `&mut` (no lock), as the authorizer's decision store.
impl Store for DecisionCache {
    #[inline]
    fn allows(&mut self, token: &[u8], now: u64) -> bool {
        DecisionCache::allows(self, token, now)
    }

    #[inline]
    fn find_answer(&mut self, token: &[u8], now: u64, iam: bool) -> Option<(String, Map<String, Value>)> {
        DecisionCache::find_answer(self, token, now, iam)
    }

    #[inline]
    fn store_allow(&mut self, token: &[u8], now: u64, exp: f64) {
        DecisionCache::store_allow(self, token, now, exp)
    }

    #[inline]
    fn store_answer(&mut self, token: &[u8], now: u64, exp: f64, iam: bool, ctx: &Map<String, Value>) {
        DecisionCache::store_answer(self, token, now, exp, iam, ctx)
    }
}

impl DecisionCache {
    /// [`with_budget`](Self::with_budget) with the default budget (5 % of 128 MB).
    pub fn new(entries: usize, max_seconds: u64) -> DecisionCache {
        DecisionCache::with_budget(entries, max_seconds, budget_for(DEFAULT_MEMORY_MB))
    }

    /// A cache of about `entries` entries (rounded up to a power of two sets of [`WAYS`] slots,
    /// at most [`MAX_ENTRIES`], and fewer when the slot array would take more than half of
    /// `budget`) whose entries live at most `max_seconds`, holding at most `budget` bytes.
    /// `entries == 0`, `max_seconds == 0` or a budget too small for one set disables it.
    pub fn with_budget(entries: usize, max_seconds: u64, budget: usize) -> DecisionCache {
        let mut sets = if entries == 0 || max_seconds == 0 {
            0
        } else {
            entries.min(MAX_ENTRIES).div_ceil(WAYS).next_power_of_two()
        };
        while sets > 0 && sets * WAYS * SLOT_BYTES > budget / 2 {
            sets /= 2;
        }
        DecisionCache {
            slots: (0..sets * WAYS).map(|_| Slot::default()).collect(),
            mask: sets.saturating_sub(1),
            tick: 0,
            hasher: SetHasher::default(),
            max_seconds,
            budget,
            held: sets * WAYS * SLOT_BYTES,
            swept_at: None,
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

    /// The most bytes it may hold.
    pub fn budget(&self) -> usize {
        self.budget
    }

    /// Longest life of an entry, in seconds.
    pub fn max_seconds(&self) -> u64 {
        self.max_seconds
    }

    /// Entries currently valid at `now`.
    pub fn len_at(&self, now: u64) -> usize {
        self.slots.iter().filter(|s| !s.free_at(now)).count()
    }

    /// Bytes of token storage currently held.
    pub fn token_bytes(&self) -> usize {
        self.slots.iter().map(|s| s.token.capacity()).sum()
    }

    /// Bytes held now, counted from the buffers themselves: the slot array, and every token
    /// and answer buffer's capacity. Never more than [`budget`](Self::budget).
    pub fn held_bytes(&self) -> usize {
        self.slots.len() * SLOT_BYTES + self.slots.iter().map(Slot::heap_bytes).sum::<usize>()
    }

    /// Drops every entry and releases its buffers.
    pub fn clear(&mut self) {
        for s in self.slots.iter_mut() {
            *s = Slot::default();
        }
        self.held = self.slots.len() * SLOT_BYTES;
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
        let set = (hash as usize & self.mask) * WAYS;
        let hit = (set..set + WAYS).find(|&i| self.slots[i].serves(hash, token, now))?;
        self.tick += 1;
        self.slots[hit].used = self.tick;
        self.slots[hit].reused = true;
        Some((hit, hash))
    }

    /// Whether `token` is known to authorize at `now`.
    pub(crate) fn allows(&mut self, token: &[u8], now: u64) -> bool {
        self.find(token, now).is_some()
    }

    /// The stored answer (subject, context) for `token` at `now` in the given flavour.
    pub(crate) fn find_answer(&mut self, token: &[u8], now: u64, iam: bool) -> Option<(String, Map<String, Value>)> {
        let (i, _) = self.find(token, now)?;
        let a = self.slots[i].answer.as_ref().filter(|a| a.iam == iam)?;
        // Our own serialization; if it ever did not read back, the full check runs instead.
        let context: Map<String, Value> = serde_json::from_str(&a.context).ok()?;
        let sub = context.get("sub")?.as_str()?.to_owned();
        Some((sub, context))
    }

    /// Releases the buffers of every entry not valid at `now`; returns the bytes freed.
    fn release_expired(&mut self, now: u64) -> usize {
        let mut freed = 0;
        for s in self.slots.iter_mut().filter(|s| s.free_at(now) && s.heap_bytes() > 0) {
            freed += s.heap_bytes();
            *s = Slot::default();
        }
        // The tally counts exactly what the slots hold; were it ever wrong, start afresh
        // rather than wrap (which would lift the budget).
        match self.held.checked_sub(freed) {
            Some(held) => self.held = held,
            None => self.clear(),
        }
        freed
    }

    /// Records that `token`, carrying `exp`, was allowed at `now`, with `answer` if given (an
    /// entry for the same token keeps its answer otherwise). Returns whether it was stored:
    /// not when disabled, the token is too long, no lifetime is left, or it does not fit in
    /// the byte budget.
    fn insert(&mut self, token: &[u8], now: u64, exp: f64, answer: Option<Answer>) -> bool {
        if !self.enabled(token) {
            return false;
        }
        // `as` saturates: +inf → u64::MAX, negative or NaN → 0 (nothing stored).
        let expires = (exp.floor() as u64).min(now.saturating_add(self.max_seconds));
        if expires <= now {
            return false;
        }
        let hash = self.hasher.hash_one(token);
        let set = (hash as usize & self.mask) * WAYS;
        let ways = set..set + WAYS;
        let i = ways
            .clone()
            .find(|&i| self.slots[i].holds(hash, token))
            .or_else(|| ways.clone().find(|&i| self.slots[i].free_at(now)))
            .or_else(|| ways.min_by_key(|&i| (self.slots[i].reused, self.slots[i].used)))
            .unwrap_or(set);
        let slot = &self.slots[i];
        let same = slot.holds(hash, token);
        let token_bytes = if same { slot.token.capacity() } else { token.len() };
        let answer_bytes = match &answer {
            Some(a) => a.context.capacity(),
            None if same => slot.answer_bytes(),
            None => 0,
        };
        let Some(others) = self.held.checked_sub(slot.heap_bytes()) else {
            self.clear(); // a tally that disagrees with the slots: start afresh, store nothing
            return false;
        };
        let held = others.saturating_add(token_bytes).saturating_add(answer_bytes);
        if held > self.budget {
            // Make room from expired entries, at most once per second (a sweep is O(entries)).
            if self.swept_at != Some(now) {
                self.swept_at = Some(now);
                if self.release_expired(now) > 0 {
                    return self.insert(token, now, exp, answer);
                }
            }
            return false;
        }
        let slot = &mut self.slots[i];
        if !same {
            slot.token = token.to_vec(); // exactly its length: the capacity is what is counted
            slot.hash = hash;
            slot.answer = None;
            slot.reused = false;
        }
        if answer.is_some() {
            slot.answer = answer;
        }
        slot.stored_at = now;
        slot.expires = expires;
        self.tick += 1;
        slot.used = self.tick;
        self.held = held;
        true
    }

    /// Records an allow without a response (the `decide` path).
    pub(crate) fn store_allow(&mut self, token: &[u8], now: u64, exp: f64) {
        self.insert(token, now, exp, None);
    }

    /// Records an allow with its response context (`sub` included).
    pub(crate) fn store_answer(&mut self, token: &[u8], now: u64, exp: f64, iam: bool, context: &Map<String, Value>) {
        if !self.enabled(token) {
            return;
        }
        if let Ok(mut text) = serde_json::to_string(context) {
            text.shrink_to_fit(); // the capacity is what is counted
            self.insert(token, now, exp, Some(Answer { iam, context: text }));
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

    /// Forgets every decision (a refresh of the fetched keys removed a key).
    pub fn clear_cache(&mut self) {
        self.cache.clear();
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
    use std::hash::{DefaultHasher, Hasher, RandomState};

    const NOW: u64 = 1_700_000_000;

    /// The unit tests' set hasher: `RandomState`'s SipHash, or a constant hash for every token.
    #[derive(Default)]
    pub(super) struct TestHasher {
        random: RandomState,
        constant: bool,
    }

    pub(super) struct TestHash {
        sip: DefaultHasher,
        constant: bool,
    }

    impl BuildHasher for TestHasher {
        type Hasher = TestHash;
        fn build_hasher(&self) -> TestHash {
            TestHash { sip: self.random.build_hasher(), constant: self.constant }
        }
    }

    impl Hasher for TestHash {
        fn write(&mut self, bytes: &[u8]) {
            self.sip.write(bytes);
        }
        fn finish(&self) -> u64 {
            if self.constant { 0x5eed } else { self.sip.finish() }
        }
    }

    impl DecisionCache {
        /// Every token hashes alike: one set, one hash, told apart by its bytes alone.
        fn with_constant_hash(mut self) -> DecisionCache {
            self.hasher.constant = true;
            self
        }
    }

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
    fn tokens_that_come_back_outlive_a_stream_of_tokens_seen_once() {
        // One set: every token meets the ones that come back.
        let mut c = DecisionCache::new(WAYS, 300);
        assert_eq!(c.capacity(), WAYS);
        let hot: Vec<String> = (0..WAYS - 1).map(|i| format!("hot-{i}")).collect();
        for h in &hot {
            c.store_allow(h.as_bytes(), NOW, (NOW + 60) as f64);
        }
        for i in 0..1000u32 {
            if i % 10 == 0 {
                for h in &hot {
                    assert!(c.allows(h.as_bytes(), NOW), "{h} was evicted after {i} tokens seen once");
                }
            }
            c.store_allow(format!("once-{i}").as_bytes(), NOW, (NOW + 60) as f64);
        }
        assert!(c.allows(b"once-999", NOW), "the last insert is present");
        // When every slot has come back, the least recently used leaves.
        c.store_allow(b"new", NOW, (NOW + 60) as f64);
        assert!(c.allows(b"new", NOW));
        assert!(!c.allows(b"hot-0", NOW) && c.allows(b"hot-1", NOW), "least recently used out");
        // And every entry leaves at `max_seconds`, come back or not.
        assert!(!c.allows(b"hot-1", NOW + 300));
    }

    #[test]
    fn a_token_taking_a_freed_slot_has_not_come_back() {
        let mut c = DecisionCache::new(WAYS, 300);
        for i in 0..WAYS {
            // hot-3 expires first
            let exp = if i == WAYS - 1 { NOW + 10 } else { NOW + 60 };
            c.store_allow(format!("hot-{i}").as_bytes(), NOW, exp as f64);
            assert!(c.allows(format!("hot-{i}").as_bytes(), NOW));
        }
        let later = NOW + 20; // hot-3 expired: its slot is free, and still marked as come back
        c.store_allow(b"once-a", later, (later + 60) as f64);
        c.store_allow(b"once-b", later, (later + 60) as f64);
        for i in 0..WAYS - 1 {
            assert!(c.allows(format!("hot-{i}").as_bytes(), later), "hot-{i} pushed out by a token seen once");
        }
    }

    #[test]
    fn answers_are_per_flavour() {
        let mut c = DecisionCache::new(8, 300);
        let ctx = Map::from_iter([("sub".to_owned(), Value::from("u"))]);
        c.store_answer(b"t", NOW, (NOW + 60) as f64, false, &ctx);
        assert_eq!(c.find_answer(b"t", NOW, false), Some(("u".to_owned(), ctx.clone())));
        assert_eq!(c.find_answer(b"t", NOW, true), None);
        c.store_allow(b"t", NOW + 1, (NOW + 60) as f64); // same token: the answer is kept
        assert!(c.find_answer(b"t", NOW + 1, false).is_some());
    }

    /// A context of about `n` bytes of JSON text.
    fn big_context(n: usize) -> Map<String, Value> {
        Map::from_iter([("sub".to_owned(), Value::from("u")), ("blob".to_owned(), Value::from("x".repeat(n)))])
    }

    /// Many distinct large tokens and contexts through a small budget: the bytes held —
    /// counted from the buffers, not from the cache's own tally — never exceed it, the cache
    /// does fill up to near it, and its tally agrees with the buffers.
    #[test]
    fn held_bytes_never_exceed_the_budget() {
        let budget = 256 * 1024;
        let mut c = DecisionCache::with_budget(4096, 300, budget);
        assert!(c.capacity() > 0 && c.held_bytes() <= budget / 2, "the slot array takes at most half");
        let mut token = vec![b'a'; MAX_CACHED_TOKEN_LEN];
        let mut peak = 0;
        for i in 0..5_000u32 {
            token[..4].copy_from_slice(&i.to_le_bytes());
            let t = NOW + u64::from(i / 1000); // entries outlive the run: no expiry frees room
            if i % 2 == 0 {
                c.store_allow(&token, t, (NOW + 3600) as f64);
            } else {
                c.store_answer(&token, t, (NOW + 3600) as f64, i % 4 == 1, &big_context(2048));
            }
            let held = c.held_bytes();
            assert!(held <= budget, "insert {i}: {held} bytes held, budget {budget}");
            assert_eq!(held, c.held, "insert {i}: the tally drifted from the buffers");
            peak = peak.max(held);
        }
        assert!(peak > budget * 3 / 4, "the budget is what binds here: peak {peak} of {budget}");
        assert!(c.len_at(NOW + 4) > 10, "it still caches");
    }

    /// Expired entries give their bytes back when room is needed, so a full cache keeps
    /// caching new tokens after the old ones expire.
    #[test]
    fn expired_entries_make_room() {
        let budget = 64 * 1024;
        let mut c = DecisionCache::with_budget(4096, 300, budget);
        let mut token = vec![b'b'; MAX_CACHED_TOKEN_LEN];
        for i in 0..200u32 {
            token[..4].copy_from_slice(&i.to_le_bytes());
            c.store_allow(&token, NOW, (NOW + 10) as f64);
        }
        assert!(c.held_bytes() + MAX_CACHED_TOKEN_LEN > budget, "full: {}", c.held_bytes());
        token[..4].copy_from_slice(&9_999u32.to_le_bytes());
        c.store_allow(&token, NOW + 10, (NOW + 100) as f64);
        assert!(c.allows(&token, NOW + 10), "a new token is cached once the old ones expired");
        assert!(c.held_bytes() <= budget);
    }

    #[test]
    fn the_budget_is_a_share_of_the_function_memory() {
        assert_eq!(budget_for(128), 6_710_885); // 5 % of 128 MiB (134,217,728 bytes)
        assert_eq!(budget_for(1024), 53_687_090);
        let with = |pairs: &[(&str, &str)]| {
            let pairs: Vec<(String, String)> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            crate::config::decision_cache(&move |k| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()))
        };
        assert_eq!(with(&[]).unwrap().budget(), budget_for(DEFAULT_MEMORY_MB), "outside Lambda: 128 MB");
        assert_eq!(with(&[("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "2048")]).unwrap().budget(), budget_for(2048));
        for bad in ["0", "-128", "128MB", "1.5"] {
            let e = with(&[("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", bad)]).unwrap_err();
            assert_eq!(e.var, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "{bad}");
        }
        // The most entries in the smallest function: the slot array is cut to half the budget,
        // and 20,000 tokens of 4 KB (80 MB) leave at most the budget held.
        let mut c = with(&[("JWT_DECISION_CACHE", "65536"), ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")]).unwrap();
        assert!(c.capacity() < 65_536 && c.held_bytes() <= c.budget() / 2, "{c:?}");
        let mut token = vec![b'c'; MAX_CACHED_TOKEN_LEN];
        for i in 0..20_000u32 {
            token[..4].copy_from_slice(&i.to_le_bytes());
            c.store_allow(&token, NOW, (NOW + 60) as f64);
        }
        assert!(c.held_bytes() <= c.budget(), "{} > {}", c.held_bytes(), c.budget());
    }

    #[test]
    fn configuration_knobs() {
        let with = |pairs: &[(&str, &str)]| {
            let pairs: Vec<(String, String)> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            crate::config::decision_cache(&move |k| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()))
        };
        assert_eq!(with(&[]).unwrap().capacity(), DEFAULT_ENTRIES, "on by default");
        assert_eq!(with(&[("JWT_DECISION_CACHE", "")]).unwrap().capacity(), DEFAULT_ENTRIES, "empty is unset");
        assert_eq!(with(&[("JWT_DECISION_CACHE", "0")]).unwrap().capacity(), 0, "0 disables");
        assert_eq!(with(&[("JWT_DECISION_CACHE", "1000")]).unwrap().capacity(), 1024);
        assert_eq!(with(&[("JWT_DECISION_CACHE_MAX_SECONDS", "0")]).unwrap().capacity(), 0);
        for (var, bad) in [
            ("JWT_DECISION_CACHE", "-1"),
            ("JWT_DECISION_CACHE", "lots"),
            ("JWT_DECISION_CACHE", "65537"),
            ("JWT_DECISION_CACHE", " "),
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
        use crate::jwt::header::Alg;
        use crate::jwt::mint::Signer;

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

        /// With every token hashing alike (one set, one hash: `with_constant_hash`), only the
        /// stored bytes tell tokens apart: an entry never answers for another token — a valid
        /// one with other claims, or a forged sibling — and two tokens each keep their own entry
        /// and answer.
        #[test]
        fn equal_hashes_are_told_apart_by_the_bytes() {
            let s = signer();
            let plain = authorizer("5", "simple");
            let mut cached = CachedAuthorizer::new(plain.clone(), DecisionCache::new(WAYS, 300).with_constant_hash());
            let mut sc = Scratch::default();
            let claims =
                |sub: &str, role: &str| serde_json::json!({"sub": sub, "exp": NOW + 600, "org": {"role": role}});
            let u = s.sign(&claims("u", "admin"), Alg::RS256, None);
            let v = s.sign(&claims("v", "viewer"), Alg::RS256, None);
            let forged = format!("{}.{}", u.rsplit_once('.').unwrap().0, v.rsplit_once('.').unwrap().1);
            let want = |t: &str, sc: &mut Scratch| plain.handle(&v2(t), NOW, sc);

            assert_eq!(cached.handle(&v2(&u), NOW, &mut sc), want(&u, &mut sc));
            assert_eq!(cached.cache().len_at(NOW), 1);
            // Same hash, same set as u's entry: v is verified and answered with its own claims.
            assert_eq!(cached.handle(&v2(&v), NOW, &mut sc), want(&v, &mut sc));
            assert_eq!(cached.decide(forged.as_bytes(), NOW, &mut sc).unwrap_err().reason, crate::Reason::BadSignature);
            assert_eq!(cached.handle(&v2(&forged), NOW, &mut sc), want(&forged, &mut sc));
            // Both kept, each with its own answer, now served from the cache.
            assert_eq!(cached.cache().len_at(NOW), 2, "v took its own slot, not u's");
            for t in [&u, &v, &u, &v] {
                assert_eq!(cached.handle(&v2(t), NOW + 1, &mut sc), plain.handle(&v2(t), NOW + 1, &mut sc));
                assert_eq!(cached.decide(t.as_bytes(), NOW + 1, &mut sc), Ok(()));
            }
            assert_eq!(
                cached.decide(forged.as_bytes(), NOW + 1, &mut sc).unwrap_err().reason,
                crate::Reason::BadSignature
            );
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
