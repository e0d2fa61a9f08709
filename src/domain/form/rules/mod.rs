//! Rules between fields: relations a form asks of two or more answers together, such as a lowest altitude
//! at most the highest one, a test that ends on or after it starts, or co-funding within the budget.
//!
//! A rule is part of the form's definition (`form.rules`), checked when a call is created or edited
//! ([`definition`]), then against the answers ([`answers`]): only once every answer it compares is present,
//! so a draft filled in one field at a time is never refused for an answer still to come.

mod answers;
mod definition;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Field, FieldType, Text};

/// A relation between answers of the form, checked with every other error at once. The error is reported on
/// the rule's first field (`answers.<field>`, or the first of `fields` for a sum) with the rule's `message`
/// (French, then English after ` / `) or a default message naming the other field.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Rule {
    /// `field` ≤ `other` (or `<` when `strict`): two `integer`/`number` fields, or two `date` fields (an
    /// earlier date is smaller). Error code `must_not_exceed` (`must_be_less` when strict).
    AtMost {
        /// The key of the field that is bounded; errors are reported on it.
        field: String,
        /// The key of the field that bounds it.
        other: String,
        /// Whether equal answers are refused too.
        #[serde(default)]
        strict: bool,
        /// What applicants read when the rule fails.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<Text>,
    },
    /// The sum of `fields` (`integer`/`number`) ≤ `other`; a summed answer left out counts as 0, and the rule
    /// waits for `other` and at least one of `fields`. Error code `sum_too_large`, on the first of `fields`.
    SumAtMost {
        /// The keys of the fields added up, at least one, distinct.
        fields: Vec<String>,
        /// The key of the field that bounds the sum.
        other: String,
        /// What applicants read when the rule fails.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<Text>,
    },
    /// `field` ≤ `max_percent` % of `of` (both `integer`/`number`). Error code `share_too_large`.
    ShareAtMost {
        /// The key of the field that is a share of the other.
        field: String,
        /// The key of the whole.
        of: String,
        /// The largest share, in percent, from 0 to 100.
        max_percent: f64,
        /// What applicants read when the rule fails.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<Text>,
    },
    /// `field` ≥ `min_percent` % of `of` (both `integer`/`number`). Error code `share_too_small`.
    ShareAtLeast {
        /// The key of the field that is a share of the other.
        field: String,
        /// The key of the whole.
        of: String,
        /// The smallest share, in percent, from 0 to 100.
        min_percent: f64,
        /// What applicants read when the rule fails.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<Text>,
    },
}

/// What a rule compares: numbers (`integer` and `number` fields alike) or dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operand {
    Number,
    Date,
}

impl Operand {
    /// The operand a field's answers give, `None` for a type no rule compares.
    fn of(field: &Field) -> Option<Operand> {
        match field.kind {
            FieldType::Integer | FieldType::Number => Some(Operand::Number),
            FieldType::Date => Some(Operand::Date),
            _ => None,
        }
    }
}

impl Rule {
    /// The rule's name in the API.
    pub fn kind(&self) -> &'static str {
        match self {
            Rule::AtMost { .. } => "at_most",
            Rule::SumAtMost { .. } => "sum_at_most",
            Rule::ShareAtMost { .. } => "share_at_most",
            Rule::ShareAtLeast { .. } => "share_at_least",
        }
    }

    /// The message staff wrote for applicants, if any.
    pub fn message(&self) -> Option<&Text> {
        match self {
            Rule::AtMost { message, .. }
            | Rule::SumAtMost { message, .. }
            | Rule::ShareAtMost { message, .. }
            | Rule::ShareAtLeast { message, .. } => message.as_ref(),
        }
    }

    /// Every field key the rule names, with its place in the rule (`field`, `other`, `of`, `fields.<i>`), in
    /// the order the rule lists them.
    fn keys(&self) -> Vec<(String, &str)> {
        match self {
            Rule::AtMost { field, other, .. } => {
                vec![("field".into(), field.as_str()), ("other".into(), other)]
            }
            Rule::SumAtMost { fields, other, .. } => fields
                .iter()
                .enumerate()
                .map(|(i, key)| (format!("fields.{i}"), key.as_str()))
                .chain([("other".into(), other.as_str())])
                .collect(),
            Rule::ShareAtMost { field, of, .. } | Rule::ShareAtLeast { field, of, .. } => {
                vec![("field".into(), field.as_str()), ("of".into(), of.as_str())]
            }
        }
    }
}

/// The text shown for a failing rule: staff's message (French, then English after ` / `) or `default`.
fn rule_message(rule: &Rule, default: impl FnOnce() -> String) -> String {
    match rule.message() {
        Some(Text { fr, en: Some(en) }) if !en.trim().is_empty() => format!("{fr} / {en}"),
        Some(Text { fr, .. }) => fr.clone(),
        None => default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rules_round_trip_in_their_wire_form() {
        for raw in [
            json!({"type": "at_most", "field": "a", "other": "b", "strict": true}),
            json!({"type": "sum_at_most", "fields": ["a", "b"], "other": "c",
                   "message": {"fr": "Trop", "en": "Too much"}}),
            json!({"type": "share_at_most", "field": "a", "of": "b", "max_percent": 80.0}),
            json!({"type": "share_at_least", "field": "a", "of": "b", "min_percent": 20.5}),
        ] {
            let rule: Rule = serde_json::from_value(raw.clone()).unwrap();
            assert_eq!(serde_json::to_value(&rule).unwrap(), raw);
        }
        let rule: Rule =
            serde_json::from_value(json!({"type": "at_most", "field": "a", "other": "b"})).unwrap();
        assert_eq!(rule.kind(), "at_most");
        assert!(matches!(rule, Rule::AtMost { strict: false, .. }));
    }

    #[test]
    fn unknown_types_and_attributes_are_refused() {
        for raw in [
            json!({"type": "at_least", "field": "a", "other": "b"}),
            json!({"type": "at_most", "field": "a", "other": "b", "of": "c"}),
            json!({"type": "share_at_most", "field": "a", "of": "b", "min_percent": 1}),
            json!({"type": "sum_at_most", "fields": "a", "other": "b"}),
            json!({"field": "a", "other": "b"}),
            json!({"type": "at_most", "field": "a"}),
        ] {
            assert!(
                serde_json::from_value::<Rule>(raw.clone()).is_err(),
                "{raw}"
            );
        }
    }

    #[test]
    fn the_message_is_french_then_english() {
        let mut rule: Rule =
            serde_json::from_value(json!({"type": "at_most", "field": "a", "other": "b"})).unwrap();
        assert_eq!(rule_message(&rule, || "default".into()), "default");
        if let Rule::AtMost { message, .. } = &mut rule {
            *message = Some(Text::french("Trop haut"));
        }
        assert_eq!(rule_message(&rule, || "default".into()), "Trop haut");
        if let Rule::AtMost { message, .. } = &mut rule {
            *message = Some(Text::bilingual("Trop haut", "Too high"));
        }
        assert_eq!(
            rule_message(&rule, || "default".into()),
            "Trop haut / Too high"
        );
    }

    #[test]
    fn openapi_schema_names_each_rule_type() {
        let schema = serde_json::to_value(<Rule as utoipa::PartialSchema>::schema()).unwrap();
        let text = schema.to_string();
        for name in ["at_most", "sum_at_most", "share_at_most", "share_at_least"] {
            assert!(text.contains(name), "{name}: {text}");
        }
        assert!(text.contains("max_percent"), "{text}");
    }
}
