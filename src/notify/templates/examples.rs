//! Example data for every email (from the typed contexts of `notify::emails`), used to preview templates and
//! to check the ones staff write, and the variables each event may go without.

use super::Event;

/// A realistic context of `event`, with every variable the event may provide (optional ones included): the
/// example of its typed context (`notify::emails`), so that templates are checked against what the code gives.
pub fn example_context(event: Event) -> serde_json::Value {
    crate::notify::emails::example_of(event)
}

/// The variables that `event` may go without (absent or null): templates must test them with
/// `is defined` / `is not none` before use.
pub fn optional_variables(event: Event) -> &'static [&'static str] {
    match event {
        Event::Invitation => &["call_title", "organization_name"],
        Event::ScreeningOutcome => &["reason"],
        Event::NewMessage => &["reference"],
        Event::WithdrawalAck => &["reference", "reason"],
        Event::DraftReminder => &["reference"],
        Event::AssignmentDigest => &["due_at"],
        Event::PairingUpdate => &["reference", "proposer_name"],
        Event::DecisionPublished => &["appeal_deadline", "appeal_link"],
        Event::DecisionRevised => &["appeal_deadline", "appeal_link"],
        Event::Shortlisted => &["stage_starts_at", "stage_ends_at"],
        Event::PitchSlot => &["place", "video_url"],
        _ => &[],
    }
}
