//! Integrations: a partner tool follows a call through the event feed or a webhook alone. The webhook
//! receiver (`helpers::receiver`) is a real HTTP server run by the test; it checks every signature with the
//! procedure documented in `docs/webhooks.md`.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::receiver::{verify, Receiver};
use crate::helpers::*;

const SECRET: &str = "a-long-shared-secret-for-tests";

async fn register_webhook(app: &TestApp, admin: &str, url: &str, events: Value) -> String {
    let (status, webhook) = app
        .post(
            "/api/v1/admin/webhooks",
            Some(admin),
            json!({"url": url, "events": events, "secret": SECRET}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{webhook}");
    assert!(webhook.get("secret").is_none(), "the secret is never shown");
    webhook["id"].as_str().unwrap().to_owned()
}

/// Reads the whole feed from the start, `page` events at a time, following `next_cursor` and then the last
/// id, as a partner tool would.
async fn read_feed(app: &TestApp, token: &str, query: &str, page: usize) -> Vec<Value> {
    let mut events: Vec<Value> = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut path = format!("/api/v1/events?limit={page}{query}");
        if let Some(after) = &after {
            path.push_str(&format!("&after={after}"));
        }
        let (status, body) = app.get(&path, Some(token)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let items = body["items"].as_array().unwrap().clone();
        assert!(items.len() <= page);
        let done = body["next_cursor"].is_null();
        if let Some(last) = items.last() {
            if !done {
                assert_eq!(body["next_cursor"], last["id"]);
            }
            after = Some(last["id"].as_str().unwrap().to_owned());
        }
        events.extend(items);
        if done {
            return events;
        }
    }
}

fn types(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| e["type"].as_str().unwrap()).collect()
}

fn ids(events: &[Value]) -> BTreeSet<String> {
    events
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_partner_follows_a_whole_call_through_the_feed_and_a_signed_webhook() {
    let app = TestApp::spawn().await;
    let admin = app.admin("staff@example.org").await;
    let receiver = Receiver::start().await;
    let webhook = register_webhook(&app, &admin, &receiver.url, json!(["*"])).await;

    // A whole Expérimentation Montagne call: two territories, one juror, decisions published.
    let call = app
        .open_call(&admin, "experimentation-montagne", "exp-2026")
        .await;
    let call_id = call["id"].as_str().unwrap().to_owned();
    let chamonix =
        eligible_territory(&app, &admin, &call_id, "chamonix@example.org", "Chamonix").await;
    let megeve = eligible_territory(&app, &admin, &call_id, "megeve@example.org", "Megève").await;
    let juror_token = app.applicant("juror@jury-montagne.fr").await;
    let (_, me) = app.get("/api/v1/me", Some(&juror_token)).await;
    let juror_id = me["id"].as_str().unwrap().to_owned();
    let (status, body) = app
        .post(
            &format!("/api/v1/calls/{call_id}/jurors"),
            Some(&admin),
            json!({"user_id": juror_id}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let stage = &call["stages"][0];
    let stage_key = stage["key"].as_str().unwrap();
    let scores: serde_json::Map<String, Value> = stage["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["key"].as_str().unwrap().to_owned(), c["max"].clone()))
        .collect();
    for application in [&chamonix, &megeve] {
        let (status, body) = app
            .post(
                &format!("/api/v1/calls/{call_id}/assignments"),
                Some(&admin),
                json!({"application_id": application, "juror_id": juror_id, "stage": stage_key}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    for application in [&chamonix, &megeve] {
        let (status, body) = app
            .send(
                Method::PUT,
                &format!("/api/v1/applications/{application}/reviews/mine"),
                Some(&juror_token),
                Some(json!({"stage": stage_key, "scores": scores})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, body) = app
            .post(
                &format!("/api/v1/applications/{application}/reviews/mine/submit"),
                Some(&juror_token),
                json!({"stage": stage_key}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (status, body) = app
        .send(
            Method::PUT,
            &format!("/api/v1/calls/{call_id}/decisions"),
            Some(&admin),
            Some(json!([
                {"application_id": chamonix, "outcome": "selected", "motivation": "Un besoin clair."},
                {"application_id": megeve, "outcome": "rejected", "motivation": "Budget insuffisant."}
            ])),
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

    // The feed tells the whole story, in order, to a tool reading three events at a time.
    let feed = read_feed(&app, &admin, "", 3).await;
    let per_application = [
        "application.created",
        "application.submitted",
        "application.screened",
    ];
    let mut expected = vec!["call.created", "call.published"];
    expected.extend(per_application);
    expected.extend(per_application);
    expected.extend([
        "jury.juror_added",
        "assignment.created",
        "assignment.created",
        "review.submitted",
        "review.submitted",
        "application.decided",
        "application.decided",
        "decisions.published",
    ]);
    assert_eq!(types(&feed), expected);
    assert_eq!(ids(&feed).len(), feed.len(), "every event has its own id");
    let times: Vec<&str> = feed
        .iter()
        .map(|e| e["occurred_at"].as_str().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    assert!(feed.iter().all(|e| e["call_id"] == call_id.as_str()));
    let decided: Vec<(&Value, &Value)> = feed
        .iter()
        .filter(|e| e["type"] == "application.decided")
        .map(|e| (&e["application_id"], &e["data"]["outcome"]))
        .collect();
    assert!(decided.contains(&(&json!(chamonix), &json!("selected"))));
    assert!(decided.contains(&(&json!(megeve), &json!("rejected"))));
    let screened = feed
        .iter()
        .find(|e| e["type"] == "application.screened")
        .unwrap();
    assert_eq!(screened["data"]["status"], "eligible");
    assert!(
        !feed.iter().any(|e| e.to_string().contains("@example.org")),
        "the feed holds no personal data"
    );

    // Reading from the middle gives the rest, and the same page twice gives the same events.
    let middle = feed[6]["id"].as_str().unwrap();
    let (_, rest) = app
        .get(
            &format!("/api/v1/events?after={middle}&limit=200"),
            Some(&admin),
        )
        .await;
    assert_eq!(rest["items"].as_array().unwrap().as_slice(), &feed[7..]);
    assert!(rest["next_cursor"].is_null());

    // Another call's events stay out of a filtered feed; a type filter keeps only that type.
    app.open_call(&admin, "alpes-tourisme-lab", "atl-2026")
        .await;
    let only_this_call = read_feed(&app, &admin, &format!("&call_id={call_id}"), 50).await;
    assert_eq!(only_this_call, feed);
    let decisions = read_feed(&app, &admin, "&type=application.decided", 50).await;
    assert_eq!(types(&decisions), ["application.decided"; 2]);

    // The webhook received every event of the feed, each once at least, each signed with the secret.
    let everything = read_feed(&app, &admin, "", 200).await;
    let received = receiver.wait_for_events(&ids(&everything)).await;
    let now = chrono::Utc::now().timestamp();
    for delivery in &received {
        assert!(
            verify(
                SECRET,
                &delivery.timestamp,
                &delivery.body,
                &delivery.signature,
                now
            ),
            "{delivery:?}"
        );
        let body = delivery.json();
        assert_eq!(body["id"], delivery.event_id.as_str());
        assert_eq!(body["type"], delivery.event_type.as_str());
        let in_feed = everything
            .iter()
            .find(|e| e["id"] == body["id"])
            .expect("every delivery is an event of the feed");
        assert_eq!(
            &body, in_feed,
            "a delivery carries the event as the feed shows it"
        );
    }
    // The receiver may have answered before the worker recorded it: the log catches up.
    wait_for_delivered(&app, &admin, &webhook, everything.len()).await;
}

/// Waits until the webhook's delivery log shows `count` deliveries, all delivered.
async fn wait_for_delivered(app: &TestApp, admin: &str, webhook: &str, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, log) = app
            .get(
                &format!("/api/v1/admin/webhooks/{webhook}/deliveries?limit=200"),
                Some(admin),
            )
            .await;
        let log = log["items"].as_array().unwrap().clone();
        if log.len() == count && log.iter().all(|d| d["status"] == "delivered") {
            return;
        }
        assert!(Instant::now() < deadline, "{log:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn the_feed_is_for_administrators_and_their_admin_tokens() {
    let app = TestApp::spawn().await;
    let admin = app.admin("staff@example.org").await;
    let applicant = app.applicant("founder@example.org").await;
    app.open_call(&admin, "alpes-tourisme-lab", "atl-2026")
        .await;

    let (status, _) = app.get("/api/v1/events", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, body) = app.get("/api/v1/events", Some(&applicant)).await;
    assert_problem(status, &body, StatusCode::FORBIDDEN);

    for (scopes, expected) in [
        (json!(["admin"]), StatusCode::OK),
        (json!(["applications:read"]), StatusCode::FORBIDDEN),
    ] {
        let (status, token) = app
            .post(
                "/api/v1/me/tokens",
                Some(&admin),
                json!({"name": "partner tool", "scopes": scopes}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{token}");
        let (status, _) = app.get("/api/v1/events", token["token"].as_str()).await;
        assert_eq!(status, expected, "scopes {scopes}");
    }

    let (status, body) = app
        .get(
            "/api/v1/events?after=0190a0b0-0000-7000-8000-000000000000&limit=0&type=call.exploded",
            Some(&admin),
        )
        .await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(failing_fields(&body), ["limit", "type"]);
    let (status, body) = app
        .get(
            "/api/v1/events?after=0190a0b0-0000-7000-8000-000000000000",
            Some(&admin),
        )
        .await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(failing_fields(&body), ["after"]);
}

#[tokio::test]
async fn a_receiver_that_is_down_for_a_while_gets_every_event_afterwards() {
    let app = TestApp::spawn().await;
    let admin = app.admin("staff@example.org").await;
    let receiver = Receiver::start().await;
    receiver.answer_with(503);
    let webhook = register_webhook(
        &app,
        &admin,
        &receiver.url,
        json!(["call.created", "call.published"]),
    )
    .await;

    for slug in ["atl-2026", "atl-2027", "atl-2028"] {
        app.open_call(&admin, "alpes-tourisme-lab", slug).await;
    }
    let feed = read_feed(&app, &admin, "", 50).await;
    assert_eq!(feed.len(), 6);

    // While the receiver is down, every delivery is retried and the log shows why.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, log) = app
            .get(
                &format!("/api/v1/admin/webhooks/{webhook}/deliveries"),
                Some(&admin),
            )
            .await;
        let log = log["items"].as_array().unwrap().clone();
        let retried = log
            .iter()
            .filter(|d| d["attempts"].as_i64().unwrap() >= 2 && d["last_status_code"] == 503)
            .count();
        if log.len() == 6 && retried == 6 {
            assert!(log.iter().all(|d| d["status"] != "delivered"));
            break;
        }
        assert!(Instant::now() < deadline, "not retried: {log:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(receiver.all().is_empty());

    // Back up: every event arrives, each signature valid, none lost.
    receiver.answer_with(200);
    let received = receiver.wait_for_events(&ids(&feed)).await;
    let now = chrono::Utc::now().timestamp();
    assert!(received
        .iter()
        .all(|d| verify(SECRET, &d.timestamp, &d.body, &d.signature, now)));
    wait_for_delivered(&app, &admin, &webhook, 6).await;
    let (_, hook) = app
        .get(&format!("/api/v1/admin/webhooks/{webhook}"), Some(&admin))
        .await;
    assert_eq!(hook["status"], "active");
    assert_eq!(hook["consecutive_failures"], 0);
}

#[tokio::test]
async fn a_tampered_delivery_fails_the_documented_verification() {
    let app = TestApp::spawn().await;
    let admin = app.admin("staff@example.org").await;
    let receiver = Receiver::start().await;
    let webhook = register_webhook(&app, &admin, &receiver.url, json!(["*"])).await;

    let (status, delivery) = app
        .post(
            &format!("/api/v1/admin/webhooks/{webhook}/test"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{delivery}");
    let event_id = delivery["event_id"].as_str().unwrap().to_owned();
    let received = receiver
        .wait_for_events(&BTreeSet::from([event_id.clone()]))
        .await;
    let test = received.iter().find(|d| d.event_id == event_id).unwrap();
    assert_eq!(test.event_type, "webhook.test");
    let now = chrono::Utc::now().timestamp();
    assert!(verify(
        SECRET,
        &test.timestamp,
        &test.body,
        &test.signature,
        now
    ));

    let tampered = test.body.replace("webhook.test", "webhook.tost");
    assert!(!verify(
        SECRET,
        &test.timestamp,
        &tampered,
        &test.signature,
        now
    ));
    assert!(!verify(
        "another-secret-of-some-length",
        &test.timestamp,
        &test.body,
        &test.signature,
        now
    ));
    let later = (test.timestamp.parse::<i64>().unwrap() + 1).to_string();
    assert!(
        !verify(SECRET, &later, &test.body, &test.signature, now),
        "the timestamp is signed too"
    );
    assert!(
        !verify(
            SECRET,
            &test.timestamp,
            &test.body,
            &test.signature,
            now + 3600
        ),
        "a replay an hour later"
    );

    // The test event is not a domain event: the feed does not show it.
    let feed = read_feed(&app, &admin, "", 50).await;
    assert!(!ids(&feed).contains(&event_id));
}

#[tokio::test]
async fn a_webhook_that_keeps_failing_is_disabled_the_admins_are_told_and_it_resumes_when_enabled()
{
    let app = TestApp::spawn_with(Options {
        configure: Box::new(|s| s.webhooks.disable_after_failures = 3),
        ..Default::default()
    })
    .await;
    let admin = app.admin("staff@example.org").await;
    let receiver = Receiver::start().await;
    receiver.answer_with(500);
    let webhook = register_webhook(&app, &admin, &receiver.url, json!(["call.published"])).await;
    app.open_call(&admin, "alpes-tourisme-lab", "atl-2026")
        .await;

    let email = app
        .mailbox
        .wait_for_subject("staff@example.org", "webhook")
        .await;
    assert!(email.text().contains(&receiver.url), "{}", email.text());
    let (_, hook) = app
        .get(&format!("/api/v1/admin/webhooks/{webhook}"), Some(&admin))
        .await;
    assert_eq!(hook["status"], "disabled", "{hook}");
    assert!(hook["disabled_reason"].as_str().unwrap().contains("500"));
    let (status, body) = app
        .post(
            &format!("/api/v1/admin/webhooks/{webhook}/test"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_problem(status, &body, StatusCode::CONFLICT);

    // Events while it is disabled wait for it; enabling it delivers them all.
    app.open_call(&admin, "alpes-tourisme-lab", "atl-2027")
        .await;
    receiver.answer_with(200);
    let (status, hook) = app
        .post(
            &format!("/api/v1/admin/webhooks/{webhook}/enable"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{hook}");
    assert_eq!(hook["status"], "active");
    let published = read_feed(&app, &admin, "&type=call.published", 50).await;
    assert_eq!(published.len(), 2);
    receiver.wait_for_events(&ids(&published)).await;
}

#[tokio::test]
async fn webhooks_refuse_bad_targets_and_are_for_administrators() {
    let app = TestApp::spawn_with(Options {
        configure: Box::new(|s| s.webhooks.allow_private_targets = false),
        ..Default::default()
    })
    .await;
    let admin = app.admin("staff@example.org").await;
    let applicant = app.applicant("founder@example.org").await;

    let (status, body) = app
        .post(
            "/api/v1/admin/webhooks",
            Some(&admin),
            json!({"url": "http://127.0.0.1:9/hook", "events": ["call.published", "call.exploded"], "secret": "short"}),
        )
        .await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(failing_fields(&body), ["events.1", "secret", "url"]);
    let url_error = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["field"] == "url")
        .unwrap();
    assert_eq!(url_error["code"], "private_address");

    for (url, code) in [
        ("ftp://hooks.example.org/", "unsupported_scheme"),
        ("http://169.254.169.254/latest/meta-data", "private_address"),
        ("http://[::1]:8080/", "private_address"),
        ("http://localhost:8080/", "private_address"),
        ("https://user:pw@hooks.example.org/", "credentials_in_url"),
        ("hooks.example.org", "invalid_url"),
    ] {
        let (status, body) = app
            .post(
                "/api/v1/admin/webhooks",
                Some(&admin),
                json!({"url": url, "events": ["*"], "secret": SECRET}),
            )
            .await;
        assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(body["errors"][0]["code"], code, "{url}");
    }

    let (status, body) = app
        .post(
            "/api/v1/admin/webhooks",
            Some(&applicant),
            json!({"url": "https://hooks.example.org/", "events": ["*"], "secret": SECRET}),
        )
        .await;
    assert_problem(status, &body, StatusCode::FORBIDDEN);
    let (status, _) = app.get("/api/v1/admin/webhooks", Some(&applicant)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // A public target is accepted, listed without its secret, and deleted with its log.
    let id = register_webhook(
        &app,
        &admin,
        "https://hooks.example.org/cordee",
        json!(["*"]),
    )
    .await;
    let (_, list) = app.get("/api/v1/admin/webhooks", Some(&admin)).await;
    assert_eq!(list["items"][0]["id"], id.as_str());
    assert!(!list.to_string().contains(SECRET));
    let (status, _) = app
        .send(
            Method::DELETE,
            &format!("/api/v1/admin/webhooks/{id}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = app
        .get(&format!("/api/v1/admin/webhooks/{id}"), Some(&admin))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
