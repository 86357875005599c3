//! The CLI as a user runs it: `--help` everywhere, `check` through the Lambda's own
//! configuration code (every variable, the decision cache included), `check --token` with
//! or without the `Bearer` scheme.

mod common;

use common::*;
use std::process::{Command, Output};

fn cli(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_jwt-authorizer-cli"));
    cmd.args(args).env_clear();
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run jwt-authorizer-cli")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn every_command_answers_help_with_its_usage_and_exit_0() {
    for command in ["demo", "check", "mint", "jwks", "config"] {
        for flag in ["--help", "-h"] {
            let out = cli(&[command, flag], &[]);
            assert_eq!(out.status.code(), Some(0), "{command} {flag}: {}", text(&out.stderr));
            let usage = text(&out.stdout);
            assert!(usage.contains(&format!("  {command} ")), "{command} {flag}: {usage}");
            for other in ["demo", "check", "mint", "jwks", "config"].iter().filter(|c| **c != command) {
                assert!(!usage.contains(&format!("\n  {other} ")), "{command} --help shows {other}: {usage}");
            }
        }
    }
    let out = cli(&["--help"], &[]);
    assert_eq!(out.status.code(), Some(0));
    assert!(["demo", "check", "mint", "jwks", "config"].iter().all(|c| text(&out.stdout).contains(&format!("  {c} "))));
    assert_eq!(cli(&["nonsense"], &[]).status.code(), Some(2));
    assert_eq!(cli(&[], &[]).status.code(), Some(2));
}

