//! Why a life-cycle transition is refused: one typed value per reason, each with the stable `code` a client
//! reads (`problem.code`) and the sentence a person reads (`problem.detail`). The API answers 409 Conflict for
//! every refusal here: the request was well-formed, the resource is not in a state that allows it.

use chrono::{DateTime, Utc};

use super::application::ApplicationStatus;
use super::pairing::PairingStatus;
use crate::error::Error;

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
    /// Changing the form, criteria or eligibility of a call once an application was submitted to it.
    FormFrozen,
    /// Recording a decision again once it was published.
    DecisionPublished,
    /// An application of a shortlist moved meanwhile (withdrawn, or shortlisted by a concurrent request).
    ApplicationChanged,
    /// Saving a review that was submitted (locked until staff reopen it).
    ReviewLocked,
    /// Submitting a review already submitted (also the second of two submissions at once).
    ReviewAlreadySubmitted,
    /// Reopening a review that is not submitted.
    ReviewNotSubmitted,
    /// The review changed between its reading and this write.
    ReviewChanged,
    /// Reviewing an application that was withdrawn.
    ApplicationWithdrawn,
    /// The stage's review deadline passed (`local`: the deadline in the call's time zone).
    ReviewDeadlinePassed { due: DateTime<Utc>, local: String },
    /// Adding someone already on the jury.
    AlreadyJuror,
    /// Assigning an application that is not in the status the stage reviews.
    NotAtStage {
        status: ApplicationStatus,
        stage: String,
        needed: ApplicationStatus,
    },
    /// Assigning a juror with a conflict of interest (or one waiting for staff).
    ConflictOfInterest,
    /// Assigning an application a juror already has for the stage.
    AlreadyAssigned,
    /// Deciding a detected conflict that is not flagged (`None`: it was decided meanwhile).
    NotFlagged(Option<&'static str>),
    /// An organization applies twice to the same call.
    AlreadyApplied,
    /// Changing the answers of an application past its draft (and not sent back for changes).
    NotEditable(ApplicationStatus),
    /// Adding or deleting a file of an application past its draft (and not sent back for changes).
    FilesLocked(ApplicationStatus),
    /// Answering a pairing that is already confirmed or declined.
    PairingSettled(PairingStatus),
    /// Another call (`other`, its slug) already has this reference prefix and edition: references would repeat.
    EditionTaken {
        prefix: String,
        edition: i32,
        other: String,
    },
    /// Jury work (jurors, assignments, reviews, ranking, shortlist) on a call without jury scoring.
    NoJuryScoring,
    /// Consent or publication for the catalogue of a call that has none.
    NoCatalogue,
    /// Publishing in the catalogue an application that was not retained.
    NotRetained(ApplicationStatus),
    /// Revising, or appealing, the decision of an application that has no published decision standing (not
    /// decided yet, or withdrawn since).
    NoPublishedDecision(ApplicationStatus),
    /// Appealing a decision of a call that takes no appeals.
    NoAppeals,
    /// Appealing after the deadline (`deadline` in the call's time zone).
    AppealWindowClosed { deadline: DateTime<Utc> },
    /// Appealing a decision already appealed, or while another appeal is open.
    AppealExists,
    /// Resolving an appeal already resolved.
    AppealResolved,
    /// A pitch slot or an extra document for an application that is not shortlisted to `stage`.
    NotShortlisted { stage: String },
    /// A pitch slot that overlaps the slot of another application (`other`, its reference) at the stage.
    SlotOverlap { other: String },
    /// Confirming a pitch slot that was not set.
    NoPitchSlot,
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
            Refusal::FormFrozen => "form_frozen",
            Refusal::DecisionPublished => "decision_published",
            Refusal::ApplicationChanged => "application_changed",
            Refusal::ReviewLocked | Refusal::ReviewAlreadySubmitted => "review_submitted",
            Refusal::ReviewNotSubmitted => "review_not_submitted",
            Refusal::ReviewChanged => "review_changed",
            Refusal::ApplicationWithdrawn => "application_withdrawn",
            Refusal::ReviewDeadlinePassed { .. } => "review_deadline_passed",
            Refusal::AlreadyJuror => "already_juror",
            Refusal::NotAtStage { .. } => "not_at_stage",
            Refusal::ConflictOfInterest => "conflict_of_interest",
            Refusal::AlreadyAssigned => "already_assigned",
            Refusal::NotFlagged(_) => "not_flagged",
            Refusal::AlreadyApplied => "already_applied",
            Refusal::NotEditable(_) | Refusal::FilesLocked(_) => "not_editable",
            Refusal::PairingSettled(_) => "pairing_settled",
            Refusal::EditionTaken { .. } => "edition_taken",
            Refusal::NoJuryScoring => "no_jury_scoring",
            Refusal::NoCatalogue => "no_catalogue",
            Refusal::NotRetained(_) => "not_retained",
            Refusal::NoPublishedDecision(_) => "no_published_decision",
            Refusal::NoAppeals => "no_appeals",
            Refusal::AppealWindowClosed { .. } => "appeal_window_closed",
            Refusal::AppealExists => "appeal_exists",
            Refusal::AppealResolved => "appeal_resolved",
            Refusal::NotShortlisted { .. } => "not_shortlisted",
            Refusal::SlotOverlap { .. } => "slot_overlap",
            Refusal::NoPitchSlot => "no_pitch_slot",
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
            Refusal::FormFrozen => "an application has been submitted: the form, criteria and eligibility can no longer change".into(),
            Refusal::DecisionPublished => "a decision in this list was already published".into(),
            Refusal::ApplicationChanged => "an application of this call changed meanwhile (withdrawn, or shortlisted by another request): read them again".into(),
            Refusal::ReviewLocked => "this review was submitted and is locked".into(),
            Refusal::ReviewAlreadySubmitted => "this review was already submitted".into(),
            Refusal::ReviewNotSubmitted => "only a submitted review can be reopened".into(),
            Refusal::ReviewChanged => "the review changed meanwhile: read it again and retry".into(),
            Refusal::ApplicationWithdrawn => {
                "the application was withdrawn: it is no longer reviewed".into()
            }
            Refusal::ReviewDeadlinePassed { due, local } => format!(
                "the reviews of this stage were due {local} ({} UTC): ask the call's team to reopen your review",
                due.format("%Y-%m-%d %H:%M"),
            ),
            Refusal::AlreadyJuror => "this person is already on the jury".into(),
            Refusal::NotAtStage {
                status,
                stage,
                needed,
            } => format!("the application is {status}: the {stage} stage reviews {needed} applications"),
            Refusal::ConflictOfInterest => "this juror has a conflict of interest with this application (or one waiting for a decision)".into(),
            Refusal::AlreadyAssigned => {
                "this juror is already assigned this application for this stage".into()
            }
            Refusal::NotFlagged(Some(status)) => {
                format!("this conflict is {status}: only a flagged conflict is decided")
            }
            Refusal::NotFlagged(None) => "this conflict was decided meanwhile".into(),
            Refusal::AlreadyApplied => "this organization already applied to this call".into(),
            Refusal::NotEditable(status) => {
                format!("the application is {status}: it can no longer be edited")
            }
            Refusal::FilesLocked(status) => {
                format!("the application is {status}: files can no longer change")
            }
            Refusal::PairingSettled(status) => format!("this pairing is already {status}"),
            Refusal::EditionTaken {
                prefix,
                edition,
                other,
            } => format!(
                "the call {other} already is the {edition} edition with the reference prefix {prefix}: choose another edition or prefix"
            ),
            Refusal::NoJuryScoring => "this call has no jury scoring: staff triage its applications (decisions retained or not_retained)".into(),
            Refusal::NoCatalogue => "this call has no catalogue".into(),
            Refusal::NotRetained(status) => {
                format!("the application is {status}: only retained applications are published in the catalogue")
            }
            Refusal::NoPublishedDecision(status) => {
                format!("the application is {status}: it has no published decision standing")
            }
            Refusal::NoAppeals => "this call takes no appeals".into(),
            Refusal::AppealWindowClosed { deadline } => format!(
                "appeals against this decision closed at {}",
                deadline.to_rfc3339()
            ),
            Refusal::AppealExists => {
                "this decision was already appealed, or an appeal is still open".into()
            }
            Refusal::AppealResolved => "this appeal was already resolved".into(),
            Refusal::NotShortlisted { stage } => {
                format!("the application is not shortlisted to the {stage} stage")
            }
            Refusal::SlotOverlap { other } => {
                format!("this slot overlaps the pitch of {other} at the same stage: choose another time")
            }
            Refusal::NoPitchSlot => "no pitch slot was set for this application yet".into(),
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.detail())
    }
}

impl From<Refusal> for Error {
    /// A refused transition is a 409 carrying the refusal's code.
    fn from(refusal: Refusal) -> Self {
        Error::refused(refusal.code(), refusal.detail())
    }
}
