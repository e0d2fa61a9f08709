//! Rules between the answers of a form: the Expérimentation Montagne template relates its altitudes, its test
//! dates and its co-funding to its budget. A draft, an edit or a submission that breaks them is refused with
//! one 422 listing every broken rule beside every other error; staff writing a form get a 422 with the path of
//! a broken rule; anyone reading the call sees its rules and its themes.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

/// The Expérimentation Montagne answers with the lowest altitude above the highest, a test ending before it
/// starts and co-funding above the whole budget.
fn inverted_answers() -> Value {
    let mut answers = exp_answers();
    for (key, value) in [
        ("altitude_min", json!(2500)),
        ("altitude_max", json!(800)),
        ("test_start", json!("2027-04-15")),
        ("test_end", json!("2027-01-15")),
        ("budget", json!(80000)),
        ("co_funding", json!(95000)),
    ] {
        answers[key] = value;
    }
    answers
}

/// The (field, code) pairs of a 422 answer, sorted.
fn errors_of(body: &Value) -> Vec<(String, String)> {
    let mut errors: Vec<(String, String)> = body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("a 422 lists its errors: {body}"))
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap().to_owned(),
                e["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    errors.sort();
    errors
}

/// The message of the error on `field` in a 422 answer.
fn message_on<'a>(body: &'a Value, field: &str) -> &'a str {
    body["errors"]
        .as_array()
        .and_then(|errors| errors.iter().find(|e| e["field"] == field))
        .and_then(|e| e["message"].as_str())
        .unwrap_or_else(|| panic!("no error on {field}: {body}"))
}

/// The three broken rules of [`inverted_answers`], as a 422 lists them.
fn three_broken_rules() -> Vec<(String, String)> {
    [
        ("answers.altitude_min", "must_not_exceed"),
        ("answers.co_funding", "must_not_exceed"),
        ("answers.test_start", "must_not_exceed"),
    ]
    .iter()
    .map(|(f, c)| ((*f).to_owned(), (*c).to_owned()))
    .collect()
}

/// Sends `method` to `path` as `token`, with `If-Match: etag`; returns the status, the body and the new ETag.
async fn send_if_match(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    etag: &str,
    body: Value,
) -> (StatusCode, Value, String) {
    let response = app
        .request(method, path, Some(token))
        .header("If-Match", etag)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let etag = response
        .headers()
        .get("etag")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, response.json().await.unwrap(), etag)
}

/// GETs `path` as `token`; returns the body and its ETag.
async fn read(app: &TestApp, path: &str, token: Option<&str>) -> (Value, String) {
    let response = app.request(Method::GET, path, token).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let etag = response
        .headers()
        .get("etag")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (response.json().await.unwrap(), etag)
}

