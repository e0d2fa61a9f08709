//! The ranking kept current (table `ranking_tallies`): one row per (call, stage, application) with at least
//! one counted review, recomputed — never incremented — by [`tally`] from the application's few reviews, in
//! the transaction of each change that can alter it. Reading a stage's ranking is then one range read of the
//! primary key ([`of_stage`]) instead of a join over every review.
//!
//! Callers refresh after their write: a review submitted or reopened ([`refresh_with`], [`refresh`]), a
//! conflict declared, detected or decided and a withdrawal ([`refresh_application`]), a call's grid changed
//! ([`rebuild_call`]). Calls whose reviews predate the table are built once after the migrations
//! (`service::upgrade`, from [`pending_calls`]).

use std::collections::{BTreeMap, HashSet};

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::Text;
use uuid::Uuid;

use crate::db::schema::{
    applications, calls, conflicts, detected_conflicts, ranking_tallies, ranking_tallies_pending,
    reviews,
};
use crate::db::types::{Json, Uid};
use crate::db::DbConn;
use crate::domain::application::ApplicationStatus;
use crate::domain::form::Stage;
use crate::domain::ranking::tally::{self, tally, Submitted, Tally};
use crate::domain::review::ReviewStatus;
use crate::error::Error;
use crate::store::conflicts::conflicted_pairs;
use crate::store::reviews::scores_in_order;

/// Rows written per INSERT when a whole call is rebuilt (9 values each, well under SQLite's 32,766).
const BATCH: usize = 1_000;

/// One stored tally.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = ranking_tallies)]
struct Row {
    call_id: Uid,
    stage: String,
    application_id: Uid,
    reference: Option<String>,
    reviews: i32,
    weighted_sum: f64,
    weighted_sumsq: f64,
    criteria: Vec<u8>,
    jurors: Vec<u8>,
}

impl Row {
    fn new(subject: &Subject, stage: &str, tally: &Tally) -> Row {
        Row {
            call_id: Uid(subject.call_id),
            stage: stage.to_owned(),
            application_id: Uid(subject.id),
            reference: subject.reference.clone(),
            reviews: i32::try_from(tally.reviews).unwrap_or(i32::MAX),
            weighted_sum: tally.weighted_sum,
            weighted_sumsq: tally.weighted_sumsq,
            criteria: tally::encode_criteria(&tally.criteria),
            jurors: tally::encode_jurors(&tally.jurors),
        }
    }
}

/// What a refresh needs to know of the application.
#[derive(Debug, Clone)]
pub struct Subject {
    pub id: Uuid,
    pub call_id: Uuid,
    /// Its reference (immutable once submitted: the tally keeps a copy for the ranking's lines).
    pub reference: Option<String>,
    pub withdrawn: bool,
}

/// One application's line of a stage's stored tallies.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredTally {
    pub application: Uuid,
    pub reference: Option<String>,
    pub tally: Tally,
}

/// The tallies of a call's stage, in application order (one range read of the primary key), each decoded as
/// it is read.
pub fn of_stage(conn: &mut DbConn, call_id: Uuid, stage: &Stage) -> QueryResult<Vec<StoredTally>> {
    type Line = (Uid, Option<String>, i32, f64, f64, Vec<u8>, Vec<u8>);
    let count = stage.criteria.len();
    let rows = ranking_tallies::table
        .filter(ranking_tallies::call_id.eq(Uid(call_id)))
        .filter(ranking_tallies::stage.eq(&stage.key))
        .order(ranking_tallies::application_id.asc())
        .select((
            ranking_tallies::application_id,
            ranking_tallies::reference,
            ranking_tallies::reviews,
            ranking_tallies::weighted_sum,
            ranking_tallies::weighted_sumsq,
            ranking_tallies::criteria,
            ranking_tallies::jurors,
        ))
        .load_iter::<Line, diesel::connection::DefaultLoadingMode>(conn)?;
    rows.map(|row| {
        let (application, reference, reviews, sum, sumsq, criteria, jurors) = row?;
        let unreadable = || {
            diesel::result::Error::DeserializationError(
                format!("unreadable ranking tally of application {}", application.0).into(),
            )
        };
        Ok(StoredTally {
            application: application.0,
            reference,
            tally: Tally {
                reviews: usize::try_from(reviews).map_err(|_| unreadable())?,
                weighted_sum: sum,
                weighted_sumsq: sumsq,
                criteria: tally::decode_criteria(&criteria, count).ok_or_else(unreadable)?,
                jurors: tally::decode_jurors(&jurors).ok_or_else(unreadable)?,
            },
        })
    })
    .collect()
}

/// Recomputes the application's tally at `stage` (already loaded with its call, as a review's submission
/// has them): reads its submitted reviews of the stage and the conflicts of their jurors, then replaces the
/// row (at most six statements, the lock included).
pub fn refresh_with(conn: &mut DbConn, subject: &Subject, stage: &Stage) -> QueryResult<()> {
    recompute(conn, subject, std::slice::from_ref(stage), Some(&stage.key))
}

