//! Faults Cordée survives: an SMTP relay that refuses, stays silent, drops the connection after the data or
//! answers 4xx/5xx; a PostgreSQL server stopped and started again under a running Cordée; a SQLite file
//! locked by another process.
//!
//! Delivery is at-least-once. The one fault that delivers twice is a relay that takes a message's data and
//! drops the connection before its final 250: Cordée cannot tell that the relay has the message, so it sends
//! it again. Both copies carry the same Message-ID, so the recipient's mail system can tell them apart. Every
//! other fault delivers each email exactly once.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::*;
use crate::smtp_faults::{Fault, FaultySmtp};

/// Delivery attempts before an email is `failed`, in these tests.
const MAX_ATTEMPTS: i64 = 3;

/// The outbox's items for `recipient`, oldest first.
async fn outbox_of(app: &TestApp, admin: &str, recipient: &str) -> Vec<Value> {
    let (status, body) = app.get("/api/v1/admin/outbox?limit=200", Some(admin)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["recipient"] == recipient)
        .cloned()
        .collect()
}

/// Polls the outbox until every email to `recipients` satisfies `done` (30 s at most); returns them.
async fn wait_until(
    app: &TestApp,
    admin: &str,
    recipients: &[&str],
    what: &str,
    done: impl Fn(&Value) -> bool,
) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mut items = Vec::new();
        for recipient in recipients {
            items.extend(outbox_of(app, admin, recipient).await);
        }
        if items.len() >= recipients.len() && items.iter().all(&done) {
            return items;
        }
        assert!(
            Instant::now() < deadline,
            "the outbox never got {what}: {items:#?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn attempted_and_failed(item: &Value) -> bool {
    item["attempts"].as_i64() >= Some(1) && item["last_error"].is_string()
}

/// How many copies of each email reach the relay once it is healthy again, after the fault hit every email
/// once: two when the relay took the data before dropping the connection (at-least-once), else one.
fn copies_after_one_fault(fault: Fault) -> usize {
    if fault == Fault::DropAfterData {
        2
    } else {
        1
    }
}

