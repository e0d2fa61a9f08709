//! Finalists convened: shortlisting emails each finalist (and, if staff ask, the others at once, never
//! twice), the pitch stage's dates and extra documents, pitch slots (set, refused, confirmed, moved, listed),
//! the finalists' extra documents, and the default due date of changes asked at screening.

use chrono::{DateTime, Duration, Utc};
use cordee::domain::finalists::default_changes_due;
use cordee::notify::applications::format_instant;
use reqwest::header::{ETAG, IF_MATCH};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::scenario::{founder_email, Call, Scenario};
use crate::helpers::*;

/// How many emails of `event` the outbox holds for `recipient`.
async fn queued(app: &TestApp, admin: &str, event: &str, recipient: &str) -> usize {
    let (status, body) = app.get("/api/v1/admin/outbox?limit=200", Some(admin)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"] == event && e["recipient"] == recipient)
        .count()
}

/// PATCHes call `call_id` with `body` (with the current ETag).
async fn patch_call(app: &TestApp, admin: &str, call_id: &str, body: Value) -> (StatusCode, Value) {
    let path = format!("/api/v1/calls/{call_id}");
    let response = app
        .request(Method::GET, &path, Some(admin))
        .send()
        .await
        .unwrap();
    let etag = response.headers()[ETAG].to_str().unwrap().to_owned();
    let response = app
        .request(Method::PATCH, &path, Some(admin))
        .header(IF_MATCH, etag)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

/// The pitch stage's dates: from 30 days from now at 07:00 UTC for three days.
fn pitch_dates(app: &TestApp) -> (DateTime<Utc>, DateTime<Utc>) {
    let day = (app.clock.now() + Duration::days(30)).date_naive();
    let starts = day.and_hms_opt(7, 0, 0).unwrap().and_utc();
    (starts, starts + Duration::days(3))
}

/// Gives the call's pitch stage its dates (the form is frozen: only dates and documents may change).
async fn date_the_pitch(app: &TestApp, call: &Call) -> (DateTime<Utc>, DateTime<Utc>) {
    let (starts, ends) = pitch_dates(app);
    let (_, read) = app.get(&format!("/api/v1/calls/{}", call.id), None).await;
    let mut stages = read["stages"].clone();
    stages[1]["starts_at"] = json!(starts.to_rfc3339());
    stages[1]["ends_at"] = json!(ends.to_rfc3339());
    let (status, body) = patch_call(app, &call.admin, &call.id, json!({"stages": stages})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    (starts, ends)
}

/// Shortlists applications `kept` (indexes in `call`) to the pitch.
async fn shortlist(app: &TestApp, call: &Call, kept: &[usize], notify: bool) -> Value {
    let ids: Vec<&str> = kept
        .iter()
        .map(|i| call.applications[*i].as_str())
        .collect();
    let (status, body) = app
        .post(
            &format!("/api/v1/calls/{}/shortlist", call.id),
            Some(&call.admin),
            json!({"application_ids": ids, "next_stage": "pitch", "notify_not_shortlisted": notify}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn put_slot(app: &TestApp, token: &str, id: &str, body: Value) -> (StatusCode, Value) {
    app.send(
        Method::PUT,
        &format!("/api/v1/applications/{id}/pitch-slot"),
        Some(token),
        Some(body),
    )
    .await
}

#[tokio::test]
async fn the_pitch_stage_takes_dates_and_documents_once_the_form_is_frozen_but_keeps_its_criteria()
{
    let app = TestApp::spawn().await;
    let call = Scenario::new(&app).eligible(1).build().await.call;
    let (_, read) = app.get(&format!("/api/v1/calls/{}", call.id), None).await;
    assert_eq!(read["changes_due_days"], 14);
    assert_eq!(read["stages"][1]["extra_documents"][0]["key"], "final_deck");

    let mut stages = read["stages"].clone();
    stages[1]["starts_at"] = json!("2026-05-06T07:00:00Z");
    stages[1]["ends_at"] = json!("2026-05-04T07:00:00Z");
    stages[0]["starts_at"] = json!("not a date");
    let (status, body) = patch_call(&app, &call.admin, &call.id, json!({"stages": stages})).await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(failing_fields(&body), vec!["stages.0.starts_at"]);
    stages[0].as_object_mut().unwrap().remove("starts_at");
    let (status, body) = patch_call(&app, &call.admin, &call.id, json!({"stages": stages})).await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(failing_fields(&body), vec!["stages.1.starts_at"]);

    let (starts, ends) = date_the_pitch(&app, &call).await;
    let (_, read) = app.get(&format!("/api/v1/calls/{}", call.id), None).await;
    let stored: DateTime<Utc> = read["stages"][1]["starts_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(stored, starts);
    let stored: DateTime<Utc> = read["stages"][1]["ends_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(stored, ends);

    let mut reweighted = read["stages"].clone();
    reweighted[1]["criteria"][0]["label"] = json!({"fr": "Autre critère"});
    let (status, body) =
        patch_call(&app, &call.admin, &call.id, json!({"stages": reweighted})).await;
    assert_problem(status, &body, StatusCode::CONFLICT);
    assert_eq!(body["code"], "form_frozen");
}

#[tokio::test]
async fn shortlisting_emails_each_finalist_once_and_the_others_now_when_asked_never_twice() {
    let app = TestApp::spawn().await;
    let call = Scenario::new(&app).eligible(3).build().await.call;
    let (starts, ends) = date_the_pitch(&app, &call).await;

    let counts = shortlist(&app, &call, &[0, 1], true).await;
    assert_eq!(counts, json!({"shortlisted": 2, "not_shortlisted": 1}));

    for i in [0, 1] {
        let email = app
            .mailbox
            .wait_for_subject(&founder_email(i), "est retenue pour l'étape")
            .await;
        assert!(
            email.subject().contains(&call.references[i]),
            "{}",
            email.subject()
        );
        assert!(email.subject().contains("Audition des finalistes"));
        let text = email.text();
        let from = format_instant(starts, "Europe/Paris", "fr");
        let to = format_instant(ends, "Europe/Paris", "fr");
        assert!(
            text.contains(&format!("Cette étape se déroule du {from} au {to}.")),
            "{text}"
        );
        assert!(text.contains("Un créneau de présentation devant le jury vous sera proposé"));
        assert!(
            text.contains(
                "- Présentation finale du pitch (application/pdf, 20 Mo au plus), facultatif"
            ),
            "{text}"
        );
    }
    let left_out = app
        .mailbox
        .wait_for_subject(&founder_email(2), "Décision concernant votre candidature")
        .await;
    assert!(left_out
        .text()
        .contains("n'a pas été retenue pour l'étape suivante"));

    // The finalists are decided and the decisions published: the one left out is not told again.
    let (status, body) = app
        .send(
            Method::PUT,
            &format!("/api/v1/calls/{}/decisions", call.id),
            Some(&call.admin),
            Some(json!([
                {"application_id": call.applications[0], "outcome": "selected", "motivation": "Convaincant"},
                {"application_id": call.applications[1], "outcome": "rejected", "motivation": "Trop tôt"}
            ])),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app
        .post(
            &format!("/api/v1/calls/{}/decisions/publish", call.id),
            Some(&call.admin),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for i in 0..3 {
        let email = founder_email(i);
        let finalist = usize::from(i < 2);
        assert_eq!(
            queued(&app, &call.admin, "shortlisted", &email).await,
            finalist
        );
        assert_eq!(
            queued(&app, &call.admin, "decision_published", &email).await,
            1,
            "{email}"
        );
    }
}

#[tokio::test]
async fn left_out_applications_hear_at_publication_when_the_shortlist_does_not_tell_them() {
    let app = TestApp::spawn().await;
    let call = Scenario::new(&app).eligible(2).build().await.call;
    shortlist(&app, &call, &[0], false).await;
    app.mailbox
        .wait_for_subject(&founder_email(0), "est retenue pour l'étape")
        .await;
    let left_out = founder_email(1);
    assert_eq!(
        queued(&app, &call.admin, "decision_published", &left_out).await,
        0
    );
    assert_eq!(queued(&app, &call.admin, "shortlisted", &left_out).await, 0);
    let email = app
        .mailbox
        .wait_for_subject(&founder_email(0), "est retenue pour l'étape")
        .await;
    assert!(email
        .text()
        .contains("Les dates de cette étape vous seront communiquées prochainement."));
}

#[tokio::test]
async fn staff_convene_finalists_to_pitch_slots_that_never_overlap_and_finalists_confirm_them() {
    let app = TestApp::spawn().await;
    let call = Scenario::new(&app).eligible(3).build().await.call;
    let (starts, _) = date_the_pitch(&app, &call).await;
    shortlist(&app, &call, &[0, 1], false).await;
    let admin = call.admin.as_str();
    let (first, second, left_out) = (
        call.applications[0].as_str(),
        call.applications[1].as_str(),
        call.applications[2].as_str(),
    );
    let at = |minutes: i64| (starts + Duration::hours(2) + Duration::minutes(minutes)).to_rfc3339();
    let room = "Maison du Tourisme, salle Belledonne";

    // Refused: not shortlisted; outside the stage; neither place nor link; a link that is not https.
    let (status, body) = put_slot(
        &app,
        admin,
        left_out,
        json!({"stage": "pitch", "starts_at": at(0), "duration_minutes": 20, "place": room}),
    )
    .await;
    assert_problem(status, &body, StatusCode::CONFLICT);
    assert_eq!(body["code"], "not_shortlisted");
    let early = (starts - Duration::hours(1)).to_rfc3339();
    let (status, body) = put_slot(
        &app,
        admin,
        first,
        json!({"stage": "pitch", "starts_at": early, "duration_minutes": 20, "place": room}),
    )
    .await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["errors"][0]["code"], "outside_stage", "{body}");
    let (status, body) = put_slot(
        &app,
        admin,
        first,
        json!({"stage": "pitch", "starts_at": at(0), "duration_minutes": 20}),
    )
    .await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(failing_fields(&body), vec!["place"]);
    let (status, body) = put_slot(&app, admin, first, json!({"stage": "pitch", "starts_at": at(0), "duration_minutes": 20, "video_url": "http://visio.example/a"})).await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(failing_fields(&body), vec!["video_url"]);

    // Set: the finalist is emailed the time on the call's clock, the place and how to confirm.
    let (status, slot) = put_slot(
        &app,
        admin,
        first,
        json!({"stage": "pitch", "starts_at": at(0), "duration_minutes": 20, "place": room}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{slot}");
    assert_eq!(
        (slot["duration_minutes"].clone(), slot["confirmed"].clone()),
        (json!(20), json!(false))
    );
    let convened = app
        .mailbox
        .wait_for_subject(&founder_email(0), "Votre présentation au jury")
        .await;
    let local = format_instant(starts + Duration::hours(2), "Europe/Paris", "fr");
    let text = convened.text();
    assert!(
        text.contains(&format!("- Date et heure : {local}")),
        "{text}"
    );
    assert!(text.contains(&format!("- Lieu : {room}")), "{text}");
    assert!(
        text.contains(&format!("/api/v1/applications/{first}/pitch-slot/confirm")),
        "{text}"
    );

    // Overlapping the first at the same stage: refused, naming it; right after it: fine.
    let (status, body) = put_slot(&app, admin, second, json!({"stage": "pitch", "starts_at": at(10), "duration_minutes": 20, "video_url": "https://visio.example/b"})).await;
    assert_problem(status, &body, StatusCode::CONFLICT);
    assert_eq!(body["code"], "slot_overlap");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains(&call.references[0]),
        "{body}"
    );
    let (status, body) = put_slot(&app, admin, second, json!({"stage": "pitch", "starts_at": at(20), "duration_minutes": 20, "video_url": "https://visio.example/b"})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    // The finalist reads and confirms (twice: the same answer); another applicant and staff may not.
    let slot_path = format!("/api/v1/applications/{first}/pitch-slot");
    let (status, _) = app.get(&slot_path, Some(&call.founders[1])).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, mine) = app.get(&slot_path, Some(&call.founders[0])).await;
    assert_eq!(status, StatusCode::OK, "{mine}");
    assert_eq!(mine["place"], room);
    for _ in 0..2 {
        let (status, confirmed) = app
            .post(
                &format!("{slot_path}/confirm"),
                Some(&call.founders[0]),
                json!({}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{confirmed}");
        assert_eq!(confirmed["confirmed"], true);
    }
    let (status, body) = app
        .post(&format!("{slot_path}/confirm"), Some(admin), json!({}))
        .await;
    assert_problem(status, &body, StatusCode::FORBIDDEN);
    let (status, body) = app
        .post(
            &format!("/api/v1/applications/{left_out}/pitch-slot/confirm"),
            Some(&call.founders[2]),
            json!({}),
        )
        .await;
    assert_problem(status, &body, StatusCode::CONFLICT);
    assert_eq!(body["code"], "no_pitch_slot");

    // Staff read the schedule by time, with who confirmed.
    let schedule = format!("/api/v1/calls/{}/pitch-slots?stage=pitch", call.id);
    let (status, list) = app.get(&schedule, Some(admin)).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let items = list["items"].as_array().unwrap();
    let seen: Vec<(&str, bool)> = items
        .iter()
        .map(|i| {
            (
                i["reference"].as_str().unwrap(),
                i["confirmed"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            (call.references[0].as_str(), true),
            (call.references[1].as_str(), false)
        ]
    );

    // Moving the slot asks for confirmation again and says so; the same slot again sends nothing.
    let moved =
        json!({"stage": "pitch", "starts_at": at(60), "duration_minutes": 20, "place": room});
    let (status, slot) = put_slot(&app, admin, first, moved.clone()).await;
    assert_eq!(status, StatusCode::OK, "{slot}");
    assert_eq!(slot["confirmed"], false);
    let email = app
        .mailbox
        .wait_for_subject(&founder_email(0), "Votre présentation a été déplacée")
        .await;
    let local = format_instant(starts + Duration::hours(3), "Europe/Paris", "fr");
    assert!(
        email.text().contains(&format!("- Date et heure : {local}")),
        "{}",
        email.text()
    );
    let (status, _) = put_slot(&app, admin, first, moved).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        queued(&app, admin, "pitch_slot", &founder_email(0)).await,
        2
    );

    // Deleted: gone from the schedule; deleting again is no error.
    for _ in 0..2 {
        let (status, _) = app
            .send(
                Method::DELETE,
                &format!("/api/v1/applications/{second}/pitch-slot"),
                Some(admin),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT);
    }
    let (_, list) = app.get(&schedule, Some(admin)).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");
}

#[tokio::test]
async fn two_overlapping_slots_set_at_once_give_one_slot_and_one_refusal() {
    let app = TestApp::spawn().await;
    let call = Scenario::new(&app).eligible(2).build().await.call;
    let (starts, _) = date_the_pitch(&app, &call).await;
    shortlist(&app, &call, &[0, 1], false).await;
    let body = json!({"stage": "pitch", "starts_at": (starts + Duration::hours(1)).to_rfc3339(), "duration_minutes": 30, "place": "Salle 1"});
    let (a, b) = tokio::join!(
        put_slot(&app, &call.admin, &call.applications[0], body.clone()),
        put_slot(&app, &call.admin, &call.applications[1], body.clone()),
    );
    let mut statuses = vec![a.0, b.0];
    statuses.sort();
    assert_eq!(
        statuses,
        vec![StatusCode::CREATED, StatusCode::CONFLICT],
        "{a:?} {b:?}"
    );
    let refused = if a.0 == StatusCode::CONFLICT {
        a.1
    } else {
        b.1
    };
    assert_eq!(refused["code"], "slot_overlap");
    let (_, list) = app
        .get(
            &format!("/api/v1/calls/{}/pitch-slots", call.id),
            Some(&call.admin),
        )
        .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");
}

#[tokio::test]
async fn finalists_upload_the_stage_documents_while_shortlisted_and_only_then() {
    let app = TestApp::spawn().await;
    let call = Scenario::new(&app).eligible(2).build().await.call;
    let (finalist, other) = (&call.founders[0], &call.founders[1]);
    let (status, body) = app
        .upload(
            finalist,
            &call.applications[0],
            "final_deck",
            "deck.pdf",
            pdf_bytes(),
        )
        .await;
    assert_problem(status, &body, StatusCode::CONFLICT);
    assert_eq!(body["code"], "not_shortlisted");

    shortlist(&app, &call, &[0], false).await;
    let (status, file) = app
        .upload(
            finalist,
            &call.applications[0],
            "final_deck",
            "deck.pdf",
            pdf_bytes(),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{file}");
    assert_eq!(file["field"], "final_deck");
    let (_, read) = app
        .get(
            &format!("/api/v1/applications/{}", call.applications[0]),
            Some(finalist),
        )
        .await;
    let fields: Vec<&str> = read["attachments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, vec!["pitch_deck", "final_deck"]);
    let (_, staff_view) = app
        .get(
            &format!("/api/v1/applications/{}", call.applications[0]),
            Some(&call.admin),
        )
        .await;
    assert_eq!(staff_view["attachments"], read["attachments"]);

    // A key no stage asks for: 422; the form's own files stay locked; the one left out may not.
    let (status, body) = app
        .upload(
            finalist,
            &call.applications[0],
            "bonus_deck",
            "deck.pdf",
            pdf_bytes(),
        )
        .await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(failing_fields(&body), vec!["field"]);
    let (status, body) = app
        .upload(
            finalist,
            &call.applications[0],
            "pitch_deck",
            "deck.pdf",
            pdf_bytes(),
        )
        .await;
    assert_problem(status, &body, StatusCode::CONFLICT);
    assert_eq!(body["code"], "not_editable");
    let (status, body) = app
        .upload(
            other,
            &call.applications[1],
            "final_deck",
            "deck.pdf",
            pdf_bytes(),
        )
        .await;
    assert_problem(status, &body, StatusCode::CONFLICT);
    assert_eq!(body["code"], "not_shortlisted");

    // The finalist may replace it while shortlisted.
    let path = format!(
        "/api/v1/applications/{}/attachments/{}",
        call.applications[0],
        file["id"].as_str().unwrap()
    );
    let (status, _) = app.send(Method::DELETE, &path, Some(finalist), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn changes_asked_without_a_due_date_are_due_at_the_end_of_the_calls_default_day() {
    let app = TestApp::spawn().await;
    let call = Scenario::new(&app).build().await.call;
    let (status, body) =
        patch_call(&app, &call.admin, &call.id, json!({"changes_due_days": 0})).await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(failing_fields(&body), vec!["changes_due_days"]);
    let (status, body) =
        patch_call(&app, &call.admin, &call.id, json!({"changes_due_days": 10})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["changes_due_days"], 10);

    let mut submitted = Vec::new();
    for i in 0..2 {
        let founder = app.applicant(&founder_email(i)).await;
        let org = app
            .organization(&founder, "startup", &format!("Startup {i}"))
            .await;
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
        let (status, _) = app
            .post(
                &format!("/api/v1/applications/{id}/submit"),
                Some(&founder),
                json!({}),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
        submitted.push(id);
    }

    let now = app.clock.now();
    let (status, screened) = app
        .post(
            &format!("/api/v1/applications/{}/screening", submitted[0]),
            Some(&call.admin),
            json!({"outcome": "changes_requested", "reason": "Ajoutez le budget."}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{screened}");
    let due: DateTime<Utc> = screened["changes_due_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(due, default_changes_due(now, 10, "Europe/Paris"));
    let email = app
        .mailbox
        .wait_for_subject(&founder_email(0), "Modifications demandées")
        .await;
    assert!(
        email
            .text()
            .contains(&format_instant(due, "Europe/Paris", "fr")),
        "{}",
        email.text()
    );

    let given = (now + Duration::days(3)).to_rfc3339();
    let (status, screened) = app
        .post(
            &format!("/api/v1/applications/{}/screening", submitted[1]),
            Some(&call.admin),
            json!({"outcome": "changes_requested", "reason": "Ajoutez le budget.", "due_at": given}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{screened}");
    let due: DateTime<Utc> = screened["changes_due_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(due, now + Duration::days(3));
}
