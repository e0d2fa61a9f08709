//! The life cycle of a review: a draft the juror saves, then submits (locked) until staff reopen it; and when
//! a juror may still change it.

use chrono::{DateTime, Utc};

/// Where a review stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, diesel::AsExpression, diesel::FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub enum ReviewStatus {
    /// Saved, may change.
    Draft,
    /// Submitted and locked: it counts in the ranking.
    Submitted,
}

impl ReviewStatus {
    /// The status's name in the API and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewStatus::Draft => "draft",
            ReviewStatus::Submitted => "submitted",
        }
    }
}

impl std::str::FromStr for ReviewStatus {
    type Err = String;

    /// The status of its stored name; an unknown name is an error, never a default.
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name {
            "draft" => Ok(ReviewStatus::Draft),
            "submitted" => Ok(ReviewStatus::Submitted),
            other => Err(format!("unknown review status `{other}`")),
        }
    }
}

/// Why a juror may not save or submit a review now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewRefusal {
    /// The application was withdrawn: it is no longer evaluated.
    ApplicationWithdrawn,
    /// The stage's review deadline passed (and staff did not reopen this review).
    DeadlinePassed(DateTime<Utc>),
}

/// What decides whether a review may change now.
#[derive(Debug, Clone, Copy)]
pub struct ReviewWindow {
    /// The application is withdrawn.
    pub application_withdrawn: bool,
    /// The stage's review deadline, if staff set one.
    pub due_at: Option<DateTime<Utc>>,
    /// Staff reopened this review (a reopened review may be completed after the deadline, until submitted).
    pub reopened: bool,
}

impl ReviewWindow {
    /// `Ok` when the juror may save or submit the review at `now`; the deadline itself is still on time.
    pub fn check(&self, now: DateTime<Utc>) -> Result<(), ReviewRefusal> {
        if self.application_withdrawn {
            return Err(ReviewRefusal::ApplicationWithdrawn);
        }
        match self.due_at {
            Some(due) if now > due && !self.reopened => Err(ReviewRefusal::DeadlinePassed(due)),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn at(hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 2, 3, hour, 0, 0).unwrap()
    }

    #[test]
    fn a_review_changes_until_the_deadline_then_only_if_staff_reopened_it() {
        let window = |due_at, reopened| ReviewWindow {
            application_withdrawn: false,
            due_at,
            reopened,
        };
        assert_eq!(window(None, false).check(at(12)), Ok(()));
        assert_eq!(window(Some(at(18)), false).check(at(18)), Ok(()));
        assert_eq!(
            window(Some(at(18)), false).check(at(18) + Duration::microseconds(1)),
            Err(ReviewRefusal::DeadlinePassed(at(18)))
        );
        assert_eq!(window(Some(at(18)), true).check(at(23)), Ok(()));
    }

    #[test]
    fn a_withdrawn_application_is_no_longer_reviewed_even_reopened_or_on_time() {
        let window = ReviewWindow {
            application_withdrawn: true,
            due_at: Some(at(18)),
            reopened: true,
        };
        assert_eq!(
            window.check(at(9)),
            Err(ReviewRefusal::ApplicationWithdrawn)
        );
    }

    #[test]
    fn statuses_parse_strictly() {
        for status in [ReviewStatus::Draft, ReviewStatus::Submitted] {
            assert_eq!(status.as_str().parse::<ReviewStatus>(), Ok(status));
        }
        assert!("pending".parse::<ReviewStatus>().is_err());
    }
}
