//! Claim paths, as `JWT_REQUIRE` and `JWT_CONTEXT_CLAIMS` name them: segments separated by
//! `.` into nested objects (`metadata.role`). A segment in double quotes is taken literally,
//! dots, slashes, `=` and `,` included, for namespaced claims such as Auth0's
//! `"https://example.com/roles"` or `metadata."a.b"`. There are no escapes: a quoted segment
//! cannot contain `"`.

/// Splits `text` at every `sep` that is not inside double quotes.
pub fn split_unquoted(text: &str, sep: char) -> Result<Vec<&str>, &'static str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted) = (0, false);
    for (i, c) in text.char_indices() {
        if c == '"' {
            quoted = !quoted;
        } else if c == sep && !quoted {
            parts.push(&text[start..i]);
            start = i + c.len_utf8();
        }
    }
    if quoted {
        return Err("a double quote is not closed");
    }
    parts.push(&text[start..]);
    Ok(parts)
}

/// Splits `text` at the first `sep` that is not inside double quotes (`None`: there is none).
pub fn split_once_unquoted(text: &str, sep: char) -> Result<Option<(&str, &str)>, &'static str> {
    let mut parts = split_unquoted(text, sep)?.into_iter();
    let first = parts.next().unwrap_or_default();
    Ok(parts.next().map(|_| (first, &text[first.len() + sep.len_utf8()..])))
}

/// A parsed path: its segments, and the context key it gets when none is named.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Path {
    pub segments: Vec<String>,
    /// The segments joined by `_`; a quoted segment contributes the text after its last
    /// `/` or `:` (`"https://example.com/roles"` → `roles`), and every `.` becomes `_`.
    pub default_key: String,
}

/// Parses a claim path. Empty segments, spaces around or inside a bare segment, a bare
/// segment with `"`, `=`, `,` or `|` in it, and a half-quoted segment are errors.
pub fn parse(text: &str) -> Result<Path, &'static str> {
    const MALFORMED: &str = "malformed claim path (segments separated by '.', a literal segment in double quotes)";
    let mut segments = Vec::new();
    let mut keys = Vec::new();
    for seg in split_unquoted(text.trim(), '.')? {
        if let Some(inner) = seg.strip_prefix('"') {
            let inner = inner.strip_suffix('"').filter(|s| !s.is_empty() && !s.contains('"')).ok_or(MALFORMED)?;
            let readable = inner.rsplit(['/', ':']).find(|s| !s.trim().is_empty()).unwrap_or(inner);
            keys.push(readable.trim().replace('.', "_"));
            segments.push(inner.to_owned());
        } else {
            let bad = |c: char| c.is_whitespace() || matches!(c, '"' | '=' | ',' | '|');
            if seg.is_empty() || seg.contains(bad) {
                return Err(MALFORMED);
            }
            keys.push(seg.to_owned());
            segments.push(seg.to_owned());
        }
    }
    Ok(Path { segments, default_key: keys.join("_") })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segs(text: &str) -> Vec<String> {
        parse(text).unwrap().segments
    }

    #[test]
    fn bare_and_quoted_segments() {
        assert_eq!(segs("metadata.role"), ["metadata", "role"]);
        assert_eq!(segs(" role "), ["role"]);
        assert_eq!(segs(r#""https://example.com/roles""#), ["https://example.com/roles"]);
        assert_eq!(segs(r#"metadata."a.b""#), ["metadata", "a.b"]);
        assert_eq!(segs(r#""x=y,z|w".k"#), ["x=y,z|w", "k"]);
        assert_eq!(segs("cognito:groups"), ["cognito:groups"]);
    }

    #[test]
    fn default_keys_are_readable() {
        let key = |t: &str| parse(t).unwrap().default_key;
        assert_eq!(key("metadata.role"), "metadata_role");
        assert_eq!(key(r#""https://example.com/roles""#), "roles");
        assert_eq!(key(r#""https://example.com/app.roles/""#), "app_roles");
        assert_eq!(key(r#"metadata."a.b""#), "metadata_a_b");
        assert_eq!(key(r#""urn:acme:tier""#), "tier");
    }

    #[test]
    fn malformed_paths_are_errors() {
        for bad in ["", "a..b", ".a", "a.", "a b", r#"a"b"#, r#""a"#, r#""""#, r#""a"b"#, "a=b", "a,b", "a|b"] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn splitting_respects_quotes() {
        assert_eq!(split_unquoted(r#"a,"b,c",d"#, ',').unwrap(), ["a", r#""b,c""#, "d"]);
        assert_eq!(split_once_unquoted(r#""k=v"=x=y"#, '=').unwrap(), Some((r#""k=v""#, "x=y")));
        assert_eq!(split_once_unquoted("abc", '=').unwrap(), None);
        assert!(split_unquoted(r#"a,"b"#, ',').is_err());
    }
}
