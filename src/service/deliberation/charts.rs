//! The charts of the deliberation view, drawn on the server as SVG (the `svg` crate writes the elements and
//! escapes every text), from the [`Deliberation`] figures only.
//!
//! Two rules hold for every chart:
//! - every number a chart shows is also in a machine-readable attribute (`data-score`, `data-juror`,
//!   `data-application-id`…), written with full precision, so that a reader (or a test) can check the
//!   drawing against the JSON;
//! - nothing an applicant or a person wrote goes into an attribute (the crate does not escape quotes there):
//!   attributes hold numbers, ids, `J1`-style labels and fixed words; names and references are text nodes.
//!
//! Long lists are cut into charts of [`ROWS_PER_CHART`] rows (small multiples, one row per application),
//! each with its own axis, so that 200 or 1,000 applications stay legible on screen and on paper.

mod spread;

use svg::node::element::{Circle, Group, Line, Rectangle, Text, Title};
use svg::Document;

pub use spread::{application_charts, juror_chart};

use super::Deliberation;
use crate::domain::deliberation::{ApplicationFigures, LineSource};

/// The width of every chart, in SVG units (the page scales it to its own width).
pub const WIDTH: f64 = 900.0;
/// Rows per chart: a chart of applications fits half an A4 page.
pub const ROWS_PER_CHART: usize = 40;
/// The height of the axis band above the rows.
const HEADER: f64 = 30.0;
/// The extra band where the shortlist line is drawn and labelled.
const LINE_BAND: f64 = 18.0;

const INK: &str = "#1a1a1a";
const MUTED: &str = "#666666";
const GRID: &str = "#dddddd";
const RAW: &str = "#2f6f4f";
const NORMALIZED: &str = "#3b5b92";
const ALERT: &str = "#b3261e";

/// A number as an attribute: full precision, a point for decimals.
pub(crate) fn exact(value: f64) -> String {
    format!("{value}")
}

/// A number as a person reads it: one decimal, a decimal comma in French.
pub(crate) fn shown(value: f64, lang: &str) -> String {
    let text = format!("{value:.1}");
    if lang == "en" {
        text
    } else {
        text.replace('.', ",")
    }
}

/// A coordinate, rounded to a tenth of a unit.
pub(crate) fn at(value: f64) -> String {
    format!("{value:.1}")
}

/// `text` cut to `max` characters, with an ellipsis when cut.
pub(crate) fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
        cut.push('…');
        cut
    }
}

/// The x of `value` (0–100, clamped) on a strip starting at `x0`, `width` wide.
pub(crate) fn on_strip(value: f64, x0: f64, width: f64) -> f64 {
    x0 + width * value.clamp(0.0, 100.0) / 100.0
}

/// A piece of text at (`x`, `y`), `size` units high; `anchor` is `start`, `middle` or `end`.
pub(crate) fn text(content: impl Into<String>, x: f64, y: f64, size: f64, anchor: &str) -> Text {
    Text::new(content)
        .set("x", at(x))
        .set("y", at(y))
        .set("font-size", at(size))
        .set("text-anchor", anchor.to_owned())
        .set("fill", INK)
}

/// A line from (`x1`, `y1`) to (`x2`, `y2`).
pub(crate) fn rule(x1: f64, y1: f64, x2: f64, y2: f64, colour: &str, width: f64) -> Line {
    Line::new()
        .set("x1", at(x1))
        .set("y1", at(y1))
        .set("x2", at(x2))
        .set("y2", at(y2))
        .set("stroke", colour.to_owned())
        .set("stroke-width", at(width))
}

/// A rectangle.
pub(crate) fn rect(x: f64, y: f64, width: f64, height: f64, fill: &str) -> Rectangle {
    Rectangle::new()
        .set("x", at(x))
        .set("y", at(y))
        .set("width", at(width.max(0.0)))
        .set("height", at(height))
        .set("fill", fill.to_owned())
}

/// A chart: an SVG `height` units high with its title (for screen readers) and its class.
pub(crate) fn chart(class: &str, title: &str, height: f64) -> Document {
    Document::new()
        .set("viewBox", format!("0 0 {} {}", at(WIDTH), at(height)))
        .set("width", "100%")
        .set("role", "img")
        .set("class", format!("chart {class}"))
        .set("font-family", "DejaVu Sans, Arial, sans-serif")
        .add(Title::new(title))
}

/// An axis over a 0–100 strip: gridlines at `ticks` from `top` to `bottom`, numbered above `top`.
pub(crate) fn axis(x0: f64, width: f64, ticks: &[f64], top: f64, bottom: f64) -> Group {
    let mut group = Group::new().set("class", "axis");
    for tick in ticks {
        let x = on_strip(*tick, x0, width);
        group = group
            .add(rule(x, top, x, bottom, GRID, 0.8))
            .add(text(format!("{tick}"), x, top - 3.0, 9.0, "middle").set("fill", MUTED));
    }
    group
}

