//! Claims validation (RFC 7519 §4.1): time, subject, issuer, audience, `azp`, rules.
//!
//! Runs only behind a verified signature. The clock is an argument (`now`, Unix seconds):
//! nothing here reads it. Settings are plain data; [`Policy::default`] states the defaults.

use crate::jwt::Rejection;
use crate::jwt::json::Value;
use crate::jwt::path;
use simd_json::StaticNode;

/// Default clock skew, in seconds (Clerk's default; a Clerk token lives 60 s).
pub const DEFAULT_LEEWAY: u64 = 5;
/// Longest `sub` accepted, in bytes (OpenID Connect Core §2).
pub const MAX_SUB_LEN: usize = 255;
/// Largest configurable clock skew, in seconds.
pub const MAX_LEEWAY: u64 = 300;

/// What a token's claims must satisfy. `Default`: no issuer/audience/azp configured
/// (so tokens carrying `aud` are refused), 5 s leeway, no rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    /// `iss` must equal one of these when non-empty (`JWT_ISSUER`).
    pub issuers: Vec<String>,
    /// `aud` must contain one of these when non-empty (`JWT_AUDIENCE`).
    pub audiences: Vec<String>,
    /// `azp` must equal one of these when non-empty (`JWT_AUTHORIZED_PARTIES`).
    pub authorized_parties: Vec<String>,
    /// Clock skew for `exp`, `nbf`, `iat` in seconds (`JWT_LEEWAY_SECONDS`).
    pub leeway: u64,
    /// All must hold (`JWT_REQUIRE`); failing one is a 403, not a 401.
    pub require: Vec<Rule>,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            issuers: Vec::new(),
            audiences: Vec::new(),
            authorized_parties: Vec::new(),
            leeway: DEFAULT_LEEWAY,
            require: Vec::new(),
        }
    }
}

/// `path=value[|value…]`: the claim at `path` ([`crate::jwt::path`]) equals one of `values`.
/// An array claim matches when any element does; so does the space-delimited string of a
/// top-level `scope` or `scp` claim (RFC 6749 §3.3, RFC 9068 §2.2.3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    pub path: Vec<String>,
    pub values: Vec<String>,
}

impl Rule {
    /// Parses one rule, e.g. `metadata.role=admin|owner`.
    pub fn parse(text: &str) -> Result<Rule, &'static str> {
        let (path, values) = path::split_once_unquoted(text, '=')?.ok_or("a rule must look like path=value[|value]")?;
        let path = path::parse(path)?.segments;
        let values: Vec<String> = values.split('|').map(|v| v.trim().to_owned()).collect();
        if values.iter().any(String::is_empty) {
            return Err("a rule has an empty value");
        }
        // `scope`/`scp` are compared item by item: a value with a space could never match.
        if matches!(&path[..], [top] if top == "scope" || top == "scp") && values.iter().any(|v| v.contains(' ')) {
            return Err("a scope value cannot contain a space (name one scope; list others with |)");
        }
        Ok(Rule { path, values })
    }

    /// Whether `claims` satisfy the rule.
    pub fn holds(&self, claims: Value<'_, '_>) -> bool {
        let Some(v) = claims.pointer(self.path.iter().map(String::as_str)) else {
            return false;
        };
        if v.is_array() {
            return v.elements().any(|e| self.matches(e));
        }
        match (v.as_str(), &self.path[..]) {
            (Some(list), [top]) if top == "scope" || top == "scp" => {
                list.split(' ').any(|s| self.values.iter().any(|want| want == s))
            }
            _ => self.matches(v),
        }
    }

    fn matches(&self, v: Value<'_, '_>) -> bool {
        self.values.iter().any(|want| scalar_equals(v, want))
    }
}

/// String claims compare exactly; booleans and integers compare by their JSON text.
fn scalar_equals(v: Value<'_, '_>, want: &str) -> bool {
    if let Some(s) = v.as_str() {
        return s == want;
    }
    match v.as_static() {
        Some(StaticNode::Bool(b)) => want == if b { "true" } else { "false" },
        Some(StaticNode::I64(n)) => want.parse::<i64>() == Ok(n),
        Some(StaticNode::U64(n)) => want.parse::<u64>() == Ok(n),
        _ => false,
    }
}

/// The `sub` claim, when it is a string.
pub fn subject<'b>(claims: Value<'_, 'b>) -> Option<&'b str> {
    claims.get("sub").and_then(|v| v.as_str())
}

/// What validation found in valid claims: the subject, and the expiry (the decision cache
/// keeps an allow until then).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Valid<'b> {
    /// `sub` (RFC 7519 §4.1.2), a string of at most [`MAX_SUB_LEN`] bytes.
    pub sub: &'b str,
    /// `exp` (RFC 7519 §4.1.4), a NumericDate, in the future (within leeway) at validation.
    pub exp: f64,
}

