//! The jury of a call: jurors, assignments (conflicts of interest are in `conflicts.rs`).

use std::collections::{BTreeMap, HashSet};

use actix_web::{delete, get, post, put, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::api::extract::Caller;
use crate::api::input::Input;
use crate::auth::permissions::{Principal, Scope};
use crate::db::types::{Ts, Uid};
use crate::db::DbConn;
use crate::domain::application::ApplicationStatus;
use crate::domain::assignment::{self, AssignmentInput};
use crate::domain::call;
pub use crate::domain::conflict::{affiliations_of, Affiliation};
use crate::domain::form::Stage;
use crate::domain::identifiers::{InvalidValue, Siren, Siret};
use crate::error::{Error, FieldError, Problem};
use crate::notify::applications::localized;
use crate::notify::templates::Event;
use crate::notify::{queue, Email};
use crate::service::conflicts as conflict_service;
use crate::state::AppState;
use crate::store;
use crate::store::assignments::Assignment;
use crate::store::audit::{self, Change};
use crate::store::calls::{self, Call};
use crate::store::conflicts;
use crate::store::events::{self, NewEvent};
use crate::store::{applications, users};

/// A juror of a call.
#[derive(Debug, Serialize, ToSchema)]
pub struct JurorView {
    pub user_id: Uuid,
    pub email: String,
    pub display_name: String,
    pub affiliations: Vec<Affiliation>,
    pub added_at: DateTime<Utc>,
}

fn call_or_404(conn: &mut DbConn, id: Uuid) -> Result<Call, Error> {
    calls::find(conn, id)?.ok_or(Error::NotFound)
}

/// The jurors of a call (administrators).
#[utoipa::path(
    tag = "evaluation",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<JurorView>), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
#[get("/calls/{id}/jurors")]
pub async fn list_jurors(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, Error> {
    caller.0.require_admin()?;
    let id = id.into_inner();
    let jurors = state
        .db
        .read(move |conn| {
            call_or_404(conn, id)?;
            Ok(store::jurors::jurors(conn, id)?)
        })
        .await?;
    let views = jurors
        .into_iter()
        .map(|j| {
            Ok(JurorView {
                affiliations: affiliations_of(&j.affiliations.0)?,
                user_id: *j.user_id,
                email: j.email,
                display_name: j.display_name,
                added_at: j.created_at.0,
            })
        })
        .collect::<Result<Vec<JurorView>, Error>>()?;
    Ok(HttpResponse::Ok().json(views))
}

/// `POST /calls/{id}/jurors`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddJuror {
    #[schema(required = true)]
    pub user_id: Option<Uuid>,
    /// Organizations the juror is tied to (conflicts are detected by SIREN).
    pub affiliations: Option<Vec<Affiliation>>,
}

fn check_affiliations(
    check: &mut crate::api::input::Check,
    affiliations: &[Affiliation],
) -> Vec<Affiliation> {
    let mut clean = Vec::new();
    for (i, a) in affiliations.iter().enumerate() {
        let name = crate::domain::text::visible(&a.name);
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            check.push(FieldError::new(
                format!("affiliations.{i}.name"),
                "invalid",
                "1 to 200 characters",
            ));
        }
        let siren = match a.siren.as_deref() {
            None => None,
            Some(raw) => {
                match Siren::parse(raw).or_else(|_| Siret::parse(raw).map(|s| s.siren())) {
                    Ok(siren) => Some(siren.as_str().to_owned()),
                    Err(err) => {
                        check.push(FieldError::invalid(
                            format!("affiliations.{i}.siren"),
                            InvalidValue::new("invalid_siren", err.message),
                        ));
                        None
                    }
                }
            }
        };
        clean.push(Affiliation {
            name: name.to_owned(),
            siren,
        });
    }
    clean
}

