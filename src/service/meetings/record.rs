//! The record of a meeting as one JSON document: the meeting, the quorum, every juror's attendance, the
//! ranking snapshot, the items with their votes and dissent, the minutes and the decisions linked at
//! closing. Closing freezes this document (its canonical text and digest); until then it is built afresh.

use std::collections::BTreeMap;

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::db::DbConn;
use crate::domain::form::Text;
use crate::domain::meeting::{self, ItemKind, MeetingStatus, Presence, Vote};
use crate::domain::ranking::RankedApplication;
use crate::error::Error;
use crate::store::calls::{stored, Call};
use crate::store::jurors;
use crate::store::meetings::{self, Meeting};

/// One line of the ranking snapshot taken when the meeting opened (as `GET /calls/{id}/ranking` shows it).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RankedLine {
    pub application_id: Uuid,
    pub reference: Option<String>,
    pub n_reviews: usize,
    /// The weighted mean on 0–100.
    pub score: Option<f64>,
    pub normalized_score: Option<f64>,
    pub criteria: BTreeMap<String, f64>,
    pub stddev: Option<f64>,
    pub disagreement: bool,
}

impl From<(RankedApplication, Option<String>)> for RankedLine {
    fn from((r, reference): (RankedApplication, Option<String>)) -> Self {
        RankedLine {
            application_id: r.application,
            reference,
            n_reviews: r.n_reviews,
            score: r.score,
            normalized_score: r.normalized_score,
            criteria: r.criteria,
            stddev: r.stddev,
            disagreement: r.disagreement,
        }
    }
}

/// The quorum of the meeting.
#[derive(Debug, Serialize, ToSchema)]
pub struct QuorumLine {
    /// Jurors of the call.
    pub jurors: usize,
    /// Jurors present.
    pub present: usize,
    /// Jurors needed: the call's `quorum`, else a majority of its jury.
    pub required: usize,
    /// `call` (the call's own quorum) or `majority`.
    pub rule: String,
}

/// A juror and how they attended: `present`, `apologies` or `absent`.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttendanceLine {
    pub juror_id: Uuid,
    pub display_name: String,
    pub presence: String,
}

/// One vote of an item.
#[derive(Debug, Serialize, ToSchema)]
pub struct VoteLine {
    pub juror_id: Uuid,
    pub display_name: String,
    pub vote: Vote,
}

/// The count of an item's votes.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct Tally {
    #[serde(rename = "for")]
    pub for_: usize,
    pub against: usize,
    pub abstain: usize,
}

/// What the meeting decided on one application.
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemLine {
    pub application_id: Uuid,
    pub reference: Option<String>,
    /// The applicant organization's name.
    pub organization: String,
    pub kind: ItemKind,
    /// The outcome proposed: `shortlisted`/`not_shortlisted`, or `selected`/`waitlisted`/`rejected` at the
    /// last stage.
    pub outcome: String,
    pub votes: Vec<VoteLine>,
    pub tally: Tally,
    pub dissent: Option<String>,
    pub note: Option<String>,
    pub recorded_at: DateTime<Utc>,
}

/// A decision the meeting produced, as it stood at closing.
#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionLine {
    pub application_id: Uuid,
    pub outcome: String,
    pub published: bool,
}

/// The record of a meeting. Once closed it is frozen: `digest` is the SHA-256 (hex) of the canonical JSON
/// (keys sorted, no whitespace) of this document without `digest`.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeetingRecord {
    pub meeting_id: Uuid,
    pub call_id: Uuid,
    /// The call's title in French (authoritative) and English.
    pub call_title: Text,
    pub stage: String,
    pub status: MeetingStatus,
    pub held_at: DateTime<Utc>,
    pub place: String,
    pub agenda: String,
    pub minutes: Option<String>,
    pub quorum: QuorumLine,
    pub attendance: Vec<AttendanceLine>,
    pub ranking: Vec<RankedLine>,
    pub items: Vec<ItemLine>,
    /// Linked when the meeting closed (empty before).
    pub decisions: Vec<DecisionLine>,
    pub opened_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    /// Who closed it (display name).
    pub closed_by: Option<String>,
    pub digest: Option<String>,
}

/// A stored vote: `{juror_id, vote}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredVote {
    pub juror_id: Uuid,
    pub vote: Vote,
}

