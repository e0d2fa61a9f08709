//! The figures of a call as a use case: who may read them, then the counts (`store/stats.rs`, a fixed
//! number of SQL statements whatever the size of the call) turned into [`CallFigures`]
//! (`domain/figures.rs`). [`call_figures`] takes one call, so figures of several calls (the editions of a
//! call) are this function called once per call.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::auth::permissions::{can_read_call_figures, FiguresAccess, Principal};
use crate::db::DbConn;
use crate::domain::delivery::OutboxStatus;
use crate::domain::figures::{
    self, AnswerFigures, ApplicationFigures, CallFigures, CallHeading, EditionFigures,
    EmailFigures, ReviewFigures,
};
use crate::error::Error;
use crate::service::assignments::call_or_404;
use crate::service::staff::load_call_access;
use crate::store::stats;

/// The figures of call `call_id` at `now`, for `caller` (404 for a caller who may not read them, or a
/// call that does not exist).
pub fn read(
    conn: &mut DbConn,
    caller: &Principal,
    call_id: Uuid,
    now: DateTime<Utc>,
) -> Result<CallFigures, Error> {
    let access = can_read_call_figures(caller, &load_call_access(conn, caller, call_id)?)?;
    call_figures(conn, call_id, access, now)
}

/// How many earlier editions the side-by-side figures go back, at most: a fixed bound on the statements
/// one request runs, whatever the length of a call's history.
pub const MAX_EDITIONS: usize = 20;

/// The figures of call `call_id` and of its earlier editions side by side, oldest first (404 as [`read`] for
/// the call asked for). An earlier edition the caller may not read (a partner observing only this year's
/// call) is left out, as are editions more than [`MAX_EDITIONS`] steps back.
pub fn read_editions(
    conn: &mut DbConn,
    caller: &Principal,
    call_id: Uuid,
    now: DateTime<Utc>,
) -> Result<EditionFigures, Error> {
    let mut editions = vec![read(conn, caller, call_id, now)?];
    let mut previous = editions[0].call.previous_edition_id;
    // Each step goes one edition back, read or not, so the walk is bounded whatever the caller may read.
    for _ in 1..MAX_EDITIONS {
        let Some(id) = previous else { break };
        previous = match can_read_call_figures(caller, &load_call_access(conn, caller, id)?) {
            Ok(access) => {
                let figures = call_figures(conn, id, access, now)?;
                let before = figures.call.previous_edition_id;
                editions.push(figures);
                before
            }
            Err(_) => call_or_404(conn, id)?.previous_edition_id.map(|id| *id),
        };
    }
    editions.reverse();
    Ok(EditionFigures { editions })
}

/// The figures of call `call_id` at `now`, as `access` shows them (404 for a call that does not exist).
/// The caller has decided who may read them.
pub fn call_figures(
    conn: &mut DbConn,
    call_id: Uuid,
    access: FiguresAccess,
    now: DateTime<Utc>,
) -> Result<CallFigures, Error> {
    let call = call_or_404(conn, call_id)?;
    let form = call.form()?;
    let stages = call.stages()?;
    let timezone: chrono_tz::Tz = call.timezone.parse().unwrap_or(chrono_tz::Europe::Paris);

    let by_status = stats::count_by_status(conn, call_id)?;
    let submissions = stats::count_submissions_per_minute(conn, call_id)?;
    let per_minute: Vec<_> = submissions.iter().map(|s| (s.minute, s.count)).collect();
    let applications = ApplicationFigures {
        total: by_status.iter().map(|(_, n)| n).sum(),
        anonymised: stats::count_anonymised(conn, call_id)?,
        by_status: figures::by_status(&by_status),
        by_organization_kind: figures::by_organization_kind(&stats::count_by_organization_kind(
            conn, call_id,
        )?),
        by_submission_day: figures::by_day(&per_minute, timezone),
    };

    let choice_keys: Vec<String> = figures::choice_fields(&form)
        .map(|f| f.key.clone())
        .collect();
    let number_keys: Vec<String> = figures::number_fields(&form)
        .map(|f| f.key.clone())
        .collect();
    let choices = if choice_keys.is_empty() {
        Vec::new()
    } else {
        stats::count_choices(conn, call_id, &choice_keys)?
    };
    let numbers = if number_keys.is_empty() {
        Vec::new()
    } else {
        stats::summarise_numbers(conn, call_id, &number_keys)?
    };
    let answers = AnswerFigures {
        applications: submissions.iter().map(|s| s.not_anonymised).sum(),
        choices: figures::choice_figures(&form, &choices),
        numbers: figures::number_figures(&form, &numbers),
    };

    let deadlines: BTreeMap<String, DateTime<Utc>> = stats::review_deadlines(conn, call_id)?
        .into_iter()
        .collect();
    let reviews = ReviewFigures {
        stages: figures::review_progress(
            &stages,
            &deadlines,
            &stats::review_tallies(conn, call_id)?,
            now,
            access.juror_names,
        ),
    };

    let mut emails = EmailFigures::default();
    for (status, n) in stats::count_unsent_emails(conn, call_id)? {
        match status {
            OutboxStatus::Pending | OutboxStatus::Sending => emails.pending += n,
            OutboxStatus::Failed => emails.failed += n,
            OutboxStatus::Sent => {}
        }
    }

    Ok(CallFigures {
        call: CallHeading {
            id: *call.id,
            slug: call.slug.clone(),
            title: call.title_text(),
            edition: call.edition,
            previous_edition_id: call.previous_edition_id.map(|id| *id),
            status: call.status,
            timezone: call.timezone.clone(),
            opens_at: call.opens_at.0,
            closes_at: call.closes_at.0,
        },
        applications,
        answers,
        reviews,
        emails,
    })
}
