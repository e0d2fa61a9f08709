//! Invitations for administrators and jurors, accepted through a one-time link.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::schema::invitations;
use crate::db::types::{Ts, Uid};
use crate::db::DbConn;

/// An invitation as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = invitations)]
pub struct Invitation {
    pub id: Uid,
    pub email: String,
    pub role: String,
    pub call_id: Option<Uid>,
    pub invited_by: Option<Uid>,
    pub token_hash: String,
    pub expires_at: Ts,
    pub accepted_at: Option<Ts>,
    pub accepted_by: Option<Uid>,
    pub created_at: Ts,
}

/// Stores a new invitation.
pub fn insert(conn: &mut DbConn, invitation: &Invitation) -> QueryResult<()> {
    diesel::insert_into(invitations::table)
        .values(invitation)
        .execute(conn)
        .map(|_| ())
}

/// The live (unaccepted, unexpired) invitation with this token hash.
pub fn find_live(
    conn: &mut DbConn,
    token_hash: &str,
    now: DateTime<Utc>,
) -> QueryResult<Option<Invitation>> {
    invitations::table
        .filter(invitations::token_hash.eq(token_hash))
        .filter(invitations::accepted_at.is_null())
        .filter(invitations::expires_at.gt(Ts(now)))
        .select(Invitation::as_select())
        .first(conn)
        .optional()
}

/// Marks the invitation accepted by `user_id`; false if someone accepted it first.
pub fn accept(conn: &mut DbConn, id: Uuid, user_id: Uuid, now: DateTime<Utc>) -> QueryResult<bool> {
    let changed = diesel::update(
        invitations::table
            .find(Uid(id))
            .filter(invitations::accepted_at.is_null()),
    )
    .set((
        invitations::accepted_at.eq(Ts(now)),
        invitations::accepted_by.eq(Uid(user_id)),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}
