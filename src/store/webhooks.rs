//! Webhooks and their deliveries. A delivery row is both the webhook outbox (queued in the transaction of the
//! event, claimed and retried by the delivery worker) and the delivery log staff read.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::schema::{webhook_deliveries, webhooks};
use crate::db::types::{Json, Ts, Uid};
use crate::db::DbConn;
use crate::domain::delivery::DeliveryStatus;
use crate::store::events::Event;

/// A registered webhook. `event_types` holds event types, or `"*"` for all.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhooks)]
pub struct Webhook {
    pub id: Uid,
    pub url: String,
    pub event_types: Json,
    pub secret: String,
    pub description: Option<String>,
    pub consecutive_failures: i32,
    pub disabled_at: Option<Ts>,
    pub disabled_reason: Option<String>,
    pub created_by: Option<Uid>,
    pub created_at: Ts,
    pub updated_at: Ts,
}

impl Webhook {
    /// Whether the webhook subscribed to events of this type.
    pub fn wants(&self, event_type: &str) -> bool {
        self.event_types
            .0
            .as_array()
            .is_some_and(|types| types.iter().any(|t| t == "*" || t == event_type))
    }
}

/// One delivery of one event to one webhook, with the outcome of its last attempt.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhook_deliveries)]
pub struct Delivery {
    pub id: Uid,
    pub webhook_id: Uid,
    pub event_id: Uid,
    pub event_type: String,
    /// The exact JSON body sent (and signed) at every attempt.
    pub payload: String,
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub next_attempt_at: Ts,
    pub locked_until: Option<Ts>,
    pub last_status_code: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: Ts,
    pub delivered_at: Option<Ts>,
}

/// Registers a webhook.
pub fn insert(conn: &mut DbConn, webhook: &Webhook) -> QueryResult<()> {
    diesel::insert_into(webhooks::table)
        .values(webhook)
        .execute(conn)
        .map(|_| ())
}

/// The webhook with this id.
pub fn find(conn: &mut DbConn, id: Uuid) -> QueryResult<Option<Webhook>> {
    webhooks::table
        .find(Uid(id))
        .select(Webhook::as_select())
        .first(conn)
        .optional()
}

/// One page of webhooks, oldest first.
pub fn list(conn: &mut DbConn, after: Option<Uuid>, limit: i64) -> QueryResult<Vec<Webhook>> {
    let mut query = webhooks::table
        .select(Webhook::as_select())
        .order(webhooks::id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(webhooks::id.gt(Uid(after)));
    }
    query.load(conn)
}

/// Deletes a webhook and its delivery log; false when there was none.
pub fn delete(conn: &mut DbConn, id: Uuid) -> QueryResult<bool> {
    diesel::delete(webhook_deliveries::table.filter(webhook_deliveries::webhook_id.eq(Uid(id))))
        .execute(conn)?;
    Ok(diesel::delete(webhooks::table.find(Uid(id))).execute(conn)? > 0)
}

/// Turns a disabled webhook back on with a clean failure count; its pending deliveries resume.
pub fn enable(conn: &mut DbConn, id: Uuid, now: DateTime<Utc>) -> QueryResult<bool> {
    diesel::update(webhooks::table.find(Uid(id)))
        .set((
            webhooks::disabled_at.eq(None::<Ts>),
            webhooks::disabled_reason.eq(None::<String>),
            webhooks::consecutive_failures.eq(0),
            webhooks::updated_at.eq(Ts(now)),
        ))
        .execute(conn)
        .map(|n| n > 0)
}

/// Queues a delivery of `event` for every webhook subscribed to its type. A disabled webhook's deliveries
/// wait until it is enabled again.
pub fn queue_deliveries(conn: &mut DbConn, event: &Event, now: DateTime<Utc>) -> QueryResult<()> {
    let subscribed: Vec<Webhook> = webhooks::table.select(Webhook::as_select()).load(conn)?;
    let payload = event.to_json().to_string();
    for webhook in subscribed.iter().filter(|w| w.wants(&event.event_type)) {
        insert_delivery(
            conn,
            *webhook.id,
            *event.id,
            &event.event_type,
            payload.clone(),
            now,
        )?;
    }
    Ok(())
}

