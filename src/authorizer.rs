//! The decision: token → verdict, and event → response. Built once, then borrowed.
//!
//! Order (RFC 7515 §5.2, RFC 8725): size, split, header (alg allowlist, `crit`, key
//! selection), signature, and only then the claims — nothing about the claims is looked at,
//! or told, before the signature holds.

use crate::apigw::event::{self, Kind};
use crate::apigw::response::{self, ContextClaim, Format, Response};
use crate::jwt::Rejection;
use crate::jwt::claims::{self, Policy, Valid};
use crate::jwt::header::{self, AlgSet};
use crate::jwt::json::{PADDING, Parser, Value};
use crate::jwt::keys::KeySet;
use crate::jwt::token::{self, MAX_SIGNATURE_LEN, MAX_TOKEN_LEN};
use crate::jwt::{b64, verify};
use crate::reason::Reason;
use serde_json::Map;

/// The `principalId` of a `Deny` when the caller is not known (no authentic `sub`): AWS
/// requires one in every policy answer ("Output from an API Gateway Lambda authorizer").
pub const UNKNOWN_PRINCIPAL: &str = "anonymous";

/// Where an authorizer keeps and finds its decisions: one worker's
/// [`DecisionCache`](crate::cache::DecisionCache) (`&mut`, no lock), or the shared cache
/// ([`&SharedCache`](crate::shared_cache::SharedCache), a lock per lookup and per store, never
/// held across a verification).
pub trait Store {
    /// Whether `token` is known to authorize at `now`.
    fn allows(&mut self, token: &[u8], now: u64) -> bool;
    /// The stored answer (subject, context) for `token` at `now` in the given flavour.
    fn find_answer(&mut self, token: &[u8], now: u64, iam: bool) -> Option<(String, Map<String, serde_json::Value>)>;
    /// Records an allow without a response (the `decide` path).
    fn store_allow(&mut self, token: &[u8], now: u64, exp: f64);
    /// Records an allow with its response answer.
    fn store_answer(&mut self, token: &[u8], now: u64, exp: f64, iam: bool, ctx: &Map<String, serde_json::Value>);
}

/// No store: [`Authorizer::handle`] decides every event afresh.
enum NoStore {}

impl Store for NoStore {
    fn allows(&mut self, _: &[u8], _: u64) -> bool {
        match *self {}
    }
    fn find_answer(&mut self, _: &[u8], _: u64, _: bool) -> Option<(String, Map<String, serde_json::Value>)> {
        match *self {}
    }
    fn store_allow(&mut self, _: &[u8], _: u64, _: f64) {
        match *self {}
    }
    fn store_answer(&mut self, _: &[u8], _: u64, _: f64, _: bool, _: &Map<String, serde_json::Value>) {
        match *self {}
    }
}

/// Everything configured at cold start, fixed from then on: built once by
/// [`Authorizer::new`] (the configuration does it), then only read.
#[derive(Clone, Debug)]
pub struct Authorizer {
    keys: KeySet,
    /// Keys fetched from `JWT_JWKS_URL` (`None`: networkless, the default).
    #[cfg(feature = "remote-keys")]
    remote: Option<std::sync::Arc<crate::jwks::Remote>>,
    /// The header's `alg` allowlist (`JWT_ALGORITHMS`).
    algorithms: AlgSet,
    policy: Policy,
    /// Claims forwarded in the response context (`JWT_CONTEXT_CLAIMS`); `sub` always is.
    context: Vec<ContextClaim>,
    /// The cookie read from a `Cookie` header identity source (`JWT_TOKEN_COOKIE`).
    cookie: Option<String>,
    /// The header a REST REQUEST event's token is read from (`JWT_TOKEN_HEADER`): it must be
    /// the authorizer's identity source.
    token_header: String,
    /// The query-string parameter a REST REQUEST or WebSocket event's token is read from
    /// instead of the header (`JWT_TOKEN_QUERY`): it must be the authorizer's identity source.
    token_query: Option<String>,
    /// How 2.0 events are answered (`JWT_RESPONSE_FORMAT`).
    format: Format,
}

/// A refusal: the reason, and the subject when it is known and authentic (claims-stage
/// failures, behind a verified signature). Allocates only on this path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Denial {
    pub reason: Reason,
    pub sub: Option<Box<str>>,
}

