//! Reviews and their scores, the review deadlines of a call's stages and the reminders sent before them, and
//! the narrow read of submitted scores the ranking works from.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::schema::{applications, assignments, reviews};
use crate::db::types::{Json, Ts, Uid};
use crate::db::DbConn;
use crate::domain::application::ApplicationStatus;
use crate::domain::review::ReviewStatus;

/// A review as stored (its scores apart).
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = reviews, treat_none_as_null = true)]
pub struct Review {
    pub id: Uid,
    pub call_id: Uid,
    pub application_id: Uid,
    pub juror_id: Uid,
    pub stage: String,
    pub comment: Option<String>,
    pub status: ReviewStatus,
    pub submitted_at: Option<Ts>,
    pub version: i32,
    pub created_at: Ts,
    pub updated_at: Ts,
    /// When staff last reopened it (it may then be completed after the stage's deadline).
    pub reopened_at: Option<Ts>,
}

/// The juror's review of the application for a stage.
pub fn find_review(
    conn: &mut DbConn,
    application_id: Uuid,
    juror_id: Uuid,
    stage: &str,
) -> QueryResult<Option<Review>> {
    reviews::table
        .filter(reviews::application_id.eq(Uid(application_id)))
        .filter(reviews::juror_id.eq(Uid(juror_id)))
        .filter(reviews::stage.eq(stage))
        .select(Review::as_select())
        .first(conn)
        .optional()
}

/// Saves a review and its scores (one statement): a new one (`expected_version` `None`) unless the juror's
/// review of that stage already exists, or an existing one only if it is still at `expected_version`. False
/// when nothing was written (another request changed it first).
pub fn save_review(
    conn: &mut DbConn,
    review: &Review,
    scores: &BTreeMap<String, f64>,
    expected_version: Option<i32>,
) -> QueryResult<bool> {
    let scores = reviews::scores.eq(scores_json(scores));
    let written = match expected_version {
        None => {
            let insert = diesel::insert_into(reviews::table).values((review, scores));
            crate::on_backend!(conn, |c| insert.on_conflict_do_nothing().execute(c)?)
        }
        Some(version) => diesel::update(
            reviews::table
                .find(review.id)
                .filter(reviews::version.eq(version)),
        )
        .set((review, scores))
        .execute(conn)?,
    };
    Ok(written == 1)
}

/// The review deadline of a call's stage, if staff set one.
pub fn review_deadline(
    conn: &mut DbConn,
    call_id: Uuid,
    stage: &str,
) -> QueryResult<Option<DateTime<Utc>>> {
    use crate::db::schema::review_deadlines;
    let due: Option<Ts> = review_deadlines::table
        .find((Uid(call_id), stage))
        .select(review_deadlines::due_at)
        .first(conn)
        .optional()?;
    Ok(due.map(|t| t.0))
}

/// Scores as stored: one JSON object `{criterion: score}`.
fn scores_json(scores: &BTreeMap<String, f64>) -> Json {
    Json(serde_json::Value::Object(
        scores
            .iter()
            .filter_map(|(k, v)| serde_json::Number::from_f64(*v).map(|n| (k.clone(), n.into())))
            .collect(),
    ))
}

/// Scores as read back; anything that is not a number is left out.
pub fn scores_map(json: &Json) -> BTreeMap<String, f64> {
    json.0
        .as_object()
        .map(|o| {
            o.iter()
                .filter_map(|(k, v)| v.as_f64().map(|v| (k.clone(), v)))
                .collect()
        })
        .unwrap_or_default()
}

/// The scores of a review.
pub fn scores_of(conn: &mut DbConn, review_id: Uuid) -> QueryResult<BTreeMap<String, f64>> {
    let scores: Option<Json> = reviews::table
        .find(Uid(review_id))
        .select(reviews::scores)
        .first(conn)
        .optional()?;
    Ok(scores.as_ref().map(scores_map).unwrap_or_default())
}

