//! The members of an organization: listed by its members, invited by its owners (the person accepts or
//! declines through the emailed link), leaving or removed (never the last owner).

use actix_web::{delete, get, post, web, HttpResponse};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::extract::{Caller, Paginated};
use crate::api::input::Input;
use crate::api::invitations::Invitee;
use crate::auth::permissions::MemberRole;
use crate::auth::token;
use crate::db::types::{Ts, Uid};
use crate::error::{Error, Problem};
use crate::service::organizations as use_case;
use crate::state::AppState;
use crate::store::invitations::MemberInvitation;

/// A member of an organization.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberView {
    pub user_id: Uuid,
    pub email: String,
    pub display_name: String,
    pub role: MemberRole,
    pub joined_at: DateTime<Utc>,
}

/// `POST /organizations/{id}/members`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteMember {
    /// Where the invitation goes; the person need not have an account yet.
    #[schema(required = true)]
    pub email: Option<String>,
    /// `owner` or `member`.
    #[schema(required = true)]
    pub role: Option<String>,
    /// Language of the email when the address has no account: `fr` (default) or `en`.
    pub locale: Option<String>,
}

/// An invitation to join an organization, without its token. The answer is the same whether or not
/// the address has an account.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberInvitationView {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub email: String,
    pub role: MemberRole,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

impl From<&MemberInvitation> for MemberInvitationView {
    fn from(invitation: &MemberInvitation) -> Self {
        MemberInvitationView {
            id: *invitation.id,
            organization_id: *invitation.organization_id,
            email: invitation.email.clone(),
            role: invitation.role,
            expires_at: invitation.expires_at.0,
            created_at: invitation.created_at.0,
        }
    }
}

/// The members of an organization (members and administrators).
#[utoipa::path(
    operation_id = "listOrganizationMembers",
    tag = "organizations",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Paginated<MemberView>), (status = 401, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
#[get("/organizations/{id}/members")]
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, Error> {
    let caller = caller.0;
    let id = id.into_inner();
    let members = state
        .db
        .read(move |conn| use_case::members(conn, &caller, id))
        .await?;
    let items: Vec<MemberView> = members
        .into_iter()
        .map(|m| MemberView {
            user_id: *m.user_id,
            email: m.email,
            display_name: m.display_name,
            role: m.role,
            joined_at: m.created_at.0,
        })
        .collect();
    Ok(HttpResponse::Ok().json(Paginated {
        items,
        next_cursor: None,
    }))
}

/// Invites someone to join the organization, or a member to take another role (owners and
/// administrators): they are emailed a one-time link to accept or decline (`POST /invitations/accept`,
/// `/invitations/decline`), and become a member (or change role) only when they accept. The answer says
/// nothing about whether the address has an account.
#[utoipa::path(
    operation_id = "inviteOrganizationMember",
    tag = "organizations",
    params(("id" = Uuid, Path)),
    request_body = InviteMember,
    responses(
        (status = 202, description = "Invitation sent", body = MemberInvitationView),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, description = "Already a member with this role or above (`code`: `already_member`)", body = Problem),
        (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/organizations/{id}/members")]
pub async fn invite(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    input: Input<InviteMember>,
) -> Result<HttpResponse, Error> {
    let caller = caller.0;
    let id = id.into_inner();
    let (body, check) = input.into_parts();
    let fields = (
        body.email.as_deref(),
        body.role.as_deref(),
        body.locale.as_deref(),
    );
    let Invitee {
        email,
        role,
        locale,
    } = Invitee::<MemberRole>::parse(check, fields, "owner or member")?;
    let now = state.clock.now();
    let days = state.settings.auth.invitation_ttl_days;
    let secret = token::generate();
    let invitation = MemberInvitation {
        id: Uid(Uuid::now_v7()),
        organization_id: Uid(id),
        email: email.as_str().to_owned(),
        role,
        invited_by: Some(Uid(caller.user_id)),
        token_hash: token::hash(&secret),
        expires_at: Ts(now + Duration::days(days)),
        accepted_at: None,
        accepted_by: None,
        declined_at: None,
        created_at: Ts(now),
    };
    let view = MemberInvitationView::from(&invitation);
    let state_for_tx = state.clone();
    state
        .db
        .write(move |conn| {
            use_case::invite_member(
                conn,
                &state_for_tx,
                &caller,
                &invitation,
                &secret,
                locale,
                now,
            )
        })
        .await?;
    state.outbox_wakeup.notify_one();
    Ok(HttpResponse::Accepted().json(view))
}

/// Removes a member: a member leaves by removing themself, owners and administrators remove anyone.
/// The last owner cannot leave nor be removed (409 `last_owner`).
#[utoipa::path(
    operation_id = "removeOrganizationMember",
    tag = "organizations",
    params(("id" = Uuid, Path), ("user_id" = Uuid, Path)),
    responses(
        (status = 204, description = "No longer a member"),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, description = "The last owner (`code`: `last_owner`)", body = Problem),
    ),
    security(("bearer" = []))
)]
#[delete("/organizations/{id}/members/{user_id}")]
pub async fn remove(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, Error> {
    let caller = caller.0;
    let (id, member) = path.into_inner();
    let now = state.clock.now();
    state
        .db
        .write(move |conn| use_case::remove_member(conn, &caller, id, member, now))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
