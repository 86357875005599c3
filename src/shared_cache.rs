//! The decision cache shared by the workers of one process (Lambda Managed Instances,
//! `AWS_LAMBDA_MAX_CONCURRENCY` > 1): a token verified by one worker is answered from the
//! cache by all the others.
//!
//! - **Shards of the one-worker cache.** [`SharedCache`] is `SHARDS` [`DecisionCache`]s, each
//!   behind its own `Mutex`, together about the configured number of entries. The shard is
//!   picked from the token's last bytes — its signature, which is uniformly distributed for
//!   every token that can be stored (only verified tokens are) — so different tokens rarely
//!   meet on one lock, and picking one costs a few instructions, not a second hash of the
//!   whole token. A token an attacker shapes only chooses which lock it waits for.
//! - **No lock across a verification.** A lookup takes the shard's lock, copies the answer
//!   out and lets go; on a miss the token is verified with no lock held, then the lock is
//!   taken again to store the answer. Two workers that miss on the same token at the same
//!   moment both verify it (and store the same answer): correct, and rare after warm-up.
//! - **The same rules as the one-worker cache**, since each shard is one: keyed on the
//!   whole token, never past `exp`, allows only, bounded.
//! - **A poisoned lock is not trusted.** A worker that panicked while holding a shard's lock
//!   (it cannot: nothing under the lock panics, but if it did) turns that shard into a miss,
//!   so every token in it is verified again — never an answer from a half-written entry.
//!
//! [`SharedAuthorizer`] binds one cache to one [`Authorizer`], as
//! [`CachedAuthorizer`](crate::cache::CachedAuthorizer) does for one worker.

use crate::authorizer::{Authorizer, Denial, Handled, Scratch, Store};
use crate::cache::DecisionCache;
use serde_json::{Map, Value};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Number of shards (a power of two). 16 locks for at most a few dozen workers keep two
/// workers on one lock unlikely unless they ask for the same token.
pub const SHARDS: usize = 16;

/// A decision cache for several threads: [`SHARDS`] [`DecisionCache`]s behind their own locks.
pub struct SharedCache {
    shards: Box<[Mutex<DecisionCache>]>,
    /// Lookups that found no answer (each is followed by a verification), and answers stored
    /// (each follows a successful one): diagnostics, and what the tests count.
    misses: AtomicU64,
    stores: AtomicU64,
}

impl SharedCache {
    /// About `entries` entries in all, each living at most `max_seconds` (as
    /// [`DecisionCache::new`]; `0` for either disables it). A small cache gets fewer shards
    /// rather than shards too small to hold a hot token next to another.
    pub fn new(entries: usize, max_seconds: u64) -> SharedCache {
        SharedCache::with_budget(entries, max_seconds, DecisionCache::new(entries, max_seconds).budget())
    }

    /// `entries` and a byte `budget` for the whole cache, spread evenly over the shards (so
    /// the shards together hold at most `budget` bytes, as one [`DecisionCache`] would).
    pub fn with_budget(entries: usize, max_seconds: u64, budget: usize) -> SharedCache {
        // Each shard keeps at least 16 entries (four sets of `WAYS`).
        let shards = (entries / 16).clamp(1, SHARDS).next_power_of_two().min(SHARDS);
        let per_shard = entries.div_ceil(shards);
        let shard_budget = budget / shards;
        SharedCache {
            shards: (0..shards)
                .map(|_| Mutex::new(DecisionCache::with_budget(per_shard, max_seconds, shard_budget)))
                .collect(),
            misses: AtomicU64::new(0),
            stores: AtomicU64::new(0),
        }
    }

    /// With the size, lifetime and byte budget configured for `cache` (`JWT_DECISION_CACHE`,
    /// `JWT_DECISION_CACHE_MAX_SECONDS`, `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`), spread over the
    /// shards.
    pub fn like(cache: &DecisionCache) -> SharedCache {
        SharedCache::with_budget(cache.capacity(), cache.max_seconds(), cache.budget())
    }

