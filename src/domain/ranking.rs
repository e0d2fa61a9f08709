//! Ranking of a stage: weighted scores on 0–100, per-juror z-score normalisation, spread and disagreement.
//!
//! Everything here works from submitted reviews already loaded (the database aggregates the rest); the
//! functions are pure and their result does not depend on the order of the reviews.
//!
//! - A review's **weighted score** ([`weighted_score`]) rescales each criterion from `[min, max]` to `[0, 1]`,
//!   weights it by its share of the stage (`weight / 100`) and multiplies by 100.
//! - An application's **score** is the mean of its reviews' weighted scores, and its **stddev** their sample
//!   standard deviation.
//! - The **normalised score** cancels harsh and lenient jurors: each review's weighted score becomes a
//!   z-score against its juror's other reviews in the stage, the application's z-scores are averaged and the
//!   mean `z` is shown on the same 0–100 scale as `50 + 10·z`, clamped to `[0, 100]`. 50 is therefore "as
//!   good as the average application its jurors reviewed", each 10 points one standard deviation above or
//!   below; the value is meant to rank, side by side with the raw score, not to be read as a mark.
//!
//! Standard deviations are sample standard deviations (divisor `n − 1`, like PostgreSQL's `stddev` and
//! spreadsheets' `STDEV`), so they need two values: an application with one review has no `stddev`, and a
//! juror with one review (or who gave every application the same weighted score) has no spread to normalise
//! by and contributes a z-score of 0.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde::Serialize;
use uuid::Uuid;

use super::form::Stage;

pub mod tally;

/// Standard deviations at or below this (on the 0–100 scale) are rounding noise and count as zero.
const ZERO_SPREAD: f64 = 1e-9;
/// Scores are compared for ranking on a grid of this many steps per point, so that values differing only by
/// floating-point rounding (10⁻¹³ or so) tie and go to the next tie-breaker.
const RANKING_GRID: f64 = 1e6;

/// One submitted review's scores, as loaded for ranking.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewScores {
    /// The reviewed application.
    pub application: Uuid,
    /// The juror who wrote the review.
    pub juror: Uuid,
    /// The raw score given to each criterion, by criterion key.
    pub scores: BTreeMap<String, f64>,
}

/// One line of a stage's ranking.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RankedApplication {
    /// The application.
    pub application: Uuid,
    /// How many complete reviews count.
    pub n_reviews: usize,
    /// Mean weighted score of the reviews, on 0–100; `None` without reviews.
    pub score: Option<f64>,
    /// Score normalised per juror, `50 + 10·z` clamped to 0–100 (see the [module documentation](self));
    /// `None` without reviews.
    pub normalized_score: Option<f64>,
    /// Mean raw score per criterion key, on each criterion's own scale; empty without reviews.
    pub criteria: BTreeMap<String, f64>,
    /// Sample standard deviation of the reviews' weighted scores, on 0–100; `None` with fewer than two
    /// reviews.
    pub stddev: Option<f64>,
    /// Whether `stddev` exceeds the disagreement threshold.
    pub disagreement: bool,
}

/// A review's weighted score on 0–100: each criterion of `stage` rescaled from `[min, max]` to `[0, 1]`,
/// weighted by `weight / 100`, summed and multiplied by 100.
///
/// A score outside its criterion's range (possible only if the grid changed after scoring) is clamped to it.
/// Keys that are not criteria of the stage are ignored. `None` when a criterion is missing or not a finite
/// number, or when the stage is malformed (no criteria, zero total weight, `min >= max`). Should the weights
/// not sum to 100, the sum is divided by their total instead, which keeps the result on 0–100.
pub fn weighted_score(stage: &Stage, scores: &BTreeMap<String, f64>) -> Option<f64> {
    let values: Option<Vec<f64>> = stage
        .criteria
        .iter()
        .map(|criterion| scores.get(&criterion.key).copied())
        .collect();
    weighted_score_in_order(stage, &values?)
}

