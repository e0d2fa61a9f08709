//! Score sheets back: a juror uploads `scores.csv` (from their review pack, filled in a spreadsheet) and
//! every row is saved as their draft review, or also submitted, through the review use cases
//! ([`reviews::save`], [`reviews::submit`]), all in the caller's one transaction. All or nothing: any bad
//! row (format, unknown or unassigned reference, score out of range, review locked, application withdrawn,
//! past the deadline) fails the whole sheet with every error named by row and column, and nothing is kept.
//! Idempotent: a row that says what its review already says changes nothing.

use std::collections::{BTreeMap, HashMap};

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;

use crate::api::input::Check;
use crate::auth::permissions::Principal;
use crate::db::DbConn;
use crate::domain::action::Action;
use crate::domain::refusal::Refusal;
use crate::domain::review::ReviewStatus;
use crate::domain::score_sheet::{self, SheetRow};
use crate::error::{Error, FieldError};
use crate::service::reviews::{self, Draft};
use crate::store::journal::{Entity, Happened};
use crate::store::reviews::Review;
use crate::store::{calls, conflicts, packs};

/// The sheet's call and stage, and whether its reviews are to be submitted too.
#[derive(Debug, Clone)]
pub struct SheetUpload {
    pub call_id: Uuid,
    pub stage: String,
    pub submit: bool,
}

/// What became of a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowOutcome {
    /// Saved as a draft.
    Saved,
    /// Saved if it changed, then submitted.
    Submitted,
    /// It says what the review already says: nothing to do.
    Unchanged,
    /// Blank (no score, no comment) for an application not reviewed yet: left alone.
    Skipped,
}

impl RowOutcome {
    /// The outcome's name in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            RowOutcome::Saved => "saved",
            RowOutcome::Submitted => "submitted",
            RowOutcome::Unchanged => "unchanged",
            RowOutcome::Skipped => "skipped",
        }
    }
}

/// A row of an accepted sheet.
#[derive(Debug, Clone)]
pub struct SavedRow {
    /// Its number in the spreadsheet (the header is row 1).
    pub row: usize,
    pub reference: String,
    pub application_id: Uuid,
    pub outcome: RowOutcome,
    /// The review's status now; `None` when there is no review (a skipped row).
    pub review_status: Option<ReviewStatus>,
}

/// Saves (and with `upload.submit`, submits) every row of `sheet` as the caller's review. 404 when the call
/// does not exist or the caller has no assignment in it; 422 for a stage the call does not have, and for a
/// sheet with any bad row, listing every error (`rows.<row>.<column>`, `rows.<row>` for a refused row,
/// `body` for the file as a whole).
pub fn upload(
    conn: &mut DbConn,
    caller: &Principal,
    upload: SheetUpload,
    sheet: &[u8],
    now: DateTime<Utc>,
) -> Result<Vec<SavedRow>, Error> {
    let call = calls::find(conn, upload.call_id)?.ok_or(Error::NotFound)?;
    let assigned = packs::assigned_references(conn, caller.user_id, upload.call_id)
        .context("loading the juror's assignments")?;
    if assigned.is_empty() {
        return Err(Error::NotFound);
    }
    let stage = call
        .stages()?
        .into_iter()
        .find(|s| s.key == upload.stage)
        .ok_or_else(|| Error::field("stage", "unknown_stage", "the call has no such stage"))?;
    let conflicted = conflicts::conflicted_applications(conn, caller.user_id, &[upload.call_id])
        .context("loading the juror's conflicts")?;
    // A juror's own assignments at the stage, by reference; one they are conflicted on is not theirs to
    // review, and is refused like an application that does not exist.
    let by_reference: HashMap<String, Uuid> = assigned
        .into_iter()
        .filter(|a| a.stage == stage.key && !conflicted.contains(&*a.application_id))
        .filter_map(|a| a.reference.map(|r| (r, *a.application_id)))
        .collect();
    let existing = packs::reviews_of_juror(conn, caller.user_id, upload.call_id, &stage.key, None)
        .context("loading the juror's reviews")?;
    let read = score_sheet::read(sheet, &stage);
    let mut errors: Vec<(usize, FieldError)> = read
        .errors
        .iter()
        .map(|e| {
            (
                e.row(),
                FieldError::new(e.field(), e.code, e.message.clone()),
            )
        })
        .collect();
    let mut saved = Vec::new();
    for (row, sheet_row) in read.rows {
        let Some(&application_id) = by_reference.get(&sheet_row.reference) else {
            errors.push((row, not_assigned(row)));
            continue;
        };
        let reference = sheet_row.reference.clone();
        let review = existing.get(&application_id);
        let row_upload = RowUpload {
            application_id,
            stage: &stage.key,
            submit: upload.submit,
            now,
        };
        match save_row(conn, caller, row_upload, sheet_row, review) {
            Ok((outcome, review_status)) => saved.push(SavedRow {
                row,
                reference,
                application_id,
                outcome,
                review_status,
            }),
            Err(Error::Validation(fields)) => {
                errors.extend(fields.into_iter().map(|f| (row, in_row(row, f))));
            }
            Err(Error::Refused { code, detail, .. }) => {
                errors.push((row, FieldError::new(format!("rows.{row}"), code, detail)));
            }
            Err(Error::NotFound) => errors.push((row, not_assigned(row))),
            Err(other) => return Err(other),
        }
    }
    if !errors.is_empty() {
        errors.sort_by_key(|(row, _)| *row);
        return Err(Error::Validation(
            errors.into_iter().map(|(_, e)| e).collect(),
        ));
    }
    let count = |outcome| saved.iter().filter(|r| r.outcome == outcome).count();
    Happened::new(
        Action::ScoreSheetUploaded,
        Some(caller.user_id),
        Entity::Call(upload.call_id),
    )
    .after(json!({
        "stage": stage.key,
        "submit": upload.submit,
        "rows": saved.len(),
        "saved": count(RowOutcome::Saved),
        "submitted": count(RowOutcome::Submitted),
    }))
    .record(conn, now)?;
    Ok(saved)
}

