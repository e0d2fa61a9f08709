//! Email templates staff can edit: per call, event and locale, read the template in use, replace it,
//! preview it rendered with example data, and go back to the built-in one.
//!
//! A template has three sources: the subject line, the plain-text body and the HTML body (which may
//! `{% extends "layout.html" %}`). For the built-in template, the subject and text are the `subject` and
//! `body` blocks of its text template, so that saving back what was read changes no email. A template
//! that does not parse, uses a variable its event does not provide, turns HTML escaping off or fails on
//! the example data is refused with a 422 naming the part, the line and the variable. Only events about
//! a call have per-call templates: account emails do not (404).

use actix_web::{delete, get, post, put, web, FromRequest, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::extract::Caller;
use crate::api::input::{Check, Input};
use crate::auth::permissions::Principal;
use crate::db::types::{Ts, Uid};
use crate::error::{Error, FieldError, Problem};
use crate::notify::templates::{
    example_context, optional_variables, Event, TemplateSources, Templates, LOCALES,
};
use crate::service::email_templates as use_case;
use crate::state::AppState;
use crate::store::email_templates::EmailTemplate;

/// The template of one event and locale for a call, as staff edit it.
#[derive(Debug, Serialize, ToSchema)]
pub struct EmailTemplateView {
    pub event: String,
    /// `fr` or `en`.
    pub locale: String,
    /// `default` (the built-in template) or `call` (the call's own).
    pub source: String,
    /// Source of the subject line.
    pub subject: String,
    /// Source of the plain-text body.
    pub text: String,
    /// Source of the HTML body; values are always escaped in it.
    pub html: String,
    /// The variables the event provides, sorted; the HTML part also has `subject`, the rendered subject.
    pub variables: Vec<String>,
    /// Those of `variables` that may be absent or null: test them with `is defined` and `is not none`.
    pub optional_variables: Vec<String>,
    /// When and by whom the call's template was last saved (null for the built-in one).
    pub updated_at: Option<DateTime<Utc>>,
    pub updated_by: Option<Uuid>,
}

/// `PUT`: the three sources of the call's template.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateBody {
    #[schema(required = true)]
    pub subject: Option<String>,
    #[schema(required = true)]
    pub text: Option<String>,
    #[schema(required = true)]
    pub html: Option<String>,
}

/// `POST …/preview`: an unsaved draft; parts left out (or no body at all) come from the template in use.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewDraft {
    pub subject: Option<String>,
    pub text: Option<String>,
    pub html: Option<String>,
}

