//! How a set of weighted scores spreads ([`Summary`]), and how a juror's scores compare with the jury's
//! ([`tendencies`]): who scores high, who scores low, who never uses the scale. The thresholds are here, with
//! their reasons, so that the page and its legend say the same thing.

use serde::Serialize;
use utoipa::ToSchema;

/// A juror scores high (low) when the mean of their weighted scores is at least this many points (on
/// 0–100) above (below) the mean of the whole jury's: a tenth of the scale, about what separates two
/// neighbouring verbal grades ("good" and "very good") on a five-point criterion.
pub const LEAN_POINTS: f64 = 10.0;
/// A juror never uses the scale when the standard deviation of their weighted scores is below this (on
/// 0–100)…
pub const NARROW_STDDEV: f64 = 5.0;
/// …or when their lowest and highest weighted scores are less than this apart: a fifth of the scale.
pub const NARROW_RANGE: f64 = 20.0;
/// Fewer reviews than this say nothing about a juror's habits: no tendency is given.
pub const MIN_REVIEWS: usize = 3;

/// How values spread: count, mean, lowest, highest and sample standard deviation (`None` under two values).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, ToSchema)]
pub struct Summary {
    /// How many values.
    pub n: usize,
    /// Their mean.
    pub mean: f64,
    /// The lowest.
    pub min: f64,
    /// The highest.
    pub max: f64,
    /// The sample standard deviation (divisor `n − 1`, as the ranking's); `None` for one value.
    pub stddev: Option<f64>,
}

impl Summary {
    /// The summary of `values`; `None` for no values (or a value that is not a finite number).
    pub fn of(values: &[f64]) -> Option<Summary> {
        if values.is_empty() || values.iter().any(|v| !v.is_finite()) {
            return None;
        }
        let n = values.len();
        let mean = values.iter().sum::<f64>() / n as f64;
        let min = values.iter().copied().fold(f64::INFINITY, f64::min);
        let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let stddev = (n > 1).then(|| {
            let squares: f64 = values.iter().map(|v| (v - mean) * (v - mean)).sum();
            (squares / (n - 1) as f64).sqrt()
        });
        Some(Summary {
            n,
            mean,
            min,
            max,
            stddev,
        })
    }

    /// Highest minus lowest.
    pub fn range(&self) -> f64 {
        self.max - self.min
    }
}

/// A habit of a juror's scoring, against the jury's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Tendency {
    /// Their mean is [`LEAN_POINTS`] or more above the jury's.
    ScoresHigh,
    /// Their mean is [`LEAN_POINTS`] or more below the jury's.
    ScoresLow,
    /// Their scores hardly move: standard deviation under [`NARROW_STDDEV`] or range under [`NARROW_RANGE`].
    NarrowRange,
}

impl Tendency {
    /// What the page says, in `lang` (`fr` or `en`).
    pub fn label(self, lang: &str) -> &'static str {
        match (self, lang) {
            (Tendency::ScoresHigh, "en") => "scores high",
            (Tendency::ScoresHigh, _) => "note haut",
            (Tendency::ScoresLow, "en") => "scores low",
            (Tendency::ScoresLow, _) => "note bas",
            (Tendency::NarrowRange, "en") => "does not use the scale",
            (Tendency::NarrowRange, _) => "n'utilise pas l'échelle",
        }
    }
}

