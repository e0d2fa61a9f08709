//! Drafts: starting an application, listing and reading applications, changing a draft's answers.

use actix_web::http::StatusCode;
use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::views::{
    ok_with_etag, ApplicationSummary, ApplicationView, DecisionSummaryView, NewDraftView,
    PartnerView, PrefillView,
};
use crate::api::etag;
use crate::api::extract::{Caller, Page, PageQuery, Paginated};
use crate::api::idempotency::{self, Reply};
use crate::api::input::{Check, Input};
use crate::auth::permissions::{Principal, Scope};
use crate::domain::application::ApplicationStatus;
use crate::error::{Error, FieldError, Problem};
use crate::service::applications::{self as use_case, NewDraft};
use crate::service::decision_history;
use crate::state::AppState;
use crate::store::applications::{self, ListFilter};
use crate::store::{organizations, pairings};

/// `POST /calls/{id}/applications`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApplication {
    #[schema(required = true)]
    pub organization_id: Option<Uuid>,
    /// Answers so far, keyed by the form's field keys; each must be well-formed.
    #[schema(value_type = Option<Object>)]
    pub answers: Option<Value>,
    /// Copy the answers of the organization's application to the previous edition of the call that still
    /// fit the form (same key and type, still valid; never files); the answers given here win. The answer
    /// lists what was copied and left out (`prefill`).
    pub prefill_from_previous: Option<bool>,
}

/// Starts a draft application of an organization to an open call.
#[utoipa::path(
    operation_id = "createApplication",
    tag = "applications",
    params(("id" = Uuid, Path, description = "The call"), ("Idempotency-Key" = Option<String>, Header)),
    request_body = CreateApplication,
    responses(
        (status = 201, body = NewDraftView), (status = 401, body = Problem), (status = 404, body = Problem),
        (status = 409, description = "The call is not open, or the organization already applied", body = Problem),
        (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/calls/{id}/applications")]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    call_id: web::Path<Uuid>,
    input: Input<CreateApplication>,
) -> Result<HttpResponse, Error> {
    let caller = caller.0;
    caller.require_scope(Scope::ApplicationsWrite)?;
    let call_id = call_id.into_inner();
    let body_hash = input.body_hash.clone();
    let user_id = caller.user_id;
    idempotency::once(&state, &req, user_id, &body_hash, || {
        create_application(&state, caller, call_id, input)
    })
    .await
}

async fn create_application(
    state: &AppState,
    caller: Principal,
    call_id: Uuid,
    input: Input<CreateApplication>,
) -> Result<Reply, Error> {
    let (body, mut check) = input.into_parts();
    let organization_id = check.required("organization_id", body.organization_id, Ok);
    let answers = answers_object(body.answers, &mut check);
    let draft = NewDraft {
        call_id,
        organization_id,
        answers,
        prefill_from_previous: body.prefill_from_previous.unwrap_or(false),
        check,
    };
    let now = state.clock.now();
    let (app, prefill) = state
        .db
        .write(move |conn| use_case::create_draft(conn, &caller, draft, now))
        .await?;
    let etag = etag::of_version(app.version);
    let view = NewDraftView {
        application: ApplicationView::new(&app, &[]),
        prefill: prefill.as_ref().map(PrefillView::new),
    };
    Ok(Reply::json(StatusCode::CREATED, view)?.with_etag(etag))
}

/// Filters of the application list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ApplicationQuery {
    pub call_id: Option<String>,
    pub status: Option<String>,
    /// Part of a reference or of an organization's name.
    pub q: Option<String>,
    /// How many items, 1 to 200 (default 50).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 200)]
    pub limit: Option<String>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Applications the caller may see: applicants their organizations', administrators all.
#[utoipa::path(
    operation_id = "listApplications",
    tag = "applications",
    params(ApplicationQuery),
    responses((status = 200, body = Paginated<ApplicationSummary>), (status = 401, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = []))
)]
#[get("/applications")]
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<ApplicationQuery>,
) -> Result<HttpResponse, Error> {
    let caller = caller.0;
    caller.require_scope(Scope::ApplicationsRead)?;
    let (filter, page) = list_filter(&caller, query.into_inner())?;
    let rows = state
        .db
        .read(move |conn| Ok(applications::list(conn, &filter)?))
        .await?;
    let items: Vec<ApplicationSummary> = rows.into_iter().map(ApplicationSummary::from).collect();
    Ok(HttpResponse::Ok().json(Paginated::from_rows(items, page, |a| a.id)))
}

