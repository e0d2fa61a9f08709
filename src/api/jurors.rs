//! The jury of a call: listing, adding and removing jurors with their affiliations, and a stage's review
//! deadline. The rules are in [`service::jurors`].

use actix_web::{delete, get, post, put, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::extract::{Caller, Page, PageQuery, Paginated};
use crate::api::input::{Check, Input};
pub use crate::domain::conflict::{affiliations_of, Affiliation};
use crate::domain::identifiers::{InvalidValue, Siren, Siret};
use crate::error::{Error, FieldError, Problem};
use crate::service;
use crate::state::AppState;
use crate::store;

/// A juror of a call.
#[derive(Debug, Serialize, ToSchema)]
pub struct JurorView {
    pub user_id: Uuid,
    pub email: String,
    pub display_name: String,
    pub affiliations: Vec<Affiliation>,
    pub added_at: DateTime<Utc>,
}

/// The jurors of a call, in user-id order (administrators and the call's managers).
#[utoipa::path(
    operation_id = "listCallJurors",
    tag = "evaluation",
    params(("id" = Uuid, Path), PageQuery),
    responses((status = 200, body = Paginated<JurorView>), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = []))
)]
#[get("/calls/{id}/jurors")]
pub async fn list_jurors(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<Uuid>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, Error> {
    let id = id.into_inner();
    let page: Page = query.page()?;
    let jurors = state
        .db
        .read(move |conn| {
            service::staff::managed_call(conn, &caller, id)?
                .kind
                .allows_jury_work()?;
            Ok(store::jurors::page_of_jurors(
                conn,
                id,
                page.after,
                page.fetch(),
            )?)
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
    Ok(HttpResponse::Ok().json(Paginated::from_rows(views, page, |j| j.user_id)))
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

fn check_affiliations(check: &mut Check, affiliations: &[Affiliation]) -> Vec<Affiliation> {
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

/// Adds an existing account to the jury of a call (administrators and the call's managers).
#[utoipa::path(
    operation_id = "addCallJuror",
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
    Caller(caller): Caller,
    id: web::Path<Uuid>,
    input: Input<AddJuror>,
) -> Result<HttpResponse, Error> {
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
    let user = state
        .db
        .write(move |conn| {
            service::staff::managed_call(conn, &caller, id)?;
            service::jurors::add(conn, caller.user_id, id, user_id, &affiliations, now)
                .map(|user| (user, affiliations))
        })
        .await?;
    let (user, affiliations) = user;
    Ok(HttpResponse::Created().json(JurorView {
        user_id,
        email: user.email,
        display_name: user.display_name,
        affiliations,
        added_at: now,
    }))
}

/// Removes a juror from the jury of a call (administrators and the call's managers).
#[utoipa::path(
    operation_id = "removeCallJuror",
    tag = "evaluation",
    params(("id" = Uuid, Path), ("user_id" = Uuid, Path)),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
#[delete("/calls/{id}/jurors/{user_id}")]
pub async fn remove_juror(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, Error> {
    let (id, user_id) = path.into_inner();
    let now = state.clock.now();
    state
        .db
        .write(move |conn| {
            service::staff::managed_call(conn, &caller, id)?;
            service::jurors::remove(conn, caller.user_id, id, user_id, now)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
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

/// Sets the review deadline of a stage (administrators and the call's managers): 48 hours before it, every juror with reviews still
/// pending gets one reminder.
#[utoipa::path(
    operation_id = "setReviewDeadline",
    tag = "evaluation",
    params(("id" = Uuid, Path), ("stage" = String, Path)),
    request_body = ReviewDeadline,
    responses((status = 200, body = ReviewDeadlineView), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = []))
)]
#[put("/calls/{id}/stages/{stage}/deadline")]
pub async fn set_review_deadline(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    path: web::Path<(Uuid, String)>,
    input: Input<ReviewDeadline>,
) -> Result<HttpResponse, Error> {
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
    let stage_key = stage.clone();
    state
        .db
        .write(move |conn| {
            service::staff::managed_call(conn, &caller, id)?;
            service::jurors::set_review_deadline(conn, caller.user_id, id, &stage_key, due_at, now)
        })
        .await?;
    Ok(HttpResponse::Ok().json(ReviewDeadlineView { stage, due_at }))
}
