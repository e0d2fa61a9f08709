//! Invitations: administrators invite other administrators and jurors by email.

use actix_web::{post, web, HttpResponse};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::accounts::{check_password, UserView};
use crate::api::extract::{Admin, SignedIn};
use crate::api::input::Input;
use crate::auth::permissions::{MemberRole, Role};
use crate::auth::token;
use crate::db::types::{Ts, Uid};
use crate::domain::account::{DisplayName, EmailAddress, Locale, StaffRole};
use crate::domain::identifiers::InvalidValue;
use crate::error::{Error, FieldError, Problem};
use crate::notify::{self, templates::Event, Email};
use crate::state::AppState;
use crate::store::audit::{self, Change};
use crate::store::invitations::{self, Invitation, Live};
use crate::store::users::{self, User};
use crate::store::{email_tokens, organizations, tokens};

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
    Admin(caller): Admin,
    input: Input<CreateInvitation>,
) -> Result<HttpResponse, Error> {
    let (body, mut check) = input.into_parts();
    let email = check.required("email", body.email.as_deref(), EmailAddress::parse);
    let role = check.required("role", body.role.as_deref(), |r| {
        r.parse::<StaffRole>()
            .map_err(|_| InvalidValue::new("invalid_role", "admin or juror"))
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
        declined_at: None,
    };
    let view = InvitationView {
        id: *invitation.id,
        email: invitation.email.clone(),
        role: invitation.role.as_str().to_owned(),
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
    /// Required when the address has no account yet; when it has one, replaces its name if given.
    pub display_name: Option<String>,
    /// Required when the address has no account yet, and when it has one but the request is not made
    /// as that account: the new password then replaces the old one and every earlier session ends.
    pub password: Option<String>,
}

/// What accepting does to the account of the invited address.
enum Account {
    /// A new account, its address verified by the invitation.
    New(Box<User>),
    /// The existing account; a new password (and name) when the request was not made as that account.
    Existing {
        user_id: Uuid,
        password_hash: Option<String>,
        display_name: Option<DisplayName>,
    },
}

fn unusable_invitation() -> Error {
    Error::field(
        "token",
        "invalid_token",
        "this invitation is unknown, used or expired",
    )
}

/// Accepts an invitation (administrator, juror, or member of an organization). Without an account, it
/// creates one (its email counts as verified). With an account, the request must be made as that account
/// (its bearer token), or set a new password, which ends every earlier session of the account: whoever
/// registered the address before its owner keeps nothing.
#[utoipa::path(
    tag = "accounts",
    request_body = AcceptInvitation,
    responses(
        (status = 201, body = UserView),
        (status = 409, description = "The account was created at the same moment", body = Problem),
        (status = 422, description = "Unknown, used or expired token, or invalid fields", body = Problem),
    ),
    security((), ("bearer" = []))
)]
#[post("/invitations/accept")]
pub async fn accept(
    state: web::Data<AppState>,
    caller: Option<SignedIn>,
    input: Input<AcceptInvitation>,
) -> Result<HttpResponse, Error> {
    let (body, mut check) = input.into_parts();
    let Some(secret) = check.required("token", body.token.as_deref(), |t| Ok(t.trim().to_owned()))
    else {
        return Err(check.into_error());
    };
    let now = state.clock.now();
    let hash = token::hash(&secret);
    let (live, existing) = state
        .db
        .read(move |conn| {
            let live = invitations::find_live(conn, &hash, now)?.ok_or_else(unusable_invitation)?;
            let existing = users::find_by_email(conn, live.email())?;
            Ok((live, existing))
        })
        .await?;
    let email = EmailAddress::parse(live.email()).ok();
    let caller_id = caller.map(|c| c.0.user_id);
    let account = match existing {
        Some(user) if body.password.is_none() && caller_id == Some(*user.id) => {
            check.finish()?;
            Account::Existing {
                user_id: *user.id,
                password_hash: None,
                display_name: None,
            }
        }
        Some(user) => {
            let display_name = check.optional(
                "display_name",
                body.display_name.as_deref(),
                DisplayName::parse,
            );
            if body.password.is_none() {
                check.push(FieldError::new(
                    "password",
                    "required",
                    "this address has an account: accept while logged in as it, or choose a new password \
                     (every earlier session of the account then ends)",
                ));
            }
            let password = check_password(&mut check, body.password.as_deref(), email.as_ref());
            let Some(password) = password else {
                return Err(check.into_error());
            };
            check.finish()?;
            let hash = state.hasher.hash(password.into_secret()).await?;
            Account::Existing {
                user_id: *user.id,
                password_hash: Some(hash),
                display_name,
            }
        }
        None => {
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
            Account::New(Box::new(User {
                id: Uid(Uuid::now_v7()),
                email: live.email().to_owned(),
                password_hash: hash,
                display_name: name.as_str().to_owned(),
                locale: Locale::default().as_str().to_owned(),
                role: Role::User,
                email_verified_at: Some(Ts(now)),
                created_at: Ts(now),
                updated_at: Ts(now),
            }))
        }
    };
    let state_for_tx = state.clone();
    let user = state
        .db
        .write(move |conn| {
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
                        users::set_password(conn, user_id, &hash, now)?;
                        email_tokens::consume_all(
                            conn,
                            user_id,
                            email_tokens::Purpose::PasswordReset,
                            now,
                        )?;
                        tokens::revoke_all_for_user(conn, user_id, now)?;
                    }
                    if let Some(name) = display_name {
                        users::set_display_name(conn, user_id, name.as_str(), now)?;
                    }
                    user_id
                }
            };
            if !invitations::accept(conn, &live, user_id, now)? {
                return Err(unusable_invitation());
            }
            // The invitation's link reached the address: it is verified.
            users::mark_verified(conn, user_id, now)?;
            grant(conn, &live, user_id, now)?;
            if let Live::Member(invitation) = &live {
                // A new member who would put an assigned juror in conflict is flagged to staff, never applied.
                crate::service::conflicts::after_organization_change(
                    conn,
                    &state_for_tx,
                    *invitation.organization_id,
                    user_id,
                    now,
                )?;
            }
            users::find(conn, user_id)?.ok_or(Error::NotFound)
        })
        .await?;
    // The role may have changed, and sessions may have ended: tokens already in use must follow at once.
    state.token_cache.forget_user(*user.id);
    Ok(HttpResponse::Created().json(UserView::from(&user)))
}

