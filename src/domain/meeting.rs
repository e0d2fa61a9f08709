//! The record of a jury meeting: its life cycle (open → closed, frozen once closed), who attended, what it
//! decided on each application (by consensus or by a vote), the quorum it needs to close, and the digest
//! that seals the frozen record.
//!
//! ```text
//! open ──close (quorum reached)──► closed (frozen: every change refused)
//! ```

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::application::ApplicationStatus;
use super::names::stored_names;
use crate::error::Error;

stored_names! {
    /// Where a meeting stands.
    #[derive(Serialize, utoipa::ToSchema)]
    #[serde(rename_all = "lowercase")]
    pub enum MeetingStatus("meeting status") {
        /// Attendance, items, minutes may still change.
        Open => "open",
        /// Frozen: the record and its digest no longer change.
        Closed => "closed",
    }
}

impl MeetingStatus {
    /// Whether the meeting may still change (attendance, items, minutes, agenda); 409 `meeting_closed` once
    /// closed.
    pub fn change(self) -> Result<(), MeetingRefusal> {
        match self {
            MeetingStatus::Open => Ok(()),
            MeetingStatus::Closed => Err(MeetingRefusal::Closed),
        }
    }

    /// Closing: an open meeting whose attendance reaches the quorum (`present` jurors, `required` needed).
    pub fn close(self, present: usize, required: usize) -> Result<MeetingStatus, MeetingRefusal> {
        self.change()?;
        if present < required {
            return Err(MeetingRefusal::BelowQuorum { present, required });
        }
        Ok(MeetingStatus::Closed)
    }
}

stored_names! {
    /// How a juror of the call attended (a juror with no row was absent).
    #[derive(Serialize, utoipa::ToSchema)]
    #[serde(rename_all = "lowercase")]
    pub enum Presence("presence") {
        Present => "present",
        /// Excused.
        Apologies => "apologies",
    }
}

stored_names! {
    /// How the meeting reached its outcome on an application.
    #[derive(Serialize, utoipa::ToSchema)]
    #[serde(rename_all = "lowercase")]
    pub enum ItemKind("meeting item kind") {
        Consensus => "consensus",
        Vote => "vote",
    }
}

/// A juror's vote on an item decided by a vote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Vote {
    For,
    Against,
    Abstain,
}

impl Vote {
    /// The vote from its API name; `None` for another.
    pub fn parse(raw: &str) -> Option<Vote> {
        match raw {
            "for" => Some(Vote::For),
            "against" => Some(Vote::Against),
            "abstain" => Some(Vote::Abstain),
            _ => None,
        }
    }
}

/// Why a change to a meeting is refused (409, with its `code`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MeetingRefusal {
    /// The meeting is closed: its record is frozen.
    Closed,
    /// Closing with fewer jurors present than the quorum.
    BelowQuorum { present: usize, required: usize },
    /// `POST …/items` for an application the meeting already recorded (`PUT` replaces it).
    ItemExists { reference: String },
    /// Closing while a recorded vote is by a juror no longer marked present.
    AbsentVoter { juror: String, reference: String },
}

impl MeetingRefusal {
    /// The stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            MeetingRefusal::Closed => "meeting_closed",
            MeetingRefusal::BelowQuorum { .. } => "below_quorum",
            MeetingRefusal::ItemExists { .. } => "item_exists",
            MeetingRefusal::AbsentVoter { .. } => "absent_voter",
        }
    }

    /// Why, in a sentence.
    pub fn detail(&self) -> String {
        match self {
            MeetingRefusal::Closed => "the meeting is closed: its record is frozen".into(),
            MeetingRefusal::BelowQuorum { present, required } => format!(
                "{present} juror(s) present, {required} required by the quorum: record the attendance first"
            ),
            MeetingRefusal::ItemExists { reference } => format!(
                "the meeting already recorded application {reference}: PUT its item to replace it"
            ),
            MeetingRefusal::AbsentVoter { juror, reference } => format!(
                "{juror} voted on application {reference} but is not marked present"
            ),
        }
    }
}

impl From<MeetingRefusal> for Error {
    fn from(refusal: MeetingRefusal) -> Self {
        Error::refused(refusal.code(), refusal.detail())
    }
}

/// How many of the call's `jurors` must be present: the call's `quorum`, else a majority of the jury.
pub fn required_quorum(quorum: Option<i32>, jurors: usize) -> usize {
    match quorum {
        Some(q) => usize::try_from(q).unwrap_or(usize::MAX),
        None => jurors / 2 + 1,
    }
}

/// Whether `outcome` is one a meeting on a stage may propose: shortlisted or not for a stage with another
/// after it, selected, waitlisted or rejected for the last one.
pub fn outcome_fits(outcome: ApplicationStatus, last_stage: bool) -> bool {
    if last_stage {
        matches!(
            outcome,
            ApplicationStatus::Selected
                | ApplicationStatus::Waitlisted
                | ApplicationStatus::Rejected
        )
    } else {
        matches!(
            outcome,
            ApplicationStatus::Shortlisted | ApplicationStatus::NotShortlisted
        )
    }
}

/// The canonical JSON text of `value`: object keys sorted (by their UTF-8 bytes), no whitespace, strings
/// and numbers as `serde_json` writes them. The same value always gives the same text.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(&map[key], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// The digest that seals a frozen record: the lower-case hex SHA-256 of its canonical JSON text.
pub fn digest(canonical: &str) -> String {
    hex::encode(Sha256::digest(canonical.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_meeting_closes_once_with_its_quorum_and_is_frozen_after() {
        assert_eq!(
            MeetingStatus::Open.close(2, 3),
            Err(MeetingRefusal::BelowQuorum {
                present: 2,
                required: 3
            })
        );
        assert_eq!(MeetingStatus::Open.close(3, 3), Ok(MeetingStatus::Closed));
        assert_eq!(
            MeetingStatus::Closed.close(5, 3),
            Err(MeetingRefusal::Closed)
        );
        assert!(MeetingStatus::Open.change().is_ok());
        assert_eq!(
            MeetingStatus::Closed.change().unwrap_err().code(),
            "meeting_closed"
        );
        for status in MeetingStatus::ALL {
            assert_eq!(status.as_str().parse::<MeetingStatus>(), Ok(*status));
        }
        assert!("adjourned".parse::<MeetingStatus>().is_err());
    }

    #[test]
    fn without_a_quorum_of_its_own_a_call_needs_a_majority_of_its_jury() {
        assert_eq!(required_quorum(None, 0), 1);
        assert_eq!(required_quorum(None, 3), 2);
        assert_eq!(required_quorum(None, 4), 3);
        assert_eq!(required_quorum(Some(2), 10), 2);
    }

    #[test]
    fn the_outcome_proposed_depends_on_whether_the_stage_is_the_last() {
        assert!(outcome_fits(ApplicationStatus::Selected, true));
        assert!(!outcome_fits(ApplicationStatus::Shortlisted, true));
        assert!(outcome_fits(ApplicationStatus::NotShortlisted, false));
        assert!(!outcome_fits(ApplicationStatus::Rejected, false));
        assert!(!outcome_fits(ApplicationStatus::Eligible, false));
    }

    #[test]
    fn canonical_json_sorts_keys_at_every_depth_and_the_digest_follows_the_text() {
        let value = json!({"b": [{"z": 1, "a": "é\"<"}], "a": null, "c": 72.5});
        let text = canonical_json(&value);
        assert_eq!(text, r#"{"a":null,"b":[{"a":"é\"<","z":1}],"c":72.5}"#);
        assert_eq!(digest(&text).len(), 64);
        assert_eq!(
            digest(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
