//! The attachment sweep: deletes the files (or, on S3, the objects under the prefix) that no row names (a
//! crash between writing a file and committing its row, an upload whose row failed and whose removal
//! failed too), once at start-up and then once per `storage.sweep_grace_seconds` in the background loop.
//! Files younger than the grace period (by the server clock against their modification time) are kept:
//! they may belong to an upload still in progress on this or another instance.

use std::collections::HashSet;
use std::time::{Duration, Instant, SystemTime};

use crate::clock::Clock;
use crate::config::StorageSettings;
use crate::db::{Db, DbConn};
use crate::error::Error;
use crate::storage::{Blocking, Storage};

/// At start-up, before serving, on a blocking thread: deletes the orphan files with the connection in hand.
pub fn sweep_at_start(
    conn: &mut DbConn,
    storage: Storage,
    grace_seconds: u64,
    clock: &Clock,
) -> anyhow::Result<()> {
    let known = known_names(conn)?;
    let grace = Duration::from_secs(grace_seconds);
    let removed = Blocking::new(storage)?.sweep(&known, grace, SystemTime::from(clock.now()))?;
    log(removed);
    Ok(())
}

/// When the next background sweep is due.
pub struct SweepSchedule {
    every: Duration,
    grace: Duration,
    next: Instant,
}

impl SweepSchedule {
    /// The first sweep one period from now (start-up has just swept); the period is the grace period, at
    /// least a minute.
    pub fn new(settings: &StorageSettings) -> SweepSchedule {
        let every = Duration::from_secs(settings.sweep_grace_seconds.max(60));
        SweepSchedule {
            every,
            grace: Duration::from_secs(settings.sweep_grace_seconds),
            next: Instant::now() + every,
        }
    }

    /// Sweeps when the period is over; a failure is logged and the next sweep waits for the next period.
    pub async fn sweep_if_due(&mut self, db: &Db, storage: &Storage, clock: &Clock) {
        if Instant::now() < self.next {
            return;
        }
        self.next = Instant::now() + self.every;
        if let Err(err) = sweep(db, storage, self.grace, clock).await {
            tracing::warn!(error = %err, "storage: could not sweep orphan files");
        }
    }
}

/// Reads the names the rows hold, then deletes the other files and objects.
pub async fn sweep(
    db: &Db,
    storage: &Storage,
    grace: Duration,
    clock: &Clock,
) -> Result<usize, Error> {
    let known = db.read(|conn| Ok(known_names(conn)?)).await?;
    let removed = storage
        .sweep(&known, grace, SystemTime::from(clock.now()))
        .await
        .map_err(|e| Error::Internal(e.into()))?;
    log(removed);
    Ok(removed)
}

/// The storage names of every attachment row.
fn known_names(conn: &mut DbConn) -> diesel::QueryResult<HashSet<String>> {
    Ok(crate::store::applications::storage_names(conn)?
        .into_iter()
        .collect())
}

fn log(removed: usize) {
    if removed > 0 {
        tracing::info!(removed, "removed orphan attachment files");
    }
}