/// Queues one delivery; returns it.
pub fn insert_delivery(
    conn: &mut DbConn,
    webhook_id: Uuid,
    event_id: Uuid,
    event_type: &str,
    payload: String,
    now: DateTime<Utc>,
) -> QueryResult<Delivery> {
    let delivery = Delivery {
        id: Uid(Uuid::now_v7()),
        webhook_id: Uid(webhook_id),
        event_id: Uid(event_id),
        event_type: event_type.to_owned(),
        payload,
        status: DeliveryStatus::Pending,
        attempts: 0,
        next_attempt_at: Ts(now),
        locked_until: None,
        last_status_code: None,
        last_error: None,
        created_at: Ts(now),
        delivered_at: None,
    };
    diesel::insert_into(webhook_deliveries::table)
        .values(&delivery)
        .execute(conn)?;
    Ok(delivery)
}

/// A claimed delivery with what is needed to send it.
pub struct Claimed {
    pub delivery: Delivery,
    pub url: String,
    pub secret: String,
}

/// Reserves up to `limit` due deliveries of enabled webhooks for `lease`, counting one attempt each. Due:
/// pending and past their next attempt, or reserved by a worker whose lease ran out.
pub fn claim_due(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    lease: Duration,
    limit: i64,
) -> QueryResult<Vec<Claimed>> {
    let enabled = webhooks::table
        .filter(webhooks::disabled_at.is_null())
        .select(webhooks::id);
    let due = webhook_deliveries::table
        .filter(
            (webhook_deliveries::status
                .eq(DeliveryStatus::Pending)
                .and(webhook_deliveries::next_attempt_at.le(Ts(now))))
            .or(webhook_deliveries::status
                .eq(DeliveryStatus::Sending)
                .and(webhook_deliveries::locked_until.lt(Ts(now)))),
        )
        .filter(webhook_deliveries::webhook_id.eq_any(enabled))
        .order((
            webhook_deliveries::next_attempt_at.asc(),
            webhook_deliveries::id.asc(),
        ))
        .limit(limit)
        .select(webhook_deliveries::id);
    let ids: Vec<Uid> = match conn {
        DbConn::Pg(c) => due.for_update().skip_locked().load(c)?,
        DbConn::Sqlite(c) => due.load(c)?,
    };
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    diesel::update(webhook_deliveries::table.filter(webhook_deliveries::id.eq_any(&ids)))
        .set((
            webhook_deliveries::status.eq(DeliveryStatus::Sending),
            webhook_deliveries::locked_until.eq(Ts(now + lease)),
            webhook_deliveries::attempts.eq(webhook_deliveries::attempts + 1),
        ))
        .execute(conn)?;
    let rows: Vec<(Delivery, (String, String))> = webhook_deliveries::table
        .inner_join(webhooks::table)
        .filter(webhook_deliveries::id.eq_any(&ids))
        .order((
            webhook_deliveries::next_attempt_at.asc(),
            webhook_deliveries::id.asc(),
        ))
        .select((Delivery::as_select(), (webhooks::url, webhooks::secret)))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(delivery, (url, secret))| Claimed {
            delivery,
            url,
            secret,
        })
        .collect())
}

/// Records a successful attempt; the webhook's run of failures ends.
pub fn mark_delivered(
    conn: &mut DbConn,
    delivery: &Delivery,
    status_code: i32,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(webhook_deliveries::table.find(delivery.id))
        .set((
            webhook_deliveries::status.eq(DeliveryStatus::Delivered),
            webhook_deliveries::delivered_at.eq(Ts(now)),
            webhook_deliveries::locked_until.eq(None::<Ts>),
            webhook_deliveries::last_status_code.eq(Some(status_code)),
            webhook_deliveries::last_error.eq(None::<String>),
        ))
        .execute(conn)?;
    diesel::update(webhooks::table.find(delivery.webhook_id))
        .set(webhooks::consecutive_failures.eq(0))
        .execute(conn)?;
    Ok(())
}

