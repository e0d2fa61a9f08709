//! Organizations tried as an attacker would: an owner probing who has an account or adding people without
//! their consent, members who want out, a second organization for one SIRET.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

/// The invitation email that reached `email`.
async fn invitation_to(app: &TestApp, email: &str) -> ReceivedEmail {
    app.mailbox
        .wait_for_match(email, "with an invitation", |e| {
            e.text().contains("/invitations/accept?token=")
        })
        .await
}

fn start_up(siret: &str) -> Value {
    json!({"kind": "startup", "legal_name": "Navette Neige SAS", "siret": siret, "postcode": "74400", "city": "Chamonix-Mont-Blanc"})
}

#[tokio::test]
async fn an_owner_adding_addresses_learns_nothing_about_who_has_an_account() {
    let app = TestApp::spawn().await;
    let owner = app.applicant("owner@example.org").await;
    app.applicant("juror@example.org").await;
    let org = app
        .organization(&owner, "startup", "Navette Neige SAS")
        .await;
    let path = format!("/api/v1/organizations/{org}/members");

    let (known_status, known) = app
        .post(
            &path,
            Some(&owner),
            json!({"email": "juror@example.org", "role": "member"}),
        )
        .await;
    let (unknown_status, unknown) = app
        .post(
            &path,
            Some(&owner),
            json!({"email": "nobody@example.org", "role": "member"}),
        )
        .await;
    assert_eq!(known_status, StatusCode::ACCEPTED, "{known}");
    assert_eq!(unknown_status, StatusCode::ACCEPTED, "{unknown}");
    let keys = |v: &Value| {
        let mut keys: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        keys
    };
    assert_eq!(keys(&known), keys(&unknown));
    assert!(known.get("user_id").is_none() && known.get("display_name").is_none());

    // Nobody became a member without saying yes.
    let (_, members) = app.get(&path, Some(&owner)).await;
    assert_eq!(members["items"].as_array().unwrap().len(), 1, "{members}");
    invitation_to(&app, "juror@example.org").await;
    invitation_to(&app, "nobody@example.org").await;
}

