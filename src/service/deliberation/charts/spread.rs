//! The charts of agreement: each juror's score on each application (small multiples, one row per
//! application) and each juror's scores against the jury's.

use svg::node::element::{Circle, Group, Title};

use super::{
    at, axis, chart, cut, exact, heading, on_strip, rect, rule, shown, text, word, ALERT, GRID,
    HEADER, INK, MUTED, ROWS_PER_CHART,
};
use crate::domain::deliberation::{ApplicationFigures, JurorFigures};
use crate::service::deliberation::Deliberation;

const DOT: &str = "#1f5f8b";
const SPREAD: &str = "#c9d6e3";
const BAND: &str = "#ececec";
const HIGHLIGHT: &str = "#fbe9e7";
const TICKS: [f64; 5] = [0.0, 25.0, 50.0, 75.0, 100.0];

/// Per application, in the ranking's order and [`ROWS_PER_CHART`] to a chart: each juror's weighted score as
/// a dot on 0–100, the lowest-to-highest bar, the mean, the spread (standard deviation), the disagreement
/// flag, and a hollow mark for each juror kept away by a conflict.
pub fn application_charts(view: &Deliberation) -> Vec<String> {
    let lang = view.lang.as_str();
    let applications = &view.figures.applications;
    let chunks: Vec<&[ApplicationFigures]> = if applications.is_empty() {
        vec![&[]]
    } else {
        applications.chunks(ROWS_PER_CHART).collect()
    };
    let (x0, width, row) = (260.0, 360.0, 16.0);
    chunks
        .into_iter()
        .map(|chunk| {
            let height = HEADER + row * chunk.len() as f64 + 4.0;
            let mut doc = chart("applications", word("jurors_scores", lang), height)
                .add(text(word("application", lang), 36.0, 12.0, 10.0, "start").set("fill", MUTED))
                .add(text(word("spread", lang), 630.0, 12.0, 10.0, "start").set("fill", MUTED))
                .add(text(word("conflict", lang), 745.0, 12.0, 10.0, "start").set("fill", MUTED))
                .add(axis(x0, width, &TICKS, HEADER - 4.0, height - 4.0));
            for (i, application) in chunk.iter().enumerate() {
                let y = HEADER + row * i as f64;
                doc = doc.add(application_row(application, y, row, (x0, width), lang));
            }
            doc.to_string()
        })
        .collect()
}

/// One application's row.
fn application_row(
    application: &ApplicationFigures,
    y: f64,
    row: f64,
    (x0, width): (f64, f64),
    lang: &str,
) -> Group {
    let middle = y + row / 2.0;
    let baseline = y + row - 4.5;
    let mut group = Group::new()
        .set("class", "application")
        .set(
            "data-application-id",
            application.application_id.to_string(),
        )
        .set("data-rank", application.rank)
        .set("data-n-reviews", application.n_reviews)
        .set("data-disagreement", application.disagreement);
    if application.disagreement {
        group = group.add(rect(0.0, y, super::WIDTH, row, HIGHLIGHT).set("class", "flagged"));
    }
    group = group
        .add(text(
            application.rank.to_string(),
            28.0,
            baseline,
            9.5,
            "end",
        ))
        .add(text(heading(application, 40), 36.0, baseline, 9.5, "start"));
    if let (Some(min), Some(max)) = (application.min, application.max) {
        let left = on_strip(min, x0, width);
        group = group.add(
            rect(
                left,
                middle - 3.0,
                on_strip(max, x0, width) - left,
                6.0,
                SPREAD,
            )
            .set("class", "spread")
            .set("data-min", exact(min))
            .set("data-max", exact(max)),
        );
    }
    for score in &application.scores {
        group = group.add(
            Circle::new()
                .set("class", "dot")
                .set("data-juror", score.juror.clone())
                .set("data-score", exact(score.score))
                .set("cx", at(on_strip(score.score, x0, width)))
                .set("cy", at(middle))
                .set("r", "3.5")
                .set("fill", DOT)
                .set("fill-opacity", "0.8")
                .set("stroke", "#ffffff")
                .set("stroke-width", "0.6")
                .add(Title::new(format!(
                    "{} · {}",
                    score.juror,
                    shown(score.score, lang)
                ))),
        );
    }
    if let Some(mean) = application.score {
        let x = on_strip(mean, x0, width);
        group = group.add(
            rule(x, y + 2.0, x, y + row - 2.0, INK, 2.0)
                .set("class", "mean")
                .set("data-score", exact(mean)),
        );
    }
    if let Some(stddev) = application.stddev {
        group = group.add(
            text(
                format!("σ {}", shown(stddev, lang)),
                630.0,
                baseline,
                9.5,
                "start",
            )
            .set("class", "stddev")
            .set("data-stddev", exact(stddev)),
        );
    }
    if application.disagreement {
        group = group.add(
            text(word("disagreement", lang), 680.0, baseline, 9.5, "start")
                .set("class", "disagreement")
                .set("fill", ALERT),
        );
    }
    for (k, juror) in application.conflicts.iter().enumerate() {
        let x = 750.0 + 34.0 * k as f64;
        group = group.add(
            Group::new()
                .set("class", "conflict")
                .set("data-juror", juror.clone())
                .add(
                    Circle::new()
                        .set("cx", at(x))
                        .set("cy", at(middle))
                        .set("r", "3.5")
                        .set("fill", "none")
                        .set("stroke", ALERT)
                        .set("stroke-width", "1.2"),
                )
                .add(text(juror.clone(), x + 6.0, baseline, 9.0, "start").set("fill", ALERT)),
        );
    }
    group
}

