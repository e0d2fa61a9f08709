//! Prefilling a new draft from the organization's application to the previous edition of the call: an answer
//! is copied when the new form still has a field with its key and type and the answer is still valid there
//! (a choice option that no longer exists is not); files and consents are never copied. Whatever is left
//! out is said, with why.

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::form::{FieldType, Form};

/// Why an answer of the previous application was not copied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LeftOutReason {
    /// The new form has no field with this key.
    NoSuchField,
    /// The new form's field with this key takes another type of answer.
    TypeChanged,
    /// The answer breaks the new field's rules (an option that no longer exists, a limit that changed).
    NoLongerValid,
    /// A file: files are not copied, upload it again.
    File,
    /// A consent (a required yes): given again for each edition, whose rules may have changed.
    Consent,
    /// The request itself gives an answer for this key: it wins.
    Given,
}

/// An answer of the previous application that was not copied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct LeftOut {
    pub key: String,
    pub reason: LeftOutReason,
}

/// What a prefill copies: the answers (as the new form stores them) and what it leaves out.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Prefill {
    /// The application the answers come from (none: no application to the previous edition).
    pub previous_application_id: Option<uuid::Uuid>,
    pub answers: Map<String, Value>,
    pub left_out: Vec<LeftOut>,
}

impl Prefill {
    /// The keys copied, in key order.
    pub fn copied(&self) -> Vec<String> {
        self.answers.keys().cloned().collect()
    }
}

/// The answers of a previous application (`previous`, given to `previous_form`, with files attached for the
/// keys in `attached`) that carry over to `form`; `given`: keys the request answers itself.
pub fn prefill(
    form: &Form,
    previous_form: &Form,
    previous: &Map<String, Value>,
    attached: &BTreeSet<String>,
    given: &BTreeSet<String>,
) -> Prefill {
    let type_in =
        |form: &Form, key: &str| form.fields.iter().find(|f| f.key == key).map(|f| f.kind);
    let is_consent = |key: &str| {
        form.fields
            .iter()
            .any(|f| f.key == key && f.kind == FieldType::Boolean && f.required)
    };
    let mut left_out = Vec::new();
    let mut candidates = Map::new();
    for (key, value) in previous {
        let reason = match (type_in(previous_form, key), type_in(form, key)) {
            _ if value.is_null() => continue,
            (_, None) => LeftOutReason::NoSuchField,
            (Some(before), Some(now)) if before != now => LeftOutReason::TypeChanged,
            (None, Some(_)) => LeftOutReason::TypeChanged,
            _ if given.contains(key) => LeftOutReason::Given,
            _ if is_consent(key) => LeftOutReason::Consent,
            _ => {
                candidates.insert(key.clone(), value.clone());
                continue;
            }
        };
        left_out.push(LeftOut {
            key: key.clone(),
            reason,
        });
    }
    let mut answers = Map::new();
    for (key, value) in candidates {
        let single = Map::from_iter([(key.clone(), value)]);
        let (normalised, errors) = form.check_answers(&single);
        match normalised.get(&key) {
            Some(value) if errors.is_empty() => {
                answers.insert(key, value.clone());
            }
            _ => left_out.push(LeftOut {
                key,
                reason: LeftOutReason::NoLongerValid,
            }),
        }
    }
    for key in attached {
        if type_in(previous_form, key) == Some(FieldType::File) {
            left_out.push(LeftOut {
                key: key.clone(),
                reason: LeftOutReason::File,
            });
        }
    }
    left_out.sort_by(|a, b| a.key.cmp(&b.key));
    Prefill {
        previous_application_id: None,
        answers,
        left_out,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::form::{ChoiceOption, Field, Text};
    use serde_json::json;

    fn choice(key: &str, options: &[&str]) -> Field {
        let mut field = Field::new(key, FieldType::Choice, Text::french(key));
        field.options = Some(
            options
                .iter()
                .map(|o| ChoiceOption {
                    value: (*o).to_owned(),
                    label: Text::french(*o),
                })
                .collect(),
        );
        field
    }

    fn form(fields: Vec<Field>) -> Form {
        Form {
            fields,
            rules: Vec::new(),
        }
    }

    fn answers(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    #[test]
    fn answers_whose_key_type_and_value_still_fit_are_copied_and_the_rest_is_said() {
        let before = form(vec![
            Field::new("name", FieldType::Text, Text::french("Nom")),
            Field::new("budget", FieldType::Integer, Text::french("Budget")),
            choice("massif", &["alpes", "jura"]),
            choice("season", &["winter", "summer"]),
            Field::new("old", FieldType::Text, Text::french("Ancien")),
            Field::new("deck", FieldType::File, Text::french("Deck")),
            Field::new("consent", FieldType::Boolean, Text::french("J'accepte")),
        ]);
        let after = form(vec![
            Field::new("name", FieldType::Text, Text::french("Nom")),
            Field::new("budget", FieldType::Text, Text::french("Budget")),
            choice("massif", &["alpes", "vosges"]),
            choice("season", &["winter", "summer"]),
            Field::new("deck", FieldType::File, Text::french("Deck")),
            Field {
                required: true,
                ..Field::new("consent", FieldType::Boolean, Text::french("J'accepte"))
            },
        ]);
        let previous = answers(json!({
            "name": "Navette", "budget": 1000, "massif": "jura", "season": "winter", "old": "x",
            "consent": true
        }));
        let attached = BTreeSet::from(["deck".to_owned()]);
        let given = BTreeSet::from(["season".to_owned()]);
        let result = prefill(&after, &before, &previous, &attached, &given);
        assert_eq!(result.copied(), vec!["name".to_owned()]);
        assert_eq!(result.answers["name"], json!("Navette"));
        let left: Vec<(&str, LeftOutReason)> = result
            .left_out
            .iter()
            .map(|l| (l.key.as_str(), l.reason))
            .collect();
        assert_eq!(
            left,
            vec![
                ("budget", LeftOutReason::TypeChanged),
                ("consent", LeftOutReason::Consent),
                ("deck", LeftOutReason::File),
                ("massif", LeftOutReason::NoLongerValid),
                ("old", LeftOutReason::NoSuchField),
                ("season", LeftOutReason::Given),
            ]
        );
    }

    #[test]
    fn nothing_before_copies_nothing() {
        let f = form(vec![Field::new(
            "name",
            FieldType::Text,
            Text::french("Nom"),
        )]);
        let result = prefill(&f, &f, &Map::new(), &BTreeSet::new(), &BTreeSet::new());
        assert_eq!(result, Prefill::default());
    }
}
