//! A call's public catalogue of retained solutions: which fields the call may publish, which of them an
//! applicant consents to show (explicitly, revocably), and what an entry then holds: exactly the consented
//! fields, nothing else.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::form::{FieldType, Form};
use crate::error::FieldError;

crate::domain::names::stored_names! {
    /// A fact about the applicant organization a catalogue may show beside the answers.
    pub enum OrganizationFact("organization field") {
        LegalName => "organization.legal_name",
        City => "organization.city",
        Website => "organization.website",
    }
}

/// One field a catalogue entry may show: an answer of the form (by its key) or a fact about the
/// organization (`organization.legal_name`, `organization.city`, `organization.website`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CatalogueField {
    Answer(String),
    Organization(OrganizationFact),
}

impl CatalogueField {
    /// The field of its name: an organization fact when it starts with `organization.`, an answer key
    /// otherwise.
    pub fn parse(name: &str) -> Result<CatalogueField, String> {
        if name.starts_with("organization.") {
            name.parse().map(CatalogueField::Organization)
        } else {
            Ok(CatalogueField::Answer(name.to_owned()))
        }
    }

    /// The field's name, as the call, the consent and the entries write it.
    pub fn name(&self) -> &str {
        match self {
            CatalogueField::Answer(key) => key,
            CatalogueField::Organization(fact) => fact.as_str(),
        }
    }
}

/// Answers that never go into a catalogue whatever the consent: files, and a person's email or phone.
fn publishable_type(kind: FieldType) -> bool {
    !matches!(kind, FieldType::File | FieldType::Email | FieldType::Phone)
}

/// What a call may publish of its retained applications, in the order entries show them.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Catalogue {
    /// Form field keys and `organization.legal_name`, `organization.city`, `organization.website`.
    pub fields: Vec<String>,
}

