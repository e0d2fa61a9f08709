//! Deliberation: shortlisting to the next stage, pending decisions, and their publication with one email
//! per application. The rules and the conditional writes live in [`crate::service::decisions`].

use actix_web::{get, post, put, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::extract::{Caller, Page, PageQuery, Paginated};
use crate::api::input::{Check, Input};
use crate::domain::application::DecisionOutcome;
use crate::domain::identifiers::InvalidValue;
use crate::error::{Error, Problem};
use crate::service::decisions::{self as use_case, NewDecision, ShortlistCounts, ShortlistRequest};
use crate::state::AppState;
use crate::store::decisions::Decision;

/// `POST /calls/{id}/shortlist`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Shortlist {
    #[schema(required = true)]
    pub application_ids: Option<Vec<Uuid>>,
    /// The stage they go on to, such as `pitch`.
    #[schema(required = true)]
    pub next_stage: Option<String>,
    /// Tell the applications left out now (false by default: they are told when the decisions are
    /// published). Either way each is told once.
    #[serde(default)]
    pub notify_not_shortlisted: bool,
}

/// What a shortlist did.
#[derive(Debug, Serialize, ToSchema)]
pub struct ShortlistResult {
    pub shortlisted: usize,
    pub not_shortlisted: usize,
}

/// Shortlists applications to the next stage: they become `shortlisted`, the others reviewed at the
/// previous stage `not_shortlisted`. Earlier reviews are kept. Each finalist's members are emailed
/// (`shortlisted`: the stage and its dates, the pitch slot to come, the documents asked); with
/// `notify_not_shortlisted`, the others get their notice now instead of at the publication. Each move is conditional on the status read:
/// when an application changed meanwhile (withdrawn, or shortlisted by a concurrent request), nothing is
/// changed and the answer is 409 `application_changed`.
#[utoipa::path(
    operation_id = "shortlistApplications",
    tag = "evaluation",
    params(("id" = Uuid, Path)),
    request_body = Shortlist,
    responses((status = 200, body = ShortlistResult), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, description = "An application changed meanwhile", body = Problem), (status = 422, body = Problem)),
    security(("bearer" = []))
)]
#[post("/calls/{id}/shortlist")]
pub async fn shortlist(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<Uuid>,
    input: Input<Shortlist>,
) -> Result<HttpResponse, Error> {
    let id = id.into_inner();
    let (body, mut check) = input.into_parts();
    let ids = check.required("application_ids", body.application_ids, Ok);
    let next_stage = check.required("next_stage", body.next_stage, Ok);
    let (Some(ids), Some(next_stage)) = (ids, next_stage) else {
        return Err(check.into_error());
    };
    let request = ShortlistRequest {
        ids,
        next_stage,
        notify_not_shortlisted: body.notify_not_shortlisted,
    };
    let now = state.clock.now();
    let state_for_tx = state.clone();
    let counts = state
        .db
        .write(move |conn| {
            use_case::shortlist(conn, &state_for_tx, &caller, id, &request, check, now)
        })
        .await?;
    state.outbox_wakeup.notify_one();
    Ok(HttpResponse::Ok().json(ShortlistResult::from(counts)))
}

impl From<ShortlistCounts> for ShortlistResult {
    fn from(counts: ShortlistCounts) -> Self {
        ShortlistResult {
            shortlisted: counts.shortlisted,
            not_shortlisted: counts.not_shortlisted,
        }
    }
}

/// One decision of `PUT /calls/{id}/decisions`.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionItem {
    #[schema(required = true)]
    pub application_id: Option<Uuid>,
    /// `selected`, `waitlisted` or `rejected`; `retained` or `not_retained` on an expression of interest
    /// (and only there).
    #[schema(required = true)]
    pub outcome: Option<String>,
    /// Why: the applicant reads it once decisions are published.
    #[schema(required = true)]
    pub motivation: Option<String>,
}

/// A decision as staff see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionView {
    pub application_id: Uuid,
    pub outcome: String,
    pub motivation: String,
    pub decided_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
}

impl From<&Decision> for DecisionView {
    fn from(d: &Decision) -> Self {
        DecisionView {
            application_id: *d.application_id,
            outcome: d.outcome.as_str().into(),
            motivation: d.motivation.clone(),
            decided_at: d.decided_at.0,
            published_at: d.published_at.map(|t| t.0),
        }
    }
}

