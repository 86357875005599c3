//! The structure-aware target's input: a header and claims described as choices (mostly
//! near the valid token, sometimes anything), written as JSON by our own small writer,
//! signed with the fuzz key, optionally tampered with — and the verdict the fixture policy
//! must give, computed from the same description without the crate's parser or validator.

use crate::oracle::{self, MAX_DEPTH};
use crate::{AZP, FIXTURE, FUZZ_KID, ISSUER, NOW, OTHER_KID};
use arbitrary::Arbitrary;
use jwt_authorizer::jwt::header::Alg;
use serde_json::{Map, Number, Value};

/// A JSON value as we write it. `Num` is exactly `twice / 2` (integers and halves).
#[derive(Arbitrary, Clone, Debug)]
pub enum J {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Num { twice: i128, fmt: NumFmt },
    Str(String),
    Arr(Vec<J>),
    Obj(Vec<(String, J)>),
}

/// How a `Num` is spelled: all spellings denote the same value.
#[derive(Arbitrary, Clone, Copy, Debug)]
pub enum NumFmt {
    Plain,
    DotZero,
    ScaledExp,
    Scientific,
}

#[derive(Arbitrary, Clone, Copy, Debug, Default)]
pub struct Style {
    pub escape_non_ascii: bool,
    pub escape_names: bool,
    pub spaces: bool,
}

#[derive(Arbitrary, Clone, Debug)]
pub enum AlgChoice {
    RS256,
    Named(AlgName),
    Missing,
    Json(J),
}

#[derive(Arbitrary, Clone, Copy, Debug)]
pub enum AlgName {
    RS384,
    RS512,
    PS256,
    PS512,
    HS256,
    ES256,
    NoneLower,
    NoneTitle,
    Rs256Lower,
    Rs256Space,
}

impl AlgName {
    fn text(self) -> &'static str {
        match self {
            AlgName::RS384 => "RS384",
            AlgName::RS512 => "RS512",
            AlgName::PS256 => "PS256",
            AlgName::PS512 => "PS512",
            AlgName::HS256 => "HS256",
            AlgName::ES256 => "ES256",
            AlgName::NoneLower => "none",
            AlgName::NoneTitle => "None",
            AlgName::Rs256Lower => "rs256",
            AlgName::Rs256Space => "RS256 ",
        }
    }
}

#[derive(Arbitrary, Clone, Debug)]
pub enum KidChoice {
    Fuzz,
    Other,
    Missing,
    Json(J),
}

#[derive(Arbitrary, Clone, Debug)]
pub enum TypChoice {
    Missing,
    Jwt,
    JwtLower,
    AtJwt,
    AtJwtUpper,
    AppJwt,
    AppAtJwtMixed,
    Json(J),
}

#[derive(Arbitrary, Clone, Debug)]
pub enum HeaderName {
    Jku,
    X5u,
    Jwk,
    X5c,
    Cty,
    Custom(u8),
    Raw(String),
}

#[derive(Arbitrary, Clone, Debug)]
pub struct HeaderSpec {
    pub alg: AlgChoice,
    pub kid: KidChoice,
    pub typ: TypChoice,
    pub crit: Option<J>,
    pub extra: Vec<(HeaderName, J)>,
    pub dup: Option<(u8, J)>,
    pub rotate: u8,
}

#[derive(Arbitrary, Clone, Debug)]
pub enum Time {
    /// `NOW + offset` (+ 0.5 when `half`).
    At {
        offset: i16,
        half: bool,
        fmt: NumFmt,
    },
    Missing,
    Json(J),
}

#[derive(Arbitrary, Clone, Debug)]
pub enum Text {
    Good,
    Missing,
    Str(String),
    Json(J),
}

#[derive(Arbitrary, Clone, Debug)]
pub enum Aud {
    Api,
    Api2,
    Missing,
    List(Vec<AudItem>),
    Json(J),
}

#[derive(Arbitrary, Clone, Debug)]
pub enum AudItem {
    Api,
    Api2,
    Json(J),
}