/// [`weighted_score`] of scores given in the order of the stage's criteria (one per criterion).
pub fn weighted_score_in_order(stage: &Stage, values: &[f64]) -> Option<f64> {
    if values.len() != stage.criteria.len() {
        return None;
    }
    let mut total = 0.0;
    let mut weights = 0.0;
    for (criterion, &raw) in stage.criteria.iter().zip(values) {
        let span = criterion.max - criterion.min;
        if !raw.is_finite() || !span.is_finite() || span <= 0.0 {
            return None;
        }
        let rescaled = ((raw - criterion.min) / span).clamp(0.0, 1.0);
        let weight = f64::from(criterion.weight);
        total += weight * rescaled;
        weights += weight;
    }
    if weights <= 0.0 {
        return None;
    }
    Some(100.0 * total / weights)
}

/// Ranks the applications that have reviews in `reviews` (see [`rank_applications`]).
pub fn rank(
    stage: &Stage,
    reviews: &[ReviewScores],
    disagreement_threshold: f64,
) -> Vec<RankedApplication> {
    rank_applications(stage, &[], reviews, disagreement_threshold)
}

/// Ranks a stage: `applications` (those of the stage, which may have no review yet) and every application
/// with a review in `reviews`, best first.
///
/// `reviews` are the stage's submitted reviews, one per (application, juror); a review that misses a
/// criterion (see [`weighted_score`]) is ignored everywhere. `disagreement_threshold` is a standard deviation
/// on the 0–100 scale (15 is a reasonable default): `disagreement` is `stddev > disagreement_threshold`.
///
/// Order: higher `score` first; ties (equal to 10⁻⁶ point) broken by higher `normalized_score`, then by more
/// reviews, then by application id ascending. Applications without a review come last, by id.
pub fn rank_applications(
    stage: &Stage,
    applications: &[Uuid],
    reviews: &[ReviewScores],
    disagreement_threshold: f64,
) -> Vec<RankedApplication> {
    let mut scored: Vec<(&ReviewScores, f64)> = reviews
        .iter()
        .filter_map(|review| weighted_score(stage, &review.scores).map(|w| (review, w)))
        .collect();
    // A fixed order makes every floating-point sum below independent of the input order.
    scored.sort_by(|(a, _), (b, _)| compare_reviews(a, b));

    let weighted: Vec<WeightedReview> = scored
        .iter()
        .map(|(review, w)| WeightedReview {
            application: review.application,
            juror: review.juror,
            weighted: *w,
        })
        .collect();
    let mut means: BTreeMap<Uuid, BTreeMap<String, f64>> = BTreeMap::new();
    let mut by_application: BTreeMap<Uuid, Vec<&ReviewScores>> = BTreeMap::new();
    for (review, _) in &scored {
        by_application
            .entry(review.application)
            .or_default()
            .push(review);
    }
    for (application, reviews) in by_application {
        let criteria = stage
            .criteria
            .iter()
            .filter_map(|criterion| {
                let values: Vec<f64> = reviews
                    .iter()
                    .filter_map(|review| review.scores.get(&criterion.key).copied())
                    .collect();
                Some((criterion.key.clone(), mean(&values)?))
            })
            .collect();
        means.insert(application, criteria);
    }
    let everyone: Vec<Uuid> = applications
        .iter()
        .copied()
        .chain(reviews.iter().map(|review| review.application))
        .collect();
    rank_weighted(&everyone, &weighted, &means, disagreement_threshold)
}

/// A review reduced to its weighted score on 0–100 (as the database aggregates it).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WeightedReview {
    pub application: Uuid,
    pub juror: Uuid,
    pub weighted: f64,
}

