//! Decisions on applications: recorded pending, then published once.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::schema::decisions;
use crate::db::types::{Ts, Uid};
use crate::db::DbConn;
use crate::domain::application::DecisionOutcome;

/// A decision as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = decisions)]
pub struct Decision {
    pub application_id: Uid,
    pub call_id: Uid,
    pub outcome: DecisionOutcome,
    pub motivation: String,
    pub decided_by: Option<Uid>,
    pub decided_at: Ts,
    pub published_at: Option<Ts>,
}

/// Records (or replaces) a pending decision; false when the application's decision was already published.
/// Each write is conditional, so a publication running at the same time never has its decision changed
/// under it: a pending decision is replaced only while still unpublished, a new one inserted only if none is.
pub fn record_decision(conn: &mut DbConn, decision: &Decision) -> QueryResult<bool> {
    let replace = || {
        diesel::update(
            decisions::table
                .find(decision.application_id)
                .filter(decisions::published_at.is_null()),
        )
        .set((
            decisions::outcome.eq(&decision.outcome),
            decisions::motivation.eq(&decision.motivation),
            decisions::decided_by.eq(decision.decided_by),
            decisions::decided_at.eq(decision.decided_at),
        ))
    };
    if replace().execute(conn)? == 1 {
        return Ok(true);
    }
    let insert = diesel::insert_into(decisions::table).values(decision);
    let inserted = crate::on_backend!(conn, |c| insert.on_conflict_do_nothing().execute(c)?);
    if inserted == 1 {
        return Ok(true);
    }
    // Inserted by another request meanwhile: replace it if it is still pending.
    Ok(replace().execute(conn)? == 1)
}

/// The decisions of a call not published yet.
pub fn pending_decisions(conn: &mut DbConn, call_id: Uuid) -> QueryResult<Vec<Decision>> {
    decisions::table
        .filter(decisions::call_id.eq(Uid(call_id)))
        .filter(decisions::published_at.is_null())
        .order(decisions::application_id.asc())
        .select(Decision::as_select())
        .load(conn)
}

/// The decisions of a call.
pub fn decisions_of_call(conn: &mut DbConn, call_id: Uuid) -> QueryResult<Vec<Decision>> {
    decisions::table
        .filter(decisions::call_id.eq(Uid(call_id)))
        .order(decisions::application_id.asc())
        .select(Decision::as_select())
        .load(conn)
}

/// A page of the decisions of a call in application-id order (a decision's key): those after `after`, at
/// most `limit`.
pub fn page_of_call(
    conn: &mut DbConn,
    call_id: Uuid,
    after: Option<Uuid>,
    limit: i64,
) -> QueryResult<Vec<Decision>> {
    let mut query = decisions::table
        .filter(decisions::call_id.eq(Uid(call_id)))
        .order(decisions::application_id.asc())
        .limit(limit)
        .select(Decision::as_select())
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(decisions::application_id.gt(Uid(after)));
    }
    query.load(conn)
}

/// Marks a decision published if it is not yet; false when another publication did it first (on PostgreSQL
/// the second one waits for the first to commit, then finds nothing to change).
pub fn mark_published(
    conn: &mut DbConn,
    application_id: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    let changed = diesel::update(
        decisions::table
            .find(Uid(application_id))
            .filter(decisions::published_at.is_null()),
    )
    .set(decisions::published_at.eq(Ts(now)))
    .execute(conn)?;
    Ok(changed == 1)
}

/// Replaces the outcome and motivation of a published decision with a revision's (the history keeps every
/// version); false when the application has no published decision.
pub fn revise_published(
    conn: &mut DbConn,
    application_id: Uuid,
    outcome: DecisionOutcome,
    motivation: &str,
    decided_by: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    let changed = diesel::update(
        decisions::table
            .find(Uid(application_id))
            .filter(decisions::published_at.is_not_null()),
    )
    .set((
        decisions::outcome.eq(outcome),
        decisions::motivation.eq(motivation),
        decisions::decided_by.eq(Some(Uid(decided_by))),
        decisions::decided_at.eq(Ts(now)),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}
