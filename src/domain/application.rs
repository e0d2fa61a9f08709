//! The life cycle of an application: its statuses and the transitions between them, each a function of what
//! it needs (the call's state, a due date, the stage) that returns the new status or a typed refusal.
//!
//! ```text
//! draft → submitted ⇄ changes_requested
//! submitted → eligible | ineligible
//! eligible → shortlisted | not_shortlisted (multi-stage calls) → selected | waitlisted | rejected
//! eligible → retained | not_retained (expressions of interest: staff triage, no jury)
//! withdrawn from any state before a published decision, and after it by a laureate (selected, waitlisted,
//! retained)
//! selected | waitlisted | rejected | retained | not_retained → (revised by staff) another of these
//! ```

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::refusal::Refusal;

/// Where an application stands.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    ToSchema,
    diesel::AsExpression,
    diesel::FromSqlRow,
)]
#[serde(rename_all = "snake_case")]
#[diesel(sql_type = diesel::sql_types::Text)]
pub enum ApplicationStatus {
    Draft,
    Submitted,
    ChangesRequested,
    Eligible,
    Ineligible,
    Shortlisted,
    NotShortlisted,
    Selected,
    Waitlisted,
    Rejected,
    Withdrawn,
    /// Retained by staff's triage of an expression of interest (final).
    Retained,
    /// Not retained by staff's triage of an expression of interest (final).
    NotRetained,
}

impl ApplicationStatus {
    /// Every status, for filters.
    pub const ALL: [ApplicationStatus; 13] = [
        ApplicationStatus::Draft,
        ApplicationStatus::Submitted,
        ApplicationStatus::ChangesRequested,
        ApplicationStatus::Eligible,
        ApplicationStatus::Ineligible,
        ApplicationStatus::Shortlisted,
        ApplicationStatus::NotShortlisted,
        ApplicationStatus::Selected,
        ApplicationStatus::Waitlisted,
        ApplicationStatus::Rejected,
        ApplicationStatus::Withdrawn,
        ApplicationStatus::Retained,
        ApplicationStatus::NotRetained,
    ];

