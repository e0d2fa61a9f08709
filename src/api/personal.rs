//! Personal data rights: a person's export of everything held about them, deleting their account, the
//! applicant's consent to be kept longer, and running the retention job now. What is kept, for how long
//! and why: `docs/personal-data.md`.

pub mod views;

use actix_web::{delete, get, post, put, web, HttpResponse};
use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use anyhow::Context;

use crate::api::extract::{Admin, Caller, SignedIn};
use crate::api::input::Input;
use crate::api::personal::views::PersonalExport;
use crate::auth::permissions::{can_act_for_applicant, can_read_application, ApplicationFacts};
use crate::auth::token;
use crate::config::TransportKind;
use crate::domain::action::Action;
use crate::error::{Error, Problem};
use crate::notify::{retention, transport};
use crate::service::accounts;
use crate::state::AppState;
use crate::store::journal::{Entity, Happened};
use crate::store::organizations;
use crate::store::personal;

/// Everything Cordée holds about the caller, as one JSON document (a login session is required).
#[utoipa::path(
    operation_id = "exportMyData",
    tag = "accounts",
    responses(
        (status = 200, body = PersonalExport), (status = 401, body = Problem),
        (status = 403, description = "A personal API token cannot export the account", body = Problem),
    ),
    security(("bearer" = []))
)]
#[get("/me/export")]
pub async fn export(state: web::Data<AppState>, caller: SignedIn) -> Result<HttpResponse, Error> {
    let caller = caller.0;
    caller.require_session()?;
    let user_id = caller.user_id;
    let now = state.clock.now();
    let holdings = state
        .db
        .read(move |conn| personal::holdings(conn, user_id)?.ok_or(Error::NotFound))
        .await?;
    Ok(HttpResponse::Ok().json(PersonalExport::new(holdings, now)))
}

/// Deletes the caller's account (a login session is required): its sessions and tokens stop working, its
/// email and name are erased wherever they were copied; what a call needs to stay whole is kept without
/// them. The last administrator cannot leave (409).
#[utoipa::path(
    operation_id = "deleteMe",
    tag = "accounts",
    responses(
        (status = 204, description = "The account is deleted"), (status = 401, body = Problem),
        (status = 403, description = "A personal API token cannot delete the account", body = Problem),
        (status = 409, description = "The caller is the last administrator", body = Problem),
    ),
    security(("bearer" = []))
)]
#[delete("/me")]
pub async fn delete_me(
    state: web::Data<AppState>,
    caller: SignedIn,
) -> Result<HttpResponse, Error> {
    let caller = caller.0;
    caller.require_session()?;
    let user_id = caller.user_id;
    // A real hash of a secret nobody knows: no password matches it, and login checks it as any other.
    let unusable_hash = state
        .hasher
        .hash(SecretString::from(token::generate()))
        .await?;
    let now = state.clock.now();
    let erased = state
        .db
        .write(move |conn| accounts::delete_account(conn, user_id, &unusable_hash, now))
        .await?;
    state.token_cache.forget_user(user_id);
    state.storage.remove(&erased.files).await;
    if state.settings.email.transport == TransportKind::File {
        transport::remove_eml_copies(&state.settings.email.file_dir, &erased.emails).await;
    }
    Ok(HttpResponse::NoContent().finish())
}

/// Whether the applicant consented to be kept for the longer retention period.
#[derive(Debug, Serialize, ToSchema)]
pub struct RetentionConsentView {
    pub application_id: Uuid,
    pub retention_consent: bool,
    /// When the application was anonymised, if it was.
    pub anonymised_at: Option<DateTime<Utc>>,
}

/// `PUT /applications/{id}/retention-consent`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetentionConsentRequest {
    /// True to be kept `consented_retention_months` after the decisions (for future calls), false for the
    /// shorter default.
    #[schema(required = true)]
    pub consent: Option<bool>,
}

/// Whether the applicant consented to be kept longer (its members and staff).
#[utoipa::path(
    operation_id = "getRetentionConsent",
    tag = "applications",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = RetentionConsentView), (status = 401, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
#[get("/applications/{id}/retention-consent")]
pub async fn get_retention_consent(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, Error> {
    let caller = caller.0;
    let id = id.into_inner();
    let view = state
        .db
        .read(move |conn| {
            let (organization, consent, anonymised_at) =
                personal::retention_of(conn, id)?.ok_or(Error::NotFound)?;
            let role = organizations::membership(conn, *organization, caller.user_id)?;
            can_read_application(&caller, &ApplicationFacts::member(role))?;
            Ok(RetentionConsentView {
                application_id: id,
                retention_consent: consent,
                anonymised_at: anonymised_at.map(|t| t.0),
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Gives or withdraws the applicant's consent to be kept for the longer retention period (its members).
#[utoipa::path(
    operation_id = "setRetentionConsent",
    tag = "applications",
    params(("id" = Uuid, Path)),
    request_body = RetentionConsentRequest,
    responses(
        (status = 200, body = RetentionConsentView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, description = "Already anonymised", body = Problem),
        (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[put("/applications/{id}/retention-consent")]
pub async fn set_retention_consent(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    input: Input<RetentionConsentRequest>,
) -> Result<HttpResponse, Error> {
    let caller = caller.0;
    let id = id.into_inner();
    let (body, mut check) = input.into_parts();
    let consent = check.required("consent", body.consent, Ok);
    let Some(consent) = consent else {
        return Err(check.into_error());
    };
    check.finish()?;
    let now = state.clock.now();
    let view = state
        .db
        .write(move |conn| {
            let (organization, before, _) =
                personal::retention_of(conn, id)?.ok_or(Error::NotFound)?;
            let role = organizations::membership(conn, *organization, caller.user_id)?;
            can_act_for_applicant(&caller, role)?;
            if !personal::set_retention_consent(conn, id, consent, now)? {
                return Err(Error::refused(
                    "application_anonymised",
                    "the application was anonymised: there is nothing left to keep",
                ));
            }
            Happened::new(
                Action::ApplicationRetentionConsent,
                Some(caller.user_id),
                Entity::Application(id),
            )
            .before(json!({"retention_consent": before}))
            .after(json!({"retention_consent": consent}))
            .record(conn, now)
            .context("recording the consent")?;
            Ok(RetentionConsentView {
                application_id: id,
                retention_consent: consent,
                anonymised_at: None,
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// The outcome of a retention run.
#[derive(Debug, Serialize, ToSchema)]
pub struct RetentionRun {
    /// How many applications were anonymised.
    pub anonymised: usize,
}

/// Runs the retention job now: anonymises the applications whose retention period is over (the delivery
/// worker also runs it on its own).
#[utoipa::path(
    operation_id = "runRetention",
    tag = "admin",
    responses((status = 200, body = RetentionRun), (status = 401, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = []))
)]
#[post("/admin/retention/run")]
pub async fn run_retention(state: web::Data<AppState>, _: Admin) -> Result<HttpResponse, Error> {
    let anonymised = retention::run(&state).await?;
    Ok(HttpResponse::Ok().json(RetentionRun { anonymised }))
}
