//! Why the JWT core refused a token: one variant per failure, no payload.
//!
//! The crate's [`Reason`](crate::reason::Reason) (the stable codes that are logged and
//! counted) has one variant of the same name for each of these, and converts from this type
//! with a plain `match`; it adds the failures of finding the token in an event.

/// Why a token was refused. `Copy`, allocation-free, no payload; a signature failure carries
/// no detail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Rejection {
    // -- compact serialization ----------------------------------------------------------
    /// Longer than [`MAX_TOKEN_LEN`](crate::jwt::token::MAX_TOKEN_LEN); refused before decoding.
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
    /// No configured key matches the token's `kid` and `alg`: none with that `kid`, or none
    /// whose type (RSA, P-256, P-384, Ed25519) or JWK `alg` fits the token's `alg`.
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
    /// A configured rule does not hold: the caller is known but not allowed.
    RuleFailed,
}

impl Rejection {
    /// Every rejection, in declaration order.
    pub const ALL: [Rejection; 25] = [
        Rejection::TokenTooLarge,
        Rejection::Malformed,
        Rejection::BadBase64,
        Rejection::BadJson,
        Rejection::DuplicateMember,
        Rejection::AlgNotAllowed,
        Rejection::CritHeader,
        Rejection::BadType,
        Rejection::MalformedKid,
        Rejection::UnknownKid,
        Rejection::BadSignature,
        Rejection::MissingExp,
        Rejection::MalformedTime,
        Rejection::Expired,
        Rejection::NotYetValid,
        Rejection::IssuedInFuture,
        Rejection::MissingSub,
        Rejection::MalformedSub,
        Rejection::MissingIssuer,
        Rejection::WrongIssuer,
        Rejection::MissingAudience,
        Rejection::WrongAudience,
        Rejection::MissingAzp,
        Rejection::WrongAzp,
        Rejection::RuleFailed,
    ];
}
