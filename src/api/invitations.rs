//! Invitations: administrators invite other administrators and jurors by email.

use actix_web::{post, web, HttpResponse};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::accounts::{check_password, UserView};
use crate::api::extract::Caller;
use crate::api::input::Input;
use crate::auth::permissions::Role;
use crate::auth::token;
use crate::db::types::{Ts, Uid};
use crate::domain::account::{DisplayName, EmailAddress, Locale};
use crate::domain::identifiers::InvalidValue;
use crate::error::{Error, Problem};
use crate::notify::{self, templates::Event, Email};
use crate::state::AppState;
use crate::store::audit::{self, Change};
use crate::store::invitations::{self, Invitation};
use crate::store::users::{self, User};

/// `POST /invitations`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateInvitation {
    #[schema(required = true)]
    pub email: Option<String>,
    /// `admin` or `juror`.
    #[schema(required = true)]
    pub role: Option<String>,
    /// The call whose jury a juror joins.
    pub call_id: Option<Uuid>,
    /// Language of the invitation email when the address has no account yet: `fr` (default) or `en`.
    pub locale: Option<String>,
}

/// An invitation, without its token.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationView {
    pub id: Uuid,
    pub email: String,
    pub role: String,
    pub call_id: Option<Uuid>,
    pub expires_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

/// Invites someone to become an administrator or a juror; emails them a one-time link.
#[utoipa::path(
    tag = "accounts",
    request_body = CreateInvitation,
    responses(
        (status = 201, body = InvitationView), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/invitations")]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    input: Input<CreateInvitation>,
) -> Result<HttpResponse, Error> {
    let caller = caller.0;
    caller.require_admin()?;
    let (body, mut check) = input.into_parts();
    let email = check.required("email", body.email.as_deref(), EmailAddress::parse);
    let role = check.required("role", body.role.as_deref(), |r| match r {
        "admin" | "juror" => Ok(r.to_owned()),
        _ => Err(InvalidValue::new("invalid_role", "admin or juror")),
    });
    let locale = check.optional("locale", body.locale.as_deref(), Locale::parse);
    let (Some(email), Some(role)) = (email, role) else {
        return Err(check.into_error());
    };
    check.finish()?;

    let now = state.clock.now();
    let days = state.settings.auth.invitation_ttl_days;
    let secret = token::generate();
    let invitation = Invitation {
        id: Uid(Uuid::now_v7()),
        email: email.as_str().to_owned(),
        role,
        call_id: body.call_id.map(Uid),
        invited_by: Some(Uid(caller.user_id)),
        token_hash: token::hash(&secret),
        expires_at: Ts(now + Duration::days(days)),
        accepted_at: None,
        accepted_by: None,
        created_at: Ts(now),
    };
    let view = InvitationView {
        id: *invitation.id,
        email: invitation.email.clone(),
        role: invitation.role.clone(),
        call_id: invitation.call_id.map(|c| c.0),
        expires_at: invitation.expires_at.0,
        created_at: now,
    };
    let state2 = state.clone();
    state
        .db
        .write(move |conn| {
            let state = state2;
            let inviter = users::find(conn, caller.user_id)?.ok_or(Error::NotFound)?;
            let invitee = users::find_by_email(conn, &invitation.email)?;
            let locale = invitee.as_ref().map_or(locale.unwrap_or_default().as_str(), |u| {
                if u.locale == "en" { "en" } else { "fr" }
            });
            invitations::insert(conn, &invitation)?;
            let context = json!({
                "inviter_name": inviter.display_name,
                "role": invitation.role,
                "link": state.link_with_token("/invitations/accept", &secret),
                "token": secret,
                "expires_in_days": days,
                "call_title": null,
            });
            let email = Email {
                event: Event::Invitation,
                to: &invitation.email,
                user_id: invitee.as_ref().map(|u| *u.id),
                call_id: invitation.call_id.map(|c| *c),
                locale,
                context,
            };
            notify::queue(conn, &state.templates, &state.settings.email, email, now)?;
            audit::record(
                conn,
                Change {
                    actor_id: Some(caller.user_id),
                    action: "invitation.created",
                    entity_type: "invitation",
                    entity_id: *invitation.id,
                    before: None,
                    after: Some(json!({"email": invitation.email, "role": invitation.role, "call_id": invitation.call_id})),
                },
                now,
            )?;
            Ok(())
        })
        .await?;
    state.outbox_wakeup.notify_one();
    Ok(HttpResponse::Created().json(view))
}