/// The whole story for one fault: an outage during which people register, the relay healthy again,
/// then an email that keeps failing until staff retry it.
async fn smtp_fault_is_survived(fault: Fault) {
    let smtp = FaultySmtp::start(Fault::None).await;
    let port = smtp.port;
    let app = TestApp::spawn_with(Options {
        mailbox: Mailbox::down(),
        configure: Box::new(move |s| {
            s.email.smtp_port = port;
            s.email.max_attempts = MAX_ATTEMPTS as i32;
            // Long enough for the test to heal the relay between the first attempt and the retry.
            s.email.retry_base_ms = 1000;
            s.email.smtp_timeout_seconds = 1;
        }),
        ..Default::default()
    })
    .await;
    let admin = app.admin("staff@example.org").await;

    // 1. The relay misbehaves while three people register: registering still works.
    smtp.set(fault).await;
    let people = [
        "ada@example.org",
        "blaise@example.org",
        "cyrille@example.org",
    ];
    for person in people {
        app.register(person, "fr").await;
    }
    let items = wait_until(&app, &admin, &people, "a failed attempt each", |i| {
        attempted_and_failed(i)
    })
    .await;
    if fault != Fault::Refuse {
        assert!(smtp.connections() >= 1, "the relay was reached");
    }

    // 2. The relay is healthy again: every email arrives.
    smtp.set(Fault::None).await;
    if fault == Fault::Permanent {
        // A 5xx is final: the email is not retried by itself; staff see it failed and retry it.
        for item in &items {
            assert_eq!(item["status"], "failed", "{item}");
            assert_eq!(item["attempts"], 1, "a 5xx is not retried: {item}");
            let (status, body) = app
                .post(
                    &format!(
                        "/api/v1/admin/outbox/{}/retry",
                        item["id"].as_str().unwrap()
                    ),
                    Some(&admin),
                    json!({}),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
        }
    }
    let sent = wait_until(&app, &admin, &people, "every email sent", |i| {
        i["status"] == "sent"
    })
    .await;
    for item in &sent {
        let person = item["recipient"].as_str().unwrap();
        // `sent` is recorded after the relay's 250: every copy has arrived by now.
        let copies = smtp.emails_to(person);
        assert_eq!(
            copies.len(),
            copies_after_one_fault(fault),
            "copies of the email to {person} after {fault:?}"
        );
        for copy in &copies {
            assert_eq!(copy.message_id(), item["message_id"].as_str().unwrap());
            assert_eq!(copy.subject(), "Confirmez votre adresse e-mail");
        }
    }

    // 3. An email that keeps failing ends `failed`, visible to staff, who retry it once the relay is back.
    smtp.set(fault).await;
    app.register("doomed@example.org", "en").await;
    let failed = wait_until(&app, &admin, &["doomed@example.org"], "failed", |i| {
        i["status"] == "failed"
    })
    .await;
    let expected_attempts = if fault == Fault::Permanent {
        1
    } else {
        MAX_ATTEMPTS
    };
    assert_eq!(failed[0]["attempts"], expected_attempts, "{:?}", failed[0]);
    assert!(failed[0]["last_error"].is_string(), "{:?}", failed[0]);
    let (status, listed) = app
        .get("/api/v1/admin/outbox?status=failed", Some(&admin))
        .await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    let listed: Vec<&Value> = listed["items"].as_array().unwrap().iter().collect();
    assert_eq!(
        listed.len(),
        1,
        "only the doomed email is failed: {listed:?}"
    );
    assert_eq!(listed[0]["id"], failed[0]["id"]);
    // A relay that takes the data and never acknowledges it has a copy from every attempt.
    let copies_while_failing = if fault == Fault::DropAfterData {
        MAX_ATTEMPTS as usize
    } else {
        0
    };
    assert_eq!(
        smtp.emails_to("doomed@example.org").len(),
        copies_while_failing
    );

    smtp.set(Fault::None).await;
    let id = failed[0]["id"].as_str().unwrap();
    let (status, body) = app
        .post(
            &format!("/api/v1/admin/outbox/{id}/retry"),
            Some(&admin),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let copies = smtp
        .wait_for("doomed@example.org", copies_while_failing + 1)
        .await;
    let sent = wait_until(&app, &admin, &["doomed@example.org"], "sent", |i| {
        i["status"] == "sent"
    })
    .await;
    assert_eq!(copies.len(), copies_while_failing + 1);
    assert_eq!(
        smtp.emails_to("doomed@example.org").len(),
        copies_while_failing + 1,
        "the retry sends it once"
    );
    assert_eq!(
        copies.last().unwrap().subject(),
        "Confirm your email address"
    );
    assert_eq!(
        copies.last().unwrap().message_id(),
        sent[0]["message_id"].as_str().unwrap()
    );
}

#[tokio::test]
async fn smtp_refusing_connections() {
    smtp_fault_is_survived(Fault::Refuse).await;
}

#[tokio::test]
async fn smtp_accepting_connections_then_never_answering() {
    smtp_fault_is_survived(Fault::Silent).await;
}

#[tokio::test]
async fn smtp_dropping_the_connection_after_the_data_before_its_250() {
    smtp_fault_is_survived(Fault::DropAfterData).await;
}

#[tokio::test]
async fn smtp_answering_4xx() {
    smtp_fault_is_survived(Fault::Temporary).await;
}

#[tokio::test]
async fn smtp_answering_5xx() {
    smtp_fault_is_survived(Fault::Permanent).await;
}

// --- PostgreSQL stopped and started again --------------------------------------------------------------

/// A throw-away PostgreSQL cluster of the test's own (the shared server on 5432 is never touched).
struct OwnPostgres {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
    /// initdb refuses to run as root: the cluster then belongs to the `postgres` account.
    as_postgres: bool,
}

impl OwnPostgres {
    /// Creates and starts a cluster; `None` (with the reason) when no PostgreSQL server binaries are here.
    fn start() -> Result<OwnPostgres, String> {
        let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .map_err(|e| format!("no /usr/lib/postgresql: {e}"))?
            .filter_map(|entry| entry.ok().map(|e| e.path().join("bin")))
            .filter(|bin| bin.join("initdb").exists() && bin.join("pg_ctl").exists())
            .collect();
        versions.sort();
        let bin = versions
            .pop()
            .ok_or("no initdb under /usr/lib/postgresql/*/bin")?;
        let dir = tempfile::tempdir().unwrap();
        let as_postgres = id("-u", None) == "0";
        if as_postgres {
            let uid = id("-u", Some("postgres")).parse().unwrap();
            let gid = id("-g", Some("postgres")).parse().unwrap();
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid)).unwrap();
        }
        let cluster = OwnPostgres {
            bin,
            dir,
            port: free_port(),
            as_postgres,
        };
        let data = cluster.data();
        cluster.run(
            "initdb",
            &[
                "-D",
                &data,
                "-U",
                "postgres",
                "--auth=trust",
                "--no-sync",
                "-E",
                "UTF8",
            ],
        );
        cluster.start_server();
        Ok(cluster)
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// One of the server's programs, run as `postgres` when the test runs as root.
    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        if self.as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(path);
            command
        } else {
            Command::new(path)
        }
    }

    /// Runs one of the server's programs; panics on failure.
    fn run(&self, program: &str, args: &[&str]) {
        let output = self
            .command(program)
            .args(args)
            .current_dir(self.dir.path())
            .output()
            .unwrap_or_else(|e| panic!("{program} runs: {e}"));
        assert!(
            output.status.success(),
            "{program} {args:?} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    fn start_server(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("server.log").display().to_string();
        self.run(
            "pg_ctl",
            &[
                "-D",
                &self.data(),
                "-o",
                &options,
                "-l",
                &log,
                "-w",
                "start",
            ],
        );
    }

    /// Stops the server the hard way: no shutdown checkpoint, connections cut.
    fn stop_immediately(&self) {
        self.run(
            "pg_ctl",
            &["-D", &self.data(), "-m", "immediate", "-w", "stop"],
        );
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        let _ = self
            .command("pg_ctl")
            .args(["-D", &self.data(), "-m", "immediate", "stop"])
            .output();
    }
}

