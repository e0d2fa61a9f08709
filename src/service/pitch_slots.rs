//! Pitch slots: staff convene a finalist to pitch at a stage (set, move, delete), its members read and
//! confirm it, staff read the schedule of a call. Setting or moving a slot emails the finalist's members;
//! moving it asks for their confirmation again. Slots of one stage never overlap: the call's row is locked
//! while one is checked and written, so that two at once are decided one after the other.

use anyhow::Context;
use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use uuid::Uuid;

use crate::auth::permissions::{
    can_confirm_pitch_slot, can_read_pitch_slot, can_schedule_pitch, ApplicationFacts, Principal,
};
use crate::db::types::{Ts, Uid};
use crate::db::DbConn;
use crate::domain::action::Action;
use crate::domain::application::ApplicationStatus;
use crate::domain::check::Check;
use crate::domain::finalists::{check_plan, is_finalist_of, SlotPlan};
use crate::domain::refusal::Refusal;
use crate::error::{Error, FieldError};
use crate::notify::applications::{format_instant, localized, About};
use crate::notify::emails;
use crate::service::applications::{load, staff_facts};
use crate::service::staff::{load_call_access, observed_call};
use crate::state::AppState;
use crate::store::applications::{self, Application};
use crate::store::calls::{self, Call};
use crate::store::journal::{Entity, Feed, Happened};
use crate::store::organizations;
use crate::store::pitch_slots::{self, PitchSlot, ScheduledSlot};

/// A slot as staff ask for it: its stage, start and length, place and link (parsed; `check` holds what
/// failed to parse).
#[derive(Debug, Clone)]
pub struct SlotRequest {
    pub stage: String,
    pub starts_at: DateTime<Utc>,
    pub duration_minutes: i64,
    pub place: Option<String>,
    pub video_url: Option<String>,
}

/// What setting a slot did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotChange {
    Created,
    Moved,
    Unchanged,
}

