//! Organizations: creation and its validation, visibility, optimistic concurrency on changes, members, the
//! caller's list and personal-token scopes.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

/// A valid start-up body (SIRET 73282932000074, SIREN 732829320).
fn startup(legal_name: &str) -> Value {
    json!({
        "kind": "startup",
        "legal_name": legal_name,
        "siret": "73282932000074",
        "postcode": "74400",
        "city": "Chamonix-Mont-Blanc",
        "website": "https://www.example.org",
        "phone": "06 12 34 56 78",
    })
}

/// Creates a start-up as `token`; returns its id.
async fn create_startup(app: &TestApp, token: &str, legal_name: &str) -> String {
    let (status, body) = app
        .post("/api/v1/organizations", Some(token), startup(legal_name))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["id"].as_str().unwrap().to_owned()
}

/// GETs an organization; returns the status, the body and the ETag header.
async fn read(app: &TestApp, id: &str, token: &str) -> (StatusCode, Value, Option<String>) {
    let response = app
        .request(
            Method::GET,
            &format!("/api/v1/organizations/{id}"),
            Some(token),
        )
        .send()
        .await
        .unwrap();
    let status = response.status();
    let etag = response
        .headers()
        .get("etag")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = response.json().await.unwrap();
    (status, body, etag)
}

/// PATCHes an organization with `If-Match: etag`; returns the status, the body and the new ETag header.
async fn patch(
    app: &TestApp,
    id: &str,
    token: &str,
    etag: &str,
    body: Value,
) -> (StatusCode, Value, Option<String>) {
    let response = app
        .request(
            Method::PATCH,
            &format!("/api/v1/organizations/{id}"),
            Some(token),
        )
        .header("If-Match", etag)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let etag = response
        .headers()
        .get("etag")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = response.json().await.unwrap();
    (status, body, etag)
}

#[tokio::test]
async fn creating_a_startup_with_a_valid_siret_makes_the_caller_owner_and_normalises_identifiers() {
    let app = TestApp::spawn().await;
    let token = app.applicant("founder@example.org").await;

    let response = app
        .request(Method::POST, "/api/v1/organizations", Some(&token))
        .json(&startup("Neige & Cie"))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), StatusCode::CREATED);
    let etag = response
        .headers()
        .get("etag")
        .expect("an ETag on creation")
        .to_str()
        .unwrap()
        .to_owned();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["kind"], "startup");
    assert_eq!(body["legal_name"], "Neige & Cie");
    assert_eq!(body["my_role"], "owner");
    assert_eq!(body["siret"], "73282932000074");
    assert_eq!(body["siren"], "732829320");
    assert_eq!(body["phone"], "+33612345678");
    assert_eq!(body["postcode"], "74400");
    assert_eq!(body["version"], 1);
    let id = body["id"].as_str().unwrap();
    let (status, read_back, read_etag) = read(&app, id, &token).await;
    assert_eq!(status, StatusCode::OK, "{read_back}");
    assert_eq!(read_etag.as_deref(), Some(etag.as_str()));
    assert_eq!(read_back["siren"], "732829320");
    assert_eq!(read_back["my_role"], "owner");
}

#[tokio::test]
async fn a_la_poste_establishment_siret_is_accepted_by_its_digit_sum_rule() {
    let app = TestApp::spawn().await;
    let token = app.applicant("postier@example.org").await;

    let (status, body) = app
        .post(
            "/api/v1/organizations",
            Some(&token),
            json!({"kind": "company", "legal_name": "La Poste", "siret": "35600000049837", "postcode": "74400", "city": "Chamonix"}),
        )
        .await;

    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["siren"], "356000000");
}

