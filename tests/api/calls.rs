//! Calls for applications: the built-in templates, creation and its validation, draft visibility,
//! publication, the phase on the server clock, optimistic concurrency on changes, the form freeze once an
//! application is submitted, and pagination.

use chrono::{TimeZone, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

/// A creation body from the Alpes Tourisme Lab template, opening in a day and closing in 30.
fn atl_body(app: &TestApp, slug: &str) -> Value {
    let now = app.clock.now();
    json!({
        "template": "alpes-tourisme-lab",
        "slug": slug,
        "opens_at": (now + chrono::Duration::days(1)).to_rfc3339(),
        "closes_at": (now + chrono::Duration::days(30)).to_rfc3339(),
    })
}

/// Creates a draft call as `admin`; returns its body.
async fn create_call(app: &TestApp, admin: &str, body: Value) -> Value {
    let (status, call) = app.post("/api/v1/calls", Some(admin), body).await;
    assert_eq!(status, StatusCode::CREATED, "{call}");
    call
}

/// A stage whose criteria carry `weights`.
fn stage(key: &str, weights: &[u32]) -> Value {
    let criteria: Vec<Value> = weights
        .iter()
        .enumerate()
        .map(|(i, w)| {
            json!({"key": format!("c{i}"), "label": {"fr": format!("Critère {i}")}, "weight": w, "min": 0, "max": 10})
        })
        .collect();
    json!({"key": key, "label": {"fr": "Dossier écrit", "en": "Written application"}, "criteria": criteria})
}

/// A one-question form.
fn small_form() -> Value {
    json!({"fields": [
        {"key": "project", "type": "text", "label": {"fr": "Projet", "en": "Project"}, "required": true}
    ]})
}

/// GETs `path`; returns the status, the body and the ETag header.
async fn read(
    app: &TestApp,
    path: &str,
    token: Option<&str>,
) -> (StatusCode, Value, Option<String>) {
    let response = app.request(Method::GET, path, token).send().await.unwrap();
    let status = response.status();
    let etag = response
        .headers()
        .get("etag")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = response.json().await.unwrap();
    (status, body, etag)
}

/// PATCHes a call, with `If-Match: etag` when given; returns the status, the body and the new ETag.
async fn patch(
    app: &TestApp,
    id: &str,
    token: &str,
    etag: Option<&str>,
    body: Value,
) -> (StatusCode, Value, Option<String>) {
    let mut request = app.request(Method::PATCH, &format!("/api/v1/calls/{id}"), Some(token));
    if let Some(etag) = etag {
        request = request.header("If-Match", etag);
    }
    let response = request.json(&body).send().await.unwrap();
    let status = response.status();
    let etag = response
        .headers()
        .get("etag")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = response.json().await.unwrap();
    (status, body, etag)
}

/// The slugs of a call list.
fn slugs(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap_or_else(|| panic!("a list has items: {list}"))
        .iter()
        .map(|c| c["slug"].as_str().unwrap().to_owned())
        .collect()
}

fn is_bilingual(text: &Value) -> bool {
    [&text["fr"], &text["en"]]
        .iter()
        .all(|t| t.as_str().is_some_and(|s| !s.trim().is_empty()))
}

#[tokio::test]
async fn anyone_can_list_the_builtin_call_templates_with_their_forms_and_weighted_stages() {
    let app = TestApp::spawn().await;

    let (status, templates) = app.get("/api/v1/call-templates", None).await;

    assert_eq!(status, StatusCode::OK, "{templates}");
    assert_eq!(templates["next_cursor"], Value::Null, "one page holds them");
    let templates = templates["items"].as_array().expect("a list of templates");
    let find = |name: &str| {
        templates
            .iter()
            .find(|t| t["template"] == name)
            .unwrap_or_else(|| panic!("{name} is listed"))
    };
    assert_eq!(templates.len(), 3);
    let jop = find("ami-jeux-2030");
    assert_eq!(jop["kind"], "expression_of_interest");
    assert_eq!(jop["stages"], json!([]));
    assert!(jop["catalogue"]["fields"]
        .as_array()
        .unwrap()
        .contains(&json!("public_summary")));
    let atl = find("alpes-tourisme-lab");
    assert_eq!(atl["kind"], "startup_lab");
    assert_eq!(atl["eligible_kinds"], json!(["startup"]));
    let stage_keys: Vec<&str> = atl["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["key"].as_str().unwrap())
        .collect();
    assert_eq!(stage_keys, vec!["written", "pitch"]);
    let deck = atl["form"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"] == "pitch_deck")
        .expect("a pitch_deck field");
    assert_eq!(deck["type"], "file");
    assert_eq!(deck["required"], true);
    assert_eq!(deck["content_types"], json!(["application/pdf"]));

    let exp = find("experimentation-montagne");
    assert_eq!(exp["kind"], "territory_experiment");
    assert_eq!(exp["eligible_kinds"], json!(["territory"]));

    for template in [atl, exp] {
        let name = &template["template"];
        assert!(is_bilingual(&template["title"]), "{name} title");
        for stage in template["stages"].as_array().unwrap() {
            let sum: u64 = stage["criteria"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["weight"].as_u64().unwrap())
                .sum();
            assert_eq!(sum, 100, "{name} stage {}", stage["key"]);
            assert!(
                is_bilingual(&stage["label"]),
                "{name} stage {}",
                stage["key"]
            );
        }
        for field in template["form"]["fields"].as_array().unwrap() {
            assert!(
                is_bilingual(&field["label"]),
                "{name} field {}",
                field["key"]
            );
        }
    }
}

#[tokio::test]
async fn an_admin_creates_a_draft_call_from_a_template_with_overrides() {
    let app = TestApp::spawn().await;
    let admin = app.admin("admin@example.org").await;

    let response = app
        .request(Method::POST, "/api/v1/calls", Some(&admin))
        .json(&json!({
            "template": "alpes-tourisme-lab",
            "slug": "atl-2026",
            "title": {"fr": "Alpes Tourisme Lab 2026", "en": "Alpes Tourism Lab 2026"},
            "opens_at": "2026-01-06T08:00:00Z",
            "closes_at": "2026-02-27T11:00:00Z",
        }))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), StatusCode::CREATED);
    assert!(
        response.headers().get("etag").is_some(),
        "an ETag on creation"
    );
    let call: Value = response.json().await.unwrap();
    assert_eq!(call["status"], "draft");
    assert_eq!(call["slug"], "atl-2026");
    assert_eq!(call["kind"], "startup_lab");
    assert_eq!(call["reference_prefix"], "ATL");
    assert_eq!(call["timezone"], "Europe/Paris");
    assert_eq!(call["eligible_kinds"], json!(["startup"]));
    assert_eq!(
        call["title"],
        json!({"fr": "Alpes Tourisme Lab 2026", "en": "Alpes Tourism Lab 2026"})
    );
    assert_eq!(call["opens_at"], "2026-01-06T08:00:00Z");
    assert_eq!(call["closes_at"], "2026-02-27T11:00:00Z");
    let (_, templates) = app.get("/api/v1/call-templates", None).await;
    let atl = templates["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["template"] == "alpes-tourisme-lab")
        .unwrap();
    assert_eq!(call["form"], atl["form"]);
    assert_eq!(call["stages"], atl["stages"]);
    assert_eq!(call["summary"], atl["summary"]);
}

#[tokio::test]
async fn only_admins_create_calls() {
    let app = TestApp::spawn().await;
    let applicant = app.applicant("founder@example.org").await;
    let body = atl_body(&app, "atl-2026");

    let (anonymous_status, anonymous) = app.post("/api/v1/calls", None, body.clone()).await;
    let (applicant_status, forbidden) = app.post("/api/v1/calls", Some(&applicant), body).await;

    assert_problem(anonymous_status, &anonymous, StatusCode::UNAUTHORIZED);
    assert_problem(applicant_status, &forbidden, StatusCode::FORBIDDEN);
    let admin = app.admin("admin@example.org").await;
    let (_, list) = app.get("/api/v1/calls", Some(&admin)).await;
    assert_eq!(slugs(&list), Vec::<String>::new(), "nothing was created");
}

#[tokio::test]
async fn a_call_without_a_template_needs_its_kind_title_form_and_stages() {
    let app = TestApp::spawn().await;
    let admin = app.admin("admin@example.org").await;

    let (status, body) = app
        .post(
            "/api/v1/calls",
            Some(&admin),
            json!({"slug": "sans-modele", "opens_at": "2026-01-06T08:00:00Z", "closes_at": "2026-02-27T11:00:00Z"}),
        )
        .await;

    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        failing_fields(&body),
        vec!["form", "kind", "stages", "title"]
    );

    // With them, the call is created, with defaults for the rest.
    let call = create_call(
        &app,
        &admin,
        json!({
            "slug": "sans-modele",
            "kind": "territory_experiment",
            "title": {"fr": "Appel sans modèle"},
            "opens_at": "2026-01-06T08:00:00Z",
            "closes_at": "2026-02-27T11:00:00Z",
            "form": small_form(),
            "stages": [stage("written", &[60, 40])],
        }),
    )
    .await;
    assert_eq!(call["template"], Value::Null);
    assert_eq!(call["timezone"], "Europe/Paris");
    assert_eq!(call["eligible_kinds"], json!(["territory"]));
    assert_eq!(call["title"], json!({"fr": "Appel sans modèle"}));
}

#[tokio::test]
async fn one_422_lists_every_broken_rule_of_a_call_definition_at_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin("admin@example.org").await;

    let (status, body) = app
        .post(
            "/api/v1/calls",
            Some(&admin),
            json!({
                "slug": "appel-casse",
                "kind": "startup_lab",
                "title": {"fr": "Appel"},
                "opens_at": "2026-02-27T11:00:00Z",
                "closes_at": "2026-01-06T08:00:00Z",
                "eligible_kinds": ["startup", "cooperative"],
                "form": {"fields": [
                    {"key": "project", "type": "text", "label": {"fr": "Projet"}},
                    {"key": "project", "type": "long_text", "label": {"fr": "Projet encore"}}
                ]},
                "stages": [stage("written", &[50, 40])],
            }),
        )
        .await;

    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        failing_fields(&body),
        vec![
            "closes_at",
            "eligible_kinds.1",
            "form.fields.1.key",
            "stages.0.criteria.0.weight",
            "stages.0.criteria.1.weight",
        ]
    );
    let (_, list) = app.get("/api/v1/calls", Some(&admin)).await;
    assert_eq!(slugs(&list), Vec::<String>::new());
}

