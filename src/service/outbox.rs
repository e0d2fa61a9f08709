//! Staff putting a failed email back in the queue: the one-time link it carried is renewed, and the email
//! goes again only if the worker did not send it meanwhile.

use anyhow::Context;
use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use uuid::Uuid;

use crate::config::AuthSettings;
use crate::db::DbConn;
use crate::domain::action::Action;
use crate::domain::delivery::OutboxStatus;
use crate::error::Error;
use crate::store::journal::{Entity, Happened};
use crate::store::outbox::{self, OutboxEmail};

/// Puts a failed (or still pending) email back in the queue with a fresh set of attempts, and renews the
/// one-time link it carried (a fresh secret and expiry; the old one stops working). Refused (409) when it
/// was sent or is being sent, when its link was used or withdrawn since, or when it was sent meanwhile.
pub fn retry(
    conn: &mut DbConn,
    actor: Uuid,
    id: Uuid,
    auth: &AuthSettings,
    now: DateTime<Utc>,
) -> Result<OutboxEmail, Error> {
    let email = outbox::find(conn, id)?.ok_or(Error::NotFound)?;
    if !email.status.is_retryable() {
        return Err(Error::refused(
            "email_not_retryable",
            format!(
                "this email is {}: only failed or pending ones can be retried",
                email.status
            ),
        ));
    }
    let lifetimes = outbox::LinkLifetimes {
        verification: Duration::hours(auth.verification_ttl_hours),
        password_reset: Duration::minutes(auth.password_reset_ttl_minutes),
        invitation: Duration::days(auth.invitation_ttl_days),
    };
    if outbox::renew_links(conn, id, lifetimes, now)? == outbox::Links::Gone {
        return Err(Error::refused(
            "link_gone",
            "this email carried a one-time link that was used, withdrawn or replaced since: \
             the person asks for a new one (verification email, password reset) or staff send a \
             new invitation",
        ));
    }
    if !outbox::requeue(conn, id, now)? {
        return Err(Error::refused(
            "email_sent_meanwhile",
            "this email was sent meanwhile: it is not retried",
        ));
    }
    Happened::new(Action::OutboxRetried, Some(actor), Entity::Outbox(id))
        .before(json!({"status": email.status, "attempts": email.attempts}))
        .after(json!({"status": OutboxStatus::Pending, "attempts": 0}))
        .record(conn, now)
        .context("recording the retry")?;
    outbox::find(conn, id)?.ok_or(Error::NotFound)
}
