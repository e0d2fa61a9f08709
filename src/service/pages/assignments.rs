//! What a juror's assignments page (`GET /me/assignments`) lists: the applications they are to review, with
//! where their review stands, read through the same use case as `GET /api/v1/me/assignments`.

use std::collections::hash_map::Entry;
use std::collections::HashMap;

use anyhow::Context;
use serde::Serialize;
use uuid::Uuid;

use crate::db::DbConn;
use crate::domain::review::ReviewStatus;
use crate::error::Error;
use crate::notify::applications::localized;
use crate::service::assignments::visible_assignments_page;
use crate::store::calls;

/// The most assignments the page lists; the API pages through more.
pub const PAGE_LIMIT: i64 = 200;

/// One assignment, as the juror reads it.
#[derive(Debug, Serialize)]
pub struct AssignmentLine {
    pub application_id: Uuid,
    pub reference: Option<String>,
    pub call_title: String,
    pub stage: String,
    /// Where the juror's review stands, in words.
    pub review_words: &'static str,
    /// Whether the review is submitted.
    pub done: bool,
    /// The stage's review deadline, as a date.
    pub due_on: Option<String>,
}

/// The juror's assignments page.
#[derive(Debug, Serialize)]
pub struct AssignmentsPage {
    pub lines: Vec<AssignmentLine>,
    /// More than [`PAGE_LIMIT`] assignments: the rest are in the API.
    pub more: bool,
}

/// The assignments of `juror` that they may still review (withdrawn and conflicted ones left out), in
/// `lang`.
pub fn read(conn: &mut DbConn, juror: Uuid, lang: &str) -> Result<AssignmentsPage, Error> {
    let mut rows = visible_assignments_page(conn, juror, None, None, PAGE_LIMIT + 1)?;
    let more = rows.len() as i64 > PAGE_LIMIT;
    rows.truncate(PAGE_LIMIT as usize);
    let mut calls_seen: HashMap<Uuid, (String, String)> = HashMap::new();
    let mut lines = Vec::with_capacity(rows.len());
    for row in rows {
        let (call_title, tz) = match calls_seen.entry(*row.call_id) {
            Entry::Occupied(seen) => seen.get().clone(),
            Entry::Vacant(first) => {
                let call = calls::find(conn, *first.key())
                    .context("loading an assignment's call")?
                    .ok_or(Error::NotFound)?;
                first
                    .insert((localized(&call.title_text(), lang), call.timezone.clone()))
                    .clone()
            }
        };
        lines.push(AssignmentLine {
            application_id: *row.application_id,
            reference: row.reference,
            call_title,
            stage: row.stage,
            review_words: review_words(row.review_status, lang),
            done: row.review_status == Some(ReviewStatus::Submitted),
            due_on: row.review_due_at.map(|t| super::long_date(t.0, &tz, lang)),
        });
    }
    Ok(AssignmentsPage { lines, more })
}

/// Where a review stands, in words.
fn review_words(status: Option<ReviewStatus>, lang: &str) -> &'static str {
    match (status, lang == "en") {
        (None, true) => "To do",
        (None, false) => "À faire",
        (Some(ReviewStatus::Draft), true) => "Started, not submitted",
        (Some(ReviewStatus::Draft), false) => "Commencée, non soumise",
        (Some(ReviewStatus::Submitted), true) => "Submitted",
        (Some(ReviewStatus::Submitted), false) => "Soumise",
    }
}
