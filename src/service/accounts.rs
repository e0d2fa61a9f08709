//! Accounts: registering (without telling whether an address is taken), verifying the address, resetting a
//! password, personal API tokens, and deleting one's own account. Each function runs in the caller's
//! transaction and writes the audit entry and the emails of its change there.

use anyhow::Context;
use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use uuid::Uuid;

use crate::auth::permissions::Role;
use crate::auth::token;
use crate::db::DbConn;
use crate::domain::action::Action;
use crate::error::Error;
use crate::notify::emails::{PasswordReset, RegistrationAttempt, VerifyEmail};
use crate::notify::{self, Email};
use crate::state::AppState;
use crate::store::email_tokens::{self, Purpose};
use crate::store::journal::{Entity, Feed, Happened};
use crate::store::personal::erase;
use crate::store::tokens::{self, Token};
use crate::store::users::{self, User};

/// Registers `fresh` and queues the verification email carrying `secret`. When the address already has an
/// account, nothing is created: its owner is told by email instead, so that the answer is the same.
pub fn register(
    conn: &mut DbConn,
    state: &AppState,
    fresh: &User,
    secret: &str,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    if let Some(owner) = users::find_by_email(conn, &fresh.email)? {
        let context = RegistrationAttempt {
            display_name: owner.display_name.clone(),
            login_link: state.link("/login"),
            reset_link: state.link("/password-reset"),
        };
        let email = Email::of(&context, &owner.email, Some(*owner.id), None, &owner.locale)?;
        return notify::queue(conn, &state.templates, &state.settings.email, email, now);
    }
    users::insert(conn, fresh)?;
    queue_verification(conn, state, fresh, secret, now)?;
    Happened::new(
        Action::UserRegistered,
        Some(*fresh.id),
        Entity::User(*fresh.id),
    )
    .after(
        json!({"email": fresh.email, "display_name": fresh.display_name, "locale": fresh.locale}),
    )
    .record(conn, now)
    .context("recording the registration")?;
    Ok(())
}

/// Stores a verification token for `user` and queues the email that carries it.
fn queue_verification(
    conn: &mut DbConn,
    state: &AppState,
    user: &User,
    secret: &str,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let hours = state.settings.auth.verification_ttl_hours;
    let expires_at = now + Duration::hours(hours);
    email_tokens::insert(
        conn,
        *user.id,
        Purpose::VerifyEmail,
        &token::hash(secret),
        expires_at,
        now,
    )
    .context("storing the verification token")?;
    let context = VerifyEmail {
        display_name: user.display_name.clone(),
        link: state.link_with_token("/verify-email", secret),
        token: secret.to_owned(),
        expires_in_hours: hours,
    };
    let email = Email::of(&context, &user.email, Some(*user.id), None, &user.locale)?;
    notify::queue(conn, &state.templates, &state.settings.email, email, now)
}

/// The 422 of a one-time link that is unknown, already used or expired.
pub fn invalid_token() -> Error {
    Error::field(
        "token",
        "invalid_token",
        "this link is unknown, already used or expired",
    )
}

/// Consumes a verification link's token (hashed) and marks the address verified. Returns the account.
pub fn verify_email(conn: &mut DbConn, hash: &str, now: DateTime<Utc>) -> Result<Uuid, Error> {
    let user_id =
        email_tokens::consume(conn, Purpose::VerifyEmail, hash, now)?.ok_or_else(invalid_token)?;
    users::mark_verified(conn, user_id, now).context("marking the address verified")?;
    Happened::new(
        Action::UserEmailVerified,
        Some(user_id),
        Entity::User(user_id),
    )
    .record(conn, now)
    .context("recording the verification")?;
    Ok(user_id)
}

/// Whether a verification link's token (hashed) is live, without consuming it (a page shows its button
/// first: mail scanners open links). 422 `invalid_token` when it is unknown, used or expired.
pub fn peek_verification(conn: &mut DbConn, hash: &str, now: DateTime<Utc>) -> Result<(), Error> {
    email_tokens::peek(conn, Purpose::VerifyEmail, hash, now)?
        .map(|_| ())
        .ok_or_else(invalid_token)
}

/// Replaces the account's verification links with a new one carrying `secret`; false (nothing sent) when
/// the address is verified already.
pub fn resend_verification(
    conn: &mut DbConn,
    state: &AppState,
    user_id: Uuid,
    secret: &str,
    now: DateTime<Utc>,
) -> Result<bool, Error> {
    let Some(user) = users::find(conn, user_id)?.filter(|u| u.email_verified_at.is_none()) else {
        return Ok(false);
    };
    email_tokens::consume_all(conn, user_id, Purpose::VerifyEmail, now)
        .context("withdrawing the earlier verification links")?;
    queue_verification(conn, state, &user, secret, now)?;
    Ok(true)
}

