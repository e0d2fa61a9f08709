//! The evaluation grid of a call: its stages, the criteria jurors score at each, and the checks on them.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::definition::{check_key, check_text};
use super::schedule::{check_schedule, ExtraDocument};
use super::Text;
use crate::error::FieldError;

/// One thing jurors score at a stage.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Criterion {
    /// The score's key, unique in its stage.
    pub key: String,
    /// What is scored.
    pub label: Text,
    /// Guidance for jurors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Text>,
    /// Share of the stage's score, in percent; the weights of a stage sum to 100.
    pub weight: u32,
    /// Lowest score.
    pub min: f64,
    /// Highest score.
    pub max: f64,
}

/// One round of evaluation, such as `written` or `pitch`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Stage {
    /// The stage's key, unique in the call.
    pub key: String,
    /// The stage's name.
    pub label: Text,
    /// What jurors score at this stage.
    pub criteria: Vec<Criterion>,
    /// When the stage begins (pitches are scheduled within the stage's dates), RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starts_at: Option<DateTime<Utc>>,
    /// When the stage ends, after it begins, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ends_at: Option<DateTime<Utc>>,
    /// Files asked of the applications shortlisted to this stage (a final deck…), uploaded while shortlisted;
    /// keys unique across the call's stages and distinct from the form's fields.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra_documents: Vec<ExtraDocument>,
}

impl Stage {
    /// A stage scoring `criteria`, without dates or extra documents.
    pub fn new(key: impl Into<String>, label: Text, criteria: Vec<Criterion>) -> Stage {
        Stage {
            key: key.into(),
            label,
            criteria,
            starts_at: None,
            ends_at: None,
            extra_documents: Vec::new(),
        }
    }

    /// Whether `other` scores the same way (same key, label and criteria): the part of a stage that freezes
    /// once an application is submitted. Dates and extra documents stay open to change.
    pub fn same_grid(&self, other: &Stage) -> bool {
        self.key == other.key && self.label == other.label && self.criteria == other.criteria
    }

    /// The extra document `key` this stage asks for, if any.
    pub fn extra_document(&self, key: &str) -> Option<&ExtraDocument> {
        self.extra_documents.iter().find(|d| d.key == key)
    }

    /// Whether `at` falls within the stage's dates (an open end is no bound).
    pub fn covers(&self, starts_at: DateTime<Utc>, ends_at: DateTime<Utc>) -> bool {
        self.starts_at.is_none_or(|s| starts_at >= s) && self.ends_at.is_none_or(|e| ends_at <= e)
    }
}

/// Whether two lists of stages score the same way ([`Stage::same_grid`], in the same order).
pub fn same_grids(before: &[Stage], after: &[Stage]) -> bool {
    before.len() == after.len() && before.iter().zip(after).all(|(b, a)| b.same_grid(a))
}

