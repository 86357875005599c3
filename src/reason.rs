//! Why a request was denied: one stable, machine-readable code per failure.
//!
//! Codes are logged (one line per deny) and printed by the CLI; they are part of the
//! public interface, so they never change meaning. A code never carries token bytes.

use crate::jwt::Rejection;

/// The reason a token or event did not authorize. `Copy`, allocation-free, no payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reason {
    // -- finding the token --------------------------------------------------------------
    /// No token in the identity source (or, for REST REQUEST events, the `JWT_TOKEN_HEADER`
    /// header), nor in the configured cookie there.
    MissingToken,
    /// `Authorization` uses a scheme other than `Bearer`.
    BadScheme,
    /// The event is not JSON, too deep, or not an authorizer event we know.
    BadEvent,
    // -- compact serialization ----------------------------------------------------------
    /// Longer than [`crate::jwt::token::MAX_TOKEN_LEN`]; refused before decoding.
    TokenTooLarge,
    /// Not exactly three `.`-separated, non-empty segments.
    Malformed,
    /// A segment is not canonical unpadded base64url (RFC 7515 §2).
    BadBase64,
    /// Header or claims are not a JSON object, not UTF-8, or nested deeper than 64.
    BadJson,
    /// A member name appears twice in one object (RFC 7515 §5.2, RFC 8725 §3.x).
    DuplicateMember,
    // -- header -------------------------------------------------------------------------
    /// `alg` is missing, not a string, or not in the configured allowlist.
    AlgNotAllowed,
    /// A `crit` header is present; we understand no extensions (RFC 7515 §4.1.11).
    CritHeader,
    /// `typ` is present and none of `JWT`, `application/jwt`, `at+jwt`, `application/at+jwt`
    /// (any case).
    BadType,
    /// `kid` is not a string.
    MalformedKid,
    /// No configured key matches the token's `kid` and `alg`.
    UnknownKid,
    // -- signature ----------------------------------------------------------------------
    /// The signature does not verify. Deliberately carries no detail.
    BadSignature,
    // -- claims (only ever reached behind a valid signature) ----------------------------
    /// `exp` is absent.
    MissingExp,
    /// `exp`, `nbf` or `iat` is present but not a number.
    MalformedTime,
    /// `exp` is in the past (beyond leeway).
    Expired,
    /// `nbf` is in the future (beyond leeway).
    NotYetValid,
    /// `iat` is in the future (beyond leeway).
    IssuedInFuture,
    /// `sub` is absent.
    MissingSub,
    /// `sub` is present but not a string, or longer than 255 bytes.
    MalformedSub,
    /// An issuer is configured and `iss` is absent.
    MissingIssuer,
    /// `iss` is not one of the configured issuers (or not a string).
    WrongIssuer,
    /// An audience is configured and `aud` is absent.
    MissingAudience,
    /// `aud` names none of the configured audiences, or no audience is configured.
    WrongAudience,
    /// Authorized parties are configured and `azp` is absent.
    MissingAzp,
    /// `azp` is not one of the configured authorized parties.
    WrongAzp,
    // -- authorization (authentic, current token) ---------------------------------------
    /// A `JWT_REQUIRE` rule does not hold: the caller is known but not allowed (403).
    RuleFailed,
    // -- keys from the issuer (`JWT_JWKS_URL`) ------------------------------------------
    /// No configured key matches, and no fetched key set is usable (none fetched yet, or
    /// every one past its 24 h stale limit): the keys cannot be had, so the token is refused.
    KeysUnavailable,
}

impl Reason {
    /// Every reason, in declaration order (`reason as usize` is its index).
    pub const ALL: [Reason; 29] = [
        Reason::MissingToken,
        Reason::BadScheme,
        Reason::BadEvent,
        Reason::TokenTooLarge,
        Reason::Malformed,
        Reason::BadBase64,
        Reason::BadJson,
        Reason::DuplicateMember,
        Reason::AlgNotAllowed,
        Reason::CritHeader,
        Reason::BadType,
        Reason::MalformedKid,
        Reason::UnknownKid,
        Reason::BadSignature,
        Reason::MissingExp,
        Reason::MalformedTime,
        Reason::Expired,
        Reason::NotYetValid,
        Reason::IssuedInFuture,
        Reason::MissingSub,
        Reason::MalformedSub,
        Reason::MissingIssuer,
        Reason::WrongIssuer,
        Reason::MissingAudience,
        Reason::WrongAudience,
        Reason::MissingAzp,
        Reason::WrongAzp,
        Reason::RuleFailed,
        Reason::KeysUnavailable,
    ];