#[derive(Arbitrary, Clone, Debug)]
pub enum Meta {
    Role(Role, Vec<(String, J)>),
    Missing,
    Json(J),
}

#[derive(Arbitrary, Clone, Debug)]
pub enum Role {
    Admin,
    Owner,
    List(Vec<RoleItem>),
    Json(J),
}

#[derive(Arbitrary, Clone, Debug)]
pub enum RoleItem {
    Admin,
    Owner,
    Json(J),
}

#[derive(Arbitrary, Clone, Debug)]
pub enum ClaimName {
    Email,
    Name,
    Jti,
    Custom(u8),
    Raw(String),
}

#[derive(Arbitrary, Clone, Debug)]
pub struct ClaimsSpec {
    pub exp: Time,
    pub nbf: Time,
    pub iat: Time,
    pub sub: Text,
    pub iss: Text,
    pub aud: Aud,
    pub azp: Text,
    pub meta: Meta,
    pub extra: Vec<(ClaimName, J)>,
    pub dup: Option<(u8, J)>,
    pub rotate: u8,
}

#[derive(Arbitrary, Clone, Copy, Debug)]
pub enum SignAlg {
    RS256,
    PS256,
    RS384,
}

#[derive(Arbitrary, Clone, Copy, Debug)]
pub enum Tamper {
    None,
    FlipSignature { at: u16, mask: u8 },
    FlipBody { at: u16, mask: u8 },
    DropSignature,
    TruncateSignature { by: u8 },
    AppendToSignature(u8),
}

/// One fuzz input.
#[derive(Arbitrary, Clone, Debug)]
pub struct Case {
    pub header: HeaderSpec,
    pub claims: ClaimsSpec,
    pub sign_with: SignAlg,
    pub tamper: Tamper,
    pub style: Style,
}

/// The token to decide, and the verdict the fixture policy must give (`Err` says why not).
pub struct Built {
    pub token: Vec<u8>,
    pub expected: Result<(), String>,
}

impl Case {
    pub fn header_members(&self) -> Vec<(String, J)> {
        let h = &self.header;
        let mut m: Vec<(String, J)> = Vec::new();
        match &h.alg {
            AlgChoice::RS256 => m.push(("alg".into(), J::Str("RS256".into()))),
            AlgChoice::Named(n) => m.push(("alg".into(), J::Str(n.text().into()))),
            AlgChoice::Missing => {}
            AlgChoice::Json(j) => m.push(("alg".into(), j.clone())),
        }
        match &h.kid {
            KidChoice::Fuzz => m.push(("kid".into(), J::Str(FUZZ_KID.into()))),
            KidChoice::Other => m.push(("kid".into(), J::Str(OTHER_KID.into()))),
            KidChoice::Missing => {}
            KidChoice::Json(j) => m.push(("kid".into(), j.clone())),
        }
        let typ = match &h.typ {
            TypChoice::Missing => None,
            TypChoice::Jwt => Some(J::Str("JWT".into())),
            TypChoice::JwtLower => Some(J::Str("jwt".into())),
            TypChoice::AtJwt => Some(J::Str("at+jwt".into())),
            TypChoice::AtJwtUpper => Some(J::Str("AT+JWT".into())),
            TypChoice::AppJwt => Some(J::Str("application/jwt".into())),
            TypChoice::AppAtJwtMixed => Some(J::Str("Application/At+JWT".into())),
            TypChoice::Json(j) => Some(j.clone()),
        };
        m.extend(typ.map(|t| ("typ".to_owned(), t)));
        m.extend(h.crit.clone().map(|c| ("crit".to_owned(), c)));
        for (name, v) in &h.extra {
            let name = match name {
                HeaderName::Jku => "jku".to_owned(),
                HeaderName::X5u => "x5u".to_owned(),
                HeaderName::Jwk => "jwk".to_owned(),
                HeaderName::X5c => "x5c".to_owned(),
                HeaderName::Cty => "cty".to_owned(),
                HeaderName::Custom(n) => format!("h{n}"),
                HeaderName::Raw(s) => s.clone(),
            };
            m.push((name, v.clone()));
        }
        finish(m, &h.dup, h.rotate)
    }