#[tokio::test]
async fn one_422_lists_every_failing_field_of_a_call_at_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin("admin@example.org").await;

    let (status, body) = app
        .post(
            "/api/v1/calls",
            Some(&admin),
            json!({
                "slug": "Pas Un Slug!",
                "kind": "startup_lab",
                "title": {"fr": "Appel"},
                "opens_at": "2026-02-27T11:00:00Z",
                "closes_at": "2026-01-06T08:00:00Z",
                "timezone": "Mars/Olympus",
                "eligible_kinds": ["startup", "cooperative"],
                "form": {"fields": [
                    {"key": "project", "type": "text", "label": {"fr": "Projet"}},
                    {"key": "project", "type": "long_text", "label": {"fr": "Projet encore"}}
                ]},
                "stages": [stage("written", &[50, 40])],
            }),
        )
        .await;

    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        failing_fields(&body),
        vec![
            "closes_at",
            "eligible_kinds.1",
            "form.fields.1.key",
            "slug",
            "stages.0.criteria.0.weight",
            "stages.0.criteria.1.weight",
            "timezone",
        ]
    );
}

#[tokio::test]
async fn an_unknown_template_or_a_taken_slug_is_refused_by_field() {
    let app = TestApp::spawn().await;
    let admin = app.admin("admin@example.org").await;
    create_call(&app, &admin, atl_body(&app, "atl-2026")).await;

    let mut unknown = atl_body(&app, "atl-2027");
    unknown["template"] = json!("tourisme-martien");
    let (unknown_status, unknown_body) = app.post("/api/v1/calls", Some(&admin), unknown).await;
    let (taken_status, taken_body) = app
        .post("/api/v1/calls", Some(&admin), atl_body(&app, "atl-2026"))
        .await;

    assert_problem(
        unknown_status,
        &unknown_body,
        StatusCode::UNPROCESSABLE_ENTITY,
    );
    assert!(
        failing_fields(&unknown_body).contains(&"template".to_owned()),
        "{unknown_body}"
    );
    assert_problem(taken_status, &taken_body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(failing_fields(&taken_body), vec!["slug"]);
    let (_, list) = app.get("/api/v1/calls", Some(&admin)).await;
    assert_eq!(slugs(&list), vec!["atl-2026"]);
}

#[tokio::test]
async fn a_draft_is_seen_by_admins_only_until_it_is_published_and_publishes_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin("admin@example.org").await;
    let applicant = app.applicant("founder@example.org").await;
    let draft = create_call(&app, &admin, atl_body(&app, "atl-2026")).await;
    let id = draft["id"].as_str().unwrap();
    let by_id = format!("/api/v1/calls/{id}");

    for token in [None, Some(applicant.as_str())] {
        let (status, list) = app.get("/api/v1/calls", token).await;
        assert_eq!(status, StatusCode::OK, "{list}");
        assert_eq!(slugs(&list), Vec::<String>::new());
        assert_eq!(list["next_cursor"], Value::Null);
        for path in [by_id.as_str(), "/api/v1/calls/atl-2026"] {
            let (status, body) = app.get(path, token).await;
            assert_problem(status, &body, StatusCode::NOT_FOUND);
        }
    }
    let (_, list) = app.get("/api/v1/calls", Some(&admin)).await;
    assert_eq!(slugs(&list), vec!["atl-2026"]);
    assert_eq!(list["items"][0]["status"], "draft");
    let (status, seen) = app.get("/api/v1/calls/atl-2026", Some(&admin)).await;
    assert_eq!(status, StatusCode::OK, "{seen}");
    assert_eq!(seen["id"], id);

    let (status, published) = app
        .post(&format!("{by_id}/publish"), Some(&admin), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{published}");
    assert_eq!(published["status"], "published");

    for token in [None, Some(applicant.as_str())] {
        for path in [by_id.as_str(), "/api/v1/calls/atl-2026"] {
            let (status, call) = app.get(path, token).await;
            assert_eq!(status, StatusCode::OK, "{call}");
            assert_eq!(call["id"], id);
            assert_eq!(call["status"], "published");
            assert_eq!(call["phase"], "upcoming");
            assert!(call["form"]["fields"]
                .as_array()
                .is_some_and(|f| !f.is_empty()));
        }
        let (_, list) = app.get("/api/v1/calls", token).await;
        assert_eq!(slugs(&list), vec!["atl-2026"]);
    }
    let (status, again) = app
        .post(&format!("{by_id}/publish"), Some(&admin), json!({}))
        .await;
    assert_problem(status, &again, StatusCode::CONFLICT);
    assert_eq!(again["code"], "call_not_draft", "{again}");
}

#[tokio::test]
async fn the_phase_of_a_call_follows_the_server_clock() {
    let opens_at = Utc.with_ymd_and_hms(2026, 1, 6, 8, 0, 0).unwrap();
    let closes_at = Utc.with_ymd_and_hms(2026, 2, 27, 11, 0, 0).unwrap();
    let app = TestApp::spawn_with(Options {
        clock: cordee::clock::Clock::manual(opens_at - chrono::Duration::days(5)),
        ..Default::default()
    })
    .await;
    let admin = app.admin("admin@example.org").await;
    let call = create_call(
        &app,
        &admin,
        json!({
            "template": "experimentation-montagne",
            "slug": "exp-2026",
            "opens_at": opens_at.to_rfc3339(),
            "closes_at": closes_at.to_rfc3339(),
        }),
    )
    .await;
    let id = call["id"].as_str().unwrap();
    let (status, body) = app
        .post(
            &format!("/api/v1/calls/{id}/publish"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let mut phases = Vec::new();
    for at in [
        opens_at - chrono::Duration::seconds(1),
        opens_at,
        closes_at - chrono::Duration::seconds(1),
        closes_at,
    ] {
        app.clock.set(at);
        let (status, call) = app.get("/api/v1/calls/exp-2026", None).await;
        assert_eq!(status, StatusCode::OK, "{call}");
        let (_, list) = app.get("/api/v1/calls", None).await;
        assert_eq!(list["items"][0]["phase"], call["phase"], "the list agrees");
        phases.push(call["phase"].as_str().unwrap().to_owned());
    }

    assert_eq!(phases, vec!["upcoming", "open", "open", "closed"]);
}

#[tokio::test]
async fn changing_a_call_needs_the_current_etag_and_an_admin() {
    let app = TestApp::spawn().await;
    let admin = app.admin("admin@example.org").await;
    let applicant = app.applicant("founder@example.org").await;
    let call = create_call(&app, &admin, atl_body(&app, "atl-2026")).await;
    let id = call["id"].as_str().unwrap();
    let (_, _, etag) = read(&app, &format!("/api/v1/calls/{id}"), Some(&admin)).await;
    let etag = etag.expect("an ETag on a call");
    let new_title = json!({"title": {"fr": "Alpes Tourisme Lab, deuxième édition", "en": "Alpes Tourism Lab, second edition"}});

    let (missing, missing_body, _) = patch(&app, id, &admin, None, new_title.clone()).await;
    assert_problem(missing, &missing_body, StatusCode::PRECONDITION_REQUIRED);
    let (forbidden, forbidden_body, _) =
        patch(&app, id, &applicant, Some(&etag), new_title.clone()).await;
    assert_problem(forbidden, &forbidden_body, StatusCode::FORBIDDEN);

    let (status, changed, new_etag) = patch(&app, id, &admin, Some(&etag), new_title.clone()).await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    let new_etag = new_etag.expect("a new ETag");
    assert_ne!(new_etag, etag);
    assert_eq!(changed["title"], new_title["title"]);

    let (stale, stale_body, _) = patch(
        &app,
        id,
        &admin,
        Some(&etag),
        json!({"title": {"fr": "Écrasé"}}),
    )
    .await;
    assert_problem(stale, &stale_body, StatusCode::PRECONDITION_FAILED);
    let (_, seen, seen_etag) = read(&app, &format!("/api/v1/calls/{id}"), Some(&admin)).await;
    assert_eq!(seen["title"], new_title["title"]);
    assert_eq!(seen_etag.as_deref(), Some(new_etag.as_str()));
}

#[tokio::test]
async fn the_form_and_stages_freeze_once_an_application_is_submitted_but_the_title_can_still_change(
) {
    let app = TestApp::spawn().await;
    let admin = app.admin("admin@example.org").await;
    let founder = app.applicant("founder@example.org").await;
    let call = app
        .open_call(&admin, "alpes-tourisme-lab", "atl-2026")
        .await;
    let call_id = call["id"].as_str().unwrap();
    let org = app
        .organization(&founder, "startup", "Navette Neige SAS")
        .await;
    let (status, application) = app
        .post(
            &format!("/api/v1/calls/{call_id}/applications"),
            Some(&founder),
            json!({"organization_id": org, "answers": atl_answers()}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{application}");
    let app_id = application["id"].as_str().unwrap();
    let (status, upload) = app
        .upload(&founder, app_id, "pitch_deck", "deck.pdf", pdf_bytes())
        .await;
    assert_eq!(status, StatusCode::CREATED, "{upload}");
    let (_, before, etag) = read(&app, &format!("/api/v1/calls/{call_id}"), None).await;
    assert_eq!(before["form_frozen"], false);
    let etag = etag.unwrap();
    // Before any submission, the form can still change.
    let mut form = before["form"].clone();
    form["fields"][0]["label"]["fr"] = json!("Nom de votre solution");
    let (status, changed, etag) =
        patch(&app, call_id, &admin, Some(&etag), json!({"form": form})).await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    let mut etag = etag.unwrap();

    let (status, submitted) = app
        .post(
            &format!("/api/v1/applications/{app_id}/submit"),
            Some(&founder),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{submitted}");

    let (_, frozen, current) = read(&app, &format!("/api/v1/calls/{call_id}"), None).await;
    assert_eq!(frozen["form_frozen"], true);
    if let Some(current) = current {
        etag = current;
    }
    let mut stages = frozen["stages"].clone();
    stages[0]["criteria"][0]["weight"] = json!(30);
    stages[0]["criteria"][1]["weight"] = json!(15);
    for change in [
        json!({"form": frozen["form"]}),
        json!({"stages": stages}),
        json!({"eligible_kinds": ["startup", "company"]}),
    ] {
        let (status, body, _) = patch(&app, call_id, &admin, Some(&etag), change).await;
        assert_problem(status, &body, StatusCode::CONFLICT);
        assert_eq!(body["code"], "form_frozen", "{body}");
    }
    let (status, retitled, _) = patch(
        &app,
        call_id,
        &admin,
        Some(&etag),
        json!({"title": {"fr": "Alpes Tourisme Lab 2026", "en": "Alpes Tourism Lab 2026"}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{retitled}");
    assert_eq!(retitled["title"]["fr"], "Alpes Tourisme Lab 2026");
    assert_eq!(retitled["form"], frozen["form"]);
    assert_eq!(retitled["stages"], frozen["stages"]);
}

#[tokio::test]
async fn the_call_list_is_paginated_with_limit_and_cursor() {
    let app = TestApp::spawn().await;
    let admin = app.admin("admin@example.org").await;
    for slug in ["appel-un", "appel-deux", "appel-trois"] {
        app.open_call(&admin, "alpes-tourisme-lab", slug).await;
    }

    let (status, first) = app.get("/api/v1/calls?limit=2", None).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    let cursor = first["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_owned();
    let (status, second) = app
        .get(&format!("/api/v1/calls?limit=2&cursor={cursor}"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{second}");

    assert_eq!(second["items"].as_array().unwrap().len(), 1);
    assert_eq!(second["next_cursor"], Value::Null);
    let mut seen: Vec<String> = slugs(&first).into_iter().chain(slugs(&second)).collect();
    seen.sort();
    assert_eq!(seen, vec!["appel-deux", "appel-trois", "appel-un"]);
    for item in first["items"].as_array().unwrap() {
        assert_eq!(item["phase"], "open");
        assert_eq!(item["status"], "published");
        assert!(item.get("form").is_none(), "a list leaves the form out");
    }
    let (status, body) = app.get("/api/v1/calls?limit=0", None).await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(failing_fields(&body), vec!["limit"]);
    let (status, body) = app.get("/api/v1/calls?cursor=not-a-cursor", None).await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(failing_fields(&body), vec!["cursor"]);
}

#[tokio::test]
async fn patching_the_summary_to_null_removes_it() {
    let app = TestApp::spawn().await;
    let admin = app.admin("admin@example.org").await;
    let call = create_call(&app, &admin, atl_body(&app, "atl-2026")).await;
    let id = call["id"].as_str().unwrap();
    let (_, _, etag) = read(&app, &format!("/api/v1/calls/{id}"), Some(&admin)).await;

    let (status, changed, _) =
        patch(&app, id, &admin, etag.as_deref(), json!({"summary": null})).await;

    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["summary"], Value::Null);
    let (_, seen, _) = read(&app, &format!("/api/v1/calls/{id}"), Some(&admin)).await;
    assert_eq!(seen["summary"], Value::Null);
}
