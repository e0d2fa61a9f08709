//! Emails to the administrators about the running of the service.

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::db::DbConn;
use crate::error::Error;
use crate::notify::templates::Event;
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
        let context = json!({
            "display_name": admin.display_name,
            "url": webhook.url,
            "reason": webhook.disabled_reason.clone().unwrap_or_default(),
            "failures": webhook.consecutive_failures,
            "link": state.link(&format!("/api/v1/admin/webhooks/{}", webhook.id)),
        });
        let email = Email {
            event: Event::WebhookDisabled,
            to: &admin.email,
            user_id: Some(*admin.id),
            call_id: None,
            locale: &admin.locale,
            context,
        };
        queue(conn, &state.templates, &state.settings.email, email, now)?;
    }
    Ok(())
}
