//! Calls for applications: templates, creation, publication, reading.

use actix_web::http::header;
use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::api::etag;
use crate::api::extract::{Caller, PageQuery, Paginated};
use crate::api::input::{nested, Check, Input};
use crate::db::types::{Json, Ts, Uid};
use crate::domain::call::{self, CallStatus, Definition, Phase};
use crate::domain::form::{builtin_template, builtin_templates, CallTemplate, Form, Stage, Text};
use crate::domain::refusal::Refusal;
use crate::error::{Error, FieldError, Problem};
use crate::state::AppState;
use crate::store::audit::{self, Change};
use crate::store::calls::{self, stored, Call};
use crate::store::events::{self, NewEvent};

/// A call with its whole form and criteria.
#[derive(Debug, Serialize, ToSchema)]
pub struct CallView {
    pub id: Uuid,
    pub slug: String,
    pub template: Option<String>,
    /// `startup_lab` or `territory_experiment`.
    pub kind: String,
    pub reference_prefix: String,
    pub title: Text,
    pub summary: Option<Text>,
    pub opens_at: DateTime<Utc>,
    pub closes_at: DateTime<Utc>,
    pub timezone: String,
    pub eligible_kinds: Vec<String>,
    pub form: Form,
    pub stages: Vec<Stage>,
    pub status: CallStatus,
    pub phase: Phase,
    /// True once an application has been submitted: the form and criteria can no longer change.
    pub form_frozen: bool,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A call in a list: no form or criteria.
#[derive(Debug, Serialize, ToSchema)]
pub struct CallSummary {
    pub id: Uuid,
    pub slug: String,
    pub kind: String,
    pub title: Text,
    pub summary: Option<Text>,
    pub opens_at: DateTime<Utc>,
    pub closes_at: DateTime<Utc>,
    pub timezone: String,
    pub eligible_kinds: Vec<String>,
    pub status: CallStatus,
    pub phase: Phase,
}

impl CallView {
    /// The view of a stored call at `now`.
    pub fn new(call: &Call, now: DateTime<Utc>) -> Result<CallView, Error> {
        Ok(CallView {
            id: *call.id,
            slug: call.slug.clone(),
            template: call.template.clone(),
            kind: call.kind.clone(),
            reference_prefix: call.reference_prefix.clone(),
            title: stored(&call.title)?,
            summary: call.summary.as_ref().map(stored).transpose()?,
            opens_at: call.opens_at.0,
            closes_at: call.closes_at.0,
            timezone: call.timezone.clone(),
            eligible_kinds: stored(&call.eligible_kinds)?,
            form: stored(&call.form)?,
            stages: stored(&call.stages)?,
            status: call.status,
            phase: call::phase(call.opens_at.0, call.closes_at.0, now),
            form_frozen: call.form_frozen_at.is_some(),
            version: call.version,
            created_at: call.created_at.0,
            updated_at: call.updated_at.0,
        })
    }
}

impl CallSummary {
    fn new(call: &Call, now: DateTime<Utc>) -> Result<CallSummary, Error> {
        Ok(CallSummary {
            id: *call.id,
            slug: call.slug.clone(),
            kind: call.kind.clone(),
            title: stored(&call.title)?,
            summary: call.summary.as_ref().map(stored).transpose()?,
            opens_at: call.opens_at.0,
            closes_at: call.closes_at.0,
            timezone: call.timezone.clone(),
            eligible_kinds: stored(&call.eligible_kinds)?,
            status: call.status,
            phase: call::phase(call.opens_at.0, call.closes_at.0, now),
        })
    }
}

/// The call templates shipped with Cordée.
#[utoipa::path(tag = "calls", responses((status = 200, body = Vec<CallTemplate>)))]
#[get("/call-templates")]
pub async fn templates() -> HttpResponse {
    HttpResponse::Ok().json(builtin_templates())
}

/// `POST /calls`: fields left out come from the template.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCall {
    /// `alpes-tourisme-lab` or `experimentation-montagne`.
    pub template: Option<String>,
    #[schema(required = true)]
    pub slug: Option<String>,
    pub kind: Option<String>,
    pub reference_prefix: Option<String>,
    #[schema(value_type = Option<Text>)]
    pub title: Option<Value>,
    #[schema(value_type = Option<Text>)]
    pub summary: Option<Value>,
    #[schema(required = true)]
    pub opens_at: Option<String>,
    #[schema(required = true)]
    pub closes_at: Option<String>,
    /// IANA time zone; `Europe/Paris` by default.
    pub timezone: Option<String>,
    pub eligible_kinds: Option<Vec<String>>,
    #[schema(value_type = Option<Form>)]
    pub form: Option<Value>,
    #[schema(value_type = Option<Vec<Stage>>)]
    pub stages: Option<Value>,
}

