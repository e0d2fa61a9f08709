//! Appeals against published decisions.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::schema::appeals;
use crate::db::types::{Ts, Uid};
use crate::db::DbConn;
use crate::domain::appeal::AppealStatus;

/// An appeal as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = appeals)]
pub struct Appeal {
    pub id: Uid,
    pub application_id: Uid,
    pub call_id: Uid,
    /// The version of the decision appealed.
    pub decision_version: i32,
    pub grounds: String,
    pub status: AppealStatus,
    pub filed_by: Option<Uid>,
    pub filed_at: Ts,
    /// Staff's motivation, once resolved.
    pub resolution: Option<String>,
    pub resolved_by: Option<Uid>,
    pub resolved_at: Option<Ts>,
}

/// Files an appeal; false when this version of the decision already has one (a second request at once).
pub fn insert(conn: &mut DbConn, appeal: &Appeal) -> QueryResult<bool> {
    let insert = diesel::insert_into(appeals::table).values(appeal);
    let inserted = crate::on_backend!(conn, |c| insert.on_conflict_do_nothing().execute(c)?);
    Ok(inserted == 1)
}

/// The appeals of an application, oldest first.
pub fn of_application(conn: &mut DbConn, application_id: Uuid) -> QueryResult<Vec<Appeal>> {
    appeals::table
        .filter(appeals::application_id.eq(Uid(application_id)))
        .order(appeals::id.asc())
        .select(Appeal::as_select())
        .load(conn)
}

/// Resolves an open appeal; false when it was resolved meanwhile.
pub fn resolve(
    conn: &mut DbConn,
    id: Uuid,
    status: AppealStatus,
    resolution: &str,
    resolved_by: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    let changed = diesel::update(
        appeals::table
            .find(Uid(id))
            .filter(appeals::status.eq(AppealStatus::Open)),
    )
    .set((
        appeals::status.eq(status),
        appeals::resolution.eq(Some(resolution)),
        appeals::resolved_by.eq(Some(Uid(resolved_by))),
        appeals::resolved_at.eq(Some(Ts(now))),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}
