//! Jury meetings as use cases: staff open a meeting on a stage (with a snapshot of the stage's ranking),
//! record who attended and what was decided on each application ([`items`]), keep minutes, and close it
//! once the quorum is reached. Closing freezes the meeting: its record ([`record`]) is kept as canonical
//! JSON, sealed by a SHA-256 digest that the audit entry carries, and linked to the decisions it produced.
//! Every change is journalled in the caller's transaction; the access rules are
//! [`can_record_meeting`] and [`can_read_meetings`].

pub mod items;
pub mod page;
pub mod record;

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::auth::permissions::{can_read_meetings, can_record_meeting, Principal};
use crate::db::types::{Json, Ts, Uid};
use crate::db::DbConn;
use crate::domain::action::Action;
use crate::domain::check::Check;
use crate::domain::meeting::{self, MeetingRefusal, MeetingStatus, Presence};
use crate::domain::version as etag;
use crate::error::{Error, FieldError};
use crate::service::staff::load_call_access;
use crate::store::calls::{self, Call};
use crate::store::journal::{Entity, Happened};
use crate::store::meetings::{self, Meeting};
use crate::store::{decisions, jurors};

pub use record::{MeetingRecord, RankedLine};

/// The call, if `caller` may record its meetings; 404 for an unknown call.
pub fn recording_call(conn: &mut DbConn, caller: &Principal, call_id: Uuid) -> Result<Call, Error> {
    let call = calls::find(conn, call_id)?.ok_or(Error::NotFound)?;
    can_record_meeting(caller, &load_call_access(conn, caller, call_id)?)?;
    Ok(call)
}

/// The call, if `caller` may read its meetings; 404 for an unknown call.
pub fn reading_call(conn: &mut DbConn, caller: &Principal, call_id: Uuid) -> Result<Call, Error> {
    let call = calls::find(conn, call_id)?.ok_or(Error::NotFound)?;
    can_read_meetings(caller, &load_call_access(conn, caller, call_id)?)?;
    Ok(call)
}

/// Meeting `id` of the call; 404 when the call has none such.
fn meeting_of(conn: &mut DbConn, call_id: Uuid, id: Uuid) -> Result<Meeting, Error> {
    meetings::find(conn, call_id, id)
        .context("loading the meeting")?
        .ok_or(Error::NotFound)
}

/// What opens a meeting.
#[derive(Debug, Clone)]
pub struct NewMeeting {
    pub stage: String,
    pub held_at: DateTime<Utc>,
    pub place: String,
    pub agenda: String,
}

/// Opens a meeting of call `call_id` on a stage of it (422 `unknown_stage` otherwise; 409 `no_jury_scoring`
/// for a call without jury), with a snapshot of the stage's ranking as it stands now.
pub fn open(
    conn: &mut DbConn,
    actor: &Principal,
    call_id: Uuid,
    new: NewMeeting,
    now: DateTime<Utc>,
) -> Result<Meeting, Error> {
    recording_call(conn, actor, call_id)?;
    let ranking: Vec<RankedLine> =
        crate::service::reviews::rank_stage(conn, call_id, Some(&new.stage))?
            .into_iter()
            .map(RankedLine::from)
            .collect();
    let meeting = Meeting {
        id: Uid(Uuid::now_v7()),
        call_id: Uid(call_id),
        stage: new.stage,
        held_at: Ts(new.held_at),
        place: new.place,
        agenda: new.agenda,
        minutes: None,
        ranking: Json(serde_json::to_value(&ranking).context("the ranking snapshot")?),
        status: MeetingStatus::Open,
        version: 1,
        opened_by: Some(Uid(actor.user_id)),
        created_at: Ts(now),
        updated_at: Ts(now),
        closed_by: None,
        closed_at: None,
        record: None,
        digest: None,
    };
    meetings::insert(conn, &meeting)?;
    Happened::new(
        Action::MeetingOpened,
        Some(actor.user_id),
        Entity::Meeting(*meeting.id),
    )
    .after(json!({"call_id": call_id, "stage": meeting.stage, "held_at": meeting.held_at, "ranked": ranking.len()}))
    .record(conn, now)?;
    Ok(meeting)
}

