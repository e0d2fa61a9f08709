//! What a stage asks of its finalists beyond the jury's criteria: its dates (pitches are scheduled within
//! them) and the extra documents the applications shortlisted to it upload (a final deck…), each the same
//! as a form's `file` field and checked as one.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::definition::check_key;
use super::{Field, FieldType, Stage, Text};
use crate::error::FieldError;

/// A file asked of the applications shortlisted to a stage: a form's `file` field, without its type.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ExtraDocument {
    /// The document's key, sent as the `field` of the upload; unique across the call's stages and distinct
    /// from the form's field keys.
    pub key: String,
    /// What is asked.
    pub label: Text,
    /// The MIME types accepted, such as `application/pdf`.
    pub content_types: Vec<String>,
    /// Largest file, in bytes.
    pub max_size: u64,
    /// Whether the finalists are expected to send it (they are told so); otherwise it is welcome.
    #[serde(default)]
    pub required: bool,
}

impl ExtraDocument {
    /// The form's `file` field this document is uploaded and checked as.
    pub fn as_field(&self) -> Field {
        Field {
            required: self.required,
            max_size: Some(self.max_size),
            content_types: Some(self.content_types.clone()),
            ..Field::new(self.key.clone(), FieldType::File, self.label.clone())
        }
    }
}

/// Errors in the stages' dates and extra documents: a stage ends after it begins (`stages.<i>.ends_at`,
/// `invalid_range`); each extra document is a well-formed file field (`stages.<i>.extra_documents.<j>.…`)
/// whose key no other extra document of the call uses (`duplicate_key`).
pub fn check_schedule(stages: &[Stage]) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut keys = HashSet::new();
    for (i, stage) in stages.iter().enumerate() {
        if let (Some(starts), Some(ends)) = (stage.starts_at, stage.ends_at) {
            if ends <= starts {
                errors.push(FieldError::new(
                    format!("stages.{i}.starts_at"),
                    "invalid_range",
                    "a stage ends after it starts",
                ));
            }
        }
        for (j, document) in stage.extra_documents.iter().enumerate() {
            let at = format!("stages.{i}.extra_documents.{j}");
            check_key(&document.key, &at, &mut keys, &mut errors);
            document.as_field().check_file_definition(&at, &mut errors);
        }
    }
    errors
}

/// Errors of extra documents whose key is also a field of the form (`form_field_key`): an upload's
/// `field` must name one file only.
pub fn check_extra_keys_against(form_keys: &[&str], stages: &[Stage]) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for (i, stage) in stages.iter().enumerate() {
        for (j, document) in stage.extra_documents.iter().enumerate() {
            if form_keys.contains(&document.key.as_str()) {
                errors.push(FieldError::new(
                    format!("stages.{i}.extra_documents.{j}.key"),
                    "duplicate_key",
                    "a field of the form already uses this key",
                ));
            }
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::form::Criterion;
    use chrono::{TimeZone, Utc};

    fn pitch() -> Stage {
        let criterion = Criterion {
            key: "clarity".into(),
            label: Text::french("Clarté"),
            description: None,
            weight: 100,
            min: 0.0,
            max: 5.0,
        };
        Stage::new("pitch", Text::french("Pitch"), vec![criterion])
    }

    fn deck(key: &str) -> ExtraDocument {
        ExtraDocument {
            key: key.into(),
            label: Text::french("Deck final"),
            content_types: vec!["application/pdf".into()],
            max_size: 20 * 1024 * 1024,
            required: false,
        }
    }

    fn codes(errors: Vec<FieldError>) -> Vec<(String, String)> {
        errors.into_iter().map(|e| (e.field, e.code)).collect()
    }

    #[test]
    fn dates_and_documents_that_fit_have_no_errors() {
        let mut stage = pitch();
        stage.starts_at = Some(Utc.with_ymd_and_hms(2026, 5, 4, 7, 0, 0).unwrap());
        stage.ends_at = Some(Utc.with_ymd_and_hms(2026, 5, 6, 16, 0, 0).unwrap());
        stage.extra_documents = vec![deck("final_deck")];
        assert!(check_schedule(&[stage.clone()]).is_empty());
        assert_eq!(stage.extra_documents[0].as_field().kind, FieldType::File);
        let at = |h| Utc.with_ymd_and_hms(2026, 5, 5, h, 0, 0).unwrap();
        assert!(stage.covers(at(9), at(10)));
        let late = Utc.with_ymd_and_hms(2026, 5, 6, 16, 30, 0).unwrap();
        assert!(!stage.covers(at(9), late));
        assert!(pitch().covers(at(9), late), "no dates, no bounds");
    }

    #[test]
    fn a_stage_ends_after_it_starts_and_documents_are_file_fields() {
        let mut stage = pitch();
        let at = Utc.with_ymd_and_hms(2026, 5, 4, 7, 0, 0).unwrap();
        stage.starts_at = Some(at);
        stage.ends_at = Some(at);
        let mut bad = deck("final_deck");
        bad.max_size = 0;
        bad.content_types = vec!["PDF".into()];
        stage.extra_documents = vec![bad, deck("final_deck"), deck("Deck")];
        assert_eq!(
            codes(check_schedule(&[stage])),
            vec![
                ("stages.0.starts_at".into(), "invalid_range".into()),
                (
                    "stages.0.extra_documents.0.max_size".into(),
                    "invalid_range".into()
                ),
                (
                    "stages.0.extra_documents.0.content_types.0".into(),
                    "invalid_content_type".into()
                ),
                (
                    "stages.0.extra_documents.1.key".into(),
                    "duplicate_key".into()
                ),
                (
                    "stages.0.extra_documents.2.key".into(),
                    "invalid_key".into()
                ),
            ]
        );
    }

    #[test]
    fn an_extra_document_may_not_take_a_form_field_key() {
        let mut stage = pitch();
        stage.extra_documents = vec![deck("pitch_deck")];
        assert_eq!(
            codes(check_extra_keys_against(&["pitch_deck"], &[stage])),
            vec![(
                "stages.0.extra_documents.0.key".into(),
                "duplicate_key".into()
            )]
        );
    }
}
