//! Call forms and evaluation grids: the fields a call asks applicants to fill in, the checks on their
//! answers, the stages and criteria jurors score, and the two built-in call templates.
//!
//! A form is data (it comes from a template or from staff), so it is checked twice: once as a definition
//! ([`Form::check_definition`], [`check_stages`]) when a call is created or edited, and then against every
//! set of answers ([`Form::check_answers`] while editing, [`Form::check_complete`] at submission).

use std::collections::HashSet;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;
use validator::{ValidateEmail, ValidateUrl};

use super::identifiers::{InseeCode, InvalidValue, PhoneNumber, Postcode, Siret};
use crate::error::FieldError;

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

/// The questions of a call, in the order applicants see them.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Form {
    /// The fields, in display order.
    pub fields: Vec<Field>,
}

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
}

/// A ready-made call: its form, its stages and its defaults.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CallTemplate {
    /// The template's name, such as `alpes-tourisme-lab`.
    pub template: String,
    /// The kind of call: `startup_lab` or `territory_experiment`.
    pub kind: String,
    /// Start of application references, such as `ATL` in `ATL-2026-0007`.
    pub reference_prefix: String,
    /// The call's default title.
    pub title: Text,
    /// The call's default summary.
    pub summary: Text,
    /// IANA time zone used to show deadlines.
    pub timezone: String,
    /// Organization kinds that may apply.
    pub eligible_kinds: Vec<String>,
    /// The application form.
    pub form: Form,
    /// The evaluation stages, in order.
    pub stages: Vec<Stage>,
}

const ALPES_TOURISME_LAB: &str = include_str!("../../templates/calls/alpes-tourisme-lab.json");
const EXPERIMENTATION_MONTAGNE: &str =
    include_str!("../../templates/calls/experimentation-montagne.json");

/// The call templates shipped with Cordée: `alpes-tourisme-lab` and `experimentation-montagne`.
///
/// They are embedded at compile time and a unit test parses and checks them, so a failure here is a
/// build defect: this panics with the template's name and the parse error rather than returning a `Result`.
pub fn builtin_templates() -> Vec<CallTemplate> {
    [
        ("alpes-tourisme-lab", ALPES_TOURISME_LAB),
        ("experimentation-montagne", EXPERIMENTATION_MONTAGNE),
    ]
    .into_iter()
    .map(|(name, json)| {
        serde_json::from_str(json)
            .unwrap_or_else(|err| panic!("built-in call template {name} is invalid: {err}"))
    })
    .collect()
}

/// The built-in template with this name.
pub fn builtin_template(name: &str) -> Option<CallTemplate> {
    builtin_templates().into_iter().find(|t| t.template == name)
}

impl CallTemplate {
    /// Errors in the template: its title and summary, its form (paths under `form`) and its stages (paths
    /// under `stages`).
    pub fn check(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        check_text(&self.title, "title", &mut errors);
        check_text(&self.summary, "summary", &mut errors);
        errors.extend(self.form.check_definition("form"));
        errors.extend(check_stages(&self.stages));
        errors
    }
}

// ---------------------------------------------------------------------------------------------------------
// Definition checks
// ---------------------------------------------------------------------------------------------------------

/// `prefix.rest`, or `rest` alone when the prefix is empty.
fn join(prefix: &str, rest: &str) -> String {
    if prefix.is_empty() {
        rest.to_owned()
    } else {
        format!("{prefix}.{rest}")
    }
}

/// True for `^[a-z][a-z0-9_]{0,63}$`.
fn is_valid_key(key: &str) -> bool {
    let bytes = key.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 64
        && bytes[0].is_ascii_lowercase()
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_')
}

/// True for a lower-case MIME type `type/subtype` made of RFC 6838 name characters.
fn is_valid_content_type(raw: &str) -> bool {
    let token = |part: &str| {
        let bytes = part.as_bytes();
        !bytes.is_empty()
            && bytes.len() <= 127
            && (bytes[0].is_ascii_lowercase() || bytes[0].is_ascii_digit())
            && bytes
                .iter()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"!#$&^_.+-".contains(b))
    };
    raw.split_once('/')
        .is_some_and(|(kind, subtype)| token(kind) && token(subtype))
}

/// Checks a key's shape and uniqueness among `seen`.
fn check_key<'a>(
    key: &'a str,
    at: &str,
    seen: &mut HashSet<&'a str>,
    errors: &mut Vec<FieldError>,
) {
    if !is_valid_key(key) {
        errors.push(FieldError::new(
            format!("{at}.key"),
            "invalid_key",
            "a key is a lower-case letter followed by up to 63 lower-case letters, digits or underscores",
        ));
    } else if !seen.insert(key) {
        errors.push(FieldError::new(
            format!("{at}.key"),
            "duplicate_key",
            "another item already uses this key",
        ));
    }
}

/// Checks that a bilingual text has its French version.
fn check_text(text: &Text, at: &str, errors: &mut Vec<FieldError>) {
    if text.fr.trim().is_empty() {
        errors.push(FieldError::new(
            format!("{at}.fr"),
            "required",
            "the French text is required",
        ));
    }
}

