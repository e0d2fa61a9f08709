//! The printable page of the deliberation view: server-rendered HTML with inline SVG charts, no script,
//! every value escaped (the template's `.html` name turns minijinja's HTML escaping on; the charts escape
//! their own text), in French or English, one A4-printable page with a page break between sections.

use std::sync::LazyLock;

use serde::Serialize;

use super::charts::{self, shown};
use super::Deliberation;
use crate::error::Error;

const PAGE_NAME: &str = "page.html";
const PAGE_TEMPLATE: &str = include_str!("../../../templates/deliberation/page.html");
const CHARTS_NAME: &str = "charts.html";
/// The chart macros, for any page that embeds the ranking chart (`{% import "charts.html" as charts %}`).
pub const CHARTS_TEMPLATE: &str = include_str!("../../../templates/deliberation/charts.html");

/// The content security policy of the page: nothing loads, nothing runs, only the page's own style block
/// (allowed by its hash) applies; the charts are styled by SVG presentation attributes, which CSP leaves be.
pub static CONTENT_SECURITY_POLICY: LazyLock<String> =
    LazyLock::new(|| crate::service::page_policy::printable(PAGE_TEMPLATE));

/// The figures the header and legends show, formatted for the page's language.
#[derive(Serialize)]
struct Summary {
    jury_mean: Option<String>,
    disagreements: usize,
    disagreement: String,
    lean: String,
    narrow_stddev: String,
    narrow_range: String,
}

#[derive(Serialize)]
struct PageContext<'a> {
    view: &'a Deliberation,
    summary: Summary,
    ranking: Vec<String>,
    applications: Vec<String>,
    jurors: String,
    criteria: String,
}

/// The HTML page of `view`.
pub fn render(view: &Deliberation) -> Result<String, Error> {
    let lang = view.lang.as_str();
    let whole = |value: f64| {
        if value.fract() == 0.0 {
            format!("{value}")
        } else {
            shown(value, lang)
        }
    };
    let context = PageContext {
        view,
        summary: Summary {
            jury_mean: view.figures.jury.map(|j| shown(j.mean, lang)),
            disagreements: view
                .figures
                .applications
                .iter()
                .filter(|a| a.disagreement)
                .count(),
            disagreement: whole(view.thresholds.disagreement_stddev),
            lean: whole(view.thresholds.lean_points),
            narrow_stddev: whole(view.thresholds.narrow_stddev),
            narrow_range: whole(view.thresholds.narrow_range),
        },
        ranking: charts::ranking_charts(view),
        applications: charts::application_charts(view),
        jurors: charts::juror_chart(view),
        criteria: charts::criteria_chart(view),
    };
    let mut env = minijinja::Environment::new();
    env.add_template(CHARTS_NAME, CHARTS_TEMPLATE)
        .and_then(|()| env.add_template(PAGE_NAME, PAGE_TEMPLATE))
        .map_err(|e| Error::Internal(anyhow::anyhow!("the deliberation page's templates: {e}")))?;
    env.get_template(PAGE_NAME)
        .and_then(|t| t.render(&context))
        .map_err(|e| Error::Internal(anyhow::anyhow!("rendering the deliberation page: {e}")))
}
