//! Personal data, secrets at rest and files, tried as an attacker would: deleting an account named like a
//! common word, reading one-time links from the database once they were sent, reading files as another
//! local user, restoring a crafted backup.

use std::path::Path;
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::*;
use crate::personal_data::{every_row, found_in};

/// Registers `email` as `name`, verifies the address with the link that arrived, logs in; returns
/// (id, session).
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
    let token = app.mailbox.wait_for_email_to(email).await.token();
    let (status, body) = app
        .post("/api/v1/auth/verify-email", None, json!({"token": token}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    (id, app.login(email, PASSWORD).await)
}

/// Waits until every email of the outbox is sent; returns the outbox.
async fn all_sent(app: &TestApp, admin: &str) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (status, body) = app.get("/api/v1/admin/outbox?limit=200", Some(admin)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let items = body["items"].as_array().unwrap().clone();
        if items.iter().all(|i| i["status"] == "sent") {
            return items;
        }
        assert!(Instant::now() < deadline, "never all sent: {items:?}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn delete_me(app: &TestApp, session: &str) {
    let (status, body) = app
        .send(Method::DELETE, "/api/v1/me", Some(session), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
}

// --- Finding 1: erasure touches the person's rows only ---------------------------------------------------------

#[tokio::test]
async fn a_stranger_named_la_deleting_their_account_leaves_others_text_alone() {
    let app = TestApp::spawn().await;
    let admin = app.admin("staff@cordee.example").await;
    let call = app
        .open_call(&admin, "experimentation-montagne", "exp-2026")
        .await;
    let call_id = call["id"].as_str().unwrap();
    let (territory, application) = submitted_territory(
        &app,
        call_id,
        "mairie@bessans.example",
        "Commune de Bessans",
    )
    .await;
    let (status, message) = app
        .post(
            &format!("/api/v1/applications/{application}/messages"),
            Some(&territory),
            json!({"body": "Voici la note de la commune, signée par la maire."}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{message}");
    let view_before = app
        .get(&format!("/api/v1/applications/{application}"), Some(&admin))
        .await
        .1;
    let rows = every_row(&app).await;
    assert!(
        found_in(&rows, " la ").len() > 3,
        "others wrote \"la\" in answers, messages, emails and the audit"
    );

    let (stranger_id, stranger) = person(&app, "la@ailleurs.example", "la").await;
    delete_me(&app, &stranger).await;

    let view_after = app
        .get(&format!("/api/v1/applications/{application}"), Some(&admin))
        .await
        .1;
    assert_eq!(view_after["answers"], view_before["answers"]);
    let (_, thread) = app
        .get(
            &format!("/api/v1/applications/{application}/messages"),
            Some(&admin),
        )
        .await;
    assert_eq!(
        thread["items"][0]["body"],
        "Voici la note de la commune, signée par la maire."
    );
    // The placeholder appears only in rows about the stranger.
    let rows = every_row(&app).await;
    let elsewhere: Vec<String> = found_in(&rows, "Compte supprimé")
        .into_iter()
        .filter(|row| !row.contains(&stranger_id))
        .collect();
    assert_eq!(elsewhere, Vec::<String>::new());
}

#[tokio::test]
async fn deleting_an_account_erases_case_and_accent_variants_of_the_name_in_their_own_rows() {
    let app = TestApp::spawn().await;
    let admin = app.admin("staff@cordee.example").await;
    let call = app
        .open_call(&admin, "alpes-tourisme-lab", "atl-2026")
        .await;
    let call_id = call["id"].as_str().unwrap();
    let (_, session) = person(&app, "zelie@glisse.example", "Zélie Marchand").await;
    let organization = app
        .organization(&session, "startup", "Glisse Électrique SAS")
        .await;
    let mut answers = atl_answers();
    answers["problem"] = json!("Contact : ZÉLIE MARCHAND, ou zelie marchand le soir.");
    let (status, created) = app
        .post(
            &format!("/api/v1/calls/{call_id}/applications"),
            Some(&session),
            json!({"organization_id": organization, "answers": answers}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let application = created["id"].as_str().unwrap().to_owned();
    let (status, file) = app
        .upload(
            &session,
            &application,
            "pitch_deck",
            "pitch-zelie-marchand.pdf",
            pdf_bytes(),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{file}");
    let (status, message) = app
        .post(
            &format!("/api/v1/applications/{application}/messages"),
            Some(&session),
            json!({"body": "Bien à vous, Zelie MARCHAND"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{message}");
    let (status, body) = app
        .post(
            &format!("/api/v1/applications/{application}/submit"),
            Some(&session),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    delete_me(&app, &session).await;

    let rows = every_row(&app).await;
    for variant in ["zélie marchand", "zelie marchand"] {
        assert_eq!(found_in(&rows, variant), Vec::<String>::new(), "{variant}");
    }
    let (_, view) = app
        .get(&format!("/api/v1/applications/{application}"), Some(&admin))
        .await;
    assert_eq!(
        view["answers"]["problem"],
        "Contact : Compte supprimé, ou Compte supprimé le soir."
    );
}

#[tokio::test]
async fn deleting_an_account_leaves_no_organization_invitation_naming_its_address() {
    let app = TestApp::spawn().await;
    let owner = app.applicant("fondatrice@altitude.example").await;
    let organization = app
        .organization(&owner, "startup", "Altitude Mobilité")
        .await;
    let (_, lea) = person(&app, "lea.invitee@altitude.example", "Léa Invitée").await;
    // One invitation Léa accepted, and one still pending for her address.
    app.add_member(
        &owner,
        &organization,
        "lea.invitee@altitude.example",
        "member",
    )
    .await;
    let (status, body) = app
        .post(
            &format!("/api/v1/organizations/{organization}/members"),
            Some(&owner),
            json!({"email": "lea.invitee@altitude.example", "role": "owner"}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let rows = every_row(&app).await;
    assert!(
        found_in(&rows, "lea.invitee@altitude.example")
            .iter()
            .any(|row| row.starts_with("organization_invitations")),
        "the invitations name her address before"
    );

    delete_me(&app, &lea).await;

    let rows = every_row(&app).await;
    let left: Vec<String> = found_in(&rows, "lea.invitee@altitude.example")
        .into_iter()
        .filter(|row| row.starts_with("organization_invitations"))
        .collect();
    assert_eq!(left, Vec::<String>::new());
}

// --- Finding 13: no live secret at rest once sent -------------------------------------------------------------

#[tokio::test]
async fn one_time_links_that_were_sent_cannot_be_read_back_from_the_database() {
    let app = TestApp::spawn().await;
    let admin = app.admin("staff@cordee.example").await;
    let (status, body) = app
        .post(
            "/api/v1/auth/register",
            None,
            json!({"email": "ada@example.org", "password": PASSWORD, "display_name": "Ada", "locale": "fr"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let verification = app.mailbox.wait_for_email_to("ada@example.org").await;
    let (status, body) = app
        .post(
            "/api/v1/auth/password-reset",
            None,
            json!({"email": "ada@example.org"}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let (status, body) = app
        .post(
            "/api/v1/invitations",
            Some(&admin),
            json!({"email": "juror@example.org", "role": "juror"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let reset = app.mailbox.wait_for(3).await;
    let invitation = app.mailbox.wait_for_email_to("juror@example.org").await;
    let mut tokens = vec![verification.token(), invitation.token()];
    tokens.extend(
        reset
            .iter()
            .filter(|e| e.to.iter().any(|t| t == "ada@example.org"))
            .map(ReceivedEmail::token),
    );
    tokens.sort();
    tokens.dedup();
    assert_eq!(tokens.len(), 3, "three links arrived");

    all_sent(&app, &admin).await;

    let rows = every_row(&app).await;
    for token in &tokens {
        assert_eq!(found_in(&rows, token), Vec::<String>::new());
    }
    // The links themselves still work.
    let (status, body) = app
        .post(
            "/api/v1/auth/verify-email",
            None,
            json!({"token": verification.token()}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
}

/// Waits until the outbox holds `count` emails, all failed for good; returns them.
async fn all_failed(app: &TestApp, admin: &str, count: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (_, body) = app.get("/api/v1/admin/outbox?limit=200", Some(admin)).await;
        let items = body["items"].as_array().unwrap().clone();
        if items.len() == count && items.iter().all(|i| i["status"] == "failed") {
            return items;
        }
        assert!(Instant::now() < deadline, "never all failed: {items:?}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[tokio::test]
async fn a_failed_email_keeps_no_link_and_a_staff_retry_sends_a_fresh_one_or_says_it_needs_a_new_one(
) {
    let mailbox = Mailbox::down();
    let app = TestApp::spawn_with(Options {
        mailbox: mailbox.clone(),
        configure: Box::new(|s| {
            s.email.max_attempts = 1;
            s.email.retry_base_ms = 20;
        }),
        ..Default::default()
    })
    .await;
    let admin = app.admin("staff@cordee.example").await;
    app.register("ada@example.org", "en").await;
    let (status, body) = app
        .post(
            "/api/v1/auth/password-reset",
            None,
            json!({"email": "ada@example.org"}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let failed = all_failed(&app, &admin, 2).await;
    let id_of = |event: &str| {
        failed
            .iter()
            .find(|i| i["event"] == event)
            .unwrap_or_else(|| panic!("{event} in {failed:?}"))["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (verification, first_reset) = (id_of("verify_email"), id_of("password_reset"));
    let rows = every_row(&app).await;
    assert_eq!(
        found_in(&rows, "cordee_"),
        Vec::<String>::new(),
        "no secret is kept for an email that failed for good"
    );

    // The relay is back; Ada asks for a new reset link and uses it: the first one is void.
    mailbox.start();
    let (status, _) = app
        .post(
            "/api/v1/auth/password-reset",
            None,
            json!({"email": "ada@example.org"}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let reset = app
        .mailbox
        .wait_for_subject("ada@example.org", "password")
        .await;
    let (status, body) = app
        .post(
            "/api/v1/auth/password-reset/confirm",
            None,
            json!({"token": reset.token(), "password": "another long passphrase"}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");

    // Retrying the verification sends a link that works; retrying the used reset says it needs a new one.
    let (status, body) = app
        .post(
            &format!("/api/v1/admin/outbox/{verification}/retry"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let email = app
        .mailbox
        .wait_for_subject("ada@example.org", "Confirm")
        .await;
    let (status, body) = app
        .post(
            "/api/v1/auth/verify-email",
            None,
            json!({"token": email.token()}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, body) = app
        .post(
            &format!("/api/v1/admin/outbox/{first_reset}/retry"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_problem(status, &body, StatusCode::CONFLICT);
    assert!(
        body["detail"].as_str().unwrap().contains("new one"),
        "{body}"
    );
}

// --- Findings 10 and 14: files on disk -------------------------------------------------------------------------

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

/// The `.eml` files of the mail folder.
fn eml_files(dir: &Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                .collect()
        })
        .unwrap_or_default()
}

/// The `.eml` files addressed to `to`.
fn eml_files_to(dir: &Path, to: &str) -> Vec<std::path::PathBuf> {
    eml_files(dir)
        .into_iter()
        .filter(|p| {
            std::fs::read_to_string(p)
                .unwrap_or_default()
                .lines()
                .any(|l| l.starts_with("To:") && l.contains(to))
        })
        .collect()
}

async fn wait_for_eml_to(dir: &Path, to: &str) -> std::path::PathBuf {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(found) = eml_files_to(dir, to).into_iter().next() {
            return found;
        }
        assert!(Instant::now() < deadline, "no .eml file to {to}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn spawn_with_file_transport() -> TestApp {
    TestApp::spawn_with(Options {
        configure: Box::new(|s| s.email.transport = cordee::config::TransportKind::File),
        ..Default::default()
    })
    .await
}

#[cfg(unix)]
#[tokio::test]
async fn another_local_user_cannot_read_the_database_emails_or_attachments() {
    let app = spawn_with_file_transport().await;
    let admin = app.admin("staff@cordee.example").await;
    let call = app
        .open_call(&admin, "experimentation-montagne", "exp-2026")
        .await;
    app.register("mairie@bessans.example", "fr").await;
    // The verification email is a file here: its link verifies the address.
    let eml = wait_for_eml_to(&app.settings.email.file_dir, "mairie@bessans.example").await;
    let link = ReceivedEmail {
        to: vec![],
        raw: std::fs::read(&eml).unwrap(),
    }
    .token();
    let (status, body) = app
        .post("/api/v1/auth/verify-email", None, json!({"token": link}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let token = app.login("mairie@bessans.example", PASSWORD).await;
    let organization = app
        .organization(&token, "territory", "Commune de Bessans")
        .await;
    let (status, created) = app
        .post(
            &format!(
                "/api/v1/calls/{}/applications",
                call["id"].as_str().unwrap()
            ),
            Some(&token),
            json!({"organization_id": organization, "answers": exp_answers()}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let (status, file) = app
        .upload(
            &token,
            created["id"].as_str().unwrap(),
            "support_letter",
            "lettre.pdf",
            pdf_bytes(),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{file}");
    let eml = wait_for_eml_to(&app.settings.email.file_dir, "mairie@bessans.example").await;

    assert_eq!(mode(&app.settings.email.file_dir), 0o700);
    assert_eq!(mode(&eml), 0o600);
    let storage = &app.settings.storage.dir;
    assert_eq!(mode(storage), 0o700);
    let stored: Vec<_> = std::fs::read_dir(storage)
        .unwrap()
        .filter_map(Result::ok)
        .collect();
    assert_eq!(stored.len(), 1);
    assert_eq!(mode(&stored[0].path()), 0o600);
    if !app.db.is_postgres() {
        let database = cordee::db::sqlite_path(&app.db.url).to_owned();
        for suffix in ["", "-wal", "-shm"] {
            let path = format!("{database}{suffix}");
            assert_eq!(mode(Path::new(&path)), 0o600, "{path}");
        }
    }
}

#[tokio::test]
async fn deleting_an_account_removes_the_eml_copies_of_the_emails_sent_to_it() {
    let app = spawn_with_file_transport().await;
    let dir = app.settings.email.file_dir.clone();
    app.register("other@example.org", "fr").await;
    app.register("zelie@glisse.example", "fr").await;
    wait_for_eml_to(&dir, "other@example.org").await;
    wait_for_eml_to(&dir, "zelie@glisse.example").await;
    let session = app.login("zelie@glisse.example", PASSWORD).await;

    delete_me(&app, &session).await;

    assert_eq!(
        eml_files_to(&dir, "zelie@glisse.example"),
        Vec::<std::path::PathBuf>::new()
    );
    assert_eq!(eml_files_to(&dir, "other@example.org").len(), 1);
}

// --- Finding 15: a crafted backup ------------------------------------------------------------------------------

/// Settings of a SQLite instance of its own under `dir` (whatever database the run uses).
fn sqlite_instance(app: &TestApp, dir: &Path, name: &str) -> cordee::config::Settings {
    let mut settings = app.settings.clone();
    settings.database.url = secrecy::SecretString::from(format!(
        "sqlite://{}",
        dir.join(format!("{name}.db")).display()
    ));
    settings.storage.dir = dir.join(format!("{name}-attachments"));
    let db = cordee::db::Db::connect(&settings.database).expect("the database opens");
    cordee::service::upgrade::migrate(&db).expect("migrations run");
    settings
}

/// Copies the archive `from` to `to` with its manifest changed by `edit`.
fn with_manifest(from: &Path, to: &Path, edit: impl Fn(&mut Value)) {
    let reader = flate2::read::GzDecoder::new(std::fs::File::open(from).unwrap());
    let mut archive = tar::Archive::new(reader);
    let writer = flate2::write::GzEncoder::new(
        std::fs::File::create(to).unwrap(),
        flate2::Compression::fast(),
    );
    let mut builder = tar::Builder::new(writer);
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let mut header = entry.header().clone();
        let path = entry.path().unwrap().into_owned();
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut bytes).unwrap();
        if path == Path::new("manifest.json") {
            let mut manifest: Value = serde_json::from_slice(&bytes).unwrap();
            edit(&mut manifest);
            bytes = serde_json::to_vec(&manifest).unwrap();
            header.set_size(bytes.len() as u64);
            header.set_cksum();
        }
        builder
            .append_data(&mut header, path, bytes.as_slice())
            .unwrap();
    }
    builder.into_inner().unwrap().finish().unwrap();
}

#[tokio::test]
async fn a_crafted_backup_manifest_is_refused_before_the_database_is_touched() {
    let app = TestApp::spawn().await;
    let dir = tempfile::tempdir().unwrap();
    let source = sqlite_instance(&app, dir.path(), "source");
    let target = sqlite_instance(&app, dir.path(), "target");
    let archive = dir.path().join("backup.tar.gz");
    let target_db = std::path::PathBuf::from(cordee::db::sqlite_path(
        secrecy::ExposeSecret::expose_secret(&target.database.url),
    ));
    let (settings, out) = (source.clone(), archive.clone());
    tokio::task::spawn_blocking(move || cordee::backup::backup(&settings, &out, false, false))
        .await
        .unwrap()
        .expect("the backup is written");
    let before = std::fs::read(&target_db).unwrap();

    type Edit = fn(&mut Value);
    let crafted: [(&str, Edit); 5] = [
        ("the database listed as an attachment", |m| {
            let database = m["database"].clone();
            m["attachments"] = json!([database]);
        }),
        ("an attachment outside the attachments folder", |m| {
            m["attachments"] = json!([{"path": "attachments/../../evil", "size": 0, "sha256": ""}]);
        }),
        ("an absolute attachment path", |m| {
            m["attachments"] = json!([{"path": "/etc/evil", "size": 0, "sha256": ""}]);
        }),
        ("the database under another name", |m| {
            m["database"]["path"] = json!("attachments/cordee.db");
        }),
        ("an attachment listed twice", |m| {
            let database = m["database"].clone();
            m["attachments"] = json!([database.clone(), database]);
        }),
    ];
    for (what, edit) in crafted {
        let crafted = dir.path().join("crafted.tar.gz");
        with_manifest(&archive, &crafted, edit);
        let settings = target.clone();
        let outcome = tokio::task::spawn_blocking(move || {
            cordee::backup::restore(&settings, &crafted, true).map(|_| ())
        })
        .await;
        let outcome = outcome.unwrap_or_else(|_| panic!("restore panicked on {what}"));
        let err = outcome.expect_err(what).to_string();
        assert!(err.contains("manifest"), "{what}: {err}");
        assert_eq!(
            std::fs::read(&target_db).unwrap(),
            before,
            "{what}: the database was replaced"
        );
    }
    #[cfg(unix)]
    assert_eq!(mode(&archive), 0o600, "the archive holds password hashes");
}
