//! The thread between an applicant and the call's staff; each side is emailed when the other writes.

use actix_web::{get, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::extract::{Caller, PageQuery, Paginated};
use crate::api::input::Input;
use crate::auth::permissions::{can_read_application, ApplicationFacts, Scope};
use crate::db::types::{Ts, Uid};
use crate::domain::action::Action;
use crate::domain::identifiers::InvalidValue;
use crate::error::{Error, Problem};
use crate::notify::applications::About;
use crate::notify::templates::Event;
use crate::service::applications::load;
use crate::state::AppState;
use crate::store::applications::{self, Message};
use crate::store::journal::{publish, Entity, Feed, Happened};
use crate::store::{calls, organizations, users};

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
    let views = state
        .db
        .read(move |conn| {
            let (_, role) = load(conn, &caller, id)?;
            can_read_application(&caller, &ApplicationFacts::member(role))?;
            let messages = applications::messages_of(conn, id, page.after, page.limit + 1)?;
            Ok(messages
                .into_iter()
                .map(|(m, author_name)| MessageView {
                    id: *m.id,
                    author_side: m.author_side,
                    author_name,
                    body: m.body,
                    created_at: m.created_at.0,
                })
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(HttpResponse::Ok().json(Paginated::from_rows(views, page, |m| m.id)))
}

/// Writes to the thread: an applicant's message goes to the staff, a staff message to the applicant's members.
#[utoipa::path(
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
    let text = check.required("body", body.body.as_deref(), |raw| {
        let text = raw.trim();
        match text.chars().count() {
            0 => Err(InvalidValue::new("required", "a message cannot be empty")),
            1..=5000 => Ok(text.to_owned()),
            _ => Err(InvalidValue::new("too_long", "at most 5000 characters")),
        }
    });
    let Some(text) = text else {
        return Err(check.into_error());
    };
    check.finish()?;
    let now = state.clock.now();
    let state_for_tx = state.clone();
    let view = state
        .db
        .write(move |conn| {
            let state = state_for_tx;
            let (app, role) = load(conn, &caller, id)?;
            can_read_application(&caller, &ApplicationFacts::member(role))?;
            let side = if role.is_some() { "applicant" } else { "staff" };
            let author = users::find(conn, caller.user_id)?.ok_or(Error::NotFound)?;
            let message = Message {
                id: Uid(Uuid::now_v7()),
                application_id: Uid(id),
                author_id: Some(Uid(caller.user_id)),
                author_side: side.into(),
                body: text.clone(),
                created_at: Ts(now),
            };
            applications::insert_message(conn, &message)?;
            let posted = json!({"message_id": message.id, "side": side});
            Happened::new(
                Action::MessagePosted,
                Some(caller.user_id),
                Entity::Application(id),
            )
            .after(posted.clone())
            .record(conn, now)?;
            publish(
                conn,
                Action::ApplicationMessagePosted,
                Some(caller.user_id),
                Feed::application(*app.call_id, id, posted),
                now,
            )?;
            let call = calls::find(conn, *app.call_id)?.ok_or(Error::NotFound)?;
            let organization =
                organizations::find(conn, *app.organization_id)?.ok_or(Error::NotFound)?;
            let about = About {
                call: &call,
                organization: &organization,
                application: &app,
            };
            let extra = |_: &str| json!({"author_side": side, "message": text});
            if side == "applicant" {
                about.to_staff(conn, &state, Event::NewMessage, extra, now)?;
            } else {
                about.to_members(conn, &state, Event::NewMessage, extra, now)?;
            }
            Ok(MessageView {
                id: *message.id,
                author_side: message.author_side,
                author_name: Some(author.display_name),
                body: message.body,
                created_at: now,
            })
        })
        .await?;
    state.outbox_wakeup.notify_one();
    Ok(HttpResponse::Created().json(view))
}