/// The tendencies of a juror whose scores spread as `juror`, in a jury whose scores (every counted review,
/// theirs included) spread as `jury`: none under [`MIN_REVIEWS`] reviews; at most one of high and low.
pub fn tendencies(juror: &Summary, jury: &Summary) -> Vec<Tendency> {
    let mut found = Vec::new();
    if juror.n < MIN_REVIEWS {
        return found;
    }
    let lean = juror.mean - jury.mean;
    if lean >= LEAN_POINTS {
        found.push(Tendency::ScoresHigh);
    } else if lean <= -LEAN_POINTS {
        found.push(Tendency::ScoresLow);
    }
    if juror.stddev.is_some_and(|sd| sd < NARROW_STDDEV) || juror.range() < NARROW_RANGE {
        found.push(Tendency::NarrowRange);
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(values: &[f64]) -> Summary {
        Summary::of(values).expect("values")
    }

    #[test]
    fn a_summary_is_count_mean_bounds_and_sample_stddev() {
        let s = summary(&[40.0, 60.0, 80.0]);
        assert_eq!((s.n, s.mean, s.min, s.max), (3, 60.0, 40.0, 80.0));
        // √((400 + 0 + 400) / 2) = 20.
        assert_eq!(s.stddev, Some(20.0));
        assert_eq!(s.range(), 40.0);
        assert_eq!(summary(&[70.0]).stddev, None);
        assert_eq!(Summary::of(&[]), None);
        assert_eq!(Summary::of(&[1.0, f64::NAN]), None);
    }

    /// A jury of mean 50; jurors around it, each with a spread wide enough not to count as narrow.
    #[test]
    fn jurors_lean_high_or_low_from_ten_points_off_the_jury_s_mean() {
        let jury = summary(&[20.0, 50.0, 80.0]);
        let around = |mean: f64| summary(&[mean - 20.0, mean, mean + 20.0]);
        assert_eq!(tendencies(&around(60.0), &jury), [Tendency::ScoresHigh]);
        assert_eq!(tendencies(&around(59.9), &jury), []);
        assert_eq!(tendencies(&around(40.0), &jury), [Tendency::ScoresLow]);
        assert_eq!(tendencies(&around(40.1), &jury), []);
        assert_eq!(tendencies(&around(50.0), &jury), []);
    }

    #[test]
    fn a_juror_who_hardly_moves_does_not_use_the_scale() {
        let jury = summary(&[20.0, 50.0, 80.0]);
        // Range 19 (under 20), though the standard deviation is 9.5.
        let range = summary(&[40.0, 59.0, 40.0, 59.0]);
        assert!(range.stddev.is_some_and(|sd| sd > NARROW_STDDEV));
        assert_eq!(tendencies(&range, &jury), [Tendency::NarrowRange]);
        // Range 20 exactly and standard deviation 10: uses the scale.
        assert_eq!(tendencies(&summary(&[40.0, 60.0, 50.0]), &jury), []);
        // Always 85: high and narrow at once.
        assert_eq!(
            tendencies(&summary(&[85.0, 85.0, 85.0]), &jury),
            [Tendency::ScoresHigh, Tendency::NarrowRange]
        );
    }

    #[test]
    fn the_standard_deviation_alone_can_make_a_juror_narrow() {
        // Range 20 (not narrow by range), but nine values at 50 and one at 70: sd = 6.32.
        let mut values = vec![50.0; 9];
        values.push(70.0);
        let juror = summary(&values);
        assert_eq!(juror.range(), 20.0);
        assert!(juror.stddev.is_some_and(|sd| sd > NARROW_STDDEV));
        assert_eq!(tendencies(&juror, &summary(&[48.0, 52.0])), []);
        // Nineteen at 50 and one at 70: sd = 4.47, under 5.
        let mut values = vec![50.0; 19];
        values.push(70.0);
        let juror = summary(&values);
        assert!(juror.stddev.is_some_and(|sd| sd < NARROW_STDDEV));
        assert_eq!(
            tendencies(&juror, &summary(&[48.0, 52.0])),
            [Tendency::NarrowRange]
        );
    }

    #[test]
    fn too_few_reviews_say_nothing() {
        let jury = summary(&[0.0, 100.0]);
        assert_eq!(tendencies(&summary(&[95.0, 95.0]), &jury), []);
        assert_eq!(tendencies(&summary(&[95.0]), &jury), []);
    }

    #[test]
    fn tendencies_are_labelled_in_french_and_english() {
        assert_eq!(Tendency::ScoresHigh.label("en"), "scores high");
        assert_eq!(Tendency::ScoresLow.label("fr"), "note bas");
        assert_eq!(Tendency::NarrowRange.label("fr"), "n'utilise pas l'échelle");
    }
}