/// `POST /invitations/accept`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptInvitation {
    #[schema(required = true)]
    pub token: Option<String>,
    /// Required when the address has no account yet.
    pub display_name: Option<String>,
    /// Required when the address has no account yet.
    pub password: Option<String>,
}

/// Accepts an invitation: creates the account (its email counts as verified), or gives the role to the
/// existing account of that address.
#[utoipa::path(
    tag = "accounts",
    request_body = AcceptInvitation,
    responses((status = 201, body = UserView), (status = 422, description = "Unknown, used or expired token, or invalid fields", body = Problem))
)]
#[post("/invitations/accept")]
pub async fn accept(
    state: web::Data<AppState>,
    input: Input<AcceptInvitation>,
) -> Result<HttpResponse, Error> {
    let (body, mut check) = input.into_parts();
    let Some(secret) = check.required("token", body.token.as_deref(), |t| Ok(t.trim().to_owned()))
    else {
        return Err(check.into_error());
    };
    let now = state.clock.now();
    let hash = token::hash(&secret);
    let lookup = hash.clone();
    let (invitation, existing) = state
        .db
        .read(move |conn| {
            let invitation = invitations::find_live(conn, &lookup, now)?.ok_or_else(|| {
                Error::field(
                    "token",
                    "invalid_token",
                    "this invitation is unknown, used or expired",
                )
            })?;
            let existing = users::find_by_email(conn, &invitation.email)?;
            Ok((invitation, existing))
        })
        .await?;

    let new_account = match existing {
        Some(_) => {
            check.finish()?;
            None
        }
        None => {
            let email = EmailAddress::parse(&invitation.email).ok();
            let name = check.required(
                "display_name",
                body.display_name.as_deref(),
                DisplayName::parse,
            );
            let password = check_password(&mut check, body.password.as_deref(), email.as_ref());
            let (Some(name), Some(password)) = (name, password) else {
                return Err(check.into_error());
            };
            check.finish()?;
            let hash = state.hasher.hash(password.into_secret()).await?;
            Some(User {
                id: Uid(Uuid::now_v7()),
                email: invitation.email.clone(),
                password_hash: hash,
                display_name: name.as_str().to_owned(),
                locale: Locale::default().as_str().to_owned(),
                role: Role::User.as_str().to_owned(),
                email_verified_at: Some(Ts(now)),
                created_at: Ts(now),
                updated_at: Ts(now),
            })
        }
    };
    let user = state
        .db
        .write(move |conn| {
            let user = match new_account {
                Some(user) => {
                    users::insert(conn, &user)?;
                    user
                }
                None => users::find_by_email(conn, &invitation.email)?.ok_or(Error::NotFound)?,
            };
            if !invitations::accept(conn, *invitation.id, *user.id, now)? {
                return Err(Error::field("token", "invalid_token", "this invitation is unknown, used or expired"));
            }
            if invitation.role == "admin" {
                users::set_role(conn, *user.id, Role::Admin.as_str(), now)?;
            }
            if let (true, Some(call_id)) = (invitation.role == "juror", invitation.call_id) {
                if crate::store::calls::find(conn, *call_id)?.is_some() {
                    crate::store::evaluation::add_juror(conn, *call_id, *user.id, serde_json::json!([]), invitation.invited_by.map(|u| u.0), now)?;
                }
            }
            users::mark_verified(conn, *user.id, now)?;
            audit::record(
                conn,
                Change {
                    actor_id: Some(*user.id),
                    action: "invitation.accepted",
                    entity_type: "invitation",
                    entity_id: *invitation.id,
                    before: None,
                    after: Some(json!({"user_id": user.id, "role": invitation.role, "call_id": invitation.call_id})),
                },
                now,
            )?;
            users::find(conn, *user.id)?.ok_or(Error::NotFound)
        })
        .await?;
    // The role may have changed: tokens already in use must carry it at once.
    state.token_cache.forget_user(*user.id);
    Ok(HttpResponse::Created().json(UserView::from(&user)))
}
