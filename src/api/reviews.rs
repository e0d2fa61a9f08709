//! Blind reviews by assigned jurors, and the ranking of a stage.

use std::collections::BTreeMap;

use actix_web::{get, post, put, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::api::extract::Caller;
use crate::api::input::Input;
use crate::auth::permissions::{
    can_read_as_juror, can_review_as_juror, JurorFacts, Principal, Scope,
};
use crate::db::types::{Ts, Uid};
use crate::db::DbConn;
use crate::domain::form::Stage;
use crate::domain::identifiers::InvalidValue;
use crate::domain::ranking::{rank_weighted, weighted_score_in_order, WeightedReview};
use crate::domain::review::{ReviewRefusal, ReviewStatus, ReviewWindow};
use crate::error::{Error, FieldError, Problem};
use crate::state::AppState;
use crate::store;
use crate::store::applications::{self, Application};
use crate::store::audit::{self, Change};
use crate::store::calls::{self, Call};
use crate::store::conflicts;
use crate::store::events::{self, NewEvent};
use crate::store::reviews::{Review, SubmittedScores};

/// A review, as its author or staff see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewView {
    pub id: Uuid,
    pub application_id: Uuid,
    pub juror_id: Uuid,
    pub stage: String,
    pub scores: BTreeMap<String, f64>,
    pub comment: Option<String>,
    /// `draft` or `submitted` (locked).
    pub status: String,
    pub submitted_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

fn view(review: &Review, scores: BTreeMap<String, f64>) -> ReviewView {
    ReviewView {
        id: *review.id,
        application_id: *review.application_id,
        juror_id: *review.juror_id,
        stage: review.stage.clone(),
        scores,
        comment: review.comment.clone(),
        status: review.status.as_str().into(),
        submitted_at: review.submitted_at.map(|t| t.0),
        updated_at: review.updated_at.0,
    }
}

/// The application and its call, once the caller is an assigned, unconflicted juror for `stage` (the
/// recorded conflicts are read, never detected anew).
fn as_assigned_juror(
    conn: &mut DbConn,
    caller: &Principal,
    application_id: Uuid,
    stage: &str,
) -> Result<(Application, Call, Stage), Error> {
    let app = applications::find(conn, application_id)?.ok_or(Error::NotFound)?;
    let facts = JurorFacts {
        assigned: store::assignments::is_assigned(
            conn,
            application_id,
            caller.user_id,
            Some(stage),
        )?,
        conflicted: conflicts::is_conflicted(conn, *app.call_id, application_id, caller.user_id)?,
    };
    if !can_review_as_juror(caller, facts) {
        return Err(Error::NotFound);
    }
    let call = calls::find(conn, *app.call_id)?.ok_or(Error::NotFound)?;
    let stage = call
        .stages()?
        .into_iter()
        .find(|s| s.key == stage)
        .ok_or_else(|| Error::field("stage", "unknown_stage", "the call has no such stage"))?;
    Ok((app, call, stage))
}

/// 409 when the juror may no longer change their review of `app` at `stage`: the application was withdrawn
/// (`application_withdrawn`), or the stage's review deadline passed and staff did not reopen this review
/// (`review_deadline_passed`, naming the deadline in the call's time zone and in UTC).
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
        due_at: store::reviews::review_deadline(conn, *call.id, stage)?,
        reopened: review.is_some_and(|r| r.reopened_at.is_some()),
    };
    window.check(now).map_err(|refusal| match refusal {
        ReviewRefusal::ApplicationWithdrawn => Error::refused(
            "application_withdrawn",
            "the application was withdrawn: it is no longer reviewed",
        ),
        ReviewRefusal::DeadlinePassed(due) => Error::refused(
            "review_deadline_passed",
            format!(
                "the reviews of this stage were due {} ({} UTC): ask the call's team to reopen your review",
                crate::notify::applications::format_instant(due, &call.timezone, "en"),
                due.format("%Y-%m-%d %H:%M"),
            ),
        ),
    })
}

/// 409 when another request changed the review between its reading and this write.
fn changed_meanwhile() -> Error {
    Error::refused(
        "review_changed",
        "the review changed meanwhile: read it again and retry",
    )
}

/// `PUT /applications/{id}/reviews/mine`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SaveReview {
    #[schema(required = true)]
    pub stage: Option<String>,
    /// Criterion key → score within the criterion's `[min, max]`; a draft may leave some out.
    #[schema(required = true)]
    pub scores: Option<BTreeMap<String, f64>>,
    pub comment: Option<String>,
}

