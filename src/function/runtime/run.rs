//! The invocation loop: ask for an invocation, answer it, again, until the Runtime API fails.

use super::{Client, Error, Invocation, Outcome};
use crate::function::log;
use crate::function::shutdown::Shutdown;

/// Serves invocations until the Runtime API fails, and returns why: `handler` answers each
/// invocation (its request id and trace id are for its log lines).
///
/// - A handler panic (panics unwind) becomes that invocation's error and the loop goes on.
/// - An answer that could not be delivered or acknowledged (a late acknowledgement, a
///   connection closed under it, a refusal such as 410 past the deadline) costs that
///   invocation and its connection, never the loop: it is logged, and the next request goes
///   on a new connection. The deadline bounds the function's own work, not the Runtime API's.
/// - An event whose body did not arrive by its deadline is logged and skipped the same way.
/// - Only a failure to get the next invocation (the Runtime API gone, or answering
///   something that is not an invocation) ends the loop, with that error.
/// - Once `shutdown` is stopping (SIGTERM), it asks for no new invocation and stands by; each
///   invocation is in flight for `shutdown` from its event received to its answer posted
///   ([`crate::function::shutdown`]).
pub fn run(
    client: &mut Client,
    shutdown: &Shutdown,
    mut handler: impl FnMut(&Invocation) -> Outcome<'static>,
) -> Error {
    let mut inv = Invocation::default();
    loop {
        // Stopping (SIGTERM): no new invocation; the thread that caught it ends the process.
        if shutdown.stopping() {
            shutdown.stand_by();
        }
        match client.next(&mut inv) {
            Ok(()) => {}
            Err(Error::Late(what)) => {
                warn(&inv, &format!("invocation skipped: {what}; its connection was dropped"));
                continue;
            }
            Err(e) => return e,
        }
        // In flight from here until the answer is posted (the end of this iteration).
        let _in_flight = shutdown.begin();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handler(&inv)))
            .unwrap_or(Outcome::Error { error_type: "Runtime.Panic", message: "the handler panicked" });
        let posted = if client.pipelining() {
            client.post_outcome_and_ask_next(&inv, &outcome)
        } else {
            client.post_outcome(&inv, &outcome)
        };
        match posted {
            Ok(status) if !(200..300).contains(&status) => {
                warn(&inv, &format!("the Runtime API answered HTTP {status} to an invocation result"));
            }
            Ok(_) => {}
            Err(e) => {
                warn(&inv, &format!("an invocation result was not acknowledged ({e}); its connection was dropped"))
            }
        }
    }
}

fn warn(inv: &Invocation, message: &str) {
    log::warn_in(&log::Context { request_id: &inv.request_id, trace_id: &inv.trace_id }, message);
}
