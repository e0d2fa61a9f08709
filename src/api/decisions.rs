//! Deliberation: shortlisting to the next stage, pending decisions, and their publication with one email
//! per application.

use actix_web::{get, post, put, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::extract::Caller;
use crate::api::input::Input;
use crate::db::types::{Ts, Uid};
use crate::domain::application::{ApplicationStatus, DecisionOutcome};
use crate::domain::identifiers::InvalidValue;
use crate::error::{Error, FieldError, Problem};
use crate::notify::applications::About;
use crate::notify::templates::Event;
use crate::state::AppState;
use crate::store::audit::{self, Change};
use crate::store::decisions::{self as evaluation, Decision};
use crate::store::events::{self, NewEvent};
use crate::store::{applications, calls, organizations};

/// The key under which the email telling a not-shortlisted application is recorded as sent.
const NOT_SHORTLISTED_NOTICE: &str = "decision_not_shortlisted";

/// `POST /calls/{id}/shortlist`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Shortlist {
    #[schema(required = true)]
    pub application_ids: Option<Vec<Uuid>>,
    /// The stage they go on to, such as `pitch`.
    #[schema(required = true)]
    pub next_stage: Option<String>,
}

/// What a shortlist did.
#[derive(Debug, Serialize, ToSchema)]
pub struct ShortlistResult {
    pub shortlisted: usize,
    pub not_shortlisted: usize,
}

/// Shortlists applications to the next stage: they become `shortlisted`, the others reviewed at the
/// previous stage `not_shortlisted`. Earlier reviews are kept. Each move is conditional on the status read:
/// when an application changed meanwhile (withdrawn, or shortlisted by a concurrent request), nothing is
/// changed and the answer is 409 `application_changed`.
#[utoipa::path(
    tag = "evaluation",
    params(("id" = Uuid, Path)),
    request_body = Shortlist,
    responses((status = 200, body = ShortlistResult), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, description = "An application changed meanwhile", body = Problem), (status = 422, body = Problem)),
    security(("bearer" = []))
)]
#[post("/calls/{id}/shortlist")]
pub async fn shortlist(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    input: Input<Shortlist>,
) -> Result<HttpResponse, Error> {
    let caller = caller.0;
    caller.require_admin()?;
    let id = id.into_inner();
    let (body, mut check) = input.into_parts();
    let ids = check.required("application_ids", body.application_ids, Ok);
    let next_stage = check.required("next_stage", body.next_stage, Ok);
    let (Some(ids), Some(next_stage)) = (ids, next_stage) else {
        return Err(check.into_error());
    };
    let now = state.clock.now();
    let result = state
        .db
        .write(move |conn| {
            let call = calls::find(conn, id)?.ok_or(Error::NotFound)?;
            let stages = call.stages()?;
            // The candidates of a shortlist are the ones reviewed at the stage before `next_stage`.
            let from_status = match stages.iter().position(|s| s.key == next_stage) {
                Some(0) => {
                    check.push(FieldError::new(
                        "next_stage",
                        "first_stage",
                        "the first stage needs no shortlist",
                    ));
                    ApplicationStatus::Eligible
                }
                Some(next) => ApplicationStatus::reviewed_at_stage(next - 1),
                None => {
                    check.push(FieldError::new(
                        "next_stage",
                        "unknown_stage",
                        "the call has no such stage",
                    ));
                    ApplicationStatus::Eligible
                }
            };
            let candidates = applications::ids_with_status(conn, id, from_status)?;
            for (i, app) in ids.iter().enumerate() {
                if !candidates.contains(app) {
                    check.push(FieldError::new(
                        format!("application_ids.{i}"),
                        "not_a_candidate",
                        format!("not a {from_status} application of this call"),
                    ));
                }
            }
            check.finish()?;
            applications::lock_all(conn, &candidates)?;
            let mut result = ShortlistResult {
                shortlisted: 0,
                not_shortlisted: 0,
            };
            for app in &candidates {
                let Some(status) = from_status.shortlist(ids.contains(app)) else {
                    continue;
                };
                if status == ApplicationStatus::Shortlisted {
                    result.shortlisted += 1;
                } else {
                    result.not_shortlisted += 1;
                }
                if !applications::set_status(conn, *app, from_status, status, now)? {
                    // Rolls the whole shortlist back: a second request at once, or a withdrawal, came first.
                    return Err(Error::refused(
                        "application_changed",
                        "an application of this call changed meanwhile (withdrawn, or shortlisted by another request): read them again",
                    ));
                }
                let event_type = if status == ApplicationStatus::Shortlisted {
                    "application.shortlisted"
                } else {
                    "application.not_shortlisted"
                };
                events::record(
                    conn,
                    NewEvent::application(
                        event_type,
                        id,
                        *app,
                        Some(caller.user_id),
                        json!({"status": status, "next_stage": next_stage}),
                    ),
                    now,
                )?;
            }
            audit::record(
                conn,
                Change {
                    actor_id: Some(caller.user_id),
                    action: "call.shortlisted",
                    entity_type: "call",
                    entity_id: id,
                    before: None,
                    after: Some(json!({"next_stage": next_stage, "application_ids": ids})),
                },
                now,
            )?;
            Ok(result)
        })
        .await?;
    Ok(HttpResponse::Ok().json(result))
}

