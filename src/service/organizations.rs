//! Organizations and their members: creating one (the creator owns it), changing it (one organization per
//! legal entity, conflicts of interest it brings flagged to staff), inviting members, members leaving or
//! removed (never the last owner). Each function runs in the caller's transaction, checks the caller's
//! access in `auth::permissions`, and writes the audit entry and the email of its change there.

use anyhow::Context;
use chrono::{DateTime, Utc};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use serde_json::json;
use uuid::Uuid;

use crate::auth::permissions::{
    can_edit_organization, can_read_organization, can_remove_member, MemberRole, Principal,
};
use crate::db::DbConn;
use crate::domain::account::Locale;
use crate::domain::action::Action;
use crate::error::Error;
use crate::notify::emails;
use crate::service::invitations::send_invitation;
use crate::state::AppState;
use crate::store::invitations::{self, MemberInvitation};
use crate::store::journal::{Entity, Happened};
use crate::store::organizations::{self, Member, Organization, Removal};
use crate::store::users;

/// An organization the caller may read, with the caller's role in it (404 for anyone else).
pub fn load_readable(
    conn: &mut DbConn,
    caller: &Principal,
    id: Uuid,
) -> Result<(Organization, Option<MemberRole>), Error> {
    let role = organizations::membership(conn, id, caller.user_id)?;
    can_read_organization(caller, role)?;
    let organization = organizations::find(conn, id)?.ok_or(Error::NotFound)?;
    Ok((organization, role))
}

/// The members of an organization the caller may read.
pub fn members(conn: &mut DbConn, caller: &Principal, id: Uuid) -> Result<Vec<Member>, Error> {
    load_readable(conn, caller, id)?;
    Ok(organizations::members(conn, id)?)
}

/// Stores a new organization owned by `owner` (409 `organization_exists` when its SIRET or SIREN is
/// registered already).
pub fn create(
    conn: &mut DbConn,
    owner: Uuid,
    org: &Organization,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    refuse_taken_identity(conn, org, None)?;
    organizations::insert(conn, org).map_err(identity_conflict_or)?;
    organizations::add_member(conn, *org.id, owner, MemberRole::Owner, now)
        .context("making the creator its owner")?;
    Happened::new(
        Action::OrganizationCreated,
        Some(owner),
        Entity::Organization(*org.id),
    )
    .after(serde_json::to_value(org).map_err(anyhow::Error::from)?)
    .record(conn, now)
    .context("recording the organization")?;
    Ok(())
}

/// Changes an organization (owners and administrators): `change` checks the caller's version and gives the
/// organization after the change. The conflicts of interest the change brings are flagged to staff.
/// Returns the organization as changed, with the caller's role in it.
pub fn update(
    conn: &mut DbConn,
    state: &AppState,
    caller: &Principal,
    id: Uuid,
    change: impl FnOnce(&Organization) -> Result<Organization, Error>,
    now: DateTime<Utc>,
) -> Result<(Organization, Option<MemberRole>), Error> {
    let role = organizations::membership(conn, id, caller.user_id)?;
    can_edit_organization(caller, role)?;
    let before = organizations::find(conn, id)?.ok_or(Error::NotFound)?;
    let after = change(&before)?;
    refuse_taken_identity(conn, &after, Some(id))?;
    let updated =
        organizations::update(conn, &after, before.version).map_err(identity_conflict_or)?;
    if !updated {
        return Err(Error::PreconditionFailed);
    }
    Happened::new(
        Action::OrganizationUpdated,
        Some(caller.user_id),
        Entity::Organization(id),
    )
    .before(serde_json::to_value(&before).map_err(anyhow::Error::from)?)
    .after(serde_json::to_value(&after).map_err(anyhow::Error::from)?)
    .record(conn, now)
    .context("recording the change")?;
    // A change that would put an assigned juror in conflict is flagged to staff, never applied.
    crate::service::conflicts::after_organization_change(conn, state, id, caller.user_id, now)?;
    Ok((after, role))
}

