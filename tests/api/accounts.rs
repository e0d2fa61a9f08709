//! Accounts: registration, verification, login, logout, password reset, tokens and invitations.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn registering_sends_a_verification_email_in_the_chosen_language_and_verifying_marks_the_account(
) {
    let app = TestApp::spawn().await;

    let (status, body) = app
        .post(
            "/api/v1/auth/register",
            None,
            json!({"email": "Lea.Martin@Example.org", "password": PASSWORD, "display_name": "Léa Martin", "locale": "en"}),
        )
        .await;

    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["email"], "lea.martin@example.org");
    assert_eq!(body["email_verified"], false);
    assert!(body.get("password").is_none() && body.get("password_hash").is_none());
    let email = app
        .mailbox
        .wait_for_email_to("lea.martin@example.org")
        .await;
    assert_eq!(email.subject(), "Confirm your email address");
    assert!(email.text().contains("Léa Martin"));
    assert!(email.html().contains("Léa Martin"));

    let (status, _) = app
        .post(
            "/api/v1/auth/verify-email",
            None,
            json!({"token": email.token()}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let token = app.login("lea.martin@example.org", PASSWORD).await;
    let (_, me) = app.get("/api/v1/me", Some(&token)).await;
    assert_eq!(me["email_verified"], true);
    assert_eq!(me["role"], "user");
    assert_eq!(me["juries"], json!([]));

    let (status, body) = app
        .post(
            "/api/v1/auth/verify-email",
            None,
            json!({"token": email.token()}),
        )
        .await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(failing_fields(&body), ["token"]);
}

#[tokio::test]
async fn french_is_the_default_language_of_emails() {
    let app = TestApp::spawn().await;
    let (status, _) = app
        .post(
            "/api/v1/auth/register",
            None,
            json!({"email": "paul@example.org", "password": PASSWORD, "display_name": "Paul"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let email = app.mailbox.wait_for_email_to("paul@example.org").await;
    assert_eq!(email.subject(), "Confirmez votre adresse e-mail");
}

#[tokio::test]
async fn a_bad_registration_lists_every_failing_field_at_once() {
    let app = TestApp::spawn().await;

    let (status, body) = app
        .post(
            "/api/v1/auth/register",
            None,
            json!({"email": "not-an-email", "password": "short", "display_name": "  ", "locale": "de", "role": "admin"}),
        )
        .await;

    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        failing_fields(&body),
        ["display_name", "email", "locale", "password", "role"]
    );
    let (status, body) = app.post("/api/v1/auth/register", None, json!({})).await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(failing_fields(&body), ["display_name", "email", "password"]);
}

#[tokio::test]
async fn a_password_equal_to_the_email_is_refused() {
    let app = TestApp::spawn().await;
    let (status, body) = app
        .post(
            "/api/v1/auth/register",
            None,
            json!({"email": "long.address@example.org", "password": "Long.Address@example.org", "display_name": "X"}),
        )
        .await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["errors"][0]["code"], "same_as_email");
}

#[tokio::test]
async fn registering_a_taken_address_answers_the_same_and_warns_its_owner() {
    let app = TestApp::spawn().await;
    app.register("owner@example.org", "fr").await;
    app.mailbox.wait_for(1).await;

    let (status, body) = app
        .post(
            "/api/v1/auth/register",
            None,
            json!({"email": "owner@example.org", "password": "another password 123", "display_name": "Intruder"}),
        )
        .await;

    assert_eq!(status, StatusCode::CREATED);
    let mut keys: Vec<&String> = body.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "display_name",
            "email",
            "email_verified",
            "id",
            "locale",
            "role"
        ]
    );
    assert_eq!(body["email_verified"], false);
    let emails = app.mailbox.wait_for(2).await;
    assert_eq!(emails[1].to, ["owner@example.org"]);
    assert!(
        emails[1].subject().contains("Tentative"),
        "{}",
        emails[1].subject()
    );
    // The original password still works: the attempt changed nothing.
    app.login("owner@example.org", PASSWORD).await;
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_get_the_same_401() {
    let app = TestApp::spawn().await;
    app.register("known@example.org", "fr").await;

    let (wrong_status, wrong_body) = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"email": "known@example.org", "password": "not the password"}),
        )
        .await;
    let (unknown_status, unknown_body) = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"email": "nobody@example.org", "password": "not the password"}),
        )
        .await;

    assert_problem(wrong_status, &wrong_body, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong_status, unknown_status);
    assert_eq!(wrong_body, unknown_body);
}

#[tokio::test]
async fn logins_are_throttled_per_account_with_retry_after() {
    let app = TestApp::spawn_with(Options {
        configure: Box::new(|s| s.auth.login_attempts_per_minute_per_account = 3),
        ..Default::default()
    })
    .await;
    app.register("target@example.org", "fr").await;

    for _ in 0..3 {
        let (status, _) = app
            .post(
                "/api/v1/auth/login",
                None,
                json!({"email": "target@example.org", "password": "guess guess guess"}),
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let response = app
        .request(Method::POST, "/api/v1/auth/login", None)
        .json(&json!({"email": "TARGET@example.org", "password": PASSWORD}))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after));
    // Another account is not affected.
    app.register("other@example.org", "fr").await;
    app.login("other@example.org", PASSWORD).await;
}

