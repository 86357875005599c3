//! The JWS compact serialization (RFC 7515 §7.1): `header.claims.signature`.
//!
//! Splitting is zero-copy: the parts borrow the token.

use crate::jwt::Rejection;

/// Longest token accepted; anything longer is refused before any decoding.
pub const MAX_TOKEN_LEN: usize = 16 * 1024;

/// Largest RSA signature: 8192-bit modulus (ring's `*_2048_8192_*` ceiling).
pub const MAX_SIGNATURE_LEN: usize = 8192 / 8;

/// The three segments of a compact JWS, still base64url-encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Parts<'t> {
    pub header: &'t [u8],
    pub claims: &'t [u8],
    pub signature: &'t [u8],
    /// `header.claims`: the bytes the signature covers (RFC 7515 §5.2 step 8).
    pub signing_input: &'t [u8],
}

/// Splits `token` into exactly three segments; header and claims must be non-empty.
/// An empty signature (an unsecured JWS, RFC 7519 §6) is split so the header check can
/// refuse its `alg` (it would fail verification anyway).
pub fn split(token: &[u8]) -> Result<Parts<'_>, Rejection> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(Rejection::TokenTooLarge);
    }
    let first = memchr_dot(token, 0).ok_or(Rejection::Malformed)?;
    let second = memchr_dot(token, first + 1).ok_or(Rejection::Malformed)?;
    if memchr_dot(token, second + 1).is_some() {
        return Err(Rejection::Malformed); // JWE (5 segments) or junk: RFC 7516 is not supported
    }
    let parts = Parts {
        header: &token[..first],
        claims: &token[first + 1..second],
        signature: &token[second + 1..],
        signing_input: &token[..second],
    };
    if parts.header.is_empty() || parts.claims.is_empty() {
        return Err(Rejection::Malformed);
    }
    Ok(parts)
}

/// SIMD search (`memchr`): a byte-at-a-time scan of a 1 KB token costs ~4k instructions.
fn memchr_dot(hay: &[u8], from: usize) -> Option<usize> {
    memchr::memchr(b'.', hay.get(from..)?).map(|i| i + from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_three_segments() {
        let p = split(b"aa.bbb.cc").unwrap();
        assert_eq!((p.header, p.claims, p.signature), (&b"aa"[..], &b"bbb"[..], &b"cc"[..]));
        assert_eq!(p.signing_input, b"aa.bbb");
    }

    #[test]
    fn rejects_other_segment_counts_and_empty_segments() {
        for t in [&b""[..], b"a", b"a.b", b"a.b.c.d", b"a.b.c.d.e", b"a..c", b".b.c", b"..", b"a.b.c."] {
            assert_eq!(split(t), Err(Rejection::Malformed), "{:?}", String::from_utf8_lossy(t));
        }
    }

    #[test]
    fn an_empty_signature_is_left_to_the_header_and_signature_checks() {
        assert_eq!(split(b"a.b.").unwrap().signature, b"");
    }

    #[test]
    fn refuses_oversized_tokens_first() {
        let big = vec![b'a'; MAX_TOKEN_LEN + 1];
        assert_eq!(split(&big), Err(Rejection::TokenTooLarge));
        let mut ok = vec![b'a'; MAX_TOKEN_LEN];
        ok[10] = b'.';
        ok[20] = b'.';
        assert!(split(&ok).is_ok());
    }
}
