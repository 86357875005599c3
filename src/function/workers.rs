//! Lambda Managed Instances: one process serving `AWS_LAMBDA_MAX_CONCURRENCY` invocations at
//! once (<https://docs.aws.amazon.com/lambda/latest/dg/lambda-managed-instances-execution-environment.html>).
//!
//! That page's lifecycle, and what this module does about each step:
//! - "the runtime spawns the configured number of runtime workers", and init is complete once
//!   one of them has called `/runtime/invocation/next`: [`start`] spawns that many OS threads,
//!   each with its own [`Client`] (its own kept-alive connection, parking its own `GET /next`)
//!   and its own [`Scratch`] buffers; the authorizer and its decision cache are built once and
//!   shared read-only ([`SharedAuthorizer`]). Why threads: docs/performance.md.
//! - invocations run in parallel, each on a different worker, in an environment that runs
//!   continuously: a worker serves one invocation at a time, for as long as the process lives.
//! - "if a runtime worker crashes, the execution environment continues with the remaining
//!   healthy workers": a handler panic is that invocation's error and the worker goes on
//!   ([`runtime::run`]); a worker whose Runtime API connection fails is logged and ends, the
//!   others go on; when no worker is left, [`Pool::wait`] says so and the process exits with
//!   an error (as `lambda_runtime`'s `run_concurrent` does).
//! - shutdown: Lambda sends the runtime `SIGTERM`, then `SIGKILL` if it has not exited
//!   (<https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html#runtimes-lifecycle-shutdown>:
//!   when an extension is registered, up to 300 ms for the runtime, 500 ms with an internal
//!   extension, within the phase's 2,000 ms limit). The same mechanism as with one invocation
//!   at a time ([`crate::function::shutdown`]): every worker stops asking for invocations,
//!   those in flight are answered (within [`GRACE`](crate::function::shutdown::GRACE)), then
//!   the last metrics line is written and the process exits 0. The workers do not see the
//!   signal themselves; [`Pool::wait`] only waits for the last worker to stop, and a worker
//!   counts itself out with a drop guard (`Living`), so one that panics outside `run`'s
//!   unwind guard is counted out too.
//!
//! Nothing here touches the process environment; each invocation's ids travel with it into
//! its log lines ([`log::Context`]).

use crate::authorizer::Scratch;
use crate::config::ConfigError;
use crate::function::log;
use crate::function::metrics::SharedMetrics;
use crate::function::runtime::{self, Client, Endpoint, Invocation, Outcome};
use crate::function::shutdown::Shutdown;
use crate::shared_cache::SharedAuthorizer;
use std::sync::{Arc, Condvar, Mutex, PoisonError};

/// The variable Lambda sets on Managed Instances (not set, or `1`: one invocation at a time).
pub const VARIABLE: &str = "AWS_LAMBDA_MAX_CONCURRENCY";
/// Largest value accepted: the largest `PerExecutionEnvironmentMaxConcurrency`
/// (<https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-lambda-function-lambdamanagedinstancescapacityproviderconfig.html>).
pub const MAX_WORKERS: usize = 1600;

/// The number of workers from [`VARIABLE`]: 1 when it is not set (or empty), else a whole
/// number from 1 to [`MAX_WORKERS`]; anything else is a configuration error naming it.
pub fn count(env: impl Fn(&str) -> Option<String>) -> Result<usize, ConfigError> {
    match crate::config::value(&env, VARIABLE)? {
        None => Ok(1),
        Some(v) => v
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=MAX_WORKERS).contains(n))
            .ok_or(ConfigError::new(VARIABLE, "must be a whole number of concurrent invocations from 1 to 1600")),
    }
}

/// What a worker does with one invocation, given its own scratch buffers.
pub type Handler = dyn Fn(&mut Scratch, &Invocation) -> Outcome<'static> + Send + Sync;

/// The function's handler on a worker: the shared authorizer, the worker's scratch, the
/// invocation's ids on its log lines, and the process's metrics (when on).
pub fn authorizer_handler(shared: Arc<SharedAuthorizer>, metrics: Option<Arc<SharedMetrics>>) -> Arc<Handler> {
    Arc::new(move |scratch: &mut Scratch, inv: &Invocation| {
        let ctx = log::Context { request_id: &inv.request_id, trace_id: &inv.trace_id };
        let now = crate::function::handler::now();
        crate::function::handler::serve(&inv.body, &ctx, scratch, metrics.as_deref(), |s| {
            #[cfg(feature = "remote-keys")]
            if let Some(remote) = shared.authorizer().remote() {
                return crate::function::refresh::decide(
                    remote,
                    now,
                    inv.deadline,
                    s,
                    |s| shared.handle(&inv.body, now, s),
                    || shared.cache().clear(),
                );
            }
            shared.handle(&inv.body, now, s)
        })
    })
}

/// Why [`Pool::wait`] returned (a signal never reaches it: [`crate::function::shutdown`]
/// ends the process).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// Every worker stopped (its Runtime API connection failed, or it panicked).
    NoWorkerLeft,
}

