//! The staff of a call: who manages or observes it (partners of a joint call, say), one role per person.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::schema::{call_staff, users};
use crate::db::types::{Ts, Uid};
use crate::db::DbConn;
use crate::domain::account::CallRole;
use crate::store::users::User;

/// A member of a call's staff, with the account's public facts.
#[derive(Debug, Clone, Queryable)]
pub struct StaffMember {
    pub user_id: Uid,
    pub email: String,
    pub display_name: String,
    pub role: CallRole,
    pub added_by: Option<Uid>,
    pub created_at: Ts,
}

/// The caller's role on the call's staff, if any.
pub fn role_of(conn: &mut DbConn, call_id: Uuid, user_id: Uuid) -> QueryResult<Option<CallRole>> {
    call_staff::table
        .find((Uid(call_id), Uid(user_id)))
        .select(call_staff::role)
        .first(conn)
        .optional()
}

/// Gives `user_id` the role `role` on the call's staff, replacing the one they had there.
pub fn set_role(
    conn: &mut DbConn,
    call_id: Uuid,
    user_id: Uuid,
    role: CallRole,
    added_by: Option<Uuid>,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::delete(call_staff::table.find((Uid(call_id), Uid(user_id)))).execute(conn)?;
    diesel::insert_into(call_staff::table)
        .values((
            call_staff::call_id.eq(Uid(call_id)),
            call_staff::user_id.eq(Uid(user_id)),
            call_staff::role.eq(role),
            call_staff::added_by.eq(added_by.map(Uid)),
            call_staff::created_at.eq(Ts(now)),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Removes `user_id` from the call's staff; the role they had, or `None` when they had none.
pub fn remove(conn: &mut DbConn, call_id: Uuid, user_id: Uuid) -> QueryResult<Option<CallRole>> {
    let role = role_of(conn, call_id, user_id)?;
    diesel::delete(call_staff::table.find((Uid(call_id), Uid(user_id)))).execute(conn)?;
    Ok(role)
}

/// A page of the call's staff in user-id order: those after `after`, at most `limit`.
pub fn page(
    conn: &mut DbConn,
    call_id: Uuid,
    after: Option<Uuid>,
    limit: i64,
) -> QueryResult<Vec<StaffMember>> {
    let mut query = call_staff::table
        .inner_join(users::table)
        .filter(call_staff::call_id.eq(Uid(call_id)))
        .order(call_staff::user_id.asc())
        .limit(limit)
        .select((
            call_staff::user_id,
            users::email,
            users::display_name,
            call_staff::role,
            call_staff::added_by,
            call_staff::created_at,
        ))
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(call_staff::user_id.gt(Uid(after)));
    }
    query.load(conn)
}

/// The calls where the user has a staff role, with that role, in call-id order.
pub fn roles_of(conn: &mut DbConn, user_id: Uuid) -> QueryResult<Vec<(Uuid, CallRole)>> {
    let rows: Vec<(Uid, CallRole)> = call_staff::table
        .filter(call_staff::user_id.eq(Uid(user_id)))
        .order(call_staff::call_id.asc())
        .select((call_staff::call_id, call_staff::role))
        .load(conn)?;
    Ok(rows.into_iter().map(|(id, role)| (id.0, role)).collect())
}

/// The accounts of the call's managers, in id order (who is told what the call's staff is told).
pub fn managers_of(conn: &mut DbConn, call_id: Uuid) -> QueryResult<Vec<User>> {
    call_staff::table
        .inner_join(users::table)
        .filter(call_staff::call_id.eq(Uid(call_id)))
        .filter(call_staff::role.eq(CallRole::Manager))
        .order(users::id.asc())
        .select(User::as_select())
        .load(conn)
}
