//! Typed settings, layered from `config/default.toml`, `config/$CORDEE_ENV.toml` and `CORDEE__SECTION__KEY`
//! environment variables. Secrets are wrapped so that they never print.

use std::path::{Path, PathBuf};

use secrecy::SecretString;
use serde::Deserialize;

/// Every setting of a Cordée instance; `config/default.toml` documents each one.
#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub storage: StorageSettings,
    pub email: EmailSettings,
    pub app: AppSettings,
    /// Who runs this instance: the name and contact shown on pages and in emails.
    #[serde(default)]
    pub organization: OrganizationSettings,
    pub auth: AuthSettings,
    pub webhooks: WebhookSettings,
    pub privacy: PrivacySettings,
    pub log: LogSettings,
}

/// Where and how the HTTP server listens.
#[derive(Debug, Clone, Deserialize)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    pub json_limit_bytes: usize,
    pub json_max_depth: usize,
    pub shutdown_timeout_seconds: u64,
    pub workers: usize,
    pub sql_statements_header: bool,
    pub client_request_timeout_ms: u64,
    pub client_body_timeout_ms: u64,
    pub client_disconnect_timeout_ms: u64,
    pub keep_alive_seconds: u64,
    /// Origins (`https://host[:port]`) whose browser pages may call the API; empty: none.
    #[serde(default)]
    pub cors_allowed_origins: Vec<String>,
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// When set (and not empty), `/metrics` answers only requests carrying it as a bearer token.
    #[serde(default)]
    pub metrics_token: Option<SecretString>,
}

impl ServerSettings {
    /// The token `/metrics` requires, if one is set.
    pub fn metrics_token(&self) -> Option<&str> {
        use secrecy::ExposeSecret;
        self.metrics_token
            .as_ref()
            .map(|t| t.expose_secret())
            .filter(|t| !t.trim().is_empty())
    }
}

/// Which database, and how connections are pooled.
#[derive(Debug, Clone, Deserialize)]
pub struct DatabaseSettings {
    /// `sqlite://path` or `postgres://…`; may hold a password, hence secret.
    pub url: SecretString,
    pub pool_size: u32,
    pub connect_timeout_seconds: u64,
    pub sqlite_busy_timeout_ms: u64,
    pub sqlite_wal_limit_bytes: u64,
}

/// Where attachment files live, and how many an application and a person may send.
#[derive(Debug, Clone, Deserialize)]
pub struct StorageSettings {
    /// Files under `dir` (the default), or objects in an S3-compatible bucket (`s3`).
    #[serde(default)]
    pub backend: StorageBackend,
    pub dir: PathBuf,
    /// The bucket, when `backend` is `s3`.
    #[serde(default)]
    pub s3: S3Settings,
    pub sweep_grace_seconds: u64,
    pub max_files_per_application: u32,
    pub max_bytes_per_application: u64,
    pub uploads_per_minute_per_user: u32,
    pub uploads_per_minute_per_address: u32,
}

/// Where attachment files are kept.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum StorageBackend {
    /// Files under `storage.dir`.
    #[default]
    Fs,
    /// Objects in the bucket `storage.s3` names (Amazon S3 or a compatible server).
    S3,
}

/// An S3-compatible bucket for attachment files.
#[derive(Debug, Clone, Deserialize)]
pub struct S3Settings {
    pub bucket: String,
    /// The server's URL (`http://127.0.0.1:9000`); empty for Amazon S3 itself.
    pub endpoint: String,
    pub region: String,
    /// Empty: the credentials of the environment the server runs in (instance profile…).
    pub access_key_id: SecretString,
    pub secret_access_key: SecretString,
    /// Whether a plain `http://` endpoint is allowed (a server on the same host or private network).
    pub allow_http: bool,
    /// What every object key starts with, inside the bucket (`attachments/`).
    pub prefix: String,
}

impl Default for S3Settings {
    fn default() -> Self {
        S3Settings {
            bucket: String::new(),
            endpoint: String::new(),
            region: "us-east-1".into(),
            access_key_id: SecretString::from(""),
            secret_access_key: SecretString::from(""),
            allow_http: false,
            prefix: "attachments/".into(),
        }
    }
}

/// How email leaves Cordée.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum TransportKind {
    File,
    Smtp,
    Memory,
}

/// Transport security towards the SMTP server.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    None,
    Starttls,
    Tls,
}

