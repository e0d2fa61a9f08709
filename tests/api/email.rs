//! Email that is never lost: the outbox survives SMTP outages and crashes, retries, and staff can see and
//! retry what failed.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;

/// Polls the admin outbox until `done` holds for its items (15 s at most).
async fn wait_for_outbox(
    app: &TestApp,
    admin: &str,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (status, body) = app.get("/api/v1/admin/outbox", Some(admin)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let items = body["items"].as_array().unwrap().clone();
        if done(&items) {
            return items;
        }
        assert!(
            Instant::now() < deadline,
            "the outbox never reached the expected state: {items:?}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[tokio::test]
async fn a_registration_while_smtp_is_down_succeeds_and_its_email_arrives_once_smtp_is_back() {
    let mailbox = Mailbox::down();
    let app = TestApp::spawn_with(Options {
        mailbox: mailbox.clone(),
        ..Default::default()
    })
    .await;
    let admin = app.admin("staff@example.org").await;

    app.register("patient@example.org", "fr").await;
    let items = wait_for_outbox(&app, &admin, |items| {
        items
            .iter()
            .any(|i| i["attempts"].as_i64() >= Some(1) && i["last_error"].is_string())
    })
    .await;
    assert_eq!(
        items[0]["status"], "pending",
        "a failed attempt is retried: {items:?}"
    );

    mailbox.start();

    let email = mailbox.wait_for_email_to("patient@example.org").await;
    assert_eq!(email.subject(), "Confirmez votre adresse e-mail");
    let items = wait_for_outbox(&app, &admin, |items| {
        items.iter().all(|i| i["status"] == "sent")
    })
    .await;
    assert_eq!(items.len(), 1);
    assert_eq!(mailbox.emails_to("patient@example.org").len(), 1);
}

#[tokio::test]
async fn an_email_that_keeps_failing_ends_failed_and_staff_can_retry_it() {
    let mailbox = Mailbox::down();
    let app = TestApp::spawn_with(Options {
        mailbox: mailbox.clone(),
        configure: Box::new(|s| {
            s.email.max_attempts = 2;
            s.email.retry_base_ms = 20;
        }),
        ..Default::default()
    })
    .await;
    let admin = app.admin("staff@example.org").await;
    app.register("unlucky@example.org", "en").await;

    let items = wait_for_outbox(&app, &admin, |items| {
        items.iter().any(|i| i["status"] == "failed")
    })
    .await;
    assert_eq!(items[0]["attempts"], 2);
    assert!(items[0]["last_error"].is_string());
    let (_, failed) = app
        .get("/api/v1/admin/outbox?status=failed", Some(&admin))
        .await;
    assert_eq!(failed["items"].as_array().unwrap().len(), 1);
    assert!(
        failed.to_string().find("cordee_").is_none(),
        "the outbox never shows one-time tokens"
    );

    mailbox.start();
    let id = items[0]["id"].as_str().unwrap();
    let (status, retried) = app
        .post(
            &format!("/api/v1/admin/outbox/{id}/retry"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{retried}");

    let email = mailbox.wait_for_email_to("unlucky@example.org").await;
    assert_eq!(email.subject(), "Confirm your email address");
    wait_for_outbox(&app, &admin, |items| {
        items.iter().all(|i| i["status"] == "sent")
    })
    .await;
    let (status, body) = app
        .post(
            &format!("/api/v1/admin/outbox/{id}/retry"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_problem(status, &body, StatusCode::CONFLICT);
    let (_, audit) = app
        .get(
            &format!("/api/v1/audit?entity_type=outbox&entity_id={id}"),
            Some(&admin),
        )
        .await;
    assert_eq!(audit["items"][0]["action"], "outbox.retried");
}

/// Starts the real `cordee` binary on `database_url`, sending email to `smtp_port`; returns it once it
/// answers on `port`.
async fn start_binary(
    database_url: &str,
    port: u16,
    smtp_port: u16,
    dir: &std::path::Path,
) -> Child {
    let child = Command::new(env!("CARGO_BIN_EXE_cordee"))
        .arg("serve")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("CORDEE_ENV", "test")
        .env("CORDEE__DATABASE__URL", database_url)
        .env("CORDEE__SERVER__PORT", port.to_string())
        .env("CORDEE__EMAIL__TRANSPORT", "smtp")
        .env("CORDEE__EMAIL__SMTP_HOST", "127.0.0.1")
        .env("CORDEE__EMAIL__SMTP_PORT", smtp_port.to_string())
        .env("CORDEE__STORAGE__DIR", dir.join("attachments"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts");
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while client
        .get(format!("http://127.0.0.1:{port}/health"))
        .send()
        .await
        .is_err()
    {
        assert!(Instant::now() < deadline, "the server never answered");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    child
}

#[tokio::test]
async fn emails_pending_when_the_server_is_killed_are_delivered_after_restart() {
    let dir = std::sync::Arc::new(tempfile::tempdir().unwrap());
    let db = TestDatabase::create(dir.clone());
    let mailbox = Mailbox::down();
    let port = free_port();
    let mut server = start_binary(&db.url, port, mailbox.port, dir.path()).await;

    let client = reqwest::Client::new();
    let response = client
        .post(format!("http://127.0.0.1:{port}/api/v1/auth/register"))
        .json(&json!({"email": "survivor@example.org", "password": PASSWORD, "display_name": "Survivor"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    server.kill().unwrap(); // SIGKILL: no graceful shutdown, the email is still queued.
    server.wait().unwrap();

    mailbox.start();
    let port = free_port();
    let mut restarted = start_binary(&db.url, port, mailbox.port, dir.path()).await;

    let email = mailbox.wait_for_email_to("survivor@example.org").await;
    assert_eq!(email.subject(), "Confirmez votre adresse e-mail");
    let token = email.token();
    let response = client
        .post(format!("http://127.0.0.1:{port}/api/v1/auth/verify-email"))
        .json(&json!({"token": token}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::NO_CONTENT,
        "the link from before the crash still works"
    );
    restarted.kill().unwrap();
    restarted.wait().unwrap();
}

#[tokio::test]
async fn each_email_carries_a_stable_message_id_for_duplicate_detection() {
    let app = TestApp::spawn().await;
    let admin = app.admin("staff@example.org").await;
    app.register("ids@example.org", "fr").await;

    let email = app.mailbox.wait_for_email_to("ids@example.org").await;
    let items = wait_for_outbox(&app, &admin, |items| {
        items.iter().all(|i| i["status"] == "sent")
    })
    .await;

    assert_eq!(email.message_id(), items[0]["message_id"].as_str().unwrap());
}

#[tokio::test]
async fn two_instances_on_one_database_deliver_each_email_once() {
    let app = TestApp::spawn().await;
    let other = app.another_instance().await;

    // Registrations through both instances; both workers poll the same outbox.
    for i in 0..10 {
        let instance = if i % 2 == 0 { &app } else { &other };
        instance
            .register(&format!("person{i}@example.org"), "fr")
            .await;
    }

    let emails = app.mailbox.wait_for(10).await;
    let admin = app.admin("staff@example.org").await;
    wait_for_outbox(&app, &admin, |items| {
        items.len() == 10 && items.iter().all(|i| i["status"] == "sent")
    })
    .await;
    let mut ids: Vec<String> = app.mailbox.all().iter().map(|e| e.message_id()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 10, "each email once: {emails:?}");
    assert_eq!(app.mailbox.all().len(), 10);
}
