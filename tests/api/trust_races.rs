//! The same state change requested many times at once (a double click, a client retry, two staff members):
//! it happens once, and what it sends is sent once. Counted where it lands: the outbox, the mailbox, the
//! event feed. On SQLite writes run one at a time; on PostgreSQL these requests truly race.

use std::collections::BTreeMap;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tokio::task::JoinSet;

use crate::evaluation::{assign, call_with_eligible, juror, save_review, scores};
use crate::helpers::*;

/// Sends the same request `n` times at once; returns every answer.
async fn at_once(
    app: &TestApp,
    n: usize,
    method: Method,
    path: &str,
    token: &str,
    body: Value,
) -> Vec<(StatusCode, Value)> {
    let mut set = JoinSet::new();
    for _ in 0..n {
        let request = app.request(method.clone(), path, Some(token)).json(&body);
        set.spawn(async move {
            let response = request.send().await.expect("the server answers");
            let status = response.status();
            let text = response.text().await.unwrap();
            (
                status,
                serde_json::from_str(&text).unwrap_or(Value::String(text)),
            )
        });
    }
    set.join_all().await
}

/// The events of a call in the feed, by type.
async fn events(app: &TestApp, admin: &str, call_id: &str) -> BTreeMap<String, usize> {
    let (status, feed) = app
        .get(
            &format!("/api/v1/events?call_id={call_id}&limit=200"),
            Some(admin),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{feed}");
    assert!(feed["next_cursor"].is_null(), "one page holds the feed");
    let mut counts = BTreeMap::new();
    for event in feed["items"].as_array().unwrap() {
        *counts
            .entry(event["type"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    counts
}

/// How many emails of `event` the outbox holds per recipient.
async fn queued(app: &TestApp, admin: &str, event: &str) -> BTreeMap<String, usize> {
    let (status, outbox) = app.get("/api/v1/admin/outbox?limit=200", Some(admin)).await;
    assert_eq!(status, StatusCode::OK, "{outbox}");
    assert!(outbox["next_cursor"].is_null(), "one page holds the outbox");
    let mut counts = BTreeMap::new();
    for email in outbox["items"].as_array().unwrap() {
        if email["event"] == event {
            *counts
                .entry(email["recipient"].as_str().unwrap().to_owned())
                .or_default() += 1;
        }
    }
    counts
}

/// A single-stage Expérimentation Montagne call with `n` eligible territories and a pending decision each;
/// returns the call and each territory's (email, token, application).
async fn decided_call(
    app: &TestApp,
    admin: &str,
    n: usize,
) -> (String, Vec<(String, String, String)>) {
    let call = app
        .open_call(admin, "experimentation-montagne", "exp-races")
        .await;
    let call_id = call["id"].as_str().unwrap().to_owned();
    let mut territories = Vec::new();
    let mut decisions = Vec::new();
    for i in 0..n {
        let email = format!("mairie{i}@commune{i}.example");
        let (token, id) = submitted_territory(app, &call_id, &email, &format!("Commune {i}")).await;
        let (status, body) = app
            .post(
                &format!("/api/v1/applications/{id}/screening"),
                Some(admin),
                json!({"outcome": "eligible"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        decisions.push(
            json!({"application_id": id, "outcome": "selected", "motivation": "Un besoin clair"}),
        );
        territories.push((email, token, id));
    }
    let (status, body) = app
        .send(
            Method::PUT,
            &format!("/api/v1/calls/{call_id}/decisions"),
            Some(admin),
            Some(Value::Array(decisions)),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    (call_id, territories)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twelve_staff_clicks_on_publish_at_once_send_each_decision_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin("staff@example.org").await;
    let (call_id, territories) = decided_call(&app, &admin, 3).await;

    let answers = at_once(
        &app,
        12,
        Method::POST,
        &format!("/api/v1/calls/{call_id}/decisions/publish"),
        &admin,
        json!({}),
    )
    .await;

    let mut published = 0;
    for (status, body) in &answers {
        assert_eq!(*status, StatusCode::OK, "{body}");
        published += body["published"].as_u64().unwrap();
    }
    assert_eq!(
        published, 3,
        "each decision published by one request: {answers:?}"
    );
    let queued = queued(&app, &admin, "decision_published").await;
    for (email, _, _) in &territories {
        assert_eq!(queued.get(email), Some(&1), "{queued:?}");
    }
    let events = events(&app, &admin, &call_id).await;
    assert_eq!(events.get("application.decided"), Some(&3), "{events:?}");
    assert_eq!(events.get("decisions.published"), Some(&1), "{events:?}");
    for (email, _, _) in &territories {
        app.mailbox.wait_for_subject(email, "Décision").await;
    }
    // Everything queued has arrived: one decision each, no more.
    let total: usize = app
        .get("/api/v1/admin/outbox?limit=200", Some(&admin))
        .await
        .1["items"]
        .as_array()
        .unwrap()
        .len();
    let received = app.mailbox.wait_for(total).await;
    for (email, _, _) in &territories {
        let decisions = received
            .iter()
            .filter(|e| e.to.contains(email) && e.subject().contains("Décision"))
            .count();
        assert_eq!(decisions, 1, "{email}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn applicants_withdrawing_while_staff_publish_keep_what_they_were_told() {
    let app = TestApp::spawn().await;
    let admin = app.admin("staff@example.org").await;
    let (call_id, territories) = decided_call(&app, &admin, 4).await;
    let publish_path = format!("/api/v1/calls/{call_id}/decisions/publish");

    let mut set = JoinSet::new();
    let publish = app
        .request(Method::POST, &publish_path, Some(&admin))
        .json(&json!({}));
    set.spawn(async move { (None, publish.send().await.unwrap().status()) });
    for (i, (_, token, id)) in territories.iter().enumerate() {
        let withdraw = app
            .request(
                Method::POST,
                &format!("/api/v1/applications/{id}/withdraw"),
                Some(token),
            )
            .json(&json!({"reason": "Projet abandonné"}));
        set.spawn(async move { (Some(i), withdraw.send().await.unwrap().status()) });
    }
    let answers = set.join_all().await;

    let queued = queued(&app, &admin, "decision_published").await;
    for (i, status) in answers {
        let Some(i) = i else {
            assert_eq!(status, StatusCode::OK);
            continue;
        };
        let (email, _, id) = &territories[i];
        let (_, view) = app
            .get(&format!("/api/v1/applications/{id}"), Some(&admin))
            .await;
        if status == StatusCode::OK {
            assert_eq!(view["status"], "withdrawn", "told withdrawn: {view}");
            // Withdrawn before the publication: never told a decision. A laureate may also withdraw after
            // it: told the decision once, and the withdrawal is then part of the decision's history.
            match queued.get(email) {
                None => assert!(view["decision"].is_null(), "{view}"),
                Some(1) => assert!(view["decision"]["withdrawn_at"].is_string(), "{view}"),
                Some(n) => panic!("{email} was told the decision {n} times"),
            }
        } else {
            assert_eq!(status, StatusCode::CONFLICT);
            assert_eq!(view["status"], "selected", "{view}");
            assert_eq!(queued.get(email), Some(&1));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_double_shortlist_moves_each_application_once() {
    let app = TestApp::spawn().await;
    let call = call_with_eligible(&app, 3).await;
    let body = json!({"application_ids": [call.applications[0], call.applications[1]], "next_stage": "pitch"});

    let answers = at_once(
        &app,
        8,
        Method::POST,
        &format!("/api/v1/calls/{}/shortlist", call.id),
        &call.admin,
        body,
    )
    .await;

    let ok = answers.iter().filter(|(s, _)| *s == StatusCode::OK).count();
    assert_eq!(ok, 1, "{answers:?}");
    for (status, body) in &answers {
        assert!(
            [
                StatusCode::OK,
                StatusCode::CONFLICT,
                StatusCode::UNPROCESSABLE_ENTITY
            ]
            .contains(status),
            "{status} {body}"
        );
    }
    let events = events(&app, &call.admin, &call.id).await;
    assert_eq!(
        events.get("application.shortlisted"),
        Some(&2),
        "{events:?}"
    );
    assert_eq!(
        events.get("application.not_shortlisted"),
        Some(&1),
        "{events:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_juror_submitting_the_same_review_eight_times_at_once_submits_it_once() {
    let app = TestApp::spawn().await;
    let call = call_with_eligible(&app, 1).await;
    let target = call.applications[0].clone();
    let lou = juror(&app, &call, "lou@jury-lou.example").await;
    assign(&app, &call, &target, &lou).await;
    let (status, body) = save_review(
        &app,
        &lou,
        &target,
        json!({"stage": "written", "scores": scores([3.0, 3.0, 3.0, 3.0, 3.0])}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let answers = at_once(
        &app,
        8,
        Method::POST,
        &format!("/api/v1/applications/{target}/reviews/mine/submit"),
        &lou.token,
        json!({"stage": "written"}),
    )
    .await;

    let ok = answers.iter().filter(|(s, _)| *s == StatusCode::OK).count();
    assert_eq!(ok, 1, "{answers:?}");
    for (status, body) in &answers {
        if *status != StatusCode::OK {
            assert_eq!(*status, StatusCode::CONFLICT, "{body}");
            assert_eq!(body["code"], "review_submitted", "{body}");
        }
    }
    let events = events(&app, &call.admin, &call.id).await;
    assert_eq!(events.get("review.submitted"), Some(&1), "{events:?}");
}
