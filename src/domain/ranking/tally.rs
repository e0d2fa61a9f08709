//! The ranking kept per application: what one application's reviews at one stage contribute to the ranking
//! (a [`Tally`]), recomputed from those few reviews whenever one of them, a conflict or the application's
//! status changes, so that ranking a stage reads one tally per application instead of every review.
//!
//! The ranking built from tallies ([`rank_tallies`]) is the ranking [`rank_applications`] builds from the
//! reviews, to the bit: a tally keeps each counted review's weighted score (the per-juror z-scores need
//! them) and the per-criterion sums in juror-id order, the order in which [`rank_applications`] adds them.
//!
//! [`rank_applications`]: super::rank_applications

use std::collections::HashMap;

use uuid::Uuid;

use super::{
    compare_ranked, mean, sample_stddev, weighted_score_in_order, RankedApplication,
    WeightedReview, ZERO_SPREAD,
};
use crate::domain::form::Stage;

/// One submitted review of an application at a stage, with what decides whether it counts.
#[derive(Debug, Clone, PartialEq)]
pub struct Submitted {
    /// The juror who wrote it.
    pub juror: Uuid,
    /// Its scores in the order of the stage's criteria; `None` when one is missing or unreadable.
    pub scores: Option<Vec<f64>>,
    /// Whether a recorded conflict (declared, or detected and applying) keeps the juror away from it.
    pub conflicted: bool,
}

/// What the counted reviews of one application at one stage give the ranking.
#[derive(Debug, Clone, PartialEq)]
pub struct Tally {
    /// How many reviews count (at least one: an application without any has no tally).
    pub reviews: usize,
    /// Sum of their weighted scores (0–100), added in juror-id order.
    pub weighted_sum: f64,
    /// Sum of the squares of their weighted scores, in juror-id order.
    pub weighted_sumsq: f64,
    /// Per criterion of the stage, in the stage's order: sum and sum of squares of the raw scores, added in
    /// juror-id order.
    pub criteria: Vec<(f64, f64)>,
    /// Each counted review as (juror, weighted score), sorted by juror id.
    pub jurors: Vec<(Uuid, f64)>,
}

/// The tally of one application at `stage` from its submitted reviews; `None` when none counts.
///
/// A review counts when the application is not withdrawn, its juror is not conflicted with it and it scores
/// every criterion of the stage with a weighted score ([`weighted_score_in_order`]) — the rule of
/// [`rank_applications`](super::rank_applications) as the ranking has always applied it.
pub fn tally(stage: &Stage, application_withdrawn: bool, reviews: &[Submitted]) -> Option<Tally> {
    if application_withdrawn {
        return None;
    }
    let mut counted: Vec<(Uuid, &[f64], f64)> = reviews
        .iter()
        .filter(|review| !review.conflicted)
        .filter_map(|review| {
            let scores = review.scores.as_deref()?;
            Some((
                review.juror,
                scores,
                weighted_score_in_order(stage, scores)?,
            ))
        })
        .collect();
    if counted.is_empty() {
        return None;
    }
    counted.sort_by_key(|review| review.0);
    let weighted: Vec<f64> = counted.iter().map(|(_, _, w)| *w).collect();
    let criteria = (0..stage.criteria.len())
        .map(|i| {
            let values: Vec<f64> = counted.iter().map(|(_, scores, _)| scores[i]).collect();
            sums(&values)
        })
        .collect();
    let (weighted_sum, weighted_sumsq) = sums(&weighted);
    Some(Tally {
        reviews: counted.len(),
        weighted_sum,
        weighted_sumsq,
        criteria,
        jurors: counted.iter().map(|(juror, _, w)| (*juror, *w)).collect(),
    })
}

/// The sum and the sum of squares, added in order (as `mean` adds them).
fn sums(values: &[f64]) -> (f64, f64) {
    (
        values.iter().sum::<f64>(),
        values.iter().map(|v| v * v).sum::<f64>(),
    )
}

