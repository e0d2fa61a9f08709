//! A published decision that moves: staff revise it, members and staff read its history. The rules, the
//! conditional writes and the emails live in [`crate::service::decision_history`].

use actix_web::http::StatusCode;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::extract::Caller;
use crate::api::idempotency::{self, Reply};
use crate::api::input::Input;
use crate::auth::permissions::Principal;
use crate::domain::application::DecisionOutcome;
use crate::domain::decision::{DecisionChange, HistoryReader};
use crate::domain::identifiers::InvalidValue;
use crate::error::{Error, Problem};
use crate::service::decision_history::{self as use_case, Revision};
use crate::state::AppState;
use crate::store::decision_history::DecisionVersion;

/// `POST /applications/{id}/decision/revisions`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviseDecision {
    /// The new outcome: `selected`, `waitlisted` or `rejected` (`retained` or `not_retained` for an
    /// expression of interest).
    #[schema(required = true)]
    pub outcome: Option<String>,
    /// The motivation of the new decision; the applicant reads it.
    #[schema(required = true)]
    pub motivation: Option<String>,
    /// Why the decision changes (a place freed up, an appeal upheld…); the applicant reads it too.
    #[schema(required = true)]
    pub reason: Option<String>,
    /// The upheld appeal of this application the revision answers, if any.
    pub appeal_id: Option<Uuid>,
}

/// One version of a decision.
#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionVersionView {
    /// 1 for the decision as published, then one more per change.
    pub version: i32,
    /// `published`, `revised`, or `withdrawn` (the applicant withdrew after the decision).
    pub change: DecisionChange,
    /// `null` for a withdrawal.
    pub outcome: Option<DecisionOutcome>,
    pub motivation: Option<String>,
    /// Why it changed: staff's reason for a revision, the applicant's for a withdrawal.
    pub reason: Option<String>,
    /// The upheld appeal a revision answers.
    pub appeal_id: Option<Uuid>,
    /// When the applicant was told.
    pub at: DateTime<Utc>,
    /// Who made the change (staff only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<Uuid>,
}

impl DecisionVersionView {
    /// The view of a version for `reader`.
    pub fn new(v: &DecisionVersion, reader: HistoryReader) -> DecisionVersionView {
        DecisionVersionView {
            version: v.version,
            change: v.kind,
            outcome: v.outcome,
            motivation: v.motivation.clone(),
            reason: v.reason.clone(),
            appeal_id: v.appeal_id.map(|id| *id),
            at: v.at(),
            decided_by: match reader {
                HistoryReader::Staff => v.decided_by.map(|id| *id),
                HistoryReader::Applicant => None,
            },
        }
    }
}

/// The history of a decision, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionHistory {
    pub items: Vec<DecisionVersionView>,
}

fn text(raw: &str, what: &str) -> Result<String, InvalidValue> {
    let text = raw.trim();
    match text.chars().count() {
        0 => Err(InvalidValue::new("required", format!("give a {what}"))),
        1..=10_000 => Ok(text.to_owned()),
        _ => Err(InvalidValue::new("too_long", "at most 10000 characters")),
    }
}

/// Revises a published decision (administrators and the call's managers): the application takes the new
/// outcome's status (waitlisted → selected when a laureate withdrew, say), the version is kept with its
/// reason in the decision's history, audited (`decision.revised`, also on the event feed), and the members
/// get one email with the new decision, the reason and, when the call takes appeals, the new deadline to
/// appeal. An upheld appeal is answered this way, naming it in `appeal_id`. Replays with the same
/// `Idempotency-Key` answer the first result.
#[utoipa::path(
    operation_id = "reviseDecision",
    tag = "evaluation",
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    request_body = ReviseDecision,
    responses(
        (status = 201, body = DecisionVersionView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem),
        (status = 409, description = "No published decision standing (`no_published_decision`), or changed meanwhile", body = Problem),
        (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/applications/{id}/decision/revisions")]
pub async fn revise(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
    input: Input<ReviseDecision>,
) -> Result<HttpResponse, Error> {
    let id = id.into_inner();
    let body_hash = input.body_hash.clone();
    let user_id = caller.user_id;
    idempotency::once(&state, &req, user_id, &body_hash, || {
        revise_decision(state.clone(), caller, id, input)
    })
    .await
}

async fn revise_decision(
    state: web::Data<AppState>,
    caller: Principal,
    id: Uuid,
    input: Input<ReviseDecision>,
) -> Result<Reply, Error> {
    let (body, mut check) = input.into_parts();
    let outcome = check.required("outcome", body.outcome.as_deref(), |o| {
        o.parse::<DecisionOutcome>().map_err(|_| {
            InvalidValue::new(
                "invalid_outcome",
                "selected, waitlisted, rejected, retained or not_retained",
            )
        })
    });
    let motivation = check.required("motivation", body.motivation.as_deref(), |m| {
        text(m, "motivation")
    });
    let reason = check.required("reason", body.reason.as_deref(), |r| text(r, "reason"));
    let (Some(outcome), Some(motivation), Some(reason)) = (outcome, motivation, reason) else {
        return Err(check.into_error());
    };
    let revision = Revision {
        outcome,
        motivation,
        reason,
        appeal_id: body.appeal_id,
    };
    let now = state.clock.now();
    let state_for_tx = state.clone();
    let version = state
        .db
        .write(move |conn| use_case::revise(conn, &state_for_tx, &caller, id, revision, check, now))
        .await?;
    state.outbox_wakeup.notify_one();
    Reply::json(
        StatusCode::CREATED,
        DecisionVersionView::new(&version, HistoryReader::Staff),
    )
}

/// The history of an application's decision, oldest first: every version its applicant was told (the
/// publication, each revision with its reason, a withdrawal after the decision). Members of the applicant
/// organization and the call's staff (who also see who made each change); jurors and anyone else 404.
/// Empty until the decision is published.
#[utoipa::path(
    operation_id = "getDecisionHistory",
    tag = "evaluation",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = DecisionHistory), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
#[get("/applications/{id}/decision/history")]
pub async fn history(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, Error> {
    let id = id.into_inner();
    let (versions, reader) = state
        .db
        .read(move |conn| use_case::history(conn, &caller, id))
        .await?;
    let items = versions
        .iter()
        .map(|v| DecisionVersionView::new(v, reader))
        .collect();
    Ok(HttpResponse::Ok().json(DecisionHistory { items }))
}
