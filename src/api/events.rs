//! The feed of domain events, for partner tools that follow what happens without polling every resource.

use actix_web::{get, web, HttpResponse};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::api::extract::{parse_limit, Admin};
use crate::error::{Error, FieldError, Problem};
use crate::state::AppState;
use crate::store::events::{self, TYPES};

/// `?after=&limit=&call_id=&type=` of the feed.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    /// The id of the last event already seen; the feed starts at the beginning without it.
    pub after: Option<String>,
    /// How many events, 1 to 200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    /// Only the events of this call.
    pub call_id: Option<String>,
    /// Only events of these types, comma-separated (e.g. `application.submitted,application.decided`).
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub types: Option<String>,
}

/// The feed's query once checked.
struct FeedFilter {
    after: Option<Uuid>,
    call_id: Option<Uuid>,
    types: Vec<String>,
    limit: i64,
}

impl FeedQuery {
    /// The filter asked for, or every parameter that is wrong.
    fn parse(self) -> Result<FeedFilter, Error> {
        let mut errors = Vec::new();
        let limit = parse_limit(self.limit.as_deref(), &mut errors);
        let mut uuid_param = |name: &str, raw: Option<&str>| match raw.filter(|r| !r.is_empty()) {
            None => None,
            Some(raw) => match Uuid::parse_str(raw) {
                Ok(id) => Some(id),
                Err(_) => {
                    errors.push(FieldError::new(name, "invalid_id", "not a valid id"));
                    None
                }
            },
        };
        let after = uuid_param("after", self.after.as_deref());
        let call_id = uuid_param("call_id", self.call_id.as_deref());
        let mut types = Vec::new();
        for name in self.types.iter().flat_map(|t| t.split(',')).map(str::trim) {
            if name.is_empty() {
                continue;
            }
            if TYPES.contains(&name) {
                types.push(name.to_owned());
            } else {
                errors.push(FieldError::new(
                    "type",
                    "unknown_event_type",
                    format!("`{name}` is not an event type"),
                ));
            }
        }
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        Ok(FeedFilter {
            after,
            call_id,
            types,
            limit,
        })
    }
}

/// A domain event. `data` holds identifiers and statuses, never personal data.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventView {
    pub id: Uuid,
    /// e.g. `application.submitted`.
    #[serde(rename = "type")]
    #[schema(rename = "type")]
    pub event_type: String,
    pub occurred_at: chrono::DateTime<chrono::Utc>,
    pub call_id: Option<Uuid>,
    pub application_id: Option<Uuid>,
    pub actor_id: Option<Uuid>,
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

impl From<events::Event> for EventView {
    fn from(e: events::Event) -> Self {
        EventView {
            id: *e.id,
            event_type: e.event_type,
            occurred_at: e.occurred_at.0,
            call_id: e.call_id.map(|id| *id),
            application_id: e.application_id.map(|id| *id),
            actor_id: e.actor_id.map(|id| *id),
            data: e.data.0,
        }
    }
}

/// One page of the feed.
#[derive(Debug, Serialize, ToSchema)]
pub struct Feed {
    /// Oldest first, in the order they happened.
    pub items: Vec<EventView>,
    /// The id to pass as `?after=` for the next page; null when this page reached the end of the feed
    /// (continue later from the last item's id).
    pub next_cursor: Option<Uuid>,
}

/// The ordered feed of domain events: every change of a call, its applications, jury and decisions, in the
/// order it was committed. Follow it with `?after=<last id seen>`.
#[utoipa::path(
    operation_id = "listEvents",
    tag = "integrations",
    params(FeedQuery),
    responses(
        (status = 200, body = Feed),
        (status = 401, body = Problem),
        (status = 403, body = Problem),
        (status = 422, description = "A bad limit, type or id, or `after` names no event", body = Problem),
    ),
    security(("bearer" = []))
)]
#[get("/events")]
pub async fn feed(
    state: web::Data<AppState>,
    _: Admin,
    query: web::Query<FeedQuery>,
) -> Result<HttpResponse, Error> {
    let FeedFilter {
        after,
        call_id,
        types,
        limit,
    } = query.into_inner().parse()?;
    let rows = state
        .db
        .read(move |conn| Ok(events::list(conn, after, call_id, &types, limit + 1)?))
        .await?;
    let Some(mut rows) = rows else {
        return Err(Error::Validation(vec![FieldError::new(
            "after",
            "unknown_event",
            "no event has this id",
        )]));
    };
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next_cursor = if more {
        rows.last().map(|e| *e.id)
    } else {
        None
    };
    Ok(HttpResponse::Ok().json(Feed {
        items: rows.into_iter().map(EventView::from).collect(),
        next_cursor,
    }))
}