    /// The most bytes all shards together may hold.
    pub fn budget(&self) -> usize {
        self.shards.iter().map(|s| lock(s).map_or(0, |c| c.budget())).sum()
    }

    /// Bytes all shards hold now.
    pub fn held_bytes(&self) -> usize {
        self.shards.iter().map(|s| lock(s).map_or(0, |c| c.held_bytes())).sum()
    }

    /// Entries valid at `now`, in all shards.
    pub fn len_at(&self, now: u64) -> usize {
        self.shards.iter().map(|s| lock(s).map_or(0, |c| c.len_at(now))).sum()
    }

    /// Number of entries it can hold (0 when disabled).
    pub fn capacity(&self) -> usize {
        self.shards.iter().map(|s| lock(s).map_or(0, |c| c.capacity())).sum()
    }

    /// Number of shards (locks).
    pub fn shards(&self) -> usize {
        self.shards.len()
    }

    /// Forgets every decision, shard by shard (a refresh of the fetched keys removed a key).
    pub fn clear(&self) {
        for shard in &self.shards {
            if let Some(mut c) = lock(shard) {
                c.clear();
            }
        }
    }

    /// Lookups that found no answer so far.
    pub fn misses(&self) -> u64 {
        self.misses.load(Ordering::Relaxed)
    }

    /// Answers stored so far: one per successful verification through this cache.
    pub fn stores(&self) -> u64 {
        self.stores.load(Ordering::Relaxed)
    }

    fn shard(&self, token: &[u8]) -> &Mutex<DecisionCache> {
        // The last 8 bytes (the end of the signature segment) through a multiplicative mix.
        let tail = token.len().saturating_sub(8);
        let mut last = [0u8; 8];
        last[..token.len() - tail].copy_from_slice(&token[tail..]);
        // Fibonacci hashing: the product's top bits depend on every input bit.
        let mixed = u64::from_le_bytes(last).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let bits = self.shards.len().trailing_zeros();
        &self.shards[if bits == 0 { 0 } else { (mixed >> (64 - bits)) as usize }]
    }

    fn miss(&self) {
        self.misses.fetch_add(1, Ordering::Relaxed);
    }
}

/// The shard's cache, or `None` when a panic poisoned its lock (then: a miss, nothing stored).
fn lock(m: &Mutex<DecisionCache>) -> Option<std::sync::MutexGuard<'_, DecisionCache>> {
    m.lock().ok()
}

impl std::fmt::Debug for SharedCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedCache").field("shards", &self.shards.len()).finish_non_exhaustive()
    }
}

impl Store for &SharedCache {
    fn allows(&mut self, token: &[u8], now: u64) -> bool {
        let hit = lock(self.shard(token)).is_some_and(|mut c| c.allows(token, now));
        if !hit {
            self.miss();
        }
        hit
    }

    fn find_answer(&mut self, token: &[u8], now: u64, iam: bool) -> Option<(String, Map<String, Value>)> {
        let hit = lock(self.shard(token)).and_then(|mut c| c.find_answer(token, now, iam));
        if hit.is_none() {
            self.miss();
        }
        hit
    }