#[tokio::test]
async fn an_invited_person_joins_only_by_accepting_and_may_decline() {
    let app = TestApp::spawn().await;
    let owner = app.applicant("owner@example.org").await;
    let colleague = app.applicant("colleague@example.org").await;
    let org = app
        .organization(&owner, "startup", "Navette Neige SAS")
        .await;
    let path = format!("/api/v1/organizations/{org}/members");
    let (status, _) = app
        .post(
            &path,
            Some(&owner),
            json!({"email": "colleague@example.org", "role": "member"}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let email = invitation_to(&app, "colleague@example.org").await;
    assert!(
        email.text().contains("Navette Neige SAS"),
        "{}",
        email.text()
    );
    let (status, _) = app
        .get(&format!("/api/v1/organizations/{org}"), Some(&colleague))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "not a member yet");

    // Accepting while logged in as the invited account needs no password.
    let (status, user) = app
        .post(
            "/api/v1/invitations/accept",
            Some(&colleague),
            json!({"token": email.token()}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{user}");
    let (status, read) = app
        .get(&format!("/api/v1/organizations/{org}"), Some(&colleague))
        .await;
    assert_eq!(status, StatusCode::OK, "{read}");
    assert_eq!(read["my_role"], "member");

    // Someone else declines: the link stops working and nothing changes.
    app.post(
        &path,
        Some(&owner),
        json!({"email": "stranger@example.org", "role": "owner"}),
    )
    .await;
    let token = invitation_to(&app, "stranger@example.org").await.token();
    let (status, _) = app
        .post("/api/v1/invitations/decline", None, json!({"token": token}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = app
        .post(
            "/api/v1/invitations/accept",
            None,
            json!({"token": token, "display_name": "Intrus", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, members) = app.get(&path, Some(&owner)).await;
    assert_eq!(members["items"].as_array().unwrap().len(), 2, "{members}");
}

/// `owner` invites `email` into `org` as `role`, and the invited account (logged in) accepts.
async fn join(app: &TestApp, owner: &str, org: &str, session: &str, email: &str, role: &str) {
    let (status, body) = app
        .post(
            &format!("/api/v1/organizations/{org}/members"),
            Some(owner),
            json!({"email": email, "role": role}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let token = app
        .mailbox
        .wait_for_match(email, "inviting to the organization", |e| {
            e.text().contains("/invitations/accept?token=")
        })
        .await
        .token();
    let (status, body) = app
        .post(
            "/api/v1/invitations/accept",
            Some(session),
            json!({"token": token}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

#[tokio::test]
async fn members_leave_owners_remove_and_the_last_owner_stays() {
    let app = TestApp::spawn().await;
    let owner = app.applicant("owner@example.org").await;
    let first = app.applicant("first@example.org").await;
    let second = app.applicant("second@example.org").await;
    let org = app
        .organization(&owner, "startup", "Navette Neige SAS")
        .await;
    join(&app, &owner, &org, &first, "first@example.org", "member").await;
    join(&app, &owner, &org, &second, "second@example.org", "member").await;
    let id_of = |token: &str| {
        let token = token.to_owned();
        let app = &app;
        async move {
            let (_, me) = app.get("/api/v1/me", Some(&token)).await;
            me["id"].as_str().unwrap().to_owned()
        }
    };
    let (owner_id, first_id, second_id) = (
        id_of(&owner).await,
        id_of(&first).await,
        id_of(&second).await,
    );
    let member = |user: &str| format!("/api/v1/organizations/{org}/members/{user}");

    let (status, body) = app
        .send(Method::DELETE, &member(&owner_id), Some(&first), None)
        .await;
    assert_problem(status, &body, StatusCode::FORBIDDEN);
    let (status, body) = app
        .send(Method::DELETE, &member(&owner_id), Some(&owner), None)
        .await;
    assert_problem(status, &body, StatusCode::CONFLICT);
    assert_eq!(body["code"], "last_owner");

    let (status, _) = app
        .send(Method::DELETE, &member(&first_id), Some(&first), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "a member leaves");
    let (status, _) = app
        .send(Method::DELETE, &member(&second_id), Some(&owner), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "an owner removes a member");
    for gone in [&first, &second] {
        let (status, _) = app
            .get(&format!("/api/v1/organizations/{org}"), Some(gone))
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
    let (status, _) = app
        .send(Method::DELETE, &member(&second_id), Some(&owner), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "no longer a member");
}

#[tokio::test]
async fn a_second_organization_for_one_siret_is_refused_without_naming_the_first() {
    let app = TestApp::spawn().await;
    let first = app.applicant("founder@example.org").await;
    let second = app.applicant("copycat@example.org").await;
    let siret = next_siret();
    let (status, org) = app
        .post("/api/v1/organizations", Some(&first), start_up(&siret))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{org}");

    let (status, body) = app
        .post("/api/v1/organizations", Some(&second), start_up(&siret))
        .await;
    assert_problem(status, &body, StatusCode::CONFLICT);
    assert_eq!(body["code"], "organization_exists");
    let text = body.to_string();
    for secret in ["founder", org["id"].as_str().unwrap()] {
        assert!(!text.contains(secret), "{text}");
    }

    // Moving another organization onto that SIRET is refused too.
    let (status, own) = app
        .post(
            "/api/v1/organizations",
            Some(&second),
            start_up(&next_siret()),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{own}");
    let response = app
        .request(
            Method::PATCH,
            &format!("/api/v1/organizations/{}", own["id"].as_str().unwrap()),
            Some(&second),
        )
        .header("If-Match", "\"1\"")
        .json(&json!({"siret": siret}))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "organization_exists", "{body}");
    assert_eq!(status, StatusCode::CONFLICT);

    // A territory without SIRET is one per SIREN.
    let territory = json!({"kind": "territory", "legal_name": "Commune de Vallorcine", "siren": "217403237", "postcode": "74660", "city": "Vallorcine"});
    let (status, body) = app
        .post("/api/v1/organizations", Some(&first), territory.clone())
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = app
        .post("/api/v1/organizations", Some(&second), territory)
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["code"], "organization_exists");
}