fn default_prefix(slug: &str) -> String {
    let letters: String = slug
        .chars()
        .filter(|c| c.is_ascii_alphabetic())
        .take(3)
        .collect();
    if letters.len() >= 2 {
        letters.to_ascii_uppercase()
    } else {
        "APP".into()
    }
}

fn default_eligible(kind: &str) -> Vec<String> {
    match kind {
        "territory_experiment" => vec!["territory".into()],
        _ => vec!["startup".into()],
    }
}

/// Takes a nested value from the body, else from the template; `required` notes it missing otherwise.
fn from_body_or<T: serde::de::DeserializeOwned>(
    check: &mut Check,
    field: &str,
    body: Option<Value>,
    template: Option<T>,
    required: bool,
) -> Option<T> {
    match body {
        Some(value) => nested(check, field, value),
        None if template.is_none() && required => {
            check.push(FieldError::new(
                field,
                "required",
                "this field is required without a template",
            ));
            None
        }
        None => template,
    }
}

/// Creates a call in `draft`, from a template and overrides.
#[utoipa::path(
    tag = "calls",
    request_body = CreateCall,
    responses(
        (status = 201, body = CallView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/calls")]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    input: Input<CreateCall>,
) -> Result<HttpResponse, Error> {
    let caller = caller.0;
    caller.require_admin()?;
    let (body, mut check) = input.into_parts();
    let template = match body.template.as_deref() {
        None => None,
        Some(name) => {
            let found = builtin_template(name);
            if found.is_none() {
                check.push(FieldError::new(
                    "template",
                    "unknown_template",
                    "no such call template",
                ));
            }
            found
        }
    };
    let t = template.as_ref();
    // A named but unknown template already failed: its fields are not also "required without a template".
    let needs = body.template.is_none();
    let slug = check.required("slug", body.slug.as_deref(), call::parse_slug);
    let kind = match body.kind.as_deref() {
        Some(raw) => check.optional("kind", Some(raw), call::parse_kind),
        None => match t {
            Some(t) => Some(t.kind.clone()),
            None if needs => check.required("kind", None::<&str>, call::parse_kind),
            None => None,
        },
    };
    let title = from_body_or(
        &mut check,
        "title",
        body.title,
        t.map(|t| t.title.clone()),
        needs,
    );
    let summary: Option<Text> = from_body_or(
        &mut check,
        "summary",
        body.summary,
        t.map(|t| t.summary.clone()),
        false,
    );
    let opens_at = check.required("opens_at", body.opens_at.as_deref(), call::parse_instant);
    let closes_at = check.required("closes_at", body.closes_at.as_deref(), call::parse_instant);
    let timezone = match body.timezone.as_deref() {
        Some(raw) => check.optional("timezone", Some(raw), call::parse_timezone),
        None => Some(t.map_or_else(|| "Europe/Paris".to_owned(), |t| t.timezone.clone())),
    };
    let form: Option<Form> = from_body_or(
        &mut check,
        "form",
        body.form,
        t.map(|t| t.form.clone()),
        needs,
    );
    let stages: Option<Vec<Stage>> = from_body_or(
        &mut check,
        "stages",
        body.stages,
        t.map(|t| t.stages.clone()),
        needs,
    );
    let prefix = match body.reference_prefix.as_deref() {
        Some(raw) => check.optional("reference_prefix", Some(raw), call::parse_reference_prefix),
        None => t
            .map(|t| t.reference_prefix.clone())
            .or_else(|| slug.as_deref().map(default_prefix)),
    };
    // The definition is checked whenever its own parts parsed, so that one 422 lists everything.
    let definition = match (&kind, title, opens_at, closes_at, form, stages) {
        (Some(kind), Some(title), Some(opens_at), Some(closes_at), Some(form), Some(stages)) => {
            let eligible_kinds = body
                .eligible_kinds
                .or_else(|| t.map(|t| t.eligible_kinds.clone()))
                .unwrap_or_else(|| default_eligible(kind));
            let definition = Definition {
                title,
                summary,
                opens_at,
                closes_at,
                eligible_kinds,
                form,
                stages,
            };
            definition.check().into_iter().for_each(|e| check.push(e));
            Some(definition)
        }
        _ => None,
    };
    let (Some(slug), Some(kind), Some(timezone), Some(prefix), Some(definition)) =
        (slug, kind, timezone, prefix, definition)
    else {
        return Err(check.into_error());
    };
    check.finish()?;

    let now = state.clock.now();
    let call = Call {
        id: Uid(Uuid::now_v7()),
        slug,
        template: template.map(|t| t.template),
        kind,
        reference_prefix: prefix,
        title: Json(json!(definition.title)),
        summary: definition.summary.as_ref().map(|s| Json(json!(s))),
        opens_at: Ts(definition.opens_at),
        closes_at: Ts(definition.closes_at),
        timezone,
        eligible_kinds: Json(json!(definition.eligible_kinds)),
        form: Json(json!(definition.form)),
        stages: Json(json!(definition.stages)),
        status: CallStatus::Draft,
        form_frozen_at: None,
        next_reference: 1,
        version: 1,
        created_by: Some(Uid(caller.user_id)),
        created_at: Ts(now),
        updated_at: Ts(now),
    };
    let view = CallView::new(&call, now)?;
    state
        .db
        .write(move |conn| {
            if calls::slug_taken(conn, &call.slug, None)? {
                return Err(Error::field("slug", "taken", "another call uses this slug"));
            }
            calls::insert(conn, &call)?;
            audit::record(
                conn,
                Change {
                    actor_id: Some(caller.user_id),
                    action: "call.created",
                    entity_type: "call",
                    entity_id: *call.id,
                    before: None,
                    after: Some(json!({"slug": call.slug, "template": call.template, "opens_at": call.opens_at, "closes_at": call.closes_at})),
                },
                now,
            )?;
            events::record(
                conn,
                NewEvent::call("call.created", *call.id, Some(caller.user_id), json!({"slug": call.slug, "status": call.status})),
                now,
            )?;
            Ok(())
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::ETAG, etag::of_version(view.version)))
        .json(view))
}