/// Adds an existing account to the jury of a call (administrators).
#[utoipa::path(
    tag = "evaluation",
    params(("id" = Uuid, Path)),
    request_body = AddJuror,
    responses(
        (status = 201, body = JurorView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, description = "Already on the jury", body = Problem), (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/calls/{id}/jurors")]
pub async fn add_juror(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    input: Input<AddJuror>,
) -> Result<HttpResponse, Error> {
    let caller = caller.0;
    caller.require_admin()?;
    let id = id.into_inner();
    let (body, mut check) = input.into_parts();
    let user_id = check.required("user_id", body.user_id, Ok);
    let affiliations =
        check_affiliations(&mut check, body.affiliations.as_deref().unwrap_or_default());
    let Some(user_id) = user_id else {
        return Err(check.into_error());
    };
    check.finish()?;
    let now = state.clock.now();
    let view = state
        .db
        .write(move |conn| {
            call_or_404(conn, id)?;
            let user = users::find(conn, user_id)?
                .ok_or_else(|| Error::field("user_id", "unknown_user", "no account has this id"))?;
            // A seat on a jury goes only to someone who proved they read the account's mailbox.
            if user.email_verified_at.is_none() {
                return Err(Error::field(
                    "user_id",
                    "email_not_verified",
                    "this account has not verified its email address: invite the person instead",
                ));
            }
            let value = json!(affiliations);
            if !store::jurors::add_juror(
                conn,
                id,
                user_id,
                value.clone(),
                Some(caller.user_id),
                now,
            )? {
                return Err(Error::Conflict("this person is already on the jury".into()));
            }
            audit::record(
                conn,
                Change {
                    actor_id: Some(caller.user_id),
                    action: "jury.juror_added",
                    entity_type: "call",
                    entity_id: id,
                    before: None,
                    after: Some(json!({"user_id": user_id, "affiliations": value})),
                },
                now,
            )?;
            events::record(
                conn,
                NewEvent::call(
                    "jury.juror_added",
                    id,
                    Some(caller.user_id),
                    json!({"juror_id": user_id}),
                ),
                now,
            )?;
            Ok(JurorView {
                user_id,
                email: user.email,
                display_name: user.display_name,
                affiliations,
                added_at: now,
            })
        })
        .await?;
    Ok(HttpResponse::Created().json(view))
}

/// Removes a juror from the jury of a call (administrators).
#[utoipa::path(
    tag = "evaluation",
    params(("id" = Uuid, Path), ("user_id" = Uuid, Path)),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
#[delete("/calls/{id}/jurors/{user_id}")]
pub async fn remove_juror(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, Error> {
    let caller = caller.0;
    caller.require_admin()?;
    let (id, user_id) = path.into_inner();
    let now = state.clock.now();
    state
        .db
        .write(move |conn| {
            if !store::jurors::remove_juror(conn, id, user_id)? {
                return Err(Error::NotFound);
            }
            audit::record(
                conn,
                Change {
                    actor_id: Some(caller.user_id),
                    action: "jury.juror_removed",
                    entity_type: "call",
                    entity_id: id,
                    before: Some(json!({"user_id": user_id})),
                    after: None,
                },
                now,
            )?;
            events::record(
                conn,
                NewEvent::call(
                    "jury.juror_removed",
                    id,
                    Some(caller.user_id),
                    json!({"juror_id": user_id}),
                ),
                now,
            )?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A juror's assignments (of one call, or all), without those they are conflicted on (declared, or detected
/// and active) nor those of withdrawn applications; a few statements whatever their number.
pub fn visible_assignments(
    conn: &mut DbConn,
    juror: Uuid,
    call_id: Option<Uuid>,
) -> Result<Vec<store::assignments::MyAssignment>, Error> {
    let rows = store::assignments::assignments_of_juror(conn, juror, call_id)?;
    let calls: std::collections::BTreeSet<Uuid> = rows.iter().map(|r| *r.call_id).collect();
    let calls: Vec<Uuid> = calls.into_iter().collect();
    let conflicted = conflicts::conflicted_applications(conn, juror, &calls)?;
    Ok(rows
        .into_iter()
        .filter(|r| !conflicted.contains(&*r.application_id))
        .collect())
}

/// An assignment of an application to a juror for a stage.
#[derive(Debug, Serialize, ToSchema)]
pub struct AssignmentView {
    pub id: Uuid,
    pub application_id: Uuid,
    pub juror_id: Uuid,
    pub stage: String,
    pub created_at: DateTime<Utc>,
}

impl From<&Assignment> for AssignmentView {
    fn from(a: &Assignment) -> Self {
        AssignmentView {
            id: *a.id,
            application_id: *a.application_id,
            juror_id: *a.juror_id,
            stage: a.stage.clone(),
            created_at: a.created_at.0,
        }
    }
}

/// `?stage=` of the assignment list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StageQuery {
    pub stage: Option<String>,
}

/// The assignments of a call (administrators).
#[utoipa::path(
    tag = "evaluation",
    params(("id" = Uuid, Path), StageQuery),
    responses((status = 200, body = Vec<AssignmentView>), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
#[get("/calls/{id}/assignments")]
pub async fn list_assignments(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    query: web::Query<StageQuery>,
) -> Result<HttpResponse, Error> {
    caller.0.require_admin()?;
    let id = id.into_inner();
    let stage = query.into_inner().stage;
    let rows = state
        .db
        .read(move |conn| {
            call_or_404(conn, id)?;
            Ok(store::assignments::assignments_of_call(
                conn,
                id,
                stage.as_deref(),
            )?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(rows.iter().map(AssignmentView::from).collect::<Vec<_>>()))
}

/// The status an application needs to be reviewed at `stage`: eligible for the first stage, shortlisted after.
fn status_for_stage(stages: &[Stage], stage: &str) -> Result<ApplicationStatus, Error> {
    match stages.iter().position(|s| s.key == stage) {
        Some(index) => Ok(ApplicationStatus::reviewed_at_stage(index)),
        None => Err(Error::field(
            "stage",
            "unknown_stage",
            "the call has no such stage",
        )),
    }
}

/// `POST /calls/{id}/assignments`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAssignment {
    #[schema(required = true)]
    pub application_id: Option<Uuid>,
    #[schema(required = true)]
    pub juror_id: Option<Uuid>,
    #[schema(required = true)]
    pub stage: Option<String>,
}

/// Assigns an application to a juror for a stage (administrators); 409 when the juror is conflicted.
#[utoipa::path(
    tag = "evaluation",
    params(("id" = Uuid, Path)),
    request_body = CreateAssignment,
    responses(
        (status = 201, body = AssignmentView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, description = "Conflict of interest, or already assigned", body = Problem),
        (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/calls/{id}/assignments")]
pub async fn create_assignment(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    input: Input<CreateAssignment>,
) -> Result<HttpResponse, Error> {
    let caller = caller.0;
    caller.require_admin()?;
    let id = id.into_inner();
    let (body, mut check) = input.into_parts();
    let application_id = check.required("application_id", body.application_id, Ok);
    let juror_id = check.required("juror_id", body.juror_id, Ok);
    let stage = check.required("stage", body.stage, Ok);
    let (Some(application_id), Some(juror_id), Some(stage)) = (application_id, juror_id, stage)
    else {
        return Err(check.into_error());
    };
    check.finish()?;
    let now = state.clock.now();
    let state_for_tx = state.clone();
    let view = state
        .db
        .write(move |conn| {
            let call = call_or_404(conn, id)?;
            let needed = status_for_stage(&call.stages()?, &stage)?;
            if !store::jurors::is_juror(conn, id, juror_id)? {
                return Err(Error::field(
                    "juror_id",
                    "not_a_juror",
                    "this person is not on the call's jury",
                ));
            }
            let app = applications::find(conn, application_id)?
                .filter(|a| *a.call_id == id)
                .ok_or_else(|| {
                    Error::field(
                        "application_id",
                        "unknown_application",
                        "no such application in this call",
                    )
                })?;
            if app.status != needed {
                return Err(Error::Conflict(format!(
                    "the application is {}: the {stage} stage reviews {needed} applications",
                    app.status
                )));
            }
            // Conflicts are detected now, from today's facts, and recorded: what is found here is what
            // access checks, reviews and the ranking read later.
            let scope = conflict_service::Scope {
                juror: Some(juror_id),
                application: Some(application_id),
                only_assigned: false,
            };
            let found = conflict_service::detect(conn, id, scope, now)?;
            conflict_service::report(conn, &state_for_tx, Some(caller.user_id), id, &found, now)?;
            if conflicts::blocks_assignment(conn, id, application_id, juror_id)? {
                // Refused, but what was detected stays recorded (the transaction commits).
                return Ok(Err(Error::refused(
                    "conflict_of_interest",
                    "this juror has a conflict of interest with this application (or one waiting for a decision)",
                )));
            }
            let row = assignment_row(id, application_id, juror_id, &stage, caller.user_id, now);
            if store::assignments::insert_assignments(conn, std::slice::from_ref(&row))? == 0 {
                return Err(Error::Conflict(
                    "this juror is already assigned this application for this stage".into(),
                ));
            }
            enter_evaluation(conn, &call, now)?;
            audit_assignments(
                conn,
                caller.user_id,
                id,
                &stage,
                std::slice::from_ref(&row),
                now,
            )?;
            digest(
                conn,
                &state_for_tx,
                &call,
                &stage,
                std::slice::from_ref(&row),
                now,
            )?;
            Ok(Ok(AssignmentView::from(&row)))
        })
        .await??;
    state.outbox_wakeup.notify_one();
    Ok(HttpResponse::Created().json(view))
}

fn assignment_row(
    call_id: Uuid,
    application_id: Uuid,
    juror_id: Uuid,
    stage: &str,
    by: Uuid,
    now: DateTime<Utc>,
) -> Assignment {
    Assignment {
        id: Uid(Uuid::now_v7()),
        call_id: Uid(call_id),
        application_id: Uid(application_id),
        juror_id: Uid(juror_id),
        stage: stage.to_owned(),
        created_by: Some(Uid(by)),
        created_at: Ts(now),
    }
}

/// A published call whose applications are being assigned after closing is in evaluation.
fn enter_evaluation(conn: &mut DbConn, call: &Call, now: DateTime<Utc>) -> Result<(), Error> {
    if let Some(next) =
        call.status
            .on_evaluation_work(call::phase(call.opens_at.0, call.closes_at.0, now))
    {
        calls::set_status(conn, *call.id, call.status, next, now)?;
    }
    Ok(())
}

fn audit_assignments(
    conn: &mut DbConn,
    actor: Uuid,
    call_id: Uuid,
    stage: &str,
    rows: &[Assignment],
    now: DateTime<Utc>,
) -> Result<(), Error> {
    if rows.is_empty() {
        return Ok(());
    }
    let pairs: Vec<Value> = rows
        .iter()
        .map(|r| json!({"application_id": r.application_id, "juror_id": r.juror_id}))
        .collect();
    audit::record(
        conn,
        Change {
            actor_id: Some(actor),
            action: "assignments.created",
            entity_type: "call",
            entity_id: call_id,
            before: None,
            after: Some(json!({"stage": stage, "assignments": pairs})),
        },
        now,
    )?;
    for row in rows {
        events::record(
            conn,
            NewEvent::application(
                "assignment.created",
                call_id,
                *row.application_id,
                Some(actor),
                json!({"assignment_id": row.id, "juror_id": row.juror_id, "stage": stage}),
            ),
            now,
        )?;
    }
    Ok(())
}

/// One email per juror listing their new assignments.
fn digest(
    conn: &mut DbConn,
    state: &AppState,
    call: &Call,
    stage: &str,
    rows: &[Assignment],
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let stages = call.stages()?;
    let stage_def = stages.iter().find(|s| s.key == stage);
    let title = call.title_text();
    let mut by_juror: BTreeMap<Uuid, Vec<Uuid>> = BTreeMap::new();
    for row in rows {
        by_juror
            .entry(*row.juror_id)
            .or_default()
            .push(*row.application_id);
    }
    for (juror, apps) in by_juror {
        let Some(user) = users::find(conn, juror)? else {
            continue;
        };
        let mut listed = Vec::new();
        for app_id in &apps {
            if let Some(app) = applications::find(conn, *app_id)? {
                let org = crate::store::organizations::find(conn, *app.organization_id)?;
                listed.push(json!({"reference": app.reference, "organization_name": org.map(|o| o.legal_name)}));
            }
        }
        let context = json!({
            "display_name": user.display_name,
            "call_title": localized(&title, &user.locale),
            "stage_label": stage_def.map_or_else(|| stage.to_owned(), |s| localized(&s.label, &user.locale)),
            "count": apps.len(),
            "applications": listed,
            "due_at": null,
            "link": state.link("/me/assignments"),
        });
        let email = Email {
            event: Event::AssignmentDigest,
            to: &user.email,
            user_id: Some(juror),
            call_id: Some(*call.id),
            locale: &user.locale,
            context,
        };
        queue(conn, &state.templates, &state.settings.email, email, now)?;
    }
    Ok(())
}

/// `POST /calls/{id}/assignments/auto`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AutoAssign {
    #[schema(required = true)]
    pub stage: Option<String>,
    /// How many jurors review each application.
    #[schema(required = true)]
    pub reviews_per_application: Option<u32>,
    pub max_per_juror: Option<u32>,
}

/// What automatic assignment did.
#[derive(Debug, Serialize, ToSchema)]
pub struct AutoAssignResult {
    /// The assignments made now (re-running only fills gaps).
    pub created: Vec<AssignmentView>,
    /// Applications left with fewer jurors than asked (conflicts or loads left no one), with how many they have.
    pub short: Vec<ShortApplication>,
}

/// An application with fewer jurors than asked.
#[derive(Debug, Serialize, ToSchema)]
pub struct ShortApplication {
    pub application_id: Uuid,
    pub jurors: usize,
}

/// Assigns every application of a stage to `reviews_per_application` jurors, never a conflicted one, with
/// juror loads differing by at most one (within `max_per_juror`); deterministic; re-running fills gaps only.
/// Each juror with new assignments gets one email listing them.
#[utoipa::path(
    tag = "evaluation",
    params(("id" = Uuid, Path)),
    request_body = AutoAssign,
    responses((status = 200, body = AutoAssignResult), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = []))
)]
#[post("/calls/{id}/assignments/auto")]
pub async fn auto_assign(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    input: Input<AutoAssign>,
) -> Result<HttpResponse, Error> {
    let caller = caller.0;
    caller.require_admin()?;
    let id = id.into_inner();
    let (body, mut check) = input.into_parts();
    let stage = check.required("stage", body.stage, Ok);
    let per_application = check.required(
        "reviews_per_application",
        body.reviews_per_application,
        |n| {
            if (1..=50).contains(&n) {
                Ok(n as usize)
            } else {
                Err(InvalidValue::new("out_of_range", "1 to 50"))
            }
        },
    );
    let max_per_juror = check.optional("max_per_juror", body.max_per_juror, |n| {
        if n >= 1 {
            Ok(n as usize)
        } else {
            Err(InvalidValue::new("out_of_range", "at least 1"))
        }
    });
    let (Some(stage), Some(per_application)) = (stage, per_application) else {
        return Err(check.into_error());
    };
    check.finish()?;
    let now = state.clock.now();
    let state_for_tx = state.clone();
    let result = state
        .db
        .write(move |conn| {
            let call = call_or_404(conn, id)?;
            let needed = status_for_stage(&call.stages()?, &stage)?;
            let apps: Vec<Uuid> = applications::ids_with_status(conn, id, needed)?;
            let jurors: Vec<Uuid> = store::jurors::jurors(conn, id)?
                .iter()
                .map(|j| *j.user_id)
                .collect();
            let existing: Vec<(Uuid, Uuid)> =
                store::assignments::assignments_of_call(conn, id, Some(&stage))?
                    .iter()
                    .map(|a| (*a.application_id, *a.juror_id))
                    .collect();
            let found =
                conflict_service::detect(conn, id, conflict_service::Scope::whole_call(), now)?;
            conflict_service::report(conn, &state_for_tx, Some(caller.user_id), id, &found, now)?;
            let conflicts: HashSet<(Uuid, Uuid)> = conflicts::conflicted_pairs(conn, id, true)?;
            let plan = assignment::plan(&AssignmentInput {
                applications: &apps,
                jurors: &jurors,
                existing: &existing,
                conflicts: &conflicts,
                reviews_per_application: per_application,
                max_per_juror,
            });
            let rows: Vec<Assignment> = plan
                .new
                .iter()
                .map(|(app, juror)| assignment_row(id, *app, *juror, &stage, caller.user_id, now))
                .collect();
            store::assignments::insert_assignments(conn, &rows)?;
            if !rows.is_empty() {
                enter_evaluation(conn, &call, now)?;
            }
            audit_assignments(conn, caller.user_id, id, &stage, &rows, now)?;
            digest(conn, &state_for_tx, &call, &stage, &rows, now)?;
            Ok(AutoAssignResult {
                created: rows.iter().map(AssignmentView::from).collect(),
                short: plan
                    .short
                    .iter()
                    .map(|(app, n)| ShortApplication {
                        application_id: *app,
                        jurors: *n,
                    })
                    .collect(),
            })
        })
        .await?;
    state.outbox_wakeup.notify_one();
    Ok(HttpResponse::Ok().json(result))
}

/// A juror's assignment.
#[derive(Debug, Serialize, ToSchema)]
pub struct MyAssignmentView {
    pub application_id: Uuid,
    pub call_id: Uuid,
    pub reference: Option<String>,
    pub stage: String,
    /// `pending` (not started), `draft` or `submitted`.
    pub review_status: String,
    /// When the stage's reviews are due, if staff set a deadline: after it, the review can no longer be saved
    /// or submitted unless staff reopen it.
    pub review_due_at: Option<DateTime<Utc>>,
}

/// `?call_id=` of a juror's assignments.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MyAssignmentsQuery {
    pub call_id: Option<Uuid>,
}

/// The caller's assignments as a juror, with the state of their reviews and the stage's review deadline;
/// never an application they are conflicted with or that was withdrawn.
#[utoipa::path(
    tag = "evaluation",
    params(MyAssignmentsQuery),
    responses((status = 200, body = Vec<MyAssignmentView>), (status = 401, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = []))
)]
#[get("/me/assignments")]
pub async fn my_assignments(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<MyAssignmentsQuery>,
) -> Result<HttpResponse, Error> {
    let caller: Principal = caller.0;
    caller.require_scope(Scope::ReviewsRead)?;
    let call_id = query.into_inner().call_id;
    let rows = state
        .db
        .read(move |conn| visible_assignments(conn, caller.user_id, call_id))
        .await?;
    let views: Vec<MyAssignmentView> = rows
        .into_iter()
        .map(|r| MyAssignmentView {
            application_id: *r.application_id,
            call_id: *r.call_id,
            reference: r.reference,
            stage: r.stage,
            review_status: r.review_status.map_or("pending", |s| s.as_str()).into(),
            review_due_at: r.review_due_at.map(|t| t.0),
        })
        .collect();
    Ok(HttpResponse::Ok().json(views))
}

/// `PUT /calls/{id}/stages/{stage}/deadline`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewDeadline {
    /// When the stage's reviews are due (RFC 3339, in the future).
    #[schema(required = true)]
    pub due_at: Option<String>,
}

/// A stage's review deadline.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewDeadlineView {
    pub stage: String,
    pub due_at: DateTime<Utc>,
}

