//! Abuse resistance: security headers on every answer, the CORS allow-list, JSON size and depth limits,
//! slow clients dropped, rate limits on registration, password reset and uploads, and upload quotas per
//! application.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use reqwest::header::{HeaderMap, CONTENT_TYPE, ORIGIN};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::*;

/// The header's value as text, empty when absent.
fn header(headers: &HeaderMap, name: &str) -> String {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// Sends `request`; returns the status, the headers and the body (JSON, or Null when empty).
async fn exchange(request: reqwest::RequestBuilder) -> (StatusCode, HeaderMap, Value) {
    let response = request.send().await.expect("the server answers");
    let (status, headers) = (response.status(), response.headers().clone());
    let text = response.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, headers, body)
}

/// Asserts the headers every answer carries, whatever its status.
fn assert_secured(headers: &HeaderMap) {
    assert_eq!(header(headers, "x-content-type-options"), "nosniff");
    assert_eq!(header(headers, "x-frame-options"), "DENY");
    assert_eq!(header(headers, "referrer-policy"), "no-referrer");
    let csp = header(headers, "content-security-policy");
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
}

/// Asserts a problem+json answer with `expected` status.
fn assert_problem_json(
    status: StatusCode,
    headers: &HeaderMap,
    body: &Value,
    expected: StatusCode,
) {
    assert_problem(status, body, expected);
    let content_type = header(headers, "content-type");
    assert!(
        content_type.starts_with("application/problem+json"),
        "{content_type}"
    );
}

/// The seconds of a 429's Retry-After.
fn retry_after(headers: &HeaderMap) -> u64 {
    header(headers, "retry-after")
        .parse()
        .expect("a 429 says when to retry")
}

/// Attachment files kept on disk (temporary `.part` files included).
fn stored_files(dir: &Path) -> Vec<PathBuf> {
    match std::fs::read_dir(dir) {
        Err(_) => Vec::new(),
        Ok(entries) => entries
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_file())
            .collect(),
    }
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let app = TestApp::spawn().await;
    let token = app.applicant("lea@example.org").await;

    let (status, headers, _) = exchange(app.request(Method::GET, "/health", None)).await;
    assert_eq!(status, StatusCode::OK);
    assert_secured(&headers);
    assert_eq!(
        header(&headers, "content-security-policy"),
        "default-src 'none'; frame-ancestors 'none'"
    );
    assert!(!headers.contains_key("strict-transport-security"));
    assert!(!headers.contains_key("cache-control"), "{headers:?}");

    // Errors too: an unknown route, a refused token, malformed JSON.
    let (status, headers, body) =
        exchange(app.request(Method::GET, "/api/v1/no-such-thing", None)).await;
    assert_problem_json(status, &headers, &body, StatusCode::NOT_FOUND);
    assert_secured(&headers);
    let (status, headers, body) =
        exchange(app.request(Method::GET, "/api/v1/me", Some("cordee_forged"))).await;
    assert_problem_json(status, &headers, &body, StatusCode::UNAUTHORIZED);
    assert_secured(&headers);
    assert_eq!(header(&headers, "cache-control"), "no-store");
    let (status, headers, body) = exchange(
        app.request(Method::POST, "/api/v1/auth/login", None)
            .header(CONTENT_TYPE, "application/json")
            .body("{"),
    )
    .await;
    assert_problem_json(status, &headers, &body, StatusCode::BAD_REQUEST);
    assert_secured(&headers);

    // An authenticated answer is never stored by a cache.
    let (status, headers, me) =
        exchange(app.request(Method::GET, "/api/v1/me", Some(&token))).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_secured(&headers);
    assert_eq!(header(&headers, "cache-control"), "no-store");
}

#[tokio::test]
async fn the_docs_page_may_run_its_own_scripts_and_nothing_from_elsewhere() {
    let app = TestApp::spawn().await;

    let response = app
        .request(Method::GET, "/docs/", None)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers().clone();
    let html = response.text().await.unwrap();

    assert_secured(&headers);
    let csp = header(&headers, "content-security-policy");
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(csp.contains("connect-src 'self'"), "{csp}");
    assert!(!csp.contains("unsafe-eval"), "{csp}");
    assert!(!csp.contains('*'), "{csp}");
    // The page's scripts are files of this server (no inline script, which the policy would block).
    let lower = html.to_lowercase();
    assert_eq!(
        lower.matches("<script").count(),
        lower.matches("<script src=").count(),
        "{html}"
    );
    // The API keeps the strict policy.
    let (_, headers, _) = exchange(app.request(Method::GET, "/api-docs/openapi.json", None)).await;
    assert_eq!(
        header(&headers, "content-security-policy"),
        "default-src 'none'; frame-ancestors 'none'"
    );
}