/// Reports a `min`-like bound that exceeds its `max`-like bound.
fn invalid_range(at: &str, name: &str, message: impl Into<String>) -> FieldError {
    FieldError::new(format!("{at}.{name}"), "invalid_range", message)
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

    /// Errors in this field's definition (everything but key uniqueness), paths under `at`.
    fn check_definition(&self, at: &str, errors: &mut Vec<FieldError>) {
        use FieldType as T;

        check_text(&self.label, &format!("{at}.label"), errors);
        if let Some(help) = &self.help {
            check_text(help, &format!("{at}.help"), errors);
        }

        let kind = self.kind;
        let is_text = matches!(kind, T::Text | T::LongText);
        let is_numeric = matches!(kind, T::Integer | T::Number);
        let is_choice = matches!(kind, T::Choice | T::MultiChoice);
        let constraints = [
            ("min_length", self.min_length.is_some(), is_text),
            ("max_length", self.max_length.is_some(), is_text),
            ("min", self.min.is_some(), is_numeric),
            ("max", self.max.is_some(), is_numeric),
            ("min_date", self.min_date.is_some(), kind == T::Date),
            ("max_date", self.max_date.is_some(), kind == T::Date),
            (
                "min_items",
                self.min_items.is_some(),
                kind == T::MultiChoice,
            ),
            (
                "max_items",
                self.max_items.is_some(),
                kind == T::MultiChoice,
            ),
            ("options", self.options.is_some(), is_choice),
            ("max_size", self.max_size.is_some(), kind == T::File),
            (
                "content_types",
                self.content_types.is_some(),
                kind == T::File,
            ),
        ];
        for (name, present, applies) in constraints {
            if present && !applies {
                errors.push(FieldError::new(
                    format!("{at}.{name}"),
                    "not_applicable",
                    format!("{name} does not apply to a {} field", kind.as_str()),
                ));
            }
        }

        if is_text {
            self.check_length_bounds(at, errors);
        }
        if is_numeric {
            self.check_number_bounds(at, errors);
        }
        if let (T::Date, Some(min), Some(max)) = (kind, self.min_date, self.max_date) {
            if min > max {
                errors.push(invalid_range(
                    at,
                    "min_date",
                    format!("min_date is after max_date ({max})"),
                ));
            }
        }
        if is_choice {
            self.check_options(at, errors);
        }
        if kind == T::MultiChoice {
            self.check_item_bounds(at, errors);
        }
        if kind == T::File {
            self.check_file(at, errors);
        }
    }

    fn check_length_bounds(&self, at: &str, errors: &mut Vec<FieldError>) {
        if self.max_length == Some(0) {
            errors.push(invalid_range(
                at,
                "max_length",
                "max_length must be at least 1",
            ));
        } else if let (Some(min), Some(max)) = (self.min_length, self.effective_max_length()) {
            if min > max {
                errors.push(invalid_range(
                    at,
                    "min_length",
                    format!("min_length is greater than the maximum length ({max})"),
                ));
            }
        }
    }

    fn check_number_bounds(&self, at: &str, errors: &mut Vec<FieldError>) {
        let mut finite = true;
        for (name, bound) in [("min", self.min), ("max", self.max)] {
            if bound.is_some_and(|b| !b.is_finite()) {
                finite = false;
                errors.push(FieldError::new(
                    format!("{at}.{name}"),
                    "invalid_number",
                    format!("{name} must be a finite number"),
                ));
            }
        }
        if let (true, Some(min), Some(max)) = (finite, self.min, self.max) {
            if min > max {
                errors.push(invalid_range(
                    at,
                    "min",
                    format!("min is greater than max ({max})"),
                ));
            }
        }
    }

    fn check_options(&self, at: &str, errors: &mut Vec<FieldError>) {
        let options = self.option_list();
        if options.is_empty() {
            errors.push(FieldError::new(
                format!("{at}.options"),
                "required",
                "a choice needs at least one option",
            ));
            return;
        }
        let mut seen = HashSet::new();
        for (j, option) in options.iter().enumerate() {
            let opt_at = format!("{at}.options.{j}");
            let value = option.value.as_str();
            let well_formed = !value.is_empty()
                && value.chars().count() <= OPTION_VALUE_MAX_LENGTH
                && value.trim() == value
                && !value.chars().any(char::is_control);
            if !well_formed {
                errors.push(FieldError::new(
                    format!("{opt_at}.value"),
                    "invalid_value",
                    "an option value has 1 to 100 characters, without surrounding spaces or control characters",
                ));
            } else if !seen.insert(value) {
                errors.push(FieldError::new(
                    format!("{opt_at}.value"),
                    "duplicate_option",
                    "another option already has this value",
                ));
            }
            check_text(&option.label, &format!("{opt_at}.label"), errors);
        }
    }

    fn check_item_bounds(&self, at: &str, errors: &mut Vec<FieldError>) {
        let count = self.option_list().len();
        if self.max_items == Some(0) {
            errors.push(invalid_range(
                at,
                "max_items",
                "max_items must be at least 1",
            ));
        } else if let (Some(min), Some(max)) = (self.min_items, self.max_items) {
            if min > max {
                errors.push(invalid_range(
                    at,
                    "min_items",
                    format!("min_items is greater than max_items ({max})"),
                ));
            }
        }
        if count == 0 {
            return; // already reported as missing options
        }
        for (name, bound) in [("min_items", self.min_items), ("max_items", self.max_items)] {
            if bound.is_some_and(|b| b as usize > count) {
                errors.push(invalid_range(
                    at,
                    name,
                    format!("{name} is greater than the number of options ({count})"),
                ));
            }
        }
    }

    fn check_file(&self, at: &str, errors: &mut Vec<FieldError>) {
        match self.max_size {
            None => errors.push(FieldError::new(
                format!("{at}.max_size"),
                "required",
                "a file field needs a max_size in bytes",
            )),
            Some(0) => errors.push(invalid_range(
                at,
                "max_size",
                "max_size must be greater than 0",
            )),
            Some(_) => {}
        }
        let types = self.content_types.as_deref().unwrap_or_default();
        if types.is_empty() {
            errors.push(FieldError::new(
                format!("{at}.content_types"),
                "required",
                "a file field needs at least one content type",
            ));
        }
        let mut seen = HashSet::new();
        for (j, content_type) in types.iter().enumerate() {
            if !is_valid_content_type(content_type) {
                errors.push(FieldError::new(
                    format!("{at}.content_types.{j}"),
                    "invalid_content_type",
                    "a content type is a lower-case MIME type such as application/pdf",
                ));
            } else if !seen.insert(content_type.as_str()) {
                errors.push(FieldError::new(
                    format!("{at}.content_types.{j}"),
                    "duplicate_content_type",
                    "this content type is already listed",
                ));
            }
        }
    }
}

/// Errors in the evaluation stages: at least one stage, unique well-formed stage keys, each stage with at
/// least one criterion, unique well-formed criterion keys, French labels, finite criterion bounds with
/// `min < max`, and the weights of each stage summing to exactly 100.
///
/// A wrong sum is reported once per criterion of the stage, with code `weights_sum` and path
/// `stages.<i>.criteria.<j>.weight`.
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
    errors
}

// ---------------------------------------------------------------------------------------------------------
// Answers
// ---------------------------------------------------------------------------------------------------------

fn invalid_type(path: &str, expected: &str) -> FieldError {
    FieldError::new(path, "invalid_type", format!("expected {expected}"))
}

fn from_invalid(path: &str, err: InvalidValue) -> FieldError {
    FieldError::new(path, err.code, err.message)
}

/// Parses `YYYY-MM-DD` strictly (four-digit year, two-digit month and day).
fn parse_date(raw: &str) -> Result<NaiveDate, &'static str> {
    let bytes = raw.as_bytes();
    let shaped = bytes.len() == 10
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && bytes
            .iter()
            .enumerate()
            .all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit());
    if !shaped {
        return Err("expected a date as YYYY-MM-DD");
    }
    NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| "this date does not exist")
}

/// The URL when it is an `http(s)` address without spaces or control characters, `None` otherwise.
fn parse_url(raw: &str) -> Option<String> {
    let lower_start: String = raw.chars().take(8).collect::<String>().to_ascii_lowercase();
    let scheme_ok = lower_start.starts_with("https://") || lower_start.starts_with("http://");
    let clean = !raw.chars().any(|c| c.is_whitespace() || c.is_control());
    (scheme_ok && clean && raw.len() <= URL_MAX_LENGTH && raw.validate_url())
        .then(|| raw.to_owned())
}

impl Field {
    /// Checks one non-null answer, pushing its errors; the normalised value when it is valid.
    fn check_value(
        &self,
        value: &Value,
        path: &str,
        errors: &mut Vec<FieldError>,
    ) -> Option<Value> {
        use FieldType as T;

        // Every string-valued type treats a blank string as "not answered".
        let string_typed = !matches!(
            self.kind,
            T::Integer | T::Number | T::Boolean | T::MultiChoice | T::File
        );
        if string_typed {
            let Some(raw) = value.as_str() else {
                let expected = match self.kind {
                    T::Date => "a date string such as 2026-09-01",
                    T::Choice => "one option value as a string",
                    _ => "a string",
                };
                errors.push(invalid_type(path, expected));
                return None;
            };
            let trimmed = raw.trim();
            if trimmed.is_empty() {
                return Some(Value::Null);
            }
            return match self.check_string(trimmed, path) {
                Ok(normalised) => Some(Value::String(normalised)),
                Err(err) => {
                    errors.push(err);
                    None
                }
            };
        }

        match self.kind {
            T::Integer => self.check_integer(value, path, errors),
            T::Number => self.check_number(value, path, errors),
            T::Boolean => match value {
                Value::Bool(_) => Some(value.clone()),
                _ => {
                    errors.push(invalid_type(path, "true or false"));
                    None
                }
            },
            T::MultiChoice => self.check_multi_choice(value, path, errors),
            _ => {
                errors.push(FieldError::new(
                    path,
                    "use_attachments",
                    "files are uploaded as attachments, not given as answers",
                ));
                None
            }
        }
    }

