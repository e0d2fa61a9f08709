//! The audit log: who changed what, when, before and after.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::schema::audit_log;
use crate::db::types::{Json, Ts, Uid};
use crate::db::DbConn;

/// One audit entry as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, serde::Serialize)]
#[diesel(table_name = audit_log)]
pub struct Entry {
    pub id: Uid,
    pub actor_id: Option<Uid>,
    pub action: String,
    pub entity_type: String,
    pub entity_id: Uid,
    pub before: Option<Json>,
    pub after: Option<Json>,
    pub created_at: Ts,
}

/// What changed, to be recorded in the caller's transaction.
pub struct Change<'a> {
    pub actor_id: Option<Uuid>,
    pub action: &'a str,
    pub entity_type: &'a str,
    pub entity_id: Uuid,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

/// Records a change.
pub fn record(conn: &mut DbConn, change: Change<'_>, now: DateTime<Utc>) -> QueryResult<()> {
    let entry = Entry {
        id: Uid(Uuid::now_v7()),
        actor_id: change.actor_id.map(Uid),
        action: change.action.to_owned(),
        entity_type: change.entity_type.to_owned(),
        entity_id: Uid(change.entity_id),
        before: change.before.map(Json),
        after: change.after.map(Json),
        created_at: Ts(now),
    };
    diesel::insert_into(audit_log::table)
        .values(&entry)
        .execute(conn)
        .map(|_| ())
}

/// One page of entries, oldest first, optionally for one entity type or entity.
pub fn list(
    conn: &mut DbConn,
    entity_type: Option<&str>,
    entity_id: Option<Uuid>,
    after: Option<Uuid>,
    limit: i64,
) -> QueryResult<Vec<Entry>> {
    let mut query = audit_log::table
        .select(Entry::as_select())
        .order(audit_log::id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(t) = entity_type {
        query = query.filter(audit_log::entity_type.eq(t.to_owned()));
    }
    if let Some(id) = entity_id {
        query = query.filter(audit_log::entity_id.eq(Uid(id)));
    }
    if let Some(after) = after {
        query = query.filter(audit_log::id.gt(Uid(after)));
    }
    query.load(conn)
}
