//! Any bytes, split at NUL into PEM / JWKS / algorithm / issuer / audience / azp / leeway /
//! rule / context / cookie / format / cache strings → `config::load` (which builds the
//! decision cache too). Invariant: no panic, and a configuration that loads decides a
//! valid token and answers events without panicking.
#![no_main]
use jwt_authorizer::config;
use jwt_authorizer_fuzz::{CONFIG_VARS, NOW, VALID_TOKEN, events_with, fields, with_scratch};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let values = fields(data, CONFIG_VARS.len());
    let env = |name: &str| CONFIG_VARS.iter().position(|v| *v == name).and_then(|i| values.get(i).cloned().flatten());
    let Ok(loaded) = config::load(env) else { return };
    with_scratch(|s| {
        let _ = loaded.authorizer.decide(VALID_TOKEN.as_bytes(), NOW, s);
        for event in events_with(&VALID_TOKEN) {
            let _ = loaded.authorizer.handle(event.as_bytes(), NOW, s).response.to_json();
        }
    });
});
