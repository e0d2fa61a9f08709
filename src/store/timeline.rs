//! What the timeline of an application reads: the audit entries about it and the feed events of the
//! actions the timeline takes from the feed, two statements whatever the history's length.

use diesel::prelude::*;
use uuid::Uuid;

use crate::db::schema::{audit_log, events};
use crate::db::types::{Json, Ts, Uid};
use crate::db::DbConn;
use crate::domain::action::Action;

/// An audit entry as read: id, time, action, before, after.
type AuditRow = (Uid, Ts, String, Option<Json>, Option<Json>);

/// An audit entry or feed event about an application, as the timeline reads it.
#[derive(Debug, Clone)]
pub struct Line {
    pub from_feed: bool,
    pub id: Uuid,
    pub at: Ts,
    pub action: String,
    pub before: Option<Json>,
    pub after: Option<Json>,
}

/// The application's audit entries of `audit_actions` and its feed events of `feed_actions`, the oldest
/// `limit` of each.
pub fn lines(
    conn: &mut DbConn,
    application_id: Uuid,
    audit_actions: &[Action],
    feed_actions: &[Action],
    limit: i64,
) -> QueryResult<Vec<Line>> {
    let audit_names: Vec<&str> = audit_actions.iter().map(|a| a.as_str()).collect();
    let audited: Vec<AuditRow> = audit_log::table
        .filter(audit_log::entity_type.eq("application"))
        .filter(audit_log::entity_id.eq(Uid(application_id)))
        .filter(audit_log::action.eq_any(audit_names))
        .order(audit_log::id.asc())
        .limit(limit)
        .select((
            audit_log::id,
            audit_log::created_at,
            audit_log::action,
            audit_log::before,
            audit_log::after,
        ))
        .load(conn)?;
    let names: Vec<&str> = feed_actions.iter().map(|a| a.as_str()).collect();
    let announced: Vec<(Uid, Ts, String, Json)> = events::table
        .filter(events::application_id.eq(Uid(application_id)))
        .filter(events::event_type.eq_any(names))
        .order(events::seq.asc())
        .limit(limit)
        .select((
            events::id,
            events::occurred_at,
            events::event_type,
            events::data,
        ))
        .load(conn)?;
    let mut lines: Vec<Line> = audited
        .into_iter()
        .map(|(id, at, action, before, after)| Line {
            from_feed: false,
            id: id.0,
            at,
            action,
            before,
            after,
        })
        .collect();
    lines.extend(announced.into_iter().map(|(id, at, action, data)| Line {
        from_feed: true,
        id: id.0,
        at,
        action,
        before: None,
        after: Some(data),
    }));
    Ok(lines)
}