#[tokio::test]
async fn one_422_lists_every_failing_field_of_an_organization_at_once() {
    let app = TestApp::spawn().await;
    let token = app.applicant("founder@example.org").await;

    let (status, body) = app
        .post(
            "/api/v1/organizations",
            Some(&token),
            json!({
                "kind": "startup",
                "legal_name": "Neige & Cie",
                "siret": "73282932000075",
                "postcode": "00123",
                "phone": "12",
                "status": "selected",
            }),
        )
        .await;

    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        failing_fields(&body),
        ["city", "phone", "postcode", "siret", "status"]
    );
    let (_, mine) = app.get("/api/v1/me/organizations", Some(&token)).await;
    assert_eq!(mine["items"], json!([]), "nothing was created");
}

#[tokio::test]
async fn startups_and_companies_without_a_siret_are_refused_on_siret() {
    let app = TestApp::spawn().await;
    let token = app.applicant("founder@example.org").await;

    for kind in ["startup", "company"] {
        let (status, body) = app
            .post(
                "/api/v1/organizations",
                Some(&token),
                json!({"kind": kind, "legal_name": "Sans SIRET", "postcode": "74400", "city": "Chamonix"}),
            )
            .await;

        assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(failing_fields(&body), ["siret"], "{kind}");
    }
}

