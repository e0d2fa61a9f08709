//! The bodies of the meeting routes, parsed into the use cases' values (one 422 lists every problem), and
//! what the API shows of a meeting, its attendance and its items.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::input::{Check, Patch};
use crate::domain::application::ApplicationStatus;
use crate::domain::call::parse_instant;
use crate::domain::identifiers::InvalidValue;
use crate::domain::meeting::{ItemKind, MeetingStatus, Vote};
use crate::error::{Error, FieldError};
use crate::service::meetings::items::NewItem;
use crate::service::meetings::{AttendanceState, MeetingEdit, NewMeeting};
use crate::store::meetings::{Item, Meeting};

/// A text of at most `max` characters, trimmed; `required` refuses an empty one.
fn text(max: usize, required: bool) -> impl Fn(String) -> Result<String, InvalidValue> {
    move |raw| {
        let trimmed = raw.trim();
        match trimmed.chars().count() {
            0 if required => Err(InvalidValue::new("required", "this field is required")),
            n if n > max => Err(InvalidValue::new(
                "too_long",
                format!("at most {max} characters"),
            )),
            _ => Ok(trimmed.to_owned()),
        }
    }
}

/// `POST /calls/{id}/meetings`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenMeeting {
    /// The stage the meeting deliberates on, such as `written`; its ranking is kept as it stands now.
    #[schema(required = true)]
    pub stage: Option<String>,
    /// When the meeting is held (RFC 3339).
    #[schema(required = true)]
    pub held_at: Option<String>,
    #[schema(required = true)]
    pub place: Option<String>,
    #[schema(required = true)]
    pub agenda: Option<String>,
}

impl OpenMeeting {
    /// The meeting to open; a 422 listing every problem otherwise.
    pub fn parse(self, mut check: Check) -> Result<NewMeeting, Error> {
        let stage = check.required("stage", self.stage, text(64, true));
        let held_at = check.required("held_at", self.held_at.as_deref(), parse_instant);
        let place = check.required("place", self.place, text(200, true));
        let agenda = check.required("agenda", self.agenda, text(10_000, true));
        let (Some(stage), Some(held_at), Some(place), Some(agenda)) =
            (stage, held_at, place, agenda)
        else {
            return Err(check.into_error());
        };
        check.finish()?;
        Ok(NewMeeting {
            stage,
            held_at,
            place,
            agenda,
        })
    }
}

/// `PATCH /calls/{id}/meetings/{meeting_id}`: the texts to change while the meeting is open.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMeeting {
    pub held_at: Option<String>,
    pub place: Option<String>,
    pub agenda: Option<String>,
    /// What was said; `null` clears them.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub minutes: Patch<String>,
}

impl UpdateMeeting {
    /// The change, made against `if_match`; a 422 listing every problem otherwise.
    pub fn parse(self, mut check: Check, if_match: String) -> Result<MeetingEdit, Error> {
        let held_at = check.optional("held_at", self.held_at.as_deref(), parse_instant);
        let place = check.optional("place", self.place, text(200, true));
        let agenda = check.optional("agenda", self.agenda, text(10_000, true));
        let minutes = match self.minutes {
            Patch::Keep => None,
            Patch::Clear => Some(None),
            Patch::Set(raw) => check
                .optional("minutes", Some(raw), text(100_000, false))
                .map(|m| Some(m).filter(|m| !m.is_empty())),
        };
        check.finish()?;
        Ok(MeetingEdit {
            if_match,
            held_at,
            place,
            agenda,
            minutes,
        })
    }
}

/// `PUT /calls/{id}/meetings/{meeting_id}/attendance`: the whole attendance (jurors not named were absent).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttendanceBody {
    /// The user ids of the jurors present.
    #[schema(required = true)]
    pub present: Option<Vec<Uuid>>,
    /// The user ids of the jurors who sent apologies.
    pub apologies: Option<Vec<Uuid>>,
}

/// A meeting's attendance and the quorum it needs to close.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttendanceView {
    pub present: Vec<Uuid>,
    pub apologies: Vec<Uuid>,
    /// How many jurors are present.
    pub present_count: usize,
    /// How many must be: the call's `quorum`, else a majority of its jury.
    pub required: usize,
}

impl From<AttendanceState> for AttendanceView {
    fn from(a: AttendanceState) -> Self {
        AttendanceView {
            present: a.present,
            apologies: a.apologies,
            present_count: a.present_count,
            required: a.required,
        }
    }
}

/// One juror's vote in an item.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VoteBody {
    #[schema(required = true)]
    pub juror_id: Option<Uuid>,
    /// `for`, `against` or `abstain`.
    #[schema(required = true)]
    pub vote: Option<String>,
}

