//! Conflicts of interest of a call: declared by a juror (or staff), detected from facts when a juror is assigned
//! or when staff ask, and decided by staff when they were found for a juror already assigned. The rules are
//! in [`crate::service::conflicts`] and, for who may declare, [`crate::auth::permissions`].

use actix_web::{get, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::extract::{Caller, Page, PageQuery, Paginated};
use crate::api::input::Input;
use crate::domain::conflict::DetectedStatus;
use crate::domain::identifiers::InvalidValue;
use crate::error::{Error, Problem};
use crate::service::conflicts as conflict_service;
use crate::state::AppState;
use crate::store::conflicts::{self, Conflict, DetectedConflict, RecordedConflict};

/// A conflict of interest between a juror and an application.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConflictView {
    /// The record (a detected one is confirmed or dismissed by this id).
    pub id: Uuid,
    pub juror_id: Uuid,
    pub application_id: Uuid,
    /// The declared reason, or `member`, `same_siren`, `same_email_domain` when detected.
    pub reason: String,
    /// `declared` or `detected`.
    pub source: String,
    /// For a detected conflict, the fact it rests on (`website station-alpine.fr`, `SIREN 732829320`…).
    pub source_fact: Option<String>,
    /// `active` (it applies: the juror does not see the application and their reviews of it do not count),
    /// `flagged` (found after the juror was assigned, waiting for staff: it does not apply yet) or `dismissed`.
    /// A declared conflict is always `active`.
    pub status: DetectedStatus,
    /// When it was declared or detected.
    pub recorded_at: DateTime<Utc>,
}

impl ConflictView {
    fn declared(c: &Conflict) -> ConflictView {
        ConflictView {
            id: *c.id,
            juror_id: *c.juror_id,
            application_id: *c.application_id,
            reason: c.reason.clone(),
            source: "declared".into(),
            source_fact: None,
            status: DetectedStatus::Active,
            recorded_at: c.created_at.0,
        }
    }

    fn detected(c: &DetectedConflict) -> ConflictView {
        ConflictView {
            id: *c.id,
            juror_id: *c.juror_id,
            application_id: *c.application_id,
            reason: c.reason.clone(),
            source: "detected".into(),
            source_fact: Some(c.source_fact.clone()),
            status: c.status,
            recorded_at: c.detected_at.0,
        }
    }
}

/// Every conflict recorded for a call (administrators and the call's managers), declared and detected (with their status) in the
/// order they were recorded. Nothing is detected by reading this list: detection runs when a juror is
/// assigned, when staff ask (`POST /calls/{id}/conflicts/detect`), and after an applicant's change for jurors
/// already assigned.
#[utoipa::path(
    operation_id = "listCallConflicts",
    tag = "evaluation",
    params(("id" = Uuid, Path), PageQuery),
    responses((status = 200, body = Paginated<ConflictView>), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = []))
)]
#[get("/calls/{id}/conflicts")]
pub async fn list_conflicts(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<Uuid>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, Error> {
    let id = id.into_inner();
    let page: Page = query.page()?;
    let records = state
        .db
        .read(move |conn| {
            crate::service::staff::managed_call(conn, &caller, id)?;
            Ok(conflicts::page_of_call(conn, id, page.after, page.fetch())?)
        })
        .await?;
    let views: Vec<ConflictView> = records
        .iter()
        .map(|record| match record {
            RecordedConflict::Declared(c) => ConflictView::declared(c),
            RecordedConflict::Detected(c) => ConflictView::detected(c),
        })
        .collect();
    Ok(HttpResponse::Ok().json(Paginated::from_rows(views, page, |c| c.id)))
}

/// Detects the conflicts of every juror of the call with every application past its draft, from the facts as
/// they are now, and records the new ones (administrators and the call's managers): `active` for a pair not assigned, `flagged` for a
/// pair already assigned (staff then confirm or dismiss it; the administrators are emailed). Returns the new
/// records; running it again records nothing new.
#[utoipa::path(
    operation_id = "detectConflicts",
    tag = "evaluation",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<ConflictView>), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
