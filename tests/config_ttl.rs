//! The cache-TTL hint: `JWT_CACHE_TTL_SECONDS` (the API Gateway authorizer result TTL, passed
//! by the template from the same parameter) against `JWT_TOKEN_LIFETIME_SECONDS` (default 60).
//! A TTL above the lifetime is a cold-start warning; a malformed value is a `ConfigError`.

mod common;

use common::*;
use jwt_authorizer::config::{self, Loaded, MAX_CACHE_TTL, VARIABLES};

/// Loads key A plus `extra`, panicking if the configuration is refused.
fn loaded(extra: &[(&str, &str)]) -> Loaded {
    let pem = public_pem("rsa2048-a");
    let mut pairs: Vec<(&str, &str)> = vec![("JWT_PUBLIC_KEY", &pem)];
    pairs.extend_from_slice(extra);
    config::load(env_of(&pairs)).unwrap_or_else(|e| panic!("{extra:?} refused: {e}"))
}

fn ttl_warnings(extra: &[(&str, &str)]) -> Vec<String> {
    loaded(extra).warnings.into_iter().filter(|w| w.contains("JWT_CACHE_TTL_SECONDS")).collect()
}

/// Loads key A plus `extra`: the warnings, or the refused variable and its message.
fn outcome(extra: &[(&str, &str)]) -> Result<Vec<String>, (String, String)> {
    let pem = public_pem("rsa2048-a");
    let mut pairs: Vec<(&str, &str)> = vec![("JWT_PUBLIC_KEY", &pem)];
    pairs.extend_from_slice(extra);
    config::load(env_of(&pairs)).map(|l| l.warnings).map_err(|e| (e.var.clone().into_owned(), e.to_string()))
}

#[test]
fn both_variables_are_read_and_listed() {
    assert!(VARIABLES.contains(&"JWT_CACHE_TTL_SECONDS"));
    assert!(VARIABLES.contains(&"JWT_TOKEN_LIFETIME_SECONDS"));
    // Read, not just listed: a value out of range is refused, naming the variable.
    for var in ["JWT_CACHE_TTL_SECONDS", "JWT_TOKEN_LIFETIME_SECONDS"] {
        assert_eq!(outcome(&[(var, "999999")]).unwrap_err().0, var);
    }
}

/// API Gateway's TTL range is 0..=3600 s; the lifetime 1..=86400 s. Each end is accepted, one
/// past it refused with a message that names the variable and the range.
#[test]
fn the_ranges_end_where_documented() {
    for (var, ok, bad, range) in [
        ("JWT_CACHE_TTL_SECONDS", ["0", "3600"], ["3601", "4294967296"], "from 0 to 3600"),
        ("JWT_TOKEN_LIFETIME_SECONDS", ["1", "86400"], ["0", "86401"], "from 1 to 86400"),
    ] {
        for v in ok {
            assert!(outcome(&[(var, v)]).is_ok(), "{var}={v} refused: {:?}", outcome(&[(var, v)]));
        }
        for v in bad {
            let (refused, message) = outcome(&[(var, v)]).unwrap_err();
            assert_eq!(refused, var, "{var}={v}");
            assert!(message.contains(var) && message.contains(range), "{var}={v}: {message}");
        }
    }
}

/// Without `JWT_TOKEN_LIFETIME_SECONDS` the lifetime is 60 s: a TTL of 60 is quiet, 61 warns
/// with both numbers, and the worst case past `exp` (TTL + leeway).
#[test]
fn the_default_lifetime_is_60_seconds() {
    assert!(outcome(&[("JWT_CACHE_TTL_SECONDS", "60")]).unwrap().is_empty());
    let w = outcome(&[("JWT_CACHE_TTL_SECONDS", "61")]).unwrap();
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].starts_with("JWT_CACHE_TTL_SECONDS (61 s) exceeds JWT_TOKEN_LIFETIME_SECONDS (60 s)"), "{}", w[0]);
    // With the largest TTL and leeway: 3600 + 300.
    let w = outcome(&[("JWT_CACHE_TTL_SECONDS", &MAX_CACHE_TTL.to_string()), ("JWT_LEEWAY_SECONDS", "300")]).unwrap();
    assert!(w.len() == 1 && w[0].contains("(3600 s)") && w[0].contains("up to 3900 s after it expires"), "{w:?}");
}

