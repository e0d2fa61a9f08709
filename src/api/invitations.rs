//! Invitations: administrators invite other administrators, jurors and a call's managers and observers by
//! email.

use actix_web::{post, web, HttpResponse};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::accounts::{check_password, UserView};
use crate::api::extract::{Admin, SignedIn};
use crate::api::input::{Check, Input};
use crate::auth::permissions::Role;
use crate::auth::token;
use crate::db::types::{Ts, Uid};
use crate::domain::account::{DisplayName, EmailAddress, Locale, StaffRole};
use crate::domain::identifiers::InvalidValue;
use crate::error::{Error, FieldError, Problem};
use crate::service::invitations::{self as use_case, Account};
use crate::state::AppState;
use crate::store::invitations::{Invitation, Live};
use crate::store::users::User;

/// `POST /invitations`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateInvitation {
    #[schema(required = true)]
    pub email: Option<String>,
    /// `admin`, `juror`, `manager` or `observer`.
    #[schema(required = true)]
    pub role: Option<String>,
    /// The call whose jury a juror joins, or whose staff a manager or an observer joins (required for them).
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

impl From<&Invitation> for InvitationView {
    fn from(invitation: &Invitation) -> Self {
        InvitationView {
            id: *invitation.id,
            email: invitation.email.clone(),
            role: invitation.role.as_str().to_owned(),
            call_id: invitation.call_id.map(|c| c.0),
            expires_at: invitation.expires_at.0,
            created_at: invitation.created_at.0,
        }
    }
}

/// Who is invited, with which role and in which language: what a staff invitation and an organization's
/// invitation both ask for.
pub struct Invitee<R> {
    pub email: EmailAddress,
    pub role: R,
    pub locale: Option<Locale>,
}

impl<R: std::str::FromStr> Invitee<R> {
    /// Checks the `email`, `role` and `locale` fields (`roles` names the accepted roles in the 422), or
    /// answers every one that is wrong.
    pub fn parse(
        mut check: Check,
        (email, role, locale): (Option<&str>, Option<&str>, Option<&str>),
        roles: &'static str,
    ) -> Result<Invitee<R>, Error> {
        let email = check.required("email", email, EmailAddress::parse);
        let role = check.required("role", role, |r| {
            r.parse::<R>()
                .map_err(|_| InvalidValue::new("invalid_role", roles))
        });
        let locale = check.optional("locale", locale, Locale::parse);
        let (Some(email), Some(role)) = (email, role) else {
            return Err(check.into_error());
        };
        check.finish()?;
        Ok(Invitee {
            email,
            role,
            locale,
        })
    }
}

/// Invites someone to become an administrator, a juror, or a manager or observer of one call (`call_id`
/// required for these two); emails them a one-time link.
#[utoipa::path(
    operation_id = "createInvitation",
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
    let on_a_call = body
        .role
        .as_deref()
        .and_then(|r| r.parse::<StaffRole>().ok());
    if on_a_call.and_then(StaffRole::call_role).is_some() && body.call_id.is_none() {
        check.push(FieldError::new(
            "call_id",
            "required",
            "a manager or an observer is invited to one call: name it",
        ));
    }
    let fields = (
        body.email.as_deref(),
        body.role.as_deref(),
        body.locale.as_deref(),
    );
    let Invitee {
        email,
        role,
        locale,
    } = Invitee::<StaffRole>::parse(check, fields, "admin, juror, manager or observer")?;
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
    let view = InvitationView::from(&invitation);
    let state_for_tx = state.clone();
    let actor = caller.user_id;
    state
        .db
        .write(move |conn| {
            use_case::create(
                conn,
                &state_for_tx,
                actor,
                &invitation,
                &secret,
                locale,
                now,
            )
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

/// Accepts an invitation (administrator, juror, or member of an organization). Without an account, it
/// creates one (its email counts as verified). With an account, the request must be made as that account
/// (its bearer token), or set a new password, which ends every earlier session of the account: whoever
/// registered the address before its owner keeps nothing.
#[utoipa::path(
    operation_id = "acceptInvitation",
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
    let (body, check) = input.into_parts();
    let caller_id = caller.map(|c| c.0.user_id);
    let user = accept_invitation(&state, caller_id, body, check).await?;
    Ok(HttpResponse::Created().json(UserView::from(&user)))
}

/// Accepts the invitation of `body.token` for the caller (`caller_id`, if signed in) with the body's name
/// and password, adding to `check` the fields that fail. The API and the invitation page both end here.
pub async fn accept_invitation(
    state: &web::Data<AppState>,
    caller_id: Option<Uuid>,
    body: AcceptInvitation,
    mut check: Check,
) -> Result<User, Error> {
    let Some(secret) = check.required("token", body.token.as_deref(), |t| Ok(t.trim().to_owned()))
    else {
        return Err(check.into_error());
    };
    let now = state.clock.now();
    let hash = token::hash(&secret);
    let (live, existing) = state
        .db
        .read(move |conn| use_case::find_live(conn, &hash, now))
        .await?;
    let account = account_for(state, &live, existing, caller_id, body, check, now).await?;
    let state_for_tx = state.clone();
    let user = state
        .db
        .write(move |conn| use_case::accept(conn, &state_for_tx, &live, account, now))
        .await?;
    // The role may have changed, and sessions may have ended: tokens already in use must follow at once.
    state.token_cache.forget_user(*user.id);
    Ok(user)
}

/// What accepting does to the account of the invited address (`existing`), from the request's fields:
/// the account itself when the request is made as it, else a new password (and name), or a new account.
async fn account_for(
    state: &AppState,
    live: &Live,
    existing: Option<User>,
    caller_id: Option<Uuid>,
    body: AcceptInvitation,
    mut check: Check,
    now: DateTime<Utc>,
) -> Result<Account, Error> {
    let email = EmailAddress::parse(live.email()).ok();
    let Some(user) = existing else {
        return new_account(state, live, body, check, now).await;
    };
    if body.password.is_none() && caller_id == Some(*user.id) {
        check.finish()?;
        return Ok(Account::Existing {
            user_id: *user.id,
            password_hash: None,
            display_name: None,
        });
    }
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
    Ok(Account::Existing {
        user_id: *user.id,
        password_hash: Some(hash),
        display_name,
    })
}

/// A new account for the invited address, from the request's name and password.
async fn new_account(
    state: &AppState,
    live: &Live,
    body: AcceptInvitation,
    mut check: Check,
    now: DateTime<Utc>,
) -> Result<Account, Error> {
    let email = EmailAddress::parse(live.email()).ok();
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
    Ok(Account::New(Box::new(User {
        id: Uid(Uuid::now_v7()),
        email: live.email().to_owned(),
        password_hash: hash,
        display_name: name.as_str().to_owned(),
        locale: Locale::default().as_str().to_owned(),
        role: Role::User,
        email_verified_at: Some(Ts(now)),
        created_at: Ts(now),
        updated_at: Ts(now),
    })))
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
    operation_id = "declineInvitation",
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
    decline_invitation(&state, &secret).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Declines the invitation of the token `secret` (422 `invalid_token` when unknown, used or expired). The
/// API and the invitation page both end here.
pub async fn decline_invitation(state: &AppState, secret: &str) -> Result<(), Error> {
    let now = state.clock.now();
    let hash = token::hash(secret);
    state
        .db
        .write(move |conn| use_case::decline(conn, &hash, now))
        .await
}
