//! What an applicant or a late juror could do to the evaluation, tried from outside: voiding a submitted review
//! by editing their organization, escaping a conflict by undoing the fact behind it, reviewing a withdrawn
//! application, reviewing after the stage's deadline.

use std::collections::BTreeMap;

use chrono::{Duration, Utc};
use cordee::clock::Clock;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::evaluation::{
    assign, call_with_eligible, juror, review, save_review, scores, set_website, submit_review,
    Call, Juror,
};
use crate::helpers::*;

/// The written-stage ranking as application → number of reviews that count.
async fn counted_reviews(app: &TestApp, call: &Call) -> BTreeMap<String, u64> {
    let (status, ranking) = app
        .get(
            &format!("/api/v1/calls/{}/ranking?stage=written", call.id),
            Some(&call.admin),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{ranking}");
    ranking
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["application_id"].as_str().unwrap().to_owned(),
                l["n_reviews"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// The call's recorded conflicts between `juror` and `application`.
async fn recorded(app: &TestApp, call: &Call, juror: &Juror, application: &str) -> Vec<Value> {
    let (status, list) = app
        .get(
            &format!("/api/v1/calls/{}/conflicts", call.id),
            Some(&call.admin),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["juror_id"] == juror.id.as_str() && c["application_id"] == application)
        .cloned()
        .collect()
}

/// The audit actions recorded about an application.
async fn audited(app: &TestApp, admin: &str, application: &str) -> Vec<String> {
    let (status, log) = app
        .get(
            &format!("/api/v1/audit?entity_type=application&entity_id={application}&limit=200"),
            Some(admin),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{log}");
    log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect()
}

fn assert_refused(status: StatusCode, body: &Value, code: &str) {
    assert_problem(status, body, StatusCode::CONFLICT);
    assert_eq!(body["code"], code, "{body}");
}

// --- Conflicts are records ---------------------------------------------------------------------------

#[tokio::test]
async fn an_applicant_taking_the_jurors_domain_as_website_after_the_review_does_not_void_it() {
    let app = TestApp::spawn().await;
    let call = call_with_eligible(&app, 2).await;
    let target = call.applications[0].clone();
    let hugo = juror(&app, &call, "hugo@cabinet-hugo.example").await;
    assign(&app, &call, &target, &hugo).await;
    review(&app, &hugo, &target, [1.0, 1.0, 1.0, 1.0, 1.0]).await;
    assert_eq!(counted_reviews(&app, &call).await.get(&target), Some(&1));

    // The applicant, unhappy with the low score, puts the juror's firm as their website.
    set_website(
        &app,
        &call.founders[0],
        &call.organizations[0],
        "https://cabinet-hugo.example",
    )
    .await;

    assert_eq!(
        counted_reviews(&app, &call).await.get(&target),
        Some(&1),
        "the submitted review still counts"
    );
    let (status, body) = app
        .get(&format!("/api/v1/applications/{target}"), Some(&hugo.token))
        .await;
    assert_eq!(status, StatusCode::OK, "the juror still reads it: {body}");
    let conflicts = recorded(&app, &call, &hugo, &target).await;
    assert_eq!(conflicts.len(), 1, "{conflicts:?}");
    assert_eq!(conflicts[0]["status"], "flagged");
    assert_eq!(conflicts[0]["reason"], "same_email_domain");
    assert_eq!(conflicts[0]["source_fact"], "website cabinet-hugo.example");
    assert!(audited(&app, &call.admin, &target)
        .await
        .contains(&"conflict.flagged".to_owned()));
    let email = app
        .mailbox
        .wait_for_subject("staff@example.org", "conflit")
        .await;
    assert!(
        email.text().contains("cabinet-hugo.example"),
        "{}",
        email.text()
    );

    // Staff decide: confirmed, it applies.
    let (status, confirmed) = app
        .post(
            &format!(
                "/api/v1/calls/{}/conflicts/{}/confirm",
                call.id,
                conflicts[0]["id"].as_str().unwrap()
            ),
            Some(&call.admin),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{confirmed}");
    let ranked = counted_reviews(&app, &call).await;
    assert_eq!(ranked.get(&target).copied().unwrap_or(0), 0, "{ranked:?}");
    let (status, body) = app
        .get(&format!("/api/v1/applications/{target}"), Some(&hugo.token))
        .await;
    assert_problem(status, &body, StatusCode::NOT_FOUND);
    let (status, body) = app
        .post(
            &format!(
                "/api/v1/calls/{}/conflicts/{}/dismiss",
                call.id,
                conflicts[0]["id"].as_str().unwrap()
            ),
            Some(&call.admin),
            json!({}),
        )
        .await;
    assert_refused(status, &body, "not_flagged");
}

#[tokio::test]
async fn an_applicant_inviting_a_member_from_the_jurors_firm_after_the_review_does_not_void_it() {
    let app = TestApp::spawn().await;
    let call = call_with_eligible(&app, 2).await;
    let target = call.applications[0].clone();
    let hugo = juror(&app, &call, "hugo@cabinet-hugo.example").await;
    assign(&app, &call, &target, &hugo).await;
    review(&app, &hugo, &target, [1.0, 1.0, 1.0, 1.0, 1.0]).await;

    // A partner of the juror's firm joins the applicant's organization (invited, and accepting).
    app.applicant("associee@cabinet-hugo.example").await;
    app.add_member(
        &call.founders[0],
        &call.organizations[0],
        "associee@cabinet-hugo.example",
        "member",
    )
    .await;

    assert_eq!(
        counted_reviews(&app, &call).await.get(&target),
        Some(&1),
        "the submitted review still counts"
    );
    let conflicts = recorded(&app, &call, &hugo, &target).await;
    assert_eq!(conflicts.len(), 1, "{conflicts:?}");
    assert_eq!(conflicts[0]["status"], "flagged");
    assert_eq!(conflicts[0]["reason"], "same_email_domain");
}

#[tokio::test]
async fn staff_dismissing_a_flagged_conflict_keeps_the_review_and_the_same_fact_does_not_raise_it_again(
) {
    let app = TestApp::spawn().await;
    let call = call_with_eligible(&app, 1).await;
    let target = call.applications[0].clone();
    let hugo = juror(&app, &call, "hugo@cabinet-hugo.example").await;
    assign(&app, &call, &target, &hugo).await;
    review(&app, &hugo, &target, [4.0, 4.0, 4.0, 4.0, 4.0]).await;
    set_website(
        &app,
        &call.founders[0],
        &call.organizations[0],
        "https://cabinet-hugo.example",
    )
    .await;
    let flagged = recorded(&app, &call, &hugo, &target).await;

    let (status, dismissed) = app
        .post(
            &format!(
                "/api/v1/calls/{}/conflicts/{}/dismiss",
                call.id,
                flagged[0]["id"].as_str().unwrap()
            ),
            Some(&call.admin),
            json!({}),
        )
        .await;

    assert_eq!(status, StatusCode::OK, "{dismissed}");
    assert_eq!(dismissed["status"], "dismissed");
    let (status, found) = app
        .post(
            &format!("/api/v1/calls/{}/conflicts/detect", call.id),
            Some(&call.admin),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert_eq!(found, json!([]), "nothing new");
    assert_eq!(counted_reviews(&app, &call).await.get(&target), Some(&1));
    let statuses: Vec<Value> = recorded(&app, &call, &hugo, &target)
        .await
        .iter()
        .map(|c| c["status"].clone())
        .collect();
    assert_eq!(statuses, [json!("dismissed")]);
}

#[tokio::test]
async fn an_applicant_removing_the_fact_behind_a_conflict_does_not_lift_it() {
    let app = TestApp::spawn().await;
    let call = call_with_eligible(&app, 1).await;
    let target = call.applications[0].clone();
    set_website(
        &app,
        &call.founders[0],
        &call.organizations[0],
        "https://cabinet-hugo.example",
    )
    .await;
    let hugo = juror(&app, &call, "hugo@cabinet-hugo.example").await;
    let assignment = json!({"application_id": target, "juror_id": hugo.id, "stage": "written"});
    let path = format!("/api/v1/calls/{}/assignments", call.id);
    let (status, body) = app.post(&path, Some(&call.admin), assignment.clone()).await;
    assert_refused(status, &body, "conflict_of_interest");
    let conflicts = recorded(&app, &call, &hugo, &target).await;
    assert_eq!(
        conflicts.len(),
        1,
        "recorded although refused: {conflicts:?}"
    );
    assert_eq!(conflicts[0]["status"], "active");

    // The applicant hides the tie, hoping for this juror.
    set_website(
        &app,
        &call.founders[0],
        &call.organizations[0],
        "https://autre-site.example",
    )
    .await;

    let (status, body) = app.post(&path, Some(&call.admin), assignment).await;
    assert_refused(status, &body, "conflict_of_interest");
    assert_eq!(recorded(&app, &call, &hugo, &target).await, conflicts);
}

// --- Withdrawn applications and deadlines -----------------------------------------------------------

#[tokio::test]
async fn a_juror_cannot_review_a_withdrawn_application_and_it_leaves_the_ranking_and_assignments() {
    let app = TestApp::spawn().await;
    let call = call_with_eligible(&app, 2).await;
    let (withdrawn, kept) = (call.applications[0].clone(), call.applications[1].clone());
    let early = juror(&app, &call, "lou@jury-lou.example").await;
    let late = juror(&app, &call, "noe@jury-noe.example").await;
    for application in [&withdrawn, &kept] {
        assign(&app, &call, application, &early).await;
        assign(&app, &call, application, &late).await;
        review(&app, &early, application, [3.0, 3.0, 3.0, 3.0, 3.0]).await;
    }
    let draft = json!({"stage": "written", "scores": scores([2.0, 2.0, 2.0, 2.0, 2.0])});
    let (status, body) = save_review(&app, &late, &withdrawn, draft.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let (status, body) = app
        .post(
            &format!("/api/v1/applications/{withdrawn}/withdraw"),
            Some(&call.founders[0]),
            json!({"reason": "Projet abandonné"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let (status, body) = save_review(&app, &late, &withdrawn, draft).await;
    assert_refused(status, &body, "application_withdrawn");
    let (status, body) = submit_review(&app, &late, &withdrawn).await;
    assert_refused(status, &body, "application_withdrawn");
    let ranked = counted_reviews(&app, &call).await;
    assert_eq!(ranked.keys().collect::<Vec<_>>(), [&kept], "{ranked:?}");
    let response = app
        .request(
            reqwest::Method::GET,
            &format!("/api/v1/calls/{}/export/ranking.csv?stage=written", call.id),
            Some(&call.admin),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let csv = response.text().await.unwrap();
    assert!(csv.contains(&call.references[1]), "{csv}");
    assert!(!csv.contains(&call.references[0]), "{csv}");
    let (status, mine) = app.get("/api/v1/me/assignments", Some(&late.token)).await;
    assert_eq!(status, StatusCode::OK, "{mine}");
    let listed: Vec<&str> = mine["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["application_id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, [kept.as_str()]);
}

#[tokio::test]
async fn a_juror_cannot_save_or_submit_after_the_stage_deadline_unless_staff_reopen_or_move_it() {
    let app = TestApp::spawn_with(Options {
        clock: Clock::manual(Utc::now()),
        ..Default::default()
    })
    .await;
    let call = call_with_eligible(&app, 1).await;
    let target = call.applications[0].clone();
    let punctual = juror(&app, &call, "lou@jury-lou.example").await;
    let late = juror(&app, &call, "noe@jury-noe.example").await;
    assign(&app, &call, &target, &punctual).await;
    assign(&app, &call, &target, &late).await;
    let due = (app.clock.now() + Duration::days(2)).duration_trunc_seconds();
    let deadline = format!("/api/v1/calls/{}/stages/written/deadline", call.id);
    let (status, body) = app
        .send(
            reqwest::Method::PUT,
            &deadline,
            Some(&call.admin),
            Some(json!({"due_at": due.to_rfc3339()})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, mine) = app.get("/api/v1/me/assignments", Some(&late.token)).await;
    assert_eq!(status, StatusCode::OK, "{mine}");
    let shown: chrono::DateTime<Utc> = mine["items"][0]["review_due_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(shown, due, "{mine}");
    review(&app, &punctual, &target, [3.0, 3.0, 3.0, 3.0, 3.0]).await;
    let values = json!({"stage": "written", "scores": scores([2.0, 2.0, 2.0, 2.0, 2.0])});
    let (status, body) = save_review(&app, &late, &target, values.clone()).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    app.clock.advance(Duration::days(3));

    let (status, body) = save_review(&app, &late, &target, values.clone()).await;
    assert_refused(status, &body, "review_deadline_passed");
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.contains("Europe/Paris") && detail.contains("UTC"),
        "{detail}"
    );
    let (status, body) = submit_review(&app, &late, &target).await;
    assert_refused(status, &body, "review_deadline_passed");

    // Staff reopen the punctual juror's review: it may change and be submitted again.
    let (_, reviews) = app
        .get(
            &format!("/api/v1/applications/{target}/reviews"),
            Some(&call.admin),
        )
        .await;
    let submitted = reviews["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["juror_id"] == punctual.id.as_str())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, body) = app
        .post(
            &format!("/api/v1/applications/{target}/reviews/{submitted}/reopen"),
            Some(&call.admin),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    review(&app, &punctual, &target, [4.0, 4.0, 4.0, 4.0, 4.0]).await;

    // Staff move the deadline: the late juror may finish.
    let later = app.clock.now() + Duration::days(1);
    let (status, body) = app
        .send(
            reqwest::Method::PUT,
            &deadline,
            Some(&call.admin),
            Some(json!({"due_at": later.to_rfc3339()})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = submit_review(&app, &late, &target).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// Truncation of an instant to the second (what an RFC 3339 deadline in a request carries).
trait TruncSeconds {
    fn duration_trunc_seconds(self) -> Self;
}

impl TruncSeconds for chrono::DateTime<Utc> {
    fn duration_trunc_seconds(self) -> Self {
        use chrono::DurationRound;
        self.duration_trunc(Duration::seconds(1)).unwrap()
    }
}
