//! The printable page of a meeting record: server-rendered HTML, no script, every value escaped (the
//! template's `.html` name turns minijinja's HTML escaping on), in French or English, with the ranking
//! snapshot as a table and an inline SVG bar chart, attendance, quorum, items with their votes and dissent,
//! minutes and the digest.

use std::collections::HashMap;
use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use crate::error::Error;

const PAGE_NAME: &str = "record.html";
const PAGE_TEMPLATE: &str = include_str!("../../../templates/meetings/record.html");

/// The content security policy of the page: nothing loads, nothing runs, only the page's own style block
/// (allowed by its hash) applies.
pub static CONTENT_SECURITY_POLICY: LazyLock<String> =
    LazyLock::new(|| crate::service::page_policy::printable(PAGE_TEMPLATE));

/// An instant as a person in the call's time zone reads it.
fn local(instant: Option<&Value>, timezone: &str, lang: &str) -> String {
    let Some(at) = instant
        .and_then(Value::as_str)
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
    else {
        return String::new();
    };
    let tz: chrono_tz::Tz = timezone.parse().unwrap_or(chrono_tz::Europe::Paris);
    let at = at.with_timezone(&Utc).with_timezone(&tz);
    if lang == "en" {
        at.format("%Y-%m-%d %H:%M (%Z)").to_string()
    } else {
        at.format("%d/%m/%Y %H:%M (%Z)").to_string()
    }
}

/// The page of `record` (the record's JSON, as `GET …/record` answers it) in `lang` (`fr` or `en`), dates
/// in `timezone`.
pub fn render(record: &Value, lang: &'static str, timezone: &str) -> Result<String, Error> {
    let en = lang == "en";
    let title = record["call_title"][lang]
        .as_str()
        .or_else(|| record["call_title"]["fr"].as_str())
        .unwrap_or_default();
    let references: HashMap<String, Value> = record["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|i| {
                    Some((
                        i["application_id"].as_str()?.to_owned(),
                        i["reference"].clone(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    let labels = |fr: &[(&str, &str)], en_labels: &[(&str, &str)]| -> HashMap<String, String> {
        let chosen = if en { en_labels } else { fr };
        chosen
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    };
    let context = json!({
        "lang": lang,
        "en": en,
        "title": title,
        "r": record,
        "held_at": local(record.get("held_at"), timezone, lang),
        "closed_at": local(record.get("closed_at"), timezone, lang),
        "references": references,
        "presence": labels(
            &[("present", "présent·e"), ("apologies", "excusé·e"), ("absent", "absent·e")],
            &[("present", "present"), ("apologies", "apologies"), ("absent", "absent")],
        ),
        "votes": labels(
            &[("for", "pour"), ("against", "contre"), ("abstain", "abstention")],
            &[("for", "for"), ("against", "against"), ("abstain", "abstains")],
        ),
        "outcomes": labels(
            &[("shortlisted", "retenue pour l'étape suivante"), ("not_shortlisted", "non retenue pour l'étape suivante"),
              ("selected", "sélectionnée"), ("waitlisted", "liste d'attente"), ("rejected", "refusée")],
            &[("shortlisted", "shortlisted"), ("not_shortlisted", "not shortlisted"),
              ("selected", "selected"), ("waitlisted", "waitlisted"), ("rejected", "rejected")],
        ),
    });
    let mut env = minijinja::Environment::new();
    env.add_template(PAGE_NAME, PAGE_TEMPLATE)
        .map_err(|e| Error::Internal(anyhow::anyhow!("the meeting record template: {e}")))?;
    env.get_template(PAGE_NAME)
        .and_then(|t| t.render(&context))
        .map_err(|e| Error::Internal(anyhow::anyhow!("rendering the meeting record: {e}")))
}