    /// The stable code logged and printed for this reason.
    pub const fn code(self) -> &'static str {
        match self {
            Reason::MissingToken => "missing_token",
            Reason::BadScheme => "bad_scheme",
            Reason::BadEvent => "bad_event",
            Reason::TokenTooLarge => "token_too_large",
            Reason::Malformed => "malformed_token",
            Reason::BadBase64 => "bad_base64",
            Reason::BadJson => "bad_json",
            Reason::DuplicateMember => "duplicate_member",
            Reason::AlgNotAllowed => "alg_not_allowed",
            Reason::CritHeader => "crit_header",
            Reason::BadType => "bad_typ",
            Reason::MalformedKid => "malformed_kid",
            Reason::UnknownKid => "unknown_kid",
            Reason::BadSignature => "bad_signature",
            Reason::MissingExp => "missing_exp",
            Reason::MalformedTime => "malformed_time_claim",
            Reason::Expired => "expired",
            Reason::NotYetValid => "not_yet_valid",
            Reason::IssuedInFuture => "issued_in_future",
            Reason::MissingSub => "missing_sub",
            Reason::MalformedSub => "malformed_sub",
            Reason::MissingIssuer => "missing_iss",
            Reason::WrongIssuer => "wrong_iss",
            Reason::MissingAudience => "missing_aud",
            Reason::WrongAudience => "wrong_aud",
            Reason::MissingAzp => "missing_azp",
            Reason::WrongAzp => "wrong_azp",
            Reason::RuleFailed => "rule_failed",
            Reason::KeysUnavailable => "keys_unavailable",
        }
    }

    /// `true` when the caller is authenticated but not permitted (IAM `Deny`, HTTP 403);
    /// every other reason is an authentication failure (`Unauthorized`, HTTP 401).
    pub const fn is_forbidden(self) -> bool {
        matches!(self, Reason::RuleFailed)
    }
}

