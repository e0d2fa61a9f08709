//! The versions of published decisions: each one its applicant was told, kept.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::schema::decision_versions;
use crate::db::types::{Ts, Uid};
use crate::db::DbConn;
use crate::domain::application::DecisionOutcome;
use crate::domain::decision::DecisionChange;

/// One version of a decision as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = decision_versions)]
pub struct DecisionVersion {
    pub application_id: Uid,
    /// 1 for the decision as published, then one more per change.
    pub version: i32,
    pub call_id: Uid,
    pub kind: DecisionChange,
    /// `None` for a withdrawal.
    pub outcome: Option<DecisionOutcome>,
    pub motivation: Option<String>,
    /// Why it changed (staff's reason for a revision, the applicant's for a withdrawal).
    pub reason: Option<String>,
    /// The upheld appeal a revision answers.
    pub appeal_id: Option<Uid>,
    pub decided_by: Option<Uid>,
    pub decided_at: Ts,
}

impl DecisionVersion {
    /// When this version was told.
    pub fn at(&self) -> DateTime<Utc> {
        self.decided_at.0
    }
}

/// Adds a version; false when that version number is taken (another change came first).
pub fn insert(conn: &mut DbConn, version: &DecisionVersion) -> QueryResult<bool> {
    let insert = diesel::insert_into(decision_versions::table).values(version);
    let inserted = crate::on_backend!(conn, |c| insert.on_conflict_do_nothing().execute(c)?);
    Ok(inserted == 1)
}

/// The versions of an application's decision, oldest first.
pub fn of_application(
    conn: &mut DbConn,
    application_id: Uuid,
) -> QueryResult<Vec<DecisionVersion>> {
    decision_versions::table
        .filter(decision_versions::application_id.eq(Uid(application_id)))
        .order(decision_versions::version.asc())
        .select(DecisionVersion::as_select())
        .load(conn)
}

/// The versions of these applications' decisions, oldest first (one statement for a page of applications).
pub fn of_applications(
    conn: &mut DbConn,
    application_ids: &[Uuid],
) -> QueryResult<Vec<DecisionVersion>> {
    let ids: Vec<Uid> = application_ids.iter().copied().map(Uid).collect();
    decision_versions::table
        .filter(decision_versions::application_id.eq_any(ids))
        .order((
            decision_versions::application_id.asc(),
            decision_versions::version.asc(),
        ))
        .select(DecisionVersion::as_select())
        .load(conn)
}
