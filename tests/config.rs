//! Configuration: defaults, and every invalid configuration fails with a `ConfigError`
//! naming the right variable (and never echoing the value).

mod common;

use common::*;
use jwt_authorizer::Reason;
use jwt_authorizer::apigw::response::Format;
use jwt_authorizer::config::{self, VARIABLES};
use jwt_authorizer::jwt::header::{Alg, AlgSet};
use serde_json::json;

/// Asserts `pairs` (plus key A unless a key variable is given) fails naming `var`.
fn refused(pairs: &[(&str, &str)], var: &str) {
    let pem = public_pem("rsa2048-a");
    let mut all: Vec<(&str, &str)> = pairs.to_vec();
    if !pairs.iter().any(|(k, _)| k.starts_with("JWT_PUBLIC_KEY") || k.starts_with("JWT_JWKS")) {
        all.push(("JWT_PUBLIC_KEY", &pem));
    }
    let e = load_err(&all);
    assert_eq!(e.var, var, "{pairs:?}: {e}");
    assert!(VARIABLES.contains(&&*e.var));
    let text = e.to_string();
    assert!(text.contains(var), "{text}");
    assert!(!e.problem.is_empty());
    // The message never repeats the configured value (keys, secrets, issuers), except the
    // rule or context item at fault (a claim path) and the JWKS file's path, which the
    // message names so they can be found.
    for (name, value) in pairs {
        let v = value.trim();
        if v.len() >= 6 && !["JWT_REQUIRE", "JWT_CONTEXT_CLAIMS", "JWT_JWKS_FILE", "LAMBDA_TASK_ROOT"].contains(name) {
            assert!(!text.contains(v), "{text} echoes {v}");
        }
    }
}

/// Modulus and exponent of an SPKI PEM, read without the library's size checks.
fn spki_components(pem: &str) -> (Vec<u8>, Vec<u8>) {
    use pkcs1::der::Decode as _;
    let (label, der) = pkcs1::der::pem::decode_vec(pem.as_bytes()).unwrap();
    assert_eq!(label, "PUBLIC KEY");
    let info = spki::SubjectPublicKeyInfoRef::from_der(&der).unwrap();
    let key = pkcs1::RsaPublicKeyRef::try_from(info.subject_public_key.as_bytes().unwrap()).unwrap();
    let strip = |b: &[u8]| b.iter().skip_while(|&&x| x == 0).copied().collect::<Vec<u8>>();
    (strip(key.modulus.as_bytes()), strip(key.public_exponent.as_bytes()))
}

#[test]
fn defaults() {
    let loaded = config::load(env_of(&[("JWT_PUBLIC_KEY", &public_pem("rsa2048-a"))])).unwrap();
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let a = loaded.authorizer;
    assert_eq!(a.algorithms(), AlgSet::default());
    assert!(a.algorithms().contains(Alg::RS256));
    assert!(Alg::ALL[1..].iter().all(|x| !a.algorithms().contains(*x)));
    assert_eq!(a.policy().leeway, 5);
    assert!(
        a.policy().issuers.is_empty() && a.policy().audiences.is_empty() && a.policy().authorized_parties.is_empty()
    );
    assert!(a.policy().require.is_empty() && a.context().is_empty());
    assert_eq!(a.cookie(), None);
    assert_eq!(a.token_header(), "Authorization");
    assert_eq!(a.format(), Format::Simple);
    assert_eq!(a.keys().len(), 1);
}

#[test]
fn empty_values_count_as_unset() {
    let pem = public_pem("rsa2048-a");
    let mut pairs = vec![("JWT_PUBLIC_KEY", pem.as_str())];
    for var in VARIABLES.iter().filter(|v| **v != "JWT_PUBLIC_KEY") {
        pairs.push((var, ""));
    }
    let auth = load(&pairs);
    assert_eq!(auth.policy().leeway, 5);
    assert_eq!(decide(&auth, &valid_token()), Ok(()));
}

#[test]
fn a_value_of_only_whitespace_is_an_error_not_unset() {
    for var in VARIABLES {
        for blank in [" ", "\t", " \n "] {
            refused(&[(var, blank)], var);
            let pem = public_pem("rsa2048-a");
            let key_var = var.starts_with("JWT_PUBLIC_KEY") || var.starts_with("JWT_JWKS");
            let e =
                if key_var { load_err(&[(var, blank)]) } else { load_err(&[(var, blank), ("JWT_PUBLIC_KEY", &pem)]) };
            assert!(e.problem.contains("whitespace"), "{e}");
        }
    }
}

