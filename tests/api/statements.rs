//! No N+1: every list runs the same small number of SQL statements whether it shows a few items or many.
//! The server counts the statements of each request (diesel's instrumentation) and, in tests, returns the
//! count in `x-sql-statements`. Not a timing test: the counts are exact.

use std::collections::BTreeMap;

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::scenario::Scenario;
use crate::helpers::*;

/// How many statements `GET path` ran (answered 200).
async fn statements(app: &TestApp, path: &str, token: &str) -> u64 {
    let (status, count) = statements_of(app, Method::GET, path, token, None).await;
    assert_eq!(status, StatusCode::OK, "{path}");
    count
}

/// How many statements a request ran, with its status.
async fn statements_of(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Option<serde_json::Value>,
) -> (StatusCode, u64) {
    let mut request = app.request(method, path, Some(token));
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let count = response
        .headers()
        .get("x-sql-statements")
        .expect("the test settings turn the statement count on")
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    (response.status(), count)
}

/// The people and ids the lists are read with.
struct Cast {
    admin: String,
    jurors: Vec<(String, String)>,
    applicant: String,
    call_id: String,
    stage: String,
}

/// Adds `n` eligible applications, each assigned to every juror, reviewed, with a message and a decision.
async fn grow(app: &TestApp, cast: &Cast, from: usize, n: usize) {
    let call_id = &cast.call_id;
    let (_, call) = app
        .get(&format!("/api/v1/calls/{call_id}"), Some(&cast.admin))
        .await;
    let scores: serde_json::Map<String, serde_json::Value> = call["stages"][0]["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["key"].as_str().unwrap().to_owned(), c["min"].clone()))
        .collect();
    let mut decisions = Vec::new();
    for i in from..from + n {
        let email = format!("mairie{i}@commune{i}.fr");
        let id =
            eligible_territory(app, &cast.admin, call_id, &email, &format!("Commune {i}")).await;
        let (status, _) = app
            .post(
                &format!("/api/v1/applications/{id}/messages"),
                Some(&cast.admin),
                json!({"body": "Merci pour votre dossier."}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
        for (juror_id, juror) in &cast.jurors {
            let (status, body) = app
                .post(
                    &format!("/api/v1/calls/{call_id}/assignments"),
                    Some(&cast.admin),
                    json!({"application_id": id, "juror_id": juror_id, "stage": cast.stage}),
                )
                .await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
            let (status, body) = app
                .send(
                    Method::PUT,
                    &format!("/api/v1/applications/{id}/reviews/mine"),
                    Some(juror),
                    Some(json!({"stage": cast.stage, "scores": scores})),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            let (status, body) = app
                .post(
                    &format!("/api/v1/applications/{id}/reviews/mine/submit"),
                    Some(juror),
                    json!({"stage": cast.stage}),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
        }
        decisions.push(
            json!({"application_id": id, "outcome": "waitlisted", "motivation": "À revoir."}),
        );
    }
    let (status, body) = app
        .send(
            Method::PUT,
            &format!("/api/v1/calls/{call_id}/decisions"),
            Some(&cast.admin),
            Some(json!(decisions)),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// Every list, with the statements it ran.
async fn measure(app: &TestApp, cast: &Cast) -> BTreeMap<String, u64> {
    let call = &cast.call_id;
    let stage = &cast.stage;
    let admin = cast.admin.as_str();
    let juror = cast.jurors[0].1.as_str();
    let applicant = cast.applicant.as_str();
    let lists = [
        ("/api/v1/applications?limit=200".to_owned(), admin),
        (
            format!("/api/v1/applications?call_id={call}&status=eligible&limit=200"),
            admin,
        ),
        ("/api/v1/applications?limit=200".to_owned(), juror),
        ("/api/v1/applications?limit=200".to_owned(), applicant),
        ("/api/v1/calls?limit=200".to_owned(), admin),
        (format!("/api/v1/calls/{call}/jurors?limit=200"), admin),
        (format!("/api/v1/calls/{call}/conflicts?limit=200"), admin),
        (format!("/api/v1/calls/{call}/assignments?limit=200"), admin),
        (
            format!("/api/v1/me/assignments?call_id={call}&limit=200"),
            juror,
        ),
        (format!("/api/v1/calls/{call}/decisions?limit=200"), admin),
        (format!("/api/v1/calls/{call}/ranking?stage={stage}"), admin),
        (
            format!("/api/v1/calls/{call}/export/applications.csv"),
            admin,
        ),
        (
            format!("/api/v1/calls/{call}/export/ranking.csv?stage={stage}"),
            admin,
        ),
        (format!("/api/v1/me/assignments.csv?call_id={call}"), juror),
        ("/api/v1/audit?limit=200".to_owned(), admin),
        ("/api/v1/events?limit=200".to_owned(), admin),
        ("/api/v1/admin/outbox?limit=200".to_owned(), admin),
    ];
    let mut counts = BTreeMap::new();
    for (path, token) in lists {
        let who = if token == admin {
            "admin"
        } else if token == juror {
            "juror"
        } else {
            "applicant"
        };
        let n = statements(app, &path, token).await;
        counts.insert(format!("{who} {}", path.replace(call, "{call}")), n);
    }
    counts
}

#[tokio::test]
async fn every_list_runs_the_same_few_statements_whatever_its_length() {
    // Without the token cache every request looks its token up: one statement, always, counted below.
    let app = TestApp::spawn_with(Options {
        configure: Box::new(|s| s.auth.token_cache_seconds = 0),
        ..Default::default()
    })
    .await;
    let admin = app.admin("staff@example.org").await;
    let call = app
        .open_call(&admin, "experimentation-montagne", "exp-2026")
        .await;
    let call_id = call["id"].as_str().unwrap().to_owned();
    let mut jurors = Vec::new();
    for email in ["juror1@jury-a.fr", "juror2@jury-b.fr"] {
        let token = app.applicant(email).await;
        let (_, me) = app.get("/api/v1/me", Some(&token)).await;
        let id = me["id"].as_str().unwrap().to_owned();
        let (status, body) = app
            .post(
                &format!("/api/v1/calls/{call_id}/jurors"),
                Some(&admin),
                json!({"user_id": id}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        jurors.push((id, token));
    }
    let cast = Cast {
        admin,
        jurors,
        applicant: String::new(),
        call_id,
        stage: call["stages"][0]["key"].as_str().unwrap().to_owned(),
    };
    grow(&app, &cast, 0, 1).await;
    let applicant = app.login("mairie0@commune0.fr", PASSWORD).await;
    let cast = Cast { applicant, ..cast };
    let few = measure(&app, &cast).await;

    grow(&app, &cast, 1, 6).await;
    let many = measure(&app, &cast).await;

    assert_eq!(few, many, "a longer list runs more statements: N+1");
    let over: Vec<_> = many.iter().filter(|(_, n)| **n > 10).collect();
    assert!(
        over.is_empty(),
        "lists running more than 10 statements: {over:?}"
    );
    let summaries = many["admin /api/v1/applications?limit=200"];
    assert!(
        summaries <= 4,
        "the list of application summaries runs {summaries} statements"
    );
}

#[tokio::test]
async fn the_pairings_of_an_application_run_the_same_statements_whatever_their_number() {
    let app = TestApp::spawn_with(Options {
        configure: Box::new(|s| s.auth.token_cache_seconds = 0),
        ..Default::default()
    })
    .await;
    let admin = app.admin("staff@example.org").await;
    let call = app
        .open_call(&admin, "experimentation-montagne", "exp-2026")
        .await;
    let call_id = call["id"].as_str().unwrap();
    let (territory, application) =
        submitted_territory(&app, call_id, "mairie@chamonix.fr", "Chamonix").await;
    let partner = app.applicant("founder@navette.example").await;
    let path = format!("/api/v1/applications/{application}/pairings");
    let propose = |n: usize| {
        let (app, admin, partner, path) = (&app, &admin, &partner, &path);
        async move {
            for i in 0..n {
                let company = app
                    .organization(partner, "company", &format!("Entreprise {i}"))
                    .await;
                let (status, body) = app
                    .post(
                        path,
                        Some(admin),
                        json!({"partner_organization_id": company}),
                    )
                    .await;
                assert_eq!(status, StatusCode::CREATED, "{body}");
            }
        }
    };
    let measure = || async {
        let mut counts = Vec::new();
        for token in [&admin, &territory, &partner] {
            counts.push(statements(&app, &format!("{path}?limit=200"), token).await);
        }
        counts
    };

    propose(1).await;
    let few = measure().await;
    propose(4).await;
    let many = measure().await;

    assert_eq!(few, many, "a longer list runs more statements: N+1");
}

/// The facts that decide who may read or review an application (membership, assignment, conflicts, the
/// call's staff) are read in one statement, whoever asks: the two hottest requests stay at a fixed few.
#[tokio::test]
async fn reading_an_application_and_saving_a_review_run_a_fixed_few_statements() {
    let app = TestApp::spawn_with(Options {
        configure: Box::new(|s| s.auth.token_cache_seconds = 0),
        ..Default::default()
    })
    .await;
    let (call, [juror]) = Scenario::new(&app)
        .eligible(1)
        .jurors(1)
        .build()
        .await
        .into_parts();
    let (admin, applicant, id) = (&call.admin, &call.founders[0], &call.applications[0]);
    let (_, grid) = app
        .get(&format!("/api/v1/calls/{}", call.id), Some(admin))
        .await;
    let stage = grid["stages"][0]["key"].as_str().unwrap();
    let (status, body) = app
        .post(
            &format!("/api/v1/calls/{}/assignments", call.id),
            Some(admin),
            json!({"application_id": id, "juror_id": juror.id, "stage": stage}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let scores: serde_json::Map<String, serde_json::Value> = grid["stages"][0]["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["key"].as_str().unwrap().to_owned(), c["min"].clone()))
        .collect();

    let detail = format!("/api/v1/applications/{id}");
    let mut reads = Vec::new();
    for token in [applicant, &juror.token, admin] {
        let (status, n) = statements_of(&app, Method::GET, &detail, token, None).await;
        assert_eq!(status, StatusCode::OK);
        reads.push(n);
    }
    // The token (the cache is off), the application, the facts, its attachments, its partner and, for those
    // who may see one (not a juror), its published decision.
    assert_eq!(reads, vec![6, 5, 6], "statements of a detail read");

    let review = format!("/api/v1/applications/{id}/reviews/mine");
    let body = json!({"stage": stage, "scores": scores});
    let (status, first) =
        statements_of(&app, Method::PUT, &review, &juror.token, Some(body.clone())).await;
    assert_eq!(status, StatusCode::OK);
    let (status, again) = statements_of(&app, Method::PUT, &review, &juror.token, Some(body)).await;
    assert_eq!(status, StatusCode::OK);
    // The same whether the review is new or saved again; the juror's facts are one of them (three before).
    assert_eq!((first, again), (10, 10), "statements of a review save");
}