/// Sets (or moves) the pitch slot of application `id` at the request's stage. 422 (with what `check`
/// already holds) for an unknown stage, neither place nor link, or a time outside the stage's dates
/// (`outside_stage`); 409 `not_shortlisted` unless the application is shortlisted to the stage; 409
/// `slot_overlap`, naming the other application, when another slot of the stage overlaps. A new or moved
/// slot is journalled and emailed to the finalist's members; a move asks for their confirmation again.
pub fn set(
    conn: &mut DbConn,
    state: &AppState,
    actor: &Principal,
    id: Uuid,
    request: SlotRequest,
    mut check: Check,
    now: DateTime<Utc>,
) -> Result<(PitchSlot, SlotChange), Error> {
    // The application's lock, then the call's, as a publication takes them: slots of the call are
    // decided one at a time.
    applications::lock(conn, id)?;
    let app = applications::find(conn, id)?.ok_or(Error::NotFound)?;
    can_schedule_pitch(actor, &staff_facts(conn, actor, &app)?)?;
    let call = calls::find(conn, *app.call_id)?.ok_or(Error::NotFound)?;
    calls::lock(conn, *call.id)?;
    let stages = call.stages()?;
    let plan = SlotPlan {
        stage: request.stage.clone(),
        starts_at: request.starts_at,
        ends_at: request.starts_at + Duration::minutes(request.duration_minutes),
        place: request.place,
        video_url: request.video_url,
    };
    let Some(stage) = stages.iter().find(|s| s.key == plan.stage) else {
        check.push(FieldError::new(
            "stage",
            "unknown_stage",
            "the call has no such stage",
        ));
        return Err(check.into_error());
    };
    let where_failed = check.failed("place") || check.failed("video_url");
    check_plan(&plan, stage)
        .into_iter()
        // A place or link that failed to parse is reported as such, not also as missing.
        .filter(|e| !(where_failed && e.field == "place"))
        .for_each(|e| check.push(e));
    check.finish()?;
    let shortlisted_for = applications::shortlisted_for(conn, id)?;
    if !is_finalist_of(app.status, shortlisted_for.as_deref(), &plan.stage) {
        return Err(Refusal::NotShortlisted {
            stage: plan.stage.clone(),
        }
        .into());
    }
    let overlaps = pitch_slots::overlapping(
        conn,
        *call.id,
        &plan.stage,
        id,
        plan.starts_at,
        plan.ends_at,
    )
    .context("loading the stage's overlapping slots")?;
    if let Some((_, reference)) = overlaps.into_iter().next() {
        return Err(Refusal::SlotOverlap {
            other: reference.unwrap_or_else(|| "another application".into()),
        }
        .into());
    }
    let existing = pitch_slots::find(conn, id, &plan.stage)?;
    let (slot, change) = match existing {
        Some(before) if same_plan(&before, &plan) => return Ok((before, SlotChange::Unchanged)),
        Some(before) => {
            let after = PitchSlot {
                starts_at: Ts(plan.starts_at),
                ends_at: Ts(plan.ends_at),
                place: plan.place.clone(),
                video_url: plan.video_url.clone(),
                confirmed_at: None,
                confirmed_by: None,
                updated_at: Ts(now),
                version: before.version + 1,
                ..before.clone()
            };
            if !pitch_slots::update(conn, &after, before.version)? {
                return Err(Refusal::ChangedMeanwhile.into());
            }
            (after, SlotChange::Moved)
        }
        None => {
            let slot = PitchSlot {
                id: Uid(Uuid::now_v7()),
                call_id: call.id,
                application_id: app.id,
                stage: plan.stage.clone(),
                starts_at: Ts(plan.starts_at),
                ends_at: Ts(plan.ends_at),
                place: plan.place.clone(),
                video_url: plan.video_url.clone(),
                confirmed_at: None,
                confirmed_by: None,
                created_by: Some(Uid(actor.user_id)),
                created_at: Ts(now),
                updated_at: Ts(now),
                version: 1,
            };
            pitch_slots::insert(conn, &slot).context("storing the pitch slot")?;
            (slot, SlotChange::Created)
        }
    };
    Happened::new(Action::PitchSlotSet, Some(actor.user_id), Entity::Application(id))
        .after(json!({"stage": slot.stage, "starts_at": slot.starts_at, "ends_at": slot.ends_at, "place": slot.place, "video_url": slot.video_url, "moved": change == SlotChange::Moved}))
        .on_feed(Feed::application(*call.id, id, json!({"stage": slot.stage, "starts_at": slot.starts_at, "ends_at": slot.ends_at, "moved": change == SlotChange::Moved})))
        .record(conn, now)?;
    convene(
        conn,
        state,
        &call,
        &app,
        &slot,
        change == SlotChange::Moved,
        now,
    )?;
    Ok((slot, change))
}

/// Whether `slot` already is what `plan` asks.
fn same_plan(slot: &PitchSlot, plan: &SlotPlan) -> bool {
    slot.starts_at.0 == plan.starts_at
        && slot.ends_at.0 == plan.ends_at
        && slot.place == plan.place
        && slot.video_url == plan.video_url
}

/// Queues the `pitch_slot` email to the finalist's members, each in their language.
fn convene(
    conn: &mut DbConn,
    state: &AppState,
    call: &Call,
    app: &Application,
    slot: &PitchSlot,
    moved: bool,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let organization = organizations::find(conn, *app.organization_id)?.ok_or(Error::NotFound)?;
    let stage_label = call
        .stages()?
        .into_iter()
        .find(|s| s.key == slot.stage)
        .map(|s| s.label);
    let about = About {
        call,
        organization: &organization,
        application: app,
    };
    let confirm_url = state.link(&format!(
        "/api/v1/applications/{}/pitch-slot/confirm",
        *app.id
    ));
    let details = |locale: &str| emails::PitchSlot {
        stage_label: stage_label
            .as_ref()
            .map_or_else(|| slot.stage.clone(), |l| localized(l, locale)),
        starts_at: format_instant(slot.starts_at.0, &call.timezone, locale),
        duration_minutes: (slot.ends_at.0 - slot.starts_at.0).num_minutes(),
        place: slot.place.clone(),
        video_url: slot.video_url.clone(),
        moved,
        confirm_url: confirm_url.clone(),
    };
    about.tell_members(conn, state, details, now)
}

