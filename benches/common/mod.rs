//! One realistic fixture shared by the criterion and the instruction-count benches:
//! a Clerk-style session token (RS256, 2048-bit key, `kid`, `iss`, `azp`, `sid`) signed
//! with the test key, the authorizer configured for it, and an HTTP API 2.0 event.
//! Everything here runs once, outside the measured loops.
#![allow(dead_code)] // each bench uses a different subset

use jwt_authorizer::jwt::header::Alg;
use jwt_authorizer::jwt::mint::Signer;
use jwt_authorizer::{Authorizer, config};
use std::collections::HashMap;
use std::time::{SystemTime, UNIX_EPOCH};

pub const ISSUER: &str = "https://clerk.example.com";
pub const AZP: &str = "https://app.example.com";
pub const KID: &str = "ins_2bench";

pub struct Fixture {
    pub authorizer: Authorizer,
    pub token: String,
    /// The signing input (`header.claims`) and the decoded signature, for ring alone.
    pub signing_input: Vec<u8>,
    pub signature: Vec<u8>,
    pub modulus: Vec<u8>,
    pub exponent: Vec<u8>,
    pub public_pem: String,
    pub event: Vec<u8>,
    pub now: u64,
}

fn fixture_path(name: &str) -> String {
    format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// The clock: real time (the `jsonwebtoken` peer reads the system clock itself).
pub fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

impl Fixture {
    pub fn new() -> Fixture {
        let now = now();
        let private = std::fs::read(fixture_path("rsa2048-a.key.pem")).expect("fixture key");
        let public_pem = std::fs::read_to_string(fixture_path("rsa2048-a.pub.pem")).expect("fixture key");
        let signer = Signer::from_pkcs8(&private).expect("PKCS#8 key");
        // Shaped like a Clerk session token (claims in Clerk's order).
        let claims = serde_json::json!({
            "azp": AZP,
            "exp": now + 3600,
            "fva": [0, -1],
            "iat": now - 10,
            "iss": ISSUER,
            "nbf": now - 15,
            "sid": "sess_2lNbVbXq3ZyQf7Xb4Lm9kT0pHcA",
            "sub": "user_2lNbUv6JgT3yQ9mZkP1xR8wVd4E",
        });
        let token = signer.sign(&claims, Alg::RS256, Some(KID));
        let (modulus, exponent) = signer.public_components();
        let (signing_input, sig_b64) = token.rsplit_once('.').expect("three segments");
        let signing_input = signing_input.as_bytes().to_vec();
        let mut signature = vec![0u8; 512];
        let n = jwt_authorizer::jwt::b64::decode(sig_b64.as_bytes(), &mut signature).expect("base64").len();
        signature.truncate(n);
        let jwks = serde_json::json!({"keys": [{
            "kty": "RSA", "use": "sig", "alg": "RS256", "kid": KID,
            "n": jwt_authorizer::jwt::b64::encode(&modulus), "e": jwt_authorizer::jwt::b64::encode(&exponent),
        }]})
        .to_string();
        let env: HashMap<&str, String> = HashMap::from([
            ("JWT_JWKS", jwks),
            ("JWT_ISSUER", ISSUER.to_owned()),
            ("JWT_AUTHORIZED_PARTIES", AZP.to_owned()),
        ]);
        let authorizer = config::load(|k| env.get(k).cloned()).expect("configuration").authorizer;
        let template = std::fs::read_to_string(format!("{}/demo/events/http-api-v2.json", env!("CARGO_MANIFEST_DIR")))
            .expect("demo event");
        let event = template.replace("{{AUTHORIZATION}}", &format!("Bearer {token}")).into_bytes();
        Fixture { authorizer, token, signing_input, signature, modulus, exponent, public_pem, event, now }
    }
}

/// The claims the `jsonwebtoken` peer deserializes (the same ones our policy reads).
#[derive(serde::Deserialize)]
#[allow(dead_code)] // read by serde only
pub struct PeerClaims {
    pub sub: String,
    pub exp: u64,
    pub iss: String,
    pub azp: String,
}

impl Fixture {
    /// The `jsonwebtoken` peer configured with the same policy as ours (RS256, issuer,
    /// `exp`/`sub`/`iss` required, 5 s leeway, `nbf` checked; `azp` is compared by the caller).
    pub fn peer(&self) -> (jsonwebtoken::DecodingKey, jsonwebtoken::Validation) {
        let key = jsonwebtoken::DecodingKey::from_rsa_pem(self.public_pem.as_bytes()).expect("PEM");
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "sub", "iss"]);
        validation.leeway = 5;
        validation.validate_nbf = true;
        (key, validation)
    }
}

/// The same Clerk-style token and policy, signed with ES256 (P-256), ES384 (P-384) or EdDSA
/// (Ed25519) by the fixture key of that type (issue 18), with what ring's verify alone needs.
pub struct CurveFixture {
    pub authorizer: Authorizer,
    pub token: String,
    pub signing_input: Vec<u8>,
    pub signature: Vec<u8>,
    /// The public key as ring takes it: the uncompressed point, or the Ed25519 key.
    pub public: Vec<u8>,
    pub ring_alg: &'static dyn ring::signature::VerificationAlgorithm,
    pub now: u64,
}

impl CurveFixture {
    pub fn new(alg: Alg) -> CurveFixture {
        use ring::signature;
        let (name, ring_alg): (&str, &'static dyn signature::VerificationAlgorithm) = match alg {
            Alg::ES256 => ("ec-p256", &signature::ECDSA_P256_SHA256_FIXED),
            Alg::ES384 => ("ec-p384", &signature::ECDSA_P384_SHA384_FIXED),
            Alg::EdDSA => ("ed25519", &signature::ED25519),
            _ => panic!("not a curve algorithm: {alg:?}"),
        };
        let now = now();
        let private = std::fs::read(fixture_path(&format!("{name}.key.pem"))).expect("fixture key");
        let public_pem = std::fs::read_to_string(fixture_path(&format!("{name}.pub.pem"))).expect("fixture key");
        let signer = Signer::from_pkcs8(&private).expect("PKCS#8 key");
        let claims = serde_json::json!({
            "azp": AZP,
            "exp": now + 3600,
            "fva": [0, -1],
            "iat": now - 10,
            "iss": ISSUER,
            "nbf": now - 15,
            "sid": "sess_2lNbVbXq3ZyQf7Xb4Lm9kT0pHcA",
            "sub": "user_2lNbUv6JgT3yQ9mZkP1xR8wVd4E",
        });
        let token = signer.sign(&claims, alg, Some(KID));
        let (signing_input, sig_b64) = token.rsplit_once('.').expect("three segments");
        let signing_input = signing_input.as_bytes().to_vec();
        let mut signature = vec![0u8; 128];
        let n = jwt_authorizer::jwt::b64::decode(sig_b64.as_bytes(), &mut signature).expect("base64").len();
        signature.truncate(n);
        let key = jwt_authorizer::jwt::keys::Key::from_pem(&public_pem).expect("public key");
        let jwks = serde_json::json!({ "keys": [key.to_jwk(KID, alg)] }).to_string();
        let env: HashMap<&str, String> = HashMap::from([
            ("JWT_JWKS", jwks),
            ("JWT_ALGORITHMS", alg.name().to_owned()),
            ("JWT_ISSUER", ISSUER.to_owned()),
            ("JWT_AUTHORIZED_PARTIES", AZP.to_owned()),
        ]);
        let authorizer = config::load(|k| env.get(k).cloned()).expect("configuration").authorizer;
        CurveFixture { authorizer, token, signing_input, signature, public: signer.public_key_bytes(), ring_alg, now }
    }
}
