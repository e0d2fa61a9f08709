//! The pages behind the emailed links, as people use them: the link read from the email in the test mailbox,
//! opened in a real browser (headless Chromium driven through chromedriver), its form filled and sent, and
//! what the next page says read from the DOM; screenshots kept in `target/ci-artifacts/`. What a browser
//! cannot show (a forged POST, the API ignoring the cookie, who gets a 404) is checked over plain HTTP.

use reqwest::header::{HeaderMap, CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::browser::Browser;
use crate::helpers::scenario::{founder_email, Scenario};
use crate::helpers::*;

/// The link to `path` (such as `/verify-email`) in an email's text, with its query string.
pub(crate) fn link_in(text: &str, path: &str) -> String {
    let at = text
        .find(&format!("{path}?"))
        .or_else(|| text.find(path))
        .unwrap_or_else(|| panic!("no link to {path} in: {text}"));
    let start = text[..at].rfind("http").expect("an absolute link");
    text[start..]
        .split_whitespace()
        .next()
        .unwrap()
        .trim_end_matches(['.', ',', ')', '>'])
        .to_owned()
}

/// The same link on the test server (the settings' public URL names another port).
pub(crate) fn on(app: &TestApp, link: &str) -> String {
    let url = url::Url::parse(link).expect("a URL");
    match url.query() {
        Some(query) => format!("{}{}?{query}", app.address, url.path()),
        None => format!("{}{}", app.address, url.path()),
    }
}

/// A cookie a response sets, as `name=value`, with its attributes.
fn set_cookie(headers: &HeaderMap, name: &str) -> Option<(String, String)> {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|v| {
            let pair = v.split(';').next().unwrap_or_default().to_owned();
            (pair, v.to_owned())
        })
}

/// The CSRF token of the first form of a page.
fn csrf_field(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).expect("a form with its CSRF token") + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

/// A plain HTTP visitor of the pages: remembers the CSRF cookie and the session cookie.
struct Visitor<'a> {
    app: &'a TestApp,
    client: reqwest::Client,
    csrf_cookie: Option<String>,
    session: Option<String>,
}