#[test]
fn check_accepts_a_token_with_or_without_the_bearer_scheme() {
    let pem = public_pem("rsa2048-a");
    let env = [("JWT_PUBLIC_KEY", pem.as_str())];
    let token = valid_token();
    let now = NOW.to_string();
    for given in [token.clone(), format!("Bearer {token}"), format!("bearer {token}")] {
        let out = cli(&["check", "--token", &given, "--now", &now], &env);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert!(text(&out.stdout).contains(r#""isAuthorized":true"#));
    }
    let out = cli(&["check", "--token", &format!("Basic {token}"), "--now", &now], &env);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("bad_scheme"), "{}", text(&out.stderr));
}

#[test]
fn check_runs_all_of_the_cold_start_configuration() {
    let pem = public_pem("rsa2048-a");
    let token = valid_token();
    let now = NOW.to_string();
    // Each of these fails the function's cold start, so check must fail too (exit 2),
    // naming the variable, and never decide.
    for (var, value, says) in [
        ("JWT_DECISION_CACHE", "abc", "JWT_DECISION_CACHE"),
        ("JWT_DECISION_CACHE_MAX_SECONDS", "-1", "JWT_DECISION_CACHE_MAX_SECONDS"),
        ("JWT_ISSUERS", "https://typo", "did you mean JWT_ISSUER?"),
        ("JWT_ISSUER", "  ", "whitespace"),
        ("JWT_CONTEXT_CLAIMS", "a=b=c", "a=b=c"),
    ] {
        let out = cli(&["check", "--token", &token, "--now", &now], &[("JWT_PUBLIC_KEY", &pem), (var, value)]);
        assert_eq!(out.status.code(), Some(2), "{var}={value}: {}", text(&out.stderr));
        assert!(text(&out.stderr).contains(says), "{var}={value}: {}", text(&out.stderr));
        assert!(out.stdout.is_empty(), "no decision is printed");
    }
}

#[test]
fn jwks_takes_several_keys_each_with_its_own_kid() {
    let a = fixtures_dir().join("rsa2048-a.pub.pem");
    let b = fixtures_dir().join("rsa2048-b.pub.pem");
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
    let out = cli(&["jwks", "--key", a, "--kid", "old", "--key", b, "--kid", "new", "--alg", "RS256"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let jwks = text(&out.stdout);
    let v: serde_json::Value = serde_json::from_str(&jwks).unwrap();
    let kids: Vec<&str> = v["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap()).collect();
    assert_eq!(kids, ["old", "new"]);
    // The two-key set verifies tokens of either key, each chosen by its kid.
    let auth = load(&[("JWT_JWKS", jwks.trim())]);
    let old = signer("rsa2048-a").sign(&claims(), jwt_authorizer::jwt::header::Alg::RS256, Some("old"));
    let new = signer("rsa2048-b").sign(&claims(), jwt_authorizer::jwt::header::Alg::RS256, Some("new"));
    assert_eq!(decide(&auth, &old), Ok(()));
    assert_eq!(decide(&auth, &new), Ok(()));
    let swapped = signer("rsa2048-a").sign(&claims(), jwt_authorizer::jwt::header::Alg::RS256, Some("new"));
    assert_eq!(decide(&auth, &swapped), Err(jwt_authorizer::Reason::BadSignature));
    // Default kids are the thumbprints; a repeated kid is refused.
    let out = cli(&["jwks", "--key", a, "--key", b], &[]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(cli(&["jwks", "--key", a, "--kid", "k", "--key", b, "--kid", "k"], &[]).status.code(), Some(2));
    assert_eq!(cli(&["jwks", "--kid", "k", "--key", a, "--key", b], &[]).status.code(), Some(2));
}

#[test]
fn config_prints_the_effective_configuration_or_fails_as_the_cold_start_would() {
    let dir = std::env::temp_dir().join(format!("jwt-authorizer-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("env");
    let pem = public_pem("rsa2048-a").replace('\n', "\\n");
    let good = format!(
        "# a comment\nJWT_PUBLIC_KEY=\"{pem}\"\nexport JWT_ISSUER=https://issuer.example\n\
         JWT_REQUIRE='\"https://example.com/roles\"=admin'\nJWT_CONTEXT_CLAIMS=email\nJWT_CACHE_TTL_SECONDS=300\n"
    );
    std::fs::write(&file, &good).unwrap();
    let out = cli(&["config", "--env-file", file.to_str().unwrap()], &[]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}{stdout}", text(&out.stderr));
    let thumbprint = jwt_authorizer::jwt::keys::Key::from_pem(&public_pem("rsa2048-a")).unwrap().thumbprint();
    for want in [
        format!("RSA 2048 bits, alg any allowed, RFC 7638 thumbprint {thumbprint}"),
        "algorithms: RS256".to_owned(),
        "issuer: https://issuer.example".to_owned(),
        r#"rules (all must hold): "https://example.com/roles"=admin"#.to_owned(),
        "context: sub <- sub, email <- email".to_owned(),
        "leeway: 5 s".to_owned(),
        "warning: JWT_CACHE_TTL_SECONDS (300 s) exceeds".to_owned(),
    ] {
        assert!(stdout.contains(&want), "missing {want:?} in\n{stdout}");
    }
    // What fails the cold start fails here, naming the variable.
    for (line, says) in [
        ("JWT_ISSUERS=https://typo\n", "did you mean JWT_ISSUER?"),
        ("JWT_DECISION_CACHE=lots\n", "JWT_DECISION_CACHE"),
        ("JWT_LEEWAY_SECONDS=1000\n", "JWT_LEEWAY_SECONDS"),
    ] {
        std::fs::write(&file, format!("{good}{line}")).unwrap();
        let out = cli(&["config", "--env-file", file.to_str().unwrap()], &[]);
        assert_eq!(out.status.code(), Some(2), "{line}");
        assert!(text(&out.stderr).contains(says), "{line}: {}", text(&out.stderr));
    }
    // Without --env-file it reads the process environment, like the function.
    let out = cli(&["config"], &[("JWT_PUBLIC_KEY", &public_pem("rsa2048-a")), ("JWT_AUDIENCE", "api")]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("audience: api"));
    assert_eq!(cli(&["config"], &[]).status.code(), Some(2), "no key: the cold start would fail");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Issue 18: `mint` signs ES256/ES384/EdDSA with EC and Ed25519 PKCS#8 keys, `jwks` prints
/// EC/OKP JWKs from public PEMs, `config` shows the key types, `check` verifies the result.
#[test]
fn mint_jwks_config_and_check_with_ec_and_ed25519_keys() {
    let now = NOW.to_string();
    let path = |f: &str| fixtures_dir().join(f).to_str().unwrap().to_owned();
    let mut keys = Vec::new();
    for (name, alg, crv) in
        [("ec-p256", "ES256", "P-256"), ("ec-p384", "ES384", "P-384"), ("ed25519", "EdDSA", "Ed25519")]
    {
        // --alg defaults to the key's own algorithm.
        let out = cli(
            &[
                "mint",
                "--key",
                &path(&format!("{name}.key.pem")),
                "--claims",
                r#"{"sub":"u1"}"#,
                "--kid",
                name,
                "--now",
                &now,
            ],
            &[],
        );
        assert_eq!(out.status.code(), Some(0), "{name}: {}", text(&out.stderr));
        let token = text(&out.stdout).trim().to_owned();
        let header: serde_json::Value = serde_json::from_slice(&unb64(&segments(&token).0)).unwrap();
        assert_eq!(header["alg"], alg);
        let out = cli(&["jwks", "--key", &path(&format!("{name}.pub.pem")), "--kid", name], &[]);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", text(&out.stderr));
        let set: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let jwk = set["keys"][0].clone();
        assert_eq!((jwk["alg"].as_str(), jwk["crv"].as_str()), (Some(alg), Some(crv)), "{jwk}");
        assert_eq!(jwk["kty"], if name == "ed25519" { "OKP" } else { "EC" });
        keys.push(jwk);
        // A token the CLI minted, checked through the function's configuration code.
        let jwks = serde_json::json!({ "keys": [&keys[keys.len() - 1]] }).to_string();
        let env = [("JWT_JWKS", jwks.as_str()), ("JWT_ALGORITHMS", alg)];
        let out = cli(&["check", "--token", &token, "--now", &now], &env);
        assert_eq!(out.status.code(), Some(0), "{name}: {}", text(&out.stderr));
        // An algorithm the key cannot sign or verify is refused, naming it.
        let wrong = if alg == "EdDSA" { "ES256" } else { "EdDSA" };
        for args in [
            vec!["mint", "--key", &path(&format!("{name}.key.pem")), "--alg", wrong],
            vec!["jwks", "--key", &path(&format!("{name}.pub.pem")), "--alg", "RS256"],
        ] {
            let out = cli(&args.iter().map(|a| a.as_ref()).collect::<Vec<&str>>(), &[]);
            assert_eq!(out.status.code(), Some(2), "{args:?}");
            assert!(text(&out.stderr).contains("does not fit"), "{args:?}: {}", text(&out.stderr));
        }
    }
    let jwks = serde_json::json!({ "keys": keys }).to_string();
    let out = cli(&["config"], &[("JWT_JWKS", &jwks), ("JWT_ALGORITHMS", "ES256,ES384,EdDSA")]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}{stdout}", text(&out.stderr));
    for want in [
        "kid ec-p256: EC P-256, alg ES256",
        "kid ec-p384: EC P-384, alg ES384",
        "kid ed25519: OKP Ed25519, alg EdDSA",
        "algorithms: ES256, ES384, EdDSA",
    ] {
        assert!(stdout.contains(want), "missing {want:?} in\n{stdout}");
    }
    // An EC PEM key with the default allowlist (RS256): the cold start would fail, saying why.
    let out = cli(&["config"], &[("JWT_PUBLIC_KEY", &public_pem("ec-p256"))]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("verifies only ES256"), "{}", text(&out.stderr));
}

/// `config` with `JWT_JWKS_URL`: it fetches as the cold start would and prints each fetched
/// key's kid and RFC 7638 thumbprint with the fetch time, or why the fetch failed.
#[test]
#[cfg(feature = "remote-keys")]
fn config_prints_the_fetched_keys_or_the_fetch_failure() {
    use common::jwks_server::{Answer, JwksServer, jwks};
    let server = JwksServer::http(|_| Answer::Json(jwks(&[("rsa2048-a", "a"), ("rsa2048-b", "b")])));
    let url = server.url();
    let out = cli(&["config"], &[("JWT_JWKS_URL", &url)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let thumbprint = |name: &str| {
        let (n, e) = signer(name).public_components();
        jwt_authorizer::jwt::keys::Key::from_modulus_exponent(&n, &e).unwrap().thumbprint()
    };
    assert!(stdout.contains("fetched keys: refresh every 3600 s"), "{stdout}");
    assert!(stdout.contains(&format!("{url} (fetched at ")), "{stdout}");
    assert!(
        stdout.contains(&format!("kid a: RSA 2048 bits, alg RS256, RFC 7638 thumbprint {}", thumbprint("rsa2048-a")))
    );
    assert!(
        stdout.contains(&format!("kid b: RSA 2048 bits, alg RS256, RFC 7638 thumbprint {}", thumbprint("rsa2048-b")))
    );
    server.set(|_| Answer::Raw(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_vec()));
    let out = cli(&["config"], &[("JWT_JWKS_URL", &url)]);
    assert_eq!(out.status.code(), Some(0), "a fetch failure does not fail the cold start");
    assert!(text(&out.stdout).contains(&format!("{url}: fetch failed (status): HTTP 404")), "{}", text(&out.stdout));
    let out = cli(&["config"], &[("JWT_JWKS_URL", "http://example.com/jwks")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("JWT_JWKS_URL"), "{}", text(&out.stderr));
}

/// `config` with discovery: the discovered set and the issuer it serves; a document naming
/// another issuer fails as the cold start would (exit 2, naming JWT_ISSUER).
#[test]
#[cfg(feature = "remote-keys")]
fn config_prints_discovered_keys_with_their_issuer_or_fails_on_a_mismatch() {
    use common::jwks_server::{Answer, JwksServer, jwks};
    for suffix in ["", "/"] {
        let origin = std::sync::Arc::new(std::sync::OnceLock::<String>::new());
        let mine = origin.clone();
        let server = JwksServer::http_paths(move |_, path| {
            let o = mine.get().unwrap();
            match path {
                "/keys" => Answer::Json(jwks(&[("rsa2048-a", "a")])),
                _ => Answer::Json(
                    serde_json::json!({ "issuer": format!("{o}{suffix}"), "jwks_uri": format!("{o}/keys") })
                        .to_string(),
                ),
            }
        });
        origin.set(server.origin()).unwrap();
        let issuer = server.origin();
        let out = cli(&["config"], &[("JWT_ISSUER", &issuer), ("JWT_OIDC_DISCOVERY", "on")]);
        if suffix.is_empty() {
            assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
            assert!(text(&out.stdout).contains(&format!("1 keys, for issuer {issuer} only")), "{}", text(&out.stdout));
        } else {
            assert_eq!(out.status.code(), Some(2));
            assert!(text(&out.stderr).contains("JWT_ISSUER"), "{}", text(&out.stderr));
        }
    }
}
