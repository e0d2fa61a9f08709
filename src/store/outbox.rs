//! The transactional outbox: emails written in the same transaction as the change that causes them,
//! then claimed and delivered by the worker.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::auth::token;
use crate::db::schema::{email_tokens, invitations, outbox};
use crate::db::types::{Ts, Uid};
use crate::db::DbConn;
use crate::domain::delivery::OutboxStatus;
use crate::notify::links;

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
    pub status: OutboxStatus,
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
                .eq(OutboxStatus::Pending)
                .and(outbox::next_attempt_at.le(Ts(now))))
            .or(outbox::status
                .eq(OutboxStatus::Sending)
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
            outbox::status.eq(OutboxStatus::Sending),
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

/// Records the delivery of `email` (as claimed); the one-time links it carried are removed from its copy.
pub fn mark_sent(conn: &mut DbConn, email: &OutboxEmail, now: DateTime<Utc>) -> QueryResult<()> {
    remove_links(conn, email)?;
    diesel::update(outbox::table.find(email.id))
        .set((
            outbox::status.eq(OutboxStatus::Sent),
            outbox::sent_at.eq(Ts(now)),
            outbox::locked_until.eq(None::<Ts>),
            outbox::last_error.eq(None::<String>),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Replaces the secrets of the one-time links in the stored copy of `email` by markers (see
/// `notify::links`). The claimed email is what is stored: nothing rewrites a row while it is being sent.
fn remove_links(conn: &mut DbConn, email: &OutboxEmail) -> QueryResult<()> {
    let (r_subject, r_text, r_html) = (
        links::redact(&email.subject),
        links::redact(&email.body_text),
        links::redact(&email.body_html),
    );
    if r_subject.is_none() && r_text.is_none() && r_html.is_none() {
        return Ok(());
    }
    diesel::update(outbox::table.find(email.id))
        .set((
            outbox::subject.eq(r_subject.unwrap_or_else(|| email.subject.clone())),
            outbox::body_text.eq(r_text.unwrap_or_else(|| email.body_text.clone())),
            outbox::body_html.eq(r_html.unwrap_or_else(|| email.body_html.clone())),
        ))
        .execute(conn)
        .map(|_| ())
}

/// What a retry found of the one-time links a failed email carried.
#[derive(Debug, PartialEq, Eq)]
pub enum Links {
    /// The email carried none, or they were renewed: a fresh secret and expiry, written into the email.
    Ready,
    /// A link was used, withdrawn or replaced since: the person needs a new one.
    Gone,
}

/// How long renewed links live.
#[derive(Debug, Clone, Copy)]
pub struct LinkLifetimes {
    pub verification: Duration,
    pub password_reset: Duration,
    pub invitation: Duration,
}

/// Renews the one-time links removed from the stored email `id` when it failed for good: each token row
/// (address verification, password reset or invitation) still unused gets a new secret and expiry, and the
/// email carries the new secret again. The old secret no longer works.
pub fn renew_links(
    conn: &mut DbConn,
    id: Uuid,
    lifetimes: LinkLifetimes,
    now: DateTime<Utc>,
) -> QueryResult<Links> {
    let Some(email) = find(conn, id)? else {
        return Ok(Links::Ready);
    };
    let mut hashes = links::removed(&email.body_text);
    for hash in links::removed(&email.body_html)
        .into_iter()
        .chain(links::removed(&email.subject))
    {
        if !hashes.contains(&hash) {
            hashes.push(hash);
        }
    }
    let (mut subject, mut text, mut html) = (email.subject, email.body_text, email.body_html);
    for hash in hashes {
        let secret = token::generate();
        let fresh = token::hash(&secret);
        let purpose: Option<String> = email_tokens::table
            .filter(email_tokens::token_hash.eq(&hash))
            .filter(email_tokens::used_at.is_null())
            .select(email_tokens::purpose)
            .first(conn)
            .optional()?;
        let renewed = match purpose.as_deref() {
            Some(purpose) => {
                let lifetime = if purpose == "password_reset" {
                    lifetimes.password_reset
                } else {
                    lifetimes.verification
                };
                diesel::update(
                    email_tokens::table
                        .filter(email_tokens::token_hash.eq(&hash))
                        .filter(email_tokens::used_at.is_null()),
                )
                .set((
                    email_tokens::token_hash.eq(&fresh),
                    email_tokens::expires_at.eq(Ts(now + lifetime)),
                ))
                .execute(conn)?
            }
            None => diesel::update(
                invitations::table
                    .filter(invitations::token_hash.eq(&hash))
                    .filter(invitations::accepted_at.is_null()),
            )
            .set((
                invitations::token_hash.eq(&fresh),
                invitations::expires_at.eq(Ts(now + lifetimes.invitation)),
            ))
            .execute(conn)?,
        };
        if renewed == 0 {
            return Ok(Links::Gone);
        }
        subject = links::restore(&subject, &hash, &secret);
        text = links::restore(&text, &hash, &secret);
        html = links::restore(&html, &hash, &secret);
    }
    diesel::update(outbox::table.find(Uid(id)))
        .set((
            outbox::subject.eq(subject),
            outbox::body_text.eq(text),
            outbox::body_html.eq(html),
        ))
        .execute(conn)?;
    Ok(Links::Ready)
}

/// Records a failed attempt: retried at `retry_at`, or `failed` for good when `retry_at` is `None` (its
/// one-time links are then removed from its copy).
pub fn mark_attempt_failed(
    conn: &mut DbConn,
    email: &OutboxEmail,
    error: &str,
    retry_at: Option<DateTime<Utc>>,
) -> QueryResult<()> {
    let status = if retry_at.is_some() {
        OutboxStatus::Pending
    } else {
        OutboxStatus::Failed
    };
    let query = diesel::update(outbox::table.find(email.id)).set((
        outbox::status.eq(status),
        outbox::last_error.eq(error),
        outbox::locked_until.eq(None::<Ts>),
    ));
    query.execute(conn)?;
    if retry_at.is_none() {
        // Failed for good: its links are no longer kept in clear (a retry renews them).
        remove_links(conn, email)?;
    }
    if let Some(at) = retry_at {
        diesel::update(outbox::table.find(email.id))
            .set(outbox::next_attempt_at.eq(Ts(at)))
            .execute(conn)?;
    }
    Ok(())
}

/// One page of queued emails, oldest first, optionally with one status.
pub fn list(
    conn: &mut DbConn,
    status: Option<OutboxStatus>,
    after: Option<Uuid>,
    limit: i64,
) -> QueryResult<Vec<OutboxEmail>> {
    let mut query = outbox::table
        .select(OutboxEmail::as_select())
        .order(outbox::id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(status) = status {
        query = query.filter(outbox::status.eq(status));
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
            .filter(outbox::status.eq_any([OutboxStatus::Failed, OutboxStatus::Pending])),
    )
    .set((
        outbox::status.eq(OutboxStatus::Pending),
        outbox::attempts.eq(0),
        outbox::next_attempt_at.eq(Ts(now)),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}

/// How many emails are in each status.
pub fn count_by_status(conn: &mut DbConn) -> QueryResult<Vec<(OutboxStatus, i64)>> {
    outbox::table
        .group_by(outbox::status)
        .select((outbox::status, diesel::dsl::count_star()))
        .load(conn)
}
