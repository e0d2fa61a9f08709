//! The figures of a call (`GET /calls/{id}/stats`): applications per status, kind and submission day,
//! answers per option and number field, the jury's progress per stage and juror, the emails that have not
//! gone out; anonymised applications still counted; the same few SQL statements whatever the call's size.

use std::time::{Duration, Instant};

use chrono::{DateTime, Months, TimeZone, Utc};
use cordee::clock::Clock;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::scenario::Scenario;
use crate::helpers::*;
use crate::smtp_faults::{Fault, FaultySmtp};

/// The figures of a call, read by `token`.
async fn figures(app: &TestApp, call_id: &str, token: &str) -> Value {
    let (status, body) = app
        .get(&format!("/api/v1/calls/{call_id}/stats"), Some(token))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// `(value, count)` of every option of the choice field `field`, in form order.
fn options(figures: &Value, field: &str) -> Vec<(String, i64)> {
    choice(figures, field)["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["value"].as_str().unwrap().to_owned(),
                o["count"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn choice<'a>(figures: &'a Value, field: &str) -> &'a Value {
    figures["answers"]["choices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["field"] == field)
        .unwrap_or_else(|| panic!("no choice field {field} in {figures}"))
}

/// `[count, min, median, max, sum]` of the number field `field` (`NaN` for null).
fn number(figures: &Value, field: &str) -> [f64; 5] {
    let n = figures["answers"]["numbers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["field"] == field)
        .unwrap_or_else(|| panic!("no number field {field} in {figures}"));
    ["count", "min", "median", "max", "sum"].map(|k| n[k].as_f64().unwrap_or(f64::NAN))
}

fn owned(pairs: &[(&str, i64)]) -> Vec<(String, i64)> {
    pairs.iter().map(|(v, n)| ((*v).to_owned(), *n)).collect()
}

/// A territory's draft to the call, with these answers (the rest from `exp_answers`) and its letter of
/// support; returns (the applicant's token, the application's id).
async fn territory_draft(
    app: &TestApp,
    call_id: &str,
    i: usize,
    answers: Value,
    token: Option<String>,
) -> (String, String) {
    let token = match token {
        Some(token) => token,
        None => app.applicant(&format!("mairie@commune{i}.example")).await,
    };
    let org = app
        .organization(&token, "territory", &format!("Commune {i}"))
        .await;
    let mut all = exp_answers();
    for (key, value) in answers.as_object().unwrap() {
        all[key] = value.clone();
    }
    let (status, created) = app
        .post(
            &format!("/api/v1/calls/{call_id}/applications"),
            Some(&token),
            json!({"organization_id": org, "answers": all}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let (status, file) = app
        .upload(&token, &id, "support_letter", "lettre.pdf", pdf_bytes())
        .await;
    assert_eq!(status, StatusCode::CREATED, "{file}");
    (token, id)
}

async fn submit(app: &TestApp, token: &str, id: &str) {
    let (status, body) = app
        .post(
            &format!("/api/v1/applications/{id}/submit"),
            Some(token),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn screen(app: &TestApp, admin: &str, id: &str, outcome: &str) {
    let (status, body) = app
        .post(
            &format!("/api/v1/applications/{id}/screening"),
            Some(admin),
            json!({"outcome": outcome, "reason": "La commune n'est pas en zone de montagne."}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

const STAFF: &str = "staff@cordee.example";

#[tokio::test]
async fn a_territory_call_s_figures_count_statuses_days_options_and_amounts_and_keep_anonymised_applications(
) {
    // 22:00 in Paris on 3 December.
    let evening = Utc.with_ymd_and_hms(2026, 12, 3, 21, 0, 0).unwrap();
    let app = TestApp::spawn_with(Options {
        clock: Clock::manual(evening),
        // Staff run the retention job below, when the test says (not the background loop, at any moment).
        configure: Box::new(|s| s.privacy.retention_enabled = false),
        ..Default::default()
    })
    .await;
    let admin = app.admin(STAFF).await;
    let call = app
        .open_call(&admin, "experimentation-montagne", "exp-2027")
        .await;
    let call_id = call["id"].as_str().unwrap().to_owned();
    let answers = [
        ("alpes_nord", "winter", 80_000, 40_000),
        ("alpes_nord", "summer", 20_000, 5_000),
        ("pyrenees", "winter", 50_000, 10_000),
        ("jura", "all_year", 30_000, 15_000),
        ("vosges", "all_year", 10_000, 1_000),
        // A draft: its answers never count, however large.
        ("corse", "winter", 1_000_000, 1_000),
    ];
    let mut territories = Vec::new();
    for (i, (massif, season, budget, co_funding)) in answers.into_iter().enumerate() {
        let answers =
            json!({"massif": massif, "season": season, "budget": budget, "co_funding": co_funding});
        territories.push(territory_draft(&app, &call_id, i, answers, None).await);
    }
    // Two submit on 3 December in Paris, three after midnight in Paris (still 3 December in UTC).
    for (token, id) in &territories[..2] {
        submit(&app, token, id).await;
    }
    app.clock
        .set(Utc.with_ymd_and_hms(2026, 12, 3, 23, 30, 0).unwrap());
    for (token, id) in &territories[2..5] {
        submit(&app, token, id).await;
    }
    for (_, id) in &territories[..3] {
        screen(&app, &admin, id, "eligible").await;
    }
    screen(&app, &admin, &territories[4].1, "ineligible").await;

    let found = figures(&app, &call_id, &admin).await;
    assert_eq!(found["call"]["id"], call_id.as_str());
    assert_eq!(found["call"]["slug"], "exp-2027");
    assert_eq!(found["call"]["timezone"], "Europe/Paris");
    assert_eq!(found["call"]["title"], call["title"]);
    let applications = &found["applications"];
    assert_eq!(applications["total"], 6);
    assert_eq!(applications["anonymised"], 0);
    assert_eq!(
        applications["by_status"],
        json!({"draft": 1, "submitted": 1, "changes_requested": 0, "eligible": 3, "ineligible": 1,
               "shortlisted": 0, "not_shortlisted": 0, "selected": 0, "waitlisted": 0, "rejected": 0,
               "retained": 0, "not_retained": 0, "withdrawn": 0})
    );
    assert_eq!(
        applications["by_organization_kind"],
        json!({"startup": 0, "company": 0, "territory": 6, "association": 0})
    );
    assert_eq!(
        applications["by_submission_day"],
        json!([{"day": "2026-12-03", "count": 2}, {"day": "2026-12-04", "count": 3}])
    );
    assert_eq!(found["answers"]["applications"], 5, "drafts do not count");
    assert_eq!(
        options(&found, "massif"),
        owned(&[
            ("alpes_nord", 2),
            ("alpes_sud", 0),
            ("jura", 1),
            ("massif_central", 0),
            ("pyrenees", 1),
            ("vosges", 1),
            ("corse", 0),
        ])
    );
    assert_eq!(
        options(&found, "season"),
        owned(&[
            ("winter", 2),
            ("summer", 1),
            ("all_year", 2),
            ("shoulder_seasons", 0)
        ])
    );
    // Each option carries its bilingual label, as the form has it.
    let form_massif = call["form"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"] == "massif")
        .unwrap();
    assert_eq!(choice(&found, "massif")["type"], "choice");
    assert_eq!(choice(&found, "massif")["label"], form_massif["label"]);
    assert_eq!(
        choice(&found, "massif")["options"][0]["label"],
        form_massif["options"][0]["label"]
    );
    assert_eq!(
        number(&found, "budget"),
        [5.0, 10_000.0, 30_000.0, 80_000.0, 190_000.0]
    );
    assert_eq!(
        number(&found, "co_funding"),
        [5.0, 1_000.0, 10_000.0, 40_000.0, 71_000.0]
    );
    assert_eq!(
        number(&found, "altitude_min"),
        [5.0, 1035.0, 1035.0, 1035.0, 5.0 * 1035.0]
    );
    let stages = found["reviews"]["stages"].as_array().unwrap();
    assert_eq!(stages.len(), 1);
    assert_eq!(
        (
            &stages[0]["stage"],
            &stages[0]["assigned"],
            &stages[0]["jurors"]
        ),
        (&json!("written"), &json!(0), &json!([]))
    );

    // Nobody else learns the call's figures exist; an unknown call has none.
    let (status, _) = app
        .get(
            &format!("/api/v1/calls/{call_id}/stats"),
            Some(&territories[0].0),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app
        .get(&format!("/api/v1/calls/{call_id}/stats"), None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = app
        .get(
            &format!("/api/v1/calls/{}/stats", uuid::Uuid::now_v7()),
            Some(&admin),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Two are selected, one rejected; months after the decisions, the applications not selected are
    // anonymised: they are still counted, their answers no longer are.
    let decisions = json!([
        {"application_id": territories[0].1, "outcome": "selected", "motivation": "Un besoin clair."},
        {"application_id": territories[1].1, "outcome": "selected", "motivation": "Un portage fort."},
        {"application_id": territories[2].1, "outcome": "rejected", "motivation": "Trop tôt."},
    ]);
    let (status, body) = app
        .send(
            Method::PUT,
            &format!("/api/v1/calls/{call_id}/decisions"),
            Some(&admin),
            Some(decisions),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app
        .post(
            &format!("/api/v1/calls/{call_id}/decisions/publish"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.clock.set(evening + Months::new(4));
    let admin = app.login(STAFF, PASSWORD).await;
    let (status, run) = app
        .post("/api/v1/admin/retention/run", Some(&admin), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{run}");
    assert_eq!(run["anonymised"], 4, "{run}");

    let found = figures(&app, &call_id, &admin).await;
    let applications = &found["applications"];
    assert_eq!(applications["total"], 6);
    assert_eq!(applications["anonymised"], 4);
    assert_eq!(applications["by_status"]["selected"], 2);
    assert_eq!(applications["by_status"]["rejected"], 1);
    assert_eq!(applications["by_status"]["submitted"], 1);
    assert_eq!(applications["by_status"]["ineligible"], 1);
    assert_eq!(applications["by_status"]["draft"], 1);
    assert_eq!(applications["by_organization_kind"]["territory"], 6);
    assert_eq!(
        applications["by_submission_day"],
        json!([{"day": "2026-12-03", "count": 2}, {"day": "2026-12-04", "count": 3}])
    );
    assert_eq!(found["answers"]["applications"], 2);
    assert_eq!(
        options(&found, "massif")[..3],
        owned(&[("alpes_nord", 2), ("alpes_sud", 0), ("jura", 0)])
    );
    // An even number of answers: the median is the mean of the two middle ones.
    assert_eq!(
        number(&found, "budget"),
        [2.0, 20_000.0, 50_000.0, 80_000.0, 100_000.0]
    );
}

/// Scores at each criterion's minimum for the call's first stage.
async fn lowest_scores(app: &TestApp, admin: &str, call_id: &str) -> Value {
    let (_, call) = app
        .get(&format!("/api/v1/calls/{call_id}"), Some(admin))
        .await;
    let scores: serde_json::Map<String, Value> = call["stages"][0]["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["key"].as_str().unwrap().to_owned(), c["min"].clone()))
        .collect();
    Value::Object(scores)
}

fn juror_progress<'a>(stage: &'a Value, juror: &str) -> &'a Value {
    stage["jurors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["juror_id"] == juror)
        .unwrap_or_else(|| panic!("juror {juror} not in {stage}"))
}

/// `[assigned, not_started, draft, submitted, overdue]`.
fn progress(of: &Value) -> [i64; 5] {
    ["assigned", "not_started", "draft", "submitted", "overdue"].map(|k| of[k].as_i64().unwrap())
}

#[tokio::test]
async fn the_jury_s_progress_shows_per_stage_and_juror_with_what_is_overdue_after_the_deadline() {
    let start = Utc::now();
    let app = TestApp::spawn_with(Options {
        clock: Clock::manual(start),
        ..Default::default()
    })
    .await;
    let (call, [ana, bruno]) = Scenario::new(&app)
        .eligible(3)
        .jurors(2)
        .build()
        .await
        .into_parts();
    let (admin, call_id) = (&call.admin, &call.id);
    let scores = lowest_scores(&app, admin, call_id).await;
    for (juror, applications) in [
        (&ana, &call.applications[..]),
        (&bruno, &call.applications[..2]),
    ] {
        for application in applications {
            let (status, body) = app
                .post(
                    &format!("/api/v1/calls/{call_id}/assignments"),
                    Some(admin),
                    json!({"application_id": application, "juror_id": juror.id, "stage": "written"}),
                )
                .await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
        }
    }
    let review = |juror: &str, application: &str, submit: bool| {
        let (app, scores) = (&app, &scores);
        let (juror, application) = (juror.to_owned(), application.to_owned());
        async move {
            let (status, body) = app
                .send(
                    Method::PUT,
                    &format!("/api/v1/applications/{application}/reviews/mine"),
                    Some(&juror),
                    Some(json!({"stage": "written", "scores": scores})),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            if submit {
                let (status, body) = app
                    .post(
                        &format!("/api/v1/applications/{application}/reviews/mine/submit"),
                        Some(&juror),
                        json!({"stage": "written"}),
                    )
                    .await;
                assert_eq!(status, StatusCode::OK, "{body}");
            }
        }
    };
    // Ana submits one review, saves a draft of another and has not opened the third; Bruno is done.
    review(&ana.token, &call.applications[0], true).await;
    review(&ana.token, &call.applications[1], false).await;
    review(&bruno.token, &call.applications[0], true).await;
    review(&bruno.token, &call.applications[1], true).await;
    let due = app.clock.now() + chrono::Duration::days(2);
    let (status, body) = app
        .send(
            Method::PUT,
            &format!("/api/v1/calls/{call_id}/stages/written/deadline"),
            Some(admin),
            Some(json!({"due_at": due.to_rfc3339()})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let found = figures(&app, call_id, admin).await;
    let stages = found["reviews"]["stages"].as_array().unwrap();
    assert_eq!(stages.len(), 2, "written and pitch");
    let (written, pitch) = (&stages[0], &stages[1]);
    assert_eq!(written["stage"], "written");
    let due_at: DateTime<Utc> = written["due_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(due_at, due);
    assert_eq!(progress(written), [5, 1, 1, 3, 0]);
    assert_eq!(progress(juror_progress(written, &ana.id)), [3, 1, 1, 1, 0]);
    assert_eq!(
        progress(juror_progress(written, &bruno.id)),
        [2, 0, 0, 2, 0]
    );
    assert_eq!(
        juror_progress(written, &ana.id)["display_name"],
        "Test Person",
        "staff see who the jurors are"
    );
    assert_eq!(pitch["stage"], "pitch");
    assert_eq!(progress(pitch), [0, 0, 0, 0, 0]);
    assert!(pitch["due_at"].is_null() && pitch["jurors"] == json!([]));
    // The start-ups' answers: every one chose the same two challenges.
    assert_eq!(
        options(&found, "challenges"),
        owned(&[
            ("mobility_access", 3),
            ("housing", 0),
            ("four_season", 0),
            ("energy_climate", 3),
            ("visitor_flows", 0),
            ("digital", 0),
            ("safety", 0),
        ])
    );
    assert_eq!(choice(&found, "challenges")["type"], "multi_choice");
    assert_eq!(number(&found, "team_fte"), [3.0, 3.5, 3.5, 3.5, 10.5]);
    assert_eq!(found["applications"]["by_organization_kind"]["startup"], 3);
    // A juror does not read the call's figures.
    let (status, _) = app
        .get(&format!("/api/v1/calls/{call_id}/stats"), Some(&ana.token))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The deadline passes: what is not submitted is overdue.
    app.clock.advance(chrono::Duration::days(3));
    let found = figures(&app, call_id, admin).await;
    let written = &found["reviews"]["stages"][0];
    assert_eq!(progress(written), [5, 1, 1, 3, 2]);
    assert_eq!(progress(juror_progress(written, &ana.id)), [3, 1, 1, 1, 2]);
    assert_eq!(
        progress(juror_progress(written, &bruno.id)),
        [2, 0, 0, 2, 0]
    );

    // The third start-up withdraws: nobody has to review it any more, its answers still count.
    let (status, body) = app
        .post(
            &format!("/api/v1/applications/{}/withdraw", call.applications[2]),
            Some(&call.founders[2]),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let found = figures(&app, call_id, admin).await;
    let written = &found["reviews"]["stages"][0];
    assert_eq!(progress(written), [4, 0, 1, 3, 1]);
    assert_eq!(progress(juror_progress(written, &ana.id)), [2, 0, 1, 1, 1]);
    assert_eq!(found["applications"]["by_status"]["withdrawn"], 1);
    assert_eq!(found["applications"]["by_status"]["eligible"], 2);
    assert_eq!(found["answers"]["applications"], 3);
}

/// Registers `email`, verifies it with the link the relay received, logs in.
async fn verified_applicant(app: &TestApp, smtp: &FaultySmtp, email: &str) -> String {
    app.register(email, "fr").await;
    let verification = smtp.wait_for(email, 1).await;
    let (status, body) = app
        .post(
            "/api/v1/auth/verify-email",
            None,
            json!({"token": verification[0].token()}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    app.login(email, PASSWORD).await
}

/// Waits until the worker has tried every email of the outbox at least once; returns the outbox.
async fn every_email_tried(app: &TestApp, admin: &str) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, body) = app.get("/api/v1/admin/outbox?limit=200", Some(admin)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let items = body["items"].as_array().unwrap().clone();
        let tried = |i: &Value| {
            i["status"] == "sent"
                || i["status"] == "failed"
                || (i["status"] == "pending" && i["attempts"].as_i64() >= Some(1))
        };
        if items.iter().all(tried) {
            return items;
        }
        assert!(
            Instant::now() < deadline,
            "the worker never tried every email: {items:#?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn emails_about_the_call_s_applications_that_failed_or_wait_for_a_retry_are_counted() {
    let smtp = FaultySmtp::start(Fault::None).await;
    let port = smtp.port;
    let app = TestApp::spawn_with(Options {
        mailbox: Mailbox::down(),
        configure: Box::new(move |s| {
            s.email.smtp_port = port;
            s.email.max_attempts = 5;
            // A temporary failure is retried an hour later: long after this test.
            s.email.retry_base_ms = 3_600_000;
            s.email.smtp_timeout_seconds = 1;
        }),
        ..Default::default()
    })
    .await;
    let admin = app.admin(STAFF).await;
    let call = app
        .open_call(&admin, "experimentation-montagne", "exp-2027")
        .await;
    let call_id = call["id"].as_str().unwrap().to_owned();
    let mut drafts = Vec::new();
    for i in 0..2 {
        let token = verified_applicant(&app, &smtp, &format!("mairie@commune{i}.example")).await;
        drafts.push(territory_draft(&app, &call_id, i, json!({}), Some(token)).await);
    }
    every_email_tried(&app, &admin).await;

    // The relay refuses for good: the emails of the first submission fail, and so does the verification of
    // someone who registers meanwhile (an email about no application).
    smtp.set(Fault::Permanent).await;
    submit(&app, &drafts[0].0, &drafts[0].1).await;
    app.register("passant@ailleurs.example", "fr").await;
    every_email_tried(&app, &admin).await;
    // Then it asks to try again later: the emails of the second submission wait for their retry.
    smtp.set(Fault::Temporary).await;
    submit(&app, &drafts[1].0, &drafts[1].1).await;
    let outbox = every_email_tried(&app, &admin).await;

    let failed_about_the_call = outbox
        .iter()
        .filter(|i| i["status"] == "failed" && i["recipient"] != "passant@ailleurs.example")
        .count();
    let waiting = outbox.iter().filter(|i| i["status"] == "pending").count();
    assert!(failed_about_the_call >= 1 && waiting >= 1, "{outbox:#?}");
    assert!(
        outbox
            .iter()
            .any(|i| i["status"] == "failed" && i["recipient"] == "passant@ailleurs.example"),
        "{outbox:#?}"
    );
    let found = figures(&app, &call_id, &admin).await;
    assert_eq!(
        found["emails"],
        json!({"pending": waiting, "failed": failed_about_the_call})
    );
}

/// How many SQL statements `GET /calls/{id}/stats` ran.
async fn statements(app: &TestApp, call_id: &str, token: &str) -> u64 {
    let response = app
        .request(
            Method::GET,
            &format!("/api/v1/calls/{call_id}/stats"),
            Some(token),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.headers()["x-sql-statements"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn a_call_s_figures_run_the_same_few_statements_for_5_or_40_applications() {
    let app = TestApp::spawn_with(Options {
        configure: Box::new(|s| s.auth.token_cache_seconds = 0),
        ..Default::default()
    })
    .await;
    let admin = app.admin(STAFF).await;
    let call = app
        .open_call(&admin, "alpes-tourisme-lab", "atl-2027")
        .await;
    let call_id = call["id"].as_str().unwrap().to_owned();
    let founder = app.applicant("fondatrice@startups.example").await;
    let grow = |from: usize, to: usize| {
        let (app, founder, call_id) = (&app, &founder, &call_id);
        async move {
            for i in from..to {
                let org = app
                    .organization(founder, "startup", &format!("Startup {i}"))
                    .await;
                let mut answers = atl_answers();
                answers["funds_raised"] = json!(i * 1000);
                let (status, created) = app
                    .post(
                        &format!("/api/v1/calls/{call_id}/applications"),
                        Some(founder),
                        json!({"organization_id": org, "answers": answers}),
                    )
                    .await;
                assert_eq!(status, StatusCode::CREATED, "{created}");
                let id = created["id"].as_str().unwrap();
                if i % 5 == 4 {
                    continue; // a draft
                }
                let (status, file) = app
                    .upload(founder, id, "pitch_deck", "pitch.pdf", pdf_bytes())
                    .await;
                assert_eq!(status, StatusCode::CREATED, "{file}");
                submit(app, founder, id).await;
            }
        }
    };

    grow(0, 5).await;
    let few = statements(&app, &call_id, &admin).await;
    assert_eq!(
        figures(&app, &call_id, &admin).await["applications"]["total"],
        5
    );
    grow(5, 40).await;
    let many = statements(&app, &call_id, &admin).await;
    let found = figures(&app, &call_id, &admin).await;
    assert_eq!(found["applications"]["total"], 40);
    assert_eq!(found["applications"]["by_status"]["submitted"], 32);
    // 32 submitted: funds raised 0…38 thousands, every fifth a draft; the middle two are 18 and 20.
    assert_eq!(number(&found, "funds_raised")[..3], [32.0, 0.0, 19_000.0]);

    assert_eq!(few, many, "more applications, more statements: N+1");
    assert!(many <= 12, "the figures of a call run {many} statements");
}
