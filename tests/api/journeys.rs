//! Whole applicant journeys: a start-up through Alpes Tourisme Lab, a territory through Expérimentation
//! Montagne, from the open call to screening, with every email checked where it arrives.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn a_startup_applies_to_alpes_tourisme_lab_and_is_found_eligible() {
    let app = TestApp::spawn().await;
    let admin = app.admin("staff@example.org").await;
    let call = app
        .open_call(&admin, "alpes-tourisme-lab", "atl-2026")
        .await;
    let call_id = call["id"].as_str().unwrap();
    let founder = app.applicant("lea@neige-mobilite.example").await;
    let org_id = app
        .organization(&founder, "startup", "Neige Mobilité SAS")
        .await;

    // A draft with part of the answers.
    let (status, draft) = app
        .post(
            &format!("/api/v1/calls/{call_id}/applications"),
            Some(&founder),
            json!({"organization_id": org_id, "answers": {"solution_name": "Navette Neige"}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{draft}");
    assert_eq!(draft["status"], "draft");
    assert!(draft["reference"].is_null());
    let id = draft["id"].as_str().unwrap().to_owned();

    // The rest of the answers, with If-Match.
    let response = app
        .request(
            Method::PATCH,
            &format!("/api/v1/applications/{id}"),
            Some(&founder),
        )
        .header("If-Match", "\"1\"")
        .json(&json!({"answers": atl_answers()}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["etag"], "\"2\"");

    // The pitch deck.
    let (status, file) = app
        .upload(&founder, &id, "pitch_deck", "pitch deck.pdf", pdf_bytes())
        .await;
    assert_eq!(status, StatusCode::CREATED, "{file}");
    assert_eq!(file["content_type"], "application/pdf");
    assert_eq!(file["size"], pdf_bytes().len());

    // Submission gives the first reference of the call and a receipt.
    let (status, submitted) = app
        .post(
            &format!("/api/v1/applications/{id}/submit"),
            Some(&founder),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{submitted}");
    assert_eq!(submitted["status"], "submitted");
    let year = chrono::Datelike::year(&(app.clock.now() - chrono::Duration::days(1)));
    assert_eq!(submitted["reference"], format!("ATL-{year}-0001"));
    let receipt = app
        .mailbox
        .wait_for_subject("lea@neige-mobilite.example", &format!("ATL-{year}-0001"))
        .await;
    assert!(
        receipt.text().contains("Navette Neige"),
        "{}",
        receipt.text()
    );
    assert!(
        receipt.text().contains("pitch deck.pdf"),
        "{}",
        receipt.text()
    );

    // Staff see it and screen it eligible; the founder is told.
    let (_, list) = app
        .get(
            &format!("/api/v1/applications?call_id={call_id}&status=submitted"),
            Some(&admin),
        )
        .await;
    assert_eq!(list["items"][0]["organization_name"], "Neige Mobilité SAS");
    assert!(
        list["items"][0].get("answers").is_none(),
        "lists carry summaries only"
    );
    let (status, screened) = app
        .post(
            &format!("/api/v1/applications/{id}/screening"),
            Some(&admin),
            json!({"outcome": "eligible"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{screened}");
    assert_eq!(screened["status"], "eligible");
    let outcome = app
        .mailbox
        .wait_for_subject("lea@neige-mobilite.example", "ligibilit")
        .await;
    assert!(outcome.text().contains(&format!("ATL-{year}-0001")));

    let (_, seen) = app
        .get(&format!("/api/v1/applications/{id}"), Some(&founder))
        .await;
    assert_eq!(seen["status"], "eligible");
    let (_, audit) = app
        .get(
            &format!("/api/v1/audit?entity_type=application&entity_id={id}"),
            Some(&admin),
        )
        .await;
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "application.created",
            "application.updated",
            "attachment.uploaded",
            "application.submitted",
            "application.screened"
        ]
    );
}

#[tokio::test]
async fn a_territory_applies_to_experimentation_montagne_answers_a_request_for_changes_and_resubmits(
) {
    let app = TestApp::spawn().await;
    let admin = app.admin("staff@example.org").await;
    let call = app
        .open_call(&admin, "experimentation-montagne", "exp-2026")
        .await;
    let call_id = call["id"].as_str().unwrap();
    let officer = app.applicant("mobilite@chamonix.example").await;
    let org_id = app
        .organization(&officer, "territory", "Commune de Chamonix-Mont-Blanc")
        .await;

    let (status, created) = app
        .post(
            &format!("/api/v1/calls/{call_id}/applications"),
            Some(&officer),
            json!({"organization_id": org_id, "answers": exp_answers()}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let (status, body) = app
        .post(
            &format!("/api/v1/applications/{id}/submit"),
            Some(&officer),
            json!({}),
        )
        .await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(failing_fields(&body), ["answers.support_letter"]);
    let (status, _) = app
        .upload(
            &officer,
            &id,
            "support_letter",
            "lettre-soutien.pdf",
            pdf_bytes(),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, submitted) = app
        .post(
            &format!("/api/v1/applications/{id}/submit"),
            Some(&officer),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{submitted}");
    let reference = submitted["reference"].as_str().unwrap().to_owned();
    assert!(reference.starts_with("EXP-"), "{reference}");

    // Staff ask for changes before a due date.
    let due = (app.clock.now() + chrono::Duration::days(10)).to_rfc3339();
    let (status, screened) = app
        .post(
            &format!("/api/v1/applications/{id}/screening"),
            Some(&admin),
            json!({"outcome": "changes_requested", "reason": "Précisez le budget de fonctionnement.", "due_at": due}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{screened}");
    assert_eq!(screened["status"], "changes_requested");
    let request = app
        .mailbox
        .wait_for_subject("mobilite@chamonix.example", "modification")
        .await;
    assert!(
        request
            .text()
            .contains("Précisez le budget de fonctionnement."),
        "{}",
        request.text()
    );

    // The territory asks a question in the thread; staff are told and answer.
    let (status, _) = app
        .post(
            &format!("/api/v1/applications/{id}/messages"),
            Some(&officer),
            json!({"body": "Faut-il inclure les salaires ?"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let to_staff = app
        .mailbox
        .wait_for_subject("staff@example.org", "message")
        .await;
    assert!(to_staff.text().contains("Faut-il inclure les salaires ?"));
    let (status, _) = app
        .post(
            &format!("/api/v1/applications/{id}/messages"),
            Some(&admin),
            json!({"body": "Oui, au prorata."}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, thread) = app
        .get(
            &format!("/api/v1/applications/{id}/messages"),
            Some(&officer),
        )
        .await;
    let sides: Vec<&str> = thread["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["author_side"].as_str().unwrap())
        .collect();
    assert_eq!(sides, ["applicant", "staff"]);

    // The territory edits and resubmits; the reference stays.
    let (_, current) = app
        .get(&format!("/api/v1/applications/{id}"), Some(&officer))
        .await;
    let version = current["version"].as_i64().unwrap();
    let response = app
        .request(
            Method::PATCH,
            &format!("/api/v1/applications/{id}"),
            Some(&officer),
        )
        .header("If-Match", format!("\"{version}\""))
        .json(&json!({"answers": {"budget": 95000}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let (status, resubmitted) = app
        .post(
            &format!("/api/v1/applications/{id}/submit"),
            Some(&officer),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{resubmitted}");
    assert_eq!(resubmitted["reference"], reference.as_str());

    let (status, screened) = app
        .post(
            &format!("/api/v1/applications/{id}/screening"),
            Some(&admin),
            json!({"outcome": "eligible"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{screened}");
    let (_, seen) = app
        .get(&format!("/api/v1/applications/{id}"), Some(&officer))
        .await;
    assert_eq!(seen["answers"]["budget"], 95000);
    assert_eq!(seen["status"], "eligible");
}

#[tokio::test]
async fn an_applicant_can_withdraw_and_is_told() {
    let app = TestApp::spawn().await;
    let admin = app.admin("staff@example.org").await;
    let call = app
        .open_call(&admin, "alpes-tourisme-lab", "atl-2026")
        .await;
    let founder = app.applicant("founder@example.org").await;
    let org_id = app.organization(&founder, "startup", "Startup").await;
    let (_, created) = app
        .post(
            &format!(
                "/api/v1/calls/{}/applications",
                call["id"].as_str().unwrap()
            ),
            Some(&founder),
            json!({"organization_id": org_id}),
        )
        .await;
    let id = created["id"].as_str().unwrap();

    let (status, withdrawn) = app
        .post(
            &format!("/api/v1/applications/{id}/withdraw"),
            Some(&founder),
            json!({"reason": "Nous avons levé des fonds."}),
        )
        .await;

    assert_eq!(status, StatusCode::OK, "{withdrawn}");
    assert_eq!(withdrawn["status"], "withdrawn");
    app.mailbox
        .wait_for_subject("founder@example.org", "retrait")
        .await;
}

#[tokio::test]
async fn decisions_stay_hidden_until_published_and_publishing_twice_sends_nothing_new() {
    let app = TestApp::spawn().await;
    let admin = app.admin("staff@example.org").await;
    let call = app
        .open_call(&admin, "experimentation-montagne", "exp-2026")
        .await;
    let call_id = call["id"].as_str().unwrap();
    let chamonix =
        eligible_territory(&app, &admin, call_id, "chamonix@example.org", "Chamonix").await;
    let megeve = eligible_territory(&app, &admin, call_id, "megeve@example.org", "Megève").await;
    let officer = app.login("chamonix@example.org", PASSWORD).await;

    let (status, recorded) = app
        .send(
            Method::PUT,
            &format!("/api/v1/calls/{call_id}/decisions"),
            Some(&admin),
            Some(json!([
                {"application_id": chamonix, "outcome": "selected", "motivation": "Un besoin clair et un portage fort."},
                {"application_id": megeve, "outcome": "rejected", "motivation": "Le budget ne couvre pas le test."}
            ])),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{recorded}");
    let (_, seen) = app
        .get(&format!("/api/v1/applications/{chamonix}"), Some(&officer))
        .await;
    assert_eq!(
        seen["status"], "eligible",
        "pending decisions are invisible to applicants"
    );

    let (status, published) = app
        .post(
            &format!("/api/v1/calls/{call_id}/decisions/publish"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{published}");
    assert_eq!(published["published"], 2);
    let (_, seen) = app
        .get(&format!("/api/v1/applications/{chamonix}"), Some(&officer))
        .await;
    assert_eq!(seen["status"], "selected");
    let selected = app
        .mailbox
        .wait_for_subject("chamonix@example.org", "cision")
        .await;
    assert!(
        selected
            .text()
            .contains("Un besoin clair et un portage fort."),
        "{}",
        selected.text()
    );
    let rejected = app
        .mailbox
        .wait_for_subject("megeve@example.org", "cision")
        .await;
    assert!(
        rejected.text().contains("Le budget ne couvre pas le test."),
        "{}",
        rejected.text()
    );
    let (_, call_now) = app
        .get(&format!("/api/v1/calls/{call_id}"), Some(&admin))
        .await;
    assert_eq!(call_now["status"], "decided");

    let (status, again) = app
        .post(
            &format!("/api/v1/calls/{call_id}/decisions/publish"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["published"], 0);
    let (_, outbox) = app.get("/api/v1/admin/outbox", Some(&admin)).await;
    let decision_emails = outbox["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"] == "decision_published")
        .count();
    assert_eq!(decision_emails, 2, "one email per application, never twice");
    let (status, body) = app
        .send(
            Method::PUT,
            &format!("/api/v1/calls/{call_id}/decisions"),
            Some(&admin),
            Some(json!([{"application_id": megeve, "outcome": "selected", "motivation": "Finalement oui."}])),
        )
        .await;
    assert_problem(status, &body, StatusCode::CONFLICT);
    // A rejected application is not withdrawn after the decision (a laureate may withdraw: see
    // `decision_history`).
    let megeve_officer = app.login("megeve@example.org", PASSWORD).await;
    let (status, _) = app
        .post(
            &format!("/api/v1/applications/{megeve}/withdraw"),
            Some(&megeve_officer),
            json!({}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "no withdrawal after a decision that rejected the application"
    );
}

#[tokio::test]
async fn staff_export_the_applications_as_csv_for_spreadsheets() {
    let app = TestApp::spawn().await;
    let admin = app.admin("staff@example.org").await;
    let call = app
        .open_call(&admin, "experimentation-montagne", "exp-2026")
        .await;
    let call_id = call["id"].as_str().unwrap();
    eligible_territory(
        &app,
        &admin,
        call_id,
        "chamonix@example.org",
        "Chamonix, \"vallée\"",
    )
    .await;
    let officer = app.login("chamonix@example.org", PASSWORD).await;

    let response = app
        .request(
            Method::GET,
            &format!("/api/v1/calls/{call_id}/export/applications.csv"),
            Some(&admin),
        )
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let bytes = response.bytes().await.unwrap();
    assert!(
        bytes.starts_with(b"\xEF\xBB\xBF"),
        "UTF-8 with a byte-order mark"
    );
    let text = std::str::from_utf8(&bytes[3..]).unwrap();
    let mut reader = csv::ReaderBuilder::new().from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    assert!(
        header.contains(&"insee_code".to_string())
            && header.contains(&"support_letter".to_string())
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 1);
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    assert_eq!(&rows[0][column("organization")], "Chamonix, \"vallée\"");
    assert_eq!(&rows[0][column("support_letter")], "lettre.pdf");
    assert_eq!(&rows[0][column("status")], "eligible");
    assert!(text.contains("\r\n"), "RFC 4180 line ends");
    let (status, _) = app
        .get(
            &format!("/api/v1/calls/{call_id}/export/applications.csv"),
            Some(&officer),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_company_proposes_to_pair_with_a_territory_which_accepts_and_the_pairing_shows_everywhere(
) {
    let app = TestApp::spawn().await;
    let admin = app.admin("staff@example.org").await;
    let call = app
        .open_call(&admin, "experimentation-montagne", "exp-2026")
        .await;
    let call_id = call["id"].as_str().unwrap();
    let application =
        eligible_territory(&app, &admin, call_id, "chamonix@example.org", "Chamonix").await;
    let officer = app.login("chamonix@example.org", PASSWORD).await;
    let founder = app.applicant("founder@navette.example").await;
    let company = app
        .organization(&founder, "startup", "Navette Neige SAS")
        .await;
    let stranger = app.applicant("stranger@example.org").await;

    let (status, proposed) = app
        .post(
            &format!("/api/v1/applications/{application}/pairings"),
            Some(&founder),
            json!({"partner_organization_id": company}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{proposed}");
    assert_eq!(proposed["status"], "proposed");
    assert_eq!(proposed["partner_response"], "accepted");
    assert_eq!(proposed["territory_response"], "pending");
    app.mailbox
        .wait_for_subject("chamonix@example.org", "Navette Neige SAS")
        .await;
    app.mailbox
        .wait_for_subject("founder@navette.example", "Chamonix")
        .await;
    let (status, _) = app
        .get(
            &format!("/api/v1/applications/{application}/pairings"),
            Some(&stranger),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let pairing = proposed["id"].as_str().unwrap();
    let (status, confirmed) = app
        .post(
            &format!("/api/v1/applications/{application}/pairings/{pairing}/respond"),
            Some(&officer),
            json!({"accept": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{confirmed}");
    assert_eq!(confirmed["status"], "confirmed");

    let (_, seen) = app
        .get(
            &format!("/api/v1/applications/{application}"),
            Some(&officer),
        )
        .await;
    assert_eq!(seen["partner"]["name"], "Navette Neige SAS");
    let csv = app
        .request(
            Method::GET,
            &format!("/api/v1/calls/{call_id}/export/applications.csv"),
            Some(&admin),
        )
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(csv.contains("Navette Neige SAS"), "{csv}");
    let (status, _) = app
        .post(
            &format!("/api/v1/applications/{application}/pairings/{pairing}/respond"),
            Some(&officer),
            json!({"accept": false}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn jurors_with_pending_reviews_are_reminded_once_before_the_stage_deadline() {
    let start = chrono::Utc::now();
    let app = TestApp::spawn_with(Options {
        clock: cordee::clock::Clock::manual(start),
        ..Default::default()
    })
    .await;
    let admin = app.admin("staff@example.org").await;
    let call = app
        .open_call(&admin, "experimentation-montagne", "exp-2026")
        .await;
    let call_id = call["id"].as_str().unwrap();
    let application =
        eligible_territory(&app, &admin, call_id, "chamonix@example.org", "Chamonix").await;
    app.register("juror@jury.example", "en").await;
    app.verify_address("juror@jury.example").await;
    let juror = app.login("juror@jury.example", PASSWORD).await;
    let (_, me) = app.get("/api/v1/me", Some(&juror)).await;
    let juror_id = me["id"].as_str().unwrap();
    let (status, _) = app
        .post(
            &format!("/api/v1/calls/{call_id}/jurors"),
            Some(&admin),
            json!({"user_id": juror_id}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = app
        .post(
            &format!("/api/v1/calls/{call_id}/assignments"),
            Some(&admin),
            json!({"application_id": application, "juror_id": juror_id, "stage": "written"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let due = (start + chrono::Duration::days(5)).to_rfc3339();
    let (status, body) = app
        .send(
            Method::PUT,
            &format!("/api/v1/calls/{call_id}/stages/written/deadline"),
            Some(&admin),
            Some(json!({"due_at": due})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    app.clock.advance(chrono::Duration::days(4));

    let reminder = app
        .mailbox
        .wait_for_subject("juror@jury.example", "pending")
        .await;
    assert!(reminder.text().contains('1'), "{}", reminder.text());
    // Two more worker passes (each delivers one registration email) send no second reminder.
    app.register("someone@example.org", "fr").await;
    app.mailbox.wait_for_email_to("someone@example.org").await;
    app.register("someone.else@example.org", "fr").await;
    app.mailbox
        .wait_for_email_to("someone.else@example.org")
        .await;
    let (_, outbox) = app
        .get("/api/v1/admin/outbox?limit=200", Some(&admin))
        .await;
    let reminders = outbox["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"] == "review_reminder")
        .count();
    assert_eq!(reminders, 1);
}
