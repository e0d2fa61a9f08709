//! Idempotency keys: the first request with a key is remembered with its answer, so that a retry replays it.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::schema::idempotency_keys;
use crate::db::types::{Ts, Uid};
use crate::db::DbConn;

/// What a new request with a key may do.
#[derive(Debug, PartialEq, Eq)]
pub enum Claim {
    /// The key is new (or its first request died long ago): run the request.
    Run,
    /// The first request with this key is still running.
    InFlight,
    /// The key was used for a different request.
    Mismatch,
    /// The first request finished: replay its answer.
    Replay { status: i32, body: String },
}

/// Claims `key` for the request whose hash is `request_hash`. A claim older than `stale_before` that never
/// finished (its server died) is taken over.
pub fn claim(
    conn: &mut DbConn,
    user_id: Uuid,
    key: &str,
    route: &str,
    request_hash: &str,
    now: DateTime<Utc>,
    stale_before: DateTime<Utc>,
) -> QueryResult<Claim> {
    let row = (
        idempotency_keys::user_id.eq(Uid(user_id)),
        idempotency_keys::key.eq(key),
        idempotency_keys::route.eq(route),
        idempotency_keys::request_hash.eq(request_hash),
        idempotency_keys::created_at.eq(Ts(now)),
    );
    let insert = diesel::insert_into(idempotency_keys::table).values(row);
    let inserted = crate::on_backend!(conn, |c| insert.on_conflict_do_nothing().execute(c)?);
    if inserted == 1 {
        return Ok(Claim::Run);
    }
    let (hash, status, body, created_at): (String, Option<i32>, Option<String>, Ts) =
        idempotency_keys::table
            .find((Uid(user_id), key))
            .select((
                idempotency_keys::request_hash,
                idempotency_keys::response_status,
                idempotency_keys::response_body,
                idempotency_keys::created_at,
            ))
            .first(conn)?;
    if hash != request_hash {
        return Ok(Claim::Mismatch);
    }
    match (status, body) {
        (Some(status), Some(body)) => Ok(Claim::Replay { status, body }),
        _ if created_at.0 < stale_before => {
            diesel::update(idempotency_keys::table.find((Uid(user_id), key)))
                .set(idempotency_keys::created_at.eq(Ts(now)))
                .execute(conn)?;
            Ok(Claim::Run)
        }
        _ => Ok(Claim::InFlight),
    }
}

/// Records the answer of the request that claimed `key`.
pub fn finish(
    conn: &mut DbConn,
    user_id: Uuid,
    key: &str,
    status: i32,
    body: &str,
) -> QueryResult<()> {
    diesel::update(idempotency_keys::table.find((Uid(user_id), key)))
        .set((
            idempotency_keys::response_status.eq(status),
            idempotency_keys::response_body.eq(body),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Forgets a claim whose request failed, so that the client may retry with the same key.
pub fn release(conn: &mut DbConn, user_id: Uuid, key: &str) -> QueryResult<()> {
    diesel::delete(idempotency_keys::table.find((Uid(user_id), key)))
        .execute(conn)
        .map(|_| ())
}