    fn store_allow(&mut self, token: &[u8], now: u64, exp: f64) {
        if let Some(mut c) = lock(self.shard(token)) {
            c.store_allow(token, now, exp);
            self.stores.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn store_answer(&mut self, token: &[u8], now: u64, exp: f64, iam: bool, ctx: &Map<String, Value>) {
        if let Some(mut c) = lock(self.shard(token)) {
            c.store_answer(token, now, exp, iam, ctx);
            self.stores.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// An [`Authorizer`] and the [`SharedCache`] that answers for it, both shared read-only by
/// the workers (each brings its own [`Scratch`]).
pub struct SharedAuthorizer {
    authorizer: Authorizer,
    cache: SharedCache,
}

impl SharedAuthorizer {
    pub fn new(authorizer: Authorizer, cache: SharedCache) -> SharedAuthorizer {
        SharedAuthorizer { authorizer, cache }
    }

    pub fn authorizer(&self) -> &Authorizer {
        &self.authorizer
    }

    pub fn cache(&self) -> &SharedCache {
        &self.cache
    }

    /// [`Authorizer::decide`], answered from the shared cache when it can be.
    pub fn decide(&self, token: &[u8], now: u64, scratch: &mut Scratch) -> Result<(), Denial> {
        self.authorizer.decide_cached(token, now, scratch, &mut &self.cache)
    }

    /// [`Authorizer::handle`], with the token's answer from the shared cache when it can be.
    /// With fetched keys, an answer is stored only if no refresh removed a key while it was
    /// decided (another worker may have cleared the cache in between: the answer could rest
    /// on the removed key).
    pub fn handle(&self, event: &[u8], now: u64, scratch: &mut Scratch) -> Handled {
        #[cfg(feature = "remote-keys")]
        if let Some(remote) = self.authorizer.remote() {
            let mut guarded = Unremoved { cache: &self.cache, remote, removals: remote.removals() };
            return self.authorizer.handle_cached(event, now, scratch, &mut guarded);
        }
        self.authorizer.handle_cached(event, now, scratch, &mut &self.cache)
    }
}

#[cfg(feature = "remote-keys")]
/// The shared cache, storing nothing once a refresh has removed a key since `removals` was read.
struct Unremoved<'a> {
    cache: &'a SharedCache,
    remote: &'a crate::jwks::Remote,
    removals: u64,
}

#[cfg(feature = "remote-keys")]
impl Store for Unremoved<'_> {
    fn allows(&mut self, token: &[u8], now: u64) -> bool {
        (&mut self.cache).allows(token, now)
    }
    fn find_answer(&mut self, token: &[u8], now: u64, iam: bool) -> Option<(String, Map<String, Value>)> {
        (&mut self.cache).find_answer(token, now, iam)
    }
    // The check is made under the shard's lock: a refresh counts its removal before it clears
    // (taking each lock), so a store either sees the count and stores nothing, or is done
    // before the clear reaches its shard.
    fn store_allow(&mut self, token: &[u8], now: u64, exp: f64) {
        if let Some(mut c) = lock(self.cache.shard(token)).filter(|_| self.remote.removals() == self.removals) {
            c.store_allow(token, now, exp);
            self.cache.stores.fetch_add(1, Ordering::Relaxed);
        }
    }
    fn store_answer(&mut self, token: &[u8], now: u64, exp: f64, iam: bool, ctx: &Map<String, Value>) {
        if let Some(mut c) = lock(self.cache.shard(token)).filter(|_| self.remote.removals() == self.removals) {
            c.store_answer(token, now, exp, iam, ctx);
            self.cache.stores.fetch_add(1, Ordering::Relaxed);
        }
    }
}

impl std::fmt::Debug for SharedAuthorizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedAuthorizer").field("cache", &self.cache).finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A decision that started before a refresh removed a key is not stored after it: the
    /// refresh may have cleared the cache in between, and that answer may rest on the removed
    /// key. (Networkless, nothing is fetched: the URL is never asked.)
    #[cfg(feature = "remote-keys")]
    #[test]
    fn an_answer_decided_across_a_key_removal_is_not_stored() {
        let env = |k: &str| (k == "JWT_JWKS_URL").then(|| "http://127.0.0.1:9/jwks".to_owned());
        let authorizer = crate::config::load(env).unwrap().authorizer;
        let remote = authorizer.remote().unwrap().clone();
        let cache = SharedCache::new(64, 300);
        let token = b"a.b.c-some-token";
        let mut before = Unremoved { cache: &cache, remote: &remote, removals: remote.removals() };
        before.store_allow(token, 1000, 2000.0);
        assert_eq!(cache.stores(), 1, "no removal since the decision began: stored");
        let mut across = Unremoved { cache: &cache, remote: &remote, removals: remote.removals() };
        remote.count_removal();
        across.store_allow(b"a.b.other-token", 1000, 2000.0);
        across.store_answer(b"a.b.other-token", 1000, 2000.0, false, &Map::new());
        assert_eq!(cache.stores(), 1, "a removal while deciding: nothing stored");
        assert!(!across.allows(b"a.b.other-token", 1000));
    }

    #[test]
    fn the_shards_together_keep_the_byte_budget() {
        for (entries, budget) in [(256, 6_710_885), (65_536, 1 << 20), (16, 1 << 16)] {
            let one = DecisionCache::with_budget(entries, 300, budget);
            let shared = SharedCache::like(&one);
            assert!(shared.budget() <= budget, "{entries} entries: {} > {budget}", shared.budget());
            assert!(shared.budget() + SHARDS >= budget, "the budget is spread over the shards, not lost");
            assert!(shared.held_bytes() <= shared.budget());
        }
    }

    /// A shared cache filled with the real decisions of real signed tokens (each with a context
    /// answer of about 600 bytes) never holds more than the budget it was given — counted from
    /// the buffers of every shard — and once full it still takes new tokens by evicting old
    /// ones, never by growing.
    #[test]
    fn a_full_shared_cache_keeps_its_byte_budget_and_evicts_to_take_more() {
        use crate::jwt::header::Alg;
        use crate::jwt::mint::Signer;
        const NOW: u64 = 1_800_000_000;
        const BUDGET: usize = 96 * 1024;
        let fixture = |name: &str| format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
        let pem = std::fs::read_to_string(fixture("rsa2048-a.pub.pem")).unwrap();
        let env = |k: &str| match k {
            "JWT_PUBLIC_KEY" => Some(pem.clone()),
            "JWT_CONTEXT_CLAIMS" => Some("blob".to_owned()),
            _ => None,
        };
        let authorizer = crate::config::load(env).unwrap().authorizer;
        let signer = Signer::from_pkcs8(&std::fs::read(fixture("rsa2048-a.key.pem")).unwrap()).unwrap();
        let token = |i: usize| {
            let claims = serde_json::json!({"sub": format!("user-{i}"), "exp": NOW + 600, "blob": "b".repeat(600)});
            signer.sign(&claims, Alg::RS256, None)
        };
        let event = |t: &str| format!(r#"{{"version":"2.0","type":"REQUEST","identitySource":["Bearer {t}"]}}"#);
        let shared = SharedAuthorizer::new(authorizer, SharedCache::with_budget(64, 300, BUDGET));
        let capacity = shared.cache().capacity();
        let mut scratch = Scratch::default();
        let mut ask = |t: &str| {
            let handled = shared.handle(event(t).as_bytes(), NOW, &mut scratch);
            assert!(handled.denial.is_none(), "{:?}", handled.denial);
            let held = shared.cache().held_bytes();
            assert!(held <= BUDGET, "{held} bytes held, budget {BUDGET}");
            assert!(shared.cache().len_at(NOW) <= capacity);
        };
        let first: Vec<String> = (0..120).map(token).collect();
        first.iter().for_each(|t| ask(t));
        let full = shared.cache().held_bytes();
        assert!(full > BUDGET * 3 / 4, "full: the budget is what binds ({full} of {BUDGET} bytes)");
        // More tokens, each asked twice: a second answer from the cache means it was stored.
        let misses = shared.cache().misses();
        let later: Vec<String> = (120..200).map(token).collect();
        later.iter().for_each(|t| {
            ask(t);
            ask(t);
        });
        let stored = 2 * later.len() as u64 - (shared.cache().misses() - misses);
        assert!(stored > 0, "a full cache still takes new tokens");
        let misses = shared.cache().misses();
        first.iter().for_each(|t| ask(t));
        assert!(shared.cache().misses() > misses, "by evicting old ones");
        assert!(shared.cache().held_bytes() <= BUDGET);
    }
}
