//! The Lambda function: configuration once, then one decision per invocation, served by a
//! small blocking Runtime API client — on this thread, or, on Lambda Managed Instances
//! (`AWS_LAMBDA_MAX_CONCURRENCY` > 1), on that many worker threads sharing the authorizer and
//! its decision cache (see docs/performance.md for why).
#![forbid(unsafe_code)]
use jwt_authorizer::config::{self, ConfigError};
use jwt_authorizer::function::metrics::SharedMetrics;
use jwt_authorizer::function::shutdown::{self, Shutdown};
use jwt_authorizer::function::{handler, log, runtime, workers};
use jwt_authorizer::shared_cache::{SharedAuthorizer, SharedCache};
use std::process::ExitCode;
use std::sync::Arc;

fn main() -> ExitCode {
    log::init();
    let env = |name: &str| std::env::var(name).ok();
    let configured = config::from_env().and_then(|l| Ok((l, workers::count(env)?)));
    let (loaded, n) = match configured {
        Ok(ok) => ok,
        Err(e) => {
            handler::report_init_error(&e);
            return ExitCode::FAILURE;
        }
    };
    loaded.warnings.iter().for_each(|w| log::warn(w));
    // JWT_JWKS_URL, JWT_OIDC_DISCOVERY: the keys are fetched inside init.
    #[cfg(feature = "remote-keys")]
    let fetch_failures = match jwt_authorizer::function::refresh::cold_start(&loaded.authorizer, handler::now()) {
        Ok(n) => n,
        Err(e) => {
            handler::report_init_error(&e);
            return ExitCode::FAILURE;
        }
    };
    let mut client = match runtime::Client::from_env() {
        Ok(client) => client,
        Err(runtime::Error::BadApi(why)) => {
            handler::report_init_error(&ConfigError::new(runtime::endpoint::VARIABLE, why));
            return ExitCode::FAILURE;
        }
        Err(e) => {
            log::error(&format!("runtime error: {e}"));
            return ExitCode::FAILURE;
        }
    };
    let metrics = handler::metrics(loaded.metrics);
    #[cfg(feature = "remote-keys")]
    if let Some(m) = &metrics {
        m.count_key_fetch_failures(fetch_failures);
    }
    // SIGTERM (and SIGINT), at every concurrency: no new invocation, those in flight
    // answered (within `shutdown::GRACE`), the last metrics line, exit 0.
    let shutdown = Arc::new(Shutdown::new());
    let last = metrics.clone();
    if let Err(e) = shutdown::on_signals(shutdown.clone(), move || handler::exit_after_last_line(last.as_deref(), 0)) {
        log::error(&format!("could not catch SIGTERM: {e}"));
        return ExitCode::FAILURE;
    }
    if n > 1 {
        // The endpoint `from_env` validated, for each worker's own client.
        let api = client.endpoint().clone();
        drop(client);
        let shared = SharedAuthorizer::new(loaded.authorizer, SharedCache::like(&loaded.cache));
        managed_instances(n, &api, loaded.pipelining, shared, metrics, shutdown);
    }
    // One invocation at a time, on this thread.
    client.set_pipelining(loaded.pipelining);
    let mut function = handler::Function::new(loaded.authorizer, loaded.cache);
    if let Some(m) = &metrics {
        function = function.with_metrics(m.clone());
    }
    let error = handler::run(&mut function, &mut client, &shutdown);
    log::error(&format!("runtime error: {error}"));
    handler::exit_after_last_line(metrics.as_deref(), 1)
}

/// `n` workers until Lambda sends `SIGTERM` (`shutdown` ends the process, exit 0) or every
/// worker has stopped (exit 1).
fn managed_instances(
    n: usize,
    api: &runtime::Endpoint,
    pipelining: bool,
    shared: SharedAuthorizer,
    metrics: Option<Arc<SharedMetrics>>,
    shutdown: Arc<Shutdown>,
) -> ! {
    let handler = workers::authorizer_handler(Arc::new(shared), metrics.clone());
    match workers::start(n, api, pipelining, handler, shutdown.clone()).wait() {
        workers::Stop::NoWorkerLeft => log::error("no worker left: every Runtime API connection failed"),
    }
    if shutdown.stopping() {
        shutdown.stand_by();
    }
    handler::exit_after_last_line(metrics.as_deref(), 1)
}
