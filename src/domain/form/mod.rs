//! Call forms: the fields a call asks applicants to fill in (this file: the model), the checks on a form's
//! definition ([`definition`]), the checks on applicants' answers ([`answers`], one parser per field type in
//! [`values`]), the rules between answers ([`rules`]: a number or date at most another, a sum or share
//! bounded), the evaluation grid jurors score ([`grid`]) and the built-in call templates ([`templates`]).
//!
//! A form is data (it comes from a template or from staff), so it is checked twice: once as a definition
//! ([`Form::check_definition`], [`check_stages`]) when a call is created or edited, and then against every
//! set of answers ([`Form::check_answers`] while editing, [`Form::check_complete`] at submission).

mod answers;
mod definition;
mod grid;
mod rules;
mod schedule;
mod templates;
#[cfg(test)]
mod testing;
mod values;

pub use grid::{check_stages, same_grids, Criterion, Stage};
pub use rules::Rule;
pub use schedule::{check_extra_keys_against, ExtraDocument};
pub use templates::{builtin_template, builtin_templates, builtin_templates_after, CallTemplate};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Longest `text` answer, in characters, when the field sets no `max_length`.
pub const TEXT_DEFAULT_MAX_LENGTH: u32 = 500;
/// Longest `long_text` answer, in characters, when the field sets no `max_length`.
pub const LONG_TEXT_DEFAULT_MAX_LENGTH: u32 = 10_000;
/// Largest magnitude of an `integer` answer: 2^53 - 1, the largest integer every JSON client (JavaScript
/// included) and every floating-point computation represents exactly.
pub const MAX_SAFE_INTEGER: i64 = (1 << 53) - 1;
/// Longest `url` answer, in characters.
const URL_MAX_LENGTH: usize = 2048;
/// Longest option value, in characters.
const OPTION_VALUE_MAX_LENGTH: usize = 100;

/// Bilingual text: French is authoritative and required, English optional.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Text {
    /// The French text, shown by default.
    pub fr: String,
    /// The English translation, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub en: Option<String>,
}

impl Text {
    /// A text in French only.
    pub fn french(fr: impl Into<String>) -> Self {
        Text {
            fr: fr.into(),
            en: None,
        }
    }

    /// A text in French with its English translation.
    pub fn bilingual(fr: impl Into<String>, en: impl Into<String>) -> Self {
        Text {
            fr: fr.into(),
            en: Some(en.into()),
        }
    }
}

/// What kind of answer a field takes.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    /// One line of text (at most 500 characters unless `max_length` says otherwise).
    Text,
    /// Several paragraphs (at most 10,000 characters unless `max_length` says otherwise).
    LongText,
    /// A whole number.
    Integer,
    /// Any number.
    Number,
    /// `true` or `false`; a required boolean must be `true` (consent).
    Boolean,
    /// A calendar date, `YYYY-MM-DD`.
    Date,
    /// An email address.
    Email,
    /// An `http://` or `https://` address.
    Url,
    /// A phone number, stored in E.164.
    Phone,
    /// A SIRET (14 digits).
    Siret,
    /// A French postcode.
    Postcode,
    /// An INSEE commune code.
    InseeCode,
    /// One of the field's options.
    Choice,
    /// Several distinct options.
    MultiChoice,
    /// A file, uploaded as an attachment rather than given as an answer.
    File,
}

impl FieldType {
    /// The type's name in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::Text => "text",
            FieldType::LongText => "long_text",
            FieldType::Integer => "integer",
            FieldType::Number => "number",
            FieldType::Boolean => "boolean",
            FieldType::Date => "date",
            FieldType::Email => "email",
            FieldType::Url => "url",
            FieldType::Phone => "phone",
            FieldType::Siret => "siret",
            FieldType::Postcode => "postcode",
            FieldType::InseeCode => "insee_code",
            FieldType::Choice => "choice",
            FieldType::MultiChoice => "multi_choice",
            FieldType::File => "file",
        }
    }
}

/// One option of a `choice` or `multi_choice` field.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ChoiceOption {
    /// What an answer contains when this option is chosen.
    pub value: String,
    /// What applicants see.
    pub label: Text,
}

/// One question of a form, with the constraints its answer must meet.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Field {
    /// The answer's key, unique in the form: a lower-case letter, then up to 63 lower-case letters, digits or
    /// underscores.
    pub key: String,
    /// What kind of answer the field takes.
    #[serde(rename = "type")]
    pub kind: FieldType,
    /// The question.
    pub label: Text,
    /// Guidance shown with the question.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<Text>,
    /// Whether an answer is needed to submit (for a boolean: that it is `true`; for a file: an attachment).
    #[serde(default)]
    pub required: bool,
    /// `text`, `long_text`: fewest characters of a non-blank answer, after trimming.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_length: Option<u32>,
    /// `text`, `long_text`: most characters, after trimming (defaults 500 and 10,000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u32>,
    /// `integer`, `number`: smallest value allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// `integer`, `number`: largest value allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// `date`: earliest date allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_date: Option<NaiveDate>,
    /// `date`: latest date allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_date: Option<NaiveDate>,
    /// `multi_choice`: fewest options in a non-empty answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_items: Option<u32>,
    /// `multi_choice`: most options in an answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_items: Option<u32>,
    /// `choice`, `multi_choice`: the options, at least one, with distinct values.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<Vec<ChoiceOption>>,
    /// `file`: largest attachment, in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_size: Option<u64>,
    /// `file`: the MIME types accepted, such as `application/pdf`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_types: Option<Vec<String>>,
}

