//! Applications at their edges: who may start one and when, malformed and incomplete answers, closing
//! times, optimistic concurrency, idempotent submission, attachments (type, size, interrupted uploads,
//! downloads), list scoping, the message thread, screening, withdrawal and deadline reminders.
//! The happy-path journeys live in `journeys.rs`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use cordee::clock::Clock;
use futures_util::future::join_all;
use futures_util::StreamExt;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::helpers::*;

/// A Monday morning in spring 2026, for the tests that drive the clock.
fn monday() -> DateTime<Utc> {
    "2026-03-02T09:00:00Z".parse().unwrap()
}

/// A test application whose clock stays where the test puts it.
async fn spawn_at(at: DateTime<Utc>) -> TestApp {
    TestApp::spawn_with(Options {
        clock: Clock::manual(at),
        ..Default::default()
    })
    .await
}

/// Registers an applicant with a start-up (or an organization of `kind`); returns the token and the
/// organization's id.
async fn applicant_with(app: &TestApp, email: &str, kind: &str, name: &str) -> (String, String) {
    let token = app.applicant(email).await;
    let org = app.organization(&token, kind, name).await;
    (token, org)
}

/// Starts a draft; returns the status and the answer.
async fn start(
    app: &TestApp,
    token: &str,
    call_id: &str,
    org: &str,
    answers: Value,
) -> (StatusCode, Value) {
    app.post(
        &format!("/api/v1/calls/{call_id}/applications"),
        Some(token),
        json!({"organization_id": org, "answers": answers}),
    )
    .await
}

/// Starts a draft that must be accepted; returns its id.
async fn draft(app: &TestApp, token: &str, call_id: &str, org: &str, answers: Value) -> String {
    let (status, body) = start(app, token, call_id, org, answers).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["status"], "draft", "{body}");
    body["id"].as_str().unwrap().to_owned()
}

/// A draft of the Alpes Tourisme Lab with every answer and its pitch deck: ready to submit.
async fn complete_draft(app: &TestApp, token: &str, call_id: &str, org: &str) -> String {
    let id = draft(app, token, call_id, org, atl_answers()).await;
    let (status, body) = app
        .upload(token, &id, "pitch_deck", "deck.pdf", pdf_bytes())
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    id
}

async fn submit(app: &TestApp, token: &str, id: &str) -> (StatusCode, Value) {
    app.post(
        &format!("/api/v1/applications/{id}/submit"),
        Some(token),
        json!({}),
    )
    .await
}

/// Submits and expects it to work; returns the reference.
async fn submitted(app: &TestApp, token: &str, id: &str) -> String {
    let (status, body) = submit(app, token, id).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "submitted", "{body}");
    body["reference"].as_str().unwrap().to_owned()
}

/// GETs an application; returns the status, the body and the ETag.
async fn read(app: &TestApp, id: &str, token: &str) -> (StatusCode, Value, Option<String>) {
    let response = app
        .request(
            Method::GET,
            &format!("/api/v1/applications/{id}"),
            Some(token),
        )
        .send()
        .await
        .unwrap();
    let status = response.status();
    let etag = response
        .headers()
        .get("etag")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = response.json().await.unwrap();
    (status, body, etag)
}

/// PATCHes the answers of an application with `If-Match: etag`.
async fn patch(
    app: &TestApp,
    id: &str,
    token: &str,
    etag: &str,
    answers: Value,
) -> (StatusCode, Value) {
    let response = app
        .request(
            Method::PATCH,
            &format!("/api/v1/applications/{id}"),
            Some(token),
        )
        .header("If-Match", etag)
        .json(&json!({ "answers": answers }))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body = response.json().await.unwrap();
    (status, body)
}

/// The codes of the errors on `field` in a 422 answer.
fn codes_of(body: &Value, field: &str) -> Vec<String> {
    body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("a 422 lists its errors: {body}"))
        .iter()
        .filter(|e| e["field"] == field)
        .map(|e| e["code"].as_str().unwrap().to_owned())
        .collect()
}

/// The files (temporary or kept) in the attachment folder.
fn stored_files(dir: &Path) -> Vec<PathBuf> {
    match std::fs::read_dir(dir) {
        Err(_) => Vec::new(),
        Ok(entries) => entries
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_file())
            .collect(),
    }
}

/// Emails to `to` whose subject contains one of `subjects` (French or English wording).
fn emails_about(app: &TestApp, to: &str, subjects: &[&str]) -> Vec<ReceivedEmail> {
    app.mailbox
        .emails_to(to)
        .into_iter()
        .filter(|e| {
            let subject = e.subject();
            subjects.iter().any(|s| subject.contains(s))
        })
        .collect()
}

