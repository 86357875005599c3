//! The README's identity-provider setups, tried with tokens shaped like each provider's:
//! the exact variables the README gives, a token with that provider's claims (signed at test
//! time, with a `kid` and a JWKS as the providers publish them), and the mistakes each setup
//! must catch. If a README section changes, change its test here with it.

mod common;

use common::*;
use jwt_authorizer::jwt::header::Alg;
use jwt_authorizer::{Authorizer, Reason, Scratch};
use serde_json::{Value, json};

/// A JWKS with key A under `kid`, as a provider's `jwks_uri` serves it.
fn jwks(kid: &str) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_jwt-authorizer-cli"))
        .args(["jwks", "--key", fixtures_dir().join("rsa2048-a.pub.pem").to_str().unwrap(), "--kid", kid])
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

fn token(claims: Value, kid: &str, typ: &str) -> String {
    let header = json!({ "alg": "RS256", "typ": typ, "kid": kid }).to_string();
    signer("rsa2048-a").sign_raw(header.as_bytes(), claims.to_string().as_bytes(), Alg::RS256)
}

/// The decision and the forwarded context (simple response) for `token` in a 2.0 event.
fn authorize(auth: &Authorizer, token: &str) -> Result<Value, Reason> {
    let event = v2_event(&format!("Bearer {token}"), true);
    let handled = auth.handle(event.as_bytes(), NOW, &mut Scratch::default());
    match handled.denial {
        Some(d) => Err(d.reason),
        None => {
            let v: Value = serde_json::from_str(&handled.response.to_json().unwrap()).unwrap();
            Ok(v["context"].clone())
        }
    }
}

fn times() -> Value {
    json!({ "iat": NOW - 10, "exp": NOW + 3590 })
}

fn merge(mut a: Value, b: Value) -> Value {
    a.as_object_mut().unwrap().extend(b.as_object().unwrap().clone());
    a
}