/// How a failed attempt ends.
pub struct Failure<'a> {
    pub status_code: Option<i32>,
    pub error: &'a str,
    /// When to try again; `None` gives up (the delivery is `failed`).
    pub retry_at: Option<DateTime<Utc>>,
}

/// Records a failed attempt and counts it against the webhook. Returns the webhook when this failure
/// reached `disable_after` consecutive failures and disabled it (the caller tells the administrators).
pub fn mark_failed(
    conn: &mut DbConn,
    delivery: &Delivery,
    failure: Failure<'_>,
    disable_after: i32,
    now: DateTime<Utc>,
) -> QueryResult<Option<Webhook>> {
    let status = if failure.retry_at.is_some() {
        DeliveryStatus::Pending
    } else {
        DeliveryStatus::Failed
    };
    diesel::update(webhook_deliveries::table.find(delivery.id))
        .set((
            webhook_deliveries::status.eq(status),
            webhook_deliveries::locked_until.eq(None::<Ts>),
            webhook_deliveries::last_status_code.eq(failure.status_code),
            webhook_deliveries::last_error.eq(failure.error),
            webhook_deliveries::next_attempt_at.eq(Ts(failure.retry_at.unwrap_or(now))),
        ))
        .execute(conn)?;
    diesel::update(webhooks::table.find(delivery.webhook_id))
        .set(webhooks::consecutive_failures.eq(webhooks::consecutive_failures + 1))
        .execute(conn)?;
    let Some(webhook) = find(conn, *delivery.webhook_id)? else {
        return Ok(None);
    };
    if webhook.disabled_at.is_some() || webhook.consecutive_failures < disable_after.max(1) {
        return Ok(None);
    }
    let reason = format!(
        "{} consecutive failed deliveries; last: {}",
        webhook.consecutive_failures, failure.error
    );
    // Conditional: of two failing deliveries at once, one disables the webhook (and tells the admins).
    let disabled = diesel::update(
        webhooks::table
            .find(webhook.id)
            .filter(webhooks::disabled_at.is_null()),
    )
    .set((
        webhooks::disabled_at.eq(Some(Ts(now))),
        webhooks::disabled_reason.eq(Some(&reason)),
        webhooks::updated_at.eq(Ts(now)),
    ))
    .execute(conn)?;
    if disabled == 0 {
        return Ok(None);
    }
    find(conn, *webhook.id)
}

/// One page of a webhook's deliveries, oldest first, optionally with one status.
pub fn list_deliveries(
    conn: &mut DbConn,
    webhook_id: Uuid,
    status: Option<DeliveryStatus>,
    after: Option<Uuid>,
    limit: i64,
) -> QueryResult<Vec<Delivery>> {
    let mut query = webhook_deliveries::table
        .filter(webhook_deliveries::webhook_id.eq(Uid(webhook_id)))
        .select(Delivery::as_select())
        .order(webhook_deliveries::id.asc())
        .limit(limit)
        .into_boxed();
    if let Some(status) = status {
        query = query.filter(webhook_deliveries::status.eq(status));
    }
    if let Some(after) = after {
        query = query.filter(webhook_deliveries::id.gt(Uid(after)));
    }
    query.load(conn)
}

/// How many deliveries are in each status, for the metrics.
pub fn count_by_status(conn: &mut DbConn) -> QueryResult<Vec<(DeliveryStatus, i64)>> {
    webhook_deliveries::table
        .group_by(webhook_deliveries::status)
        .select((webhook_deliveries::status, diesel::dsl::count_star()))
        .load(conn)
}
