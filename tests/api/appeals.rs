//! Appeals: filed by the applicant within the call's window (once per version of the decision), resolved
//! by staff with an email, followed by a revision that names them; and anonymisation that waits while one
//! is open.

use chrono::Months;
use cordee::clock::Clock;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::decision_history::{decided_call, queued, revise, set_appeal_window};
use crate::helpers::scenario::founder_email;
use crate::helpers::*;

/// A test application on a manual clock; the retention job runs only when a test asks.
async fn spawn() -> TestApp {
    TestApp::spawn_with(Options {
        clock: Clock::manual(chrono::Utc::now()),
        configure: Box::new(|settings| settings.privacy.retention_enabled = false),
        ..Default::default()
    })
    .await
}

async fn file(app: &TestApp, token: &str, id: &str, grounds: Value) -> (StatusCode, Value) {
    app.post(
        &format!("/api/v1/applications/{id}/appeals"),
        Some(token),
        json!({"grounds": grounds}),
    )
    .await
}

async fn resolve(
    app: &TestApp,
    token: &str,
    id: &str,
    appeal: &str,
    body: Value,
) -> (StatusCode, Value) {
    app.post(
        &format!("/api/v1/applications/{id}/appeals/{appeal}/resolve"),
        Some(token),
        body,
    )
    .await
}

#[tokio::test]
async fn an_appeal_is_filed_within_the_window_once_resolved_with_an_email_then_answered_by_a_revision(
) {
    let app = spawn().await;
    let call = decided_call(&app, &["rejected", "waitlisted"], Some(10)).await;
    let (id, founder, email) = (&call.applications[0], &call.founders[0], founder_email(0));

    // The decision email and the decision say until when, and where.
    let told = app.mailbox.wait_for_subject(&email, "Décision").await;
    let text = told.text();
    assert!(text.contains("faire appel"), "{text}");
    assert!(
        text.contains(&format!("/api/v1/applications/{id}/appeals")),
        "{text}"
    );
    let (_, view) = app
        .get(&format!("/api/v1/applications/{id}"), Some(founder))
        .await;
    let deadline = view["decision"]["appeal"]["deadline"]
        .as_str()
        .unwrap()
        .to_owned();
    let published =
        chrono::DateTime::parse_from_rfc3339(view["decision"]["published_at"].as_str().unwrap())
            .unwrap();
    assert_eq!(
        chrono::DateTime::parse_from_rfc3339(&deadline).unwrap(),
        published + chrono::Duration::days(10)
    );
    assert_eq!(
        view["decision"]["appeal"]["route"],
        format!("/api/v1/applications/{id}/appeals")
    );
    assert!(view["decision"]["appeal"]["status"].is_null());

    // Grounds are required, and bounded.
    for grounds in [json!("   "), json!("x".repeat(5001))] {
        let (status, body) = file(&app, founder, id, grounds).await;
        assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(failing_fields(&body), ["grounds"]);
    }
    let (status, appeal) = file(&app, founder, id, json!("Le jury n'a pas lu l'annexe")).await;
    assert_eq!(status, StatusCode::CREATED, "{appeal}");
    assert_eq!(appeal["status"], "open");
    assert_eq!(appeal["decision_version"], 1);
    let appeal_id = appeal["id"].as_str().unwrap().to_owned();
    assert_eq!(
        queued(&app, &call.admin, "appeal_filed", "staff@example.org").await,
        1
    );

    // A second one is refused.
    let (status, body) = file(&app, founder, id, json!("Encore")).await;
    assert_problem(status, &body, StatusCode::CONFLICT);
    assert_eq!(body["code"], "appeal_exists");

    // Members and staff read it.
    for token in [founder, &call.admin] {
        let (status, list) = app
            .get(&format!("/api/v1/applications/{id}/appeals"), Some(token))
            .await;
        assert_eq!(status, StatusCode::OK, "{list}");
        assert_eq!(list["items"][0]["id"], appeal_id.as_str());
    }
    // Only staff resolve it; the applicant is emailed the answer, once.
    let upheld = json!({"outcome": "upheld", "motivation": "L'annexe a été relue"});
    let (status, body) = resolve(&app, founder, id, &appeal_id, upheld.clone()).await;
    assert_problem(status, &body, StatusCode::NOT_FOUND);
    let (status, body) = resolve(
        &app,
        &call.admin,
        id,
        &appeal_id,
        json!({"outcome": "maybe"}),
    )
    .await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(failing_fields(&body), ["motivation", "outcome"]);
    let (status, resolved) = resolve(&app, &call.admin, id, &appeal_id, upheld.clone()).await;
    assert_eq!(status, StatusCode::OK, "{resolved}");
    assert_eq!(resolved["status"], "upheld");
    assert_eq!(resolved["resolution"], "L'annexe a été relue");
    let (status, body) = resolve(&app, &call.admin, id, &appeal_id, upheld).await;
    assert_problem(status, &body, StatusCode::CONFLICT);
    assert_eq!(body["code"], "appeal_resolved");
    assert_eq!(
        queued(&app, &call.admin, "appeal_resolved", &email).await,
        1
    );
    let answer = app.mailbox.wait_for_subject(&email, "appel").await;
    assert!(answer.text().contains("accueilli"), "{}", answer.text());

    // The revision names the upheld appeal (a dismissed or unknown one is refused).
    let body = |appeal: &str| json!({"outcome": "waitlisted", "motivation": "Annexe prise en compte", "reason": "Appel accueilli", "appeal_id": appeal});
    let (status, refused) = revise(
        &app,
        &call.admin,
        id,
        body("00000000-0000-7000-8000-000000000009"),
    )
    .await;
    assert_problem(status, &refused, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(failing_fields(&refused), ["appeal_id"]);
    let (status, version) = revise(&app, &call.admin, id, body(&appeal_id)).await;
    assert_eq!(status, StatusCode::CREATED, "{version}");
    assert_eq!(version["appeal_id"], appeal_id.as_str());
    let (_, view) = app
        .get(&format!("/api/v1/applications/{id}"), Some(founder))
        .await;
    assert_eq!(view["status"], "waitlisted");
    assert_eq!(view["decision"]["version"], 2);
    // The revised decision may be appealed again, until a new deadline.
    assert!(view["decision"]["appeal"]["status"].is_null(), "{view}");
    let revised = app.mailbox.wait_for_subject(&email, "révisée").await;
    assert!(
        revised
            .text()
            .contains("faire appel de cette nouvelle décision"),
        "{}",
        revised.text()
    );
}

#[tokio::test]
async fn an_appeal_after_the_window_or_without_one_is_refused() {
    let app = spawn().await;
    let call = decided_call(&app, &["rejected", "rejected"], Some(3)).await;
    // A window is 1 to 365 days.
    let (status, body) = set_appeal_window(&app, &call, json!(0)).await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(failing_fields(&body), ["appeal_window_days"]);

    app.clock
        .advance(chrono::Duration::days(3) + chrono::Duration::minutes(1));
    let (status, body) = file(
        &app,
        &call.founders[0],
        &call.applications[0],
        json!("Trop tard ?"),
    )
    .await;
    assert_problem(status, &body, StatusCode::CONFLICT);
    assert_eq!(body["code"], "appeal_window_closed");

    // Without a window, the call takes no appeals.
    let admin = app.login("staff@example.org", PASSWORD).await;
    let call = crate::helpers::scenario::Call { admin, ..call };
    let (status, body) = set_appeal_window(&app, &call, Value::Null).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["appeal_window_days"].is_null());
    let (status, body) = file(
        &app,
        &call.founders[1],
        &call.applications[1],
        json!("Pourquoi ?"),
    )
    .await;
    assert_problem(status, &body, StatusCode::CONFLICT);
    assert_eq!(body["code"], "no_appeals");
}

