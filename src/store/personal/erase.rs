//! Deleting an account: what goes, what is anonymised, what stays (see `docs/personal-data.md`).

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use super::scope::{self, Scope};
use super::scrub::{json, text, Identity};
use super::structural_audit;
use crate::db::schema::{
    api_tokens, applications, attachments, call_staff, email_tokens, idempotency_keys, invitations,
    organization_invitations, organization_members, organizations, outbox, pairings, reviews,
    users,
};
use crate::db::types::{Ts, Uid};
use crate::db::DbConn;
use crate::domain::delivery::OutboxStatus;
use crate::store::jurors;
use crate::store::users::User;

/// The name a deleted account shows wherever it is still referred to.
pub const DELETED_NAME: &str = "Compte supprimé";

/// The address a deleted account is left with: unique, and undeliverable by definition (`.invalid`).
pub fn deleted_email(user_id: Uuid) -> String {
    format!("deleted-{user_id}@invalid")
}

/// Whether another administrator than `user_id` remains.
pub fn other_admin_exists(conn: &mut DbConn, user_id: Uuid) -> QueryResult<bool> {
    let found: Option<Uid> = users::table
        .filter(users::role.eq(crate::auth::permissions::Role::Admin))
        .filter(users::deleted_at.is_null())
        .filter(users::id.ne(Uid(user_id)))
        .select(users::id)
        .first(conn)
        .optional()?;
    Ok(found.is_some())
}

/// What to remove from the disk once the deletion has committed.
#[derive(Debug, Default)]
pub struct Erased {
    /// Attachment files of the deleted drafts.
    pub files: Vec<String>,
    /// Message ids of the emails emptied or rewritten (their `.eml` copies, with the `file` transport).
    pub emails: Vec<String>,
}

/// Deletes the account `user` in the caller's transaction: its secrets and sessions go, its email and name
/// are replaced in the rows that are theirs or about them (found by identifier, see [`scope`]; never by
/// searching other people's text), its memberships and juries end, and the drafts of organizations it
/// leaves without any member are deleted. Records that a call needs to stay whole (submitted
/// applications, submitted reviews and their scores, conflicts) stay, no longer tied to a person.
/// `unusable_hash` is a password hash that no password matches.
pub fn erase_account(
    conn: &mut DbConn,
    user: &User,
    unusable_hash: &str,
    now: DateTime<Utc>,
) -> QueryResult<Erased> {
    let user_id = *user.id;
    let identity = Identity {
        email: user.email.clone(),
        name: user.display_name.clone(),
        email_placeholder: deleted_email(user_id),
        name_placeholder: DELETED_NAME.into(),
    };
    // Found before anything changes: the memberships end below.
    let scope = scope::of_person(conn, user_id, &user.email)?;

    let files = leave_organizations(conn, user_id)?;
    diesel::update(applications::table.filter(applications::created_by.eq(Uid(user_id))))
        .set(applications::created_by.eq(None::<Uid>))
        .execute(conn)?;
    diesel::update(attachments::table.filter(attachments::uploaded_by.eq(Uid(user_id))))
        .set(attachments::uploaded_by.eq(None::<Uid>))
        .execute(conn)?;

    // Juries: the jury goes on without them; their submitted reviews and conflicts stay so that rankings
    // hold, their unfinished drafts go.
    for call_id in jurors::juries_of(conn, user_id)? {
        jurors::remove_juror(conn, call_id, user_id)?;
    }
    diesel::delete(
        reviews::table
            .filter(reviews::juror_id.eq(Uid(user_id)))
            .filter(reviews::status.ne("submitted")),
    )
    .execute(conn)?;

    // A call's staff: their roles end (who granted what stays in the audit log).
    diesel::delete(call_staff::table.filter(call_staff::user_id.eq(Uid(user_id)))).execute(conn)?;

    // Secrets and sessions.
    diesel::delete(api_tokens::table.filter(api_tokens::user_id.eq(Uid(user_id)))).execute(conn)?;
    diesel::delete(email_tokens::table.filter(email_tokens::user_id.eq(Uid(user_id))))
        .execute(conn)?;
    diesel::delete(idempotency_keys::table.filter(idempotency_keys::user_id.eq(Uid(user_id))))
        .execute(conn)?;
    diesel::delete(
        invitations::table.filter(
            invitations::email
                .eq(&user.email)
                .or(invitations::accepted_by.eq(Uid(user_id))),
        ),
    )
    .execute(conn)?;
    diesel::delete(
        organization_invitations::table.filter(
            organization_invitations::email
                .eq(&user.email)
                .or(organization_invitations::accepted_by.eq(Uid(user_id))),
        ),
    )
    .execute(conn)?;

    // Email to them: what is not sent yet is dropped; copies of what was sent keep only their event,
    // subject, status and dates.
    let to_them = outbox::user_id
        .eq(Uid(user_id))
        .or(outbox::recipient.eq(user.email.clone()));
    let mut emptied: Vec<Uid> = outbox::table
        .filter(to_them.clone())
        .select(outbox::id)
        .load(conn)?;
    diesel::delete(
        outbox::table
            .filter(to_them.clone())
            .filter(outbox::status.eq_any([OutboxStatus::Pending, OutboxStatus::Failed])),
    )
    .execute(conn)?;
    diesel::update(outbox::table.filter(to_them))
        .set((
            outbox::recipient.eq(&identity.email_placeholder),
            outbox::body_text.eq(""),
            outbox::body_html.eq(""),
            outbox::last_error.eq(None::<String>),
        ))
        .execute(conn)?;

    diesel::update(users::table.find(Uid(user_id)))
        .set((
            users::email.eq(&identity.email_placeholder),
            users::display_name.eq(DELETED_NAME),
            users::password_hash.eq(unusable_hash),
            users::role.eq("user"),
            users::email_verified_at.eq(None::<Ts>),
            users::deleted_at.eq(Ts(now)),
            users::updated_at.eq(Ts(now)),
        ))
        .execute(conn)?;

    // Copies of the email and the name in their rows and the rows about them: answers, messages, emails
    // about their applications, snapshots…
    scrub_scope(conn, &identity, &scope, &mut emptied)?;
    // Answers replayed for retries of requests about their applications (others' retries start afresh).
    for application in &scope.applications {
        diesel::delete(
            idempotency_keys::table
                .filter(idempotency_keys::response_body.like(format!("%{}%", application.0))),
        )
        .execute(conn)?;
    }
    let emails = outbox::table
        .filter(outbox::id.eq_any(&emptied))
        .select(outbox::message_id)
        .load(conn)?;
    Ok(Erased { files, emails })
}