/// The words of the charts, in French or English.
pub(crate) fn word(key: &str, lang: &str) -> &'static str {
    let en = lang == "en";
    match key {
        "ranking" if en => "Ranking: raw score and score normalised per juror (z)",
        "ranking" => "Classement : score brut et score normalisé par juré (z)",
        "raw" if en => "Raw score",
        "raw" => "Score brut",
        "normalized" if en => "Normalised (50 + 10·z)",
        "normalized" => "Normalisé (50 + 10·z)",
        "application" if en => "Application",
        "application" => "Candidature",
        "line_shortlist" if en => "shortlist line: shortlisted",
        "line_shortlist" => "ligne de présélection : présélectionnés",
        "line_requested" if en => "line asked for: above it",
        "line_requested" => "ligne demandée : au-dessus",
        "jurors_scores" if en => "Each juror's score per application (dot), spread and absences",
        "jurors_scores" => "Score de chaque juré par candidature (point), dispersion et absences",
        "spread" if en => "Spread",
        "spread" => "Écart",
        "disagreement" if en => "disagreement",
        "disagreement" => "désaccord",
        "conflict" if en => "conflict (absent)",
        "conflict" => "conflit (absent)",
        "jurors" if en => "Each juror's scores against the jury's",
        "jurors" => "Les scores de chaque juré face à ceux du jury",
        "juror" if en => "Juror",
        "juror" => "Juré",
        "mean" if en => "mean",
        "mean" => "moy.",
        "conflicts" if en => "conflicts",
        "conflicts" => "conflits",
        "criteria" if en => "Mean per criterion (over the ranked applications)",
        "criteria" => "Moyenne par critère (sur les candidatures classées)",
        "weight" if en => "weight",
        "weight" => "poids",
        _ => "",
    }
}

/// What identifies an application on a row: its reference and its organization.
pub(crate) fn heading(application: &ApplicationFigures, max: usize) -> String {
    let both = match (&application.reference, &application.organization) {
        (Some(reference), Some(name)) => format!("{reference} · {name}"),
        (Some(reference), None) => reference.clone(),
        (None, Some(name)) => name.clone(),
        (None, None) => application.application_id.to_string(),
    };
    cut(&both, max)
}

/// The ranking as charts of [`ROWS_PER_CHART`] applications: per application its raw score and its
/// normalised score as two bars side by side, the applications a shortlist kept marked with a dot, and the
/// shortlist line (or the line asked for) across. The chart other views embed.
pub fn ranking_charts(view: &Deliberation) -> Vec<String> {
    let applications = &view.figures.applications;
    let line = view.figures.line;
    let chunks: Vec<&[ApplicationFigures]> = if applications.is_empty() {
        vec![&[]]
    } else {
        applications.chunks(ROWS_PER_CHART).collect()
    };
    let lang = view.lang.as_str();
    let (raw_x, normalized_x, bar) = (340.0, 620.0, 220.0);
    let row = 15.0;
    let mut start = 0;
    let mut charts = Vec::new();
    for chunk in chunks {
        let end = start + chunk.len();
        // The line falls after `count` applications: in this chart when it ends a row of it (or before the
        // first chart's first row).
        let line_here =
            line.filter(|l| (start < l.count && l.count <= end) || (l.count == 0 && start == 0));
        let height = HEADER
            + row * chunk.len() as f64
            + if line_here.is_some() { LINE_BAND } else { 0.0 }
            + 4.0;
        let mut doc = chart("ranking", word("ranking", lang), height)
            .add(text(word("application", lang), 36.0, 12.0, 10.0, "start").set("fill", MUTED))
            .add(text(word("raw", lang), raw_x, 12.0, 10.0, "start").set("fill", RAW))
            .add(
                text(word("normalized", lang), normalized_x, 12.0, 10.0, "start")
                    .set("fill", NORMALIZED),
            )
            .add(axis(
                raw_x,
                bar,
                &[0.0, 50.0, 100.0],
                HEADER - 4.0,
                height - 4.0,
            ))
            .add(axis(
                normalized_x,
                bar,
                &[0.0, 50.0, 100.0],
                HEADER - 4.0,
                height - 4.0,
            ));
        let mut y = HEADER;
        for (i, application) in chunk.iter().enumerate() {
            if let Some(l) = line_here.filter(|l| l.count == start + i) {
                doc = doc.add(shortlist_line(l.count, l.source, y, lang));
                y += LINE_BAND;
            }
            doc = doc.add(ranking_row(
                application,
                y,
                row,
                (raw_x, normalized_x, bar),
                lang,
            ));
            y += row;
        }
        if let Some(l) = line_here.filter(|l| l.count == end && end > start) {
            doc = doc.add(shortlist_line(l.count, l.source, y, lang));
        }
        charts.push(doc.to_string());
        start = end;
    }
    charts
}