impl From<Reason> for Denial {
    fn from(reason: Reason) -> Self {
        Denial { reason, sub: None }
    }
}

impl From<Rejection> for Denial {
    fn from(rejection: Rejection) -> Self {
        Denial { reason: rejection.into(), sub: None }
    }
}

/// Buffers reused across requests so the success path does not allocate after warm-up.
pub struct Scratch {
    token: TokenScratch,
    events: Parser,
    event: Vec<u8>,
    /// The configured context claims the last decision left out of its answer for size (keys
    /// only, never values), for the caller to log: see [`Scratch::dropped_claims`].
    dropped: Vec<String>,
}

struct TokenScratch {
    parser: Parser,
    /// What this scratch's decisions have done so far (for metrics).
    work: Work,
    /// Decoded header, then decoded claims; sized for the largest token plus parser padding.
    header: Box<[u8]>,
    claims: Box<[u8]>,
}

impl Default for Scratch {
    fn default() -> Self {
        let decoded = MAX_TOKEN_LEN / 4 * 3 + 3 + PADDING;
        Scratch {
            token: TokenScratch {
                parser: Parser::with_capacity(2048),
                work: Work::default(),
                header: vec![0; decoded].into_boxed_slice(),
                claims: vec![0; decoded].into_boxed_slice(),
            },
            events: Parser::with_capacity(4096),
            event: Vec::with_capacity(4096),
            dropped: Vec::new(),
        }
    }
}

impl Scratch {
    /// Takes the keys of the context claims the last decision left out of its answer
    /// ([`response::context`]), `None` when there are none (the common case, checked first):
    /// the caller logs them (Lambda's side owns logging).
    #[inline]
    pub fn dropped_claims(&mut self) -> Option<std::vec::Drain<'_, String>> {
        (!self.dropped.is_empty()).then(|| self.dropped.drain(..))
    }
}

/// Running counts of what the decisions made with one [`Scratch`] did: read before and after
/// a decision to learn whether it verified a signature or used the decision cache.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Work {
    /// RSA signature verifications run.
    pub verifications: u64,
    /// Decisions answered from the decision cache.
    pub cache_hits: u64,
    /// Decision-cache lookups that found nothing.
    pub cache_misses: u64,
    /// Fetches of keys from the issuer (`JWT_JWKS_URL`, discovery) that failed around these
    /// decisions.
    pub key_fetch_failures: u64,
}

impl Scratch {
    /// What the decisions made with this scratch have done so far.
    pub fn work(&self) -> Work {
        self.token.work
    }

    /// Counts `n` failed fetches of keys, made around a decision with this scratch.
    pub fn count_key_fetch_failures(&mut self, n: u64) {
        self.token.work.key_fetch_failures += n;
    }
}

/// The outcome of one event: the response, and the refusal (`None` on allow).
#[derive(Clone, Debug, PartialEq)]
pub struct Handled {
    pub response: Response,
    pub denial: Option<Denial>,
}

impl Authorizer {
    /// The authorizer for these settings (see the fields' variables in
    /// [`config`](crate::config), which calls this).
    pub fn new(
        keys: KeySet,
        algorithms: AlgSet,
        policy: Policy,
        context: Vec<ContextClaim>,
        cookie: Option<String>,
        token_header: String,
        format: Format,
    ) -> Authorizer {
        Authorizer {
            keys,
            #[cfg(feature = "remote-keys")]
            remote: None,
            algorithms,
            policy,
            context,
            cookie,
            token_header,
            token_query: None,
            format,
        }
    }

    /// This authorizer reading REST REQUEST and WebSocket events' token from the query-string
    /// parameter `name` instead of the header (`JWT_TOKEN_QUERY`; `None`: the header).
    pub fn with_token_query(mut self, name: Option<String>) -> Authorizer {
        self.token_query = name;
        self
    }

    #[cfg(feature = "remote-keys")]
    /// With keys fetched by URL as well ([`crate::jwks`]), next to the static ones.
    pub fn with_remote(mut self, remote: std::sync::Arc<crate::jwks::Remote>) -> Authorizer {
        self.remote = Some(remote);
        self
    }

    #[cfg(feature = "remote-keys")]
    /// The fetched keys, when `JWT_JWKS_URL` is set.
    pub fn remote(&self) -> Option<&std::sync::Arc<crate::jwks::Remote>> {
        self.remote.as_ref()
    }

