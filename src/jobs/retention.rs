//! The retention job: anonymises the applications whose retention period is over (see
//! `docs/personal-data.md`), records each one in the audit log and the event feed, and removes their files.
//! The background loop (`jobs::run`) runs it on every pass when `privacy.retention_enabled`; staff can run it
//! at once through the API.

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::config::{PrivacySettings, TransportKind};
use crate::db::DbConn;
use crate::domain::action::Action;
use crate::error::Error;
use crate::state::AppState;
use crate::store::journal::{Entity, Feed, Happened};
use crate::store::personal::retention::{self, Anonymised};

/// How many applications one transaction anonymises.
const BATCH: i64 = 100;

/// Anonymises every application due at the clock's time; returns how many. Running it again at once
/// anonymises nothing and writes nothing.
pub async fn run(state: &AppState) -> Result<usize, Error> {
    let now = state.clock.now();
    let settings = state.settings.privacy.clone();
    let probe = settings.clone();
    // A cheap read first, so that a write transaction is opened only when there is work.
    let any_due = state
        .db
        .read(move |conn| Ok(!retention::due(conn, &probe, now, 1)?.is_empty()))
        .await?;
    if !any_due {
        return Ok(0);
    }
    let mut total = 0;
    loop {
        let batch_settings = settings.clone();
        let done = state
            .db
            .write(move |conn| anonymise_batch(conn, &batch_settings, now))
            .await?;
        let files: Vec<String> = done.iter().flat_map(|a| a.files.clone()).collect();
        state.storage.remove(&files).await;
        if state.settings.email.transport == TransportKind::File {
            let emails: Vec<String> = done.iter().flat_map(|a| a.emails.clone()).collect();
            crate::notify::transport::remove_eml_copies(&state.settings.email.file_dir, &emails)
                .await;
        }
        total += done.len();
        if (done.len() as i64) < BATCH {
            break;
        }
    }
    if total > 0 {
        tracing::info!(anonymised = total, "retention: applications anonymised");
    }
    Ok(total)
}

/// Anonymises up to one batch of due applications in the caller's transaction, each with its audit entry
/// and its event.
fn anonymise_batch(
    conn: &mut DbConn,
    settings: &PrivacySettings,
    now: DateTime<Utc>,
) -> Result<Vec<Anonymised>, Error> {
    let mut done = Vec::new();
    for id in retention::due(conn, settings, now, BATCH)? {
        let Some(anonymised) = retention::anonymise(conn, id, now)? else {
            continue;
        };
        let status = json!({"status": anonymised.status});
        Happened::new(Action::ApplicationAnonymised, None, Entity::Application(id))
            .after(status.clone())
            .on_feed(Feed::application(anonymised.call_id, id, status))
            .record(conn, now)?;
        done.push(anonymised);
    }
    Ok(done)
}
