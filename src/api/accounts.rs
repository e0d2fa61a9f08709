//! Accounts: registration, email verification, login, logout, password reset.

use actix_web::{post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Duration, Utc};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::extract::{client_address, SignedIn};
use crate::api::input::Input;
use crate::auth::permissions::{Principal, Role};
use crate::auth::token;
use crate::db::types::{Json, Ts, Uid};
use crate::domain::account::{DisplayName, EmailAddress, Locale, Password};
use crate::error::{Error, Problem};
use crate::service::accounts;
use crate::state::AppState;
use crate::store::tokens;
use crate::store::users::{self, User};

/// An account, as its owner and administrators see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UserView {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    pub locale: String,
    pub role: Role,
    pub email_verified: bool,
}

impl From<&User> for UserView {
    fn from(user: &User) -> Self {
        UserView {
            id: *user.id,
            email: user.email.clone(),
            display_name: user.display_name.clone(),
            locale: user.locale.clone(),
            role: user.role,
            email_verified: user.email_verified_at.is_some(),
        }
    }
}

/// `POST /auth/register`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    #[schema(required = true)]
    pub email: Option<String>,
    /// 12 to 128 characters, not the email.
    #[schema(required = true)]
    pub password: Option<String>,
    #[schema(required = true)]
    pub display_name: Option<String>,
    /// `fr` (default) or `en`: the language of the emails.
    pub locale: Option<String>,
}

/// Checks a new password against the rules (including "not the email" when the email is valid).
pub fn check_password(
    check: &mut crate::api::input::Check,
    raw: Option<&str>,
    email: Option<&EmailAddress>,
) -> Option<Password> {
    check.required("password", raw, |p| Password::parse(p, email))
}

/// Creates an account and emails a verification link. An email already taken gets the same answer, and
/// its owner is told by email instead, so that nobody can learn who has an account.
#[utoipa::path(
    operation_id = "registerAccount",
    tag = "accounts",
    request_body = RegisterRequest,
    responses(
        (status = 201, description = "Account created (or the address was taken: same answer)", body = UserView),
        (status = 400, description = "Malformed JSON", body = Problem),
        (status = 422, description = "Invalid fields", body = Problem),
        (status = 429, description = "Too many registrations for this email or from this address; see Retry-After", body = Problem),
    )
)]
#[post("/auth/register")]
pub async fn register(
    state: web::Data<AppState>,
    req: HttpRequest,
    input: Input<RegisterRequest>,
) -> Result<HttpResponse, Error> {
    let (body, mut check) = input.into_parts();
    let email = check.required("email", body.email.as_deref(), EmailAddress::parse);
    let display_name = check.required(
        "display_name",
        body.display_name.as_deref(),
        DisplayName::parse,
    );
    let password = check_password(&mut check, body.password.as_deref(), email.as_ref());
    let locale = check
        .optional("locale", body.locale.as_deref(), Locale::parse)
        .unwrap_or_default();
    let (Some(email), Some(display_name), Some(password)) = (email, display_name, password) else {
        return Err(check.into_error());
    };
    check.finish()?;
    state
        .throttles
        .registration
        .check(email.as_str(), client_address(&req))?;

    // Hash in every case, so that a taken address answers as slowly as a new one.
    let password_hash = state.hasher.hash(password.into_secret()).await?;
    let now = state.clock.now();
    let secret = token::generate();
    let fresh = User {
        id: Uid(Uuid::now_v7()),
        email: email.as_str().to_owned(),
        password_hash,
        display_name: display_name.as_str().to_owned(),
        locale: locale.as_str().to_owned(),
        role: Role::User,
        email_verified_at: None,
        created_at: Ts(now),
        updated_at: Ts(now),
    };
    let view = UserView::from(&fresh);
    let state2 = state.clone();
    state
        .db
        .write(move |conn| accounts::register(conn, &state2, &fresh, &secret, now))
        .await?;
    state.outbox_wakeup.notify_one();
    Ok(HttpResponse::Created().json(view))
}

/// A one-time token received by email.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    #[schema(required = true)]
    pub token: Option<String>,
}

fn required_token(check: &mut crate::api::input::Check, raw: Option<String>) -> Option<String> {
    check.required("token", raw, |t| {
        let t = t.trim().to_owned();
        if t.is_empty() {
            Err(crate::domain::identifiers::InvalidValue {
                code: "required",
                message: "this field is required".into(),
            })
        } else {
            Ok(t)
        }
    })
}

