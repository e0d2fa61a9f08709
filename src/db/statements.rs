//! Counting the SQL statements each HTTP request runs, so that tests can hold list endpoints to a bounded
//! number whatever their page size, and benchmarks can report statements per request.
//!
//! A middleware gives each request a counter (a task-local); [`super::Db`] hands it to the blocking thread
//! that runs the queries (a thread-local), where the connection's instrumentation counts every statement.
//! Work outside requests (the delivery worker, the command line) is not counted.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use diesel::connection::{Instrumentation, InstrumentationEvent};

/// The statements of one request.
pub type RequestCounter = Arc<AtomicU64>;

tokio::task_local! {
    static REQUEST: RequestCounter;
}

thread_local! {
    static CURRENT: RefCell<Option<RequestCounter>> = const { RefCell::new(None) };
}

/// Runs `future` (a request) with a fresh counter; returns its output and how many statements it ran.
pub async fn count<F: std::future::Future>(future: F) -> (F::Output, u64) {
    let counter = RequestCounter::default();
    let output = REQUEST.scope(counter.clone(), future).await;
    (output, counter.load(Ordering::Relaxed))
}

/// The counter of the request being served on this task, if any.
pub fn of_this_request() -> Option<RequestCounter> {
    REQUEST.try_with(Arc::clone).ok()
}

/// Runs `f` on this (blocking) thread with `counter` receiving the statements it runs.
pub fn counting<T>(counter: Option<RequestCounter>, f: impl FnOnce() -> T) -> T {
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            CURRENT.with(|c| c.borrow_mut().take());
        }
    }
    CURRENT.with(|c| *c.borrow_mut() = counter);
    let _reset = Reset;
    f()
}

/// The instrumentation installed on every pooled connection.
pub struct StatementCounter;

impl Instrumentation for StatementCounter {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        if let InstrumentationEvent::StartQuery { .. } = event {
            CURRENT.with(|c| {
                if let Some(counter) = c.borrow().as_ref() {
                    counter.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    }
}