/// Validates `claims` at time `now` (Unix seconds) and returns the subject and expiry.
/// Order: shape, time, subject, issuer, audience, azp, then rules (the only 403).
pub fn validate<'b>(claims: Value<'_, 'b>, policy: &Policy, now: u64) -> Result<Valid<'b>, Rejection> {
    if !claims.is_object() {
        return Err(Rejection::BadJson); // RFC 7519 §7.2 step 10: a JSON object
    }
    claims.check_unique_members()?; // RFC 7519 §4: names MUST be unique
    let now = now as f64;
    let leeway = policy.leeway as f64;
    // RFC 7519 §4.1.4: reject at or after `exp` (plus leeway). Required here.
    let exp = time(claims, "exp")?.ok_or(Rejection::MissingExp)?;
    if now >= exp + leeway {
        return Err(Rejection::Expired);
    }
    // RFC 7519 §4.1.5: reject before `nbf` (minus leeway).
    if time(claims, "nbf")?.is_some_and(|nbf| now + leeway < nbf) {
        return Err(Rejection::NotYetValid);
    }
    // RFC 7519 §4.1.6: `iat` is informational, but one from the future is forged or broken.
    if time(claims, "iat")?.is_some_and(|iat| iat > now + leeway) {
        return Err(Rejection::IssuedInFuture);
    }
    // RFC 7519 §4.1.2: the principal.
    let sub = match claims.get("sub") {
        None => return Err(Rejection::MissingSub),
        // OpenID Connect Core §2: `sub` "MUST NOT exceed 255 ASCII characters". Longer is
        // refused: it goes into the answer twice and must not push it past API Gateway's limit.
        Some(v) => v.as_str().filter(|s| s.len() <= MAX_SUB_LEN).ok_or(Rejection::MalformedSub)?,
    };
    // RFC 7519 §4.1.1
    if !policy.issuers.is_empty() {
        let iss = claims.get("iss").ok_or(Rejection::MissingIssuer)?;
        if !iss.as_str().is_some_and(|i| policy.issuers.iter().any(|w| w == i)) {
            return Err(Rejection::WrongIssuer);
        }
    }
    // RFC 7519 §4.1.3: a recipient that does not identify itself with a value in `aud`
    // MUST reject — including when no audience is configured at all.
    match claims.get("aud") {
        None if policy.audiences.is_empty() => {}
        None => return Err(Rejection::MissingAudience),
        Some(aud) => {
            let ours = |a: Value<'_, '_>| a.as_str().is_some_and(|a| policy.audiences.iter().any(|w| w == a));
            let ok = if aud.is_array() { aud.elements().any(ours) } else { ours(aud) };
            if !ok {
                return Err(Rejection::WrongAudience);
            }
        }
    }
    // OpenID Connect Core §2 `azp`; Clerk sets it to the requesting origin.
    if !policy.authorized_parties.is_empty() {
        let azp = claims.get("azp").ok_or(Rejection::MissingAzp)?;
        if !azp.as_str().is_some_and(|a| policy.authorized_parties.iter().any(|w| w == a)) {
            return Err(Rejection::WrongAzp);
        }
    }
    if !policy.require.iter().all(|r| r.holds(claims)) {
        return Err(Rejection::RuleFailed);
    }
    Ok(Valid { sub, exp })
}

