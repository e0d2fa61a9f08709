//! The jury's side: jurors of a call, declared conflicts, assignments, reviews and their scores, decisions.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::schema::{
    applications, assignments, call_jurors, conflicts, decisions, organization_members,
    organizations, reviews, users,
};
use crate::db::types::{Json, Ts, Uid};
use crate::db::DbConn;
use crate::domain::application::{ApplicationStatus, DecisionOutcome};
use crate::domain::review::ReviewStatus;

/// A juror of a call, with the account's public facts.
#[derive(Debug, Clone, Queryable)]
pub struct Juror {
    pub user_id: Uid,
    pub email: String,
    pub display_name: String,
    pub affiliations: Json,
    pub created_at: Ts,
}

/// Adds a juror; false when already on the jury.
pub fn add_juror(
    conn: &mut DbConn,
    call_id: Uuid,
    user_id: Uuid,
    affiliations: serde_json::Value,
    added_by: Option<Uuid>,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    let row = (
        call_jurors::call_id.eq(Uid(call_id)),
        call_jurors::user_id.eq(Uid(user_id)),
        call_jurors::affiliations.eq(Json(affiliations)),
        call_jurors::added_by.eq(added_by.map(Uid)),
        call_jurors::created_at.eq(Ts(now)),
    );
    let insert = diesel::insert_into(call_jurors::table).values(row);
    let inserted = match conn {
        DbConn::Pg(c) => insert.on_conflict_do_nothing().execute(c)?,
        DbConn::Sqlite(c) => insert.on_conflict_do_nothing().execute(c)?,
    };
    Ok(inserted == 1)
}

/// Removes a juror; false when not on the jury.
pub fn remove_juror(conn: &mut DbConn, call_id: Uuid, user_id: Uuid) -> QueryResult<bool> {
    let removed =
        diesel::delete(call_jurors::table.find((Uid(call_id), Uid(user_id)))).execute(conn)?;
    // Their assignments go with them (their submitted reviews stay on record).
    diesel::delete(
        assignments::table
            .filter(assignments::call_id.eq(Uid(call_id)))
            .filter(assignments::juror_id.eq(Uid(user_id))),
    )
    .execute(conn)?;
    Ok(removed == 1)
}

/// Whether the user sits on the call's jury.
pub fn is_juror(conn: &mut DbConn, call_id: Uuid, user_id: Uuid) -> QueryResult<bool> {
    let found: Option<Uid> = call_jurors::table
        .find((Uid(call_id), Uid(user_id)))
        .select(call_jurors::user_id)
        .first(conn)
        .optional()?;
    Ok(found.is_some())
}

/// The jurors of a call, in the order they joined.
pub fn jurors(conn: &mut DbConn, call_id: Uuid) -> QueryResult<Vec<Juror>> {
    call_jurors::table
        .inner_join(users::table)
        .filter(call_jurors::call_id.eq(Uid(call_id)))
        .order((call_jurors::created_at.asc(), call_jurors::user_id.asc()))
        .select((
            call_jurors::user_id,
            users::email,
            users::display_name,
            call_jurors::affiliations,
            call_jurors::created_at,
        ))
        .load(conn)
}

/// The calls whose jury the user sits on.
pub fn juries_of(conn: &mut DbConn, user_id: Uuid) -> QueryResult<Vec<Uuid>> {
    let ids: Vec<Uid> = call_jurors::table
        .filter(call_jurors::user_id.eq(Uid(user_id)))
        .order(call_jurors::call_id.asc())
        .select(call_jurors::call_id)
        .load(conn)?;
    Ok(ids.into_iter().map(|id| id.0).collect())
}

/// A conflict of interest declared by a juror or by staff.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = conflicts)]
pub struct Conflict {
    pub id: Uid,
    pub call_id: Uid,
    pub juror_id: Uid,
    pub application_id: Uid,
    pub reason: String,
    pub declared_by: Option<Uid>,
    pub created_at: Ts,
}

/// Records a declared conflict; false when the pair was already declared.
pub fn declare_conflict(conn: &mut DbConn, conflict: &Conflict) -> QueryResult<bool> {
    let insert = diesel::insert_into(conflicts::table).values(conflict);
    let inserted = match conn {
        DbConn::Pg(c) => insert.on_conflict_do_nothing().execute(c)?,
        DbConn::Sqlite(c) => insert.on_conflict_do_nothing().execute(c)?,
    };
    Ok(inserted == 1)
}