/// Waits (up to 15 s) until `to` has received `count` emails whose subject contains one of `subjects`.
async fn wait_for_emails_about(
    app: &TestApp,
    to: &str,
    subjects: &[&str],
    count: usize,
) -> Vec<ReceivedEmail> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let emails = emails_about(app, to, subjects);
        if emails.len() >= count {
            return emails;
        }
        assert!(
            Instant::now() < deadline,
            "expected {count} emails {subjects:?} to {to}, got {:?}",
            app.mailbox
                .emails_to(to)
                .iter()
                .map(|e| e.subject())
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Every email queued for `event` to `recipient`, as the outbox shows them: a count that does not depend
/// on delivery timing.
async fn queued(app: &TestApp, admin: &str, event: &str, recipient: &str) -> Vec<Value> {
    let (status, body) = app.get("/api/v1/admin/outbox?limit=200", Some(admin)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"] == event && e["recipient"] == recipient)
        .cloned()
        .collect()
}

/// The ids of the applications in a list answer.
fn ids_in(body: &Value) -> Vec<String> {
    let mut ids: Vec<String> = body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("a list: {body}"))
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

const RECEIPT: &[&str] = &["Accusé de réception", "received"];
const NEW_MESSAGE: &[&str] = &["Nouveau message", "New message"];
const REMINDER: &[&str] = &["Rappel", "Reminder"];

// ---------------------------------------------------------------------------------------------------
// Creating an application
// ---------------------------------------------------------------------------------------------------

#[tokio::test]
async fn applying_for_an_organization_one_is_not_a_member_of_is_a_422_on_organization_id() {
    let app = TestApp::spawn().await;
    let admin = app.admin("admin@example.org").await;
    let call = app
        .open_call(&admin, "alpes-tourisme-lab", "atl-2026")
        .await;
    let (_, theirs) = applicant_with(&app, "owner@example.org", "startup", "Neige Express").await;
    let stranger = app.applicant("stranger@example.org").await;

    let (status, body) = start(
        &app,
        &stranger,
        call["id"].as_str().unwrap(),
        &theirs,
        json!({}),
    )
    .await;

    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(failing_fields(&body), vec!["organization_id"]);
    assert_eq!(codes_of(&body, "organization_id"), vec!["not_a_member"]);
    let (_, list) = app.get("/api/v1/applications", Some(&admin)).await;
    assert!(ids_in(&list).is_empty(), "{list}");
}

#[tokio::test]
async fn a_territory_cannot_apply_to_the_startup_call() {
    let app = TestApp::spawn().await;
    let admin = app.admin("admin@example.org").await;
    let call = app
        .open_call(&admin, "alpes-tourisme-lab", "atl-2026")
        .await;
    let (mayor, commune) = applicant_with(
        &app,
        "mairie@example.org",
        "territory",
        "Commune de Chamonix",
    )
    .await;

    let (status, body) = start(
        &app,
        &mayor,
        call["id"].as_str().unwrap(),
        &commune,
        json!({}),
    )
    .await;

    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(failing_fields(&body), vec!["organization_id"]);
    assert_eq!(codes_of(&body, "organization_id"), vec!["not_eligible"]);
}

#[tokio::test]
async fn an_organization_applies_only_once_to_a_call() {
    let app = TestApp::spawn().await;
    let admin = app.admin("admin@example.org").await;
    let call = app
        .open_call(&admin, "alpes-tourisme-lab", "atl-2026")
        .await;
    let call_id = call["id"].as_str().unwrap();
    let (token, org) =
        applicant_with(&app, "founder@example.org", "startup", "Neige Express").await;
    let first = draft(&app, &token, call_id, &org, json!({})).await;

    let (status, body) = start(&app, &token, call_id, &org, json!({})).await;

    assert_problem(status, &body, StatusCode::CONFLICT);
    let (_, list) = app.get("/api/v1/applications", Some(&token)).await;
    assert_eq!(ids_in(&list), vec![first]);
}

#[tokio::test]
async fn an_unpublished_call_does_not_exist_for_applicants() {
    let app = TestApp::spawn().await;
    let admin = app.admin("admin@example.org").await;
    let now = app.clock.now();
    let (status, call) = app
        .post(
            "/api/v1/calls",
            Some(&admin),
            json!({
                "template": "alpes-tourisme-lab",
                "slug": "atl-draft",
                "opens_at": (now - chrono::Duration::days(1)).to_rfc3339(),
                "closes_at": (now + chrono::Duration::days(30)).to_rfc3339(),
            }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{call}");
    let (token, org) =
        applicant_with(&app, "founder@example.org", "startup", "Neige Express").await;

    let (status, body) = start(
        &app,
        &token,
        call["id"].as_str().unwrap(),
        &org,
        atl_answers(),
    )
    .await;

    assert_problem(status, &body, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn applications_start_only_while_the_call_is_open() {
    let app = spawn_at(monday()).await;
    let admin = app.admin("admin@example.org").await;
    let open = app
        .open_call(&admin, "alpes-tourisme-lab", "atl-2026")
        .await;
    let now = app.clock.now();
    let (status, upcoming) = app
        .post(
            "/api/v1/calls",
            Some(&admin),
            json!({
                "template": "alpes-tourisme-lab",
                "slug": "atl-2027",
                "edition": next_spare_edition(),
                "opens_at": (now + chrono::Duration::days(2)).to_rfc3339(),
                "closes_at": (now + chrono::Duration::days(60)).to_rfc3339(),
            }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{upcoming}");
    let upcoming_id = upcoming["id"].as_str().unwrap();
    let (status, body) = app
        .post(
            &format!("/api/v1/calls/{upcoming_id}/publish"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (token, org) =
        applicant_with(&app, "founder@example.org", "startup", "Neige Express").await;

    let (status, body) = start(&app, &token, upcoming_id, &org, json!({})).await;
    assert_problem(status, &body, StatusCode::CONFLICT);

    app.clock.advance(chrono::Duration::days(31));
    let token = app.login("founder@example.org", PASSWORD).await;
    let (status, body) = start(&app, &token, open["id"].as_str().unwrap(), &org, json!({})).await;
    assert_problem(status, &body, StatusCode::CONFLICT);

    let (_, list) = app.get("/api/v1/applications", Some(&token)).await;
    assert!(ids_in(&list).is_empty(), "{list}");
}

#[tokio::test]
async fn a_draft_with_malformed_answers_is_refused_listing_each_of_them() {
    let app = TestApp::spawn().await;
    let admin = app.admin("admin@example.org").await;
    let call = app
        .open_call(&admin, "alpes-tourisme-lab", "atl-2026")
        .await;
    let (token, org) =
        applicant_with(&app, "founder@example.org", "startup", "Neige Express").await;

    let (status, body) = start(
        &app,
        &token,
        call["id"].as_str().unwrap(),
        &org,
        json!({"solution_name": "Navette Neige", "revenue_last_year": "lots", "maturity": "unicorn"}),
    )
    .await;

    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        failing_fields(&body),
        vec!["answers.maturity", "answers.revenue_last_year"]
    );
    let (_, list) = app.get("/api/v1/applications", Some(&token)).await;
    assert!(ids_in(&list).is_empty(), "{list}");
}

// ---------------------------------------------------------------------------------------------------
// Editing and submitting
// ---------------------------------------------------------------------------------------------------

#[tokio::test]
async fn submitting_an_incomplete_application_lists_every_missing_answer_and_file_at_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin("admin@example.org").await;
    let call = app
        .open_call(&admin, "alpes-tourisme-lab", "atl-2026")
        .await;
    let (token, org) =
        applicant_with(&app, "founder@example.org", "startup", "Neige Express").await;
    let id = draft(
        &app,
        &token,
        call["id"].as_str().unwrap(),
        &org,
        json!({"solution_name": "Navette Neige", "maturity": "prototype", "rules_consent": false}),
    )
    .await;

    let (status, body) = submit(&app, &token, &id).await;

    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    let mut expected: Vec<String> = [
        "business_model",
        "challenges",
        "funds_raised",
        "impact",
        "novelty",
        "pitch_deck",
        "problem",
        "revenue_last_year",
        "rules_consent",
        "solution_description",
        "team_fte",
    ]
    .iter()
    .map(|k| format!("answers.{k}"))
    .collect();
    expected.sort();
    assert_eq!(failing_fields(&body), expected);
    let (_, read_back, _) = read(&app, &id, &token).await;
    assert_eq!(read_back["status"], "draft");
    assert!(read_back["reference"].is_null(), "{read_back}");
}

#[tokio::test]
async fn a_draft_cannot_be_submitted_once_the_call_has_closed() {
    let app = spawn_at(monday()).await;
    let admin = app.admin("admin@example.org").await;
    let call = app
        .open_call(&admin, "alpes-tourisme-lab", "atl-2026")
        .await;
    let (token, org) =
        applicant_with(&app, "founder@example.org", "startup", "Neige Express").await;
    let id = complete_draft(&app, &token, call["id"].as_str().unwrap(), &org).await;
    let closes_at: DateTime<Utc> = call["closes_at"].as_str().unwrap().parse().unwrap();

    app.clock.set(closes_at + chrono::Duration::seconds(1));
    let token = app.login("founder@example.org", PASSWORD).await;
    let (status, body) = submit(&app, &token, &id).await;

    assert_problem(status, &body, StatusCode::CONFLICT);
    let (_, read_back, _) = read(&app, &id, &token).await;
    assert_eq!(read_back["status"], "draft");
    assert!(emails_about(&app, "founder@example.org", RECEIPT).is_empty());
}

#[tokio::test]
async fn a_submitted_application_can_neither_be_submitted_again_nor_edited() {
    let app = TestApp::spawn().await;
    let admin = app.admin("admin@example.org").await;
    let call = app
        .open_call(&admin, "alpes-tourisme-lab", "atl-2026")
        .await;
    let (token, org) =
        applicant_with(&app, "founder@example.org", "startup", "Neige Express").await;
    let id = complete_draft(&app, &token, call["id"].as_str().unwrap(), &org).await;
    let reference = submitted(&app, &token, &id).await;
    let (_, before, etag) = read(&app, &id, &token).await;

    let (status, again) = submit(&app, &token, &id).await;
    let (patch_status, patched) = patch(
        &app,
        &id,
        &token,
        &etag.unwrap(),
        json!({"solution_name": "Autre nom"}),
    )
    .await;

    assert_problem(status, &again, StatusCode::CONFLICT);
    assert_problem(patch_status, &patched, StatusCode::CONFLICT);
    let (_, after, _) = read(&app, &id, &token).await;
    assert_eq!(after["status"], "submitted");
    assert_eq!(after["reference"], reference.as_str());
    assert_eq!(after["answers"], before["answers"]);
    assert_eq!(after["version"], before["version"]);
}

#[tokio::test]
async fn two_concurrent_edits_with_the_same_etag_one_wins_and_the_other_gets_412() {
    let app = TestApp::spawn().await;
    let admin = app.admin("admin@example.org").await;
    let call = app
        .open_call(&admin, "alpes-tourisme-lab", "atl-2026")
        .await;
    let (token, org) =
        applicant_with(&app, "founder@example.org", "startup", "Neige Express").await;
    let id = draft(&app, &token, call["id"].as_str().unwrap(), &org, json!({})).await;
    let (_, _, etag) = read(&app, &id, &token).await;
    let etag = etag.expect("an ETag");

    let results = join_all([
        patch(
            &app,
            &id,
            &token,
            &etag,
            json!({"solution_name": "Navette A"}),
        ),
        patch(
            &app,
            &id,
            &token,
            &etag,
            json!({"solution_name": "Navette B"}),
        ),
    ])
    .await;

    let mut statuses: Vec<u16> = results.iter().map(|(s, _)| s.as_u16()).collect();
    statuses.sort();
    assert_eq!(statuses, vec![200, 412], "{results:?}");
    let winning_name = results
        .iter()
        .find(|(s, _)| *s == StatusCode::OK)
        .map(|(_, b)| b["answers"]["solution_name"].clone())
        .unwrap();
    let (status, loser) = results
        .iter()
        .find(|(s, _)| *s == StatusCode::PRECONDITION_FAILED)
        .unwrap()
        .clone();
    assert_problem(status, &loser, StatusCode::PRECONDITION_FAILED);
    let (_, read_back, new_etag) = read(&app, &id, &token).await;
    assert_eq!(read_back["answers"]["solution_name"], winning_name);
    assert_eq!(read_back["version"], 2);
    assert_ne!(new_etag.unwrap(), etag);
}

#[tokio::test]
async fn twenty_concurrent_submits_with_one_idempotency_key_submit_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin("admin@example.org").await;
    let call = app
        .open_call(&admin, "alpes-tourisme-lab", "atl-2026")
        .await;
    let call_id = call["id"].as_str().unwrap();
    let (token, org) =
        applicant_with(&app, "founder@example.org", "startup", "Neige Express").await;
    let id = complete_draft(&app, &token, call_id, &org).await;

    let requests = (0..20).map(|_| {
        app.request(
            Method::POST,
            &format!("/api/v1/applications/{id}/submit"),
            Some(&token),
        )
        .header("Idempotency-Key", "submit-once-7f3a")
        .json(&json!({}))
        .send()
    });
    let responses = join_all(requests).await;

    let mut bodies = Vec::new();
    for response in responses {
        let response = response.expect("the server answers");
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert_eq!(status, StatusCode::OK, "{body}");
        bodies.push(body);
    }
    assert!(bodies.iter().all(|b| *b == bodies[0]), "{bodies:?}");
    assert_eq!(bodies[0]["status"], "submitted");
    let reference = bodies[0]["reference"].as_str().unwrap().to_owned();
    assert!(reference.starts_with("ATL-"), "{reference}");
    // Exactly one receipt was queued, and it arrives.
    assert_eq!(
        queued(&app, &admin, "submission_receipt", "founder@example.org")
            .await
            .len(),
        1
    );
    let receipt = wait_for_emails_about(&app, "founder@example.org", RECEIPT, 1).await;
    assert!(receipt[0].text().contains(&reference));
    // One reference number was used: the next organization gets the following one.
    let (other, other_org) =
        applicant_with(&app, "other@example.org", "startup", "Glacier Lab").await;
    let other_id = complete_draft(&app, &other, call_id, &other_org).await;
    let next = submitted(&app, &other, &other_id).await;
    assert_eq!(&next[..next.len() - 4], &reference[..reference.len() - 4]);
    let number = |r: &str| r[r.len() - 4..].parse::<u32>().unwrap();
    assert_eq!(
        number(&next),
        number(&reference) + 1,
        "{reference} then {next}"
    );

    // The same key for another request is refused.
    let (status, body) = {
        let response = app
            .request(
                Method::POST,
                &format!("/api/v1/calls/{call_id}/applications"),
                Some(&token),
            )
            .header("Idempotency-Key", "submit-once-7f3a")
            .json(&json!({"organization_id": org}))
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.json::<Value>().await.unwrap())
    };
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(failing_fields(&body), vec!["Idempotency-Key"]);
}

// ---------------------------------------------------------------------------------------------------
// Attachments
// ---------------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_png_named_like_a_pdf_is_refused_with_415_and_not_kept() {
    let app = TestApp::spawn().await;
    let admin = app.admin("admin@example.org").await;
    let call = app
        .open_call(&admin, "alpes-tourisme-lab", "atl-2026")
        .await;
    let (token, org) =
        applicant_with(&app, "founder@example.org", "startup", "Neige Express").await;
    let id = draft(&app, &token, call["id"].as_str().unwrap(), &org, json!({})).await;
    let mut png =
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
            .to_vec();
    png.extend_from_slice(&[0u8; 256]);

    let (status, body) = app.upload(&token, &id, "pitch_deck", "deck.pdf", png).await;

    assert_problem(status, &body, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(stored_files(&app.settings.storage.dir).is_empty());
    let (_, read_back, _) = read(&app, &id, &token).await;
    assert_eq!(read_back["attachments"], json!([]));
}

#[tokio::test]
async fn a_file_over_the_field_max_size_is_refused_with_413_and_leaves_nothing_behind() {
    let app = TestApp::spawn().await;
    let admin = app.admin("admin@example.org").await;
    let now = app.clock.now();
    let (status, call) = app
        .post(
            "/api/v1/calls",
            Some(&admin),
            json!({
                "slug": "petit-appel",
                "kind": "startup_lab",
                "title": {"fr": "Petit appel"},
                "opens_at": (now - chrono::Duration::days(1)).to_rfc3339(),
                "closes_at": (now + chrono::Duration::days(30)).to_rfc3339(),
                "eligible_kinds": ["startup"],
                "form": {"fields": [{
                    "key": "deck", "type": "file", "label": {"fr": "Dossier"}, "required": true,
                    "max_size": 1000, "content_types": ["application/pdf"],
                }]},
                "stages": [{
                    "key": "written", "label": {"fr": "Écrit"},
                    "criteria": [{"key": "q", "label": {"fr": "Qualité"}, "weight": 100, "min": 0, "max": 5}],
                }],
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
    let (token, org) =
        applicant_with(&app, "founder@example.org", "startup", "Neige Express").await;
    let id = draft(&app, &token, call_id, &org, json!({})).await;
    let mut big = pdf_bytes();
    big.resize(5000, b' ');

    let (status, body) = app.upload(&token, &id, "deck", "deck.pdf", big).await;

    assert_problem(status, &body, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        stored_files(&app.settings.storage.dir).is_empty(),
        "{:?}",
        stored_files(&app.settings.storage.dir)
    );
    let (_, read_back, _) = read(&app, &id, &token).await;
    assert_eq!(read_back["attachments"], json!([]));
    // A file within the limit is accepted on the same field.
    let (status, body) = app
        .upload(&token, &id, "deck", "deck.pdf", pdf_bytes())
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

#[tokio::test]
async fn uploading_to_a_field_that_is_not_a_file_field_is_a_422() {
    let app = TestApp::spawn().await;
    let admin = app.admin("admin@example.org").await;
    let call = app
        .open_call(&admin, "alpes-tourisme-lab", "atl-2026")
        .await;
    let (token, org) =
        applicant_with(&app, "founder@example.org", "startup", "Neige Express").await;
    let id = draft(&app, &token, call["id"].as_str().unwrap(), &org, json!({})).await;

    let (status, body) = app
        .upload(&token, &id, "solution_name", "deck.pdf", pdf_bytes())
        .await;
    let (unknown_status, unknown) = app
        .upload(&token, &id, "no_such_field", "deck.pdf", pdf_bytes())
        .await;

    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(failing_fields(&body), vec!["field"]);
    assert_problem(unknown_status, &unknown, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(failing_fields(&unknown), vec!["field"]);
    assert!(stored_files(&app.settings.storage.dir).is_empty());
}

#[tokio::test]
async fn a_download_returns_the_same_bytes_as_an_attachment_and_only_to_its_readers() {
    let app = TestApp::spawn().await;
    let admin = app.admin("admin@example.org").await;
    let call = app
        .open_call(&admin, "alpes-tourisme-lab", "atl-2026")
        .await;
    let (token, org) =
        applicant_with(&app, "founder@example.org", "startup", "Neige Express").await;
    let (other, _) = applicant_with(&app, "other@example.org", "startup", "Glacier Lab").await;
    let id = draft(&app, &token, call["id"].as_str().unwrap(), &org, json!({})).await;
    let mut bytes = pdf_bytes();
    bytes.extend((0..4096u32).map(|i| (i % 251) as u8));
    let expected_sha = hex::encode(Sha256::digest(&bytes));

    let (status, attachment) = app
        .upload(
            &token,
            &id,
            "pitch_deck",
            "Présentation Navette.pdf",
            bytes.clone(),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{attachment}");
    assert_eq!(attachment["sha256"], expected_sha.as_str());
    assert_eq!(attachment["size"], bytes.len());
    assert_eq!(attachment["content_type"], "application/pdf");
    assert_eq!(attachment["field"], "pitch_deck");
    let path = format!(
        "/api/v1/applications/{id}/attachments/{}",
        attachment["id"].as_str().unwrap()
    );

    for reader in [&token, &admin] {
        let response = app
            .request(Method::GET, &path, Some(reader))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let disposition = response
            .headers()
            .get("content-disposition")
            .expect("a Content-Disposition")
            .to_str()
            .unwrap()
            .to_owned();
        assert!(disposition.starts_with("attachment"), "{disposition}");
        assert!(
            disposition.contains("Pr%C3%A9sentation%20Navette.pdf")
                || disposition.contains("Présentation Navette.pdf"),
            "{disposition}"
        );
        let downloaded = response.bytes().await.unwrap();
        assert_eq!(downloaded.as_ref(), bytes.as_slice());
        assert_eq!(hex::encode(Sha256::digest(&downloaded)), expected_sha);
    }
    let (status, body) = app.get(&path, Some(&other)).await;
    assert_problem(status, &body, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_draft_attachment_can_be_deleted_and_is_then_gone() {
    let app = TestApp::spawn().await;
    let admin = app.admin("admin@example.org").await;
    let call = app
        .open_call(&admin, "alpes-tourisme-lab", "atl-2026")
        .await;
    let (token, org) =
        applicant_with(&app, "founder@example.org", "startup", "Neige Express").await;
    let id = draft(&app, &token, call["id"].as_str().unwrap(), &org, json!({})).await;
    let (status, attachment) = app
        .upload(&token, &id, "pitch_deck", "deck.pdf", pdf_bytes())
        .await;
    assert_eq!(status, StatusCode::CREATED, "{attachment}");
    assert_eq!(stored_files(&app.settings.storage.dir).len(), 1);
    let path = format!(
        "/api/v1/applications/{id}/attachments/{}",
        attachment["id"].as_str().unwrap()
    );

    let (status, body) = app.send(Method::DELETE, &path, Some(&token), None).await;

    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, body) = app.get(&path, Some(&token)).await;
    assert_problem(status, &body, StatusCode::NOT_FOUND);
    let (_, read_back, _) = read(&app, &id, &token).await;
    assert_eq!(read_back["attachments"], json!([]));
    assert!(stored_files(&app.settings.storage.dir).is_empty());
}

#[tokio::test]
async fn an_upload_interrupted_halfway_leaves_no_file_and_no_attachment() {
    let app = TestApp::spawn().await;
    let admin = app.admin("admin@example.org").await;
    let call = app
        .open_call(&admin, "alpes-tourisme-lab", "atl-2026")
        .await;
    let (token, org) =
        applicant_with(&app, "founder@example.org", "startup", "Neige Express").await;
    let id = draft(&app, &token, call["id"].as_str().unwrap(), &org, json!({})).await;
    let boundary = "cordee-interrupted-upload";
    let mut first = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"field\"\r\n\r\npitch_deck\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"deck.pdf\"\r\n\
         Content-Type: application/pdf\r\n\r\n"
    )
    .into_bytes();
    first.extend(pdf_bytes());
    first.extend(vec![b'x'; 64 * 1024]);
    let dir = app.settings.storage.dir.clone();
    let watched = dir.clone();
    // The first half goes out; the stream fails only once the server is writing the file to disk.
    let body = futures_util::stream::iter([Ok::<Vec<u8>, std::io::Error>(first)]).chain(
        futures_util::stream::once(async move {
            let deadline = Instant::now() + Duration::from_secs(15);
            while stored_files(&watched).is_empty() {
                assert!(
                    Instant::now() < deadline,
                    "the server never started writing"
                );
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "the client went away",
            ))
        }),
    );

    let result = app
        .request(
            Method::POST,
            &format!("/api/v1/applications/{id}/attachments"),
            Some(&token),
        )
        .header(
            "Content-Type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(reqwest::Body::wrap_stream(body))
        .send()
        .await;

    if let Ok(response) = result {
        assert!(!response.status().is_success(), "{response:?}");
    }
    // The server notices the broken upload and removes what it had written.
    let deadline = Instant::now() + Duration::from_secs(15);
    while !stored_files(&dir).is_empty() {
        assert!(
            Instant::now() < deadline,
            "a partial file stayed behind: {:?}",
            stored_files(&dir)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (_, read_back, _) = read(&app, &id, &token).await;
    assert_eq!(read_back["attachments"], json!([]));
    // The application still takes a complete upload.
    let (status, body) = app
        .upload(&token, &id, "pitch_deck", "deck.pdf", pdf_bytes())
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

#[tokio::test]
async fn an_upload_refused_after_its_file_part_leaves_no_file_behind() {
    let app = TestApp::spawn().await;
    let admin = app.admin("admin@example.org").await;
    let call = app
        .open_call(&admin, "alpes-tourisme-lab", "atl-2026")
        .await;
    let (token, org) =
        applicant_with(&app, "founder@example.org", "startup", "Neige Express").await;
    let id = draft(&app, &token, call["id"].as_str().unwrap(), &org, json!({})).await;
    let form = reqwest::multipart::Form::new()
        .text("field", "pitch_deck")
        .part(
            "file",
            reqwest::multipart::Part::bytes(pdf_bytes()).file_name("deck.pdf"),
        )
        .text("comment", "une partie de trop");

    let response = app
        .request(
            Method::POST,
            &format!("/api/v1/applications/{id}/attachments"),
            Some(&token),
        )
        .multipart(form)
        .send()
        .await
        .unwrap();

    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(failing_fields(&body), vec!["comment"]);
    let (_, read_back, _) = read(&app, &id, &token).await;
    assert_eq!(read_back["attachments"], json!([]));
    assert!(
        stored_files(&app.settings.storage.dir).is_empty(),
        "{:?}",
        stored_files(&app.settings.storage.dir)
    );
}

// ---------------------------------------------------------------------------------------------------
// Lists
// ---------------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_list_is_scoped_to_the_caller_and_filters_by_text_and_status() {
    let app = TestApp::spawn().await;
    let admin = app.admin("admin@example.org").await;
    let call = app
        .open_call(&admin, "alpes-tourisme-lab", "atl-2026")
        .await;
    let call_id = call["id"].as_str().unwrap();
    let (a, org_a) = applicant_with(&app, "a@example.org", "startup", "Neige Express").await;
    let (b, org_b) = applicant_with(&app, "b@example.org", "startup", "Glacier Lab").await;
    let app_a = complete_draft(&app, &a, call_id, &org_a).await;
    let app_b = draft(&app, &b, call_id, &org_b, json!({})).await;
    let reference = submitted(&app, &a, &app_a).await;
    let mut both = vec![app_a.clone(), app_b.clone()];
    both.sort();

    let (status, mine) = app.get("/api/v1/applications", Some(&a)).await;
    assert_eq!(status, StatusCode::OK, "{mine}");
    assert_eq!(ids_in(&mine), vec![app_a.clone()]);
    assert_eq!(mine["items"][0]["organization_name"], "Neige Express");
    assert_eq!(mine["items"][0]["reference"], reference.as_str());
    let (_, theirs) = app.get("/api/v1/applications", Some(&b)).await;
    assert_eq!(ids_in(&theirs), vec![app_b.clone()]);
    let (_, all) = app.get("/api/v1/applications", Some(&admin)).await;
    assert_eq!(ids_in(&all), both);

    let (_, by_reference) = app
        .get(&format!("/api/v1/applications?q={reference}"), Some(&admin))
        .await;
    assert_eq!(ids_in(&by_reference), vec![app_a.clone()]);
    let (_, by_name) = app
        .get("/api/v1/applications?q=glacier", Some(&admin))
        .await;
    assert_eq!(ids_in(&by_name), vec![app_b.clone()]);
    let (_, not_theirs) = app.get("/api/v1/applications?q=glacier", Some(&a)).await;
    assert!(ids_in(&not_theirs).is_empty(), "{not_theirs}");
    let (_, submitted_only) = app
        .get("/api/v1/applications?status=submitted", Some(&admin))
        .await;
    assert_eq!(ids_in(&submitted_only), vec![app_a.clone()]);
    let (_, drafts) = app
        .get(
            &format!("/api/v1/applications?status=draft&call_id={call_id}"),
            Some(&admin),
        )
        .await;
    assert_eq!(ids_in(&drafts), vec![app_b.clone()]);

    let (status, body) = app
        .get("/api/v1/applications?status=bogus", Some(&admin))
        .await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(failing_fields(&body), vec!["status"]);
}

// ---------------------------------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------------------------------

#[tokio::test]
async fn messages_email_the_other_side_and_stay_private_to_the_application() {
    let app = TestApp::spawn().await;
    let admin = app.admin("admin@example.org").await;
    app.admin("admin2@example.org").await;
    let call = app
        .open_call(&admin, "alpes-tourisme-lab", "atl-2026")
        .await;
    let (owner, org) = applicant_with(&app, "owner@example.org", "startup", "Neige Express").await;
    app.register("member@example.org", "fr").await;
    app.add_member(&owner, &org, "member@example.org", "member")
        .await;
    let (stranger, _) =
        applicant_with(&app, "stranger@example.org", "startup", "Glacier Lab").await;
    let id = draft(&app, &owner, call["id"].as_str().unwrap(), &org, json!({})).await;
    let thread = format!("/api/v1/applications/{id}/messages");

    let (status, question) = app
        .post(
            &thread,
            Some(&owner),
            json!({"body": "Le pitch deck peut-il être en anglais ?"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{question}");
    assert_eq!(question["author_side"], "applicant");
    for staff in ["admin@example.org", "admin2@example.org"] {
        let emails = wait_for_emails_about(&app, staff, NEW_MESSAGE, 1).await;
        assert!(emails[0]
            .text()
            .contains("Le pitch deck peut-il être en anglais ?"));
    }

    let (status, answer) = app
        .post(
            &thread,
            Some(&admin),
            json!({"body": "Oui, l'anglais est accepté."}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    assert_eq!(answer["author_side"], "staff");
    for member in ["owner@example.org", "member@example.org"] {
        let emails = wait_for_emails_about(&app, member, NEW_MESSAGE, 1).await;
        assert!(emails[0].text().contains("Oui, l'anglais est accepté."));
    }
    for (recipient, count) in [
        ("admin@example.org", 1),
        ("admin2@example.org", 1),
        ("owner@example.org", 1),
        ("member@example.org", 1),
        ("stranger@example.org", 0),
    ] {
        assert_eq!(
            queued(&app, &admin, "new_message", recipient).await.len(),
            count,
            "{recipient}"
        );
    }

    let (status, body) = app.get(&thread, Some(&stranger)).await;
    assert_problem(status, &body, StatusCode::NOT_FOUND);
    let (status, body) = app
        .post(&thread, Some(&stranger), json!({"body": "Je m'invite."}))
        .await;
    assert_problem(status, &body, StatusCode::NOT_FOUND);
    let (status, listed) = app.get(&thread, Some(&owner)).await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    let sides: Vec<&str> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["author_side"].as_str().unwrap())
        .collect();
    assert_eq!(sides, vec!["applicant", "staff"]);
}

// ---------------------------------------------------------------------------------------------------
// Screening
// ---------------------------------------------------------------------------------------------------

#[tokio::test]
async fn only_administrators_screen_and_only_submitted_applications() {
    let app = TestApp::spawn().await;
    let admin = app.admin("admin@example.org").await;
    let call = app
        .open_call(&admin, "alpes-tourisme-lab", "atl-2026")
        .await;
    let call_id = call["id"].as_str().unwrap();
    let (token, org) =
        applicant_with(&app, "founder@example.org", "startup", "Neige Express").await;
    let (other, other_org) =
        applicant_with(&app, "other@example.org", "startup", "Glacier Lab").await;
    let id = complete_draft(&app, &token, call_id, &org).await;
    submitted(&app, &token, &id).await;
    let still_draft = draft(&app, &other, call_id, &other_org, json!({})).await;

    let (status, body) = app
        .post(
            &format!("/api/v1/applications/{id}/screening"),
            Some(&token),
            json!({"outcome": "eligible"}),
        )
        .await;
    assert_problem(status, &body, StatusCode::NOT_FOUND);
    let (status, body) = app
        .post(
            &format!("/api/v1/applications/{still_draft}/screening"),
            Some(&admin),
            json!({"outcome": "eligible"}),
        )
        .await;
    assert_problem(status, &body, StatusCode::CONFLICT);

    let (_, read_back, _) = read(&app, &id, &token).await;
    assert_eq!(read_back["status"], "submitted");
    let (_, read_back, _) = read(&app, &still_draft, &other).await;
    assert_eq!(read_back["status"], "draft");
}

#[tokio::test]
async fn screening_needs_a_reason_to_refuse_and_a_future_due_date_to_ask_for_changes() {
    let app = TestApp::spawn().await;
    let admin = app.admin("admin@example.org").await;
    let call = app
        .open_call(&admin, "alpes-tourisme-lab", "atl-2026")
        .await;
    let (token, org) =
        applicant_with(&app, "founder@example.org", "startup", "Neige Express").await;
    let id = complete_draft(&app, &token, call["id"].as_str().unwrap(), &org).await;
    submitted(&app, &token, &id).await;
    let screening = format!("/api/v1/applications/{id}/screening");
    let yesterday = (app.clock.now() - chrono::Duration::days(1)).to_rfc3339();

    let (status, no_reason) = app
        .post(&screening, Some(&admin), json!({"outcome": "ineligible"}))
        .await;
    let (past_status, past) = app
        .post(
            &screening,
            Some(&admin),
            json!({"outcome": "changes_requested", "reason": "Ajoutez votre budget.", "due_at": yesterday}),
        )
        .await;

    assert_problem(status, &no_reason, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(failing_fields(&no_reason), vec!["reason"]);
    assert_problem(past_status, &past, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(failing_fields(&past), vec!["due_at"]);
    let (_, read_back, _) = read(&app, &id, &token).await;
    assert_eq!(read_back["status"], "submitted");
    assert!(read_back["screening_reason"].is_null(), "{read_back}");
}

#[tokio::test]
async fn changes_requested_lets_the_applicant_edit_and_resubmit_under_the_same_reference() {
    let app = TestApp::spawn().await;
    let admin = app.admin("admin@example.org").await;
    let call = app
        .open_call(&admin, "alpes-tourisme-lab", "atl-2026")
        .await;
    let (token, org) =
        applicant_with(&app, "founder@example.org", "startup", "Neige Express").await;
    let id = complete_draft(&app, &token, call["id"].as_str().unwrap(), &org).await;
    let reference = submitted(&app, &token, &id).await;
    wait_for_emails_about(&app, "founder@example.org", RECEIPT, 1).await;
    let due_at = (app.clock.now() + chrono::Duration::days(7)).to_rfc3339();

    let (status, screened) = app
        .post(
            &format!("/api/v1/applications/{id}/screening"),
            Some(&admin),
            json!({"outcome": "changes_requested", "reason": "Précisez les fonds levés.", "due_at": due_at}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{screened}");
    assert_eq!(screened["status"], "changes_requested");
    let asked =
        wait_for_emails_about(&app, "founder@example.org", &["Modifications demandées"], 1).await;
    assert!(asked[0].text().contains("Précisez les fonds levés."));
    assert!(asked[0].subject().contains(&reference));

    let (_, before, etag) = read(&app, &id, &token).await;
    assert_eq!(before["status"], "changes_requested");
    let (status, patched) = patch(
        &app,
        &id,
        &token,
        &etag.unwrap(),
        json!({"funds_raised": 250000}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    let (status, resubmitted) = submit(&app, &token, &id).await;

    assert_eq!(status, StatusCode::OK, "{resubmitted}");
    assert_eq!(resubmitted["status"], "submitted");
    assert_eq!(resubmitted["reference"], reference.as_str());
    let (_, after, _) = read(&app, &id, &token).await;
    assert_eq!(after["status"], "submitted");
    assert_eq!(after["reference"], reference.as_str());
    assert_eq!(after["answers"]["funds_raised"], 250000);
    assert!(after["changes_due_at"].is_null(), "{after}");
    let receipts = wait_for_emails_about(&app, "founder@example.org", RECEIPT, 2).await;
    assert_eq!(receipts.len(), 2);
    assert!(receipts[1].text().contains(&reference));
}

// ---------------------------------------------------------------------------------------------------
// Withdrawal
// ---------------------------------------------------------------------------------------------------

#[tokio::test]
async fn an_application_is_withdrawn_once_with_an_acknowledgement() {
    let app = TestApp::spawn().await;
    let admin = app.admin("admin@example.org").await;
    let call = app
        .open_call(&admin, "alpes-tourisme-lab", "atl-2026")
        .await;
    let (token, org) =
        applicant_with(&app, "founder@example.org", "startup", "Neige Express").await;
    let id = complete_draft(&app, &token, call["id"].as_str().unwrap(), &org).await;
    let reference = submitted(&app, &token, &id).await;
    let withdraw = format!("/api/v1/applications/{id}/withdraw");

    let (status, withdrawn) = app
        .post(
            &withdraw,
            Some(&token),
            json!({"reason": "Nous rejoignons un autre programme."}),
        )
        .await;

    assert_eq!(status, StatusCode::OK, "{withdrawn}");
    assert_eq!(withdrawn["status"], "withdrawn");
    assert_eq!(
        withdrawn["withdrawn_reason"],
        "Nous rejoignons un autre programme."
    );
    let ack = wait_for_emails_about(&app, "founder@example.org", &["Retrait"], 1).await;
    assert!(ack[0].subject().contains(&reference));
    assert!(ack[0]
        .text()
        .contains("Nous rejoignons un autre programme."));

    let (status, again) = app.post(&withdraw, Some(&token), json!({})).await;
    assert_problem(status, &again, StatusCode::CONFLICT);
    assert_eq!(
        queued(&app, &admin, "withdrawal_ack", "founder@example.org")
            .await
            .len(),
        1
    );
    let (_, read_back, _) = read(&app, &id, &token).await;
    assert_eq!(read_back["status"], "withdrawn");
}

// ---------------------------------------------------------------------------------------------------
// Reminders
// ---------------------------------------------------------------------------------------------------

#[tokio::test]
async fn drafts_are_reminded_seven_days_and_one_day_before_closing_and_submitted_ones_never() {
    let app = spawn_at(monday()).await;
    let admin = app.admin("admin@example.org").await;
    let call = app
        .open_call(&admin, "alpes-tourisme-lab", "atl-2026")
        .await;
    let call_id = call["id"].as_str().unwrap();
    let closes_at: DateTime<Utc> = call["closes_at"].as_str().unwrap().parse().unwrap();
    let (late, late_org) =
        applicant_with(&app, "late@example.org", "startup", "Neige Express").await;
    let (early, early_org) =
        applicant_with(&app, "early@example.org", "startup", "Glacier Lab").await;
    draft(
        &app,
        &late,
        call_id,
        &late_org,
        json!({"solution_name": "Navette"}),
    )
    .await;
    let done = complete_draft(&app, &early, call_id, &early_org).await;
    submitted(&app, &early, &done).await;

    // Six days before closing: the 7-day reminder is due.
    app.clock.set(closes_at - chrono::Duration::days(6));
    let first = wait_for_emails_about(&app, "late@example.org", REMINDER, 1).await;
    assert!(
        first[0].subject().contains("6 jours"),
        "{}",
        first[0].subject()
    );

    // Twelve hours before closing: the 1-day reminder, and the 7-day one is not repeated.
    app.clock.set(closes_at - chrono::Duration::hours(12));
    let both = wait_for_emails_about(&app, "late@example.org", REMINDER, 2).await;
    assert!(
        both[1].subject().contains("1 jour"),
        "{}",
        both[1].subject()
    );
    let admin = app.login("admin@example.org", PASSWORD).await;
    assert_eq!(
        queued(&app, &admin, "draft_reminder", "late@example.org")
            .await
            .len(),
        2
    );
    assert!(queued(&app, &admin, "draft_reminder", "early@example.org")
        .await
        .is_empty());
    assert!(emails_about(&app, "early@example.org", REMINDER).is_empty());
}

#[tokio::test]
async fn a_draft_started_hours_before_closing_gets_a_single_reminder() {
    let app = spawn_at(monday()).await;
    let admin = app.admin("admin@example.org").await;
    let call = app
        .open_call(&admin, "alpes-tourisme-lab", "atl-2026")
        .await;
    let closes_at: DateTime<Utc> = call["closes_at"].as_str().unwrap().parse().unwrap();
    app.clock.set(closes_at - chrono::Duration::hours(12));
    let admin = app.login("admin@example.org", PASSWORD).await;
    let (late, late_org) =
        applicant_with(&app, "late@example.org", "startup", "Neige Express").await;

    draft(
        &app,
        &late,
        call["id"].as_str().unwrap(),
        &late_org,
        json!({}),
    )
    .await;

    let first = wait_for_emails_about(&app, "late@example.org", REMINDER, 1).await;
    assert!(
        first[0].subject().contains("1 jour"),
        "{}",
        first[0].subject()
    );
    // Every reminder due in one pass is queued in one transaction: what the outbox holds now is final.
    let subjects: Vec<Value> = queued(&app, &admin, "draft_reminder", "late@example.org")
        .await
        .into_iter()
        .map(|e| e["subject"].clone())
        .collect();
    assert_eq!(subjects.len(), 1, "{subjects:?}");
}
