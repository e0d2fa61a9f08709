//! Pairings of a territory's experiment with a company or start-up (Expérimentation Montagne).

use diesel::prelude::*;
use uuid::Uuid;

use crate::db::schema::{organization_members, organizations, pairings};
use crate::db::types::{Ts, Uid};
use crate::db::DbConn;
use crate::domain::pairing::{Answers, PairingStatus, Response};
use crate::store::organizations::Organization;

/// A pairing as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = pairings, treat_none_as_null = true)]
pub struct Pairing {
    pub id: Uid,
    pub application_id: Uid,
    pub partner_organization_id: Uid,
    pub territory_response: Response,
    pub partner_response: Response,
    pub status: PairingStatus,
    pub proposed_by: Option<Uid>,
    pub created_at: Ts,
    pub updated_at: Ts,
}

impl Pairing {
    /// Both sides' answers and the status they make.
    pub fn answers(&self) -> Answers {
        Answers {
            territory: self.territory_response,
            partner: self.partner_response,
            status: self.status,
        }
    }

    /// The pairing with `answers`.
    pub fn with(&self, answers: Answers) -> Pairing {
        Pairing {
            territory_response: answers.territory,
            partner_response: answers.partner,
            status: answers.status,
            ..self.clone()
        }
    }
}

/// Stores a new pairing; false when this partner was already proposed for this application.
pub fn insert(conn: &mut DbConn, pairing: &Pairing) -> QueryResult<bool> {
    let insert = diesel::insert_into(pairings::table).values(pairing);
    let inserted = crate::on_backend!(conn, |c| insert.on_conflict_do_nothing().execute(c)?);
    Ok(inserted == 1)
}

/// A pairing by id.
pub fn find(conn: &mut DbConn, id: Uuid) -> QueryResult<Option<Pairing>> {
    pairings::table
        .find(Uid(id))
        .select(Pairing::as_select())
        .first(conn)
        .optional()
}

/// Saves a pairing's responses and status if they are still those of `before`; false when another response
/// came first (both sides answering at once must not overwrite each other, nor confirm twice).
pub fn update(conn: &mut DbConn, before: &Pairing, pairing: &Pairing) -> QueryResult<bool> {
    let changed = diesel::update(
        pairings::table
            .find(pairing.id)
            .filter(pairings::status.eq(before.status))
            .filter(pairings::territory_response.eq(before.territory_response))
            .filter(pairings::partner_response.eq(before.partner_response)),
    )
    .set(pairing)
    .execute(conn)?;
    Ok(changed == 1)
}

/// A page of the pairings of an application in id order (oldest first), each with its partner (one
/// statement): those after `after`, at most `limit`; with `partner_member`, only the pairings whose partner
/// organization has that user among its members.
pub fn page_of_application(
    conn: &mut DbConn,
    application_id: Uuid,
    partner_member: Option<Uuid>,
    after: Option<Uuid>,
    limit: i64,
) -> QueryResult<Vec<(Pairing, Organization)>> {
    let mut query = pairings::table
        .inner_join(
            organizations::table.on(organizations::id.eq(pairings::partner_organization_id)),
        )
        .filter(pairings::application_id.eq(Uid(application_id)))
        .order(pairings::id.asc())
        .limit(limit)
        .select((Pairing::as_select(), Organization::as_select()))
        .into_boxed();
    if let Some(user_id) = partner_member {
        let theirs = organization_members::table
            .filter(organization_members::user_id.eq(Uid(user_id)))
            .select(organization_members::organization_id);
        query = query.filter(pairings::partner_organization_id.eq_any(theirs));
    }
    if let Some(after) = after {
        query = query.filter(pairings::id.gt(Uid(after)));
    }
    query.load(conn)
}

/// The confirmed partner of each application of a call that has one.
pub fn confirmed_partners(
    conn: &mut DbConn,
    application_ids: &[Uuid],
) -> QueryResult<Vec<(Uid, Uid)>> {
    let ids: Vec<Uid> = application_ids.iter().copied().map(Uid).collect();
    pairings::table
        .filter(pairings::application_id.eq_any(ids))
        .filter(pairings::status.eq(PairingStatus::Confirmed))
        .select((pairings::application_id, pairings::partner_organization_id))
        .load(conn)
}