    /// The public keys tokens are verified with.
    pub fn keys(&self) -> &KeySet {
        &self.keys
    }

    /// The `alg` values a token's header may name (`JWT_ALGORITHMS`).
    pub fn algorithms(&self) -> AlgSet {
        self.algorithms
    }

    /// What a token's claims must satisfy.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The claims forwarded in the response context (`JWT_CONTEXT_CLAIMS`).
    pub fn context(&self) -> &[ContextClaim] {
        &self.context
    }

    /// The cookie read from a `Cookie` header identity source (`JWT_TOKEN_COOKIE`).
    pub fn cookie(&self) -> Option<&str> {
        self.cookie.as_deref()
    }

    /// The header a REST REQUEST event's token is read from (`JWT_TOKEN_HEADER`).
    pub fn token_header(&self) -> &str {
        &self.token_header
    }

    /// The query-string parameter REST REQUEST and WebSocket events' token is read from
    /// (`JWT_TOKEN_QUERY`).
    pub fn token_query(&self) -> Option<&str> {
        self.token_query.as_deref()
    }

    /// How 2.0 events are answered (`JWT_RESPONSE_FORMAT`).
    pub fn format(&self) -> Format {
        self.format
    }

    /// Verifies `token` at `now` (Unix seconds). On success, calls `on_valid` with the
    /// claims and what validation found (subject, expiry) while they are still borrowed from
    /// the scratch buffers.
    pub fn verify<R>(
        &self,
        token: &[u8],
        now: u64,
        scratch: &mut Scratch,
        on_valid: impl FnOnce(Value<'_, '_>, Valid<'_>) -> R,
    ) -> Result<R, Denial> {
        self.verify_in(token, now, &mut scratch.token, on_valid)
    }

    /// The hot path without a response: `Ok(())` when `token` authorizes.
    pub fn decide(&self, token: &[u8], now: u64, scratch: &mut Scratch) -> Result<(), Denial> {
        self.verify(token, now, scratch, |_, _| ())
    }

    fn verify_in<R>(
        &self,
        token: &[u8],
        now: u64,
        s: &mut TokenScratch,
        on_valid: impl FnOnce(Value<'_, '_>, Valid<'_>) -> R,
    ) -> Result<R, Denial> {
        let parts = token::split(token)?;
        // Header → algorithm and key, before any crypto.
        let len = b64::decode(parts.header, &mut s.header)?.len();
        // The fetched keys as they are now (lock-free; `None` when networkless).
        #[cfg(feature = "remote-keys")]
        let fetched = self.remote.as_deref().map(crate::jwks::Remote::snapshot);
        // With discovered keys (bound to their issuer), the unverified `iss` chooses the set
        // only; the claims are decoded again, and `iss` checked, behind the signature.
        #[cfg(feature = "remote-keys")]
        let iss: Option<String> = match self.remote.as_deref() {
            Some(r) if r.binds_issuers() => {
                let len = b64::decode(parts.claims, &mut s.claims)?.len();
                let read = |c: Value<'_, '_>| c.get("iss").and_then(|v| v.as_str()).map(str::to_owned);
                s.parser.parse(&mut s.claims, len, read).ok().flatten()
            }
            _ => None,
        };
        let key = s
            .parser
            .parse(&mut s.header, len, |h| {
                let h = header::parse(h, self.algorithms)?;
                #[cfg(feature = "remote-keys")]
                let key = match &fetched {
                    None => self.keys.select(h.kid, h.alg).map_err(Reason::from),
                    Some(f) => crate::jwks::select::select(&self.keys, f, h.kid, h.alg, now, iss.as_deref()),
                };
                #[cfg(not(feature = "remote-keys"))]
                let key = self.keys.select(h.kid, h.alg).map_err(Reason::from);
                Ok::<_, Rejection>((key, h.alg))
            })
            .and_then(|r| r);
        let (key, alg) = key?;
        let key = key?;
        // Signature (RFC 7515 §5.2 step 8); a wrong-length signature is simply wrong.
        let mut sig = [0u8; MAX_SIGNATURE_LEN];
        let sig = b64::decode(parts.signature, &mut sig).map_err(|_| Rejection::BadSignature)?;
        s.work.verifications += 1;
        verify::verify(key, alg, parts.signing_input, sig)?;
        // Claims, behind a verified signature.
        let len = b64::decode(parts.claims, &mut s.claims)?.len();
        let checked = s.parser.parse(&mut s.claims, len, |c| match claims::validate(c, &self.policy, now) {
            Ok(valid) => Ok(on_valid(c, valid)),
            Err(rejection) => Err(Denial { reason: rejection.into(), sub: claims::subject(c).map(Into::into) }),
        });
        checked?
    }

    /// Answers one raw authorizer event (any bytes) at `now`. Never fails: anything
    /// unexpected is a refusal in the shape the event (or the configuration) calls for.
    pub fn handle(&self, event: &[u8], now: u64, scratch: &mut Scratch) -> Handled {
        self.handle_in::<NoStore>(event, now, scratch, None)
    }

    /// [`decide`](Self::decide) through a decision [`Store`] (one worker's [`DecisionCache`](crate::cache::DecisionCache), or
    /// the workers' [`SharedCache`](crate::shared_cache::SharedCache)): a token it saw allowed,
    /// still before its `exp`, is answered without verifying it again (no allocation).
    /// The cache must only ever be used with this authorizer: see
    /// [`CachedAuthorizer`](crate::cache::CachedAuthorizer) and
    /// [`SharedAuthorizer`](crate::shared_cache::SharedAuthorizer), which guarantee it. No
    /// lock of the store is held while verifying: it is asked, then told.
    pub(crate) fn decide_cached(
        &self,
        token: &[u8],
        now: u64,
        scratch: &mut Scratch,
        cache: &mut impl Store,
    ) -> Result<(), Denial> {
        if cache.allows(token, now) {
            return Ok(());
        }
        let exp = self.verify(token, now, scratch, |_, valid| valid.exp)?;
        cache.store_allow(token, now, exp);
        Ok(())
    }

    /// [`handle`](Self::handle) through a decision [`Store`] (see [`decide_cached`](Self::decide_cached)).
    pub(crate) fn handle_cached(
        &self,
        event: &[u8],
        now: u64,
        scratch: &mut Scratch,
        cache: &mut impl Store,
    ) -> Handled {
        self.handle_in(event, now, scratch, Some(cache))
    }

    fn handle_in<C: Store>(&self, event: &[u8], now: u64, scratch: &mut Scratch, cache: Option<&mut C>) -> Handled {
        if event.len() > event::MAX_EVENT_LEN {
            return self.refuse_event(Reason::BadEvent);
        }
        let Scratch { token, events, event: buf, dropped } = scratch;
        dropped.clear(); // what an earlier decision left for a caller that did not take it
        buf.clear();
        buf.extend_from_slice(event);
        buf.resize(event.len() + PADDING, 0);
        let handled = events.parse(buf, event.len(), |ev| {
            let source = event::Source {
                header: &self.token_header,
                cookie: self.cookie.as_deref(),
                query: self.token_query.as_deref(),
            };
            let req = event::read_from(ev, source)?;
            Ok::<_, Reason>(self.handle_request(req, event::from_http_api(ev), now, (token, dropped), cache))
        });
        match handled {
            Ok(Ok(h)) => h,
            Ok(Err(reason)) => self.refuse_event(reason),
            // Not JSON, not UTF-8 or nested too deep: not an event we know (not `bad_json`,
            // which names the token's header or claims).
            Err(_) => self.refuse_event(Reason::BadEvent),
        }
    }

    /// The subject and response context for a valid token: from the cache when it holds
    /// this token's answer, else verified (and then stored).
    fn subject_and_context<C: Store>(
        &self,
        token: &[u8],
        now: u64,
        (s, dropped): (&mut TokenScratch, &mut Vec<String>),
        iam: bool,
        cache: Option<&mut C>,
    ) -> Result<(String, Map<String, serde_json::Value>), Denial> {
        let mut context =
            |claims: Value<'_, '_>, sub: &str| response::context(claims, sub, &self.context, iam, &mut *dropped);
        let Some(cache) = cache else {
            return self.verify_in(token, now, s, |claims, v| (v.sub.to_owned(), context(claims, v.sub)));
        };
        if let Some(hit) = cache.find_answer(token, now, iam) {
            s.work.cache_hits += 1;
            return Ok(hit);
        }
        s.work.cache_misses += 1;
        let (sub, ctx, exp) =
            self.verify_in(token, now, s, |claims, v| (v.sub.to_owned(), context(claims, v.sub), v.exp))?;
        cache.store_answer(token, now, exp, iam, &ctx);
        Ok((sub, ctx))
    }

    /// A refusal for an event we cannot read: in the configured format, since the event
    /// did not tell us which one it wanted.
    fn refuse_event(&self, reason: Reason) -> Handled {
        let response = match self.format {
            Format::Simple => Response::simple(false, Default::default()),
            Format::Iam => Response::Unauthorized,
        };
        Handled { response, denial: Some(reason.into()) }
    }

    /// The answer to a readable event. How a refusal is said depends on the API type:
    ///
    /// - REST APIs (TOKEN and REQUEST): the function error `Unauthorized` is API Gateway's
    ///   401, and an IAM `Deny` is its 403 ("Call an API with API Gateway Lambda authorizers",
    ///   https://docs.aws.amazon.com/apigateway/latest/developerguide/call-api-with-api-gateway-lambda-authorization.html;
    ///   any other error is a 500). So authentication failures are `Unauthorized`, and only an
    ///   authentic caller who fails `JWT_REQUIRE` gets a `Deny`.
    /// - WebSocket APIs (`$connect`): as REST APIs. AWS documents the WebSocket Lambda
    ///   authorizer as "similar to that for REST APIs", with the same IAM policy output
    ///   ("Control access to WebSocket APIs with AWS Lambda REQUEST authorizers",
    ///   https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-lambda-auth.html):
    ///   the client's upgrade request gets the 401, 403 or 500 and no connection is made.
    /// - HTTP APIs answered with IAM policies (payload 1.0, or 2.0 with `JWT_RESPONSE_FORMAT=iam`):
    ///   AWS documents two answers, an IAM policy with `Allow` or `Deny`, and "If API Gateway
    ///   can't invoke your Lambda authorizer, or your Lambda authorizer returns a response in an
    ///   invalid format, clients receive a `500 Internal Server Error`"; it documents no 401
    ///   for a function error ("Working with AWS Lambda authorizers for HTTP APIs",
    ///   https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-lambda-authorizer.html).
    ///   So every refusal is a `Deny` policy (403), never the `Unauthorized` error. (A request
    ///   without the identity source gets API Gateway's own 401 and never reaches the function.)
    fn handle_request<C: Store>(
        &self,
        req: event::Request<'_>,
        http_api: bool,
        now: u64,
        s: (&mut TokenScratch, &mut Vec<String>),
        cache: Option<&mut C>,
    ) -> Handled {
        let iam = req.kind != Kind::HttpV2 || self.format == Format::Iam;
        // Only IAM answers name a resource (built lazily: simple responses never need it).
        let resource = || req.arn.and_then(event::stage_wildcard);
        let verdict = req
            .token
            .map_err(Denial::from)
            .and_then(|token| self.subject_and_context(token.as_bytes(), now, s, iam, cache));
        match (verdict, iam) {
            (Ok((_, ctx)), false) => Handled { response: Response::simple(true, ctx), denial: None },
            (Err(d), false) => Handled { response: Response::simple(false, Default::default()), denial: Some(d) },
            (Ok((sub, ctx)), true) => match resource() {
                Some(res) => Handled { response: Response::policy(&sub, true, res, ctx), denial: None },
                None => Handled { response: Response::Unauthorized, denial: Some(Reason::BadEvent.into()) },
            },
            (Err(d), true) if http_api => {
                let response = match resource() {
                    Some(res) => {
                        Response::policy(d.sub.as_deref().unwrap_or(UNKNOWN_PRINCIPAL), false, res, Map::new())
                    }
                    None => Response::Unauthorized, // no route ARN: not an event API Gateway sends
                };
                Handled { response, denial: Some(d) }
            }
            (Err(d), true) => {
                let response = match (&d.sub, d.reason.is_forbidden().then(resource).flatten()) {
                    (Some(sub), Some(res)) => Response::policy(sub, false, res, Default::default()),
                    _ => Response::Unauthorized,
                };
                Handled { response, denial: Some(d) }
            }
        }
    }
}
