//! SQLite's one writer, on a thread of its own fed by a queue, committing what queued up together.
//!
//! SQLite runs one write transaction at a time. Handed from task to blocking thread and back, each
//! transaction waited for the next request's task to be polled, then for a blocking thread to wake, while
//! the database sat idle; and each paid its own `BEGIN IMMEDIATE` and `COMMIT` (a WAL append). Here the
//! thread takes the work that queued while the previous batch ran (up to [`MAX_BATCH`]) and runs it in one
//! transaction, each piece inside its own savepoint: a piece that fails is rolled back alone and told at
//! once; the others are told only once the transaction committed, so a success always means written. Should
//! the commit fail, every piece of the batch is told.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc;

use diesel::connection::TransactionManager;
use diesel::Connection;

use super::statements::{self, RequestCounter};
use super::{begin_write, busy_is_unavailable, finish_write, DbConn, DbPool};
use crate::error::Error;

/// The most pieces of work committed together.
const MAX_BATCH: usize = 64;

/// Why a batch's pieces were not written, for each to be told in its own error.
struct Failure {
    /// Another process held SQLite's write lock past the busy timeout, or no connection came: a 503 to
    /// retry.
    busy: bool,
    message: String,
}

impl Failure {
    fn of(err: diesel::result::Error) -> Failure {
        let message = err.to_string();
        Failure {
            busy: matches!(busy_is_unavailable(err), Error::Unavailable(_)),
            message,
        }
    }

    fn to_error(&self) -> Error {
        if self.busy {
            Error::Unavailable(format!("the database is unavailable: {}", self.message))
        } else {
            Error::Internal(anyhow::anyhow!(
                "the write transaction failed: {}",
                self.message
            ))
        }
    }
}

/// What a piece of work leaves once run: telling its caller, when the batch's transaction ended.
type Tell = Box<dyn FnOnce(Option<&Failure>) + Send>;
/// A piece of work: run on the batch's connection, or told why it could not run.
type Job = Box<dyn FnOnce(Result<&mut DbConn, &Failure>) -> Tell + Send>;

/// The queue of the writer thread; cheap to clone. The thread ends when the last clone is dropped.
#[derive(Clone)]
pub(super) struct Writer {
    jobs: mpsc::Sender<Job>,
}

impl Writer {
    /// Starts the writer thread on `pool` (SQLite's pool of one write connection).
    pub(super) fn start(pool: DbPool) -> std::io::Result<Writer> {
        let (jobs, queue) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("sqlite-writer".to_owned())
            .spawn(move || run(&pool, &queue))?;
        Ok(Writer { jobs })
    }

    /// Runs `f` in a savepoint of the writer's next transaction; its result once that transaction
    /// committed (an error at once).
    pub(super) async fn write<T, F>(
        &self,
        counter: Option<RequestCounter>,
        f: F,
    ) -> Result<T, Error>
    where
        F: FnOnce(&mut DbConn) -> Result<T, Error> + Send + 'static,
        T: Send + 'static,
    {
        let (done, result) = tokio::sync::oneshot::channel::<Result<T, Error>>();
        let job: Job = Box::new(move |conn| {
            let conn = match conn {
                Ok(conn) => conn,
                Err(failure) => {
                    let _ = done.send(Err(failure.to_error()));
                    return Box::new(|_| {});
                }
            };
            let outcome = statements::counting(counter, || {
                // A savepoint (the batch's transaction is open): a failure undoes this piece only.
                <DbConn as Connection>::TransactionManager::begin_transaction(conn)?;
                finish_write(conn, f)
            });
            match outcome {
                Ok(value) => Box::new(move |failure: Option<&Failure>| {
                    let _ = done.send(match failure {
                        None => Ok(value),
                        Some(failure) => Err(failure.to_error()),
                    });
                }),
                Err(err) => {
                    let _ = done.send(Err(err));
                    Box::new(|_| {})
                }
            }
        });
        self.jobs
            .send(job)
            .map_err(|_| Error::Internal(anyhow::anyhow!("the database writer stopped")))?;
        result
            .await
            .map_err(|_| Error::Internal(anyhow::anyhow!("a database write was lost")))?
    }
}

/// The writer's loop: waits for work, takes what else queued meanwhile, runs it as one transaction.
fn run(pool: &DbPool, queue: &mpsc::Receiver<Job>) {
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        run_batch(pool, batch);
    }
}

fn run_batch(pool: &DbPool, batch: Vec<Job>) {
    let mut conn = match pool.get() {
        Ok(conn) => conn,
        Err(err) => {
            // As any other request without a connection: 503, to retry.
            let failure = Failure {
                busy: true,
                message: format!("no database connection: {err}"),
            };
            for job in batch {
                job(Err(&failure))(None);
            }
            return;
        }
    };
    if let Err(err) = begin_write(&mut conn) {
        let failure = Failure::of(err);
        for job in batch {
            job(Err(&failure))(None);
        }
        return;
    }
    let mut tells = Vec::with_capacity(batch.len());
    for job in batch {
        match catch_unwind(AssertUnwindSafe(|| job(Ok(&mut conn)))) {
            Ok(tell) => tells.push(tell),
            // The piece panicked inside its savepoint (its caller is told the write was lost): undo it.
            Err(_) => {
                let _ = <DbConn as Connection>::TransactionManager::rollback_transaction(&mut conn);
            }
        }
    }
    match <DbConn as Connection>::TransactionManager::commit_transaction(&mut conn) {
        Ok(()) => tells.into_iter().for_each(|tell| tell(None)),
        Err(err) => {
            let _ = <DbConn as Connection>::TransactionManager::rollback_transaction(&mut conn);
            let failure = Failure::of(err);
            tells.into_iter().for_each(|tell| tell(Some(&failure)));
        }
    }
}
