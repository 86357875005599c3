//! The Lambda function: configuration once, then one decision per invocation, served by a
//! small blocking Runtime API client on one thread (see docs/performance.md for why).
#![forbid(unsafe_code)]
use jwt_authorizer::{config, lambda, log, runtime};
use std::process::ExitCode;

fn main() -> ExitCode {
    log::init();
    let loaded = match config::from_env() {
        Ok(loaded) => loaded,
        Err(e) => {
            lambda::report_init_error(&e);
            return ExitCode::FAILURE;
        }
    };
    loaded.warnings.iter().for_each(|w| log::warn(w));
    let mut client = match runtime::Client::from_env() {
        Ok(client) => client,
        Err(e) => {
            log::error(&format!("runtime error: {e}"));
            return ExitCode::FAILURE;
        }
    };
    let metrics = lambda::metrics(loaded.metrics);
    let mut function = lambda::Function::new(loaded.authorizer, loaded.cache);
    if let Some(m) = &metrics {
        function = function.with_metrics(m.clone());
    }
    let error = lambda::run(&mut function, &mut client);
    lambda::flush_metrics(metrics.as_deref());
    log::error(&format!("runtime error: {error}"));
    ExitCode::FAILURE
}
