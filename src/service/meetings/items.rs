//! What a meeting decided on each application: one item per application, reached by consensus or by a
//! vote of the jurors present. A juror with a conflict of interest on the application never votes on it
//! (422 `conflicted_juror`, naming them and the application).

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;

use super::record::{stored_votes, StoredVote};
use super::{meeting_of, recording_call};
use crate::auth::permissions::Principal;
use crate::db::types::{Json, Ts, Uid};
use crate::db::DbConn;
use crate::domain::action::Action;
use crate::domain::application::ApplicationStatus;
use crate::domain::check::Check;
use crate::domain::meeting::{outcome_fits, ItemKind, MeetingRefusal, Presence, Vote};
use crate::error::{Error, FieldError};
use crate::store::journal::{Entity, Happened};
use crate::store::meetings::{self, Item};
use crate::store::{applications, conflicts, jurors};

/// An item to record, parsed.
#[derive(Debug, Clone)]
pub struct NewItem {
    pub application_id: Uuid,
    pub kind: ItemKind,
    pub outcome: ApplicationStatus,
    /// Each vote with its index in the request, for its 422.
    pub votes: Vec<(usize, Uuid, Vote)>,
    pub dissent: Option<String>,
    pub note: Option<String>,
}

/// Whether a `POST` creates the item (409 `item_exists` when the application already has one) or a `PUT`
/// creates or replaces it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Write {
    Create,
    Replace,
}

/// Records what an open meeting decided on an application. 422 (with the problems already in `check`) when
/// the application is not one the meeting's stage decides, the outcome does not fit the stage, a vote is
/// missing for a `vote` or given for a `consensus`, or a voter is not a juror of the call, not present,
/// named twice, or conflicted on the application (`conflicted_juror`, naming the juror and the
/// application's reference).
#[allow(clippy::too_many_arguments)]
pub fn record(
    conn: &mut DbConn,
    actor: &Principal,
    call_id: Uuid,
    meeting_id: Uuid,
    item: NewItem,
    write: Write,
    mut check: Check,
    now: DateTime<Utc>,
) -> Result<Item, Error> {
    let call = recording_call(conn, actor, call_id)?;
    let meeting = meeting_of(conn, call_id, meeting_id)?;
    meeting.status.change()?;
    let stages = call.stages()?;
    let stage_index = stages
        .iter()
        .position(|s| s.key == meeting.stage)
        .context("the meeting's stage is no longer one of the call")?;
    let last_stage = stage_index + 1 == stages.len();
    let application =
        applications::find(conn, item.application_id)?.filter(|a| *a.call_id == call_id);
    let reference = application
        .as_ref()
        .and_then(|a| a.reference.clone())
        .unwrap_or_else(|| item.application_id.to_string());
    match &application {
        None => check.push(FieldError::new(
            "application_id",
            "not_in_call",
            "not an application of this call",
        )),
        Some(app) => {
            let at_stage = app.status == ApplicationStatus::reviewed_at_stage(stage_index)
                || outcome_fits(app.status, last_stage);
            if !at_stage {
                check.push(FieldError::new(
                    "application_id",
                    "not_at_stage",
                    format!(
                        "the application is {}: the {} stage does not decide it",
                        app.status, meeting.stage
                    ),
                ));
            }
        }
    }
    if !outcome_fits(item.outcome, last_stage) {
        check.push(FieldError::new(
            "outcome",
            "outcome_not_for_stage",
            if last_stage {
                "selected, waitlisted or rejected at the last stage"
            } else {
                "shortlisted or not_shortlisted before the last stage"
            },
        ));
    }
    match (item.kind, item.votes.is_empty()) {
        (ItemKind::Vote, true) => check.push(FieldError::new(
            "votes",
            "required",
            "a vote lists the jurors' votes",
        )),
        (ItemKind::Consensus, false) => check.push(FieldError::new(
            "votes",
            "not_for_consensus",
            "a consensus has no votes: record a vote instead",
        )),
        _ => {}
    }
    check_voters(conn, call_id, meeting_id, &item, &reference, &mut check)?;
    check.finish()?;
    if write == Write::Create
        && meetings::find_item(conn, meeting_id, item.application_id)?.is_some()
    {
        return Err(MeetingRefusal::ItemExists { reference }.into());
    }
    if !meetings::touch(conn, meeting_id, now)? {
        return Err(MeetingRefusal::Closed.into());
    }
    let votes: Vec<StoredVote> = item
        .votes
        .iter()
        .map(|(_, juror_id, vote)| StoredVote {
            juror_id: *juror_id,
            vote: *vote,
        })
        .collect();
    let stored = Item {
        meeting_id: Uid(meeting_id),
        application_id: Uid(item.application_id),
        kind: item.kind,
        outcome: item.outcome,
        votes: Json(json!(votes)),
        dissent: item.dissent,
        note: item.note,
        recorded_by: Some(Uid(actor.user_id)),
        recorded_at: Ts(now),
    };
    meetings::put_item(conn, &stored)?;
    Happened::new(
        Action::MeetingItemRecorded,
        Some(actor.user_id),
        Entity::Meeting(meeting_id),
    )
    .after(json!({"application_id": item.application_id, "kind": item.kind, "outcome": item.outcome, "votes": votes}))
    .record(conn, now)?;
    Ok(stored)
}

