//! Operations: health, readiness, metrics, the OpenAPI document, problem+json errors everywhere, no
//! secret in answers, and the `cordee` binary as an operator runs it (serve, migrate, admin create, SIGTERM).

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use reqwest::header::{CONTENT_TYPE, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::helpers::routes::ROUTES;
use crate::helpers::*;

/// The content type of an answer, empty when absent.
fn content_type(response: &reqwest::Response) -> String {
    response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// Sends `request` and returns the status, the content type and the body parsed as JSON.
async fn problem_of(request: reqwest::RequestBuilder) -> (StatusCode, String, Value) {
    let response = request.send().await.expect("the server answers");
    let status = response.status();
    let content_type = content_type(&response);
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text)
        .unwrap_or_else(|_| panic!("a {status} answer that is not JSON: {text:?}"));
    (status, content_type, body)
}

/// The `cordee` binary, run from the crate folder with the test settings and no inherited log filter.
fn cordee(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_cordee"));
    command
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("CORDEE_ENV", "test")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// Runs a command to completion off the async threads, with `stdin` written to it.
async fn run(mut command: Command, stdin: Option<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        if stdin.is_some() {
            command.stdin(Stdio::piped());
        }
        let mut child = command.spawn().expect("the binary starts");
        if let Some(input) = stdin {
            let mut pipe = child.stdin.take().unwrap();
            pipe.write_all(input.as_bytes()).unwrap();
        }
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A child process that is killed if the test ends before it exits.
struct Running(Child);

impl Running {
    /// Waits for the exit, failing the test after `limit`.
    async fn exit_within(&mut self, limit: Duration) -> ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.0.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the process did not exit within {limit:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

fn sqlite_url(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("x.db").display())
}

#[tokio::test]
async fn health_answers_ok_and_ready_answers_200_when_the_database_answers() {
    let app = TestApp::spawn().await;

    let (status, body) = app.get("/health", None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"status": "ok"}));

    let (status, body) = app.get("/ready", None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn a_lost_database_makes_ready_and_authenticated_routes_answer_503_never_500() {
    let app = TestApp::spawn().await;
    if !app.db.is_postgres() {
        // An embedded SQLite database cannot become unreachable while its process runs.
        return;
    }
    let token = app.applicant("lea@example.org").await;

    app.db.drop_now();

    let response = app
        .request(Method::GET, "/ready", None)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        response.headers().get(RETRY_AFTER).is_some(),
        "503 without Retry-After"
    );
    assert!(content_type(&response).starts_with("application/problem+json"));
    let body: Value = response.json().await.unwrap();
    assert_problem(
        StatusCode::SERVICE_UNAVAILABLE,
        &body,
        StatusCode::SERVICE_UNAVAILABLE,
    );

    let (status, content_type, body) =
        problem_of(app.request(Method::GET, "/api/v1/me", Some(&token))).await;
    assert_problem(status, &body, StatusCode::SERVICE_UNAVAILABLE);
    assert!(content_type.starts_with("application/problem+json"));
    let text = body.to_string().to_lowercase();
    for leak in [
        "cordee_test_",
        "does not exist",
        "terminating",
        "fatal",
        "sqlstate",
    ] {
        assert!(!text.contains(leak), "a database message leaked: {body}");
    }
}

#[tokio::test]
async fn metrics_expose_the_outbox_and_the_http_requests_in_prometheus_text() {
    let app = TestApp::spawn().await;
    let (status, _) = app.get("/health", None).await;
    assert_eq!(status, StatusCode::OK);

    // A request is counted once its answer has been written out: read the metrics until it shows.
    let deadline = Instant::now() + Duration::from_secs(10);
    let text = loop {
        let response = app
            .request(Method::GET, "/metrics", None)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert!(content_type(&response).starts_with("text/plain"));
        let text = response.text().await.unwrap();
        if text.contains("cordee_http_requests_total{") && text.contains("endpoint=\"/health\"") {
            break text;
        }
        assert!(
            Instant::now() < deadline,
            "no request counter for /health: {text}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };

    assert!(text.contains("cordee_outbox_emails"), "{text}");
    assert!(text.contains("cordee_webhook_deliveries"), "{text}");
    assert!(
        text.contains("cordee_http_requests_duration_seconds"),
        "{text}"
    );
}

#[tokio::test]
async fn the_openapi_document_describes_every_route_served() {
    let app = TestApp::spawn().await;

    let (status, doc) = app.get("/api-docs/openapi.json", None).await;

    assert_eq!(status, StatusCode::OK, "{doc}");
    assert!(
        doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")),
        "{doc}"
    );
    let methods = [
        "get", "put", "post", "delete", "options", "head", "patch", "trace",
    ];
    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .expect("the document has paths")
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .filter(|k| methods.contains(&k.as_str()))
                .map(|m| (m.to_uppercase(), path.clone()))
                .collect::<Vec<_>>()
        })
        .collect();
    let expected: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    let missing: Vec<_> = expected.difference(&documented).collect();
    let extra: Vec<_> = documented.difference(&expected).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing from the document: {missing:?}; documented but not expected: {extra:?}"
    );
}

#[tokio::test]
async fn swagger_ui_is_served_from_the_process_itself_at_docs_with_or_without_the_slash() {
    let app = TestApp::spawn().await;

    let redirect = app
        .request(Method::GET, "/docs", None)
        .send()
        .await
        .unwrap();
    assert_eq!(redirect.status(), StatusCode::PERMANENT_REDIRECT);
    let location = redirect.headers()[reqwest::header::LOCATION]
        .to_str()
        .unwrap();
    assert_eq!(location, "/docs/");
    let response = app
        .request(Method::GET, location, None)
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), StatusCode::OK);
    assert!(content_type(&response).starts_with("text/html"));
    let html = response.text().await.unwrap();
    assert!(html.to_lowercase().contains("swagger"), "{html}");
    assert!(
        !html.contains("://"),
        "the page loads something from elsewhere: {html}"
    );
    let response = app
        .request(Method::GET, "/docs/swagger-ui-bundle.js", None)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_unknown_route_is_a_problem_json_404_with_a_request_id() {
    let app = TestApp::spawn().await;

    let response = app
        .request(Method::GET, "/api/v1/no-such-thing", None)
        .send()
        .await
        .unwrap();

    assert!(response.headers().contains_key("x-request-id"));
    let (status, content_type) = (response.status(), content_type(&response));
    let body: Value = response.json().await.expect("a JSON body");
    assert_problem(status, &body, StatusCode::NOT_FOUND);
    assert!(
        content_type.starts_with("application/problem+json"),
        "{content_type}"
    );
}

#[tokio::test]
async fn a_wrong_method_on_a_known_path_is_a_problem_json_client_error() {
    let app = TestApp::spawn().await;

    let (status, content_type, body) =
        problem_of(app.request(Method::DELETE, "/api/v1/auth/login", None)).await;

    assert!(status.is_client_error(), "{status}: {body}");
    assert_problem(status, &body, status);
    assert!(
        content_type.starts_with("application/problem+json"),
        "{content_type}"
    );
}

#[tokio::test]
async fn malformed_json_is_a_problem_json_400() {
    let app = TestApp::spawn().await;

    let (status, content_type, body) = problem_of(
        app.request(Method::POST, "/api/v1/auth/register", None)
            .header(CONTENT_TYPE, "application/json")
            .body(r#"{"email": "lea@example.org", "password": "#),
    )
    .await;

    assert_problem(status, &body, StatusCode::BAD_REQUEST);
    assert!(
        content_type.starts_with("application/problem+json"),
        "{content_type}"
    );
}

#[tokio::test]
async fn a_body_over_the_configured_limit_is_a_problem_json_413() {
    let app = TestApp::spawn_with(Options {
        configure: Box::new(|s| s.server.json_limit_bytes = 1024),
        ..Default::default()
    })
    .await;
    let body = json!({
        "email": "lea@example.org",
        "password": PASSWORD,
        "display_name": "x".repeat(2000),
    });

    let (status, content_type, problem) = problem_of(
        app.request(Method::POST, "/api/v1/auth/register", None)
            .json(&body),
    )
    .await;

    assert_problem(status, &problem, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        content_type.starts_with("application/problem+json"),
        "{content_type}"
    );
    assert!(app.mailbox.all().is_empty());
}

#[tokio::test]
async fn a_body_that_is_not_json_is_a_problem_json_415() {
    let app = TestApp::spawn().await;

    let (status, content_type, body) = problem_of(
        app.request(Method::POST, "/api/v1/auth/register", None)
            .header(CONTENT_TYPE, "text/plain")
            .body(r#"{"email": "lea@example.org"}"#),
    )
    .await;

    assert_problem(status, &body, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(
        content_type.starts_with("application/problem+json"),
        "{content_type}"
    );
}

#[tokio::test]
async fn a_json_array_instead_of_an_object_is_a_problem_json_422() {
    let app = TestApp::spawn().await;

    let (status, content_type, body) = problem_of(
        app.request(Method::POST, "/api/v1/auth/register", None)
            .json(
                &json!([{"email": "lea@example.org", "password": PASSWORD, "display_name": "Léa"}]),
            ),
    )
    .await;

    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        content_type.starts_with("application/problem+json"),
        "{content_type}"
    );
    assert!(body["errors"].is_array(), "{body}");
}

#[tokio::test]
async fn every_answer_carries_a_request_id() {
    let app = TestApp::spawn().await;

    for (method, path) in [
        (Method::GET, "/health"),
        (Method::GET, "/api/v1/me"),
        (Method::GET, "/api/v1/nowhere"),
    ] {
        let response = app.request(method, path, None).send().await.unwrap();
        let id = response
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        assert!(!id.is_empty(), "{path} answered without x-request-id");
    }
}

#[tokio::test]
async fn only_the_login_answer_shows_a_token_and_no_answer_shows_a_password_or_hash() {
    let app = TestApp::spawn().await;
    app.register("lea@example.org", "fr").await;
    app.verify_address("lea@example.org").await;

    let (status, login) = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"email": "lea@example.org", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{login}");
    let session = login["token"].as_str().expect("a token").to_owned();
    assert!(!session.is_empty());
    let (status, created) = app
        .post(
            "/api/v1/me/tokens",
            Some(&session),
            json!({"name": "script", "scopes": ["applications:read"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let personal = created["token"].as_str().expect("a token").to_owned();

    for path in ["/api/v1/me", "/api/v1/me/tokens"] {
        let (status, body) = app.get(path, Some(&session)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let text = body.to_string();
        for secret in ["password", "hash", PASSWORD, &session, &personal] {
            assert!(
                !text.to_lowercase().contains(&secret.to_lowercase()),
                "{path} shows {secret:?}: {body}"
            );
        }
    }
    let text = login.to_string().to_lowercase();
    assert!(
        !text.contains("password") && !text.contains("hash"),
        "{login}"
    );
}

#[tokio::test]
async fn serve_with_an_unreachable_database_exits_with_one_line_naming_the_cause() {
    let mut command = cordee(&["serve"]);
    command.env("CORDEE__DATABASE__URL", "postgres://postgres@127.0.0.1:1/x");
    let mut child = Running(command.spawn().expect("the binary starts"));

    let status = child.exit_within(Duration::from_secs(5)).await;

    assert!(!status.success(), "{status}");
    let mut stderr = String::new();
    child
        .0
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(lines[0].contains("database"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[tokio::test]
async fn migrate_applies_the_migrations_once_then_says_the_database_is_up_to_date() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(dir.path());
    // Each migration is reported by its name, the name of its folder.
    let migrations: Vec<String> =
        std::fs::read_dir(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
    assert!(!migrations.is_empty());

    let mut command = cordee(&["migrate"]);
    command.env("CORDEE__DATABASE__URL", &url);
    let first = run(command, None).await;

    assert!(first.status.success(), "{}", text(&first.stderr));
    let stdout = text(&first.stdout);
    for name in &migrations {
        assert!(
            stdout.contains(name.as_str()),
            "{name} not reported: {stdout}"
        );
    }

    let mut command = cordee(&["migrate"]);
    command.env("CORDEE__DATABASE__URL", &url);
    let second = run(command, None).await;

    assert!(second.status.success(), "{}", text(&second.stderr));
    let stdout = text(&second.stdout);
    assert!(stdout.contains("up to date"), "{stdout}");
    for name in &migrations {
        assert!(
            !stdout.contains(name.as_str()),
            "{name} applied twice: {stdout}"
        );
    }
}

#[tokio::test]
async fn admin_create_reads_the_password_from_stdin_and_the_administrator_can_log_in() {
    let app = TestApp::spawn().await;
    let password = "a long admin passphrase 42";

    let mut command = cordee(&[
        "admin",
        "create",
        "--email",
        "ops@example.org",
        "--password-stdin",
    ]);
    command.env("CORDEE__DATABASE__URL", &app.db.url);
    let output = run(command, Some(format!("{password}\n"))).await;

    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert!(output.status.success(), "{stdout}{stderr}");
    assert!(!stdout.contains(password) && !stderr.contains(password));
    let token = app.login("ops@example.org", password).await;
    let (status, me) = app.get("/api/v1/me", Some(&token)).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["role"], "admin");
}

#[tokio::test]
async fn demo_loads_the_2027_season_beside_2026_and_the_joint_2030_games_call() {
    let app = TestApp::spawn().await;
    let mut command = cordee(&["demo"]);
    command.env("CORDEE__DATABASE__URL", &app.db.url);
    let output = run(command, None).await;
    assert!(output.status.success(), "{}", text(&output.stderr));

    let admin = app
        .login("admin@demo.cordee.localhost", "montagne-2026-demo")
        .await;
    let call = |slug: &'static str| {
        let app = &app;
        let admin = admin.clone();
        async move {
            let (status, call) = app
                .get(&format!("/api/v1/calls/{slug}"), Some(&admin))
                .await;
            assert_eq!(status, StatusCode::OK, "{slug}: {call}");
            call
        }
    };
    for (previous, next, opens) in [
        (
            "alpes-tourisme-lab-2026",
            "alpes-tourisme-lab-2027",
            "2027-01-06T08:00:00Z",
        ),
        (
            "experimentation-montagne-2026",
            "experimentation-montagne-2027",
            "2027-09-07T07:00:00Z",
        ),
    ] {
        let (before, after) = (call(previous).await, call(next).await);
        assert_eq!(after["edition"], 2027, "{after}");
        assert_eq!(after["previous_edition_id"], before["id"]);
        assert_eq!(after["status"], "published");
        assert_eq!(
            after["opens_at"], opens,
            "the same local hour one year later"
        );
        assert_eq!(after["form"], before["form"], "the form comes along");
        assert_eq!(after["stages"], before["stages"]);
    }
    let games = call("ami-jeux-2030").await;
    assert_eq!(games["kind"], "expression_of_interest");
    assert_eq!(games["stages"], json!([]));
    // Loading twice adds nothing and fails nothing.
    let mut again = cordee(&["demo"]);
    again.env("CORDEE__DATABASE__URL", &app.db.url);
    let output = run(again, None).await;
    assert!(output.status.success(), "{}", text(&output.stderr));
    let (_, calls) = app.get("/api/v1/calls?limit=200", Some(&admin)).await;
    assert_eq!(calls["items"].as_array().unwrap().len(), 5, "{calls}");
}

#[tokio::test]
async fn serve_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let stderr_path = dir.path().join("stderr.log");
    let mut command = cordee(&["serve"]);
    command
        .env("CORDEE__SERVER__HOST", "127.0.0.1")
        .env("CORDEE__SERVER__PORT", port.to_string())
        .env("CORDEE__DATABASE__URL", sqlite_url(dir.path()))
        .env("CORDEE__STORAGE__DIR", dir.path().join("attachments"))
        .env("CORDEE__EMAIL__TRANSPORT", "file")
        .env("CORDEE__EMAIL__FILE_DIR", dir.path().join("mail"))
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&stderr_path).unwrap());
    let mut child = Running(command.spawn().expect("the binary starts"));
    let log = || std::fs::read_to_string(&stderr_path).unwrap_or_default();

    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let answer = client
            .get(format!("http://127.0.0.1:{port}/health"))
            .send()
            .await;
        if answer.is_ok_and(|r| r.status() == StatusCode::OK) {
            break;
        }
        assert!(
            matches!(child.0.try_wait(), Ok(None)),
            "serve exited early: {}",
            log()
        );
        assert!(
            Instant::now() < deadline,
            "/health never answered: {}",
            log()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    kill(Pid::from_raw(child.0.id() as i32), Signal::SIGTERM).unwrap();
    let status = child.exit_within(Duration::from_secs(10)).await;

    assert!(status.success(), "{status}: {}", log());
}