/// An email rendered with the event's example data.
#[derive(Debug, Serialize, ToSchema)]
pub struct PreviewView {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// The event and locale of a path; 404 for an unknown event, one without per-call templates, or a
/// locale other than `fr` and `en`.
fn target(event: &str, locale: &str) -> Result<(Event, &'static str), Error> {
    let event = Event::parse(event)
        .filter(|e| e.is_about_a_call())
        .ok_or(Error::NotFound)?;
    let locale = LOCALES
        .into_iter()
        .find(|l| *l == locale)
        .ok_or(Error::NotFound)?;
    Ok((event, locale))
}

/// The call's template for `event` in `locale` if it has one (404 for an unknown call).
async fn stored(
    state: &AppState,
    caller: Principal,
    call_id: Uuid,
    event: Event,
    locale: &'static str,
) -> Result<Option<EmailTemplate>, Error> {
    state
        .db
        .read(move |conn| use_case::find(conn, &caller, call_id, event.as_str(), locale))
        .await
}

/// The sources in use: the call's own, else the built-in ones.
fn in_use(
    templates: &Templates,
    event: Event,
    locale: &str,
    stored: Option<&EmailTemplate>,
) -> Result<TemplateSources, Error> {
    match stored {
        Some(custom) => Ok(custom.sources()),
        None => templates.builtin_sources(event, locale).ok_or_else(|| {
            Error::Internal(anyhow::anyhow!(
                "the built-in template {} lacks a part",
                event.as_str()
            ))
        }),
    }
}

fn view(
    templates: &Templates,
    event: Event,
    locale: &str,
    stored: Option<EmailTemplate>,
) -> Result<EmailTemplateView, Error> {
    let sources = in_use(templates, event, locale, stored.as_ref())?;
    Ok(EmailTemplateView {
        event: event.as_str().into(),
        locale: locale.into(),
        source: if stored.is_some() { "call" } else { "default" }.into(),
        subject: sources.subject,
        text: sources.text,
        html: sources.html,
        variables: event.variables(),
        optional_variables: optional_variables(event)
            .iter()
            .map(|v| (*v).to_owned())
            .collect(),
        updated_at: stored.as_ref().map(|t| t.updated_at.0),
        updated_by: stored.and_then(|t| t.updated_by).map(|u| u.0),
    })
}

/// Checks `sources` off the async worker threads (a template may loop); the problems as a 422, after
/// the `earlier` ones (unknown fields, missing parts).
async fn checked(
    state: &AppState,
    event: Event,
    sources: TemplateSources,
    earlier: Vec<FieldError>,
) -> Result<TemplateSources, Error> {
    let templates = state.templates.clone();
    let (sources, problems) = web::block(move || {
        let problems = templates.check(event, &sources);
        (sources, problems)
    })
    .await
    .map_err(|e| Error::Internal(anyhow::anyhow!("template check failed: {e}")))?;
    let mut errors = earlier;
    errors.extend(problems);
    if errors.is_empty() {
        Ok(sources)
    } else {
        Err(Error::Validation(errors))
    }
}

/// The field errors gathered while decoding a body.
fn decoding_errors(check: Check) -> Result<Vec<FieldError>, Error> {
    match check.finish() {
        Ok(()) => Ok(Vec::new()),
        Err(Error::Validation(errors)) => Ok(errors),
        Err(other) => Err(other),
    }
}

/// The template a call uses for an event and locale: its own, or the built-in one.
#[utoipa::path(
    operation_id = "getEmailTemplate",
    tag = "admin",
    params(
        ("id" = Uuid, Path, description = "The call"),
        ("event" = String, Path, description = "An email about a call, such as `submission_receipt`"),
        ("locale" = String, Path, description = "`fr` or `en`"),
    ),
    responses(
        (status = 200, body = EmailTemplateView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, description = "Unknown call, event or locale", body = Problem),
    ),
    security(("bearer" = []))
)]
#[get("/calls/{id}/email-templates/{event}/{locale}")]
pub async fn get_one(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    path: web::Path<(Uuid, String, String)>,
) -> Result<HttpResponse, Error> {
    let (call_id, event, locale) = path.into_inner();
    let (event, locale) = target(&event, &locale)?;
    let found = stored(&state, caller, call_id, event, locale).await?;
    Ok(HttpResponse::Ok().json(view(&state.templates, event, locale, found)?))
}

