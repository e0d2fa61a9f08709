//! Email: templates, the outbox, the delivery worker and the transports, webhook deliveries and reminders.
//! The background loop that drives the worker, and the jobs that are not email, live in `jobs`.

pub mod admins;
pub mod applications;
pub mod emails;
pub mod links;
pub mod reminders;
pub mod templates;
pub mod transport;
pub mod webhooks;
pub mod worker;

/// Moved to `jobs::retention` (retention is not email); kept here so that callers' paths still work.
pub use crate::jobs::retention;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::config::EmailSettings;
use crate::db::types::{Ts, Uid};
use crate::db::DbConn;
use crate::error::Error;
use crate::store::email_templates;
use crate::store::outbox::{self, OutboxEmail};
use templates::{Event, RenderedEmail, Templates};

/// An email to send because of a change: who receives it, in which language, with which data. Built
/// only from a typed context ([`Email::of`], `About::tell_*`), so no caller hands the templates loose JSON.
pub struct Email<'a> {
    event: Event,
    to: &'a str,
    user_id: Option<Uuid>,
    /// The call the email is about, whose own template (if staff wrote one) replaces the built-in
    /// one; `None` for account and service emails.
    call_id: Option<Uuid>,
    locale: &'a str,
    context: serde_json::Value,
}

impl<'a> Email<'a> {
    /// The email of a typed context (its event comes with the type) to one recipient.
    pub fn of<C: emails::EmailContext>(
        context: &C,
        to: &'a str,
        user_id: Option<Uuid>,
        call_id: Option<Uuid>,
        locale: &'a str,
    ) -> Result<Email<'a>, Error> {
        Email::with_context(C::EVENT, context, to, user_id, call_id, locale)
    }

    /// The email of `event` with a context built around a typed one (the header of application emails).
    fn with_context(
        event: Event,
        context: &impl serde::Serialize,
        to: &'a str,
        user_id: Option<Uuid>,
        call_id: Option<Uuid>,
        locale: &'a str,
    ) -> Result<Email<'a>, Error> {
        Ok(Email {
            event,
            to,
            user_id,
            call_id,
            locale,
            context: serde_json::to_value(context)
                .map_err(|e| Error::Internal(anyhow::Error::new(e).context("an email context")))?,
        })
    }
}

/// Renders `email` and queues it in the caller's transaction, so that it is sent if and only if the
/// change that caused it is committed.
pub fn queue(
    conn: &mut DbConn,
    templates: &Templates,
    settings: &EmailSettings,
    email: Email<'_>,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let rendered = render(conn, templates, &email)?;
    let id = Uuid::now_v7();
    let row = OutboxEmail {
        id: Uid(id),
        kind: "email".into(),
        event: email.event.as_str().into(),
        recipient: email.to.into(),
        user_id: email.user_id.map(Uid),
        locale: email.locale.into(),
        subject: rendered.subject,
        body_text: rendered.text,
        body_html: rendered.html,
        message_id: format!("{id}@cordee"),
        status: crate::domain::delivery::OutboxStatus::Pending,
        attempts: 0,
        max_attempts: settings.max_attempts.max(1),
        next_attempt_at: Ts(now),
        locked_until: None,
        last_error: None,
        created_at: Ts(now),
        sent_at: None,
    };
    outbox::insert(conn, &row)?;
    Ok(())
}

/// Renders `email` with its call's own template when staff wrote one for its event and locale, else
/// with the built-in one. A call's template that fails on real data (it passed the checks on the
/// example data) is logged and replaced by the built-in one, so that the change still goes through.
fn render(
    conn: &mut DbConn,
    templates: &Templates,
    email: &Email<'_>,
) -> Result<RenderedEmail, Error> {
    let locale = templates::locale_or_french(email.locale);
    let custom = match email.call_id {
        Some(call_id) => email_templates::find(conn, call_id, email.event.as_str(), locale)?,
        None => None,
    };
    if let Some(custom) = custom {
        match templates.render_sources(&custom.sources(), &email.context) {
            Ok(rendered) => return Ok(rendered),
            Err(err) => tracing::warn!(
                call_id = %custom.call_id,
                event = email.event.as_str(),
                locale,
                error = %err,
                "the call's email template failed; the built-in one is used"
            ),
        }
    }
    templates
        .render(email.event, email.locale, &email.context)
        .map_err(|e| {
            Error::Internal(anyhow::anyhow!(
                "email template {} failed: {e}",
                email.event.as_str()
            ))
        })
}
