//! The figures of a jury's deliberation, derived from a stage's ranking and nothing else: where the jury
//! agrees and where it does not, per application, per juror and per criterion.
//!
//! [`derive`] is pure: it takes the ranking exactly as [`super::ranking::rank_applications`] returned it
//! (so each application's raw and normalised scores, spread and disagreement are the ranking's own), the
//! reviews that ranking counted reduced to weighted scores ([`WeightedReview`]), and the conflicted
//! (application, juror) pairs the ranking left out, and adds what a meeting reads at a glance: each juror's
//! score on each application, the lowest and highest, the absent jurors, each juror's habits against the
//! jury's ([`profile::tendencies`]) and each criterion's mean.
//!
//! Jurors are called `J1`…`Jn` in an order that is stable for a call and says nothing about them
//! ([`juror_order`]), whether or not their names are shown beside.

pub mod profile;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use uuid::Uuid;

use super::ranking::{RankedApplication, WeightedReview};
use profile::{tendencies, Summary, Tendency};

/// What the derivation reads, all of it about one stage of one call.
pub struct Input<'a> {
    /// The call, whose id orders the jurors.
    pub call_id: Uuid,
    /// The ranking, best first, with each application's reference and organization's name.
    pub ranking: &'a [Ranked],
    /// The reviews the ranking counted, one weighted score each.
    pub reviews: &'a [WeightedReview],
    /// The (application, juror) pairs kept apart by a conflict.
    pub conflicts: &'a HashSet<(Uuid, Uuid)>,
    /// The jury (any order); jurors of `reviews` or `conflicts` who left it are added.
    pub jury: &'a [Uuid],
    /// The stage's criteria, in the stage's order, with their label in the page's language.
    pub criteria: &'a [CriterionInput],
    /// The ids of the applications a shortlist to the next stage kept, when there was one.
    pub shortlist: Option<&'a BTreeSet<Uuid>>,
    /// Where to draw the line when there is no shortlist (`?line=N`).
    pub requested_line: Option<usize>,
}

/// One line of the ranking with what identifies it to people.
pub struct Ranked {
    /// The ranking's line, as is.
    pub line: RankedApplication,
    /// The application's reference.
    pub reference: Option<String>,
    /// Its organization's name.
    pub organization: Option<String>,
}

/// A criterion of the stage.
pub struct CriterionInput {
    pub key: String,
    pub label: String,
    pub weight: u32,
    pub min: f64,
    pub max: f64,
}

/// Where the shortlist line falls: after the first `count` applications.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct Line {
    /// How many applications are above the line.
    pub count: usize,
    /// Where it comes from.
    pub source: LineSource,
}

/// Where a shortlist line comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LineSource {
    /// The number of applications shortlisted to the next stage.
    Shortlist,
    /// The number asked for (`?line=`).
    Requested,
}

/// The figures of a deliberation.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Figures {
    /// The shortlist line, if any.
    pub line: Option<Line>,
    /// The spread of every counted review's weighted score (0–100); `None` without reviews.
    pub jury: Option<Summary>,
    /// The applications, in the ranking's order.
    pub applications: Vec<ApplicationFigures>,
    /// The jurors, `J1` first.
    pub jurors: Vec<JurorFigures>,
    /// The stage's criteria, in its order.
    pub criteria: Vec<CriterionFigures>,
    /// The jurors' accounts, in the order of `jurors` (for the use case, never shown).
    #[serde(skip)]
    pub juror_ids: Vec<Uuid>,
}

/// One application: the ranking's figures, and each juror's part in them.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApplicationFigures {
    /// Its place in the ranking, from 1.
    pub rank: usize,
    pub application_id: Uuid,
    pub reference: Option<String>,
    /// The organization that applied.
    pub organization: Option<String>,
    /// The ranking's `n_reviews`.
    pub n_reviews: usize,
    /// The ranking's `score`: the mean weighted score, 0–100.
    pub score: Option<f64>,
    /// The ranking's `normalized_score`: 50 + 10·z, 0–100.
    pub normalized_score: Option<f64>,
    /// The ranking's `stddev`.
    pub stddev: Option<f64>,
    /// The ranking's `disagreement`.
    pub disagreement: bool,
    /// The lowest juror's weighted score.
    pub min: Option<f64>,
    /// The highest.
    pub max: Option<f64>,
    /// Each juror's weighted score, in juror order.
    pub scores: Vec<JurorScore>,
    /// The jurors kept away by a conflict (their review, if any, does not count), in juror order.
    pub conflicts: Vec<String>,
    /// Whether the shortlist kept it (`None` without a shortlist).
    pub shortlisted: Option<bool>,
}

/// A juror's weighted score on an application.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct JurorScore {
    /// `J1`…`Jn`.
    pub juror: String,
    /// 0–100.
    pub score: f64,
}

/// One juror's scoring against the jury's.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct JurorFigures {
    /// `J1`…`Jn`.
    pub label: String,
    /// The account, when jurors are named (filled in by the use case).
    pub user_id: Option<Uuid>,
    /// Their name, when jurors are named (filled in by the use case).
    pub name: Option<String>,
    /// The spread of their counted weighted scores; `None` without any.
    pub scores: Option<Summary>,
    /// Applications they are kept away from by a conflict.
    pub conflicts: usize,
    /// Their habits against the jury's.
    pub tendencies: Vec<Tendency>,
}

