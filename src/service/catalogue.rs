//! A call's public catalogue of retained solutions: applicants consent (and withdraw their consent) to show
//! the fields they choose, staff publish retained applications, and anyone reads the entries where both
//! hold, showing exactly the consented fields. Every change is journalled in the caller's transaction.

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::auth::permissions::{
    can_consent_to_catalogue, can_publish_in_catalogue, can_read_catalogue, Principal,
};
use crate::db::types::{Json, Ts, Uid};
use crate::db::DbConn;
use crate::domain::action::Action;
use crate::domain::catalogue::{entry_values, Catalogue, CatalogueField, OrganizationFacts};
use crate::domain::check::Check;
use crate::domain::refusal::Refusal;
use crate::error::Error;
use crate::service::applications;
use crate::service::staff::load_call_access;
use crate::store::applications as stored_applications;
use crate::store::calls::{self, Call};
use crate::store::catalogue::{self, field_names, Consent, Publication};
use crate::store::journal::{Entity, Feed, Happened};

pub mod page;

/// The catalogue of a call, or 409 `no_catalogue`.
fn catalogue_of(call: &Call) -> Result<Catalogue, Error> {
    Ok(call.catalogue()?.ok_or(Refusal::NoCatalogue)?)
}

/// The call of an application.
fn call_of(conn: &mut DbConn, call_id: Uuid) -> Result<Call, Error> {
    calls::find(conn, call_id)?.ok_or(Error::NotFound)
}

/// A consent as recorded.
#[derive(Debug, Clone)]
pub struct ConsentRecord {
    pub application_id: Uuid,
    pub fields: Vec<String>,
    pub given_by: Option<Uuid>,
    pub given_at: DateTime<Utc>,
}

/// Records the consent of application `id`'s members to show `chosen` fields in its call's catalogue, in
/// place of an earlier one: 404 for whoever may not know the application, 403 for staff, 409
/// `no_catalogue` for a call without catalogue, 422 for a field the call does not publish.
pub fn give_consent(
    conn: &mut DbConn,
    caller: &Principal,
    id: Uuid,
    chosen: &[String],
    now: DateTime<Utc>,
) -> Result<ConsentRecord, Error> {
    let (app, role) = applications::load(conn, caller, id)?;
    can_consent_to_catalogue(caller, role)?;
    let call = call_of(conn, *app.call_id)?;
    let fields = match catalogue_of(&call)?.consent(chosen) {
        Ok(fields) => fields,
        Err(errors) => return Err(Check::with(errors).into_error()),
    };
    let before = catalogue::consent_of(conn, id)?
        .map(|c| field_names(&c.fields))
        .transpose()?;
    let consent = Consent {
        application_id: Uid(id),
        fields: Json(json!(fields)),
        given_by: Some(Uid(caller.user_id)),
        given_at: Ts(now),
    };
    catalogue::save_consent(conn, &consent).context("recording the consent")?;
    Happened::new(
        Action::CatalogueConsentGiven,
        Some(caller.user_id),
        Entity::Application(id),
    )
    .before(json!({ "fields": before }))
    .after(json!({ "fields": fields }))
    .on_feed(Feed::application(
        *app.call_id,
        id,
        json!({ "fields": fields }),
    ))
    .record(conn, now)?;
    Ok(ConsentRecord {
        application_id: id,
        fields,
        given_by: Some(caller.user_id),
        given_at: now,
    })
}

/// Withdraws the consent of application `id`'s members: from now on the catalogue does not show it.
/// Withdrawing a consent that was not given changes nothing; the same refusals as [`give_consent`].
pub fn withdraw_consent(
    conn: &mut DbConn,
    caller: &Principal,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let (app, role) = applications::load(conn, caller, id)?;
    can_consent_to_catalogue(caller, role)?;
    catalogue_of(&call_of(conn, *app.call_id)?)?;
    let Some(before) = catalogue::consent_of(conn, id)? else {
        return Ok(());
    };
    catalogue::delete_consent(conn, id)?;
    Happened::new(
        Action::CatalogueConsentWithdrawn,
        Some(caller.user_id),
        Entity::Application(id),
    )
    .before(json!({ "fields": field_names(&before.fields)? }))
    .on_feed(Feed::application(
        *app.call_id,
        id,
        json!({ "fields": null }),
    ))
    .record(conn, now)?;
    Ok(())
}

/// A publication, and whether the applicant's consent makes it visible.
#[derive(Debug, Clone)]
pub struct PublicationRecord {
    pub application_id: Uuid,
    pub published_at: DateTime<Utc>,
    /// Whether the members consent: the entry shows only then.
    pub consented: bool,
}

