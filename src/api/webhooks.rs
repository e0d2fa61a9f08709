//! Webhooks: staff register a URL, the event types and a secret; every matching domain event is then
//! posted there, signed, through the delivery worker.

use actix_web::{delete, get, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::api::extract::{status_filter, Admin, PageQuery, Paginated};
use crate::api::input::{Check, Input};
use crate::db::types::{Json, Ts, Uid};
use crate::domain::delivery::DeliveryStatus;
use crate::domain::identifiers::InvalidValue;
use crate::error::{Error, FieldError, Problem};
use crate::notify::webhooks::check_target;
use crate::service::webhooks as service;
use crate::state::AppState;
use crate::store::events::TYPES;
use crate::store::webhooks::{self, Delivery, Webhook};

/// A webhook, without its secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookView {
    pub id: Uuid,
    pub url: String,
    /// Event types, or `["*"]` for all.
    pub events: Vec<String>,
    pub description: Option<String>,
    /// `active`, or `disabled` after too many consecutive failed deliveries.
    pub status: String,
    pub consecutive_failures: i32,
    pub disabled_at: Option<DateTime<Utc>>,
    pub disabled_reason: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<Webhook> for WebhookView {
    fn from(w: Webhook) -> Self {
        let events = w
            .event_types
            .0
            .as_array()
            .map(|types| {
                types
                    .iter()
                    .filter_map(|t| t.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        WebhookView {
            id: *w.id,
            url: w.url,
            events,
            description: w.description,
            status: if w.disabled_at.is_some() {
                "disabled"
            } else {
                "active"
            }
            .into(),
            consecutive_failures: w.consecutive_failures,
            disabled_at: w.disabled_at.map(|t| t.0),
            disabled_reason: w.disabled_reason,
            created_at: w.created_at.0,
        }
    }
}

/// One delivery of an event to a webhook, with the outcome of its last attempt.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryView {
    pub id: Uuid,
    pub event_id: Uuid,
    pub event_type: String,
    /// `pending`, `sending`, `delivered` or `failed` (retried for a day, then given up).
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// The HTTP status of the last answer, if there was one.
    pub last_status_code: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
}

impl From<Delivery> for DeliveryView {
    fn from(d: Delivery) -> Self {
        let waiting = d.status.is_waiting();
        DeliveryView {
            id: *d.id,
            event_id: *d.event_id,
            event_type: d.event_type,
            status: d.status.as_str().into(),
            attempts: d.attempts,
            next_attempt_at: waiting.then_some(d.next_attempt_at.0),
            last_status_code: d.last_status_code,
            last_error: d.last_error,
            created_at: d.created_at.0,
            delivered_at: d.delivered_at.map(|t| t.0),
        }
    }
}

/// `POST /admin/webhooks`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhook {
    /// An http(s) URL on a public address (unless the operator allows private ones).
    #[schema(required = true)]
    pub url: Option<String>,
    /// Event types to receive, or `["*"]` for all.
    #[schema(required = true)]
    pub events: Option<Vec<String>>,
    /// The signing secret, 16 to 256 characters; keep it on the receiving side, it is never shown again.
    #[schema(required = true)]
    pub secret: Option<String>,
    pub description: Option<String>,
}

/// Registers a webhook.
#[utoipa::path(
    operation_id = "createWebhook",
    tag = "integrations",
    request_body = CreateWebhook,
    responses(
        (status = 201, body = WebhookView),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/admin/webhooks")]
pub async fn create(
    state: web::Data<AppState>,
    Admin(caller): Admin,
    input: Input<CreateWebhook>,
) -> Result<HttpResponse, Error> {
    let (body, mut check) = input.into_parts();
    let allow_private = state.settings.webhooks.allow_private_targets;
    let url = check.required("url", body.url.as_deref(), |raw| {
        check_target(raw, allow_private)
            .map(|url| url.to_string())
            .map_err(|e| InvalidValue::new(e.code(), e.to_string()))
    });
    let secret = check.required("secret", body.secret, signing_secret);
    let description = check.optional("description", body.description, description);
    let events = event_types(&mut check, body.events);
    let (Some(url), Some(secret), Some(events)) = (url, secret, events) else {
        return Err(check.into_error());
    };
    check.finish()?;
    let now = state.clock.now();
    let webhook = Webhook {
        id: Uid(Uuid::now_v7()),
        url,
        event_types: Json(json!(events)),
        secret,
        description,
        consecutive_failures: 0,
        disabled_at: None,
        disabled_reason: None,
        created_by: Some(Uid(caller.user_id)),
        created_at: Ts(now),
        updated_at: Ts(now),
    };
    let saved = state
        .db
        .write(move |conn| service::create(conn, caller.user_id, webhook, now))
        .await?;
    Ok(HttpResponse::Created().json(WebhookView::from(saved)))
}

fn signing_secret(secret: String) -> Result<String, InvalidValue> {
    match secret.chars().count() {
        16..=256 => Ok(secret),
        _ => Err(InvalidValue::new(
            "invalid_length",
            "the secret has 16 to 256 characters (32 random bytes, hex-encoded, is a good choice)",
        )),
    }
}

fn description(d: String) -> Result<String, InvalidValue> {
    if d.chars().count() <= 200 {
        Ok(d.trim().to_owned())
    } else {
        Err(InvalidValue::new(
            "too_long",
            "a description has at most 200 characters",
        ))
    }
}

/// The event types a webhook asks for, without repeats: known types or `*`, at least one.
fn event_types(check: &mut Check, names: Option<Vec<String>>) -> Option<Vec<String>> {
    let names = match names {
        None => {
            check.push(FieldError::new(
                "events",
                "required",
                "this field is required",
            ));
            return None;
        }
        Some(names) if names.is_empty() => {
            check.push(FieldError::new(
                "events",
                "required",
                "give at least one event type, or \"*\" for all",
            ));
            return None;
        }
        Some(names) => names,
    };
    let mut events: Vec<String> = Vec::new();
    for (i, name) in names.iter().enumerate() {
        if name == "*" || TYPES.contains(&name.as_str()) {
            if !events.contains(name) {
                events.push(name.clone());
            }
        } else {
            check.push(FieldError::new(
                format!("events.{i}"),
                "unknown_event_type",
                format!("`{name}` is not an event type"),
            ));
        }
    }
    Some(events)
}

/// The registered webhooks, oldest first.
#[utoipa::path(
    operation_id = "listWebhooks",
    tag = "integrations",
    params(PageQuery),
    responses((status = 200, body = Paginated<WebhookView>), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = []))
)]
#[get("/admin/webhooks")]
pub async fn list(
    state: web::Data<AppState>,
    _: Admin,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, Error> {
    let page = query.page()?;
    let rows = state
        .db
        .read(move |conn| Ok(webhooks::list(conn, page.after, page.limit + 1)?))
        .await?;
    let views: Vec<WebhookView> = rows.into_iter().map(WebhookView::from).collect();
    Ok(HttpResponse::Ok().json(Paginated::from_rows(views, page, |w| w.id)))
}

/// One webhook.
#[utoipa::path(
    operation_id = "getWebhook",
    tag = "integrations",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = WebhookView), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