    /// The status's name in the API and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            ApplicationStatus::Draft => "draft",
            ApplicationStatus::Submitted => "submitted",
            ApplicationStatus::ChangesRequested => "changes_requested",
            ApplicationStatus::Eligible => "eligible",
            ApplicationStatus::Ineligible => "ineligible",
            ApplicationStatus::Shortlisted => "shortlisted",
            ApplicationStatus::NotShortlisted => "not_shortlisted",
            ApplicationStatus::Selected => "selected",
            ApplicationStatus::Waitlisted => "waitlisted",
            ApplicationStatus::Rejected => "rejected",
            ApplicationStatus::Withdrawn => "withdrawn",
            ApplicationStatus::Retained => "retained",
            ApplicationStatus::NotRetained => "not_retained",
        }
    }

    /// Whether the applicant may still change answers and files.
    pub fn is_editable(self) -> bool {
        matches!(
            self,
            ApplicationStatus::Draft | ApplicationStatus::ChangesRequested
        )
    }

    /// Whether nothing changes any more: a published decision, or a withdrawal.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            ApplicationStatus::Selected
                | ApplicationStatus::Waitlisted
                | ApplicationStatus::Rejected
                | ApplicationStatus::Withdrawn
                | ApplicationStatus::Retained
                | ApplicationStatus::NotRetained
        )
    }

    /// Whether staff may show the application in its call's catalogue: only a retained one.
    pub fn may_be_catalogued(self) -> Result<(), Refusal> {
        match self {
            ApplicationStatus::Retained => Ok(()),
            other => Err(Refusal::NotRetained(other)),
        }
    }

    /// Whether the application was withdrawn (it is no longer reviewed, ranked or decided).
    pub fn is_withdrawn(self) -> bool {
        self == ApplicationStatus::Withdrawn
    }

    /// The status an application needs to be reviewed at the stage of index `stage` (0 for the first):
    /// eligible for the first stage, shortlisted after.
    pub fn reviewed_at_stage(stage: usize) -> ApplicationStatus {
        if stage == 0 {
            ApplicationStatus::Eligible
        } else {
            ApplicationStatus::Shortlisted
        }
    }

    /// The status of the applications a call with `stage_count` stages decides on: the shortlisted ones of a
    /// multi-stage call's last stage, the eligible ones of a single-stage call.
    pub fn decidable(stage_count: usize) -> ApplicationStatus {
        if stage_count > 1 {
            ApplicationStatus::Shortlisted
        } else {
            ApplicationStatus::Eligible
        }
    }

    /// Submitting: a draft while the call accepts applications, an application whose changes were requested
    /// until their due date.
    pub fn submit(self, window: SubmitWindow) -> Result<ApplicationStatus, Refusal> {
        match self {
            ApplicationStatus::Draft if !window.call_accepts => Err(Refusal::CallClosed {
                closes_at: window.closes_at,
            }),
            ApplicationStatus::ChangesRequested
                if window.changes_due_at.is_some_and(|due| window.now > due) =>
            {
                Err(Refusal::ChangesOverdue)
            }
            ApplicationStatus::Draft | ApplicationStatus::ChangesRequested => {
                Ok(ApplicationStatus::Submitted)
            }
            other => Err(Refusal::AlreadySubmitted(other)),
        }
    }

    /// Withdrawing: any time before a published decision; after it, only an application the decision kept
    /// (selected, waitlisted or retained: a laureate who drops out frees a place). A rejected, not retained
    /// or already withdrawn application stays as it is.
    pub fn withdraw(self) -> Result<ApplicationStatus, Refusal> {
        let kept_by_decision = matches!(
            self,
            ApplicationStatus::Selected
                | ApplicationStatus::Waitlisted
                | ApplicationStatus::Retained
        );
        if self.is_final() && !kept_by_decision {
            Err(Refusal::NotWithdrawable(self))
        } else {
            Ok(ApplicationStatus::Withdrawn)
        }
    }

    /// The outcome of the published decision the status shows, if it shows one.
    pub fn published_outcome(self) -> Option<DecisionOutcome> {
        DecisionOutcome::ALL
            .into_iter()
            .find(|o| o.status() == self)
    }

    /// Revising a published decision: the application takes the new outcome's status. Only an application
    /// whose status is a published decision is revised (not one withdrawn since, nor one still undecided).
    pub fn revise(self, to: DecisionOutcome) -> Result<ApplicationStatus, Refusal> {
        match self.published_outcome() {
            Some(_) => Ok(to.status()),
            None => Err(Refusal::NoPublishedDecision(self)),
        }
    }

    /// Screening: only a submitted application is screened.
    pub fn screen(self, outcome: ScreeningOutcome) -> Result<ApplicationStatus, Refusal> {
        if self != ApplicationStatus::Submitted {
            return Err(Refusal::NotAwaitingScreening(self));
        }
        Ok(match outcome {
            ScreeningOutcome::Eligible => ApplicationStatus::Eligible,
            ScreeningOutcome::Ineligible => ApplicationStatus::Ineligible,
            ScreeningOutcome::ChangesRequested => ApplicationStatus::ChangesRequested,
        })
    }

    /// The status a candidate of a shortlist takes: kept candidates are shortlisted; the others are left out
    /// (`not_shortlisted`) at the first shortlist, and stay shortlisted at a later one (`None`: no change).
    pub fn shortlist(self, kept: bool) -> Option<ApplicationStatus> {
        match (kept, self) {
            (true, _) => Some(ApplicationStatus::Shortlisted),
            (false, ApplicationStatus::Eligible) => Some(ApplicationStatus::NotShortlisted),
            (false, _) => None,
        }
    }
}

impl std::fmt::Display for ApplicationStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ApplicationStatus {
    type Err = String;

    /// The status of its stored name; an unknown name is an error, never a default.
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        ApplicationStatus::ALL
            .into_iter()
            .find(|s| s.as_str() == name)
            .ok_or_else(|| format!("unknown application status `{name}`"))
    }
}

/// What decides whether an application may be submitted now.
#[derive(Debug, Clone, Copy)]
pub struct SubmitWindow {
    /// The call is published and open on the server clock.
    pub call_accepts: bool,
    /// When the call closes (for the refusal).
    pub closes_at: DateTime<Utc>,
    /// Until when changes requested at screening may be resubmitted.
    pub changes_due_at: Option<DateTime<Utc>>,
    pub now: DateTime<Utc>,
}

