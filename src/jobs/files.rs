//! The attachment file sweep: deletes the files that no row names (a crash between writing a file and
//! committing its row), once at start-up and then once per `storage.sweep_grace_seconds` in the background
//! loop. Files younger than the grace period are kept: they may belong to an upload still in progress.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use crate::config::StorageSettings;
use crate::db::{Db, DbConn};
use crate::error::Error;

/// At start-up, before serving: deletes the orphan files with the connection in hand.
pub fn sweep_at_start(conn: &mut DbConn, storage: &StorageSettings) -> anyhow::Result<()> {
    let known = known_names(conn)?;
    remove_orphans(storage, &known)?;
    Ok(())
}

/// When the next background sweep is due.
pub struct SweepSchedule {
    every: Duration,
    next: Instant,
}

impl SweepSchedule {
    /// The first sweep one period from now (start-up has just swept); the period is the grace period, at
    /// least a minute.
    pub fn new(storage: &StorageSettings) -> SweepSchedule {
        let every = Duration::from_secs(storage.sweep_grace_seconds.max(60));
        SweepSchedule {
            every,
            next: Instant::now() + every,
        }
    }

    /// Sweeps when the period is over; a failure is logged and the next sweep waits for the next period.
    pub async fn sweep_if_due(&mut self, db: &Db, storage: &StorageSettings) {
        if Instant::now() < self.next {
            return;
        }
        self.next = Instant::now() + self.every;
        if let Err(err) = sweep(db, storage).await {
            tracing::warn!(error = %err, "storage: could not sweep orphan files");
        }
    }
}

/// Reads the names the rows hold, then deletes the other files off the async threads.
async fn sweep(db: &Db, storage: &StorageSettings) -> Result<(), Error> {
    let known = db.read(|conn| Ok(known_names(conn)?)).await?;
    let storage = storage.clone();
    tokio::task::spawn_blocking(move || remove_orphans(&storage, &known))
        .await
        .map_err(|e| Error::Internal(e.into()))?
        .map_err(|e| Error::Internal(e.into()))?;
    Ok(())
}

/// The storage names of every attachment row.
fn known_names(conn: &mut DbConn) -> diesel::QueryResult<HashSet<String>> {
    Ok(crate::store::applications::storage_names(conn)?
        .into_iter()
        .collect())
}

/// Deletes the files older than the grace period that `known` does not name; logs how many.
fn remove_orphans(storage: &StorageSettings, known: &HashSet<String>) -> std::io::Result<usize> {
    let grace = Duration::from_secs(storage.sweep_grace_seconds);
    let removed = crate::storage::sweep(&storage.dir, known, grace)?;
    if removed > 0 {
        tracing::info!(removed, "removed orphan attachment files");
    }
    Ok(removed)
}
