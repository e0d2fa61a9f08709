//! A call's public catalogue: applicants' consents (which fields to show) and staff's publications of
//! retained applications; an entry is shown where both exist on a retained application.

use diesel::prelude::*;
use uuid::Uuid;

use crate::db::schema::{applications, catalogue_consents, catalogue_publications, organizations};
use crate::db::types::{Json, Ts, Uid};
use crate::db::DbConn;
use crate::domain::application::ApplicationStatus;
use crate::error::Error;

/// An applicant's consent to show these fields of its application in the catalogue.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = catalogue_consents)]
pub struct Consent {
    pub application_id: Uid,
    /// The field names, a JSON array of strings.
    pub fields: Json,
    pub given_by: Option<Uid>,
    pub given_at: Ts,
}

/// Field names stored as a JSON array of strings; a stored value of another shape is an error.
pub fn field_names(fields: &Json) -> Result<Vec<String>, Error> {
    serde_json::from_value(fields.0.clone())
        .map_err(|e| Error::Internal(anyhow::anyhow!("stored catalogue fields: {e}")))
}

/// Staff's publication of a retained application in its call's catalogue.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = catalogue_publications)]
pub struct Publication {
    pub application_id: Uid,
    pub call_id: Uid,
    pub published_by: Option<Uid>,
    pub published_at: Ts,
}

/// The consent given for this application, if any.
pub fn consent_of(conn: &mut DbConn, application_id: Uuid) -> QueryResult<Option<Consent>> {
    catalogue_consents::table
        .find(Uid(application_id))
        .select(Consent::as_select())
        .first(conn)
        .optional()
}

/// Records a consent in place of the one before (the caller's transaction makes it one change).
pub fn save_consent(conn: &mut DbConn, consent: &Consent) -> QueryResult<()> {
    diesel::delete(catalogue_consents::table.find(consent.application_id)).execute(conn)?;
    diesel::insert_into(catalogue_consents::table)
        .values(consent)
        .execute(conn)
        .map(|_| ())
}

/// Deletes the consent of an application; false when there was none.
pub fn delete_consent(conn: &mut DbConn, application_id: Uuid) -> QueryResult<bool> {
    let deleted =
        diesel::delete(catalogue_consents::table.find(Uid(application_id))).execute(conn)?;
    Ok(deleted == 1)
}

/// When the application was published in the catalogue, if it is.
pub fn published_at(conn: &mut DbConn, application_id: Uuid) -> QueryResult<Option<Ts>> {
    catalogue_publications::table
        .find(Uid(application_id))
        .select(catalogue_publications::published_at)
        .first(conn)
        .optional()
}

/// Publishes an application; false when it already was (the first publication stands).
pub fn publish(conn: &mut DbConn, publication: &Publication) -> QueryResult<bool> {
    let insert = diesel::insert_into(catalogue_publications::table).values(publication);
    let inserted = crate::on_backend!(conn, |c| insert.on_conflict_do_nothing().execute(c)?);
    Ok(inserted == 1)
}

/// Takes an application out of the catalogue; false when it was not in it.
pub fn unpublish(conn: &mut DbConn, application_id: Uuid) -> QueryResult<bool> {
    let deleted =
        diesel::delete(catalogue_publications::table.find(Uid(application_id))).execute(conn)?;
    Ok(deleted == 1)
}

/// One entry as stored: the application's answers, the consented fields and the organization's public facts.
#[derive(Debug, Clone, Queryable)]
pub struct EntryRow {
    pub application_id: Uid,
    pub answers: Json,
    pub consented: Json,
    pub legal_name: String,
    pub city: String,
    pub website: Option<String>,
    pub published_at: Ts,
}

/// A page of the catalogue of call `call_id` in application-id order (after `after`, at most `limit`): the
/// retained applications that staff published and whose members consent, in one statement.
pub fn page_of_call(
    conn: &mut DbConn,
    call_id: Uuid,
    after: Option<Uuid>,
    limit: i64,
) -> QueryResult<Vec<EntryRow>> {
    let mut query = applications::table
        .inner_join(catalogue_publications::table)
        .inner_join(catalogue_consents::table)
        .inner_join(organizations::table)
        .filter(applications::call_id.eq(Uid(call_id)))
        .filter(applications::status.eq(ApplicationStatus::Retained))
        .filter(applications::anonymised_at.is_null())
        .order(applications::id.asc())
        .limit(limit)
        .select((
            applications::id,
            applications::answers,
            catalogue_consents::fields,
            organizations::legal_name,
            organizations::city,
            organizations::website,
            catalogue_publications::published_at,
        ))
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(applications::id.gt(Uid(after)));
    }
    query.load(conn)
}