/// Saves the caller's review as a draft (an assigned juror); 422 for an unknown criterion or a score out of
/// its range; 409 once submitted (`review_submitted`), when the application was withdrawn
/// (`application_withdrawn`) or after the stage's review deadline unless staff reopened the review
/// (`review_deadline_passed`).
#[utoipa::path(
    tag = "evaluation",
    params(("id" = Uuid, Path)),
    request_body = SaveReview,
    responses(
        (status = 200, body = ReviewView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, description = "Already submitted, application withdrawn, or past the stage's review deadline", body = Problem), (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[put("/applications/{id}/reviews/mine")]
pub async fn save(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    input: Input<SaveReview>,
) -> Result<HttpResponse, Error> {
    let caller = caller.0;
    caller.require_scope(Scope::ReviewsWrite)?;
    let id = id.into_inner();
    let (body, mut check) = input.into_parts();
    let stage_key = check.required("stage", body.stage, Ok);
    let scores = check.required("scores", body.scores, Ok);
    let comment = check.optional("comment", body.comment.as_deref(), |c| {
        let c = c.trim();
        if c.chars().count() > 10_000 {
            Err(InvalidValue::new("too_long", "at most 10000 characters"))
        } else {
            Ok(c.to_owned())
        }
    });
    let (Some(stage_key), Some(scores)) = (stage_key, scores) else {
        return Err(check.into_error());
    };
    let now = state.clock.now();
    let (review, scores) = state
        .db
        .write(move |conn| {
            let (app, call, stage) = as_assigned_juror(conn, &caller, id, &stage_key)?;
            for (key, score) in &scores {
                match stage.criteria.iter().find(|c| &c.key == key) {
                    None => check.push(FieldError::new(
                        format!("scores.{key}"),
                        "unknown_criterion",
                        "the stage has no such criterion",
                    )),
                    Some(c) if !score.is_finite() || *score < c.min || *score > c.max => check
                        .push(FieldError::new(
                            format!("scores.{key}"),
                            "out_of_range",
                            format!("a score from {} to {}", c.min, c.max),
                        )),
                    Some(_) => {}
                }
            }
            check.finish()?;
            let existing = store::reviews::find_review(conn, id, caller.user_id, &stage_key)?;
            if existing
                .as_ref()
                .is_some_and(|r| r.status == ReviewStatus::Submitted)
            {
                return Err(Error::refused(
                    "review_submitted",
                    "this review was submitted and is locked",
                ));
            }
            check_window(conn, &app, &call, &stage_key, existing.as_ref(), now)?;
            let expected_version = existing.as_ref().map(|r| r.version);
            let review = match existing {
                Some(r) => Review {
                    comment: comment.clone(),
                    version: r.version + 1,
                    updated_at: Ts(now),
                    ..r
                },
                None => Review {
                    id: Uid(Uuid::now_v7()),
                    call_id: app.call_id,
                    application_id: app.id,
                    juror_id: Uid(caller.user_id),
                    stage: stage_key.clone(),
                    comment: comment.clone(),
                    status: ReviewStatus::Draft,
                    submitted_at: None,
                    version: 1,
                    created_at: Ts(now),
                    updated_at: Ts(now),
                    reopened_at: None,
                },
            };
            if !store::reviews::save_review(conn, &review, &scores, expected_version)? {
                return Err(changed_meanwhile());
            }
            audit::record(
                conn,
                Change {
                    actor_id: Some(caller.user_id),
                    action: "review.saved",
                    entity_type: "application",
                    entity_id: id,
                    before: None,
                    after: Some(json!({"review_id": review.id, "stage": review.stage})),
                },
                now,
            )?;
            Ok((review, scores))
        })
        .await?;
    Ok(HttpResponse::Ok().json(view(&review, scores)))
}

/// `POST /applications/{id}/reviews/mine/submit`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitReview {
    #[schema(required = true)]
    pub stage: Option<String>,
}

/// Submits and locks the caller's review; 422 lists every criterion still unscored; 409 when already
/// submitted (`review_submitted`, also for the second of two submissions at once), when the application was
/// withdrawn (`application_withdrawn`) or after the stage's review deadline unless staff reopened the review
/// (`review_deadline_passed`).
#[utoipa::path(
    tag = "evaluation",
    params(("id" = Uuid, Path)),
    request_body = SubmitReview,
    responses(
        (status = 200, body = ReviewView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, description = "Already submitted, application withdrawn, or past the stage's review deadline", body = Problem), (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/applications/{id}/reviews/mine/submit")]
pub async fn submit(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    input: Input<SubmitReview>,
) -> Result<HttpResponse, Error> {
    let caller = caller.0;
    caller.require_scope(Scope::ReviewsWrite)?;
    let id = id.into_inner();
    let (body, mut check) = input.into_parts();
    let Some(stage_key) = check.required("stage", body.stage, Ok) else {
        return Err(check.into_error());
    };
    check.finish()?;
    let now = state.clock.now();
    let (review, scores) = state
        .db
        .write(move |conn| {
            let (app, call, stage) = as_assigned_juror(conn, &caller, id, &stage_key)?;
            let review = store::reviews::find_review(conn, id, caller.user_id, &stage_key)?
                .ok_or_else(|| Error::field("scores", "required", "save a review before submitting it"))?;
            if review.status == ReviewStatus::Submitted {
                return Err(Error::refused("review_submitted", "this review was already submitted"));
            }
            check_window(conn, &app, &call, &stage_key, Some(&review), now)?;
            let scores = store::reviews::scores_of(conn, *review.id)?;
            let missing: Vec<FieldError> = stage
                .criteria
                .iter()
                .filter(|c| !scores.contains_key(&c.key))
                .map(|c| FieldError::new(format!("scores.{}", c.key), "required", "this criterion is not scored"))
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
            if !store::reviews::save_review(conn, &review, &scores, Some(before_version))? {
                return Err(Error::refused("review_submitted", "this review was already submitted"));
            }
            audit::record(
                conn,
                Change {
                    actor_id: Some(caller.user_id),
                    action: "review.submitted",
                    entity_type: "application",
                    entity_id: id,
                    before: Some(json!({"status": "draft"})),
                    after: Some(json!({"review_id": review.id, "stage": review.stage, "status": "submitted"})),
                },
                now,
            )?;
            events::record(
                conn,
                NewEvent::application(
                    "review.submitted",
                    *review.call_id,
                    id,
                    Some(caller.user_id),
                    json!({"review_id": review.id, "juror_id": review.juror_id, "stage": review.stage}),
                ),
                now,
            )?;
            Ok((review, scores))
        })
        .await?;
    Ok(HttpResponse::Ok().json(view(&review, scores)))
}

/// The reviews of an application: staff see all of them; a juror only their own (blind review).
#[utoipa::path(
    tag = "evaluation",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<ReviewView>), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
#[get("/applications/{id}/reviews")]
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, Error> {
    let caller = caller.0;
    caller.require_scope(Scope::ReviewsRead)?;
    let id = id.into_inner();
    let reviews = state
        .db
        .read(move |conn| {
            let app = applications::find(conn, id)?.ok_or(Error::NotFound)?;
            if caller.is_admin() {
                return Ok(store::reviews::reviews_of_application(conn, id, None)?);
            }
            let facts = JurorFacts {
                assigned: store::assignments::is_assigned(conn, id, caller.user_id, None)?,
                conflicted: conflicts::is_conflicted(conn, *app.call_id, *app.id, caller.user_id)?,
            };
            if !can_read_as_juror(&caller, facts) {
                return Err(Error::NotFound);
            }
            Ok(store::reviews::reviews_of_application(
                conn,
                id,
                Some(caller.user_id),
            )?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(
        reviews
            .into_iter()
            .map(|(r, s)| view(&r, s))
            .collect::<Vec<_>>(),
    ))
}

/// Reopens a submitted review so that its juror can change it, even after the stage's review deadline
/// (administrators; audited). 409 (`review_not_submitted`) when it is not submitted, also for the second of
/// two reopenings at once.
#[utoipa::path(
    tag = "evaluation",
    params(("id" = Uuid, Path), ("review_id" = Uuid, Path)),
    responses(
        (status = 200, body = ReviewView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, description = "Not submitted", body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/applications/{id}/reviews/{review_id}/reopen")]
pub async fn reopen(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, Error> {
    let caller = caller.0;
    caller.require_admin()?;
    let (id, review_id) = path.into_inner();
    let now = state.clock.now();
    let (review, scores) = state
        .db
        .write(move |conn| {
            let review = store::reviews::find_review_by_id(conn, review_id)?
                .filter(|r| *r.application_id == id)
                .ok_or(Error::NotFound)?;
            let not_submitted = || Error::refused("review_not_submitted", "only a submitted review can be reopened");
            if review.status != ReviewStatus::Submitted {
                return Err(not_submitted());
            }
            let scores = store::reviews::scores_of(conn, review_id)?;
            let before_version = review.version;
            let review = Review {
                status: ReviewStatus::Draft,
                submitted_at: None,
                version: review.version + 1,
                updated_at: Ts(now),
                reopened_at: Some(Ts(now)),
                ..review
            };
            if !store::reviews::save_review(conn, &review, &scores, Some(before_version))? {
                return Err(not_submitted());
            }
            audit::record(
                conn,
                Change {
                    actor_id: Some(caller.user_id),
                    action: "review.reopened",
                    entity_type: "application",
                    entity_id: id,
                    before: Some(json!({"review_id": review_id, "status": "submitted"})),
                    after: Some(json!({"review_id": review_id, "status": "draft"})),
                },
                now,
            )?;
            events::record(
                conn,
                NewEvent::application(
                    "review.reopened",
                    *review.call_id,
                    id,
                    Some(caller.user_id),
                    json!({"review_id": review_id, "juror_id": review.juror_id, "stage": review.stage}),
                ),
                now,
            )?;
            Ok((review, scores))
        })
        .await?;
    Ok(HttpResponse::Ok().json(view(&review, scores)))
}

/// `?stage=&normalize=` of the ranking.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RankingQuery {
    /// The stage (the first one by default).
    pub stage: Option<String>,
    /// `none` (default) orders by the raw score, `zscore` by the score normalised per juror.
    pub normalize: Option<String>,
}

/// One line of a ranking.
#[derive(Debug, Serialize, ToSchema)]
pub struct RankingEntry {
    pub application_id: Uuid,
    pub reference: Option<String>,
    pub n_reviews: usize,
    /// The mean of the submitted reviews' weighted scores, on 0–100.
    pub score: Option<f64>,
    /// The same with each juror's scores turned into z-scores first (harsh and lenient jurors cancel out),
    /// mapped to 50 + 10·z on 0–100.
    pub normalized_score: Option<f64>,
    /// Mean raw score per criterion.
    pub criteria: BTreeMap<String, f64>,
    pub stddev: Option<f64>,
    /// True when the jurors' scores spread more than 15 points.
    pub disagreement: bool,
}

/// The ranking of a stage, best first; conflicted jurors' scores never count.
#[utoipa::path(
    tag = "evaluation",
    params(("id" = Uuid, Path), RankingQuery),
    responses((status = 200, body = Vec<RankingEntry>), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = []))
)]
#[get("/calls/{id}/ranking")]
pub async fn ranking(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
    query: web::Query<RankingQuery>,
) -> Result<HttpResponse, Error> {
    caller.0.require_admin()?;
    let id = id.into_inner();
    let query = query.into_inner();
    let order = RankingOrder::parse(query.normalize.as_deref())?;
    let entries = state
        .db
        .read(move |conn| rank_stage(conn, id, query.stage.as_deref()))
        .await?;
    let entries = order.apply(entries);
    Ok(HttpResponse::Ok().json(entries))
}

/// How a ranking is ordered: by raw score (the ranking's own order) or by the score normalised per juror.
#[derive(Debug, Clone, Copy)]
pub enum RankingOrder {
    Raw,
    Normalized,
}

impl RankingOrder {
    /// `none` (or absent) or `zscore`; 422 otherwise.
    pub fn parse(raw: Option<&str>) -> Result<RankingOrder, Error> {
        match raw {
            None | Some("none") => Ok(RankingOrder::Raw),
            Some("zscore") => Ok(RankingOrder::Normalized),
            Some(_) => Err(Error::field("normalize", "invalid", "none or zscore")),
        }
    }

    /// The entries in this order (ties by application id).
    pub fn apply(self, mut entries: Vec<RankingEntry>) -> Vec<RankingEntry> {
        if let RankingOrder::Normalized = self {
            entries.sort_by(|a, b| {
                b.normalized_score
                    .unwrap_or(f64::NEG_INFINITY)
                    .total_cmp(&a.normalized_score.unwrap_or(f64::NEG_INFINITY))
                    .then(a.application_id.cmp(&b.application_id))
            });
        }
        entries
    }
}

/// The ranking of a stage: the database aggregates each submitted review (its weighted score and scores, one
/// row per review); a small pass here drops conflicted jurors, computes the means, the per-juror z-scores and
/// the order.
pub fn rank_stage(
    conn: &mut DbConn,
    call_id: Uuid,
    stage: Option<&str>,
) -> Result<Vec<RankingEntry>, Error> {
    let call = calls::find(conn, call_id)?.ok_or(Error::NotFound)?;
    let stages = call.stages()?;
    let stage = match stage {
        None => stages.first(),
        Some(key) => stages.iter().find(|s| s.key == key),
    }
    .ok_or_else(|| Error::field("stage", "unknown_stage", "the call has no such stage"))?
    .clone();
    // One narrow row per submitted review, its scores in the order of the stage's criteria; its weighted
    // score is computed here, with the same function as everywhere else. Reviews missing a criterion do not
    // count; the reviews of jurors with a recorded conflict (declared, or detected and active) are dropped, and
    // withdrawn applications are not read at all.
    let keys: Vec<&str> = stage.criteria.iter().map(|c| c.key.as_str()).collect();
    let all: Vec<(SubmittedScores, f64)> =
        store::reviews::submitted_scores(conn, call_id, &stage.key, &keys)?
            .into_iter()
            .filter_map(|r| weighted_score_in_order(&stage, &r.scores).map(|w| (r, w)))
            .collect();
    let conflicted = conflicts::conflicted_pairs(conn, call_id, false)?;
    let reviews: Vec<(SubmittedScores, f64)> = all
        .into_iter()
        .filter(|(r, _)| !conflicted.contains(&(r.application, r.juror)))
        .collect();
    // Per application, the sum of each criterion's scores and how many reviews gave them.
    let mut sums: std::collections::HashMap<Uuid, (Vec<f64>, usize)> =
        std::collections::HashMap::new();
    for (review, _) in &reviews {
        let (totals, n) = sums
            .entry(review.application)
            .or_insert_with(|| (vec![0.0; keys.len()], 0));
        for (total, score) in totals.iter_mut().zip(&review.scores) {
            *total += score;
        }
        *n += 1;
    }
    let means: BTreeMap<Uuid, BTreeMap<String, f64>> = sums
        .into_iter()
        .map(|(app, (totals, n))| {
            let by_key = keys
                .iter()
                .zip(totals)
                .map(|(key, total)| ((*key).to_owned(), total / n as f64))
                .collect();
            (app, by_key)
        })
        .collect();
    let weighted: Vec<WeightedReview> = reviews
        .iter()
        .map(|(r, weighted)| WeightedReview {
            application: r.application,
            juror: r.juror,
            weighted: *weighted,
        })
        .collect();
    let references = applications::references(conn, call_id)?;
    let ranked = rank_weighted(&[], &weighted, &means, 15.0);
    Ok(ranked
        .into_iter()
        .map(|r| RankingEntry {
            application_id: r.application,
            reference: references.get(&r.application).cloned().flatten(),
            n_reviews: r.n_reviews,
            score: r.score,
            normalized_score: r.normalized_score,
            criteria: r.criteria,
            stddev: r.stddev,
            disagreement: r.disagreement,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(n: u128, score: f64, normalized: f64) -> RankingEntry {
        RankingEntry {
            application_id: Uuid::from_u128(n),
            reference: None,
            n_reviews: 2,
            score: Some(score),
            normalized_score: Some(normalized),
            criteria: BTreeMap::new(),
            stddev: None,
            disagreement: false,
        }
    }

    #[test]
    fn a_ranking_is_ordered_by_raw_or_normalized_score_as_asked() {
        let ranked = || {
            vec![
                entry(1, 90.0, 45.0),
                entry(2, 80.0, 60.0),
                entry(3, 70.0, 60.0),
            ]
        };
        let ids = |entries: Vec<RankingEntry>| {
            entries
                .iter()
                .map(|e| e.application_id.as_u128())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            ids(RankingOrder::parse(None).unwrap().apply(ranked())),
            [1, 2, 3]
        );
        assert_eq!(
            ids(RankingOrder::parse(Some("zscore")).unwrap().apply(ranked())),
            [2, 3, 1]
        );
        assert!(RankingOrder::parse(Some("rank")).is_err());
    }
}