#[test]
fn auth0_access_tokens() {
    let jwks = jwks("auth0-key-1");
    let auth = load(&[
        ("JWT_JWKS", &jwks),
        ("JWT_ISSUER", "https://example.us.auth0.com/"),
        ("JWT_AUDIENCE", "https://api.example.com/orders"),
        ("JWT_REQUIRE", r#"scope=read:orders,"https://example.com/roles"=admin"#),
        ("JWT_CONTEXT_CLAIMS", r#"scope,permissions,"https://example.com/roles""#),
    ]);
    let claims = merge(
        times(),
        json!({
            "iss": "https://example.us.auth0.com/",
            "sub": "auth0|64f1c2e7a9b0",
            "aud": ["https://api.example.com/orders", "https://example.us.auth0.com/userinfo"],
            "azp": "Xk2wQ9pLm3nB7vR1sT4uY6zA8cD0eF2g",
            "scope": "openid profile read:orders",
            "permissions": ["read:orders"],
            "https://example.com/roles": ["admin"],
        }),
    );
    let ctx = authorize(&auth, &token(claims.clone(), "auth0-key-1", "at+jwt")).unwrap();
    assert_eq!(ctx["sub"], "auth0|64f1c2e7a9b0");
    assert_eq!(ctx["roles"], json!(["admin"]), "the namespaced claim's key is the part after the last /");
    assert_eq!(ctx["permissions"], json!(["read:orders"]));
    assert_eq!(ctx["scope"], "openid profile read:orders");
    // Auth0's issuer ends with a slash: without it, nothing is allowed.
    let no_slash = merge(claims.clone(), json!({ "iss": "https://example.us.auth0.com" }));
    assert_eq!(authorize(&auth, &token(no_slash, "auth0-key-1", "JWT")), Err(Reason::WrongIssuer));
    let other_api = merge(claims.clone(), json!({ "aud": "https://api.example.com/billing" }));
    assert_eq!(authorize(&auth, &token(other_api, "auth0-key-1", "JWT")), Err(Reason::WrongAudience));
    let no_scope = merge(claims.clone(), json!({ "scope": "openid profile write:orders" }));
    assert_eq!(authorize(&auth, &token(no_scope, "auth0-key-1", "JWT")), Err(Reason::RuleFailed));
    let viewer = merge(claims, json!({ "https://example.com/roles": ["viewer"] }));
    assert_eq!(authorize(&auth, &token(viewer, "auth0-key-1", "JWT")), Err(Reason::RuleFailed));
}

const COGNITO_ISS: &str = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123";

fn cognito_access() -> Value {
    merge(
        times(),
        json!({
            "sub": "a1b2c3d4-0000-4000-8000-123456789abc",
            "cognito:groups": ["admins", "staff"],
            "iss": COGNITO_ISS,
            "client_id": "4example5clientid6",
            "origin_jti": "b1c2",
            "event_id": "e1",
            "token_use": "access",
            "scope": "orders/read aws.cognito.signin.user.admin",
            "auth_time": NOW - 100,
            "jti": "j1",
            "username": "ada",
        }),
    )
}

fn cognito_id() -> Value {
    merge(
        times(),
        json!({
            "sub": "a1b2c3d4-0000-4000-8000-123456789abc",
            "cognito:groups": ["admins"],
            "iss": COGNITO_ISS,
            "cognito:username": "ada",
            "aud": "4example5clientid6",
            "token_use": "id",
            "auth_time": NOW - 100,
            "email": "ada@example.com",
            "email_verified": true,
        }),
    )
}

#[test]
fn cognito_access_tokens() {
    let jwks = jwks("cognito-access-kid");
    let auth = load(&[
        ("JWT_JWKS", &jwks),
        ("JWT_ISSUER", COGNITO_ISS),
        ("JWT_REQUIRE", "token_use=access,client_id=4example5clientid6,scope=orders/read"),
        ("JWT_CONTEXT_CLAIMS", "username,groups=cognito:groups"),
    ]);
    let ctx = authorize(&auth, &token(cognito_access(), "cognito-access-kid", "JWT")).unwrap();
    assert_eq!(ctx["username"], "ada");
    assert_eq!(ctx["groups"], json!(["admins", "staff"]));
    // An ID token of the same pool is not an access token: it carries `aud`, which this
    // setup does not accept, and `token_use: id`.
    assert_eq!(authorize(&auth, &token(cognito_id(), "cognito-access-kid", "JWT")), Err(Reason::WrongAudience));
    let other_client = merge(cognito_access(), json!({ "client_id": "someoneelse" }));
    assert_eq!(authorize(&auth, &token(other_client, "cognito-access-kid", "JWT")), Err(Reason::RuleFailed));
    // Groups as a rule.
    let admins = load(&[("JWT_JWKS", &jwks), ("JWT_ISSUER", COGNITO_ISS), ("JWT_REQUIRE", "cognito:groups=admins")]);
    assert!(authorize(&admins, &token(cognito_access(), "cognito-access-kid", "JWT")).is_ok());
    let staff_only = merge(cognito_access(), json!({ "cognito:groups": ["staff"] }));
    assert_eq!(authorize(&admins, &token(staff_only, "cognito-access-kid", "JWT")), Err(Reason::RuleFailed));
}

#[test]
fn cognito_id_tokens() {
    let jwks = jwks("cognito-id-kid");
    let auth = load(&[
        ("JWT_JWKS", &jwks),
        ("JWT_ISSUER", COGNITO_ISS),
        ("JWT_AUDIENCE", "4example5clientid6"),
        ("JWT_REQUIRE", "token_use=id"),
        ("JWT_CONTEXT_CLAIMS", "email,groups=cognito:groups"),
    ]);
    let ctx = authorize(&auth, &token(cognito_id(), "cognito-id-kid", "JWT")).unwrap();
    assert_eq!(ctx["email"], "ada@example.com");
    // An access token carries no `aud`: refused here.
    assert_eq!(authorize(&auth, &token(cognito_access(), "cognito-id-kid", "JWT")), Err(Reason::MissingAudience));
}

#[test]
fn entra_id_v2_access_tokens() {
    let tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    let client = "6e74172b-be56-4843-9ff4-e66a39bb12e3";
    let iss = format!("https://login.microsoftonline.com/{tenant}/v2.0");
    let jwks = jwks("nOo3ZDrODXEK1jKWhXslHR_KXEg");
    let auth = load(&[
        ("JWT_JWKS", &jwks),
        ("JWT_ISSUER", &iss),
        ("JWT_AUDIENCE", client),
        ("JWT_REQUIRE", &format!("tid={tenant},scp=Orders.Read")),
        ("JWT_CONTEXT_CLAIMS", "oid,roles,name"),
    ]);
    let claims = merge(
        times(),
        json!({
            "aud": client, "iss": iss, "nbf": NOW - 10, "azp": "f1e2d3c4-0000-4000-8000-000000000001",
            "name": "Ada Lovelace", "oid": "00000000-0000-0000-66f3-3332eca7ea81",
            "roles": ["Orders.Admin"], "scp": "User.Read Orders.Read", "sub": "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ",
            "tid": tenant, "ver": "2.0",
        }),
    );
    let ctx = authorize(&auth, &token(claims.clone(), "nOo3ZDrODXEK1jKWhXslHR_KXEg", "JWT")).unwrap();
    assert_eq!(ctx["roles"], json!(["Orders.Admin"]));
    let v1 = merge(claims.clone(), json!({ "iss": format!("https://sts.windows.net/{tenant}/"), "ver": "1.0" }));
    assert_eq!(authorize(&auth, &token(v1, "nOo3ZDrODXEK1jKWhXslHR_KXEg", "JWT")), Err(Reason::WrongIssuer));
    let no_scope = merge(claims, json!({ "scp": "User.Read" }));
    assert_eq!(authorize(&auth, &token(no_scope, "nOo3ZDrODXEK1jKWhXslHR_KXEg", "JWT")), Err(Reason::RuleFailed));
}

#[test]
fn okta_access_tokens() {
    let jwks = jwks("okta-kid-1");
    let auth = load(&[
        ("JWT_JWKS", &jwks),
        ("JWT_ISSUER", "https://example.okta.com/oauth2/default"),
        ("JWT_AUDIENCE", "api://default"),
        ("JWT_REQUIRE", "cid=0oa1b2c3d4example,scp=orders:read"),
        ("JWT_CONTEXT_CLAIMS", "uid,scp"),
    ]);
    let claims = merge(
        times(),
        json!({
            "ver": 1, "jti": "AT.x", "iss": "https://example.okta.com/oauth2/default", "aud": "api://default",
            "cid": "0oa1b2c3d4example", "uid": "00u1example", "scp": ["openid", "orders:read"], "sub": "ada@example.com",
        }),
    );
    let ctx = authorize(&auth, &token(claims.clone(), "okta-kid-1", "JWT")).unwrap();
    assert_eq!(ctx["uid"], "00u1example");
    assert_eq!(ctx["scp"], json!(["openid", "orders:read"]));
    let other_app = merge(claims, json!({ "cid": "0oaOTHER" }));
    assert_eq!(authorize(&auth, &token(other_app, "okta-kid-1", "JWT")), Err(Reason::RuleFailed));
}

/// Supabase (issue 18): ES256 with a P-256 signing key, JWKS as
/// `https://<project>.supabase.co/auth/v1/.well-known/jwks.json` serves it (`kty: EC`, `alg`,
/// `kid`, `key_ops`), the README's variables; the anon role's token and an HS256 token (legacy
/// JWT secret) are refused.
#[test]
fn supabase_es256_access_tokens() {
    let public = signer("ec-p256").public_key_bytes();
    let jwks = json!({ "keys": [{
        "alg": "ES256", "crv": "P-256", "ext": true, "key_ops": ["verify"], "kid": "b81269f1-21d8-4f2e-b719-c2240a840d90",
        "kty": "EC", "use": "sig", "x": b64(&public[1..33]), "y": b64(&public[33..]),
    }] })
    .to_string();
    let issuer = "https://abcdefghijklmnop.supabase.co/auth/v1";
    let auth = load(&[
        ("JWT_JWKS", &jwks),
        ("JWT_ALGORITHMS", "ES256"),
        ("JWT_ISSUER", issuer),
        ("JWT_AUDIENCE", "authenticated"),
        ("JWT_REQUIRE", "role=authenticated"),
        ("JWT_CONTEXT_CLAIMS", "email,role,aal"),
    ]);
    let claims = |role: &str| {
        merge(
            json!({
                "iss": issuer, "sub": "8d1b5c4e-6f1a-4a3b-9c2d-0e1f2a3b4c5d", "aud": "authenticated", "email": "ada@example.com",
                "phone": "", "app_metadata": {"provider": "email", "providers": ["email"]}, "user_metadata": {},
                "role": role, "aal": "aal1", "amr": [{"method": "password", "timestamp": NOW - 100}],
                "session_id": "2f0e6a4b-1c3d-4e5f-8a9b-0c1d2e3f4a5b", "is_anonymous": false,
            }),
            times(),
        )
    };
    let header = json!({ "alg": "ES256", "kid": "b81269f1-21d8-4f2e-b719-c2240a840d90", "typ": "JWT" }).to_string();
    let sign = |c: Value| signer("ec-p256").sign_raw(header.as_bytes(), c.to_string().as_bytes(), Alg::ES256);
    let context = authorize(&auth, &sign(claims("authenticated"))).unwrap();
    assert_eq!(context["email"], "ada@example.com");
    assert_eq!(context["aal"], "aal1");
    assert_eq!(authorize(&auth, &sign(claims("anon"))), Err(Reason::RuleFailed));
    // A token of another project (issuer), and the legacy HS256 shape: refused.
    let other = merge(claims("authenticated"), json!({ "iss": "https://other.supabase.co/auth/v1" }));
    assert_eq!(authorize(&auth, &sign(other)), Err(Reason::WrongIssuer));
    let hs256 = format!(
        "{}.{}.{}",
        b64(br#"{"alg":"HS256","typ":"JWT"}"#),
        b64(claims("authenticated").to_string().as_bytes()),
        b64(&[0; 32])
    );
    assert_eq!(authorize(&auth, &hs256), Err(Reason::AlgNotAllowed));
}