#[tokio::test]
async fn a_territory_needs_a_siren_or_an_insee_code_and_an_insee_code_alone_is_enough() {
    let app = TestApp::spawn().await;
    let token = app.applicant("mairie@example.org").await;

    let (status, body) = app
        .post(
            "/api/v1/organizations",
            Some(&token),
            json!({"kind": "territory", "legal_name": "Commune de Chamonix", "insee_code": "74056", "postcode": "74400", "city": "Chamonix"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["insee_code"], "74056");
    assert_eq!(body["siret"], Value::Null);

    let (status, body) = app
        .post(
            "/api/v1/organizations",
            Some(&token),
            json!({"kind": "territory", "legal_name": "Commune inconnue", "postcode": "74400", "city": "Chamonix"}),
        )
        .await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(failing_fields(&body), ["siren"]);
}

#[tokio::test]
async fn a_siren_that_is_not_the_sirets_own_is_refused() {
    let app = TestApp::spawn().await;
    let token = app.applicant("founder@example.org").await;
    let mut body = startup("Neige & Cie");
    body["siren"] = json!("356000000");

    let (status, body) = app.post("/api/v1/organizations", Some(&token), body).await;

    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(failing_fields(&body), ["siren"]);
}

#[tokio::test]
async fn organizations_need_authentication_and_say_so_in_problem_json() {
    let app = TestApp::spawn().await;

    let response = app
        .request(Method::POST, "/api/v1/organizations", None)
        .json(&startup("Neige & Cie"))
        .send()
        .await
        .unwrap();
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_problem(status, &body, StatusCode::UNAUTHORIZED);
    assert!(
        content_type.starts_with("application/problem+json"),
        "{content_type}"
    );

    let (status, body) = app
        .get("/api/v1/me/organizations", Some("cordee_not_a_real_token"))
        .await;
    assert_problem(status, &body, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn another_applicant_is_told_an_organization_does_not_exist_but_an_admin_reads_it() {
    let app = TestApp::spawn().await;
    let owner = app.applicant("founder@example.org").await;
    let stranger = app.applicant("stranger@example.org").await;
    let admin = app.admin("admin@example.org").await;
    let id = create_startup(&app, &owner, "Neige & Cie").await;

    let (status, body, _) = read(&app, &id, &stranger).await;
    assert_problem(status, &body, StatusCode::NOT_FOUND);

    let (status, body, etag) = read(&app, &id, &admin).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["id"], id.as_str());
    assert_eq!(body["my_role"], Value::Null);
    assert!(etag.is_some());
}

#[tokio::test]
async fn a_patch_without_if_match_is_428_and_with_a_stale_etag_is_412() {
    let app = TestApp::spawn().await;
    let token = app.applicant("founder@example.org").await;
    let id = create_startup(&app, &token, "Neige & Cie").await;
    let (_, _, first_etag) = read(&app, &id, &token).await;
    let first_etag = first_etag.unwrap();

    let (status, body) = app
        .send(
            Method::PATCH,
            &format!("/api/v1/organizations/{id}"),
            Some(&token),
            Some(json!({"city": "Argentière"})),
        )
        .await;
    assert_problem(status, &body, StatusCode::PRECONDITION_REQUIRED);

    let (status, body, _) = patch(
        &app,
        &id,
        &token,
        &first_etag,
        json!({"city": "Les Houches"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body, _) = patch(
        &app,
        &id,
        &token,
        &first_etag,
        json!({"city": "Argentière"}),
    )
    .await;
    assert_problem(status, &body, StatusCode::PRECONDITION_FAILED);

    let (_, body, _) = read(&app, &id, &token).await;
    assert_eq!(
        body["city"], "Les Houches",
        "the stale change was not applied"
    );
}

#[tokio::test]
async fn the_owner_patches_with_the_current_etag_and_gets_a_new_version() {
    let app = TestApp::spawn().await;
    let token = app.applicant("founder@example.org").await;
    let id = create_startup(&app, &token, "Neige & Cie").await;
    let (_, before, etag) = read(&app, &id, &token).await;
    let etag = etag.unwrap();

    let (status, body, new_etag) = patch(
        &app,
        &id,
        &token,
        &etag,
        json!({"legal_name": "Neige & Glace", "phone": "+33 4 50 53 00 24"}),
    )
    .await;

    assert_eq!(status, StatusCode::OK, "{body}");
    let new_etag = new_etag.expect("a new ETag");
    assert_ne!(new_etag, etag);
    assert_eq!(body["version"], before["version"].as_i64().unwrap() + 1);
    assert_eq!(body["legal_name"], "Neige & Glace");
    assert_eq!(body["phone"], "+33450530024");
    let (status, after, read_etag) = read(&app, &id, &token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(read_etag.as_deref(), Some(new_etag.as_str()));
    assert_eq!(after["legal_name"], "Neige & Glace");
    assert_eq!(after["phone"], "+33450530024");
    assert_eq!(after["version"], body["version"]);
    assert_eq!(after["siret"], "73282932000074", "untouched fields stay");
}

#[tokio::test]
async fn the_kind_of_an_organization_cannot_be_changed() {
    let app = TestApp::spawn().await;
    let token = app.applicant("founder@example.org").await;
    let id = create_startup(&app, &token, "Neige & Cie").await;
    let (_, _, etag) = read(&app, &id, &token).await;

    let (status, body, _) = patch(
        &app,
        &id,
        &token,
        &etag.unwrap(),
        json!({"kind": "association"}),
    )
    .await;

    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(failing_fields(&body), ["kind"]);
    let (_, after, _) = read(&app, &id, &token).await;
    assert_eq!(after["kind"], "startup");
    assert_eq!(after["version"], 1);
}

#[tokio::test]
async fn patching_the_website_to_null_clears_it() {
    let app = TestApp::spawn().await;
    let token = app.applicant("founder@example.org").await;
    let id = create_startup(&app, &token, "Neige & Cie").await;
    let (_, before, etag) = read(&app, &id, &token).await;
    assert_eq!(before["website"], "https://www.example.org");

    let (status, body, _) =
        patch(&app, &id, &token, &etag.unwrap(), json!({"website": null})).await;

    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["website"], Value::Null);
    let (_, after, _) = read(&app, &id, &token).await;
    assert_eq!(after["website"], Value::Null);
    assert_eq!(after["phone"], "+33612345678", "other optional fields stay");
}

#[tokio::test]
async fn an_owner_adds_a_member_who_can_read_but_not_change_the_organization() {
    let app = TestApp::spawn().await;
    let owner = app.applicant("founder@example.org").await;
    let colleague = app.applicant("colleague@example.org").await;
    let id = create_startup(&app, &owner, "Neige & Cie").await;

    app.add_member(&owner, &id, "colleague@example.org", "member")
        .await;

    let (status, body, etag) = read(&app, &id, &colleague).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["my_role"], "member");
    let (_, mine) = app.get("/api/v1/me/organizations", Some(&colleague)).await;
    assert_eq!(mine["items"][0]["id"], id.as_str());

    let (status, body, _) = patch(
        &app,
        &id,
        &colleague,
        &etag.unwrap(),
        json!({"city": "Argentière"}),
    )
    .await;
    assert_problem(status, &body, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn inviting_a_member_again_conflicts_and_an_invitation_can_make_a_member_an_owner() {
    let app = TestApp::spawn().await;
    let owner = app.applicant("founder@example.org").await;
    let colleague = app.applicant("colleague@example.org").await;
    let id = create_startup(&app, &owner, "Neige & Cie").await;
    let members = format!("/api/v1/organizations/{id}/members");
    app.add_member(&owner, &id, "colleague@example.org", "member")
        .await;

    let (status, body) = app
        .post(
            &members,
            Some(&owner),
            json!({"email": "colleague@example.org", "role": "member"}),
        )
        .await;
    assert_problem(status, &body, StatusCode::CONFLICT);
    assert_eq!(body["code"], "already_member");

    app.add_member(&owner, &id, "colleague@example.org", "owner")
        .await;
    let (_, body, _) = read(&app, &id, &colleague).await;
    assert_eq!(body["my_role"], "owner");
    let (status, body) = app
        .post(
            &members,
            Some(&owner),
            json!({"email": "colleague@example.org", "role": "member"}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "an owner is not demoted by invitation: {body}"
    );
}

#[tokio::test]
async fn someone_outside_the_organization_cannot_add_members_and_is_told_it_does_not_exist() {
    let app = TestApp::spawn().await;
    let owner = app.applicant("founder@example.org").await;
    let stranger = app.applicant("stranger@example.org").await;
    let id = create_startup(&app, &owner, "Neige & Cie").await;

    let (status, body) = app
        .post(
            &format!("/api/v1/organizations/{id}/members"),
            Some(&stranger),
            json!({"email": "stranger@example.org", "role": "owner"}),
        )
        .await;

    assert_problem(status, &body, StatusCode::NOT_FOUND);
    let (status, _, _) = read(&app, &id, &stranger).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "the stranger did not get in");
}

#[tokio::test]
async fn my_organizations_are_paginated_with_a_cursor() {
    let app = TestApp::spawn().await;
    let token = app.applicant("founder@example.org").await;
    let other = app.applicant("other@example.org").await;
    let mut created = Vec::new();
    // One organization per SIRET: each start-up has its own.
    for name in ["Alpha", "Bravo", "Charlie"] {
        let mut body = startup(name);
        body["siret"] = json!(next_siret());
        let (status, org) = app.post("/api/v1/organizations", Some(&token), body).await;
        assert_eq!(status, StatusCode::CREATED, "{org}");
        created.push(org["id"].as_str().unwrap().to_owned());
    }
    create_startup(&app, &other, "Not mine").await;

    let (status, first) = app
        .get("/api/v1/me/organizations?limit=2", Some(&token))
        .await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    let cursor = first["next_cursor"]
        .as_str()
        .expect("a next_cursor while more follow");

    let (status, second) = app
        .get(
            &format!("/api/v1/me/organizations?limit=2&cursor={cursor}"),
            Some(&token),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{second}");
    assert_eq!(second["items"].as_array().unwrap().len(), 1);
    assert_eq!(second["next_cursor"], Value::Null);

    let mut seen: Vec<String> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .chain(second["items"].as_array().unwrap())
        .map(|o| {
            assert_eq!(o["my_role"], "owner");
            o["id"].as_str().unwrap().to_owned()
        })
        .collect();
    seen.sort();
    created.sort();
    assert_eq!(seen, created, "each of mine exactly once, nobody else's");
}

#[tokio::test]
async fn the_page_limit_must_be_between_1_and_200() {
    let app = TestApp::spawn().await;
    let token = app.applicant("founder@example.org").await;

    for limit in ["0", "500", "ten"] {
        let (status, body) = app
            .get(
                &format!("/api/v1/me/organizations?limit={limit}"),
                Some(&token),
            )
            .await;

        assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(failing_fields(&body), ["limit"], "limit={limit}");
    }
    let (status, body) = app
        .get("/api/v1/me/organizations?limit=200", Some(&token))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn a_read_only_personal_token_lists_organizations_but_cannot_create_one() {
    let app = TestApp::spawn().await;
    let session = app.applicant("founder@example.org").await;
    create_startup(&app, &session, "Neige & Cie").await;
    let (status, created) = app
        .post(
            "/api/v1/me/tokens",
            Some(&session),
            json!({"name": "reporting script", "scopes": ["applications:read"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let read_only = created["token"].as_str().unwrap().to_owned();

    let (status, body) = app.get("/api/v1/me/organizations", Some(&read_only)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["items"].as_array().unwrap().len(), 1);

    let (status, body) = app
        .post(
            "/api/v1/organizations",
            Some(&read_only),
            startup("Encore une"),
        )
        .await;
    assert_problem(status, &body, StatusCode::FORBIDDEN);
    let (_, body) = app.get("/api/v1/me/organizations", Some(&session)).await;
    assert_eq!(
        body["items"].as_array().unwrap().len(),
        1,
        "nothing created"
    );
}

#[tokio::test]
async fn creating_with_an_idempotency_key_twice_creates_one_organization_and_replays_the_answer() {
    let app = TestApp::spawn().await;
    let token = app.applicant("retry@example.org").await;
    let body = json!({"kind": "association", "legal_name": "Club Alpin", "postcode": "74400", "city": "Chamonix"});
    let send = |body: serde_json::Value| {
        app.request(Method::POST, "/api/v1/organizations", Some(&token))
            .header("Idempotency-Key", "create-club-1")
            .json(&body)
            .send()
    };

    let first = send(body.clone()).await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: serde_json::Value = first.json().await.unwrap();
    let second = send(body.clone()).await.unwrap();
    assert_eq!(second.status(), StatusCode::CREATED);
    let second: serde_json::Value = second.json().await.unwrap();

    assert_eq!(first, second);
    let (_, mine) = app.get("/api/v1/me/organizations", Some(&token)).await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
    let other = send(json!({"kind": "association", "legal_name": "Autre", "postcode": "74400", "city": "Chamonix"}))
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn a_required_field_cannot_be_cleared_with_null() {
    let app = TestApp::spawn().await;
    let token = app.applicant("owner@example.org").await;
    let (_, org) = app
        .post(
            "/api/v1/organizations",
            Some(&token),
            json!({"kind": "association", "legal_name": "Club", "postcode": "74400", "city": "Chamonix"}),
        )
        .await;
    let path = format!("/api/v1/organizations/{}", org["id"].as_str().unwrap());

    let response = app
        .request(Method::PATCH, &path, Some(&token))
        .header("If-Match", "\"1\"")
        .json(&json!({"city": null, "legal_name": null}))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(failing_fields(&body), ["city", "legal_name"]);
    let (_, after) = app.get(&path, Some(&token)).await;
    assert_eq!(after["version"], 1);
}

#[tokio::test]
async fn a_member_without_if_match_is_told_they_may_not_edit() {
    let app = TestApp::spawn().await;
    let owner = app.applicant("owner@example.org").await;
    let member = app.applicant("member@example.org").await;
    let (_, org) = app
        .post(
            "/api/v1/organizations",
            Some(&owner),
            json!({"kind": "association", "legal_name": "Club", "postcode": "74400", "city": "Chamonix"}),
        )
        .await;
    let id = org["id"].as_str().unwrap();
    app.add_member(&owner, id, "member@example.org", "member")
        .await;

    let (status, body) = app
        .send(
            Method::PATCH,
            &format!("/api/v1/organizations/{id}"),
            Some(&member),
            Some(json!({"city": "Annecy"})),
        )
        .await;

    assert_problem(status, &body, StatusCode::FORBIDDEN);
}