/// Staff's screening outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ScreeningOutcome {
    Eligible,
    Ineligible,
    ChangesRequested,
}

impl ScreeningOutcome {
    /// The outcome's name in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            ScreeningOutcome::Eligible => "eligible",
            ScreeningOutcome::Ineligible => "ineligible",
            ScreeningOutcome::ChangesRequested => "changes_requested",
        }
    }

    /// Whether the applicant must be told why (ineligible, changes requested).
    pub fn needs_reason(self) -> bool {
        self != ScreeningOutcome::Eligible
    }
}

impl std::str::FromStr for ScreeningOutcome {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name {
            "eligible" => Ok(ScreeningOutcome::Eligible),
            "ineligible" => Ok(ScreeningOutcome::Ineligible),
            "changes_requested" => Ok(ScreeningOutcome::ChangesRequested),
            other => Err(format!("unknown screening outcome `{other}`")),
        }
    }
}

/// The decision on an application, final once published: the jury's (selected, waitlisted, rejected), or
/// staff's triage of an expression of interest (retained, not retained).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    ToSchema,
    diesel::AsExpression,
    diesel::FromSqlRow,
)]
#[serde(rename_all = "snake_case")]
#[diesel(sql_type = diesel::sql_types::Text)]
pub enum DecisionOutcome {
    Selected,
    Waitlisted,
    Rejected,
    Retained,
    NotRetained,
}

impl DecisionOutcome {
    /// Every outcome.
    pub const ALL: [DecisionOutcome; 5] = [
        DecisionOutcome::Selected,
        DecisionOutcome::Waitlisted,
        DecisionOutcome::Rejected,
        DecisionOutcome::Retained,
        DecisionOutcome::NotRetained,
    ];

    /// The outcome's name in the API and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            DecisionOutcome::Selected => "selected",
            DecisionOutcome::Waitlisted => "waitlisted",
            DecisionOutcome::Rejected => "rejected",
            DecisionOutcome::Retained => "retained",
            DecisionOutcome::NotRetained => "not_retained",
        }
    }

    /// Whether this outcome ends an expression of interest (retained, not retained) rather than a call
    /// with a jury (selected, waitlisted, rejected).
    pub fn is_triage(self) -> bool {
        matches!(
            self,
            DecisionOutcome::Retained | DecisionOutcome::NotRetained
        )
    }

    /// The application's status once the decision is published.
    pub fn status(self) -> ApplicationStatus {
        match self {
            DecisionOutcome::Selected => ApplicationStatus::Selected,
            DecisionOutcome::Waitlisted => ApplicationStatus::Waitlisted,
            DecisionOutcome::Rejected => ApplicationStatus::Rejected,
            DecisionOutcome::Retained => ApplicationStatus::Retained,
            DecisionOutcome::NotRetained => ApplicationStatus::NotRetained,
        }
    }
}