/// A criterion's mean over the ranked applications (each application's mean counts once).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CriterionFigures {
    pub key: String,
    pub label: String,
    /// Its share of the stage's score, in percent.
    pub weight: u32,
    pub min: f64,
    pub max: f64,
    /// The mean of the applications' means, on the criterion's own scale; `None` without reviews.
    pub mean: Option<f64>,
}

/// The jury in the order of its labels: by SHA-256 of the call's and the juror's ids, so that the order is
/// the same on every page of a call, differs from call to call, and tells nothing of who joined first.
pub fn juror_order(call_id: Uuid, jurors: impl IntoIterator<Item = Uuid>) -> Vec<Uuid> {
    let mut keyed: Vec<([u8; 32], Uuid)> = jurors
        .into_iter()
        .collect::<BTreeSet<Uuid>>()
        .into_iter()
        .map(|juror| {
            let mut hash = Sha256::new();
            hash.update(call_id.as_bytes());
            hash.update(juror.as_bytes());
            (hash.finalize().into(), juror)
        })
        .collect();
    keyed.sort();
    keyed.into_iter().map(|(_, juror)| juror).collect()
}

/// The figures of a deliberation (see the [module documentation](self)).
pub fn derive(input: &Input<'_>) -> Figures {
    let order = juror_order(
        input.call_id,
        input
            .jury
            .iter()
            .copied()
            .chain(input.reviews.iter().map(|r| r.juror))
            .chain(input.conflicts.iter().map(|(_, juror)| *juror)),
    );
    let position: HashMap<Uuid, usize> = order.iter().enumerate().map(|(i, j)| (*j, i)).collect();
    // Every juror of the reviews and conflicts is in `order`; `order.len()` is never reached.
    let at = |juror: &Uuid| position.get(juror).copied().unwrap_or(order.len());
    let label = |at: usize| format!("J{}", at + 1);

    let mut by_application: HashMap<Uuid, Vec<(usize, f64)>> = HashMap::new();
    let mut by_juror: BTreeMap<usize, Vec<f64>> = BTreeMap::new();
    for review in input.reviews {
        let at = at(&review.juror);
        by_application
            .entry(review.application)
            .or_default()
            .push((at, review.weighted));
        by_juror.entry(at).or_default().push(review.weighted);
    }
    let ranked: HashSet<Uuid> = input.ranking.iter().map(|r| r.line.application).collect();
    let mut conflicted: HashMap<Uuid, Vec<usize>> = HashMap::new();
    let mut conflicts_of_juror: HashMap<usize, usize> = HashMap::new();
    for (application, juror) in input.conflicts {
        let at = at(juror);
        conflicted.entry(*application).or_default().push(at);
        if ranked.contains(application) {
            *conflicts_of_juror.entry(at).or_default() += 1;
        }
    }

    let applications = input
        .ranking
        .iter()
        .enumerate()
        .map(|(i, ranked)| {
            let line = &ranked.line;
            let mut scores = by_application
                .get(&line.application)
                .cloned()
                .unwrap_or_default();
            scores.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
            let values: Vec<f64> = scores.iter().map(|(_, s)| *s).collect();
            let spread = Summary::of(&values);
            let mut absent = conflicted
                .get(&line.application)
                .cloned()
                .unwrap_or_default();
            absent.sort_unstable();
            ApplicationFigures {
                rank: i + 1,
                application_id: line.application,
                reference: ranked.reference.clone(),
                organization: ranked.organization.clone(),
                n_reviews: line.n_reviews,
                score: line.score,
                normalized_score: line.normalized_score,
                stddev: line.stddev,
                disagreement: line.disagreement,
                min: spread.map(|s| s.min),
                max: spread.map(|s| s.max),
                scores: scores
                    .iter()
                    .map(|(at, score)| JurorScore {
                        juror: label(*at),
                        score: *score,
                    })
                    .collect(),
                conflicts: absent.iter().map(|at| label(*at)).collect(),
                shortlisted: input.shortlist.map(|s| s.contains(&line.application)),
            }
        })
        .collect();

    let all: Vec<f64> = input.reviews.iter().map(|r| r.weighted).collect();
    let jury = Summary::of(&all);
    let jurors = (0..order.len())
        .map(|at| {
            let scores = by_juror.get(&at).and_then(|v| Summary::of(v));
            JurorFigures {
                label: label(at),
                user_id: None,
                name: None,
                scores,
                conflicts: conflicts_of_juror.get(&at).copied().unwrap_or(0),
                tendencies: match (&scores, &jury) {
                    (Some(own), Some(jury)) => tendencies(own, jury),
                    _ => Vec::new(),
                },
            }
        })
        .collect();

    let criteria = input
        .criteria
        .iter()
        .map(|c| {
            let means: Vec<f64> = input
                .ranking
                .iter()
                .filter_map(|r| r.line.criteria.get(&c.key).copied())
                .collect();
            CriterionFigures {
                key: c.key.clone(),
                label: c.label.clone(),
                weight: c.weight,
                min: c.min,
                max: c.max,
                mean: Summary::of(&means).map(|s| s.mean),
            }
        })
        .collect();

    let line = match input.shortlist {
        Some(kept) => Some(Line {
            count: input
                .ranking
                .iter()
                .filter(|r| kept.contains(&r.line.application))
                .count(),
            source: LineSource::Shortlist,
        }),
        None => input.requested_line.map(|count| Line {
            count: count.min(input.ranking.len()),
            source: LineSource::Requested,
        }),
    };

    Figures {
        line,
        jury,
        applications,
        jurors,
        criteria,
        juror_ids: order,
    }
}

#[cfg(test)]
mod tests;
