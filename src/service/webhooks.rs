//! Staff managing webhooks: registering, deleting and re-enabling one (each audited), and queueing a test
//! delivery.

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;

use crate::db::DbConn;
use crate::domain::action::Action;
use crate::error::Error;
use crate::store::events::TEST_TYPE;
use crate::store::journal::{Entity, Happened};
use crate::store::webhooks::{self, Delivery, Webhook};

/// Registers `webhook`, created by `actor`.
pub fn create(
    conn: &mut DbConn,
    actor: Uuid,
    webhook: Webhook,
    now: DateTime<Utc>,
) -> Result<Webhook, Error> {
    webhooks::insert(conn, &webhook)?;
    Happened::new(
        Action::WebhookCreated,
        Some(actor),
        Entity::Webhook(*webhook.id),
    )
    .after(json!({"url": webhook.url, "events": webhook.event_types.0}))
    .record(conn, now)
    .context("recording the new webhook")?;
    Ok(webhook)
}

/// Deletes a webhook and its delivery log; its pending deliveries are dropped.
pub fn delete(conn: &mut DbConn, actor: Uuid, id: Uuid, now: DateTime<Utc>) -> Result<(), Error> {
    let webhook = webhooks::find(conn, id)?.ok_or(Error::NotFound)?;
    webhooks::delete(conn, id).context("deleting the webhook")?;
    Happened::new(Action::WebhookDeleted, Some(actor), Entity::Webhook(id))
        .before(json!({"url": webhook.url, "events": webhook.event_types.0}))
        .record(conn, now)
        .context("recording the deletion")?;
    Ok(())
}

/// Turns a disabled webhook back on; its pending deliveries resume.
pub fn enable(
    conn: &mut DbConn,
    actor: Uuid,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<Webhook, Error> {
    let before = webhooks::find(conn, id)?.ok_or(Error::NotFound)?;
    webhooks::enable(conn, id, now).context("enabling the webhook")?;
    Happened::new(Action::WebhookEnabled, Some(actor), Entity::Webhook(id))
        .before(json!({"disabled_reason": before.disabled_reason}))
        .record(conn, now)
        .context("recording the change")?;
    webhooks::find(conn, id)?.ok_or(Error::NotFound)
}

/// Queues a `webhook.test` delivery (not a domain event: it is not in the feed). Refused (409
/// `webhook_disabled`) while the webhook is disabled.
pub fn queue_test(
    conn: &mut DbConn,
    actor: Uuid,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<Delivery, Error> {
    let webhook = webhooks::find(conn, id)?.ok_or(Error::NotFound)?;
    if webhook.disabled_at.is_some() {
        return Err(Error::refused(
            "webhook_disabled",
            "this webhook is disabled: enable it first",
        ));
    }
    let event_id = Uuid::now_v7();
    let payload = json!({
        "id": event_id,
        "type": TEST_TYPE,
        "occurred_at": now,
        "call_id": null,
        "application_id": null,
        "actor_id": actor,
        "data": {"webhook_id": id},
    });
    Ok(
        webhooks::insert_delivery(conn, id, event_id, TEST_TYPE, payload.to_string(), now)
            .context("queueing the test delivery")?,
    )
}
