//! Checks of the rules of a form's definition: every key names a field of the form of a type the rule can
//! compare, the fields of one rule are distinct, percentages are within 0..=100 and messages have French.

use std::collections::HashSet;

use super::super::definition::check_text;
use super::super::Form;
use super::{Operand, Rule};
use crate::error::FieldError;

impl Rule {
    /// Errors in this rule's definition against `form`, paths under `at` (such as `form.rules.0`).
    pub(in crate::domain::form) fn check_definition(
        &self,
        form: &Form,
        at: &str,
        errors: &mut Vec<FieldError>,
    ) {
        if let Some(message) = self.message() {
            check_text(message, &format!("{at}.message"), errors);
        }
        if let Rule::SumAtMost { fields, .. } = self {
            if fields.is_empty() {
                errors.push(FieldError::new(
                    format!("{at}.fields"),
                    "required",
                    "a sum needs at least one field",
                ));
            }
        }
        let dates_allowed = matches!(self, Rule::AtMost { .. });
        let mut seen = HashSet::new();
        let mut operands = Vec::new();
        for (place, key) in self.keys() {
            let path = format!("{at}.{place}");
            let Some(field) = form.field(key) else {
                errors.push(FieldError::new(
                    path,
                    "unknown_field",
                    "the form has no field with this key",
                ));
                continue;
            };
            if !seen.insert(key) {
                errors.push(FieldError::new(
                    path,
                    "same_field",
                    "a rule relates different fields; this one is already in the rule",
                ));
                continue;
            }
            match Operand::of(field) {
                Some(Operand::Date) if !dates_allowed => errors.push(FieldError::new(
                    path,
                    "not_comparable",
                    format!(
                        "a {} rule relates integer or number fields, not a date",
                        self.kind()
                    ),
                )),
                Some(operand) => operands.push((path, operand)),
                None => errors.push(FieldError::new(
                    path,
                    "not_comparable",
                    format!(
                        "a {} rule relates {}, not a {} field",
                        self.kind(),
                        if dates_allowed {
                            "integer, number or date fields"
                        } else {
                            "integer or number fields"
                        },
                        field.kind.as_str()
                    ),
                )),
            }
        }
        if let [(_, first), (path, second)] = operands.as_slice() {
            if first != second {
                errors.push(FieldError::new(
                    path.clone(),
                    "type_mismatch",
                    "an at_most rule compares two numbers or two dates, not a number with a date",
                ));
            }
        }
        let percent = match self {
            Rule::ShareAtMost { max_percent, .. } => Some(("max_percent", *max_percent)),
            Rule::ShareAtLeast { min_percent, .. } => Some(("min_percent", *min_percent)),
            _ => None,
        };
        if let Some((name, value)) = percent {
            if !value.is_finite() {
                errors.push(FieldError::new(
                    format!("{at}.{name}"),
                    "invalid_number",
                    format!("{name} must be a finite number"),
                ));
            } else if !(0.0..=100.0).contains(&value) {
                errors.push(FieldError::new(
                    format!("{at}.{name}"),
                    "invalid_range",
                    format!("{name} is a percentage from 0 to 100"),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::testing::*;
    use super::super::super::FieldType;
    use super::*;
    use serde_json::json;

    /// A form with numbers `a`, `b`, `c`, an integer `n`, dates `d` and `e`, a text `t` and a file `f`.
    fn sample() -> Vec<super::super::super::Field> {
        vec![
            field("a", FieldType::Number),
            field("b", FieldType::Number),
            field("c", FieldType::Number),
            field("n", FieldType::Integer),
            field("d", FieldType::Date),
            field("e", FieldType::Date),
            field("t", FieldType::Text),
            field("f", FieldType::File),
        ]
    }

    fn rule_codes(rules: serde_json::Value) -> Vec<(String, String)> {
        let rules: Vec<Rule> = serde_json::from_value(rules).unwrap();
        Form {
            fields: sample(),
            rules,
        }
        .check_definition("form")
        .into_iter()
        .map(|e| (e.field, e.code))
        .collect()
    }

    #[test]
    fn good_rules_have_no_errors() {
        assert!(rule_codes(json!([
            {"type": "at_most", "field": "a", "other": "b"},
            {"type": "at_most", "field": "n", "other": "a", "strict": true},
            {"type": "at_most", "field": "d", "other": "e"},
            {"type": "sum_at_most", "fields": ["a", "n"], "other": "c"},
            {"type": "sum_at_most", "fields": ["a"], "other": "b",
             "message": {"fr": "Trop", "en": "Too much"}},
            {"type": "share_at_most", "field": "a", "of": "b", "max_percent": 100},
            {"type": "share_at_least", "field": "n", "of": "b", "min_percent": 0},
        ]))
        .is_empty());
    }

    #[test]
    fn rules_name_fields_of_the_form() {
        assert_eq!(
            rule_codes(json!([
                {"type": "at_most", "field": "a", "other": "nope"},
                {"type": "sum_at_most", "fields": ["a", "ghost"], "other": "zz"},
                {"type": "share_at_most", "field": "x", "of": "b", "max_percent": 50},
            ])),
            vec![
                pair("form.rules.0.other", "unknown_field"),
                pair("form.rules.1.fields.1", "unknown_field"),
                pair("form.rules.1.other", "unknown_field"),
                pair("form.rules.2.field", "unknown_field"),
            ]
        );
    }

    #[test]
    fn rules_compare_numbers_or_dates_only() {
        assert_eq!(
            rule_codes(json!([
                {"type": "at_most", "field": "f", "other": "a"},
                {"type": "at_most", "field": "a", "other": "t"},
                {"type": "at_most", "field": "a", "other": "d"},
                {"type": "at_most", "field": "d", "other": "n"},
                {"type": "sum_at_most", "fields": ["a", "d"], "other": "b"},
                {"type": "share_at_most", "field": "a", "of": "f", "max_percent": 50},
                {"type": "share_at_least", "field": "e", "of": "a", "min_percent": 50},
            ])),
            vec![
                pair("form.rules.0.field", "not_comparable"),
                pair("form.rules.1.other", "not_comparable"),
                pair("form.rules.2.other", "type_mismatch"),
                pair("form.rules.3.other", "type_mismatch"),
                pair("form.rules.4.fields.1", "not_comparable"),
                pair("form.rules.5.of", "not_comparable"),
                pair("form.rules.6.field", "not_comparable"),
            ]
        );
    }

    #[test]
    fn rules_relate_distinct_fields() {
        assert_eq!(
            rule_codes(json!([
                {"type": "at_most", "field": "a", "other": "a"},
                {"type": "sum_at_most", "fields": ["a", "b", "a"], "other": "c"},
                {"type": "sum_at_most", "fields": ["a"], "other": "a"},
                {"type": "sum_at_most", "fields": [], "other": "a"},
                {"type": "share_at_least", "field": "b", "of": "b", "min_percent": 5},
            ])),
            vec![
                pair("form.rules.0.other", "same_field"),
                pair("form.rules.1.fields.2", "same_field"),
                pair("form.rules.2.other", "same_field"),
                pair("form.rules.3.fields", "required"),
                pair("form.rules.4.of", "same_field"),
            ]
        );
    }

    #[test]
    fn percentages_are_between_0_and_100_and_messages_have_french() {
        let mut rules: Vec<Rule> = serde_json::from_value(json!([
            {"type": "share_at_most", "field": "a", "of": "b", "max_percent": 100.5},
            {"type": "share_at_least", "field": "a", "of": "b", "min_percent": -1},
            {"type": "share_at_most", "field": "a", "of": "b", "max_percent": 0},
            {"type": "share_at_most", "field": "a", "of": "b", "max_percent": 1.0},
            {"type": "at_most", "field": "a", "other": "b", "message": {"fr": " ", "en": "Too high"}},
        ]))
        .unwrap();
        if let Rule::ShareAtMost { max_percent, .. } = &mut rules[3] {
            *max_percent = f64::NAN;
        }
        let errors: Vec<(String, String)> = Form {
            fields: sample(),
            rules,
        }
        .check_definition("form")
        .into_iter()
        .map(|e| (e.field, e.code))
        .collect();
        assert_eq!(
            errors,
            vec![
                pair("form.rules.0.max_percent", "invalid_range"),
                pair("form.rules.1.min_percent", "invalid_range"),
                pair("form.rules.3.max_percent", "invalid_number"),
                pair("form.rules.4.message.fr", "required"),
            ]
        );
    }
}
