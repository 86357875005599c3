//! The events handed out: HTTP API 2.0 authorizer events (`demo/events/http-api-v2.json`,
//! the token in the identity source and in `headers.authorization`) carrying tokens signed
//! at start-up with the demo key, and what each one's answer must be.

use jwt_authorizer::jwt::header::Alg;
use jwt_authorizer::jwt::mint::Signer;
use serde_json::{Value, json};
use std::time::{SystemTime, UNIX_EPOCH};

pub const ISSUER: &str = "https://clerk.example.com";
pub const AZP: &str = "https://app.example.com";
const KEY_PEM: &[u8] = include_bytes!("../../demo/demo.key.pem");
const PUB_PEM: &str = include_str!("../../demo/demo.pub.pem");
const TEMPLATE: &str = include_str!("../../demo/events/http-api-v2.json");

/// The function's configuration matching the tokens minted here.
pub fn function_env() -> Vec<(String, String)> {
    vec![
        ("JWT_PUBLIC_KEY".into(), PUB_PEM.into()),
        ("JWT_ISSUER".into(), ISSUER.into()),
        ("JWT_AUTHORIZED_PARTIES".into(), AZP.into()),
    ]
}

/// What the answer to an event must be.
pub enum Expect {
    /// Anything (an event from a file, or a function that answers a constant).
    Any,
    /// `{"isAuthorized": true, "context": {"sub": <this>, …}}`.
    Allow(String),
    /// `{"isAuthorized": false}`, or the `Unauthorized` error.
    Deny,
}

impl Expect {
    /// Checks an answer: `body` of a response, or `None` for an error of `error_type`.
    pub fn check(&self, body: Option<&[u8]>, error_type: &str) -> Result<(), String> {
        let parsed = body.map(serde_json::from_slice::<Value>);
        match (self, parsed) {
            (Expect::Any, _) => Ok(()),
            (Expect::Allow(sub), Some(Ok(v))) => {
                let got = v.pointer("/context/sub").and_then(Value::as_str);
                if v["isAuthorized"] == true && got == Some(sub.as_str()) {
                    Ok(())
                } else {
                    Err(format!("expected an allow for {sub}, got {v}"))
                }
            }
            (Expect::Deny, Some(Ok(v))) if v["isAuthorized"] == false => Ok(()),
            (Expect::Deny, None) if error_type == "Unauthorized" => Ok(()),
            (Expect::Allow(sub), None) => Err(format!("expected an allow for {sub}, got the error {error_type:?}")),
            (_, None) => Err(format!("expected a deny, got the error {error_type:?}")),
            (_, Some(Ok(v))) => Err(format!("expected a deny, got {v}")),
            (_, Some(Err(e))) => Err(format!("the response is not JSON: {e}")),
        }
    }
}

pub struct Event {
    pub body: Vec<u8>,
    pub expect: Expect,
}

/// The events of one run, by invocation: invocation `i` gets `events[schedule[i]]`.
pub struct Load {
    events: Vec<Event>,
    schedule: Vec<u32>,
    pub description: String,
}

impl Load {
    pub fn event(&self, i: usize) -> &Event {
        &self.events[self.schedule[i] as usize]
    }

    pub fn len(&self) -> usize {
        self.schedule.len()
    }

    /// The same event for every invocation.
    pub fn repeat(body: Vec<u8>, expect: Expect, total: usize, description: String) -> Load {
        Load { events: vec![Event { body, expect }], schedule: vec![0; total], description }
    }

    /// The same load with nothing checked (for functions that answer a constant).
    pub fn unchecked(&self) -> Load {
        Load {
            events: self.events.iter().map(|e| Event { body: e.body.clone(), expect: Expect::Any }).collect(),
            schedule: self.schedule.clone(),
            description: self.description.clone(),
        }
    }
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn signer() -> Signer {
    Signer::from_pkcs8(KEY_PEM).expect("demo/demo.key.pem is a PKCS#8 RSA key")
}

fn claims(sub: &str, now: u64, exp: u64) -> Value {
    json!({
        "sub": sub, "iss": ISSUER, "azp": AZP, "sid": format!("sess_{sub}"),
        "iat": now.saturating_sub(10), "nbf": now.saturating_sub(10), "exp": exp,
    })
}

/// The event around `authorization` (the identity source and the header), with its own
/// API Gateway request id.
fn event(authorization: &str, n: usize) -> Vec<u8> {
    TEMPLATE.replace("{{AUTHORIZATION}}", authorization).replace("Xyz123AbcDEFg=", &format!("lg{n:08}=")).into_bytes()
}

/// One valid token's event, the same for every invocation (the single-invocation runs).
pub fn single(total: usize) -> Load {
    let now = now();
    let sub = "user_2lNbUv6JgT3yQ9mZkP1xR8wVd4E";
    let token = signer().sign(&claims(sub, now, now + 86_400), Alg::RS256, None);
    Load::repeat(
        event(&format!("Bearer {token}"), 0),
        Expect::Allow(sub.into()),
        total,
        "one valid token, repeated".into(),
    )
}

/// The shares of a mixed load, in percent of invocations.
pub struct Mix {
    /// Subjects whose tokens repeat (each subject one token).
    pub hot_subjects: usize,
    /// A valid token seen once (a new subject each time).
    pub new_pct: u64,
    /// An invalid token or event: expired, tampered, claims not JSON, not a JWT, event not JSON.
    pub invalid_pct: u64,
}

/// splitmix64: a fixed, seeded sequence, so every run hands out the same load.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// Signs one token per subject, on every core.
fn sign_all(subjects: &[String], now: u64) -> Vec<String> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = subjects.len().div_ceil(threads).max(1);
    std::thread::scope(|s| {
        let parts: Vec<_> = subjects
            .chunks(chunk)
            .map(|part| {
                s.spawn(move || {
                    let signer = signer();
                    part.iter().map(|sub| signer.sign(&claims(sub, now, now + 86_400), Alg::RS256, None)).collect()
                })
            })
            .collect();
        parts.into_iter().flat_map(|p| p.join().unwrap_or_else(|_| Vec::new())).collect()
    })
}

