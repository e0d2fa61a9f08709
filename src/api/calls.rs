//! Calls for applications: templates, creation, publication, reading, next editions ([`editions`]). The rules
//! of creating, changing and publishing live in [`crate::service::calls`]; the bodies and how they become a
//! call in [`body`]; what the API shows in [`views`].

mod body;
mod editions;
mod views;

use actix_web::http::{header, StatusCode};
use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use crate::api::etag;
use crate::api::extract::{Admin, Caller, Page, PageQuery, Paginated};
use crate::api::idempotency::{self, Reply};
use crate::api::input::Input;
use crate::auth::permissions::{visible_drafts, Principal};
use crate::domain::form::{builtin_templates_after, CallTemplate};
use crate::error::{Error, Problem};
use crate::service::calls::{self as use_case, CallEdit};
use crate::state::AppState;
use crate::store::calls::{self, Call};

pub use body::{CreateCall, UpdateCall};
pub use editions::{create as create_edition, CreateEdition};
pub use views::{CallSummary, CallView};

/// A call as an answer: its view at `now` with its `ETag`.
fn with_etag(status: StatusCode, call: &Call, now: DateTime<Utc>) -> Result<HttpResponse, Error> {
    let view = CallView::new(call, now)?;
    Ok(HttpResponse::build(status)
        .insert_header((header::ETAG, etag::of_version(view.version)))
        .json(view))
}

/// The call templates shipped with Cordée, in name order.
#[utoipa::path(operation_id = "listCallTemplates", tag = "calls", params(PageQuery), responses((status = 200, body = Paginated<CallTemplate>), (status = 422, body = Problem)))]
#[get("/call-templates")]
pub async fn templates(query: web::Query<PageQuery>) -> Result<HttpResponse, Error> {
    let page: Page<String> = query.page()?;
    let templates = builtin_templates_after(page.after.as_deref(), page.fetch() as usize);
    Ok(
        HttpResponse::Ok().json(Paginated::from_rows(templates, page, |t| {
            t.template.clone()
        })),
    )
}

/// Creates a call in `draft`, from a template and overrides.
#[utoipa::path(
    operation_id = "createCall",
    tag = "calls",
    params(("Idempotency-Key" = Option<String>, Header)),
    request_body = CreateCall,
    responses(
        (status = 201, body = CallView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 409, description = "Another call has this reference prefix and edition (`edition_taken`)", body = Problem),
        (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/calls")]
pub async fn create(
    state: web::Data<AppState>,
    Admin(caller): Admin,
    req: HttpRequest,
    input: Input<CreateCall>,
) -> Result<HttpResponse, Error> {
    let body_hash = input.body_hash.clone();
    let user_id = caller.user_id;
    idempotency::once(&state, &req, user_id, &body_hash, || {
        create_call(&state, caller, input)
    })
    .await
}

async fn create_call(
    state: &AppState,
    caller: Principal,
    input: Input<CreateCall>,
) -> Result<Reply, Error> {
    let (body, check) = input.into_parts();
    let now = state.clock.now();
    let call = body.into_call(check, caller.user_id, now)?;
    let call = state
        .db
        .write(move |conn| use_case::create(conn, &caller, call, now))
        .await?;
    let view = CallView::new(&call, now)?;
    let etag = etag::of_version(view.version);
    Ok(Reply::json(StatusCode::CREATED, view)?.with_etag(etag))
}

/// `?status=` of the call list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CallQuery {
    /// How many items, 1 to 200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The calls, with their phase on the server clock; drafts only for administrators and their own managers
/// and observers.
#[utoipa::path(operation_id = "listCalls", tag = "calls", params(CallQuery), responses((status = 200, body = Paginated<CallSummary>), (status = 422, body = Problem)))]
#[get("/calls")]
pub async fn list(
    state: web::Data<AppState>,
    caller: Option<Caller>,
    query: web::Query<CallQuery>,
) -> Result<HttpResponse, Error> {
    let query = query.into_inner();
    let page = PageQuery {
        limit: query.limit,
        cursor: query.cursor,
    }
    .page()?;
    let drafts = visible_drafts(caller.as_ref().map(|c| &c.0));
    let rows = state
        .db
        .read(move |conn| Ok(calls::list(conn, drafts, page.after, page.limit + 1)?))
        .await?;
    let now = state.clock.now();
    let items = rows
        .iter()
        .map(|c| CallSummary::new(c, now))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(HttpResponse::Ok().json(Paginated::from_rows(items, page, |c| c.id)))
}

/// A call with its form and criteria, by id or slug (a draft only for administrators and its own managers
/// and observers).
#[utoipa::path(
    operation_id = "getCall",
    tag = "calls",
    params(("id" = String, Path, description = "Id or slug")),
    responses((status = 200, body = CallView, headers(("ETag" = String))), (status = 404, body = Problem))
)]
#[get("/calls/{id}")]
pub async fn get_one(
    state: web::Data<AppState>,
    caller: Option<Caller>,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let id = id.into_inner();
    let caller = caller.map(|c| c.0);
    let call = state
        .db
        .read(move |conn| crate::service::staff::readable_call(conn, caller.as_ref(), &id))
        .await?;
    with_etag(StatusCode::OK, &call, state.clock.now())
}

/// Changes a call (administrators, with `If-Match`). The form, criteria and eligibility freeze once an
/// application is submitted (409); the stages' dates and extra documents may still change.
#[utoipa::path(
    operation_id = "updateCall",
    tag = "calls",
    params(("id" = Uuid, Path), ("If-Match" = String, Header)),
    request_body = UpdateCall,
    responses(
        (status = 200, body = CallView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, description = "Frozen", body = Problem),
        (status = 412, body = Problem), (status = 422, body = Problem), (status = 428, body = Problem),
    ),
    security(("bearer" = []))
)]
#[patch("/calls/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    Admin(caller): Admin,
    req: HttpRequest,
    id: web::Path<Uuid>,
    input: Input<UpdateCall>,
) -> Result<HttpResponse, Error> {
    let if_match = etag::if_match(&req)?;
    let id = id.into_inner();
    let now = state.clock.now();
    let (body, check) = input.into_parts();
    let edit = CallEdit {
        if_match,
        touches_definition: body.touches_definition(),
        apply: move |before: &Call| body.apply(before, check, now),
    };
    let call = state
        .db
        .write(move |conn| use_case::update(conn, &caller, id, edit, now))
        .await?;
    with_etag(StatusCode::OK, &call, now)
}

/// Publishes a draft call: it becomes visible, and open between its dates.
#[utoipa::path(
    operation_id = "publishCall",
    tag = "calls",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = CallView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, description = "Not a draft", body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/calls/{id}/publish")]
pub async fn publish(
    state: web::Data<AppState>,
    Admin(caller): Admin,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, Error> {
    let id = id.into_inner();
    let now = state.clock.now();
    let call = state
        .db
        .write(move |conn| use_case::publish(conn, &caller, id, now))
        .await?;
    with_etag(StatusCode::OK, &call, now)
}