/// The votes of an item as stored.
pub fn stored_votes(item: &meetings::Item) -> Result<Vec<StoredVote>, Error> {
    Ok(serde_json::from_value(item.votes.0.clone()).context("reading a meeting item's votes")?)
}

/// The record of `meeting` (of `call`) as it stands, as a JSON value with `digest: null`.
pub fn build(conn: &mut DbConn, call: &Call, meeting: &Meeting) -> Result<Value, Error> {
    let id = *meeting.id;
    let jury = jurors::jurors(conn, *call.id).context("loading the jury")?;
    let attendance = meetings::attendance_of(conn, id)?;
    let items = meetings::items_of(conn, id)?;
    let mut people: Vec<Uuid> = attendance.keys().copied().collect();
    people.extend(meeting.closed_by.map(|u| *u));
    let mut votes = Vec::new();
    for item in &items {
        let item_votes = stored_votes(item)?;
        people.extend(item_votes.iter().map(|v| v.juror_id));
        votes.push(item_votes);
    }
    let names = meetings::display_names(conn, &people)?;
    let name = |id: &Uuid| names.get(id).cloned().unwrap_or_else(|| id.to_string());
    let mut lines: Vec<AttendanceLine> = jury
        .iter()
        .map(|j| AttendanceLine {
            juror_id: *j.user_id,
            display_name: j.display_name.clone(),
            presence: presence_name(attendance.get(&j.user_id).copied()),
        })
        .collect();
    // Someone who attended and has since left the jury stays on the record.
    let mut former: Vec<(&Uuid, &Presence)> = attendance
        .iter()
        .filter(|(u, _)| !jury.iter().any(|j| *j.user_id == **u))
        .collect();
    former.sort_by_key(|(u, _)| **u);
    lines.extend(former.into_iter().map(|(u, p)| AttendanceLine {
        juror_id: *u,
        display_name: name(u),
        presence: presence_name(Some(*p)),
    }));
    let present = lines.iter().filter(|l| l.presence == "present").count();
    let app_ids: Vec<Uuid> = items.iter().map(|i| *i.application_id).collect();
    let labels = meetings::application_labels(conn, &app_ids)?;
    let item_lines = items
        .iter()
        .zip(votes)
        .map(|(item, votes)| {
            let (reference, organization) = labels
                .get(&item.application_id)
                .cloned()
                .unwrap_or_default();
            let mut tally = Tally::default();
            for v in &votes {
                match v.vote {
                    Vote::For => tally.for_ += 1,
                    Vote::Against => tally.against += 1,
                    Vote::Abstain => tally.abstain += 1,
                }
            }
            ItemLine {
                application_id: *item.application_id,
                reference,
                organization,
                kind: item.kind,
                outcome: item.outcome.as_str().to_owned(),
                votes: votes
                    .iter()
                    .map(|v| VoteLine {
                        juror_id: v.juror_id,
                        display_name: name(&v.juror_id),
                        vote: v.vote,
                    })
                    .collect(),
                tally,
                dissent: item.dissent.clone(),
                note: item.note.clone(),
                recorded_at: item.recorded_at.0,
            }
        })
        .collect();
    let decisions = meetings::decisions_of(conn, id)?
        .into_iter()
        .map(|d| DecisionLine {
            application_id: *d.application_id,
            outcome: d.outcome,
            published: d.published,
        })
        .collect();
    let record = MeetingRecord {
        meeting_id: id,
        call_id: *call.id,
        call_title: stored(&call.title)?,
        stage: meeting.stage.clone(),
        status: meeting.status,
        held_at: meeting.held_at.0,
        place: meeting.place.clone(),
        agenda: meeting.agenda.clone(),
        minutes: meeting.minutes.clone(),
        quorum: QuorumLine {
            jurors: jury.len(),
            present,
            required: meeting::required_quorum(call.quorum, jury.len()),
            rule: if call.quorum.is_some() {
                "call"
            } else {
                "majority"
            }
            .into(),
        },
        attendance: lines,
        ranking: stored(&meeting.ranking)?,
        items: item_lines,
        decisions,
        opened_at: meeting.created_at.0,
        closed_at: meeting.closed_at.map(|t| t.0),
        closed_by: meeting.closed_by.map(|u| name(&u)),
        digest: None,
    };
    Ok(serde_json::to_value(&record).context("the meeting record as JSON")?)
}

/// How a juror attended, by name.
fn presence_name(presence: Option<Presence>) -> String {
    presence.map_or("absent", |p| p.as_str()).to_owned()
}
