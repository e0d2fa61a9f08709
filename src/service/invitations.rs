//! Invitations: staff invite administrators, jurors and a call's managers and observers, owners invite members; the person accepts (which
//! creates or takes over the account of the address and gives what the invitation offers) or declines
//! through the emailed one-time link. Each function runs in the caller's transaction and writes the audit
//! entry and the email of its change there.

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;

use crate::auth::permissions::{MemberRole, Role};
use crate::db::DbConn;
use crate::domain::account::{DisplayName, Locale, StaffRole};
use crate::domain::action::Action;
use crate::error::Error;
use crate::notify::{self, emails, Email};
use crate::state::AppState;
use crate::store::invitations::{self, Invitation, Live};
use crate::store::journal::{Entity, Happened};
use crate::store::users::{self, User};
use crate::store::{calls, email_tokens, jurors, organizations, tokens};

/// The 422 of an invitation link that is unknown, used or expired.
pub fn unusable_invitation() -> Error {
    Error::field(
        "token",
        "invalid_token",
        "this invitation is unknown, used or expired",
    )
}

/// The language of an invitation: the invitee's when the address has an account, else the one asked for.
fn invitation_locale(invitee: Option<&User>, asked: Option<Locale>) -> &'static str {
    match invitee {
        Some(user) if user.locale == "en" => "en",
        Some(_) => "fr",
        None => asked.unwrap_or_default().as_str(),
    }
}

/// Queues the invitation email to `to` (`invitee`: the account of the address, if any).
#[allow(clippy::too_many_arguments)]
pub fn send_invitation(
    conn: &mut DbConn,
    state: &AppState,
    to: &str,
    invitee: Option<&User>,
    locale: Option<Locale>,
    call_id: Option<Uuid>,
    context: &emails::Invitation,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let email = Email::of(
        context,
        to,
        invitee.map(|u| *u.id),
        call_id,
        invitation_locale(invitee, locale),
    )?;
    notify::queue(conn, &state.templates, &state.settings.email, email, now)
}

/// Stores a staff invitation from `actor` and emails `secret`'s link to the invited address.
pub fn create(
    conn: &mut DbConn,
    state: &AppState,
    actor: Uuid,
    invitation: &Invitation,
    secret: &str,
    locale: Option<Locale>,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let inviter = users::find(conn, actor)?.ok_or(Error::NotFound)?;
    let invitee = users::find_by_email(conn, &invitation.email)?;
    let call = match invitation.call_id {
        Some(call_id) => Some(
            calls::find(conn, *call_id)?
                .ok_or_else(|| Error::field("call_id", "unknown_call", "no call has this id"))?,
        ),
        None => None,
    };
    invitations::insert(conn, invitation).context("storing the invitation")?;
    let context = emails::Invitation {
        inviter_name: inviter.display_name,
        role: invitation.role.to_string(),
        link: state.link_with_token("/invitations/accept", secret),
        token: secret.to_owned(),
        expires_in_days: state.settings.auth.invitation_ttl_days,
        // The call a manager or an observer is invited to (a juror's stays unnamed, as before).
        call_title: call
            .filter(|_| invitation.role.call_role().is_some())
            .map(|c| {
                let locale = invitation_locale(invitee.as_ref(), locale);
                crate::notify::applications::localized(&c.title_text(), locale)
            }),
        organization_name: None,
    };
    let call_id = invitation.call_id.map(|c| *c);
    let to = &invitation.email;
    send_invitation(
        conn,
        state,
        to,
        invitee.as_ref(),
        locale,
        call_id,
        &context,
        now,
    )?;
    Happened::new(
        Action::InvitationCreated,
        Some(actor),
        Entity::Invitation(*invitation.id),
    )
    .after(
        json!({"email": invitation.email, "role": invitation.role, "call_id": invitation.call_id}),
    )
    .record(conn, now)
    .context("recording the invitation")?;
    Ok(())
}

/// The live invitation of a token (hashed), and the account its address already has.
pub fn find_live(
    conn: &mut DbConn,
    hash: &str,
    now: DateTime<Utc>,
) -> Result<(Live, Option<User>), Error> {
    let live = invitations::find_live(conn, hash, now)?.ok_or_else(unusable_invitation)?;
    let existing = users::find_by_email(conn, live.email())?;
    Ok((live, existing))
}

/// What accepting does to the account of the invited address.
pub enum Account {
    /// A new account, its address verified by the invitation.
    New(Box<User>),
    /// The existing account; a new password (and name) when the request was not made as that account.
    Existing {
        user_id: Uuid,
        password_hash: Option<String>,
        display_name: Option<DisplayName>,
    },
}