    /// Checks a trimmed, non-blank answer to a string-valued field.
    fn check_string(&self, s: &str, path: &str) -> Result<String, FieldError> {
        use FieldType as T;

        match self.kind {
            T::Text | T::LongText => {
                let multiline = self.kind == T::LongText;
                let bad_char = s
                    .chars()
                    .any(|c| c.is_control() && !(multiline && matches!(c, '\n' | '\r' | '\t')));
                if bad_char {
                    let message = if multiline {
                        "control characters other than line breaks and tabs are not allowed"
                    } else {
                        "line breaks and control characters are not allowed"
                    };
                    return Err(FieldError::new(path, "invalid_characters", message));
                }
                let count = s.chars().count();
                if let Some(min) = self.min_length {
                    if count < min as usize {
                        return Err(FieldError::new(
                            path,
                            "too_short",
                            format!("at least {min} characters"),
                        ));
                    }
                }
                if let Some(max) = self.effective_max_length() {
                    if count > max as usize {
                        return Err(FieldError::new(
                            path,
                            "too_long",
                            format!("at most {max} characters"),
                        ));
                    }
                }
                Ok(s.to_owned())
            }
            T::Date => {
                let date = parse_date(s).map_err(|m| FieldError::new(path, "invalid_date", m))?;
                if let Some(min) = self.min_date.filter(|min| date < *min) {
                    return Err(FieldError::new(
                        path,
                        "below_min",
                        format!("on or after {min}"),
                    ));
                }
                if let Some(max) = self.max_date.filter(|max| date > *max) {
                    return Err(FieldError::new(
                        path,
                        "above_max",
                        format!("on or before {max}"),
                    ));
                }
                Ok(date.format("%Y-%m-%d").to_string())
            }
            T::Email => {
                let clean = !s.chars().any(|c| c.is_whitespace() || c.is_control());
                if clean && s.validate_email() {
                    Ok(s.to_owned())
                } else {
                    Err(FieldError::new(
                        path,
                        "invalid_email",
                        "not a valid email address",
                    ))
                }
            }
            T::Url => parse_url(s).ok_or_else(|| {
                FieldError::new(
                    path,
                    "invalid_url",
                    "expected an http:// or https:// address",
                )
            }),
            T::Phone => PhoneNumber::parse(s)
                .map(|v| v.as_str().to_owned())
                .map_err(|e| from_invalid(path, e)),
            T::Siret => Siret::parse(s)
                .map(|v| v.as_str().to_owned())
                .map_err(|e| from_invalid(path, e)),
            T::Postcode => Postcode::parse(s)
                .map(|v| v.as_str().to_owned())
                .map_err(|e| from_invalid(path, e)),
            T::InseeCode => InseeCode::parse(s)
                .map(|v| v.as_str().to_owned())
                .map_err(|e| from_invalid(path, e)),
            T::Choice => self
                .option_list()
                .iter()
                .find(|o| o.value == s)
                .map(|o| o.value.clone())
                .ok_or_else(|| {
                    FieldError::new(path, "invalid_option", "not one of the field's options")
                }),
            T::Integer | T::Number | T::Boolean | T::MultiChoice | T::File => {
                Err(invalid_type(path, "a value of the field's type"))
            }
        }
    }

    /// Pushes `below_min`/`above_max` when `n` is outside the field's bounds.
    fn check_bounds(&self, n: f64, path: &str, errors: &mut Vec<FieldError>) -> bool {
        if let Some(min) = self.min.filter(|min| n < *min) {
            errors.push(FieldError::new(
                path,
                "below_min",
                format!("at least {min}"),
            ));
            return false;
        }
        if let Some(max) = self.max.filter(|max| n > *max) {
            errors.push(FieldError::new(path, "above_max", format!("at most {max}")));
            return false;
        }
        true
    }

    fn check_integer(
        &self,
        value: &Value,
        path: &str,
        errors: &mut Vec<FieldError>,
    ) -> Option<Value> {
        let Some(f) = value.as_f64().filter(|f| f.is_finite() && f.fract() == 0.0) else {
            errors.push(invalid_type(path, "a whole number"));
            return None;
        };
        // Compared as floats: every i64 up to 2^53 is exact, and larger ones round to at least 2^53.
        if f > MAX_SAFE_INTEGER as f64 {
            errors.push(FieldError::new(
                path,
                "above_max",
                format!("at most {MAX_SAFE_INTEGER}"),
            ));
            return None;
        }
        if f < -(MAX_SAFE_INTEGER as f64) {
            errors.push(FieldError::new(
                path,
                "below_min",
                format!("at least -{MAX_SAFE_INTEGER}"),
            ));
            return None;
        }
        // In range, so the conversion is exact.
        let n = value.as_i64().unwrap_or(f as i64);
        self.check_bounds(n as f64, path, errors)
            .then(|| Value::from(n))
    }

    fn check_number(
        &self,
        value: &Value,
        path: &str,
        errors: &mut Vec<FieldError>,
    ) -> Option<Value> {
        let Some(f) = value.as_f64().filter(|f| f.is_finite()) else {
            errors.push(invalid_type(path, "a number"));
            return None;
        };
        self.check_bounds(f, path, errors).then(|| value.clone())
    }

    fn check_multi_choice(
        &self,
        value: &Value,
        path: &str,
        errors: &mut Vec<FieldError>,
    ) -> Option<Value> {
        let Some(items) = value.as_array() else {
            errors.push(invalid_type(path, "a list of option values"));
            return None;
        };
        let before = errors.len();
        let options = self.option_list();
        let mut chosen: Vec<&str> = Vec::with_capacity(items.len().min(options.len()));
        for (index, item) in items.iter().enumerate() {
            let item_path = format!("{path}.{index}");
            let Some(s) = item.as_str() else {
                errors.push(invalid_type(&item_path, "an option value"));
                continue;
            };
            let Some(option) = options.iter().find(|o| o.value == s) else {
                errors.push(FieldError::new(
                    item_path,
                    "invalid_option",
                    "not one of the field's options",
                ));
                continue;
            };
            if chosen.contains(&option.value.as_str()) {
                errors.push(FieldError::new(
                    item_path,
                    "duplicate_option",
                    "each option may be chosen only once",
                ));
                continue;
            }
            chosen.push(&option.value);
        }
        // An empty list means "nothing chosen yet": `min_items` applies once something is chosen.
        if let Some(min) = self.min_items {
            if !items.is_empty() && items.len() < min as usize {
                errors.push(FieldError::new(
                    path,
                    "too_few_items",
                    format!("choose at least {min} options"),
                ));
            }
        }
        if let Some(max) = self.max_items {
            if items.len() > max as usize {
                errors.push(FieldError::new(
                    path,
                    "too_many_items",
                    format!("choose at most {max} options"),
                ));
            }
        }
        (errors.len() == before).then(|| Value::from(chosen))
    }
}

impl Form {
    /// Errors in the definition itself, each `field` a path under `prefix` (e.g. `form.fields.3.options`):
    /// keys unique and well-formed, French labels (and help texts) non-empty, constraints only on the types
    /// they apply to (`not_applicable`), min ≤ max for lengths, numbers, dates and items (`invalid_range`),
    /// choices with at least one option and unique, well-formed option values, multi_choice bounds within the
    /// option count, files with `max_size > 0` and at least one well-formed content type.
    pub fn check_definition(&self, prefix: &str) -> Vec<FieldError> {
        let mut errors = Vec::new();
        let base = join(prefix, "fields");
        let mut keys = HashSet::new();
        for (i, field) in self.fields.iter().enumerate() {
            let at = format!("{base}.{i}");
            check_key(&field.key, &at, &mut keys, &mut errors);
            field.check_definition(&at, &mut errors);
        }
        errors
    }