/// A NumericDate claim (RFC 7519 §2): absent → `None`, present but not a number → error.
fn time(claims: Value<'_, '_>, name: &str) -> Result<Option<f64>, Rejection> {
    match claims.get(name) {
        None => Ok(None),
        Some(v) => v.as_f64().map(Some).ok_or(Rejection::MalformedTime),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jwt::json::{PADDING, Parser};

    const NOW: u64 = 1_700_000_000;

    fn check(json: &str, policy: &Policy) -> Result<String, Rejection> {
        let mut buf = json.as_bytes().to_vec();
        let len = buf.len();
        buf.resize(len + PADDING, 0);
        Parser::with_capacity(64)
            .parse(&mut buf, len, |v| validate(v, policy, NOW).map(|v| String::from(v.sub)))
            .and_then(|r| r)
    }

    fn ok(extra: &str) -> String {
        format!(r#"{{"sub":"user_1","exp":{},"iat":{}{extra}}}"#, NOW + 60, NOW - 1)
    }

    /// The expiry comes out of validation as the token says it (fractions kept), so nothing
    /// has to read `exp` again.
    #[test]
    fn validation_returns_the_subject_and_the_expiry() {
        let mut buf = br#"{"sub":"user_1","exp":1700000060.5}"#.to_vec();
        let len = buf.len();
        buf.resize(len + PADDING, 0);
        let got = Parser::with_capacity(64)
            .parse(&mut buf, len, |v| validate(v, &Policy::default(), NOW).map(|v| (v.sub.to_owned(), v.exp)))
            .and_then(|r| r);
        assert_eq!(got, Ok(("user_1".to_owned(), 1_700_000_060.5)));
    }

    #[test]
    fn time_claims_with_leeway() {
        let p = Policy::default();
        assert_eq!(check(&ok(""), &p).as_deref(), Ok("user_1"));
        let at = |exp: u64| format!(r#"{{"sub":"s","exp":{exp}}}"#);
        assert_eq!(check(&at(NOW - 4), &p).as_deref(), Ok("s"), "within 5 s leeway");
        assert_eq!(check(&at(NOW - 5), &p), Err(Rejection::Expired), "at exp + leeway");
        assert_eq!(check(&at(NOW - 1000), &p), Err(Rejection::Expired));
        let strict = Policy { leeway: 0, ..Policy::default() };
        assert_eq!(check(&at(NOW), &strict), Err(Rejection::Expired), "RFC: current time before exp");
        assert_eq!(check(&at(NOW + 1), &strict).as_deref(), Ok("s"));
        assert_eq!(check(r#"{"sub":"s"}"#, &p), Err(Rejection::MissingExp));
        assert_eq!(check(r#"{"sub":"s","exp":"1"}"#, &p), Err(Rejection::MalformedTime));
        assert_eq!(check(r#"{"sub":"s","exp":null}"#, &p), Err(Rejection::MalformedTime));
        assert_eq!(check(&format!(r#"{{"sub":"s","exp":{}.5}}"#, NOW + 10), &p).as_deref(), Ok("s"));
        assert_eq!(check(&ok(&format!(r#","nbf":{}"#, NOW + 6)), &p), Err(Rejection::NotYetValid));
        assert_eq!(check(&ok(&format!(r#","nbf":{}"#, NOW + 5)), &p).as_deref(), Ok("user_1"));
        assert_eq!(check(&ok(r#","nbf":true"#), &p), Err(Rejection::MalformedTime));
        let future_iat = format!(r#"{{"sub":"s","exp":{},"iat":{}}}"#, NOW + 60, NOW + 6);
        assert_eq!(check(&future_iat, &p), Err(Rejection::IssuedInFuture));
    }

    #[test]
    fn subject_is_required_and_a_string() {
        let p = Policy::default();
        assert_eq!(check(&format!(r#"{{"exp":{}}}"#, NOW + 60), &p), Err(Rejection::MissingSub));
        assert_eq!(check(&format!(r#"{{"exp":{},"sub":1}}"#, NOW + 60), &p), Err(Rejection::MalformedSub));
        let sub = |n: usize| format!(r#"{{"exp":{},"sub":"{}"}}"#, NOW + 60, "u".repeat(n));
        assert_eq!(check(&sub(255), &p).map(|s| s.len()), Ok(255));
        assert_eq!(check(&sub(256), &p), Err(Rejection::MalformedSub), "OpenID Connect Core §2: at most 255");
        assert_eq!(check(&sub(9000), &p), Err(Rejection::MalformedSub));
    }

    #[test]
    fn issuer_audience_and_azp() {
        let p = Policy {
            issuers: vec!["https://a.clerk.accounts.dev".into(), "https://b".into()],
            audiences: vec!["api".into()],
            authorized_parties: vec!["https://app.example.com".into()],
            ..Policy::default()
        };
        let good = r#","iss":"https://b","aud":["x","api"],"azp":"https://app.example.com""#;
        assert_eq!(check(&ok(good), &p).as_deref(), Ok("user_1"));
        assert_eq!(check(&ok(r#","aud":"api","azp":"https://app.example.com""#), &p), Err(Rejection::MissingIssuer));
        assert_eq!(check(&ok(&good.replace("https://b", "https://B")), &p), Err(Rejection::WrongIssuer));
        assert_eq!(
            check(&ok(r#","iss":"https://b","azp":"https://app.example.com""#), &p),
            Err(Rejection::MissingAudience)
        );
        assert_eq!(check(&ok(&good.replace("\"api\"", "\"apix\"")), &p), Err(Rejection::WrongAudience));
        assert_eq!(check(&ok(r#","iss":"https://b","aud":"api""#), &p), Err(Rejection::MissingAzp));
        assert_eq!(check(&ok(&good.replace("app.example", "evil.example")), &p), Err(Rejection::WrongAzp));
        // no audience configured: a token that names one is refused (RFC 7519 §4.1.3)
        assert_eq!(check(&ok(r#","aud":"api""#), &Policy::default()), Err(Rejection::WrongAudience));
        assert_eq!(check(&ok(r#","aud":[]"#), &Policy::default()), Err(Rejection::WrongAudience));
    }

    #[test]
    fn rules_on_nested_claims_and_arrays() {
        let p = Policy { require: vec![Rule::parse("metadata.role=admin|owner").unwrap()], ..Policy::default() };
        assert!(check(&ok(r#","metadata":{"role":"admin"}"#), &p).is_ok());
        assert!(check(&ok(r#","metadata":{"role":"owner"}"#), &p).is_ok());
        assert!(check(&ok(r#","metadata":{"role":["viewer","owner"]}"#), &p).is_ok());
        assert_eq!(check(&ok(r#","metadata":{"role":"viewer"}"#), &p), Err(Rejection::RuleFailed));
        assert_eq!(check(&ok(r#","metadata":{"role":"Admin"}"#), &p), Err(Rejection::RuleFailed));
        assert_eq!(check(&ok(r#","role":"admin""#), &p), Err(Rejection::RuleFailed));
        assert_eq!(check(&ok(""), &p), Err(Rejection::RuleFailed));
        let typed = Policy {
            require: vec![Rule::parse("email_verified=true").unwrap(), Rule::parse("org.level=3").unwrap()],
            ..Policy::default()
        };
        assert!(check(&ok(r#","email_verified":true,"org":{"level":3}"#), &typed).is_ok());
        assert_eq!(check(&ok(r#","email_verified":"true","org":{"level":3}"#), &typed), Ok("user_1".into()));
        assert_eq!(check(&ok(r#","email_verified":false,"org":{"level":3}"#), &typed), Err(Rejection::RuleFailed));
    }

    #[test]
    fn namespaced_claims_and_scopes() {
        let rule = |r: &str| Policy { require: vec![Rule::parse(r).unwrap()], ..Policy::default() };
        // Auth0: custom claims are namespaced with a URL.
        let p = rule(r#""https://example.com/roles"=admin"#);
        assert!(check(&ok(r#","https://example.com/roles":["viewer","admin"]"#), &p).is_ok());
        assert_eq!(check(&ok(r#","https://example.com/roles":["viewer"]"#), &p), Err(Rejection::RuleFailed));
        assert_eq!(check(&ok(r#","https://example":{"com/roles":"admin"}"#), &p), Err(Rejection::RuleFailed));
        let p = rule(r#"metadata."a.b"=1"#);
        assert!(check(&ok(r#","metadata":{"a.b":1}"#), &p).is_ok());
        assert_eq!(check(&ok(r#","metadata":{"a":{"b":1}}"#), &p), Err(Rejection::RuleFailed));
        // OAuth `scope` is one space-delimited string (RFC 8693 §4.2, RFC 9068 §2.2.3).
        let p = rule("scope=read:orders");
        assert!(check(&ok(r#","scope":"openid read:orders write:orders""#), &p).is_ok());
        assert!(check(&ok(r#","scope":"read:orders""#), &p).is_ok());
        assert_eq!(check(&ok(r#","scope":"read:orders:all write""#), &p), Err(Rejection::RuleFailed));
        assert_eq!(check(&ok(r#","scope":"read:ordersx""#), &p), Err(Rejection::RuleFailed));
        assert_eq!(
            check(&ok(r#","other":{"scope":"read:orders x"}"#), &rule("other.scope=read:orders")),
            Err(Rejection::RuleFailed)
        );
        // `scp`: an array (Okta) or a space-delimited string (Entra ID).
        let p = rule("scp=Orders.Read");
        assert!(check(&ok(r#","scp":["profile","Orders.Read"]"#), &p).is_ok());
        assert!(check(&ok(r#","scp":"User.Read Orders.Read""#), &p).is_ok());
        assert_eq!(check(&ok(r#","scp":"User.Read""#), &p), Err(Rejection::RuleFailed));
        // Other string claims still compare whole.
        assert_eq!(check(&ok(r#","role":"admin owner""#), &rule("role=admin")), Err(Rejection::RuleFailed));
    }

    #[test]
    fn rule_syntax() {
        assert_eq!(
            Rule::parse("a.b=c|d").unwrap(),
            Rule { path: vec!["a".into(), "b".into()], values: vec!["c".into(), "d".into()] }
        );
        assert_eq!(Rule::parse(r#""https://x.example/r=1"=a"#).unwrap().path, vec!["https://x.example/r=1"]);
        for bad in
            ["role", "=admin", "role=", "a..b=c", "role=a||b", ".a=b", r#""a=b"#, r#"a"b"=c"#, "a b=c", "scope=a b"]
        {
            assert!(Rule::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn duplicate_claims_are_refused() {
        let dup = format!(r#"{{"sub":"a","sub":"b","exp":{}}}"#, NOW + 60);
        assert_eq!(check(&dup, &Policy::default()), Err(Rejection::DuplicateMember));
        assert_eq!(check("[1]", &Policy::default()), Err(Rejection::BadJson));
    }
}
