//! Checks of the rules of a form against answers: each rule is checked once every answer it compares is
//! present (for a sum: its bound and at least one of the summed answers), and reported on its first field.

use chrono::NaiveDate;
use serde_json::{Map, Value};

use super::super::Form;
use super::{rule_message, Operand, Rule};
use crate::error::FieldError;

/// A present answer a rule can compare.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
enum Answer {
    Number(f64),
    Date(NaiveDate),
}

/// Whether `lhs > rhs` beyond the rounding of sums and products of decimal numbers (so that
/// `0.1 + 0.2 ≤ 0.3`).
fn exceeds(lhs: f64, rhs: f64) -> bool {
    lhs - rhs > 1e-9 * lhs.abs().max(rhs.abs()).max(1.0)
}

/// `« label » (key: value)` for the field a failing rule compares with.
fn naming(form: &Form, key: &str, value: impl std::fmt::Display) -> String {
    let label = form.field(key).map_or("", |f| f.label.fr.as_str());
    format!("« {label} » ({key}: {value})")
}

impl Form {
    /// The answer to `key` as a rule reads it: a finite number for an `integer`/`number` field, a date for a
    /// `date` field; `None` when unanswered (or not readable as such).
    fn rule_answer(&self, answers: &Map<String, Value>, key: &str) -> Option<Answer> {
        let field = self.field(key)?;
        let value = answers.get(key)?;
        match Operand::of(field)? {
            Operand::Number => value.as_f64().filter(|n| n.is_finite()).map(Answer::Number),
            Operand::Date => value
                .as_str()
                .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
                .map(Answer::Date),
        }
    }

    /// A number answer, `None` when unanswered or not a number.
    fn number_answer(&self, answers: &Map<String, Value>, key: &str) -> Option<f64> {
        match self.rule_answer(answers, key)? {
            Answer::Number(n) => Some(n),
            Answer::Date(_) => None,
        }
    }

    /// Errors of the form's rules against well-formed answers (those [`Form::check_answers`] returns, or the
    /// answers a draft holds), in rule order, paths `answers.<first field of the rule>`. A rule whose answers
    /// are not all present yet is not checked.
    pub fn check_rules(&self, answers: &Map<String, Value>) -> Vec<FieldError> {
        self.rules
            .iter()
            .filter_map(|rule| self.check_rule(rule, answers))
            .collect()
    }