/// Gives the account what the accepted invitation offers, and records it.
fn grant(
    conn: &mut crate::db::DbConn,
    live: &Live,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let (entity_type, entity_id, after) = match live {
        Live::Staff(invitation) => {
            if invitation.role == StaffRole::Admin {
                users::set_role(conn, user_id, Role::Admin, now)?;
            }
            if let (StaffRole::Juror, Some(call_id)) = (invitation.role, invitation.call_id) {
                if crate::store::calls::find(conn, *call_id)?.is_some() {
                    let added_by = invitation.invited_by.map(|u| u.0);
                    crate::store::jurors::add_juror(
                        conn,
                        *call_id,
                        user_id,
                        json!([]),
                        added_by,
                        now,
                    )?;
                }
            }
            let after =
                json!({"user_id": user_id, "role": invitation.role, "call_id": invitation.call_id});
            ("invitation", *invitation.id, after)
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
            ("organization_invitation", *invitation.id, after)
        }
    };
    audit::record(
        conn,
        Change {
            actor_id: Some(user_id),
            action: "invitation.accepted",
            entity_type,
            entity_id,
            before: None,
            after: Some(after),
        },
        now,
    )?;
    Ok(())
}

/// `POST /invitations/decline`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeclineInvitation {
    #[schema(required = true)]
    pub token: Option<String>,
}

/// Declines an invitation: its link stops working and nothing is given to anyone.
#[utoipa::path(
    tag = "accounts",
    request_body = DeclineInvitation,
    responses(
        (status = 204, description = "Declined"),
        (status = 422, description = "Unknown, used or expired token", body = Problem),
    )
)]
#[post("/invitations/decline")]
pub async fn decline(
    state: web::Data<AppState>,
    input: Input<DeclineInvitation>,
) -> Result<HttpResponse, Error> {
    let (body, mut check) = input.into_parts();
    let Some(secret) = check.required("token", body.token.as_deref(), |t| Ok(t.trim().to_owned()))
    else {
        return Err(check.into_error());
    };
    check.finish()?;
    let now = state.clock.now();
    let hash = token::hash(&secret);
    state
        .db
        .write(move |conn| {
            let live = invitations::find_live(conn, &hash, now)?.ok_or_else(unusable_invitation)?;
            if !invitations::decline(conn, &live, now)? {
                return Err(unusable_invitation());
            }
            let (entity_type, entity_id) = match &live {
                Live::Staff(invitation) => ("invitation", *invitation.id),
                Live::Member(invitation) => ("organization_invitation", *invitation.id),
            };
            audit::record(
                conn,
                Change {
                    actor_id: None,
                    action: "invitation.declined",
                    entity_type,
                    entity_id,
                    before: None,
                    after: None,
                },
                now,
            )?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
