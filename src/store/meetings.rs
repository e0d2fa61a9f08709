//! Jury meetings: the meeting (with its ranking snapshot, and once closed its frozen record and digest), its
//! attendance, its items (one per application, votes as JSON) and the decisions it produced.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::schema::{
    applications, meeting_attendance, meeting_decisions, meeting_items, meetings, organizations,
    users,
};
use crate::db::types::{Json, Ts, Uid};
use crate::db::DbConn;
use crate::domain::application::ApplicationStatus;
use crate::domain::meeting::{ItemKind, MeetingStatus, Presence};

/// A meeting as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = meetings)]
pub struct Meeting {
    pub id: Uid,
    pub call_id: Uid,
    pub stage: String,
    pub held_at: Ts,
    pub place: String,
    pub agenda: String,
    pub minutes: Option<String>,
    /// The ranking of the stage when the meeting opened.
    pub ranking: Json,
    pub status: MeetingStatus,
    pub version: i32,
    pub opened_by: Option<Uid>,
    pub created_at: Ts,
    pub updated_at: Ts,
    pub closed_by: Option<Uid>,
    pub closed_at: Option<Ts>,
    /// The frozen record's canonical JSON, once closed.
    pub record: Option<String>,
    /// The SHA-256 of `record`.
    pub digest: Option<String>,
}

/// What the meeting decided on one application.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = meeting_items)]
pub struct Item {
    pub meeting_id: Uid,
    pub application_id: Uid,
    pub kind: ItemKind,
    pub outcome: ApplicationStatus,
    /// `[{juror_id, vote}]`, empty for a consensus.
    pub votes: Json,
    pub dissent: Option<String>,
    pub note: Option<String>,
    pub recorded_by: Option<Uid>,
    pub recorded_at: Ts,
}

/// A decision a closed meeting produced, as it stood at closing.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = meeting_decisions)]
pub struct LinkedDecision {
    pub meeting_id: Uid,
    pub application_id: Uid,
    pub outcome: String,
    pub published: bool,
}

/// Stores a new meeting.
pub fn insert(conn: &mut DbConn, meeting: &Meeting) -> QueryResult<()> {
    diesel::insert_into(meetings::table)
        .values(meeting)
        .execute(conn)
        .map(|_| ())
}

/// Meeting `id` of call `call_id` (a meeting of another call is not found).
pub fn find(conn: &mut DbConn, call_id: Uuid, id: Uuid) -> QueryResult<Option<Meeting>> {
    meetings::table
        .find(Uid(id))
        .filter(meetings::call_id.eq(Uid(call_id)))
        .select(Meeting::as_select())
        .first(conn)
        .optional()
}

/// A page of the meetings of a call in id (opening) order: those after `after`, at most `limit`.
pub fn page_of_call(
    conn: &mut DbConn,
    call_id: Uuid,
    after: Option<Uuid>,
    limit: i64,
) -> QueryResult<Vec<Meeting>> {
    let mut query = meetings::table
        .filter(meetings::call_id.eq(Uid(call_id)))
        .order(meetings::id.asc())
        .limit(limit)
        .select(Meeting::as_select())
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(meetings::id.gt(Uid(after)));
    }
    query.load(conn)
}