/// `id <flag> [user]`, trimmed.
fn id(flag: &str, user: Option<&str>) -> String {
    let output = Command::new("id")
        .arg(flag)
        .args(user)
        .output()
        .expect("id runs");
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

fn postgres_run() -> bool {
    std::env::var("CORDEE_TEST_DATABASE_URL").is_ok_and(|u| u.starts_with("postgres"))
}

/// Sends a request and asserts it answers 503 problem+json within `limit`.
async fn assert_unavailable(request: reqwest::RequestBuilder, limit: Duration) {
    let started = Instant::now();
    let response = request.send().await.expect("the server answers");
    let elapsed = started.elapsed();
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let retry_after = response.headers().contains_key("retry-after");
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert_problem(status, &body, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(content_type, "application/problem+json", "{body}");
    assert!(retry_after, "a 503 says when to retry");
    assert!(elapsed < limit, "answered in {elapsed:?}, over {limit:?}");
}

/// Polls `path` until it answers `expected` (60 s at most).
async fn wait_for_status(app: &TestApp, path: &str, token: Option<&str>, expected: StatusCode) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (status, body) = app.get(path, token).await;
        if status == expected {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{path} still answers {status}: {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn postgres_stopped_then_started_again_gives_503_then_service_resumes_without_a_restart() {
    if !postgres_run() {
        println!("skipped on SQLite: there is no server to stop (the SQLite lock test covers it)");
        return;
    }
    let pg = OwnPostgres::start().expect("a PostgreSQL cluster of the test's own starts");
    let app = TestApp::spawn_with(Options {
        database_url: Some(pg.url()),
        configure: Box::new(|s| s.database.connect_timeout_seconds = 2),
        ..Default::default()
    })
    .await;
    let admin = app.admin("staff@example.org").await;
    let token = app.applicant("lea@example.org").await;
    let org = app.organization(&token, "startup", "Neige Mobilité").await;
    let call = app
        .open_call(&admin, "alpes-tourisme-lab", "atl-2026")
        .await;
    let (status, _) = app.get("/ready", None).await;
    assert_eq!(status, StatusCode::OK);

    pg.stop_immediately();

    // Within the connection timeout and a margin: a 503 problem+json, never a 500, never a hang.
    let limit = Duration::from_secs(8);
    assert_unavailable(app.request(reqwest::Method::GET, "/ready", None), limit).await;
    assert_unavailable(
        app.request(reqwest::Method::GET, "/api/v1/me", Some(&token)),
        limit,
    )
    .await;
    assert_unavailable(
        app.request(
            reqwest::Method::GET,
            &format!("/api/v1/organizations/{org}"),
            Some(&token),
        ),
        limit,
    )
    .await;
    assert_unavailable(
        app.request(reqwest::Method::POST, "/api/v1/auth/register", None)
            .json(
                &json!({"email": "late@example.org", "password": PASSWORD, "display_name": "Late"}),
            ),
        limit,
    )
    .await;
    let (status, _) = app.get("/health", None).await;
    assert_eq!(status, StatusCode::OK, "the process itself still serves");
    let (status, _) = app.get("/metrics", None).await;
    assert_eq!(status, StatusCode::OK, "the metrics still answer");

    pg.start_server();

    // The same Cordée, never restarted, serves again with the data from before.
    wait_for_status(&app, "/ready", None, StatusCode::OK).await;
    wait_for_status(
        &app,
        &format!("/api/v1/organizations/{org}"),
        Some(&token),
        StatusCode::OK,
    )
    .await;
    let (_, organization) = app
        .get(&format!("/api/v1/organizations/{org}"), Some(&token))
        .await;
    assert_eq!(organization["legal_name"], "Neige Mobilité");
    let (status, fetched) = app
        .get(
            &format!("/api/v1/calls/{}", call["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{fetched}");
    assert_eq!(fetched["status"], "published");
    // Writes work again, and their emails go out.
    app.register("late@example.org", "fr").await;
    let email = app.mailbox.wait_for_email_to("late@example.org").await;
    assert_eq!(email.subject(), "Confirmez votre adresse e-mail");
}

#[tokio::test]
async fn a_sqlite_file_locked_by_another_process_gives_503_on_writes_then_service_resumes() {
    if postgres_run() {
        println!("skipped on PostgreSQL: the stopped-server test covers it");
        return;
    }
    let app = TestApp::spawn_with(Options {
        configure: Box::new(|s| s.database.sqlite_busy_timeout_ms = 500),
        ..Default::default()
    })
    .await;
    let token = app.applicant("lea@example.org").await;
    let org = app.organization(&token, "startup", "Neige Mobilité").await;

    // Another process (a stuck maintenance script, say) takes the write lock and keeps it.
    let path = app.db.url.trim_start_matches("sqlite://").to_owned();
    let lock = hold_write_lock(Path::new(&path));

    assert_unavailable(
        app.request(reqwest::Method::POST, "/api/v1/auth/register", None)
            .json(
                &json!({"email": "late@example.org", "password": PASSWORD, "display_name": "Late"}),
            ),
        Duration::from_secs(8),
    )
    .await;
    // Readers are not blocked by a writer (write-ahead log): reads and /ready still answer.
    let (status, body) = app
        .get(&format!("/api/v1/organizations/{org}"), Some(&token))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = app.get("/ready", None).await;
    assert_eq!(status, StatusCode::OK);

    drop(lock);

    app.register("late@example.org", "fr").await;
    let email = app.mailbox.wait_for_email_to("late@example.org").await;
    assert_eq!(email.subject(), "Confirmez votre adresse e-mail");
    let (_, organization) = app
        .get(&format!("/api/v1/organizations/{org}"), Some(&token))
        .await;
    assert_eq!(organization["legal_name"], "Neige Mobilité");
}

/// A connection of another process's kind that holds the SQLite write lock until dropped.
fn hold_write_lock(path: &Path) -> diesel::SqliteConnection {
    use diesel::connection::SimpleConnection;
    use diesel::Connection;
    let mut conn = diesel::SqliteConnection::establish(&path.display().to_string()).unwrap();
    conn.batch_execute("PRAGMA busy_timeout = 5000; BEGIN IMMEDIATE;")
        .unwrap();
    conn
}