/// Accepts a live invitation for `account`: creates or updates the account (a new password ends every
/// earlier session), marks the address verified, gives what the invitation offers and flags the conflicts
/// a new member brings. Returns the account as it is now.
pub fn accept(
    conn: &mut DbConn,
    state: &AppState,
    live: &Live,
    account: Account,
    now: DateTime<Utc>,
) -> Result<User, Error> {
    let user_id = match account {
        Account::New(user) => {
            users::insert(conn, &user)?;
            *user.id
        }
        Account::Existing {
            user_id,
            password_hash,
            display_name,
        } => {
            if let Some(hash) = password_hash {
                users::set_password(conn, user_id, &hash, now).context("setting the password")?;
                email_tokens::consume_all(conn, user_id, email_tokens::Purpose::PasswordReset, now)
                    .context("withdrawing the reset links")?;
                tokens::revoke_all_for_user(conn, user_id, now).context("ending the sessions")?;
            }
            if let Some(name) = display_name {
                users::set_display_name(conn, user_id, name.as_str(), now)
                    .context("setting the name")?;
            }
            user_id
        }
    };
    if !invitations::accept(conn, live, user_id, now)? {
        return Err(unusable_invitation());
    }
    // The invitation's link reached the address: it is verified.
    users::mark_verified(conn, user_id, now).context("marking the address verified")?;
    grant(conn, live, user_id, now)?;
    if let Live::Member(invitation) = live {
        // A new member who would put an assigned juror in conflict is flagged to staff, never applied.
        let organization_id = *invitation.organization_id;
        crate::service::conflicts::after_organization_change(
            conn,
            state,
            organization_id,
            user_id,
            now,
        )?;
    }
    users::find(conn, user_id)?.ok_or(Error::NotFound)
}

/// Gives the account what the accepted invitation offers, and records it.
fn grant(conn: &mut DbConn, live: &Live, user_id: Uuid, now: DateTime<Utc>) -> Result<(), Error> {
    let (entity, after) = match live {
        Live::Staff(invitation) => {
            if invitation.role == StaffRole::Admin {
                users::set_role(conn, user_id, Role::Admin, now).context("making an admin")?;
            }
            if let (StaffRole::Juror, Some(call_id)) = (invitation.role, invitation.call_id) {
                if calls::find(conn, *call_id)?.is_some() {
                    let added_by = invitation.invited_by.map(|u| u.0);
                    jurors::add_juror(conn, *call_id, user_id, json!([]), added_by, now)?;
                }
            }
            if let (Some(role), Some(call_id)) = (invitation.role.call_role(), invitation.call_id) {
                let invited_by = invitation.invited_by.map(|u| u.0);
                crate::service::staff::grant(conn, *call_id, user_id, role, invited_by, now)?;
            }
            let after =
                json!({"user_id": user_id, "role": invitation.role, "call_id": invitation.call_id});
            (Entity::Invitation(*invitation.id), after)
        }
        Live::Member(invitation) => {
            let organization_id = *invitation.organization_id;
            let role = invitation.role;
            match organizations::membership(conn, organization_id, user_id)? {
                None => organizations::add_member(conn, organization_id, user_id, role, now)?,
                // An owner invited as a member stays an owner: the organization keeps its owners.
                Some(MemberRole::Member) if role == MemberRole::Owner => {
                    organizations::set_member_role(conn, organization_id, user_id, role)?
                }
                Some(_) => {}
            }
            let after = json!({"user_id": user_id, "role": invitation.role, "organization_id": organization_id});
            (Entity::OrganizationInvitation(*invitation.id), after)
        }
    };
    Happened::new(Action::InvitationAccepted, Some(user_id), entity)
        .after(after)
        .record(conn, now)
        .context("recording the acceptance")?;
    Ok(())
}

/// Declines the live invitation of a token (hashed): its link stops working, nothing is given.
pub fn decline(conn: &mut DbConn, hash: &str, now: DateTime<Utc>) -> Result<(), Error> {
    let live = invitations::find_live(conn, hash, now)?.ok_or_else(unusable_invitation)?;
    if !invitations::decline(conn, &live, now)? {
        return Err(unusable_invitation());
    }
    let entity = match &live {
        Live::Staff(invitation) => Entity::Invitation(*invitation.id),
        Live::Member(invitation) => Entity::OrganizationInvitation(*invitation.id),
    };
    Happened::new(Action::InvitationDeclined, None, entity)
        .record(conn, now)
        .context("recording the refusal")?;
    Ok(())
}
