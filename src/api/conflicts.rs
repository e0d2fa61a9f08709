//! Conflicts of interest of a call: declared by a juror (or staff), detected from facts when a juror is assigned
//! or when staff ask, and decided by staff when they were found for a juror already assigned.

use actix_web::{get, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::extract::Caller;
use crate::api::input::Input;
use crate::auth::permissions::Scope;
use crate::db::types::{Ts, Uid};
use crate::db::DbConn;
use crate::domain::conflict::DetectedStatus;
use crate::domain::identifiers::InvalidValue;
use crate::error::{Error, Problem};
use crate::service::conflicts as conflict_service;
use crate::state::AppState;
use crate::store;
use crate::store::audit::{self, Change};
use crate::store::conflicts::Conflict;
use crate::store::conflicts::{self, DetectedConflict};
use crate::store::{applications, calls};

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

    fn detected(c: &DetectedConflict) -> Result<ConflictView, Error> {
        Ok(ConflictView {
            id: *c.id,
            juror_id: *c.juror_id,
            application_id: *c.application_id,
            reason: c.reason.clone(),
            source: "detected".into(),
            source_fact: Some(c.source_fact.clone()),
            status: c.status()?,
            recorded_at: c.detected_at.0,
        })
    }
}

fn call_or_404(conn: &mut DbConn, id: Uuid) -> Result<calls::Call, Error> {
    calls::find(conn, id)?.ok_or(Error::NotFound)
}

/// Every conflict recorded for a call (administrators): declared ones, then detected ones with their status.
/// Nothing is detected by reading this list: detection runs when a juror is assigned, when staff ask
/// (`POST /calls/{id}/conflicts/detect`), and after an applicant's change for jurors already assigned.
#[utoipa::path(
    tag = "evaluation",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<ConflictView>), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
#[get("/calls/{id}/conflicts")]
pub async fn list_conflicts(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, Error> {
    caller.0.require_admin()?;
    let id = id.into_inner();
    let views = state
        .db
        .read(move |conn| {
            call_or_404(conn, id)?;
            let mut views: Vec<ConflictView> = conflicts::declared_conflicts(conn, id)?
                .iter()
                .map(ConflictView::declared)
                .collect();
            for c in conflicts::detected_of_call(conn, id)? {
                views.push(ConflictView::detected(&c)?);
            }
            Ok(views)
        })
        .await?;
    Ok(HttpResponse::Ok().json(views))
}

/// Detects the conflicts of every juror of the call with every application past its draft, from the facts as
/// they are now, and records the new ones (administrators): `active` for a pair not assigned, `flagged` for a
/// pair already assigned (staff then confirm or dismiss it; the administrators are emailed). Returns the new
/// records; running it again records nothing new.
#[utoipa::path(
    tag = "evaluation",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<ConflictView>), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
