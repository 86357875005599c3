//! The Lambda function: configuration once, then one decision per invocation, served by a
//! small blocking Runtime API client on one thread (see docs/performance.md for why).
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
    let mut function = lambda::Function::new(loaded.authorizer, loaded.cache);
    let mut trace_id = String::new();
    let error = lambda::run(&mut function, &mut client, |inv| {
        // As lambda_runtime does, for X-Ray SDKs: the invocation's trace id in the environment.
        if inv.trace_id != trace_id {
            trace_id.clone_from(&inv.trace_id);
            // SAFETY: this process has one thread (the blocking Runtime API loop), so nothing
            // reads or writes the environment concurrently.
            unsafe {
                if trace_id.is_empty() {
                    std::env::remove_var("_X_AMZN_TRACE_ID");
                } else {
                    std::env::set_var("_X_AMZN_TRACE_ID", &trace_id);
                }
            }
        }
    });
    log::error(&format!("runtime error: {error}"));
    ExitCode::FAILURE
}
