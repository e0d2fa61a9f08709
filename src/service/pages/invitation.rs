//! What the invitation page (`GET /invitations/accept?token=`) shows before the person accepts: what they
//! are invited to be, for which call or organization, and whether their address has an account already.

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::auth::permissions::MemberRole;
use crate::db::DbConn;
use crate::domain::account::StaffRole;
use crate::error::Error;
use crate::notify::applications::localized;
use crate::service::invitations::find_live;
use crate::store::invitations::Live;
use crate::store::{calls, organizations};

/// A live invitation, as the page describes it.
#[derive(Debug, Serialize)]
pub struct InvitationSummary {
    /// The address it was sent to.
    pub email: String,
    /// What the person is invited to be, in words.
    pub role_words: &'static str,
    /// The call a juror, manager or observer is invited to, when there is one.
    pub call_title: Option<String>,
    /// The organization a member is invited to join.
    pub organization_name: Option<String>,
    /// Whether the address has an account already (then: log in to accept, or choose a new password).
    pub has_account: bool,
}

/// The live invitation of a token (hashed), described in `lang` (422 `invalid_token` when unknown, used or
/// expired, as the API answers).
pub fn describe(
    conn: &mut DbConn,
    hash: &str,
    now: DateTime<Utc>,
    lang: &str,
) -> Result<InvitationSummary, Error> {
    let (live, existing) = find_live(conn, hash, now)?;
    let (role_words, call_title, organization_name) = match &live {
        Live::Staff(invitation) => {
            let call_title = match invitation.call_id {
                Some(call_id) => calls::find(conn, *call_id)
                    .context("loading the invitation's call")?
                    .map(|call| localized(&call.title_text(), lang)),
                None => None,
            };
            (staff_role_words(invitation.role, lang), call_title, None)
        }
        Live::Member(invitation) => {
            let organization = organizations::find(conn, *invitation.organization_id)
                .context("loading the invitation's organization")?
                .map(|o| o.legal_name);
            (member_role_words(invitation.role, lang), None, organization)
        }
    };
    Ok(InvitationSummary {
        email: live.email().to_owned(),
        role_words,
        call_title,
        organization_name,
        has_account: existing.is_some(),
    })
}

/// A staff role as the invited person reads it.
fn staff_role_words(role: StaffRole, lang: &str) -> &'static str {
    match (role, lang == "en") {
        (StaffRole::Admin, true) => "an administrator",
        (StaffRole::Admin, false) => "administrateur·rice",
        (StaffRole::Juror, true) => "a jury member",
        (StaffRole::Juror, false) => "membre du jury",
        (StaffRole::Manager, true) => "a manager",
        (StaffRole::Manager, false) => "responsable",
        (StaffRole::Observer, true) => "an observer",
        (StaffRole::Observer, false) => "observateur·rice",
    }
}

/// A role in an organization as the invited person reads it.
fn member_role_words(role: MemberRole, lang: &str) -> &'static str {
    match (role, lang == "en") {
        (MemberRole::Owner, true) => "an owner of the organization",
        (MemberRole::Owner, false) => "propriétaire de l'organisation",
        (MemberRole::Member, true) => "a member of the organization",
        (MemberRole::Member, false) => "membre de l'organisation",
    }
}