/// Notes every voter who is not a juror of the call, not present, named twice, or conflicted on the
/// application.
fn check_voters(
    conn: &mut DbConn,
    call_id: Uuid,
    meeting_id: Uuid,
    item: &NewItem,
    reference: &str,
    check: &mut Check,
) -> Result<(), Error> {
    if item.votes.is_empty() {
        return Ok(());
    }
    let jury = jurors::jurors(conn, call_id).context("loading the jury")?;
    let attendance = meetings::attendance_of(conn, meeting_id)?;
    let mut seen: Vec<Uuid> = Vec::new();
    for (index, juror_id, _) in &item.votes {
        let field = format!("votes.{index}.juror_id");
        let Some(juror) = jury.iter().find(|j| *j.user_id == *juror_id) else {
            check.push(FieldError::new(
                field,
                "not_a_juror",
                "not a juror of this call",
            ));
            continue;
        };
        if seen.contains(juror_id) {
            check.push(FieldError::new(
                field,
                "duplicate",
                "this juror already voted",
            ));
            continue;
        }
        seen.push(*juror_id);
        if conflicts::is_conflicted(conn, call_id, item.application_id, *juror_id)? {
            check.push(FieldError::new(
                field,
                "conflicted_juror",
                format!(
                    "{} has a conflict of interest with application {reference} and does not vote on it",
                    juror.display_name
                ),
            ));
        } else if attendance.get(juror_id) != Some(&Presence::Present) {
            check.push(FieldError::new(
                field,
                "voter_not_present",
                format!(
                    "{} is not marked present at this meeting",
                    juror.display_name
                ),
            ));
        }
    }
    Ok(())
}

/// 409 `absent_voter` when a recorded vote of the meeting is by a juror no longer marked present (the
/// attendance changed after the vote).
pub fn voters_are_present(conn: &mut DbConn, meeting_id: Uuid) -> Result<(), Error> {
    let attendance = meetings::attendance_of(conn, meeting_id)?;
    for item in meetings::items_of(conn, meeting_id)? {
        for vote in stored_votes(&item)? {
            if attendance.get(&vote.juror_id) != Some(&Presence::Present) {
                let names = meetings::display_names(conn, &[vote.juror_id])?;
                let labels = meetings::application_labels(conn, &[*item.application_id])?;
                return Err(MeetingRefusal::AbsentVoter {
                    juror: names
                        .get(&vote.juror_id)
                        .cloned()
                        .unwrap_or_else(|| vote.juror_id.to_string()),
                    reference: labels
                        .get(&item.application_id)
                        .and_then(|(r, _)| r.clone())
                        .unwrap_or_else(|| item.application_id.to_string()),
                }
                .into());
            }
        }
    }
    Ok(())
}