/// Replaces the person's email and name in the rows of `scope`; adds the emails it rewrote to `emails`.
fn scrub_scope(
    conn: &mut DbConn,
    identity: &Identity,
    scope: &Scope,
    emails: &mut Vec<Uid>,
) -> QueryResult<()> {
    let tables = [
        (json("applications", "id", "answers"), &scope.applications),
        (
            text("applications", "id", "screening_reason"),
            &scope.applications,
        ),
        (
            text("applications", "id", "withdrawn_reason"),
            &scope.applications,
        ),
        (
            text("decisions", "application_id", "motivation"),
            &scope.applications,
        ),
        (text("attachments", "id", "filename"), &scope.attachments),
        (text("application_messages", "id", "body"), &scope.messages),
        (text("conflicts", "id", "reason"), &scope.conflicts),
        (text("reviews", "id", "comment"), &scope.reviews),
        (json("audit_log", "id", "before"), &scope.audit),
        (json("audit_log", "id", "after"), &scope.audit),
        (json("events", "id", "data"), &scope.events),
        (
            text("webhook_deliveries", "id", "payload"),
            &scope.deliveries,
        ),
        (
            text("webhook_deliveries", "id", "last_error"),
            &scope.deliveries,
        ),
        (text("webhooks", "id", "description"), &scope.webhooks),
    ];
    for (column, keys) in tables {
        identity.scrub_rows(conn, &column, keys)?;
    }
    for column in ["subject", "body_text", "body_html", "last_error"] {
        let changed = identity.scrub_rows(conn, &text("outbox", "id", column), &scope.emails)?;
        emails.extend(changed);
    }
    Ok(())
}

/// Ends the user's memberships. Organizations left without any member lose their drafts (nobody can finish
/// them) and, when nothing refers to them any more, are deleted; their submitted applications stay for the
/// integrity of the calls. Returns the attachment files of the deleted drafts.
fn leave_organizations(conn: &mut DbConn, user_id: Uuid) -> QueryResult<Vec<String>> {
    let organizations_of_user: Vec<Uid> = organization_members::table
        .filter(organization_members::user_id.eq(Uid(user_id)))
        .select(organization_members::organization_id)
        .load(conn)?;
    diesel::delete(
        organization_members::table.filter(organization_members::user_id.eq(Uid(user_id))),
    )
    .execute(conn)?;
    let still_staffed: HashSet<Uid> = organization_members::table
        .filter(organization_members::organization_id.eq_any(&organizations_of_user))
        .select(organization_members::organization_id)
        .load::<Uid>(conn)?
        .into_iter()
        .collect();
    let orphans: Vec<Uid> = organizations_of_user
        .into_iter()
        .filter(|id| !still_staffed.contains(id))
        .collect();
    if orphans.is_empty() {
        return Ok(Vec::new());
    }

    let drafts: Vec<Uid> = applications::table
        .filter(applications::organization_id.eq_any(&orphans))
        .filter(applications::status.eq("draft"))
        .select(applications::id)
        .load(conn)?;
    let files: Vec<String> = attachments::table
        .filter(attachments::application_id.eq_any(&drafts))
        .select(attachments::storage_name)
        .load(conn)?;
    for draft in &drafts {
        structural_audit(conn, "application", **draft)?;
    }
    // Their files, messages and reminders go with them (ON DELETE CASCADE).
    diesel::delete(applications::table.filter(applications::id.eq_any(&drafts))).execute(conn)?;

    for organization in orphans {
        let applied: Option<Uid> = applications::table
            .filter(applications::organization_id.eq(organization))
            .select(applications::id)
            .first(conn)
            .optional()?;
        let partner: Option<Uid> = pairings::table
            .filter(pairings::partner_organization_id.eq(organization))
            .select(pairings::id)
            .first(conn)
            .optional()?;
        if applied.is_none() && partner.is_none() {
            structural_audit(conn, "organization", *organization)?;
            diesel::delete(organizations::table.find(organization)).execute(conn)?;
        }
    }
    Ok(files)
}