/// The running workers.
pub struct Pool {
    alive: Arc<Alive>,
    workers: Vec<std::thread::JoinHandle<()>>,
}

/// Counts the workers still serving; the last one to stop wakes [`Pool::wait`].
#[derive(Default)]
struct Alive {
    left: Mutex<usize>,
    none_left: Condvar,
}

/// One worker counted in [`Alive`] for as long as this lives: it is dropped however the
/// worker's thread ends — returning, panicking outside `run`'s unwind guard, or never
/// started (the closure that owns it dropped by a failed spawn) — so the count always
/// comes down and [`Pool::wait`] cannot wait for a worker that is gone.
struct Living(Arc<Alive>);

impl Living {
    fn new(alive: &Arc<Alive>) -> Living {
        *alive.left.lock().unwrap_or_else(PoisonError::into_inner) += 1;
        Living(alive.clone())
    }
}

impl Drop for Living {
    fn drop(&mut self) {
        let mut left = self.0.left.lock().unwrap_or_else(PoisonError::into_inner);
        *left -= 1;
        if *left == 0 {
            self.0.none_left.notify_all();
        }
    }
}

/// Starts `n` workers against the Runtime API at `api` (as `AWS_LAMBDA_RUNTIME_API`), each
/// serving invocations with `handler` until its connection fails or `shutdown` is stopping,
/// pipelining each answer with the next `GET /next` when `pipelining`
/// ([`Client::set_pipelining`]).
pub fn start(n: usize, api: &Endpoint, pipelining: bool, handler: Arc<Handler>, shutdown: Arc<Shutdown>) -> Pool {
    let api = api.clone();
    spawn(n, move |id| {
        let mut client = Client::at(api.clone());
        client.set_pipelining(pipelining);
        let mut scratch = Scratch::default();
        let error = runtime::run(&mut client, &shutdown, |inv| handler(&mut scratch, inv));
        if shutdown.stopping() {
            shutdown.stand_by(); // a connection that ends during shutdown is no failure
        }
        log::error(&format!("worker {id} stopped: runtime error: {error}"));
    })
}

/// Spawns `n` threads running `body` (given the worker's number), each counted alive for as
/// long as it runs ([`Living`]).
fn spawn(n: usize, body: impl Fn(usize) + Send + Sync + 'static) -> Pool {
    let (alive, body) = (Arc::new(Alive::default()), Arc::new(body));
    let mut workers = Vec::with_capacity(n);
    for id in 0..n {
        let (living, body) = (Living::new(&alive), body.clone());
        let spawned = std::thread::Builder::new().name(format!("worker-{id}")).spawn(move || {
            let _living = living;
            body(id);
        });
        match spawned {
            Ok(worker) => workers.push(worker),
            Err(e) => {
                // Those already started serve on; without any, there is nothing to wait for.
                log::error(&format!("could not start worker {id}: {e}"));
                break;
            }
        }
    }
    Pool { alive, workers }
}

impl Pool {
    /// Waits for the last worker to stop.
    pub fn wait(mut self) -> Stop {
        let mut left = self.alive.left.lock().unwrap_or_else(PoisonError::into_inner);
        while *left > 0 {
            left = self.alive.none_left.wait(left).unwrap_or_else(PoisonError::into_inner);
        }
        drop(left);
        self.workers.drain(..).for_each(|w| drop(w.join()));
        Stop::NoWorkerLeft
    }

    /// Number of workers started.
    pub fn len(&self) -> usize {
        self.workers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.workers.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// Issue 16: a worker that panics outside `run`'s unwind guard still counts down, so
    /// `wait` returns instead of waiting for it forever.
    #[test]
    fn workers_that_panic_outside_the_unwind_guard_leave_no_worker() {
        let pool = spawn(3, |id| {
            if id != 1 {
                panic!("worker {id} panics outside the guard");
            }
        });
        assert_eq!(pool.len(), 3);
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || tx.send(pool.wait()).unwrap());
        let stop = rx.recv_timeout(Duration::from_secs(30)).expect("wait returned");
        assert_eq!(stop, Stop::NoWorkerLeft);
    }

    #[test]
    fn the_variable_is_a_positive_whole_number() {
        let with = |v: Option<&str>| count(move |k| (k == VARIABLE).then(|| v.map(str::to_owned)).flatten());
        assert_eq!(with(None).unwrap(), 1);
        assert_eq!(with(Some("")).unwrap(), 1, "empty is unset, as for every variable");
        assert_eq!(with(Some(" ")).unwrap_err().var, VARIABLE, "only whitespace is an error, as for every variable");
        assert_eq!(with(Some("1")).unwrap(), 1);
        assert_eq!(with(Some(" 8 ")).unwrap(), 8);
        assert_eq!(with(Some("1600")).unwrap(), 1600);
        for bad in ["0", "-1", "1601", "8.0", "eight", "8 workers", "99999999999999999999999"] {
            let e = with(Some(bad)).unwrap_err();
            assert_eq!(e.var, VARIABLE, "{bad}");
        }
    }
}
