//! Who reads a meeting and who changes it, and the decisions a meeting of the last stage links at closing.

use reqwest::{Method, StatusCode};
use serde_json::json;

use super::{deliberated_call, send};
use crate::helpers::*;

#[tokio::test]
async fn observers_read_meetings_and_change_nothing() {
    let app = TestApp::spawn().await;
    let (call, [anne, ..]) = deliberated_call(&app).await;
    let observer = app.applicant("observatrice@region.example").await;
    app.staff_role(
        &call.admin,
        &observer,
        "observatrice@region.example",
        &call.id,
        "observer",
    )
    .await;
    let call_path = format!("/api/v1/calls/{}", call.id);
    let (status, meeting) = app
        .post(&format!("{call_path}/meetings"), Some(&call.admin), json!({"stage": "written", "held_at": "2026-12-10T09:00:00Z", "place": "Visio", "agenda": "Classement"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{meeting}");
    let path = format!("{call_path}/meetings/{}", meeting["id"].as_str().unwrap());

    let (status, list) = app
        .get(&format!("{call_path}/meetings"), Some(&observer))
        .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list["items"][0]["id"], meeting["id"]);
    assert_eq!(
        app.get(&format!("{path}/record"), Some(&observer)).await.0,
        StatusCode::OK
    );
    for (method, target, body) in [
        (
            Method::POST,
            format!("{call_path}/meetings"),
            json!({"stage": "written", "held_at": "2026-12-10T09:00:00Z", "place": "Visio", "agenda": "Bis"}),
        ),
        (
            Method::PUT,
            format!("{path}/attendance"),
            json!({"present": [anne.id]}),
        ),
        (
            Method::POST,
            format!("{path}/items"),
            json!({"application_id": call.applications[1], "kind": "consensus", "outcome": "shortlisted"}),
        ),
        (Method::POST, format!("{path}/close"), json!({})),
    ] {
        let (status, refused) = send(&app, method.clone(), &target, &observer, body).await;
        assert_problem(status, &refused, StatusCode::FORBIDDEN);
        assert_eq!(refused["code"], "managers_only", "{method} {target}");
    }
    // A juror of the call is told nothing of its meetings.
    assert_eq!(
        app.get(&path, Some(&anne.token)).await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn closing_a_meeting_of_the_last_stage_links_the_decisions_it_produced() {
    let app = TestApp::spawn().await;
    let (call, [anne, bruno, _chloe]) = deliberated_call(&app).await;
    let admin = call.admin.as_str();
    let call_path = format!("/api/v1/calls/{}", call.id);
    let first = call.applications[0].as_str();
    let (status, body) = app
        .post(
            &format!("{call_path}/shortlist"),
            Some(admin),
            json!({"application_ids": [first], "next_stage": "pitch"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = send(
        &app,
        Method::PUT,
        &format!("{call_path}/decisions"),
        admin,
        json!([{"application_id": first, "outcome": "selected", "motivation": "Un projet solide"}]),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let (status, meeting) = app
        .post(&format!("{call_path}/meetings"), Some(admin), json!({"stage": "pitch", "held_at": "2027-01-15T14:00:00Z", "place": "Chambéry", "agenda": "Auditions"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{meeting}");
    let path = format!("{call_path}/meetings/{}", meeting["id"].as_str().unwrap());
    // Without a quorum of its own, the call needs a majority of its three jurors.
    let (status, attendance) = send(
        &app,
        Method::PUT,
        &format!("{path}/attendance"),
        admin,
        json!({"present": [anne.id, bruno.id]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{attendance}");
    assert_eq!(attendance["required"], 2);
    let (status, item) = app
        .post(&format!("{path}/items"), Some(admin), json!({"application_id": first, "kind": "vote", "outcome": "selected", "votes": [{"juror_id": anne.id, "vote": "for"}, {"juror_id": bruno.id, "vote": "abstain"}]}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{item}");
    let (status, closed) = app
        .post(&format!("{path}/close"), Some(admin), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{closed}");

    let (status, record) = app.get(&format!("{path}/record"), Some(admin)).await;
    assert_eq!(status, StatusCode::OK, "{record}");
    assert_eq!(
        record["decisions"],
        json!([{"application_id": first, "outcome": "selected", "published": false}])
    );
    assert_eq!(record["quorum"]["rule"], "majority");
    // Publishing the decision later leaves the frozen record (and its digest) as it was.
    let (status, body) = app
        .post(
            &format!("{call_path}/decisions/publish"),
            Some(admin),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, again) = app.get(&format!("{path}/record"), Some(admin)).await;
    assert_eq!(again, record);
}
