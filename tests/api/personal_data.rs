//! Personal data rights: a person downloads everything Cordée holds about them and deletes their account,
//! and the retention job anonymises the applications that were not selected once their time is over. The
//! proof of "everything" and "everywhere" is a scan of every table of the test database.

use std::time::{Duration, Instant};

use chrono::Months;
use cordee::clock::Clock;
use diesel::sql_types::Text;
use diesel::{Connection, PgConnection, QueryableByName, RunQueryDsl, SqliteConnection};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;

// --- The cast and the props ---------------------------------------------------------------------------------

const ZELIE_EMAIL: &str = "zelie.marchand@glisse.example";
const ZELIE_NAME: &str = "Zélie Marchand";

/// A test application on a manual clock; the worker runs the retention job only when `retention` is true
/// (otherwise the tests run it through the API, when they choose).
async fn spawn(retention: bool) -> TestApp {
    TestApp::spawn_with(Options {
        clock: Clock::manual(chrono::Utc::now()),
        configure: Box::new(move |settings| settings.privacy.retention_enabled = retention),
        ..Default::default()
    })
    .await
}

/// Zélie, and what she left in Cordée: an applicant (two start-ups, a submitted application with a file and
/// a message, a draft), and a juror of another call (a conflict, an assignment, a submitted review).
struct History {
    admin: String,
    zelie_id: String,
    session: String,
    personal_token: String,
    /// The submitted application of her first start-up, to an ongoing call.
    submitted: String,
    reference: String,
    organization: String,
    /// The draft of her second start-up.
    draft: String,
    draft_organization: String,
    exp_call: String,
    /// The territory she declared a conflict with, and the one she reviewed.
    conflicted: String,
    reviewed: String,
    /// The email of the territory she reviewed.
    territory_email: String,
}

/// A call from `template` that opened yesterday and closes in two days (the tests move the clock past it
/// without logging in again), published; returns its id.
async fn open_call(app: &TestApp, admin: &str, template: &str, slug: &str) -> String {
    let call = app
        .open_call_closing_in(admin, template, slug, chrono::Duration::days(2))
        .await;
    call["id"].as_str().unwrap().to_owned()
}