#[tokio::test]
async fn strict_transport_security_is_sent_behind_an_https_public_url() {
    let app = TestApp::spawn_with(Options {
        configure: Box::new(|s| s.app.public_url = "https://cordee.example.org".into()),
        ..Default::default()
    })
    .await;

    let (_, headers, _) = exchange(app.request(Method::GET, "/health", None)).await;
    let hsts = header(&headers, "strict-transport-security");
    assert!(hsts.starts_with("max-age="), "{hsts}");
    let (_, headers, _) = exchange(app.request(Method::GET, "/api/v1/nothing-here", None)).await;
    assert!(headers.contains_key("strict-transport-security"));
}

const PORTAL: &str = "https://candidater.example.org";

/// A CORS preflight from `origin` for a PATCH with the headers the API uses.
fn preflight(app: &TestApp, origin: &str) -> reqwest::RequestBuilder {
    app.request(
        Method::OPTIONS,
        "/api/v1/applications/0190c5a0-0000-7000-8000-000000000000",
        None,
    )
    .header(ORIGIN, origin)
    .header("access-control-request-method", "PATCH")
    .header(
        "access-control-request-headers",
        "authorization, content-type, if-match, idempotency-key",
    )
}

fn cors_headers(headers: &HeaderMap) -> Vec<String> {
    headers
        .keys()
        .map(|k| k.as_str().to_owned())
        .filter(|k| k.starts_with("access-control-"))
        .collect()
}

#[tokio::test]
async fn only_the_allowed_origins_get_cross_origin_access() {
    let app = TestApp::spawn_with(Options {
        configure: Box::new(|s| s.server.cors_allowed_origins = vec![format!("{PORTAL}/")]),
        ..Default::default()
    })
    .await;
    let token = app.applicant("lea@example.org").await;

    // The portal's preflight is answered for the method and headers it asks for.
    let (status, headers, _) = exchange(preflight(&app, PORTAL)).await;
    assert!(status.is_success(), "{status}");
    assert_eq!(header(&headers, "access-control-allow-origin"), PORTAL);
    let methods = header(&headers, "access-control-allow-methods").to_lowercase();
    assert!(methods.contains("patch"), "{methods}");
    let allowed = header(&headers, "access-control-allow-headers").to_lowercase();
    for wanted in [
        "authorization",
        "content-type",
        "if-match",
        "idempotency-key",
    ] {
        assert!(allowed.contains(wanted), "{wanted} in {allowed}");
    }
    assert_secured(&headers);
    // …and its requests may be read by its pages, with the headers a client needs.
    let (status, headers, _) = exchange(
        app.request(Method::GET, "/api/v1/me", Some(&token))
            .header(ORIGIN, PORTAL),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&headers, "access-control-allow-origin"), PORTAL);
    let exposed = header(&headers, "access-control-expose-headers").to_lowercase();
    assert!(
        exposed.contains("etag") && exposed.contains("retry-after"),
        "{exposed}"
    );

    // Another origin gets no CORS header at all: its browser will not let it read anything.
    let (status, headers, body) = exchange(preflight(&app, "https://evil.example")).await;
    assert!(status.is_client_error(), "{status}");
    assert_problem_json(status, &headers, &body, status);
    assert!(cors_headers(&headers).is_empty(), "{headers:?}");
    let (status, headers, _) = exchange(
        app.request(Method::GET, "/api/v1/me", Some(&token))
            .header(ORIGIN, "https://evil.example"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(cors_headers(&headers).is_empty(), "{headers:?}");
    // Nor does a look-alike of the portal.
    let (_, headers, _) = exchange(preflight(
        &app,
        "https://candidater.example.org.evil.example",
    ))
    .await;
    assert!(cors_headers(&headers).is_empty(), "{headers:?}");
}

#[tokio::test]
async fn by_default_no_origin_gets_cross_origin_access() {
    let app = TestApp::spawn().await;

    let (status, headers, _) = exchange(preflight(&app, PORTAL)).await;
    assert!(status.is_client_error(), "{status}");
    assert!(cors_headers(&headers).is_empty(), "{headers:?}");
    let (status, headers, _) = exchange(
        app.request(Method::GET, "/health", None)
            .header(ORIGIN, PORTAL),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(cors_headers(&headers).is_empty(), "{headers:?}");
}

#[tokio::test]
async fn a_mistyped_cors_origin_stops_the_start() {
    let dir = std::sync::Arc::new(tempfile::tempdir().unwrap());
    let db = TestDatabase::create(dir.clone());
    let mailbox = Mailbox::down();
    let mut settings = test_settings(&db, &dir, &mailbox);
    settings.server.cors_allowed_origins = vec!["https://candidater.example.org/apply".into()];

    let started = cordee::startup::Application::build(settings).await;

    let error = started.err().expect("the start is refused").to_string();
    assert!(error.contains("cors_allowed_origins"), "{error}");
}

/// `depth` arrays nested in one another, as the value of `email`.
fn nested_body(depth: usize) -> String {
    format!(
        r#"{{"email": {}{}, "password": "x"}}"#,
        "[".repeat(depth),
        "]".repeat(depth)
    )
}

#[tokio::test]
async fn deeply_nested_json_is_refused_without_harm() {
    let app = TestApp::spawn().await;

    for depth in [32, 200, 10_000] {
        let (status, headers, body) = exchange(
            app.request(Method::POST, "/api/v1/auth/login", None)
                .header(CONTENT_TYPE, "application/json")
                .body(nested_body(depth)),
        )
        .await;
        assert_problem_json(status, &headers, &body, StatusCode::BAD_REQUEST);
        let detail = body["detail"].as_str().unwrap();
        assert!(detail.contains("32 levels"), "{depth}: {detail}");
    }
    // Within the limit, the body is read and its fields checked as usual.
    let (status, body) = app
        .send(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(serde_json::from_str(&nested_body(30)).unwrap()),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(failing_fields(&body), vec!["email"]);
    // Brackets inside strings are text, not nesting.
    let (status, body) = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"email": "[[[[".repeat(100), "password": "{{{{".repeat(100)}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let (status, _) = app.get("/health", None).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn the_depth_limit_is_a_setting() {
    let app = TestApp::spawn_with(Options {
        configure: Box::new(|s| s.server.json_max_depth = 3),
        ..Default::default()
    })
    .await;

    let (status, body) = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"email": [[[1]]], "password": "x"}),
        )
        .await;
    assert_problem(status, &body, StatusCode::BAD_REQUEST);
    let (status, body) = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"email": [[1]], "password": "x"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
}