/// `POST …/items` (and `PUT …/items/{application_id}`, where `application_id` may be left out).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemBody {
    pub application_id: Option<Uuid>,
    /// `consensus` or `vote`.
    #[schema(required = true)]
    pub kind: Option<String>,
    /// The outcome proposed: `shortlisted` or `not_shortlisted` before the last stage; `selected`,
    /// `waitlisted` or `rejected` at the last one.
    #[schema(required = true)]
    pub outcome: Option<String>,
    /// The votes of the jurors present (a `vote` only); a juror conflicted on the application never votes.
    pub votes: Option<Vec<VoteBody>>,
    /// A juror's disagreement with the outcome, for the record.
    pub dissent: Option<String>,
    pub note: Option<String>,
}

impl ItemBody {
    /// The item for application `path_id` (a `PUT`'s path) or the body's; a 422 listing every problem
    /// otherwise (the use case adds its own to `check`, which is returned).
    pub fn parse(self, mut check: Check, path_id: Option<Uuid>) -> Result<(NewItem, Check), Error> {
        let application_id = match (path_id, self.application_id) {
            (Some(path), Some(body)) if path != body => {
                check.push(FieldError::new(
                    "application_id",
                    "mismatch",
                    "the application of the body is not the one of the path",
                ));
                None
            }
            (Some(path), _) => Some(path),
            (None, body) => check.required("application_id", body, Ok),
        };
        let kind = check.required("kind", self.kind.as_deref(), |k| {
            k.parse::<ItemKind>()
                .map_err(|_| InvalidValue::new("invalid_kind", "consensus or vote"))
        });
        let outcome = check.required("outcome", self.outcome.as_deref(), |o| {
            o.parse::<ApplicationStatus>().map_err(|_| {
                InvalidValue::new(
                    "invalid_outcome",
                    "shortlisted, not_shortlisted, selected, waitlisted or rejected",
                )
            })
        });
        let mut votes = Vec::new();
        for (i, v) in self.votes.unwrap_or_default().into_iter().enumerate() {
            let juror = check.required(&format!("votes.{i}.juror_id"), v.juror_id, Ok);
            let vote = check.required(&format!("votes.{i}.vote"), v.vote.as_deref(), |raw| {
                Vote::parse(raw)
                    .ok_or_else(|| InvalidValue::new("invalid_vote", "for, against or abstain"))
            });
            if let (Some(juror), Some(vote)) = (juror, vote) {
                votes.push((i, juror, vote));
            }
        }
        let dissent = check.optional("dissent", self.dissent, text(10_000, false));
        let note = check.optional("note", self.note, text(10_000, false));
        let (Some(application_id), Some(kind), Some(outcome)) = (application_id, kind, outcome)
        else {
            return Err(check.into_error());
        };
        let item = NewItem {
            application_id,
            kind,
            outcome,
            votes,
            dissent: dissent.filter(|d| !d.is_empty()),
            note: note.filter(|n| !n.is_empty()),
        };
        Ok((item, check))
    }
}

/// A meeting of a call (its record, with attendance, items and ranking snapshot, is `…/record`).
#[derive(Debug, Serialize, ToSchema)]
pub struct MeetingView {
    pub id: Uuid,
    pub call_id: Uuid,
    pub stage: String,
    pub held_at: DateTime<Utc>,
    pub place: String,
    pub agenda: String,
    pub minutes: Option<String>,
    pub status: MeetingStatus,
    pub version: i32,
    pub opened_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    /// Once closed: the SHA-256 (hex) of the frozen record's canonical JSON.
    pub digest: Option<String>,
}

impl From<&Meeting> for MeetingView {
    fn from(m: &Meeting) -> Self {
        MeetingView {
            id: *m.id,
            call_id: *m.call_id,
            stage: m.stage.clone(),
            held_at: m.held_at.0,
            place: m.place.clone(),
            agenda: m.agenda.clone(),
            minutes: m.minutes.clone(),
            status: m.status,
            version: m.version,
            opened_at: m.created_at.0,
            closed_at: m.closed_at.map(|t| t.0),
            digest: m.digest.clone(),
        }
    }
}

/// What a meeting decided on an application.
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemView {
    pub application_id: Uuid,
    pub kind: ItemKind,
    pub outcome: ApplicationStatus,
    /// `[{juror_id, vote}]`.
    #[schema(value_type = Vec<Object>)]
    pub votes: serde_json::Value,
    pub dissent: Option<String>,
    pub note: Option<String>,
    pub recorded_at: DateTime<Utc>,
}

impl From<&Item> for ItemView {
    fn from(i: &Item) -> Self {
        ItemView {
            application_id: *i.application_id,
            kind: i.kind,
            outcome: i.outcome,
            votes: i.votes.0.clone(),
            dissent: i.dissent.clone(),
            note: i.note.clone(),
            recorded_at: i.recorded_at.0,
        }
    }
}
