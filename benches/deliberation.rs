//! How long the deliberation view takes to compute and draw at a meeting's largest size: 1,000 applications,
//! 8 jurors, 3 reviews per application. Everything after the database: the ranking
//! (`domain::ranking::rank_applications`), the figures (`domain::deliberation::derive`), and the HTML page
//! with its SVG charts (`service::deliberation::page::render`), each timed over several runs (median, worst).
//! The database's part (the submitted scores, read by the ranking's statement) is the ranking workload of
//! the `bench/` harness.
//!
//! ```sh
//! cargo bench --bench deliberation            # optimised, as served
//! cargo bench --bench deliberation --profile dev   # reusing the test build
//! ```

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use cordee::domain::deliberation::{derive, CriterionInput, Input, Ranked};
use cordee::domain::form::{Criterion, Stage, Text};
use cordee::domain::ranking::{rank_applications, weighted_score, ReviewScores, WeightedReview};
use cordee::service::deliberation::{page, Deliberation, StageHeading, Thresholds};
use uuid::Uuid;

const APPLICATIONS: u128 = 1_000;
const JURORS: u128 = 8;
const REVIEWS: u128 = 3;
const RUNS: usize = 15;

fn stage() -> Stage {
    let criteria = [
        ("innovation", 25),
        ("mountain_fit", 20),
        ("market", 20),
        ("team", 20),
        ("impact", 15),
    ];
    Stage {
        key: "written".to_owned(),
        label: Text::french("Sélection sur dossier"),
        criteria: criteria
            .iter()
            .map(|(key, weight)| Criterion {
                key: (*key).to_owned(),
                label: Text::french(*key),
                description: None,
                weight: *weight,
                min: 0.0,
                max: 5.0,
            })
            .collect(),
        starts_at: None,
        ends_at: None,
        extra_documents: Vec::new(),
    }
}

fn reviews(stage: &Stage) -> Vec<ReviewScores> {
    let mut reviews = Vec::new();
    for a in 0..APPLICATIONS {
        for k in 0..REVIEWS {
            let juror = (a + k) % JURORS;
            let scores: BTreeMap<String, f64> = stage
                .criteria
                .iter()
                .enumerate()
                .map(|(c, criterion)| {
                    let value = ((a * 7 + juror * 3 + c as u128 * 11) % 6) as f64;
                    (criterion.key.clone(), value)
                })
                .collect();
            reviews.push(ReviewScores {
                application: Uuid::from_u128(1 + a),
                juror: Uuid::from_u128(10_000 + juror),
                scores,
            });
        }
    }
    reviews
}

/// Median and worst of `RUNS` runs of `f`, and its last result.
fn time<T>(mut f: impl FnMut() -> T) -> (Duration, Duration, T) {
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..RUNS {
        let start = Instant::now();
        last = Some(f());
        times.push(start.elapsed());
    }
    times.sort();
    let result = last.unwrap_or_else(|| unreachable!("RUNS > 0"));
    (times[RUNS / 2], times[RUNS - 1], result)
}

fn main() {
    let stage = stage();
    let reviews = reviews(&stage);
    let conflicts: HashSet<(Uuid, Uuid)> = (0..20u128)
        .map(|a| {
            (
                Uuid::from_u128(1 + a * 50),
                Uuid::from_u128(10_000 + (a + 5) % JURORS),
            )
        })
        .collect();
    let jury: Vec<Uuid> = (0..JURORS).map(|j| Uuid::from_u128(10_000 + j)).collect();
    let criteria: Vec<CriterionInput> = stage
        .criteria
        .iter()
        .map(|c| CriterionInput {
            key: c.key.clone(),
            label: c.label.fr.clone(),
            weight: c.weight,
            min: c.min,
            max: c.max,
        })
        .collect();

    let (rank_median, rank_worst, ranking) = time(|| {
        let ranking: Vec<Ranked> = rank_applications(&stage, &[], &reviews, 15.0)
            .into_iter()
            .map(|line| Ranked {
                reference: Some(format!("ATL-2026-{:04}", line.application.as_u128())),
                organization: Some(format!("Jeune pousse {}", line.application.as_u128())),
                line,
            })
            .collect();
        let weighted: Vec<WeightedReview> = reviews
            .iter()
            .filter_map(|r| {
                Some(WeightedReview {
                    application: r.application,
                    juror: r.juror,
                    weighted: weighted_score(&stage, &r.scores)?,
                })
            })
            .collect();
        (ranking, weighted)
    });
    let (ranking, weighted) = ranking;
    let (derive_median, derive_worst, figures) = time(|| {
        derive(&Input {
            call_id: Uuid::from_u128(7),
            ranking: &ranking,
            reviews: &weighted,
            conflicts: &conflicts,
            jury: &jury,
            criteria: &criteria,
            shortlist: None,
            requested_line: Some(100),
        })
    });
    let view = Deliberation {
        call_id: Uuid::from_u128(7),
        call_title: "Alpes Tourisme Lab".to_owned(),
        stage: StageHeading {
            key: stage.key.clone(),
            label: stage.label.fr.clone(),
        },
        lang: "fr".to_owned(),
        jurors_named: false,
        thresholds: Thresholds {
            disagreement_stddev: 15.0,
            lean_points: 10.0,
            narrow_stddev: 5.0,
            narrow_range: 20.0,
            min_reviews: 3,
        },
        figures,
    };
    let (render_median, render_worst, html) =
        time(|| page::render(&view).expect("the page renders"));
    let (json_median, json_worst, json) = time(|| serde_json::to_vec(&view).expect("the JSON"));
    println!(
        "deliberation view, {APPLICATIONS} applications × {JURORS} jurors × {REVIEWS} reviews each, \
         median (worst) of {RUNS} runs:"
    );
    println!(
        "  ranking         {:>8.1?} ({:.1?})",
        rank_median, rank_worst
    );
    println!(
        "  figures         {:>8.1?} ({:.1?})",
        derive_median, derive_worst
    );
    println!(
        "  HTML + SVG page {:>8.1?} ({:.1?}), {} KiB",
        render_median,
        render_worst,
        html.len() / 1024
    );
    println!(
        "  JSON            {:>8.1?} ({:.1?}), {} KiB",
        json_median,
        json_worst,
        json.len() / 1024
    );
    println!(
        "  page in all     {:>8.1?}",
        rank_median + derive_median + render_median
    );
}
