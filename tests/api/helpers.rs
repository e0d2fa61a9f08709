//! The test harness: a running Cordée, its own database, and the SMTP server that receives its email.

use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cordee::clock::Clock;
use cordee::config::{Settings, SmtpTls, TransportKind};
use cordee::startup::Application;
use diesel::{Connection, PgConnection, RunQueryDsl};
use mailin_embedded::response::{Response, OK};
use mailin_embedded::{Handler, Server};
use reqwest::{Method, StatusCode};
use secrecy::SecretString;
use serde_json::{json, Value};

/// The password every test account uses.
pub const PASSWORD: &str = "correct horse battery staple";

/// One email as received by the test SMTP server.
#[derive(Debug, Clone)]
pub struct ReceivedEmail {
    pub to: Vec<String>,
    pub raw: Vec<u8>,
}

impl ReceivedEmail {
    fn parsed(&self) -> mail_parser::Message<'_> {
        mail_parser::MessageParser::default()
            .parse(&self.raw)
            .expect("a parseable email")
    }

    /// The decoded subject.
    pub fn subject(&self) -> String {
        self.parsed().subject().unwrap_or_default().to_owned()
    }

    /// The decoded plain-text part.
    pub fn text(&self) -> String {
        self.parsed()
            .body_text(0)
            .map(|t| t.into_owned())
            .unwrap_or_default()
    }

    /// The decoded HTML part.
    pub fn html(&self) -> String {
        self.parsed()
            .body_html(0)
            .map(|t| t.into_owned())
            .unwrap_or_default()
    }

    /// The Message-ID header.
    pub fn message_id(&self) -> String {
        self.parsed().message_id().unwrap_or_default().to_owned()
    }

    /// The one-time token (`cordee_…`) the email carries.
    pub fn token(&self) -> String {
        let text = self.text();
        let start = text.find("cordee_").expect("the email carries a token");
        text[start..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
            .collect()
    }
}

#[derive(Clone, Default)]
struct Collector {
    inbox: Arc<Mutex<Vec<ReceivedEmail>>>,
    current_to: Vec<String>,
    current: Vec<u8>,
}

impl Handler for Collector {
    fn data_start(&mut self, _domain: &str, _from: &str, _is8bit: bool, to: &[String]) -> Response {
        self.current_to = to.to_vec();
        self.current.clear();
        OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.current.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        let email = ReceivedEmail {
            to: std::mem::take(&mut self.current_to),
            raw: std::mem::take(&mut self.current),
        };
        self.inbox.lock().unwrap().push(email);
        OK
    }
}

/// A real SMTP server on a local port, keeping every email it receives. It can be created before it
/// listens, to play an SMTP server that is down.
#[derive(Clone)]
pub struct Mailbox {
    pub port: u16,
    inbox: Arc<Mutex<Vec<ReceivedEmail>>>,
}

impl Mailbox {
    /// A mailbox whose port is chosen but that does not listen yet (connections are refused).
    pub fn down() -> Mailbox {
        let port = free_port();
        Mailbox {
            port,
            inbox: Arc::default(),
        }
    }

    /// A listening mailbox.
    pub fn up() -> Mailbox {
        let mailbox = Mailbox::down();
        mailbox.start();
        mailbox
    }

