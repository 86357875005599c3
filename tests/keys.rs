//! Key sources and selection: PEM (SPKI, PKCS#1, literal `\n`), JWKS inline and from a
//! file, rotation by `kid`, PEM fallback, tokens without `kid`, JWK `alg` restrictions.

mod common;

use common::*;
use jwt_authorizer::Reason;
use jwt_authorizer::config;
use jwt_authorizer::jwt::header::Alg;
use jwt_authorizer::jwt::keys::Key;
use serde_json::{Value, json};

fn jwk(name: &str, kid: Option<&str>, alg: Option<&str>) -> Value {
    let (n, e) = signer(name).public_components();
    let mut k = json!({ "kty": "RSA", "use": "sig", "n": b64(&n), "e": b64(&e) });
    if let Some(kid) = kid {
        k["kid"] = json!(kid);
    }
    if let Some(alg) = alg {
        k["alg"] = json!(alg);
    }
    k
}

fn jwks(keys: &[Value]) -> String {
    json!({ "keys": keys }).to_string()
}

fn signed(name: &str, kid: Option<&str>) -> String {
    signer(name).sign(&claims(), Alg::RS256, kid)
}

#[test]
fn the_committed_jwks_fixture_matches_the_committed_pem_keys() {
    let doc: Value = serde_json::from_str(&fixture("jwks.json")).unwrap();
    let keys = doc["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2);
    for (k, name, kid) in [(&keys[0], "rsa2048-a", "key-a"), (&keys[1], "rsa2048-b", "key-b")] {
        let pem = Key::from_pem(&public_pem(name)).unwrap();
        assert_eq!(k["kid"], kid);
        assert_eq!(k["kty"], "RSA");
        assert_eq!(k["n"].as_str().unwrap(), b64(pem.modulus()));
        assert_eq!(k["e"].as_str().unwrap(), b64(pem.exponent()));
        assert_eq!(unb64(k["n"].as_str().unwrap()), signer(name).public_components().0);
    }
}

#[test]
fn jwks_keys_are_chosen_by_kid() {
    let auth = load(&[("JWT_JWKS", &fixture("jwks.json"))]);
    assert_eq!(decide(&auth, &signed("rsa2048-a", Some("key-a"))), Ok(()));
    assert_eq!(decide(&auth, &signed("rsa2048-b", Some("key-b"))), Ok(()));
    // Right kid, wrong key: the kid selects the key, the signature then fails.
    assert_eq!(decide(&auth, &signed("rsa2048-a", Some("key-b"))), Err(Reason::BadSignature));
    assert_eq!(decide(&auth, &signed("rsa2048-b", Some("key-a"))), Err(Reason::BadSignature));
    // Unknown kid, and no kid with several keys.
    assert_eq!(decide(&auth, &signed("rsa2048-a", Some("key-c"))), Err(Reason::UnknownKid));
    assert_eq!(decide(&auth, &signed("rsa2048-a", Some(""))), Err(Reason::UnknownKid));
    assert_eq!(decide(&auth, &signed("rsa2048-a", None)), Err(Reason::UnknownKid));
}

#[test]
fn rotation_from_key_a_to_key_b() {
    let old = load(&[("JWT_JWKS", &jwks(&[jwk("rsa2048-a", Some("key-a"), None)]))]);
    let both =
        load(&[("JWT_JWKS", &jwks(&[jwk("rsa2048-a", Some("key-a"), None), jwk("rsa2048-b", Some("key-b"), None)]))]);
    let new = load(&[("JWT_JWKS", &jwks(&[jwk("rsa2048-b", Some("key-b"), None)]))]);
    let (ta, tb) = (signed("rsa2048-a", Some("key-a")), signed("rsa2048-b", Some("key-b")));
    assert_eq!((decide(&old, &ta), decide(&old, &tb)), (Ok(()), Err(Reason::UnknownKid)));
    assert_eq!((decide(&both, &ta), decide(&both, &tb)), (Ok(()), Ok(())));
    assert_eq!((decide(&new, &ta), decide(&new, &tb)), (Err(Reason::UnknownKid), Ok(())));
}

#[test]
fn a_token_without_kid_needs_exactly_one_key() {
    let one = load(&[("JWT_JWKS", &jwks(&[jwk("rsa2048-a", Some("key-a"), None)]))]);
    assert_eq!(decide(&one, &signed("rsa2048-a", None)), Ok(()));
    assert_eq!(decide(&one, &signed("rsa2048-b", None)), Err(Reason::BadSignature));
    let one_without_kid = load(&[("JWT_JWKS", &jwks(&[jwk("rsa2048-a", None, None)]))]);
    assert_eq!(decide(&one_without_kid, &signed("rsa2048-a", None)), Ok(()));
    let two = load(&[("JWT_JWKS", &fixture("jwks.json"))]);
    assert_eq!(decide(&two, &signed("rsa2048-a", None)), Err(Reason::UnknownKid));
    // A PEM key alone matches tokens with or without any kid.
    let pem = default_authorizer();
    for kid in [None, Some("key-a"), Some("anything"), Some("ins_2abcCLERK")] {
        assert_eq!(decide(&pem, &signed("rsa2048-a", kid)), Ok(()), "{kid:?}");
        assert_eq!(decide(&pem, &signed("rsa2048-b", kid)), Err(Reason::BadSignature), "{kid:?}");
    }
}

#[test]
fn pem_is_the_fallback_when_no_jwks_kid_matches() {
    // PEM = key A; JWKS = key B (kid key-b).
    let pem = public_pem("rsa2048-a");
    let set = jwks(&[jwk("rsa2048-b", Some("key-b"), None)]);
    let auth = load(&[("JWT_PUBLIC_KEY", &pem), ("JWT_JWKS", &set)]);
    assert_eq!(decide(&auth, &signed("rsa2048-b", Some("key-b"))), Ok(()), "kid match → JWKS key");
    assert_eq!(decide(&auth, &signed("rsa2048-a", Some("other"))), Ok(()), "no match → PEM");
    assert_eq!(decide(&auth, &signed("rsa2048-a", None)), Ok(()), "no kid → PEM");
    // A matching kid uses that JWKS key only; no second try with the PEM key.
    assert_eq!(decide(&auth, &signed("rsa2048-a", Some("key-b"))), Err(Reason::BadSignature));
    assert_eq!(decide(&auth, &signed("rsa2048-b", Some("other"))), Err(Reason::BadSignature));
    assert_eq!(decide(&auth, &signed("rsa2048-b", None)), Err(Reason::BadSignature));
}

#[test]
fn a_jwk_alg_restricts_the_key_to_that_algorithm() {
    let set = jwks(&[jwk("rsa2048-a", Some("a384"), Some("RS384")), jwk("rsa2048-b", Some("b256"), Some("RS256"))]);
    let auth = load(&[("JWT_JWKS", &set), ("JWT_ALGORITHMS", "RS256,RS384,PS256")]);
    let a = signer("rsa2048-a");
    let b = signer("rsa2048-b");
    assert_eq!(decide(&auth, &a.sign(&claims(), Alg::RS384, Some("a384"))), Ok(()));
    assert_eq!(decide(&auth, &a.sign(&claims(), Alg::RS256, Some("a384"))), Err(Reason::UnknownKid));
    assert_eq!(decide(&auth, &a.sign(&claims(), Alg::PS256, Some("a384"))), Err(Reason::UnknownKid));
    assert_eq!(decide(&auth, &b.sign(&claims(), Alg::RS256, Some("b256"))), Ok(()));
    assert_eq!(decide(&auth, &b.sign(&claims(), Alg::RS384, Some("b256"))), Err(Reason::UnknownKid));
    // A PEM fallback is not restricted.
    let with_pem =
        load(&[("JWT_JWKS", &set), ("JWT_ALGORITHMS", "RS256,RS384"), ("JWT_PUBLIC_KEY", &public_pem("rsa2048-a"))]);
    assert_eq!(decide(&with_pem, &a.sign(&claims(), Alg::RS256, Some("a384"))), Ok(()));
    // The JWKS from the CLI is RS256-only; it still loads when the allowlist lacks RS256,
    // with a warning, and its keys then never match.
    let loaded = config::load(env_of(&[("JWT_JWKS", &fixture("jwks.json")), ("JWT_ALGORITHMS", "RS512")])).unwrap();
    assert!(
        loaded.warnings.iter().any(|w| w.contains("key-a") && w.contains("JWT_ALGORITHMS")),
        "{:?}",
        loaded.warnings
    );
    assert_eq!(decide(&loaded.authorizer, &a.sign(&claims(), Alg::RS512, Some("key-a"))), Err(Reason::UnknownKid));
}

#[test]
fn unusable_jwks_entries_are_skipped_with_a_warning() {
    let mut enc = jwk("rsa2048-b", Some("enc-b"), None);
    enc["use"] = json!("enc");
    // P-521 (ES512) is not supported (not in ring): skipped. P-256/P-384/Ed25519 keys are used,
    // and one that is broken fails the cold start (tests/ec.rs).
    let ec = json!({ "kty": "EC", "kid": "ec-1", "crv": "P-521", "x": "AYeA", "y": "AYeA" });
    let mut oaep = jwk("rsa2048-b", Some("oaep-b"), None);
    oaep["alg"] = json!("RSA-OAEP");
    let no_kid = jwk("rsa2048-b", None, None);
    let set = jwks(&[ec, enc, oaep, no_kid, jwk("rsa2048-a", Some("key-a"), None)]);
    let loaded = config::load(env_of(&[("JWT_JWKS", &set)])).unwrap();
    for kid in ["ec-1", "enc-b", "oaep-b", "(no kid)"] {
        assert!(
            loaded.warnings.iter().any(|w| w.contains(kid) && w.contains("JWT_JWKS")),
            "{kid}: {:?}",
            loaded.warnings
        );
    }
    assert_eq!(loaded.authorizer.keys().len(), 1);
    let auth = loaded.authorizer;
    assert_eq!(decide(&auth, &signed("rsa2048-a", Some("key-a"))), Ok(()));
    assert_eq!(decide(&auth, &signed("rsa2048-b", Some("enc-b"))), Err(Reason::UnknownKid));
    assert_eq!(decide(&auth, &signed("rsa2048-b", Some("oaep-b"))), Err(Reason::UnknownKid));
    // One usable key is left, so a token without kid is accepted for it.
    assert_eq!(decide(&auth, &signed("rsa2048-a", None)), Ok(()));
    // Warnings never contain key material.
    let n = b64(&signer("rsa2048-b").public_components().0);
    assert!(loaded.warnings.iter().all(|w| !w.contains(&n[..40])));
}

#[test]
fn jwks_from_a_file_absolute_relative_to_task_root_or_to_the_working_directory() {
    let dir = fixtures_dir();
    let abs = dir.join("jwks.json");
    let token = signed("rsa2048-b", Some("key-b"));
    let root = dir.to_str().unwrap();
    for pairs in [
        vec![("JWT_JWKS_FILE", abs.to_str().unwrap())],
        vec![("JWT_JWKS_FILE", "jwks.json"), ("LAMBDA_TASK_ROOT", root)],
        vec![("JWT_JWKS_FILE", " jwks.json "), ("LAMBDA_TASK_ROOT", root)],
        // cargo runs integration tests in the package root.
        vec![("JWT_JWKS_FILE", "tests/fixtures/jwks.json")],
        vec![("JWT_JWKS_FILE", "tests/fixtures/jwks.json"), ("LAMBDA_TASK_ROOT", "")],
    ] {
        assert_eq!(decide(&load(&pairs), &token), Ok(()), "{pairs:?}");
    }
    // JWKS inline and from a file are merged.
    let inline = jwks(&[jwk("rsa3072-c", Some("key-c"), None)]);
    let merged = load(&[("JWT_JWKS", &inline), ("JWT_JWKS_FILE", abs.to_str().unwrap())]);
    assert_eq!(decide(&merged, &signed("rsa3072-c", Some("key-c"))), Ok(()));
    assert_eq!(decide(&merged, &signed("rsa2048-a", Some("key-a"))), Ok(()));
}

#[test]
fn spki_and_pkcs1_pems_with_real_or_literal_newlines() {
    let token = valid_token();
    let spki = public_pem("rsa2048-a");
    let pkcs1 = fixture("rsa2048-a.rsapub.pem");
    assert!(spki.starts_with("-----BEGIN PUBLIC KEY-----"));
    assert!(pkcs1.starts_with("-----BEGIN RSA PUBLIC KEY-----"));
    for pem in [&spki, &pkcs1] {
        let variants = [
            pem.clone(),
            pem.replace('\n', "\\n"),
            pem.trim_end().replace('\n', "\\n"),
            pem.replace('\n', "\r\n"),
            format!("\n  {}  \n", pem.replace('\n', "\n    ")),
        ];
        for v in variants {
            let auth = load(&[("JWT_PUBLIC_KEY", &v)]);
            assert_eq!(decide(&auth, &token), Ok(()), "{v:?}");
            assert_eq!(decide(&auth, &signed("rsa2048-b", None)), Err(Reason::BadSignature));
        }
    }
    // Both encodings give the same key; a 3072-bit key works too.
    let (k1, k2) = (Key::from_pem(&spki).unwrap(), Key::from_pem(&pkcs1).unwrap());
    assert_eq!((k1.modulus(), k1.exponent()), (k2.modulus(), k2.exponent()));
    assert_eq!(k1.modulus_bits(), 2048);
    let c = load(&[("JWT_PUBLIC_KEY", &fixture("rsa3072-c.rsapub.pem"))]);
    assert_eq!(decide(&c, &signed("rsa3072-c", None)), Ok(()));
    assert_eq!(Key::from_pem(&public_pem("rsa3072-c")).unwrap().modulus_bits(), 3072);
}

#[test]
fn the_cli_jwks_of_a_pem_key_is_equivalent_to_the_pem_key() {
    // What `jwt-authorizer-cli jwks` prints, built with the same library calls.
    let key = Key::from_pem(&public_pem("rsa2048-a")).unwrap();
    let kid = key.thumbprint();
    let doc = json!({ "keys": [key.to_jwk(&kid, Alg::RS256)] }).to_string();
    let auth = load(&[("JWT_JWKS", &doc)]);
    assert_eq!(decide(&auth, &signed("rsa2048-a", Some(&kid))), Ok(()));
    assert_eq!(decide(&auth, &signed("rsa2048-a", None)), Ok(()));
    assert_eq!(decide(&auth, &signed("rsa2048-b", Some(&kid))), Err(Reason::BadSignature));
    // RFC 7638 thumbprint: 43 base64url characters of SHA-256, stable across encodings.
    assert_eq!(kid.len(), 43);
    assert_eq!(Key::from_pem(&fixture("rsa2048-a.rsapub.pem")).unwrap().thumbprint(), kid);
    assert_ne!(Key::from_pem(&public_pem("rsa2048-b")).unwrap().thumbprint(), kid);
}
