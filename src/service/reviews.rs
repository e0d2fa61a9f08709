//! Reviews as use cases: an assigned juror saves a draft and submits it (locked), staff reopen a submitted
//! one, anyone allowed lists them, and a stage is ranked from the tallies kept as reviews are submitted and
//! reopened ([`stage_ranking`]), the same ranking to the bit as the domain's [`rank_applications`] on the
//! submitted scores ([`full_ranking`], the reference).

use std::collections::{BTreeMap, HashSet};

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;

use crate::auth::permissions::{can_read_reviews, can_review_as_juror, JurorFacts, Principal};
use crate::db::types::{Ts, Uid};
use crate::db::DbConn;
use crate::domain::action::Action;
use crate::domain::check::Check;
use crate::domain::form::Stage;
use crate::domain::ranking::tally::{rank_tallies, Tally};
use crate::domain::ranking::{
    rank_applications, weighted_score, RankedApplication, ReviewScores, WeightedReview,
};
use crate::domain::refusal::Refusal;
use crate::domain::review::{ReviewRefusal, ReviewStatus, ReviewWindow};
use crate::error::{Error, FieldError};
use crate::store::applications::{self, Application};
use crate::store::calls::{self, Call};
use crate::store::journal::{Entity, Feed, Happened};
use crate::store::reviews::{self, Review};
use crate::store::{access, conflicts, ranking_tallies};

/// A review with its scores (criterion key → score).
pub type ScoredReview = (Review, BTreeMap<String, f64>);

/// Above this spread of weighted scores (on 0–100), the jurors of an application disagree.
pub const DISAGREEMENT_THRESHOLD: f64 = 15.0;

/// What the juror saves.
#[derive(Debug)]
pub struct Draft {
    pub stage: String,
    pub scores: BTreeMap<String, f64>,
    pub comment: Option<String>,
}

/// What is recorded about the caller as a juror of the application (for `stage`, or any stage).
fn juror_facts(
    conn: &mut DbConn,
    caller: &Principal,
    app: &Application,
    stage: Option<&str>,
) -> Result<JurorFacts, Error> {
    let recorded = access::recorded(
        conn,
        crate::service::applications::around(app),
        caller.user_id,
        stage,
    )?;
    Ok(JurorFacts {
        assigned: recorded.assigned,
        conflicted: recorded.conflicted,
    })
}

/// The application, its call and the stage, once the caller is an assigned, unconflicted juror for `stage`
/// (the recorded conflicts are read, never detected anew); 404 otherwise.
fn as_assigned_juror(
    conn: &mut DbConn,
    caller: &Principal,
    application_id: Uuid,
    stage: &str,
) -> Result<(Application, Call, Stage), Error> {
    let app = applications::find(conn, application_id)?.ok_or(Error::NotFound)?;
    let facts = juror_facts(conn, caller, &app, Some(stage))?;
    if !can_review_as_juror(caller, facts) {
        return Err(Error::NotFound);
    }
    let call = calls::find(conn, *app.call_id)?.ok_or(Error::NotFound)?;
    call.kind.allows_jury_work()?;
    let stage = call
        .stages()?
        .into_iter()
        .find(|s| s.key == stage)
        .ok_or_else(|| Error::field("stage", "unknown_stage", "the call has no such stage"))?;
    Ok((app, call, stage))
}

/// Refused when the juror may no longer change their review of `app` at `stage`: the application was
/// withdrawn, or the stage's review deadline passed and staff did not reopen this review.
fn check_window(
    conn: &mut DbConn,
    app: &Application,
    call: &Call,
    stage: &str,
    review: Option<&Review>,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let window = ReviewWindow {
        application_withdrawn: app.status.is_withdrawn(),
        due_at: reviews::review_deadline(conn, *call.id, stage)
            .context("loading the stage's review deadline")?,
        reopened: review.is_some_and(|r| r.reopened_at.is_some()),
    };
    window.check(now).map_err(|refusal| {
        Error::from(match refusal {
            ReviewRefusal::ApplicationWithdrawn => Refusal::ApplicationWithdrawn,
            ReviewRefusal::DeadlinePassed(due) => Refusal::ReviewDeadlinePassed {
                due,
                local: crate::notify::applications::format_instant(due, &call.timezone, "en"),
            },
        })
    })
}