/// The store's filter for the list's query (one 422 naming every invalid parameter), fetching one row more
/// than the page to know whether another follows.
fn list_filter(caller: &Principal, query: ApplicationQuery) -> Result<(ListFilter, Page), Error> {
    let mut errors = Vec::new();
    let call_id = match query.call_id.as_deref().map(Uuid::parse_str) {
        Some(Err(_)) => {
            errors.push(FieldError::new("call_id", "invalid_uuid", "a call id"));
            None
        }
        Some(Ok(id)) => Some(id),
        None => None,
    };
    let status = match query.status.as_deref().map(str::parse::<ApplicationStatus>) {
        Some(Err(_)) => {
            errors.push(FieldError::new(
                "status",
                "invalid_status",
                "an application status",
            ));
            None
        }
        Some(Ok(status)) => Some(status),
        None => None,
    };
    let page = PageQuery {
        limit: query.limit,
        cursor: query.cursor,
    }
    .page();
    if let Err(Error::Validation(mut more)) = page {
        errors.append(&mut more);
        return Err(Error::Validation(errors));
    }
    if !errors.is_empty() {
        return Err(Error::Validation(errors));
    }
    let page = page?;
    let filter = ListFilter {
        member: (!caller.is_admin()).then_some(caller.user_id),
        as_call_staff: caller.has_staff_scope(),
        call_id,
        status,
        q: query
            .q
            .filter(|q| !q.trim().is_empty())
            .map(|q| q.trim().to_owned()),
        after: page.after,
        limit: page.limit + 1,
    };
    Ok((filter, page))
}

/// An application with its answers and files.
#[utoipa::path(
    operation_id = "getApplication",
    tag = "applications",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = ApplicationView, headers(("ETag" = String))), (status = 401, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
#[get("/applications/{id}")]
pub async fn get_one(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, Error> {
    let caller = caller.0;
    let id = id.into_inner();
    let (app, files, partner, decision) = state
        .db
        .read(move |conn| {
            let (app, _, facts) = use_case::load_readable_with_facts(conn, &caller, id)?;
            let files = applications::attachments_of(conn, id)?;
            let partner = match pairings::confirmed_partners(conn, &[id])?.first() {
                Some((_, org)) => organizations::find(conn, **org)?.map(|o| PartnerView {
                    organization_id: *o.id,
                    name: o.legal_name,
                }),
                None => None,
            };
            let decision = decision_history::published_decision(conn, &caller, &app, &facts)?;
            Ok((app, files, partner, decision))
        })
        .await?;
    Ok(ok_with_etag(ApplicationView {
        partner,
        decision: decision
            .as_ref()
            .and_then(|d| DecisionSummaryView::new(id, d)),
        ..ApplicationView::new(&app, &files)
    }))
}

/// `PATCH /applications/{id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateApplication {
    /// Merged into the answers; `null` clears one.
    #[schema(value_type = Object, required = true)]
    pub answers: Option<Value>,
}

/// Changes answers of a draft (or of an application whose changes were requested), with `If-Match`.
#[utoipa::path(
    operation_id = "updateApplication",
    tag = "applications",
    params(("id" = Uuid, Path), ("If-Match" = String, Header)),
    request_body = UpdateApplication,
    responses(
        (status = 200, body = ApplicationView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, description = "No longer editable", body = Problem),
        (status = 412, body = Problem), (status = 422, body = Problem), (status = 428, body = Problem),
    ),
    security(("bearer" = []))
)]
#[patch("/applications/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
    input: Input<UpdateApplication>,
) -> Result<HttpResponse, Error> {
    let caller = caller.0;
    let id = id.into_inner();
    let if_match = etag::if_match(&req);
    let now = state.clock.now();
    let (body, mut check) = input.into_parts();
    if body.answers.is_none() {
        check.push(FieldError::new(
            "answers",
            "required",
            "this field is required",
        ));
    }
    let given = answers_object(body.answers, &mut check);
    let (app, files) = state
        .db
        .write(move |conn| {
            let app = use_case::save_answers(conn, &caller, id, if_match, given, check, now)?;
            let files = applications::attachments_of(conn, id)?;
            Ok((app, files))
        })
        .await?;
    Ok(ok_with_etag(ApplicationView::new(&app, &files)))
}

fn answers_object(value: Option<Value>, check: &mut Check) -> Map<String, Value> {
    match value {
        None => Map::new(),
        Some(Value::Object(map)) => map,
        Some(_) => {
            check.push(FieldError::new(
                "answers",
                "invalid_type",
                "answers are an object keyed by field",
            ));
            Map::new()
        }
    }
}