    /// Starts listening on the mailbox's port.
    pub fn start(&self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port)).expect("the SMTP port is free");
        let handler = Collector {
            inbox: self.inbox.clone(),
            ..Default::default()
        };
        let mut server = Server::new(handler);
        server.with_name("smtp.test").with_tcp_listener(listener);
        std::thread::spawn(move || {
            let _ = server.serve();
        });
    }

    /// Every email received so far.
    pub fn all(&self) -> Vec<ReceivedEmail> {
        self.inbox.lock().unwrap().clone()
    }

    /// Waits (up to 15 s) until `count` emails have arrived in all, and returns them all.
    pub async fn wait_for(&self, count: usize) -> Vec<ReceivedEmail> {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let emails = self.all();
            if emails.len() >= count {
                return emails;
            }
            assert!(
                Instant::now() < deadline,
                "expected {count} emails, got {}: {emails:?}",
                emails.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits (up to 15 s) for the first email to `to` that satisfies `wanted`, and returns it.
    pub async fn wait_for_match(
        &self,
        to: &str,
        what: &str,
        wanted: impl Fn(&ReceivedEmail) -> bool,
    ) -> ReceivedEmail {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let emails = self.emails_to(to);
            if let Some(email) = emails.iter().find(|e| wanted(e)) {
                return email.clone();
            }
            let subjects: Vec<String> = emails.iter().map(|e| e.subject()).collect();
            assert!(
                Instant::now() < deadline,
                "no email to {to} {what}: {subjects:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits for the first email sent to `to` and returns it.
    pub async fn wait_for_email_to(&self, to: &str) -> ReceivedEmail {
        self.wait_for_match(to, "at all", |_| true).await
    }

    /// Waits for an email to `to` whose subject contains `part` (any case).
    pub async fn wait_for_subject(&self, to: &str, part: &str) -> ReceivedEmail {
        let part = part.to_lowercase();
        self.wait_for_match(to, &format!("about {part}"), |e| {
            e.subject().to_lowercase().contains(&part)
        })
        .await
    }

    /// Every email received by `to`.
    pub fn emails_to(&self, to: &str) -> Vec<ReceivedEmail> {
        self.all()
            .into_iter()
            .filter(|e| e.to.iter().any(|t| t == to))
            .collect()
    }
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The database of one test: a temporary SQLite file, or a PostgreSQL database dropped afterwards.
pub struct TestDatabase {
    pub url: String,
    postgres: Option<(String, String)>,
    _dir: Arc<tempfile::TempDir>,
}

impl TestDatabase {
    /// A fresh, empty database of the kind CORDEE_TEST_DATABASE_URL names (SQLite when unset).
    pub fn create(dir: Arc<tempfile::TempDir>) -> TestDatabase {
        match std::env::var("CORDEE_TEST_DATABASE_URL")
            .ok()
            .filter(|u| u.starts_with("postgres"))
        {
            Some(server_url) => {
                let name = format!("cordee_test_{}", uuid::Uuid::now_v7().simple());
                let mut admin = PgConnection::establish(&server_url)
                    .expect("PostgreSQL is reachable for the tests");
                diesel::sql_query(format!("CREATE DATABASE {name}"))
                    .execute(&mut admin)
                    .unwrap();
                let base = server_url
                    .rsplit_once('/')
                    .map_or(server_url.as_str(), |(base, _)| base);
                TestDatabase {
                    url: format!("{base}/{name}"),
                    postgres: Some((server_url.clone(), name)),
                    _dir: dir,
                }
            }
            None => {
                let path = dir.path().join("cordee.db");
                TestDatabase {
                    url: format!("sqlite://{}", path.display()),
                    postgres: None,
                    _dir: dir,
                }
            }
        }
    }

    /// A database the test runs itself (its own PostgreSQL server, say): used as it is, never dropped.
    pub fn existing(url: String, dir: Arc<tempfile::TempDir>) -> TestDatabase {
        TestDatabase {
            url,
            postgres: None,
            _dir: dir,
        }
    }

    /// Whether the tests run on PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        self.postgres.is_some()
    }

    /// Drops the PostgreSQL database now, with its open connections (to play a lost database).
    pub fn drop_now(&self) {
        if let Some((server_url, name)) = &self.postgres {
            let mut admin = PgConnection::establish(server_url).unwrap();
            diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut admin)
                .unwrap();
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        self.drop_now();
    }
}

/// How to start a test application.
pub struct Options {
    pub clock: Clock,
    pub mailbox: Mailbox,
    pub configure: Box<dyn FnOnce(&mut Settings)>,
    /// A database of the test's own (`None`: a fresh one of the kind the run uses).
    pub database_url: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            clock: Clock::system(),
            mailbox: Mailbox::up(),
            configure: Box::new(|_| {}),
            database_url: None,
        }
    }
}

/// A running Cordée and what a test needs around it.
pub struct TestApp {
    pub address: String,
    pub http: Http,
    pub mailbox: Mailbox,
    pub clock: Clock,
    pub settings: Settings,
    pub db: Arc<TestDatabase>,
    _dir: Arc<tempfile::TempDir>,
    handle: actix_web::dev::ServerHandle,
}

/// `app.get(…)`, `app.post(…)`, `app.request(…)`: the app's own client.
impl std::ops::Deref for TestApp {
    type Target = Http;

    fn deref(&self) -> &Http {
        &self.http
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Sends the stop command now; the server's threads wind down on their own.
        drop(self.handle.stop(false));
    }
}

/// The settings of a test application before any test-specific change.
pub fn test_settings(db: &TestDatabase, dir: &tempfile::TempDir, mailbox: &Mailbox) -> Settings {
    let config_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("config");
    let mut settings =
        Settings::load_from(&config_dir, Some("test")).expect("the test settings load");
    settings.database.url = SecretString::from(db.url.clone());
    settings.server.port = 0;
    settings.server.workers = 2;
    settings.storage.dir = dir.path().join("attachments");
    settings.email.transport = TransportKind::Smtp;
    settings.email.smtp_host = "127.0.0.1".into();
    settings.email.smtp_port = mailbox.port;
    settings.email.smtp_tls = SmtpTls::None;
    settings.email.file_dir = dir.path().join("mail");
    settings
}

impl TestApp {
    /// Starts Cordée with the test settings.
    pub async fn spawn() -> TestApp {
        TestApp::spawn_with(Options::default()).await
    }

    /// Starts Cordée with a clock, a mailbox or settings of the test's choosing.
    pub async fn spawn_with(options: Options) -> TestApp {
        let dir = Arc::new(tempfile::tempdir().unwrap());
        let db = Arc::new(match options.database_url {
            Some(url) => TestDatabase::existing(url, dir.clone()),
            None => TestDatabase::create(dir.clone()),
        });
        let mut settings = test_settings(&db, &dir, &options.mailbox);
        (options.configure)(&mut settings);
        TestApp::start(settings, db, dir, options.clock, options.mailbox).await
    }

    /// Starts a second instance on the same database, settings and mailbox (as behind a load balancer).
    pub async fn another_instance(&self) -> TestApp {
        TestApp::start(
            self.settings.clone(),
            self.db.clone(),
            self._dir.clone(),
            self.clock.clone(),
            self.mailbox.clone(),
        )
        .await
    }

    async fn start(
        settings: Settings,
        db: Arc<TestDatabase>,
        dir: Arc<tempfile::TempDir>,
        clock: Clock,
        mailbox: Mailbox,
    ) -> TestApp {
        let app = Application::build_with_clock(settings.clone(), clock.clone())
            .await
            .expect("the app starts");
        let address = format!("http://127.0.0.1:{}", app.port());
        let handle = app.handle();
        tokio::spawn(app.run_until_stopped());
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        TestApp {
            http: Http {
                client,
                base: address.clone(),
            },
            address,
            mailbox,
            clock,
            settings,
            db,
            _dir: dir,
            handle,
        }
    }

    /// Registers an account; returns its id.
    pub async fn register(&self, email: &str, locale: &str) -> String {
        let (status, body) = self
            .post(
                "/api/v1/auth/register",
                None,
                json!({"email": email, "password": PASSWORD, "display_name": "Test Person", "locale": locale}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["id"].as_str().unwrap().to_owned()
    }

    /// Registers an applicant, verifies the address with the link that arrives by email, and logs in;
    /// returns the session token.
    pub async fn applicant(&self, email: &str) -> String {
        self.register(email, "fr").await;
        self.verify_address(email).await;
        self.login(email, PASSWORD).await
    }

    /// Verifies `email` with the token of the verification email it received (already verified: nothing).
    pub async fn verify_address(&self, email: &str) {
        let message = self
            .mailbox
            .wait_for_match(email, "with a verification link", |e| {
                e.text().contains("/verify-email?token=")
            })
            .await;
        let (status, body) = self
            .post(
                "/api/v1/auth/verify-email",
                None,
                json!({"token": message.token()}),
            )
            .await;
        assert!(
            status == StatusCode::NO_CONTENT || status == StatusCode::UNPROCESSABLE_ENTITY,
            "{status} {body}"
        );
    }

    /// Creates an administrator the way an operator does (`cordee admin create`) and logs in.
    pub async fn admin(&self, email: &str) -> String {
        let settings = self.settings.clone();
        let email_owned = email.to_owned();
        tokio::task::spawn_blocking(move || {
            cordee::cli::create_admin(&settings, &email_owned, PASSWORD, "Admin")
                .expect("admin created")
        })
        .await
        .unwrap();
        self.login(email, PASSWORD).await
    }
}

/// An HTTP client bound to one server: what every test speaks to Cordée with (in process or as a child
/// process).
pub struct Http {
    pub client: reqwest::Client,
    /// `http://host:port`.
    pub base: String,
}

impl Http {
    /// A request to `path` (relative to the server), with a bearer token when given.
    pub fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
    ) -> reqwest::RequestBuilder {
        let builder = self
            .client
            .request(method, format!("{}{}", self.base, path));
        match token {
            Some(token) => builder.bearer_auth(token),
            None => builder,
        }
    }

    /// Sends JSON and returns the status and the JSON answer (Null when there is no body).
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self.request(method, path, token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status();
        let text = response.text().await.unwrap();
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, value)
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> (StatusCode, Value) {
        self.send(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> (StatusCode, Value) {
        self.send(Method::POST, path, token, Some(body)).await
    }

    /// Logs in; returns the session token.
    pub async fn login(&self, email: &str, password: &str) -> String {
        let (status, body) = self
            .post(
                "/api/v1/auth/login",
                None,
                json!({"email": email, "password": password}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["token"].as_str().unwrap().to_owned()
    }
}

/// The fields named in a 422 answer, sorted.
pub fn failing_fields(body: &Value) -> Vec<String> {
    let mut fields: Vec<String> = body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("a 422 lists its errors: {body}"))
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect();
    fields.sort();
    fields
}

/// Asserts that `body` is a problem+json document with `status`.
pub fn assert_problem(status: StatusCode, body: &Value, expected: StatusCode) {
    assert_eq!(status, expected, "{body}");
    assert_eq!(body["status"], expected.as_u16(), "{body}");
    assert!(
        body["type"].is_string() && body["title"].is_string() && body["detail"].is_string(),
        "{body}"
    );
}

/// A valid SIRET not given out before in this run: an establishment of the SIREN 732829320 from number
/// 0100 on (tests that write 73282932000074 themselves keep it), so that every organization has its own
/// SIRET while all share one SIREN.
pub fn next_siret() -> String {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(100);
    let establishment = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let body = format!("732829320{establishment:04}");
    let check = (0..10)
        .find(|digit| luhn_valid(&format!("{body}{digit}")))
        .expect("one check digit fits");
    format!("{body}{check}")
}

fn luhn_valid(digits: &str) -> bool {
    let sum: u32 = digits
        .chars()
        .rev()
        .filter_map(|c| c.to_digit(10))
        .enumerate()
        .map(|(i, d)| match (i % 2 == 1, d * 2) {
            (true, doubled) if doubled > 9 => doubled - 9,
            (true, doubled) => doubled,
            (false, _) => d,
        })
        .sum();
    sum.is_multiple_of(10)
}

/// A minimal but real PDF document (its magic bytes say PDF).
pub fn pdf_bytes() -> Vec<u8> {
    b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n".to_vec()
}

/// Answers that complete an Alpes Tourisme Lab application (the pitch deck is a file, uploaded apart).
pub fn atl_answers() -> Value {
    json!({
        "solution_name": "Navette Neige",
        "solution_description": "Une navette électrique à la demande entre les villages et les pieds de pistes, réservée par application.",
        "challenges": ["mobility_access", "energy_climate"],
        "problem": "Les stations saturent leurs parkings et les saisonniers n'ont pas de transport le soir.",
        "novelty": "Réservation dynamique et mutualisation avec le transport scolaire.",
        "maturity": "prototype",
        "business_model": "Abonnement payé par les communes, billet à l'unité pour les visiteurs.",
        "revenue_last_year": 42000,
        "funds_raised": 150000,
        "team_fte": 3.5,
        "impact": "Moins de voitures en station, des emplois locaux.",
        "rules_consent": true
    })
}

/// Answers that complete an Expérimentation Montagne application (the letter of support is uploaded apart).
pub fn exp_answers() -> Value {
    json!({
        "insee_code": "74056",
        "massif": "alpes_nord",
        "altitude_min": 1035,
        "altitude_max": 3842,
        "need": "Réduire la circulation automobile dans la vallée pendant les vacances scolaires d'hiver et d'été.",
        "solution_sought": "Un service de transport à la demande couplé aux remontées mécaniques.",
        "season": "all_year",
        "test_site": "Vallée de Chamonix, entre Les Houches et Argentière.",
        "test_start": "2027-01-15",
        "test_end": "2027-04-15",
        "budget": 80000,
        "co_funding": 40000,
        "staff_committed": "Deux agents du service mobilité à mi-temps.",
        "elected_sponsor": "Adjointe aux mobilités",
        "success_indicators": "Fréquentation, report modal mesuré, satisfaction des habitants.",
        "rules_consent": true
    })
}

impl TestApp {
    /// Creates a call from `template` that opened yesterday and closes in 30 days, and publishes it.
    pub async fn open_call(&self, admin: &str, template: &str, slug: &str) -> Value {
        self.open_call_closing_in(admin, template, slug, chrono::Duration::days(30))
            .await
    }

    /// Creates a call from `template` that opened yesterday and closes after `closes_in`, and publishes it
    /// (tests that move the clock past the closing date keep it short: sessions last a week).
    pub async fn open_call_closing_in(
        &self,
        admin: &str,
        template: &str,
        slug: &str,
        closes_in: chrono::Duration,
    ) -> Value {
        let now = self.clock.now();
        let (status, call) = self
            .post(
                "/api/v1/calls",
                Some(admin),
                json!({
                    "template": template,
                    "slug": slug,
                    "opens_at": (now - chrono::Duration::days(1)).to_rfc3339(),
                    "closes_at": (now + closes_in).to_rfc3339(),
                }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{call}");
        let id = call["id"].as_str().unwrap();
        let (status, call) = self
            .post(
                &format!("/api/v1/calls/{id}/publish"),
                Some(admin),
                json!({}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{call}");
        call
    }

    /// Creates an organization of `kind` with valid identifiers; returns its id.
    pub async fn organization(&self, token: &str, kind: &str, name: &str) -> String {
        let body = match kind {
            "territory" => {
                json!({"kind": "territory", "legal_name": name, "insee_code": "74056", "postcode": "74400", "city": "Chamonix-Mont-Blanc"})
            }
            other => {
                json!({"kind": other, "legal_name": name, "siret": next_siret(), "postcode": "74400", "city": "Chamonix-Mont-Blanc"})
            }
        };
        let (status, org) = self.post("/api/v1/organizations", Some(token), body).await;
        assert_eq!(status, StatusCode::CREATED, "{org}");
        org["id"].as_str().unwrap().to_owned()
    }

    /// Makes the account of `email` (password [`PASSWORD`]) a member of `organization` the only way
    /// there is: `owner` invites the address, and the person, logged in, accepts the emailed invitation.
    pub async fn add_member(&self, owner: &str, organization: &str, email: &str, role: &str) {
        let invitations = || -> Vec<ReceivedEmail> {
            self.mailbox
                .emails_to(email)
                .into_iter()
                .filter(|e| e.text().contains("/invitations/accept?token="))
                .collect()
        };
        let before = invitations().len();
        let (status, body) = self
            .post(
                &format!("/api/v1/organizations/{organization}/members"),
                Some(owner),
                json!({"email": email, "role": role}),
            )
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        let session = self.login(email, PASSWORD).await;
        let deadline = Instant::now() + Duration::from_secs(15);
        let token = loop {
            if let Some(newest) = invitations().get(before) {
                break newest.token();
            }
            assert!(Instant::now() < deadline, "no invitation reached {email}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let (status, body) = self
            .post(
                "/api/v1/invitations/accept",
                Some(&session),
                json!({"token": token}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }

    /// Uploads `bytes` as `filename` for the form's file field `field`.
    pub async fn upload(
        &self,
        token: &str,
        application_id: &str,
        field: &str,
        filename: &str,
        bytes: Vec<u8>,
    ) -> (StatusCode, Value) {
        let form = reqwest::multipart::Form::new()
            .text("field", field.to_owned())
            .part(
                "file",
                reqwest::multipart::Part::bytes(bytes).file_name(filename.to_owned()),
            );
        let response = self
            .request(
                Method::POST,
                &format!("/api/v1/applications/{application_id}/attachments"),
                Some(token),
            )
            .multipart(form)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }
}

/// A territory's submitted application (with its letter of support) to an open Expérimentation Montagne
/// call; returns (the applicant's token, the application's id).
pub async fn submitted_territory(
    app: &TestApp,
    call_id: &str,
    email: &str,
    name: &str,
) -> (String, String) {
    let token = app.applicant(email).await;
    let org = app.organization(&token, "territory", name).await;
    let (status, created) = app
        .post(
            &format!("/api/v1/calls/{call_id}/applications"),
            Some(&token),
            json!({"organization_id": org, "answers": exp_answers()}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let (status, file) = app
        .upload(&token, &id, "support_letter", "lettre.pdf", pdf_bytes())
        .await;
    assert_eq!(status, StatusCode::CREATED, "{file}");
    let (status, body) = app
        .post(
            &format!("/api/v1/applications/{id}/submit"),
            Some(&token),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    (token, id)
}

/// A territory's eligible application to an open Expérimentation Montagne call; returns its id.
pub async fn eligible_territory(
    app: &TestApp,
    admin: &str,
    call_id: &str,
    email: &str,
    name: &str,
) -> String {
    let (_, id) = submitted_territory(app, call_id, email, name).await;
    let (status, body) = app
        .post(
            &format!("/api/v1/applications/{id}/screening"),
            Some(admin),
            json!({"outcome": "eligible"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    id
}