/// Replaces the call's template for an event and locale; the next emails of that kind for this call
/// use it. 422 lists every part that does not parse, uses an unknown variable (named, with its line),
/// turns HTML escaping off, or fails on the example data.
#[utoipa::path(
    operation_id = "updateEmailTemplate",
    tag = "admin",
    params(
        ("id" = Uuid, Path, description = "The call"),
        ("event" = String, Path, description = "An email about a call, such as `submission_receipt`"),
        ("locale" = String, Path, description = "`fr` or `en`"),
    ),
    request_body = TemplateBody,
    responses(
        (status = 200, body = EmailTemplateView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, description = "Unknown call, event or locale", body = Problem), (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[put("/calls/{id}/email-templates/{event}/{locale}")]
pub async fn update(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    path: web::Path<(Uuid, String, String)>,
    input: Input<TemplateBody>,
) -> Result<HttpResponse, Error> {
    let (call_id, event, locale) = path.into_inner();
    let (event, locale) = target(&event, &locale)?;
    let (body, check) = input.into_parts();
    let (sources, errors) = body.sources(check)?;
    let sources = checked(&state, event, sources, errors).await?;
    let now = state.clock.now();
    let row = EmailTemplate {
        call_id: Uid(call_id),
        event: event.as_str().into(),
        locale: locale.into(),
        subject: sources.subject,
        body_text: sources.text,
        body_html: sources.html,
        updated_by: Some(Uid(caller.user_id)),
        updated_at: Ts(now),
    };
    let saved = state
        .db
        .write(move |conn| use_case::save(conn, &caller, row, now))
        .await?;
    Ok(HttpResponse::Ok().json(view(&state.templates, event, locale, Some(saved))?))
}

impl TemplateBody {
    /// The three sources, with the problems found while decoding (a missing part is one); a 422 at once
    /// when a part is missing.
    fn sources(self, check: Check) -> Result<(TemplateSources, Vec<FieldError>), Error> {
        let mut errors = decoding_errors(check)?;
        for (field, value) in [
            ("subject", &self.subject),
            ("text", &self.text),
            ("html", &self.html),
        ] {
            if value.is_none() && !errors.iter().any(|e| e.field == field) {
                errors.push(FieldError::new(field, "required", "this field is required"));
            }
        }
        let (Some(subject), Some(text), Some(html)) = (self.subject, self.text, self.html) else {
            return Err(Error::Validation(errors));
        };
        let sources = TemplateSources {
            subject,
            text,
            html,
        };
        Ok((sources, errors))
    }
}

/// Goes back to the built-in template: deletes the call's own one. 204 whether or not there was one
/// (deleting twice is harmless); 404 for an unknown call, event or locale.
#[utoipa::path(
    operation_id = "resetEmailTemplate",
    tag = "admin",
    params(
        ("id" = Uuid, Path, description = "The call"),
        ("event" = String, Path, description = "An email about a call, such as `submission_receipt`"),
        ("locale" = String, Path, description = "`fr` or `en`"),
    ),
    responses(
        (status = 204, description = "The built-in template is in use"), (status = 401, body = Problem),
        (status = 403, body = Problem), (status = 404, description = "Unknown call, event or locale", body = Problem),
    ),
    security(("bearer" = []))
)]
#[delete("/calls/{id}/email-templates/{event}/{locale}")]
pub async fn reset(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    path: web::Path<(Uuid, String, String)>,
) -> Result<HttpResponse, Error> {
    let (call_id, event, locale) = path.into_inner();
    let (event, locale) = target(&event, &locale)?;
    let now = state.clock.now();
    state
        .db
        .write(move |conn| use_case::reset(conn, &caller, call_id, event.as_str(), locale, now))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Renders the template with the event's example data: an unsaved draft when one is sent (parts left
/// out, or no body at all, come from the template in use), else the template in use. Same 422 as `PUT`.
#[utoipa::path(
    operation_id = "previewEmailTemplate",
    tag = "admin",
    params(
        ("id" = Uuid, Path, description = "The call"),
        ("event" = String, Path, description = "An email about a call, such as `submission_receipt`"),
        ("locale" = String, Path, description = "`fr` or `en`"),
    ),
    request_body(content = Option<PreviewDraft>, description = "Optional unsaved draft"),
    responses(
        (status = 200, body = PreviewView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, description = "Unknown call, event or locale", body = Problem), (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/calls/{id}/email-templates/{event}/{locale}/preview")]
pub async fn preview(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    path: web::Path<(Uuid, String, String)>,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, Error> {
    let (call_id, event, locale) = path.into_inner();
    let (event, locale) = target(&event, &locale)?;
    let (draft, errors) = if has_no_body(&req) {
        (PreviewDraft::default(), Vec::new())
    } else {
        let input = Input::<PreviewDraft>::from_request(&req, &mut payload.into_inner()).await?;
        let (draft, check) = input.into_parts();
        (draft, decoding_errors(check)?)
    };
    let found = stored(&state, caller, call_id, event, locale).await?;
    let current = in_use(&state.templates, event, locale, found.as_ref())?;
    let sources = TemplateSources {
        subject: draft.subject.unwrap_or(current.subject),
        text: draft.text.unwrap_or(current.text),
        html: draft.html.unwrap_or(current.html),
    };
    let sources = checked(&state, event, sources, errors).await?;
    let templates = state.templates.clone();
    let rendered = web::block(move || templates.render_sources(&sources, &example_context(event)))
        .await
        .map_err(|e| Error::Internal(anyhow::anyhow!("template preview failed: {e}")))?
        .map_err(|e| Error::Internal(anyhow::anyhow!("a checked template failed: {e}")))?;
    Ok(HttpResponse::Ok().json(PreviewView {
        subject: rendered.subject,
        text: rendered.text,
        html: rendered.html,
    }))
}

/// Whether a request came without a body (no content type and no length, or a zero length).
fn has_no_body(req: &HttpRequest) -> bool {
    let headers = req.headers();
    let length = headers
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let chunked = headers.contains_key(actix_web::http::header::TRANSFER_ENCODING);
    length == Some(0)
        || (length.is_none()
            && !chunked
            && !headers.contains_key(actix_web::http::header::CONTENT_TYPE))
}
