//! Staff tools: the email outbox and the audit log.

use actix_web::{get, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::api::extract::{status_filter, Admin, PageQuery, Paginated};
use crate::domain::delivery::OutboxStatus;
use crate::error::{Error, FieldError, Problem};
use crate::service::outbox;
use crate::state::AppState;
use crate::store::audit;
use crate::store::outbox::{list, OutboxEmail};

/// A queued email, without its body (which may hold one-time links).
#[derive(Debug, Serialize, ToSchema)]
pub struct OutboxView {
    pub id: Uuid,
    pub event: String,
    pub recipient: String,
    pub locale: String,
    pub subject: String,
    /// `pending`, `sending`, `sent` or `failed`.
    pub status: String,
    pub attempts: i32,
    pub max_attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub message_id: String,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

impl From<OutboxEmail> for OutboxView {
    fn from(e: OutboxEmail) -> Self {
        OutboxView {
            id: *e.id,
            event: e.event,
            recipient: e.recipient,
            locale: e.locale,
            subject: e.subject,
            status: e.status.as_str().into(),
            attempts: e.attempts,
            max_attempts: e.max_attempts,
            next_attempt_at: e.next_attempt_at.0,
            last_error: e.last_error,
            message_id: e.message_id,
            created_at: e.created_at.0,
            sent_at: e.sent_at.map(|t| t.0),
        }
    }
}

/// `?status=` of the outbox list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OutboxQuery {
    /// `pending`, `sending`, `sent` or `failed`.
    pub status: Option<String>,
    /// How many items, 1 to 200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The email outbox, oldest first.
#[utoipa::path(
    operation_id = "listOutbox",
    tag = "admin",
    params(OutboxQuery),
    responses((status = 200, body = Paginated<OutboxView>), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = []))
)]
#[get("/admin/outbox")]
pub async fn list_outbox(
    state: web::Data<AppState>,
    _: Admin,
    query: web::Query<OutboxQuery>,
) -> Result<HttpResponse, Error> {
    let query = query.into_inner();
    let status: Option<OutboxStatus> =
        status_filter(query.status.as_deref(), "pending, sending, sent or failed")?;
    let page = PageQuery {
        limit: query.limit,
        cursor: query.cursor,
    }
    .page()?;
    let rows = state
        .db
        .read(move |conn| Ok(list(conn, status, page.after, page.limit + 1)?))
        .await?;
    let views: Vec<OutboxView> = rows.into_iter().map(OutboxView::from).collect();
    Ok(HttpResponse::Ok().json(Paginated::from_rows(views, page, |v| v.id)))
}

/// Puts a failed email back in the queue with a fresh set of attempts. A one-time link it carried is
/// renewed (a fresh secret and expiry; the old one stops working), since its secret was not kept.
#[utoipa::path(
    operation_id = "retryOutboxMessage",
    tag = "admin",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = OutboxView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, description = "Already sent or being sent, or its one-time link was used or withdrawn since", body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/admin/outbox/{id}/retry")]
pub async fn retry_outbox(
    state: web::Data<AppState>,
    Admin(caller): Admin,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, Error> {
    let id = id.into_inner();
    let now = state.clock.now();
    let auth = state.settings.auth.clone();
    let email = state
        .db
        .write(move |conn| outbox::retry(conn, caller.user_id, id, &auth, now))
        .await?;
    state.outbox_wakeup.notify_one();
    Ok(HttpResponse::Ok().json(OutboxView::from(email)))
}

/// One audit entry.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditView {
    pub id: Uuid,
    pub actor_id: Option<Uuid>,
    pub action: String,
    pub entity_type: String,
    pub entity_id: Uuid,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    pub at: DateTime<Utc>,
}

/// `?entity_type=&entity_id=` of the audit log.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    /// How many items, 1 to 200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Who did what, when, with the state before and after.
#[utoipa::path(
    operation_id = "listAuditEntries",
    tag = "admin",
    params(AuditQuery),
    responses((status = 200, body = Paginated<AuditView>), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = []))
)]
#[get("/audit")]
pub async fn list_audit(
    state: web::Data<AppState>,
    _: Admin,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, Error> {
    let query = query.into_inner();
    let entity_id = match query.entity_id.as_deref() {
        None => None,
        Some(raw) => Some(Uuid::parse_str(raw).map_err(|_| {
            Error::Validation(vec![FieldError::new("entity_id", "invalid_uuid", "a UUID")])
        })?),
    };
    let page = PageQuery {
        limit: query.limit,
        cursor: query.cursor,
    }
    .page()?;
    let entity_type = query.entity_type;
    let rows = state
        .db
        .read(move |conn| {
            Ok(audit::list(
                conn,
                entity_type.as_deref(),
                entity_id,
                page.after,
                page.limit + 1,
            )?)
        })
        .await?;
    let views: Vec<AuditView> = rows
        .into_iter()
        .map(|e| AuditView {
            id: *e.id,
            actor_id: e.actor_id.map(|a| a.0),
            action: e.action,
            entity_type: e.entity_type,
            entity_id: *e.entity_id,
            before: e.before.map(|j| j.0),
            after: e.after.map(|j| j.0),
            at: e.created_at.0,
        })
        .collect();
    Ok(HttpResponse::Ok().json(Paginated::from_rows(views, page, |v| v.id)))
}
