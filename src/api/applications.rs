//! Applications: create, read, list, edit, submit, withdraw, screen.

use std::collections::HashSet;

use actix_web::http::{header, StatusCode};
use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Datelike, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::api::etag;
use crate::api::extract::{Caller, PageQuery, Paginated};
use crate::api::idempotency::{self, Reply};
use crate::api::input::Input;
use crate::auth::permissions::{can_act_for_applicant, can_read_application, Principal, Scope};
use crate::db::types::{Json, Ts, Uid};
use crate::db::DbConn;
use crate::domain::application::{ApplicationStatus, ScreeningOutcome};
use crate::domain::call::{self, CallStatus, Phase};
use crate::domain::form::Form;
use crate::domain::identifiers::InvalidValue;
use crate::error::{Error, FieldError, Problem};
use crate::notify::applications::{format_instant, localized, About};
use crate::notify::templates::Event;
use crate::state::AppState;
use crate::store::applications::{self, Application, Attachment, ListFilter};
use crate::store::audit::{self, Change};
use crate::store::calls::{self, Call};
use crate::store::events::{self, NewEvent};
use crate::store::organizations::{self, Organization};

/// A file attached to an application.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttachmentView {
    pub id: Uuid,
    /// The form's file field.
    pub field: String,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub created_at: DateTime<Utc>,
}

impl From<&Attachment> for AttachmentView {
    fn from(a: &Attachment) -> Self {
        AttachmentView {
            id: *a.id,
            field: a.field.clone(),
            filename: a.filename.clone(),
            content_type: a.content_type.clone(),
            size: a.size,
            sha256: a.sha256.clone(),
            created_at: a.created_at.0,
        }
    }
}

/// An application with its answers and files.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApplicationView {
    pub id: Uuid,
    pub call_id: Uuid,
    pub organization_id: Uuid,
    /// `draft`, `submitted`, `changes_requested`, `eligible`, `ineligible`, `shortlisted`, `not_shortlisted`,
    /// `selected`, `waitlisted`, `rejected` or `withdrawn`.
    pub status: ApplicationStatus,
    /// Given at the first submission, such as `ATL-2026-0007`.
    pub reference: Option<String>,
    #[schema(value_type = Object)]
    pub answers: Value,
    pub attachments: Vec<AttachmentView>,
    pub submitted_at: Option<DateTime<Utc>>,
    /// Why staff asked for changes, or found the application ineligible.
    pub screening_reason: Option<String>,
    /// When changes are due.
    pub changes_due_at: Option<DateTime<Utc>>,
    pub withdrawn_reason: Option<String>,
    /// The company or start-up a territory's experiment is paired with, once both sides accepted (shown when
    /// the application is read).
    pub partner: Option<PartnerView>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A confirmed partner of a territory's experiment.
#[derive(Debug, Serialize, ToSchema)]
pub struct PartnerView {
    pub organization_id: Uuid,
    pub name: String,
}

impl ApplicationView {
    /// The view of an application with its attachments.
    pub fn new(app: &Application, attachments: &[Attachment]) -> ApplicationView {
        ApplicationView {
            id: *app.id,
            call_id: *app.call_id,
            organization_id: *app.organization_id,
            status: app.status,
            reference: app.reference.clone(),
            answers: app.answers.0.clone(),
            attachments: attachments.iter().map(AttachmentView::from).collect(),
            submitted_at: app.submitted_at.map(|t| t.0),
            screening_reason: app.screening_reason.clone(),
            changes_due_at: app.changes_due_at.map(|t| t.0),
            withdrawn_reason: app.withdrawn_reason.clone(),
            partner: None,
            version: app.version,
            created_at: app.created_at.0,
            updated_at: app.updated_at.0,
        }
    }
}

/// The application, with the caller's role in its organization; 404 when it does not exist.
pub fn load(
    conn: &mut DbConn,
    caller: &Principal,
    id: Uuid,
) -> Result<(Application, Option<crate::auth::permissions::MemberRole>), Error> {
    let app = applications::find(conn, id)?.ok_or(Error::NotFound)?;
    let role = organizations::membership(conn, *app.organization_id, caller.user_id)?;
    Ok((app, role))
}