/// Email transport and delivery-worker settings.
#[derive(Debug, Clone, Deserialize)]
pub struct EmailSettings {
    pub transport: TransportKind,
    pub file_dir: PathBuf,
    pub smtp_host: String,
    pub smtp_port: u16,
    pub smtp_tls: SmtpTls,
    pub smtp_username: Option<String>,
    pub smtp_password: Option<SecretString>,
    pub smtp_timeout_seconds: u64,
    pub from: String,
    pub max_attempts: i32,
    pub retry_base_ms: u64,
    pub poll_interval_ms: u64,
    pub lease_seconds: i64,
    pub worker_enabled: bool,
    /// The most bytes an email rendered from a call's own template may have (subject, text and HTML).
    pub max_rendered_bytes: usize,
}

/// Public-facing facts about the deployment.
#[derive(Debug, Clone, Deserialize)]
pub struct AppSettings {
    pub public_url: String,
    /// When set, the links written in emails point there (same paths) instead of `public_url`.
    #[serde(default)]
    pub front_end_url: String,
}

impl AppSettings {
    /// The base of the links written in emails: `front_end_url` when set, else `public_url`.
    pub fn links_base(&self) -> &str {
        let front_end = self.front_end_url.trim();
        if front_end.is_empty() {
            self.public_url.trim_end_matches('/')
        } else {
            front_end.trim_end_matches('/')
        }
    }
}

/// The association that runs the instance, as pages and emails name it.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct OrganizationSettings {
    /// Its name, shown in the pages' header and in the emails' signature.
    pub name: String,
    /// An address people may write to; empty: none shown.
    pub contact_email: String,
    /// Its website; empty: none shown.
    pub website: String,
}

impl Default for OrganizationSettings {
    fn default() -> Self {
        OrganizationSettings {
            name: "Cordée".into(),
            contact_email: String::new(),
            website: String::new(),
        }
    }
}

/// Lifetimes of tokens and links, throttling of the anonymous account actions, password hashing.
#[derive(Debug, Clone, Deserialize)]
pub struct AuthSettings {
    pub session_ttl_hours: i64,
    pub verification_ttl_hours: i64,
    pub password_reset_ttl_minutes: i64,
    pub invitation_ttl_days: i64,
    pub login_attempts_per_minute_per_account: u32,
    pub login_attempts_per_minute_per_address: u32,
    pub registrations_per_hour_per_account: u32,
    pub registrations_per_hour_per_address: u32,
    pub password_resets_per_hour_per_account: u32,
    pub password_resets_per_hour_per_address: u32,
    pub max_concurrent_hashes: usize,
    pub token_cache_seconds: u64,
    pub require_verified_email: bool,
}

/// Webhook deliveries: where they may go, how long they are retried, when a failing webhook is disabled.
#[derive(Debug, Clone, Deserialize)]
pub struct WebhookSettings {
    pub allow_private_targets: bool,
    pub timeout_ms: u64,
    pub retry_base_ms: u64,
    pub retry_max_delay_ms: u64,
    pub retry_window_seconds: i64,
    pub disable_after_failures: i32,
}

/// How long personal data is kept once decisions are published.
#[derive(Debug, Clone, Deserialize)]
pub struct PrivacySettings {
    pub retention_months: u32,
    pub consented_retention_months: u32,
    pub retention_enabled: bool,
}

/// Log format and filter.
#[derive(Debug, Clone, Deserialize)]
pub struct LogSettings {
    pub format: LogFormat,
    pub level: String,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Json,
    Pretty,
}

impl Settings {
    /// Loads the settings from `config/` under the current directory (or `CORDEE_CONFIG_DIR`).
    pub fn load() -> Result<Settings, config::ConfigError> {
        let dir = std::env::var_os("CORDEE_CONFIG_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("config"));
        Self::load_from(&dir, std::env::var("CORDEE_ENV").ok().as_deref())
    }

    /// Loads the settings from `dir`, layering `{environment}.toml` and then the environment variables.
    pub fn load_from(
        dir: &Path,
        environment: Option<&str>,
    ) -> Result<Settings, config::ConfigError> {
        let mut builder =
            config::Config::builder().add_source(config::File::from(dir.join("default.toml")));
        if let Some(env) = environment.filter(|e| !e.is_empty()) {
            builder = builder.add_source(config::File::from(dir.join(format!("{env}.toml"))));
        }
        builder
            .add_source(
                config::Environment::with_prefix("CORDEE")
                    .prefix_separator("__")
                    .separator("__")
                    .try_parsing(true)
                    .list_separator(",")
                    .with_list_parse_key("server.cors_allowed_origins")
                    .with_list_parse_key("server.trusted_proxies"),
            )
            .build()?
            .try_deserialize()
    }

    /// Worker threads to run: the setting, or one per core when it is 0.
    pub fn http_workers(&self) -> usize {
        match self.server.workers {
            0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
            n => n,
        }
    }
}