impl std::fmt::Display for DecisionOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for DecisionOutcome {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        DecisionOutcome::ALL
            .into_iter()
            .find(|o| o.as_str() == name)
            .ok_or_else(|| format!("unknown decision outcome `{name}`"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use ApplicationStatus::*;

    fn at(hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 2, 3, hour, 0, 0).unwrap()
    }

    fn window(call_accepts: bool, changes_due_at: Option<DateTime<Utc>>) -> SubmitWindow {
        SubmitWindow {
            call_accepts,
            closes_at: at(12),
            changes_due_at,
            now: at(10),
        }
    }

    #[test]
    fn statuses_parse_strictly_and_round_trip() {
        for status in ApplicationStatus::ALL {
            assert_eq!(status.as_str().parse::<ApplicationStatus>(), Ok(status));
            assert_eq!(
                serde_json::to_value(status).unwrap(),
                serde_json::json!(status.as_str())
            );
        }
        assert!("Draft".parse::<ApplicationStatus>().is_err());
        assert!("".parse::<ApplicationStatus>().is_err());
    }

    #[test]
    fn a_draft_is_submitted_only_while_the_call_accepts_applications() {
        assert_eq!(Draft.submit(window(true, None)), Ok(Submitted));
        assert_eq!(
            Draft.submit(window(false, None)),
            Err(Refusal::CallClosed { closes_at: at(12) })
        );
    }

    #[test]
    fn requested_changes_are_resubmitted_until_their_due_date_even_after_closing() {
        assert_eq!(
            ChangesRequested.submit(window(false, Some(at(10)))),
            Ok(Submitted)
        );
        assert_eq!(
            ChangesRequested.submit(window(true, Some(at(9)))),
            Err(Refusal::ChangesOverdue)
        );
    }

    #[test]
    fn nothing_else_is_submitted_twice() {
        for status in ApplicationStatus::ALL {
            if !status.is_editable() {
                assert_eq!(
                    status.submit(window(true, None)),
                    Err(Refusal::AlreadySubmitted(status))
                );
            }
        }
    }

    #[test]
    fn withdrawal_is_possible_until_a_final_status_and_after_a_decision_that_kept_the_application()
    {
        for status in ApplicationStatus::ALL {
            let kept = matches!(status, Selected | Waitlisted | Retained);
            let expected = if status.is_final() && !kept {
                Err(Refusal::NotWithdrawable(status))
            } else {
                Ok(Withdrawn)
            };
            assert_eq!(status.withdraw(), expected, "{status}");
        }
    }

    #[test]
    fn only_a_published_decision_is_revised_and_the_status_follows_the_new_outcome() {
        assert_eq!(Waitlisted.revise(DecisionOutcome::Selected), Ok(Selected));
        assert_eq!(Selected.revise(DecisionOutcome::Rejected), Ok(Rejected));
        assert_eq!(NotRetained.revise(DecisionOutcome::Retained), Ok(Retained));
        for status in [Withdrawn, Shortlisted, Eligible, Draft] {
            assert_eq!(
                status.revise(DecisionOutcome::Selected),
                Err(Refusal::NoPublishedDecision(status))
            );
        }
        assert_eq!(
            Waitlisted.published_outcome(),
            Some(DecisionOutcome::Waitlisted)
        );
        assert_eq!(Withdrawn.published_outcome(), None);
    }

    #[test]
    fn only_submitted_applications_are_screened() {
        assert_eq!(Submitted.screen(ScreeningOutcome::Eligible), Ok(Eligible));
        assert_eq!(
            Submitted.screen(ScreeningOutcome::ChangesRequested),
            Ok(ChangesRequested)
        );
        assert_eq!(
            Eligible.screen(ScreeningOutcome::Ineligible),
            Err(Refusal::NotAwaitingScreening(Eligible))
        );
    }

    #[test]
    fn stages_and_shortlists_follow_the_number_of_stages() {
        assert_eq!(ApplicationStatus::reviewed_at_stage(0), Eligible);
        assert_eq!(ApplicationStatus::reviewed_at_stage(2), Shortlisted);
        assert_eq!(ApplicationStatus::decidable(1), Eligible);
        assert_eq!(ApplicationStatus::decidable(2), Shortlisted);
        assert_eq!(Eligible.shortlist(false), Some(NotShortlisted));
        assert_eq!(Shortlisted.shortlist(false), None);
        assert_eq!(Eligible.shortlist(true), Some(Shortlisted));
    }

    #[test]
    fn a_decision_sets_its_final_status() {
        for outcome in DecisionOutcome::ALL {
            assert!(outcome.status().is_final());
            assert_eq!(outcome.as_str().parse::<DecisionOutcome>(), Ok(outcome));
            assert_eq!(outcome.status().as_str(), outcome.as_str());
        }
        assert!("Retained".parse::<DecisionOutcome>().is_err());
    }

    #[test]
    fn a_triage_outcome_is_final_and_only_a_retained_application_is_catalogued() {
        assert!(DecisionOutcome::Retained.is_triage() && DecisionOutcome::NotRetained.is_triage());
        assert!(!DecisionOutcome::Selected.is_triage());
        assert_eq!(Retained.withdraw(), Ok(Withdrawn));
        assert_eq!(
            NotRetained.withdraw(),
            Err(Refusal::NotWithdrawable(NotRetained))
        );
        for status in ApplicationStatus::ALL {
            let expected = if status == Retained {
                Ok(())
            } else {
                Err(Refusal::NotRetained(status))
            };
            assert_eq!(status.may_be_catalogued(), expected, "{status}");
        }
    }
}