/// Reading an application: its members and staff, and the jurors it is assigned to who are not conflicted.
pub fn check_read(
    conn: &mut DbConn,
    caller: &Principal,
    app: &Application,
    role: Option<crate::auth::permissions::MemberRole>,
) -> Result<(), Error> {
    let as_applicant_or_staff = can_read_application(caller, role);
    if as_applicant_or_staff.is_ok() {
        return Ok(());
    }
    let facts = crate::auth::permissions::JurorFacts {
        assigned: crate::store::evaluation::is_assigned(conn, *app.id, caller.user_id, None)?,
        conflicted: crate::store::conflicts::is_conflicted(
            conn,
            *app.call_id,
            *app.id,
            caller.user_id,
        )?,
    };
    if crate::auth::permissions::can_read_as_juror(caller, facts) {
        Ok(())
    } else {
        as_applicant_or_staff
    }
}

fn load_context(conn: &mut DbConn, app: &Application) -> Result<(Call, Organization), Error> {
    let call = calls::find(conn, *app.call_id)?.ok_or(Error::NotFound)?;
    let organization = organizations::find(conn, *app.organization_id)?.ok_or(Error::NotFound)?;
    Ok((call, organization))
}

fn answers_object(
    value: Option<Value>,
    check: &mut crate::api::input::Check,
) -> Map<String, Value> {
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

/// `POST /calls/{id}/applications`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApplication {
    #[schema(required = true)]
    pub organization_id: Option<Uuid>,
    /// Answers so far, keyed by the form's field keys; each must be well-formed.
    #[schema(value_type = Option<Object>)]
    pub answers: Option<Value>,
}

/// Starts a draft application of an organization to an open call.
#[utoipa::path(
    tag = "applications",
    params(("id" = Uuid, Path, description = "The call"), ("Idempotency-Key" = Option<String>, Header)),
    request_body = CreateApplication,
    responses(
        (status = 201, body = ApplicationView), (status = 401, body = Problem), (status = 404, body = Problem),
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
    let now = state.clock.now();
    let app = state
        .db
        .write(move |conn| {
            let call = calls::find(conn, call_id)?.ok_or(Error::NotFound)?;
            if call.status == CallStatus::Draft && !caller.is_admin() {
                return Err(Error::NotFound);
            }
            let form = call.form()?;
            let (answers, errors) = form.check_answers(&answers);
            errors.into_iter().for_each(|e| check.push(e));
            let organization = match organization_id {
                Some(id) => match organizations::membership(conn, id, caller.user_id)? {
                    Some(_) => organizations::find(conn, id)?,
                    None => {
                        check.push(FieldError::new("organization_id", "not_a_member", "you are not a member of this organization"));
                        None
                    }
                },
                None => None,
            };
            if let Some(org) = &organization {
                let eligible: Vec<String> = serde_json::from_value(call.eligible_kinds.0.clone()).unwrap_or_default();
                if !eligible.contains(&org.kind) {
                    check.push(FieldError::new(
                        "organization_id",
                        "not_eligible",
                        format!("this call is for {}; this organization is a {}", eligible.join(", "), org.kind),
                    ));
                }
            }
            let Some(organization) = organization else { return Err(check.into_error()) };
            check.finish()?;
            if !call.status.accepts_applications() || call::phase(call.opens_at.0, call.closes_at.0, now) != Phase::Open {
                return Err(Error::Conflict("this call is not open for applications".into()));
            }
            if applications::exists_for(conn, call_id, *organization.id)? {
                return Err(Error::Conflict("this organization already applied to this call".into()));
            }
            let app = Application {
                id: Uid(Uuid::now_v7()),
                call_id: call.id,
                organization_id: organization.id,
                status: ApplicationStatus::Draft,
                reference: None,
                answers: Json(Value::Object(answers.into_iter().filter(|(_, v)| !v.is_null()).collect())),
                version: 1,
                submitted_at: None,
                screening_reason: None,
                changes_due_at: None,
                withdrawn_reason: None,
                created_by: Some(Uid(caller.user_id)),
                created_at: Ts(now),
                updated_at: Ts(now),
            };
            applications::insert(conn, &app)?;
            audit::record(
                conn,
                Change {
                    actor_id: Some(caller.user_id),
                    action: "application.created",
                    entity_type: "application",
                    entity_id: *app.id,
                    before: None,
                    after: Some(json!({"call_id": app.call_id, "organization_id": app.organization_id, "status": "draft"})),
                },
                now,
            )?;
            events::record(
                conn,
                NewEvent::application(
                    "application.created",
                    *app.call_id,
                    *app.id,
                    Some(caller.user_id),
                    json!({"organization_id": app.organization_id, "status": "draft"}),
                ),
                now,
            )?;
            Ok(app)
        })
        .await?;
    let etag = etag::of_version(app.version);
    Ok(Reply::json(StatusCode::CREATED, ApplicationView::new(&app, &[]))?.with_etag(etag))
}

