//! A running Cordée for one test: its own database, its settings, and the account helpers every test uses.

use std::path::PathBuf;
use std::sync::Arc;

use cordee::clock::Clock;
use cordee::config::{Settings, SmtpTls, TransportKind};
use cordee::startup::Application;
use diesel::{Connection, PgConnection, RunQueryDsl};
use reqwest::StatusCode;
use secrecy::SecretString;
use serde_json::json;

use super::http::Http;
use super::mailbox::Mailbox;

/// The password every test account uses.
pub const PASSWORD: &str = "correct horse battery staple";

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
