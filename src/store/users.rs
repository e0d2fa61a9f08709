//! Accounts.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::auth::permissions::Role;
use crate::db::schema::users;
use crate::db::types::{Ts, Uid};
use crate::db::DbConn;

/// An account as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: Uid,
    pub email: String,
    pub password_hash: String,
    pub display_name: String,
    pub locale: String,
    pub role: Role,
    pub email_verified_at: Option<Ts>,
    pub created_at: Ts,
    pub updated_at: Ts,
}

/// Stores a new account.
pub fn insert(conn: &mut DbConn, user: &User) -> QueryResult<()> {
    diesel::insert_into(users::table)
        .values(user)
        .execute(conn)
        .map(|_| ())
}

/// The account with this id.
pub fn find(conn: &mut DbConn, id: Uuid) -> QueryResult<Option<User>> {
    users::table
        .find(Uid(id))
        .select(User::as_select())
        .first(conn)
        .optional()
}

/// The account with this (normalised) email.
pub fn find_by_email(conn: &mut DbConn, email: &str) -> QueryResult<Option<User>> {
    users::table
        .filter(users::email.eq(email))
        .select(User::as_select())
        .first(conn)
        .optional()
}

/// Replaces the password hash.
pub fn set_password(
    conn: &mut DbConn,
    id: Uuid,
    hash: &str,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(users::table.find(Uid(id)))
        .set((users::password_hash.eq(hash), users::updated_at.eq(Ts(now))))
        .execute(conn)
        .map(|_| ())
}

/// Replaces the display name.
pub fn set_display_name(
    conn: &mut DbConn,
    id: Uuid,
    name: &str,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(users::table.find(Uid(id)))
        .set((users::display_name.eq(name), users::updated_at.eq(Ts(now))))
        .execute(conn)
        .map(|_| ())
}

/// Records that the owner of the account proved they read its mailbox.
pub fn mark_verified(conn: &mut DbConn, id: Uuid, now: DateTime<Utc>) -> QueryResult<()> {
    diesel::update(
        users::table
            .find(Uid(id))
            .filter(users::email_verified_at.is_null()),
    )
    .set((
        users::email_verified_at.eq(Ts(now)),
        users::updated_at.eq(Ts(now)),
    ))
    .execute(conn)
    .map(|_| ())
}

/// Changes the platform role.
pub fn set_role(conn: &mut DbConn, id: Uuid, role: Role, now: DateTime<Utc>) -> QueryResult<()> {
    diesel::update(users::table.find(Uid(id)))
        .set((users::role.eq(role), users::updated_at.eq(Ts(now))))
        .execute(conn)
        .map(|_| ())
}

/// Every administrator, to tell staff about applicants' messages.
pub fn admins(conn: &mut DbConn) -> QueryResult<Vec<User>> {
    users::table
        .filter(users::role.eq(Role::Admin))
        .order(users::id.asc())
        .select(User::as_select())
        .load(conn)
}