/// Recomputes the application's tally at the stage with key `stage`.
pub fn refresh(conn: &mut DbConn, application_id: Uuid, stage: &str) -> Result<(), Error> {
    let Some((subject, stages)) = load(conn, application_id)? else {
        return Ok(());
    };
    let known: Vec<Stage> = stages.into_iter().filter(|s| s.key == stage).collect();
    // A stage the call no longer has keeps no tally (the row, if any, is deleted).
    recompute(conn, &subject, &known, Some(stage))?;
    Ok(())
}

/// Recomputes the application's tallies at every stage of its call (a conflict or its status changed).
pub fn refresh_application(conn: &mut DbConn, application_id: Uuid) -> Result<(), Error> {
    let Some((subject, stages)) = load(conn, application_id)? else {
        return Ok(());
    };
    recompute(conn, &subject, &stages, None)?;
    Ok(())
}

/// The application as a refresh needs it, with its call's stages; `None` when there is no such application.
fn load(conn: &mut DbConn, application_id: Uuid) -> Result<Option<(Subject, Vec<Stage>)>, Error> {
    let found: Option<(Uid, Option<String>, ApplicationStatus, Json)> = applications::table
        .inner_join(calls::table)
        .filter(applications::id.eq(Uid(application_id)))
        .select((
            applications::call_id,
            applications::reference,
            applications::status,
            calls::stages,
        ))
        .first(conn)
        .optional()?;
    let Some((call_id, reference, status, stages)) = found else {
        return Ok(None);
    };
    let stages: Vec<Stage> = crate::store::calls::stored(&stages)?;
    Ok(Some((
        Subject {
            id: application_id,
            call_id: call_id.0,
            reference,
            withdrawn: status.is_withdrawn(),
        },
        stages,
    )))
}

/// Replaces the application's rows at `stages` (all its rows when `only` is `None`, the row of stage `only`
/// otherwise) with the tallies of its submitted reviews.
///
/// The application's row is locked first (PostgreSQL): of two jurors submitting reviews of one application at
/// once, the second waits for the first to commit, then reads both reviews, so neither tally misses the
/// other's review and the two never insert the same row.
fn recompute(
    conn: &mut DbConn,
    subject: &Subject,
    stages: &[Stage],
    only: Option<&str>,
) -> QueryResult<()> {
    crate::store::applications::lock(conn, subject.id)?;
    let mut query = reviews::table
        .filter(reviews::application_id.eq(Uid(subject.id)))
        .filter(reviews::status.eq(ReviewStatus::Submitted))
        .select((
            reviews::juror_id,
            reviews::stage,
            sql::<Text>("CAST(reviews.scores AS TEXT)"),
        ))
        .into_boxed();
    if let Some(stage) = only {
        query = query.filter(reviews::stage.eq(stage));
    }
    let submitted: Vec<Reviewed> = if subject.withdrawn {
        Vec::new()
    } else {
        query.load(conn)?
    };
    let conflicted = conflicted_jurors(conn, subject, &submitted)?;
    let rows: Vec<Row> = stages
        .iter()
        .filter_map(|stage| {
            let tally = stage_tally(stage, subject.withdrawn, &submitted, &conflicted)?;
            Some(Row::new(subject, &stage.key, &tally))
        })
        .collect();
    let mut delete = diesel::delete(
        ranking_tallies::table
            .filter(ranking_tallies::call_id.eq(Uid(subject.call_id)))
            .filter(ranking_tallies::application_id.eq(Uid(subject.id))),
    )
    .into_boxed();
    if let Some(stage) = only {
        delete = delete.filter(ranking_tallies::stage.eq(stage.to_owned()));
    }
    delete.execute(conn)?;
    insert(conn, &rows)
}

/// A submitted review as a refresh reads it: (juror, stage, scores as JSON text).
type Reviewed = (Uid, String, String);

/// The tally at `stage` of one application's submitted reviews `(juror, stage, scores as JSON text)`.
fn stage_tally(
    stage: &Stage,
    withdrawn: bool,
    submitted: &[Reviewed],
    conflicted: &HashSet<Uuid>,
) -> Option<Tally> {
    let keys: Vec<&str> = stage.criteria.iter().map(|c| c.key.as_str()).collect();
    let reviews: Vec<Submitted> = submitted
        .iter()
        .filter(|(_, key, _)| *key == stage.key)
        .map(|(juror, _, scores)| Submitted {
            juror: juror.0,
            scores: scores_in_order(scores, &keys),
            conflicted: conflicted.contains(&juror.0),
        })
        .collect();
    tally(stage, withdrawn, &reviews)
}