#[post("/calls/{id}/conflicts/detect")]
pub async fn detect_conflicts(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, Error> {
    let caller = caller.0;
    caller.require_admin()?;
    let id = id.into_inner();
    let now = state.clock.now();
    let state_for_tx = state.clone();
    let views = state
        .db
        .write(move |conn| {
            call_or_404(conn, id)?;
            let new =
                conflict_service::detect(conn, id, conflict_service::Scope::whole_call(), now)?;
            conflict_service::report(conn, &state_for_tx, Some(caller.user_id), id, &new, now)?;
            new.iter()
                .map(ConflictView::detected)
                .collect::<Result<Vec<_>, Error>>()
        })
        .await?;
    state.outbox_wakeup.notify_one();
    Ok(HttpResponse::Ok().json(views))
}

/// Confirms a flagged conflict (administrators): it applies from now on, the juror's assignments to the
/// application are withdrawn and their reviews of it no longer count. 409 (`not_flagged`) when it was already
/// decided.
#[utoipa::path(
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

/// Dismisses a flagged conflict (administrators): it does not apply, and the same fact does not raise it
/// again. 409 (`not_flagged`) when it was already decided.
#[utoipa::path(
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
    caller: Caller,
    (call_id, conflict_id): (Uuid, Uuid),
    confirm: bool,
) -> Result<HttpResponse, Error> {
    let caller = caller.0;
    caller.require_admin()?;
    let now = state.clock.now();
    let view = state
        .db
        .write(move |conn| {
            let record = conflicts::find_detected(conn, call_id, conflict_id)?.ok_or(Error::NotFound)?;
            let before = record.status()?;
            let not_flagged = || Error::refused("not_flagged", format!("this conflict is {}: only a flagged conflict is decided", before.as_str()));
            let after = before.decide(confirm).ok_or_else(not_flagged)?;
            // Conditional: of two decisions at once, one changes the record, the other is told.
            if !conflicts::decide(conn, conflict_id, before, after, caller.user_id, now)? {
                return Err(Error::refused("not_flagged", "this conflict was decided meanwhile"));
            }
            let withdrawn = if after.applies() {
                store::assignments::remove_assignments(conn, *record.application_id, *record.juror_id)?
            } else {
                0
            };
            audit::record(
                conn,
                Change {
                    actor_id: Some(caller.user_id),
                    action: if confirm { "conflict.confirmed" } else { "conflict.dismissed" },
                    entity_type: "application",
                    entity_id: *record.application_id,
                    before: Some(json!({"conflict_id": conflict_id, "status": before.as_str()})),
                    after: Some(json!({"conflict_id": conflict_id, "status": after.as_str(), "juror_id": record.juror_id, "assignments_withdrawn": withdrawn})),
                },
                now,
            )?;
            let record = DetectedConflict {
                status: after.as_str().to_owned(),
                decided_by: Some(Uid(caller.user_id)),
                decided_at: Some(Ts(now)),
                ..record
            };
            ConflictView::detected(&record)
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
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

/// Declares a conflict of interest: a juror for themself, or an administrator for any juror. It applies at
/// once; the juror's assignments to that application are withdrawn.
#[utoipa::path(
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
    if !caller.is_admin() {
        caller.require_scope(Scope::ReviewsWrite)?;
        if juror_id != caller.user_id {
            return Err(Error::Forbidden(
                "a juror declares conflicts for themself only".into(),
            ));
        }
    }
    let now = state.clock.now();
    let view = state
        .db
        .write(move |conn| {
            call_or_404(conn, id)?;
            if !store::jurors::is_juror(conn, id, caller.user_id)? && !caller.is_admin() {
                return Err(Error::NotFound);
            }
            if !store::jurors::is_juror(conn, id, juror_id)? {
                return Err(Error::field("juror_id", "not_a_juror", "this person is not on the call's jury"));
            }
            let app = applications::find(conn, application_id)?.filter(|a| *a.call_id == id).ok_or_else(|| {
                Error::field("application_id", "unknown_application", "no such application in this call")
            })?;
            let conflict = Conflict {
                id: Uid(Uuid::now_v7()),
                call_id: Uid(id),
                juror_id: Uid(juror_id),
                application_id: app.id,
                reason: reason.clone(),
                declared_by: Some(Uid(caller.user_id)),
                created_at: Ts(now),
            };
            conflicts::declare_conflict(conn, &conflict)?;
            let withdrawn = store::assignments::remove_assignments(conn, application_id, juror_id)?;
            audit::record(
                conn,
                Change {
                    actor_id: Some(caller.user_id),
                    action: "conflict.declared",
                    entity_type: "application",
                    entity_id: application_id,
                    before: None,
                    after: Some(json!({"juror_id": juror_id, "reason": reason, "assignments_withdrawn": withdrawn})),
                },
                now,
            )?;
            Ok(ConflictView::declared(&conflict))
        })
        .await?;
    Ok(HttpResponse::Created().json(view))
}