/// The declared conflicts of a call.
pub fn declared_conflicts(conn: &mut DbConn, call_id: Uuid) -> QueryResult<Vec<Conflict>> {
    conflicts::table
        .filter(conflicts::call_id.eq(Uid(call_id)))
        .order(conflicts::id.asc())
        .select(Conflict::as_select())
        .load(conn)
}

/// What conflict detection needs to know about the applications of a call: organization, SIREN, website and
/// the emails of its members (two statements).
pub struct ApplicantFacts {
    pub application_id: Uuid,
    pub organization_id: Uuid,
    pub siren: Option<String>,
    pub website: Option<String>,
    pub member_emails: Vec<String>,
}

/// The facts of every application of a call that is past its draft (or of one application).
pub fn applicant_facts(
    conn: &mut DbConn,
    call_id: Uuid,
    only: Option<Uuid>,
) -> QueryResult<Vec<ApplicantFacts>> {
    let mut query = applications::table
        .inner_join(organizations::table)
        .filter(applications::call_id.eq(Uid(call_id)))
        .select((
            applications::id,
            organizations::id,
            organizations::siren,
            organizations::website,
        ))
        .order(applications::id.asc())
        .into_boxed();
    // Drafts are never in front of a juror (nor assigned, reviewed or ranked): a whole call's facts leave them
    // out, which on deadline day is most of the call.
    match only {
        Some(id) => query = query.filter(applications::id.eq(Uid(id))),
        None => query = query.filter(applications::status.ne(ApplicationStatus::Draft)),
    }
    let rows: Vec<(Uid, Uid, Option<String>, Option<String>)> = query.load(conn)?;
    // The whole call through a subquery rather than its organization ids bound one by one: SQLite allows
    // 32,766 bound values.
    let members_of = organization_members::table
        .inner_join(users::table)
        .select((organization_members::organization_id, users::email));
    let members: Vec<(Uid, String)> = if only.is_some() {
        let org_ids: Vec<Uid> = rows.iter().map(|r| r.1).collect();
        members_of
            .filter(organization_members::organization_id.eq_any(org_ids))
            .load(conn)?
    } else {
        let of_call = applications::table
            .filter(applications::call_id.eq(Uid(call_id)))
            .filter(applications::status.ne(ApplicationStatus::Draft))
            .select(applications::organization_id);
        members_of
            .filter(organization_members::organization_id.eq_any(of_call))
            .load(conn)?
    };
    let mut by_org: BTreeMap<Uid, Vec<String>> = BTreeMap::new();
    for (org, email) in members {
        by_org.entry(org).or_default().push(email);
    }
    Ok(rows
        .into_iter()
        .map(|(app, org, siren, website)| ApplicantFacts {
            application_id: app.0,
            organization_id: org.0,
            siren,
            website,
            member_emails: by_org.get(&org).cloned().unwrap_or_default(),
        })
        .collect())
}

/// The organizations each of these users belongs to.
pub fn organizations_of(
    conn: &mut DbConn,
    user_ids: &[Uuid],
) -> QueryResult<BTreeMap<Uuid, Vec<Uuid>>> {
    let ids: Vec<Uid> = user_ids.iter().copied().map(Uid).collect();
    let rows: Vec<(Uid, Uid)> = organization_members::table
        .filter(organization_members::user_id.eq_any(&ids))
        .select((
            organization_members::user_id,
            organization_members::organization_id,
        ))
        .load(conn)?;
    let mut map: BTreeMap<Uuid, Vec<Uuid>> = BTreeMap::new();
    for (user, org) in rows {
        map.entry(user.0).or_default().push(org.0);
    }
    Ok(map)
}

/// An assignment of an application to a juror for a stage.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = assignments)]
pub struct Assignment {
    pub id: Uid,
    pub call_id: Uid,
    pub application_id: Uid,
    pub juror_id: Uid,
    pub stage: String,
    pub created_by: Option<Uid>,
    pub created_at: Ts,
}