/// Filters of the application list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ApplicationQuery {
    pub call_id: Option<String>,
    pub status: Option<String>,
    /// Part of a reference or of an organization's name.
    pub q: Option<String>,
    pub limit: Option<String>,
    pub cursor: Option<String>,
}

/// An application in a list: no answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApplicationSummary {
    pub id: Uuid,
    pub call_id: Uuid,
    pub organization_id: Uuid,
    pub organization_name: String,
    pub status: ApplicationStatus,
    pub reference: Option<String>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

/// Applications the caller may see: applicants their organizations', administrators all.
#[utoipa::path(
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
    let query = query.into_inner();
    let mut errors = Vec::new();
    let call_id = match query.call_id.as_deref() {
        None => None,
        Some(raw) => match Uuid::parse_str(raw) {
            Ok(id) => Some(id),
            Err(_) => {
                errors.push(FieldError::new("call_id", "invalid_uuid", "a call id"));
                None
            }
        },
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
        member: if caller.is_admin() {
            None
        } else {
            Some(caller.user_id)
        },
        call_id,
        status,
        q: query
            .q
            .filter(|q| !q.trim().is_empty())
            .map(|q| q.trim().to_owned()),
        after: page.after,
        limit: page.limit + 1,
    };
    let rows = state
        .db
        .read(move |conn| Ok(applications::list(conn, &filter)?))
        .await?;
    let items: Vec<ApplicationSummary> = rows
        .into_iter()
        .map(|r| ApplicationSummary {
            id: *r.id,
            call_id: *r.call_id,
            organization_id: *r.organization_id,
            organization_name: r.organization_name,
            status: r.status,
            reference: r.reference,
            submitted_at: r.submitted_at.map(|t| t.0),
            updated_at: r.updated_at.0,
        })
        .collect();
    Ok(HttpResponse::Ok().json(Paginated::from_rows(items, page, |a| a.id)))
}

/// An application with its answers and files.
#[utoipa::path(
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
    let (app, files, partner) = state
        .db
        .read(move |conn| {
            let (app, role) = load(conn, &caller, id)?;
            check_read(conn, &caller, &app, role)?;
            let files = applications::attachments_of(conn, id)?;
            let partner = match crate::store::pairings::confirmed_partners(conn, &[id])?.first() {
                Some((_, org)) => organizations::find(conn, **org)?.map(|o| PartnerView {
                    organization_id: *o.id,
                    name: o.legal_name,
                }),
                None => None,
            };
            Ok((app, files, partner))
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag::of_version(app.version)))
        .json(ApplicationView {
            partner,
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
            let (before, role) = load(conn, &caller, id)?;
            can_act_for_applicant(&caller, role)?;
            etag::check(&if_match?, before.version)?;
            if !before.status.is_editable() {
                return Err(Error::Conflict(format!(
                    "the application is {}: it can no longer be edited",
                    before.status
                )));
            }
            let call = calls::find(conn, *before.call_id)?.ok_or(Error::NotFound)?;
            let (normalised, errors) = call.form()?.check_answers(&given);
            errors.into_iter().for_each(|e| check.push(e));
            check.finish()?;
            let mut answers = before.answers.0.as_object().cloned().unwrap_or_default();
            for (key, value) in normalised {
                if value.is_null() {
                    answers.remove(&key);
                } else {
                    answers.insert(key, value);
                }
            }
            let after = Application {
                answers: Json(Value::Object(answers)),
                version: before.version + 1,
                updated_at: Ts(now),
                ..before.clone()
            };
            if !applications::update(conn, &after, before.version)? {
                return Err(Error::PreconditionFailed);
            }
            audit::record(
                conn,
                Change {
                    actor_id: Some(caller.user_id),
                    action: "application.updated",
                    entity_type: "application",
                    entity_id: id,
                    before: Some(before.answers.0.clone()),
                    after: Some(after.answers.0.clone()),
                },
                now,
            )?;
            let files = applications::attachments_of(conn, id)?;
            Ok((after, files))
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag::of_version(app.version)))
        .json(ApplicationView::new(&app, &files)))
}

