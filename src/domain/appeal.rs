//! Appeals against a published decision: when an applicant may file one (the call's window, counted from
//! the version of the decision they were last told), and its life cycle.
//!
//! ```text
//! open → upheld | dismissed
//! ```
//!
//! An upheld appeal does not change the decision by itself: staff then revise it
//! (`POST /applications/{id}/decision/revisions` with the appeal's id), which tells the applicant.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::refusal::Refusal;

crate::domain::names::stored_names! {
    /// Where an appeal stands.
    #[derive(Serialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum AppealStatus("appeal status") {
        /// Filed, waiting for staff.
        Open => "open",
        /// Staff agreed with the applicant: the decision is to be revised.
        Upheld => "upheld",
        /// Staff kept the decision.
        Dismissed => "dismissed",
    }
}

/// Staff's answer to an appeal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AppealOutcome {
    Upheld,
    Dismissed,
}

impl std::str::FromStr for AppealOutcome {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name {
            "upheld" => Ok(AppealOutcome::Upheld),
            "dismissed" => Ok(AppealOutcome::Dismissed),
            other => Err(format!("unknown appeal outcome `{other}`")),
        }
    }
}

impl AppealStatus {
    /// Whether staff have not answered yet (anonymisation waits for the answer).
    pub fn is_open(self) -> bool {
        self == AppealStatus::Open
    }

    /// Resolving: only an open appeal is answered, once.
    pub fn resolve(self, outcome: AppealOutcome) -> Result<AppealStatus, Refusal> {
        match (self, outcome) {
            (AppealStatus::Open, AppealOutcome::Upheld) => Ok(AppealStatus::Upheld),
            (AppealStatus::Open, AppealOutcome::Dismissed) => Ok(AppealStatus::Dismissed),
            _ => Err(Refusal::AppealResolved),
        }
    }
}

/// Until when the decision told at `told_at` may be appealed, for a call with `window_days` (`None`: the
/// call takes no appeals).
pub fn deadline(told_at: DateTime<Utc>, window_days: Option<i32>) -> Option<DateTime<Utc>> {
    window_days.map(|days| told_at + Duration::days(i64::from(days)))
}

/// What decides whether an appeal may be filed now.
#[derive(Debug, Clone, Copy)]
pub struct AppealWindow {
    /// The deadline of the decision's current version ([`deadline`]).
    pub deadline: Option<DateTime<Utc>>,
    /// This version was appealed already, or another appeal is still open.
    pub already_appealed: bool,
    pub now: DateTime<Utc>,
}

impl AppealWindow {
    /// Filing: the call takes appeals, the deadline has not passed, and nothing is appealed already.
    pub fn may_file(self) -> Result<(), Refusal> {
        let Some(deadline) = self.deadline else {
            return Err(Refusal::NoAppeals);
        };
        if self.already_appealed {
            return Err(Refusal::AppealExists);
        }
        if self.now > deadline {
            return Err(Refusal::AppealWindowClosed { deadline });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(day: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 6, day, 12, 0, 0).unwrap()
    }

    #[test]
    fn an_appeal_is_filed_within_the_window_once() {
        let deadline = deadline(at(1), Some(15));
        assert_eq!(deadline, Some(at(16)));
        let window = |now, already_appealed| AppealWindow {
            deadline,
            already_appealed,
            now,
        };
        assert_eq!(window(at(16), false).may_file(), Ok(()));
        assert_eq!(
            window(at(17), false).may_file(),
            Err(Refusal::AppealWindowClosed { deadline: at(16) })
        );
        assert_eq!(window(at(2), true).may_file(), Err(Refusal::AppealExists));
        let none = AppealWindow {
            deadline: super::deadline(at(1), None),
            already_appealed: false,
            now: at(2),
        };
        assert_eq!(none.may_file(), Err(Refusal::NoAppeals));
    }

    #[test]
    fn only_an_open_appeal_is_resolved() {
        assert_eq!(
            AppealStatus::Open.resolve(AppealOutcome::Upheld),
            Ok(AppealStatus::Upheld)
        );
        assert_eq!(
            AppealStatus::Open.resolve(AppealOutcome::Dismissed),
            Ok(AppealStatus::Dismissed)
        );
        for status in [AppealStatus::Upheld, AppealStatus::Dismissed] {
            assert!(!status.is_open());
            assert_eq!(
                status.resolve(AppealOutcome::Upheld),
                Err(Refusal::AppealResolved)
            );
        }
        for status in AppealStatus::ALL {
            assert_eq!(status.as_str().parse::<AppealStatus>(), Ok(*status));
        }
    }
}
