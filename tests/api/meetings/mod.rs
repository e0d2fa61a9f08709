//! The record of a jury meeting, as staff keep it through the API: opened on a stage with the ranking as it
//! stood, attendance against the call's quorum, what was decided on each application (a conflicted juror's
//! vote refused, naming them), minutes, a closing refused below quorum, then the frozen record whose digest
//! anyone can recompute ([`access`]: who reads and who changes, the decisions linked at closing; [`page`]: the
//! printable page as Chromium shows and prints it).

mod access;
mod page;

use reqwest::header::{ETAG, IF_MATCH};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::evaluation::{assign, review};
use crate::helpers::scenario::{Call, Juror, Scenario, Template};
use crate::helpers::*;

/// A juror of `call` who joined through an invitation under their own name.
async fn named_juror(app: &TestApp, call: &Call, email: &str, name: &str) -> Juror {
    let (status, body) = app
        .post(
            "/api/v1/invitations",
            Some(&call.admin),
            json!({"email": email, "role": "juror", "call_id": call.id}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let token = app.mailbox.wait_for_email_to(email).await.token();
    let (status, user) = app
        .post(
            "/api/v1/invitations/accept",
            None,
            json!({"token": token, "display_name": name, "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{user}");
    Juror {
        email: email.to_owned(),
        token: app.login(email, PASSWORD).await,
        id: user["id"].as_str().unwrap().to_owned(),
    }
}

/// A call with two eligible applications, three named jurors, the first two of whom reviewed both
/// applications at the written stage, the third conflicted with the first application.
async fn deliberated_call(app: &TestApp) -> (Call, [Juror; 3]) {
    let call = Scenario::new(app)
        .call(Template::Atl)
        .eligible(2)
        .build()
        .await
        .call;
    let jurors = [
        named_juror(app, &call, "anne@jury.example", "Anne Alpage").await,
        named_juror(app, &call, "bruno@jury.example", "Bruno Bergerie").await,
        named_juror(app, &call, "chloe@jury.example", "Chloé Crête").await,
    ];
    for (application, values) in call.applications.iter().zip([[5.0; 5], [2.0; 5]]) {
        for juror in &jurors[..2] {
            assign(app, &call, application, juror).await;
            review(app, juror, application, values).await;
        }
    }
    let (status, body) = app
        .post(
            &format!("/api/v1/calls/{}/conflicts", call.id),
            Some(&jurors[2].token),
            json!({"juror_id": jurors[2].id, "application_id": call.applications[0], "reason": "Ma cousine y travaille"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    (call, jurors)
}

/// Sends `body` with `method` to `path` and returns the status and the JSON answer.
async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Value,
) -> (StatusCode, Value) {
    app.send(method, path, Some(token), Some(body)).await
}

/// Changes a resource with `If-Match` set to the version read just before.
async fn patch(app: &TestApp, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
    let read = app
        .request(Method::GET, path, Some(token))
        .send()
        .await
        .unwrap();
    let etag = read.headers()[ETAG].clone();
    let response = app
        .request(Method::PATCH, path, Some(token))
        .header(IF_MATCH, etag)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The SHA-256 (hex) of the canonical JSON of `value`: keys sorted at every depth, no whitespace.
fn recomputed_digest(value: &Value) -> String {
    fn canonical(value: &Value) -> String {
        match value {
            Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                let fields: Vec<String> = keys
                    .iter()
                    .map(|k| format!("{}:{}", Value::String((*k).clone()), canonical(&map[*k])))
                    .collect();
                format!("{{{}}}", fields.join(","))
            }
            Value::Array(items) => {
                format!(
                    "[{}]",
                    items.iter().map(canonical).collect::<Vec<_>>().join(",")
                )
            }
            other => other.to_string(),
        }
    }
    hex::encode(Sha256::digest(canonical(value).as_bytes()))
}

#[tokio::test]
async fn a_meeting_is_recorded_from_opening_to_its_frozen_record() {
    let app = TestApp::spawn().await;
    let (call, [anne, bruno, chloe]) = deliberated_call(&app).await;
    let admin = call.admin.as_str();
    let call_path = format!("/api/v1/calls/{}", call.id);
    let (status, body) = patch(&app, &call_path, admin, json!({"quorum": 0})).await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["errors"][0]["code"], "invalid_quorum");
    let (status, changed) = patch(&app, &call_path, admin, json!({"quorum": 3})).await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(app.get(&call_path, None).await.1["quorum"], 3);

    // Opening keeps the ranking as it stands.
    let (status, meeting) = app
        .post(
            &format!("{call_path}/meetings"),
            Some(admin),
            json!({"stage": "written", "held_at": "2026-12-10T09:00:00Z", "place": "Maison de la montagne, Grenoble", "agenda": "1. Classement\n2. Présélection"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{meeting}");
    assert_eq!(meeting["status"], "open");
    let path = format!("{call_path}/meetings/{}", meeting["id"].as_str().unwrap());
    let (status, record) = app.get(&format!("{path}/record"), Some(admin)).await;
    assert_eq!(status, StatusCode::OK, "{record}");
    assert_eq!(
        record["ranking"][0]["reference"],
        call.references[0].as_str()
    );
    assert_eq!(record["ranking"][0]["score"], 100.0);
    assert_eq!(record["ranking"][1]["score"], 40.0);
    assert_eq!(record["digest"], Value::Null);

    // Attendance: jurors of the call only, each named once.
    let stranger = "0190a5b0-0000-7000-8000-000000000000";
    let (status, body) = send(
        &app,
        Method::PUT,
        &format!("{path}/attendance"),
        admin,
        json!({"present": [anne.id, stranger, anne.id]}),
    )
    .await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(failing_fields(&body), ["present.1", "present.2"]);
    assert_eq!(body["errors"][0]["code"], "not_a_juror");
    let (status, attendance) = send(
        &app,
        Method::PUT,
        &format!("{path}/attendance"),
        admin,
        json!({"present": [anne.id, chloe.id], "apologies": [bruno.id]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{attendance}");
    assert_eq!(
        (
            attendance["present_count"].as_u64(),
            attendance["required"].as_u64()
        ),
        (Some(2), Some(3))
    );

    // A vote by the juror conflicted on the application is refused, naming them and the application.
    let first = call.applications[0].as_str();
    let items = format!("{path}/items");
    let (status, body) = app
        .post(&items, Some(admin), json!({"application_id": first, "kind": "vote", "outcome": "shortlisted", "votes": [{"juror_id": anne.id, "vote": "for"}, {"juror_id": chloe.id, "vote": "against"}]}))
        .await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(failing_fields(&body), ["votes.1.juror_id"]);
    assert_eq!(body["errors"][0]["code"], "conflicted_juror");
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("Chloé Crête") && message.contains(&call.references[0]),
        "{message}"
    );
    // A voter must be present.
    let (status, body) = app
        .post(&items, Some(admin), json!({"application_id": first, "kind": "vote", "outcome": "shortlisted", "votes": [{"juror_id": bruno.id, "vote": "for"}]}))
        .await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["errors"][0]["code"], "voter_not_present");
    let (status, item) = app
        .post(&items, Some(admin), json!({"application_id": first, "kind": "vote", "outcome": "shortlisted", "votes": [{"juror_id": anne.id, "vote": "for"}], "dissent": "<b>Bruno</b> aurait préféré attendre"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{item}");
    let (status, body) = app
        .post(
            &items,
            Some(admin),
            json!({"application_id": first, "kind": "consensus", "outcome": "shortlisted"}),
        )
        .await;
    assert_problem(status, &body, StatusCode::CONFLICT);
    assert_eq!(body["code"], "item_exists");
    let second = call.applications[1].as_str();
    let (status, item) = send(&app, Method::PUT, &format!("{items}/{second}"), admin, json!({"kind": "consensus", "outcome": "not_shortlisted", "note": "Projet à revoir l'an prochain"})).await;
    assert_eq!(status, StatusCode::OK, "{item}");
    let (status, body) = send(
        &app,
        Method::PUT,
        &format!("{items}/{second}"),
        admin,
        json!({"kind": "consensus", "outcome": "selected"}),
    )
    .await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["errors"][0]["code"], "outcome_not_for_stage");
    let (status, body) = patch(
        &app,
        &path,
        admin,
        json!({"minutes": "Le jury a suivi le classement."}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Below the quorum, the meeting does not close; with it, it does.
    let (status, body) = app
        .post(&format!("{path}/close"), Some(admin), json!({}))
        .await;
    assert_problem(status, &body, StatusCode::CONFLICT);
    assert_eq!(body["code"], "below_quorum");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("2 juror(s) present, 3 required"),
        "{body}"
    );
    let (status, attendance) = send(
        &app,
        Method::PUT,
        &format!("{path}/attendance"),
        admin,
        json!({"present": [anne.id, bruno.id, chloe.id]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{attendance}");
    let (status, closed) = app
        .post(&format!("{path}/close"), Some(admin), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{closed}");
    assert_eq!(closed["status"], "closed");
    let digest = closed["digest"].as_str().unwrap().to_owned();
    assert_eq!(digest.len(), 64);

    // Frozen: every change is refused.
    for (method, target, body) in [
        (
            Method::PUT,
            format!("{path}/attendance"),
            json!({"present": [anne.id]}),
        ),
        (
            Method::POST,
            items.clone(),
            json!({"application_id": second, "kind": "consensus", "outcome": "shortlisted"}),
        ),
        (
            Method::PUT,
            format!("{items}/{second}"),
            json!({"kind": "consensus", "outcome": "shortlisted"}),
        ),
        (Method::POST, format!("{path}/close"), json!({})),
    ] {
        let (status, refused) = send(&app, method.clone(), &target, admin, body).await;
        assert_problem(status, &refused, StatusCode::CONFLICT);
        assert_eq!(refused["code"], "meeting_closed", "{method} {target}");
    }
    let (status, refused) = patch(&app, &path, admin, json!({"minutes": "Ajout tardif"})).await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (StatusCode::CONFLICT, Some("meeting_closed"))
    );

    // The record: who attended, how they voted, the dissent, the quorum — and a digest anyone recomputes.
    let (status, mut record) = app.get(&format!("{path}/record"), Some(admin)).await;
    assert_eq!(status, StatusCode::OK, "{record}");
    assert_eq!(record["digest"], digest.as_str());
    assert_eq!(record["status"], "closed");
    assert_eq!(record["minutes"], "Le jury a suivi le classement.");
    assert_eq!(
        record["quorum"],
        json!({"jurors": 3, "present": 3, "required": 3, "rule": "call"})
    );
    let names: Vec<&str> = record["attendance"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["display_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Anne Alpage", "Bruno Bergerie", "Chloé Crête"]);
    assert_eq!(
        record["items"][0]["votes"],
        json!([{"juror_id": anne.id, "display_name": "Anne Alpage", "vote": "for"}])
    );
    assert_eq!(
        record["items"][0]["tally"],
        json!({"for": 1, "against": 0, "abstain": 0})
    );
    assert_eq!(
        record["items"][0]["dissent"],
        "<b>Bruno</b> aurait préféré attendre"
    );
    assert_eq!(record["items"][1]["kind"], "consensus");
    assert_eq!(
        record["decisions"],
        json!([]),
        "a written-stage meeting produces no decision"
    );
    record.as_object_mut().unwrap().remove("digest");
    assert_eq!(recomputed_digest(&record), digest);

    // The audit log carries the digest of the closing.
    let meeting_id = meeting["id"].as_str().unwrap();
    let (status, audit) = app
        .get(
            &format!("/api/v1/audit?entity_type=meeting&entity_id={meeting_id}"),
            Some(admin),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{audit}");
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for action in [
        "meeting.opened",
        "meeting.attendance_recorded",
        "meeting.item_recorded",
        "meeting.updated",
        "meeting.closed",
    ] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
    let closing = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "meeting.closed")
        .unwrap();
    assert_eq!(closing["after"]["digest"], digest.as_str());
}