/// Confirms that the account's owner reads its mailbox.
#[utoipa::path(
    operation_id = "verifyEmail",
    tag = "accounts",
    request_body = TokenRequest,
    responses(
        (status = 204, description = "Email verified"),
        (status = 422, description = "Unknown, used or expired token", body = Problem),
    )
)]
#[post("/auth/verify-email")]
pub async fn verify_email(
    state: web::Data<AppState>,
    input: Input<TokenRequest>,
) -> Result<HttpResponse, Error> {
    let (body, mut check) = input.into_parts();
    let Some(secret) = required_token(&mut check, body.token) else {
        return Err(check.into_error());
    };
    check.finish()?;
    confirm_address(&state, &secret).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Consumes a verification link's token `secret` and marks the address verified (422 `invalid_token` when
/// the link is unknown, used or expired). The API and the verification page both end here.
pub async fn confirm_address(state: &AppState, secret: &str) -> Result<Uuid, Error> {
    let now = state.clock.now();
    let hash = token::hash(secret);
    let user_id = state
        .db
        .write(move |conn| accounts::verify_email(conn, &hash, now))
        .await?;
    // Sessions already open carry the verified address at once.
    state.token_cache.forget_user(user_id);
    Ok(user_id)
}

/// Sends the caller a new verification link (the earlier ones stop working); nothing is sent when the
/// address is already verified. The answer is the same either way.
#[utoipa::path(
    operation_id = "resendVerificationEmail",
    tag = "accounts",
    responses(
        (status = 202, description = "If the address is not verified yet, a new link is on its way"),
        (status = 401, body = Problem),
        (status = 429, description = "Too many emails for this account or from this address; see Retry-After", body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/auth/verify-email/resend")]
pub async fn resend_verification(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: SignedIn,
) -> Result<HttpResponse, Error> {
    let user_id = caller.0.user_id;
    if caller.0.email_verified {
        return Ok(HttpResponse::Accepted().finish());
    }
    // The same budget as registering: each one sends an email to the address.
    state
        .throttles
        .registration
        .check(&user_id.to_string(), client_address(&req))?;
    let now = state.clock.now();
    let secret = token::generate();
    let state2 = state.clone();
    let queued = state
        .db
        .write(move |conn| accounts::resend_verification(conn, &state2, user_id, &secret, now))
        .await?;
    if queued {
        state.outbox_wakeup.notify_one();
    }
    Ok(HttpResponse::Accepted().finish())
}

/// `POST /auth/login`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[schema(required = true)]
    pub email: Option<String>,
    #[schema(required = true)]
    pub password: Option<String>,
}

/// A new login session.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    /// The bearer token: send it as `Authorization: Bearer <token>`.
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub user: UserView,
}

/// Opens a session. A wrong email and a wrong password get the same 401, in the same time.
#[utoipa::path(
    operation_id = "logIn",
    tag = "accounts",
    request_body = LoginRequest,
    responses(
        (status = 200, body = LoginResponse),
        (status = 401, description = "Wrong email or password", body = Problem),
        (status = 422, body = Problem),
        (status = 429, description = "Too many attempts; see Retry-After", body = Problem),
    )
)]
#[post("/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    input: Input<LoginRequest>,
) -> Result<HttpResponse, Error> {
    let (body, mut check) = input.into_parts();
    // The address as registration stored it (punycode domain), or as typed when it is not one: a wrong
    // address gets the same 401 as a wrong password.
    let email = check.required("email", body.email, login_address);
    let password = check.required("password", body.password, Ok);
    let (Some(email), Some(password)) = (email, password) else {
        return Err(check.into_error());
    };
    check.finish()?;
    let (token, expires_at, user) = open_session(&state, &req, &email, password).await?;
    Ok(HttpResponse::Ok().json(LoginResponse {
        token,
        expires_at,
        user: UserView::from(&user),
    }))
}

/// Logs in with `email` (as stored, or as typed) and `password` through the login throttle: a new session
/// token (its secret), when it expires, and the account. A wrong email and a wrong password get the same
/// 401, in the same time. The API's login and the login page both open sessions here.
pub async fn open_session(
    state: &AppState,
    req: &HttpRequest,
    email: &str,
    password: String,
) -> Result<(String, DateTime<Utc>, User), Error> {
    state.throttles.login.check(email, client_address(req))?;
    let lookup = email.to_owned();
    let user = state
        .db
        .read(move |conn| Ok(users::find_by_email(conn, &lookup)?))
        .await?;
    let hash = user.as_ref().map(|u| u.password_hash.clone());
    if !state
        .hasher
        .verify(SecretString::from(password), hash)
        .await?
    {
        return Err(Error::Unauthorized("wrong email or password".into()));
    }
    let Some(user) = user else {
        return Err(Error::Unauthorized("wrong email or password".into()));
    };
    let now = state.clock.now();
    let expires_at = now + Duration::hours(state.settings.auth.session_ttl_hours);
    let secret = token::generate();
    let session = tokens::Token {
        id: Uid(Uuid::now_v7()),
        user_id: user.id,
        kind: "session".into(),
        name: None,
        scopes: Json(json!([])),
        token_hash: token::hash(&secret),
        expires_at: Some(Ts(expires_at)),
        revoked_at: None,
        last_used_at: None,
        created_at: Ts(now),
    };
    state
        .db
        .write(move |conn| Ok(tokens::insert(conn, &session)?))
        .await?;
    Ok((secret, expires_at, user))
}

/// The address as registration stored it (punycode domain), or as typed when it is not one, so that a wrong
/// address gets the same 401 as a wrong password.
pub fn login_address(raw: String) -> Result<String, crate::domain::identifiers::InvalidValue> {
    Ok(EmailAddress::parse(&raw)
        .map_or_else(|_| raw.trim().to_lowercase(), |a| a.as_str().to_owned()))
}