impl<'a> Visitor<'a> {
    fn new(app: &'a TestApp) -> Visitor<'a> {
        Visitor {
            app,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            csrf_cookie: None,
            session: None,
        }
    }

    fn cookies(&self) -> String {
        [&self.csrf_cookie, &self.session]
            .into_iter()
            .flatten()
            .cloned()
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn remember(&mut self, headers: &HeaderMap) {
        if let Some((pair, _)) = set_cookie(headers, "cordee_csrf") {
            self.csrf_cookie = Some(pair);
        }
        if let Some((pair, _)) = set_cookie(headers, "cordee_session") {
            self.session = Some(pair).filter(|p| p != "cordee_session=");
        }
    }

    /// GETs a page: status, headers, body.
    async fn get(&mut self, path: &str) -> (StatusCode, HeaderMap, String) {
        let response = self
            .client
            .get(format!("{}{path}", self.app.address))
            .header(COOKIE, self.cookies())
            .send()
            .await
            .unwrap();
        let (status, headers) = (response.status(), response.headers().clone());
        self.remember(&headers);
        (status, headers, response.text().await.unwrap())
    }

    /// POSTs a form as a browser on this site does (its `Origin`).
    async fn post(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
    ) -> (StatusCode, HeaderMap, String) {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let response = self
            .client
            .post(format!("{}{path}", self.app.address))
            .header(COOKIE, self.cookies())
            .header("origin", &self.app.address)
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        let (status, headers) = (response.status(), response.headers().clone());
        self.remember(&headers);
        (status, headers, response.text().await.unwrap())
    }

    /// Logs in through the login page; returns the session cookie's `Set-Cookie`.
    async fn log_in(&mut self, email: &str) -> String {
        let (_, _, page) = self.get("/login").await;
        let csrf = csrf_field(&page);
        let (status, headers, body) = self
            .post(
                "/login",
                &[("csrf", &csrf), ("email", email), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
        set_cookie(&headers, "cordee_session")
            .expect("a session cookie")
            .1
    }
}

/// Logs in through the login page in `browser`.
pub(crate) async fn log_in(browser: &Browser, app: &TestApp, email: &str, next: &str) {
    let next: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("next", next)
        .finish();
    browser.open(&format!("{}/login?{next}", app.address)).await;
    browser.fill("#email", email).await;
    browser.fill("#password", PASSWORD).await;
    browser.click("#submit").await;
}

#[tokio::test]
async fn the_emailed_verification_link_confirms_the_address_with_a_button_then_login_works() {
    let app = TestApp::spawn().await;
    app.register("camille@example.org", "fr").await;
    let email = app.mailbox.wait_for_email_to("camille@example.org").await;
    let link = on(&app, &link_in(&email.text(), "/verify-email"));

    // Opening the link (as a mail scanner does) confirms nothing.
    for _ in 0..2 {
        let page = reqwest::get(&link).await.unwrap();
        assert_eq!(page.status(), StatusCode::OK);
        assert!(page.text().await.unwrap().contains("Confirmer mon adresse"));
    }
    let token = app.login("camille@example.org", PASSWORD).await;
    let (_, me) = app.get("/api/v1/me", Some(&token)).await;
    assert_eq!(me["email_verified"], false);

    let browser = Browser::start().await;
    browser.open(&link).await;
    assert!(browser.text().await.contains("Dernière étape"));
    browser.screenshot("page-verify-email").await;
    browser.click("#submit").await;
    let text = browser.text().await;
    assert!(text.contains("Adresse e-mail confirmée"), "{text}");
    let (_, me) = app.get("/api/v1/me", Some(&token)).await;
    assert_eq!(me["email_verified"], true);

    browser.click("a.button").await;
    assert!(browser.url().await.ends_with("/login"));
    browser.screenshot("page-login").await;
    browser.fill("#email", "camille@example.org").await;
    browser.fill("#password", "not the password at all").await;
    browser.click("#submit").await;
    assert!(browser
        .text()
        .await
        .contains("Adresse e-mail ou mot de passe incorrect"));
    browser.fill("#password", PASSWORD).await;
    browser.click("#submit").await;
    let text = browser.text().await;
    assert!(
        text.contains("Vous êtes connecté·e en tant que Test Person"),
        "{text}"
    );
    assert!(browser.cookie("cordee_session").await.is_some());
    browser.screenshot("page-logged-in").await;

    // Logging out ends the session.
    let session = browser.cookie("cordee_session").await.unwrap();
    browser.click("header form button").await;
    assert!(browser.text().await.contains("Vous êtes déconnecté·e"));
    assert!(browser.cookie("cordee_session").await.is_none());
    let (status, _) = app.get("/api/v1/me", Some(&session)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    browser.close().await;
}

#[tokio::test]
async fn a_password_reset_link_sets_a_new_password_and_ends_the_old_sessions() {
    let app = TestApp::spawn().await;
    let old_api_session = app.applicant("dominique@example.org").await;
    let mut http = Visitor::new(&app);
    http.log_in("dominique@example.org").await;
    let old_page_session = http.session.clone().unwrap();

    let browser = Browser::start().await;
    browser.open(&format!("{}/login", app.address)).await;
    browser.click("a[href='/password-reset']").await;
    browser.fill("#email", "dominique@example.org").await;
    browser.click("#submit").await;
    assert!(browser
        .text()
        .await
        .contains("Si un compte existe pour cette adresse"));

    let email = app
        .mailbox
        .wait_for_match("dominique@example.org", "a reset link", |e| {
            e.text().contains("/password-reset/confirm?token=")
        })
        .await;
    let link = on(&app, &link_in(&email.text(), "/password-reset/confirm"));
    browser.open(&link).await;
    assert!(browser.text().await.contains("De 12 à 128 caractères"));
    browser.fill("#password", "a brand new passphrase").await;
    browser.fill("#confirm", "a different passphrase").await;
    browser.click("#submit").await;
    assert!(browser
        .text_of("#confirm-error")
        .await
        .contains("ne sont pas identiques"));
    browser.screenshot("page-password-reset-errors").await;
    browser.fill("#password", "a brand new passphrase").await;
    browser.fill("#confirm", "a brand new passphrase").await;
    browser.click("#submit").await;
    assert!(browser.text().await.contains("Mot de passe changé"));
    browser.close().await;

    // The earlier sessions, the API's and the page's, ended; the new password opens a session.
    let (status, _) = app.get("/api/v1/me", Some(&old_api_session)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    http.session = Some(old_page_session);
    let (status, headers, _) = http.get("/me/assignments").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(headers[LOCATION]
        .to_str()
        .unwrap()
        .starts_with("/login?next="));
    let (status, _) = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"email": "dominique@example.org", "password": "a brand new passphrase"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);

    // The link served once.
    let used = reqwest::get(&link).await.unwrap();
    assert_eq!(used.status(), StatusCode::GONE);
}

#[tokio::test]
async fn an_invitation_link_shows_what_it_is_for_creates_the_account_then_login_works() {
    let app = TestApp::spawn().await;
    let built = Scenario::new(&app).build().await;
    let call = built.call;
    let (_, read) = app
        .get(&format!("/api/v1/calls/{}", call.id), Some(&call.admin))
        .await;
    let title = read["title"]["fr"].as_str().unwrap().to_owned();
    for address in ["manon@example.org", "noe@example.org"] {
        let (status, body) = app
            .post(
                "/api/v1/invitations",
                Some(&call.admin),
                json!({"email": address, "role": "manager", "call_id": call.id}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let email = app.mailbox.wait_for_email_to("manon@example.org").await;
    let link = on(&app, &link_in(&email.text(), "/invitations/accept"));

    let browser = Browser::start().await;
    browser.open(&link).await;
    let says = browser.text_of("#invitation-for").await;
    assert!(
        says.contains("en tant que responsable pour l'appel"),
        "{says}"
    );
    assert!(says.contains(&title), "{says}");
    browser.screenshot("page-invitation").await;
    browser.fill("#display_name", "Manon Responsable").await;
    browser.fill("#password", "short").await;
    browser.fill("#confirm", "short").await;
    browser.click("#accept").await;
    assert!(browser
        .text_of("#password-error")
        .await
        .contains("au moins 12 caractères"));
    browser.fill("#password", PASSWORD).await;
    browser.fill("#confirm", PASSWORD).await;
    browser.click("#accept").await;
    assert!(browser.text().await.contains("Invitation acceptée"));
    browser.click("a.button").await;
    browser.fill("#email", "manon@example.org").await;
    browser.fill("#password", PASSWORD).await;
    browser.click("#submit").await;
    assert!(browser.text().await.contains("Manon Responsable"));

    // The other one declines: the link stops working.
    let email = app.mailbox.wait_for_email_to("noe@example.org").await;
    let link = on(&app, &link_in(&email.text(), "/invitations/accept"));
    browser.open(&link).await;
    browser.click("#decline").await;
    assert!(browser.text().await.contains("Invitation déclinée"));
    browser.open(&link).await;
    assert!(browser.text().await.contains("Ce lien ne fonctionne plus"));
    browser.screenshot("page-link-gone").await;
    browser.close().await;
    let manager = app.login("manon@example.org", PASSWORD).await;
    let (status, _) = app
        .get(&format!("/api/v1/calls/{}/stats", call.id), Some(&manager))
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn unknown_used_and_incomplete_links_get_a_page_that_says_so() {
    let app = TestApp::spawn().await;
    let mut http = Visitor::new(&app);
    for path in [
        "/verify-email?token=cordee_unknown",
        "/password-reset/confirm?token=cordee_unknown",
        "/invitations/accept?token=cordee_unknown",
    ] {
        let (status, headers, body) = http.get(path).await;
        assert_eq!(status, StatusCode::GONE, "{path}");
        assert!(headers[CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        assert!(body.contains("Ce lien ne fonctionne plus"), "{body}");
        assert!(body.contains("Demander un nouveau lien"), "{body}");
    }
    let (status, headers, body) = http.get("/verify-email").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(headers[CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(body.contains("Demande incomplète"));

    // A used verification link, and one that expired.
    app.register("used@example.org", "en").await;
    app.verify_address("used@example.org").await;
    let email = app.mailbox.wait_for_email_to("used@example.org").await;
    let used = on(&app, &link_in(&email.text(), "/verify-email"));
    let path = used.trim_start_matches(&app.address).to_owned();
    let (status, _, body) = http.get(&path).await;
    assert_eq!(status, StatusCode::GONE);
    assert!(body.contains("Ce lien ne fonctionne plus"));
    let (status, _, body) = http.get(&format!("{path}&lang=en")).await;
    assert_eq!(status, StatusCode::GONE);
    assert!(body.contains("This link no longer works"));
}

#[tokio::test]
async fn an_expired_link_gets_the_same_page() {
    let clock = cordee::clock::Clock::manual(chrono::Utc::now());
    let app = TestApp::spawn_with(Options {
        clock: clock.clone(),
        ..Options::default()
    })
    .await;
    app.register("late@example.org", "fr").await;
    let email = app.mailbox.wait_for_email_to("late@example.org").await;
    let link = on(&app, &link_in(&email.text(), "/verify-email"));
    clock.advance(chrono::Duration::hours(
        app.settings.auth.verification_ttl_hours + 1,
    ));
    let page = reqwest::get(&link).await.unwrap();
    assert_eq!(page.status(), StatusCode::GONE);
    assert!(page.text().await.unwrap().contains("a expiré"));
}

#[tokio::test]
async fn a_form_without_its_csrf_token_or_from_another_site_is_refused() {
    let app = TestApp::spawn().await;
    app.applicant("eve-target@example.org").await;
    let mut http = Visitor::new(&app);
    let (_, headers, page) = http.get("/password-reset").await;
    let (_, attributes) = set_cookie(&headers, "cordee_csrf").expect("a CSRF cookie");
    assert!(attributes.contains("HttpOnly") && attributes.contains("SameSite=Strict"));
    let csrf = csrf_field(&page);

    // No token, a wrong token, the right token from another site: a 403 page, nothing sent.
    let email = ("email", "eve-target@example.org");
    for fields in [
        vec![email],
        vec![email, ("csrf", "forged-token-forged-token-forged-token")],
    ] {
        let (status, headers, body) = http.post("/password-reset", &fields).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(headers[CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        assert!(body.contains("Formulaire refusé"), "{body}");
    }
    let forged = reqwest::Client::new()
        .post(format!("{}/password-reset", app.address))
        .header(COOKIE, http.cookies())
        .header("origin", "https://evil.example")
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(format!("csrf={csrf}&email=eve-target%40example.org"))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let without_cookie = reqwest::Client::new()
        .post(format!("{}/login", app.address))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(format!(
            "csrf={csrf}&email=eve-target%40example.org&password=x"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(without_cookie.status(), StatusCode::FORBIDDEN);
    let resets = |e: &ReceivedEmail| e.text().contains("/password-reset/confirm");
    assert!(!app
        .mailbox
        .emails_to("eve-target@example.org")
        .iter()
        .any(resets));

    // With the token, from this site: the same answer whether the address has an account or not.
    let (status, _, body) = http
        .post("/password-reset", &[email, ("csrf", &csrf)])
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, other) = http
        .post(
            "/password-reset",
            &[("email", "nobody@example.org"), ("csrf", &csrf)],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, other);
    app.mailbox
        .wait_for_match("eve-target@example.org", "a reset link", resets)
        .await;

    // The pages' answers carry the pages' policy: no script, no framing.
    let (_, headers, _) = http.get("/login").await;
    let policy = headers["content-security-policy"].to_str().unwrap();
    assert!(policy.contains("frame-ancestors 'none'") && policy.contains("style-src 'sha256-"));
    assert!(!policy.contains("script-src"));
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["x-frame-options"], "DENY");
}

#[tokio::test]
async fn the_session_cookie_opens_the_pages_but_never_the_api() {
    let app = TestApp::spawn().await;
    app.applicant("lea@example.org").await;
    let mut http = Visitor::new(&app);
    let attributes = http.log_in("lea@example.org").await;
    assert!(attributes.contains("HttpOnly"), "{attributes}");
    assert!(attributes.contains("SameSite=Lax"), "{attributes}");
    assert!(attributes.contains("Path=/"), "{attributes}");
    let (_, _, page) = http.get("/login").await;
    assert!(page.contains("Vous êtes connecté·e"));

    // The API knows bearer tokens only: the cookie alone is nobody.
    let cookie_only = reqwest::Client::new()
        .get(format!("{}/api/v1/me", app.address))
        .header(COOKIE, http.cookies())
        .send()
        .await
        .unwrap();
    assert_eq!(cookie_only.status(), StatusCode::UNAUTHORIZED);
    let logout = reqwest::Client::new()
        .post(format!("{}/api/v1/auth/logout", app.address))
        .header(COOKIE, http.cookies())
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), StatusCode::UNAUTHORIZED);
    // The same session token as the API's login issues.
    let secret = http
        .session
        .clone()
        .unwrap()
        .trim_start_matches("cordee_session=")
        .to_owned();
    let (status, me) = app.get("/api/v1/me", Some(&secret)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["email"], "lea@example.org");

    // After login, `next` leads back; another site is never a `next`.
    let (_, _, page) = http.get("/login").await;
    let csrf = csrf_field(&page);
    let (status, headers, _) = http
        .post(
            "/login",
            &[
                ("csrf", &csrf),
                ("email", "lea@example.org"),
                ("password", PASSWORD),
                ("next", "//evil.example/"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[LOCATION], "/login");
}

#[tokio::test]
async fn the_status_page_shows_members_their_application_and_nobody_else_s() {
    let app = TestApp::spawn().await;
    let built = Scenario::new(&app).eligible(2).jurors(1).build().await;
    let (call, [jury_member]) = built.into_parts::<1>();
    let id = &call.applications[0];
    let (status, body) = app
        .post(
            &format!("/api/v1/calls/{}/assignments", call.id),
            Some(&call.admin),
            json!({"application_id": id, "juror_id": jury_member.id, "stage": "written"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let receipt = app
        .mailbox
        .wait_for_match(&founder_email(0), "the submission receipt", |e| {
            e.text().contains(&format!("/applications/{id}"))
        })
        .await;
    let link = on(
        &app,
        &link_in(&receipt.text(), &format!("/applications/{id}")),
    );

    // Signed out, the link leads to the login page and back.
    let browser = Browser::start().await;
    browser.open(&link).await;
    assert!(browser.url().await.contains("/login?next="));
    browser.fill("#email", &founder_email(0)).await;
    browser.fill("#password", PASSWORD).await;
    browser.click("#submit").await;
    assert_eq!(browser.url().await, link);
    assert_eq!(browser.text_of("#reference").await, call.references[0]);
    assert_eq!(
        browser.text_of("#status").await,
        "Recevable, en cours d'évaluation"
    );
    assert!(browser
        .text_of("#next-steps")
        .await
        .contains("Le jury l'évalue"));
    assert!(!browser.text_of("#submitted-on").await.is_empty());
    browser.screenshot("page-application-status").await;
    browser.close().await;

    // Another applicant, and a juror assigned the application: the not-found page. Staff: the page.
    let mut other = Visitor::new(&app);
    other.log_in(&founder_email(1)).await;
    let path = format!("/applications/{id}");
    let (status, headers, body) = other.get(&path).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(headers[CONTENT_TYPE]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(body.contains("Page introuvable"));
    let mut juror_visit = Visitor::new(&app);
    juror_visit.log_in(&jury_member.email).await;
    let (status, _, _) = juror_visit.get(&path).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, body) = juror_visit.get("/me/assignments").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains(&call.references[0]) && body.contains("À faire"),
        "{body}"
    );
    let (status, _, _) = juror_visit.get("/applications/not-an-id").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = other
        .get(&format!("/applications/{}", call.applications[1]))
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_juror_reads_their_assignments_in_their_language() {
    let app = TestApp::spawn().await;
    let built = Scenario::new(&app).eligible(1).build().await;
    let call = built.call;
    // A juror whose account is in English.
    app.register("juror-en@example.org", "en").await;
    app.verify_address("juror-en@example.org").await;
    let token = app.login("juror-en@example.org", PASSWORD).await;
    let (_, me) = app.get("/api/v1/me", Some(&token)).await;
    let jury_member = json!({"id": me["id"]});
    let jury_member_id = jury_member["id"].as_str().unwrap().to_owned();
    let (status, body) = app
        .post(
            &format!("/api/v1/calls/{}/jurors", call.id),
            Some(&call.admin),
            json!({"user_id": jury_member_id}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = app
        .post(
            &format!("/api/v1/calls/{}/assignments", call.id),
            Some(&call.admin),
            json!({"application_id": call.applications[0], "juror_id": jury_member_id, "stage": "written"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    let browser = Browser::start().await;
    log_in(
        &browser,
        &app,
        "juror-en@example.org",
        "/me/assignments?lang=en",
    )
    .await;
    assert!(browser.url().await.ends_with("/me/assignments?lang=en"));
    assert_eq!(browser.text_of("tr.assignment .review").await, "To do");
    assert!(browser.text().await.contains("My assignments"));
    browser.screenshot("page-my-assignments").await;
    browser
        .open(&format!("{}/me/assignments?lang=fr", app.address))
        .await;
    assert!(browser.text().await.contains("Mes évaluations"));
    // Without `?lang=`, the account's own language.
    browser
        .open(&format!("{}/me/assignments", app.address))
        .await;
    assert!(browser.text().await.contains("My assignments"));
    browser.close().await;

    // Signed out, Accept-Language decides; French otherwise.
    let english = reqwest::Client::new()
        .get(format!("{}/login", app.address))
        .header("accept-language", "en-GB,en;q=0.9")
        .send()
        .await
        .unwrap();
    assert!(english
        .text()
        .await
        .unwrap()
        .contains("Forgotten password?"));
    let mut http = Visitor::new(&app);
    let (_, _, french) = http.get("/login").await;
    assert!(french.contains("Mot de passe oublié ?"));
}

#[tokio::test]
async fn emailed_links_lead_to_the_front_end_and_emails_sign_with_the_association_s_name() {
    let app = TestApp::spawn_with(Options {
        configure: Box::new(|settings| {
            settings.app.front_end_url = "https://candidater.example.org/".into();
            settings.organization.name = "Les Ateliers du Col".into();
            settings.organization.contact_email = "contact@ateliers.example".into();
        }),
        ..Options::default()
    })
    .await;
    app.register("front@example.org", "fr").await;
    let email = app.mailbox.wait_for_email_to("front@example.org").await;
    assert!(
        email
            .text()
            .contains("https://candidater.example.org/verify-email?token=cordee_"),
        "{}",
        email.text()
    );
    assert!(email.text().contains("L'équipe Les Ateliers du Col"));
    assert!(email.html().contains("Les Ateliers du Col"));
    assert!(!email.text().contains("Cordée"));

    // The pages are still served here, under the association's name.
    let link = on(&app, &link_in(&email.text(), "/verify-email"));
    let page = reqwest::get(&link).await.unwrap().text().await.unwrap();
    assert!(page.contains("Les Ateliers du Col"));
    assert!(page.contains("contact@ateliers.example"));
}
