//! The jury of a call as use cases: adding a juror (a verified account, with the affiliations conflicts are
//! detected by), removing one (their assignments go with them), and setting a stage's review deadline.

use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;

use crate::db::DbConn;
use crate::domain::action::Action;
use crate::domain::conflict::Affiliation;
use crate::domain::refusal::Refusal;
use crate::error::Error;
use crate::service::assignments::jury_call_or_404;
use crate::store::journal::{Entity, Feed, Happened};
use crate::store::users::{self, User};
use crate::store::{jurors, reviews};

/// Adds an existing account with a verified email to the jury of a call (422 for an unknown or unverified
/// account; refused when already on the jury). Returns the account.
pub fn add(
    conn: &mut DbConn,
    actor: Uuid,
    call_id: Uuid,
    user_id: Uuid,
    affiliations: &[Affiliation],
    now: DateTime<Utc>,
) -> Result<User, Error> {
    jury_call_or_404(conn, call_id)?;
    let user = users::find(conn, user_id)?
        .ok_or_else(|| Error::field("user_id", "unknown_user", "no account has this id"))?;
    // A seat on a jury goes only to someone who proved they read the account's mailbox.
    if user.email_verified_at.is_none() {
        return Err(Error::field(
            "user_id",
            "email_not_verified",
            "this account has not verified its email address: invite the person instead",
        ));
    }
    let value = json!(affiliations);
    if !jurors::add_juror(conn, call_id, user_id, value.clone(), Some(actor), now)? {
        return Err(Refusal::AlreadyJuror.into());
    }
    Happened::new(Action::JurorAdded, Some(actor), Entity::Call(call_id))
        .after(json!({"user_id": user_id, "affiliations": value}))
        .on_feed(Feed::call(call_id, json!({"juror_id": user_id})))
        .record(conn, now)?;
    Ok(user)
}

/// Removes a juror from the jury of a call, with their assignments (404 when not on it).
pub fn remove(
    conn: &mut DbConn,
    actor: Uuid,
    call_id: Uuid,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    if !jurors::remove_juror(conn, call_id, user_id)? {
        return Err(Error::NotFound);
    }
    Happened::new(Action::JurorRemoved, Some(actor), Entity::Call(call_id))
        .before(json!({"user_id": user_id}))
        .on_feed(Feed::call(call_id, json!({"juror_id": user_id})))
        .record(conn, now)?;
    Ok(())
}

/// Sets (or moves) the review deadline of a stage of the call (404 for a stage it does not have).
pub fn set_review_deadline(
    conn: &mut DbConn,
    actor: Uuid,
    call_id: Uuid,
    stage: &str,
    due_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let call = jury_call_or_404(conn, call_id)?;
    if !call.stages()?.iter().any(|s| s.key == stage) {
        return Err(Error::NotFound);
    }
    reviews::set_review_deadline(conn, call_id, stage, due_at)?;
    Happened::new(Action::StageDeadlineSet, Some(actor), Entity::Call(call_id))
        .after(json!({"stage": stage, "due_at": due_at}))
        .record(conn, now)?;
    Ok(())
}