#[post("/calls/{id}/conflicts/detect")]
pub async fn detect_conflicts(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, Error> {
    let id = id.into_inner();
    let now = state.clock.now();
    let state_for_tx = state.clone();
    let views = state
        .db
        .write(move |conn| {
            crate::service::staff::managed_call(conn, &caller, id)?;
            let new =
                conflict_service::detect(conn, id, conflict_service::Scope::whole_call(), now)?;
            conflict_service::report(conn, &state_for_tx, Some(caller.user_id), id, &new, now)?;
            Ok(new.iter().map(ConflictView::detected).collect::<Vec<_>>())
        })
        .await?;
    state.outbox_wakeup.notify_one();
    Ok(HttpResponse::Ok().json(views))
}

/// Confirms a flagged conflict (administrators and the call's managers): it applies from now on, the juror's assignments to the
/// application are withdrawn and their reviews of it no longer count. 409 (`not_flagged`) when it was already
/// decided.
#[utoipa::path(
    operation_id = "confirmConflict",
    tag = "evaluation",
    params(("id" = Uuid, Path), ("conflict_id" = Uuid, Path)),
    responses(
        (status = 200, body = ConflictView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, description = "Not flagged (decided already)", body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/calls/{id}/conflicts/{conflict_id}/confirm")]
pub async fn confirm_conflict(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, Error> {
    decide(state, caller, path.into_inner(), true).await
}

/// Dismisses a flagged conflict (administrators and the call's managers): it does not apply, and the same fact does not raise it
/// again. 409 (`not_flagged`) when it was already decided.
#[utoipa::path(
    operation_id = "dismissConflict",
    tag = "evaluation",
    params(("id" = Uuid, Path), ("conflict_id" = Uuid, Path)),
    responses(
        (status = 200, body = ConflictView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, description = "Not flagged (decided already)", body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/calls/{id}/conflicts/{conflict_id}/dismiss")]
pub async fn dismiss_conflict(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, Error> {
    decide(state, caller, path.into_inner(), false).await
}

async fn decide(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    (call_id, conflict_id): (Uuid, Uuid),
    confirm: bool,
) -> Result<HttpResponse, Error> {
    let now = state.clock.now();
    let record = state
        .db
        .write(move |conn| {
            crate::service::staff::managed_call(conn, &caller, call_id)?;
            conflict_service::decide(conn, caller.user_id, call_id, conflict_id, confirm, now)
        })
        .await?;
    Ok(HttpResponse::Ok().json(ConflictView::detected(&record)))
}

/// `POST /calls/{id}/conflicts`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeclareConflict {
    #[schema(required = true)]
    pub juror_id: Option<Uuid>,
    #[schema(required = true)]
    pub application_id: Option<Uuid>,
    #[schema(required = true)]
    pub reason: Option<String>,
}

/// Declares a conflict of interest: a juror for themself, or staff (administrators, the call's managers) for any juror. It applies at
/// once; the juror's assignments to that application are withdrawn.
#[utoipa::path(
    operation_id = "declareConflict",
    tag = "evaluation",
    params(("id" = Uuid, Path)),
    request_body = DeclareConflict,
    responses((status = 201, body = ConflictView), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = []))
)]
#[post("/calls/{id}/conflicts")]
pub async fn declare_conflict(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    input: Input<DeclareConflict>,
) -> Result<HttpResponse, Error> {
    let caller = caller.0;
    let id = id.into_inner();
    let (body, mut check) = input.into_parts();
    let juror_id = check.required("juror_id", body.juror_id, Ok);
    let application_id = check.required("application_id", body.application_id, Ok);
    let reason = check.required("reason", body.reason.as_deref(), |r| {
        let r = r.trim();
        match r.chars().count() {
            0 => Err(InvalidValue::new("required", "give a reason")),
            1..=1000 => Ok(r.to_owned()),
            _ => Err(InvalidValue::new("too_long", "at most 1000 characters")),
        }
    });
    let (Some(juror_id), Some(application_id), Some(reason)) = (juror_id, application_id, reason)
    else {
        return Err(check.into_error());
    };
    check.finish()?;
    let now = state.clock.now();
    let conflict = state
        .db
        .write(move |conn| {
            conflict_service::declare(conn, &caller, id, juror_id, application_id, reason, now)
        })
        .await?;
    Ok(HttpResponse::Created().json(ConflictView::declared(&conflict)))
}