/// Errors in the evaluation stages: at least one stage, unique well-formed stage keys, each stage with at
/// least one criterion, unique well-formed criterion keys, French labels, finite criterion bounds with
/// `min < max`, and the weights of each stage summing to exactly 100.
///
/// A wrong sum is reported once per criterion of the stage, with code `weights_sum` and path
/// `stages.<i>.criteria.<j>.weight`. Then each stage's dates and extra documents ([`check_schedule`]).
pub fn check_stages(stages: &[Stage]) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if stages.is_empty() {
        errors.push(FieldError::new(
            "stages",
            "required",
            "a call needs at least one stage",
        ));
    }
    let mut stage_keys = HashSet::new();
    for (i, stage) in stages.iter().enumerate() {
        let at = format!("stages.{i}");
        check_key(&stage.key, &at, &mut stage_keys, &mut errors);
        check_text(&stage.label, &format!("{at}.label"), &mut errors);
        if stage.criteria.is_empty() {
            errors.push(FieldError::new(
                format!("{at}.criteria"),
                "required",
                "a stage needs at least one criterion",
            ));
            continue;
        }
        let mut criterion_keys = HashSet::new();
        for (j, criterion) in stage.criteria.iter().enumerate() {
            let cat = format!("{at}.criteria.{j}");
            check_key(&criterion.key, &cat, &mut criterion_keys, &mut errors);
            check_text(&criterion.label, &format!("{cat}.label"), &mut errors);
            if let Some(description) = &criterion.description {
                check_text(description, &format!("{cat}.description"), &mut errors);
            }
            if !criterion.min.is_finite() || !criterion.max.is_finite() {
                errors.push(FieldError::new(
                    format!("{cat}.min"),
                    "invalid_number",
                    "min and max must be finite numbers",
                ));
            } else if criterion.min >= criterion.max {
                errors.push(FieldError::new(
                    format!("{cat}.min"),
                    "invalid_range",
                    format!("min must be less than max ({})", criterion.max),
                ));
            }
        }
        let sum: u64 = stage.criteria.iter().map(|c| u64::from(c.weight)).sum();
        if sum != 100 {
            for j in 0..stage.criteria.len() {
                errors.push(FieldError::new(
                    format!("{at}.criteria.{j}.weight"),
                    "weights_sum",
                    format!("the weights of a stage must sum to 100, not {sum}"),
                ));
            }
        }
    }
    errors.extend(check_schedule(stages));
    errors
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use proptest::prelude::*;

    fn criterion(key: &str, weight: u32) -> Criterion {
        Criterion {
            key: key.into(),
            label: Text::bilingual("Critère", "Criterion"),
            description: None,
            weight,
            min: 0.0,
            max: 5.0,
        }
    }

    fn stage(key: &str, criteria: Vec<Criterion>) -> Stage {
        Stage::new(key, Text::french("Étape"), criteria)
    }

    fn stage_codes(stages: &[Stage]) -> Vec<(String, String)> {
        check_stages(stages)
            .into_iter()
            .map(|e| (e.field, e.code))
            .collect()
    }

    #[test]
    fn good_stages_have_no_errors() {
        let stages = [
            stage("written", vec![criterion("a", 60), criterion("b", 40)]),
            stage("pitch", vec![criterion("a", 100)]),
        ];
        assert!(check_stages(&stages).is_empty());
    }

    #[test]
    fn stages_catch_bad_weights() {
        let stages = [
            stage("written", vec![criterion("a", 60), criterion("b", 30)]),
            stage("pitch", vec![criterion("a", 100), criterion("b", 1)]),
            stage(
                "final",
                vec![criterion("a", u32::MAX), criterion("b", u32::MAX)],
            ),
        ];
        let errors = check_stages(&stages);
        assert_eq!(
            codes(&errors),
            vec![
                ("stages.0.criteria.0.weight", "weights_sum"),
                ("stages.0.criteria.1.weight", "weights_sum"),
                ("stages.1.criteria.0.weight", "weights_sum"),
                ("stages.1.criteria.1.weight", "weights_sum"),
                ("stages.2.criteria.0.weight", "weights_sum"),
                ("stages.2.criteria.1.weight", "weights_sum"),
            ]
        );
        assert!(errors[0].message.contains("90"), "{}", errors[0].message);
    }

    #[test]
    fn stages_catch_structure_errors() {
        assert_eq!(stage_codes(&[]), vec![pair("stages", "required")]);

        let mut bad_range = criterion("c", 30);
        bad_range.min = 5.0;
        bad_range.max = 5.0;
        let mut infinite = criterion("d", 0);
        infinite.max = f64::INFINITY;
        let mut unlabelled = criterion("e", 0);
        unlabelled.label = Text::french(" ");
        unlabelled.description = Some(Text::french(""));
        let stages = [
            stage("written", vec![]),
            stage("written", vec![criterion("a", 100)]),
            stage(
                "Pitch",
                vec![
                    criterion("a", 50),
                    criterion("a", 20),
                    bad_range,
                    infinite,
                    unlabelled,
                ],
            ),
        ];
        assert_eq!(
            stage_codes(&stages),
            vec![
                pair("stages.0.criteria", "required"),
                pair("stages.1.key", "duplicate_key"),
                pair("stages.2.key", "invalid_key"),
                pair("stages.2.criteria.1.key", "duplicate_key"),
                pair("stages.2.criteria.2.min", "invalid_range"),
                pair("stages.2.criteria.3.min", "invalid_number"),
                pair("stages.2.criteria.4.label.fr", "required"),
                pair("stages.2.criteria.4.description.fr", "required"),
            ]
        );
    }

    fn arb_stage() -> impl Strategy<Value = Stage> {
        let criterion = (
            "[a-z]{0,3}|\\PC{0,6}",
            arb_text(),
            proptest::option::of(arb_text()),
            any::<u32>(),
            arb_f64(),
            arb_f64(),
        )
            .prop_map(|(key, label, description, weight, min, max)| Criterion {
                key,
                label,
                description,
                weight,
                min: min.unwrap_or(0.0),
                max: max.unwrap_or(f64::NAN),
            });
        (
            "[a-z]{0,3}|\\PC{0,6}",
            arb_text(),
            prop::collection::vec(criterion, 0..5),
        )
            .prop_map(|(key, label, criteria)| Stage::new(key, label, criteria))
    }

    proptest! {
        #[test]
        fn any_stages_are_checked_without_panicking(stages in prop::collection::vec(arb_stage(), 0..4)) {
            for e in check_stages(&stages) {
                prop_assert!(e.field.starts_with("stages"), "{}", e.field);
            }
        }
    }
}