/// Ranks from reviews already reduced to weighted scores and from per-criterion means (both aggregated by the
/// database): the z-scores per juror, the means, spreads and order are computed here. Same rules as
/// [`rank_applications`]; `applications` may list applications without a review.
pub fn rank_weighted(
    applications: &[Uuid],
    reviews: &[WeightedReview],
    criteria_means: &BTreeMap<Uuid, BTreeMap<String, f64>>,
    disagreement_threshold: f64,
) -> Vec<RankedApplication> {
    let mut reviews = reviews.to_vec();
    // A fixed order makes every floating-point sum below independent of the input order.
    reviews.sort_by(|a, b| {
        (a.application, a.juror)
            .cmp(&(b.application, b.juror))
            .then(a.weighted.total_cmp(&b.weighted))
    });
    let mut by_juror: BTreeMap<Uuid, Vec<f64>> = BTreeMap::new();
    for review in &reviews {
        by_juror
            .entry(review.juror)
            .or_default()
            .push(review.weighted);
    }
    let juror_stats: BTreeMap<Uuid, (f64, Option<f64>)> = by_juror
        .into_iter()
        .filter_map(|(juror, values)| Some((juror, (mean(&values)?, sample_stddev(&values)))))
        .collect();
    let z_score = |juror: Uuid, weighted: f64| match juror_stats.get(&juror) {
        Some((mean, Some(sd))) if *sd > ZERO_SPREAD => (weighted - mean) / sd,
        _ => 0.0,
    };
    let mut by_application: BTreeMap<Uuid, Vec<&WeightedReview>> = applications
        .iter()
        .chain(reviews.iter().map(|r| &r.application))
        .map(|a| (*a, Vec::new()))
        .collect();
    for review in &reviews {
        by_application
            .entry(review.application)
            .or_default()
            .push(review);
    }
    let mut ranking: Vec<RankedApplication> = by_application
        .into_iter()
        .map(|(application, reviews)| {
            let weighted: Vec<f64> = reviews.iter().map(|r| r.weighted).collect();
            let z: Vec<f64> = reviews
                .iter()
                .map(|r| z_score(r.juror, r.weighted))
                .collect();
            let stddev = sample_stddev(&weighted);
            RankedApplication {
                application,
                n_reviews: reviews.len(),
                score: mean(&weighted),
                normalized_score: mean(&z).map(|z| (50.0 + 10.0 * z).clamp(0.0, 100.0)),
                criteria: if reviews.is_empty() {
                    BTreeMap::new()
                } else {
                    criteria_means
                        .get(&application)
                        .cloned()
                        .unwrap_or_default()
                },
                stddev,
                disagreement: stddev.is_some_and(|sd| sd > disagreement_threshold),
            }
        })
        .collect();
    ranking.sort_by(compare_ranked);
    ranking
}

/// Best first: by score, normalised score, number of reviews (all descending; no score last), then id.
fn compare_ranked(a: &RankedApplication, b: &RankedApplication) -> Ordering {
    let key = |value: Option<f64>| value.map(|v| (v * RANKING_GRID).round() as i64);
    key(b.score)
        .cmp(&key(a.score))
        .then_with(|| key(b.normalized_score).cmp(&key(a.normalized_score)))
        .then_with(|| b.n_reviews.cmp(&a.n_reviews))
        .then_with(|| a.application.cmp(&b.application))
}

/// A total order on reviews: by application, juror, then scores (for duplicates).
fn compare_reviews(a: &ReviewScores, b: &ReviewScores) -> Ordering {
    (a.application, a.juror)
        .cmp(&(b.application, b.juror))
        .then_with(|| {
            let mut left = a.scores.iter();
            let mut right = b.scores.iter();
            loop {
                match (left.next(), right.next()) {
                    (None, None) => return Ordering::Equal,
                    (None, Some(_)) => return Ordering::Less,
                    (Some(_), None) => return Ordering::Greater,
                    (Some((ka, va)), Some((kb, vb))) => {
                        let order = ka.cmp(kb).then_with(|| va.total_cmp(vb));
                        if order != Ordering::Equal {
                            return order;
                        }
                    }
                }
            }
        })
}

/// The arithmetic mean; `None` for no values.
fn mean(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    Some(values.iter().sum::<f64>() / values.len() as f64)
}