/// A page of the reviews of an application (all jurors', or one's) in id order, with their scores: those
/// after `after`, at most `limit` (one statement).
pub fn reviews_of_application(
    conn: &mut DbConn,
    application_id: Uuid,
    juror: Option<Uuid>,
    after: Option<Uuid>,
    limit: i64,
) -> QueryResult<Vec<(Review, BTreeMap<String, f64>)>> {
    let mut query = reviews::table
        .filter(reviews::application_id.eq(Uid(application_id)))
        .order(reviews::id.asc())
        .limit(limit)
        .select((Review::as_select(), reviews::scores))
        .into_boxed();
    if let Some(juror) = juror {
        query = query.filter(reviews::juror_id.eq(Uid(juror)));
    }
    if let Some(after) = after {
        query = query.filter(reviews::id.gt(Uid(after)));
    }
    let found: Vec<(Review, Json)> = query.load(conn)?;
    Ok(found
        .into_iter()
        .map(|(review, scores)| (review, scores_map(&scores)))
        .collect())
}

/// A review by id.
pub fn find_review_by_id(conn: &mut DbConn, id: Uuid) -> QueryResult<Option<Review>> {
    reviews::table
        .find(Uid(id))
        .select(Review::as_select())
        .first(conn)
        .optional()
}

/// Sets (or moves) the review deadline of a call's stage; a moved deadline reminds again.
pub fn set_review_deadline(
    conn: &mut DbConn,
    call_id: Uuid,
    stage: &str,
    due_at: DateTime<Utc>,
) -> QueryResult<()> {
    use crate::db::schema::{review_deadlines, review_reminders_sent};
    diesel::delete(review_deadlines::table.find((Uid(call_id), stage))).execute(conn)?;
    diesel::delete(
        review_reminders_sent::table
            .filter(review_reminders_sent::call_id.eq(Uid(call_id)))
            .filter(review_reminders_sent::stage.eq(stage)),
    )
    .execute(conn)?;
    diesel::insert_into(review_deadlines::table)
        .values((
            review_deadlines::call_id.eq(Uid(call_id)),
            review_deadlines::stage.eq(stage),
            review_deadlines::due_at.eq(Ts(due_at)),
        ))
        .execute(conn)
        .map(|_| ())
}

/// The review deadlines staff set on a call: (stage, due), in stage order.
pub fn review_deadlines_of(
    conn: &mut DbConn,
    call_id: Uuid,
) -> QueryResult<Vec<(String, DateTime<Utc>)>> {
    use crate::db::schema::review_deadlines;
    let rows: Vec<(String, Ts)> = review_deadlines::table
        .filter(review_deadlines::call_id.eq(Uid(call_id)))
        .order(review_deadlines::stage.asc())
        .select((review_deadlines::stage, review_deadlines::due_at))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(stage, due)| (stage, due.0))
        .collect())
}