#[tokio::test]
async fn anonymisation_waits_while_an_appeal_is_open() {
    let app = spawn().await;
    let start = app.clock.now();
    let call = decided_call(&app, &["rejected", "rejected"], Some(30)).await;
    let (appealed, quiet) = (&call.applications[0], &call.applications[1]);
    let (status, appeal) = file(
        &app,
        &call.founders[0],
        appealed,
        json!("Le jury s'est trompé"),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{appeal}");

    let run = |admin: String| {
        let app = &app;
        async move {
            let (status, run) = app
                .post("/api/v1/admin/retention/run", Some(&admin), json!({}))
                .await;
            assert_eq!(status, StatusCode::OK, "{run}");
            run["anonymised"].as_u64().unwrap()
        }
    };
    // Past the retention period, only the application without an open appeal is anonymised.
    app.clock
        .set(start + Months::new(3) + chrono::Duration::days(2));
    let admin = app.login("staff@example.org", PASSWORD).await;
    assert_eq!(run(admin.clone()).await, 1);
    let (_, view) = app
        .get(&format!("/api/v1/applications/{quiet}"), Some(&admin))
        .await;
    assert_eq!(view["answers"], json!({}), "{view}");
    let (_, view) = app
        .get(&format!("/api/v1/applications/{appealed}"), Some(&admin))
        .await;
    assert_ne!(view["answers"], json!({}), "{view}");

    // Once staff answer, it goes the same way.
    let (status, body) = resolve(
        &app,
        &admin,
        appealed,
        appeal["id"].as_str().unwrap(),
        json!({"outcome": "dismissed", "motivation": "Décision maintenue"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(run(admin.clone()).await, 1);
    let (_, list) = app
        .get(
            &format!("/api/v1/applications/{appealed}/appeals"),
            Some(&admin),
        )
        .await;
    assert_eq!(
        list["items"][0]["grounds"], "",
        "the grounds are erased with the application"
    );
    assert!(list["items"][0]["resolution"].is_null());
}
