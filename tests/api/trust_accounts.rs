//! Accounts and invitations tried as an attacker would: an address registered before its owner, an
//! unverified account, a session ended on another instance, two spellings of one mailbox. Organizations
//! and their members are in `trust_memberships.rs`.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

/// Registers `email` and logs in without verifying the address.
async fn unverified(app: &TestApp, email: &str) -> String {
    app.register(email, "fr").await;
    app.login(email, PASSWORD).await
}

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
async fn a_stranger_who_registered_an_invited_address_first_is_locked_out_when_its_owner_accepts() {
    let app = TestApp::spawn().await;
    let admin = app.admin("staff@example.org").await;
    // The stranger registers the future administrator's address and keeps a session open.
    let squatter = unverified(&app, "new.admin@example.org").await;
    let (status, _) = app
        .post(
            "/api/v1/invitations",
            Some(&admin),
            json!({"email": "new.admin@example.org", "role": "admin"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let token = invitation_to(&app, "new.admin@example.org").await.token();

    // The real owner clicks the link: the token alone no longer hands the role to the squatted account.
    let (status, body) = app
        .post("/api/v1/invitations/accept", None, json!({"token": token}))
        .await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(failing_fields(&body), ["password"]);
    let (status, _) = app.get("/api/v1/admin/outbox", Some(&squatter)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "the squatter is no admin");

    // With a new password, the owner takes the account over and every earlier session ends.
    let (status, user) = app
        .post(
            "/api/v1/invitations/accept",
            None,
            json!({"token": token, "password": "the real owner's passphrase", "display_name": "Nouvelle Admin"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{user}");
    assert_eq!(user["role"], "admin");
    assert_eq!(user["email_verified"], true);
    assert_eq!(user["display_name"], "Nouvelle Admin");
    let (status, _) = app.get("/api/v1/admin/outbox", Some(&squatter)).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the squatter's session ended"
    );
    let (status, _) = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"email": "new.admin@example.org", "password": PASSWORD}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the squatter's password is gone"
    );
    let owner = app
        .login("new.admin@example.org", "the real owner's passphrase")
        .await;
    let (status, _) = app.get("/api/v1/admin/outbox", Some(&owner)).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn an_unverified_account_can_only_verify_itself() {
    let app = TestApp::spawn().await;
    let session = unverified(&app, "pending@example.org").await;
    let first_link = app.mailbox.wait_for_email_to("pending@example.org").await;

    let (status, body) = app
        .post(
            "/api/v1/organizations",
            Some(&session),
            start_up(&next_siret()),
        )
        .await;
    assert_problem(status, &body, StatusCode::FORBIDDEN);
    assert_eq!(body["code"], "email_not_verified");
    let (status, body) = app
        .post(
            "/api/v1/me/tokens",
            Some(&session),
            json!({"name": "script", "scopes": ["applications:write"]}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["code"], "email_not_verified");
    let (status, body) = app.get("/api/v1/me/organizations", Some(&session)).await;
    assert_eq!(body["code"], "email_not_verified", "{status} {body}");

    // It may read itself and ask for a new link, which replaces the first one.
    let (status, me) = app.get("/api/v1/me", Some(&session)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["email_verified"], false);
    let (status, _) = app
        .post(
            "/api/v1/auth/verify-email/resend",
            Some(&session),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let emails = app.mailbox.wait_for(2).await;
    let second_link = emails.last().unwrap();
    assert_eq!(second_link.to, ["pending@example.org"]);
    let (status, _) = app
        .post(
            "/api/v1/auth/verify-email",
            None,
            json!({"token": first_link.token()}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "the older link stopped working"
    );
    let (status, _) = app
        .post(
            "/api/v1/auth/verify-email",
            None,
            json!({"token": second_link.token()}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    // The same session may now act.
    let (status, body) = app
        .post(
            "/api/v1/organizations",
            Some(&session),
            start_up(&next_siret()),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, _) = app
        .post(
            "/api/v1/auth/verify-email/resend",
            Some(&session),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
}

#[tokio::test]
async fn an_administrator_cannot_seat_an_unverified_account_on_a_jury() {
    let app = TestApp::spawn().await;
    let admin = app.admin("staff@example.org").await;
    let call = app
        .open_call(&admin, "alpes-tourisme-lab", "atl-2026")
        .await;
    let call_id = call["id"].as_str().unwrap();
    let squatter = unverified(&app, "juror@example.org").await;
    let (_, me) = app.get("/api/v1/me", Some(&squatter)).await;
    let (status, body) = app
        .post(
            &format!("/api/v1/calls/{call_id}/jurors"),
            Some(&admin),
            json!({"user_id": me["id"]}),
        )
        .await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["errors"][0]["code"], "email_not_verified");
}

#[tokio::test]
async fn a_session_ended_on_one_instance_cannot_write_through_another() {
    let app = TestApp::spawn().await;
    let other = app.another_instance().await;
    let session = app.applicant("leaving@example.org").await;
    // The other instance has seen (and cached) the session.
    let (status, _) = other.get("/api/v1/me", Some(&session)).await;
    assert_eq!(status, StatusCode::OK);

    let (status, _) = app
        .post("/api/v1/auth/logout", Some(&session), json!({}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = other
        .post(
            "/api/v1/organizations",
            Some(&session),
            start_up(&next_siret()),
        )
        .await;
    assert_problem(status, &body, StatusCode::UNAUTHORIZED);

    // The same after deleting the account.
    let session = app.applicant("erased@example.org").await;
    let (status, _) = other.get("/api/v1/me", Some(&session)).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app
        .send(Method::DELETE, "/api/v1/me", Some(&session), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = other
        .post(
            "/api/v1/organizations",
            Some(&session),
            start_up(&next_siret()),
        )
        .await;
    assert_problem(status, &body, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_international_domain_and_its_punycode_are_one_account() {
    let app = TestApp::spawn().await;
    let (status, created) = app
        .post(
            "/api/v1/auth/register",
            None,
            json!({"email": "Lea@Exämple.org", "password": PASSWORD, "display_name": "Léa"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["email"], "lea@xn--exmple-cua.org");
    app.verify_address("lea@xn--exmple-cua.org").await;

    // The punycode spelling is the same account: its owner is told, no second account is made.
    let (status, _) = app
        .post(
            "/api/v1/auth/register",
            None,
            json!({"email": "lea@xn--exmple-cua.org", "password": PASSWORD, "display_name": "Autre"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    app.mailbox.wait_for(2).await;
    let emails = app.mailbox.emails_to("lea@xn--exmple-cua.org");
    assert_eq!(emails.len(), 2, "a verification link, then a warning");
    app.login("lea@exämple.org", PASSWORD).await;
    app.login("LEA@xn--exmple-cua.org", PASSWORD).await;

    for (email, code) in [
        ("user@[127.0.0.1]", "ip_literal_domain"),
        ("user@localhost", "single_label_domain"),
        ("user@exаmple.org", "mixed_script_domain"),
    ] {
        let (status, body) = app
            .post(
                "/api/v1/auth/register",
                None,
                json!({"email": email, "password": PASSWORD, "display_name": "X"}),
            )
            .await;
        assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(body["errors"][0]["field"], "email", "{body}");
        assert_eq!(body["errors"][0]["code"], code, "{email}: {body}");
    }
}

#[tokio::test]
async fn a_stranger_who_registered_an_address_first_loses_it_to_a_password_reset() {
    let app = TestApp::spawn().await;
    let squatter = unverified(&app, "owner@example.org").await;
    let (status, _) = app
        .post(
            "/api/v1/auth/password-reset",
            None,
            json!({"email": "owner@example.org"}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let link = app
        .mailbox
        .wait_for_match("owner@example.org", "with a reset link", |e| {
            e.text().contains("/password-reset/confirm?token=")
        })
        .await;
    let (status, _) = app
        .post(
            "/api/v1/auth/password-reset/confirm",
            None,
            json!({"token": link.token(), "password": "the real owner's passphrase"}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    let (status, _) = app.get("/api/v1/me", Some(&squatter)).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the squatter's session ended"
    );
    let owner = app
        .login("owner@example.org", "the real owner's passphrase")
        .await;
    let (status, body) = app
        .post(
            "/api/v1/organizations",
            Some(&owner),
            start_up(&next_siret()),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "the reset proved the address: {body}"
    );
}
