//! The jury of a call: who sits on it, with their declared affiliations.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::schema::{assignments, call_jurors, users};
use crate::db::types::{Json, Ts, Uid};
use crate::db::DbConn;

/// A juror of a call, with the account's public facts.
#[derive(Debug, Clone, Queryable)]
pub struct Juror {
    pub user_id: Uid,
    pub email: String,
    pub display_name: String,
    pub affiliations: Json,
    pub created_at: Ts,
}

/// Adds a juror; false when already on the jury.
pub fn add_juror(
    conn: &mut DbConn,
    call_id: Uuid,
    user_id: Uuid,
    affiliations: serde_json::Value,
    added_by: Option<Uuid>,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    let row = (
        call_jurors::call_id.eq(Uid(call_id)),
        call_jurors::user_id.eq(Uid(user_id)),
        call_jurors::affiliations.eq(Json(affiliations)),
        call_jurors::added_by.eq(added_by.map(Uid)),
        call_jurors::created_at.eq(Ts(now)),
    );
    let insert = diesel::insert_into(call_jurors::table).values(row);
    let inserted = crate::on_backend!(conn, |c| insert.on_conflict_do_nothing().execute(c)?);
    Ok(inserted == 1)
}

/// Removes a juror; false when not on the jury.
pub fn remove_juror(conn: &mut DbConn, call_id: Uuid, user_id: Uuid) -> QueryResult<bool> {
    let removed =
        diesel::delete(call_jurors::table.find((Uid(call_id), Uid(user_id)))).execute(conn)?;
    // Their assignments go with them (their submitted reviews stay on record).
    diesel::delete(
        assignments::table
            .filter(assignments::call_id.eq(Uid(call_id)))
            .filter(assignments::juror_id.eq(Uid(user_id))),
    )
    .execute(conn)?;
    Ok(removed == 1)
}

/// Whether the user sits on the call's jury.
pub fn is_juror(conn: &mut DbConn, call_id: Uuid, user_id: Uuid) -> QueryResult<bool> {
    let found: Option<Uid> = call_jurors::table
        .find((Uid(call_id), Uid(user_id)))
        .select(call_jurors::user_id)
        .first(conn)
        .optional()?;
    Ok(found.is_some())
}

/// The columns of a [`Juror`].
const JUROR: (
    call_jurors::user_id,
    users::email,
    users::display_name,
    call_jurors::affiliations,
    call_jurors::created_at,
) = (
    call_jurors::user_id,
    users::email,
    users::display_name,
    call_jurors::affiliations,
    call_jurors::created_at,
);

/// The jurors of a call, in the order they joined.
pub fn jurors(conn: &mut DbConn, call_id: Uuid) -> QueryResult<Vec<Juror>> {
    call_jurors::table
        .inner_join(users::table)
        .filter(call_jurors::call_id.eq(Uid(call_id)))
        .order((call_jurors::created_at.asc(), call_jurors::user_id.asc()))
        .select(JUROR)
        .load(conn)
}

/// A page of the jurors of a call in user-id order (the jury's key): those after `after`, at most `limit`.
pub fn page_of_jurors(
    conn: &mut DbConn,
    call_id: Uuid,
    after: Option<Uuid>,
    limit: i64,
) -> QueryResult<Vec<Juror>> {
    let mut query = call_jurors::table
        .inner_join(users::table)
        .filter(call_jurors::call_id.eq(Uid(call_id)))
        .order(call_jurors::user_id.asc())
        .limit(limit)
        .select(JUROR)
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(call_jurors::user_id.gt(Uid(after)));
    }
    query.load(conn)
}

/// The calls whose jury the user sits on.
pub fn juries_of(conn: &mut DbConn, user_id: Uuid) -> QueryResult<Vec<Uuid>> {
    let ids: Vec<Uid> = call_jurors::table
        .filter(call_jurors::user_id.eq(Uid(user_id)))
        .order(call_jurors::call_id.asc())
        .select(call_jurors::call_id)
        .load(conn)?;
    Ok(ids.into_iter().map(|id| id.0).collect())
}