    /// The field with this key.
    pub fn field(&self, key: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.key == key)
    }

    /// Checks the given answers; drafts may be incomplete, so nothing is required here.
    ///
    /// Unknown keys give `unknown_field`, a value for a `file` field gives `use_attachments`, and every other
    /// value must be well-formed for its type and within its constraints. `null` clears a value and a blank
    /// string (empty once trimmed) is normalised to `null`; `min_length` and `min_items` apply to non-blank,
    /// non-empty answers only. Returns the normalised valid answers (trimmed text, phone in E.164, SIRET
    /// without spaces, INSEE code upper-case, integers as JSON integers, dates as `YYYY-MM-DD`; invalid
    /// values are left out) and every error in form order then unknown keys, paths `answers.<key>` (or
    /// `answers.<key>.<index>` for a multi_choice item).
    pub fn check_answers(
        &self,
        answers: &Map<String, Value>,
    ) -> (Map<String, Value>, Vec<FieldError>) {
        let mut normalised = Map::new();
        let mut errors = Vec::new();
        let mut known = HashSet::new();
        for field in &self.fields {
            if !known.insert(field.key.as_str()) {
                continue; // a duplicate key in a bad definition: the first field wins
            }
            let Some(value) = answers.get(&field.key) else {
                continue;
            };
            let path = format!("answers.{}", field.key);
            if field.kind == FieldType::File {
                errors.push(FieldError::new(
                    path,
                    "use_attachments",
                    "files are uploaded as attachments, not given as answers",
                ));
                continue;
            }
            if value.is_null() {
                normalised.insert(field.key.clone(), Value::Null);
                continue;
            }
            if let Some(v) = field.check_value(value, &path, &mut errors) {
                normalised.insert(field.key.clone(), v);
            }
        }
        for key in answers.keys() {
            if !known.contains(key.as_str()) {
                errors.push(FieldError::new(
                    format!("answers.{key}"),
                    "unknown_field",
                    "the form has no field with this key",
                ));
            }
        }
        (normalised, errors)
    }

    /// At submission: every required field answered (non-null, non-blank string, non-empty array; a required
    /// boolean must be `true`), and every required `file` field present in `attached` (the keys that have at
    /// least one attachment). Code `required`, paths `answers.<key>`, in form order. Does not repeat the
    /// well-formedness checks of [`Form::check_answers`].
    pub fn check_complete(
        &self,
        answers: &Map<String, Value>,
        attached: &HashSet<String>,
    ) -> Vec<FieldError> {
        let mut errors = Vec::new();
        for field in self.fields.iter().filter(|f| f.required) {
            let path = format!("answers.{}", field.key);
            let message = match field.kind {
                FieldType::File if !attached.contains(&field.key) => "attach a file",
                FieldType::File => continue,
                _ => match answers.get(&field.key) {
                    None | Some(Value::Null) => "this field is required",
                    Some(Value::String(s)) if s.trim().is_empty() => "this field is required",
                    Some(Value::Array(items)) if items.is_empty() => "choose at least one option",
                    Some(Value::Bool(false)) if field.kind == FieldType::Boolean => {
                        "this must be accepted"
                    }
                    Some(_) => continue,
                },
            };
            errors.push(FieldError::new(path, "required", message));
        }
        errors
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn field(key: &str, kind: FieldType) -> Field {
        let mut f = Field::new(key, kind, Text::bilingual("Question", "Question"));
        match kind {
            FieldType::Choice | FieldType::MultiChoice => {
                f.options = Some(
                    ["a", "b", "c"]
                        .iter()
                        .map(|v| ChoiceOption {
                            value: (*v).to_owned(),
                            label: Text::french(v.to_uppercase()),
                        })
                        .collect(),
                );
            }
            FieldType::File => {
                f.max_size = Some(1024);
                f.content_types = Some(vec!["application/pdf".to_owned()]);
            }
            _ => {}
        }
        f
    }

    fn form(fields: Vec<Field>) -> Form {
        Form { fields }
    }

    fn answers(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => panic!("answers must be an object"),
        }
    }

    /// Checks `{key: value}` against a one-field form: (normalised value, error codes).
    fn check_one(f: Field, value: Value) -> (Option<Value>, Vec<String>) {
        let key = f.key.clone();
        let form = form(vec![f]);
        let mut map = Map::new();
        map.insert(key.clone(), value);
        let (out, errors) = form.check_answers(&map);
        (
            out.get(&key).cloned(),
            errors.into_iter().map(|e| e.code).collect(),
        )
    }

    fn ok(f: Field, value: Value) -> Value {
        let (out, errors) = check_one(f, value.clone());
        assert!(errors.is_empty(), "{value} gave {errors:?}");
        out.expect("a normalised value")
    }

    fn err(f: Field, value: Value) -> String {
        let (out, errors) = check_one(f, value.clone());
        assert_eq!(errors.len(), 1, "{value} gave {errors:?}");
        assert_eq!(out, None, "an invalid value is left out");
        errors.into_iter().next().unwrap()
    }

    fn codes(errors: &[FieldError]) -> Vec<(&str, &str)> {
        errors
            .iter()
            .map(|e| (e.field.as_str(), e.code.as_str()))
            .collect()
    }

    const ALL_TYPES: [FieldType; 15] = [
        FieldType::Text,
        FieldType::LongText,
        FieldType::Integer,
        FieldType::Number,
        FieldType::Boolean,
        FieldType::Date,
        FieldType::Email,
        FieldType::Url,
        FieldType::Phone,
        FieldType::Siret,
        FieldType::Postcode,
        FieldType::InseeCode,
        FieldType::Choice,
        FieldType::MultiChoice,
        FieldType::File,
    ];

    // ---- serde ----

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

    // ---- check_answers: every type ----

    #[test]
    fn text_is_trimmed_and_bounded() {
        let mut f = field("name", FieldType::Text);
        assert_eq!(ok(f.clone(), json!("  Skiflow ")), json!("Skiflow"));
        assert_eq!(err(f.clone(), json!(42)), "invalid_type");
        assert_eq!(err(f.clone(), json!("a".repeat(501))), "too_long");
        assert_eq!(
            ok(f.clone(), json!("é".repeat(500))),
            json!("é".repeat(500))
        );
        assert_eq!(err(f.clone(), json!("two\nlines")), "invalid_characters");
        assert_eq!(err(f.clone(), json!("nul\u{0}")), "invalid_characters");
        f.min_length = Some(3);
        f.max_length = Some(5);
        assert_eq!(err(f.clone(), json!(" ab ")), "too_short");
        assert_eq!(err(f.clone(), json!("abcdef")), "too_long");
        assert_eq!(ok(f.clone(), json!("  abc  ")), json!("abc"));
        // Characters, not bytes.
        assert_eq!(ok(f.clone(), json!("ÉÉÉÉÉ")), json!("ÉÉÉÉÉ"));
        // Blank means not answered, even with a min_length.
        assert_eq!(ok(f, json!("   ")), Value::Null);
    }

    #[test]
    fn long_text_allows_line_breaks_and_has_a_larger_default() {
        let f = field("pitch", FieldType::LongText);
        assert_eq!(ok(f.clone(), json!("a\r\nb\tc\n")), json!("a\r\nb\tc"));
        assert_eq!(
            ok(f.clone(), json!("x".repeat(10_000)))
                .as_str()
                .unwrap()
                .len(),
            10_000
        );
        assert_eq!(err(f.clone(), json!("x".repeat(10_001))), "too_long");
        assert_eq!(err(f.clone(), json!("bell\u{7}")), "invalid_characters");
        assert_eq!(err(f, json!(["a"])), "invalid_type");
    }

    #[test]
    fn integer_accepts_whole_numbers_only() {
        let mut f = field("revenue", FieldType::Integer);
        assert_eq!(ok(f.clone(), json!(120000)), json!(120000));
        assert_eq!(ok(f.clone(), json!(-5)), json!(-5));
        let two = ok(f.clone(), json!(2.0));
        assert_eq!(two, json!(2));
        assert!(two.is_i64(), "floats without fraction become integers");
        assert_eq!(ok(f.clone(), json!(-0.0)), json!(0));
        assert_eq!(err(f.clone(), json!(2.5)), "invalid_type");
        assert_eq!(err(f.clone(), json!("12")), "invalid_type");
        assert_eq!(err(f.clone(), json!(true)), "invalid_type");
        assert_eq!(
            ok(f.clone(), json!(MAX_SAFE_INTEGER)),
            json!(MAX_SAFE_INTEGER)
        );
        assert_eq!(err(f.clone(), json!(MAX_SAFE_INTEGER + 1)), "above_max");
        assert_eq!(err(f.clone(), json!(u64::MAX)), "above_max");
        assert_eq!(err(f.clone(), json!(1e300)), "above_max");
        assert_eq!(err(f.clone(), json!(i64::MIN)), "below_min");
        f.min = Some(0.0);
        f.max = Some(1000.0);
        assert_eq!(err(f.clone(), json!(-1)), "below_min");
        assert_eq!(err(f.clone(), json!(1001)), "above_max");
        assert_eq!(ok(f.clone(), json!(0)), json!(0));
        assert_eq!(ok(f, json!(1000)), json!(1000));
    }

    #[test]
    fn number_accepts_any_finite_number_within_bounds() {
        let mut f = field("fte", FieldType::Number);
        assert_eq!(ok(f.clone(), json!(2.5)), json!(2.5));
        assert_eq!(ok(f.clone(), json!(3)), json!(3));
        assert_eq!(err(f.clone(), json!("2.5")), "invalid_type");
        assert_eq!(err(f.clone(), json!(null_array())), "invalid_type");
        f.min = Some(0.0);
        f.max = Some(10.5);
        assert_eq!(err(f.clone(), json!(-0.1)), "below_min");
        assert_eq!(err(f.clone(), json!(10.6)), "above_max");
        assert_eq!(ok(f, json!(10.5)), json!(10.5));
    }

    fn null_array() -> Value {
        json!([null])
    }

    #[test]
    fn boolean_takes_json_booleans() {
        let f = field("consent", FieldType::Boolean);
        assert_eq!(ok(f.clone(), json!(true)), json!(true));
        assert_eq!(ok(f.clone(), json!(false)), json!(false));
        assert_eq!(err(f.clone(), json!("true")), "invalid_type");
        assert_eq!(err(f, json!(1)), "invalid_type");
    }

    #[test]
    fn date_is_strict_and_bounded() {
        let mut f = field("start", FieldType::Date);
        assert_eq!(ok(f.clone(), json!(" 2026-09-01 ")), json!("2026-09-01"));
        assert_eq!(ok(f.clone(), json!("2028-02-29")), json!("2028-02-29"));
        for bad in ["2026-02-30", "2027-02-29", "2026-13-01", "2026-00-10"] {
            assert_eq!(err(f.clone(), json!(bad)), "invalid_date", "{bad}");
        }
        for bad in [
            "2026-9-1",
            "01/09/2026",
            "2026-09-01T00:00:00Z",
            "+2026-09-01",
            "20260901",
        ] {
            assert_eq!(err(f.clone(), json!(bad)), "invalid_date", "{bad}");
        }
        assert_eq!(err(f.clone(), json!(20260901)), "invalid_type");
        f.min_date = NaiveDate::from_ymd_opt(2026, 9, 1);
        f.max_date = NaiveDate::from_ymd_opt(2027, 8, 31);
        assert_eq!(err(f.clone(), json!("2026-08-31")), "below_min");
        assert_eq!(err(f.clone(), json!("2027-09-01")), "above_max");
        assert_eq!(ok(f, json!("2027-08-31")), json!("2027-08-31"));
    }

    #[test]
    fn email_is_validated() {
        let f = field("contact", FieldType::Email);
        assert_eq!(
            ok(f.clone(), json!(" contact@station-exemple.fr ")),
            json!("contact@station-exemple.fr")
        );
        for bad in [
            "contact",
            "contact@",
            "@example.fr",
            "a b@example.fr",
            "a@exa mple.fr",
        ] {
            assert_eq!(err(f.clone(), json!(bad)), "invalid_email", "{bad}");
        }
        assert_eq!(err(f, json!(["a@b.fr"])), "invalid_type");
    }

    #[test]
    fn url_must_be_http_or_https() {
        let f = field("site", FieldType::Url);
        assert_eq!(
            ok(f.clone(), json!("https://www.example.fr/projet?x=1")),
            json!("https://www.example.fr/projet?x=1")
        );
        assert_eq!(
            ok(f.clone(), json!("HTTP://example.fr")),
            json!("HTTP://example.fr")
        );
        for bad in [
            "ftp://example.fr",
            "example.fr",
            "javascript:alert(1)",
            "https://",
            "https://exa mple.fr",
            "https://example.fr/\u{0}",
            "https://example.fr/a\nb",
        ] {
            assert_eq!(err(f.clone(), json!(bad)), "invalid_url", "{bad:?}");
        }
        let long = format!("https://example.fr/{}", "a".repeat(URL_MAX_LENGTH));
        assert_eq!(err(f, json!(long)), "invalid_url");
    }

    #[test]
    fn identifiers_are_normalised_with_their_own_codes() {
        assert_eq!(
            ok(field("phone", FieldType::Phone), json!("06 12 34 56 78")),
            json!("+33612345678")
        );
        assert_eq!(
            err(field("phone", FieldType::Phone), json!("12")),
            "invalid_phone"
        );
        assert_eq!(
            ok(field("siret", FieldType::Siret), json!("732 829 320 00074")),
            json!("73282932000074")
        );
        let (_, errors) = form(vec![field("siret", FieldType::Siret)])
            .check_answers(&answers(json!({"siret": "73282932000075"})));
        assert_eq!(
            errors,
            vec![FieldError::new(
                "answers.siret",
                "invalid_siret",
                "the SIRET's check digit is wrong"
            )]
        );
        assert_eq!(
            ok(field("cp", FieldType::Postcode), json!("74400")),
            json!("74400")
        );
        assert_eq!(
            err(field("cp", FieldType::Postcode), json!("00400")),
            "invalid_postcode"
        );
        assert_eq!(
            ok(field("insee", FieldType::InseeCode), json!("2a004")),
            json!("2A004")
        );
        assert_eq!(
            err(field("insee", FieldType::InseeCode), json!("2C004")),
            "invalid_insee_code"
        );
        assert_eq!(
            err(field("siret", FieldType::Siret), json!(73282932000074u64)),
            "invalid_type"
        );
    }

    #[test]
    fn choice_takes_one_option_value() {
        let f = field("maturity", FieldType::Choice);
        assert_eq!(ok(f.clone(), json!("b")), json!("b"));
        assert_eq!(err(f.clone(), json!("B")), "invalid_option");
        assert_eq!(err(f.clone(), json!("z")), "invalid_option");
        assert_eq!(err(f.clone(), json!(["a"])), "invalid_type");
        assert_eq!(ok(f, json!("")), Value::Null);
    }

    #[test]
    fn multi_choice_takes_distinct_options_within_bounds() {
        let mut f = field("challenges", FieldType::MultiChoice);
        assert_eq!(ok(f.clone(), json!(["c", "a"])), json!(["c", "a"]));
        assert_eq!(ok(f.clone(), json!([])), json!([]));
        assert_eq!(err(f.clone(), json!("a")), "invalid_type");

        let (_, errors) = form(vec![f.clone()])
            .check_answers(&answers(json!({"challenges": ["a", "z", 3, "a"]})));
        assert_eq!(
            codes(&errors),
            vec![
                ("answers.challenges.1", "invalid_option"),
                ("answers.challenges.2", "invalid_type"),
                ("answers.challenges.3", "duplicate_option"),
            ]
        );

        f.min_items = Some(2);
        f.max_items = Some(2);
        assert_eq!(err(f.clone(), json!(["a"])), "too_few_items");
        assert_eq!(err(f.clone(), json!(["a", "b", "c"])), "too_many_items");
        assert_eq!(ok(f.clone(), json!(["a", "b"])), json!(["a", "b"]));
        assert_eq!(ok(f, json!([])), json!([]), "empty means not answered yet");
    }

    #[test]
    fn files_are_not_answers() {
        let (out, errors) = form(vec![field("deck", FieldType::File)])
            .check_answers(&answers(json!({"deck": "deck.pdf"})));
        assert!(out.is_empty());
        assert_eq!(codes(&errors), vec![("answers.deck", "use_attachments")]);
        // Even null: the attachment endpoints manage files.
        let (_, errors) = form(vec![field("deck", FieldType::File)])
            .check_answers(&answers(json!({"deck": null})));
        assert_eq!(codes(&errors), vec![("answers.deck", "use_attachments")]);
    }

    #[test]
    fn unknown_keys_null_and_every_error_are_reported() {
        let form = form(vec![
            field("name", FieldType::Text),
            field("revenue", FieldType::Integer),
            field("phone", FieldType::Phone),
            field("insee", FieldType::InseeCode),
        ]);
        let (out, errors) = form.check_answers(&answers(json!({
            "status": "selected",
            "name": null,
            "revenue": "lots",
            "phone": "bad",
            "insee": "74056",
        })));
        assert_eq!(out, answers(json!({"name": null, "insee": "74056"})));
        assert_eq!(
            codes(&errors),
            vec![
                ("answers.revenue", "invalid_type"),
                ("answers.phone", "invalid_phone"),
                ("answers.status", "unknown_field"),
            ]
        );
        assert!(errors.iter().all(|e| !e.message.is_empty()));
    }

    #[test]
    fn empty_answers_are_fine_for_a_draft() {
        let form = form(ALL_TYPES.iter().map(|k| field(k.as_str(), *k)).collect());
        let (out, errors) = form.check_answers(&Map::new());
        assert!(out.is_empty());
        assert!(errors.is_empty());
    }

    // ---- check_complete ----

    #[test]
    fn check_complete_requires_every_required_field() {
        let mut fields: Vec<Field> = ALL_TYPES.iter().map(|k| field(k.as_str(), *k)).collect();
        for f in &mut fields {
            f.required = true;
        }
        fields.push(field("optional", FieldType::Text));
        let form = form(fields);

        let errors = form.check_complete(&Map::new(), &HashSet::new());
        assert_eq!(errors.len(), ALL_TYPES.len());
        assert!(errors.iter().all(|e| e.code == "required"));
        assert_eq!(errors[0].field, "answers.text");
        assert_eq!(errors[14].field, "answers.file");

        let full = answers(json!({
            "text": "x", "long_text": "y", "integer": 0, "number": 0.0, "boolean": true,
            "date": "2026-01-01", "email": "a@b.fr", "url": "https://a.fr", "phone": "+33612345678",
            "siret": "73282932000074", "postcode": "74400", "insee_code": "74056", "choice": "a",
            "multi_choice": ["a"],
        }));
        let attached: HashSet<String> = ["file".to_owned()].into();
        assert!(form.check_complete(&full, &attached).is_empty());

        let mut blank = full.clone();
        blank.insert("text".into(), json!("   "));
        blank.insert("long_text".into(), Value::Null);
        blank.insert("multi_choice".into(), json!([]));
        blank.insert("boolean".into(), json!(false));
        let errors = form.check_complete(&blank, &HashSet::new());
        assert_eq!(
            codes(&errors),
            vec![
                ("answers.text", "required"),
                ("answers.long_text", "required"),
                ("answers.boolean", "required"),
                ("answers.multi_choice", "required"),
                ("answers.file", "required"),
            ]
        );
    }

    #[test]
    fn check_complete_accepts_false_for_an_optional_boolean_and_zero() {
        let mut consent = field("newsletter", FieldType::Boolean);
        consent.required = false;
        let mut revenue = field("revenue", FieldType::Integer);
        revenue.required = true;
        let form = form(vec![consent, revenue]);
        let errors = form.check_complete(
            &answers(json!({"newsletter": false, "revenue": 0})),
            &HashSet::new(),
        );
        assert!(errors.is_empty());
    }

    // ---- check_definition ----

    fn definition_codes(fields: Vec<Field>) -> Vec<(String, String)> {
        form(fields)
            .check_definition("form")
            .into_iter()
            .map(|e| (e.field, e.code))
            .collect()
    }

    fn pair(field: &str, code: &str) -> (String, String) {
        (field.to_owned(), code.to_owned())
    }

    #[test]
    fn a_good_definition_has_no_errors() {
        let fields: Vec<Field> = ALL_TYPES.iter().map(|k| field(k.as_str(), *k)).collect();
        assert!(definition_codes(fields).is_empty());
        assert!(form(vec![]).check_definition("").is_empty());
    }

    #[test]
    fn definition_keys_must_be_well_formed_and_unique() {
        for bad in ["", "Name", "1st", "_x", "with-dash", "é", &"a".repeat(65)] {
            assert_eq!(
                definition_codes(vec![field(bad, FieldType::Text)]),
                vec![pair("form.fields.0.key", "invalid_key")],
                "{bad}"
            );
        }
        assert!(definition_codes(vec![field(&"a".repeat(64), FieldType::Text)]).is_empty());
        assert_eq!(
            definition_codes(vec![
                field("a", FieldType::Text),
                field("b", FieldType::Text),
                field("a", FieldType::Email)
            ]),
            vec![pair("form.fields.2.key", "duplicate_key")]
        );
        // An empty prefix gives bare paths.
        let errors = form(vec![field("A", FieldType::Text)]).check_definition("");
        assert_eq!(errors[0].field, "fields.0.key");
    }

    #[test]
    fn definition_needs_french_labels() {
        let mut f = field("a", FieldType::Choice);
        f.label = Text {
            fr: "  ".into(),
            en: Some("Question".into()),
        };
        f.help = Some(Text::french(""));
        f.options.as_mut().unwrap()[1].label = Text::french("");
        assert_eq!(
            definition_codes(vec![f]),
            vec![
                pair("form.fields.0.label.fr", "required"),
                pair("form.fields.0.help.fr", "required"),
                pair("form.fields.0.options.1.label.fr", "required"),
            ]
        );
    }

    #[test]
    fn definition_rejects_constraints_on_the_wrong_type() {
        let mut f = field("a", FieldType::Boolean);
        f.min_length = Some(1);
        f.max_length = Some(2);
        f.min = Some(0.0);
        f.max = Some(1.0);
        f.min_date = NaiveDate::from_ymd_opt(2026, 1, 1);
        f.max_date = NaiveDate::from_ymd_opt(2026, 1, 2);
        f.min_items = Some(1);
        f.max_items = Some(1);
        f.options = Some(vec![]);
        f.max_size = Some(1);
        f.content_types = Some(vec!["application/pdf".into()]);
        let errors = definition_codes(vec![f]);
        let names = [
            "min_length",
            "max_length",
            "min",
            "max",
            "min_date",
            "max_date",
            "min_items",
            "max_items",
            "options",
            "max_size",
            "content_types",
        ];
        assert_eq!(
            errors,
            names
                .iter()
                .map(|n| pair(&format!("form.fields.0.{n}"), "not_applicable"))
                .collect::<Vec<_>>()
        );

        let mut text = field("t", FieldType::Text);
        text.min = Some(1.0);
        text.options = Some(vec![]);
        assert_eq!(
            definition_codes(vec![text]),
            vec![
                pair("form.fields.0.min", "not_applicable"),
                pair("form.fields.0.options", "not_applicable"),
            ]
        );
        let mut choice = field("c", FieldType::Choice);
        choice.min_items = Some(1);
        assert_eq!(
            definition_codes(vec![choice]),
            vec![pair("form.fields.0.min_items", "not_applicable")]
        );
    }

    #[test]
    fn definition_rejects_inverted_ranges() {
        let mut text = field("t", FieldType::Text);
        text.min_length = Some(10);
        text.max_length = Some(5);
        let mut text_default = field("u", FieldType::Text);
        text_default.min_length = Some(501); // above the default maximum
        let mut text_zero = field("v", FieldType::LongText);
        text_zero.max_length = Some(0);
        let mut int = field("i", FieldType::Integer);
        int.min = Some(10.0);
        int.max = Some(0.0);
        let mut num = field("n", FieldType::Number);
        num.max = Some(f64::NAN);
        let mut date = field("d", FieldType::Date);
        date.min_date = NaiveDate::from_ymd_opt(2026, 2, 1);
        date.max_date = NaiveDate::from_ymd_opt(2026, 1, 1);
        let mut multi = field("m", FieldType::MultiChoice);
        multi.min_items = Some(3);
        multi.max_items = Some(2);
        assert_eq!(
            definition_codes(vec![text, text_default, text_zero, int, num, date, multi]),
            vec![
                pair("form.fields.0.min_length", "invalid_range"),
                pair("form.fields.1.min_length", "invalid_range"),
                pair("form.fields.2.max_length", "invalid_range"),
                pair("form.fields.3.min", "invalid_range"),
                pair("form.fields.4.max", "invalid_number"),
                pair("form.fields.5.min_date", "invalid_range"),
                pair("form.fields.6.min_items", "invalid_range"),
            ]
        );
        // Equal bounds are fine.
        let mut exact = field("e", FieldType::Integer);
        exact.min = Some(1.0);
        exact.max = Some(1.0);
        assert!(definition_codes(vec![exact]).is_empty());
    }

    #[test]
    fn definition_checks_options() {
        let mut none = field("a", FieldType::Choice);
        none.options = None;
        let mut empty = field("b", FieldType::MultiChoice);
        empty.options = Some(vec![]);
        let mut dup = field("c", FieldType::Choice);
        dup.options.as_mut().unwrap()[2].value = "a".into();
        let mut blank = field("d", FieldType::Choice);
        blank.options.as_mut().unwrap()[0].value = " a".into();
        blank.options.as_mut().unwrap()[1].value = String::new();
        assert_eq!(
            definition_codes(vec![none, empty, dup, blank]),
            vec![
                pair("form.fields.0.options", "required"),
                pair("form.fields.1.options", "required"),
                pair("form.fields.2.options.2.value", "duplicate_option"),
                pair("form.fields.3.options.0.value", "invalid_value"),
                pair("form.fields.3.options.1.value", "invalid_value"),
            ]
        );
    }

    #[test]
    fn definition_keeps_multi_choice_bounds_within_the_options() {
        let mut f = field("m", FieldType::MultiChoice);
        f.min_items = Some(4);
        f.max_items = Some(5);
        let mut zero = field("z", FieldType::MultiChoice);
        zero.max_items = Some(0);
        let mut fine = field("f", FieldType::MultiChoice);
        fine.min_items = Some(1);
        fine.max_items = Some(3);
        assert_eq!(
            definition_codes(vec![f, zero, fine]),
            vec![
                pair("form.fields.0.min_items", "invalid_range"),
                pair("form.fields.0.max_items", "invalid_range"),
                pair("form.fields.1.max_items", "invalid_range"),
            ]
        );
    }

    #[test]
    fn definition_checks_files() {
        let mut bare = field("a", FieldType::File);
        bare.max_size = None;
        bare.content_types = None;
        let mut zero = field("b", FieldType::File);
        zero.max_size = Some(0);
        zero.content_types = Some(vec![]);
        let mut types = field("c", FieldType::File);
        types.content_types = Some(vec![
            "application/pdf".into(),
            "Application/PDF".into(),
            "pdf".into(),
            "application/pdf".into(),
            "application/vnd.openxmlformats-officedocument.presentationml.presentation".into(),
        ]);
        assert_eq!(
            definition_codes(vec![bare, zero, types]),
            vec![
                pair("form.fields.0.max_size", "required"),
                pair("form.fields.0.content_types", "required"),
                pair("form.fields.1.max_size", "invalid_range"),
                pair("form.fields.1.content_types", "required"),
                pair("form.fields.2.content_types.1", "invalid_content_type"),
                pair("form.fields.2.content_types.2", "invalid_content_type"),
                pair("form.fields.2.content_types.3", "duplicate_content_type"),
            ]
        );
    }

    // ---- check_stages ----

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
        Stage {
            key: key.into(),
            label: Text::french("Étape"),
            criteria,
        }
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

    // ---- templates ----

    #[test]
    fn both_templates_parse_and_are_valid() {
        for (name, json) in [
            (
                "alpes-tourisme-lab",
                include_str!("../../templates/calls/alpes-tourisme-lab.json"),
            ),
            (
                "experimentation-montagne",
                include_str!("../../templates/calls/experimentation-montagne.json"),
            ),
        ] {
            let template: CallTemplate =
                serde_json::from_str(json).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(template.template, name);
            let definition = template.form.check_definition("form");
            assert!(definition.is_empty(), "{name}: {definition:#?}");
            let stages = check_stages(&template.stages);
            assert!(stages.is_empty(), "{name}: {stages:#?}");
            assert!(template.check().is_empty(), "{name}");
            // Every text a user sees is translated.
            let json: Value = serde_json::from_str(json).unwrap();
            assert_every_text_is_bilingual(&json, name);
        }
    }

    /// Every `{fr, …}` object in a template also has a non-empty `en`.
    fn assert_every_text_is_bilingual(value: &Value, at: &str) {
        match value {
            Value::Object(map) => {
                if map.contains_key("fr") {
                    let en = map.get("en").and_then(Value::as_str).unwrap_or_default();
                    assert!(!en.trim().is_empty(), "{at} has no English text");
                }
                for (k, v) in map {
                    assert_every_text_is_bilingual(v, &format!("{at}.{k}"));
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    assert_every_text_is_bilingual(v, &format!("{at}.{i}"));
                }
            }
            _ => {}
        }
    }

    #[test]
    fn builtin_templates_have_their_call_settings() {
        let templates = builtin_templates();
        assert_eq!(templates.len(), 2);

        let atl = builtin_template("alpes-tourisme-lab").unwrap();
        assert_eq!(
            (
                atl.kind.as_str(),
                atl.reference_prefix.as_str(),
                atl.timezone.as_str()
            ),
            ("startup_lab", "ATL", "Europe/Paris")
        );
        assert_eq!(atl.eligible_kinds, vec!["startup"]);
        let stage_keys: Vec<&str> = atl.stages.iter().map(|s| s.key.as_str()).collect();
        assert_eq!(stage_keys, vec!["written", "pitch"]);
        let written: Vec<(&str, u32)> = atl.stages[0]
            .criteria
            .iter()
            .map(|c| (c.key.as_str(), c.weight))
            .collect();
        assert_eq!(
            written,
            vec![
                ("innovation", 25),
                ("mountain_fit", 20),
                ("market", 20),
                ("team", 20),
                ("impact", 15)
            ]
        );
        let deck = atl.form.field("pitch_deck").unwrap();
        assert_eq!(deck.kind, FieldType::File);
        assert!(deck.required);
        assert_eq!(deck.max_size, Some(20_971_520));
        assert_eq!(
            deck.content_types.as_deref(),
            Some(&["application/pdf".to_owned()][..])
        );
        let consent = atl.form.field("rules_consent").unwrap();
        assert_eq!((consent.kind, consent.required), (FieldType::Boolean, true));
        let challenges = atl.form.field("challenges").unwrap();
        assert_eq!(challenges.min_items, Some(1));
        assert_eq!(challenges.options.as_ref().unwrap().len(), 7);

        let exp = builtin_template("experimentation-montagne").unwrap();
        assert_eq!(
            (
                exp.kind.as_str(),
                exp.reference_prefix.as_str(),
                exp.timezone.as_str()
            ),
            ("territory_experiment", "EXP", "Europe/Paris")
        );
        assert_eq!(exp.eligible_kinds, vec!["territory"]);
        assert_eq!(exp.stages.len(), 1);
        assert_eq!(exp.stages[0].criteria.len(), 6);
        assert!(exp
            .stages
            .iter()
            .flat_map(|s| &s.criteria)
            .all(|c| c.min == 0.0 && c.max == 5.0));
        assert_eq!(
            exp.form
                .field("massif")
                .unwrap()
                .options
                .as_ref()
                .unwrap()
                .len(),
            7
        );
        assert!(!exp.form.field("partner_siret").unwrap().required);
        assert!(exp.form.field("support_letter").unwrap().required);
        assert!(!exp.form.field("council_resolution").unwrap().required);
        assert!(builtin_template("nope").is_none());
    }

    #[test]
    fn a_complete_alpes_tourisme_lab_application_passes() {
        let atl = builtin_template("alpes-tourisme-lab").unwrap();
        let raw = answers(json!({
            "solution_name": "Navette Neige",
            "solution_description": "Une application de covoiturage entre vallée et station.",
            "challenges": ["mobility_access", "energy_climate"],
            "problem": "Les saisonniers n'ont pas de transport le soir.",
            "novelty": "Appariement en temps réel avec les horaires des remontées.",
            "maturity": "prototype",
            "business_model": "Abonnement payé par les stations.",
            "revenue_last_year": 0,
            "funds_raised": 150000,
            "team_fte": 2.5,
            "pilot_site": "Les Arcs",
            "impact": "Moins de voitures individuelles sur la route de la station.",
            "rules_consent": true,
        }));
        let (normalised, errors) = atl.form.check_answers(&raw);
        assert!(errors.is_empty(), "{errors:#?}");
        let attached: HashSet<String> = ["pitch_deck".to_owned()].into();
        assert!(atl.form.check_complete(&normalised, &attached).is_empty());
        let missing = atl.form.check_complete(&normalised, &HashSet::new());
        assert_eq!(codes(&missing), vec![("answers.pitch_deck", "required")]);
    }

    // ---- properties ----

    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            (-1e6f64..1e6).prop_map(|f| Value::from(f.round())),
            any::<String>().prop_map(Value::String),
            "[abcz ]{0,3}".prop_map(Value::String),
            "[0-9 +.()-]{0,16}".prop_map(Value::String),
            "[0-9]{4}-[0-9]{2}-[0-9]{2}".prop_map(Value::String),
            "(https?|ftp)://[a-z.\\-/?#% ]{0,20}".prop_map(Value::String),
            "[a-z.]{0,8}@[a-z.\\-]{0,10}".prop_map(Value::String),
        ];
        leaf.prop_recursive(3, 24, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::btree_map("[a-z]{0,4}", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    /// One field of each type, with constraints set where the type takes some.
    fn constrained_form() -> Form {
        let fields = ALL_TYPES
            .iter()
            .map(|kind| {
                let mut f = field(kind.as_str(), *kind);
                match kind {
                    FieldType::Text | FieldType::LongText => {
                        f.min_length = Some(2);
                        f.max_length = Some(20);
                    }
                    FieldType::Integer | FieldType::Number => {
                        f.min = Some(-100.0);
                        f.max = Some(1e9);
                    }
                    FieldType::Date => {
                        f.min_date = NaiveDate::from_ymd_opt(2000, 1, 1);
                        f.max_date = NaiveDate::from_ymd_opt(2100, 12, 31);
                    }
                    FieldType::MultiChoice => {
                        f.min_items = Some(1);
                        f.max_items = Some(2);
                    }
                    _ => {}
                }
                f
            })
            .collect();
        form(fields)
    }

    proptest! {
        #[test]
        fn check_answers_never_panics_and_normalisation_is_stable(
            values in prop::collection::vec(arb_json(), ALL_TYPES.len()),
            extra_key in "[a-z_]{1,8}",
            extra in arb_json(),
        ) {
            let form = constrained_form();
            let mut raw = Map::new();
            for (kind, value) in ALL_TYPES.iter().zip(values) {
                raw.insert(kind.as_str().to_owned(), value);
            }
            raw.insert(extra_key, extra);
            let (out, errors) = form.check_answers(&raw);
            for e in &errors {
                prop_assert!(e.field.starts_with("answers."));
                prop_assert!(!e.code.is_empty() && !e.message.is_empty());
            }
            // Every value given either comes out normalised or has an error.
            for key in raw.keys() {
                let reported = errors.iter().any(|e| {
                    e.field == format!("answers.{key}") || e.field.starts_with(&format!("answers.{key}."))
                });
                prop_assert!(out.contains_key(key) != reported, "{}", key);
            }
            // Normalised answers are valid and normalise to themselves.
            let (again, errors) = form.check_answers(&out);
            prop_assert!(errors.is_empty(), "{:?}", errors);
            prop_assert_eq!(again, out.clone());
            let _ = form.check_complete(&out, &HashSet::new());
        }

        #[test]
        fn every_type_survives_any_value(kind_index in 0..ALL_TYPES.len(), value in arb_json()) {
            let kind = ALL_TYPES[kind_index];
            let (out, errors) = check_one(field("f", kind), value);
            prop_assert!(out.is_some() == errors.is_empty(), "{:?}: {:?}", kind, errors);
        }
    }

    // ---- definitions written by staff: any definition is checked without panicking ----

    fn arb_text() -> impl Strategy<Value = Text> {
        (any::<String>(), proptest::option::of(any::<String>()))
            .prop_map(|(fr, en)| Text { fr, en })
    }

    fn arb_date() -> impl Strategy<Value = Option<NaiveDate>> {
        proptest::option::of(
            (-400_000i32..400_000).prop_filter_map("a date", NaiveDate::from_num_days_from_ce_opt),
        )
    }

    fn arb_f64() -> impl Strategy<Value = Option<f64>> {
        proptest::option::of(prop_oneof![
            any::<f64>(),
            Just(f64::NAN),
            Just(f64::INFINITY),
            Just(f64::NEG_INFINITY),
            -1e3f64..1e3,
        ])
    }

    fn arb_field() -> impl Strategy<Value = Field> {
        (
            (
                "[a-z_]{0,6}|\\PC{0,70}",
                0..ALL_TYPES.len(),
                arb_text(),
                proptest::option::of(arb_text()),
                any::<bool>(),
            ),
            (
                proptest::option::of(any::<u32>()),
                proptest::option::of(any::<u32>()),
                arb_f64(),
                arb_f64(),
            ),
            (
                arb_date(),
                arb_date(),
                proptest::option::of(any::<u32>()),
                proptest::option::of(any::<u32>()),
            ),
            (
                proptest::option::of(prop::collection::vec(
                    ("[a-z]{0,2}|\\PC{0,8}", arb_text())
                        .prop_map(|(value, label)| ChoiceOption { value, label }),
                    0..5,
                )),
                proptest::option::of(any::<u64>()),
                proptest::option::of(prop::collection::vec("[a-z/.+-]{0,12}|\\PC{0,8}", 0..4)),
            ),
        )
            .prop_map(
                |(
                    (key, kind, label, help, required),
                    (min_length, max_length, min, max),
                    (min_date, max_date, min_items, max_items),
                    (options, max_size, content_types),
                )| Field {
                    key,
                    kind: ALL_TYPES[kind],
                    label,
                    help,
                    required,
                    min_length,
                    max_length,
                    min,
                    max,
                    min_date,
                    max_date,
                    min_items,
                    max_items,
                    options,
                    max_size,
                    content_types,
                },
            )
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
            .prop_map(|(key, label, criteria)| Stage {
                key,
                label,
                criteria,
            })
    }

    proptest! {
        #[test]
        fn any_form_definition_is_checked_and_a_valid_one_checks_any_answers(
            fields in prop::collection::vec(arb_field(), 0..6),
            values in prop::collection::vec(arb_json(), 0..6),
        ) {
            let form = Form { fields };
            let errors = form.check_definition("form");
            for e in &errors {
                prop_assert!(e.field.starts_with("form.fields."), "{}", e.field);
            }
            if errors.is_empty() {
                let raw: Map<String, Value> = form
                    .fields
                    .iter()
                    .map(|f| f.key.clone())
                    .zip(values)
                    .collect();
                let (out, _) = form.check_answers(&raw);
                let (_, again) = form.check_answers(&out);
                prop_assert!(again.is_empty(), "{:?}", again);
                let _ = form.check_complete(&out, &HashSet::new());
            }
        }

        #[test]
        fn any_stages_are_checked_without_panicking(stages in prop::collection::vec(arb_stage(), 0..4)) {
            for e in check_stages(&stages) {
                prop_assert!(e.field.starts_with("stages"), "{}", e.field);
            }
        }

        #[test]
        fn any_json_is_refused_or_read_as_a_form(value in arb_json()) {
            if let Ok(form) = serde_json::from_value::<Form>(value) {
                let _ = form.check_definition("form");
            }
        }
    }
}
