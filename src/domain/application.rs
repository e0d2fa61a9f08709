//! The life cycle of an application.

/// Statuses in which the applicant may still change answers and files.
pub const EDITABLE: [&str; 2] = ["draft", "changes_requested"];

/// Statuses after which nothing changes any more (a published decision, or a withdrawal).
pub const FINAL: [&str; 4] = ["selected", "waitlisted", "rejected", "withdrawn"];

/// Whether the applicant may still edit an application in `status`.
pub fn is_editable(status: &str) -> bool {
    EDITABLE.contains(&status)
}

/// Whether an application in `status` may be withdrawn (any time before a published decision).
pub fn can_withdraw(status: &str) -> bool {
    !FINAL.contains(&status)
}

/// Whether an application in `status` was withdrawn (it is no longer reviewed, ranked or decided).
pub fn is_withdrawn(status: &str) -> bool {
    status == "withdrawn"
}

/// Every status, for filters.
pub const ALL: [&str; 11] = [
    "draft",
    "submitted",
    "changes_requested",
    "eligible",
    "ineligible",
    "shortlisted",
    "not_shortlisted",
    "selected",
    "waitlisted",
    "rejected",
    "withdrawn",
];