/// Which review a row goes to, and how.
struct RowUpload<'a> {
    application_id: Uuid,
    stage: &'a str,
    submit: bool,
    now: DateTime<Utc>,
}

/// Saves one row as the caller's review (unless it says what the review says), then submits it if asked;
/// leaves a blank row of an application not reviewed yet alone.
fn save_row(
    conn: &mut DbConn,
    caller: &Principal,
    to: RowUpload<'_>,
    row: SheetRow,
    review: Option<&(Review, BTreeMap<String, f64>)>,
) -> Result<(RowOutcome, Option<ReviewStatus>), Error> {
    let unchanged = review.is_some_and(|(review, scores)| {
        *scores == row.scores
            && review.comment.as_deref().filter(|c| !c.is_empty()) == row.comment.as_deref()
    });
    match review {
        Some((r, _)) if r.status == ReviewStatus::Submitted => {
            return if unchanged {
                Ok((RowOutcome::Unchanged, Some(ReviewStatus::Submitted)))
            } else {
                Err(Refusal::ReviewLocked.into())
            };
        }
        None if row.is_blank() => return Ok((RowOutcome::Skipped, None)),
        _ => {}
    }
    let mut outcome = RowOutcome::Unchanged;
    if !unchanged {
        let draft = Draft {
            stage: to.stage.to_owned(),
            scores: row.scores,
            comment: row.comment,
        };
        reviews::save(
            conn,
            caller,
            to.application_id,
            draft,
            Check::default(),
            to.now,
        )?;
        outcome = RowOutcome::Saved;
    }
    if to.submit {
        reviews::submit(conn, caller, to.application_id, to.stage, to.now)?;
        return Ok((RowOutcome::Submitted, Some(ReviewStatus::Submitted)));
    }
    Ok((outcome, Some(ReviewStatus::Draft)))
}

/// A field error of the review use cases, placed in the sheet: `scores.innovation` → `rows.3.innovation`.
fn in_row(row: usize, error: FieldError) -> FieldError {
    let column = error
        .field
        .strip_prefix("scores.")
        .unwrap_or(&error.field)
        .to_owned();
    FieldError {
        field: format!("rows.{row}.{column}"),
        ..error
    }
}

fn not_assigned(row: usize) -> FieldError {
    FieldError::new(
        format!("rows.{row}.reference"),
        "not_assigned",
        "no application with this reference is assigned to you at this stage",
    )
}
