//! The `cache` target's input: a sequence of decisions on a small pool of real tokens (and
//! arbitrary bytes), at a clock that moves forwards and backwards, through a small
//! `CachedAuthorizer` — compared, one by one, with the plain `Authorizer` at the same time.
//! The decision cache must never change an answer (same verdict, same reason, same response),
//! and never hold more bytes than its budget, which the input picks (often tight).

use crate::{FAR_FUTURE, FIXTURE, FUZZ_KID, NOW, events_with, valid_claims};
use arbitrary::Arbitrary;
use jwt_authorizer::cache::{CachedAuthorizer, DecisionCache};
use jwt_authorizer::jwt::header::Alg;
use jwt_authorizer::{Authorizer, Scratch};
use serde_json::json;
use std::sync::LazyLock;

/// Tokens whose answers depend on the time: `exp` and `nbf` around `NOW`, a failing rule, a
/// signature that does not verify.
pub static POOL: LazyLock<Vec<String>> = LazyLock::new(|| {
    let sign = |edit: &dyn Fn(&mut serde_json::Value)| {
        let mut c = valid_claims("user_cache", FAR_FUTURE);
        edit(&mut c);
        FIXTURE.signer.sign(&c, Alg::RS256, Some(FUZZ_KID))
    };
    let mut pool: Vec<String> = [-20i64, -5, -1, 0, 1, 2, 7, 30, 61, 300, 4000]
        .iter()
        .map(|off| sign(&|c| c["exp"] = json!(NOW as i64 + off)))
        .collect();
    pool.push(sign(&|c| c["exp"] = json!(NOW as f64 + 2.5)));
    pool.push(sign(&|c| c["nbf"] = json!(NOW + 20)));
    pool.push(sign(&|c| c["iat"] = json!(NOW + 10)));
    pool.push(sign(&|c| c["metadata"]["role"] = json!("viewer")));
    pool.push(sign(&|c| c["sub"] = json!("other_user")));
    // token 10's header and claims under token 9's signature: must never be allowed
    let (body, sig) = (pool[10].rsplit_once('.').expect("a token").0, pool[9].rsplit_once('.').expect("a token").1);
    let forged = format!("{body}.{sig}");
    pool.push(forged);
    pool
});

#[derive(Arbitrary, Clone, Debug)]
pub enum Op {
    /// `decide` on pool token `token % len`, after moving the clock by `dt` seconds.
    Decide { token: u8, dt: i8 },
    /// `handle` on an event of flavour `flavour % 3` carrying pool token `token % len`.
    Handle { token: u8, flavour: u8, dt: i8 },
    /// `decide` on arbitrary bytes.
    Raw { bytes: Vec<u8>, dt: i8 },
}

impl Op {
    fn dt(&self) -> i8 {
        match self {
            Op::Decide { dt, .. } | Op::Handle { dt, .. } | Op::Raw { dt, .. } => *dt,
        }
    }
}

#[derive(Arbitrary, Clone, Debug)]
pub struct CacheCase {
    pub iam: bool,
    pub entries: u8,
    pub max_seconds: u8,
    /// The byte budget, in 64-byte units (0–4 MiB): small ones make the budget bind.
    pub budget: u16,
    pub ops: Vec<Op>,
}

impl CacheCase {
    /// Runs every operation through the cached and the plain authorizer and returns the
    /// first disagreement, if any.
    pub fn run(&self) -> Result<(), String> {
        let plain: &Authorizer = if self.iam { &FIXTURE.iam } else { &FIXTURE.simple };
        let budget = usize::from(self.budget) * 64;
        let cache = DecisionCache::with_budget(usize::from(self.entries % 8), u64::from(self.max_seconds), budget);
        let mut cached = CachedAuthorizer::new(plain.clone(), cache);
        let (mut a, mut b) = (Scratch::default(), Scratch::default());
        let mut now = NOW as i64;
        for (i, op) in self.ops.iter().enumerate() {
            let pick = |t: &u8| POOL[usize::from(*t) % POOL.len()].as_bytes();
            now += i64::from(op.dt());
            let t = now as u64;
            let agree = match op {
                Op::Decide { token, .. } => {
                    let (x, y) = (cached.decide(pick(token), t, &mut a), plain.decide(pick(token), t, &mut b));
                    (x == y).then_some(()).ok_or_else(|| format!("cached {x:?}, uncached {y:?}"))
                }
                Op::Raw { bytes, .. } => {
                    let (x, y) = (cached.decide(bytes, t, &mut a), plain.decide(bytes, t, &mut b));
                    (x == y).then_some(()).ok_or_else(|| format!("cached {x:?}, uncached {y:?}"))
                }
                Op::Handle { token, flavour, .. } => {
                    let events = events_with(std::str::from_utf8(pick(token)).unwrap_or(""));
                    let event = &events[usize::from(*flavour) % events.len()];
                    let (x, y) =
                        (cached.handle(event.as_bytes(), t, &mut a), plain.handle(event.as_bytes(), t, &mut b));
                    (x == y).then_some(()).ok_or_else(|| format!("cached {x:?}, uncached {y:?}"))
                }
            };
            agree.map_err(|e| format!("op {i} {op:?} at now={t}: {e}"))?;
            let held = cached.cache().held_bytes();
            if held > budget {
                return Err(format!("op {i}: the cache holds {held} bytes, over its budget of {budget}"));
            }
        }
        Ok(())
    }
}
