//! Email templates staff can edit: read the built-in template, override it per call, event and locale,
//! preview it with example data, go back to the default; broken templates are refused naming the line
//! and the variable, and an override is what arrives over SMTP, with HTML escaped.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

/// The path of a call's template for `event` in `locale`.
fn template_path(call_id: &str, event: &str, locale: &str) -> String {
    format!("/api/v1/calls/{call_id}/email-templates/{event}/{locale}")
}

/// Opens an Alpes Tourisme Lab call; returns its id.
async fn call(app: &TestApp, admin: &str, slug: &str) -> String {
    let call = app.open_call(admin, "alpes-tourisme-lab", slug).await;
    call["id"].as_str().unwrap().to_owned()
}

/// Registers an applicant writing in `locale` with a start-up called `organization`; returns the token and
/// the organization's id.
async fn applicant(
    app: &TestApp,
    email: &str,
    locale: &str,
    organization: &str,
) -> (String, String) {
    app.register(email, locale).await;
    app.verify_address(email).await;
    let token = app.login(email, PASSWORD).await;
    let org = app.organization(&token, "startup", organization).await;
    (token, org)
}

/// Applies to `call_id` with complete answers and submits; returns the reference.
async fn submit_application(app: &TestApp, token: &str, call_id: &str, org: &str) -> String {
    let (status, draft) = app
        .post(
            &format!("/api/v1/calls/{call_id}/applications"),
            Some(token),
            json!({"organization_id": org, "answers": atl_answers()}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{draft}");
    let id = draft["id"].as_str().unwrap();
    let (status, body) = app
        .upload(token, id, "pitch_deck", "deck.pdf", pdf_bytes())
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = app
        .post(
            &format!("/api/v1/applications/{id}/submit"),
            Some(token),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["reference"].as_str().unwrap().to_owned()
}

/// A French submission receipt written by the call's team.
fn custom_receipt() -> Value {
    json!({
        "subject": "Dossier {{ reference }} bien reçu",
        "text": "Bonjour {{ display_name }},\n\nLe dossier {{ reference }} de {{ organization_name }} est arrivé.\n{% for answer in answers %}\n* {{ answer.label }}\n{% endfor %}\nÀ bientôt,\nL'équipe Alpes Tourisme Lab\n",
        "html": "{% extends \"layout.html\" %}\n{% block lang %}fr{% endblock %}\n{% block content %}\n<p>Le dossier <strong>{{ reference }}</strong> de <em>{{ organization_name }}</em> est arrivé.</p>\n{% endblock %}\n",
    })
}

/// The messages of a 422, by field.
fn messages(body: &Value, field: &str) -> Vec<String> {
    body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("a 422 lists its errors: {body}"))
        .iter()
        .filter(|e| e["field"] == field)
        .map(|e| {
            format!(
                "{}: {}",
                e["code"].as_str().unwrap(),
                e["message"].as_str().unwrap()
            )
        })
        .collect()
}

#[tokio::test]
async fn the_built_in_template_can_be_read_and_saving_it_back_changes_no_email() {
    let app = TestApp::spawn().await;
    let admin = app.admin("staff@example.org").await;
    let call_id = call(&app, &admin, "atl-2026").await;
    let path = template_path(&call_id, "submission_receipt", "fr");

    let (status, default) = app.get(&path, Some(&admin)).await;

    assert_eq!(status, StatusCode::OK, "{default}");
    assert_eq!(default["event"], "submission_receipt");
    assert_eq!(default["locale"], "fr");
    assert_eq!(default["source"], "default");
    assert_eq!(
        default["subject"],
        "Accusé de réception de votre candidature {{ reference }}"
    );
    assert!(default["text"]
        .as_str()
        .unwrap()
        .starts_with("Bonjour {{ display_name }},"));
    assert!(!default["text"].as_str().unwrap().contains("{% block"));
    assert!(default["html"]
        .as_str()
        .unwrap()
        .starts_with("{% extends \"layout.html\" %}"));
    let variables: Vec<&str> = default["variables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for name in ["answers", "call_title", "display_name", "link", "reference"] {
        assert!(variables.contains(&name), "{variables:?}");
    }
    let (status, rendered_default) = app
        .send(Method::POST, &format!("{path}/preview"), Some(&admin), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{rendered_default}");

    let same =
        json!({"subject": default["subject"], "text": default["text"], "html": default["html"]});
    let (status, saved) = app.send(Method::PUT, &path, Some(&admin), Some(same)).await;

    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(saved["source"], "call");
    assert_eq!(saved["subject"], default["subject"]);
    let (status, rendered_saved) = app
        .send(Method::POST, &format!("{path}/preview"), Some(&admin), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{rendered_saved}");
    assert_eq!(rendered_saved, rendered_default);

    // Saving again replaces the call's template.
    let (status, replaced) = app
        .send(Method::PUT, &path, Some(&admin), Some(custom_receipt()))
        .await;
    assert_eq!(status, StatusCode::OK, "{replaced}");
    let (_, read) = app.get(&path, Some(&admin)).await;
    assert_eq!(read["subject"], custom_receipt()["subject"], "{read}");
    assert_eq!(read["html"], custom_receipt()["html"], "{read}");
}

#[tokio::test]
async fn an_overridden_template_is_the_one_that_arrives_over_smtp_until_it_is_deleted() {
    let app = TestApp::spawn().await;
    let admin = app.admin("staff@example.org").await;
    let atl = call(&app, &admin, "atl-2026").await;
    let other_call = call(&app, &admin, "atl-bis").await;
    let path = template_path(&atl, "submission_receipt", "fr");

    let (status, saved) = app
        .send(Method::PUT, &path, Some(&admin), Some(custom_receipt()))
        .await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(saved["source"], "call");
    assert_eq!(saved["subject"], custom_receipt()["subject"]);
    let (_, read) = app.get(&path, Some(&admin)).await;
    assert_eq!(read["source"], "call", "{read}");
    assert_eq!(read["text"], custom_receipt()["text"]);

    // The call's own template, with the organization's name escaped in the HTML part only.
    let (token, org) = applicant(
        &app,
        "fondatrice@example.org",
        "fr",
        "Refuges <script>alert(1)</script>",
    )
    .await;
    let reference = submit_application(&app, &token, &atl, &org).await;
    let receipt = app
        .mailbox
        .wait_for_subject("fondatrice@example.org", "bien reçu")
        .await;
    assert_eq!(receipt.subject(), format!("Dossier {reference} bien reçu"));
    let text = receipt.text();
    assert!(
        text.contains(&format!(
            "Le dossier {reference} de Refuges <script>alert(1)</script> est arrivé."
        )),
        "{text}"
    );
    assert!(text.contains("\n* "), "the answers are listed: {text}");
    assert!(text.contains("L'équipe Alpes Tourisme Lab"), "{text}");
    let html = receipt.html();
    assert!(!html.contains("<script>"), "{html}");
    assert!(
        html.contains("<em>Refuges &lt;script&gt;alert(1)&lt;&#x2f;script&gt;</em>"),
        "{html}"
    );
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");

    // The other locale of the same call, and another call, keep the built-in template.
    let (token, org) = applicant(&app, "founder@example.org", "en", "Snow Shuttle").await;
    let reference = submit_application(&app, &token, &atl, &org).await;
    let receipt = app
        .mailbox
        .wait_for_subject("founder@example.org", "received")
        .await;
    assert_eq!(
        receipt.subject(),
        format!("We have received your application {reference}")
    );
    let (token, org) = applicant(&app, "autre@example.org", "fr", "Glisse et Cie").await;
    let reference = submit_application(&app, &token, &other_call, &org).await;
    let receipt = app
        .mailbox
        .wait_for_subject("autre@example.org", "Accusé de réception")
        .await;
    assert!(
        receipt.subject().ends_with(&reference),
        "{}",
        receipt.subject()
    );

    // Deleting the override goes back to the built-in template; deleting again is harmless.
    let (status, body) = app.send(Method::DELETE, &path, Some(&admin), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, body) = app.send(Method::DELETE, &path, Some(&admin), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (_, read) = app.get(&path, Some(&admin)).await;
    assert_eq!(read["source"], "default", "{read}");
    let (token, org) = applicant(&app, "suivante@example.org", "fr", "Neige Douce").await;
    let reference = submit_application(&app, &token, &atl, &org).await;
    let receipt = app
        .mailbox
        .wait_for_subject("suivante@example.org", "Accusé de réception")
        .await;
    assert!(
        receipt.subject().ends_with(&reference),
        "{}",
        receipt.subject()
    );
    assert!(app
        .mailbox
        .emails_to("suivante@example.org")
        .iter()
        .all(|e| !e.subject().contains("bien reçu")));

    // Both changes are in the audit log of the call.
    let (status, audit) = app
        .get(
            &format!("/api/v1/audit?entity_type=call&entity_id={atl}"),
            Some(&admin),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{audit}");
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"email_template.updated"), "{actions:?}");
    assert_eq!(
        actions
            .iter()
            .filter(|a| **a == "email_template.reset")
            .count(),
        1,
        "{actions:?}"
    );
}

#[tokio::test]
async fn a_broken_template_is_refused_naming_the_part_the_line_and_the_variable() {
    let app = TestApp::spawn().await;
    let admin = app.admin("staff@example.org").await;
    let call_id = call(&app, &admin, "atl-2026").await;
    let path = template_path(&call_id, "submission_receipt", "fr");

    let (status, body) = app
        .send(
            Method::PUT,
            &path,
            Some(&admin),
            Some(json!({
                "subject": "Dossier {{ reference }} ({{ budget }})",
                "text": "Bonjour {{ display_name }},\n\n{% if reference %}\nLe dossier {{ reference }} est arrivé.\n",
                "html": "<p>{{ reference }}</p>\n<p>{{ display_name|safe }}</p>\n",
            })),
        )
        .await;

    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(failing_fields(&body), vec!["html", "subject", "text"]);
    assert_eq!(
        messages(&body, "subject"),
        vec!["unknown_variable: line 1: unknown variable `budget`"]
    );
    let text = messages(&body, "text");
    assert_eq!(text.len(), 1, "{text:?}");
    assert!(text[0].starts_with("syntax: line "), "{text:?}");
    assert!(
        messages(&body, "html")[0].starts_with("escaping_disabled: line 2: the `safe` filter"),
        "{body}"
    );

    let (status, body) = app
        .send(
            Method::PUT,
            &path,
            Some(&admin),
            Some(json!({
                "subject": "Dossier {{ reference }}",
                "text": "Bonjour {{ display_name }},\n\nVotre budget :\n{{ budget }}\n",
                "html": "{% extends \"layout.html\" %}\n{% block content %}\n<p>{{ reference }}</p>\n{% endblock %\n",
            })),
        )
        .await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(failing_fields(&body), vec!["html", "text"]);
    assert_eq!(
        messages(&body, "text"),
        vec!["unknown_variable: line 4: unknown variable `budget`"]
    );
    let html = messages(&body, "html");
    assert!(
        html[0].starts_with("syntax: line 4: syntax error"),
        "{html:?}"
    );

    let (status, body) = app
        .send(
            Method::PUT,
            &path,
            Some(&admin),
            Some(json!({"subject": "Dossier", "text": "Bonjour", "status": "sent"})),
        )
        .await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(failing_fields(&body), vec!["html", "status"]);

    // A template that would loop nine million times is stopped by its budget, not saved.
    let (status, body) = app
        .send(
            Method::PUT,
            &path,
            Some(&admin),
            Some(json!({
                "subject": "Dossier {{ reference }}",
                "text": "{% for i in range(3000) %}{% for j in range(3000) %}x{% endfor %}{% endfor %}",
                "html": "<p>{{ reference }}</p>",
            })),
        )
        .await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(failing_fields(&body), vec!["text"], "{body}");
    assert!(messages(&body, "text")[0].starts_with("render: "), "{body}");

    // Nothing was saved.
    let (_, read) = app.get(&path, Some(&admin)).await;
    assert_eq!(read["source"], "default", "{read}");
}

#[tokio::test]
async fn a_preview_renders_the_example_data_with_a_draft_or_the_template_in_use() {
    let app = TestApp::spawn().await;
    let admin = app.admin("staff@example.org").await;
    let call_id = call(&app, &admin, "atl-2026").await;
    let path = format!(
        "{}/preview",
        template_path(&call_id, "decision_published", "en")
    );

    let (status, preview) = app.send(Method::POST, &path, Some(&admin), None).await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert_eq!(
        preview["subject"],
        "Decision on your application ATL-2026-0007"
    );
    assert!(preview["text"]
        .as_str()
        .unwrap()
        .contains("Hello Camille Durand,"));
    assert!(preview["html"]
        .as_str()
        .unwrap()
        .starts_with("<!DOCTYPE html>"));

    let (status, preview) = app
        .post(
            &path,
            Some(&admin),
            json!({"subject": "{{ organization_name }}: {{ outcome }}", "html": "<p>{{ motivation }}</p>"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert_eq!(preview["subject"], "Refuges du Vercors: selected");
    assert!(
        preview["html"]
            .as_str()
            .unwrap()
            .contains("Le jury salue l&#x27;ancrage local."),
        "{preview}"
    );
    assert!(preview["text"]
        .as_str()
        .unwrap()
        .contains("Hello Camille Durand,"));

    let (status, body) = app
        .post(
            &path,
            Some(&admin),
            json!({"text": "{{ score }}", "from": "x"}),
        )
        .await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(failing_fields(&body), vec!["from", "text"]);
    assert_eq!(
        messages(&body, "text"),
        vec!["unknown_variable: line 1: unknown variable `score`"]
    );
}

#[tokio::test]
async fn only_administrators_edit_templates_of_known_calls_events_and_locales() {
    let app = TestApp::spawn().await;
    let admin = app.admin("staff@example.org").await;
    let applicant = app.applicant("lea@example.org").await;
    let call_id = call(&app, &admin, "atl-2026").await;
    let path = template_path(&call_id, "submission_receipt", "fr");

    let (status, body) = app.get(&path, None).await;
    assert_problem(status, &body, StatusCode::UNAUTHORIZED);
    for (method, suffix, body) in [
        (Method::GET, "", None),
        (Method::PUT, "", Some(custom_receipt())),
        (Method::DELETE, "", None),
        (Method::POST, "/preview", None),
    ] {
        let (status, answer) = app
            .send(
                method.clone(),
                &format!("{path}{suffix}"),
                Some(&applicant),
                body,
            )
            .await;
        // A call's staff routes do not exist for someone with no role on it.
        assert_problem(status, &answer, StatusCode::NOT_FOUND);
    }

    let unknown_call = template_path(
        &uuid::Uuid::now_v7().to_string(),
        "submission_receipt",
        "fr",
    );
    for path in [
        unknown_call,
        template_path(&call_id, "no_such_event", "fr"),
        template_path(&call_id, "password_reset", "fr"),
        template_path(&call_id, "submission_receipt", "de"),
    ] {
        let (status, body) = app.get(&path, Some(&admin)).await;
        assert_problem(status, &body, StatusCode::NOT_FOUND);
        let (status, body) = app
            .send(Method::PUT, &path, Some(&admin), Some(custom_receipt()))
            .await;
        assert_problem(status, &body, StatusCode::NOT_FOUND);
        let (status, body) = app.send(Method::DELETE, &path, Some(&admin), None).await;
        assert_problem(status, &body, StatusCode::NOT_FOUND);
    }
}