#[tokio::test]
async fn a_streamed_body_over_the_limit_is_a_problem_json_413() {
    let app = TestApp::spawn_with(Options {
        configure: Box::new(|s| s.server.json_limit_bytes = 1024),
        ..Default::default()
    })
    .await;
    // Sent in chunks without a Content-Length: the limit holds while reading.
    let chunks: Vec<Result<String, std::io::Error>> = std::iter::once(Ok(
        r#"{"email": "lea@example.org", "display_name": ""#.to_owned(),
    ))
    .chain((0..20).map(|_| Ok("x".repeat(100))))
    .chain(std::iter::once(Ok(r#"", "password": "x"}"#.to_owned())))
    .collect();

    let (status, headers, body) = exchange(
        app.request(Method::POST, "/api/v1/auth/register", None)
            .header(CONTENT_TYPE, "application/json")
            .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
                chunks,
            ))),
    )
    .await;

    assert_problem_json(status, &headers, &body, StatusCode::PAYLOAD_TOO_LARGE);
    assert_secured(&headers);
}

/// Reads from `stream` until the server closes it; panics if it is still open at `deadline`.
async fn wait_until_closed(stream: &mut TcpStream, deadline: Instant) -> Vec<u8> {
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut buffer)).await {
            Err(_) => panic!(
                "the server kept the connection open; received {:?}",
                String::from_utf8_lossy(&received)
            ),
            Ok(Ok(0)) | Ok(Err(_)) => return received,
            Ok(Ok(n)) => received.extend_from_slice(&buffer[..n]),
        }
    }
}

fn port_of(app: &TestApp) -> u16 {
    app.address.rsplit(':').next().unwrap().parse().unwrap()
}

