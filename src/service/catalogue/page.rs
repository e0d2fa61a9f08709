//! The printable page of a call's catalogue: server-rendered HTML, no script, every value escaped (the
//! template's `.html` name turns minijinja's HTML escaping on), in French or English, with a print style.

use std::sync::LazyLock;

use serde::Serialize;
use serde_json::{json, Value};

use super::CataloguePage;
use crate::domain::catalogue::{CatalogueField, OrganizationFact};
use crate::domain::form::{Form, Text};
use crate::error::Error;
use crate::notify::applications::{answers_summary, localized};
use crate::notify::emails::AnswerLine;
use crate::store::calls::stored;

const PAGE_NAME: &str = "catalogue.html";
const PAGE_TEMPLATE: &str = include_str!("../../../templates/catalogue/catalogue.html");

/// The content security policy of the page: nothing loads, nothing runs, only the page's own style block
/// (allowed by its hash) applies, so that even a value escaping failed to neutralise could not act.
pub static CONTENT_SECURITY_POLICY: LazyLock<String> =
    LazyLock::new(|| crate::service::page_policy::printable(PAGE_TEMPLATE));

#[derive(Serialize)]
struct PageContext {
    lang: &'static str,
    title: String,
    summary: Option<String>,
    entries: Vec<EntryView>,
    next_href: Option<String>,
}

#[derive(Serialize)]
struct EntryView {
    heading: String,
    lines: Vec<AnswerLine>,
}

/// The label of an organization fact in `lang`.
fn fact_label(fact: OrganizationFact, lang: &str) -> &'static str {
    match (fact, lang) {
        (OrganizationFact::LegalName, "en") => "Organization",
        (OrganizationFact::LegalName, _) => "Structure",
        (OrganizationFact::City, "en") => "City",
        (OrganizationFact::City, _) => "Ville",
        (OrganizationFact::Website, "en") => "Website",
        (OrganizationFact::Website, _) => "Site web",
    }
}

/// One value as a person reads it: option labels, not values; `Oui`/`Yes`.
fn line(form: &Form, field: &CatalogueField, value: &Value, lang: &str) -> AnswerLine {
    match field {
        CatalogueField::Organization(fact) => AnswerLine {
            label: fact_label(*fact, lang).to_owned(),
            value: value.as_str().unwrap_or_default().to_owned(),
        },
        CatalogueField::Answer(key) => {
            let Some(definition) = form.field(key) else {
                return AnswerLine {
                    label: key.clone(),
                    value: value.to_string(),
                };
            };
            let single = Form {
                fields: vec![definition.clone()],
                rules: Vec::new(),
            };
            let answers = json!({ key.as_str(): value });
            answers_summary(&single, &answers, &[], lang)
                .pop()
                .unwrap_or(AnswerLine {
                    label: key.clone(),
                    value: String::new(),
                })
        }
    }
}

/// The HTML page of `page` in `lang` (`fr` or `en`), with a link to the next page when there is one.
pub fn render(
    page: &CataloguePage,
    lang: &'static str,
    next_href: Option<String>,
) -> Result<String, Error> {
    let form: Form = stored(&page.call.form)?;
    let title: Text = stored(&page.call.title)?;
    let summary: Option<Text> = page.call.summary.as_ref().map(stored).transpose()?;
    let entries = page
        .entries
        .iter()
        .map(|entry| {
            let mut lines: Vec<AnswerLine> = entry
                .values
                .iter()
                .map(|(field, value)| line(&form, field, value, lang))
                .collect();
            let heading = if lines.is_empty() {
                String::new()
            } else {
                lines.remove(0).value
            };
            EntryView { heading, lines }
        })
        .collect();
    let context = PageContext {
        lang,
        title: localized(&title, lang),
        summary: summary.map(|s| localized(&s, lang)),
        entries,
        next_href,
    };
    let mut env = minijinja::Environment::new();
    env.add_template(PAGE_NAME, PAGE_TEMPLATE)
        .map_err(|e| Error::Internal(anyhow::anyhow!("the catalogue page template: {e}")))?;
    env.get_template(PAGE_NAME)
        .and_then(|t| t.render(&context))
        .map_err(|e| Error::Internal(anyhow::anyhow!("rendering the catalogue page: {e}")))
}
