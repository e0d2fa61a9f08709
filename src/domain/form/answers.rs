//! Checks of an applicant's answers against a form: while editing ([`Form::check_answers`], drafts may be
//! incomplete) and at submission ([`Form::check_complete`]).

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::values::invalid_type;
use super::{Field, FieldType, Form};
use crate::error::FieldError;

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
}

impl Form {
    /// Checks the given answers; drafts may be incomplete, so nothing is required here.
    ///
    /// Unknown keys give `unknown_field`, a value for a `file` field gives `use_attachments`, and every other
    /// value must be well-formed for its type and within its constraints. `null` clears a value and a blank
    /// string (empty once trimmed) is normalised to `null`; `min_length` and `min_items` apply to non-blank,
    /// non-empty answers only. Returns the normalised valid answers (trimmed text, phone in E.164, SIRET
    /// without spaces, INSEE code upper-case, integers as JSON integers, dates as `YYYY-MM-DD`; invalid
    /// values are left out) and every error in form order then unknown keys, paths `answers.<key>` (or
    /// `answers.<key>.<index>` for a multi_choice item), then the errors of the form's rules between the
    /// valid answers given ([`Form::check_rules`]; a rule is checked once all the answers it relates are
    /// given). Submission runs this on every answer held, then [`Form::check_complete`].
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
        errors.extend(self.check_rules(&normalised));
        (normalised, errors)
    }

    /// At submission: every required field answered (non-null, non-blank string, non-empty array; a required
    /// boolean must be `true`), and every required `file` field present in `attached` (the keys that have at
    /// least one attachment). Code `required`, paths `answers.<key>`, in form order. Does not repeat the
    /// well-formedness and rule checks of [`Form::check_answers`], which submission runs first.
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
    use super::super::testing::*;
    use super::*;
    use chrono::NaiveDate;
    use proptest::prelude::*;
    use serde_json::json;

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
}