/// The slot of `app` at `stage`, or at the stage it is shortlisted to when none is named.
fn slot_of(
    conn: &mut DbConn,
    app: &Application,
    stage: Option<&str>,
) -> Result<Option<PitchSlot>, Error> {
    let stage = match stage {
        Some(stage) => Some(stage.to_owned()),
        None => applications::shortlisted_for(conn, *app.id)?,
    };
    match stage {
        Some(stage) => Ok(pitch_slots::find(conn, *app.id, &stage)?),
        None => Ok(None),
    }
}

/// The pitch slot of application `id` at `stage` (by default the stage it is shortlisted to), for its
/// members and its call's staff ([`can_read_pitch_slot`]); 404 when there is none.
pub fn read(
    conn: &mut DbConn,
    caller: &Principal,
    id: Uuid,
    stage: Option<&str>,
) -> Result<PitchSlot, Error> {
    let (app, role) = load(conn, caller, id)?;
    let facts = ApplicationFacts {
        membership: role,
        juror: None,
        call: load_call_access(conn, caller, *app.call_id)?,
        draft: app.status == ApplicationStatus::Draft,
    };
    can_read_pitch_slot(caller, &facts)?;
    slot_of(conn, &app, stage)?.ok_or(Error::NotFound)
}

/// Deletes the pitch slot of application `id` at `stage` (by default the stage it is shortlisted to), for
/// its call's staff; nothing to delete is no error. The finalist is not emailed: staff set a new slot,
/// which is.
pub fn remove(
    conn: &mut DbConn,
    actor: &Principal,
    id: Uuid,
    stage: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let app = applications::find(conn, id)?.ok_or(Error::NotFound)?;
    can_schedule_pitch(actor, &staff_facts(conn, actor, &app)?)?;
    let Some(slot) = slot_of(conn, &app, stage)? else {
        return Ok(());
    };
    if pitch_slots::delete(conn, *slot.id)? {
        Happened::new(
            Action::PitchSlotDeleted,
            Some(actor.user_id),
            Entity::Application(id),
        )
        .before(json!({"stage": slot.stage, "starts_at": slot.starts_at, "ends_at": slot.ends_at}))
        .record(conn, now)?;
    }
    Ok(())
}

/// Confirms the pitch slot of application `id` at `stage` (by default the stage it is shortlisted to), for
/// its members; confirming again changes nothing. 409 `no_pitch_slot` when none was set. The confirmation
/// is on the event feed, where staff see it.
pub fn confirm(
    conn: &mut DbConn,
    caller: &Principal,
    id: Uuid,
    stage: Option<&str>,
    now: DateTime<Utc>,
) -> Result<PitchSlot, Error> {
    let (app, role) = load(conn, caller, id)?;
    can_confirm_pitch_slot(caller, role)?;
    let slot = slot_of(conn, &app, stage)?.ok_or(Refusal::NoPitchSlot)?;
    if pitch_slots::confirm(conn, *slot.id, caller.user_id, now)? {
        Happened::new(
            Action::PitchSlotConfirmed,
            Some(caller.user_id),
            Entity::Application(id),
        )
        .after(json!({"stage": slot.stage, "starts_at": slot.starts_at}))
        .on_feed(Feed::application(
            *app.call_id,
            id,
            json!({"stage": slot.stage, "starts_at": slot.starts_at, "reference": app.reference}),
        ))
        .record(conn, now)?;
    }
    pitch_slots::find(conn, id, &slot.stage)?.ok_or(Error::NotFound)
}

/// A page of the pitch slots of call `call_id` (at `stage` when given), by start time, for its staff
/// (observers included, [`observed_call`]): those after slot `after`, at most `limit`.
pub fn schedule(
    conn: &mut DbConn,
    caller: &Principal,
    call_id: Uuid,
    stage: Option<&str>,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<ScheduledSlot>, Error> {
    observed_call(conn, caller, call_id)?;
    Ok(pitch_slots::schedule(conn, call_id, stage, after, limit)?)
}
