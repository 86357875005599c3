//! Canonical, unpadded base64url (RFC 7515 §2, RFC 4648 §5) decoding into caller buffers.
//!
//! A thin fence around `base64-simd`: its `URL_SAFE_NO_PAD` decoder is strict — it rejects
//! `=`, `+`, `/`, whitespace, a length of 1 mod 4, and non-zero trailing bits — so every
//! token has exactly one encoding. Tests check it against the scalar `base64` crate.

use crate::jwt::Rejection;
use base64_simd::{Out, URL_SAFE_NO_PAD};

/// Exact decoded length of `src` (validating only the length rule), or `BadBase64`.
pub fn decoded_len(src: &[u8]) -> Result<usize, Rejection> {
    URL_SAFE_NO_PAD.decoded_length(src).map_err(|_| Rejection::BadBase64)
}

/// Decodes `src` into the front of `dst` and returns the decoded bytes.
/// Fails with `BadBase64` on any non-canonical input, and when `dst` is too small.
pub fn decode<'d>(src: &[u8], dst: &'d mut [u8]) -> Result<&'d mut [u8], Rejection> {
    let n = decoded_len(src)?;
    let dst = dst.get_mut(..n).ok_or(Rejection::BadBase64)?;
    URL_SAFE_NO_PAD.decode(src, Out::from_slice(dst)).map_err(|_| Rejection::BadBase64)
}

/// Encodes `src` as unpadded base64url (used by the CLI and JWKS export, not the hot path).
pub fn encode(src: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode_to_string(src)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as REFERENCE;

    fn ours(s: &[u8]) -> Option<Vec<u8>> {
        let mut buf = [0u8; 64];
        decode(s, &mut buf).ok().map(|b| b.to_vec())
    }

    #[test]
    fn decodes_like_the_scalar_reference() {
        let cases: &[&[u8]] = &[
            b"",
            b"QQ",
            b"QUI",
            b"QUJD",
            b"eyJhbGciOiJSUzI1NiJ9",
            b"_-8",
            b"QR",
            b"QUJ",
            b"Q",
            b"QQ==",
            b"QUI=",
            b"Q+8",
            b"Q/8",
            b"QU I",
            b"QUJD\n",
            b"\xff\xfe",
            b"QUJDRA",
            b"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            b"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB",
        ];
        for c in cases {
            assert_eq!(ours(c), REFERENCE.decode(c).ok(), "input {:?}", String::from_utf8_lossy(c));
        }
    }

    #[test]
    fn rejects_padding_alphabet_whitespace_and_trailing_bits() {
        for bad in [&b"QQ=="[..], b"QUI=", b"Q+8A", b"Q/8A", b" QUJD", b"QUJD ", b"QR", b"QUJ", b"Q"] {
            assert_eq!(ours(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn long_inputs_take_the_simd_path_and_agree() {
        let data: Vec<u8> = (0..=255u8).cycle().take(3000).collect();
        let enc = encode(&data);
        let mut buf = vec![0u8; 4096];
        assert_eq!(decode(enc.as_bytes(), &mut buf).unwrap(), &data[..]);
        // flip one character deep inside: still must agree with the reference
        let mut bad = enc.into_bytes();
        bad[1000] = b'+';
        assert!(decode(&bad, &mut buf).is_err());
        assert!(REFERENCE.decode(&bad).is_err());
    }

    #[test]
    fn too_small_destination_is_an_error_not_a_panic() {
        let mut buf = [0u8; 2];
        assert_eq!(decode(b"QUJD", &mut buf), Err(Rejection::BadBase64));
    }
}