/// The sample standard deviation (divisor `n − 1`); `None` for fewer than two values.
fn sample_stddev(values: &[f64]) -> Option<f64> {
    if values.len() < 2 {
        return None;
    }
    let mean = mean(values)?;
    let squares: f64 = values.iter().map(|v| (v - mean) * (v - mean)).sum();
    Some((squares / (values.len() - 1) as f64).sqrt())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::domain::form::{Criterion, Text};

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    /// A stage from `(key, weight, min, max)` criteria.
    fn grid(criteria: &[(&str, u32, f64, f64)]) -> Stage {
        Stage {
            key: "written".to_owned(),
            label: Text::french("Écrit"),
            criteria: criteria
                .iter()
                .map(|(key, weight, min, max)| Criterion {
                    key: (*key).to_owned(),
                    label: Text::french(*key),
                    description: None,
                    weight: *weight,
                    min: *min,
                    max: *max,
                })
                .collect(),
            starts_at: None,
            ends_at: None,
            extra_documents: Vec::new(),
        }
    }

    /// `impact` (60 %, 0–10) and `team` (40 %, 1–5).
    fn two_criteria() -> Stage {
        grid(&[("impact", 60, 0.0, 10.0), ("team", 40, 1.0, 5.0)])
    }

    fn scores(pairs: &[(&str, f64)]) -> BTreeMap<String, f64> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
    }

    fn review(application: u128, juror: u128, pairs: &[(&str, f64)]) -> ReviewScores {
        ReviewScores {
            application: id(application),
            juror: id(juror),
            scores: scores(pairs),
        }
    }

    /// A review on a one-criterion stage (`overall`, 100 %).
    fn overall(application: u128, juror: u128, score: f64) -> ReviewScores {
        review(application, juror, &[("overall", score)])
    }

    #[track_caller]
    fn close(actual: Option<f64>, expected: f64) {
        match actual {
            Some(value) => assert!((value - expected).abs() < 1e-9, "{value} is not {expected}"),
            None => panic!("None is not {expected}"),
        }
    }

    fn find(ranking: &[RankedApplication], application: u128) -> &RankedApplication {
        ranking
            .iter()
            .find(|line| line.application == id(application))
            .unwrap_or_else(|| panic!("application {application} is not ranked"))
    }

    fn order(ranking: &[RankedApplication]) -> Vec<Uuid> {
        ranking.iter().map(|line| line.application).collect()
    }

    #[test]
    fn weighted_score_by_hand() {
        let stage = two_criteria();
        // impact 8/10 → 0.8 × 60 = 48; team (4 − 1)/(5 − 1) = 0.75 × 40 = 30; total 78.
        close(
            weighted_score(&stage, &scores(&[("impact", 8.0), ("team", 4.0)])),
            78.0,
        );
        // The minimum everywhere is 0, the maximum everywhere 100.
        close(
            weighted_score(&stage, &scores(&[("impact", 0.0), ("team", 1.0)])),
            0.0,
        );
        close(
            weighted_score(&stage, &scores(&[("impact", 10.0), ("team", 5.0)])),
            100.0,
        );
        // 0.5 × 60 + (3 − 1)/4 × 40 = 30 + 20 = 50; unknown keys are ignored.
        close(
            weighted_score(
                &stage,
                &scores(&[("impact", 5.0), ("team", 3.0), ("old", 1.0)]),
            ),
            50.0,
        );
        // Out of range (the grid changed after scoring): clamped, 10 → 60 and 0 → 0.
        close(
            weighted_score(&stage, &scores(&[("impact", 12.0), ("team", 0.0)])),
            60.0,
        );
    }

    #[test]
    fn weighted_score_needs_every_criterion_and_a_sound_stage() {
        let stage = two_criteria();
        assert_eq!(weighted_score(&stage, &scores(&[("impact", 8.0)])), None);
        assert_eq!(
            weighted_score(&stage, &scores(&[("impact", f64::NAN), ("team", 3.0)])),
            None
        );
        assert_eq!(weighted_score(&grid(&[]), &scores(&[])), None);
        let zero_weight = grid(&[("a", 0, 0.0, 10.0)]);
        assert_eq!(weighted_score(&zero_weight, &scores(&[("a", 5.0)])), None);
        let empty_range = grid(&[("a", 100, 5.0, 5.0)]);
        assert_eq!(weighted_score(&empty_range, &scores(&[("a", 5.0)])), None);
        // Weights that do not sum to 100 are divided by their total: (1 × 20 + 0 × 20) / 40 = 50 %.
        let unbalanced = grid(&[("a", 20, 0.0, 10.0), ("b", 20, 0.0, 10.0)]);
        close(
            weighted_score(&unbalanced, &scores(&[("a", 10.0), ("b", 0.0)])),
            50.0,
        );
    }

    /// Three applications, three jurors, two reviews each, on `impact` (60 %, 0–10) and `team` (40 %, 1–5).
    ///
    /// | app | juror | impact | team | weighted                  |
    /// |-----|-------|--------|------|---------------------------|
    /// | A=1 | J1    | 8      | 4    | 48 + 30 = 78              |
    /// | A=1 | J2    | 7      | 4    | 42 + 30 = 72              |
    /// | B=2 | J1    | 10     | 5    | 60 + 40 = 100             |
    /// | B=2 | J3    | 5      | 2    | 30 + 10 = 40              |
    /// | C=3 | J2    | 9      | 5    | 54 + 40 = 94              |
    /// | C=3 | J3    | 7      | 3    | 42 + 20 = 62              |
    ///
    /// Scores: A (78 + 72)/2 = 75, B (100 + 40)/2 = 70, C (94 + 62)/2 = 78, so C, A, B.
    /// Sample stddevs: A |78 − 72|/√2 = 4.2426, B 60/√2 = 42.426, C 32/√2 = 22.627.
    /// Criterion means: A impact 7.5 team 4; B 7.5 and 3.5; C 8 and 4.
    ///
    /// Per juror, the two weighted scores are 22 apart, so each sample sd is 22/√2 and each z is ±11/(22/√2)
    /// = ±1/√2 = ±0.70711: J1 A −, B +; J2 A −, C +; J3 B −, C +. Mean z: A −0.70711, B 0, C +0.70711, so
    /// normalised scores 50 − 7.0711 = 42.929, 50, 57.071: A, whose two jurors liked it least, drops below B.
    #[test]
    fn ranking_by_hand() {
        let (j1, j2, j3) = (11, 12, 13);
        let reviews = vec![
            review(1, j1, &[("impact", 8.0), ("team", 4.0)]),
            review(1, j2, &[("impact", 7.0), ("team", 4.0)]),
            review(2, j1, &[("impact", 10.0), ("team", 5.0)]),
            review(2, j3, &[("impact", 5.0), ("team", 2.0)]),
            review(3, j2, &[("impact", 9.0), ("team", 5.0)]),
            review(3, j3, &[("impact", 7.0), ("team", 3.0)]),
        ];
        let ranking = rank(&two_criteria(), &reviews, 15.0);
        assert_eq!(order(&ranking), vec![id(3), id(1), id(2)]);
        let z = std::f64::consts::FRAC_1_SQRT_2;

        let a = find(&ranking, 1);
        assert_eq!(a.n_reviews, 2);
        close(a.score, 75.0);
        close(a.stddev, 6.0 / 2f64.sqrt());
        assert!(!a.disagreement);
        close(a.normalized_score, 50.0 - 10.0 * z);
        close(a.criteria.get("impact").copied(), 7.5);
        close(a.criteria.get("team").copied(), 4.0);

        let b = find(&ranking, 2);
        close(b.score, 70.0);
        close(b.stddev, 60.0 / 2f64.sqrt());
        assert!(b.disagreement);
        close(b.normalized_score, 50.0);
        close(b.criteria.get("impact").copied(), 7.5);
        close(b.criteria.get("team").copied(), 3.5);

        let c = find(&ranking, 3);
        close(c.score, 78.0);
        close(c.stddev, 32.0 / 2f64.sqrt());
        assert!(c.disagreement);
        close(c.normalized_score, 50.0 + 10.0 * z);
        close(c.criteria.get("impact").copied(), 8.0);
        close(c.criteria.get("team").copied(), 4.0);
    }

    /// A harsh juror H and a lenient juror L split the applications, with one (E) in common; one criterion
    /// `overall` on 0–20, so weighted = 5 × raw.
    ///
    /// H: A 4 → 20, B 8 → 40, E 6 → 30: mean 30, sample sd √((100 + 100 + 0)/2) = 10, z A −1, B +1, E 0.
    /// L: C 12 → 60, D 16 → 80, E 14 → 70: mean 70, sd 10, z C −1, D +1, E 0.
    ///
    /// Raw: D 80, C 60, E (30 + 70)/2 = 50, B 40, A 20 — H's favourite B is below L's least liked C.
    /// Normalised: B = D = 60, E = 50, A = C = 40: each juror's favourite is on a par.
    #[test]
    fn a_harsh_and_a_lenient_juror_cancel_out() {
        let stage = grid(&[("overall", 100, 0.0, 20.0)]);
        let (h, l) = (21, 22);
        let (a, b, c, d, e) = (1, 2, 3, 4, 5);
        let reviews = vec![
            overall(a, h, 4.0),
            overall(b, h, 8.0),
            overall(e, h, 6.0),
            overall(c, l, 12.0),
            overall(d, l, 16.0),
            overall(e, l, 14.0),
        ];
        let ranking = rank(&stage, &reviews, 15.0);
        assert_eq!(order(&ranking), vec![id(d), id(c), id(e), id(b), id(a)]);
        for (application, raw, normalized) in [
            (a, 20.0, 40.0),
            (b, 40.0, 60.0),
            (c, 60.0, 40.0),
            (d, 80.0, 60.0),
            (e, 50.0, 50.0),
        ] {
            close(find(&ranking, application).score, raw);
            close(find(&ranking, application).normalized_score, normalized);
        }
        // E's two reviews (30 and 70) are 40/√2 = 28.28 apart in sample sd: a disagreement.
        close(find(&ranking, e).stddev, 40.0 / 2f64.sqrt());
        assert!(find(&ranking, e).disagreement);

        // L becomes even more lenient (+2 everywhere, i.e. +10 weighted): raw scores move, normalised ones
        // do not.
        let lenient: Vec<ReviewScores> = reviews
            .iter()
            .map(|r| {
                if r.juror == id(l) {
                    overall(r.application.as_u128(), l, r.scores["overall"] + 2.0)
                } else {
                    r.clone()
                }
            })
            .collect();
        let again = rank(&stage, &lenient, 15.0);
        close(find(&again, d).score, 90.0);
        for application in [a, b, c, d, e] {
            close(
                find(&again, application).normalized_score,
                find(&ranking, application)
                    .normalized_score
                    .unwrap_or(f64::NAN),
            );
        }
    }

    /// X and Y both score 50 (one criterion, 0–100, weighted = raw). X was reviewed by a harsh juror H
    /// (X 50, P 10: mean 30, sd 40/√2, z(X) = +1/√2) and Y by a lenient one L (Y 50, Q 90: mean 70,
    /// z(Y) = −1/√2): X's 50 means more, so X comes first (57.07 against 42.93).
    #[test]
    fn equal_scores_are_ordered_by_normalized_score() {
        let stage = grid(&[("overall", 100, 0.0, 100.0)]);
        let (x, y, p, q) = (1, 2, 3, 4);
        let reviews = vec![
            overall(y, 32, 50.0),
            overall(q, 32, 90.0),
            overall(x, 31, 50.0),
            overall(p, 31, 10.0),
        ];
        let ranking = rank(&stage, &reviews, 15.0);
        assert_eq!(order(&ranking), vec![id(q), id(x), id(y), id(p)]);
        let z = std::f64::consts::FRAC_1_SQRT_2;
        close(find(&ranking, x).normalized_score, 50.0 + 10.0 * z);
        close(find(&ranking, y).normalized_score, 50.0 - 10.0 * z);
    }

    /// Every juror writes a single review, so every z-score is 0 and every normalised score 50. All
    /// applications score 60: S, with two reviews, comes first, then R, T and U by id, whatever the input
    /// order.
    #[test]
    fn full_ties_go_to_more_reviews_then_to_the_smallest_id() {
        let stage = grid(&[("overall", 100, 0.0, 100.0)]);
        let (r, s, t, u) = (40, 50, 30, 20);
        let reviews = vec![
            overall(r, 41, 60.0),
            overall(t, 43, 60.0),
            overall(s, 42, 50.0),
            overall(s, 45, 70.0),
            overall(u, 44, 60.0),
        ];
        let ranking = rank(&stage, &reviews, 15.0);
        assert_eq!(order(&ranking), vec![id(s), id(u), id(t), id(r)]);
        assert!(ranking
            .iter()
            .all(|line| line.normalized_score == Some(50.0)));
        let mut reversed = reviews.clone();
        reversed.reverse();
        assert_eq!(rank(&stage, &reversed, 15.0), ranking);
    }

    /// One criterion on 0–7: P's reviews 0 and 5 give (0 + 71.428…)/2 = 35.714285714285715 in floating
    /// point, Q's 1 and 4 give (14.285… + 57.142…)/2 = 35.71428571428571; both are exactly 250/7. The
    /// rounding difference must not decide: they tie, and Q (smaller id) comes first.
    #[test]
    fn rounding_noise_is_a_tie() {
        let stage = grid(&[("overall", 100, 0.0, 7.0)]);
        let (q, p) = (1, 2);
        let reviews = vec![
            overall(p, 51, 0.0),
            overall(p, 52, 5.0),
            overall(q, 53, 1.0),
            overall(q, 54, 4.0),
        ];
        let ranking = rank(&stage, &reviews, 15.0);
        let (score_p, score_q) = (find(&ranking, p).score, find(&ranking, q).score);
        assert!(score_p > score_q, "the example no longer shows the noise");
        assert_eq!(order(&ranking), vec![id(q), id(p)]);
    }

    #[test]
    fn disagreement_is_a_stddev_above_the_threshold() {
        let stage = grid(&[("overall", 100, 0.0, 100.0)]);
        let reviews = vec![
            // 50 and 60: sample sd 10/√2 = 7.07.
            overall(1, 61, 50.0),
            overall(1, 62, 60.0),
            // 40 and 70: sample sd 30/√2 = 21.21.
            overall(2, 61, 40.0),
            overall(2, 62, 70.0),
            // One review: no stddev, no disagreement.
            overall(3, 61, 0.0),
        ];
        let ranking = rank(&stage, &reviews, 15.0);
        close(find(&ranking, 1).stddev, 10.0 / 2f64.sqrt());
        assert!(!find(&ranking, 1).disagreement);
        close(find(&ranking, 2).stddev, 30.0 / 2f64.sqrt());
        assert!(find(&ranking, 2).disagreement);
        assert_eq!(find(&ranking, 3).stddev, None);
        assert!(!find(&ranking, 3).disagreement);
        // The threshold is strict and configurable.
        let strict = rank(&stage, &reviews, 5.0);
        assert!(find(&strict, 1).disagreement);
        let at_threshold = find(&ranking, 2).stddev.unwrap_or(f64::NAN);
        let exactly = rank(&stage, &reviews, at_threshold);
        assert!(!find(&exactly, 2).disagreement);
    }

    #[test]
    fn applications_without_a_complete_review_come_last() {
        let stage = two_criteria();
        let reviews = vec![
            review(5, 71, &[("impact", 0.0), ("team", 1.0)]),
            // Incomplete: ignored, but its application is listed.
            review(4, 71, &[("impact", 10.0)]),
        ];
        let ranking = rank_applications(&stage, &[id(3), id(9), id(5)], &reviews, 15.0);
        assert_eq!(order(&ranking), vec![id(5), id(3), id(4), id(9)]);
        close(ranking[0].score, 0.0);
        for line in &ranking[1..] {
            assert_eq!(line.n_reviews, 0);
            assert_eq!(line.score, None);
            assert_eq!(line.normalized_score, None);
            assert_eq!(line.stddev, None);
            assert!(line.criteria.is_empty());
            assert!(!line.disagreement);
        }
        assert!(rank(&stage, &[], 15.0).is_empty());
    }

    /// A juror who gives every application the same score has no spread: their z-scores are 0, even when
    /// floating point makes the mean differ from the score in the last bit (1/7 × 100 three times).
    #[test]
    fn a_juror_without_spread_contributes_zero() {
        let stage = grid(&[("overall", 100, 0.0, 7.0)]);
        let reviews = vec![
            overall(1, 81, 1.0),
            overall(2, 81, 1.0),
            overall(3, 81, 1.0),
        ];
        let ranking = rank(&stage, &reviews, 15.0);
        assert!(ranking
            .iter()
            .all(|line| line.normalized_score == Some(50.0)));
    }

    #[test]
    fn extreme_normalized_scores_are_clamped() {
        // One juror, 11 applications: ten at 0 and one at 100. z of the top one = (100 − 9.09)/30.15 = 3.015,
        // so 50 + 30.15 = 80.15; the clamp matters only beyond 5 sd, so check the bounds hold in general.
        let stage = grid(&[("overall", 100, 0.0, 100.0)]);
        let mut reviews: Vec<ReviewScores> = (0..10).map(|a| overall(a, 91, 0.0)).collect();
        reviews.push(overall(10, 91, 100.0));
        let ranking = rank(&stage, &reviews, 15.0);
        let top = find(&ranking, 10);
        // mean 100/11, sample sd √((10 × (100/11)² + (1000/11)²)/10) = √(100000/121 + 1000000/1210)…
        let mean: f64 = 100.0 / 11.0;
        let sd = ((10.0 * mean * mean + (100.0 - mean) * (100.0 - mean)) / 10.0).sqrt();
        close(top.normalized_score, 50.0 + 10.0 * (100.0 - mean) / sd);
        assert!(ranking.iter().all(|line| line
            .normalized_score
            .is_some_and(|v| (0.0..=100.0).contains(&v))));
    }

    // --- Property tests ----------------------------------------------------------------------------------

    /// `a` (30 %, 0–10) and `b` (70 %, 1–21).
    fn property_stage() -> Stage {
        grid(&[("a", 30, 0.0, 10.0), ("b", 70, 1.0, 21.0)])
    }

    /// Reviews with `a` in 0–5 and `b` in 1–11, so that `f·s + c` with `f` in 1–1.5 and `c` in 0–2 stays
    /// within range; at most one review per (application, juror).
    fn reviews() -> impl Strategy<Value = Vec<ReviewScores>> {
        prop::collection::vec((0u128..8, 0u128..5, 0.0f64..=5.0, 1.0f64..=11.0), 0..30).prop_map(
            |rows| {
                let mut seen = std::collections::BTreeSet::new();
                rows.into_iter()
                    .filter(|(app, juror, _, _)| seen.insert((*app, *juror)))
                    .map(|(app, juror, a, b)| review(app, 100 + juror, &[("a", a), ("b", b)]))
                    .collect()
            },
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn ranking_is_consistent(reviews in reviews()) {
            let stage = property_stage();
            let ranking = rank(&stage, &reviews, 15.0);
            let applications: std::collections::BTreeSet<Uuid> =
                reviews.iter().map(|r| r.application).collect();
            prop_assert_eq!(ranking.len(), applications.len());
            prop_assert_eq!(ranking.iter().map(|l| l.n_reviews).sum::<usize>(), reviews.len());
            for pair in ranking.windows(2) {
                prop_assert_ne!(compare_ranked(&pair[0], &pair[1]), Ordering::Greater);
            }
            for line in &ranking {
                let own: Vec<f64> = reviews
                    .iter()
                    .filter(|r| r.application == line.application)
                    .filter_map(|r| weighted_score(&stage, &r.scores))
                    .collect();
                // Independent computation of the mean, the spread and the flag.
                let mean = own.iter().sum::<f64>() / own.len() as f64;
                prop_assert!((line.score.unwrap_or(f64::NAN) - mean).abs() < 1e-9);
                prop_assert!(line.score.is_some_and(|s| (0.0..=100.0).contains(&s)));
                prop_assert!(line.normalized_score.is_some_and(|s| (0.0..=100.0).contains(&s)));
                if own.len() > 1 {
                    let var = own.iter().map(|w| (w - mean).powi(2)).sum::<f64>() / (own.len() - 1) as f64;
                    prop_assert!((line.stddev.unwrap_or(f64::NAN) - var.sqrt()).abs() < 1e-9);
                    prop_assert_eq!(line.disagreement, var.sqrt() > 15.0);
                } else {
                    prop_assert_eq!(line.stddev, None);
                }
            }
        }

        #[test]
        fn ranking_ignores_the_order_of_reviews(reviews in reviews(), seed in any::<u64>()) {
            let stage = property_stage();
            let mut shuffled = reviews.clone();
            // Rotate and reverse by the seed: enough to move every review.
            let len = shuffled.len().max(1);
            shuffled.rotate_left((seed as usize) % len);
            if seed % 2 == 0 {
                shuffled.reverse();
            }
            prop_assert_eq!(rank(&stage, &shuffled, 15.0), rank(&stage, &reviews, 15.0));
        }

        #[test]
        fn normalization_ignores_a_juror_shifting_or_stretching_their_scores(
            reviews in reviews(),
            juror in 0u128..5,
            factor in 1.0f64..=1.5,
            shift in 0.0f64..=2.0,
        ) {
            let stage = property_stage();
            let before = rank(&stage, &reviews, 15.0);
            let changed: Vec<ReviewScores> = reviews
                .iter()
                .map(|r| {
                    let mut r = r.clone();
                    if r.juror == id(100 + juror) {
                        for value in r.scores.values_mut() {
                            *value = factor * *value + shift;
                        }
                    }
                    r
                })
                .collect();
            let after = rank(&stage, &changed, 15.0);
            for line in &before {
                let other = after
                    .iter()
                    .find(|l| l.application == line.application)
                    .map(|l| l.normalized_score);
                let (x, y) = (line.normalized_score.unwrap_or(f64::NAN), other.flatten().unwrap_or(f64::NAN));
                prop_assert!((x - y).abs() < 1e-7, "{} vs {}", x, y);
            }
        }
    }
}
