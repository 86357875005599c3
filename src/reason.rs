//! Why a request was denied: one stable, machine-readable code per failure.
//!
//! Codes are logged (one line per deny) and printed by the CLI; they are part of the
//! public interface, so they never change meaning. A code never carries token bytes.

/// The reason a token or event did not authorize. `Copy`, allocation-free, no payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reason {
    // -- finding the token --------------------------------------------------------------
    /// No token in the identity source, `Authorization` header or configured cookie.
    MissingToken,
    /// `Authorization` uses a scheme other than `Bearer`.
    BadScheme,
    /// The event is not JSON, too deep, or not an authorizer event we know.
    BadEvent,
    // -- compact serialization ----------------------------------------------------------
    /// Longer than [`crate::token::MAX_TOKEN_LEN`]; refused before decoding.
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
    /// `typ` is present and neither `JWT` nor `at+jwt`.
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
    /// `sub` is present but not a string.
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
}

impl Reason {
    /// Every reason, in declaration order (`reason as usize` is its index).
    pub const ALL: [Reason; 28] = [
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
        }
    }

    /// `true` when the caller is authenticated but not permitted (IAM `Deny`, HTTP 403);
    /// every other reason is an authentication failure (`Unauthorized`, HTTP 401).
    pub const fn is_forbidden(self) -> bool {
        matches!(self, Reason::RuleFailed)
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

    #[test]
    fn only_rule_failures_are_forbidden() {
        assert!(Reason::RuleFailed.is_forbidden());
        assert!(!Reason::Expired.is_forbidden());
        assert!(!Reason::BadSignature.is_forbidden());
    }

    #[test]
    fn all_lists_every_reason_at_its_index() {
        for (i, r) in Reason::ALL.iter().enumerate() {
            assert_eq!(*r as usize, i, "{r}");
        }
    }

    #[test]
    fn codes_are_snake_case_ascii() {
        for r in [Reason::MissingToken, Reason::Malformed, Reason::MalformedTime, Reason::RuleFailed] {
            assert!(r.code().bytes().all(|b| b.is_ascii_lowercase() || b == b'_'));
        }
    }
}
