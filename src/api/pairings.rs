//! Expérimentation Montagne pairings: staff or a company/start-up propose to pair a territory's application
//! with a company or start-up; both sides accept or decline; both are emailed at each step.

use actix_web::{get, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::extract::Caller;
use crate::api::input::Input;
use crate::auth::permissions::{
    can_propose_pairing, can_read_application, can_respond_to_pairing, PairingProposal,
    PairingSides, Principal, Proposer, Scope,
};
use crate::db::types::{Ts, Uid};
use crate::db::DbConn;
use crate::domain::action::Action;
use crate::domain::organization::OrganizationKind;
use crate::domain::pairing::{self, Answers, PairingStatus, Response};
use crate::error::{Error, Problem};
use crate::notify::applications::About;
use crate::notify::templates::Event;
use crate::service::applications::{load, read_facts};
use crate::state::AppState;
use crate::store::applications::Application;
use crate::store::calls::{self, Call};
use crate::store::journal::{publish, Entity, Feed, Happened};
use crate::store::organizations::{self, Organization};
use crate::store::pairings::{self, Pairing};

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

/// Emails both sides about a step of the pairing; `proposer_name` names the organization that proposed
/// it, when it was not the call's team.
fn tell_both(
    conn: &mut DbConn,
    state: &AppState,
    call: &Call,
    app: &Application,
    (territory, partner): (&Organization, &Organization),
    (step, proposer_name): (&str, Option<&str>),
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let extra = |_: &str| {
        json!({
            "territory_name": territory.legal_name,
            "partner_name": partner.legal_name,
            "step": step,
            "proposer_name": proposer_name,
        })
    };
    About {
        call,
        organization: territory,
        application: app,
    }
    .to_members(conn, state, Event::PairingUpdate, extra, now)?;
    About {
        call,
        organization: partner,
        application: app,
    }
    .to_members(conn, state, Event::PairingUpdate, extra, now)?;
    Ok(())
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
    let view = state
        .db
        .write(move |conn| {
            let state = state_for_tx;
            let (app, territory_role) = load(conn, &caller, id)?;
            let call = calls::find(conn, *app.call_id)?.ok_or(Error::NotFound)?;
            let partner = organizations::find(conn, partner_id)?;
            let partner_can_pair = partner.as_ref().is_some_and(|p| {
                OrganizationKind::parse(&p.kind).is_ok_and(pairing::can_be_partner)
            });
            // Only a member of a company or start-up proposes for it: a member of any other kind of
            // organization is treated as a stranger to the application.
            let partner_membership = match partner_can_pair {
                true => organizations::membership(conn, partner_id, caller.user_id)?,
                false => None,
            };
            let reads_application = partner_membership.is_none()
                && !caller.is_admin()
                && can_read_application(&caller, &read_facts(conn, &caller, &app, territory_role)?)
                    .is_ok();
            let proposer = can_propose_pairing(
                &caller,
                PairingProposal {
                    partner_membership,
                    reads_application,
                    open: pairing::is_open(call.kind, app.status),
                },
            )?;
            let partner = partner.ok_or_else(|| {
                Error::field(
                    "partner_organization_id",
                    "unknown_organization",
                    "no such organization",
                )
            })?;
            if !partner_can_pair {
                return Err(Error::field(
                    "partner_organization_id",
                    "not_a_company",
                    "a company or a start-up",
                ));
            }
            let territory =
                organizations::find(conn, *app.organization_id)?.ok_or(Error::NotFound)?;
            let answers = Answers::proposed(proposer == Proposer::Partner);
            let pairing = Pairing {
                id: Uid(Uuid::now_v7()),
                application_id: app.id,
                partner_organization_id: partner.id,
                territory_response: answers.territory,
                partner_response: answers.partner,
                status: answers.status,
                proposed_by: Some(Uid(caller.user_id)),
                created_at: Ts(now),
                updated_at: Ts(now),
            };
            if !pairings::insert(conn, &pairing)? {
                return Err(Error::refused(
                    "already_proposed",
                    "this company was already proposed for this application",
                ));
            }
            let proposed = json!({"pairing_id": pairing.id, "partner_organization_id": partner_id});
            Happened::new(
                Action::PairingProposed,
                Some(caller.user_id),
                Entity::Application(id),
            )
            .after(proposed.clone())
            .on_feed(Feed::application(*app.call_id, id, proposed))
            .record(conn, now)?;
            // The territory is told who proposes: the company itself, in its own name, or the call's team.
            let proposer_name =
                (proposer == Proposer::Partner).then_some(partner.legal_name.as_str());
            tell_both(
                conn,
                &state,
                &call,
                &app,
                (&territory, &partner),
                ("proposed", proposer_name),
                now,
            )?;
            Ok(view(&pairing, &partner))
        })
        .await?;
    state.outbox_wakeup.notify_one();
    Ok(HttpResponse::Created().json(view))
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
    let caller: Principal = caller.0;
    caller.require_scope(Scope::ApplicationsWrite)?;
    let (id, pairing_id) = path.into_inner();
    let (body, mut check) = input.into_parts();
    let Some(accept) = check.required("accept", body.accept, Ok) else {
        return Err(check.into_error());
    };
    check.finish()?;
    let now = state.clock.now();
    let state_for_tx = state.clone();
    let view = state
        .db
        .write(move |conn| {
            let state = state_for_tx;
            let pairing = pairings::find(conn, pairing_id)?.filter(|p| *p.application_id == id).ok_or(Error::NotFound)?;
            let app = crate::store::applications::find(conn, id)?.ok_or(Error::NotFound)?;
            let side = can_respond_to_pairing(PairingSides {
                territory: organizations::membership(conn, *app.organization_id, caller.user_id)?,
                partner: organizations::membership(conn, *pairing.partner_organization_id, caller.user_id)?,
            })?;
            let updated = Pairing { updated_at: Ts(now), ..pairing.with(pairing.answers().respond(side, accept)?) };
            if !pairings::update(conn, &pairing, &updated)? {
                return Err(Error::refused("pairing_changed", "the other side answered meanwhile: read the pairing again"));
            }
            let response = Response::given(accept);
            Happened::new(Action::PairingResponded, Some(caller.user_id), Entity::Application(id))
                .before(json!({"pairing_id": pairing_id, "status": pairing.status}))
                .after(json!({"pairing_id": pairing_id, "side": side, "response": response, "status": updated.status}))
                .record(conn, now)?;
            let (settled, step) = match updated.status {
                PairingStatus::Confirmed => (Some(Action::PairingConfirmed), "confirmed"),
                PairingStatus::Declined => (Some(Action::PairingDeclined), "declined"),
                PairingStatus::Proposed => (None, "accepted"),
            };
            if let Some(action) = settled {
                let data = json!({"pairing_id": pairing_id, "partner_organization_id": updated.partner_organization_id, "status": updated.status});
                publish(conn, action, Some(caller.user_id), Feed::application(*app.call_id, id, data), now)?;
            }
            let call = calls::find(conn, *app.call_id)?.ok_or(Error::NotFound)?;
            let territory = organizations::find(conn, *app.organization_id)?.ok_or(Error::NotFound)?;
            let partner = organizations::find(conn, *updated.partner_organization_id)?.ok_or(Error::NotFound)?;
            tell_both(conn, &state, &call, &app, (&territory, &partner), (step, None), now)?;
            Ok(view(&updated, &partner))
        })
        .await?;
    state.outbox_wakeup.notify_one();
    Ok(HttpResponse::Ok().json(view))
}

/// The pairings of an application (who may read it, and members of a proposed partner).
#[utoipa::path(
    tag = "evaluation",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<PairingView>), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
#[get("/applications/{id}/pairings")]
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, Error> {
    let caller = caller.0;
    // Applicants and staff read with `applications:read`, assigned jurors with `reviews:read`.
    if !caller.has_scope(Scope::ReviewsRead) {
        caller.require_scope(Scope::ApplicationsRead)?;
    }
    let id = id.into_inner();
    let views = state
        .db
        .read(move |conn| {
            let (app, role) = load(conn, &caller, id)?;
            let all = pairings::of_application(conn, id)?;
            let readable =
                can_read_application(&caller, &read_facts(conn, &caller, &app, role)?).is_ok();
            let mut views = Vec::new();
            for p in &all {
                let partner_member = caller.has_scope(Scope::ApplicationsRead)
                    && organizations::membership(conn, *p.partner_organization_id, caller.user_id)?
                        .is_some();
                if readable || partner_member {
                    let partner = organizations::find(conn, *p.partner_organization_id)?
                        .ok_or(Error::NotFound)?;
                    views.push(view(p, &partner));
                }
            }
            if views.is_empty() && !readable {
                return Err(Error::NotFound);
            }
            Ok(views)
        })
        .await?;
    Ok(HttpResponse::Ok().json(views))
}