/// A page of the meetings of call `call_id`, for its staff.
pub fn page(
    conn: &mut DbConn,
    caller: &Principal,
    call_id: Uuid,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<Meeting>, Error> {
    reading_call(conn, caller, call_id)?;
    Ok(meetings::page_of_call(conn, call_id, after, limit)?)
}

/// Meeting `id` of call `call_id`, for the call's staff.
pub fn read(
    conn: &mut DbConn,
    caller: &Principal,
    call_id: Uuid,
    id: Uuid,
) -> Result<Meeting, Error> {
    reading_call(conn, caller, call_id)?;
    meeting_of(conn, call_id, id)
}

/// A change to a meeting's texts: each `Some` replaces the stored value (`minutes: Some(None)` clears them).
#[derive(Debug, Default)]
pub struct MeetingEdit {
    pub if_match: String,
    pub held_at: Option<DateTime<Utc>>,
    pub place: Option<String>,
    pub agenda: Option<String>,
    pub minutes: Option<Option<String>>,
}

/// Changes the minutes, agenda, place or date of an open meeting made against the version the client read
/// (412 otherwise; 409 `meeting_closed` once closed).
pub fn update(
    conn: &mut DbConn,
    actor: &Principal,
    call_id: Uuid,
    id: Uuid,
    edit: MeetingEdit,
    now: DateTime<Utc>,
) -> Result<Meeting, Error> {
    recording_call(conn, actor, call_id)?;
    let before = meeting_of(conn, call_id, id)?;
    before.status.change()?;
    etag::check(&edit.if_match, before.version)?;
    let after = Meeting {
        held_at: edit.held_at.map_or(before.held_at, Ts),
        place: edit.place.unwrap_or_else(|| before.place.clone()),
        agenda: edit.agenda.unwrap_or_else(|| before.agenda.clone()),
        minutes: edit.minutes.unwrap_or_else(|| before.minutes.clone()),
        version: before.version + 1,
        updated_at: Ts(now),
        ..before.clone()
    };
    if !meetings::update_texts(conn, &after, before.version)? {
        return Err(Error::PreconditionFailed);
    }
    let texts = |m: &Meeting| json!({"held_at": m.held_at, "place": m.place, "agenda": m.agenda, "minutes": m.minutes});
    Happened::new(
        Action::MeetingUpdated,
        Some(actor.user_id),
        Entity::Meeting(id),
    )
    .before(texts(&before))
    .after(texts(&after))
    .record(conn, now)?;
    Ok(after)
}

/// The attendance of a meeting as recorded: who was present, who sent apologies.
#[derive(Debug, Clone, Default)]
pub struct Attendance {
    pub present: Vec<Uuid>,
    pub apologies: Vec<Uuid>,
}

/// Replaces the attendance of an open meeting. Everyone named must sit on the call's jury (422 naming the
/// index of anyone else) and be named once.
pub fn set_attendance(
    conn: &mut DbConn,
    actor: &Principal,
    call_id: Uuid,
    id: Uuid,
    attendance: Attendance,
    mut check: Check,
    now: DateTime<Utc>,
) -> Result<AttendanceState, Error> {
    let call = recording_call(conn, actor, call_id)?;
    let meeting = meeting_of(conn, call_id, id)?;
    meeting.status.change()?;
    let jury: Vec<Uuid> = jurors::jurors(conn, call_id)
        .context("loading the jury")?
        .iter()
        .map(|j| *j.user_id)
        .collect();
    let mut rows: Vec<(Uuid, Presence)> = Vec::new();
    for (list, ids, presence) in [
        ("present", &attendance.present, Presence::Present),
        ("apologies", &attendance.apologies, Presence::Apologies),
    ] {
        for (i, user) in ids.iter().enumerate() {
            let field = format!("{list}.{i}");
            if !jury.contains(user) {
                check.push(FieldError::new(
                    field,
                    "not_a_juror",
                    "not a juror of this call",
                ));
            } else if rows.iter().any(|(u, _)| u == user) {
                check.push(FieldError::new(field, "duplicate", "named twice"));
            } else {
                rows.push((*user, presence));
            }
        }
    }
    check.finish()?;
    if !meetings::touch(conn, id, now)? {
        return Err(MeetingRefusal::Closed.into());
    }
    meetings::set_attendance(conn, id, &rows)?;
    Happened::new(
        Action::MeetingAttendanceRecorded,
        Some(actor.user_id),
        Entity::Meeting(id),
    )
    .after(json!({"present": attendance.present, "apologies": attendance.apologies}))
    .record(conn, now)?;
    let (present_count, required) = quorum(conn, &call, id)?;
    Ok(AttendanceState {
        present: attendance.present,
        apologies: attendance.apologies,
        present_count,
        required,
    })
}

/// A meeting's attendance as recorded, with the quorum it needs.
#[derive(Debug, Clone)]
pub struct AttendanceState {
    pub present: Vec<Uuid>,
    pub apologies: Vec<Uuid>,
    pub present_count: usize,
    pub required: usize,
}

/// The attendance of a meeting and the quorum it needs: (present, required).
pub fn quorum(conn: &mut DbConn, call: &Call, meeting_id: Uuid) -> Result<(usize, usize), Error> {
    let jury = jurors::jurors(conn, *call.id).context("loading the jury")?;
    let present = meetings::attendance_of(conn, meeting_id)?
        .values()
        .filter(|p| **p == Presence::Present)
        .count();
    Ok((present, meeting::required_quorum(call.quorum, jury.len())))
}

/// Closes an open meeting: refused (409 `below_quorum`) while fewer jurors are present than the call's
/// quorum, or (409 `absent_voter`) while a recorded vote is by a juror not marked present. The meeting is
/// linked to the decisions of the applications it recorded, its record is frozen as canonical JSON and
/// sealed by its SHA-256 digest, which the audit entry `meeting.closed` carries.
pub fn close(
    conn: &mut DbConn,
    actor: &Principal,
    call_id: Uuid,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<Meeting, Error> {
    let call = recording_call(conn, actor, call_id)?;
    let meeting = meeting_of(conn, call_id, id)?;
    let (present, required) = quorum(conn, &call, id)?;
    meeting.status.close(present, required)?;
    items::voters_are_present(conn, id)?;
    let recorded: Vec<Uuid> = meetings::items_of(conn, id)?
        .iter()
        .map(|i| *i.application_id)
        .collect();
    let links: Vec<meetings::LinkedDecision> = decisions::decisions_of_call(conn, call_id)
        .context("loading the call's decisions")?
        .into_iter()
        .filter(|d| recorded.contains(&d.application_id))
        .map(|d| meetings::LinkedDecision {
            meeting_id: Uid(id),
            application_id: d.application_id,
            outcome: d.outcome.as_str().to_owned(),
            published: d.published_at.is_some(),
        })
        .collect();
    meetings::link_decisions(conn, &links)?;
    let frozen = Meeting {
        status: MeetingStatus::Closed,
        closed_by: Some(Uid(actor.user_id)),
        closed_at: Some(Ts(now)),
        ..meeting
    };
    let mut value = record::build(conn, &call, &frozen)?;
    if let Value::Object(map) = &mut value {
        map.remove("digest");
    }
    let text = meeting::canonical_json(&value);
    let digest = meeting::digest(&text);
    if !meetings::close(conn, id, actor.user_id, &text, &digest, now)? {
        return Err(MeetingRefusal::Closed.into());
    }
    Happened::new(Action::MeetingClosed, Some(actor.user_id), Entity::Meeting(id))
        .before(json!({"status": MeetingStatus::Open}))
        .after(json!({"status": MeetingStatus::Closed, "digest": digest, "call_id": call_id, "present": present, "required": required, "decisions": links.len()}))
        .record(conn, now)?;
    meeting_of(conn, call_id, id)
}

/// The record of meeting `id` as JSON, for the call's staff: the frozen record with its digest once closed,
/// else the record as it stands (`digest: null`); with the call's time zone, for the page's dates.
pub fn read_record(
    conn: &mut DbConn,
    caller: &Principal,
    call_id: Uuid,
    id: Uuid,
) -> Result<(Value, String), Error> {
    let call = reading_call(conn, caller, call_id)?;
    let meeting = meeting_of(conn, call_id, id)?;
    match (&meeting.record, &meeting.digest) {
        (Some(text), Some(digest)) => {
            let mut value: Value =
                serde_json::from_str(text).context("reading a frozen meeting record")?;
            if let Value::Object(map) = &mut value {
                map.insert("digest".into(), Value::String(digest.clone()));
            }
            Ok((value, call.timezone))
        }
        _ => Ok((record::build(conn, &call, &meeting)?, call.timezone)),
    }
}
