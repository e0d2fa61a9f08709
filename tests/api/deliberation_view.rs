//! The deliberation view (`GET /calls/{id}/deliberation`): the stage's ranking drawn for a jury meeting,
//! as JSON and as a printable page of SVG charts. What a meeting's chair would check: the figures are the
//! ranking's, jurors are `J1`…`Jn` unless named for those who may name them, a conflicted juror is shown
//! absent where they are, what applicants wrote cannot act on the page, and the page reads in French or
//! English — then 200 applications and 8 jurors in Chromium, on screen and on paper.

use std::collections::HashMap;
use std::time::Instant;

use futures_util::stream::{self, StreamExt};
use reqwest::{header, Method, StatusCode};
use serde_json::{json, Value};

use crate::evaluation::{assign, review};
use crate::helpers::browser::{artifact, look_at, print_to_pdf};
use crate::helpers::scenario::{Call, Juror};
use crate::helpers::*;

/// An organization name that tries to break out of the page and of the SVG.
const HOSTILE: &str = r#"<script>alert(1)</script>"><svg onload=alert(2)>"#;

// --- Arrange ----------------------------------------------------------------------------------------------

/// Creates an organization named `name` for `founder`, applies with it to the call, submits with a pitch
/// deck, and has the admin screen it eligible; returns the application's id.
async fn apply(app: &TestApp, call: &Call, founder: &str, name: &str) -> String {
    let org = app.organization(founder, "startup", name).await;
    let (status, created) = app
        .post(
            &format!("/api/v1/calls/{}/applications", call.id),
            Some(founder),
            json!({"organization_id": org, "answers": atl_answers()}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let (status, file) = app
        .upload(founder, &id, "pitch_deck", "pitch.pdf", pdf_bytes())
        .await;
    assert_eq!(status, StatusCode::CREATED, "{file}");
    let (status, submitted) = app
        .post(
            &format!("/api/v1/applications/{id}/submit"),
            Some(founder),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{submitted}");
    let (status, screened) = app
        .post(
            &format!("/api/v1/applications/{id}/screening"),
            Some(&call.admin),
            json!({"outcome": "eligible"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{screened}");
    id
}

/// An open Alpes Tourisme Lab call without applications.
async fn open_call(app: &TestApp) -> Call {
    let admin = app.admin("staff@example.org").await;
    let opened = app
        .open_call(&admin, "alpes-tourisme-lab", "atl-deliberation")
        .await;
    Call {
        admin,
        id: opened["id"].as_str().unwrap().to_owned(),
        applications: Vec::new(),
        references: Vec::new(),
        founders: Vec::new(),
        organizations: Vec::new(),
    }
}

/// Registers `email` under `name` (in French), verifies it, logs in and joins the call's jury.
async fn named_juror(app: &TestApp, call: &Call, email: &str, name: &str) -> Juror {
    let (status, body) = app
        .post(
            "/api/v1/auth/register",
            None,
            json!({"email": email, "password": PASSWORD, "display_name": name, "locale": "fr"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    app.verify_address(email).await;
    let token = app.login(email, PASSWORD).await;
    let (_, me) = app.get("/api/v1/me", Some(&token)).await;
    let id = me["id"].as_str().unwrap().to_owned();
    let (status, body) = app
        .post(
            &format!("/api/v1/calls/{}/jurors", call.id),
            Some(&call.admin),
            json!({"user_id": id}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    Juror {
        email: email.to_owned(),
        token,
        id,
    }
}

/// A small jury: four applications (the last one from an organization with a [`HOSTILE`] name), Alice and
/// Bruno review all four, Chloé reviews the last three and declares a conflict with the first.
struct Small {
    call: Call,
    jurors: [Juror; 3],
}

const NAMES: [&str; 3] = ["Alice Arnaud", "Bruno Berger", "Chloé Conflit"];

async fn small_jury(app: &TestApp) -> Small {
    let mut call = open_call(app).await;
    let founder = app.applicant("founder@startups.example").await;
    for name in ["Neige Douce", "Col Vert", "Lac Bleu", HOSTILE] {
        let id = apply(app, &call, &founder, name).await;
        call.applications.push(id);
    }
    let mut jurors = Vec::new();
    for (i, name) in NAMES.iter().enumerate() {
        jurors.push(named_juror(app, &call, &format!("juror{i}@jury.example"), name).await);
    }
    let jurors: [Juror; 3] = jurors.try_into().unwrap_or_else(|_| unreachable!());
    let marks: [[f64; 4]; 3] = [
        [5.0, 4.0, 2.0, 1.0],
        [2.0, 4.0, 3.0, 0.0],
        [0.0, 1.0, 5.0, 3.0],
    ];
    for (j, juror) in jurors.iter().enumerate() {
        for (a, application) in call.applications.iter().enumerate() {
            if j == 2 && a == 0 {
                continue;
            }
            assign(app, &call, application, juror).await;
            let m = marks[j][a];
            review(app, juror, application, [m, m, (m + 1.0).min(5.0), m, m]).await;
        }
    }
    let (status, body) = app
        .post(
            &format!("/api/v1/calls/{}/conflicts", call.id),
            Some(&jurors[2].token),
            json!({"juror_id": jurors[2].id, "application_id": call.applications[0], "reason": "Mon frère y travaille"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    Small { call, jurors }
}

/// The deliberation path of the call's written stage, with more of the query.
fn view_path(call: &Call, more: &str) -> String {
    format!("/api/v1/calls/{}/deliberation?stage=written{more}", call.id)
}

/// The page as a browser asks for it: status, headers and HTML.
async fn page(app: &TestApp, token: &str, path: &str) -> (StatusCode, header::HeaderMap, String) {
    let response = app
        .request(Method::GET, path, Some(token))
        .header(header::ACCEPT, "text/html,application/xhtml+xml,*/*;q=0.8")
        .send()
        .await
        .expect("the server answers");
    let status = response.status();
    let headers = response.headers().clone();
    (status, headers, response.text().await.unwrap())
}

// --- Reading the SVG ---------------------------------------------------------------------------------------

/// One start tag: its name and attributes.
#[derive(Debug, Clone)]
struct Tag {
    name: String,
    attributes: HashMap<String, String>,
}

impl Tag {
    fn get(&self, name: &str) -> Option<&str> {
        self.attributes.get(name).map(String::as_str)
    }

    fn number(&self, name: &str) -> f64 {
        self.get(name)
            .unwrap_or_else(|| panic!("{self:?} has no {name}"))
            .parse()
            .unwrap_or_else(|_| panic!("{self:?}: {name} is not a number"))
    }

    fn has_class(&self, class: &str) -> bool {
        self.get("class")
            .is_some_and(|c| c.split_whitespace().any(|c| c == class))
    }
}

/// The start tags of `html` in document order (as Chromium or the server writes them: double-quoted
/// attributes, `<` always escaped in text).
fn tags(html: &str) -> Vec<Tag> {
    let unescape = |v: &str| {
        v.replace("&quot;", "\"")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&#39;", "'")
            .replace("&amp;", "&")
    };
    let mut found = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        rest = &rest[start + 1..];
        if !rest.starts_with(|c: char| c.is_ascii_alphabetic()) {
            continue;
        }
        let end = rest
            .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
            .unwrap_or(rest.len());
        let name = rest[..end].to_ascii_lowercase();
        rest = &rest[end..];
        let mut attributes = HashMap::new();
        loop {
            rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == '/');
            if rest.is_empty() || rest.starts_with('>') {
                break;
            }
            let end = rest
                .find(|c: char| c == '=' || c.is_whitespace() || c == '>')
                .unwrap_or(rest.len());
            let key = rest[..end].to_owned();
            rest = &rest[end..];
            if let Some(value) = rest.strip_prefix("=\"") {
                let close = value.find('"').unwrap_or(value.len());
                attributes.insert(key, unescape(&value[..close]));
                rest = &value[(close + 1).min(value.len())..];
            } else {
                attributes.insert(key, String::new());
            }
        }
        found.push(Tag { name, attributes });
    }
    found
}

/// The rows of the charts of class `chart` (`ranking`, `applications`, `jurors`…): each row's group (of
/// class `row_class`) with the tags inside it, in order.
fn rows(html: &str, chart: &str, row_class: &str) -> Vec<(Tag, Vec<Tag>)> {
    let mut rows: Vec<(Tag, Vec<Tag>)> = Vec::new();
    let mut inside = false;
    for tag in tags(html) {
        if tag.name == "svg" {
            inside = tag.has_class(chart);
            continue;
        }
        if !inside {
            continue;
        }
        if tag.name == "g" && tag.has_class(row_class) {
            rows.push((tag, Vec::new()));
        } else if let Some((_, children)) = rows.last_mut() {
            children.push(tag);
        }
    }
    rows
}

#[track_caller]
fn same(actual: f64, expected: &Value, what: &str) {
    let expected = expected
        .as_f64()
        .unwrap_or_else(|| panic!("{what}: {expected} is not a number"));
    assert!(
        (actual - expected).abs() < 1e-9,
        "{what}: the chart says {actual}, the ranking {expected}"
    );
}

/// Checks the charts of `html` against the ranking JSON `ranking` and the view JSON `view`: each bar, dot,
/// mean and spread is the number the JSON gives, in the ranking's order.
fn charts_match(html: &str, ranking: &[Value], view: &Value) {
    let ranked = rows(html, "ranking", "application");
    assert_eq!(
        ranked.len(),
        ranking.len(),
        "one ranking row per ranked application"
    );
    for ((row, children), line) in ranked.iter().zip(ranking) {
        let id = line["application_id"].as_str().unwrap();
        assert_eq!(
            row.get("data-application-id"),
            Some(id),
            "the ranking's order"
        );
        let bar = |class: &str| {
            children
                .iter()
                .find(|t| t.name == "rect" && t.has_class(class))
                .unwrap_or_else(|| panic!("{id}: no {class} bar"))
                .number("data-score")
        };
        same(bar("raw"), &line["score"], "raw score");
        same(
            bar("normalized"),
            &line["normalized_score"],
            "normalised score",
        );
    }
    let spread = rows(html, "applications", "application");
    let by_id: HashMap<&str, &Value> = view["applications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["application_id"].as_str().unwrap(), a))
        .collect();
    assert_eq!(
        spread.len(),
        ranking.len(),
        "one agreement row per ranked application"
    );
    for ((row, children), line) in spread.iter().zip(ranking) {
        let id = line["application_id"].as_str().unwrap();
        assert_eq!(row.get("data-application-id"), Some(id));
        let dots: Vec<&Tag> = children.iter().filter(|t| t.has_class("dot")).collect();
        assert_eq!(
            dots.len() as u64,
            line["n_reviews"].as_u64().unwrap(),
            "{id}: a dot per review"
        );
        let figures = by_id[id];
        for (dot, score) in dots.iter().zip(figures["scores"].as_array().unwrap()) {
            assert_eq!(dot.get("data-juror"), score["juror"].as_str());
            same(dot.number("data-score"), &score["score"], "a juror's score");
        }
        let mean = children
            .iter()
            .find(|t| t.has_class("mean"))
            .expect("a mean");
        same(mean.number("data-score"), &line["score"], "the mean");
        if let Some(sd) = children.iter().find(|t| t.has_class("stddev")) {
            same(sd.number("data-stddev"), &line["stddev"], "the spread");
        } else {
            assert!(line["stddev"].is_null(), "{id}: the spread is shown");
        }
        assert_eq!(
            row.get("data-disagreement") == Some("true"),
            line["disagreement"].as_bool().unwrap()
        );
        let conflicts: Vec<&str> = children
            .iter()
            .filter(|t| t.name == "g" && t.has_class("conflict"))
            .filter_map(|t| t.get("data-juror"))
            .collect();
        let expected: Vec<&str> = figures["conflicts"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(conflicts, expected, "{id}: the jurors kept away");
    }
    let jurors = rows(html, "jurors", "juror");
    let listed = view["jurors"].as_array().unwrap();
    assert_eq!(jurors.len(), listed.len());
    for ((row, _), juror) in jurors.iter().zip(listed) {
        assert_eq!(row.get("data-juror"), juror["label"].as_str());
        if let Some(n) = juror["scores"]["n"].as_u64() {
            assert_eq!(row.number("data-n") as u64, n);
            same(
                row.number("data-mean"),
                &juror["scores"]["mean"],
                "a juror's mean",
            );
        }
    }
}

// --- A small jury ------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_json_twin_is_the_ranking_with_each_juror_s_score_and_the_conflicted_juror_absent() {
    let app = TestApp::spawn().await;
    let Small { call, jurors } = small_jury(&app).await;

    let (status, ranking) = app
        .get(
            &format!("/api/v1/calls/{}/ranking?stage=written", call.id),
            Some(&call.admin),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{ranking}");
    let (status, view) = app.get(&view_path(&call, ""), Some(&call.admin)).await;
    assert_eq!(status, StatusCode::OK, "{view}");

    // The ranking's own figures, in its order.
    let ranking = ranking.as_array().unwrap();
    let applications = view["applications"].as_array().unwrap();
    assert_eq!(applications.len(), 4);
    for (i, (line, figures)) in ranking.iter().zip(applications).enumerate() {
        assert_eq!(figures["rank"], i + 1);
        for key in [
            "application_id",
            "reference",
            "n_reviews",
            "score",
            "normalized_score",
            "stddev",
            "disagreement",
        ] {
            assert_eq!(
                figures[key], line[key],
                "{key} of {}",
                line["application_id"]
            );
        }
        let scores: Vec<f64> = figures["scores"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["score"].as_f64().unwrap())
            .collect();
        assert_eq!(scores.len() as u64, line["n_reviews"].as_u64().unwrap());
        let mean = scores.iter().sum::<f64>() / scores.len() as f64;
        assert!((mean - line["score"].as_f64().unwrap()).abs() < 1e-9);
    }

    // Anonymous by default: J1…J3, nothing else about them.
    assert_eq!(view["jurors_named"], false);
    let labels: Vec<&str> = view["jurors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["J1", "J2", "J3"]);
    assert!(view["jurors"]
        .as_array()
        .unwrap()
        .iter()
        .all(|j| j["name"].is_null() && j["user_id"].is_null()));
    let text = view.to_string();
    for name in NAMES {
        assert!(!text.contains(name), "{name} is in the anonymous view");
    }

    // Named for the administrator: the same labels, with names; Chloé's is absent from the first
    // application, shown as a conflict there and nowhere else.
    let (status, named) = app
        .get(&view_path(&call, "&jurors=named"), Some(&call.admin))
        .await;
    assert_eq!(status, StatusCode::OK, "{named}");
    assert_eq!(named["jurors_named"], true);
    let label_of = |name: &str| -> String {
        named["jurors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|j| j["name"] == name)
            .unwrap_or_else(|| panic!("{name} is not named: {named}"))["label"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let chloe = label_of(NAMES[2]);
    assert_eq!(
        named["jurors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|j| &j["label"])
            .collect::<Vec<_>>(),
        view["jurors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|j| &j["label"])
            .collect::<Vec<_>>()
    );
    let chloe_id = jurors[2].id.as_str();
    assert!(named["jurors"]
        .as_array()
        .unwrap()
        .iter()
        .any(|j| j["label"] == chloe.as_str() && j["user_id"] == chloe_id));
    for figures in applications {
        let conflicted = figures["application_id"] == call.applications[0].as_str();
        let conflicts = figures["conflicts"].as_array().unwrap();
        let scored_by_chloe = figures["scores"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["juror"] == chloe.as_str());
        if conflicted {
            assert_eq!(conflicts, &vec![json!(chloe)], "{figures}");
            assert!(!scored_by_chloe);
            assert_eq!(figures["n_reviews"], 2);
        } else {
            assert!(conflicts.is_empty(), "{figures}");
            assert!(scored_by_chloe);
        }
    }

    // A manager may name the jurors; an observer asking for names still sees labels only.
    let manager = app.applicant("manager@partner.example").await;
    app.staff_role(
        &call.admin,
        &manager,
        "manager@partner.example",
        &call.id,
        "manager",
    )
    .await;
    let observer = app.applicant("observer@partner.example").await;
    app.staff_role(
        &call.admin,
        &observer,
        "observer@partner.example",
        &call.id,
        "observer",
    )
    .await;
    let (_, by_manager) = app
        .get(&view_path(&call, "&jurors=named"), Some(&manager))
        .await;
    assert_eq!(by_manager["jurors_named"], true, "{by_manager}");
    let (status, by_observer) = app
        .get(&view_path(&call, "&jurors=named"), Some(&observer))
        .await;
    assert_eq!(status, StatusCode::OK, "{by_observer}");
    assert_eq!(by_observer["jurors_named"], false);
    let (status, _, html) = page(&app, &observer, &view_path(&call, "&jurors=named")).await;
    assert_eq!(status, StatusCode::OK);
    for name in NAMES {
        assert!(
            !by_observer.to_string().contains(name),
            "{name} shown to an observer"
        );
        assert!(!html.contains(name), "{name} on an observer's page");
    }

    // Jurors and applicants are told nothing.
    let (status, _) = app.get(&view_path(&call, ""), Some(&jurors[0].token)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Malformed options are all listed.
    let (status, body) = app
        .get(
            &view_path(&call, "&jurors=everyone&line=-1&lang=de"),
            Some(&call.admin),
        )
        .await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    let mut fields = failing_fields(&body);
    fields.sort();
    assert_eq!(fields, ["jurors", "lang", "line"]);
}

#[tokio::test]
async fn the_shortlist_draws_the_line_and_the_page_shows_it_with_the_conflict() {
    let app = TestApp::spawn().await;
    let Small { call, .. } = small_jury(&app).await;
    let (_, view) = app
        .get(&view_path(&call, "&line=3"), Some(&call.admin))
        .await;
    assert_eq!(view["line"], json!({"count": 3, "source": "requested"}));

    // The shortlist to the pitch keeps the first and the third: the line falls after two, and wins over
    // the line asked for.
    let order: Vec<String> = view["applications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["application_id"].as_str().unwrap().to_owned())
        .collect();
    let (status, body) = app
        .post(
            &format!("/api/v1/calls/{}/shortlist", call.id),
            Some(&call.admin),
            json!({"application_ids": [order[0], order[2]], "next_stage": "pitch"}),
        )
        .await;
    assert!(status.is_success(), "{body}");
    let (_, view) = app
        .get(&view_path(&call, "&line=3"), Some(&call.admin))
        .await;
    assert_eq!(view["line"], json!({"count": 2, "source": "shortlist"}));
    let kept: Vec<&Value> = view["applications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| &a["shortlisted"])
        .collect();
    assert_eq!(
        kept,
        [&json!(true), &json!(false), &json!(true), &json!(false)]
    );

    let (status, headers, html) = page(&app, &call.admin, &view_path(&call, "")).await;
    assert_eq!(status, StatusCode::OK);
    let (_, ranking) = app
        .get(
            &format!("/api/v1/calls/{}/ranking?stage=written", call.id),
            Some(&call.admin),
        )
        .await;
    charts_match(&html, ranking.as_array().unwrap(), &view);
    let lines: Vec<Tag> = tags(&html)
        .into_iter()
        .filter(|t| t.has_class("shortlist-line"))
        .collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].get("data-line"), Some("2"));
    assert_eq!(lines[0].get("data-source"), Some("shortlist"));
    assert!(headers[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
}

#[tokio::test]
async fn what_applicants_wrote_cannot_act_on_the_page_which_speaks_french_or_english() {
    let app = TestApp::spawn().await;
    let Small { call, .. } = small_jury(&app).await;

    let (status, headers, html) = page(&app, &call.admin, &view_path(&call, "")).await;
    assert_eq!(status, StatusCode::OK);
    let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(
        !csp.contains("script-src") && !csp.contains("unsafe"),
        "{csp}"
    );
    assert_eq!(headers[header::CACHE_CONTROL], "private, no-store");
    // The hostile name is there, as text only: no script, no element it opened, no attribute it added.
    assert!(!html.contains("<script"), "a script element on the page");
    assert!(
        !html.to_ascii_lowercase().contains("onload="),
        "an event attribute on the page"
    );
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    let hostile = tags(&html)
        .into_iter()
        .filter(|t| t.name == "script" || t.attributes.keys().any(|k| k.starts_with("on")))
        .count();
    assert_eq!(hostile, 0);
    let (_, view) = app.get(&view_path(&call, ""), Some(&call.admin)).await;
    assert!(view["applications"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["organization"] == HOSTILE));

    // French by default (the administrator's language), English when asked.
    assert!(html.contains(r#"<html lang="fr">"#));
    for words in [
        "Classement",
        "Accord par candidature",
        "Caractère innovant",
        "Sélection sur dossier",
    ] {
        assert!(html.contains(words), "{words} is not on the French page");
    }
    let (_, headers, english) = page(&app, &call.admin, &view_path(&call, "&lang=en")).await;
    assert_eq!(headers[header::CONTENT_LANGUAGE], "en");
    assert!(english.contains(r#"<html lang="en">"#));
    for words in [
        "Ranking",
        "Agreement per application",
        "Innovation",
        "Written application review",
    ] {
        assert!(
            english.contains(words),
            "{words} is not on the English page"
        );
    }
    assert!(!english.contains("Classement"));
    let (_, view) = app
        .get(&view_path(&call, "&lang=en"), Some(&call.admin))
        .await;
    assert_eq!(view["criteria"][0]["label"], "Innovation");
    assert_eq!(view["stage"]["label"], "Written application review");
    // JSON stays the default for an API client; `?format=html` asks for the page.
    let (status, headers, _) = page(&app, &call.admin, &view_path(&call, "&format=json")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers[header::CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
}

// --- A real meeting's size, in Chromium ----------------------------------------------------------------------

/// Applications in the large test, and their founders (each applies with several organizations).
const APPLICATIONS: usize = 200;
const FOUNDERS: usize = 8;
const JURORS: usize = 8;
/// Requests in flight at once while seeding.
const IN_FLIGHT: usize = 8;

/// Juror `j`'s mark (0–5) for application `a`: the application's quality, bent by the juror's habits — J0
/// marks high, J1 low, J2 always 3, the others with a little noise.
fn mark(j: usize, a: usize) -> f64 {
    let quality = ((a * 37) % 100) as f64 / 100.0 * 5.0;
    let value = match j {
        0 => quality + 1.5,
        1 => quality - 1.5,
        2 => 3.0,
        _ => quality + ((a * j) % 3) as f64 * 0.5 - 0.5,
    };
    value.round().clamp(0.0, 5.0)
}

#[tokio::test]
async fn two_hundred_applications_and_eight_jurors_read_on_screen_and_on_paper() {
    let app = TestApp::spawn().await;
    let started = Instant::now();
    let call = open_call(&app).await;
    let mut founders = Vec::new();
    for f in 0..FOUNDERS {
        founders.push(
            app.applicant(&format!("founder{f}@startup{f}.example"))
                .await,
        );
    }
    // The jurors first: their verification emails would queue behind the applications' receipts.
    let mut jurors = Vec::new();
    for j in 0..JURORS {
        jurors.push(
            named_juror(
                &app,
                &call,
                &format!("juror{j}@jury.example"),
                &format!("Juré {j}"),
            )
            .await,
        );
    }
    let applications: Vec<String> = stream::iter(0..APPLICATIONS)
        .map(|i| {
            let (app, call, founder) = (&app, &call, &founders[i % FOUNDERS]);
            async move { apply(app, call, founder, &format!("Jeune pousse {i}")).await }
        })
        .buffered(IN_FLIGHT)
        .collect()
        .await;
    let (status, body) = app
        .post(
            &format!("/api/v1/calls/{}/assignments/auto", call.id),
            Some(&call.admin),
            json!({"stage": "written", "reviews_per_application": 3}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let index: HashMap<&str, usize> = applications
        .iter()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i))
        .collect();
    let mut work = Vec::new();
    for (j, juror) in jurors.iter().enumerate() {
        let pages = app
            .pages(
                &format!("/api/v1/me/assignments?call_id={}", call.id),
                Some(&juror.token),
                100,
            )
            .await;
        for assignment in pages.into_iter().flatten() {
            let id = assignment["application_id"].as_str().unwrap().to_owned();
            work.push((j, index[id.as_str()], id));
        }
    }
    assert_eq!(
        work.len(),
        APPLICATIONS * 3,
        "three reviews per application"
    );
    stream::iter(&work)
        .map(|(j, a, id)| {
            let (app, juror) = (&app, &jurors[*j]);
            let m = mark(*j, *a);
            async move { review(app, juror, id, [m, m, m, (m + 1.0).min(5.0), m]).await }
        })
        .buffer_unordered(IN_FLIGHT)
        .collect::<Vec<()>>()
        .await;
    let seeded = started.elapsed();

    let (_, ranking) = app
        .get(
            &format!("/api/v1/calls/{}/ranking?stage=written", call.id),
            Some(&call.admin),
        )
        .await;
    let ranking = ranking.as_array().unwrap().clone();
    assert_eq!(ranking.len(), APPLICATIONS);
    let (status, view) = app
        .get(&view_path(&call, "&line=20"), Some(&call.admin))
        .await;
    assert_eq!(status, StatusCode::OK, "{view}");
    // J-labels are anonymous, but J0's habits show: someone scores high, someone low, someone never moves.
    let tendencies: Vec<String> = view["jurors"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|j| j["tendencies"].as_array().unwrap().clone())
        .map(|t| t.as_str().unwrap().to_owned())
        .collect();
    for expected in ["scores_high", "scores_low", "narrow_range"] {
        assert!(
            tendencies.iter().any(|t| t == expected),
            "no juror {expected}: {tendencies:?}"
        );
    }

    let asked = Instant::now();
    let (status, _, html) = page(&app, &call.admin, &view_path(&call, "&line=20")).await;
    let served = asked.elapsed();
    assert_eq!(status, StatusCode::OK);
    charts_match(&html, &ranking, &view);
    let database = if app.db.is_postgres() {
        "postgres"
    } else {
        "sqlite"
    };
    let file = artifact(&format!("deliberation-200-{database}.html"));
    std::fs::write(&file, &html).unwrap();
    let url = format!("file://{}", file.display());

    // Chromium builds the same charts: its DOM holds the ranking's numbers.
    let (dom, screenshot) = look_at(&url, &format!("deliberation-200-{database}")).await;
    charts_match(&dom, &ranking, &view);
    let line: Vec<Tag> = tags(&dom)
        .into_iter()
        .filter(|t| t.has_class("shortlist-line"))
        .collect();
    assert_eq!(line.len(), 1);
    assert_eq!(line[0].get("data-line"), Some("20"));
    assert!(
        std::fs::metadata(&screenshot).unwrap().len() > 10_000,
        "an empty screenshot"
    );

    let pdf = print_to_pdf(&url, &format!("deliberation-200-{database}")).await;
    let bytes = std::fs::read(&pdf).unwrap();
    assert!(bytes.starts_with(b"%PDF"), "not a PDF");
    let text = String::from_utf8_lossy(&bytes);
    let pages = text.matches("/Type /Page").count() - text.matches("/Type /Pages").count();
    assert!(pages >= 4, "{pages} pages: one section a page at least");
    eprintln!(
        "deliberation view, {APPLICATIONS} applications × {JURORS} jurors on {database}: seeded in {:.1} s, \
         page served in {} ms ({} KiB), {pages} PDF pages, {:.1} s in all",
        seeded.as_secs_f64(),
        served.as_millis(),
        html.len() / 1024,
        started.elapsed().as_secs_f64()
    );
}