/// Revokes the token presented with this request.
#[utoipa::path(
    operation_id = "logOut",
    tag = "accounts",
    responses((status = 204, description = "Token revoked"), (status = 401, body = Problem)),
    security(("bearer" = []))
)]
#[post("/auth/logout")]
pub async fn logout(state: web::Data<AppState>, caller: SignedIn) -> Result<HttpResponse, Error> {
    end_session(&state, &caller.0).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Revokes the token `caller` presented (the API's logout and the logout page).
pub async fn end_session(state: &AppState, caller: &Principal) -> Result<(), Error> {
    let token_id = caller.token_id;
    let now = state.clock.now();
    state
        .db
        .write(move |conn| Ok(tokens::revoke(conn, token_id, now)?))
        .await?;
    state.token_cache.forget_user(caller.user_id);
    Ok(())
}

/// `POST /auth/password-reset`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordResetRequest {
    #[schema(required = true)]
    pub email: Option<String>,
}

/// Emails a password-reset link if the account exists; the answer is the same either way.
#[utoipa::path(
    operation_id = "requestPasswordReset",
    tag = "accounts",
    request_body = PasswordResetRequest,
    responses(
        (status = 202, description = "If the account exists, a link is on its way"),
        (status = 422, body = Problem),
        (status = 429, description = "Too many requests for this email or from this address; see Retry-After", body = Problem),
    )
)]
#[post("/auth/password-reset")]
pub async fn password_reset(
    state: web::Data<AppState>,
    req: HttpRequest,
    input: Input<PasswordResetRequest>,
) -> Result<HttpResponse, Error> {
    let (body, mut check) = input.into_parts();
    let Some(email) = check.required("email", body.email.as_deref(), EmailAddress::parse) else {
        return Err(check.into_error());
    };
    check.finish()?;
    send_reset_link(&state, &req, email).await?;
    Ok(HttpResponse::Accepted().finish())
}

/// Emails a password-reset link to `email` if it has an account, through the reset throttle; the caller
/// answers the same either way. The API and the page asking for a link both end here.
pub async fn send_reset_link(
    state: &web::Data<AppState>,
    req: &HttpRequest,
    email: EmailAddress,
) -> Result<(), Error> {
    state
        .throttles
        .password_reset
        .check(email.as_str(), client_address(req))?;
    let now = state.clock.now();
    let secret = token::generate();
    let state2 = state.clone();
    let queued = state
        .db
        .write(move |conn| {
            accounts::request_password_reset(conn, &state2, email.as_str(), &secret, now)
        })
        .await?;
    if queued {
        state.outbox_wakeup.notify_one();
    }
    Ok(())
}

/// `POST /auth/password-reset/confirm`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordResetConfirm {
    #[schema(required = true)]
    pub token: Option<String>,
    #[schema(required = true)]
    pub password: Option<String>,
}

/// Sets a new password with a reset link's token, and revokes every token of the account. The link
/// reached the address, so the address counts as verified from then on.
#[utoipa::path(
    operation_id = "confirmPasswordReset",
    tag = "accounts",
    request_body = PasswordResetConfirm,
    responses((status = 204, description = "Password changed; every session revoked"), (status = 422, body = Problem))
)]
#[post("/auth/password-reset/confirm")]
pub async fn password_reset_confirm(
    state: web::Data<AppState>,
    input: Input<PasswordResetConfirm>,
) -> Result<HttpResponse, Error> {
    let (body, mut check) = input.into_parts();
    let secret = required_token(&mut check, body.token);
    let raw_password = check.required("password", body.password, Ok);
    let (Some(secret), Some(raw_password)) = (secret, raw_password) else {
        return Err(check.into_error());
    };
    check.finish()?;
    reset_password(&state, &secret, raw_password).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Sets a new password with a reset link's token `secret` (422 `invalid_token` when the link is unknown,
/// used or expired; 422 on `password` when it breaks the rules), revokes every token of the account and
/// returns it. The API's confirmation and the reset page both end here.
pub async fn reset_password(
    state: &AppState,
    secret: &str,
    raw_password: String,
) -> Result<Uuid, Error> {
    let now = state.clock.now();
    let hash = token::hash(secret);
    let lookup = hash.clone();
    let user = state
        .db
        .read(move |conn| accounts::password_reset_account(conn, &lookup, now))
        .await?;
    let email = EmailAddress::parse(&user.email).ok();
    let mut check = crate::api::input::Check::default();
    let Some(password) = check_password(&mut check, Some(&raw_password), email.as_ref()) else {
        return Err(check.into_error());
    };
    check.finish()?;
    let password_hash = state.hasher.hash(password.into_secret()).await?;
    let user_id = state
        .db
        .write(move |conn| accounts::reset_password(conn, &hash, &password_hash, now))
        .await?;
    state.token_cache.forget_user(user_id);
    Ok(user_id)
}
