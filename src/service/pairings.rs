//! Expérimentation Montagne pairings, the use cases: propose a company or start-up as a territory's
//! partner, answer for one side, list an application's pairings. Each asks [`crate::auth::permissions`] and
//! the pairing's life cycle ([`crate::domain::pairing`]) for the decision, writes only if nobody answered
//! meanwhile, records the step (audit + feed) and emails both sides in the caller's transaction.

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;

use crate::auth::permissions::{
    can_manage_application, can_propose_pairing, can_read_application, can_respond_to_pairing,
    visible_pairings, PairingProposal, PairingSides, Principal, Proposer, VisiblePairings,
};
use crate::db::types::{Ts, Uid};
use crate::db::DbConn;
use crate::domain::action::Action;
use crate::domain::organization::OrganizationKind;
use crate::domain::pairing::{self, Answers, Response, Step};
use crate::error::Error;
use crate::notify::applications::About;
use crate::notify::emails::PairingUpdate;
use crate::service::applications::{facts_of, staff_facts};
use crate::state::AppState;
use crate::store::applications::{self, Application};
use crate::store::calls::{self, Call};
use crate::store::journal::{publish, Entity, Feed, Happened};
use crate::store::organizations::{self, Organization};
use crate::store::pairings::{self, Pairing};

/// Emails both sides about a step of the pairing; `proposer_name` names the organization that proposed
/// it, when it was not the call's team.
fn tell_both(
    conn: &mut DbConn,
    state: &AppState,
    call: &Call,
    app: &Application,
    (territory, partner): (&Organization, &Organization),
    (step, proposer_name): (Step, Option<&str>),
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let update = |_: &str| PairingUpdate {
        territory_name: territory.legal_name.clone(),
        partner_name: partner.legal_name.clone(),
        step,
        proposer_name: proposer_name.map(str::to_owned),
    };
    for organization in [territory, partner] {
        About {
            call,
            organization,
            application: app,
        }
        .tell_members(conn, state, update, now)?;
    }
    Ok(())
}

/// The organization `id` (404 when it does not exist).
fn organization(conn: &mut DbConn, id: Uuid) -> Result<Organization, Error> {
    organizations::find(conn, id)
        .context("loading an organization of the pairing")?
        .ok_or(Error::NotFound)
}

