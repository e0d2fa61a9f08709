//! Deadline reminders: owners of drafts not yet submitted hear 7 days and 1 day before the call closes.
//! Each reminder is recorded with the email it queues, in one transaction, under a unique key: it goes out
//! once even when several instances run the worker.

use chrono::{DateTime, Duration, Utc};

use super::applications::{format_instant, localized, About};
use super::emails::{DraftReminder, ReviewReminder};
use super::{queue, Email};
use crate::db::DbConn;
use crate::domain::form::{Stage, Text};
use crate::error::Error;
use crate::state::AppState;
use crate::store::{applications, calls, organizations};
use crate::store::{reviews, users};

/// The reminders: their key and how many days before closing they go out, the latest first. A draft that
/// enters several windows at once (started the day before closing) gets only the latest reminder.
pub const REMINDERS: [(&str, i64); 2] = [("draft_1d", 1), ("draft_7d", 7)];

/// How long before a stage's review deadline jurors with pending reviews are reminded.
pub const REVIEW_REMINDER_HOURS: i64 = 48;

/// Whether any reminder is due (a cheap read, so that the worker opens a write transaction only then).
pub fn any_due(conn: &mut DbConn, now: DateTime<Utc>) -> Result<bool, Error> {
    if !reviews::deadlines_between(conn, now, now + Duration::hours(REVIEW_REMINDER_HOURS))?
        .is_empty()
    {
        return Ok(true);
    }
    for (kind, days) in REMINDERS {
        for call in calls::closing_between(conn, now, now + Duration::days(days))? {
            if !applications::drafts_without_reminder(conn, *call.id, kind)?.is_empty() {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

/// Queues every due reminder; returns how many applications and jurors were reminded.
pub fn send_due(conn: &mut DbConn, state: &AppState, now: DateTime<Utc>) -> Result<usize, Error> {
    let mut sent = send_review_reminders(conn, state, now)?;
    for (kind, days) in REMINDERS {
        for call in calls::closing_between(conn, now, now + Duration::days(days))? {
            for app in applications::drafts_without_reminder(conn, *call.id, kind)? {
                if !applications::mark_reminded(conn, *app.id, kind, now)? {
                    continue;
                }
                // The earlier reminders would say the same thing, later: they are spent too.
                for (earlier, earlier_days) in REMINDERS {
                    if earlier_days > days {
                        applications::mark_reminded(conn, *app.id, earlier, now)?;
                    }
                }
                let Some(organization) = organizations::find(conn, *app.organization_id)? else {
                    continue;
                };
                let about = About {
                    call: &call,
                    organization: &organization,
                    application: &app,
                };
                let closes_at = call.closes_at.0;
                let days_left = days.min(((closes_at - now).num_hours() + 23) / 24).max(1);
                let reminder = |locale: &str| DraftReminder {
                    closes_at: format_instant(closes_at, &call.timezone, locale),
                    days_left,
                };
                about.tell_members(conn, state, reminder, now)?;
                sent += 1;
            }
        }
    }
    Ok(sent)
}

/// Reminds each juror who still has reviews pending before a stage's deadline, once per stage.
fn send_review_reminders(
    conn: &mut DbConn,
    state: &AppState,
    now: DateTime<Utc>,
) -> Result<usize, Error> {
    let mut sent = 0;
    for (call_id, stage_key, due) in
        reviews::deadlines_between(conn, now, now + Duration::hours(REVIEW_REMINDER_HOURS))?
    {
        let Some(call) = calls::find(conn, *call_id)? else {
            continue;
        };
        let stages: Vec<Stage> = call.stages().unwrap_or_default();
        let title: Text = call.title_text();
        for (juror, pending) in reviews::pending_reviews(conn, *call_id, &stage_key)? {
            if pending == 0
                || !reviews::mark_review_reminded(conn, *call_id, &stage_key, juror, now)?
            {
                continue;
            }
            let Some(user) = users::find(conn, juror)? else {
                continue;
            };
            let stage_label = stages
                .iter()
                .find(|s| s.key == stage_key)
                .map_or_else(|| stage_key.clone(), |s| localized(&s.label, &user.locale));
            let context = ReviewReminder {
                display_name: user.display_name.clone(),
                call_title: localized(&title, &user.locale),
                stage_label,
                pending,
                due_at: format_instant(due.0, &call.timezone, &user.locale),
                link: state.link("/me/assignments"),
            };
            let email = Email::of(
                &context,
                &user.email,
                Some(juror),
                Some(*call.id),
                &user.locale,
            )?;
            queue(conn, &state.templates, &state.settings.email, email, now)?;
            sent += 1;
        }
    }
    Ok(sent)
}