/// Saves a change of status (only if nobody changed the application meanwhile) and audits it, with the
/// status before and `details` after.
fn save_transition(
    conn: &mut DbConn,
    actor: Uuid,
    before: &Application,
    after: &Application,
    action: &str,
    details: Value,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    if !applications::update(conn, after, before.version)? {
        return Err(Error::Conflict(
            "the application changed meanwhile: try again".into(),
        ));
    }
    audit::record(
        conn,
        Change {
            actor_id: Some(actor),
            action,
            entity_type: "application",
            entity_id: *before.id,
            before: Some(json!({"status": before.status})),
            after: Some(details),
        },
        now,
    )?;
    // The audit action names the event: `application.submitted`, `.withdrawn`, `.screened`.
    events::record(
        conn,
        NewEvent::application(
            action,
            *after.call_id,
            *after.id,
            Some(actor),
            json!({"status": after.status, "previous_status": before.status, "reference": after.reference}),
        ),
        now,
    )?;
    Ok(())
}

/// The answer to a submission.
#[derive(Debug, Serialize, ToSchema)]
pub struct Submitted {
    pub status: ApplicationStatus,
    pub reference: String,
    pub submitted_at: DateTime<Utc>,
}

/// A readable summary of the answers, for the receipt: labels and values in the reader's language.
fn answers_summary(form: &Form, answers: &Value, files: &[Attachment], locale: &str) -> Value {
    let mut lines = Vec::new();
    for field in &form.fields {
        let label = localized(&field.label, locale);
        let value = match field.kind {
            crate::domain::form::FieldType::File => {
                let names: Vec<&str> = files
                    .iter()
                    .filter(|f| f.field == field.key)
                    .map(|f| f.filename.as_str())
                    .collect();
                names.join(", ")
            }
            _ => match answers.get(&field.key) {
                None | Some(Value::Null) => String::new(),
                Some(Value::Bool(b)) => match (b, locale) {
                    (true, "en") => "Yes".into(),
                    (false, "en") => "No".into(),
                    (true, _) => "Oui".into(),
                    (false, _) => "Non".into(),
                },
                Some(Value::String(s)) => option_label(field, s, locale),
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|i| {
                        i.as_str()
                            .map_or_else(|| i.to_string(), |s| option_label(field, s, locale))
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
                Some(other) => other.to_string(),
            },
        };
        lines.push(json!({"label": label, "value": value}));
    }
    Value::Array(lines)
}

fn option_label(field: &crate::domain::form::Field, value: &str, locale: &str) -> String {
    field
        .options
        .as_ref()
        .and_then(|options| options.iter().find(|o| o.value == value))
        .map_or_else(|| value.to_owned(), |o| localized(&o.label, locale))
}

/// Submits an application: every answer is checked (422 lists every missing or invalid one), it gets its
/// reference, and its members get a receipt. A draft can be submitted while the call is open; an
/// application whose changes were requested, until their due date.
#[utoipa::path(
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
    let submitted = state
        .db
        .write(move |conn| {
            let state = state_for_tx;
            applications::lock(conn, id)?;
            let (before, role) = load(conn, &caller, id)?;
            can_act_for_applicant(&caller, role)?;
            let (call, organization) = load_context(conn, &before)?;
            match before.status.as_str() {
                "draft" => {
                    if call::phase(call.opens_at.0, call.closes_at.0, now) != Phase::Open
                        || !call.status.accepts_applications()
                    {
                        return Err(Error::Conflict(format!(
                            "the call closed at {}",
                            call.closes_at.0.to_rfc3339()
                        )));
                    }
                }
                "changes_requested" => {
                    if before.changes_due_at.is_some_and(|due| now > due.0) {
                        return Err(Error::Conflict(
                            "the changes were due earlier: contact the call's team".into(),
                        ));
                    }
                }
                other => {
                    return Err(Error::Conflict(format!(
                        "the application is {other}: it was already submitted"
                    )))
                }
            }
            let form = call.form()?;
            let answers = before.answers.0.as_object().cloned().unwrap_or_default();
            let files = applications::attachments_of(conn, id)?;
            let attached: HashSet<String> = files.iter().map(|f| f.field.clone()).collect();
            let (_, mut errors) = form.check_answers(&answers);
            errors.extend(form.check_complete(&answers, &attached));
            if !errors.is_empty() {
                let mut check = crate::api::input::Check::default();
                errors.into_iter().for_each(|e| check.push(e));
                return Err(check.into_error());
            }
            let reference = match &before.reference {
                Some(reference) => reference.clone(),
                None => {
                    let number = calls::take_reference_number(conn, *call.id, now)?;
                    let tz: chrono_tz::Tz =
                        call.timezone.parse().unwrap_or(chrono_tz::Europe::Paris);
                    call::reference(
                        &call.reference_prefix,
                        call.opens_at.0.with_timezone(&tz).year(),
                        number,
                    )
                }
            };
            let after = Application {
                status: ApplicationStatus::Submitted,
                reference: Some(reference.clone()),
                submitted_at: Some(Ts(now)),
                changes_due_at: None,
                version: before.version + 1,
                updated_at: Ts(now),
                ..before.clone()
            };
            save_transition(
                conn,
                caller.user_id,
                &before,
                &after,
                "application.submitted",
                json!({"status": "submitted", "reference": reference}),
                now,
            )?;
            let about = About {
                call: &call,
                organization: &organization,
                application: &after,
            };
            about.to_members(
                conn,
                &state,
                Event::SubmissionReceipt,
                |locale| {
                    json!({
                        "submitted_at": format_instant(now, &call.timezone, locale),
                        "answers": answers_summary(&form, &after.answers.0, &files, locale),
                    })
                },
                now,
            )?;
            Ok(Submitted {
                status: ApplicationStatus::Submitted,
                reference,
                submitted_at: now,
            })
        })
        .await?;
    state.outbox_wakeup.notify_one();
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
        .write(move |conn| {
            let state = state_for_tx;
            let (before, role) = load(conn, &caller, id)?;
            can_act_for_applicant(&caller, role)?;
            if before.status.withdraw().is_err() {
                return Err(Error::Conflict(format!(
                    "the application is {}: it can no longer be withdrawn",
                    before.status
                )));
            }
            let (call, organization) = load_context(conn, &before)?;
            let after = Application {
                status: ApplicationStatus::Withdrawn,
                withdrawn_reason: reason.clone(),
                version: before.version + 1,
                updated_at: Ts(now),
                ..before.clone()
            };
            save_transition(
                conn,
                caller.user_id,
                &before,
                &after,
                "application.withdrawn",
                json!({"status": "withdrawn", "reason": reason}),
                now,
            )?;
            let about = About {
                call: &call,
                organization: &organization,
                application: &after,
            };
            about.to_members(
                conn,
                &state,
                Event::WithdrawalAck,
                |_| json!({"reason": reason}),
                now,
            )?;
            let files = applications::attachments_of(conn, id)?;
            Ok((after, files))
        })
        .await?;
    state.outbox_wakeup.notify_one();
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag::of_version(app.version)))
        .json(ApplicationView::new(&app, &files)))
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
    /// Required for `changes_requested`: until when the applicant may resubmit.
    pub due_at: Option<String>,
}