#[get("/admin/webhooks/{id}")]
pub async fn get_one(
    state: web::Data<AppState>,
    _: Admin,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, Error> {
    let id = id.into_inner();
    let webhook = state
        .db
        .read(move |conn| webhooks::find(conn, id)?.ok_or(Error::NotFound))
        .await?;
    Ok(HttpResponse::Ok().json(WebhookView::from(webhook)))
}

/// Deletes a webhook and its delivery log; pending deliveries are dropped.
#[utoipa::path(
    operation_id = "deleteWebhook",
    tag = "integrations",
    params(("id" = Uuid, Path)),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
#[delete("/admin/webhooks/{id}")]
pub async fn remove(
    state: web::Data<AppState>,
    Admin(caller): Admin,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, Error> {
    let id = id.into_inner();
    let now = state.clock.now();
    state
        .db
        .write(move |conn| service::delete(conn, caller.user_id, id, now))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Turns a disabled webhook back on; its pending deliveries resume at once.
#[utoipa::path(
    operation_id = "enableWebhook",
    tag = "integrations",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = WebhookView), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
#[post("/admin/webhooks/{id}/enable")]
pub async fn enable(
    state: web::Data<AppState>,
    Admin(caller): Admin,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, Error> {
    let id = id.into_inner();
    let now = state.clock.now();
    let webhook = state
        .db
        .write(move |conn| service::enable(conn, caller.user_id, id, now))
        .await?;
    state.outbox_wakeup.notify_one();
    Ok(HttpResponse::Ok().json(WebhookView::from(webhook)))
}

/// Queues a `webhook.test` delivery (not a domain event: it is not in the feed) → 202 with the delivery,
/// whose outcome then shows in the delivery log.
#[utoipa::path(
    operation_id = "sendTestWebhook",
    tag = "integrations",
    params(("id" = Uuid, Path)),
    responses(
        (status = 202, body = DeliveryView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, description = "The webhook is disabled", body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/admin/webhooks/{id}/test")]
pub async fn send_test(
    state: web::Data<AppState>,
    Admin(caller): Admin,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, Error> {
    let id = id.into_inner();
    let now = state.clock.now();
    let delivery = state
        .db
        .write(move |conn| service::queue_test(conn, caller.user_id, id, now))
        .await?;
    state.outbox_wakeup.notify_one();
    Ok(HttpResponse::Accepted().json(DeliveryView::from(delivery)))
}

/// `?status=&limit=&cursor=` of the delivery log.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveryQuery {
    /// `pending`, `sending`, `delivered` or `failed`.
    pub status: Option<String>,
    /// How many items, 1 to 200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The delivery log of a webhook, oldest first.
#[utoipa::path(
    operation_id = "listWebhookDeliveries",
    tag = "integrations",
    params(("id" = Uuid, Path), DeliveryQuery),
    responses(
        (status = 200, body = Paginated<DeliveryView>), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[get("/admin/webhooks/{id}/deliveries")]
pub async fn deliveries(
    state: web::Data<AppState>,
    _: Admin,
    id: web::Path<Uuid>,
    query: web::Query<DeliveryQuery>,
) -> Result<HttpResponse, Error> {
    let id = id.into_inner();
    let query = query.into_inner();
    let status: Option<DeliveryStatus> = status_filter(
        query.status.as_deref(),
        "pending, sending, delivered or failed",
    )?;
    let page = PageQuery {
        limit: query.limit,
        cursor: query.cursor,
    }
    .page()?;
    let rows = state
        .db
        .read(move |conn| {
            webhooks::find(conn, id)?.ok_or(Error::NotFound)?;
            Ok(webhooks::list_deliveries(
                conn,
                id,
                status,
                page.after,
                page.limit + 1,
            )?)
        })
        .await?;
    let views: Vec<DeliveryView> = rows.into_iter().map(DeliveryView::from).collect();
    Ok(HttpResponse::Ok().json(Paginated::from_rows(views, page, |d| d.id)))
}