/// Stores assignments; the ones that already exist are skipped. Returns how many were new.
pub fn insert_assignments(conn: &mut DbConn, rows: &[Assignment]) -> QueryResult<usize> {
    let mut inserted = 0;
    for row in rows {
        let insert = diesel::insert_into(assignments::table).values(row);
        inserted += match conn {
            DbConn::Pg(c) => insert.on_conflict_do_nothing().execute(c)?,
            DbConn::Sqlite(c) => insert.on_conflict_do_nothing().execute(c)?,
        };
    }
    Ok(inserted)
}

/// The assignments of a call for a stage (all stages when `None`).
pub fn assignments_of_call(
    conn: &mut DbConn,
    call_id: Uuid,
    stage: Option<&str>,
) -> QueryResult<Vec<Assignment>> {
    let mut query = assignments::table
        .filter(assignments::call_id.eq(Uid(call_id)))
        .order(assignments::id.asc())
        .select(Assignment::as_select())
        .into_boxed();
    if let Some(stage) = stage {
        query = query.filter(assignments::stage.eq(stage.to_owned()));
    }
    query.load(conn)
}

/// Whether the juror is assigned the application (for `stage`, or for any stage).
pub fn is_assigned(
    conn: &mut DbConn,
    application_id: Uuid,
    juror_id: Uuid,
    stage: Option<&str>,
) -> QueryResult<bool> {
    let mut query = assignments::table
        .filter(assignments::application_id.eq(Uid(application_id)))
        .filter(assignments::juror_id.eq(Uid(juror_id)))
        .select(assignments::id)
        .into_boxed();
    if let Some(stage) = stage {
        query = query.filter(assignments::stage.eq(stage.to_owned()));
    }
    Ok(query.first::<Uid>(conn).optional()?.is_some())
}

/// Whether a conflict was declared between the juror and the application.
pub fn has_declared_conflict(
    conn: &mut DbConn,
    application_id: Uuid,
    juror_id: Uuid,
) -> QueryResult<bool> {
    let found: Option<Uid> = conflicts::table
        .filter(conflicts::application_id.eq(Uid(application_id)))
        .filter(conflicts::juror_id.eq(Uid(juror_id)))
        .select(conflicts::id)
        .first(conn)
        .optional()?;
    Ok(found.is_some())
}

/// A juror's assignment with the state of their review.
#[derive(Debug, Clone, Queryable)]
pub struct MyAssignment {
    pub application_id: Uid,
    pub call_id: Uid,
    pub stage: String,
    pub reference: Option<String>,
    pub review_status: Option<ReviewStatus>,
    /// The stage's review deadline, if staff set one.
    pub review_due_at: Option<Ts>,
}

/// A juror's assignments (optionally for one call), with their review status and the stage's deadline, in one
/// statement; withdrawn applications are left out (they are no longer evaluated).
pub fn assignments_of_juror(
    conn: &mut DbConn,
    juror_id: Uuid,
    call_id: Option<Uuid>,
) -> QueryResult<Vec<MyAssignment>> {
    use crate::db::schema::review_deadlines;
    let mut query = assignments::table
        .inner_join(applications::table)
        .left_join(
            reviews::table.on(reviews::application_id
                .eq(assignments::application_id)
                .and(reviews::juror_id.eq(assignments::juror_id))
                .and(reviews::stage.eq(assignments::stage))),
        )
        .left_join(
            review_deadlines::table.on(review_deadlines::call_id
                .eq(assignments::call_id)
                .and(review_deadlines::stage.eq(assignments::stage))),
        )
        .filter(assignments::juror_id.eq(Uid(juror_id)))
        .filter(applications::status.ne(ApplicationStatus::Withdrawn))
        .order((assignments::call_id.asc(), assignments::id.asc()))
        .select((
            assignments::application_id,
            assignments::call_id,
            assignments::stage,
            applications::reference,
            reviews::status.nullable(),
            review_deadlines::due_at.nullable(),
        ))
        .into_boxed();
    if let Some(call_id) = call_id {
        query = query.filter(assignments::call_id.eq(Uid(call_id)));
    }
    query.load(conn)
}

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
            match conn {
                DbConn::Pg(c) => insert.on_conflict_do_nothing().execute(c)?,
                DbConn::Sqlite(c) => insert.on_conflict_do_nothing().execute(c)?,
            }
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