/// A realistic mix: mostly repeated valid tokens of `hot_subjects` subjects, some valid
/// tokens seen once, some invalid ones.
pub fn mixed(total: usize, mix: &Mix, seed: u64) -> Load {
    let now = now();
    let signer = signer();
    let mut rng = Rng(seed);
    // Decide every invocation's kind first, so the new subjects can be signed in parallel.
    let kinds: Vec<u64> = (0..total).map(|_| rng.next() % 100).collect();
    let new_count = kinds.iter().filter(|&&k| k >= mix.invalid_pct && k < mix.invalid_pct + mix.new_pct).count();
    let mut subjects: Vec<String> = (0..mix.hot_subjects).map(|i| format!("user_hot_{i:06}")).collect();
    subjects.extend((0..new_count).map(|i| format!("user_new_{i:06}")));
    let tokens = sign_all(&subjects, now);
    let mut events = Vec::with_capacity(tokens.len() + 32);
    for (sub, token) in subjects.iter().zip(&tokens) {
        let n = events.len();
        events.push(Event { body: event(&format!("Bearer {token}"), n), expect: Expect::Allow(sub.clone()) });
    }
    // Invalid ones: 8 expired tokens, 8 tampered ones (a hot token's claims changed to another
    // subject, signature kept), a signed token whose claims are not JSON, a value that is not
    // a JWT, and an event that is not JSON.
    let invalid_start = events.len();
    for i in 0..8 {
        let token = signer.sign(&claims(&format!("user_exp_{i}"), now - 7200, now - 3600), Alg::RS256, None);
        events.push(Event { body: event(&format!("Bearer {token}"), events.len()), expect: Expect::Deny });
    }
    for token in tokens.iter().take(8.min(mix.hot_subjects)) {
        let mut parts = token.split('.');
        let (h, _, s) = (parts.next().unwrap_or(""), parts.next(), parts.next().unwrap_or(""));
        let forged = jwt_authorizer::jwt::b64::encode(claims("user_admin", now, now + 86_400).to_string().as_bytes());
        let body = event(&format!("Bearer {h}.{forged}.{s}"), events.len());
        events.push(Event { body, expect: Expect::Deny });
    }
    let not_json = signer.sign_raw(br#"{"alg":"RS256","typ":"JWT"}"#, b"not json at all", Alg::RS256);
    events.push(Event { body: event(&format!("Bearer {not_json}"), events.len()), expect: Expect::Deny });
    events.push(Event { body: event("Bearer not-a-jwt", events.len()), expect: Expect::Deny });
    events.push(Event { body: b"{\"version\":\"2.0\",\"type\":\"REQUEST\",".to_vec(), expect: Expect::Deny });
    let invalid_count = events.len() - invalid_start;

    let mut schedule = Vec::with_capacity(total);
    let mut next_new = mix.hot_subjects;
    for &k in &kinds {
        let idx = if k < mix.invalid_pct {
            invalid_start + (rng.next() as usize % invalid_count)
        } else if k < mix.invalid_pct + mix.new_pct {
            next_new += 1;
            next_new - 1
        } else {
            rng.next() as usize % mix.hot_subjects.max(1)
        };
        schedule.push(u32::try_from(idx).expect("fewer than 2^32 events"));
    }
    let description = format!(
        "{}% repeated tokens of {} subjects, {}% new subjects, {}% invalid (expired, tampered, claims not JSON, not a JWT, event not JSON)",
        100 - mix.new_pct - mix.invalid_pct,
        mix.hot_subjects,
        mix.new_pct,
        mix.invalid_pct
    );
    Load { events, schedule, description }
}