/// 409 `organization_exists` when another organization already holds this SIRET (or, without SIRET, this
/// SIREN): one organization per legal entity, which its owners share by inviting their colleagues.
fn refuse_taken_identity(
    conn: &mut DbConn,
    org: &Organization,
    except: Option<Uuid>,
) -> Result<(), Error> {
    if organizations::identity_taken(conn, org.siret.as_deref(), org.siren.as_deref(), except)? {
        return Err(identity_conflict());
    }
    Ok(())
}

fn identity_conflict() -> Error {
    Error::refused(
        "organization_exists",
        "an organization with this SIRET (or SIREN) is already registered: ask its owners to invite \
         you (POST /api/v1/organizations/{id}/members)",
    )
}

/// A unique-index violation at write time is the identity taken at the same moment.
fn identity_conflict_or(error: DieselError) -> Error {
    match error {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => identity_conflict(),
        other => other.into(),
    }
}

/// Stores an invitation to join the organization (owners and administrators) and emails `secret`'s link
/// to the invited address. 409 `already_member` when the person has this role or above already.
pub fn invite_member(
    conn: &mut DbConn,
    state: &AppState,
    caller: &Principal,
    invitation: &MemberInvitation,
    secret: &str,
    locale: Option<Locale>,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let id = *invitation.organization_id;
    let caller_role = organizations::membership(conn, id, caller.user_id)?;
    can_edit_organization(caller, caller_role)?;
    let organization = organizations::find(conn, id)?.ok_or(Error::NotFound)?;
    let inviter = users::find(conn, caller.user_id)?.ok_or(Error::NotFound)?;
    let invitee = users::find_by_email(conn, &invitation.email)?;
    if let Some(invitee) = &invitee {
        // An invitation can make a member an owner, never the reverse.
        let current = organizations::membership(conn, id, *invitee.id)?;
        if current == Some(invitation.role) || current == Some(MemberRole::Owner) {
            return Err(Error::refused(
                "already_member",
                "this person is already a member with this role or above",
            ));
        }
    }
    invitations::insert_member(conn, invitation).context("storing the invitation")?;
    let context = emails::Invitation {
        inviter_name: inviter.display_name,
        role: invitation.role.to_string(),
        link: state.link_with_token("/invitations/accept", secret),
        token: secret.to_owned(),
        expires_in_days: state.settings.auth.invitation_ttl_days,
        call_title: None,
        organization_name: Some(organization.legal_name.clone()),
    };
    let to = &invitation.email;
    send_invitation(
        conn,
        state,
        to,
        invitee.as_ref(),
        locale,
        None,
        &context,
        now,
    )?;
    Happened::new(
        Action::OrganizationMemberInvited,
        Some(caller.user_id),
        Entity::Organization(id),
    )
    .after(
        json!({"invitation_id": invitation.id, "email": invitation.email, "role": invitation.role}),
    )
    .record(conn, now)
    .context("recording the invitation")?;
    Ok(())
}

/// Removes `member` from the organization: a member leaving, or removed by an owner or administrator.
/// 409 `last_owner` for the last owner.
pub fn remove_member(
    conn: &mut DbConn,
    caller: &Principal,
    id: Uuid,
    member: Uuid,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let caller_role = organizations::membership(conn, id, caller.user_id)?;
    can_remove_member(caller, caller_role, member)?;
    match organizations::remove_member(conn, id, member)? {
        Removal::Removed => {}
        Removal::NotAMember => return Err(Error::NotFound),
        Removal::LastOwner => {
            return Err(Error::refused(
                "last_owner",
                "the last owner cannot leave: invite another owner first",
            ))
        }
    }
    let action = if member == caller.user_id {
        Action::OrganizationMemberLeft
    } else {
        Action::OrganizationMemberRemoved
    };
    Happened::new(action, Some(caller.user_id), Entity::Organization(id))
        .before(json!({"user_id": member}))
        .record(conn, now)
        .context("recording the departure")?;
    Ok(())
}
