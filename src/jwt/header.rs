//! The JOSE header (RFC 7515 §4): which algorithm and which key — decided before any crypto.
//!
//! `jku`, `x5u`, `jwk` and `x5c` are never read: keys come only from configuration.

use crate::jwt::Rejection;
use crate::jwt::json::Value;

/// A JWS `alg` this crate can verify (RFC 7518 §3.1, RFC 8037 §3.1). HMAC and `none` are not
/// here: keys come from configuration as public keys, so no token can select a shared secret.
/// `EdDSA` means Ed25519 only: Ed448 is not in `ring`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Alg {
    RS256,
    RS384,
    RS512,
    PS256,
    PS384,
    PS512,
    /// ECDSA with P-256 and SHA-256 (RFC 7518 §3.4).
    ES256,
    /// ECDSA with P-384 and SHA-384 (RFC 7518 §3.4).
    ES384,
    /// Ed25519 (RFC 8037 §3.1); Ed448 is not supported.
    EdDSA,
}

impl Alg {
    pub const ALL: [Alg; 9] =
        [Alg::RS256, Alg::RS384, Alg::RS512, Alg::PS256, Alg::PS384, Alg::PS512, Alg::ES256, Alg::ES384, Alg::EdDSA];

    /// The header value, case-sensitive as RFC 7515 §4.1.1 requires.
    pub fn from_name(name: &str) -> Option<Alg> {
        Alg::ALL.into_iter().find(|a| a.name() == name)
    }

    pub const fn name(self) -> &'static str {
        match self {
            Alg::RS256 => "RS256",
            Alg::RS384 => "RS384",
            Alg::RS512 => "RS512",
            Alg::PS256 => "PS256",
            Alg::PS384 => "PS384",
            Alg::PS512 => "PS512",
            Alg::ES256 => "ES256",
            Alg::ES384 => "ES384",
            Alg::EdDSA => "EdDSA",
        }
    }

    const fn bit(self) -> u16 {
        1 << self as u16
    }
}

/// The algorithm allowlist (`JWT_ALGORITHMS`). Default: exactly `RS256`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AlgSet(u16);

impl AlgSet {
    pub const EMPTY: AlgSet = AlgSet(0);

    pub const fn with(self, alg: Alg) -> AlgSet {
        AlgSet(self.0 | alg.bit())
    }

    pub const fn contains(self, alg: Alg) -> bool {
        self.0 & alg.bit() != 0
    }
}

impl Default for AlgSet {
    fn default() -> Self {
        AlgSet::EMPTY.with(Alg::RS256)
    }
}

/// What the header selects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header<'b> {
    pub alg: Alg,
    /// Untrusted lookup string (RFC 7515 §4.1.4); compared, never used as a path.
    pub kid: Option<&'b str>,
}

/// Checks the decoded header against the allowlist.
pub fn parse<'b>(header: Value<'_, 'b>, allowed: AlgSet) -> Result<Header<'b>, Rejection> {
    if !header.is_object() {
        return Err(Rejection::BadJson);
    }
    header.check_unique_members()?; // RFC 7515 §4: names MUST be unique
    // RFC 7515 §4.1.1 / RFC 8725 §3.1: the algorithm must be one we allow; "none" never is.
    let alg = header
        .get("alg")
        .and_then(|v| v.as_str())
        .and_then(Alg::from_name)
        .filter(|a| allowed.contains(*a))
        .ok_or(Rejection::AlgNotAllowed)?;
    // RFC 7515 §4.1.11: we understand no extensions, so any `crit` makes the JWS invalid.
    if header.get("crit").is_some() {
        return Err(Rejection::CritHeader);
    }
    if header.get("typ").is_some_and(|typ| !typ.as_str().is_some_and(known_type)) {
        return Err(Rejection::BadType);
    }
    let kid = match header.get("kid") {
        None => None,
        Some(v) => Some(v.as_str().ok_or(Rejection::MalformedKid)?),
    };
    Ok(Header { alg, kid })
}