/// The field errors of scores against the stage's grid: unknown criteria, scores out of range.
fn score_errors(stage: &Stage, scores: &BTreeMap<String, f64>) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for (key, score) in scores {
        match stage.criteria.iter().find(|c| &c.key == key) {
            None => errors.push(FieldError::new(
                format!("scores.{key}"),
                "unknown_criterion",
                "the stage has no such criterion",
            )),
            Some(c) if !score.is_finite() || *score < c.min || *score > c.max => {
                errors.push(FieldError::new(
                    format!("scores.{key}"),
                    "out_of_range",
                    format!("a score from {} to {}", c.min, c.max),
                ))
            }
            Some(_) => {}
        }
    }
    errors
}

/// Saves the caller's review as a draft: 404 unless an assigned, unconflicted juror; 422 for an unknown
/// criterion or a score out of range (with whatever `check` gathered while parsing); refused once
/// submitted, when the application was withdrawn or past the stage's deadline unless reopened.
pub fn save(
    conn: &mut DbConn,
    caller: &Principal,
    application_id: Uuid,
    draft: Draft,
    mut check: Check,
    now: DateTime<Utc>,
) -> Result<ScoredReview, Error> {
    let (app, call, stage) = as_assigned_juror(conn, caller, application_id, &draft.stage)?;
    for error in score_errors(&stage, &draft.scores) {
        check.push(error);
    }
    check.finish()?;
    let existing = reviews::find_review(conn, application_id, caller.user_id, &stage.key)?;
    if existing
        .as_ref()
        .is_some_and(|r| r.status == ReviewStatus::Submitted)
    {
        return Err(Refusal::ReviewLocked.into());
    }
    check_window(conn, &app, &call, &stage.key, existing.as_ref(), now)?;
    let expected_version = existing.as_ref().map(|r| r.version);
    let review = match existing {
        Some(r) => Review {
            comment: draft.comment,
            version: r.version + 1,
            updated_at: Ts(now),
            ..r
        },
        None => Review {
            id: Uid(Uuid::now_v7()),
            call_id: app.call_id,
            application_id: app.id,
            juror_id: Uid(caller.user_id),
            stage: stage.key.clone(),
            comment: draft.comment,
            status: ReviewStatus::Draft,
            submitted_at: None,
            version: 1,
            created_at: Ts(now),
            updated_at: Ts(now),
            reopened_at: None,
        },
    };
    if !reviews::save_review(conn, &review, &draft.scores, expected_version)? {
        return Err(Refusal::ReviewChanged.into());
    }
    Happened::new(
        Action::ReviewSaved,
        Some(caller.user_id),
        Entity::Application(application_id),
    )
    .after(json!({"review_id": review.id, "stage": review.stage}))
    .record(conn, now)?;
    Ok((review, draft.scores))
}

/// Submits and locks the caller's review: 422 lists every criterion still unscored; refused when already
/// submitted (also the second of two submissions at once), withdrawn, or past the deadline unless reopened.
pub fn submit(
    conn: &mut DbConn,
    caller: &Principal,
    application_id: Uuid,
    stage_key: &str,
    now: DateTime<Utc>,
) -> Result<ScoredReview, Error> {
    let (app, call, stage) = as_assigned_juror(conn, caller, application_id, stage_key)?;
    let review = reviews::find_review(conn, application_id, caller.user_id, stage_key)?
        .ok_or_else(|| Error::field("scores", "required", "save a review before submitting it"))?;
    if review.status == ReviewStatus::Submitted {
        return Err(Refusal::ReviewAlreadySubmitted.into());
    }
    check_window(conn, &app, &call, stage_key, Some(&review), now)?;
    let scores = reviews::scores_of(conn, *review.id)?;
    let missing: Vec<FieldError> = stage
        .criteria
        .iter()
        .filter(|c| !scores.contains_key(&c.key))
        .map(|c| {
            FieldError::new(
                format!("scores.{}", c.key),
                "required",
                "this criterion is not scored",
            )
        })
        .collect();
    if !missing.is_empty() {
        return Err(Error::Validation(missing));
    }
    let before_version = review.version;
    let review = Review {
        status: ReviewStatus::Submitted,
        submitted_at: Some(Ts(now)),
        version: review.version + 1,
        updated_at: Ts(now),
        ..review
    };
    // Conditional: of two submissions at once, the second finds the version moved and records nothing.
    if !reviews::save_review(conn, &review, &scores, Some(before_version))? {
        return Err(Refusal::ReviewAlreadySubmitted.into());
    }
    // The review now counts: the application's tally at the stage is recomputed with it.
    let subject = ranking_tallies::Subject {
        id: application_id,
        call_id: *app.call_id,
        reference: app.reference.clone(),
        withdrawn: app.status.is_withdrawn(),
    };
    ranking_tallies::refresh_with(conn, &subject, &stage)
        .context("refreshing the application's ranking tally")?;
    Happened::new(
        Action::ReviewSubmitted,
        Some(caller.user_id),
        Entity::Application(application_id),
    )
    .before(json!({"status": ReviewStatus::Draft.as_str()}))
    .after(json!({"review_id": review.id, "stage": review.stage, "status": review.status.as_str()}))
    .on_feed(Feed::application(
        *review.call_id,
        application_id,
        json!({"review_id": review.id, "juror_id": review.juror_id, "stage": review.stage}),
    ))
    .record(conn, now)?;
    Ok((review, scores))
}