    fn check_rule(&self, rule: &Rule, answers: &Map<String, Value>) -> Option<FieldError> {
        let (path, code, default) = match rule {
            Rule::AtMost {
                field,
                other,
                strict,
                ..
            } => {
                let value = self.rule_answer(answers, field)?;
                let bound = self.rule_answer(answers, other)?;
                let fails = match (value, bound) {
                    (Answer::Number(_), Answer::Number(_)) | (Answer::Date(_), Answer::Date(_)) => {
                        if *strict {
                            value >= bound
                        } else {
                            value > bound
                        }
                    }
                    _ => false,
                };
                if !fails {
                    return None;
                }
                let (code, relation, shown) = match (bound, *strict) {
                    (Answer::Number(n), false) => ("must_not_exceed", "at most", n.to_string()),
                    (Answer::Number(n), true) => ("must_be_less", "less than", n.to_string()),
                    (Answer::Date(d), false) => ("must_not_exceed", "on or before", d.to_string()),
                    (Answer::Date(d), true) => ("must_be_less", "before", d.to_string()),
                };
                let default = format!("must be {relation} {}", naming(self, other, shown));
                (field, code, default)
            }
            Rule::SumAtMost { fields, other, .. } => {
                let first = fields.first()?;
                let bound = self.number_answer(answers, other)?;
                let given: Vec<f64> = fields
                    .iter()
                    .filter_map(|key| self.number_answer(answers, key))
                    .collect();
                let sum: f64 = given.iter().sum();
                if given.is_empty() || !exceeds(sum, bound) {
                    return None;
                }
                let default = format!(
                    "the sum of {} ({sum}) must be at most {}",
                    fields.join(" + "),
                    naming(self, other, bound)
                );
                (first, "sum_too_large", default)
            }
            Rule::ShareAtMost {
                field,
                of,
                max_percent,
                ..
            } => {
                let part = self.number_answer(answers, field)?;
                let whole = self.number_answer(answers, of)?;
                if !exceeds(part * 100.0, max_percent * whole) {
                    return None;
                }
                let default = format!(
                    "must be at most {max_percent}% of {}, that is {}",
                    naming(self, of, whole),
                    max_percent * whole / 100.0
                );
                (field, "share_too_large", default)
            }
            Rule::ShareAtLeast {
                field,
                of,
                min_percent,
                ..
            } => {
                let part = self.number_answer(answers, field)?;
                let whole = self.number_answer(answers, of)?;
                if !exceeds(min_percent * whole, part * 100.0) {
                    return None;
                }
                let default = format!(
                    "must be at least {min_percent}% of {}, that is {}",
                    naming(self, of, whole),
                    min_percent * whole / 100.0
                );
                (field, "share_too_small", default)
            }
        };
        Some(FieldError::new(
            format!("answers.{path}"),
            code,
            rule_message(rule, || default),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::testing::*;
    use super::super::super::FieldType;
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    /// Numbers `a`, `b`, `c`, integers `i`, `j`, dates `start`, `end`, with `rules`.
    fn with_rules(rules: Value) -> Form {
        Form {
            fields: vec![
                field("a", FieldType::Number),
                field("b", FieldType::Number),
                field("c", FieldType::Number),
                field("i", FieldType::Integer),
                field("j", FieldType::Integer),
                field("start", FieldType::Date),
                field("end", FieldType::Date),
            ],
            rules: serde_json::from_value(rules).unwrap(),
        }
    }

    fn rule_codes(form: &Form, given: Value) -> Vec<(String, String)> {
        form.check_rules(&answers(given))
            .into_iter()
            .map(|e| (e.field, e.code))
            .collect()
    }

    #[test]
    fn at_most_compares_numbers_integers_and_dates() {
        let form = with_rules(json!([
            {"type": "at_most", "field": "i", "other": "j"},
            {"type": "at_most", "field": "a", "other": "i", "strict": true},
            {"type": "at_most", "field": "start", "other": "end"},
        ]));
        let cases = [
            (json!({"i": 800, "j": 2500}), vec![]),
            (json!({"i": 2500, "j": 2500}), vec![]),
            (
                json!({"i": 2500, "j": 800}),
                vec![pair("answers.i", "must_not_exceed")],
            ),
            (json!({"a": 799.5, "i": 800}), vec![]),
            (
                json!({"a": 800.0, "i": 800}),
                vec![pair("answers.a", "must_be_less")],
            ),
            (
                json!({"a": 800.25, "i": 800}),
                vec![pair("answers.a", "must_be_less")],
            ),
            (json!({"start": "2027-01-15", "end": "2027-04-15"}), vec![]),
            (json!({"start": "2027-01-15", "end": "2027-01-15"}), vec![]),
            (
                json!({"start": "2027-04-16", "end": "2027-04-15"}),
                vec![pair("answers.start", "must_not_exceed")],
            ),
            // A missing or cleared answer: nothing to compare yet.
            (json!({"i": 2500}), vec![]),
            (json!({"i": 2500, "j": null}), vec![]),
            (json!({"end": "2020-01-01"}), vec![]),
            // Every failing rule at once.
            (
                json!({"i": 3, "j": 2, "a": 5, "start": "2027-02-01", "end": "2027-01-01"}),
                vec![
                    pair("answers.i", "must_not_exceed"),
                    pair("answers.a", "must_be_less"),
                    pair("answers.start", "must_not_exceed"),
                ],
            ),
        ];
        for (given, expected) in cases {
            assert_eq!(rule_codes(&form, given.clone()), expected, "{given}");
        }
    }

    #[test]
    fn sums_count_missing_answers_as_zero_once_one_is_given() {
        let form = with_rules(json!([
            {"type": "sum_at_most", "fields": ["a", "i"], "other": "b"},
        ]));
        let cases = [
            (json!({"a": 40, "i": 40, "b": 80}), vec![]),
            (
                json!({"a": 40, "i": 41, "b": 80}),
                vec![pair("answers.a", "sum_too_large")],
            ),
            (
                json!({"i": 81, "b": 80}),
                vec![pair("answers.a", "sum_too_large")],
            ),
            (json!({"a": 0.1, "i": 0, "c": 1, "b": 0.1}), vec![]),
            (json!({"b": 0}), vec![]),
            (json!({"a": 100, "i": 100}), vec![]),
        ];
        for (given, expected) in cases {
            assert_eq!(rule_codes(&form, given.clone()), expected, "{given}");
        }
        let decimals = with_rules(json!([
            {"type": "sum_at_most", "fields": ["a", "b"], "other": "c"},
        ]));
        assert!(rule_codes(&decimals, json!({"a": 0.1, "b": 0.2, "c": 0.3})).is_empty());
        assert_eq!(
            rule_codes(&decimals, json!({"a": 0.1, "b": 0.2, "c": 0.29})),
            vec![pair("answers.a", "sum_too_large")]
        );
    }

    #[test]
    fn shares_are_bounded_above_and_below() {
        let form = with_rules(json!([
            {"type": "share_at_most", "field": "i", "of": "j", "max_percent": 80},
            {"type": "share_at_least", "field": "a", "of": "b", "min_percent": 20},
        ]));
        let cases = [
            (json!({"i": 64000, "j": 80000}), vec![]),
            (
                json!({"i": 64001, "j": 80000}),
                vec![pair("answers.i", "share_too_large")],
            ),
            (json!({"i": 0, "j": 0}), vec![]),
            (
                json!({"i": 1, "j": 0}),
                vec![pair("answers.i", "share_too_large")],
            ),
            (json!({"a": 20, "b": 100}), vec![]),
            (json!({"a": 33.3, "b": 166.5}), vec![]),
            (
                json!({"a": 19.99, "b": 100}),
                vec![pair("answers.a", "share_too_small")],
            ),
            (json!({"a": 19.99}), vec![]),
        ];
        for (given, expected) in cases {
            assert_eq!(rule_codes(&form, given.clone()), expected, "{given}");
        }
    }

    #[test]
    fn messages_name_the_other_field_or_say_what_staff_wrote() {
        let mut form = with_rules(json!([
            {"type": "at_most", "field": "i", "other": "j"},
            {"type": "at_most", "field": "start", "other": "end", "strict": true,
             "message": {"fr": "La fin suit le début.", "en": "The end follows the start."}},
            {"type": "share_at_most", "field": "a", "of": "b", "max_percent": 80},
            {"type": "sum_at_most", "fields": ["c"], "other": "b"},
        ]));
        form.fields[4].label.fr = "Altitude maximale".into();
        let errors = form.check_rules(&answers(json!({
            "i": 2500, "j": 800, "start": "2027-01-01", "end": "2027-01-01", "a": 90, "b": 100, "c": 101,
        })));
        let messages: Vec<&str> = errors.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(
            messages,
            vec![
                "must be at most « Altitude maximale » (j: 800)",
                "La fin suit le début. / The end follows the start.",
                "must be at most 80% of « Question » (b: 100), that is 80",
                "the sum of c (101) must be at most « Question » (b: 100)",
            ]
        );
    }

    #[test]
    fn rules_are_checked_with_every_other_error_of_the_answers() {
        let form = with_rules(json!([
            {"type": "at_most", "field": "i", "other": "j"},
            {"type": "at_most", "field": "start", "other": "end"},
        ]));
        let (out, errors) = form.check_answers(&answers(json!({
            "i": 2500, "j": 800, "start": "2027-02-30", "end": "2027-01-01", "zz": 1,
        })));
        assert_eq!(
            codes(&errors),
            vec![
                ("answers.start", "invalid_date"),
                ("answers.zz", "unknown_field"),
                ("answers.i", "must_not_exceed"),
            ],
            "an invalid answer is not compared"
        );
        assert!(!out.contains_key("start"));
    }

    proptest! {
        #[test]
        fn any_rules_are_checked_and_valid_ones_check_any_answers_without_panicking(
            rules in prop::collection::vec(arb_rule(), 0..5),
            values in prop::collection::vec(arb_json(), 7),
        ) {
            let mut form = with_rules(json!([]));
            form.rules = rules;
            let definition = form.check_definition("form");
            for e in &definition {
                prop_assert!(e.field.starts_with("form.rules."), "{}", e.field);
            }
            let keys: Vec<String> = form.fields.iter().map(|f| f.key.clone()).collect();
            let raw: Map<String, Value> = keys.iter().cloned().zip(values).collect();
            let (out, errors) = form.check_answers(&raw);
            for e in errors.iter().filter(|_| definition.is_empty()) {
                let key = e.field.strip_prefix("answers.").unwrap_or_default();
                let key = key.split('.').next().unwrap_or_default();
                prop_assert!(keys.iter().any(|k| k == key), "{}", e.field);
            }
            // The rules see only well-formed answers: checking the normalised ones again finds only them.
            let (_, again) = form.check_answers(&out);
            prop_assert_eq!(again, form.check_rules(&out));
        }

        #[test]
        fn a_rule_fails_exactly_when_its_relation_does_not_hold(
            i in -1_000_000i64..1_000_000,
            j in -1_000_000i64..1_000_000,
            a in -1e6f64..1e6,
            b in 0f64..1e6,
            percent in 0u32..=100,
            days in -400i64..400,
        ) {
            let form = with_rules(json!([
                {"type": "at_most", "field": "i", "other": "j"},
                {"type": "sum_at_most", "fields": ["a", "j"], "other": "b"},
                {"type": "share_at_most", "field": "c", "of": "b", "max_percent": percent},
                {"type": "at_most", "field": "start", "other": "end", "strict": true},
            ]));
            let start = NaiveDate::from_ymd_opt(2027, 1, 1).unwrap();
            let end = start + chrono::Duration::days(days);
            let c = a.abs();
            let errors = rule_codes(&form, json!({
                "i": i, "j": j, "a": a, "b": b, "c": c,
                "start": start.to_string(), "end": end.to_string(),
            }));
            let fails = |path: &str| errors.iter().any(|(p, _)| p == path);
            prop_assert_eq!(fails("answers.i"), i > j);
            let sum = a + j as f64;
            if (sum - b).abs() > 1e-3 {
                prop_assert_eq!(fails("answers.a"), sum > b);
            }
            let cap = b * f64::from(percent) / 100.0;
            if (c - cap).abs() > 1e-3 {
                prop_assert_eq!(fails("answers.c"), c > cap);
            }
            prop_assert_eq!(fails("answers.start"), days <= 0);
        }
    }
}