/// Staff screen a submitted application: eligible (it goes to the jury), ineligible, or changes requested
/// with a reason and a due date (the applicant edits and resubmits). The applicant is emailed.
#[utoipa::path(
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
    caller: Caller,
    id: web::Path<Uuid>,
    input: Input<Screening>,
) -> Result<HttpResponse, Error> {
    let caller = caller.0;
    caller.require_admin()?;
    let id = id.into_inner();
    let now = state.clock.now();
    let (body, mut check) = input.into_parts();
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
            check.required("due_at", body.due_at.as_deref(), |raw| {
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
    let state_for_tx = state.clone();
    let (app, files) = state
        .db
        .write(move |conn| {
            let state = state_for_tx;
            let before = applications::find(conn, id)?.ok_or(Error::NotFound)?;
            let status = before.status.screen(outcome)?;
            let (call, organization) = load_context(conn, &before)?;
            let after = Application {
                status,
                screening_reason: reason.clone(),
                changes_due_at: due_at.map(Ts),
                version: before.version + 1,
                updated_at: Ts(now),
                ..before.clone()
            };
            let details = json!({"status": outcome, "reason": reason, "due_at": due_at});
            save_transition(conn, caller.user_id, &before, &after, "application.screened", details, now)?;
            if let Some(next) = call.status.on_evaluation_work(call::phase(call.opens_at.0, call.closes_at.0, now)) {
                calls::set_status(conn, *call.id, call.status, next, now)?;
            }
            let about = About { call: &call, organization: &organization, application: &after };
            if outcome == ScreeningOutcome::ChangesRequested {
                about.to_members(
                    conn,
                    &state,
                    Event::ChangesRequested,
                    |locale| json!({"reason": reason, "due_at": due_at.map(|d| format_instant(d, &call.timezone, locale))}),
                    now,
                )?;
            } else {
                about.to_members(conn, &state, Event::ScreeningOutcome, |_| json!({"outcome": outcome, "reason": reason}), now)?;
            }
            let files = applications::attachments_of(conn, id)?;
            Ok((after, files))
        })
        .await?;
    state.outbox_wakeup.notify_one();
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag::of_version(app.version)))
        .json(ApplicationView::new(&app, &files)))
}