/// Per juror: the jury's range (grey band) and mean (dashed line), the juror's scores (faint dots), their
/// lowest-to-highest bar and mean, their figures and their tendencies.
pub fn juror_chart(view: &Deliberation) -> String {
    let lang = view.lang.as_str();
    let jurors = &view.figures.jurors;
    let (x0, width, row) = (170.0, 400.0, 32.0);
    let height = HEADER + row * jurors.len() as f64 + 4.0;
    let mut doc = chart("jurors", word("jurors", lang), height)
        .add(text(word("juror", lang), 0.0, 12.0, 10.0, "start").set("fill", MUTED))
        .add(axis(x0, width, &TICKS, HEADER - 4.0, height - 4.0));
    for (i, juror) in jurors.iter().enumerate() {
        let y = HEADER + row * i as f64;
        doc = doc.add(juror_row(view, juror, y, row, (x0, width), lang));
    }
    // The jury's mean over the rows.
    if let Some(jury) = &view.figures.jury {
        let x = on_strip(jury.mean, x0, width);
        doc = doc.add(
            Group::new()
                .set("class", "jury")
                .set("data-n", jury.n)
                .set("data-mean", exact(jury.mean))
                .set("data-min", exact(jury.min))
                .set("data-max", exact(jury.max))
                .set("data-stddev", jury.stddev.map(exact).unwrap_or_default())
                .add(
                    rule(x, HEADER - 4.0, x, height - 4.0, MUTED, 1.2)
                        .set("class", "jury-mean")
                        .set("stroke-dasharray", "4 3"),
                )
                .add(
                    text(
                        format!("{} {}", word("mean", lang), shown(jury.mean, lang)),
                        x,
                        HEADER - 16.0,
                        9.0,
                        "middle",
                    )
                    .set("fill", MUTED),
                ),
        );
    }
    doc.to_string()
}

/// One juror's row.
fn juror_row(
    view: &Deliberation,
    juror: &JurorFigures,
    y: f64,
    row: f64,
    (x0, width): (f64, f64),
    lang: &str,
) -> Group {
    let middle = y + row / 2.0;
    let tendencies: Vec<&str> = juror
        .tendencies
        .iter()
        .map(|t| match t {
            crate::domain::deliberation::profile::Tendency::ScoresHigh => "scores_high",
            crate::domain::deliberation::profile::Tendency::ScoresLow => "scores_low",
            crate::domain::deliberation::profile::Tendency::NarrowRange => "narrow_range",
        })
        .collect();
    let mut group = Group::new()
        .set("class", "juror")
        .set("data-juror", juror.label.clone())
        .set("data-conflicts", juror.conflicts)
        .set("data-tendencies", tendencies.join(" "))
        .add(rule(0.0, y + row, super::WIDTH, y + row, GRID, 0.5));
    let name = match &juror.name {
        Some(name) => format!("{} · {}", juror.label, cut(name, 22)),
        None => juror.label.clone(),
    };
    group = group.add(text(name, 0.0, middle + 4.0, 10.5, "start"));
    if let Some(jury) = &view.figures.jury {
        let left = on_strip(jury.min, x0, width);
        group = group.add(
            rect(
                left,
                y + 4.0,
                on_strip(jury.max, x0, width) - left,
                row - 8.0,
                BAND,
            )
            .set("class", "jury-range"),
        );
    }
    let Some(scores) = &juror.scores else {
        return group;
    };
    group = group
        .set("data-n", scores.n)
        .set("data-mean", exact(scores.mean))
        .set("data-min", exact(scores.min))
        .set("data-max", exact(scores.max))
        .set("data-stddev", scores.stddev.map(exact).unwrap_or_default());
    for application in &view.figures.applications {
        for score in application.scores.iter().filter(|s| s.juror == juror.label) {
            group = group.add(
                Circle::new()
                    .set("class", "score")
                    .set("data-score", exact(score.score))
                    .set("cx", at(on_strip(score.score, x0, width)))
                    .set("cy", at(middle))
                    .set("r", "2.2")
                    .set("fill", DOT)
                    .set("fill-opacity", "0.3"),
            );
        }
    }
    let left = on_strip(scores.min, x0, width);
    let mean = on_strip(scores.mean, x0, width);
    group = group
        .add(
            rect(
                left,
                middle + 6.0,
                on_strip(scores.max, x0, width) - left,
                3.0,
                INK,
            )
            .set("class", "spread"),
        )
        .add(
            rule(mean, y + 5.0, mean, y + row - 5.0, ALERT, 2.5)
                .set("class", "mean")
                .set("data-score", exact(scores.mean)),
        );
    let mut figures = format!(
        "n {} · {} {} · σ {} · {}–{}",
        scores.n,
        word("mean", lang),
        shown(scores.mean, lang),
        scores
            .stddev
            .map(|s| shown(s, lang))
            .unwrap_or_else(|| "–".to_owned()),
        shown(scores.min, lang),
        shown(scores.max, lang)
    );
    if juror.conflicts > 0 {
        figures.push_str(&format!(
            " · {} {}",
            juror.conflicts,
            word("conflicts", lang)
        ));
    }
    group = group.add(text(figures, x0 + width + 10.0, middle - 2.0, 9.5, "start"));
    if !juror.tendencies.is_empty() {
        let labels: Vec<&str> = juror.tendencies.iter().map(|t| t.label(lang)).collect();
        group = group.add(
            text(
                labels.join(", "),
                x0 + width + 10.0,
                middle + 10.0,
                9.5,
                "start",
            )
            .set("class", "tendencies")
            .set("fill", ALERT),
        );
    }
    group
}