/// The reviews of an application (all jurors, or one), with their scores (one statement).
pub fn reviews_of_application(
    conn: &mut DbConn,
    application_id: Uuid,
    juror: Option<Uuid>,
) -> QueryResult<Vec<(Review, BTreeMap<String, f64>)>> {
    let mut query = reviews::table
        .filter(reviews::application_id.eq(Uid(application_id)))
        .order((reviews::stage.asc(), reviews::id.asc()))
        .select((Review::as_select(), reviews::scores))
        .into_boxed();
    if let Some(juror) = juror {
        query = query.filter(reviews::juror_id.eq(Uid(juror)));
    }
    let found: Vec<(Review, Json)> = query.load(conn)?;
    Ok(found
        .into_iter()
        .map(|(review, scores)| (review, scores_map(&scores)))
        .collect())
}

/// A decision as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = decisions)]
pub struct Decision {
    pub application_id: Uid,
    pub call_id: Uid,
    pub outcome: DecisionOutcome,
    pub motivation: String,
    pub decided_by: Option<Uid>,
    pub decided_at: Ts,
    pub published_at: Option<Ts>,
}

/// Withdraws a juror's assignments to an application (a conflict was declared); returns how many.
pub fn remove_assignments(
    conn: &mut DbConn,
    application_id: Uuid,
    juror_id: Uuid,
) -> QueryResult<usize> {
    diesel::delete(
        assignments::table
            .filter(assignments::application_id.eq(Uid(application_id)))
            .filter(assignments::juror_id.eq(Uid(juror_id))),
    )
    .execute(conn)
}

/// Records (or replaces) a pending decision; false when the application's decision was already published.
/// Each write is conditional, so a publication running at the same time never has its decision changed
/// under it: a pending decision is replaced only while still unpublished, a new one inserted only if none is.
pub fn record_decision(conn: &mut DbConn, decision: &Decision) -> QueryResult<bool> {
    let replace = || {
        diesel::update(
            decisions::table
                .find(decision.application_id)
                .filter(decisions::published_at.is_null()),
        )
        .set((
            decisions::outcome.eq(&decision.outcome),
            decisions::motivation.eq(&decision.motivation),
            decisions::decided_by.eq(decision.decided_by),
            decisions::decided_at.eq(decision.decided_at),
        ))
    };
    if replace().execute(conn)? == 1 {
        return Ok(true);
    }
    let insert = diesel::insert_into(decisions::table).values(decision);
    let inserted = match conn {
        DbConn::Pg(c) => insert.on_conflict_do_nothing().execute(c)?,
        DbConn::Sqlite(c) => insert.on_conflict_do_nothing().execute(c)?,
    };
    if inserted == 1 {
        return Ok(true);
    }
    // Inserted by another request meanwhile: replace it if it is still pending.
    Ok(replace().execute(conn)? == 1)
}

/// The decisions of a call not published yet.
pub fn pending_decisions(conn: &mut DbConn, call_id: Uuid) -> QueryResult<Vec<Decision>> {
    decisions::table
        .filter(decisions::call_id.eq(Uid(call_id)))
        .filter(decisions::published_at.is_null())
        .order(decisions::application_id.asc())
        .select(Decision::as_select())
        .load(conn)
}

/// The decisions of a call.
pub fn decisions_of_call(conn: &mut DbConn, call_id: Uuid) -> QueryResult<Vec<Decision>> {
    decisions::table
        .filter(decisions::call_id.eq(Uid(call_id)))
        .order(decisions::application_id.asc())
        .select(Decision::as_select())
        .load(conn)
}

/// Marks a decision published if it is not yet; false when another publication did it first (on PostgreSQL
/// the second one waits for the first to commit, then finds nothing to change).
pub fn mark_published(
    conn: &mut DbConn,
    application_id: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    let changed = diesel::update(
        decisions::table
            .find(Uid(application_id))
            .filter(decisions::published_at.is_null()),
    )
    .set(decisions::published_at.eq(Ts(now)))
    .execute(conn)?;
    Ok(changed == 1)
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
    let inserted = match conn {
        DbConn::Pg(c) => insert.on_conflict_do_nothing().execute(c)?,
        DbConn::Sqlite(c) => insert.on_conflict_do_nothing().execute(c)?,
    };
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
fn scores_in_order(json: &str, criteria: &[&str]) -> Option<Vec<f64>> {
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