    pub fn claims_members(&self) -> Vec<(String, J)> {
        let c = &self.claims;
        let mut m: Vec<(String, J)> = Vec::new();
        for (name, t) in [("exp", &c.exp), ("nbf", &c.nbf), ("iat", &c.iat)] {
            match t {
                Time::At { offset, half, fmt } => {
                    let twice = 2 * (i128::from(NOW) + i128::from(*offset)) + i128::from(*half);
                    m.push((name.into(), J::Num { twice, fmt: *fmt }));
                }
                Time::Missing => {}
                Time::Json(j) => m.push((name.into(), j.clone())),
            }
        }
        for (name, t, good) in [("sub", &c.sub, "user_1"), ("iss", &c.iss, ISSUER), ("azp", &c.azp, AZP)] {
            match t {
                Text::Good => m.push((name.into(), J::Str(good.into()))),
                Text::Missing => {}
                Text::Str(s) => m.push((name.into(), J::Str(s.clone()))),
                Text::Json(j) => m.push((name.into(), j.clone())),
            }
        }
        let aud_item = |i: &AudItem| match i {
            AudItem::Api => J::Str("api".into()),
            AudItem::Api2 => J::Str("api2".into()),
            AudItem::Json(j) => j.clone(),
        };
        match &c.aud {
            Aud::Api => m.push(("aud".into(), J::Str("api".into()))),
            Aud::Api2 => m.push(("aud".into(), J::Str("api2".into()))),
            Aud::Missing => {}
            Aud::List(items) => m.push(("aud".into(), J::Arr(items.iter().map(aud_item).collect()))),
            Aud::Json(j) => m.push(("aud".into(), j.clone())),
        }
        let role_item = |i: &RoleItem| match i {
            RoleItem::Admin => J::Str("admin".into()),
            RoleItem::Owner => J::Str("owner".into()),
            RoleItem::Json(j) => j.clone(),
        };
        match &c.meta {
            Meta::Role(role, rest) => {
                let role = match role {
                    Role::Admin => J::Str("admin".into()),
                    Role::Owner => J::Str("owner".into()),
                    Role::List(items) => J::Arr(items.iter().map(role_item).collect()),
                    Role::Json(j) => j.clone(),
                };
                let mut meta = vec![("role".to_owned(), role)];
                meta.extend(rest.iter().cloned());
                m.push(("metadata".into(), J::Obj(meta)));
            }
            Meta::Missing => {}
            Meta::Json(j) => m.push(("metadata".into(), j.clone())),
        }
        for (name, v) in &c.extra {
            let name = match name {
                ClaimName::Email => "email".to_owned(),
                ClaimName::Name => "name".to_owned(),
                ClaimName::Jti => "jti".to_owned(),
                ClaimName::Custom(n) => format!("c{n}"),
                ClaimName::Raw(s) => s.clone(),
            };
            m.push((name, v.clone()));
        }
        finish(m, &c.dup, c.rotate)
    }

    /// Writes, signs, tampers and predicts.
    pub fn build(&self) -> Built {
        let header = J::Obj(self.header_members());
        let claims = J::Obj(self.claims_members());
        let (htext, ctext) = (write(&header, self.style), write(&claims, self.style));
        let alg = match self.sign_with {
            SignAlg::RS256 => Alg::RS256,
            SignAlg::PS256 => Alg::PS256,
            SignAlg::RS384 => Alg::RS384,
        };
        let mut token = FIXTURE.signer.sign_raw(htext.as_bytes(), ctext.as_bytes(), alg).into_bytes();
        let sig_at = token.iter().rposition(|&b| b == b'.').expect("three segments") + 1;
        let tampered = match self.tamper {
            Tamper::None => false,
            Tamper::FlipSignature { at, mask } => flip(&mut token, sig_at, usize::from(at), mask, false),
            Tamper::FlipBody { at, mask } => flip(&mut token, 0, usize::from(at), mask, true),
            Tamper::DropSignature => {
                token.truncate(sig_at);
                true
            }
            Tamper::TruncateSignature { by } => {
                let by = usize::from(by).clamp(1, token.len() - sig_at);
                token.truncate(token.len() - by);
                true
            }
            Tamper::AppendToSignature(b) => {
                token.push(b);
                true
            }
        };
        let expected = if tampered {
            Err("tampered after signing".to_owned())
        } else {
            predict(&header, &claims, [&htext, &ctext], alg, token.len())
        };
        Built { token, expected }
    }
}