#[tokio::test]
async fn logins_are_throttled_per_client_address() {
    let app = TestApp::spawn_with(Options {
        configure: Box::new(|s| s.auth.login_attempts_per_minute_per_address = 4),
        ..Default::default()
    })
    .await;
    for i in 0..4 {
        let (status, _) = app
            .post(
                "/api/v1/auth/login",
                None,
                json!({"email": format!("spray{i}@example.org"), "password": "x"}),
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (status, body) = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"email": "spray9@example.org", "password": "x"}),
        )
        .await;
    assert_problem(status, &body, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn logout_revokes_the_presented_token_only() {
    let app = TestApp::spawn().await;
    app.register("lou@example.org", "fr").await;
    let first = app.login("lou@example.org", PASSWORD).await;
    let second = app.login("lou@example.org", PASSWORD).await;

    let (status, _) = app
        .send(Method::POST, "/api/v1/auth/logout", Some(&first), None)
        .await;

    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = app.get("/api/v1/me", Some(&first)).await;
    assert_problem(status, &body, StatusCode::UNAUTHORIZED);
    let (status, _) = app.get("/api/v1/me", Some(&second)).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn missing_or_garbage_tokens_get_401() {
    let app = TestApp::spawn().await;
    let (status, body) = app.get("/api/v1/me", None).await;
    assert_problem(status, &body, StatusCode::UNAUTHORIZED);
    let (status, body) = app.get("/api/v1/me", Some("cordee_not-a-real-token")).await;
    assert_problem(status, &body, StatusCode::UNAUTHORIZED);
    let response = app
        .request(Method::GET, "/api/v1/me", None)
        .header("Authorization", "Basic abc")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_password_reset_changes_the_password_and_revokes_every_session() {
    let app = TestApp::spawn().await;
    app.register("forgetful@example.org", "fr").await;
    app.mailbox.wait_for(1).await;
    let old_session = app.login("forgetful@example.org", PASSWORD).await;

    let (status, _) = app
        .post(
            "/api/v1/auth/password-reset",
            None,
            json!({"email": "forgetful@example.org"}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let emails = app.mailbox.wait_for(2).await;
    let reset = &emails[1];
    assert!(
        reset.subject().contains("mot de passe"),
        "{}",
        reset.subject()
    );

    let (status, body) = app
        .post(
            "/api/v1/auth/password-reset/confirm",
            None,
            json!({"token": reset.token(), "password": "short"}),
        )
        .await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(failing_fields(&body), ["password"]);
    let (status, _) = app
        .post(
            "/api/v1/auth/password-reset/confirm",
            None,
            json!({"token": reset.token(), "password": "a brand new passphrase"}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    let (status, _) = app.get("/api/v1/me", Some(&old_session)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"email": "forgetful@example.org", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    app.login("forgetful@example.org", "a brand new passphrase")
        .await;
    let (status, _) = app
        .post(
            "/api/v1/auth/password-reset/confirm",
            None,
            json!({"token": reset.token(), "password": "yet another passphrase"}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a reset link works once"
    );
}

#[tokio::test]
async fn a_password_reset_for_an_unknown_address_answers_the_same_and_sends_nothing() {
    let app = TestApp::spawn().await;
    app.register("someone@example.org", "fr").await;
    app.mailbox.wait_for(1).await;

    let (status, body) = app
        .post(
            "/api/v1/auth/password-reset",
            None,
            json!({"email": "ghost@example.org"}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert!(body.is_null());
    // A known address queued after the unknown one arrives, and the unknown one never did.
    app.post(
        "/api/v1/auth/password-reset",
        None,
        json!({"email": "someone@example.org"}),
    )
    .await;
    let emails = app.mailbox.wait_for(2).await;
    assert!(emails.iter().all(|e| e.to != ["ghost@example.org"]));
}

#[tokio::test]
async fn personal_tokens_show_their_secret_once_and_are_limited_to_their_scopes() {
    let app = TestApp::spawn().await;
    let session = app.applicant("script@example.org").await;

    let (status, created) = app
        .post(
            "/api/v1/me/tokens",
            Some(&session),
            json!({"name": "jury script", "scopes": ["applications:read"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let secret = created["token"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("cordee_"));

    let (_, list) = app.get("/api/v1/me/tokens", Some(&session)).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_eq!(list["items"][0]["scopes"], json!(["applications:read"]));
    assert!(
        !list.to_string().contains(&secret),
        "the secret is never shown again"
    );

    let (status, _) = app.get("/api/v1/me/organizations", Some(&secret)).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = app
        .post(
            "/api/v1/organizations",
            Some(&secret),
            json!({"kind": "association", "legal_name": "Club", "postcode": "74400", "city": "Chamonix"}),
        )
        .await;
    assert_problem(status, &body, StatusCode::FORBIDDEN);
    let (status, _) = app
        .post(
            "/api/v1/me/tokens",
            Some(&secret),
            json!({"name": "x", "scopes": ["applications:read"]}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "a personal token cannot mint tokens"
    );

    let id = created["id"].as_str().unwrap();
    let (status, _) = app
        .send(
            Method::DELETE,
            &format!("/api/v1/me/tokens/{id}"),
            Some(&session),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = app.get("/api/v1/me/organizations", Some(&secret)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = app
        .send(
            Method::DELETE,
            &format!("/api/v1/me/tokens/{id}"),
            Some(&session),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn token_requests_are_checked_field_by_field() {
    let app = TestApp::spawn().await;
    let session = app.applicant("picky@example.org").await;

    let (status, body) = app
        .post(
            "/api/v1/me/tokens",
            Some(&session),
            json!({"name": "", "scopes": ["applications:read", "root", "admin"], "expires_at": "2001-01-01T00:00:00Z"}),
        )
        .await;

    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        failing_fields(&body),
        ["expires_at", "name", "scopes.1", "scopes.2"]
    );
}

#[tokio::test]
async fn an_expired_personal_token_stops_working() {
    let start = chrono::Utc::now();
    let app = TestApp::spawn_with(Options {
        clock: cordee::clock::Clock::manual(start),
        ..Default::default()
    })
    .await;
    let session = app.applicant("temp@example.org").await;
    let expires = (start + chrono::Duration::hours(1)).to_rfc3339();
    let (_, created) = app
        .post(
            "/api/v1/me/tokens",
            Some(&session),
            json!({"name": "short", "scopes": ["applications:read"], "expires_at": expires}),
        )
        .await;
    let secret = created["token"].as_str().unwrap();
    assert_eq!(app.get("/api/v1/me", Some(secret)).await.0, StatusCode::OK);

    app.clock.advance(chrono::Duration::hours(2));

    assert_eq!(
        app.get("/api/v1/me", Some(secret)).await.0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn only_administrators_invite_and_an_accepted_juror_invitation_creates_a_verified_account() {
    let app = TestApp::spawn().await;
    let applicant = app.applicant("applicant@example.org").await;
    let admin = app.admin("staff@example.org").await;

    let (status, _) = app
        .post(
            "/api/v1/invitations",
            Some(&applicant),
            json!({"email": "juror@example.org", "role": "juror"}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, invitation) = app
        .post(
            "/api/v1/invitations",
            Some(&admin),
            json!({"email": "Juror@Example.org", "role": "juror", "locale": "en"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{invitation}");
    assert!(invitation.get("token").is_none());
    let email = app.mailbox.wait_for_email_to("juror@example.org").await;
    assert!(
        email.text().contains("Admin"),
        "the inviter is named: {}",
        email.text()
    );

    let (status, body) = app
        .post(
            "/api/v1/invitations/accept",
            None,
            json!({"token": email.token()}),
        )
        .await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(failing_fields(&body), ["display_name", "password"]);
    let (status, user) = app
        .post(
            "/api/v1/invitations/accept",
            None,
            json!({"token": email.token(), "display_name": "Jeanne Jurée", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{user}");
    assert_eq!(user["email"], "juror@example.org");
    assert_eq!(user["email_verified"], true);
    assert_eq!(user["role"], "user");
    app.login("juror@example.org", PASSWORD).await;
    let (status, _) = app
        .post(
            "/api/v1/invitations/accept",
            None,
            json!({"token": email.token(), "display_name": "X", "password": PASSWORD}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "an invitation works once"
    );
}

#[tokio::test]
async fn an_admin_invitation_to_an_existing_account_makes_it_an_administrator() {
    let app = TestApp::spawn().await;
    let admin = app.admin("staff@example.org").await;
    let colleague = app.applicant("colleague@example.org").await;
    assert_eq!(
        app.get("/api/v1/admin/outbox", Some(&colleague)).await.0,
        StatusCode::FORBIDDEN
    );

    let (status, _) = app
        .post(
            "/api/v1/invitations",
            Some(&admin),
            json!({"email": "colleague@example.org", "role": "admin"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let emails = app.mailbox.wait_for(2).await;
    let email = emails
        .iter()
        .find(|e| e.subject().contains("invit"))
        .expect("an invitation email");
    // Accepted while logged in as that account: no password needed.
    let (status, user) = app
        .post(
            "/api/v1/invitations/accept",
            Some(&colleague),
            json!({"token": email.token()}),
        )
        .await;

    assert_eq!(status, StatusCode::CREATED, "{user}");
    assert_eq!(user["role"], "admin");
    let (status, _) = app.get("/api/v1/admin/outbox", Some(&colleague)).await;
    assert_eq!(status, StatusCode::OK);
}
