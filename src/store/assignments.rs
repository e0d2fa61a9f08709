//! Assignments: which juror reviews which application at which stage, and a juror's own list with the state
//! of their reviews.

use diesel::prelude::*;
use uuid::Uuid;

use crate::db::schema::{applications, assignments, reviews};
use crate::db::types::{Ts, Uid};
use crate::db::DbConn;
use crate::domain::application::ApplicationStatus;
use crate::domain::review::ReviewStatus;

/// An assignment of an application to a juror for a stage.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = assignments)]
pub struct Assignment {
    pub id: Uid,
    pub call_id: Uid,
    pub application_id: Uid,
    pub juror_id: Uid,
    pub stage: String,
    pub created_by: Option<Uid>,
    pub created_at: Ts,
}

/// Stores assignments; the ones that already exist are skipped. Returns how many were new.
pub fn insert_assignments(conn: &mut DbConn, rows: &[Assignment]) -> QueryResult<usize> {
    let mut inserted = 0;
    for row in rows {
        let insert = diesel::insert_into(assignments::table).values(row);
        inserted += crate::on_backend!(conn, |c| insert.on_conflict_do_nothing().execute(c)?);
    }
    Ok(inserted)
}

/// The assignments of a call for a stage (all stages when `None`).
pub fn assignments_of_call(
    conn: &mut DbConn,
    call_id: Uuid,
    stage: Option<&str>,
) -> QueryResult<Vec<Assignment>> {
    let mut query = assignments::table
        .filter(assignments::call_id.eq(Uid(call_id)))
        .order(assignments::id.asc())
        .select(Assignment::as_select())
        .into_boxed();
    if let Some(stage) = stage {
        query = query.filter(assignments::stage.eq(stage.to_owned()));
    }
    query.load(conn)
}

/// A page of the assignments of a call for a stage (all stages when `None`) in id order: those after
/// `after`, at most `limit`.
pub fn page_of_call(
    conn: &mut DbConn,
    call_id: Uuid,
    stage: Option<&str>,
    after: Option<Uuid>,
    limit: i64,
) -> QueryResult<Vec<Assignment>> {
    let mut query = assignments::table
        .filter(assignments::call_id.eq(Uid(call_id)))
        .order(assignments::id.asc())
        .limit(limit)
        .select(Assignment::as_select())
        .into_boxed();
    if let Some(stage) = stage {
        query = query.filter(assignments::stage.eq(stage.to_owned()));
    }
    if let Some(after) = after {
        query = query.filter(assignments::id.gt(Uid(after)));
    }
    query.load(conn)
}

/// A juror's assignment with the state of their review.
#[derive(Debug, Clone, Queryable)]
pub struct MyAssignment {
    /// The assignment's id (the cursor of a page).
    pub id: Uid,
    pub application_id: Uid,
    pub call_id: Uid,
    pub stage: String,
    pub reference: Option<String>,
    pub review_status: Option<ReviewStatus>,
    /// The stage's review deadline, if staff set one.
    pub review_due_at: Option<Ts>,
}

/// Which of a juror's assignments to load.
#[derive(Debug, Clone, Copy, Default)]
pub struct JurorAssignments {
    /// Only this call's.
    pub call_id: Option<Uuid>,
    /// A page in assignment order: those after this assignment, at most this many. Without it, all of them,
    /// call by call.
    pub page: Option<(Option<Uuid>, i64)>,
}

/// A juror's assignments, with their review status and the stage's deadline, in one statement; withdrawn
/// applications are left out (they are no longer evaluated), and so are those a conflict keeps the juror away
/// from (declared, or detected and applying).
pub fn assignments_of_juror(
    conn: &mut DbConn,
    juror_id: Uuid,
    which: JurorAssignments,
) -> QueryResult<Vec<MyAssignment>> {
    use crate::db::schema::review_deadlines;
    let (declared, detected) = super::conflicts::keeping_away(juror_id);
    let mut query = assignments::table
        .inner_join(applications::table)
        .left_join(
            reviews::table.on(reviews::application_id
                .eq(assignments::application_id)
                .and(reviews::juror_id.eq(assignments::juror_id))
                .and(reviews::stage.eq(assignments::stage))),
        )
        .left_join(
            review_deadlines::table.on(review_deadlines::call_id
                .eq(assignments::call_id)
                .and(review_deadlines::stage.eq(assignments::stage))),
        )
        .filter(assignments::juror_id.eq(Uid(juror_id)))
        .filter(applications::status.ne(ApplicationStatus::Withdrawn))
        .filter(assignments::application_id.ne_all(declared))
        .filter(assignments::application_id.ne_all(detected))
        .select((
            assignments::id,
            assignments::application_id,
            assignments::call_id,
            assignments::stage,
            applications::reference,
            reviews::status.nullable(),
            review_deadlines::due_at.nullable(),
        ))
        .into_boxed();
    if let Some(call_id) = which.call_id {
        query = query.filter(assignments::call_id.eq(Uid(call_id)));
    }
    match which.page {
        None => query = query.order((assignments::call_id.asc(), assignments::id.asc())),
        Some((after, limit)) => {
            query = query.order(assignments::id.asc()).limit(limit);
            if let Some(after) = after {
                query = query.filter(assignments::id.gt(Uid(after)));
            }
        }
    }
    query.load(conn)
}

/// Withdraws a juror's assignments to an application (a conflict was declared); returns how many.
pub fn remove_assignments(
    conn: &mut DbConn,
    application_id: Uuid,
    juror_id: Uuid,
) -> QueryResult<usize> {
    diesel::delete(
        assignments::table
            .filter(assignments::application_id.eq(Uid(application_id)))
            .filter(assignments::juror_id.eq(Uid(juror_id))),
    )
    .execute(conn)
}
