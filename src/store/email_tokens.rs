//! One-time links sent by email: address verification and password reset.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::schema::email_tokens;
use crate::db::types::{Ts, Uid};
use crate::db::DbConn;

/// What a one-time link is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    VerifyEmail,
    PasswordReset,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::VerifyEmail => "verify_email",
            Purpose::PasswordReset => "password_reset",
        }
    }
}

/// Stores the hash of a new one-time token for `user_id`.
pub fn insert(
    conn: &mut DbConn,
    user_id: Uuid,
    purpose: Purpose,
    token_hash: &str,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::insert_into(email_tokens::table)
        .values((
            email_tokens::id.eq(Uid(Uuid::now_v7())),
            email_tokens::user_id.eq(Uid(user_id)),
            email_tokens::purpose.eq(purpose.as_str()),
            email_tokens::token_hash.eq(token_hash),
            email_tokens::expires_at.eq(Ts(expires_at)),
            email_tokens::created_at.eq(Ts(now)),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Uses up a live token: returns its user, or `None` when the token is unknown, used or expired.
pub fn consume(
    conn: &mut DbConn,
    purpose: Purpose,
    token_hash: &str,
    now: DateTime<Utc>,
) -> QueryResult<Option<Uuid>> {
    let found: Option<(Uid, Uid)> = email_tokens::table
        .filter(email_tokens::token_hash.eq(token_hash))
        .filter(email_tokens::purpose.eq(purpose.as_str()))
        .filter(email_tokens::used_at.is_null())
        .filter(email_tokens::expires_at.gt(Ts(now)))
        .select((email_tokens::id, email_tokens::user_id))
        .first(conn)
        .optional()?;
    let Some((id, user_id)) = found else {
        return Ok(None);
    };
    let used = diesel::update(
        email_tokens::table
            .find(id)
            .filter(email_tokens::used_at.is_null()),
    )
    .set(email_tokens::used_at.eq(Ts(now)))
    .execute(conn)?;
    Ok((used == 1).then_some(user_id.0))
}

/// Uses up every live token of this purpose for the user (a newer one replaces them, or a reset happened).
pub fn consume_all(
    conn: &mut DbConn,
    user_id: Uuid,
    purpose: Purpose,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(
        email_tokens::table
            .filter(email_tokens::user_id.eq(Uid(user_id)))
            .filter(email_tokens::purpose.eq(purpose.as_str()))
            .filter(email_tokens::used_at.is_null()),
    )
    .set(email_tokens::used_at.eq(Ts(now)))
    .execute(conn)
    .map(|_| ())
}

/// The user of a live token, without using it up.
pub fn peek(
    conn: &mut DbConn,
    purpose: Purpose,
    token_hash: &str,
    now: DateTime<Utc>,
) -> QueryResult<Option<Uuid>> {
    email_tokens::table
        .filter(email_tokens::token_hash.eq(token_hash))
        .filter(email_tokens::purpose.eq(purpose.as_str()))
        .filter(email_tokens::used_at.is_null())
        .filter(email_tokens::expires_at.gt(Ts(now)))
        .select(email_tokens::user_id)
        .first::<Uid>(conn)
        .optional()
        .map(|found| found.map(|id| id.0))
}