/// The questions of a call, in the order applicants see them, and the rules their answers must meet together.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Form {
    /// The fields, in display order.
    pub fields: Vec<Field>,
    /// Rules between answers, such as `{"type": "at_most", "field": "altitude_min", "other":
    /// "altitude_max"}`: each is checked once the answers it relates are all given, with every other error of
    /// the answers, and reported on its first field. Empty by default.
    #[serde(default)]
    pub rules: Vec<Rule>,
}

impl Field {
    /// A field with no help, not required and no constraints.
    pub fn new(key: impl Into<String>, kind: FieldType, label: Text) -> Self {
        Field {
            key: key.into(),
            kind,
            label,
            help: None,
            required: false,
            min_length: None,
            max_length: None,
            min: None,
            max: None,
            min_date: None,
            max_date: None,
            min_items: None,
            max_items: None,
            options: None,
            max_size: None,
            content_types: None,
        }
    }

    /// The longest answer allowed for a `text` or `long_text` field, defaults included.
    pub fn effective_max_length(&self) -> Option<u32> {
        match self.kind {
            FieldType::Text => Some(self.max_length.unwrap_or(TEXT_DEFAULT_MAX_LENGTH)),
            FieldType::LongText => Some(self.max_length.unwrap_or(LONG_TEXT_DEFAULT_MAX_LENGTH)),
            _ => self.max_length,
        }
    }

    /// The options of a choice field (empty for other fields).
    fn option_list(&self) -> &[ChoiceOption] {
        self.options.as_deref().unwrap_or_default()
    }
}

impl Form {
    /// The field with this key.
    pub fn field(&self, key: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.key == key)
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;
    use serde_json::{json, Value};

    #[test]
    fn field_types_use_snake_case_names() {
        for kind in ALL_TYPES {
            assert_eq!(
                serde_json::to_value(kind).unwrap(),
                json!(kind.as_str()),
                "{kind:?}"
            );
            let back: FieldType = serde_json::from_value(json!(kind.as_str())).unwrap();
            assert_eq!(back, kind);
        }
        assert_eq!(FieldType::InseeCode.as_str(), "insee_code");
        assert_eq!(FieldType::MultiChoice.as_str(), "multi_choice");
    }

    #[test]
    fn field_round_trips_and_skips_absent_constraints() {
        let raw = json!({
            "key": "team_fte", "type": "number", "label": {"fr": "Équipe"}, "required": true, "min": 0.0
        });
        let f: Field = serde_json::from_value(raw.clone()).unwrap();
        assert_eq!(f.kind, FieldType::Number);
        assert!(f.required);
        assert_eq!(f.min, Some(0.0));
        assert_eq!(serde_json::to_value(&f).unwrap(), raw);

        let f: Field =
            serde_json::from_value(json!({"key": "k", "type": "date", "label": {"fr": "D"},
            "min_date": "2026-01-01"}))
            .unwrap();
        assert!(!f.required, "required defaults to false");
        assert_eq!(f.min_date, NaiveDate::from_ymd_opt(2026, 1, 1));
    }

    #[test]
    fn unknown_definition_fields_are_rejected() {
        let raw = json!({"key": "k", "type": "text", "label": {"fr": "T"}, "status": "x"});
        assert!(serde_json::from_value::<Field>(raw).is_err());
        assert!(serde_json::from_value::<Text>(json!({"fr": "a", "de": "b"})).is_err());
        assert!(serde_json::from_value::<Text>(json!({"en": "b"})).is_err());
        assert!(serde_json::from_value::<Field>(
            json!({"key": "k", "type": "rich_text", "label": {"fr": "T"}})
        )
        .is_err());
    }

    #[test]
    fn form_field_finds_by_key() {
        let f = form(vec![
            field("a", FieldType::Text),
            field("b", FieldType::Email),
        ]);
        assert_eq!(f.field("b").unwrap().kind, FieldType::Email);
        assert!(f.field("c").is_none());
    }

    #[test]
    fn openapi_schema_uses_the_wire_names() {
        let schema = serde_json::to_value(<Field as utoipa::PartialSchema>::schema()).unwrap();
        let properties = schema["properties"].as_object().unwrap();
        assert!(properties.contains_key("type"));
        assert!(!properties.contains_key("kind"));
        let required: Vec<&str> = schema["required"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(required, vec!["key", "type", "label"]);
        let kinds = serde_json::to_value(<FieldType as utoipa::PartialSchema>::schema()).unwrap();
        assert!(kinds.to_string().contains("multi_choice"), "{kinds}");
    }
}
