//! Finalists: telling the applications shortlisted to a stage what comes next, and the files they add
//! while shortlisted (the stage's extra documents). Pitch slots are in [`crate::service::pitch_slots`].

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::db::DbConn;
use crate::domain::finalists::may_change_extra_documents;
use crate::domain::form::{ExtraDocument, Field, Stage};
use crate::error::Error;
use crate::notify::applications::{format_instant, localized, About};
use crate::notify::emails::{AskedDocument, Shortlisted};
use crate::state::AppState;
use crate::store::applications::{self, Application};
use crate::store::calls::Call;
use crate::store::organizations;

/// Queues the `shortlisted` email of application `app_id` to its members, each in their language: the
/// stage it goes on to, its dates when known, the pitch slot to come and the documents asked.
pub fn tell_finalist(
    conn: &mut DbConn,
    state: &AppState,
    call: &Call,
    stage: &Stage,
    app_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let app = applications::find(conn, app_id)?.ok_or(Error::NotFound)?;
    let organization = organizations::find(conn, *app.organization_id)?.ok_or(Error::NotFound)?;
    let about = About {
        call,
        organization: &organization,
        application: &app,
    };
    let details = |locale: &str| Shortlisted {
        stage_label: localized(&stage.label, locale),
        stage_starts_at: stage
            .starts_at
            .map(|at| format_instant(at, &call.timezone, locale)),
        stage_ends_at: stage
            .ends_at
            .map(|at| format_instant(at, &call.timezone, locale)),
        extra_documents: stage
            .extra_documents
            .iter()
            .map(|d| asked(d, locale))
            .collect(),
    };
    about.tell_members(conn, state, details, now)
}

/// A document as the finalists' email lists it.
fn asked(document: &ExtraDocument, locale: &str) -> AskedDocument {
    const MB: u64 = 1024 * 1024;
    AskedDocument {
        label: localized(&document.label, locale),
        content_types: document.content_types.join(", "),
        max_size_mb: document.max_size.div_ceil(MB),
        required: document.required,
    }
}

/// The stage asking for extra document `key`, and the document, if a stage of `stages` asks for it.
pub fn extra_document<'a>(
    stages: &'a [Stage],
    key: &str,
) -> Option<(&'a Stage, &'a ExtraDocument)> {
    stages
        .iter()
        .find_map(|stage| stage.extra_document(key).map(|d| (stage, d)))
}

/// The file field of extra document `key` of `call`, if the application may add or delete it now (409
/// `not_shortlisted` unless it is shortlisted to the stage asking for it); `None` when no stage asks for
/// `key` (a form's field, or nothing).
pub fn extra_document_field(
    conn: &mut DbConn,
    call: &Call,
    app: &Application,
    key: &str,
) -> Result<Option<Field>, Error> {
    let stages = call.stages()?;
    let Some((stage, document)) = extra_document(&stages, key) else {
        return Ok(None);
    };
    let shortlisted_for = applications::shortlisted_for(conn, *app.id)?;
    may_change_extra_documents(app.status, shortlisted_for.as_deref(), &stage.key)?;
    Ok(Some(document.as_field()))
}