/// Ranks a stage from the tallies of its applications (those without a counted review have none), best
/// first, `keys` naming the stage's criteria in the order of the tallies' sums: the same lines, in the
/// same order and to the bit, as [`rank_applications`](super::rank_applications) on the reviews the tallies
/// were made from. Also returns each counted review's weighted score, in (application, juror) order.
///
/// The arithmetic is [`rank_weighted`](super::rank_weighted)'s, value for value and in its order: each
/// juror's weighted scores in application order give the juror's mean and spread, each application's in
/// juror order its mean, spread and mean z-score; only the per-criterion sums come ready-made, added in
/// the same juror order.
pub fn rank_tallies(
    mut tallies: Vec<(Uuid, Tally)>,
    keys: &[String],
    disagreement_threshold: f64,
) -> (Vec<RankedApplication>, Vec<WeightedReview>) {
    if !tallies.windows(2).all(|w| w[0].0 < w[1].0) {
        tallies.sort_by_key(|line| line.0);
    }
    // Each juror once in a dense index (one hash lookup per review), their weighted scores in application
    // order, and each review's juror index for the second pass.
    let total = tallies.iter().map(|(_, t)| t.jurors.len()).sum();
    let mut index: HashMap<Uuid, usize> = HashMap::new();
    let mut by_juror: Vec<Vec<f64>> = Vec::new();
    let mut slots: Vec<usize> = Vec::with_capacity(total);
    for (_, tally) in &tallies {
        for (juror, weighted) in &tally.jurors {
            let slot = *index.entry(*juror).or_insert_with(|| {
                by_juror.push(Vec::new());
                by_juror.len() - 1
            });
            by_juror[slot].push(*weighted);
            slots.push(slot);
        }
    }
    let juror_stats: Vec<(f64, Option<f64>)> = by_juror
        .iter()
        .map(|values| (mean(values).unwrap_or(0.0), sample_stddev(values)))
        .collect();
    let z_score = |slot: usize, weighted: f64| match juror_stats[slot] {
        (mean, Some(sd)) if sd > ZERO_SPREAD => (weighted - mean) / sd,
        _ => 0.0,
    };
    let mut reviews = Vec::with_capacity(total);
    let mut ranking: Vec<RankedApplication> = Vec::with_capacity(tallies.len());
    let mut weighted: Vec<f64> = Vec::new();
    let mut z: Vec<f64> = Vec::new();
    let mut slots = slots.into_iter();
    for (application, tally) in tallies {
        let n = tally.jurors.len() as f64;
        weighted.clear();
        weighted.extend(tally.jurors.iter().map(|(_, w)| *w));
        z.clear();
        z.extend(
            tally
                .jurors
                .iter()
                .zip(slots.by_ref())
                .map(|((_, w), slot)| z_score(slot, *w)),
        );
        reviews.extend(tally.jurors.iter().map(|(juror, w)| WeightedReview {
            application,
            juror: *juror,
            weighted: *w,
        }));
        let stddev = sample_stddev(&weighted);
        ranking.push(RankedApplication {
            application,
            n_reviews: tally.jurors.len(),
            score: mean(&weighted),
            normalized_score: mean(&z).map(|z| (50.0 + 10.0 * z).clamp(0.0, 100.0)),
            criteria: keys
                .iter()
                .zip(&tally.criteria)
                .map(|(key, (sum, _))| (key.clone(), sum / n))
                .collect(),
            stddev,
            disagreement: stddev.is_some_and(|sd| sd > disagreement_threshold),
        });
    }
    ranking.sort_by(compare_ranked);
    (ranking, reviews)
}

/// A tally's criteria as stored: sum and sum of squares of each criterion in the stage's order, as
/// little-endian IEEE 754 doubles (16 bytes a criterion; they read back to the same bits).
pub fn encode_criteria(criteria: &[(f64, f64)]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(criteria.len() * 16);
    for (sum, sumsq) in criteria {
        bytes.extend_from_slice(&sum.to_le_bytes());
        bytes.extend_from_slice(&sumsq.to_le_bytes());
    }
    bytes
}

/// A tally's criteria read back ([`encode_criteria`]) for a stage of `count` criteria; `None` when the
/// bytes are not that many.
pub fn decode_criteria(bytes: &[u8], count: usize) -> Option<Vec<(f64, f64)>> {
    if bytes.len() != count * 16 {
        return None;
    }
    Some(
        bytes
            .chunks_exact(16)
            .map(|pair| (double(&pair[..8]), double(&pair[8..])))
            .collect(),
    )
}

