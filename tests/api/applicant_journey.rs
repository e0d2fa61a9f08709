//! A start-up's whole journey, from registration to a revised decision, as its founder lives it: every email
//! the founder receives has its link opened in headless Chromium and the page it leads to read for what it
//! should say (screenshots in `target/ci-artifacts/journey-*.png`). Staff and jurors act through the API.
//! A pending decision never reaches the founder, by email or on the page.

use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use cordee::clock::Clock;
use cordee::notify::applications::format_instant;
use cordee::service::pages::long_date;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::decision_history::set_appeal_window;
use crate::helpers::browser::Browser;
use crate::helpers::scenario::{Juror, Scenario};
use crate::helpers::*;
use crate::pages::{link_in, on};

const FOUNDER: &str = "ines@neige-express.example";
const TZ: &str = "Europe/Paris";
/// The decision's motivation, searched for in what the founder received before publication.
const PENDING: &str = "MOTIVATION-EN-ATTENTE-7731";

/// The founder's inbox, read in order: each email is taken once, and none may be left unread at the end.
struct Inbox<'a> {
    app: &'a TestApp,
    read: usize,
}

impl Inbox<'_> {
    /// The founder's next email, whose subject holds `part` (waits for it).
    async fn next(&mut self, part: &str) -> ReceivedEmail {
        let n = self.read;
        let deadline = Instant::now() + std::time::Duration::from_secs(15);
        let email = loop {
            let emails = self.app.mailbox.emails_to(FOUNDER);
            if let Some(email) = emails.get(n) {
                break email.clone();
            }
            let subjects: Vec<String> = emails.iter().map(|e| e.subject()).collect();
            assert!(
                Instant::now() < deadline,
                "no email about {part}: {subjects:?}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        };
        assert!(
            email.subject().contains(part),
            "email {} is {:?}, not about {part}",
            n + 1,
            email.subject()
        );
        self.read += 1;
        // The founder reads it a little later.
        self.app.clock.advance(Duration::minutes(5));
        email
    }
}

/// Opens the status-page link of `email` (not the API's addresses it may also give) in `browser` (signed in already) and keeps a screenshot.
async fn follow(browser: &Browser, app: &TestApp, email: &ReceivedEmail, id: &str, shot: &str) {
    let page = format!("/applications/{id}");
    let text = email.text();
    let found = text
        .split_whitespace()
        .map(|w| w.trim_end_matches(['.', ',', ')', '>']))
        .find(|w| w.starts_with("http") && !w.contains("/api/") && w.ends_with(&page))
        .unwrap_or_else(|| panic!("no link to {page} in: {text}"));
    let link = on(app, found);
    browser.open(&link).await;
    assert_eq!(browser.url().await, link);
    browser.screenshot(&format!("journey-{shot}")).await;
}

/// `juror` assesses application `id` at the written stage, with the best score on every criterion.
async fn review(app: &TestApp, call: &str, admin: &str, juror: &Juror, id: &str) {
    let (status, body) = app
        .post(
            &format!("/api/v1/calls/{call}/assignments"),
            Some(admin),
            json!({"application_id": id, "juror_id": juror.id, "stage": "written"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (_, read) = app.get(&format!("/api/v1/calls/{call}"), None).await;
    let scores: serde_json::Map<String, Value> = read["stages"][0]["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["key"].as_str().unwrap().to_owned(), c["max"].clone()))
        .collect();
    let path = format!("/api/v1/applications/{id}/reviews/mine");
    let body = json!({"stage": "written", "scores": scores, "comment": "Solide."});
    let (status, draft) = app
        .send(Method::PUT, &path, Some(&juror.token), Some(body))
        .await;
    assert_eq!(status, StatusCode::OK, "{draft}");
    let (status, submitted) = app
        .post(
            &format!("{path}/submit"),
            Some(&juror.token),
            json!({"stage": "written"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{submitted}");
}

/// POSTs `body` to `path` as `token` and expects `expected`.
async fn call_api(
    app: &TestApp,
    token: &str,
    path: &str,
    body: Value,
    expected: StatusCode,
) -> Value {
    let (status, answer) = app.post(path, Some(token), body).await;
    assert_eq!(status, expected, "{path}: {answer}");
    answer
}

#[tokio::test]
async fn a_start_up_follows_its_application_by_email_links_from_registration_to_a_revised_decision()
{
    let app = TestApp::spawn_with(Options {
        clock: Clock::manual(Utc::now()),
        ..Default::default()
    })
    .await;
    let (call, [first, second]) = Scenario::new(&app)
        .eligible(1)
        .jurors(2)
        .build()
        .await
        .into_parts();
    let (admin, call_id, laureate) = (&call.admin, &call.id, &call.applications[0]);
    let mut inbox = Inbox { app: &app, read: 0 };
    let browser = Browser::start().await;

    // Registration, the address confirmed with the emailed link's button, then the login page.
    app.register(FOUNDER, "fr").await;
    let email = inbox.next("Confirmez votre adresse").await;
    browser
        .open(&on(&app, &link_in(&email.text(), "/verify-email")))
        .await;
    browser.screenshot("journey-verify-email").await;
    browser.click("#submit").await;
    assert!(browser.text().await.contains("Adresse e-mail confirmée"));
    browser.click("a.button").await;
    assert!(browser.url().await.ends_with("/login"));
    browser.fill("#email", FOUNDER).await;
    browser.fill("#password", PASSWORD).await;
    browser.click("#submit").await;
    browser.screenshot("journey-logged-in").await;
    let token = app.login(FOUNDER, PASSWORD).await;

    // The organization and its application, submitted through the API; the receipt's link.
    let org = app.organization(&token, "startup", "Neige Express").await;
    let created = call_api(
        &app,
        &token,
        &format!("/api/v1/calls/{call_id}/applications"),
        json!({"organization_id": org, "answers": atl_answers()}),
        StatusCode::CREATED,
    )
    .await;
    let id = created["id"].as_str().unwrap().to_owned();
    let (status, file) = app
        .upload(&token, &id, "pitch_deck", "pitch.pdf", pdf_bytes())
        .await;
    assert_eq!(status, StatusCode::CREATED, "{file}");
    let submit = format!("/api/v1/applications/{id}/submit");
    let submitted = call_api(&app, &token, &submit, json!({}), StatusCode::OK).await;
    let reference = submitted["reference"].as_str().unwrap().to_owned();
    let email = inbox.next("Accusé de réception").await;
    follow(&browser, &app, &email, &id, "submitted").await;
    assert_eq!(browser.text_of("#reference").await, reference);
    assert_eq!(browser.text_of("#status").await, "Déposée");

    // Changes requested without a due date: the call's default one shows on the page.
    let screening = format!("/api/v1/applications/{id}/screening");
    let body = json!({"outcome": "changes_requested", "reason": "Ajoutez le budget."});
    let screened = call_api(&app, admin, &screening, body, StatusCode::OK).await;
    let due: DateTime<Utc> = screened["changes_due_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let email = inbox.next("Modifications demandées").await;
    follow(&browser, &app, &email, &id, "changes-requested").await;
    assert_eq!(browser.text_of("#status").await, "Modifications demandées");
    assert_eq!(
        browser.text_of("#changes-due-on").await,
        long_date(due, TZ, "fr")
    );
    assert!(browser
        .text_of("#timeline")
        .await
        .contains("Ajoutez le budget."));

    // Submitted again (a second receipt), then found eligible.
    call_api(&app, &token, &submit, json!({}), StatusCode::OK).await;
    let email = inbox.next("Accusé de réception").await;
    follow(&browser, &app, &email, &id, "resubmitted").await;
    assert_eq!(browser.text_of("#status").await, "Déposée");
    let body = json!({"outcome": "eligible"});
    call_api(&app, admin, &screening, body, StatusCode::OK).await;
    let email = inbox.next("examen d'éligibilité").await;
    follow(&browser, &app, &email, &id, "eligible").await;
    assert_eq!(
        browser.text_of("#status").await,
        "Recevable, en cours d'évaluation"
    );

    // Two jurors review it; it is shortlisted to the pitch with the other start-up.
    for juror in [&first, &second] {
        review(&app, call_id, admin, juror, &id).await;
    }
    let body = json!({"application_ids": [laureate, id], "next_stage": "pitch"});
    let shortlist = format!("/api/v1/calls/{call_id}/shortlist");
    call_api(&app, admin, &shortlist, body, StatusCode::OK).await;
    let email = inbox.next("est retenue pour l'étape").await;
    follow(&browser, &app, &email, &id, "shortlisted").await;
    assert_eq!(
        browser.text_of("#status").await,
        "Retenue pour l'étape suivante"
    );

    // The pitch slot: on the page in the call's time zone, confirmed in the browser.
    let starts = (app.clock.now() + Duration::days(20))
        .date_naive()
        .and_hms_opt(8, 30, 0)
        .unwrap()
        .and_utc();
    let place = "Maison du Tourisme, Grenoble";
    let slot = json!({"stage": "pitch", "starts_at": starts.to_rfc3339(), "duration_minutes": 30, "place": place});
    let path = format!("/api/v1/applications/{id}/pitch-slot");
    let (status, body) = app.send(Method::PUT, &path, Some(admin), Some(slot)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let email = inbox.next("Votre présentation au jury").await;
    follow(&browser, &app, &email, &id, "pitch-slot").await;
    assert_eq!(
        browser.text_of("#pitch-starts-at").await,
        format_instant(starts, TZ, "fr")
    );
    assert_eq!(browser.text_of("#pitch-place").await, place);
    browser.click("#confirm-pitch").await;
    assert!(browser
        .text_of("#pitch-confirmed")
        .await
        .contains("confirmé votre présence"));
    browser.screenshot("journey-pitch-confirmed").await;
    let (_, read) = app.get(&path, Some(&token)).await;
    assert_eq!(read["confirmed"], true, "{read}");

    // The decisions are recorded, pending: nothing of them reaches the founder.
    let (status, body) = set_appeal_window(&app, &call, json!(3)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let decisions = json!([
        {"application_id": laureate, "outcome": "selected", "motivation": "Convaincant"},
        {"application_id": id, "outcome": "waitlisted", "motivation": PENDING}
    ]);
    let path = format!("/api/v1/calls/{call_id}/decisions");
    let (status, body) = app
        .send(Method::PUT, &path, Some(admin), Some(decisions))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    browser
        .open(&format!("{}/applications/{id}", app.address))
        .await;
    let page = browser.text().await;
    assert!(
        !page.contains(PENDING) && !page.contains("liste d'attente"),
        "{page}"
    );
    assert_eq!(
        browser.text_of("#status").await,
        "Retenue pour l'étape suivante"
    );
    browser.screenshot("journey-decision-pending").await;
    call_api(
        &app,
        admin,
        &format!("{path}/publish"),
        json!({}),
        StatusCode::OK,
    )
    .await;

    // Published: waitlisted, with the deadline and the form to appeal.
    let email = inbox.next("Décision concernant votre candidature").await;
    for earlier in &app.mailbox.emails_to(FOUNDER)[..inbox.read - 1] {
        assert!(!earlier.text().contains(PENDING), "{}", earlier.subject());
        assert!(
            !earlier.text().contains("liste d'attente"),
            "{}",
            earlier.subject()
        );
    }
    follow(&browser, &app, &email, &id, "decision").await;
    assert_eq!(
        browser.text_of("#decision-outcome").await,
        "Sur liste d'attente"
    );
    assert_eq!(browser.text_of("#decision-motivation").await, PENDING);
    let deadline = browser.text_of("#appeal-deadline").await;
    assert!(
        email.text().contains(&deadline),
        "{deadline}: {}",
        email.text()
    );

    // The founder appeals in the browser; staff uphold it; the answer's link.
    browser
        .fill("#grounds", "Notre pitch a levé les réserves du jury.")
        .await;
    browser.click("#file-appeal").await;
    assert_eq!(
        browser.text_of("#appeal-status").await,
        "Déposé, en attente de l'équipe de l'appel"
    );
    assert!(!browser.text().await.contains("Contester cette décision"));
    browser.screenshot("journey-appeal-filed").await;
    let (_, appeals) = app
        .get(&format!("/api/v1/applications/{id}/appeals"), Some(admin))
        .await;
    let appeal_id = appeals["items"][0]["id"].as_str().unwrap().to_owned();
    let resolve = format!("/api/v1/applications/{id}/appeals/{appeal_id}/resolve");
    let body = json!({"outcome": "upheld", "motivation": "Le jury revoit son classement."});
    call_api(&app, admin, &resolve, body, StatusCode::OK).await;
    let email = inbox.next("Réponse à votre appel").await;
    follow(&browser, &app, &email, &id, "appeal-resolved").await;
    assert!(browser
        .text_of("#appeal-status")
        .await
        .starts_with("Accepté"));
    assert_eq!(
        browser.text_of("#appeal-resolution").await,
        "Le jury revoit son classement."
    );

    // The laureate withdraws; staff revise ours to selected, answering the appeal.
    let body = json!({"reason": "Nous rejoignons un autre programme"});
    let withdraw = format!("/api/v1/applications/{laureate}/withdraw");
    call_api(&app, &call.founders[0], &withdraw, body, StatusCode::OK).await;
    let body = json!({"outcome": "selected", "motivation": "Premier sur la liste", "reason": "Un lauréat s'est retiré", "appeal_id": appeal_id});
    let revisions = format!("/api/v1/applications/{id}/decision/revisions");
    call_api(&app, admin, &revisions, body, StatusCode::CREATED).await;
    let email = inbox.next("Décision révisée").await;
    follow(&browser, &app, &email, &id, "decision-revised").await;
    assert_eq!(browser.text_of("#status").await, "Lauréate");
    assert_eq!(browser.text_of("#decision-outcome").await, "Lauréate");
    assert!(browser.text_of("#decision").await.contains("(révisée)"));
    assert_eq!(
        browser.text_of("#decision-revision-reason").await,
        "Un lauréat s'est retiré"
    );

    // The window to appeal the revision closes while the form is open: the page says so.
    app.clock.advance(Duration::days(4));
    browser.fill("#grounds", "Trop tard ?").await;
    browser.click("#file-appeal").await;
    let page = browser.text().await;
    assert!(page.contains("délai pour contester"), "{page}");
    browser.screenshot("journey-appeal-too-late").await;
    browser.close().await;

    // A form posted from elsewhere (no CSRF token) files nothing.
    let forged = reqwest::Client::new()
        .post(format!("{}/applications/{id}/appeal", app.address))
        .form(&[("grounds", "Forgé")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let (_, appeals) = app
        .get(&format!("/api/v1/applications/{id}/appeals"), Some(&token))
        .await;
    assert_eq!(appeals["items"].as_array().unwrap().len(), 1, "{appeals}");

    // Every email was opened; the timeline tells the journey in order.
    let subjects: Vec<String> = app
        .mailbox
        .emails_to(FOUNDER)
        .iter()
        .map(|e| e.subject())
        .collect();
    assert_eq!(subjects.len(), inbox.read, "{subjects:?}");
    let (status, timeline) = app
        .get(&format!("/api/v1/applications/{id}/timeline"), Some(&token))
        .await;
    assert_eq!(status, StatusCode::OK, "{timeline}");
    let kinds: Vec<&str> = timeline["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "created",
            "submitted",
            "changes_requested",
            "resubmitted",
            "eligible",
            "shortlisted",
            "decision_published",
            "appeal_filed",
            "appeal_resolved",
            "decision_revised"
        ]
    );
}
