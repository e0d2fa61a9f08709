//! The thread between an applicant and the call's staff; each side is emailed when the other writes.

use actix_web::{get, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::extract::{Caller, PageQuery, Paginated};
use crate::api::input::Input;
use crate::auth::permissions::Scope;
use crate::domain::identifiers::InvalidValue;
use crate::error::{Error, Problem};
use crate::service::messages as use_case;
use crate::state::AppState;
use crate::store::applications::Message;

/// A message of the thread.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageView {
    pub id: Uuid,
    /// `applicant` or `staff`.
    pub author_side: String,
    pub author_name: Option<String>,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

impl MessageView {
    fn new(m: Message, author_name: Option<String>) -> MessageView {
        MessageView {
            id: *m.id,
            author_side: m.author_side.as_str().into(),
            author_name,
            body: m.body,
            created_at: m.created_at.0,
        }
    }
}

/// A message's text: trimmed, 1 to 5000 characters.
fn message_text(raw: &str) -> Result<String, InvalidValue> {
    let text = raw.trim();
    match text.chars().count() {
        0 => Err(InvalidValue::new("required", "a message cannot be empty")),
        1..=5000 => Ok(text.to_owned()),
        _ => Err(InvalidValue::new("too_long", "at most 5000 characters")),
    }
}

/// `POST /applications/{id}/messages`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMessage {
    /// 1 to 5000 characters.
    #[schema(required = true)]
    pub body: Option<String>,
}

/// The thread of an application, oldest first (its members and staff).
#[utoipa::path(
    operation_id = "listApplicationMessages",
    tag = "applications",
    params(("id" = Uuid, Path), PageQuery),
    responses((status = 200, body = Paginated<MessageView>), (status = 401, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = []))
)]
#[get("/applications/{id}/messages")]
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, Error> {
    let caller = caller.0;
    let id = id.into_inner();
    let page = query.page()?;
    let (after, limit) = (page.after, page.limit + 1);
    let messages = state
        .db
        .read(move |conn| use_case::page(conn, &caller, id, after, limit))
        .await?;
    let views: Vec<MessageView> = messages
        .into_iter()
        .map(|(m, author_name)| MessageView::new(m, author_name))
        .collect();
    Ok(HttpResponse::Ok().json(Paginated::from_rows(views, page, |m| m.id)))
}

/// Writes to the thread: an applicant's message goes to the staff, a staff message to the applicant's members.
#[utoipa::path(
    operation_id = "postApplicationMessage",
    tag = "applications",
    params(("id" = Uuid, Path)),
    request_body = NewMessage,
    responses((status = 201, body = MessageView), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = []))
)]
#[post("/applications/{id}/messages")]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    input: Input<NewMessage>,
) -> Result<HttpResponse, Error> {
    let caller = caller.0;
    caller.require_scope(Scope::ApplicationsWrite)?;
    let id = id.into_inner();
    let (body, mut check) = input.into_parts();
    let text = check.required("body", body.body.as_deref(), message_text);
    let Some(text) = text else {
        return Err(check.into_error());
    };
    check.finish()?;
    let now = state.clock.now();
    let state_for_tx = state.clone();
    let (message, author_name) = state
        .db
        .write(move |conn| use_case::post(conn, &state_for_tx, &caller, id, text, now))
        .await?;
    let view = MessageView::new(message, Some(author_name));
    state.outbox_wakeup.notify_one();
    Ok(HttpResponse::Created().json(view))
}