/// One rule for every variable read: the `AWS_LAMBDA_*` ones too, whichever module reads
/// them — through the cold start's configuration and through each reader on its own.
#[test]
fn a_lambda_variable_of_only_whitespace_is_an_error_and_an_empty_one_unset() {
    let pem = public_pem("rsa2048-a");
    for var in config::LAMBDA_VARIABLES {
        for blank in [" ", "\t", " \n "] {
            let e = load_err(&[(var, blank), ("JWT_PUBLIC_KEY", &pem)]);
            assert_eq!(e.var, var, "{var}={blank:?}: {e}");
            assert!(e.problem.contains("whitespace"), "{e}");
        }
        assert!(config::load(env_of(&[(var, ""), ("JWT_PUBLIC_KEY", &pem)])).is_ok(), "{var} empty is unset");
    }
    let blank = |var: &str| env_of(&[(var, " \t ")]);
    let var = |e: config::ConfigError| e.var.into_owned();
    let memory = "AWS_LAMBDA_FUNCTION_MEMORY_SIZE";
    assert_eq!(var(config::decision_cache(&blank(memory)).unwrap_err()), memory);
    assert_eq!(var(config::decision_cache(&blank("JWT_DECISION_CACHE")).unwrap_err()), "JWT_DECISION_CACHE");
    let concurrency = jwt_authorizer::function::workers::VARIABLE;
    assert_eq!(var(jwt_authorizer::function::workers::count(blank(concurrency)).unwrap_err()), concurrency);
    assert_eq!(jwt_authorizer::function::workers::count(env_of(&[(concurrency, "")])), Ok(1));
    for (metric, env) in [
        ("JWT_METRICS_NAMESPACE", env_of(&[("JWT_METRICS_NAMESPACE", " ")])),
        (
            "JWT_METRICS_INTERVAL_SECONDS",
            env_of(&[("JWT_METRICS_NAMESPACE", "N"), ("JWT_METRICS_INTERVAL_SECONDS", " ")]),
        ),
    ] {
        assert_eq!(var(config::MetricsConfig::from_env(&env).unwrap_err()), metric);
    }
}

/// Lambda's documented range for a function's memory, in the error too.
#[test]
fn the_function_memory_is_a_whole_number_of_mb_from_128_to_32768() {
    let memory = "AWS_LAMBDA_FUNCTION_MEMORY_SIZE";
    let cache = |v: &str| config::decision_cache(&env_of(&[(memory, v)]));
    for (ok, mb) in [("128", 128), ("10240", 10_240), ("32768", 32_768), (" 2048 ", 2048)] {
        assert_eq!(cache(ok).unwrap().budget(), jwt_authorizer::cache::budget_for(mb), "{ok}");
    }
    for bad in ["127", "32769", "0", "1", "-128", "1.5", "128MB", "99999999999999999999999"] {
        let e = cache(bad).unwrap_err();
        assert_eq!(e.var, memory, "{bad}");
        assert_eq!(
            e.problem, "must be the function's memory in MB, a whole number from 128 to 32768 (Lambda sets it)",
            "{bad}"
        );
    }
}