/// Records pending decisions (invisible to applicants until published) for the eligible applications of a
/// single-stage call, or the shortlisted ones of the last stage. An expression of interest (no jury) is
/// triaged: its eligible applications are `retained` or `not_retained`, outcomes no other call takes (422).
#[utoipa::path(
    operation_id = "recordDecisions",
    tag = "evaluation",
    params(("id" = Uuid, Path)),
    request_body = Vec<DecisionItem>,
    responses(
        (status = 200, body = Vec<DecisionView>), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, description = "Already published", body = Problem), (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[put("/calls/{id}/decisions")]
pub async fn record(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<Uuid>,
    input: Input<Vec<DecisionItem>>,
) -> Result<HttpResponse, Error> {
    let id = id.into_inner();
    let (items, mut check) = input.into_parts();
    let decisions = parse_decisions(&items, &mut check);
    let now = state.clock.now();
    let recorded = state
        .db
        .write(move |conn| use_case::record(conn, &caller, id, &decisions, check, now))
        .await?;
    Ok(HttpResponse::Ok().json(views(&recorded)))
}

/// The decisions of the body that parsed, their problems noted in `check`.
fn parse_decisions(items: &[DecisionItem], check: &mut Check) -> Vec<NewDecision> {
    let mut parsed = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let app = check.required(&format!("{i}.application_id"), item.application_id, Ok);
        let outcome = check.required(&format!("{i}.outcome"), item.outcome.as_deref(), |o| {
            o.parse::<DecisionOutcome>().map_err(|_| {
                InvalidValue::new(
                    "invalid_outcome",
                    "selected, waitlisted, rejected, retained or not_retained",
                )
            })
        });
        let motivation = check.required(
            &format!("{i}.motivation"),
            item.motivation.as_deref(),
            |m| {
                let m = m.trim();
                match m.chars().count() {
                    0 => Err(InvalidValue::new("required", "a motivation is required")),
                    1..=10_000 => Ok(m.to_owned()),
                    _ => Err(InvalidValue::new("too_long", "at most 10000 characters")),
                }
            },
        );
        if let (Some(application_id), Some(outcome), Some(motivation)) = (app, outcome, motivation)
        {
            parsed.push(NewDecision {
                index: i,
                application_id,
                outcome,
                motivation,
            });
        }
    }
    parsed
}

/// The views of decisions.
fn views(decisions: &[Decision]) -> Vec<DecisionView> {
    decisions.iter().map(DecisionView::from).collect()
}

/// The decisions of a call, published or not, in application-id order (administrators, the call's managers and observers).
#[utoipa::path(
    operation_id = "listCallDecisions",
    tag = "evaluation",
    params(("id" = Uuid, Path), PageQuery),
    responses((status = 200, body = Paginated<DecisionView>), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = []))
)]
#[get("/calls/{id}/decisions")]
pub async fn list(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<Uuid>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, Error> {
    let id = id.into_inner();
    let page: Page = query.page()?;
    let decisions = state
        .db
        .read(move |conn| use_case::of_call(conn, &caller, id, page.after, page.fetch()))
        .await?;
    Ok(
        HttpResponse::Ok().json(Paginated::from_rows(views(&decisions), page, |d| {
            d.application_id
        })),
    )
}

/// What a publication did.
#[derive(Debug, Serialize, ToSchema)]
pub struct Published {
    /// Decisions published now (0 when everything was already published).
    pub published: usize,
}

/// Publishes the pending decisions: final statuses, and one email per application in its members' language
/// with the outcome and its motivation; applications left out at a shortlist are told too. Publishing again
/// sends nothing new: every decision is marked published by a conditional update, so of several publications
/// at once (a double click, a retry, two staff members) one publishes each decision and the others answer 200
/// with `published: 0`, sending and recording nothing. A withdrawn application keeps its status and gets no
/// decision email, even when its withdrawal races the publication.
#[utoipa::path(
    operation_id = "publishDecisions",
    tag = "evaluation",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Published), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
#[post("/calls/{id}/decisions/publish")]
pub async fn publish(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, Error> {
    let id = id.into_inner();
    let now = state.clock.now();
    let state_for_tx = state.clone();
    let published = state
        .db
        .write(move |conn| use_case::publish(conn, &state_for_tx, &caller, id, now))
        .await?;
    state.outbox_wakeup.notify_one();
    Ok(HttpResponse::Ok().json(Published { published }))
}
