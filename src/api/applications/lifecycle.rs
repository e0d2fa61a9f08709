//! The life cycle of an application over HTTP: the applicant submits or withdraws it, staff screen it.

use actix_web::http::StatusCode;
use actix_web::{post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::views::{ok_with_etag, ApplicationView, Submitted};
use crate::api::extract::Caller;
use crate::api::idempotency::{self, Reply};
use crate::api::input::{Check, Input};
use crate::auth::permissions::Principal;
use crate::domain::application::{ApplicationStatus, ScreeningOutcome};
use crate::domain::call;
use crate::domain::identifiers::InvalidValue;
use crate::error::{Error, FieldError, Problem};
use crate::service::applications::{self as use_case, Screening as Decision};
use crate::state::AppState;

/// Submits an application: every answer is checked (422 lists every missing or invalid one), it gets its
/// reference, and its members get a receipt. A draft can be submitted while the call is open; an
/// application whose changes were requested, until their due date.
#[utoipa::path(
    operation_id = "submitApplication",
    tag = "applications",
    params(("id" = Uuid, Path), ("Idempotency-Key" = Option<String>, Header)),
    responses(
        (status = 200, body = Submitted), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, description = "Closed, or already submitted", body = Problem),
        (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/applications/{id}/submit")]
pub async fn submit(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, Error> {
    let caller = caller.0;
    let id = id.into_inner();
    let user_id = caller.user_id;
    idempotency::once(&state, &req, user_id, "", || {
        submit_application(state.clone(), caller, id)
    })
    .await
}

async fn submit_application(
    state: web::Data<AppState>,
    caller: Principal,
    id: Uuid,
) -> Result<Reply, Error> {
    let now = state.clock.now();
    let state_for_tx = state.clone();
    let submission = state
        .db
        .write(move |conn| use_case::submit(conn, &state_for_tx, &caller, id, now))
        .await?;
    state.outbox_wakeup.notify_one();
    let submitted = Submitted {
        status: ApplicationStatus::Submitted,
        reference: submission.reference,
        submitted_at: submission.submitted_at,
    };
    Reply::json(StatusCode::OK, submitted)
}

/// `POST /applications/{id}/withdraw`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Withdraw {
    pub reason: Option<String>,
}

fn reason_text(raw: &str) -> Result<String, InvalidValue> {
    let text = raw.trim();
    match text.chars().count() {
        0 => Err(InvalidValue::new("required", "give a reason")),
        1..=5000 => Ok(text.to_owned()),
        _ => Err(InvalidValue::new("too_long", "at most 5000 characters")),
    }
}

/// Withdraws an application, at any time before a published decision; its members are told.
#[utoipa::path(
    operation_id = "withdrawApplication",
    tag = "applications",
    params(("id" = Uuid, Path)),
    request_body = Withdraw,
    responses(
        (status = 200, body = ApplicationView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, description = "Already decided or withdrawn", body = Problem),
        (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/applications/{id}/withdraw")]
pub async fn withdraw(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    input: Input<Withdraw>,
) -> Result<HttpResponse, Error> {
    let caller = caller.0;
    let id = id.into_inner();
    let (body, mut check) = input.into_parts();
    let reason = check.optional("reason", body.reason.as_deref(), reason_text);
    check.finish()?;
    let now = state.clock.now();
    let state_for_tx = state.clone();
    let (app, files) = state
        .db
        .write(move |conn| use_case::withdraw(conn, &state_for_tx, &caller, id, reason, now))
        .await?;
    state.outbox_wakeup.notify_one();
    Ok(ok_with_etag(ApplicationView::new(&app, &files)))
}

/// `POST /applications/{id}/screening`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Screening {
    /// `eligible`, `ineligible` or `changes_requested`.
    #[schema(required = true)]
    pub outcome: Option<String>,
    /// Required for `ineligible` and `changes_requested`: the applicant reads it.
    pub reason: Option<String>,
    /// For `changes_requested` only: until when the applicant may resubmit; by default the end of the day
    /// (on the call's clock) the call's `changes_due_days` from now.
    pub due_at: Option<String>,
}

/// Staff screen a submitted application: eligible (it goes to the jury), ineligible, or changes requested
/// with a reason and a due date (the applicant edits and resubmits; without `due_at`, the end of the day
/// the call's `changes_due_days` from now, on the call's clock). The applicant is emailed.
#[utoipa::path(
    operation_id = "screenApplication",
    tag = "applications",
    params(("id" = Uuid, Path)),
    request_body = Screening,
    responses(
        (status = 200, body = ApplicationView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, description = "Not awaiting screening", body = Problem),
        (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/applications/{id}/screening")]
pub async fn screen(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<Uuid>,
    input: Input<Screening>,
) -> Result<HttpResponse, Error> {
    let id = id.into_inner();
    let now = state.clock.now();
    let (body, check) = input.into_parts();
    let decision = screening_of(body, check, now)?;
    let state_for_tx = state.clone();
    let (app, files) = state
        .db
        .write(move |conn| use_case::screen(conn, &state_for_tx, &caller, id, decision, now))
        .await?;
    state.outbox_wakeup.notify_one();
    Ok(ok_with_etag(ApplicationView::new(&app, &files)))
}

/// The screening staff sent: a reason for `ineligible` and `changes_requested`, a future due date for
/// `changes_requested` only, optional (one 422 naming every invalid field).
fn screening_of(body: Screening, mut check: Check, now: DateTime<Utc>) -> Result<Decision, Error> {
    let outcome = check.required("outcome", body.outcome.as_deref(), |o| {
        o.parse::<ScreeningOutcome>().map_err(|_| {
            InvalidValue::new(
                "invalid_outcome",
                "eligible, ineligible or changes_requested",
            )
        })
    });
    let needs_reason = outcome.is_some_and(ScreeningOutcome::needs_reason);
    let reason = if needs_reason {
        check.required("reason", body.reason.as_deref(), reason_text)
    } else {
        check.optional("reason", body.reason.as_deref(), reason_text)
    };
    let due_at = match outcome {
        Some(ScreeningOutcome::ChangesRequested) => {
            check.optional("due_at", body.due_at.as_deref(), |raw| {
                let at = call::parse_instant(raw)?;
                if at <= now {
                    return Err(InvalidValue::new(
                        "in_the_past",
                        "the due date must be in the future",
                    ));
                }
                Ok(at)
            })
        }
        _ => {
            if body.due_at.is_some() {
                check.push(FieldError::new(
                    "due_at",
                    "not_applicable",
                    "only changes_requested has a due date",
                ));
            }
            None
        }
    };
    let Some(outcome) = outcome else {
        return Err(check.into_error());
    };
    check.finish()?;
    Ok(Decision {
        outcome,
        reason,
        due_at,
    })
}