/// The JWT core's refusals keep their names (and so their codes).
impl From<Rejection> for Reason {
    fn from(rejection: Rejection) -> Reason {
        match rejection {
            Rejection::TokenTooLarge => Reason::TokenTooLarge,
            Rejection::Malformed => Reason::Malformed,
            Rejection::BadBase64 => Reason::BadBase64,
            Rejection::BadJson => Reason::BadJson,
            Rejection::DuplicateMember => Reason::DuplicateMember,
            Rejection::AlgNotAllowed => Reason::AlgNotAllowed,
            Rejection::CritHeader => Reason::CritHeader,
            Rejection::BadType => Reason::BadType,
            Rejection::MalformedKid => Reason::MalformedKid,
            Rejection::UnknownKid => Reason::UnknownKid,
            Rejection::BadSignature => Reason::BadSignature,
            Rejection::MissingExp => Reason::MissingExp,
            Rejection::MalformedTime => Reason::MalformedTime,
            Rejection::Expired => Reason::Expired,
            Rejection::NotYetValid => Reason::NotYetValid,
            Rejection::IssuedInFuture => Reason::IssuedInFuture,
            Rejection::MissingSub => Reason::MissingSub,
            Rejection::MalformedSub => Reason::MalformedSub,
            Rejection::MissingIssuer => Reason::MissingIssuer,
            Rejection::WrongIssuer => Reason::WrongIssuer,
            Rejection::MissingAudience => Reason::MissingAudience,
            Rejection::WrongAudience => Reason::WrongAudience,
            Rejection::MissingAzp => Reason::MissingAzp,
            Rejection::WrongAzp => Reason::WrongAzp,
            Rejection::RuleFailed => Reason::RuleFailed,
        }
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every reason, written out independently of `code()`: its code and the HTTP status
    /// class a REST API gives it (403 only for an authentic caller who fails a rule; on HTTP
    /// APIs every refusal is a 403, see tests/responses.rs).
    const TABLE: [(Reason, &str, u16); 29] = [
        (Reason::MissingToken, "missing_token", 401),
        (Reason::BadScheme, "bad_scheme", 401),
        (Reason::BadEvent, "bad_event", 401),
        (Reason::TokenTooLarge, "token_too_large", 401),
        (Reason::Malformed, "malformed_token", 401),
        (Reason::BadBase64, "bad_base64", 401),
        (Reason::BadJson, "bad_json", 401),
        (Reason::DuplicateMember, "duplicate_member", 401),
        (Reason::AlgNotAllowed, "alg_not_allowed", 401),
        (Reason::CritHeader, "crit_header", 401),
        (Reason::BadType, "bad_typ", 401),
        (Reason::MalformedKid, "malformed_kid", 401),
        (Reason::UnknownKid, "unknown_kid", 401),
        (Reason::BadSignature, "bad_signature", 401),
        (Reason::MissingExp, "missing_exp", 401),
        (Reason::MalformedTime, "malformed_time_claim", 401),
        (Reason::Expired, "expired", 401),
        (Reason::NotYetValid, "not_yet_valid", 401),
        (Reason::IssuedInFuture, "issued_in_future", 401),
        (Reason::MissingSub, "missing_sub", 401),
        (Reason::MalformedSub, "malformed_sub", 401),
        (Reason::MissingIssuer, "missing_iss", 401),
        (Reason::WrongIssuer, "wrong_iss", 401),
        (Reason::MissingAudience, "missing_aud", 401),
        (Reason::WrongAudience, "wrong_aud", 401),
        (Reason::MissingAzp, "missing_azp", 401),
        (Reason::WrongAzp, "wrong_azp", 401),
        (Reason::RuleFailed, "rule_failed", 403),
        (Reason::KeysUnavailable, "keys_unavailable", 401),
    ];

    /// The row of `r` in [`TABLE`]. No wildcard arm: a new variant does not compile until it
    /// is added here, and so to the table.
    fn row(r: Reason) -> usize {
        match r {
            Reason::MissingToken => 0,
            Reason::BadScheme => 1,
            Reason::BadEvent => 2,
            Reason::TokenTooLarge => 3,
            Reason::Malformed => 4,
            Reason::BadBase64 => 5,
            Reason::BadJson => 6,
            Reason::DuplicateMember => 7,
            Reason::AlgNotAllowed => 8,
            Reason::CritHeader => 9,
            Reason::BadType => 10,
            Reason::MalformedKid => 11,
            Reason::UnknownKid => 12,
            Reason::BadSignature => 13,
            Reason::MissingExp => 14,
            Reason::MalformedTime => 15,
            Reason::Expired => 16,
            Reason::NotYetValid => 17,
            Reason::IssuedInFuture => 18,
            Reason::MissingSub => 19,
            Reason::MalformedSub => 20,
            Reason::MissingIssuer => 21,
            Reason::WrongIssuer => 22,
            Reason::MissingAudience => 23,
            Reason::WrongAudience => 24,
            Reason::MissingAzp => 25,
            Reason::WrongAzp => 26,
            Reason::RuleFailed => 27,
            Reason::KeysUnavailable => 28,
        }
    }

    #[test]
    fn all_lists_every_reason_at_its_index() {
        for (i, r) in Reason::ALL.iter().enumerate() {
            assert_eq!(*r as usize, i, "{r}");
        }
    }

    #[test]
    fn every_code_and_its_status_class() {
        for (i, (r, code, status)) in TABLE.iter().enumerate() {
            assert_eq!(row(*r), i, "{r:?} is listed once, in its row");
            assert_eq!(r.code(), *code, "{r:?}");
            assert_eq!(r.to_string(), *code, "{r:?} displays as its code");
            assert_eq!(r.is_forbidden(), *status == 403, "{r:?} is a {status}");
        }
    }

    #[test]
    fn codes_are_distinct_lowercase_ascii() {
        let mut codes: Vec<&str> = TABLE.iter().map(|(r, _, _)| r.code()).collect();
        for c in &codes {
            assert!(
                !c.is_empty() && c.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                "{c}"
            );
        }
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), TABLE.len(), "two reasons share a code");
    }

    /// The README's "Reason codes" section lists exactly these codes, and names the one 403.
    #[test]
    fn the_readme_lists_every_code() {
        let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
        let section = readme.split("### Reason codes").nth(1).expect("README has a Reason codes section");
        let section = section.split("\n#").next().unwrap_or(section);
        let mut listed: Vec<&str> = section.split('`').skip(1).step_by(2).collect();
        let forbidden: Vec<&str> =
            TABLE.iter().filter(|(_, _, status)| *status == 403).map(|(_, code, _)| *code).collect();
        assert_eq!(forbidden, ["rule_failed"]);
        assert!(section.contains("On REST APIs, only `rule_failed` is a 403; every other code is a 401."), "{section}");
        listed.sort_unstable();
        listed.dedup();
        let mut want: Vec<&str> = TABLE.iter().map(|(_, code, _)| *code).collect();
        want.sort_unstable();
        assert_eq!(listed, want, "README reason codes vs the table");
    }

    /// The JWT core's rejections become the reasons of the same name: 25 distinct codes, and
    /// the other three are the event's (finding the token), and one the fetched keys'.
    #[test]
    fn every_rejection_keeps_its_name_and_code() {
        let converted: Vec<Reason> = Rejection::ALL.iter().map(|r| Reason::from(*r)).collect();
        for (rejection, reason) in Rejection::ALL.iter().zip(&converted) {
            assert_eq!(format!("{rejection:?}"), format!("{reason:?}"));
        }
        let rest: Vec<Reason> = Reason::ALL.iter().copied().filter(|r| !converted.contains(r)).collect();
        assert_eq!(rest, [Reason::MissingToken, Reason::BadScheme, Reason::BadEvent, Reason::KeysUnavailable]);
    }
}