/// Registers an account with a name of its own and logs in; returns (id, session token).
async fn person(app: &TestApp, email: &str, name: &str) -> (String, String) {
    let (status, body) = app
        .post(
            "/api/v1/auth/register",
            None,
            json!({"email": email, "password": PASSWORD, "display_name": name, "locale": "fr"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["id"].as_str().unwrap().to_owned();
    app.verify_address(email).await;
    (id, app.login(email, PASSWORD).await)
}

async fn screen(
    app: &TestApp,
    admin: &str,
    application: &str,
    outcome: &str,
    reason: Option<&str>,
) {
    let mut body = json!({"outcome": outcome});
    if let Some(reason) = reason {
        body["reason"] = json!(reason);
    }
    let (status, screened) = app
        .post(
            &format!("/api/v1/applications/{application}/screening"),
            Some(admin),
            body,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{screened}");
}

async fn a_person_with_a_history(app: &TestApp) -> History {
    let admin = app.admin("staff@cordee.example").await;
    let atl = open_call(app, &admin, "alpes-tourisme-lab", "atl-2026").await;
    let exp_call = open_call(app, &admin, "experimentation-montagne", "exp-2026").await;

    let (zelie_id, session) = person(app, ZELIE_EMAIL, ZELIE_NAME).await;
    let (status, created) = app
        .post(
            "/api/v1/me/tokens",
            Some(&session),
            json!({"name": "mon script", "scopes": ["applications:read"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let personal_token = created["token"].as_str().unwrap().to_owned();

    // Her start-up applies, her name and address in the answers, a file named after her, and a message.
    let organization = app
        .organization(&session, "startup", "Glisse Électrique SAS")
        .await;
    let mut answers = atl_answers();
    answers["problem"] = json!(format!(
        "Les stations saturent leurs parkings. Contact : {ZELIE_NAME} ({ZELIE_EMAIL})."
    ));
    let response = app
        .request(
            Method::POST,
            &format!("/api/v1/calls/{atl}/applications"),
            Some(&session),
        )
        .header("Idempotency-Key", "zelie-create-1")
        .json(&json!({"organization_id": organization, "answers": answers}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let created: Value = response.json().await.unwrap();
    let submitted = created["id"].as_str().unwrap().to_owned();
    let (status, file) = app
        .upload(
            &session,
            &submitted,
            "pitch_deck",
            &format!("Pitch {ZELIE_NAME}.pdf"),
            pdf_bytes(),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{file}");
    let (status, message) = app
        .post(
            &format!("/api/v1/applications/{submitted}/messages"),
            Some(&session),
            json!({"body": format!("Bonjour, je reste joignable à {ZELIE_EMAIL}. {ZELIE_NAME}")}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{message}");
    let (status, done) = app
        .post(
            &format!("/api/v1/applications/{submitted}/submit"),
            Some(&session),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    let reference = done["reference"].as_str().unwrap().to_owned();

    // Her second start-up only got as far as a draft, with a file.
    let draft_organization = app
        .organization(&session, "startup", "Poudreuse Tech SAS")
        .await;
    let (status, created) = app
        .post(
            &format!("/api/v1/calls/{atl}/applications"),
            Some(&session),
            json!({"organization_id": draft_organization, "answers": {"solution_name": "Poudreuse"}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let draft = created["id"].as_str().unwrap().to_owned();
    let (status, file) = app
        .upload(&session, &draft, "pitch_deck", "brouillon.pdf", pdf_bytes())
        .await;
    assert_eq!(status, StatusCode::CREATED, "{file}");

    // Two territories apply to the other call, which closes; she sits on its jury.
    let territory_email = "mairie@bonneval.example".to_owned();
    let (_, conflicted) = submitted_territory(
        app,
        &exp_call,
        "mairie@bessans.example",
        "Commune de Bessans",
    )
    .await;
    let (_, reviewed) =
        submitted_territory(app, &exp_call, &territory_email, "Commune de Bonneval").await;
    app.clock.advance(chrono::Duration::days(3));
    screen(app, &admin, &conflicted, "eligible", None).await;
    screen(app, &admin, &reviewed, "eligible", None).await;
    let (status, added) = app
        .post(
            &format!("/api/v1/calls/{exp_call}/jurors"),
            Some(&admin),
            json!({"user_id": zelie_id, "affiliations": [{"name": "Office de tourisme de Val Cenis"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{added}");
    let (status, declared) = app
        .post(
            &format!("/api/v1/calls/{exp_call}/conflicts"),
            Some(&session),
            json!({"juror_id": zelie_id, "application_id": conflicted, "reason": "J'ai conseillé cette commune en 2025"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{declared}");
    let (status, assigned) = app
        .post(
            &format!("/api/v1/calls/{exp_call}/assignments"),
            Some(&admin),
            json!({"application_id": reviewed, "juror_id": zelie_id, "stage": "written"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{assigned}");
    let (_, call) = app.get(&format!("/api/v1/calls/{exp_call}"), None).await;
    let scores: serde_json::Map<String, Value> = call["stages"][0]["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["key"].as_str().unwrap().to_owned(), c["max"].clone()))
        .collect();
    let (status, saved) = app
        .send(
            Method::PUT,
            &format!("/api/v1/applications/{reviewed}/reviews/mine"),
            Some(&session),
            Some(json!({"stage": "written", "scores": scores, "comment": "Un besoin clair, bien porté."})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    let (status, sent) = app
        .post(
            &format!("/api/v1/applications/{reviewed}/reviews/mine/submit"),
            Some(&session),
            json!({"stage": "written"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{sent}");

    // Staff also invited her address to the jury of the call.
    let (status, invited) = app
        .post(
            "/api/v1/invitations",
            Some(&admin),
            json!({"email": ZELIE_EMAIL, "role": "juror", "call_id": exp_call}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{invited}");

    History {
        admin,
        zelie_id,
        session,
        personal_token,
        submitted,
        reference,
        organization,
        draft,
        draft_organization,
        exp_call,
        conflicted,
        reviewed,
        territory_email,
    }
}

// --- Scanning the database ----------------------------------------------------------------------------------

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = Text)]
    row: String,
}

/// Every row of every table of the test database as text, with its table's name: PostgreSQL renders a row
/// as `t::text`, SQLite gets each column's `quote()` joined.
pub async fn every_row(app: &TestApp) -> Vec<(String, String)> {
    let url = app.db.url.clone();
    tokio::task::spawn_blocking(move || {
        let mut rows = Vec::new();
        if url.starts_with("postgres") {
            let mut conn = PgConnection::establish(&url).unwrap();
            let tables: Vec<Name> = diesel::sql_query(
                "SELECT table_name::text AS name FROM information_schema.tables \
                 WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
            )
            .load(&mut conn)
            .unwrap();
            for table in tables {
                let found: Vec<Row> =
                    diesel::sql_query(format!("SELECT t::text AS row FROM \"{}\" t", table.name))
                        .load(&mut conn)
                        .unwrap();
                rows.extend(found.into_iter().map(|r| (table.name.clone(), r.row)));
            }
        } else {
            let mut conn = SqliteConnection::establish(cordee::db::sqlite_path(&url)).unwrap();
            let tables: Vec<Name> =
                diesel::sql_query("SELECT name FROM sqlite_master WHERE type = 'table'")
                    .load(&mut conn)
                    .unwrap();
            for table in tables {
                let columns: Vec<Name> = diesel::sql_query(format!(
                    "SELECT name FROM pragma_table_info('{}')",
                    table.name
                ))
                .load(&mut conn)
                .unwrap();
                let row = columns
                    .iter()
                    .map(|c| format!("coalesce(quote(\"{}\"), '')", c.name))
                    .collect::<Vec<_>>()
                    .join(" || '|' || ");
                let found: Vec<Row> =
                    diesel::sql_query(format!("SELECT {row} AS row FROM \"{}\"", table.name))
                        .load(&mut conn)
                        .unwrap();
                rows.extend(found.into_iter().map(|r| (table.name.clone(), r.row)));
            }
        }
        rows
    })
    .await
    .unwrap()
}

/// The tables (with the offending rows) where `needle` appears, in any case.
pub fn found_in(rows: &[(String, String)], needle: &str) -> Vec<String> {
    let needle = needle.to_lowercase();
    rows.iter()
        .filter(|(_, row)| row.to_lowercase().contains(&needle))
        .map(|(table, row)| format!("{table}: {row}"))
        .collect()
}

/// How many files the attachment folder holds.
fn files_on_disk(app: &TestApp) -> usize {
    std::fs::read_dir(&app.settings.storage.dir)
        .map(|entries| entries.filter_map(Result::ok).count())
        .unwrap_or(0)
}

// --- Export ---------------------------------------------------------------------------------------------------

#[tokio::test]
async fn the_export_holds_what_the_person_left_in_every_table() {
    let app = spawn(false).await;
    let h = a_person_with_a_history(&app).await;

    let (status, body) = app.get("/api/v1/me/export", Some(&h.personal_token)).await;
    assert_problem(status, &body, StatusCode::FORBIDDEN);
    let (status, export) = app.get("/api/v1/me/export", Some(&h.session)).await;

    assert_eq!(status, StatusCode::OK, "{export}");
    assert!(export["exported_at"].is_string());
    // users
    assert_eq!(export["user"]["id"], h.zelie_id);
    assert_eq!(export["user"]["email"], ZELIE_EMAIL);
    assert_eq!(export["user"]["display_name"], ZELIE_NAME);
    // api_tokens: metadata, never a secret or a hash
    let tokens = export["tokens"].as_array().unwrap();
    assert!(
        tokens
            .iter()
            .any(|t| t["name"] == "mon script" && t["kind"] == "personal"),
        "{tokens:?}"
    );
    assert!(tokens.iter().any(|t| t["kind"] == "session"), "{tokens:?}");
    let text = export.to_string();
    for secret in [h.session.as_str(), &h.personal_token, "hash", PASSWORD] {
        assert!(!text.contains(secret), "the export shows {secret:?}");
    }
    // email_tokens
    assert!(export["email_links"]
        .as_array()
        .unwrap()
        .iter()
        .any(|l| l["purpose"] == "verify_email"));
    // organizations and organization_members
    let organizations = export["organizations"].as_array().unwrap();
    assert_eq!(organizations.len(), 2, "{organizations:?}");
    assert!(organizations.iter().all(|o| o["role"] == "owner"));
    // applications, attachments, application_messages
    let applications = export["applications"].as_array().unwrap();
    let submitted = applications
        .iter()
        .find(|a| a["id"] == h.submitted)
        .expect("her application");
    assert_eq!(submitted["reference"], h.reference);
    assert_eq!(submitted["call_slug"], "atl-2026");
    assert!(submitted["answers"]["problem"]
        .as_str()
        .unwrap()
        .contains(ZELIE_EMAIL));
    assert_eq!(
        submitted["attachments"][0]["filename"],
        format!("Pitch {ZELIE_NAME}.pdf")
    );
    assert_eq!(submitted["messages"][0]["written_by_you"], true);
    assert_eq!(submitted["retention_consent"], false);
    assert!(
        submitted["decision"].is_null(),
        "no decision is published yet"
    );
    assert!(applications
        .iter()
        .any(|a| a["id"] == h.draft && a["status"] == "draft"));
    let written = export["messages_written"].as_array().unwrap();
    assert_eq!(written.len(), 1);
    assert!(written[0]["body"].as_str().unwrap().contains(ZELIE_EMAIL));
    // call_jurors, conflicts, assignments and reviews (with their scores)
    assert_eq!(export["juries"][0]["call_id"], h.exp_call);
    assert_eq!(
        export["juries"][0]["affiliations"][0]["name"],
        "Office de tourisme de Val Cenis"
    );
    assert_eq!(
        export["conflicts_declared"][0]["application_id"],
        h.conflicted
    );
    assert_eq!(
        export["conflicts_declared"][0]["reason"],
        "J'ai conseillé cette commune en 2025"
    );
    assert_eq!(export["assignments"][0]["application_id"], h.reviewed);
    let review = &export["reviews"][0];
    assert_eq!(review["application_id"], h.reviewed);
    assert_eq!(review["status"], "submitted");
    assert_eq!(review["comment"], "Un besoin clair, bien porté.");
    assert!(!review["scores"].as_object().unwrap().is_empty());
    // invitations, outbox, idempotency_keys, audit_log
    assert_eq!(export["invitations"][0]["role"], "juror");
    let subjects: Vec<&str> = export["emails"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["subject"].as_str().unwrap())
        .collect();
    assert!(
        subjects.len() >= 3,
        "verification, receipt, invitation: {subjects:?}"
    );
    assert!(export["emails"][0].get("body_text").is_none(), "no bodies");
    assert_eq!(export["idempotency_keys"][0]["key"], "zelie-create-1");
    let actions: Vec<&str> = export["audit"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for action in [
        "user.registered",
        "token.created",
        "application.created",
        "message.posted",
        "conflict.declared",
        "jury.juror_added",
    ] {
        assert!(
            actions.contains(&action),
            "{action} missing from {actions:?}"
        );
    }
    assert!(export["events"].is_array());
    // And it answers the documented shape.
    for key in [
        "tokens",
        "organizations",
        "applications",
        "messages_written",
        "juries",
        "conflicts_declared",
        "assignments",
        "reviews",
        "invitations",
        "emails",
        "audit",
    ] {
        assert!(export[key].is_array(), "{key}");
    }
}

// --- Deletion ------------------------------------------------------------------------------------------------

#[tokio::test]
async fn deleting_an_account_erases_the_person_everywhere_and_keeps_the_calls_whole() {
    let app = spawn(false).await;
    let h = a_person_with_a_history(&app).await;
    let rows = every_row(&app).await;
    assert!(found_in(&rows, ZELIE_EMAIL).len() > 5, "the scan sees her");
    assert!(
        !found_in(&rows, ZELIE_NAME).is_empty(),
        "the scan sees her name"
    );
    let (_, admin_export) = app.get("/api/v1/me/export", Some(&h.admin)).await;
    assert!(
        admin_export.to_string().contains(ZELIE_EMAIL),
        "the staff's audit named her"
    );
    let files_before = files_on_disk(&app);

    let (status, body) = app
        .send(Method::DELETE, "/api/v1/me", Some(&h.personal_token), None)
        .await;
    assert_problem(status, &body, StatusCode::FORBIDDEN);
    let (status, body) = app
        .send(Method::DELETE, "/api/v1/me", Some(&h.session), None)
        .await;

    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    // Her tokens and her password stop working.
    for token in [&h.session, &h.personal_token] {
        let (status, body) = app.get("/api/v1/me", Some(token)).await;
        assert_problem(status, &body, StatusCode::UNAUTHORIZED);
    }
    let (status, body) = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"email": ZELIE_EMAIL, "password": PASSWORD}),
        )
        .await;
    assert_problem(status, &body, StatusCode::UNAUTHORIZED);

    // Nothing in any table holds her address or her name any more.
    let rows = every_row(&app).await;
    assert_eq!(found_in(&rows, ZELIE_EMAIL), Vec::<String>::new());
    assert_eq!(found_in(&rows, ZELIE_NAME), Vec::<String>::new());
    assert!(
        !found_in(&rows, &h.territory_email).is_empty(),
        "others are untouched"
    );

    // Staff views and exports no longer show her.
    let (_, admin_export) = app.get("/api/v1/me/export", Some(&h.admin)).await;
    assert!(!admin_export.to_string().contains(ZELIE_EMAIL));
    for path in ["/api/v1/audit?limit=200", "/api/v1/admin/outbox?limit=200"] {
        let (status, body) = app.get(path, Some(&h.admin)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let text = body.to_string();
        assert!(
            !text.contains(ZELIE_EMAIL) && !text.contains(ZELIE_NAME),
            "{path}: {text}"
        );
    }
    let (_, jurors) = app
        .get(
            &format!("/api/v1/calls/{}/jurors", h.exp_call),
            Some(&h.admin),
        )
        .await;
    assert!(
        !jurors.to_string().contains(&h.zelie_id),
        "she left the jury: {jurors}"
    );

    // The submitted application of the ongoing call stays whole, under its reference, without her.
    let (status, kept) = app
        .get(
            &format!("/api/v1/applications/{}", h.submitted),
            Some(&h.admin),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{kept}");
    assert_eq!(kept["reference"], h.reference);
    assert_eq!(kept["status"], "submitted");
    assert_eq!(kept["answers"]["solution_name"], "Navette Neige");
    let (status, org) = app
        .get(
            &format!("/api/v1/organizations/{}", h.organization),
            Some(&h.admin),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{org}");
    let (_, thread) = app
        .get(
            &format!("/api/v1/applications/{}/messages", h.submitted),
            Some(&h.admin),
        )
        .await;
    assert_eq!(thread["items"][0]["author_name"], "Compte supprimé");
    // The draft nobody can finish is gone with its file, and so is its organization.
    let (status, body) = app
        .get(&format!("/api/v1/applications/{}", h.draft), Some(&h.admin))
        .await;
    assert_problem(status, &body, StatusCode::NOT_FOUND);
    let (status, body) = app
        .get(
            &format!("/api/v1/organizations/{}", h.draft_organization),
            Some(&h.admin),
        )
        .await;
    assert_problem(status, &body, StatusCode::NOT_FOUND);
    assert_eq!(files_on_disk(&app), files_before - 1);
    // Her submitted review and her conflict stay, so that the ranking and the assignments hold.
    let (_, reviews) = app
        .get(
            &format!("/api/v1/applications/{}/reviews", h.reviewed),
            Some(&h.admin),
        )
        .await;
    assert_eq!(
        reviews["items"].as_array().map(Vec::len),
        Some(1),
        "{reviews}"
    );
    let (_, conflicts) = app
        .get(
            &format!("/api/v1/calls/{}/conflicts", h.exp_call),
            Some(&h.admin),
        )
        .await;
    assert!(conflicts.to_string().contains(&h.conflicted), "{conflicts}");
    // The deletion itself is audited, without personal data.
    let (_, audit) = app
        .get(
            &format!("/api/v1/audit?entity_type=user&entity_id={}", h.zelie_id),
            Some(&h.admin),
        )
        .await;
    assert!(
        audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "user.deleted"),
        "{audit}"
    );
}

#[tokio::test]
async fn the_last_administrator_cannot_delete_their_account() {
    let app = spawn(false).await;
    let first = app.admin("first@cordee.example").await;

    let (status, body) = app
        .send(Method::DELETE, "/api/v1/me", Some(&first), None)
        .await;

    assert_problem(status, &body, StatusCode::CONFLICT);
    let (status, _) = app.get("/api/v1/me", Some(&first)).await;
    assert_eq!(status, StatusCode::OK, "still there");
    let second = app.admin("second@cordee.example").await;
    let (status, body) = app
        .send(Method::DELETE, "/api/v1/me", Some(&first), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, body) = app
        .send(Method::DELETE, "/api/v1/me", Some(&second), None)
        .await;
    assert_problem(status, &body, StatusCode::CONFLICT);
}

// --- Retention -----------------------------------------------------------------------------------------------

/// Runs the retention job through the API; returns how many applications it anonymised.
async fn run_retention(app: &TestApp, admin: &str) -> u64 {
    let (status, run) = app
        .post("/api/v1/admin/retention/run", Some(admin), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{run}");
    run["anonymised"].as_u64().unwrap()
}

/// The audit entries of an application.
async fn audit_of(app: &TestApp, admin: &str, application: &str) -> Vec<Value> {
    let (status, audit) = app
        .get(
            &format!("/api/v1/audit?entity_type=application&entity_id={application}&limit=200"),
            Some(admin),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{audit}");
    audit["items"].as_array().unwrap().clone()
}

async fn application(app: &TestApp, admin: &str, id: &str) -> Value {
    let (status, view) = app
        .get(&format!("/api/v1/applications/{id}"), Some(admin))
        .await;
    assert_eq!(status, StatusCode::OK, "{view}");
    view
}

async fn download_status(app: &TestApp, token: &str, view: &Value) -> StatusCode {
    let attachment = view["attachments"][0]["id"]
        .as_str()
        .unwrap_or("00000000-0000-0000-0000-000000000000");
    app.request(
        Method::GET,
        &format!(
            "/api/v1/applications/{}/attachments/{attachment}",
            view["id"].as_str().unwrap()
        ),
        Some(token),
    )
    .send()
    .await
    .unwrap()
    .status()
}

/// A territory of a decided call: its member's address and its application.
struct Applicant {
    email: String,
    id: String,
}

impl Applicant {
    /// A fresh session of the territory's member (sessions last a week; the tests skip months).
    async fn token(&self, app: &TestApp) -> String {
        app.login(&self.email, PASSWORD).await
    }
}

/// Moves the clock to `at` and returns a fresh session of the staff member.
async fn staff_at(app: &TestApp, at: chrono::DateTime<chrono::Utc>) -> String {
    app.clock.set(at);
    app.login(STAFF, PASSWORD).await
}

const STAFF: &str = "staff@cordee.example";

/// An Expérimentation Montagne call with four territories: one selected, one rejected, one rejected that
/// consented to be kept, one found ineligible; its decisions are published three days from now. Returns
/// the staff's session and [selected, rejected, consented, ineligible].
async fn a_decided_call(app: &TestApp) -> (String, [Applicant; 4]) {
    let admin = app.admin(STAFF).await;
    let call_id = open_call(app, &admin, "experimentation-montagne", "exp-2026").await;
    let mut applicants = Vec::new();
    let mut tokens = Vec::new();
    for (email, name) in [
        ("mairie@bessans.example", "Commune de Bessans"),
        ("mairie@bonneval.example", "Commune de Bonneval"),
        ("mairie@lanslevillard.example", "Commune de Lanslevillard"),
        ("mairie@termignon.example", "Commune de Termignon"),
    ] {
        let (token, id) = submitted_territory(app, &call_id, email, name).await;
        tokens.push(token);
        applicants.push(Applicant {
            email: email.to_owned(),
            id,
        });
    }
    let [selected, rejected, consented, ineligible]: [Applicant; 4] =
        applicants.try_into().ok().unwrap();
    let (status, message) = app
        .post(
            &format!("/api/v1/applications/{}/messages", rejected.id),
            Some(&tokens[1]),
            json!({"body": "Notre élue référente est joignable au 04 79 05 00 00."}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{message}");
    let (status, consent) = app
        .send(
            Method::PUT,
            &format!("/api/v1/applications/{}/retention-consent", consented.id),
            Some(&tokens[2]),
            Some(json!({"consent": true})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{consent}");
    assert_eq!(consent["retention_consent"], true);

    app.clock.advance(chrono::Duration::days(3));
    for applicant in [&selected, &rejected, &consented] {
        screen(app, &admin, &applicant.id, "eligible", None).await;
    }
    screen(
        app,
        &admin,
        &ineligible.id,
        "ineligible",
        Some("La commune n'est pas en zone de montagne."),
    )
    .await;
    let decisions = json!([
        {"application_id": selected.id, "outcome": "selected", "motivation": "Un besoin clair et un portage fort."},
        {"application_id": rejected.id, "outcome": "rejected", "motivation": "Le budget ne tient pas."},
        {"application_id": consented.id, "outcome": "rejected", "motivation": "Trop tôt pour une expérimentation."},
    ]);
    let (status, recorded) = app
        .send(
            Method::PUT,
            &format!("/api/v1/calls/{call_id}/decisions"),
            Some(&admin),
            Some(decisions),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{recorded}");
    let (status, published) = app
        .post(
            &format!("/api/v1/calls/{call_id}/decisions/publish"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{published}");
    (admin, [selected, rejected, consented, ineligible])
}

#[tokio::test]
async fn applicants_give_and_withdraw_their_consent_to_be_kept_longer() {
    let app = spawn(false).await;
    let admin = app.admin(STAFF).await;
    let call_id = open_call(&app, &admin, "experimentation-montagne", "exp-2026").await;
    let (token, id) = submitted_territory(
        &app,
        &call_id,
        "mairie@bessans.example",
        "Commune de Bessans",
    )
    .await;
    let stranger = app.applicant("curieux@ailleurs.example").await;
    let path = format!("/api/v1/applications/{id}/retention-consent");

    let (status, view) = app.get(&path, Some(&token)).await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(
        view,
        json!({"application_id": id, "retention_consent": false, "anonymised_at": null})
    );
    let (status, view) = app
        .send(
            Method::PUT,
            &path,
            Some(&token),
            Some(json!({"consent": true})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["retention_consent"], true);
    let (_, view) = app.get(&path, Some(&admin)).await;
    assert_eq!(view["retention_consent"], true, "staff see it");
    let (status, view) = app
        .send(
            Method::PUT,
            &path,
            Some(&token),
            Some(json!({"consent": false})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["retention_consent"], false);

    let (status, body) = app.get(&path, Some(&stranger)).await;
    assert_problem(status, &body, StatusCode::NOT_FOUND);
    let (status, body) = app
        .send(
            Method::PUT,
            &path,
            Some(&stranger),
            Some(json!({"consent": true})),
        )
        .await;
    assert_problem(status, &body, StatusCode::NOT_FOUND);
    let (status, body) = app
        .send(
            Method::PUT,
            &path,
            Some(&admin),
            Some(json!({"consent": true})),
        )
        .await;
    assert_problem(status, &body, StatusCode::FORBIDDEN);
    let (status, body) = app
        .send(
            Method::PUT,
            &path,
            Some(&token),
            Some(json!({"consent": true, "until": "2030"})),
        )
        .await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(failing_fields(&body), vec!["until"]);
    let (_, audit) = app
        .get(
            &format!("/api/v1/audit?entity_type=application&entity_id={id}"),
            Some(&admin),
        )
        .await;
    let changes = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "application.retention_consent")
        .count();
    assert_eq!(changes, 2);
}

#[tokio::test]
async fn applications_not_selected_are_anonymised_once_their_retention_period_is_over() {
    let app = spawn(false).await;
    let published_at = app.clock.now() + chrono::Duration::days(3);
    let (admin, [selected, rejected, consented, ineligible]) = a_decided_call(&app).await;
    assert_eq!(files_on_disk(&app), 4);
    let selected_before = application(&app, &admin, &selected.id).await;
    let call_id = selected_before["call_id"].as_str().unwrap().to_owned();

    // Before the three months are over, nothing happens.
    assert_eq!(run_retention(&app, &admin).await, 0);
    let admin = staff_at(
        &app,
        published_at + Months::new(3) - chrono::Duration::days(1),
    )
    .await;
    assert_eq!(run_retention(&app, &admin).await, 0);

    // Three months after the decisions, the rejected and the ineligible applications are anonymised.
    let admin = staff_at(
        &app,
        published_at + Months::new(3) + chrono::Duration::days(1),
    )
    .await;
    assert_eq!(run_retention(&app, &admin).await, 2);

    for applicant in [&rejected, &ineligible] {
        let view = application(&app, &admin, &applicant.id).await;
        assert_eq!(view["answers"], json!({}), "{view}");
        assert_eq!(view["attachments"], json!([]));
        assert!(view["screening_reason"].is_null(), "{view}");
        assert!(view["reference"].is_string(), "the reference stays");
        let path = format!("/api/v1/applications/{}/retention-consent", applicant.id);
        let (_, consent) = app.get(&path, Some(&admin)).await;
        assert!(consent["anonymised_at"].is_string(), "{consent}");
        let token = applicant.token(&app).await;
        let (status, body) = app
            .send(
                Method::PUT,
                &path,
                Some(&token),
                Some(json!({"consent": true})),
            )
            .await;
        assert_problem(status, &body, StatusCode::CONFLICT);
    }
    let (_, thread) = app
        .get(
            &format!("/api/v1/applications/{}/messages", rejected.id),
            Some(&admin),
        )
        .await;
    assert_eq!(thread["items"][0]["body"], "", "{thread}");
    let (_, decisions) = app
        .get(&format!("/api/v1/calls/{call_id}/decisions"), Some(&admin))
        .await;
    let rejected_decision = decisions["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["application_id"] == rejected.id)
        .unwrap();
    assert_eq!(
        rejected_decision["outcome"], "rejected",
        "the outcome stays"
    );
    assert_eq!(rejected_decision["motivation"], "", "the motivation goes");
    assert_eq!(files_on_disk(&app), 2, "their files are gone from the disk");
    // The selected application and the one that consented are untouched.
    let selected_now = application(&app, &admin, &selected.id).await;
    assert_eq!(selected_now["answers"], selected_before["answers"]);
    assert_eq!(
        download_status(&app, &admin, &selected_now).await,
        StatusCode::OK
    );
    let kept = application(&app, &admin, &consented.id).await;
    assert_eq!(kept["answers"]["need"], exp_answers()["need"]);
    assert_eq!(download_status(&app, &admin, &kept).await, StatusCode::OK);
    // The audit keeps what happened, not what was written; one entry says the application was anonymised.
    let need = exp_answers()["need"].as_str().unwrap().to_owned();
    for applicant in [&rejected, &ineligible] {
        let entries = audit_of(&app, &admin, &applicant.id).await;
        let text = Value::Array(entries.clone()).to_string();
        for written in [need.as_str(), "lettre.pdf", "pas en zone de montagne"] {
            assert!(!text.contains(written), "{written} left in {text}");
        }
        let anonymised: Vec<&Value> = entries
            .iter()
            .filter(|e| e["action"] == "application.anonymised")
            .collect();
        assert_eq!(anonymised.len(), 1, "{entries:?}");
        assert!(anonymised[0]["actor_id"].is_null());
    }

    // Running the job again anonymises nothing and writes nothing.
    let rows_before = every_row(&app).await;
    assert_eq!(run_retention(&app, &admin).await, 0);
    let rows_after = every_row(&app).await;
    // (The outbox is left out: the worker may be marking the decision emails sent meanwhile.)
    let settled = |rows: Vec<(String, String)>| -> Vec<(String, String)> {
        rows.into_iter()
            .filter(|(table, _)| table != "outbox")
            .collect()
    };
    assert_eq!(settled(rows_before), settled(rows_after));

    // The application that consented is kept 24 months, then anonymised too; the selected one stays.
    let admin = staff_at(
        &app,
        published_at + Months::new(24) - chrono::Duration::days(1),
    )
    .await;
    assert_eq!(run_retention(&app, &admin).await, 0);
    let admin = staff_at(
        &app,
        published_at + Months::new(24) + chrono::Duration::days(1),
    )
    .await;
    assert_eq!(run_retention(&app, &admin).await, 1);
    assert_eq!(run_retention(&app, &admin).await, 0);
    assert_eq!(
        application(&app, &admin, &consented.id).await["answers"],
        json!({})
    );
    assert_eq!(
        download_status(&app, &admin, &kept).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(files_on_disk(&app), 1);
    assert_eq!(
        application(&app, &admin, &selected.id).await["answers"],
        selected_before["answers"]
    );
    let (_, audit) = app.get("/api/v1/audit?limit=200", Some(&admin)).await;
    let anonymised: Vec<&Value> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "application.anonymised")
        .collect();
    assert_eq!(anonymised.len(), 3, "one entry per application");
}

#[tokio::test]
async fn the_delivery_worker_runs_the_retention_job_by_itself() {
    let app = spawn(true).await;
    let published_at = app.clock.now() + chrono::Duration::days(3);
    let (_, [selected, rejected, _, _]) = a_decided_call(&app).await;

    let admin = staff_at(
        &app,
        published_at + Months::new(3) + chrono::Duration::days(1),
    )
    .await;

    let deadline = Instant::now() + Duration::from_secs(15);
    while application(&app, &admin, &rejected.id).await["answers"] != json!({}) {
        assert!(Instant::now() < deadline, "the worker never anonymised it");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_ne!(
        application(&app, &admin, &selected.id).await["answers"],
        json!({})
    );
    assert_eq!(run_retention(&app, &admin).await, 0, "nothing left to do");
}