/// Sets the review deadline of a stage (administrators): 48 hours before it, every juror with reviews still
/// pending gets one reminder.
#[utoipa::path(
    tag = "evaluation",
    params(("id" = Uuid, Path), ("stage" = String, Path)),
    request_body = ReviewDeadline,
    responses((status = 200, body = ReviewDeadlineView), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = []))
)]
#[put("/calls/{id}/stages/{stage}/deadline")]
pub async fn set_review_deadline(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(Uuid, String)>,
    input: Input<ReviewDeadline>,
) -> Result<HttpResponse, Error> {
    let caller = caller.0;
    caller.require_admin()?;
    let (id, stage) = path.into_inner();
    let now = state.clock.now();
    let (body, mut check) = input.into_parts();
    let due_at = check.required("due_at", body.due_at.as_deref(), |raw| {
        let at = crate::domain::call::parse_instant(raw)?;
        if at <= now {
            return Err(InvalidValue::new(
                "in_the_past",
                "the deadline must be in the future",
            ));
        }
        Ok(at)
    });
    let Some(due_at) = due_at else {
        return Err(check.into_error());
    };
    check.finish()?;
    let view = state
        .db
        .write(move |conn| {
            let call = call_or_404(conn, id)?;
            if !call.stages()?.iter().any(|s| s.key == stage) {
                return Err(Error::NotFound);
            }
            store::reviews::set_review_deadline(conn, id, &stage, due_at)?;
            audit::record(
                conn,
                Change {
                    actor_id: Some(caller.user_id),
                    action: "stage.deadline_set",
                    entity_type: "call",
                    entity_id: id,
                    before: None,
                    after: Some(json!({"stage": stage, "due_at": due_at})),
                },
                now,
            )?;
            Ok(ReviewDeadlineView { stage, due_at })
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}
