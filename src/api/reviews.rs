//! Blind reviews by assigned jurors: save a draft, submit it, list them, and staff reopening one. The rules
//! and side effects are in [`service::reviews`]; the ranking is in `ranking.rs`.

use std::collections::BTreeMap;

use actix_web::{get, post, put, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::extract::{Caller, Page, PageQuery, Paginated};
use crate::api::input::Input;
use crate::auth::permissions::Scope;
use crate::domain::identifiers::InvalidValue;
use crate::error::{Error, Problem};
use crate::service;
use crate::service::reviews::Draft;
use crate::state::AppState;
use crate::store::reviews::Review;

/// A review, as its author or staff see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewView {
    pub id: Uuid,
    pub application_id: Uuid,
    pub juror_id: Uuid,
    pub stage: String,
    pub scores: BTreeMap<String, f64>,
    pub comment: Option<String>,
    /// `draft` or `submitted` (locked).
    pub status: String,
    pub submitted_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

fn view(review: &Review, scores: BTreeMap<String, f64>) -> ReviewView {
    ReviewView {
        id: *review.id,
        application_id: *review.application_id,
        juror_id: *review.juror_id,
        stage: review.stage.clone(),
        scores,
        comment: review.comment.clone(),
        status: review.status.as_str().into(),
        submitted_at: review.submitted_at.map(|t| t.0),
        updated_at: review.updated_at.0,
    }
}

/// `PUT /applications/{id}/reviews/mine`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SaveReview {
    #[schema(required = true)]
    pub stage: Option<String>,
    /// Criterion key → score within the criterion's `[min, max]`; a draft may leave some out.
    #[schema(required = true)]
    pub scores: Option<BTreeMap<String, f64>>,
    pub comment: Option<String>,
}

/// Saves the caller's review as a draft (an assigned juror); 422 for an unknown criterion or a score out of
/// its range; 409 once submitted (`review_submitted`), when the application was withdrawn
/// (`application_withdrawn`) or after the stage's review deadline unless staff reopened the review
/// (`review_deadline_passed`).
#[utoipa::path(
    operation_id = "saveMyReview",
    tag = "evaluation",
    params(("id" = Uuid, Path)),
    request_body = SaveReview,
    responses(
        (status = 200, body = ReviewView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, description = "Already submitted, application withdrawn, or past the stage's review deadline", body = Problem), (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[put("/applications/{id}/reviews/mine")]
pub async fn save(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    input: Input<SaveReview>,
) -> Result<HttpResponse, Error> {
    let caller = caller.0;
    caller.require_scope(Scope::ReviewsWrite)?;
    let id = id.into_inner();
    let (body, mut check) = input.into_parts();
    let stage_key = check.required("stage", body.stage, Ok);
    let scores = check.required("scores", body.scores, Ok);
    let comment = check.optional("comment", body.comment.as_deref(), |c| {
        let c = c.trim();
        if c.chars().count() > 10_000 {
            Err(InvalidValue::new("too_long", "at most 10000 characters"))
        } else {
            Ok(c.to_owned())
        }
    });
    let (Some(stage_key), Some(scores)) = (stage_key, scores) else {
        return Err(check.into_error());
    };
    let draft = Draft {
        stage: stage_key,
        scores,
        comment,
    };
    let now = state.clock.now();
    let (review, scores) = state
        .db
        .write(move |conn| service::reviews::save(conn, &caller, id, draft, check, now))
        .await?;
    Ok(HttpResponse::Ok().json(view(&review, scores)))
}

/// `POST /applications/{id}/reviews/mine/submit`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitReview {
    #[schema(required = true)]
    pub stage: Option<String>,
}

/// Submits and locks the caller's review; 422 lists every criterion still unscored; 409 when already
/// submitted (`review_submitted`, also for the second of two submissions at once), when the application was
/// withdrawn (`application_withdrawn`) or after the stage's review deadline unless staff reopened the review
/// (`review_deadline_passed`).
#[utoipa::path(
    operation_id = "submitMyReview",
    tag = "evaluation",
    params(("id" = Uuid, Path)),
    request_body = SubmitReview,
    responses(
        (status = 200, body = ReviewView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, description = "Already submitted, application withdrawn, or past the stage's review deadline", body = Problem), (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/applications/{id}/reviews/mine/submit")]
pub async fn submit(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    input: Input<SubmitReview>,
) -> Result<HttpResponse, Error> {
    let caller = caller.0;
    caller.require_scope(Scope::ReviewsWrite)?;
    let id = id.into_inner();
    let (body, mut check) = input.into_parts();
    let Some(stage_key) = check.required("stage", body.stage, Ok) else {
        return Err(check.into_error());
    };
    check.finish()?;
    let now = state.clock.now();
    let (review, scores) = state
        .db
        .write(move |conn| service::reviews::submit(conn, &caller, id, &stage_key, now))
        .await?;
    Ok(HttpResponse::Ok().json(view(&review, scores)))
}

/// The reviews of an application, oldest first: staff see all of them; a juror only their own (blind
/// review).
#[utoipa::path(
    operation_id = "listApplicationReviews",
    tag = "evaluation",
    params(("id" = Uuid, Path), PageQuery),
    responses((status = 200, body = Paginated<ReviewView>), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = []))
)]
#[get("/applications/{id}/reviews")]
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, Error> {
    let caller = caller.0;
    caller.require_scope(Scope::ReviewsRead)?;
    let id = id.into_inner();
    let page: Page = query.page()?;
    let (after, limit) = (page.after, page.fetch());
    let reviews = state
        .db
        .read(move |conn| service::reviews::list(conn, &caller, id, after, limit))
        .await?;
    let views: Vec<ReviewView> = reviews.into_iter().map(|(r, s)| view(&r, s)).collect();
    Ok(HttpResponse::Ok().json(Paginated::from_rows(views, page, |r| r.id)))
}

/// Reopens a submitted review so that its juror can change it, even after the stage's review deadline
/// (administrators and the call's managers; audited). 409 (`review_not_submitted`) when it is not submitted, also for the second of
/// two reopenings at once.
#[utoipa::path(
    operation_id = "reopenReview",
    tag = "evaluation",
    params(("id" = Uuid, Path), ("review_id" = Uuid, Path)),
    responses(
        (status = 200, body = ReviewView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, description = "Not submitted", body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/applications/{id}/reviews/{review_id}/reopen")]
pub async fn reopen(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, Error> {
    let (id, review_id) = path.into_inner();
    let now = state.clock.now();
    let (review, scores) = state
        .db
        .write(move |conn| service::reviews::reopen(conn, &caller, id, review_id, now))
        .await?;
    Ok(HttpResponse::Ok().json(view(&review, scores)))
}
