//! The call templates shipped with Cordée, embedded at compile time.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::definition::check_text;
use super::{Form, Stage, Text};
use crate::domain::call::{stage_errors, CallKind};
use crate::domain::catalogue::Catalogue;
use crate::error::FieldError;

/// A ready-made call: its form, its stages and its defaults.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CallTemplate {
    /// The template's name, such as `alpes-tourisme-lab`.
    pub template: String,
    /// The kind of call: `startup_lab`, `territory_experiment` or `expression_of_interest`.
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
    /// The evaluation stages, in order (none for an expression of interest).
    pub stages: Vec<Stage>,
    /// What the call may publish of retained applications in its public catalogue, if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catalogue: Option<Catalogue>,
}

const ALPES_TOURISME_LAB: &str = include_str!("../../../templates/calls/alpes-tourisme-lab.json");
const EXPERIMENTATION_MONTAGNE: &str =
    include_str!("../../../templates/calls/experimentation-montagne.json");
const JEUX_2030: &str = include_str!("../../../templates/calls/jeux-2030.json");

/// The call templates shipped with Cordée: `alpes-tourisme-lab`, `experimentation-montagne` and
/// `ami-jeux-2030` (the expression of interest for the 2030 Winter Games).
///
/// They are embedded at compile time and a unit test parses and checks them, so a failure here is a
/// build defect: this panics with the template's name and the parse error rather than returning a `Result`.
pub fn builtin_templates() -> Vec<CallTemplate> {
    [
        ("alpes-tourisme-lab", ALPES_TOURISME_LAB),
        ("experimentation-montagne", EXPERIMENTATION_MONTAGNE),
        ("ami-jeux-2030", JEUX_2030),
    ]
    .into_iter()
    .map(|(name, json)| {
        serde_json::from_str(json)
            .unwrap_or_else(|err| panic!("built-in call template {name} is invalid: {err}"))
    })
    .collect()
}

/// A page of the built-in templates in name order: those after the name `after`, at most `limit`.
pub fn builtin_templates_after(after: Option<&str>, limit: usize) -> Vec<CallTemplate> {
    let mut templates = builtin_templates();
    templates.sort_by(|a, b| a.template.cmp(&b.template));
    templates
        .into_iter()
        .filter(|t| after.is_none_or(|after| t.template.as_str() > after))
        .take(limit)
        .collect()
}

/// The built-in template with this name.
pub fn builtin_template(name: &str) -> Option<CallTemplate> {
    builtin_templates().into_iter().find(|t| t.template == name)
}

impl CallTemplate {
    /// Errors in the template: its kind, title and summary, its form (paths under `form`), its stages
    /// (paths under `stages`, none for a call without jury scoring) and its catalogue.
    pub fn check(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        check_text(&self.title, "title", &mut errors);
        check_text(&self.summary, "summary", &mut errors);
        errors.extend(self.form.check_definition("form"));
        match self.kind.parse::<CallKind>() {
            Ok(kind) => errors.extend(stage_errors(kind, &self.stages)),
            Err(message) => errors.push(FieldError::new("kind", "invalid_kind", message)),
        }
        if let Some(catalogue) = &self.catalogue {
            errors.extend(catalogue.check(&self.form, "catalogue"));
        }
        errors
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use crate::domain::form::FieldType;
    use serde_json::{json, Value};
    use std::collections::HashSet;

    #[test]
    fn both_templates_parse_and_are_valid() {
        for (name, json) in [
            (
                "alpes-tourisme-lab",
                include_str!("../../../templates/calls/alpes-tourisme-lab.json"),
            ),
            (
                "experimentation-montagne",
                include_str!("../../../templates/calls/experimentation-montagne.json"),
            ),
            (
                "ami-jeux-2030",
                include_str!("../../../templates/calls/jeux-2030.json"),
            ),
        ] {
            let template: CallTemplate =
                serde_json::from_str(json).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(template.template, name);
            let definition = template.form.check_definition("form");
            assert!(definition.is_empty(), "{name}: {definition:#?}");
            let errors = template.check();
            assert!(errors.is_empty(), "{name}: {errors:#?}");
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
        assert_eq!(templates.len(), 3);

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
        // The finalists bring a final deck to the pitch, if they wish.
        let final_deck = atl.stages[1].extra_document("final_deck").unwrap();
        assert_eq!(
            (final_deck.max_size, final_deck.required),
            (20_971_520, false)
        );
        assert_eq!(final_deck.content_types, vec!["application/pdf".to_owned()]);
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
    fn the_experiment_template_asks_for_themes_and_relates_its_answers() {
        let exp = builtin_template("experimentation-montagne").unwrap();
        let themes = exp.form.field("themes").unwrap();
        assert_eq!(
            (
                themes.kind,
                themes.required,
                themes.min_items,
                themes.max_items
            ),
            (FieldType::MultiChoice, true, Some(1), Some(3))
        );
        let values: Vec<&str> = themes
            .options
            .as_ref()
            .unwrap()
            .iter()
            .map(|o| o.value.as_str())
            .collect();
        assert_eq!(
            values,
            vec![
                "mobility",
                "visitor_flows",
                "energy",
                "four_season",
                "digital",
                "safety"
            ]
        );
        let sane = answers(json!({
            "altitude_min": 1035, "altitude_max": 1035, "test_start": "2027-01-15",
            "test_end": "2027-01-15", "budget": 80000, "co_funding": 80000,
        }));
        assert!(exp.form.check_rules(&sane).is_empty());
        let inverted = answers(json!({
            "altitude_min": 2500, "altitude_max": 800, "test_start": "2027-04-15",
            "test_end": "2027-01-15", "budget": 80000, "co_funding": 80001,
        }));
        assert_eq!(
            codes(&exp.form.check_rules(&inverted)),
            vec![
                ("answers.altitude_min", "must_not_exceed"),
                ("answers.test_start", "must_not_exceed"),
                ("answers.co_funding", "must_not_exceed"),
            ]
        );
    }

    #[test]
    fn the_2030_games_call_is_an_expression_of_interest_with_a_catalogue() {
        let jop = builtin_template("ami-jeux-2030").unwrap();
        assert_eq!(
            (jop.kind.as_str(), jop.reference_prefix.as_str()),
            ("expression_of_interest", "JOP")
        );
        assert!(jop.stages.is_empty());
        assert_eq!(
            jop.eligible_kinds,
            vec!["startup", "company", "association"]
        );
        let options = |key: &str| -> Vec<String> {
            let field = jop.form.field(key).unwrap();
            assert_eq!(field.kind, FieldType::MultiChoice, "{key}");
            field
                .options
                .as_ref()
                .unwrap()
                .iter()
                .map(|o| o.value.clone())
                .collect()
        };
        assert_eq!(
            options("themes"),
            vec![
                "mobility",
                "visitor_flows",
                "energy",
                "four_season",
                "digital",
                "safety"
            ]
        );
        assert_eq!(
            options("programmes"),
            vec!["low_carbon", "circular_economy", "zero_litter"]
        );
        let catalogue = jop.catalogue.as_ref().unwrap();
        assert!(catalogue
            .fields
            .contains(&"organization.legal_name".to_owned()));
        assert!(catalogue.fields.contains(&"public_summary".to_owned()));
        assert!(!catalogue.fields.contains(&"contact_email".to_owned()));
        assert!(!catalogue.fields.contains(&"presentation".to_owned()));
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
}