/// The shortlist line at `y`, labelled with its count.
fn shortlist_line(count: usize, source: LineSource, y: f64, lang: &str) -> Group {
    let key = match source {
        LineSource::Shortlist => "line_shortlist",
        LineSource::Requested => "line_requested",
    };
    let middle = y + 5.0;
    Group::new()
        .set("class", "shortlist-line")
        .set("data-line", count)
        .set(
            "data-source",
            match source {
                LineSource::Shortlist => "shortlist",
                LineSource::Requested => "requested",
            },
        )
        .add(rule(0.0, middle, WIDTH, middle, ALERT, 1.2).set("stroke-dasharray", "6 3"))
        .add(
            text(
                format!("{} {count}", word(key, lang)),
                36.0,
                middle - 2.0,
                9.5,
                "start",
            )
            .set("fill", ALERT),
        )
}

/// One application of the ranking chart.
fn ranking_row(
    application: &ApplicationFigures,
    y: f64,
    row: f64,
    (raw_x, normalized_x, bar): (f64, f64, f64),
    lang: &str,
) -> Group {
    let mut group = Group::new()
        .set("class", "application")
        .set(
            "data-application-id",
            application.application_id.to_string(),
        )
        .set("data-rank", application.rank);
    let baseline = y + row - 4.0;
    group = group
        .add(text(
            application.rank.to_string(),
            28.0,
            baseline,
            10.0,
            "end",
        ))
        .add(text(
            heading(application, 46),
            36.0,
            baseline,
            10.0,
            "start",
        ));
    if application.shortlisted == Some(true) {
        group = group.add(
            Circle::new()
                .set("class", "kept")
                .set("cx", at(31.5))
                .set("cy", at(y + row / 2.0))
                .set("r", "2")
                .set("fill", RAW),
        );
    }
    for (class, value, x0, colour) in [
        ("raw", application.score, raw_x, RAW),
        (
            "normalized",
            application.normalized_score,
            normalized_x,
            NORMALIZED,
        ),
    ] {
        let Some(value) = value else { continue };
        group = group
            .add(
                rect(x0, y + 3.0, on_strip(value, 0.0, bar), row - 6.0, colour)
                    .set("class", format!("bar {class}"))
                    .set("data-score", exact(value)),
            )
            .add(text(
                shown(value, lang),
                x0 + bar + 5.0,
                baseline,
                9.5,
                "start",
            ));
    }
    group
}

/// The mean of each criterion as a bar on the criterion's own scale, with its weight.
pub fn criteria_chart(view: &Deliberation) -> String {
    let lang = view.lang.as_str();
    let row = 22.0;
    let (x0, width) = (330.0, 400.0);
    let criteria = &view.figures.criteria;
    let height = HEADER + row * criteria.len() as f64 + 4.0;
    let mut doc = chart("criteria", word("criteria", lang), height).add(axis(
        x0,
        width,
        &[0.0, 25.0, 50.0, 75.0, 100.0],
        HEADER - 4.0,
        height - 4.0,
    ));
    for (i, criterion) in criteria.iter().enumerate() {
        let y = HEADER + row * i as f64;
        let baseline = y + row / 2.0 + 4.0;
        let span = criterion.max - criterion.min;
        let mut group = Group::new()
            .set("class", "criterion")
            .set("data-weight", criterion.weight)
            .set("data-min", exact(criterion.min))
            .set("data-max", exact(criterion.max))
            .add(text(
                cut(&criterion.label, 48),
                0.0,
                baseline,
                10.5,
                "start",
            ))
            .add(
                text(
                    format!("{} {} %", word("weight", lang), criterion.weight),
                    x0 - 8.0,
                    baseline,
                    9.0,
                    "end",
                )
                .set("fill", MUTED),
            )
            .add(rect(x0, y + 4.0, width, row - 8.0, "#eeeeee"));
        if criterion
            .key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            group = group.set("data-criterion", criterion.key.clone());
        }
        if let Some(mean) = criterion.mean.filter(|_| span > 0.0) {
            let share = 100.0 * (mean - criterion.min) / span;
            group = group
                .set("data-score", exact(mean))
                .add(
                    rect(x0, y + 4.0, on_strip(share, 0.0, width), row - 8.0, RAW)
                        .set("class", "bar"),
                )
                .add(text(
                    format!("{} / {}", shown(mean, lang), shown(criterion.max, lang)),
                    x0 + width + 8.0,
                    baseline,
                    10.0,
                    "start",
                ));
        }
        doc = doc.add(group);
    }
    doc.to_string()
}
