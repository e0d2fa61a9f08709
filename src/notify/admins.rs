//! Emails to the administrators about the running of the service.

use chrono::{DateTime, Utc};

use crate::db::DbConn;
use crate::error::Error;
use crate::notify::emails::WebhookDisabled;
use crate::notify::{queue, Email};
use crate::state::AppState;
use crate::store::users;
use crate::store::webhooks::Webhook;

/// Tells every administrator that `webhook` was disabled after too many failed deliveries.
pub fn webhook_disabled(
    conn: &mut DbConn,
    state: &AppState,
    webhook: &Webhook,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    for admin in users::admins(conn)? {
        let context = WebhookDisabled {
            display_name: admin.display_name.clone(),
            url: webhook.url.clone(),
            reason: webhook.disabled_reason.clone().unwrap_or_default(),
            failures: webhook.consecutive_failures,
            link: state.link(&format!("/api/v1/admin/webhooks/{}", webhook.id)),
        };
        let email = Email::of(&context, &admin.email, Some(*admin.id), None, &admin.locale)?;
        queue(conn, &state.templates, &state.settings.email, email, now)?;
    }
    Ok(())
}
