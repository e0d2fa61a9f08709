//! The transactional outbox: emails written in the same transaction as the change that causes them,
//! then claimed and delivered by the worker.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::schema::outbox;
use crate::db::types::{Ts, Uid};
use crate::db::DbConn;

/// A queued email as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = outbox)]
pub struct OutboxEmail {
    pub id: Uid,
    pub kind: String,
    pub event: String,
    pub recipient: String,
    pub user_id: Option<Uid>,
    pub locale: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub message_id: String,
    pub status: String,
    pub attempts: i32,
    pub max_attempts: i32,
    pub next_attempt_at: Ts,
    pub locked_until: Option<Ts>,
    pub last_error: Option<String>,
    pub created_at: Ts,
    pub sent_at: Option<Ts>,
}

/// Queues an email.
pub fn insert(conn: &mut DbConn, email: &OutboxEmail) -> QueryResult<()> {
    diesel::insert_into(outbox::table)
        .values(email)
        .execute(conn)
        .map(|_| ())
}

/// Reserves up to `limit` due emails for this worker for `lease`, counting one attempt each. Due: pending
/// and past their next attempt, or reserved by a worker whose lease ran out (it crashed mid-send).
/// PostgreSQL skips rows another instance holds; SQLite has a single writer.
pub fn claim_due(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    lease: Duration,
    limit: i64,
) -> QueryResult<Vec<OutboxEmail>> {
    let due = outbox::table
        .filter(
            (outbox::status
                .eq("pending")
                .and(outbox::next_attempt_at.le(Ts(now))))
            .or(outbox::status
                .eq("sending")
                .and(outbox::locked_until.lt(Ts(now)))),
        )
        .order((outbox::next_attempt_at.asc(), outbox::id.asc()))
        .limit(limit)
        .select(outbox::id);
    let ids: Vec<Uid> = match conn {
        DbConn::Pg(c) => due.for_update().skip_locked().load(c)?,
        DbConn::Sqlite(c) => due.load(c)?,
    };
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    diesel::update(outbox::table.filter(outbox::id.eq_any(&ids)))
        .set((
            outbox::status.eq("sending"),
            outbox::locked_until.eq(Ts(now + lease)),
            outbox::attempts.eq(outbox::attempts + 1),
        ))
        .execute(conn)?;
    outbox::table
        .filter(outbox::id.eq_any(&ids))
        .order((outbox::next_attempt_at.asc(), outbox::id.asc()))
        .select(OutboxEmail::as_select())
        .load(conn)
}

/// Records a delivery.
pub fn mark_sent(conn: &mut DbConn, id: Uuid, now: DateTime<Utc>) -> QueryResult<()> {
    diesel::update(outbox::table.find(Uid(id)))
        .set((
            outbox::status.eq("sent"),
            outbox::sent_at.eq(Ts(now)),
            outbox::locked_until.eq(None::<Ts>),
            outbox::last_error.eq(None::<String>),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Records a failed attempt: retried at `retry_at`, or `failed` for good when `retry_at` is `None`.
pub fn mark_attempt_failed(
    conn: &mut DbConn,
    id: Uuid,
    error: &str,
    retry_at: Option<DateTime<Utc>>,
) -> QueryResult<()> {
    let status = if retry_at.is_some() {
        "pending"
    } else {
        "failed"
    };
    let query = diesel::update(outbox::table.find(Uid(id))).set((
        outbox::status.eq(status),
        outbox::last_error.eq(error),
        outbox::locked_until.eq(None::<Ts>),
    ));
    query.execute(conn)?;
    if let Some(at) = retry_at {
        diesel::update(outbox::table.find(Uid(id)))
            .set(outbox::next_attempt_at.eq(Ts(at)))
            .execute(conn)?;
    }
    Ok(())
}

/// One page of queued emails, oldest first, optionally with one status.
pub fn list(
    conn: &mut DbConn,
    status: Option<&str>,
    after: Option<Uuid>,
    limit: i64,
) -> QueryResult<Vec<OutboxEmail>> {
    let mut query = outbox::table
        .select(OutboxEmail::as_select())
        .order(outbox::id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(status) = status {
        query = query.filter(outbox::status.eq(status.to_owned()));
    }
    if let Some(after) = after {
        query = query.filter(outbox::id.gt(Uid(after)));
    }
    query.load(conn)
}

/// The queued email with this id.
pub fn find(conn: &mut DbConn, id: Uuid) -> QueryResult<Option<OutboxEmail>> {
    outbox::table
        .find(Uid(id))
        .select(OutboxEmail::as_select())
        .first(conn)
        .optional()
}

/// Puts a failed (or still pending) email back in the queue with a fresh set of attempts; false when it is
/// neither any more (sent meanwhile).
pub fn requeue(conn: &mut DbConn, id: Uuid, now: DateTime<Utc>) -> QueryResult<bool> {
    // Conditional: an email the worker sent meanwhile is not put back in the queue (it would go twice).
    let changed = diesel::update(
        outbox::table
            .find(Uid(id))
            .filter(outbox::status.eq_any(["failed", "pending"])),
    )
    .set((
        outbox::status.eq("pending"),
        outbox::attempts.eq(0),
        outbox::next_attempt_at.eq(Ts(now)),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}

/// How many emails are in each status.
pub fn count_by_status(conn: &mut DbConn) -> QueryResult<Vec<(String, i64)>> {
    outbox::table
        .group_by(outbox::status)
        .select((outbox::status, diesel::dsl::count_star()))
        .load(conn)
}
