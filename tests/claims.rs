//! Claims policy on real signed tokens: exp/nbf/iat with leeway, sub, iss, aud, azp, typ,
//! `JWT_REQUIRE` rules and `JWT_CONTEXT_CLAIMS`. The clock is the fixed `NOW`.

mod common;

use common::*;
use jwt_authorizer::jwt::header::Alg;
use jwt_authorizer::{Reason, Scratch};
use serde_json::{Value, json};

fn check(auth: &jwt_authorizer::Authorizer, extra: Value) -> Result<(), Reason> {
    decide(auth, &token_a(&claims_with(extra)))
}

#[test]
fn exp_is_required_numeric_and_honours_the_default_5s_leeway() {
    let auth = default_authorizer();
    assert_eq!(check(&auth, json!({ "exp": NOW + 1 })), Ok(()));
    assert_eq!(check(&auth, json!({ "exp": NOW })), Ok(()), "within leeway");
    assert_eq!(check(&auth, json!({ "exp": NOW - 4 })), Ok(()), "within leeway");
    assert_eq!(check(&auth, json!({ "exp": NOW - 5 })), Err(Reason::Expired), "now >= exp + leeway");
    assert_eq!(check(&auth, json!({ "exp": NOW - 3600 })), Err(Reason::Expired));
    assert_eq!(check(&auth, json!({ "exp": 0 })), Err(Reason::Expired));
    assert_eq!(check(&auth, json!({ "exp": -1 })), Err(Reason::Expired));
    assert_eq!(check(&auth, json!({ "exp": (NOW + 30) as f64 + 0.5 })), Ok(()), "NumericDate may be fractional");
    assert_eq!(check(&auth, json!({ "exp": null })), Err(Reason::MissingExp));
    for bad in [json!("1900000000"), json!(true), json!([NOW + 50]), json!({ "t": NOW + 50 })] {
        assert_eq!(check(&auth, json!({ "exp": bad })), Err(Reason::MalformedTime), "{bad}");
    }
    // A JSON null is present but not a number.
    let body = format!(r#"{{"sub":"u","exp":null,"iat":{}}}"#, NOW);
    let t = signer("rsa2048-a").sign_raw(br#"{"alg":"RS256"}"#, body.as_bytes(), Alg::RS256);
    assert_eq!(decide(&auth, &t), Err(Reason::MalformedTime));
}

#[test]
fn leeway_is_configurable_from_0_to_300() {
    let zero = with_key_a(&[("JWT_LEEWAY_SECONDS", "0")]);
    assert_eq!(check(&zero, json!({ "exp": NOW + 1 })), Ok(()));
    assert_eq!(check(&zero, json!({ "exp": NOW })), Err(Reason::Expired));
    assert_eq!(check(&zero, json!({ "nbf": NOW + 1 })), Err(Reason::NotYetValid));
    assert_eq!(check(&zero, json!({ "nbf": NOW })), Ok(()));
    assert_eq!(check(&zero, json!({ "iat": NOW + 1 })), Err(Reason::IssuedInFuture));
    let max = with_key_a(&[("JWT_LEEWAY_SECONDS", "300")]);
    assert_eq!(check(&max, json!({ "exp": NOW - 299 })), Ok(()));
    assert_eq!(check(&max, json!({ "exp": NOW - 300 })), Err(Reason::Expired));
    assert_eq!(check(&max, json!({ "nbf": NOW + 300 })), Ok(()));
    assert_eq!(check(&max, json!({ "nbf": NOW + 301 })), Err(Reason::NotYetValid));
    assert_eq!(check(&max, json!({ "iat": NOW + 300 })), Ok(()));
    assert_eq!(check(&max, json!({ "iat": NOW + 301 })), Err(Reason::IssuedInFuture));
    let spaced = with_key_a(&[("JWT_LEEWAY_SECONDS", " 60 ")]);
    assert_eq!(check(&spaced, json!({ "exp": NOW - 59 })), Ok(()));
    assert_eq!(check(&spaced, json!({ "exp": NOW - 60 })), Err(Reason::Expired));
}

#[test]
fn nbf_and_iat_are_optional_numeric_and_checked_with_leeway() {
    let auth = default_authorizer();
    assert_eq!(check(&auth, json!({ "nbf": null, "iat": null })), Ok(()));
    assert_eq!(check(&auth, json!({ "nbf": NOW + 5 })), Ok(()), "within leeway");
    assert_eq!(check(&auth, json!({ "nbf": NOW + 6 })), Err(Reason::NotYetValid));
    assert_eq!(check(&auth, json!({ "nbf": NOW + 3600, "exp": NOW + 7200 })), Err(Reason::NotYetValid));
    assert_eq!(check(&auth, json!({ "iat": NOW + 5 })), Ok(()));
    assert_eq!(check(&auth, json!({ "iat": NOW + 6 })), Err(Reason::IssuedInFuture));
    assert_eq!(check(&auth, json!({ "iat": NOW - 86_400 })), Ok(()), "old iat is fine while exp holds");
    assert_eq!(check(&auth, json!({ "nbf": "soon" })), Err(Reason::MalformedTime));
    assert_eq!(check(&auth, json!({ "iat": "yesterday" })), Err(Reason::MalformedTime));
}

#[test]
fn sub_is_required_and_a_string() {
    let auth = default_authorizer();
    assert_eq!(check(&auth, json!({ "sub": null })), Err(Reason::MissingSub));
    for bad in [json!(42), json!(true), json!(["user_1"]), json!({ "id": "user_1" })] {
        assert_eq!(check(&auth, json!({ "sub": bad })), Err(Reason::MalformedSub), "{bad}");
    }
    let body = format!(r#"{{"sub":null,"exp":{}}}"#, NOW + 50);
    let t = signer("rsa2048-a").sign_raw(br#"{"alg":"RS256"}"#, body.as_bytes(), Alg::RS256);
    assert_eq!(decide(&auth, &t), Err(Reason::MalformedSub));
}

#[test]
fn issuer_must_match_one_configured_exactly() {
    let any = default_authorizer();
    assert_eq!(check(&any, json!({ "iss": "https://whoever.example" })), Ok(()), "not configured: not checked");
    let auth = with_key_a(&[("JWT_ISSUER", "https://a.clerk.accounts.dev, https://b.example")]);
    assert_eq!(check(&auth, json!({ "iss": "https://a.clerk.accounts.dev" })), Ok(()));
    assert_eq!(check(&auth, json!({ "iss": "https://b.example" })), Ok(()));
    assert_eq!(check(&auth, json!({})), Err(Reason::MissingIssuer));
    for bad in [
        json!("https://a.clerk.accounts.dev/"),
        json!("https://A.clerk.accounts.dev"),
        json!("https://a.clerk.accounts.dev.evil.example"),
        json!(" https://b.example"),
        json!(""),
        json!(["https://b.example"]),
        json!(1),
    ] {
        assert_eq!(check(&auth, json!({ "iss": bad })), Err(Reason::WrongIssuer), "{bad}");
    }
}

#[test]
fn audience_is_checked_and_refused_when_not_configured() {
    // RFC 7519 §4.1.3: a token carrying `aud` is refused when we have no audience.
    let none = default_authorizer();
    assert_eq!(check(&none, json!({})), Ok(()));
    for aud in [json!("api"), json!(["api"]), json!([]), json!("")] {
        assert_eq!(check(&none, json!({ "aud": aud })), Err(Reason::WrongAudience), "{aud}");
    }
    let auth = with_key_a(&[("JWT_AUDIENCE", "api://orders,api://billing")]);
    assert_eq!(check(&auth, json!({ "aud": "api://orders" })), Ok(()));
    assert_eq!(check(&auth, json!({ "aud": "api://billing" })), Ok(()));
    assert_eq!(check(&auth, json!({ "aud": ["other", "api://billing"] })), Ok(()), "array: any element");
    assert_eq!(check(&auth, json!({})), Err(Reason::MissingAudience));
    for bad in [
        json!("api://orders/"),
        json!(["other"]),
        json!([]),
        json!([["api://orders"]]),
        json!(7),
        json!("API://ORDERS"),
    ] {
        assert_eq!(check(&auth, json!({ "aud": bad })), Err(Reason::WrongAudience), "{bad}");
    }
}

#[test]
fn authorized_party_is_checked_when_configured() {
    let any = default_authorizer();
    assert_eq!(check(&any, json!({ "azp": "https://anything.example" })), Ok(()));
    let auth = with_key_a(&[("JWT_AUTHORIZED_PARTIES", "https://app.example.com,http://localhost:3000")]);
    assert_eq!(check(&auth, json!({ "azp": "https://app.example.com" })), Ok(()));
    assert_eq!(check(&auth, json!({ "azp": "http://localhost:3000" })), Ok(()));
    assert_eq!(check(&auth, json!({})), Err(Reason::MissingAzp));
    for bad in [
        json!("https://evil.example"),
        json!("https://app.example.com/"),
        json!(["https://app.example.com"]),
        json!(null),
    ] {
        let r = check(&auth, json!({ "azp": bad }));
        let want = if bad.is_null() { Reason::MissingAzp } else { Reason::WrongAzp };
        assert_eq!(r, Err(want), "{bad}");
    }
}

#[test]
fn a_clerk_style_configuration_end_to_end() {
    let auth = with_key_a(&[
        ("JWT_ISSUER", "https://clerk.example.com"),
        ("JWT_AUTHORIZED_PARTIES", "https://app.example.com"),
        ("JWT_REQUIRE", "metadata.role=admin"),
        ("JWT_CONTEXT_CLAIMS", "email,role=metadata.role"),
    ]);
    let clerk = |role: &str| {
        claims_with(json!({
            "iss": "https://clerk.example.com", "azp": "https://app.example.com", "sid": "sess_1",
            "email": "ada@example.com", "metadata": { "role": role }
        }))
    };
    let out = handle(&auth, &v2_event(&format!("Bearer {}", token_a(&clerk("admin"))), true));
    assert_eq!(out.simple_allow(), &json!({ "sub": "user_2abc", "email": "ada@example.com", "role": "admin" }));
    let out = handle(&auth, &v2_event(&format!("Bearer {}", token_a(&clerk("viewer"))), true));
    assert_eq!(out.simple_deny(), Reason::RuleFailed);
}

#[test]
fn require_rules_nested_paths_arrays_and_alternatives() {
    let auth = with_key_a(&[("JWT_REQUIRE", "metadata.role=admin|owner, org.plan=pro, email_verified=true")]);
    let good = json!({ "metadata": { "role": "admin" }, "org": { "plan": "pro" }, "email_verified": true });
    assert_eq!(check(&auth, good.clone()), Ok(()));
    let mut owner = good.clone();
    owner["metadata"]["role"] = json!("owner");
    assert_eq!(check(&auth, owner), Ok(()), "| alternatives");
    let mut arr = good.clone();
    arr["metadata"]["role"] = json!(["viewer", "owner"]);
    assert_eq!(check(&auth, arr), Ok(()), "an array claim matches when any element does");
    let fails = [
        json!({ "metadata": { "role": "viewer" } }),
        json!({ "metadata": { "role": ["viewer", "editor"] } }),
        json!({ "metadata": { "role": [] } }),
        json!({ "metadata": { "role": "Admin" } }),
        json!({ "metadata": { "role": "admin|owner" } }),
        json!({ "metadata": { "role": { "admin": true } } }),
        json!({ "metadata": "admin" }),
        json!({ "metadata": null }),
        json!({ "org": { "plan": "free" } }),
        json!({ "org": null }),
        json!({ "email_verified": false }),
        json!({ "email_verified": null }),
    ];
    for change in fails {
        let mut c = good.clone();
        for (k, v) in change.as_object().unwrap() {
            if v.is_null() {
                c.as_object_mut().unwrap().remove(k);
            } else {
                c[k] = v.clone();
            }
        }
        assert_eq!(check(&auth, c.clone()), Err(Reason::RuleFailed), "{c}");
    }
    // A top-level "role" does not satisfy metadata.role.
    let flat = with_key_a(&[("JWT_REQUIRE", "metadata.role=admin")]);
    assert_eq!(check(&flat, json!({ "role": "admin" })), Err(Reason::RuleFailed));
    // Numbers compare by value text.
    let num = with_key_a(&[("JWT_REQUIRE", "org.level=3")]);
    assert_eq!(check(&num, json!({ "org": { "level": 3 } })), Ok(()));
    assert_eq!(check(&num, json!({ "org": { "level": [1, 3] } })), Ok(()));
    assert_eq!(check(&num, json!({ "org": { "level": 4 } })), Err(Reason::RuleFailed));
}

#[test]
fn a_failed_rule_reports_the_authentic_subject_other_failures_do_not_always() {
    let auth = with_key_a(&[("JWT_REQUIRE", "metadata.role=admin")]);
    let t = token_a(&claims_with(json!({ "sub": "user_viewer", "metadata": { "role": "viewer" } })));
    let d = auth.decide(t.as_bytes(), NOW, &mut Scratch::default()).unwrap_err();
    assert_eq!((d.reason, d.sub.as_deref()), (Reason::RuleFailed, Some("user_viewer")));
    let forged = signer("rsa2048-b").sign(&claims_with(json!({ "sub": "user_viewer" })), Alg::RS256, None);
    let d = auth.decide(forged.as_bytes(), NOW, &mut Scratch::default()).unwrap_err();
    assert_eq!((d.reason, d.sub), (Reason::BadSignature, None));
}

#[test]
fn verify_hands_the_claims_to_the_caller_only_on_success() {
    let auth = default_authorizer();
    let t = token_a(&claims_with(json!({ "email": "ada@example.com", "n": 7 })));
    let got = auth
        .verify(t.as_bytes(), NOW, &mut Scratch::default(), |c, valid| {
            (
                valid.sub.to_owned(),
                c.get("email").and_then(|v| v.as_str()).map(str::to_owned),
                c.get("n").and_then(|v| v.as_f64()),
            )
        })
        .unwrap();
    assert_eq!(got, ("user_2abc".to_owned(), Some("ada@example.com".to_owned()), Some(7.0)));
    let expired = token_a(&claims_with(json!({ "exp": NOW - 100 })));
    let mut called = false;
    let r = auth.verify(expired.as_bytes(), NOW, &mut Scratch::default(), |_, _| called = true);
    assert_eq!(r.unwrap_err().reason, Reason::Expired);
    assert!(!called);
}

fn metadata() -> Value {
    json!({ "role": "admin", "tags": ["a", 1, true], "org": { "id": "org_9" } })
}

fn context_claims() -> Value {
    let mut c = claims();
    let extra = json!({
        "email": "ada@example.com", "metadata": metadata(),
        "n": 3, "ratio": 0.5, "ok": true, "nothing": null, "secret": "never-forwarded"
    });
    for (k, v) in extra.as_object().unwrap() {
        c[k] = v.clone(); // keeps the explicit null
    }
    c
}

const CONTEXT: &str =
    "email,metadata.role,tags=metadata.tags,n,ratio,ok,meta=metadata,org_id=metadata.org.id,nothing,absent.path";

#[test]
fn context_claims_keep_their_json_type_in_v2_simple_responses() {
    let auth = with_key_a(&[("JWT_CONTEXT_CLAIMS", CONTEXT)]);
    let out = handle(&auth, &v2_event(&format!("Bearer {}", token_a(&context_claims())), true));
    let ctx = out.simple_allow();
    assert_eq!(
        ctx,
        &json!({
            "sub": "user_2abc",
            "email": "ada@example.com",
            "metadata_role": "admin",
            "tags": ["a", 1, true],
            "n": 3,
            "ratio": 0.5,
            "ok": true,
            "meta": { "role": "admin", "tags": ["a", 1, true], "org": { "id": "org_9" } },
            "org_id": "org_9",
            "nothing": null
        })
    );
    assert!(ctx.get("secret").is_none() && ctx.get("absent_path").is_none());
    // Without JWT_CONTEXT_CLAIMS only `sub` is forwarded.
    let out = handle(&default_authorizer(), &v2_event(&format!("Bearer {}", token_a(&context_claims())), true));
    assert_eq!(out.simple_allow(), &json!({ "sub": "user_2abc" }));
}

#[test]
fn context_claims_are_flattened_to_scalars_in_iam_responses() {
    let expected = json!({
        "sub": "user_2abc",
        "email": "ada@example.com",
        "metadata_role": "admin",
        "tags": r#"["a",1,true]"#,
        "n": 3,
        "ratio": 0.5,
        "ok": true,
        // JSON text of the claim as signed in the token.
        "meta": metadata().to_string(),
        "org_id": "org_9"
    });
    let bearer = format!("Bearer {}", token_a(&context_claims()));
    // REST TOKEN, REST REQUEST, and v2 with JWT_RESPONSE_FORMAT=iam.
    let rest = with_key_a(&[("JWT_CONTEXT_CLAIMS", CONTEXT)]);
    let iam = with_key_a(&[("JWT_CONTEXT_CLAIMS", CONTEXT), ("JWT_RESPONSE_FORMAT", "iam")]);
    for (auth, event) in [
        (&rest, token_event(&bearer)),
        (&rest, request_event(json!({ "Authorization": bearer }))),
        (&iam, v2_event(&bearer, true)),
    ] {
        let (principal, effect, _, ctx) = handle(auth, &event).policy();
        assert_eq!((principal.as_str(), effect.as_str()), ("user_2abc", "Allow"));
        assert_eq!(ctx, expected);
        for (k, v) in ctx.as_object().unwrap() {
            assert!(v.is_string() || v.is_number() || v.is_boolean(), "{k} = {v}");
        }
    }
}
