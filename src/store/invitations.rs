//! Invitations sent by email and accepted (or declined) through a one-time link: administrators and
//! jurors invited by staff, members invited by an organization's owners.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::auth::permissions::MemberRole;
use crate::db::schema::{invitations, organization_invitations};
use crate::db::types::{Ts, Uid};
use crate::db::DbConn;
use crate::domain::account::StaffRole;

/// An invitation to become an administrator or a juror, as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = invitations)]
pub struct Invitation {
    pub id: Uid,
    pub email: String,
    pub role: StaffRole,
    pub call_id: Option<Uid>,
    pub invited_by: Option<Uid>,
    pub token_hash: String,
    pub expires_at: Ts,
    pub accepted_at: Option<Ts>,
    pub accepted_by: Option<Uid>,
    pub created_at: Ts,
    pub declined_at: Option<Ts>,
}

/// An invitation to join an organization, as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = organization_invitations)]
pub struct MemberInvitation {
    pub id: Uid,
    pub organization_id: Uid,
    pub email: String,
    pub role: MemberRole,
    pub invited_by: Option<Uid>,
    pub token_hash: String,
    pub expires_at: Ts,
    pub accepted_at: Option<Ts>,
    pub accepted_by: Option<Uid>,
    pub declined_at: Option<Ts>,
    pub created_at: Ts,
}

/// A live invitation of either kind, found by its token.
#[derive(Debug, Clone)]
pub enum Live {
    Staff(Invitation),
    Member(MemberInvitation),
}

impl Live {
    /// The address the invitation was sent to.
    pub fn email(&self) -> &str {
        match self {
            Live::Staff(invitation) => &invitation.email,
            Live::Member(invitation) => &invitation.email,
        }
    }
}

/// Stores a new invitation.
pub fn insert(conn: &mut DbConn, invitation: &Invitation) -> QueryResult<()> {
    diesel::insert_into(invitations::table)
        .values(invitation)
        .execute(conn)
        .map(|_| ())
}

/// Stores a new invitation to join an organization.
pub fn insert_member(conn: &mut DbConn, invitation: &MemberInvitation) -> QueryResult<()> {
    diesel::insert_into(organization_invitations::table)
        .values(invitation)
        .execute(conn)
        .map(|_| ())
}

/// The live (neither accepted nor declined, unexpired) invitation of either kind with this token hash.
pub fn find_live(
    conn: &mut DbConn,
    token_hash: &str,
    now: DateTime<Utc>,
) -> QueryResult<Option<Live>> {
    let staff = invitations::table
        .filter(invitations::token_hash.eq(token_hash))
        .filter(invitations::accepted_at.is_null())
        .filter(invitations::declined_at.is_null())
        .filter(invitations::expires_at.gt(Ts(now)))
        .select(Invitation::as_select())
        .first(conn)
        .optional()?;
    if let Some(invitation) = staff {
        return Ok(Some(Live::Staff(invitation)));
    }
    organization_invitations::table
        .filter(organization_invitations::token_hash.eq(token_hash))
        .filter(organization_invitations::accepted_at.is_null())
        .filter(organization_invitations::declined_at.is_null())
        .filter(organization_invitations::expires_at.gt(Ts(now)))
        .select(MemberInvitation::as_select())
        .first(conn)
        .optional()
        .map(|found| found.map(Live::Member))
}

/// Marks the invitation accepted by `user_id`; false if it was accepted or declined first.
pub fn accept(
    conn: &mut DbConn,
    live: &Live,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    let changed = match live {
        Live::Staff(invitation) => diesel::update(
            invitations::table
                .find(invitation.id)
                .filter(invitations::accepted_at.is_null())
                .filter(invitations::declined_at.is_null()),
        )
        .set((
            invitations::accepted_at.eq(Ts(now)),
            invitations::accepted_by.eq(Uid(user_id)),
        ))
        .execute(conn)?,
        Live::Member(invitation) => diesel::update(
            organization_invitations::table
                .find(invitation.id)
                .filter(organization_invitations::accepted_at.is_null())
                .filter(organization_invitations::declined_at.is_null()),
        )
        .set((
            organization_invitations::accepted_at.eq(Ts(now)),
            organization_invitations::accepted_by.eq(Uid(user_id)),
        ))
        .execute(conn)?,
    };
    Ok(changed == 1)
}

/// Marks the invitation declined; false if it was accepted or declined first.
pub fn decline(conn: &mut DbConn, live: &Live, now: DateTime<Utc>) -> QueryResult<bool> {
    let changed = match live {
        Live::Staff(invitation) => diesel::update(
            invitations::table
                .find(invitation.id)
                .filter(invitations::accepted_at.is_null())
                .filter(invitations::declined_at.is_null()),
        )
        .set(invitations::declined_at.eq(Ts(now)))
        .execute(conn)?,
        Live::Member(invitation) => diesel::update(
            organization_invitations::table
                .find(invitation.id)
                .filter(organization_invitations::accepted_at.is_null())
                .filter(organization_invitations::declined_at.is_null()),
        )
        .set(organization_invitations::declined_at.eq(Ts(now)))
        .execute(conn)?,
    };
    Ok(changed == 1)
}
