//! The Lambda function: configuration once, then one decision per invocation.
use jwt_authorizer::{config, lambda, log};

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    log::init();
    let loaded = match config::from_env() {
        Ok(loaded) => loaded,
        Err(e) => {
            lambda::report_init_error(&e).await;
            return std::process::ExitCode::FAILURE;
        }
    };
    loaded.warnings.iter().for_each(|w| log::warn(w));
    let authorizer = Box::leak(Box::new(loaded.authorizer));
    match lambda::run(authorizer).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("runtime error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