/// A page of the reviews of an application the caller may read (those after `after`, at most `limit`): all of
/// them for staff (administrators, the call's managers and observers), their own for an assigned, unconflicted juror (blind review, filtered in the query); 404
/// for anyone else.
pub fn list(
    conn: &mut DbConn,
    caller: &Principal,
    application_id: Uuid,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<ScoredReview>, Error> {
    let app = applications::find(conn, application_id)?.ok_or(Error::NotFound)?;
    let facts = juror_facts(conn, caller, &app, None)?;
    let access = crate::service::staff::load_call_access(conn, caller, *app.call_id)?;
    let only = can_read_reviews(caller, facts, &access)?;
    let call = calls::find(conn, *app.call_id)?.ok_or(Error::NotFound)?;
    call.kind.allows_jury_work()?;
    Ok(reviews::reviews_of_application(
        conn,
        application_id,
        only,
        after,
        limit,
    )?)
}

/// Reopens a submitted review so that its juror can change it, even after the stage's deadline; refused when
/// it is not submitted (also the second of two reopenings at once).
pub fn reopen(
    conn: &mut DbConn,
    actor: &Principal,
    application_id: Uuid,
    review_id: Uuid,
    now: DateTime<Utc>,
) -> Result<ScoredReview, Error> {
    crate::service::applications::load_for_staff(conn, actor, application_id)?;
    let review = reviews::find_review_by_id(conn, review_id)?
        .filter(|r| *r.application_id == application_id)
        .ok_or(Error::NotFound)?;
    if review.status != ReviewStatus::Submitted {
        return Err(Refusal::ReviewNotSubmitted.into());
    }
    let scores = reviews::scores_of(conn, review_id)?;
    let before = review.status;
    let before_version = review.version;
    let review = Review {
        status: ReviewStatus::Draft,
        submitted_at: None,
        version: review.version + 1,
        updated_at: Ts(now),
        reopened_at: Some(Ts(now)),
        ..review
    };
    if !reviews::save_review(conn, &review, &scores, Some(before_version))? {
        return Err(Refusal::ReviewNotSubmitted.into());
    }
    // A draft does not count: the tally is recomputed without it.
    ranking_tallies::refresh(conn, application_id, &review.stage)?;
    Happened::new(
        Action::ReviewReopened,
        Some(actor.user_id),
        Entity::Application(application_id),
    )
    .before(json!({"review_id": review_id, "status": before.as_str()}))
    .after(json!({"review_id": review_id, "status": review.status.as_str()}))
    .on_feed(Feed::application(
        *review.call_id,
        application_id,
        json!({"review_id": review_id, "juror_id": review.juror_id, "stage": review.stage}),
    ))
    .record(conn, now)?;
    Ok((review, scores))
}

/// Everything a stage's ranking was computed from, with the ranking: the stage, the index of the stage in
/// the call, the reviews that counted reduced to weighted scores, and the conflicted pairs left out.
pub struct StageRanking {
    /// The stage ranked.
    pub stage: Stage,
    /// The key of the stage after it, if any (a shortlist leads there).
    pub next_stage: Option<String>,
    /// The ranking, best first, each line with its application's reference.
    pub ranking: Vec<(RankedApplication, Option<String>)>,
    /// Each counted review's weighted score, 0–100.
    pub reviews: Vec<WeightedReview>,
    /// The (application, juror) pairs a conflict keeps apart; their reviews do not count.
    pub conflicted: HashSet<(Uuid, Uuid)>,
}

/// The ranking of a stage (the first one by default) from its submitted reviews, best first, each line with
/// its application's reference; conflicted jurors' reviews never count (see [`stage_ranking`]).
pub fn rank_stage(
    conn: &mut DbConn,
    call_id: Uuid,
    stage: Option<&str>,
) -> Result<Vec<(RankedApplication, Option<String>)>, Error> {
    Ok(stage_ranking(conn, call_id, stage)?.ranking)
}

/// The ranking of a stage (the first one by default) with what it was computed from — the submitted reviews
/// that score every criterion (withdrawn applications left out), minus those of jurors with a recorded
/// conflict (declared, or detected and active): the one code path of the ranking route, its CSV and the
/// deliberation view. It reads the stage's maintained tallies (`store/ranking_tallies.rs`, one range read)
/// and ranks them with [`rank_tallies`], which gives, to the bit, what [`rank_applications`] gives on the
/// reviews themselves ([`full_ranking`]). 404 for an unknown call, 409 for a call without a jury, 422
/// `unknown_stage`.
pub fn stage_ranking(
    conn: &mut DbConn,
    call_id: Uuid,
    stage: Option<&str>,
) -> Result<StageRanking, Error> {
    let (stages, index) = ranked_stage(conn, call_id, stage)?;
    let stage = &stages[index];
    let tallies = ranking_tallies::of_stage(conn, call_id, stage)
        .context("loading the stage's ranking tallies")?;
    let conflicted = conflicts::conflicted_pairs(conn, call_id, false)
        .context("loading the call's conflicts")?;
    // The tallies come in application order; their references are kept in it, found again by binary search.
    let mut references: Vec<(Uuid, Option<String>)> = Vec::with_capacity(tallies.len());
    let tallies: Vec<(Uuid, Tally)> = tallies
        .into_iter()
        .map(|line| {
            references.push((line.application, line.reference));
            (line.application, line.tally)
        })
        .collect();
    if !references.windows(2).all(|w| w[0].0 < w[1].0) {
        references.sort_by_key(|(id, _)| *id);
    }
    let keys: Vec<String> = stage.criteria.iter().map(|c| c.key.clone()).collect();
    let (ranking, reviews) = rank_tallies(tallies, &keys, DISAGREEMENT_THRESHOLD);
    let ranking = ranking
        .into_iter()
        .map(|r| {
            let reference = references
                .binary_search_by_key(&r.application, |(id, _)| *id)
                .ok()
                .and_then(|i| references[i].1.take());
            (r, reference)
        })
        .collect();
    Ok(StageRanking {
        next_stage: stages.get(index + 1).map(|s| s.key.clone()),
        stage: stage.clone(),
        ranking,
        reviews,
        conflicted,
    })
}

/// The call's stages and the index of the stage asked (the first by default); 404, 409 or 422 as
/// [`stage_ranking`] says.
fn ranked_stage(
    conn: &mut DbConn,
    call_id: Uuid,
    stage: Option<&str>,
) -> Result<(Vec<Stage>, usize), Error> {
    let call = calls::find(conn, call_id)?.ok_or(Error::NotFound)?;
    call.kind.allows_jury_work()?;
    let stages = call.stages()?;
    let index = match stage {
        None => (!stages.is_empty()).then_some(0),
        Some(key) => stages.iter().position(|s| s.key == key),
    }
    .ok_or_else(|| Error::field("stage", "unknown_stage", "the call has no such stage"))?;
    Ok((stages, index))
}

/// The ranking of a stage recomputed from every submitted review, as it was before tallies were kept: the
/// reference the maintained ranking is checked against (tests and benchmarks), never served.
pub fn full_ranking(
    conn: &mut DbConn,
    call_id: Uuid,
    stage: Option<&str>,
) -> Result<Vec<(RankedApplication, Option<String>)>, Error> {
    let (stages, index) = ranked_stage(conn, call_id, stage)?;
    let stage = &stages[index];
    let keys: Vec<&str> = stage.criteria.iter().map(|c| c.key.as_str()).collect();
    let conflicted = conflicts::conflicted_pairs(conn, call_id, false)
        .context("loading the call's conflicts")?;
    let scores: Vec<ReviewScores> = reviews::submitted_scores(conn, call_id, &stage.key, &keys)
        .context("loading the stage's submitted scores")?
        .into_iter()
        .filter(|r| !conflicted.contains(&(r.application, r.juror)))
        .map(|r| ReviewScores {
            application: r.application,
            juror: r.juror,
            scores: keys.iter().map(|k| (*k).to_owned()).zip(r.scores).collect(),
        })
        // A review without a weighted score (a malformed grid) does not list its application either.
        .filter(|r| weighted_score(stage, &r.scores).is_some())
        .collect();
    let references =
        applications::references(conn, call_id).context("loading the call's references")?;
    Ok(
        rank_applications(stage, &[], &scores, DISAGREEMENT_THRESHOLD)
            .into_iter()
            .map(|r| {
                let reference = references.get(&r.application).cloned().flatten();
                (r, reference)
            })
            .collect(),
    )
}