/// `?status=` of the call list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CallQuery {
    pub limit: Option<String>,
    pub cursor: Option<String>,
}

/// The calls, with their phase on the server clock; drafts only for administrators.
#[utoipa::path(tag = "calls", params(CallQuery), responses((status = 200, body = Paginated<CallSummary>), (status = 422, body = Problem)))]
#[get("/calls")]
pub async fn list(
    state: web::Data<AppState>,
    caller: Option<Caller>,
    query: web::Query<CallQuery>,
) -> Result<HttpResponse, Error> {
    let query = query.into_inner();
    let page = PageQuery {
        limit: query.limit,
        cursor: query.cursor,
    }
    .page()?;
    let with_drafts = caller.is_some_and(|c| c.0.is_admin());
    let rows = state
        .db
        .read(move |conn| Ok(calls::list(conn, with_drafts, page.after, page.limit + 1)?))
        .await?;
    let now = state.clock.now();
    let items = rows
        .iter()
        .map(|c| CallSummary::new(c, now))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(HttpResponse::Ok().json(Paginated::from_rows(items, page, |c| c.id)))
}

/// A call with its form and criteria, by id or slug (a draft only for administrators).
#[utoipa::path(
    tag = "calls",
    params(("id" = String, Path, description = "Id or slug")),
    responses((status = 200, body = CallView, headers(("ETag" = String))), (status = 404, body = Problem))
)]
#[get("/calls/{id}")]
pub async fn get_one(
    state: web::Data<AppState>,
    caller: Option<Caller>,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let id = id.into_inner();
    let call = state
        .db
        .read(move |conn| calls::find_by_id_or_slug(conn, &id)?.ok_or(Error::NotFound))
        .await?;
    if call.status == CallStatus::Draft && !caller.is_some_and(|c| c.0.is_admin()) {
        return Err(Error::NotFound);
    }
    let view = CallView::new(&call, state.clock.now())?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag::of_version(view.version)))
        .json(view))
}

