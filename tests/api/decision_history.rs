//! Decisions that move: staff revise a published decision (one email per change, every version kept in
//! order), a laureate withdraws after the decision and a waitlisted application takes the place, a pending
//! decision never reaches an applicant or a juror by any route, and the timeline of a whole path.

use reqwest::header::IF_MATCH;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::scenario::{founder_email, Call, Scenario};
use crate::helpers::*;

/// A motivation no other text holds, to search answers for it.
const SECRET: &str = "MOTIVATION-ENCORE-SECRETE-42";

/// Sets the call's appeal window (days; `null` for none), with the call's `If-Match`.
pub(crate) async fn set_appeal_window(
    app: &TestApp,
    call: &Call,
    days: Value,
) -> (StatusCode, Value) {
    let path = format!("/api/v1/calls/{}", call.id);
    let response = app
        .request(Method::GET, &path, Some(&call.admin))
        .send()
        .await
        .unwrap();
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    let response = app
        .request(Method::PATCH, &path, Some(&call.admin))
        .header(IF_MATCH, etag)
        .json(&json!({"appeal_window_days": days}))
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

/// Shortlists every application of `call` to the pitch and records `outcomes` (one per application, in
/// order) with `motivation`, pending.
pub(crate) async fn record(app: &TestApp, call: &Call, outcomes: &[&str], motivation: &str) {
    let (status, body) = app
        .post(
            &format!("/api/v1/calls/{}/shortlist", call.id),
            Some(&call.admin),
            json!({"application_ids": call.applications, "next_stage": "pitch"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let decisions: Vec<Value> = call
        .applications
        .iter()
        .zip(outcomes)
        .map(|(id, outcome)| json!({"application_id": id, "outcome": outcome, "motivation": motivation}))
        .collect();
    let (status, body) = app
        .send(
            Method::PUT,
            &format!("/api/v1/calls/{}/decisions", call.id),
            Some(&call.admin),
            Some(json!(decisions)),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// Publishes the call's decisions.
pub(crate) async fn publish(app: &TestApp, call: &Call) {
    let (status, body) = app
        .post(
            &format!("/api/v1/calls/{}/decisions/publish", call.id),
            Some(&call.admin),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// A call of `n` start-ups whose decisions `outcomes` are published.
pub(crate) async fn decided_call(app: &TestApp, outcomes: &[&str], window: Option<i64>) -> Call {
    let call = Scenario::new(app)
        .eligible(outcomes.len())
        .build()
        .await
        .call;
    if let Some(days) = window {
        let (status, body) = set_appeal_window(app, &call, json!(days)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["appeal_window_days"], days);
    }
    record(app, &call, outcomes, "Motivation du jury").await;
    publish(app, &call).await;
    call
}

/// How many emails of `event` the outbox holds for `recipient`.
pub(crate) async fn queued(app: &TestApp, admin: &str, event: &str, recipient: &str) -> usize {
    let (status, outbox) = app.get("/api/v1/admin/outbox?limit=200", Some(admin)).await;
    assert_eq!(status, StatusCode::OK, "{outbox}");
    outbox["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"] == event && e["recipient"] == recipient)
        .count()
}

/// POSTs a revision of application `id`.
pub(crate) async fn revise(
    app: &TestApp,
    token: &str,
    id: &str,
    body: Value,
) -> (StatusCode, Value) {
    app.post(
        &format!("/api/v1/applications/{id}/decision/revisions"),
        Some(token),
        body,
    )
    .await
}

async fn history(app: &TestApp, token: &str, id: &str) -> Vec<Value> {
    let (status, body) = app
        .get(
            &format!("/api/v1/applications/{id}/decision/history"),
            Some(token),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["items"].as_array().unwrap().clone()
}

async fn application(app: &TestApp, token: &str, id: &str) -> Value {
    let (status, body) = app
        .get(&format!("/api/v1/applications/{id}"), Some(token))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

#[tokio::test]
async fn a_revision_tells_the_members_once_and_the_history_keeps_every_version_in_order() {
    let app = TestApp::spawn().await;
    let call = decided_call(&app, &["selected", "waitlisted"], None).await;
    let (waitlisted, founder) = (&call.applications[1], &call.founders[1]);
    let email = founder_email(1);
    assert_eq!(
        queued(&app, &call.admin, "decision_published", &email).await,
        1
    );

    // The reason is required: one 422 names every missing field.
    let (status, body) = revise(
        &app,
        &call.admin,
        waitlisted,
        json!({"outcome": "selected", "reason": "  "}),
    )
    .await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(failing_fields(&body), ["motivation", "reason"]);
    // Only staff revise; the applicant is told the route does not exist for them.
    let body = json!({"outcome": "selected", "motivation": "Premier sur la liste", "reason": "Une place s'est libérée"});
    let (status, refused) = revise(&app, founder, waitlisted, body.clone()).await;
    assert_problem(status, &refused, StatusCode::NOT_FOUND);

    // A retried request with the same key changes the decision once.
    let mut answers = Vec::new();
    for _ in 0..2 {
        let response = app
            .request(
                Method::POST,
                &format!("/api/v1/applications/{waitlisted}/decision/revisions"),
                Some(&call.admin),
            )
            .header("Idempotency-Key", "revise-once")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        answers.push(response.json::<Value>().await.unwrap());
    }
    assert_eq!(answers[0], answers[1]);
    assert_eq!(answers[0]["version"], 2);
    assert_eq!(answers[0]["change"], "revised");
    assert_eq!(
        queued(&app, &call.admin, "decision_revised", &email).await,
        1
    );

    let view = application(&app, founder, waitlisted).await;
    assert_eq!(view["status"], "selected");
    assert_eq!(view["decision"]["outcome"], "selected");
    assert_eq!(view["decision"]["motivation"], "Premier sur la liste");
    assert_eq!(view["decision"]["version"], 2);
    assert!(view["decision"]["revised_at"].is_string(), "{view}");
    assert!(
        view["decision"]["appeal"]["deadline"].is_null(),
        "no appeals on this call"
    );

    // A second change: a second version, a second email.
    let (status, third) = revise(
        &app,
        &call.admin,
        waitlisted,
        json!({"outcome": "rejected", "motivation": "Financement retiré", "reason": "Le financeur s'est retiré"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{third}");
    assert_eq!(
        queued(&app, &call.admin, "decision_revised", &email).await,
        2
    );
    let told = app.mailbox.wait_for_subject(&email, "révisée").await;
    assert!(
        told.text().contains("Une place s'est libérée")
            || told.text().contains("Le financeur s'est retiré")
    );

    let seen = history(&app, founder, waitlisted).await;
    let versions: Vec<(i64, &str, &str)> = seen
        .iter()
        .map(|v| {
            (
                v["version"].as_i64().unwrap(),
                v["change"].as_str().unwrap(),
                v["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        versions,
        [
            (1, "published", "waitlisted"),
            (2, "revised", "selected"),
            (3, "revised", "rejected")
        ]
    );
    assert_eq!(seen[1]["reason"], "Une place s'est libérée");
    assert!(
        seen.iter().all(|v| v.get("decided_by").is_none()),
        "no staff names for the applicant"
    );
    let staff = history(&app, &call.admin, waitlisted).await;
    assert_eq!(staff.len(), 3);
    assert!(
        staff.iter().all(|v| v["decided_by"].is_string()),
        "{staff:?}"
    );

    // The decisions of the call show the latest version; each change is on the audit log.
    let (_, decisions) = app
        .get(
            &format!("/api/v1/calls/{}/decisions", call.id),
            Some(&call.admin),
        )
        .await;
    let latest = decisions["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["application_id"] == waitlisted.as_str())
        .unwrap()
        .clone();
    assert_eq!(latest["outcome"], "rejected");
    let (_, audit) = app
        .get(
            &format!("/api/v1/audit?entity_type=application&entity_id={waitlisted}&limit=200"),
            Some(&call.admin),
        )
        .await;
    let revised = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "decision.revised")
        .count();
    assert_eq!(revised, 2);
}

#[tokio::test]
async fn a_laureate_withdraws_after_the_decision_and_a_waitlisted_application_takes_the_place() {
    let app = TestApp::spawn().await;
    let call = decided_call(&app, &["selected", "waitlisted", "rejected"], None).await;
    let (laureate, waitlisted, rejected) = (
        &call.applications[0],
        &call.applications[1],
        &call.applications[2],
    );

    // A rejected applicant cannot withdraw after the decision.
    let (status, body) = app
        .post(
            &format!("/api/v1/applications/{rejected}/withdraw"),
            Some(&call.founders[2]),
            json!({"reason": "Trop tard"}),
        )
        .await;
    assert_problem(status, &body, StatusCode::CONFLICT);
    assert_eq!(body["code"], "not_withdrawable");

    // The laureate may.
    let (status, body) = app
        .post(
            &format!("/api/v1/applications/{laureate}/withdraw"),
            Some(&call.founders[0]),
            json!({"reason": "Nous rejoignons un autre programme"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "withdrawn");
    let seen = history(&app, &call.founders[0], laureate).await;
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(seen[1]["change"], "withdrawn");
    assert_eq!(seen[1]["reason"], "Nous rejoignons un autre programme");
    assert!(seen[1]["outcome"].is_null());
    let view = application(&app, &call.founders[0], laureate).await;
    assert_eq!(view["decision"]["outcome"], "selected");
    assert!(view["decision"]["withdrawn_at"].is_string(), "{view}");

    // Staff are told on the event feed, with the status it had.
    let (status, feed) = app
        .get(
            "/api/v1/events?type=application.withdrawn",
            Some(&call.admin),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{feed}");
    let withdrawn = feed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["application_id"] == laureate.as_str())
        .unwrap_or_else(|| panic!("{feed}"))
        .clone();
    assert_eq!(withdrawn["data"]["previous_status"], "selected");

    // A withdrawn decision is not revised; the waitlisted application takes the place.
    let body = json!({"outcome": "selected", "motivation": "Premier sur la liste", "reason": "Un lauréat s'est retiré"});
    let (status, refused) = revise(&app, &call.admin, laureate, body.clone()).await;
    assert_problem(status, &refused, StatusCode::CONFLICT);
    assert_eq!(refused["code"], "no_published_decision");
    let (status, revised) = revise(&app, &call.admin, waitlisted, body).await;
    assert_eq!(status, StatusCode::CREATED, "{revised}");
    assert_eq!(
        application(&app, &call.founders[1], waitlisted).await["status"],
        "selected"
    );
    let told = app
        .mailbox
        .wait_for_subject(&founder_email(1), "révisée")
        .await;
    assert!(
        told.text().contains("Un lauréat s'est retiré"),
        "{}",
        told.text()
    );
    assert!(told.text().contains("retenue"), "{}", told.text());
}

#[tokio::test]
async fn a_pending_decision_never_reaches_an_applicant_or_a_juror() {
    let app = TestApp::spawn().await;
    let (call, [juror]) = Scenario::new(&app)
        .eligible(2)
        .jurors(1)
        .build()
        .await
        .into_parts();
    let (id, founder) = (&call.applications[0], &call.founders[0]);
    let (status, body) = app
        .post(
            &format!("/api/v1/calls/{}/assignments", call.id),
            Some(&call.admin),
            json!({"application_id": id, "juror_id": juror.id, "stage": "written"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    record(&app, &call, &["selected", "rejected"], SECRET).await;

    // Nothing of the pending decision, by any route the applicant reaches.
    let view = application(&app, founder, id).await;
    assert!(view["decision"].is_null(), "{view}");
    assert_eq!(view["status"], "shortlisted");
    for path in [
        format!("/api/v1/applications/{id}"),
        "/api/v1/applications".to_owned(),
        format!("/api/v1/applications/{id}/timeline"),
        format!("/api/v1/applications/{id}/decision/history"),
        format!("/api/v1/applications/{id}/appeals"),
        "/api/v1/me/export".to_owned(),
    ] {
        let (status, body) = app.get(&path, Some(founder)).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        let text = body.to_string();
        assert!(
            !text.contains(SECRET),
            "{path} leaks the motivation: {text}"
        );
        assert!(
            !text.contains("\"selected\""),
            "{path} leaks the outcome: {text}"
        );
        assert!(!text.contains("decision_published"), "{path}: {text}");
    }
    assert!(history(&app, founder, id).await.is_empty());
    let (status, body) = app
        .post(
            &format!("/api/v1/applications/{id}/appeals"),
            Some(founder),
            json!({"grounds": "Pourquoi ?"}),
        )
        .await;
    assert_eq!(body["code"], "no_published_decision", "{status} {body}");
    for path in [
        format!("/api/v1/calls/{}/decisions", call.id),
        format!("/api/v1/calls/{}/ranking?stage=written", call.id),
        format!("/api/v1/calls/{}/export/applications.csv", call.id),
        format!("/api/v1/calls/{}/export/ranking.csv?stage=written", call.id),
    ] {
        for token in [founder, &juror.token] {
            let (status, body) = app.get(&path, Some(token)).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
        }
    }
    // The juror reads the application to score it, never the decision, and follows nothing of it.
    let seen = application(&app, &juror.token, id).await;
    assert!(seen["decision"].is_null(), "{seen}");
    for path in ["timeline", "decision/history", "appeals"] {
        let (status, _) = app
            .get(
                &format!("/api/v1/applications/{id}/{path}"),
                Some(&juror.token),
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    // No email announces it.
    assert_eq!(
        queued(&app, &call.admin, "decision_published", &founder_email(0)).await,
        0
    );

    // Once published, the members see it; the juror still does not.
    publish(&app, &call).await;
    let view = application(&app, founder, id).await;
    assert_eq!(view["decision"]["outcome"], "selected");
    assert_eq!(view["decision"]["motivation"], SECRET);
    assert_eq!(view["decision"]["version"], 1);
    assert!(view["decision"]["revised_at"].is_null());
    assert!(application(&app, &juror.token, id).await["decision"].is_null());
    assert_eq!(
        queued(&app, &call.admin, "decision_published", &founder_email(0)).await,
        1
    );
}

/// The kinds of a timeline, in order.
async fn timeline_kinds(app: &TestApp, token: &str, id: &str) -> (Vec<String>, Value) {
    let (status, body) = app
        .get(&format!("/api/v1/applications/{id}/timeline"), Some(token))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let kinds = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["kind"].as_str().unwrap().to_owned())
        .collect();
    (kinds, body)
}

#[tokio::test]
async fn the_timeline_tells_a_whole_path_in_order_and_nothing_internal() {
    let app = TestApp::spawn().await;
    let mut call = Scenario::new(&app).eligible(1).jurors(1).build().await.call;
    // A second start-up, sent back for changes before it is found eligible.
    let founder = app.applicant(&founder_email(7)).await;
    let org = app.organization(&founder, "startup", "Startup 7").await;
    let (status, created) = app
        .post(
            &format!("/api/v1/calls/{}/applications", call.id),
            Some(&founder),
            json!({"organization_id": org, "answers": atl_answers()}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let (status, _) = app
        .upload(&founder, &id, "pitch_deck", "pitch.pdf", pdf_bytes())
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let submit = format!("/api/v1/applications/{id}/submit");
    assert_eq!(
        app.post(&submit, Some(&founder), json!({})).await.0,
        StatusCode::OK
    );
    let screening = format!("/api/v1/applications/{id}/screening");
    let due = (chrono::Utc::now() + chrono::Duration::days(5)).to_rfc3339();
    let (status, body) = app
        .post(
            &screening,
            Some(&call.admin),
            json!({"outcome": "changes_requested", "reason": "Joindre le budget", "due_at": due}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        app.post(&submit, Some(&founder), json!({})).await.0,
        StatusCode::OK
    );
    let (status, _) = app
        .post(
            &screening,
            Some(&call.admin),
            json!({"outcome": "eligible"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app
        .post(
            &format!("/api/v1/applications/{id}/messages"),
            Some(&founder),
            json!({"body": "Merci !"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    call.applications = vec![id.clone()];
    call.founders = vec![founder.clone()];
    let (status, body) = set_appeal_window(&app, &call, json!(30)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    record(&app, &call, &["waitlisted"], "Bon projet").await;
    publish(&app, &call).await;
    let (status, body) = revise(
        &app,
        &call.admin,
        &id,
        json!({"outcome": "selected", "motivation": "Premier sur la liste", "reason": "Une place s'est libérée"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, appeal) = app
        .post(
            &format!("/api/v1/applications/{id}/appeals"),
            Some(&founder),
            json!({"grounds": "La motivation est incomplète"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{appeal}");
    let (status, body) = app
        .post(
            &format!(
                "/api/v1/applications/{id}/appeals/{}/resolve",
                appeal["id"].as_str().unwrap()
            ),
            Some(&call.admin),
            json!({"outcome": "dismissed", "motivation": "La décision vous est favorable"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let (kinds, body) = timeline_kinds(&app, &founder, &id).await;
    assert_eq!(
        kinds,
        [
            "created",
            "submitted",
            "changes_requested",
            "resubmitted",
            "eligible",
            "message",
            "shortlisted",
            "decision_published",
            "decision_revised",
            "appeal_filed",
            "appeal_resolved",
        ],
        "{body}"
    );
    let items = body["items"].as_array().unwrap();
    assert_eq!(items[2]["reason"], "Joindre le budget");
    assert!(items[2]["due_at"].is_string());
    assert_eq!(items[5]["author_side"], "applicant");
    assert_eq!(items[6]["next_stage"], "pitch");
    assert_eq!(items[7]["outcome"], "waitlisted");
    assert_eq!(items[7]["motivation"], "Bon projet");
    assert_eq!(
        (items[8]["from"].as_str(), items[8]["to"].as_str()),
        (Some("waitlisted"), Some("selected"))
    );
    assert_eq!(items[8]["reason"], "Une place s'est libérée");
    assert_eq!(items[10]["outcome"], "dismissed");
    assert_eq!(body["truncated"], false);
    let text = body.to_string();
    for internal in ["decided_by", "actor", "juror", "score", "staff@example.org"] {
        assert!(
            !text.contains(internal),
            "the timeline shows {internal}: {text}"
        );
    }
    let times: Vec<chrono::DateTime<chrono::FixedOffset>> = items
        .iter()
        .map(|i| chrono::DateTime::parse_from_rfc3339(i["at"].as_str().unwrap()).unwrap())
        .collect();
    let mut sorted = times.clone();
    sorted.sort();
    assert_eq!(times, sorted, "oldest first");
    // Staff read the same timeline.
    assert_eq!(timeline_kinds(&app, &call.admin, &id).await.0, kinds);

    // The same few statements whatever the timeline's length.
    let statements = || async {
        let response = app
            .request(
                Method::GET,
                &format!("/api/v1/applications/{id}/timeline"),
                Some(&founder),
            )
            .send()
            .await
            .unwrap();
        response.headers()["x-sql-statements"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
    };
    let before = statements().await;
    for i in 0..5 {
        let (status, _) = app
            .post(
                &format!("/api/v1/applications/{id}/messages"),
                Some(&call.admin),
                json!({"body": format!("Message {i}")}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    assert_eq!(statements().await, before);
    assert_eq!(
        timeline_kinds(&app, &founder, &id).await.0.len(),
        kinds.len() + 5
    );
}
