//! How long ranking a stage takes after the database, at 10,000 and 100,000 applications × 3 reviews (8
//! jurors, 5 criteria): from the maintained tallies as stored (their bytes decoded, then
//! `domain::ranking::tally::rank_tallies`, what `service::reviews::stage_ranking` does after its one range
//! read), beside the full recomputation from every review (`domain::ranking::rank_applications`). Each
//! timed over several runs (median, worst); the two rankings are checked equal to the bit. The database's
//! part is the ranking workload of the `bench/` harness.
//!
//! ```sh
//! cargo bench --bench ranking                    # optimised, as served
//! cargo bench --bench ranking --profile dev      # reusing the test build
//! ```

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use cordee::domain::form::{Criterion, Stage, Text};
use cordee::domain::ranking::tally::{
    decode_criteria, decode_jurors, encode_criteria, encode_jurors, rank_tallies, tally, Submitted,
    Tally,
};
use cordee::domain::ranking::{rank_applications, ReviewScores};
use uuid::Uuid;

const JURORS: u128 = 8;
const REVIEWS: u128 = 3;
const RUNS: usize = 7;

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

/// The score juror `juror` gives application `a` on criterion `c` (0–5, with halves).
fn score(a: u128, juror: u128, c: usize) -> f64 {
    ((a * 7 + juror * 3 + c as u128 * 11) % 11) as f64 / 2.0
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
    let keys: Vec<String> = stage.criteria.iter().map(|c| c.key.clone()).collect();
    for applications in [10_000u128, 100_000] {
        let mut reviews = Vec::new();
        // The stored bytes of each application's tally, as the range read returns them.
        let mut stored: Vec<(Uuid, i64, Vec<u8>, Vec<u8>)> = Vec::new();
        for a in 0..applications {
            let application = Uuid::from_u128(1 + a);
            let mut own = Vec::new();
            for k in 0..REVIEWS {
                let juror = (a + k) % JURORS;
                let values: Vec<f64> = (0..stage.criteria.len())
                    .map(|c| score(a, juror, c))
                    .collect();
                reviews.push(ReviewScores {
                    application,
                    juror: Uuid::from_u128(10_000 + juror),
                    scores: stage
                        .criteria
                        .iter()
                        .map(|c| c.key.clone())
                        .zip(values.iter().copied())
                        .collect::<BTreeMap<_, _>>(),
                });
                own.push(Submitted {
                    juror: Uuid::from_u128(10_000 + juror),
                    scores: Some(values),
                    conflicted: false,
                });
            }
            let t = tally(&stage, false, &own).unwrap_or_else(|| unreachable!("reviews count"));
            stored.push((
                application,
                t.reviews as i64,
                encode_criteria(&t.criteria),
                encode_jurors(&t.jurors),
            ));
        }

        let (tally_median, tally_worst, from_tallies) = time(|| {
            let tallies: Vec<(Uuid, Tally)> = stored
                .iter()
                .map(|(application, n, criteria, jurors)| {
                    let jurors = decode_jurors(jurors).unwrap_or_default();
                    let weighted_sum = jurors.iter().map(|(_, w)| w).sum();
                    (
                        *application,
                        Tally {
                            reviews: *n as usize,
                            weighted_sum,
                            weighted_sumsq: 0.0,
                            criteria: decode_criteria(criteria, keys.len()).unwrap_or_default(),
                            jurors,
                        },
                    )
                })
                .collect();
            rank_tallies(tallies, &keys, 15.0).0
        });
        let (full_median, full_worst, full) =
            time(|| rank_applications(&stage, &[], &reviews, 15.0));
        assert_eq!(from_tallies, full, "the two rankings differ");
        println!(
            "{applications} applications × {REVIEWS} reviews: from tallies (decode + rank) median {:.1} ms, \
             worst {:.1} ms; full recomputation median {:.1} ms, worst {:.1} ms",
            tally_median.as_secs_f64() * 1e3,
            tally_worst.as_secs_f64() * 1e3,
            full_median.as_secs_f64() * 1e3,
            full_worst.as_secs_f64() * 1e3,
        );
    }
}