#[tokio::test]
async fn a_client_that_stops_mid_request_line_is_disconnected() {
    let app = TestApp::spawn_with(Options {
        // Long enough that a loaded machine still reads a normal request within it (the /health check below).
        configure: Box::new(|s| s.server.client_request_timeout_ms = 2000),
        ..Default::default()
    })
    .await;
    let mut slow = TcpStream::connect(("127.0.0.1", port_of(&app)))
        .await
        .unwrap();
    let started = Instant::now();

    slow.write_all(b"GET /hea").await.unwrap();
    let received = wait_until_closed(&mut slow, started + Duration::from_secs(10)).await;

    let text = String::from_utf8_lossy(&received);
    assert!(
        text.is_empty() || text.starts_with("HTTP/1.1 408"),
        "{text}"
    );
    // Everyone else is still served.
    let (status, _) = app.get("/health", None).await;
    assert_eq!(status, StatusCode::OK);
}

/// Sends `head` and the start of a body on a raw connection, then nothing more: what the server answers
/// before it closes the connection.
async fn send_then_stall(app: &TestApp, head: String, body_start: &[u8]) -> String {
    let mut slow = TcpStream::connect(("127.0.0.1", port_of(app)))
        .await
        .unwrap();
    slow.write_all(head.as_bytes()).await.unwrap();
    slow.write_all(body_start).await.unwrap();
    let received = wait_until_closed(&mut slow, Instant::now() + Duration::from_secs(10)).await;
    String::from_utf8_lossy(&received).into_owned()
}

#[tokio::test]
async fn a_body_that_stops_arriving_is_answered_408_and_nothing_is_kept() {
    let app = TestApp::spawn_with(Options {
        configure: Box::new(|s| s.server.client_body_timeout_ms = 500),
        ..Default::default()
    })
    .await;
    let (token, id) = draft_with_deck_field(&app, "lea@example.org").await;

    // A JSON body announced as 200 bytes, of which 10 arrive.
    let answer = send_then_stall(
        &app,
        "POST /api/v1/auth/login HTTP/1.1\r\nHost: cordee\r\nContent-Type: application/json\r\n\
         Content-Length: 200\r\n\r\n"
            .to_owned(),
        b"{\"email\": ",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("application/problem+json"), "{answer}");

    // An upload whose file stops after its first bytes: 408, and no file or attachment is left.
    let boundary = "cordee-slow";
    let body_start = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"field\"\r\n\r\npitch_deck\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"deck.pdf\"\r\n\
         Content-Type: application/pdf\r\n\r\n%PDF-1.4\n"
    );
    let head = format!(
        "POST /api/v1/applications/{id}/attachments HTTP/1.1\r\nHost: cordee\r\n\
         Authorization: Bearer {token}\r\n\
         Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: 100000\r\n\r\n"
    );
    let answer = send_then_stall(&app, head, body_start.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        stored_files(&app.settings.storage.dir).is_empty(),
        "{:?}",
        stored_files(&app.settings.storage.dir)
    );
    let (status, application) = app
        .get(&format!("/api/v1/applications/{id}"), Some(&token))
        .await;
    assert_eq!(status, StatusCode::OK, "{application}");
    assert_eq!(application["attachments"], json!([]), "{application}");
}

#[tokio::test]
async fn an_idle_kept_alive_connection_is_closed() {
    let app = TestApp::spawn_with(Options {
        configure: Box::new(|s| s.server.keep_alive_seconds = 1),
        ..Default::default()
    })
    .await;
    let mut idle = TcpStream::connect(("127.0.0.1", port_of(&app)))
        .await
        .unwrap();

    idle.write_all(b"GET /health HTTP/1.1\r\nHost: cordee.test\r\n\r\n")
        .await
        .unwrap();
    let received = wait_until_closed(&mut idle, Instant::now() + Duration::from_secs(10)).await;

    let text = String::from_utf8_lossy(&received);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
}