/// The jurors among those of `submitted` whom a recorded conflict keeps away from the application
/// (declared, or detected with a status that applies): two indexed lookups, none without reviews.
fn conflicted_jurors(
    conn: &mut DbConn,
    subject: &Subject,
    submitted: &[Reviewed],
) -> QueryResult<HashSet<Uuid>> {
    if submitted.is_empty() {
        return Ok(HashSet::new());
    }
    let jurors: Vec<Uid> = submitted.iter().map(|(juror, _, _)| *juror).collect();
    let declared: Vec<Uid> = conflicts::table
        .filter(conflicts::juror_id.eq_any(&jurors))
        .filter(conflicts::application_id.eq(Uid(subject.id)))
        .select(conflicts::juror_id)
        .load(conn)?;
    let detected: Vec<Uid> = detected_conflicts::table
        .filter(detected_conflicts::call_id.eq(Uid(subject.call_id)))
        .filter(detected_conflicts::juror_id.eq_any(&jurors))
        .filter(detected_conflicts::application_id.eq(Uid(subject.id)))
        .filter(detected_conflicts::status.eq_any(crate::store::conflicts::applying()))
        .select(detected_conflicts::juror_id)
        .load(conn)?;
    Ok(declared.into_iter().chain(detected).map(|j| j.0).collect())
}

/// Recomputes every tally of a call from its submitted reviews and recorded conflicts (a few statements
/// whatever its size, plus one INSERT per thousand rows): after its grid changed, or to build tallies for
/// reviews written before them.
pub fn rebuild_call(conn: &mut DbConn, call_id: Uuid) -> Result<usize, Error> {
    let stored: Option<Json> = calls::table
        .find(Uid(call_id))
        .select(calls::stages)
        .first(conn)
        .optional()?;
    diesel::delete(ranking_tallies::table.filter(ranking_tallies::call_id.eq(Uid(call_id))))
        .execute(conn)?;
    let Some(stored) = stored else {
        return Ok(0);
    };
    let stages: Vec<Stage> = crate::store::calls::stored(&stored)?;
    let submitted: Vec<(Uid, Uid, String, String, Option<String>, ApplicationStatus)> =
        reviews::table
            .inner_join(applications::table)
            .filter(reviews::call_id.eq(Uid(call_id)))
            .filter(reviews::status.eq(ReviewStatus::Submitted))
            .order(reviews::application_id.asc())
            .select((
                reviews::application_id,
                reviews::juror_id,
                reviews::stage,
                sql::<Text>("CAST(reviews.scores AS TEXT)"),
                applications::reference,
                applications::status,
            ))
            .load(conn)?;
    let pairs = conflicted_pairs(conn, call_id, false)?;
    let mut by_application: BTreeMap<Uuid, (Subject, Vec<Reviewed>)> = BTreeMap::new();
    for (application, juror, stage, scores, reference, status) in submitted {
        by_application
            .entry(application.0)
            .or_insert_with(|| {
                (
                    Subject {
                        id: application.0,
                        call_id,
                        reference,
                        withdrawn: status.is_withdrawn(),
                    },
                    Vec::new(),
                )
            })
            .1
            .push((juror, stage, scores));
    }
    let mut rows = Vec::new();
    for (application, (subject, submitted)) in &by_application {
        let conflicted: HashSet<Uuid> = submitted
            .iter()
            .map(|(juror, _, _)| juror.0)
            .filter(|juror| pairs.contains(&(*application, *juror)))
            .collect();
        for stage in &stages {
            if let Some(tally) = stage_tally(stage, subject.withdrawn, submitted, &conflicted) {
                rows.push(Row::new(subject, &stage.key, &tally));
            }
        }
    }
    for batch in rows.chunks(BATCH) {
        insert(conn, batch)?;
    }
    Ok(rows.len())
}

/// Writes new rows (the caller deleted the ones they replace).
fn insert(conn: &mut DbConn, rows: &[Row]) -> QueryResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let insert = diesel::insert_into(ranking_tallies::table).values(rows);
    crate::on_backend!(conn, |c| insert.execute(c)?);
    Ok(())
}

/// The calls the migration listed as holding reviews from before the tallies, still to be built.
pub fn pending_calls(conn: &mut DbConn) -> QueryResult<Vec<Uuid>> {
    let pending: Vec<Uid> = ranking_tallies_pending::table
        .select(ranking_tallies_pending::call_id)
        .load(conn)?;
    Ok(pending.into_iter().map(|id| id.0).collect())
}

/// Forgets a pending call once its tallies are built.
pub fn forget_pending(conn: &mut DbConn, call_id: Uuid) -> QueryResult<()> {
    diesel::delete(ranking_tallies_pending::table.find(Uid(call_id))).execute(conn)?;
    Ok(())
}

/// Every stored tally of a call as `(stage, application, tally)`, in that order (to compare a maintained
/// call with a rebuilt one).
pub fn of_call(conn: &mut DbConn, call_id: Uuid) -> Result<Vec<(String, StoredTally)>, Error> {
    let Some(stored) = calls::table
        .find(Uid(call_id))
        .select(calls::stages)
        .first::<Json>(conn)
        .optional()?
    else {
        return Ok(Vec::new());
    };
    let mut stages: Vec<Stage> = crate::store::calls::stored(&stored)?;
    stages.sort_by(|a, b| a.key.cmp(&b.key));
    let mut all = Vec::new();
    for stage in stages {
        for line in of_stage(conn, call_id, &stage)? {
            all.push((stage.key.clone(), line));
        }
    }
    Ok(all)
}
