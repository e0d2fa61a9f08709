//! Editions of a call: the 2027 edition made from the 2026 one in one request (what is copied, and the 2026
//! call left exactly as it was), dates one year later across daylight saving time, references unique across
//! calls, and a draft prefilled from the organization's application to the previous edition.

use chrono::{DateTime, TimeZone, Utc};
use cordee::clock::Clock;
use reqwest::header::{ETAG, IF_MATCH};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

fn utc(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap()
}

async fn spawn_at(at: DateTime<Utc>) -> TestApp {
    TestApp::spawn_with(Options {
        clock: Clock::manual(at),
        ..Default::default()
    })
    .await
}

/// Creates an Alpes Tourisme Lab call (a draft); returns its view.
async fn atl_call(app: &TestApp, admin: &str, body: Value) -> Value {
    let mut body = body;
    body["template"] = json!("alpes-tourisme-lab");
    let (status, call) = app.post("/api/v1/calls", Some(admin), body).await;
    assert_eq!(status, StatusCode::CREATED, "{call}");
    call
}

async fn publish(app: &TestApp, admin: &str, id: &str) {
    let (status, body) = app
        .post(
            &format!("/api/v1/calls/{id}/publish"),
            Some(admin),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// Changes a call with `If-Match` its current version; returns the new view.
async fn patch_call(app: &TestApp, admin: &str, call: &Value, change: Value) -> Value {
    let id = call["id"].as_str().unwrap();
    let response = app
        .request(Method::PATCH, &format!("/api/v1/calls/{id}"), Some(admin))
        .header(IF_MATCH, format!("\"{}\"", call["version"]))
        .json(&change)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// Everything an administrator reads of a call's set-up: the call (with its ETag), its jury, its French
/// receipt template.
async fn snapshot(app: &TestApp, admin: &str, id: &str) -> (String, Value, Value, Value) {
    let response = app
        .request(Method::GET, &format!("/api/v1/calls/{id}"), Some(admin))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let etag = response.headers()[ETAG].to_str().unwrap().to_owned();
    let call: Value = response.json().await.unwrap();
    let (status, jury) = app
        .get(&format!("/api/v1/calls/{id}/jurors"), Some(admin))
        .await;
    assert_eq!(status, StatusCode::OK, "{jury}");
    let (status, receipt) = app
        .get(
            &format!("/api/v1/calls/{id}/email-templates/submission_receipt/fr"),
            Some(admin),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{receipt}");
    (etag, call, jury, receipt)
}

/// Registers `email` and seats them on the call's jury with `affiliations`; returns their id.
async fn seat_juror(
    app: &TestApp,
    admin: &str,
    call_id: &str,
    email: &str,
    affiliations: Value,
) -> String {
    let token = app.applicant(email).await;
    let (_, me) = app.get("/api/v1/me", Some(&token)).await;
    let id = me["id"].as_str().unwrap().to_owned();
    let (status, body) = app
        .post(
            &format!("/api/v1/calls/{call_id}/jurors"),
            Some(admin),
            json!({"user_id": id, "affiliations": affiliations}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    id
}

/// The 2026 Alpes Tourisme Lab as staff set it up: a form with an extra question, a renamed stage, two
/// jurors with their affiliations, a receipt of its own and a review deadline for the written stage.
async fn atl_2026_set_up(app: &TestApp, admin: &str) -> Value {
    let call = atl_call(
        app,
        admin,
        json!({"slug": "atl-2026", "opens_at": "2026-01-06T07:00:00Z", "closes_at": "2026-02-27T11:00:00Z"}),
    )
    .await;
    let mut form = call["form"].clone();
    form["fields"].as_array_mut().unwrap().push(
        json!({"key": "snow_days", "type": "integer", "label": {"fr": "Jours d'enneigement"}, "min": 0}),
    );
    let mut stages = call["stages"].clone();
    stages[0]["label"] = json!({"fr": "Dossier écrit 2026", "en": "Written file 2026"});
    let call = patch_call(app, admin, &call, json!({"form": form, "stages": stages})).await;
    let id = call["id"].as_str().unwrap();
    seat_juror(
        app,
        admin,
        id,
        "marie@conseil-alpin.example",
        json!([{"name": "Cluster Montagne", "siren": "552100554"}]),
    )
    .await;
    seat_juror(
        app,
        admin,
        id,
        "paul@station.example",
        json!([{"name": "Domaine skiable"}]),
    )
    .await;
    let (status, body) = app
        .send(
            Method::PUT,
            &format!("/api/v1/calls/{id}/email-templates/submission_receipt/fr"),
            Some(admin),
            Some(json!({"subject": "Dossier bien reçu", "text": "Bonjour, merci pour votre dossier.", "html": "<p>Bonjour, merci pour votre dossier.</p>"})),
        )
        .await;
    assert!(status.is_success(), "{status} {body}");
    // 08:00 in Paris on 28 March 2026 (winter time, UTC+1).
    let (status, body) = app
        .send(
            Method::PUT,
            &format!("/api/v1/calls/{id}/stages/written/deadline"),
            Some(admin),
            Some(json!({"due_at": "2026-03-28T07:00:00Z"})),
        )
        .await;
    assert!(status.is_success(), "{status} {body}");
    call
}

/// The audit entries of `action` about call `id`.
async fn audited(app: &TestApp, admin: &str, id: &str, action: &str) -> Vec<Value> {
    let (status, log) = app
        .get(
            &format!("/api/v1/audit?entity_type=call&entity_id={id}&limit=200"),
            Some(admin),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{log}");
    log["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == action)
        .cloned()
        .collect()
}

#[tokio::test]
async fn the_2027_edition_is_made_in_one_request_with_everything_copied_and_the_2026_call_left_as_it_was(
) {
    let app = spawn_at(utc(2025, 12, 1, 9)).await;
    let admin = app.admin("staff@alpes-tourisme.example").await;
    let atl_2026 = atl_2026_set_up(&app, &admin).await;
    let id_2026 = atl_2026["id"].as_str().unwrap();
    let before = snapshot(&app, &admin, id_2026).await;

    let edition = |key: &'static str| {
        app.request(
            Method::POST,
            &format!("/api/v1/calls/{id_2026}/editions"),
            Some(&admin),
        )
        .header("Idempotency-Key", key)
        .json(&json!({"slug": "atl-2027"}))
        .send()
    };
    let response = edition("atl-2027-once").await.unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let atl_2027: Value = response.json().await.unwrap();
    let replayed = edition("atl-2027-once").await.unwrap();
    assert_eq!(
        replayed.status(),
        StatusCode::CREATED,
        "the same key replays the answer"
    );
    let again: Value = replayed.json().await.unwrap();
    assert_eq!(
        again["id"], atl_2027["id"],
        "one edition, however many retries"
    );

    // The new call: a draft of the 2027 edition, linked to 2026, one year later on Paris clocks.
    assert_eq!(atl_2027["status"], "draft");
    assert_eq!(atl_2027["edition"], 2027);
    assert_eq!(atl_2027["previous_edition_id"], id_2026);
    assert_eq!(atl_2027["opens_at"], "2027-01-06T07:00:00Z");
    assert_eq!(atl_2027["closes_at"], "2027-02-27T11:00:00Z");
    for always in [
        "title",
        "summary",
        "kind",
        "timezone",
        "eligible_kinds",
        "reference_prefix",
        "template",
    ] {
        assert_eq!(atl_2027[always], atl_2026[always], "{always} is copied");
    }
    assert_eq!(
        atl_2027["form"], before.1["form"],
        "the form with its extra question"
    );
    assert_eq!(
        atl_2027["stages"], before.1["stages"],
        "the stages as staff renamed them"
    );
    let id_2027 = atl_2027["id"].as_str().unwrap();
    let after_2027 = snapshot(&app, &admin, id_2027).await;
    let seats = |jury: &Value| -> Vec<(Value, Value)> {
        jury["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|j| (j["user_id"].clone(), j["affiliations"].clone()))
            .collect()
    };
    assert_eq!(
        seats(&after_2027.2),
        seats(&before.2),
        "the jury with their affiliations"
    );
    assert_eq!(seats(&after_2027.2).len(), 2);
    assert_eq!(after_2027.3["source"], "call");
    for part in ["subject", "text", "html"] {
        assert_eq!(after_2027.3[part], before.3[part], "the receipt's {part}");
    }
    // 08:00 in Paris on 28 March 2027 is summer time (UTC+2) that day.
    let deadlines = audited(&app, &admin, id_2027, "stage.deadline_set").await;
    assert_eq!(deadlines.len(), 1, "{deadlines:?}");
    assert_eq!(deadlines[0]["after"]["stage"], "written");
    assert_eq!(deadlines[0]["after"]["due_at"], "2027-03-28T06:00:00Z");
    assert_eq!(
        audited(&app, &admin, id_2027, "call.edition_created")
            .await
            .len(),
        1
    );

    // The 2026 call, its jury and its receipt read exactly as before, ETag included.
    let after = snapshot(&app, &admin, id_2026).await;
    assert_eq!(after, before, "the 2026 edition is unchanged");
}

#[tokio::test]
async fn an_edition_copying_only_the_form_takes_the_rest_from_the_template_and_its_dates_keep_paris_hours(
) {
    let app = spawn_at(utc(2025, 12, 1, 9)).await;
    let admin = app.admin("staff@alpes-tourisme.example").await;
    let source = atl_2026_set_up(&app, &admin).await;
    let id = source["id"].as_str().unwrap();
    // Opening at 08:00 on 28 March 2026 (UTC+1), closing at noon on 25 October 2026 (UTC+1 again).
    let source = patch_call(
        &app,
        &admin,
        &source,
        json!({"opens_at": "2026-03-28T07:00:00Z", "closes_at": "2026-10-25T11:00:00Z"}),
    )
    .await;
    let (_, template) = app.get("/api/v1/call-templates", None).await;
    let atl_template = template["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["template"] == "alpes-tourisme-lab")
        .unwrap()
        .clone();

    let (status, next) = app
        .post(
            &format!("/api/v1/calls/{id}/editions"),
            Some(&admin),
            json!({"slug": "atl-2027", "copy": ["form"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{next}");
    assert_eq!(next["form"], source["form"]);
    assert_ne!(next["stages"], source["stages"]);
    assert_eq!(
        next["stages"], atl_template["stages"],
        "the template's stages"
    );
    // The same hours on Paris clocks, whose offset is not the same on those days in 2027.
    assert_eq!(next["opens_at"], "2027-03-28T06:00:00Z");
    assert_eq!(next["closes_at"], "2027-10-25T10:00:00Z");
    let (etag, _, jury, receipt) = snapshot(&app, &admin, next["id"].as_str().unwrap()).await;
    assert_eq!(etag, "\"1\"");
    assert_eq!(jury["items"], json!([]), "no jury copied");
    assert_eq!(receipt["source"], "default", "the built-in receipt");
    assert!(audited(
        &app,
        &admin,
        next["id"].as_str().unwrap(),
        "stage.deadline_set"
    )
    .await
    .is_empty());

    // Dates and edition given in the request win; bad requests list every problem.
    let (status, given) = app
        .post(
            &format!("/api/v1/calls/{id}/editions"),
            Some(&admin),
            json!({"slug": "atl-2030", "edition": 2030, "opens_at": "2029-12-01T08:00:00Z", "closes_at": "2030-01-31T11:00:00Z", "copy": []}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{given}");
    assert_eq!(
        (given["edition"].clone(), given["opens_at"].clone()),
        (json!(2030), json!("2029-12-01T08:00:00Z"))
    );
    let (status, bad) = app
        .post(
            &format!("/api/v1/calls/{id}/editions"),
            Some(&admin),
            json!({"slug": "atl-2027", "edition": 27, "copy": ["form", "applications"], "opens_at": "demain"}),
        )
        .await;
    assert_problem(status, &bad, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        failing_fields(&bad),
        vec!["copy.1", "edition", "opens_at"],
        "{bad}"
    );
    let (status, taken) = app
        .post(
            &format!("/api/v1/calls/{id}/editions"),
            Some(&admin),
            json!({"slug": "atl-2027", "edition": 2031}),
        )
        .await;
    assert_problem(status, &taken, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(failing_fields(&taken), vec!["slug"]);
    let (status, missing) = app
        .post(
            "/api/v1/calls/0192e4a0-0000-7000-8000-000000000000/editions",
            Some(&admin),
            json!({"slug": "atl-2032"}),
        )
        .await;
    assert_problem(status, &missing, StatusCode::NOT_FOUND);
    let applicant = app.applicant("lea@neige-mobilite.example").await;
    let (status, refused) = app
        .post(
            &format!("/api/v1/calls/{id}/editions"),
            Some(&applicant),
            json!({"slug": "atl-2033"}),
        )
        .await;
    assert_problem(status, &refused, StatusCode::FORBIDDEN);
}

/// A start-up with complete answers submitted to `call_id`; returns the reference.
async fn submit_startup(app: &TestApp, call_id: &str, email: &str, name: &str) -> String {
    let token = app.applicant(email).await;
    let org = app.organization(&token, "startup", name).await;
    let (status, draft) = app
        .post(
            &format!("/api/v1/calls/{call_id}/applications"),
            Some(&token),
            json!({"organization_id": org, "answers": atl_answers()}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{draft}");
    let id = draft["id"].as_str().unwrap();
    let (status, file) = app
        .upload(&token, id, "pitch_deck", "deck.pdf", pdf_bytes())
        .await;
    assert_eq!(status, StatusCode::CREATED, "{file}");
    let (status, submitted) = app
        .post(
            &format!("/api/v1/applications/{id}/submit"),
            Some(&token),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{submitted}");
    submitted["reference"].as_str().unwrap().to_owned()
}

/// Alpes Tourisme Lab 2026 (January to December 2026) and its 2027 edition opening in December 2026, both
/// published; returns their ids.
async fn atl_2026_and_its_2027_edition_opening_in_december(
    app: &TestApp,
    admin: &str,
) -> (String, String) {
    let atl_2026 = atl_call(
        app,
        admin,
        json!({"slug": "atl-2026", "opens_at": "2026-01-05T07:00:00Z", "closes_at": "2026-12-20T11:00:00Z"}),
    )
    .await;
    assert_eq!(atl_2026["edition"], 2026, "the year it opens, by default");
    let id_2026 = atl_2026["id"].as_str().unwrap().to_owned();
    publish(app, admin, &id_2026).await;
    let (status, atl_2027) = app
        .post(
            &format!("/api/v1/calls/{id_2026}/editions"),
            Some(admin),
            json!({"slug": "atl-2027", "opens_at": "2026-12-01T07:00:00Z", "closes_at": "2027-02-26T11:00:00Z"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{atl_2027}");
    assert_eq!(atl_2027["edition"], 2027, "the previous edition's plus one");
    let id_2027 = atl_2027["id"].as_str().unwrap().to_owned();
    publish(app, admin, &id_2027).await;
    (id_2026, id_2027)
}

#[tokio::test]
async fn two_editions_open_in_the_same_calendar_year_never_give_the_same_reference() {
    let app = spawn_at(utc(2025, 12, 1, 9)).await;
    let admin = app.admin("staff@alpes-tourisme.example").await;
    let (id_2026, id_2027) = atl_2026_and_its_2027_edition_opening_in_december(&app, &admin).await;
    let (id_2026, id_2027) = (id_2026.as_str(), id_2027.as_str());

    app.clock.set(utc(2026, 12, 7, 9));
    let first = submit_startup(
        &app,
        id_2026,
        "lea@neige-mobilite.example",
        "Neige Mobilité",
    )
    .await;
    let second = submit_startup(&app, id_2027, "tom@glisse.example", "Glisse & Co").await;
    assert_eq!(first, "ATL-2026-0001");
    assert_eq!(
        second, "ATL-2027-0001",
        "the edition's year, though it opened in 2026"
    );

    // No other call may take a prefix and edition already used: by default, or given, or by a change.
    let admin = app.admin("other-staff@alpes-tourisme.example").await;
    let (status, refused) = app
        .post(
            "/api/v1/calls",
            Some(&admin),
            json!({"template": "alpes-tourisme-lab", "slug": "atl-bis", "opens_at": "2026-12-10T07:00:00Z", "closes_at": "2027-01-31T11:00:00Z"}),
        )
        .await;
    assert_problem(status, &refused, StatusCode::CONFLICT);
    assert_eq!(refused["code"], "edition_taken");
    assert!(
        refused["detail"].as_str().unwrap().contains("atl-2026"),
        "{refused}"
    );
    let (status, refused) = app
        .post(
            "/api/v1/calls",
            Some(&admin),
            json!({"template": "alpes-tourisme-lab", "slug": "atl-bis", "edition": 2027, "opens_at": "2026-12-10T07:00:00Z", "closes_at": "2027-01-31T11:00:00Z"}),
        )
        .await;
    assert_problem(status, &refused, StatusCode::CONFLICT);
    assert!(
        refused["detail"].as_str().unwrap().contains("atl-2027"),
        "{refused}"
    );
    let (status, refused) = app
        .post(
            &format!("/api/v1/calls/{id_2026}/editions"),
            Some(&admin),
            json!({"slug": "atl-2027-bis"}),
        )
        .await;
    assert_problem(status, &refused, StatusCode::CONFLICT);
    assert_eq!(refused["code"], "edition_taken");
    let atl_2028 = atl_call(
        &app,
        &admin,
        json!({"slug": "atl-2028", "edition": 2028, "opens_at": "2027-12-06T07:00:00Z", "closes_at": "2028-02-25T11:00:00Z"}),
    )
    .await;
    let response = app
        .request(
            Method::PATCH,
            &format!("/api/v1/calls/{}", atl_2028["id"].as_str().unwrap()),
            Some(&admin),
        )
        .header(IF_MATCH, "\"1\"")
        .json(&json!({"edition": 2027}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "edition_taken", "{body}");
    // Once references were given, the edition no longer changes.
    let (_, atl_2027) = app
        .get(&format!("/api/v1/calls/{id_2027}"), Some(&admin))
        .await;
    let response = app
        .request(
            Method::PATCH,
            &format!("/api/v1/calls/{id_2027}"),
            Some(&admin),
        )
        .header(IF_MATCH, format!("\"{}\"", atl_2027["version"]))
        .json(&json!({"edition": 2029}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = response.json().await.unwrap();
    assert_eq!(failing_fields(&body), vec!["edition"]);
}

#[tokio::test]
async fn the_figures_of_a_call_s_editions_read_side_by_side_and_a_partner_sees_only_the_edition_they_observe(
) {
    let app = spawn_at(utc(2025, 12, 1, 9)).await;
    let admin = app.admin("staff@alpes-tourisme.example").await;
    let (id_2026, id_2027) = atl_2026_and_its_2027_edition_opening_in_december(&app, &admin).await;
    let (id_2026, id_2027) = (id_2026.as_str(), id_2027.as_str());
    app.clock.set(utc(2026, 12, 7, 9));
    // A year on, the morning's session is long expired: staff log in again.
    let admin = app.admin("next-year@alpes-tourisme.example").await;
    submit_startup(
        &app,
        id_2026,
        "lea@neige-mobilite.example",
        "Neige Mobilité",
    )
    .await;
    submit_startup(&app, id_2026, "tom@glisse.example", "Glisse & Co").await;
    submit_startup(&app, id_2027, "ana@altitude.example", "Altitude Data").await;

    let (status, figures) = app
        .get(
            &format!("/api/v1/calls/{id_2027}/stats/editions"),
            Some(&admin),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{figures}");
    let editions = figures["editions"].as_array().unwrap();
    let side_by_side: Vec<(i64, i64, i64)> = editions
        .iter()
        .map(|e| {
            (
                e["call"]["edition"].as_i64().unwrap(),
                e["applications"]["total"].as_i64().unwrap(),
                e["applications"]["by_status"]["submitted"]
                    .as_i64()
                    .unwrap(),
            )
        })
        .collect();
    assert_eq!(
        side_by_side,
        vec![(2026, 2, 2), (2027, 1, 1)],
        "oldest first"
    );
    assert_eq!(editions[1]["call"]["previous_edition_id"], id_2026);

    // A partner observing the 2027 edition only sees its figures, not last year's.
    let partner = app.applicant("suivi@partenaire.example").await;
    app.staff_role(
        &admin,
        &partner,
        "suivi@partenaire.example",
        id_2027,
        "observer",
    )
    .await;
    let (status, figures) = app
        .get(
            &format!("/api/v1/calls/{id_2027}/stats/editions"),
            Some(&partner),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{figures}");
    let editions: Vec<i64> = figures["editions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["call"]["edition"].as_i64().unwrap())
        .collect();
    assert_eq!(editions, vec![2027]);
    let (status, _) = app
        .get(
            &format!("/api/v1/calls/{id_2026}/stats/editions"),
            Some(&partner),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_draft_is_prefilled_from_its_own_organizations_application_to_the_previous_edition_only()
{
    let app = spawn_at(utc(2026, 1, 10, 9)).await;
    let admin = app.admin("staff@alpes-tourisme.example").await;
    let atl_2026 = atl_call(
        &app,
        &admin,
        json!({"slug": "atl-2026", "opens_at": "2026-01-06T07:00:00Z", "closes_at": "2026-02-27T11:00:00Z"}),
    )
    .await;
    let id_2026 = atl_2026["id"].as_str().unwrap();
    publish(&app, &admin, id_2026).await;
    submit_startup(
        &app,
        id_2026,
        "lea@neige-mobilite.example",
        "Neige Mobilité",
    )
    .await;

    let (status, atl_2027) = app
        .post(
            &format!("/api/v1/calls/{id_2026}/editions"),
            Some(&admin),
            json!({"slug": "atl-2027"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{atl_2027}");
    // The 2027 form drops a question, an option and turns a number into text.
    let mut form = atl_2027["form"].clone();
    let fields = form["fields"].as_array_mut().unwrap();
    fields.retain(|f| f["key"] != "novelty");
    for field in fields.iter_mut() {
        if field["key"] == "maturity" {
            field["options"]
                .as_array_mut()
                .unwrap()
                .retain(|o| o["value"] != "prototype");
        }
        if field["key"] == "funds_raised" {
            *field = json!({"key": "funds_raised", "type": "text", "label": {"fr": "Fonds levés (en lettres)"}});
        }
    }
    let atl_2027 = patch_call(&app, &admin, &atl_2027, json!({"form": form})).await;
    let id_2027 = atl_2027["id"].as_str().unwrap();
    publish(&app, &admin, id_2027).await;

    app.clock.set(utc(2027, 1, 12, 9));
    let lea = app.login("lea@neige-mobilite.example", PASSWORD).await;
    let (_, mine) = app.get("/api/v1/me/organizations", Some(&lea)).await;
    let neige = mine["items"][0]["id"].as_str().unwrap().to_owned();
    let (status, draft) = app
        .post(
            &format!("/api/v1/calls/{id_2027}/applications"),
            Some(&lea),
            json!({"organization_id": neige, "answers": {"impact": "Des navettes pleines, des parkings vides."}, "prefill_from_previous": true}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{draft}");
    let prefill = &draft["prefill"];
    assert!(prefill["previous_application_id"].is_string(), "{prefill}");
    let copied: Vec<&str> = prefill["copied"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap())
        .collect();
    assert_eq!(
        copied,
        vec![
            "business_model",
            "challenges",
            "problem",
            "revenue_last_year",
            "solution_description",
            "solution_name",
            "team_fte"
        ]
    );
    assert_eq!(
        prefill["left_out"],
        json!([
            {"key": "funds_raised", "reason": "type_changed"},
            {"key": "impact", "reason": "given"},
            {"key": "maturity", "reason": "no_longer_valid"},
            {"key": "novelty", "reason": "no_such_field"},
            {"key": "pitch_deck", "reason": "file"},
            {"key": "rules_consent", "reason": "consent"},
        ])
    );
    assert_eq!(draft["answers"]["solution_name"], "Navette Neige");
    assert_eq!(
        draft["answers"]["impact"],
        "Des navettes pleines, des parkings vides."
    );
    assert!(draft["answers"].get("rules_consent").is_none());
    assert_eq!(draft["attachments"], json!([]), "files are not copied");
    let (_, read) = app
        .get(
            &format!("/api/v1/applications/{}", draft["id"].as_str().unwrap()),
            Some(&lea),
        )
        .await;
    assert_eq!(
        read["answers"], draft["answers"],
        "what was copied is stored"
    );

    // Another start-up asking for a prefill gets nothing of Neige Mobilité's.
    let tom = app.applicant("tom@glisse.example").await;
    let glisse = app.organization(&tom, "startup", "Glisse & Co").await;
    let (status, theirs) = app
        .post(
            &format!("/api/v1/calls/{id_2027}/applications"),
            Some(&tom),
            json!({"organization_id": glisse, "prefill_from_previous": true}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{theirs}");
    assert_eq!(
        theirs["prefill"],
        json!({"previous_application_id": null, "copied": [], "left_out": []})
    );
    assert_eq!(theirs["answers"], json!({}));
    let (status, refused) = app
        .post(
            &format!("/api/v1/calls/{id_2027}/applications"),
            Some(&tom),
            json!({"organization_id": neige, "prefill_from_previous": true}),
        )
        .await;
    assert_problem(status, &refused, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(failing_fields(&refused), vec!["organization_id"]);
    assert!(!refused.to_string().contains("Navette"), "{refused}");
}
