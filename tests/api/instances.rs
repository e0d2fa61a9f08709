//! Two Cordée instances on one database, as behind a load balancer (PostgreSQL, or one SQLite file both
//! open): under concurrent submissions spread over both, reference numbers stay unique and gapless, and
//! every email, webhook delivery and reminder goes out once although both instances run the worker.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::receiver::Receiver;
use crate::helpers::*;

/// Submissions in parallel, half through each instance.
const SUBMISSIONS: usize = 40;
/// Drafts left in a call that closes in three days: each owner is reminded once.
const DRAFTS: usize = 8;

/// The whole event feed, oldest first.
async fn feed(app: &TestApp, admin: &str) -> Vec<Value> {
    let mut events = Vec::new();
    let mut path = "/api/v1/events?limit=200".to_owned();
    loop {
        let (status, body) = app.get(&path, Some(admin)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        events.extend(body["items"].as_array().unwrap().iter().cloned());
        match body["next_cursor"].as_str() {
            Some(after) => path = format!("/api/v1/events?limit=200&after={after}"),
            None => return events,
        }
    }
}

/// The whole outbox.
async fn outbox(app: &TestApp, admin: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut path = "/api/v1/admin/outbox?limit=200".to_owned();
    loop {
        let (status, body) = app.get(&path, Some(admin)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        items.extend(body["items"].as_array().unwrap().iter().cloned());
        match body["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/admin/outbox?limit=200&cursor={cursor}"),
            None => return items,
        }
    }
}

/// A draft of `call_id` for a new territory of the applicant; returns the application's id.
async fn draft(app: &TestApp, token: &str, call_id: &str, name: &str, letter: bool) -> String {
    let org = app.organization(token, "territory", name).await;
    let (status, created) = app
        .post(
            &format!("/api/v1/calls/{call_id}/applications"),
            Some(token),
            json!({"organization_id": org, "answers": exp_answers()}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    if letter {
        let (status, file) = app
            .upload(token, &id, "support_letter", "lettre.pdf", pdf_bytes())
            .await;
        assert_eq!(status, StatusCode::CREATED, "{file}");
    }
    id
}

#[tokio::test]
async fn two_instances_under_concurrent_submissions_number_once_and_deliver_everything_once() {
    let app = TestApp::spawn().await;
    let other = app.another_instance().await;
    let admin = app.admin("staff@example.org").await;
    let receiver = Receiver::start().await;
    let event_ids = || -> Vec<String> { receiver.all().into_iter().map(|r| r.event_id).collect() };
    let (status, webhook) = app
        .post(
            "/api/v1/admin/webhooks",
            Some(&admin),
            json!({"url": receiver.url, "events": ["*"], "secret": "a-long-shared-secret-for-tests"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{webhook}");

    // One territory official applies for many communes: one account, one application per commune.
    let call = app
        .open_call(&admin, "experimentation-montagne", "exp-2026")
        .await;
    let call_id = call["id"].as_str().unwrap();
    let closing = app
        .open_call_closing_in(
            &admin,
            "experimentation-montagne",
            "exp-2026-express",
            chrono::Duration::days(3),
        )
        .await;
    let official = app.applicant("elu@example.org").await;
    let mut applications = Vec::new();
    for i in 0..SUBMISSIONS {
        let instance = if i % 2 == 0 { &app } else { &other };
        let name = format!("Commune {i}");
        applications.push(draft(instance, &official, call_id, &name, true).await);
    }
    // Drafts in the call closing soon: both workers see each of them due for its 7-day reminder.
    for i in 0..DRAFTS {
        let instance = if i % 2 == 0 { &other } else { &app };
        let name = format!("Village {i}");
        draft(
            instance,
            &official,
            closing["id"].as_str().unwrap(),
            &name,
            false,
        )
        .await;
    }

    // Every submission at once, half through each instance.
    let submissions = applications.iter().enumerate().map(|(i, id)| {
        let instance = if i % 2 == 0 { &app } else { &other };
        let official = official.clone();
        async move {
            instance
                .post(
                    &format!("/api/v1/applications/{id}/submit"),
                    Some(&official),
                    json!({}),
                )
                .await
        }
    });
    let answers = futures_util::future::join_all(submissions).await;
    let mut numbers: Vec<u32> = Vec::new();
    let mut references = BTreeSet::new();
    for (status, body) in &answers {
        assert_eq!(*status, StatusCode::OK, "{body}");
        let reference = body["reference"].as_str().unwrap().to_owned();
        numbers.push(reference.rsplit('-').next().unwrap().parse().unwrap());
        references.insert(reference);
    }
    numbers.sort_unstable();
    assert_eq!(
        numbers,
        (1..=SUBMISSIONS as u32).collect::<Vec<_>>(),
        "unique, from 1, without gaps: {references:?}"
    );

    // Every email of the outbox is sent, each received exactly once.
    let deadline = Instant::now() + Duration::from_secs(60);
    let items = loop {
        let items = outbox(&app, &admin).await;
        let receipts = items
            .iter()
            .filter(|i| i["event"] == "submission_receipt")
            .count();
        let reminders = items
            .iter()
            .filter(|i| i["event"] == "draft_reminder")
            .count();
        if receipts == SUBMISSIONS
            && reminders >= DRAFTS
            && items.iter().all(|i| i["status"] == "sent")
        {
            break items;
        }
        assert!(
            Instant::now() < deadline,
            "{receipts} receipts, {reminders} reminders queued; not all sent: {:?}",
            items
                .iter()
                .filter(|i| i["status"] != "sent")
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let received = app.mailbox.wait_for(items.len()).await;
    let mut copies: BTreeMap<String, usize> = BTreeMap::new();
    for email in &received {
        *copies.entry(email.message_id()).or_default() += 1;
    }
    for item in &items {
        assert_eq!(
            copies.get(item["message_id"].as_str().unwrap()),
            Some(&1),
            "received exactly once: {item}"
        );
    }
    assert_eq!(received.len(), items.len(), "nothing else arrived");

    // One receipt per reference.
    let receipts: Vec<&ReceivedEmail> = received
        .iter()
        .filter(|e| e.subject().contains("Accusé de réception"))
        .collect();
    assert_eq!(receipts.len(), SUBMISSIONS);
    for reference in &references {
        let carrying = receipts
            .iter()
            .filter(|e| e.text().contains(reference.as_str()))
            .count();
        assert_eq!(carrying, 1, "one receipt carries {reference}");
    }
    // One reminder per draft of the call closing soon, never two.
    let reminders = items
        .iter()
        .filter(|i| i["event"] == "draft_reminder")
        .count();
    assert_eq!(reminders, DRAFTS, "each draft reminded once");

    // Every event of the feed reached the webhook, each exactly once.
    let events = feed(&app, &admin).await;
    let expected: BTreeSet<String> = events
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        events
            .iter()
            .filter(|e| e["type"] == "application.submitted")
            .count()
            == SUBMISSIONS,
        "{events:?}"
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let got: BTreeSet<String> = event_ids().into_iter().collect();
        if expected.is_subset(&got) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "webhook deliveries missing: {:?}",
            expected.difference(&got).collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut delivered = event_ids();
    delivered.sort();
    let count = delivered.len();
    delivered.dedup();
    assert_eq!(count, delivered.len(), "no event delivered twice");
    assert_eq!(
        delivered.into_iter().collect::<BTreeSet<_>>(),
        expected,
        "the webhook got the feed, no more"
    );
}
