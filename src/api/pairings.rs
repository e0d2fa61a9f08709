//! Expérimentation Montagne pairings: staff or a company/start-up propose to pair a territory's application
//! with a company or start-up; both sides accept or decline; both are emailed at each step.

use actix_web::{get, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::extract::{Caller, Page, PageQuery, Paginated};
use crate::api::input::Input;
use crate::auth::permissions::Scope;
use crate::error::{Error, Problem};
use crate::service::pairings as use_case;
use crate::state::AppState;
use crate::store::organizations::Organization;
use crate::store::pairings::Pairing;

/// A pairing of a territory's application with a company or start-up.
#[derive(Debug, Serialize, ToSchema)]
pub struct PairingView {
    pub id: Uuid,
    pub application_id: Uuid,
    pub partner_organization_id: Uuid,
    pub partner_name: String,
    /// `pending`, `accepted` or `declined`.
    pub territory_response: String,
    pub partner_response: String,
    /// `proposed`, `confirmed` (both accepted) or `declined`.
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

fn view(p: &Pairing, partner: &Organization) -> PairingView {
    PairingView {
        id: *p.id,
        application_id: *p.application_id,
        partner_organization_id: *p.partner_organization_id,
        partner_name: partner.legal_name.clone(),
        territory_response: p.territory_response.as_str().into(),
        partner_response: p.partner_response.as_str().into(),
        status: p.status.as_str().into(),
        created_at: p.created_at.0,
        updated_at: p.updated_at.0,
    }
}

/// `POST /applications/{id}/pairings`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProposePairing {
    /// The company or start-up to pair with the territory.
    #[schema(required = true)]
    pub partner_organization_id: Option<Uuid>,
}

/// Proposes a pairing: staff for any company or start-up, or a member of that company or start-up for itself
/// (its side then counts as accepted, and the territory's email names it as the proposer). For anyone but
/// staff, an application that cannot be paired (another kind of call, not submitted, closed) is 404.
#[utoipa::path(
    operation_id = "proposePairing",
    tag = "evaluation",
    params(("id" = Uuid, Path)),
    request_body = ProposePairing,
    responses(
        (status = 201, body = PairingView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, description = "Already proposed", body = Problem), (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/applications/{id}/pairings")]
pub async fn propose(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    input: Input<ProposePairing>,
) -> Result<HttpResponse, Error> {
    let caller = caller.0;
    caller.require_scope(Scope::ApplicationsWrite)?;
    let id = id.into_inner();
    let (body, mut check) = input.into_parts();
    let Some(partner_id) =
        check.required("partner_organization_id", body.partner_organization_id, Ok)
    else {
        return Err(check.into_error());
    };
    check.finish()?;
    let now = state.clock.now();
    let state_for_tx = state.clone();
    let (pairing, partner) = state
        .db
        .write(move |conn| use_case::propose(conn, &state_for_tx, &caller, id, partner_id, now))
        .await?;
    state.outbox_wakeup.notify_one();
    Ok(HttpResponse::Created().json(view(&pairing, &partner)))
}

/// `POST /applications/{id}/pairings/{pairing_id}/respond`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Respond {
    /// True to accept, false to decline.
    #[schema(required = true)]
    pub accept: Option<bool>,
}

/// Accepts or declines a pairing for the caller's side (a member of the territory or of the company). Once
/// both accept, it is confirmed and shows on the application and in exports.
#[utoipa::path(
    operation_id = "respondToPairing",
    tag = "evaluation",
    params(("id" = Uuid, Path), ("pairing_id" = Uuid, Path)),
    request_body = Respond,
    responses(
        (status = 200, body = PairingView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, description = "Already settled", body = Problem), (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/applications/{id}/pairings/{pairing_id}/respond")]
pub async fn respond(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
    input: Input<Respond>,
) -> Result<HttpResponse, Error> {
    let caller = caller.0;
    caller.require_scope(Scope::ApplicationsWrite)?;
    let (id, pairing_id) = path.into_inner();
    let (body, mut check) = input.into_parts();
    let Some(accept) = check.required("accept", body.accept, Ok) else {
        return Err(check.into_error());
    };
    check.finish()?;
    let now = state.clock.now();
    let state_for_tx = state.clone();
    let path = (id, pairing_id);
    let (pairing, partner) = state
        .db
        .write(move |conn| use_case::respond(conn, &state_for_tx, &caller, path, accept, now))
        .await?;
    state.outbox_wakeup.notify_one();
    Ok(HttpResponse::Ok().json(view(&pairing, &partner)))
}

/// The pairings of an application, oldest first (who may read it, and members of a proposed partner).
#[utoipa::path(
    operation_id = "listApplicationPairings",
    tag = "evaluation",
    params(("id" = Uuid, Path), PageQuery),
    responses((status = 200, body = Paginated<PairingView>), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = []))
)]
#[get("/applications/{id}/pairings")]
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, Error> {
    let caller = caller.0;
    // Applicants and staff read with `applications:read`, assigned jurors with `reviews:read`.
    if !caller.has_scope(Scope::ReviewsRead) {
        caller.require_scope(Scope::ApplicationsRead)?;
    }
    let id = id.into_inner();
    let page: Page = query.page()?;
    let (after, limit) = (page.after, page.fetch());
    let seen = state
        .db
        .read(move |conn| use_case::list(conn, &caller, id, after, limit))
        .await?;
    let views: Vec<PairingView> = seen.iter().map(|(p, partner)| view(p, partner)).collect();
    Ok(HttpResponse::Ok().json(Paginated::from_rows(views, page, |p| p.id)))
}