/// The application `application_id` of call `call_id`, locked until the commit, for staff's catalogue work:
/// 404 when either is unknown or the application belongs to another call, 409 `no_catalogue`.
fn staff_target(
    conn: &mut DbConn,
    actor: &Principal,
    call_id: Uuid,
    application_id: Uuid,
) -> Result<stored_applications::Application, Error> {
    can_publish_in_catalogue(actor, &load_call_access(conn, actor, call_id)?)?;
    stored_applications::lock(conn, application_id)?;
    let call = call_of(conn, call_id)?;
    let app = stored_applications::find(conn, application_id)?
        .filter(|a| *a.call_id == call_id)
        .ok_or(Error::NotFound)?;
    catalogue_of(&call)?;
    Ok(app)
}

/// Publishes application `application_id` in the catalogue of call `call_id` (staff): only a retained
/// application (409 `not_retained`); publishing again keeps the first publication. The entry shows once its
/// members consent, and as long as they do.
pub fn publish(
    conn: &mut DbConn,
    actor: &Principal,
    call_id: Uuid,
    application_id: Uuid,
    now: DateTime<Utc>,
) -> Result<PublicationRecord, Error> {
    let app = staff_target(conn, actor, call_id, application_id)?;
    app.status.may_be_catalogued()?;
    let publication = Publication {
        application_id: Uid(application_id),
        call_id: Uid(call_id),
        published_by: Some(Uid(actor.user_id)),
        published_at: Ts(now),
    };
    if catalogue::publish(conn, &publication)? {
        Happened::new(
            Action::CatalogueEntryPublished,
            Some(actor.user_id),
            Entity::Application(application_id),
        )
        .on_feed(Feed::application(
            call_id,
            application_id,
            json!({"published": true}),
        ))
        .record(conn, now)?;
    }
    let published_at = catalogue::published_at(conn, application_id)?.ok_or(Error::NotFound)?;
    Ok(PublicationRecord {
        application_id,
        published_at: published_at.0,
        consented: catalogue::consent_of(conn, application_id)?.is_some(),
    })
}

/// Takes application `application_id` out of the catalogue of call `call_id` (staff); nothing changes when it
/// was not in it.
pub fn unpublish(
    conn: &mut DbConn,
    actor: &Principal,
    call_id: Uuid,
    application_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    staff_target(conn, actor, call_id, application_id)?;
    if catalogue::unpublish(conn, application_id)? {
        Happened::new(
            Action::CatalogueEntryUnpublished,
            Some(actor.user_id),
            Entity::Application(application_id),
        )
        .on_feed(Feed::application(
            call_id,
            application_id,
            json!({"published": false}),
        ))
        .record(conn, now)?;
    }
    Ok(())
}

/// One entry of a catalogue: exactly the consented fields the call publishes, with their values.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The application's id: the key of the list's order (never shown).
    pub key: Uuid,
    pub published_at: DateTime<Utc>,
    pub values: Vec<(CatalogueField, Value)>,
}

/// A page of a call's catalogue, with the call (for its title, form and time zone).
pub struct CataloguePage {
    pub call: Call,
    pub catalogue: Catalogue,
    pub entries: Vec<Entry>,
}

/// A page of the catalogue of the call `id_or_slug` (after `after`, at most `limit` rows): 404 for an
/// unknown or draft call, or a call without catalogue. Reading it needs no account.
pub fn read(
    conn: &mut DbConn,
    id_or_slug: &str,
    after: Option<Uuid>,
    limit: i64,
) -> Result<CataloguePage, Error> {
    let call = calls::find_by_id_or_slug(conn, id_or_slug)?
        .filter(|c| can_read_catalogue(c.status))
        .ok_or(Error::NotFound)?;
    let catalogue = call.catalogue()?.ok_or(Error::NotFound)?;
    let rows = catalogue::page_of_call(conn, *call.id, after, limit)?;
    let mut entries = Vec::with_capacity(rows.len());
    for row in rows {
        let organization = OrganizationFacts {
            legal_name: row.legal_name,
            city: row.city,
            website: row.website,
        };
        let consented = field_names(&row.consented)?;
        entries.push(Entry {
            key: *row.application_id,
            published_at: row.published_at.0,
            values: entry_values(&catalogue, &consented, &row.answers.0, &organization),
        });
    }
    Ok(CataloguePage {
        call,
        catalogue,
        entries,
    })
}