/// Flips bits of one byte at `from + at % span` (span = signature, or header+claims
/// excluding the dot between them when `body`). Returns whether the token changed.
fn flip(token: &mut [u8], from: usize, at: usize, mask: u8, body: bool) -> bool {
    let end = if body { token.iter().rposition(|&b| b == b'.').unwrap_or(token.len()) } else { token.len() };
    if end <= from {
        return false;
    }
    let i = from + at % (end - from);
    if body && token[i] == b'.' {
        return false;
    }
    token[i] ^= mask.max(1);
    true
}

/// Optionally repeats member `dup.0 % len` (with another value), then rotates.
fn finish(mut m: Vec<(String, J)>, dup: &Option<(u8, J)>, rotate: u8) -> Vec<(String, J)> {
    if let (Some((i, v)), false) = (dup, m.is_empty()) {
        let name = m[usize::from(*i) % m.len()].0.clone();
        m.push((name, v.clone()));
    }
    if !m.is_empty() {
        let r = usize::from(rotate) % m.len();
        m.rotate_left(r);
    }
    m
}

/// The verdict, from the description alone.
fn predict(header: &J, claims: &J, texts: [&str; 2], signed_with: Alg, token_len: usize) -> Result<(), String> {
    if token_len > jwt_authorizer::jwt::token::MAX_TOKEN_LEN {
        return Err("token longer than 16 KiB".into());
    }
    if texts.iter().any(|t| oracle::has_big_integer(t.as_bytes())) {
        return Err("an integer literal beyond 64 bits (parser limit)".into());
    }
    for (part, j) in [("header", header), ("claims", claims)] {
        if depth(j) > MAX_DEPTH {
            return Err(format!("{part} nested deeper than 64"));
        }
        if has_duplicate(j) {
            return Err(format!("{part} repeats a member name"));
        }
    }
    let h = to_value(header);
    match h.get("alg") {
        Some(Value::String(a)) if a == "RS256" => {}
        _ => return Err("alg is not exactly RS256".into()),
    }
    if h.get("crit").is_some() {
        return Err("crit is present".into());
    }
    if let Some(t) = h.get("typ") {
        // RFC 7515 §4.1.9: `application/` may be omitted; media types are case-insensitive.
        let ok = t.as_str().is_some_and(|t| {
            let t = t.to_ascii_lowercase();
            let sub = t.strip_prefix("application/").unwrap_or(&t);
            sub == "jwt" || sub == "at+jwt"
        });
        if !ok {
            return Err("typ is neither (application/)JWT nor (application/)at+jwt".into());
        }
    }
    // Two JWKS keys and no PEM: only kid `fuzz-key` selects the key that signed.
    if h.get("kid").and_then(Value::as_str) != Some(FUZZ_KID) {
        return Err("kid does not select the fuzz key".into());
    }
    if signed_with != Alg::RS256 {
        return Err("signed with another algorithm than the header names".into());
    }
    oracle::claims_verdict(&to_value(claims), FIXTURE.simple.policy(), NOW).map_err(str::to_owned)
}

