//! Background work: one loop per instance that, on every pass, sweeps orphan attachment files when due
//! ([`files`]), queues the deadline reminders, anonymises the applications past their retention period
//! ([`retention`]), then delivers the due emails and webhook deliveries (`notify::worker`). It sleeps for
//! `email.poll_interval_ms` unless a batch was full or something was queued (the outbox wakeup).

pub mod files;
pub mod retention;

use std::time::Duration;

use tokio::sync::watch;

use crate::notify::worker::Worker;

/// Runs every job until `shutdown` turns true; the batch in hand is finished first.
pub async fn run(worker: Worker, mut shutdown: watch::Receiver<bool>) {
    let poll = Duration::from_millis(worker.settings.poll_interval_ms.max(10));
    // Start-up has swept once; the background sweep catches the orphans of a crash without a restart.
    let mut sweep = files::SweepSchedule::new(&worker.state.settings.storage);
    loop {
        if *shutdown.borrow() {
            break;
        }
        sweep
            .sweep_if_due(&worker.db, &worker.state.storage, &worker.clock)
            .await;
        if let Err(err) = worker.queue_reminders().await {
            tracing::warn!(error = %err, "reminders: could not queue");
        }
        if worker.state.settings.privacy.retention_enabled {
            if let Err(err) = retention::run(&worker.state).await {
                tracing::warn!(error = %err, "retention: could not anonymise");
            }
        }
        if worker.deliver_pass().await {
            continue;
        }
        tokio::select! {
            _ = tokio::time::sleep(poll) => {}
            _ = worker.wakeup.notified() => {}
            _ = shutdown.changed() => {}
        }
    }
    tracing::info!("outbox worker stopped");
}