/// Writes the changed texts of an open meeting made against `version`; false when it is closed or changed
/// meanwhile.
pub fn update_texts(conn: &mut DbConn, meeting: &Meeting, version: i32) -> QueryResult<bool> {
    let changed = diesel::update(
        meetings::table
            .find(meeting.id)
            .filter(meetings::version.eq(version))
            .filter(meetings::status.eq(MeetingStatus::Open)),
    )
    .set((
        meetings::held_at.eq(meeting.held_at),
        meetings::place.eq(&meeting.place),
        meetings::agenda.eq(&meeting.agenda),
        meetings::minutes.eq(&meeting.minutes),
        meetings::version.eq(version + 1),
        meetings::updated_at.eq(meeting.updated_at),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}

/// Takes the next version of an open meeting before changing its attendance or items (on PostgreSQL this
/// also holds the row until the transaction ends, so a closing waits); false when it is closed.
pub fn touch(conn: &mut DbConn, id: Uuid, now: DateTime<Utc>) -> QueryResult<bool> {
    let changed = diesel::update(
        meetings::table
            .find(Uid(id))
            .filter(meetings::status.eq(MeetingStatus::Open)),
    )
    .set((
        meetings::version.eq(meetings::version + 1),
        meetings::updated_at.eq(Ts(now)),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}

/// Closes an open meeting with its frozen record and digest; false when it was closed meanwhile.
pub fn close(
    conn: &mut DbConn,
    id: Uuid,
    closed_by: Uuid,
    record: &str,
    digest: &str,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    let changed = diesel::update(
        meetings::table
            .find(Uid(id))
            .filter(meetings::status.eq(MeetingStatus::Open)),
    )
    .set((
        meetings::status.eq(MeetingStatus::Closed),
        meetings::closed_by.eq(Some(Uid(closed_by))),
        meetings::closed_at.eq(Some(Ts(now))),
        meetings::record.eq(Some(record)),
        meetings::digest.eq(Some(digest)),
        meetings::version.eq(meetings::version + 1),
        meetings::updated_at.eq(Ts(now)),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}

/// Replaces the attendance of a meeting.
pub fn set_attendance(
    conn: &mut DbConn,
    meeting_id: Uuid,
    rows: &[(Uuid, Presence)],
) -> QueryResult<()> {
    diesel::delete(
        meeting_attendance::table.filter(meeting_attendance::meeting_id.eq(Uid(meeting_id))),
    )
    .execute(conn)?;
    for (user, presence) in rows {
        diesel::insert_into(meeting_attendance::table)
            .values((
                meeting_attendance::meeting_id.eq(Uid(meeting_id)),
                meeting_attendance::user_id.eq(Uid(*user)),
                meeting_attendance::presence.eq(*presence),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The attendance of a meeting: who was present or excused.
pub fn attendance_of(conn: &mut DbConn, meeting_id: Uuid) -> QueryResult<HashMap<Uuid, Presence>> {
    let rows: Vec<(Uid, Presence)> = meeting_attendance::table
        .filter(meeting_attendance::meeting_id.eq(Uid(meeting_id)))
        .select((meeting_attendance::user_id, meeting_attendance::presence))
        .load(conn)?;
    Ok(rows.into_iter().map(|(u, p)| (u.0, p)).collect())
}

/// The item of an application in a meeting.
pub fn find_item(
    conn: &mut DbConn,
    meeting_id: Uuid,
    application_id: Uuid,
) -> QueryResult<Option<Item>> {
    meeting_items::table
        .find((Uid(meeting_id), Uid(application_id)))
        .select(Item::as_select())
        .first(conn)
        .optional()
}

/// Records an item, replacing the application's earlier one in the meeting.
pub fn put_item(conn: &mut DbConn, item: &Item) -> QueryResult<()> {
    diesel::delete(meeting_items::table.find((item.meeting_id, item.application_id)))
        .execute(conn)?;
    diesel::insert_into(meeting_items::table)
        .values(item)
        .execute(conn)
        .map(|_| ())
}

/// The items of a meeting, in the order they were recorded.
pub fn items_of(conn: &mut DbConn, meeting_id: Uuid) -> QueryResult<Vec<Item>> {
    meeting_items::table
        .filter(meeting_items::meeting_id.eq(Uid(meeting_id)))
        .order((
            meeting_items::recorded_at.asc(),
            meeting_items::application_id.asc(),
        ))
        .select(Item::as_select())
        .load(conn)
}

/// Links a closing meeting to the decisions it produced.
pub fn link_decisions(conn: &mut DbConn, links: &[LinkedDecision]) -> QueryResult<()> {
    for link in links {
        diesel::insert_into(meeting_decisions::table)
            .values(link)
            .execute(conn)?;
    }
    Ok(())
}

/// The decisions a closed meeting produced, in application order.
pub fn decisions_of(conn: &mut DbConn, meeting_id: Uuid) -> QueryResult<Vec<LinkedDecision>> {
    meeting_decisions::table
        .filter(meeting_decisions::meeting_id.eq(Uid(meeting_id)))
        .order(meeting_decisions::application_id.asc())
        .select(LinkedDecision::as_select())
        .load(conn)
}

/// The display names of these accounts.
pub fn display_names(conn: &mut DbConn, ids: &[Uuid]) -> QueryResult<HashMap<Uuid, String>> {
    let ids: Vec<Uid> = ids.iter().copied().map(Uid).collect();
    let rows: Vec<(Uid, String)> = users::table
        .filter(users::id.eq_any(ids))
        .select((users::id, users::display_name))
        .load(conn)?;
    Ok(rows.into_iter().map(|(id, name)| (id.0, name)).collect())
}

/// The reference and organization name of these applications.
pub fn application_labels(
    conn: &mut DbConn,
    ids: &[Uuid],
) -> QueryResult<HashMap<Uuid, (Option<String>, String)>> {
    let ids: Vec<Uid> = ids.iter().copied().map(Uid).collect();
    let rows: Vec<(Uid, Option<String>, String)> = applications::table
        .inner_join(organizations::table)
        .filter(applications::id.eq_any(ids))
        .select((
            applications::id,
            applications::reference,
            organizations::legal_name,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, reference, name)| (id.0, (reference, name)))
        .collect())
}