#[test]
fn items_that_parse_to_nothing_are_errors_naming_the_item() {
    for (var, bad) in [
        ("JWT_ISSUER", "https://a,,https://b"),
        ("JWT_ISSUER", "https://a,"),
        ("JWT_AUDIENCE", ",api"),
        ("JWT_AUTHORIZED_PARTIES", "https://app, ,https://b"),
        ("JWT_ALGORITHMS", "RS256,"),
        ("JWT_REQUIRE", "role=admin,,org=acme"),
        ("JWT_CONTEXT_CLAIMS", "email,"),
    ] {
        refused(&[(var, bad)], var);
        assert!(load_err(&[(var, bad), ("JWT_PUBLIC_KEY", &public_pem("rsa2048-a"))]).problem.contains("empty"));
    }
    // `a=b=c` is a context claim whose path would be `b=c`: an error naming the item.
    let e = load_err(&[("JWT_PUBLIC_KEY", &public_pem("rsa2048-a")), ("JWT_CONTEXT_CLAIMS", "email, a=b=c")]);
    assert_eq!(e.var, "JWT_CONTEXT_CLAIMS");
    assert!(e.problem.contains("a=b=c"), "{e}");
    let e = load_err(&[("JWT_PUBLIC_KEY", &public_pem("rsa2048-a")), ("JWT_REQUIRE", r#""https://x/roles=admin"#)]);
    assert!(e.problem.contains("not closed"), "{e}");
}

#[test]
fn namespaced_claims_and_scopes_through_the_configuration() {
    let a = with_key_a(&[
        ("JWT_REQUIRE", r#""https://example.com/roles"=admin, scope=read:orders"#),
        ("JWT_CONTEXT_CLAIMS", r#""https://example.com/roles", perms="https://example.com/app.perms""#),
    ]);
    assert_eq!(a.policy().require[0].path, ["https://example.com/roles"]);
    let keys: Vec<(&str, &[String])> = a.context().iter().map(|c| (c.key.as_str(), c.path.as_slice())).collect();
    assert_eq!(keys[0], ("roles", &["https://example.com/roles".to_owned()][..]));
    assert_eq!(keys[1], ("perms", &["https://example.com/app.perms".to_owned()][..]));
    let ok = claims_with(json!({ "https://example.com/roles": ["admin"], "scope": "openid read:orders" }));
    assert_eq!(decide(&a, &token_a(&ok)), Ok(()));
    let no_scope = claims_with(json!({ "https://example.com/roles": ["admin"], "scope": "openid read:order" }));
    assert_eq!(decide(&a, &token_a(&no_scope)), Err(Reason::RuleFailed));
}

#[test]
fn unknown_jwt_variables_are_refused_with_the_closest_name() {
    let names = |n: &[&str]| n.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(config::check_names(names(&["PATH", "JWT_ISSUER", "AWS_REGION", "MY_JWT_ISSUERS"])), Ok(()));
    for (typo, want) in [
        ("JWT_ISSUERS", "JWT_ISSUER"),
        ("JWT_AUDIENCES", "JWT_AUDIENCE"),
        ("JWT_AUTHORISED_PARTIES", "JWT_AUTHORIZED_PARTIES"),
        ("JWT_REQUIRES", "JWT_REQUIRE"),
        ("JWT_PUBLICKEY", "JWT_PUBLIC_KEY"),
        ("JWT_JWKS_PATH", "JWT_JWKS_FILE"),
        ("jwt_issuer", "JWT_ISSUER"),
        ("Jwt_Audience", "JWT_AUDIENCE"),
    ] {
        let e = config::check_names(names(&["JWT_ISSUER", typo])).unwrap_err();
        assert_eq!(e.var, typo);
        assert!(e.to_string().contains(&format!("did you mean {want}?")), "{e}");
    }
    let e = config::check_names(names(&["JWT_SOMETHING_ELSE_ENTIRELY"])).unwrap_err();
    assert!(e.problem.contains("unknown variable") && !e.problem.contains("did you mean"), "{e}");
}

#[test]
fn a_pem_whose_newlines_became_spaces_is_accepted() {
    let pem = public_pem("rsa2048-a");
    let one_line = pem.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(!one_line.contains('\n'));
    let a = load(&[("JWT_PUBLIC_KEY", &one_line)]);
    assert_eq!(decide(&a, &valid_token()), Ok(()));
    let pkcs1 = fixture("rsa2048-a.rsapub.pem").replace('\n', " ");
    assert_eq!(decide(&load(&[("JWT_PUBLIC_KEY", &pkcs1)]), &valid_token()), Ok(()));
    // Still refused: a body that is not the key.
    refused(&[("JWT_PUBLIC_KEY", &one_line.replacen("MII", "MIJ", 1))], "JWT_PUBLIC_KEY");
}

#[test]
fn settings_are_parsed_as_documented() {
    let a = with_key_a(&[
        ("JWT_ALGORITHMS", " RS256 , PS512 "),
        ("JWT_ISSUER", "https://a , https://b"),
        ("JWT_AUDIENCE", "x"),
        ("JWT_AUTHORIZED_PARTIES", "https://app"),
        ("JWT_LEEWAY_SECONDS", "0"),
        ("JWT_REQUIRE", "metadata.role=admin|owner, org=acme"),
        ("JWT_CONTEXT_CLAIMS", "email, role=metadata.role, metadata.plan"),
        ("JWT_TOKEN_COOKIE", "__session"),
        ("JWT_RESPONSE_FORMAT", "iam"),
    ]);
    assert!(a.algorithms().contains(Alg::RS256) && a.algorithms().contains(Alg::PS512));
    assert!(!a.algorithms().contains(Alg::RS512));
    assert_eq!(a.policy().issuers, ["https://a", "https://b"]);
    assert_eq!(a.policy().audiences, ["x"]);
    assert_eq!(a.policy().authorized_parties, ["https://app"]);
    assert_eq!(a.policy().leeway, 0);
    assert_eq!(a.policy().require.len(), 2);
    assert_eq!(a.policy().require[0].path, ["metadata", "role"]);
    assert_eq!(a.policy().require[0].values, ["admin", "owner"]);
    let keys: Vec<&str> = a.context().iter().map(|c| c.key.as_str()).collect();
    assert_eq!(keys, ["email", "role", "metadata_plan"]);
    assert_eq!(a.cookie(), Some("__session"));
    assert_eq!(a.format(), Format::Iam);
}

#[test]
fn weak_non_rsa_unparsable_or_private_pem_keys_are_refused() {
    refused(&[("JWT_PUBLIC_KEY", &public_pem("rsa1024"))], "JWT_PUBLIC_KEY");
    assert!(load_err(&[("JWT_PUBLIC_KEY", &public_pem("rsa1024"))]).problem.contains("2048"));
    // An EC key verifies only ES256, which the default JWT_ALGORITHMS (RS256) does not allow.
    assert!(load_err(&[("JWT_PUBLIC_KEY", &fixture("ec-p256.pub.pem"))]).problem.contains("only ES256"));
    refused(&[("JWT_PUBLIC_KEY", &fixture("ec-p256.pub.pem"))], "JWT_PUBLIC_KEY");
    refused(&[("JWT_PUBLIC_KEY", &fixture("rsa2048-a.key.pem"))], "JWT_PUBLIC_KEY");
    refused(&[("JWT_PUBLIC_KEY", &fixture("ec-p256.key.pem"))], "JWT_PUBLIC_KEY");
    let pem = public_pem("rsa2048-a");
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    for bad in [
        "not a key at all".to_owned(),
        body.clone(),                                 // base64 without armour
        pem.replace("PUBLIC KEY", "CERTIFICATE"),     // wrong label
        pem.replacen(&body[10..20], "!!!!!!!!!!", 1), // not base64
        pem.replacen(&body[40..44], "AAAA", 1),       // corrupted DER
        pem.replace("-----END PUBLIC KEY-----", ""),  // truncated
        format!("-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----", &body[..200]),
    ] {
        refused(&[("JWT_PUBLIC_KEY", &bad)], "JWT_PUBLIC_KEY");
    }
    // A 1024-bit key in a JWKS is refused too, naming the JWKS variable.
    let (n, e) = spki_components(&public_pem("rsa1024"));
    assert_eq!(n.len(), 128, "a 1024-bit modulus");
    let weak = json!({ "keys": [{ "kty": "RSA", "kid": "weak", "n": b64(&n), "e": b64(&e) }] }).to_string();
    refused(&[("JWT_JWKS", &weak)], "JWT_JWKS");
    assert!(load_err(&[("JWT_JWKS", &weak)]).problem.contains("2048"));
}

#[test]
fn jwks_without_a_usable_key_or_malformed_is_refused() {
    let (n, _) = signer("rsa2048-a").public_components();
    let n = b64(&n);
    for bad in [
        r#"{"keys":[]}"#.to_owned(),
        r#"{"keys":[{"kty":"EC","kid":"e","crv":"P-256","x":"AA","y":"AA"}]}"#.to_owned(),
        format!(r#"{{"keys":[{{"kty":"RSA","kid":"k","use":"enc","n":"{n}","e":"AQAB"}}]}}"#),
        format!(r#"{{"keys":[{{"kty":"RSA","kid":"k","n":"{n}"}}]}}"#),
        format!(r#"{{"keys":[{{"kty":"RSA","kid":"k","n":"{n}==","e":"AQAB"}}]}}"#),
        r#"{"keys":{}}"#.to_owned(),
        r#"{"nokeys":[]}"#.to_owned(),
        "[]".to_owned(),
        "not json".to_owned(),
        r#"{"keys":[{"kty":"RSA","kid":"k","n":1,"e":"AQAB"}]}"#.to_owned(),
    ] {
        refused(&[("JWT_JWKS", &bad)], "JWT_JWKS");
    }
    // The same from a file names JWT_JWKS_FILE.
    let dir = std::env::temp_dir().join(format!("jwt-authorizer-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let empty = dir.join("empty.json");
    std::fs::write(&empty, r#"{"keys":[]}"#).unwrap();
    refused(&[("JWT_JWKS_FILE", empty.to_str().unwrap())], "JWT_JWKS_FILE");
    std::fs::remove_dir_all(&dir).unwrap();
    // With a PEM key configured as well, an empty JWKS leaves a usable key.
    let pem = public_pem("rsa2048-a");
    let auth = load(&[("JWT_PUBLIC_KEY", &pem), ("JWT_JWKS", r#"{"keys":[]}"#)]);
    assert_eq!(decide(&auth, &valid_token()), Ok(()));
}

#[test]
fn unreadable_jwks_files_are_refused() {
    let root = fixtures_dir();
    refused(&[("JWT_JWKS_FILE", "/nonexistent/jwks.json")], "JWT_JWKS_FILE");
    refused(&[("JWT_JWKS_FILE", "no-such-file.json")], "JWT_JWKS_FILE");
    refused(&[("JWT_JWKS_FILE", root.to_str().unwrap())], "JWT_JWKS_FILE"); // a directory
    // The message gives the path tried and the OS error.
    let e = load_err(&[("JWT_JWKS_FILE", "keys/jwks.json"), ("LAMBDA_TASK_ROOT", "/var/task")]);
    assert!(e.problem.contains("/var/task/keys/jwks.json") && e.problem.contains("No such file"), "{e}");
    // Relative to LAMBDA_TASK_ROOT, not the working directory, when it is set.
    refused(
        &[("JWT_JWKS_FILE", "tests/fixtures/jwks.json"), ("LAMBDA_TASK_ROOT", root.to_str().unwrap())],
        "JWT_JWKS_FILE",
    );
    let auth = load(&[("JWT_JWKS_FILE", "jwks.json"), ("LAMBDA_TASK_ROOT", root.to_str().unwrap())]);
    assert_eq!(auth.keys().len(), 2);
}

#[test]
fn a_missing_key_is_refused() {
    for pairs in [
        vec![],
        vec![("JWT_ISSUER", "https://iss")],
        vec![("JWT_PUBLIC_KEY", ""), ("JWT_JWKS", ""), ("JWT_JWKS_FILE", "")],
    ] {
        let e = load_err(&pairs);
        assert_eq!(e.var, "JWT_PUBLIC_KEY", "{pairs:?}");
        let text = e.to_string();
        assert!(text.contains("JWT_JWKS"), "the message names every key variable: {text}");
    }
}

#[test]
fn unsupported_algorithms_are_refused() {
    let bad = ["HS256", "none", "None", "ES512", "Ed25519", "Ed448", "EDDSA", "es256", "rs256", "RS256,HS256"];
    for bad in bad.into_iter().chain(["RS256;RS384", "RSA-OAEP", "RS1"]) {
        refused(&[("JWT_ALGORITHMS", bad)], "JWT_ALGORITHMS");
    }
    for good in ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "RS256,RS384,RS512,PS256,PS384,PS512"] {
        with_key_a(&[("JWT_ALGORITHMS", good)]);
    }
    // Issue 18: ES256, ES384 and EdDSA are valid names; an RSA key needs an RSA algorithm
    // among them (tests/ec.rs loads each with its own key type).
    for good in ["RS256,ES256", "ES384,PS256", "EdDSA,RS512", "RS256,ES256,ES384,EdDSA"] {
        with_key_a(&[("JWT_ALGORITHMS", good)]);
    }
    for only_curves in ["ES256", "ES384", "EdDSA", "ES256,ES384,EdDSA"] {
        refused(&[("JWT_ALGORITHMS", only_curves)], "JWT_PUBLIC_KEY");
    }
}

#[test]
fn leeway_must_be_a_whole_number_from_0_to_300() {
    for bad in ["301", "-1", "abc", "1.5", "5s", "1e2", "99999999999999999999999", "0x10"] {
        refused(&[("JWT_LEEWAY_SECONDS", bad)], "JWT_LEEWAY_SECONDS");
    }
    for (good, want) in [("0", 0), ("300", 300), ("60", 60), (" 7 ", 7)] {
        assert_eq!(with_key_a(&[("JWT_LEEWAY_SECONDS", good)]).policy().leeway, want);
    }
}

#[test]
fn malformed_rules_context_claims_cookie_and_format_are_refused() {
    for bad in
        ["role", "=admin", "role=", "a..b=c", ".a=b", "a.=b", "role=a||b", "role=|a", "metadata.role=admin,bogus"]
    {
        refused(&[("JWT_REQUIRE", bad)], "JWT_REQUIRE");
    }
    for bad in ["a..b", "=x", "k=", "k=.a", "email,email", "e=email,e=name", "sub", "sub=email"] {
        refused(&[("JWT_CONTEXT_CLAIMS", bad)], "JWT_CONTEXT_CLAIMS");
    }
    for bad in ["a b", "a;b", "a=b", "sess\u{e9}", "(x)"] {
        refused(&[("JWT_TOKEN_COOKIE", bad)], "JWT_TOKEN_COOKIE");
    }
    for bad in ["json", "policy", "IAM", "Simple", "simple,iam"] {
        refused(&[("JWT_RESPONSE_FORMAT", bad)], "JWT_RESPONSE_FORMAT");
    }
}

/// `JWT_TOKEN_HEADER` (REST REQUEST events) must be an HTTP field name (RFC 9110 §5.1: a
/// token); `Cookie` needs `JWT_TOKEN_COOKIE`, or the whole Cookie header would be the token.
#[test]
fn the_token_header_is_an_http_field_name() {
    for (value, want) in
        [("X-Api-Token", "X-Api-Token"), (" authorization ", "authorization"), ("x_token.v2", "x_token.v2")]
    {
        assert_eq!(with_key_a(&[("JWT_TOKEN_HEADER", value)]).token_header(), want);
    }
    for bad in ["X Api", "X-Api:", "Authorization:", "a\u{e9}", "(x)", "a,b", "a;b", "x\ty", "\"x\""] {
        refused(&[("JWT_TOKEN_HEADER", bad)], "JWT_TOKEN_HEADER");
    }
    refused(&[("JWT_TOKEN_HEADER", "Cookie")], "JWT_TOKEN_HEADER");
    refused(&[("JWT_TOKEN_HEADER", "cookie")], "JWT_TOKEN_HEADER");
    let a = with_key_a(&[("JWT_TOKEN_HEADER", "Cookie"), ("JWT_TOKEN_COOKIE", "__session")]);
    assert_eq!((a.token_header(), a.cookie()), ("Cookie", Some("__session")));
}

#[test]
fn the_first_problem_named_is_a_real_one_whatever_else_is_set() {
    // A bad setting is reported even when the keys are fine, and the key error when not.
    refused(&[("JWT_PUBLIC_KEY", &public_pem("rsa1024")), ("JWT_ISSUER", "https://ok")], "JWT_PUBLIC_KEY");
    let e = load_err(&[("JWT_PUBLIC_KEY", &public_pem("rsa2048-a")), ("JWT_LEEWAY_SECONDS", "abc")]);
    assert_eq!(e.var, "JWT_LEEWAY_SECONDS");
    // A loaded configuration behaves: sanity check against a real token.
    let auth = with_key_a(&[("JWT_LEEWAY_SECONDS", "10")]);
    assert_eq!(decide(&auth, &token_a(&claims_with(json!({ "exp": NOW - 9 })))), Ok(()));
    assert_eq!(decide(&auth, &token_a(&claims_with(json!({ "exp": NOW - 10 })))), Err(Reason::Expired));
}

#[test]
fn runtime_pipelining_is_on_unless_turned_off_and_anything_else_fails_naming_it() {
    let pem = public_pem("rsa2048-a");
    let pipelining = |v: Option<&str>| {
        let mut pairs = vec![("JWT_PUBLIC_KEY", pem.as_str())];
        pairs.extend(v.map(|v| ("JWT_RUNTIME_PIPELINING", v)));
        config::load(env_of(&pairs)).unwrap().pipelining
    };
    assert!(pipelining(None) && pipelining(Some("")) && pipelining(Some("on")) && pipelining(Some("ON")));
    assert!(!pipelining(Some("off")) && !pipelining(Some(" Off ")));
    for bad in ["0", "false", "no", "offf"] {
        refused(&[("JWT_RUNTIME_PIPELINING", bad)], "JWT_RUNTIME_PIPELINING");
    }
}

/// Built without the cargo feature `remote-keys`, the function cannot fetch: a `JWT_JWKS_URL`
/// fails the cold start naming it rather than being ignored.
#[test]
#[cfg(not(feature = "remote-keys"))]
fn without_the_fetcher_a_jwks_url_fails_the_cold_start() {
    let pem = public_pem("rsa2048-a");
    let e = load_err(&[("JWT_PUBLIC_KEY", &pem), ("JWT_JWKS_URL", "https://a.example/jwks")]);
    assert_eq!(e.var, "JWT_JWKS_URL");
    assert!(e.problem.contains("remote-keys"), "{e}");
}