/// The status of the applications a call decides on: the shortlisted ones of a multi-stage call's last
/// stage, the eligible ones of a single-stage call.
fn decidable_status(call: &calls::Call) -> Result<ApplicationStatus, Error> {
    Ok(ApplicationStatus::decidable(call.stages()?.len()))
}

/// One decision of `PUT /calls/{id}/decisions`.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionItem {
    #[schema(required = true)]
    pub application_id: Option<Uuid>,
    /// `selected`, `waitlisted` or `rejected`.
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
/// single-stage call, or the shortlisted ones of the last stage.
#[utoipa::path(
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
    caller: Caller,
    id: web::Path<Uuid>,
    input: Input<Vec<DecisionItem>>,
) -> Result<HttpResponse, Error> {
    let caller = caller.0;
    caller.require_admin()?;
    let id = id.into_inner();
    let (items, mut check) = input.into_parts();
    let mut parsed = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let app = check.required(&format!("{i}.application_id"), item.application_id, Ok);
        let outcome = check.required(&format!("{i}.outcome"), item.outcome.as_deref(), |o| {
            o.parse::<DecisionOutcome>().map_err(|_| {
                InvalidValue::new("invalid_outcome", "selected, waitlisted or rejected")
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
        if let (Some(app), Some(outcome), Some(motivation)) = (app, outcome, motivation) {
            parsed.push((i, app, outcome, motivation));
        }
    }
    let now = state.clock.now();
    let views = state
        .db
        .write(move |conn| {
            let call = calls::find(conn, id)?.ok_or(Error::NotFound)?;
            let decidable = decidable_status(&call)?;
            let candidates = applications::ids_with_status(conn, id, decidable)?;
            let decided: Vec<Uuid> = evaluation::decisions_of_call(conn, id)?
                .iter()
                .map(|d| *d.application_id)
                .collect();
            for (i, app, _, _) in &parsed {
                if !candidates.contains(app) && !decided.contains(app) {
                    check.push(FieldError::new(
                        format!("{i}.application_id"),
                        "not_decidable",
                        format!("not a {decidable} application of this call"),
                    ));
                }
            }
            check.finish()?;
            for (_, app, outcome, motivation) in &parsed {
                let decision = Decision {
                    application_id: Uid(*app),
                    call_id: Uid(id),
                    outcome: *outcome,
                    motivation: motivation.clone(),
                    decided_by: Some(Uid(caller.user_id)),
                    decided_at: Ts(now),
                    published_at: None,
                };
                if !evaluation::record_decision(conn, &decision)? {
                    return Err(Error::Conflict(
                        "a decision in this list was already published".into(),
                    ));
                }
            }
            audit::record(
                conn,
                Change {
                    actor_id: Some(caller.user_id),
                    action: "decisions.recorded",
                    entity_type: "call",
                    entity_id: id,
                    before: None,
                    after: Some(json!(parsed
                        .iter()
                        .map(|(_, a, o, _)| json!({"application_id": a, "outcome": o}))
                        .collect::<Vec<_>>())),
                },
                now,
            )?;
            Ok(evaluation::decisions_of_call(conn, id)?
                .iter()
                .map(DecisionView::from)
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(HttpResponse::Ok().json(views))
}

/// The decisions of a call, published or not (administrators).
#[utoipa::path(
    tag = "evaluation",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<DecisionView>), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
#[get("/calls/{id}/decisions")]
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, Error> {
    caller.0.require_admin()?;
    let id = id.into_inner();
    let views = state
        .db
        .read(move |conn| {
            calls::find(conn, id)?.ok_or(Error::NotFound)?;
            Ok(evaluation::decisions_of_call(conn, id)?
                .iter()
                .map(DecisionView::from)
                .collect::<Vec<_>>())
        })
        .await?;
    Ok(HttpResponse::Ok().json(views))
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
    tag = "evaluation",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Published), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
#[post("/calls/{id}/decisions/publish")]
pub async fn publish(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, Error> {
    let caller = caller.0;
    caller.require_admin()?;
    let id = id.into_inner();
    let now = state.clock.now();
    let state_for_tx = state.clone();
    let published = state
        .db
        .write(move |conn| {
            let state = state_for_tx;
            let call = calls::find(conn, id)?.ok_or(Error::NotFound)?;
            let decidable = decidable_status(&call)?;
            let pending = evaluation::pending_decisions(conn, id)?;
            let app_ids: Vec<Uuid> = pending.iter().map(|d| *d.application_id).collect();
            applications::lock_all(conn, &app_ids)?;
            let mut published = 0;
            for decision in &pending {
                let app_id = *decision.application_id;
                if !evaluation::mark_published(conn, app_id, now)? {
                    // Another publication did it (and sent its email) first.
                    continue;
                }
                published += 1;
                if !applications::set_status(conn, app_id, decidable, decision.outcome.status(), now)? {
                    // Withdrawn (or otherwise moved) before the publication: it keeps that status.
                    continue;
                }
                let app = applications::find(conn, app_id)?.ok_or(Error::NotFound)?;
                events::record(
                    conn,
                    NewEvent::application(
                        "application.decided",
                        id,
                        app_id,
                        Some(caller.user_id),
                        json!({"outcome": decision.outcome, "status": app.status, "reference": app.reference}),
                    ),
                    now,
                )?;
                let organization =
                    organizations::find(conn, *app.organization_id)?.ok_or(Error::NotFound)?;
                let about = About {
                    call: &call,
                    organization: &organization,
                    application: &app,
                };
                about.to_members(
                    conn,
                    &state,
                    Event::DecisionPublished,
                    |_| json!({"outcome": decision.outcome, "motivation": decision.motivation}),
                    now,
                )?;
            }
            // Applications left out at a shortlist are told at publication too, once.
            for app_id in applications::ids_with_status(conn, id, ApplicationStatus::NotShortlisted)? {
                if !applications::mark_reminded(conn, app_id, NOT_SHORTLISTED_NOTICE, now)? {
                    continue;
                }
                let app = applications::find(conn, app_id)?.ok_or(Error::NotFound)?;
                let organization =
                    organizations::find(conn, *app.organization_id)?.ok_or(Error::NotFound)?;
                let about = About {
                    call: &call,
                    organization: &organization,
                    application: &app,
                };
                about.to_members(
                    conn,
                    &state,
                    Event::DecisionPublished,
                    |locale| {
                        let motivation = if locale == "en" {
                            "The application was not shortlisted for the next stage of the call."
                        } else {
                            "La candidature n'a pas été retenue pour l'étape suivante de l'appel."
                        };
                        json!({"outcome": "rejected", "motivation": motivation})
                    },
                    now,
                )?;
            }
            if published > 0 {
                if let Some(decided) = call.status.on_decisions_published() {
                    calls::set_status(conn, id, call.status, decided, now)?;
                }
                audit::record(
                    conn,
                    Change {
                        actor_id: Some(caller.user_id),
                        action: "decisions.published",
                        entity_type: "call",
                        entity_id: id,
                        before: None,
                        after: Some(json!({"published": published})),
                    },
                    now,
                )?;
                events::record(
                    conn,
                    NewEvent::call(
                        "decisions.published",
                        id,
                        Some(caller.user_id),
                        json!({"published": published, "status": "decided"}),
                    ),
                    now,
                )?;
            }
            Ok(Published { published })
        })
        .await?;
    state.outbox_wakeup.notify_one();
    Ok(HttpResponse::Ok().json(published))
}