/// Review deadlines falling within (`now`, `until`]: (call, stage, due).
pub fn deadlines_between(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> QueryResult<Vec<(Uid, String, Ts)>> {
    use crate::db::schema::review_deadlines;
    review_deadlines::table
        .filter(review_deadlines::due_at.gt(Ts(now)))
        .filter(review_deadlines::due_at.le(Ts(until)))
        .select((
            review_deadlines::call_id,
            review_deadlines::stage,
            review_deadlines::due_at,
        ))
        .load(conn)
}

/// Jurors of a call's stage with assignments whose review is not submitted, with how many (withdrawn
/// applications left out: they are no longer reviewed).
pub fn pending_reviews(
    conn: &mut DbConn,
    call_id: Uuid,
    stage: &str,
) -> QueryResult<BTreeMap<Uuid, usize>> {
    let rows: Vec<(Uid, Option<ReviewStatus>)> = assignments::table
        .left_join(
            reviews::table.on(reviews::application_id
                .eq(assignments::application_id)
                .and(reviews::juror_id.eq(assignments::juror_id))
                .and(reviews::stage.eq(assignments::stage))),
        )
        .inner_join(applications::table)
        .filter(assignments::call_id.eq(Uid(call_id)))
        .filter(assignments::stage.eq(stage))
        .filter(applications::status.ne(ApplicationStatus::Withdrawn))
        .select((assignments::juror_id, reviews::status.nullable()))
        .load(conn)?;
    let mut pending: BTreeMap<Uuid, usize> = BTreeMap::new();
    for (juror, status) in rows {
        if status != Some(ReviewStatus::Submitted) {
            *pending.entry(juror.0).or_default() += 1;
        }
    }
    Ok(pending)
}

/// Records that the juror was reminded of the stage's deadline; false if already (by another instance).
pub fn mark_review_reminded(
    conn: &mut DbConn,
    call_id: Uuid,
    stage: &str,
    juror: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    use crate::db::schema::review_reminders_sent;
    let row = (
        review_reminders_sent::call_id.eq(Uid(call_id)),
        review_reminders_sent::stage.eq(stage),
        review_reminders_sent::juror_id.eq(Uid(juror)),
        review_reminders_sent::sent_at.eq(Ts(now)),
    );
    let insert = diesel::insert_into(review_reminders_sent::table).values(row);
    let inserted = crate::on_backend!(conn, |c| insert.on_conflict_do_nothing().execute(c)?);
    Ok(inserted == 1)
}

/// One submitted review of a stage, as the ranking reads it: its scores in the order of the criteria asked.
pub struct SubmittedScores {
    pub application: Uuid,
    pub juror: Uuid,
    pub scores: Vec<f64>,
}

/// Every submitted review of a stage that scores each of `criteria` (withdrawn applications left out), with
/// those scores in that order: one
/// narrow row per review, read in the order of the index `reviews (call_id, stage, status, application_id,
/// juror_id)`, its JSON read as text and parsed without building a document (a ranking reads tens of
/// thousands of them).
pub fn submitted_scores(
    conn: &mut DbConn,
    call_id: Uuid,
    stage: &str,
    criteria: &[&str],
) -> QueryResult<Vec<SubmittedScores>> {
    use diesel::dsl::sql;
    use diesel::sql_types::Text;
    let rows: Vec<(Uid, Uid, String)> = reviews::table
        .inner_join(applications::table)
        .filter(reviews::call_id.eq(Uid(call_id)))
        .filter(reviews::stage.eq(stage))
        .filter(reviews::status.eq(ReviewStatus::Submitted))
        .filter(applications::status.ne(ApplicationStatus::Withdrawn))
        .select((
            reviews::application_id,
            reviews::juror_id,
            sql::<Text>("CAST(reviews.scores AS TEXT)"),
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(application, juror, text)| {
            let scores = scores_in_order(&text, criteria)?;
            Some(SubmittedScores {
                application: application.0,
                juror: juror.0,
                scores,
            })
        })
        .collect())
}

/// The scores of `criteria`, in that order, from a review's stored JSON; `None` when one is missing.
pub(crate) fn scores_in_order(json: &str, criteria: &[&str]) -> Option<Vec<f64>> {
    // Criterion keys are plain identifiers, so they borrow from the text; anything else takes the long way.
    match serde_json::from_str::<std::collections::HashMap<&str, f64>>(json) {
        Ok(scores) => criteria.iter().map(|c| scores.get(c).copied()).collect(),
        Err(_) => {
            let scores: BTreeMap<String, f64> = serde_json::from_str(json).ok()?;
            criteria.iter().map(|c| scores.get(*c).copied()).collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_scores_are_read_in_the_order_asked_and_incomplete_ones_are_left_out() {
        let stored = r#"{"team": 4, "innovation": 7.5, "market": 2.0}"#;
        assert_eq!(
            scores_in_order(stored, &["innovation", "market", "team"]),
            Some(vec![7.5, 2.0, 4.0])
        );
        assert_eq!(scores_in_order(stored, &["innovation", "impact"]), None);
        // A key the fast path cannot borrow (an escape) still reads.
        assert_eq!(
            scores_in_order(r#"{"t\u0065am": 3}"#, &["team"]),
            Some(vec![3.0])
        );
        assert_eq!(scores_in_order("not json", &["team"]), None);
    }
}