/// A tally's reviews as stored: each juror's id (16 bytes) and weighted score (little-endian double), in
/// juror order.
pub fn encode_jurors(jurors: &[(Uuid, f64)]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(jurors.len() * 24);
    for (juror, weighted) in jurors {
        bytes.extend_from_slice(juror.as_bytes());
        bytes.extend_from_slice(&weighted.to_le_bytes());
    }
    bytes
}

/// A tally's reviews read back ([`encode_jurors`]); `None` when the bytes are not whole reviews.
pub fn decode_jurors(bytes: &[u8]) -> Option<Vec<(Uuid, f64)>> {
    if !bytes.len().is_multiple_of(24) {
        return None;
    }
    Some(
        bytes
            .chunks_exact(24)
            .map(|review| {
                let mut id = [0u8; 16];
                id.copy_from_slice(&review[..16]);
                (Uuid::from_bytes(id), double(&review[16..]))
            })
            .collect(),
    )
}

/// The little-endian double of 8 bytes (the callers slice exactly 8).
fn double(bytes: &[u8]) -> f64 {
    let mut raw = [0u8; 8];
    raw.copy_from_slice(bytes);
    f64::from_le_bytes(raw)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::{rank_applications, ReviewScores};
    use super::*;
    use crate::domain::form::{Criterion, Text};

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    /// `a` (30 %, 0–10) and `b` (70 %, 1–21).
    fn stage() -> Stage {
        Stage {
            key: "written".to_owned(),
            label: Text::french("Écrit"),
            criteria: [("a", 30, 0.0, 10.0), ("b", 70, 1.0, 21.0)]
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

    fn submitted(juror: u128, scores: Option<[f64; 2]>, conflicted: bool) -> Submitted {
        Submitted {
            juror: id(juror),
            scores: scores.map(|s| s.to_vec()),
            conflicted,
        }
    }

    #[test]
    fn a_tally_by_hand() {
        // Weighted: juror 2: 30 × 0.5 + 70 × 0.5 = 50; juror 1: 30 × 1 + 70 × 0 = 30.
        let reviews = [
            submitted(2, Some([5.0, 11.0]), false),
            submitted(1, Some([10.0, 1.0]), false),
        ];
        let tally = tally(&stage(), false, &reviews).expect("two reviews count");
        assert_eq!(tally.reviews, 2);
        assert_eq!(tally.jurors, vec![(id(1), 30.0), (id(2), 50.0)]);
        assert_eq!(tally.weighted_sum, 80.0);
        assert_eq!(tally.weighted_sumsq, 900.0 + 2500.0);
        assert_eq!(tally.criteria, vec![(15.0, 125.0), (12.0, 122.0)]);
    }

    #[test]
    fn conflicted_incomplete_and_withdrawn_do_not_count() {
        let reviews = [
            submitted(1, Some([10.0, 1.0]), true),
            submitted(2, None, false),
            submitted(3, Some([5.0, 11.0]), false),
        ];
        let only = tally(&stage(), false, &reviews).expect("one review counts");
        assert_eq!(only.reviews, 1);
        assert_eq!(only.jurors, vec![(id(3), 50.0)]);
        assert_eq!(tally(&stage(), true, &reviews), None, "withdrawn");
        assert_eq!(
            tally(&stage(), false, &reviews[..2]),
            None,
            "nothing counts"
        );
        // A score list of the wrong length (the grid changed) has no weighted score.
        let short = [Submitted {
            juror: id(4),
            scores: Some(vec![3.0]),
            conflicted: false,
        }];
        assert_eq!(tally(&stage(), false, &short), None);
    }

    #[test]
    fn stored_bytes_read_back_to_the_same_bits() {
        let awkward = [
            0.1 + 0.2,
            1.0 / 3.0,
            100.0,
            0.0,
            5e-324,
            123_456.789_012_345_68,
        ];
        let criteria: Vec<(f64, f64)> = awkward.iter().map(|v| (*v, v * v)).collect();
        let back =
            decode_criteria(&encode_criteria(&criteria), criteria.len()).expect("reads back");
        for ((sum, sumsq), (a, b)) in criteria.iter().zip(&back) {
            assert_eq!(a.to_bits(), sum.to_bits());
            assert_eq!(b.to_bits(), sumsq.to_bits());
        }
        let jurors: Vec<(Uuid, f64)> = awkward
            .iter()
            .enumerate()
            .map(|(i, v)| (id(i as u128 + 1), *v))
            .collect();
        let back = decode_jurors(&encode_jurors(&jurors)).expect("reads back");
        assert_eq!(back.len(), jurors.len());
        for ((a, x), (b, y)) in jurors.iter().zip(&back) {
            assert_eq!(a, b);
            assert_eq!(x.to_bits(), y.to_bits());
        }
        assert_eq!(decode_jurors(&[0u8; 23]), None, "not a whole review");
        let two = encode_criteria(&criteria[..2]);
        assert_eq!(decode_criteria(&two, 3), None, "a stage of another size");
    }

    /// Reviews of up to 8 applications by up to 5 jurors, some conflicted, some incomplete.
    fn reviews() -> impl Strategy<Value = Vec<(u128, u128, Option<[f64; 2]>, bool)>> {
        prop::collection::vec(
            (
                0u128..8,
                0u128..5,
                prop::option::weighted(0.9, (0.0f64..=10.0, 1.0f64..=21.0)),
                prop::bool::weighted(0.15),
            ),
            0..40,
        )
        .prop_map(|rows| {
            let mut seen = std::collections::BTreeSet::new();
            rows.into_iter()
                .filter(|(app, juror, _, _)| seen.insert((*app, *juror)))
                .map(|(app, juror, scores, conflicted)| {
                    (app, 100 + juror, scores.map(|(a, b)| [a, b]), conflicted)
                })
                .collect()
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn the_ranking_from_tallies_is_the_ranking_from_reviews(rows in reviews(), withdrawn in 0u128..9) {
            let stage = stage();
            // The full recomputation, as the ranking always did it: counted reviews only.
            let counted: Vec<ReviewScores> = rows
                .iter()
                .filter(|(app, _, scores, conflicted)| *app != withdrawn && !conflicted && scores.is_some())
                .map(|(app, juror, scores, _)| {
                    let [a, b] = scores.unwrap_or_default();
                    ReviewScores {
                        application: id(*app),
                        juror: id(*juror),
                        scores: [("a".to_owned(), a), ("b".to_owned(), b)].into_iter().collect(),
                    }
                })
                .collect();
            let expected = rank_applications(&stage, &[], &counted, 15.0);

            let mut tallies = Vec::new();
            for app in 0u128..8 {
                let own: Vec<Submitted> = rows
                    .iter()
                    .rev()
                    .filter(|(a, _, _, _)| *a == app)
                    .map(|(_, juror, scores, conflicted)| submitted(*juror, *scores, *conflicted))
                    .collect();
                if let Some(t) = tally(&stage, app == withdrawn, &own) {
                    // Through the stored bytes, as the ranking reads them.
                    let stored = Tally {
                        criteria: decode_criteria(&encode_criteria(&t.criteria), 2).unwrap(),
                        jurors: decode_jurors(&encode_jurors(&t.jurors)).unwrap(),
                        ..t
                    };
                    tallies.push((id(app), stored));
                }
            }
            tallies.reverse();
            let keys = ["a".to_owned(), "b".to_owned()];
            let (ranking, weighted) = rank_tallies(tallies, &keys, 15.0);
            prop_assert_eq!(&ranking, &expected);
            for (a, b) in ranking.iter().zip(&expected) {
                prop_assert_eq!(a.score.map(f64::to_bits), b.score.map(f64::to_bits));
                prop_assert_eq!(a.normalized_score.map(f64::to_bits), b.normalized_score.map(f64::to_bits));
                prop_assert_eq!(a.stddev.map(f64::to_bits), b.stddev.map(f64::to_bits));
            }
            prop_assert_eq!(weighted.len(), counted.len());
            prop_assert!(weighted.windows(2).all(|w| (w[0].application, w[0].juror) < (w[1].application, w[1].juror)));
        }
    }
}
