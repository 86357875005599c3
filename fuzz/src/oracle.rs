//! Independent re-implementations the targets compare against: a `serde_json` walk that
//! sees every string and every duplicate member name, and the claims policy written again
//! over `serde_json::Value` (RFC 7519 §4.1 as the crate documents it), sharing no code
//! with `jwt_authorizer::jwt::claims`.

use jwt_authorizer::jwt::claims::{Policy, Rule};
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use std::collections::HashSet;

/// Deepest nesting the crate accepts (`json::MAX_DEPTH`), restated.
pub const MAX_DEPTH: usize = 64;

/// What [`walk`] found in a JSON document.
#[derive(Debug, Default)]
pub struct Walk {
    /// Every string, member names included, in document order, unescaped.
    pub strings: Vec<String>,
    /// Some object repeats a member name (compared after unescaping).
    pub duplicate: bool,
    /// Nesting depth: a scalar is 0, `{}` is 1, `[[]]` is 2.
    pub depth: usize,
}

/// Walks `json` with `serde_json` (its own recursion limit is 128).
pub fn walk(json: &[u8]) -> Result<Walk, serde_json::Error> {
    let mut w = Walk::default();
    let mut de = serde_json::Deserializer::from_slice(json);
    Seed { w: &mut w, depth: 0 }.deserialize(&mut de)?;
    de.end()?;
    Ok(w)
}

struct Seed<'a> {
    w: &'a mut Walk,
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for Seed<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Seed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        self.w.strings.push(v.to_owned());
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<(), A::Error> {
        let Seed { w, depth } = self;
        w.depth = w.depth.max(depth + 1);
        while a.next_element_seed(Seed { w: &mut *w, depth: depth + 1 })?.is_some() {}
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<(), A::Error> {
        let Seed { w, depth } = self;
        w.depth = w.depth.max(depth + 1);
        let mut names = HashSet::new();
        while let Some(name) = a.next_key::<String>()? {
            w.strings.push(name.clone());
            w.duplicate |= !names.insert(name);
            a.next_value_seed(Seed { w: &mut *w, depth: depth + 1 })?;
        }
        Ok(())
    }
}

/// The claims policy, restated: `Ok(())` when `claims` (free of duplicate names, nested
/// at most [`MAX_DEPTH`]) authorize at `now`, else the rule that fails.
pub fn claims_verdict(claims: &Value, p: &Policy, now: u64) -> Result<(), &'static str> {
    let c = claims.as_object().ok_or("claims are not an object")?;
    let time = |name: &str| -> Result<Option<f64>, &'static str> {
        match c.get(name) {
            None => Ok(None),
            Some(Value::Number(n)) => n.as_f64().map(Some).ok_or("unrepresentable number"),
            Some(_) => Err("a time claim is not a number"),
        }
    };
    let (now, leeway) = (now as f64, p.leeway as f64);
    let exp = time("exp")?.ok_or("exp is required")?;
    if now >= exp + leeway {
        return Err("expired: now is not before exp + leeway");
    }
    if time("nbf")?.is_some_and(|nbf| nbf > now + leeway) {
        return Err("nbf is later than now + leeway");
    }
    if time("iat")?.is_some_and(|iat| iat > now + leeway) {
        return Err("iat is later than now + leeway");
    }
    c.get("sub").ok_or("sub is required")?.as_str().ok_or("sub is not a string")?;
    let one_of =
        |v: Option<&Value>, list: &[String]| v.and_then(Value::as_str).is_some_and(|s| list.iter().any(|w| w == s));
    if !p.issuers.is_empty() && !one_of(c.get("iss"), &p.issuers) {
        return Err("iss is not a configured issuer");
    }
    match c.get("aud") {
        None if p.audiences.is_empty() => {}
        None => return Err("aud is required when audiences are configured"),
        Some(Value::Array(items)) => {
            if !items.iter().any(|a| one_of(Some(a), &p.audiences)) {
                return Err("no aud element is a configured audience");
            }
        }
        Some(aud) => {
            if !one_of(Some(aud), &p.audiences) {
                return Err("aud is not a configured audience");
            }
        }
    }
    if !p.authorized_parties.is_empty() && !one_of(c.get("azp"), &p.authorized_parties) {
        return Err("azp is not a configured authorized party");
    }
    if !p.require.iter().all(|r| rule_holds(r, claims)) {
        return Err("a required rule does not hold");
    }
    Ok(())
}

fn rule_holds(rule: &Rule, claims: &Value) -> bool {
    let mut v = claims;
    for step in &rule.path {
        match v.as_object().and_then(|o| o.get(step)) {
            Some(next) => v = next,
            None => return false,
        }
    }
    let matches = |v: &Value| {
        rule.values.iter().any(|want| match v {
            Value::String(s) => s == want,
            Value::Bool(b) => want == &b.to_string(),
            Value::Number(n) => {
                n.as_i64().is_some_and(|i| want.parse::<i64>() == Ok(i))
                    || n.as_u64().is_some_and(|u| want.parse::<u64>() == Ok(u))
            }
            _ => false,
        })
    };
    match v {
        Value::Array(items) => items.iter().any(matches),
        other => matches(other),
    }
}

/// Whether `json` (valid JSON) spells an integer — no fraction, no exponent — outside
/// `i64::MIN..=u64::MAX`. The crate's parser (simd-json without `big-int-as-float`)
/// refuses such documents, where `serde_json` reads the number as an `f64`: a documented,
/// fail-closed limit (docs/fuzzing.md), so the oracles expect a refusal.
pub fn has_big_integer(json: &[u8]) -> bool {
    let (mut i, mut in_string) = (0, false);
    while i < json.len() {
        let b = json[i];
        if in_string {
            match b {
                b'\\' => i += 1,
                b'"' => in_string = false,
                _ => {}
            }
            i += 1;
            continue;
        }
        if b == b'"' {
            in_string = true;
            i += 1;
            continue;
        }
        if b == b'-' || b.is_ascii_digit() {
            let start = i;
            while i < json.len() && (json[i].is_ascii_digit() || b"-+.eE".contains(&json[i])) {
                i += 1;
            }
            let number = &json[start..i];
            let integer = !number.iter().any(|c| b".eE".contains(c));
            let text = std::str::from_utf8(number).unwrap_or("");
            if integer && text.parse::<i64>().is_err() && text.parse::<u64>().is_err() {
                return true;
            }
            continue;
        }
        i += 1;
    }
    false
}

/// The expected verdict for raw claims bytes: `Some(allowed)` when `serde_json` parses them,
/// `None` when it does not (the caller decides what an unparsable document must do).
pub fn expected_claims(bytes: &[u8], p: &Policy, now: u64) -> Option<Result<(), &'static str>> {
    let w = walk(bytes).ok()?;
    if w.duplicate {
        return Some(Err("duplicate member name"));
    }
    if w.depth > MAX_DEPTH {
        return Some(Err("nested deeper than 64"));
    }
    if has_big_integer(bytes) {
        return Some(Err("an integer literal beyond 64 bits"));
    }
    let v: Value = serde_json::from_slice(bytes).ok()?;
    Some(claims_verdict(&v, p, now))
}