/// RFC 7519 §5.1 (`JWT`) or RFC 9068 §2.1 (`at+jwt`), as media types: RFC 7515 §4.1.9 says
/// a `typ` without `/` means `application/<typ>`, and media types compare case-insensitively
/// (RFC 2045 §5.1). So `JWT`, `application/jwt`, `at+jwt`, `Application/AT+JWT`; nothing else.
fn known_type(typ: &str) -> bool {
    let subtype = match typ.split_once('/') {
        None => typ,
        Some((top, sub)) if top.eq_ignore_ascii_case("application") => sub,
        Some(_) => return false,
    };
    subtype.eq_ignore_ascii_case("jwt") || subtype.eq_ignore_ascii_case("at+jwt")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jwt::json::{PADDING, Parser};

    fn check(json: &str) -> Result<(Alg, Option<String>), Rejection> {
        let mut buf = json.as_bytes().to_vec();
        let len = buf.len();
        buf.resize(len + PADDING, 0);
        let allowed = AlgSet::default().with(Alg::PS256);
        Parser::with_capacity(64)
            .parse(&mut buf, len, |v| parse(v, allowed).map(|h| (h.alg, h.kid.map(String::from))))
            .and_then(|r| r)
    }

    #[test]
    fn accepts_allowed_algorithms_with_optional_kid_and_typ() {
        assert_eq!(check(r#"{"alg":"RS256"}"#), Ok((Alg::RS256, None)));
        assert_eq!(check(r#"{"alg":"PS256","kid":"k1","typ":"jwt"}"#), Ok((Alg::PS256, Some("k1".into()))));
        // RFC 7515 §4.1.9: the `application/` prefix may be omitted; case-insensitive.
        for typ in [
            "JWT",
            "jwt",
            "application/jwt",
            "APPLICATION/JWT",
            "at+jwt",
            "AT+JWT",
            "application/at+jwt",
            "Application/At+Jwt",
        ] {
            assert_eq!(check(&format!(r#"{{"alg":"RS256","typ":"{typ}"}}"#)).map(|h| h.0), Ok(Alg::RS256), "{typ}");
        }
    }

    #[test]
    fn refuses_every_other_algorithm_before_crypto() {
        for alg in [r#""none""#, r#""None""#, r#""HS256""#, r#""RS512""#, r#""rs256""#, "null", "256", r#"["RS256"]"#] {
            assert_eq!(check(&format!(r#"{{"alg":{alg}}}"#)), Err(Rejection::AlgNotAllowed), "{alg}");
        }
        assert_eq!(check(r#"{"typ":"JWT"}"#), Err(Rejection::AlgNotAllowed));
    }

    #[test]
    fn refuses_crit_bad_typ_bad_kid_duplicates_and_non_objects() {
        assert_eq!(check(r#"{"alg":"RS256","crit":["exp"],"exp":1}"#), Err(Rejection::CritHeader));
        assert_eq!(check(r#"{"alg":"RS256","typ":"JWE"}"#), Err(Rejection::BadType));
        for bad in [
            r#""application/jose""#,
            r#""text/jwt""#,
            r#""application/jwt/x""#,
            r#""application/jwt; charset=utf-8""#,
            r#""/jwt""#,
            r#""application/""#,
            r#""jwt ""#,
            r#""at+jwt+x""#,
            r#""application/at-jwt""#,
            r#"1"#,
            r#"null"#,
        ] {
            assert_eq!(check(&format!(r#"{{"alg":"RS256","typ":{bad}}}"#)), Err(Rejection::BadType), "{bad}");
        }
        assert_eq!(check(r#"{"alg":"RS256","kid":7}"#), Err(Rejection::MalformedKid));
        assert_eq!(check(r#"{"alg":"RS256","alg":"RS256"}"#), Err(Rejection::DuplicateMember));
        assert_eq!(check(r#"{"alg":"HS256","alg":"RS256"}"#), Err(Rejection::DuplicateMember));
        assert_eq!(check(r#"["RS256"]"#), Err(Rejection::BadJson));
        assert_eq!(check(r#""RS256""#), Err(Rejection::BadJson));
    }

    #[test]
    fn key_urls_and_embedded_keys_are_ignored() {
        let h = r#"{"alg":"RS256","jku":"https://evil/jwks","x5u":"https://evil","jwk":{"kty":"RSA"},"x5c":["AA"]}"#;
        assert_eq!(check(h), Ok((Alg::RS256, None)));
    }

    #[test]
    fn names_round_trip_case_sensitively() {
        for a in Alg::ALL {
            assert_eq!(Alg::from_name(a.name()), Some(a));
        }
        for bad in ["rs256", "none", "None", "HS256", "ES512", "Ed25519", "EDDSA", "es256", "RS256 ", ""] {
            assert_eq!(Alg::from_name(bad), None);
        }
    }

    #[test]
    fn default_allowlist_is_exactly_rs256() {
        let d = AlgSet::default();
        assert!(d.contains(Alg::RS256));
        assert!(Alg::ALL[1..].iter().all(|a| !d.contains(*a)));
    }
}
