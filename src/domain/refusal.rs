//! Why a life-cycle transition is refused: one typed value per reason, each with the stable `code` a client
//! reads (`problem.code`) and the sentence a person reads (`problem.detail`). The API answers 409 Conflict for
//! every refusal here: the request was well-formed, the resource is not in a state that allows it.

use chrono::{DateTime, Utc};

use super::application::ApplicationStatus;
use super::pairing::PairingStatus;

/// A refused transition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The call does not accept applications now (not published, or not open on the server clock).
    CallNotOpen,
    /// A draft is submitted after the call closed.
    CallClosed { closes_at: DateTime<Utc> },
    /// Requested changes are resubmitted after their due date.
    ChangesOverdue,
    /// The application is past submission.
    AlreadySubmitted(ApplicationStatus),
    /// The application has a published decision or was withdrawn.
    NotWithdrawable(ApplicationStatus),
    /// Screening an application that is not `submitted`.
    NotAwaitingScreening(ApplicationStatus),
    /// Someone else changed the resource between its read and this write.
    ChangedMeanwhile,
    /// Publishing a call that is not a draft.
    CallNotDraft,
    /// An organization applies twice to the same call.
    AlreadyApplied,
    /// Changing the answers of an application past its draft (and not sent back for changes).
    NotEditable(ApplicationStatus),
    /// Adding or deleting a file of an application past its draft (and not sent back for changes).
    FilesLocked(ApplicationStatus),
    /// Answering a pairing that is already confirmed or declined.
    PairingSettled(PairingStatus),
}

impl Refusal {
    /// The stable machine code of the refusal.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::CallNotOpen => "call_not_open",
            Refusal::CallClosed { .. } => "call_closed",
            Refusal::ChangesOverdue => "changes_overdue",
            Refusal::AlreadySubmitted(_) => "already_submitted",
            Refusal::NotWithdrawable(_) => "not_withdrawable",
            Refusal::NotAwaitingScreening(_) => "not_awaiting_screening",
            Refusal::ChangedMeanwhile => "changed_meanwhile",
            Refusal::CallNotDraft => "call_not_draft",
            Refusal::AlreadyApplied => "already_applied",
            Refusal::NotEditable(_) | Refusal::FilesLocked(_) => "not_editable",
            Refusal::PairingSettled(_) => "pairing_settled",
        }
    }

    /// Why, in a sentence.
    pub fn detail(&self) -> String {
        match self {
            Refusal::CallNotOpen => "this call is not open for applications".into(),
            Refusal::CallClosed { closes_at } => {
                format!("the call closed at {}", closes_at.to_rfc3339())
            }
            Refusal::ChangesOverdue => {
                "the changes were due earlier: contact the call's team".into()
            }
            Refusal::AlreadySubmitted(status) => {
                format!("the application is {status}: it was already submitted")
            }
            Refusal::NotWithdrawable(status) => {
                format!("the application is {status}: it can no longer be withdrawn")
            }
            Refusal::NotAwaitingScreening(status) => {
                format!("the application is {status}: only submitted applications are screened")
            }
            Refusal::ChangedMeanwhile => "it changed meanwhile: read it again and retry".into(),
            Refusal::CallNotDraft => "only a draft call can be published".into(),
            Refusal::AlreadyApplied => "this organization already applied to this call".into(),
            Refusal::NotEditable(status) => {
                format!("the application is {status}: it can no longer be edited")
            }
            Refusal::FilesLocked(status) => {
                format!("the application is {status}: files can no longer change")
            }
            Refusal::PairingSettled(status) => format!("this pairing is already {status}"),
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.detail())
    }
}