impl Catalogue {
    /// The problems of the definition, under `at`: at least one field, each named once, each an
    /// organization fact or a publishable answer of `form` (no file, email or phone).
    pub fn check(&self, form: &Form, at: &str) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if self.fields.is_empty() {
            errors.push(FieldError::new(
                format!("{at}.fields"),
                "required",
                "a catalogue shows at least one field",
            ));
        }
        let mut seen = BTreeSet::new();
        for (i, name) in self.fields.iter().enumerate() {
            let path = format!("{at}.fields.{i}");
            if !seen.insert(name.as_str()) {
                errors.push(FieldError::new(
                    path,
                    "duplicate",
                    "this field is listed twice",
                ));
                continue;
            }
            match CatalogueField::parse(name) {
                Err(_) => errors.push(FieldError::new(
                    path,
                    "unknown_field",
                    "organization.legal_name, organization.city or organization.website",
                )),
                Ok(CatalogueField::Answer(key)) => match form.field(&key) {
                    None => errors.push(FieldError::new(
                        path,
                        "unknown_field",
                        "not a field of the form",
                    )),
                    Some(field) if !publishable_type(field.kind) => errors.push(FieldError::new(
                        path,
                        "not_publishable",
                        "files, email addresses and phone numbers are never published",
                    )),
                    Some(_) => {}
                },
                Ok(CatalogueField::Organization(_)) => {}
            }
        }
        errors
    }

    /// The fields an applicant consents to show, in the catalogue's order; a 422 problem (under
    /// `fields.{i}`) for each one the call does not publish, and one for an empty choice (withdrawing is a
    /// `DELETE`).
    pub fn consent(&self, chosen: &[String]) -> Result<Vec<String>, Vec<FieldError>> {
        let mut errors = Vec::new();
        if chosen.is_empty() {
            errors.push(FieldError::new(
                "fields",
                "required",
                "choose at least one field to show (to withdraw the consent, DELETE it)",
            ));
        }
        for (i, name) in chosen.iter().enumerate() {
            if !self.fields.contains(name) {
                errors.push(FieldError::new(
                    format!("fields.{i}"),
                    "not_publishable",
                    format!("this call publishes only: {}", self.fields.join(", ")),
                ));
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(self
            .fields
            .iter()
            .filter(|f| chosen.contains(f))
            .cloned()
            .collect())
    }
}

/// What an organization shows of itself in a catalogue entry, when its members consent.
#[derive(Debug, Clone, Default)]
pub struct OrganizationFacts {
    pub legal_name: String,
    pub city: String,
    pub website: Option<String>,
}

/// The values of one entry: for each consented field that the call still publishes, its value (answers
/// left empty are left out). Nothing else of the answers or the organization is read.
pub fn entry_values(
    catalogue: &Catalogue,
    consented: &[String],
    answers: &Value,
    organization: &OrganizationFacts,
) -> Vec<(CatalogueField, Value)> {
    let mut values = Vec::new();
    for name in catalogue.fields.iter().filter(|f| consented.contains(f)) {
        let Ok(field) = CatalogueField::parse(name) else {
            continue;
        };
        let value = match &field {
            CatalogueField::Answer(key) => answers.get(key).cloned().unwrap_or(Value::Null),
            CatalogueField::Organization(OrganizationFact::LegalName) => {
                Value::String(organization.legal_name.clone())
            }
            CatalogueField::Organization(OrganizationFact::City) => {
                Value::String(organization.city.clone())
            }
            CatalogueField::Organization(OrganizationFact::Website) => organization
                .website
                .clone()
                .map_or(Value::Null, Value::String),
        };
        if !value.is_null() {
            values.push((field, value));
        }
    }
    values
}

/// The answers of an entry as an object keyed by field name (for the JSON catalogue).
pub fn as_object(values: &[(CatalogueField, Value)]) -> Map<String, Value> {
    values
        .iter()
        .map(|(field, value)| (field.name().to_owned(), value.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn form() -> Form {
        serde_json::from_value(json!({"fields": [
            {"key": "solution_name", "type": "text", "label": {"fr": "Nom"}, "required": true},
            {"key": "budget_range", "type": "choice", "label": {"fr": "Budget"}, "required": true,
             "options": [{"value": "small", "label": {"fr": "Petit"}}]},
            {"key": "contact_email", "type": "email", "label": {"fr": "Courriel"}, "required": true},
            {"key": "deck", "type": "file", "label": {"fr": "Présentation"}, "required": false}
        ]}))
        .unwrap()
    }

    fn catalogue(fields: &[&str]) -> Catalogue {
        Catalogue {
            fields: fields.iter().map(|f| (*f).to_owned()).collect(),
        }
    }

    fn codes(errors: &[FieldError]) -> Vec<(&str, &str)> {
        errors
            .iter()
            .map(|e| (e.field.as_str(), e.code.as_str()))
            .collect()
    }

    #[test]
    fn a_catalogue_names_organization_facts_and_publishable_answers_only() {
        let ok = catalogue(&["organization.legal_name", "solution_name", "budget_range"]);
        assert!(ok.check(&form(), "catalogue").is_empty());
        let bad = catalogue(&[
            "organization.siret",
            "nope",
            "contact_email",
            "deck",
            "solution_name",
            "solution_name",
        ]);
        assert_eq!(
            codes(&bad.check(&form(), "catalogue")),
            vec![
                ("catalogue.fields.0", "unknown_field"),
                ("catalogue.fields.1", "unknown_field"),
                ("catalogue.fields.2", "not_publishable"),
                ("catalogue.fields.3", "not_publishable"),
                ("catalogue.fields.5", "duplicate"),
            ]
        );
        assert_eq!(
            codes(&catalogue(&[]).check(&form(), "catalogue")),
            vec![("catalogue.fields", "required")]
        );
    }

    #[test]
    fn a_consent_chooses_among_the_published_fields_in_the_catalogue_order() {
        let c = catalogue(&["organization.legal_name", "solution_name", "budget_range"]);
        assert_eq!(
            c.consent(&["budget_range".into(), "organization.legal_name".into()]),
            Ok(vec![
                "organization.legal_name".to_owned(),
                "budget_range".to_owned()
            ])
        );
        let refused = c
            .consent(&["solution_name".into(), "contact_email".into()])
            .unwrap_err();
        assert_eq!(codes(&refused), vec![("fields.1", "not_publishable")]);
        assert_eq!(
            codes(&c.consent(&[]).unwrap_err()),
            vec![("fields", "required")]
        );
    }

    #[test]
    fn an_entry_shows_exactly_the_consented_fields_the_call_still_publishes() {
        let c = catalogue(&[
            "organization.legal_name",
            "organization.website",
            "solution_name",
        ]);
        let answers =
            json!({"solution_name": "Navette", "budget_range": "small", "contact_email": "a@b.fr"});
        let org = OrganizationFacts {
            legal_name: "Navette SAS".into(),
            city: "Annecy".into(),
            website: None,
        };
        // The consent names a field the call no longer publishes, and the website is empty.
        let consented = vec![
            "solution_name".to_owned(),
            "budget_range".to_owned(),
            "organization.website".to_owned(),
            "organization.legal_name".to_owned(),
        ];
        let values = entry_values(&c, &consented, &answers, &org);
        assert_eq!(
            Value::Object(as_object(&values)),
            json!({"organization.legal_name": "Navette SAS", "solution_name": "Navette"})
        );
    }
}
