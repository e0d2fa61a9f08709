//! Pitch slots: when and where a shortlisted application pitches at a stage, one per application and stage.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::schema::{applications, organizations, pitch_slots};
use crate::db::types::{Ts, Uid};
use crate::db::DbConn;

/// A pitch slot as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset, serde::Serialize)]
#[diesel(table_name = pitch_slots, treat_none_as_null = true)]
pub struct PitchSlot {
    pub id: Uid,
    pub call_id: Uid,
    pub application_id: Uid,
    pub stage: String,
    pub starts_at: Ts,
    pub ends_at: Ts,
    pub place: Option<String>,
    pub video_url: Option<String>,
    pub confirmed_at: Option<Ts>,
    pub confirmed_by: Option<Uid>,
    pub created_by: Option<Uid>,
    pub created_at: Ts,
    pub updated_at: Ts,
    pub version: i32,
}

/// A slot in a call's schedule, with its application's reference and organization.
#[derive(Debug, Clone, Queryable)]
pub struct ScheduledSlot {
    pub slot: PitchSlot,
    pub reference: Option<String>,
    pub organization_name: String,
}

/// The slot of application `application_id` at `stage`.
pub fn find(
    conn: &mut DbConn,
    application_id: Uuid,
    stage: &str,
) -> QueryResult<Option<PitchSlot>> {
    pitch_slots::table
        .filter(pitch_slots::application_id.eq(Uid(application_id)))
        .filter(pitch_slots::stage.eq(stage))
        .select(PitchSlot::as_select())
        .first(conn)
        .optional()
}

/// The slots of application `application_id`, earliest first.
pub fn of_application(conn: &mut DbConn, application_id: Uuid) -> QueryResult<Vec<PitchSlot>> {
    pitch_slots::table
        .filter(pitch_slots::application_id.eq(Uid(application_id)))
        .order((pitch_slots::starts_at.asc(), pitch_slots::id.asc()))
        .select(PitchSlot::as_select())
        .load(conn)
}

/// The slots of other applications than `except` at `stage` of call `call_id` that overlap
/// [`starts_at`, `ends_at`), with their references, earliest first.
pub fn overlapping(
    conn: &mut DbConn,
    call_id: Uuid,
    stage: &str,
    except: Uuid,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
) -> QueryResult<Vec<(PitchSlot, Option<String>)>> {
    pitch_slots::table
        .inner_join(applications::table)
        .filter(pitch_slots::call_id.eq(Uid(call_id)))
        .filter(pitch_slots::stage.eq(stage))
        .filter(pitch_slots::application_id.ne(Uid(except)))
        .filter(pitch_slots::starts_at.lt(Ts(ends_at)))
        .filter(pitch_slots::ends_at.gt(Ts(starts_at)))
        .order((pitch_slots::starts_at.asc(), pitch_slots::id.asc()))
        .select((PitchSlot::as_select(), applications::reference))
        .load(conn)
}

/// One page of the slots of call `call_id` (at `stage` when given), by start time then id: those after the
/// slot `after`, at most `limit`; with each application's reference and organization, in one statement
/// (two with a cursor).
pub fn schedule(
    conn: &mut DbConn,
    call_id: Uuid,
    stage: Option<&str>,
    after: Option<Uuid>,
    limit: i64,
) -> QueryResult<Vec<ScheduledSlot>> {
    let mut query = pitch_slots::table
        .inner_join(applications::table.inner_join(organizations::table))
        .filter(pitch_slots::call_id.eq(Uid(call_id)))
        .into_boxed();
    if let Some(stage) = stage {
        query = query.filter(pitch_slots::stage.eq(stage.to_owned()));
    }
    if let Some(after) = after {
        let start: Option<Ts> = pitch_slots::table
            .find(Uid(after))
            .select(pitch_slots::starts_at)
            .first(conn)
            .optional()?;
        if let Some(start) = start {
            query = query.filter(
                pitch_slots::starts_at.gt(start).or(pitch_slots::starts_at
                    .eq(start)
                    .and(pitch_slots::id.gt(Uid(after)))),
            );
        }
    }
    query
        .order((pitch_slots::starts_at.asc(), pitch_slots::id.asc()))
        .limit(limit)
        .select((
            PitchSlot::as_select(),
            applications::reference,
            organizations::legal_name,
        ))
        .load::<(PitchSlot, Option<String>, String)>(conn)
        .map(|rows| {
            rows.into_iter()
                .map(|(slot, reference, organization_name)| ScheduledSlot {
                    slot,
                    reference,
                    organization_name,
                })
                .collect()
        })
}

/// Stores a new slot.
pub fn insert(conn: &mut DbConn, slot: &PitchSlot) -> QueryResult<()> {
    diesel::insert_into(pitch_slots::table)
        .values(slot)
        .execute(conn)
        .map(|_| ())
}

/// Writes every field of `slot` if its version is still `expected_version`; false when it changed.
pub fn update(conn: &mut DbConn, slot: &PitchSlot, expected_version: i32) -> QueryResult<bool> {
    let changed = diesel::update(
        pitch_slots::table
            .find(slot.id)
            .filter(pitch_slots::version.eq(expected_version)),
    )
    .set(slot)
    .execute(conn)?;
    Ok(changed == 1)
}

/// Deletes slot `id`; false when there was none.
pub fn delete(conn: &mut DbConn, id: Uuid) -> QueryResult<bool> {
    Ok(diesel::delete(pitch_slots::table.find(Uid(id))).execute(conn)? == 1)
}

/// Marks slot `id` confirmed by `by` unless it already is; false when it was (or is gone).
pub fn confirm(conn: &mut DbConn, id: Uuid, by: Uuid, now: DateTime<Utc>) -> QueryResult<bool> {
    let changed = diesel::update(
        pitch_slots::table
            .find(Uid(id))
            .filter(pitch_slots::confirmed_at.is_null()),
    )
    .set((
        pitch_slots::confirmed_at.eq(Ts(now)),
        pitch_slots::confirmed_by.eq(Uid(by)),
        pitch_slots::updated_at.eq(Ts(now)),
        pitch_slots::version.eq(pitch_slots::version + 1),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}
