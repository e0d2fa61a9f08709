//! The timeline of an application over HTTP. What it shows is decided by
//! [`crate::domain::timeline::shown_to_applicant`].

use actix_web::{get, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::extract::Caller;
use crate::domain::timeline::{Item, ItemKind};
use crate::error::{Error, Problem};
use crate::service::timeline as use_case;
use crate::state::AppState;

/// One line of a timeline: when, what, and its details at the same level (`reason` and `due_at` of
/// `changes_requested`, `reason` of `ineligible` and `withdrawn`, `reference` of `submitted`, `next_stage`
/// of `shortlisted`, `outcome`, `motivation`, `version` of `decision_published`, `from`, `to`,
/// `motivation`, `reason`, `version` of `decision_revised`, `appeal_id` and `grounds` of `appeal_filed`,
/// `appeal_id`, `outcome`, `motivation` of `appeal_resolved`, `message_id` and `author_side`
/// (`applicant` or `staff`) of `message`).
#[derive(Debug, Serialize, ToSchema)]
pub struct TimelineItem {
    pub at: DateTime<Utc>,
    pub kind: ItemKind,
}

/// What happened to an application, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct Timeline {
    #[schema(value_type = Vec<TimelineItem>)]
    pub items: Vec<Value>,
    /// True when the timeline was cut (more than 500 lines of one kind, such as a very long thread).
    pub truncated: bool,
}

fn line(item: Item) -> Value {
    let mut object = item.details;
    object.insert("at".into(), serde_json::json!(item.at));
    object.insert("kind".into(), serde_json::json!(item.kind));
    Value::Object(object)
}

/// What happened to an application, as its applicant was told, oldest first: created, submitted, changes
/// requested (reason, due date), resubmitted, eligible or ineligible (reason), shortlisted (next stage) or
/// not, the decision published (outcome, motivation), each revision (from, to, reason), a withdrawal,
/// appeals filed and resolved, and the messages of the thread (which side wrote them; their text is in
/// `GET /applications/{id}/messages`). Never a pending decision, a juror, a score, a conflict or an internal
/// note. Members of the applicant organization and the call's staff; jurors and anyone else 404.
#[utoipa::path(
    operation_id = "getApplicationTimeline",
    tag = "applications",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Timeline), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
#[get("/applications/{id}/timeline")]
pub async fn timeline(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, Error> {
    let id = id.into_inner();
    let (items, truncated) = state
        .db
        .read(move |conn| use_case::of_application(conn, &caller, id))
        .await?;
    Ok(HttpResponse::Ok().json(Timeline {
        items: items.into_iter().map(line).collect(),
        truncated,
    }))
}
