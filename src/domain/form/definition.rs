//! Checks of a form's definition, as staff or a template write it: keys, labels, and constraints that fit
//! the field's type. Also the key and text checks the evaluation grid and templates share.

use std::collections::HashSet;

use super::{Field, FieldType, Form, Text, OPTION_VALUE_MAX_LENGTH};
use crate::error::FieldError;

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
pub(super) fn check_key<'a>(
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
pub(super) fn check_text(text: &Text, at: &str, errors: &mut Vec<FieldError>) {
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

    /// Errors in a file field's size and content types, paths under `at` (also the checks of a stage's
    /// extra documents).
    pub(super) fn check_file_definition(&self, at: &str, errors: &mut Vec<FieldError>) {
        self.check_file(at, errors);
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

impl Form {
    /// Errors in the definition itself, each `field` a path under `prefix` (e.g. `form.fields.3.options`):
    /// keys unique and well-formed, French labels (and help texts) non-empty, constraints only on the types
    /// they apply to (`not_applicable`), min ≤ max for lengths, numbers, dates and items (`invalid_range`),
    /// choices with at least one option and unique, well-formed option values, multi_choice bounds within the
    /// option count, files with `max_size > 0` and at least one well-formed content type. Then the rules
    /// (paths `<prefix>.rules.<i>.<attribute>`): each key names a field of the form (`unknown_field`) of a
    /// type the rule compares (`not_comparable`: numbers, or dates for `at_most`; `type_mismatch` for a number
    /// against a date), distinct within the rule (`same_field`), percentages within 0..=100, French messages.
    pub fn check_definition(&self, prefix: &str) -> Vec<FieldError> {
        let mut errors = Vec::new();
        let base = join(prefix, "fields");
        let mut keys = HashSet::new();
        for (i, field) in self.fields.iter().enumerate() {
            let at = format!("{base}.{i}");
            check_key(&field.key, &at, &mut keys, &mut errors);
            field.check_definition(&at, &mut errors);
        }
        let base = join(prefix, "rules");
        for (i, rule) in self.rules.iter().enumerate() {
            rule.check_definition(self, &format!("{base}.{i}"), &mut errors);
        }
        errors
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use chrono::NaiveDate;
    use proptest::prelude::*;
    use serde_json::{Map, Value};

    fn definition_codes(fields: Vec<Field>) -> Vec<(String, String)> {
        form(fields)
            .check_definition("form")
            .into_iter()
            .map(|e| (e.field, e.code))
            .collect()
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

    proptest! {
        #[test]
        fn any_form_definition_is_checked_and_a_valid_one_checks_any_answers(
            fields in prop::collection::vec(arb_field(), 0..6),
            values in prop::collection::vec(arb_json(), 0..6),
        ) {
            let form = Form { fields, rules: Vec::new() };
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
        fn any_json_is_refused_or_read_as_a_form(value in arb_json()) {
            if let Ok(form) = serde_json::from_value::<Form>(value) {
                let _ = form.check_definition("form");
            }
        }
    }
}