/// Proposes `partner_id` as the partner of application `id` ([`can_propose_pairing`]): staff for any
/// company or start-up, or a member of that company or start-up for itself (its side then counts as
/// accepted, and the territory's email names it as the proposer). Both sides are emailed.
pub fn propose(
    conn: &mut DbConn,
    state: &AppState,
    caller: &Principal,
    id: Uuid,
    partner_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(Pairing, Organization), Error> {
    let app = applications::find(conn, id)?.ok_or(Error::NotFound)?;
    let call = calls::find(conn, *app.call_id)?.ok_or(Error::NotFound)?;
    let partner = organizations::find(conn, partner_id)?;
    let partner_can_pair = partner
        .as_ref()
        .is_some_and(|p| OrganizationKind::parse(&p.kind).is_ok_and(pairing::can_be_partner));
    // Only a member of a company or start-up proposes for it: a member of any other kind of
    // organization is treated as a stranger to the application.
    let partner_membership = match partner_can_pair {
        true => organizations::membership(conn, partner_id, caller.user_id)?,
        false => None,
    };
    let manages_call = can_manage_application(caller, &staff_facts(conn, caller, &app)?).is_ok();
    let reads_application = partner_membership.is_none()
        && !manages_call
        && can_read_application(caller, &facts_of(conn, caller, &app)?).is_ok();
    let proposer = can_propose_pairing(
        caller,
        PairingProposal {
            partner_membership,
            reads_application,
            open: pairing::is_open(call.kind, app.status),
            manages_call,
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
    let territory = organization(conn, *app.organization_id)?;
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
    .record(conn, now)
    .context("recording the proposal")?;
    // The territory is told who proposes: the company itself, in its own name, or the call's team.
    let proposer_name = (proposer == Proposer::Partner).then_some(partner.legal_name.as_str());
    let sides = (&territory, &partner);
    tell_both(
        conn,
        state,
        &call,
        &app,
        sides,
        (Step::Proposed, proposer_name),
        now,
    )?;
    Ok((pairing, partner))
}

/// Accepts or declines pairing `pairing_id` of application `id` for the caller's side
/// ([`can_respond_to_pairing`], [`Answers::respond`]); once both accept it is confirmed, once one declines
/// it is declined (both published on the feed). Both sides are emailed.
pub fn respond(
    conn: &mut DbConn,
    state: &AppState,
    caller: &Principal,
    (id, pairing_id): (Uuid, Uuid),
    accept: bool,
    now: DateTime<Utc>,
) -> Result<(Pairing, Organization), Error> {
    let pairing = pairings::find(conn, pairing_id)?
        .filter(|p| *p.application_id == id)
        .ok_or(Error::NotFound)?;
    let app = applications::find(conn, id)?.ok_or(Error::NotFound)?;
    let side = can_respond_to_pairing(PairingSides {
        territory: organizations::membership(conn, *app.organization_id, caller.user_id)?,
        partner: organizations::membership(conn, *pairing.partner_organization_id, caller.user_id)?,
    })?;
    let updated = Pairing {
        updated_at: Ts(now),
        ..pairing.with(pairing.answers().respond(side, accept)?)
    };
    if !pairings::update(conn, &pairing, &updated)? {
        return Err(Error::refused(
            "pairing_changed",
            "the other side answered meanwhile: read the pairing again",
        ));
    }
    let response = Response::given(accept);
    Happened::new(
        Action::PairingResponded,
        Some(caller.user_id),
        Entity::Application(id),
    )
    .before(json!({"pairing_id": pairing_id, "status": pairing.status}))
    .after(json!({"pairing_id": pairing_id, "side": side, "response": response, "status": updated.status}))
    .record(conn, now)
    .context("recording the answer")?;
    let step = Step::after_answer(updated.status);
    let settled = match step {
        Step::Confirmed => Some(Action::PairingConfirmed),
        Step::Declined => Some(Action::PairingDeclined),
        Step::Proposed | Step::Accepted => None,
    };
    if let Some(action) = settled {
        let data = json!({"pairing_id": pairing_id, "partner_organization_id": updated.partner_organization_id, "status": updated.status});
        let feed = Feed::application(*app.call_id, id, data);
        publish(conn, action, Some(caller.user_id), feed, now)
            .context("publishing the settled pairing")?;
    }
    let call = calls::find(conn, *app.call_id)?.ok_or(Error::NotFound)?;
    let territory = organization(conn, *app.organization_id)?;
    let partner = organization(conn, *updated.partner_organization_id)?;
    tell_both(
        conn,
        state,
        &call,
        &app,
        (&territory, &partner),
        (step, None),
        now,
    )?;
    Ok((updated, partner))
}

/// A page of the pairings of application `id` the caller may see ([`visible_pairings`], filtered in the
/// query), each with its partner: those after `after`, at most `limit`. 404 when there is none they may see,
/// whatever the page asked for.
pub fn list(
    conn: &mut DbConn,
    caller: &Principal,
    id: Uuid,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<(Pairing, Organization)>, Error> {
    let app = applications::find(conn, id)?.ok_or(Error::NotFound)?;
    let reads_application = can_read_application(caller, &facts_of(conn, caller, &app)?).is_ok();
    let partner_member = match visible_pairings(caller, reads_application) {
        VisiblePairings::All => None,
        VisiblePairings::OfPartnersWithMember(user_id) => Some(user_id),
        VisiblePairings::None => return Err(Error::NotFound),
    };
    let page = pairings::page_of_application(conn, id, partner_member, after, limit)?;
    if page.is_empty() && partner_member.is_some() {
        // An empty page after a cursor must not tell a stranger that the application exists.
        let sees_any = after.is_some()
            && !pairings::page_of_application(conn, id, partner_member, None, 1)?.is_empty();
        if !sees_any {
            return Err(Error::NotFound);
        }
    }
    Ok(page)
}