#[tokio::test]
async fn a_draft_or_an_edit_breaking_the_rules_between_answers_lists_every_broken_rule() {
    let app = TestApp::spawn().await;
    let admin = app.admin("admin@example.org").await;
    let call = app
        .open_call(&admin, "experimentation-montagne", "exp-2026")
        .await;
    let call_id = call["id"].as_str().unwrap();
    let token = app.applicant("mairie@chamonix.example").await;
    let org = app.organization(&token, "territory", "Chamonix").await;
    let applications = format!("/api/v1/calls/{call_id}/applications");

    let mut answers = inverted_answers();
    answers["themes"] = json!(["mobility", "weather"]);
    let (status, refused) = app
        .post(
            &applications,
            Some(&token),
            json!({"organization_id": org, "answers": answers}),
        )
        .await;

    assert_problem(status, &refused, StatusCode::UNPROCESSABLE_ENTITY);
    let mut expected = three_broken_rules();
    expected.push(("answers.themes.1".into(), "invalid_option".into()));
    expected.sort();
    assert_eq!(errors_of(&refused), expected);
    assert_eq!(
        message_on(&refused, "answers.altitude_min"),
        "L'altitude minimale du site ne peut pas dépasser son altitude maximale. / \
         The lowest altitude of the site cannot be above its highest altitude."
    );
    let (_, list) = app.get("/api/v1/applications", Some(&token)).await;
    assert_eq!(list["items"], json!([]), "nothing was saved");

    // Sane answers start a draft; an edit with the same inverted values is refused the same way.
    let (status, created) = app
        .post(
            &applications,
            Some(&token),
            json!({"organization_id": org, "answers": exp_answers()}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap();
    let path = format!("/api/v1/applications/{id}");
    let (_, etag) = read(&app, &path, Some(&token)).await;
    let (status, refused, _) = send_if_match(
        &app,
        Method::PATCH,
        &path,
        &token,
        &etag,
        json!({"answers": inverted_answers()}),
    )
    .await;
    assert_problem(status, &refused, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(errors_of(&refused), three_broken_rules());

    // An edit is checked against the answers saved before: a highest altitude below the saved lowest one.
    let (status, refused, _) = send_if_match(
        &app,
        Method::PATCH,
        &path,
        &token,
        &etag,
        json!({"answers": {"altitude_max": 800, "co_funding": 80000}}),
    )
    .await;
    assert_problem(status, &refused, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        errors_of(&refused),
        vec![("answers.altitude_min".into(), "must_not_exceed".into())]
    );
    let (kept, _) = read(&app, &path, Some(&token)).await;
    assert_eq!(kept["answers"]["altitude_max"], 3842, "{kept}");
    assert_eq!(kept["answers"]["co_funding"], 40000, "{kept}");

    // Clearing one side of a rule leaves nothing to compare; a site at a single altitude, a one-day test
    // and a budget fully co-funded are fine.
    let (status, saved, etag) = send_if_match(
        &app,
        Method::PATCH,
        &path,
        &token,
        &etag,
        json!({"answers": {"altitude_max": null, "altitude_min": 4000}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    let (status, saved, _) = send_if_match(
        &app,
        Method::PATCH,
        &path,
        &token,
        &etag,
        json!({"answers": {
            "altitude_min": 1035, "altitude_max": 1035, "test_start": "2027-02-01",
            "test_end": "2027-02-01", "budget": 80000, "co_funding": 80000,
        }}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    let (status, file) = app
        .upload(&token, id, "support_letter", "lettre.pdf", pdf_bytes())
        .await;
    assert_eq!(status, StatusCode::CREATED, "{file}");
    let (status, submitted) = app
        .post(&format!("{path}/submit"), Some(&token), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{submitted}");
    assert_eq!(submitted["status"], "submitted");
}

#[tokio::test]
async fn a_submission_lists_the_rules_its_answers_break_with_every_missing_answer() {
    let app = TestApp::spawn().await;
    let admin = app.admin("admin@example.org").await;
    let template = app.get("/api/v1/call-templates", None).await.1["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["template"] == "experimentation-montagne")
        .cloned()
        .unwrap();
    // The call starts without rules, and a draft saves inverted answers.
    let mut form = template["form"].clone();
    let rules = form["rules"].take();
    form["rules"] = json!([]);
    let now = app.clock.now();
    let (status, call) = app
        .post(
            "/api/v1/calls",
            Some(&admin),
            json!({
                "template": "experimentation-montagne", "slug": "exp-2026", "form": form,
                "opens_at": (now - chrono::Duration::days(1)).to_rfc3339(),
                "closes_at": (now + chrono::Duration::days(30)).to_rfc3339(),
            }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{call}");
    let call_id = call["id"].as_str().unwrap();
    let (status, body) = app
        .post(
            &format!("/api/v1/calls/{call_id}/publish"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let token = app.applicant("mairie@chamonix.example").await;
    let org = app.organization(&token, "territory", "Chamonix").await;
    let mut answers = inverted_answers();
    answers.as_object_mut().unwrap().remove("need");
    let (status, created) = app
        .post(
            &format!("/api/v1/calls/{call_id}/applications"),
            Some(&token),
            json!({"organization_id": org, "answers": answers}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap();

    // Staff add the template's rules before anyone submits.
    let call_path = format!("/api/v1/calls/{call_id}");
    let (_, etag) = read(&app, &call_path, Some(&admin)).await;
    form["rules"] = rules;
    let (status, changed, _) = send_if_match(
        &app,
        Method::PATCH,
        &call_path,
        &admin,
        &etag,
        json!({"form": form}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{changed}");

    let submit = format!("/api/v1/applications/{id}/submit");
    let (status, refused) = app.post(&submit, Some(&token), json!({})).await;

    assert_problem(status, &refused, StatusCode::UNPROCESSABLE_ENTITY);
    let mut expected = three_broken_rules();
    expected.push(("answers.need".into(), "required".into()));
    expected.push(("answers.support_letter".into(), "required".into()));
    expected.sort();
    assert_eq!(errors_of(&refused), expected);
    assert!(
        message_on(&refused, "answers.test_start")
            .starts_with("L'expérimentation ne peut pas finir"),
        "{refused}"
    );
    let (still, _) = read(&app, &format!("/api/v1/applications/{id}"), Some(&token)).await;
    assert_eq!(still["status"], "draft");
    assert!(still["reference"].is_null(), "{still}");

    // With sane values the same application goes through.
    let (_, etag) = read(&app, &format!("/api/v1/applications/{id}"), Some(&token)).await;
    let (status, saved, _) = send_if_match(
        &app,
        Method::PATCH,
        &format!("/api/v1/applications/{id}"),
        &token,
        &etag,
        json!({"answers": exp_answers()}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    let (status, file) = app
        .upload(&token, id, "support_letter", "lettre.pdf", pdf_bytes())
        .await;
    assert_eq!(status, StatusCode::CREATED, "{file}");
    let (status, submitted) = app.post(&submit, Some(&token), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{submitted}");
    assert!(submitted["reference"].as_str().unwrap().starts_with("EXP-"));
}

#[tokio::test]
async fn a_call_with_a_broken_rule_is_refused_with_the_path_of_each_mistake() {
    let app = TestApp::spawn().await;
    let admin = app.admin("admin@example.org").await;
    let template = app.get("/api/v1/call-templates", None).await.1["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["template"] == "experimentation-montagne")
        .cloned()
        .unwrap();
    let now = app.clock.now();
    let body = |form: Value| {
        json!({
            "template": "experimentation-montagne", "slug": "exp-rules", "form": form,
            "opens_at": (now + chrono::Duration::days(1)).to_rfc3339(),
            "closes_at": (now + chrono::Duration::days(30)).to_rfc3339(),
        })
    };

    let mut form = template["form"].clone();
    let rules = form["rules"].as_array_mut().unwrap();
    rules.push(json!({"type": "at_most", "field": "altitude_min", "other": "altitude_top"}));
    rules.push(json!({"type": "at_most", "field": "support_letter", "other": "budget"}));
    rules.push(json!({"type": "at_most", "field": "budget", "other": "test_end"}));
    rules.push(
        json!({"type": "share_at_most", "field": "co_funding", "of": "budget", "max_percent": 120}),
    );
    rules.push(
        json!({"type": "sum_at_most", "fields": ["themes"], "other": "budget",
                      "message": {"fr": "", "en": "Too much"}}),
    );
    let (status, refused) = app.post("/api/v1/calls", Some(&admin), body(form)).await;

    assert_problem(status, &refused, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        errors_of(&refused),
        [
            ("form.rules.3.other", "unknown_field"),
            ("form.rules.4.field", "not_comparable"),
            ("form.rules.5.other", "type_mismatch"),
            ("form.rules.6.max_percent", "invalid_range"),
            ("form.rules.7.fields.0", "not_comparable"),
            ("form.rules.7.message.fr", "required"),
        ]
        .iter()
        .map(|(f, c)| ((*f).to_owned(), (*c).to_owned()))
        .collect::<Vec<_>>()
    );

    // A rule of an unknown type, or with an attribute it does not take, is refused too.
    let mut form = template["form"].clone();
    form["rules"][0]["maximum"] = json!(3);
    let (status, refused) = app.post("/api/v1/calls", Some(&admin), body(form)).await;
    assert_problem(status, &refused, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(failing_fields(&refused), vec!["form.rules.0.maximum"]);
    let mut form = template["form"].clone();
    form["rules"][1]["type"] = json!("before");
    let (status, refused) = app.post("/api/v1/calls", Some(&admin), body(form)).await;
    assert_problem(status, &refused, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(failing_fields(&refused), vec!["form.rules.1.type"]);
    let (_, list) = app.get("/api/v1/calls", Some(&admin)).await;
    assert_eq!(list["items"], json!([]), "no call was created");
}

#[tokio::test]
async fn anyone_reads_the_rules_and_the_themes_of_an_experiment_call() {
    let app = TestApp::spawn().await;
    let admin = app.admin("admin@example.org").await;
    app.open_call(&admin, "experimentation-montagne", "exp-2026")
        .await;

    let (call, _) = read(&app, "/api/v1/calls/exp-2026", None).await;

    let rules: Vec<(&str, &str, &str)> = call["form"]["rules"]
        .as_array()
        .unwrap_or_else(|| panic!("the form lists its rules: {call}"))
        .iter()
        .map(|r| {
            (
                r["type"].as_str().unwrap(),
                r["field"].as_str().unwrap(),
                r["other"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rules,
        vec![
            ("at_most", "altitude_min", "altitude_max"),
            ("at_most", "test_start", "test_end"),
            ("at_most", "co_funding", "budget"),
        ]
    );
    for rule in call["form"]["rules"].as_array().unwrap() {
        assert_eq!(rule["strict"], false, "{rule}");
        assert!(rule["message"]["fr"].is_string() && rule["message"]["en"].is_string());
    }
    let themes = call["form"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"] == "themes")
        .unwrap_or_else(|| panic!("a themes field: {call}"));
    assert_eq!(
        (
            &themes["type"],
            &themes["required"],
            &themes["min_items"],
            &themes["max_items"]
        ),
        (&json!("multi_choice"), &json!(true), &json!(1), &json!(3))
    );
    let options: Vec<(&str, &str, &str)> = themes["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["value"].as_str().unwrap(),
                o["label"]["fr"].as_str().unwrap(),
                o["label"]["en"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        options,
        vec![
            ("mobility", "Mobilité", "Mobility"),
            (
                "visitor_flows",
                "Gestion des flux de visiteurs",
                "Visitor flow management"
            ),
            ("energy", "Énergie", "Energy"),
            (
                "four_season",
                "Diversification quatre saisons",
                "Four-season diversification"
            ),
            ("digital", "Numérique", "Digital"),
            ("safety", "Sécurité", "Safety"),
        ]
    );
    // The OpenAPI document describes the rules.
    let (_, document) = app.get("/api-docs/openapi.json", None).await;
    let text = document.to_string();
    for name in ["sum_at_most", "share_at_most", "max_percent"] {
        assert!(text.contains(name), "{name} is not documented");
    }
}