/// `PATCH /calls/{id}`: the fields to change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateCall {
    pub slug: Option<String>,
    pub reference_prefix: Option<String>,
    #[serde(default, deserialize_with = "crate::api::input::present")]
    #[schema(value_type = Option<Text>)]
    pub title: Option<Option<Value>>,
    /// `null` removes the summary.
    #[serde(default, deserialize_with = "crate::api::input::present")]
    #[schema(value_type = Option<Text>)]
    pub summary: Option<Option<Value>>,
    pub opens_at: Option<String>,
    pub closes_at: Option<String>,
    pub timezone: Option<String>,
    pub eligible_kinds: Option<Vec<String>>,
    #[serde(default, deserialize_with = "crate::api::input::present")]
    #[schema(value_type = Option<Form>)]
    pub form: Option<Option<Value>>,
    #[serde(default, deserialize_with = "crate::api::input::present")]
    #[schema(value_type = Option<Vec<Stage>>)]
    pub stages: Option<Option<Value>>,
}

/// Changes a call (administrators, with `If-Match`). The form, criteria and eligibility freeze once an
/// application is submitted (409).
#[utoipa::path(
    tag = "calls",
    params(("id" = Uuid, Path), ("If-Match" = String, Header)),
    request_body = UpdateCall,
    responses(
        (status = 200, body = CallView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, description = "Frozen", body = Problem),
        (status = 412, body = Problem), (status = 422, body = Problem), (status = 428, body = Problem),
    ),
    security(("bearer" = []))
)]
#[patch("/calls/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
    input: Input<UpdateCall>,
) -> Result<HttpResponse, Error> {
    let caller = caller.0;
    caller.require_admin()?;
    let if_match = etag::if_match(&req)?;
    let id = id.into_inner();
    let now = state.clock.now();
    let (body, check) = input.into_parts();
    let call = state
        .db
        .write(move |conn| {
            let before = calls::find(conn, id)?.ok_or(Error::NotFound)?;
            etag::check(&if_match, before.version)?;
            let after = apply_update(&before, body, check, now)?;
            if after.slug != before.slug && calls::slug_taken(conn, &after.slug, Some(id))? {
                return Err(Error::field("slug", "taken", "another call uses this slug"));
            }
            if !calls::update(conn, &after, before.version)? {
                return Err(Error::PreconditionFailed);
            }
            audit::record(
                conn,
                Change {
                    actor_id: Some(caller.user_id),
                    action: "call.updated",
                    entity_type: "call",
                    entity_id: id,
                    before: Some(serde_json::to_value(&before).map_err(anyhow::Error::from)?),
                    after: Some(serde_json::to_value(&after).map_err(anyhow::Error::from)?),
                },
                now,
            )?;
            Ok(after)
        })
        .await?;
    let view = CallView::new(&call, now)?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag::of_version(view.version)))
        .json(view))
}

/// A required part of a call in a PATCH: absent keeps it, `null` is refused, a value is decoded.
fn kept<T: serde::de::DeserializeOwned>(
    check: &mut Check,
    field: &str,
    raw: Option<Option<Value>>,
) -> Option<T> {
    match raw {
        None => None,
        Some(None) => {
            check.push(FieldError::new(
                field,
                "required",
                "this part of a call cannot be removed",
            ));
            None
        }
        Some(Some(value)) => nested(check, field, value),
    }
}