fn depth(j: &J) -> usize {
    match j {
        J::Arr(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        J::Obj(members) => 1 + members.iter().map(|(_, v)| depth(v)).max().unwrap_or(0),
        _ => 0,
    }
}

fn has_duplicate(j: &J) -> bool {
    match j {
        J::Arr(items) => items.iter().any(has_duplicate),
        J::Obj(members) => {
            let mut names: Vec<&str> = members.iter().map(|(k, _)| k.as_str()).collect();
            names.sort_unstable();
            names.windows(2).any(|w| w[0] == w[1]) || members.iter().any(|(_, v)| has_duplicate(v))
        }
        _ => false,
    }
}

/// The value a correct JSON parser reads back from [`write`] (duplicates: last wins, but
/// callers rule them out first).
pub fn to_value(j: &J) -> Value {
    match j {
        J::Null => Value::Null,
        J::Bool(b) => Value::Bool(*b),
        J::Int(i) => Value::Number((*i).into()),
        J::Float(f) => Number::from_f64(*f).map_or(Value::Null, Value::Number),
        J::Num { twice, .. } => Number::from_f64(*twice as f64 / 2.0).map_or(Value::Null, Value::Number),
        J::Str(s) => Value::String(s.clone()),
        J::Arr(items) => Value::Array(items.iter().map(to_value).collect()),
        J::Obj(members) => Value::Object(members.iter().map(|(k, v)| (k.clone(), to_value(v))).collect::<Map<_, _>>()),
    }
}

/// Our own JSON writer: string escapes, number spellings and spacing vary with `style`.
pub fn write(j: &J, style: Style) -> String {
    let mut out = String::new();
    write_into(j, style, &mut out);
    out
}

fn write_into(j: &J, style: Style, out: &mut String) {
    let sp = if style.spaces { " " } else { "" };
    match j {
        J::Null => out.push_str("null"),
        J::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        J::Int(i) => out.push_str(&i.to_string()),
        J::Float(f) if f.is_finite() => out.push_str(&format!("{f:?}")),
        J::Float(_) => out.push_str("null"),
        J::Num { twice, fmt } => out.push_str(&num_text(*twice, *fmt)),
        J::Str(s) => write_str(s, style.escape_non_ascii, false, out),
        J::Arr(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                    out.push_str(sp);
                }
                write_into(v, style, out);
            }
            out.push(']');
        }
        J::Obj(members) => {
            out.push('{');
            for (i, (k, v)) in members.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(sp);
                write_str(k, style.escape_non_ascii, style.escape_names, out);
                out.push_str(sp);
                out.push(':');
                out.push_str(sp);
                write_into(v, style, out);
            }
            out.push_str(sp);
            out.push('}');
        }
    }
}

fn write_str(s: &str, escape_non_ascii: bool, escape_first: bool, out: &mut String) {
    out.push('"');
    for (i, c) in s.chars().enumerate() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 || (i == 0 && escape_first) || (escape_non_ascii && !c.is_ascii()) => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{u:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// `twice / 2` in decimal, spelled per `fmt`; every spelling is exact.
fn num_text(twice: i128, fmt: NumFmt) -> String {
    let sign = if twice < 0 { "-" } else { "" };
    let abs = twice.unsigned_abs();
    let (int, half) = (abs / 2, abs % 2 == 1);
    let tenths = abs.checked_mul(5); // value × 10
    match (fmt, tenths) {
        (NumFmt::Plain, _) | (_, None) => format!("{sign}{int}{}", if half { ".5" } else { "" }),
        (NumFmt::DotZero, _) => format!("{sign}{int}.{}", if half { "50" } else { "0" }),
        (NumFmt::ScaledExp, Some(t)) => format!("{sign}{t}E-1"),
        (NumFmt::Scientific, Some(t)) => {
            let digits = t.to_string();
            let (lead, rest) = digits.split_at(1);
            let exp = digits.len() as i64 - 2; // value = lead.rest × 10^(len-1) / 10
            if rest.is_empty() { format!("{sign}{lead}e{exp}") } else { format!("{sign}{lead}.{rest}e+{exp}") }
        }
    }
}
