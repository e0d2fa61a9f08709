//! What review packs and score sheets read, across applications, attachments, assignments and reviews: a
//! page of a juror's applications at a time (a pack streams hundreds of them), in a few statements per page.

use std::collections::BTreeMap;

use diesel::prelude::*;
use uuid::Uuid;

use crate::db::schema::{applications, assignments, attachments, organizations, reviews};
use crate::db::types::{Json, Uid};
use crate::db::DbConn;
use crate::store::applications::{Application, Attachment};
use crate::store::reviews::{scores_map, Review};

/// An application assigned to a juror at a stage, by its reference.
#[derive(Debug, Clone, Queryable)]
pub struct AssignedReference {
    pub application_id: Uid,
    pub reference: Option<String>,
    pub stage: String,
}

/// The applications assigned to a juror in a call, at every stage, withdrawn ones included (their rows in a
/// sheet are refused with their own reason), by reference.
pub fn assigned_references(
    conn: &mut DbConn,
    juror: Uuid,
    call_id: Uuid,
) -> QueryResult<Vec<AssignedReference>> {
    assignments::table
        .inner_join(applications::table)
        .filter(assignments::juror_id.eq(Uid(juror)))
        .filter(assignments::call_id.eq(Uid(call_id)))
        .order((applications::reference.asc(), assignments::id.asc()))
        .select((
            assignments::application_id,
            applications::reference,
            assignments::stage,
        ))
        .load(conn)
}

/// These applications with their organization's name, in the order of `ids`.
pub fn applications_with_names(
    conn: &mut DbConn,
    ids: &[Uuid],
) -> QueryResult<Vec<(Application, String)>> {
    let keys: Vec<Uid> = ids.iter().copied().map(Uid).collect();
    let mut found: Vec<(Application, String)> = applications::table
        .inner_join(organizations::table)
        .filter(applications::id.eq_any(&keys))
        .select((Application::as_select(), organizations::legal_name))
        .load(conn)?;
    found.sort_by_key(|(app, _)| ids.iter().position(|id| *id == *app.id));
    Ok(found)
}

/// The attachments of these applications, oldest first.
pub fn attachments_of_applications(
    conn: &mut DbConn,
    ids: &[Uuid],
) -> QueryResult<Vec<Attachment>> {
    let keys: Vec<Uid> = ids.iter().copied().map(Uid).collect();
    attachments::table
        .filter(attachments::application_id.eq_any(&keys))
        .order(attachments::id.asc())
        .select(Attachment::as_select())
        .load(conn)
}

/// A juror's reviews with their scores (criterion key → score), by application.
pub type ReviewsByApplication = BTreeMap<Uuid, (Review, BTreeMap<String, f64>)>;

/// A juror's reviews of a call's stage with their scores, by application: of these applications, or of all.
pub fn reviews_of_juror(
    conn: &mut DbConn,
    juror: Uuid,
    call_id: Uuid,
    stage: &str,
    ids: Option<&[Uuid]>,
) -> QueryResult<ReviewsByApplication> {
    let mut query = reviews::table
        .filter(reviews::juror_id.eq(Uid(juror)))
        .filter(reviews::call_id.eq(Uid(call_id)))
        .filter(reviews::stage.eq(stage))
        .select((Review::as_select(), reviews::scores))
        .into_boxed();
    if let Some(ids) = ids {
        let keys: Vec<Uid> = ids.iter().copied().map(Uid).collect();
        query = query.filter(reviews::application_id.eq_any(keys));
    }
    let found: Vec<(Review, Json)> = query.load(conn)?;
    Ok(found
        .into_iter()
        .map(|(review, scores)| (*review.application_id, (review, scores_map(&scores))))
        .collect())
}