fn apply_update(
    before: &Call,
    body: UpdateCall,
    mut check: Check,
    now: DateTime<Utc>,
) -> Result<Call, Error> {
    if before.form_frozen_at.is_some()
        && (body.form.is_some() || body.stages.is_some() || body.eligible_kinds.is_some())
    {
        return Err(Error::Conflict(
            "an application has been submitted: the form, criteria and eligibility can no longer change".into(),
        ));
    }
    let slug = check.optional("slug", body.slug.as_deref(), call::parse_slug);
    let prefix = check.optional(
        "reference_prefix",
        body.reference_prefix.as_deref(),
        call::parse_reference_prefix,
    );
    if prefix.is_some() && before.next_reference > 1 {
        check.push(FieldError::new(
            "reference_prefix",
            "frozen",
            "references were already given with the current prefix",
        ));
    }
    let title: Option<Text> = kept(&mut check, "title", body.title);
    let summary: Option<Option<Text>> = match body.summary {
        None => None,
        Some(None) => Some(None),
        Some(Some(v)) => nested(&mut check, "summary", v).map(Some),
    };
    let opens_at = check.optional("opens_at", body.opens_at.as_deref(), call::parse_instant);
    let closes_at = check.optional("closes_at", body.closes_at.as_deref(), call::parse_instant);
    let timezone = check.optional("timezone", body.timezone.as_deref(), call::parse_timezone);
    let form: Option<Form> = kept(&mut check, "form", body.form);
    let stages: Option<Vec<Stage>> = kept(&mut check, "stages", body.stages);
    let definition = Definition {
        title: match title {
            Some(t) => t,
            None => stored(&before.title)?,
        },
        summary: match summary {
            Some(s) => s,
            None => before.summary.as_ref().map(stored).transpose()?,
        },
        opens_at: opens_at.unwrap_or(before.opens_at.0),
        closes_at: closes_at.unwrap_or(before.closes_at.0),
        eligible_kinds: match body.eligible_kinds {
            Some(kinds) => kinds,
            None => stored(&before.eligible_kinds)?,
        },
        form: match form {
            Some(f) => f,
            None => stored(&before.form)?,
        },
        stages: match stages {
            Some(s) => s,
            None => stored(&before.stages)?,
        },
    };
    definition.check().into_iter().for_each(|e| check.push(e));
    check.finish()?;
    Ok(Call {
        slug: slug.unwrap_or_else(|| before.slug.clone()),
        reference_prefix: prefix.unwrap_or_else(|| before.reference_prefix.clone()),
        title: Json(json!(definition.title)),
        summary: definition.summary.as_ref().map(|s| Json(json!(s))),
        opens_at: Ts(definition.opens_at),
        closes_at: Ts(definition.closes_at),
        timezone: timezone.unwrap_or_else(|| before.timezone.clone()),
        eligible_kinds: Json(json!(definition.eligible_kinds)),
        form: Json(json!(definition.form)),
        stages: Json(json!(definition.stages)),
        version: before.version + 1,
        updated_at: Ts(now),
        ..before.clone()
    })
}

/// Publishes a draft call: it becomes visible, and open between its dates.
#[utoipa::path(
    tag = "calls",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = CallView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, description = "Not a draft", body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/calls/{id}/publish")]
pub async fn publish(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, Error> {
    let caller = caller.0;
    caller.require_admin()?;
    let id = id.into_inner();
    let now = state.clock.now();
    let call = state
        .db
        .write(move |conn| {
            let before = calls::find(conn, id)?.ok_or(Error::NotFound)?;
            let published = before.status.publish()?;
            if !calls::set_status(conn, id, before.status, published, now)? {
                return Err(Refusal::CallNotDraft.into());
            }
            audit::record(
                conn,
                Change {
                    actor_id: Some(caller.user_id),
                    action: "call.published",
                    entity_type: "call",
                    entity_id: id,
                    before: Some(json!({"status": "draft"})),
                    after: Some(json!({"status": "published"})),
                },
                now,
            )?;
            events::record(
                conn,
                NewEvent::call(
                    "call.published",
                    id,
                    Some(caller.user_id),
                    json!({"status": "published"}),
                ),
                now,
            )?;
            calls::find(conn, id)?.ok_or(Error::NotFound)
        })
        .await?;
    let view = CallView::new(&call, now)?;
    Ok(HttpResponse::Ok()
        .insert_header((header::ETAG, etag::of_version(view.version)))
        .json(view))
}
