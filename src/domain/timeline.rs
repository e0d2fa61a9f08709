//! What an applicant may see of what happened to its application, and in what words: the one rule that
//! turns the journal (audit entries and feed events about the application) into the timeline that members
//! and staff read. Whatever it does not name stays out: pending decisions (recorded on the call, never on
//! the application), answers and files changed, conflicts of interest, jurors, assignments, reviews and
//! scores, consents, and who on the staff did anything.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;
use uuid::Uuid;

use super::action::Action;

/// Where a line of the journal comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The audit log (entries about the application).
    Audit,
    /// The event feed (events about the application that have no audit entry of their own).
    Feed,
}

/// The feed events the timeline reads: a shortlist is audited on the call as a whole, and announced per
/// application on the feed only.
pub const FEED_ACTIONS: [Action; 2] = [
    Action::ApplicationShortlisted,
    Action::ApplicationNotShortlisted,
];

/// The audit actions the timeline reads (the others never show: answers, files, conflicts, consents…).
pub const AUDIT_ACTIONS: [Action; 9] = [
    Action::ApplicationCreated,
    Action::ApplicationSubmitted,
    Action::ApplicationScreened,
    Action::ApplicationDecided,
    Action::DecisionRevised,
    Action::ApplicationWithdrawn,
    Action::AppealFiled,
    Action::AppealResolved,
    Action::MessagePosted,
];

/// One line of the journal about an application.
#[derive(Debug, Clone)]
pub struct JournalLine<'a> {
    pub source: Source,
    /// The audit entry's or the event's id (ordered in time, for lines of the same instant).
    pub id: Uuid,
    pub at: DateTime<Utc>,
    pub action: Action,
    /// The audit entry's `before` (nothing for an event).
    pub before: Option<&'a Value>,
    /// The audit entry's `after`, or the event's data.
    pub after: Option<&'a Value>,
}

/// What a line of the timeline says happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    Created,
    Submitted,
    ChangesRequested,
    Resubmitted,
    Eligible,
    Ineligible,
    Shortlisted,
    NotShortlisted,
    DecisionPublished,
    DecisionRevised,
    Withdrawn,
    AppealFiled,
    AppealResolved,
    Message,
}

/// One line of the timeline: when, what, and the details the applicant was told.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub at: DateTime<Utc>,
    pub kind: ItemKind,
    pub details: Map<String, Value>,
}

/// The keys of `value` among `keys`, renamed as the pairs say (`(stored, shown)`).
fn pick(value: Option<&Value>, keys: &[(&str, &str)]) -> Map<String, Value> {
    let mut picked = Map::new();
    if let Some(object) = value.and_then(Value::as_object) {
        for (stored, shown) in keys {
            if let Some(v) = object.get(*stored) {
                picked.insert((*shown).to_owned(), v.clone());
            }
        }
    }
    picked
}

/// The `status` an entry's snapshot names.
fn status_of(value: Option<&Value>) -> Option<&str> {
    value?.get("status")?.as_str()
}

/// The line of the timeline a line of the journal shows the applicant, if any. This is the only place that
/// decides what the timeline says.
pub fn shown_to_applicant(line: &JournalLine<'_>) -> Option<Item> {
    let after = line.after;
    let (kind, details) = match (line.source, line.action) {
        (Source::Audit, Action::ApplicationCreated) => (ItemKind::Created, Map::new()),
        (Source::Audit, Action::ApplicationSubmitted) => {
            let kind = if status_of(line.before) == Some("changes_requested") {
                ItemKind::Resubmitted
            } else {
                ItemKind::Submitted
            };
            (kind, pick(after, &[("reference", "reference")]))
        }
        (Source::Audit, Action::ApplicationScreened) => match status_of(after)? {
            "eligible" => (ItemKind::Eligible, Map::new()),
            "ineligible" => (ItemKind::Ineligible, pick(after, &[("reason", "reason")])),
            "changes_requested" => (
                ItemKind::ChangesRequested,
                pick(after, &[("reason", "reason"), ("due_at", "due_at")]),
            ),
            _ => return None,
        },
        (Source::Feed, Action::ApplicationShortlisted) => (
            ItemKind::Shortlisted,
            pick(after, &[("next_stage", "next_stage")]),
        ),
        (Source::Feed, Action::ApplicationNotShortlisted) => (ItemKind::NotShortlisted, Map::new()),
        (Source::Audit, Action::ApplicationDecided) => (
            ItemKind::DecisionPublished,
            pick(
                after,
                &[
                    ("outcome", "outcome"),
                    ("motivation", "motivation"),
                    ("version", "version"),
                ],
            ),
        ),
        (Source::Audit, Action::DecisionRevised) => (
            ItemKind::DecisionRevised,
            pick(
                after,
                &[
                    ("from", "from"),
                    ("outcome", "to"),
                    ("motivation", "motivation"),
                    ("reason", "reason"),
                    ("version", "version"),
                ],
            ),
        ),
        (Source::Audit, Action::ApplicationWithdrawn) => {
            (ItemKind::Withdrawn, pick(after, &[("reason", "reason")]))
        }
        (Source::Audit, Action::AppealFiled) => (
            ItemKind::AppealFiled,
            pick(after, &[("appeal_id", "appeal_id"), ("grounds", "grounds")]),
        ),
        (Source::Audit, Action::AppealResolved) => (
            ItemKind::AppealResolved,
            pick(
                after,
                &[
                    ("appeal_id", "appeal_id"),
                    ("outcome", "outcome"),
                    ("motivation", "motivation"),
                ],
            ),
        ),
        (Source::Audit, Action::MessagePosted) => (
            ItemKind::Message,
            pick(
                after,
                &[("message_id", "message_id"), ("side", "author_side")],
            ),
        ),
        _ => return None,
    };
    Some(Item {
        at: line.at,
        kind,
        details,
    })
}

