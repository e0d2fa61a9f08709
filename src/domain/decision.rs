//! The history of a published decision: each version its applicant was told, and why it changed.

use serde::Serialize;
use utoipa::ToSchema;

crate::domain::names::stored_names! {
    /// What a version of a decision is.
    #[derive(Serialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum DecisionChange("decision change") {
        /// The decision as first published.
        Published => "published",
        /// Staff revised it (a laureate dropped out, an appeal was upheld…), with a reason.
        Revised => "revised",
        /// The applicant withdrew after the decision (no outcome; the applicant's reason).
        Withdrawn => "withdrawn",
    }
}

/// Who reads a decision's history: staff see who made each version; the applicant sees the versions it
/// was told, without names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HistoryReader {
    Staff,
    Applicant,
}