#[test]
fn no_hint_no_warning() {
    assert!(loaded(&[]).warnings.is_empty());
    assert!(loaded(&[("JWT_TOKEN_LIFETIME_SECONDS", "30")]).warnings.is_empty());
    // Empty values (templates pass empty parameters through) count as unset.
    assert!(loaded(&[("JWT_CACHE_TTL_SECONDS", ""), ("JWT_TOKEN_LIFETIME_SECONDS", "")]).warnings.is_empty());
}

#[test]
fn ttl_up_to_the_default_lifetime_is_quiet() {
    for ttl in ["0", "1", "30", "59", "60", " 60 "] {
        assert!(ttl_warnings(&[("JWT_CACHE_TTL_SECONDS", ttl)]).is_empty(), "ttl {ttl}");
    }
}

#[test]
fn ttl_above_the_default_lifetime_warns_with_the_figures() {
    let w = ttl_warnings(&[("JWT_CACHE_TTL_SECONDS", "61")]);
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].contains("(61 s)") && w[0].contains("(60 s)"), "{}", w[0]);
    assert!(w[0].contains("JWT_TOKEN_LIFETIME_SECONDS"), "{}", w[0]);
    // Worst case past `exp`: the TTL plus the default 5 s leeway.
    assert!(w[0].contains("up to 66 s after it expires"), "{}", w[0]);

    let w = ttl_warnings(&[("JWT_CACHE_TTL_SECONDS", "300"), ("JWT_LEEWAY_SECONDS", "0")]);
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].contains("(300 s)") && w[0].contains("up to 300 s after"), "{}", w[0]);
}

#[test]
fn the_lifetime_moves_the_threshold() {
    let lifetime = [("JWT_TOKEN_LIFETIME_SECONDS", "900")];
    assert!(ttl_warnings(&[lifetime[0], ("JWT_CACHE_TTL_SECONDS", "300")]).is_empty());
    assert!(ttl_warnings(&[lifetime[0], ("JWT_CACHE_TTL_SECONDS", "900")]).is_empty());
    let w = ttl_warnings(&[lifetime[0], ("JWT_CACHE_TTL_SECONDS", "901")]);
    assert!(w.len() == 1 && w[0].contains("(900 s)"), "{w:?}");

    let short = [("JWT_TOKEN_LIFETIME_SECONDS", "20")];
    assert!(ttl_warnings(&[short[0], ("JWT_CACHE_TTL_SECONDS", "20")]).is_empty());
    assert_eq!(ttl_warnings(&[short[0], ("JWT_CACHE_TTL_SECONDS", "30")]).len(), 1);
    // No cache, nothing to outlive.
    assert!(ttl_warnings(&[short[0], ("JWT_CACHE_TTL_SECONDS", "0")]).is_empty());
}

#[test]
fn a_warning_does_not_change_decisions() {
    let l = loaded(&[("JWT_CACHE_TTL_SECONDS", "3600")]);
    assert_eq!(l.warnings.len(), 1);
    assert_eq!(decide(&l.authorizer, &valid_token()), Ok(()));
    let mut expired = claims();
    expired["exp"] = (NOW - 3600).into();
    assert!(decide(&l.authorizer, &token_a(&expired)).is_err());
}

#[test]
fn malformed_values_name_the_variable() {
    let pem = public_pem("rsa2048-a");
    for (var, bad) in [
        ("JWT_CACHE_TTL_SECONDS", "abc"),
        ("JWT_CACHE_TTL_SECONDS", "-1"),
        ("JWT_CACHE_TTL_SECONDS", "3601"),
        ("JWT_CACHE_TTL_SECONDS", "1.5"),
        ("JWT_CACHE_TTL_SECONDS", "30s"),
        ("JWT_CACHE_TTL_SECONDS", "99999999999999999999999"),
        ("JWT_TOKEN_LIFETIME_SECONDS", "0"),
        ("JWT_TOKEN_LIFETIME_SECONDS", "abc"),
        ("JWT_TOKEN_LIFETIME_SECONDS", "86401"),
        ("JWT_TOKEN_LIFETIME_SECONDS", "-60"),
    ] {
        let e = load_err(&[("JWT_PUBLIC_KEY", &pem), (var, bad)]);
        assert_eq!(e.var, var, "{var}={bad}: {e}");
        assert!(e.to_string().contains(var), "{e}");
    }
    // Both accept the ends of their ranges.
    assert!(loaded(&[("JWT_CACHE_TTL_SECONDS", "3600"), ("JWT_TOKEN_LIFETIME_SECONDS", "86400")]).warnings.is_empty());
    assert!(loaded(&[("JWT_TOKEN_LIFETIME_SECONDS", "1")]).warnings.is_empty());
}
