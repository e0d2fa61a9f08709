//! Retention: the applications that were not selected are anonymised some months after their call's
//! decisions were published (longer when the applicant consented to be kept).

use chrono::{DateTime, Months, Utc};
use diesel::prelude::*;
use serde_json::json;
use uuid::Uuid;

use super::structural_audit;
use crate::config::PrivacySettings;
use crate::db::schema::{
    appeals, application_messages, applications, attachments, conflicts, decision_versions,
    decisions, idempotency_keys, outbox, reviews,
};
use crate::db::types::{Json, Ts, Uid};
use crate::db::DbConn;
use crate::domain::appeal::AppealStatus;
use crate::domain::application::ApplicationStatus;
use crate::domain::delivery::OutboxStatus;

/// An application just anonymised.
#[derive(Debug, Clone)]
pub struct Anonymised {
    pub application_id: Uuid,
    pub call_id: Uuid,
    pub status: String,
    /// Its attachment files, to remove once the transaction has committed.
    pub files: Vec<String>,
    /// Message ids of the emails about it that were dropped or emptied (their `.eml` copies go too).
    pub emails: Vec<String>,
}

/// Up to `limit` applications due for anonymisation at `now`, oldest first: not selected, not anonymised
/// yet, of a call whose last published decision is older than the retention period that applies to them,
/// whose own decision was not revised within that period, and with no appeal waiting for staff.
pub fn due(
    conn: &mut DbConn,
    settings: &PrivacySettings,
    now: DateTime<Utc>,
    limit: i64,
) -> QueryResult<Vec<Uuid>> {
    let mut found = Vec::new();
    for (consented, months) in [
        (false, settings.retention_months),
        (true, settings.consented_retention_months),
    ] {
        let Some(cutoff) = now.checked_sub_months(Months::new(months)) else {
            continue;
        };
        let room = limit - found.len() as i64;
        if room <= 0 {
            break;
        }
        let published_by_then = decisions::table
            .filter(decisions::published_at.le(Ts(cutoff)))
            .select(decisions::call_id);
        let published_since = decisions::table
            .filter(decisions::published_at.gt(Ts(cutoff)))
            .select(decisions::call_id);
        let revised_since = decision_versions::table
            .filter(decision_versions::decided_at.gt(Ts(cutoff)))
            .select(decision_versions::application_id);
        let appealed = appeals::table
            .filter(appeals::status.eq(AppealStatus::Open))
            .select(appeals::application_id);
        let ids: Vec<Uid> = applications::table
            .filter(applications::anonymised_at.is_null())
            .filter(
                applications::status
                    .ne_all([ApplicationStatus::Selected, ApplicationStatus::Retained]),
            )
            .filter(applications::retention_consent.eq(consented))
            .filter(applications::call_id.eq_any(published_by_then))
            .filter(applications::call_id.ne_all(published_since))
            .filter(applications::id.ne_all(revised_since))
            .filter(applications::id.ne_all(appealed))
            .order(applications::id.asc())
            .select(applications::id)
            .limit(room)
            .load(conn)?;
        found.extend(ids.into_iter().map(|id| id.0));
    }
    Ok(found)
}

/// Anonymises one application in the caller's transaction: its answers, the reasons given about it, its
/// messages, the review comments, the decision's motivation (every version's, and the reasons of its
/// changes) and the appeals' grounds and answers are erased, its attachments deleted, its
/// audit snapshots reduced to what happened, the copies of the emails about it emptied. Its reference,
/// statuses, dates, scores and decision outcome stay (the call's statistics and rankings hold). `None`
/// when it was already anonymised (by another instance a moment ago).
pub fn anonymise(
    conn: &mut DbConn,
    application_id: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<Option<Anonymised>> {
    let id = Uid(application_id);
    let changed = diesel::update(
        applications::table
            .find(id)
            .filter(applications::anonymised_at.is_null()),
    )
    .set((
        applications::answers.eq(Json(json!({}))),
        applications::screening_reason.eq(None::<String>),
        applications::withdrawn_reason.eq(None::<String>),
        applications::anonymised_at.eq(Ts(now)),
        applications::updated_at.eq(Ts(now)),
        applications::version.eq(applications::version + 1),
    ))
    .execute(conn)?;
    if changed == 0 {
        return Ok(None);
    }
    let (call_id, status): (Uid, String) = applications::table
        .find(id)
        .select((applications::call_id, applications::status))
        .first(conn)?;

    let files: Vec<String> = attachments::table
        .filter(attachments::application_id.eq(id))
        .select(attachments::storage_name)
        .load(conn)?;
    diesel::delete(attachments::table.filter(attachments::application_id.eq(id))).execute(conn)?;
    diesel::update(application_messages::table.filter(application_messages::application_id.eq(id)))
        .set(application_messages::body.eq(""))
        .execute(conn)?;
    diesel::update(reviews::table.filter(reviews::application_id.eq(id)))
        .set(reviews::comment.eq(None::<String>))
        .execute(conn)?;
    diesel::update(decisions::table.filter(decisions::application_id.eq(id)))
        .set(decisions::motivation.eq(""))
        .execute(conn)?;
    diesel::update(decision_versions::table.filter(decision_versions::application_id.eq(id)))
        .set((
            decision_versions::motivation.eq(None::<String>),
            decision_versions::reason.eq(None::<String>),
        ))
        .execute(conn)?;
    diesel::update(appeals::table.filter(appeals::application_id.eq(id)))
        .set((
            appeals::grounds.eq(""),
            appeals::resolution.eq(None::<String>),
        ))
        .execute(conn)?;
    diesel::update(conflicts::table.filter(conflicts::application_id.eq(id)))
        .set(conflicts::reason.eq(""))
        .execute(conn)?;
    structural_audit(conn, "application", application_id)?;

    // Emails about it carry its link; what was not sent is dropped, what was sent keeps its subject only.
    let about_it = outbox::body_text.like(format!("%/applications/{application_id}%"));
    let emails: Vec<String> = outbox::table
        .filter(about_it.clone())
        .select(outbox::message_id)
        .load(conn)?;
    diesel::delete(
        outbox::table
            .filter(about_it.clone())
            .filter(outbox::status.eq(OutboxStatus::Pending)),
    )
    .execute(conn)?;
    diesel::update(
        outbox::table
            .filter(about_it)
            .filter(outbox::status.eq_any([OutboxStatus::Sent, OutboxStatus::Failed])),
    )
    .set((outbox::body_text.eq(""), outbox::body_html.eq("")))
    .execute(conn)?;
    // Answers stored for replays (the application as created or submitted).
    diesel::delete(
        idempotency_keys::table
            .filter(idempotency_keys::response_body.like(format!("%{application_id}%"))),
    )
    .execute(conn)?;

    Ok(Some(Anonymised {
        application_id,
        call_id: call_id.0,
        status,
        files,
        emails,
    }))
}