/// The timeline of an application from its journal, oldest first (lines of the same instant in the order
/// they were written).
pub fn timeline(mut lines: Vec<JournalLine<'_>>) -> Vec<Item> {
    lines.sort_by_key(|l| (l.at, l.id));
    lines.iter().filter_map(shown_to_applicant).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::json;

    fn line<'a>(
        source: Source,
        minute: u32,
        action: Action,
        before: Option<&'a Value>,
        after: Option<&'a Value>,
    ) -> JournalLine<'a> {
        JournalLine {
            source,
            id: Uuid::now_v7(),
            at: Utc.with_ymd_and_hms(2026, 3, 1, 9, minute, 0).unwrap(),
            action,
            before,
            after,
        }
    }

    #[test]
    fn what_the_applicant_is_told_comes_out_in_order_and_nothing_else() {
        let draft = json!({"status": "changes_requested"});
        let resubmitted = json!({"status": "submitted", "reference": "ATL-2026-0001"});
        let changes = json!({"status": "changes_requested", "reason": "budget", "due_at": "2026-03-10T00:00:00Z", "juror": "x"});
        let conflict = json!({"juror_id": "someone", "reason": "same firm"});
        let shortlisted = json!({"status": "shortlisted", "next_stage": "pitch"});
        let message = json!({"message_id": "m1", "side": "staff"});
        let lines = vec![
            line(
                Source::Audit,
                5,
                Action::ApplicationSubmitted,
                Some(&draft),
                Some(&resubmitted),
            ),
            line(
                Source::Audit,
                3,
                Action::ApplicationScreened,
                None,
                Some(&changes),
            ),
            line(
                Source::Audit,
                4,
                Action::ConflictDeclared,
                None,
                Some(&conflict),
            ),
            line(
                Source::Feed,
                6,
                Action::ApplicationShortlisted,
                None,
                Some(&shortlisted),
            ),
            line(
                Source::Audit,
                7,
                Action::MessagePosted,
                None,
                Some(&message),
            ),
            line(
                Source::Feed,
                8,
                Action::ApplicationDecided,
                None,
                Some(&shortlisted),
            ),
        ];
        let items = timeline(lines);
        let kinds: Vec<ItemKind> = items.iter().map(|i| i.kind).collect();
        assert_eq!(
            kinds,
            [
                ItemKind::ChangesRequested,
                ItemKind::Resubmitted,
                ItemKind::Shortlisted,
                ItemKind::Message
            ]
        );
        assert_eq!(
            Value::Object(items[0].details.clone()),
            json!({"reason": "budget", "due_at": "2026-03-10T00:00:00Z"})
        );
        assert_eq!(
            Value::Object(items[3].details.clone()),
            json!({"message_id": "m1", "author_side": "staff"})
        );
    }

    #[test]
    fn a_revision_shows_where_it_came_from_and_why() {
        let revised = json!({"from": "waitlisted", "outcome": "selected", "motivation": "m", "reason": "r", "version": 2, "decided_by": "staff-id"});
        let item = shown_to_applicant(&line(
            Source::Audit,
            1,
            Action::DecisionRevised,
            None,
            Some(&revised),
        ))
        .unwrap();
        assert_eq!(item.kind, ItemKind::DecisionRevised);
        assert_eq!(
            Value::Object(item.details),
            json!({"from": "waitlisted", "to": "selected", "motivation": "m", "reason": "r", "version": 2})
        );
    }
}