#[tokio::test]
async fn registrations_are_throttled_per_client_address() {
    let app = TestApp::spawn_with(Options {
        configure: Box::new(|s| s.auth.registrations_per_hour_per_address = 3),
        ..Default::default()
    })
    .await;
    for i in 0..3 {
        app.register(&format!("user{i}@example.org"), "fr").await;
    }

    let (status, headers, body) = exchange(
        app.request(Method::POST, "/api/v1/auth/register", None)
            .json(&json!({
                "email": "user9@example.org", "password": PASSWORD, "display_name": "Neuf"
            })),
    )
    .await;

    assert_problem_json(status, &headers, &body, StatusCode::TOO_MANY_REQUESTS);
    assert!((1..=3600).contains(&retry_after(&headers)));
    // The three accounts were emailed; the refused one was not created.
    app.mailbox.wait_for(3).await;
    let (status, _) = app
        .post(
            "/api/v1/auth/login",
            None,
            json!({"email": "user9@example.org", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(app.mailbox.emails_to("user9@example.org").is_empty());
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_is_counted_apart_and_elsewhere_the_header_is_ignored() {
    let register = |app: &TestApp, n: u32, client: &str| {
        app.request(Method::POST, "/api/v1/auth/register", None)
            .header("X-Forwarded-For", client)
            .json(&json!({
                "email": format!("user{n}@example.org"), "password": PASSWORD, "display_name": "Neuf"
            }))
            .send()
    };
    // The tests reach the server from 127.0.0.1: as if through a proxy there.
    let proxied = TestApp::spawn_with(Options {
        configure: Box::new(|s| {
            s.auth.registrations_per_hour_per_address = 2;
            s.server.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
        }),
        ..Default::default()
    })
    .await;
    for n in 0..2 {
        let answer = register(&proxied, n, "203.0.113.7").await.unwrap();
        assert_eq!(answer.status(), StatusCode::CREATED);
    }
    let answer = register(&proxied, 2, "203.0.113.7").await.unwrap();
    assert_eq!(answer.status(), StatusCode::TOO_MANY_REQUESTS);
    // Another client behind the same proxy is not held back by the first one, even if it forges the first
    // hop (the proxy appends the address it saw last).
    let answer = register(&proxied, 3, "203.0.113.7, 198.51.100.4")
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::CREATED);

    // Without trusted proxies a client cannot dodge its limit by writing the header.
    let direct = TestApp::spawn_with(Options {
        configure: Box::new(|s| s.auth.registrations_per_hour_per_address = 2),
        ..Default::default()
    })
    .await;
    for n in 0..2 {
        let answer = register(&direct, n, &format!("198.51.100.{n}"))
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::CREATED);
    }
    let answer = register(&direct, 2, "198.51.100.2").await.unwrap();
    assert_eq!(answer.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn registrations_are_throttled_per_email_so_an_owner_is_not_flooded() {
    let app = TestApp::spawn_with(Options {
        configure: Box::new(|s| s.auth.registrations_per_hour_per_account = 2),
        ..Default::default()
    })
    .await;
    app.register("lea@example.org", "fr").await;
    // The address is taken: the same answer, and the owner is told by email.
    app.register("lea@example.org", "fr").await;
    app.mailbox.wait_for(2).await;

    let (status, headers, body) = exchange(
        app.request(Method::POST, "/api/v1/auth/register", None)
            .json(&json!({
                "email": "LEA@example.org", "password": PASSWORD, "display_name": "Léa"
            })),
    )
    .await;

    assert_problem_json(status, &headers, &body, StatusCode::TOO_MANY_REQUESTS);
    assert!(retry_after(&headers) >= 1);
    app.register("marc@example.org", "fr").await;
    app.mailbox.wait_for_email_to("marc@example.org").await;
    assert_eq!(app.mailbox.emails_to("lea@example.org").len(), 2);
}

#[tokio::test]
async fn password_reset_requests_are_throttled_per_email_and_per_address() {
    let app = TestApp::spawn_with(Options {
        configure: Box::new(|s| {
            s.auth.password_resets_per_hour_per_account = 2;
            s.auth.password_resets_per_hour_per_address = 4;
        }),
        ..Default::default()
    })
    .await;
    app.register("lea@example.org", "fr").await;
    let reset = |email: &str| {
        app.request(Method::POST, "/api/v1/auth/password-reset", None)
            .json(&json!({ "email": email }))
    };

    for _ in 0..2 {
        let (status, _, _) = exchange(reset("lea@example.org")).await;
        assert_eq!(status, StatusCode::ACCEPTED);
    }
    let (status, headers, body) = exchange(reset("lea@example.org")).await;
    assert_problem_json(status, &headers, &body, StatusCode::TOO_MANY_REQUESTS);
    assert!(retry_after(&headers) >= 1);
    // Two reset emails, not three (plus the verification email).
    app.mailbox.wait_for(3).await;

    // Another email is not throttled by Léa's, until the address has had its four.
    let (status, _, _) = exchange(reset("nobody@example.org")).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let (status, headers, body) = exchange(reset("someone@example.org")).await;
    assert_problem_json(status, &headers, &body, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(app.mailbox.emails_to("lea@example.org").len(), 3);
}

/// An open Alpes Tourisme Lab call and an applicant's draft to it; returns (the applicant's token, the
/// application's id).
async fn draft_with_deck_field(app: &TestApp, email: &str) -> (String, String) {
    let name = email.split('@').next().unwrap();
    let admin = app.admin(&format!("admin-{email}")).await;
    let call = app
        .open_call(&admin, "alpes-tourisme-lab", &format!("atl-{name}"))
        .await;
    let token = app.applicant(email).await;
    let org = app.organization(&token, "startup", "Neige Express").await;
    let (status, created) = app
        .post(
            &format!(
                "/api/v1/calls/{}/applications",
                call["id"].as_str().unwrap()
            ),
            Some(&token),
            json!({ "organization_id": org }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    (token, created["id"].as_str().unwrap().to_owned())
}

async fn attachments_of(app: &TestApp, token: &str, id: &str) -> Vec<Value> {
    let (status, application) = app
        .get(&format!("/api/v1/applications/{id}"), Some(token))
        .await;
    assert_eq!(status, StatusCode::OK, "{application}");
    application["attachments"].as_array().unwrap().clone()
}

#[tokio::test]
async fn uploads_are_throttled_per_person_with_retry_after() {
    let app = TestApp::spawn_with(Options {
        configure: Box::new(|s| s.storage.uploads_per_minute_per_user = 2),
        ..Default::default()
    })
    .await;
    let (token, id) = draft_with_deck_field(&app, "lea@example.org").await;
    for _ in 0..2 {
        let (status, body) = app
            .upload(&token, &id, "pitch_deck", "deck.pdf", pdf_bytes())
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }

    let form = reqwest::multipart::Form::new()
        .text("field", "pitch_deck")
        .part(
            "file",
            reqwest::multipart::Part::bytes(pdf_bytes()).file_name("deck.pdf"),
        );
    let (status, headers, body) = exchange(
        app.request(
            Method::POST,
            &format!("/api/v1/applications/{id}/attachments"),
            Some(&token),
        )
        .multipart(form),
    )
    .await;

    assert_problem_json(status, &headers, &body, StatusCode::TOO_MANY_REQUESTS);
    assert!((1..=60).contains(&retry_after(&headers)));
    assert_eq!(attachments_of(&app, &token, &id).await.len(), 2);
    assert_eq!(stored_files(&app.settings.storage.dir).len(), 2);
    // Another applicant is not held back by Léa's uploads.
    let (marc, marc_draft) = draft_with_deck_field(&app, "marc@example.org").await;
    let (status, body) = app
        .upload(&marc, &marc_draft, "pitch_deck", "deck.pdf", pdf_bytes())
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

#[tokio::test]
async fn uploads_are_throttled_per_client_address() {
    let app = TestApp::spawn_with(Options {
        configure: Box::new(|s| s.storage.uploads_per_minute_per_address = 1),
        ..Default::default()
    })
    .await;
    let (lea, lea_draft) = draft_with_deck_field(&app, "lea@example.org").await;
    let (marc, marc_draft) = draft_with_deck_field(&app, "marc@example.org").await;
    let (status, body) = app
        .upload(&lea, &lea_draft, "pitch_deck", "deck.pdf", pdf_bytes())
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    let (status, body) = app
        .upload(&marc, &marc_draft, "pitch_deck", "deck.pdf", pdf_bytes())
        .await;

    assert_problem(status, &body, StatusCode::TOO_MANY_REQUESTS);
    assert!(attachments_of(&app, &marc, &marc_draft).await.is_empty());
}

#[tokio::test]
async fn an_application_holds_at_most_the_configured_number_of_files() {
    let app = TestApp::spawn_with(Options {
        configure: Box::new(|s| s.storage.max_files_per_application = 2),
        ..Default::default()
    })
    .await;
    let (token, id) = draft_with_deck_field(&app, "lea@example.org").await;
    for name in ["v1.pdf", "v2.pdf"] {
        let (status, body) = app
            .upload(&token, &id, "pitch_deck", name, pdf_bytes())
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }

    let (status, body) = app
        .upload(&token, &id, "pitch_deck", "v3.pdf", pdf_bytes())
        .await;

    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(failing_fields(&body), vec!["file"]);
    assert_eq!(body["errors"][0]["code"], "too_many_files", "{body}");
    let attachments = attachments_of(&app, &token, &id).await;
    assert_eq!(attachments.len(), 2);
    assert_eq!(stored_files(&app.settings.storage.dir).len(), 2);
    // Deleting one makes room again.
    let first = attachments[0]["id"].as_str().unwrap();
    let (status, _) = app
        .send(
            Method::DELETE,
            &format!("/api/v1/applications/{id}/attachments/{first}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = app
        .upload(&token, &id, "pitch_deck", "v3.pdf", pdf_bytes())
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

#[tokio::test]
async fn an_application_holds_at_most_the_configured_number_of_bytes() {
    let quota = pdf_bytes().len() as u64 * 2 + 100;
    let app = TestApp::spawn_with(Options {
        configure: Box::new(move |s| s.storage.max_bytes_per_application = quota),
        ..Default::default()
    })
    .await;
    let (token, id) = draft_with_deck_field(&app, "lea@example.org").await;
    let (status, body) = app
        .upload(&token, &id, "pitch_deck", "small.pdf", pdf_bytes())
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let mut big = pdf_bytes();
    big.resize(pdf_bytes().len() + 200, b' ');

    let (status, body) = app.upload(&token, &id, "pitch_deck", "big.pdf", big).await;

    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(failing_fields(&body), vec!["file"]);
    assert_eq!(
        body["errors"][0]["code"], "application_quota_exceeded",
        "{body}"
    );
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains(&quota.to_string()), "{message}");
    assert_eq!(attachments_of(&app, &token, &id).await.len(), 1);
    assert_eq!(stored_files(&app.settings.storage.dir).len(), 1);
    // A file that fits is still accepted.
    let (status, body) = app
        .upload(&token, &id, "pitch_deck", "second.pdf", pdf_bytes())
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

#[tokio::test]
async fn hostile_multipart_names_are_refused_or_made_safe() {
    let app = TestApp::spawn().await;
    let (token, id) = draft_with_deck_field(&app, "lea@example.org").await;
    let path = format!("/api/v1/applications/{id}/attachments");
    let send = |form: reqwest::multipart::Form| {
        exchange(
            app.request(Method::POST, &path, Some(&token))
                .multipart(form),
        )
    };

    let deck = |name: &str| {
        reqwest::multipart::Form::new()
            .text("field", "pitch_deck")
            .part(
                "file",
                reqwest::multipart::Part::bytes(pdf_bytes()).file_name(name.to_owned()),
            )
    };
    // A file name that climbs out of the folder, with quotes.
    let (status, _, body) = send(deck("../../etc/\"deck\".pdf")).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let filename = body["filename"].as_str().unwrap();
    assert!(
        !filename.contains(['/', '\\', '"']) && !filename.starts_with('.'),
        "{filename}"
    );
    assert!(filename.ends_with(".pdf"), "{filename}");
    // A control character in the part's header: the body is refused as malformed.
    let (status, headers, body) = send(deck("deck\u{7}.pdf")).await;
    assert_problem_json(status, &headers, &body, StatusCode::BAD_REQUEST);

    // A part nobody asked for, a field key far too long, a key that is not text.
    let unknown = reqwest::multipart::Form::new()
        .text("field", "pitch_deck")
        .text("status", "submitted");
    let (status, headers, body) = send(unknown).await;
    assert_problem_json(status, &headers, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(failing_fields(&body), vec!["status"]);
    let injected = reqwest::multipart::Form::new().text("field\"; name=\"file", "pitch_deck");
    let (status, headers, body) = send(injected).await;
    assert!(status.is_client_error(), "{status}: {body}");
    assert_problem_json(status, &headers, &body, status);
    let (status, _, body) =
        send(reqwest::multipart::Form::new().text("field", "k".repeat(10_000))).await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(failing_fields(&body), vec!["field"]);
    let (status, _, body) = send(reqwest::multipart::Form::new().part(
        "field",
        reqwest::multipart::Part::bytes(vec![0xff, 0xfe, 0x00]),
    ))
    .await;
    assert_problem(status, &body, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(failing_fields(&body), vec!["field"]);

    assert_eq!(attachments_of(&app, &token, &id).await.len(), 1);
    assert_eq!(stored_files(&app.settings.storage.dir).len(), 1);
}