/// Emails a password-reset link carrying `secret` if the address has an account; false otherwise.
pub fn request_password_reset(
    conn: &mut DbConn,
    state: &AppState,
    email: &str,
    secret: &str,
    now: DateTime<Utc>,
) -> Result<bool, Error> {
    let Some(user) = users::find_by_email(conn, email)? else {
        return Ok(false);
    };
    let minutes = state.settings.auth.password_reset_ttl_minutes;
    email_tokens::insert(
        conn,
        *user.id,
        Purpose::PasswordReset,
        &token::hash(secret),
        now + Duration::minutes(minutes),
        now,
    )
    .context("storing the password-reset token")?;
    let context = PasswordReset {
        display_name: user.display_name.clone(),
        link: state.link_with_token("/password-reset/confirm", secret),
        token: secret.to_owned(),
        expires_in_minutes: minutes,
    };
    let email = Email::of(&context, &user.email, Some(*user.id), None, &user.locale)?;
    notify::queue(conn, &state.templates, &state.settings.email, email, now)?;
    Ok(true)
}

/// The account a live password-reset token (hashed) belongs to, without consuming it.
pub fn password_reset_account(
    conn: &mut DbConn,
    hash: &str,
    now: DateTime<Utc>,
) -> Result<User, Error> {
    let user_id =
        email_tokens::peek(conn, Purpose::PasswordReset, hash, now)?.ok_or_else(invalid_token)?;
    users::find(conn, user_id)?.ok_or_else(invalid_token)
}

/// Sets a new password with a reset link's token (hashed) and revokes every token of the account. The
/// link reached the address, so the address counts as verified from then on. Returns the account.
pub fn reset_password(
    conn: &mut DbConn,
    hash: &str,
    password_hash: &str,
    now: DateTime<Utc>,
) -> Result<Uuid, Error> {
    let user_id = email_tokens::consume(conn, Purpose::PasswordReset, hash, now)?
        .ok_or_else(invalid_token)?;
    users::set_password(conn, user_id, password_hash, now).context("setting the password")?;
    // The link reached the address: whoever holds it now owns a verified account.
    users::mark_verified(conn, user_id, now).context("marking the address verified")?;
    email_tokens::consume_all(conn, user_id, Purpose::PasswordReset, now)
        .context("withdrawing the other reset links")?;
    let revoked = tokens::revoke_all_for_user(conn, user_id, now).context("ending the sessions")?;
    Happened::new(
        Action::UserPasswordReset,
        Some(user_id),
        Entity::User(user_id),
    )
    .after(json!({"tokens_revoked": revoked}))
    .record(conn, now)
    .context("recording the reset")?;
    Ok(user_id)
}

/// Stores a new personal API token.
pub fn create_token(conn: &mut DbConn, row: &Token, now: DateTime<Utc>) -> Result<(), Error> {
    tokens::insert(conn, row).context("storing the token")?;
    Happened::new(
        Action::TokenCreated,
        Some(*row.user_id),
        Entity::ApiToken(*row.id),
    )
    .after(json!({"name": row.name, "scopes": row.scopes, "expires_at": row.expires_at}))
    .record(conn, now)
    .context("recording the new token")?;
    Ok(())
}

/// Revokes one of `user_id`'s personal tokens (404 when it has no such live token).
pub fn revoke_token(
    conn: &mut DbConn,
    user_id: Uuid,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    if !tokens::revoke_personal(conn, user_id, id, now).context("revoking the token")? {
        return Err(Error::NotFound);
    }
    Happened::new(Action::TokenRevoked, Some(user_id), Entity::ApiToken(id))
        .record(conn, now)
        .context("recording the revocation")?;
    Ok(())
}

/// Erases the caller's own account (its sign-in replaced by `unusable_hash`). Refused (409
/// `last_administrator`) for the last administrator. Returns what the erasure left to remove on disk.
pub fn delete_account(
    conn: &mut DbConn,
    user_id: Uuid,
    unusable_hash: &str,
    now: DateTime<Utc>,
) -> Result<erase::Erased, Error> {
    let user = users::find(conn, user_id)?.ok_or(Error::NotFound)?;
    if user.role == Role::Admin && !erase::other_admin_exists(conn, user_id)? {
        return Err(Error::refused(
            "last_administrator",
            "you are the last administrator: make someone else an administrator first",
        ));
    }
    let erased = erase::erase_account(conn, &user, unusable_hash, now)?;
    Happened::new(Action::UserDeleted, Some(user_id), Entity::User(user_id))
        .on_feed(Feed::platform(json!({})))
        .record(conn, now)
        .context("recording the deletion")?;
    Ok(erased)
}
