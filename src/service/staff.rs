//! The staff of a call as use cases: what a caller may do on a call (their [`CallAccess`], loaded once per
//! request), listing the staff, removing someone, and giving the role an accepted invitation offers. The
//! rules themselves are in [`crate::auth::permissions`] (`can_manage_call`, `can_observe_call`, …).

use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;

use crate::auth::permissions::{
    can_list_call_staff, can_manage_call, can_observe_call, can_read_call, CallAccess, Principal,
};
use crate::db::DbConn;
use crate::domain::account::CallRole;
use crate::domain::action::Action;
use crate::domain::call::CallStatus;
use crate::error::Error;
use crate::store::calls::{self, Call};
use crate::store::journal::{Entity, Happened};
use crate::store::staff::{self, StaffMember};

/// The caller's access to call `call_id`: their role on its staff, if any (administrators need none).
pub fn load_call_access(
    conn: &mut DbConn,
    caller: &Principal,
    call_id: Uuid,
) -> Result<CallAccess, Error> {
    Ok(CallAccess::of(staff::role_of(
        conn,
        call_id,
        caller.user_id,
    )?))
}

/// The call, if `caller` may act on it as staff ([`can_manage_call`]); 404 for an unknown call.
pub fn managed_call(conn: &mut DbConn, caller: &Principal, call_id: Uuid) -> Result<Call, Error> {
    let call = calls::find(conn, call_id)?.ok_or(Error::NotFound)?;
    can_manage_call(caller, &load_call_access(conn, caller, call_id)?)?;
    Ok(call)
}

/// The call, if `caller` may read it as staff ([`can_observe_call`]); 404 for an unknown call.
pub fn observed_call(conn: &mut DbConn, caller: &Principal, call_id: Uuid) -> Result<Call, Error> {
    let call = calls::find(conn, call_id)?.ok_or(Error::NotFound)?;
    can_observe_call(caller, &load_call_access(conn, caller, call_id)?)?;
    Ok(call)
}

/// The call with this id or slug, if `caller` may read it ([`can_read_call`]: a draft only administrators and
/// its own staff; others are told it does not exist).
pub fn readable_call(
    conn: &mut DbConn,
    caller: Option<&Principal>,
    id_or_slug: &str,
) -> Result<Call, Error> {
    let call = calls::find_by_id_or_slug(conn, id_or_slug)?.ok_or(Error::NotFound)?;
    let access = match caller {
        Some(caller) if call.status == CallStatus::Draft => {
            load_call_access(conn, caller, *call.id)?
        }
        _ => CallAccess::default(),
    };
    if can_read_call(caller, call.status, &access) {
        Ok(call)
    } else {
        Err(Error::NotFound)
    }
}

/// A page of the call's staff, for administrators and its managers ([`can_list_call_staff`]).
pub fn page(
    conn: &mut DbConn,
    caller: &Principal,
    call_id: Uuid,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<StaffMember>, Error> {
    calls::find(conn, call_id)?.ok_or(Error::NotFound)?;
    can_list_call_staff(caller, &load_call_access(conn, caller, call_id)?)?;
    Ok(staff::page(conn, call_id, after, limit)?)
}

/// Gives `user_id` the role `role` on call `call_id` (an accepted invitation), and records it. A call deleted
/// since the invitation gives nothing.
pub fn grant(
    conn: &mut DbConn,
    call_id: Uuid,
    user_id: Uuid,
    role: CallRole,
    invited_by: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    if calls::find(conn, call_id)?.is_none() {
        return Ok(());
    }
    let before = staff::role_of(conn, call_id, user_id)?;
    staff::set_role(conn, call_id, user_id, role, invited_by, now)?;
    Happened::new(Action::StaffAdded, Some(user_id), Entity::Call(call_id))
        .before(json!({"user_id": user_id, "role": before}))
        .after(json!({"user_id": user_id, "role": role}))
        .record(conn, now)?;
    Ok(())
}

/// Removes `user_id` from the staff of call `call_id` (an administrator's act; 404 when they have no role
/// there), and records it. Their access ends with the transaction: every request loads it afresh.
pub fn remove(
    conn: &mut DbConn,
    actor: Uuid,
    call_id: Uuid,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let Some(role) = staff::remove(conn, call_id, user_id)? else {
        return Err(Error::NotFound);
    };
    Happened::new(Action::StaffRemoved, Some(actor), Entity::Call(call_id))
        .before(json!({"user_id": user_id, "role": role}))
        .record(conn, now)?;
    Ok(())
}
