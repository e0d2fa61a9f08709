//! Builds the application from a `Settings` value: pool, migrations, workers, HTTP server. Binds before
//! serving, so that port 0 works and the chosen address can be reported. Every answer leaves with the
//! security headers, through the CORS allow-list, from a server that drops slow clients.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_cors::Cors;
use actix_web::dev::{Server, ServerHandle, Service};
use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::{web, App, HttpMessage, HttpServer};
use tokio::sync::{watch, Notify};
use tokio::task::JoinHandle;
use tracing_actix_web::{RequestId, TracingLogger};
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::SwaggerUi;

use crate::api;
use crate::api::ops::Metrics;
use crate::auth::password::PasswordHasherPool;
use crate::auth::throttle::Throttles;
use crate::auth::token_cache::TokenCache;
use crate::clock::Clock;
use crate::config::Settings;
use crate::db::Db;
use crate::notify::templates::Templates;
use crate::notify::transport::Transport;
use crate::notify::worker::Worker;
use crate::state::AppState;
use crate::storage::Storage;
use crate::telemetry::RequestSpan;

/// The `endpoint` label of requests to paths that match no route.
pub const UNMATCHED_PATH_LABEL: &str = "unmatched";

/// A running Cordée: the HTTP server and the delivery worker.
pub struct Application {
    port: u16,
    server: Server,
    worker: Option<JoinHandle<()>>,
    shutdown: watch::Sender<bool>,
}

impl Application {
    /// Starts Cordée with the system clock.
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        Self::build_with_clock(settings, Clock::system()).await
    }

    /// Starts Cordée with the given clock: connects, migrates, binds and spawns the worker.
    pub async fn build_with_clock(settings: Settings, clock: Clock) -> anyhow::Result<Application> {
        let db_settings = settings.database.clone();
        let storage = Storage::from_settings(&settings.storage)?;
        let sweep = (
            storage.clone(),
            settings.storage.sweep_grace_seconds,
            clock.clone(),
        );
        let db = tokio::task::spawn_blocking(move || -> anyhow::Result<Db> {
            let db = Db::connect(&db_settings)?;
            crate::service::upgrade::migrate(&db)?;
            let (storage, grace_seconds, clock) = sweep;
            crate::jobs::files::sweep_at_start(
                &mut *db.write_connection()?,
                storage,
                grace_seconds,
                &clock,
            )?;
            Ok(db)
        })
        .await??;
        let max_hashes = settings.auth.max_concurrent_hashes;
        let hasher =
            tokio::task::spawn_blocking(move || PasswordHasherPool::new(max_hashes)).await??;
        let transport = Transport::from_settings(&settings.email)?;
        Self::start(settings, clock, (db, storage), hasher, transport)
    }

    fn start(
        settings: Settings,
        clock: Clock,
        (db, storage): (Db, Storage),
        hasher: PasswordHasherPool,
        transport: Transport,
    ) -> anyhow::Result<Application> {
        let listener = TcpListener::bind((settings.server.host.as_str(), settings.server.port))
            .map_err(|e| {
                anyhow::anyhow!(
                    "cannot listen on {}:{}: {e}",
                    settings.server.host,
                    settings.server.port
                )
            })?;
        let address = listener.local_addr()?;
        let cors_origins = allowed_origins(&settings.server.cors_allowed_origins)?;
        let hsts = settings.app.public_url.starts_with("https://");
        let wakeup = Arc::new(Notify::new());
        let (shutdown, shutdown_rx) = watch::channel(false);
        let state = web::Data::new(AppState {
            throttles: Throttles::from_settings(&settings),
            templates: Arc::new(
                Templates::builtin()
                    .with_max_rendered_bytes(settings.email.max_rendered_bytes)
                    .with_association_name(&settings.organization.name),
            ),
            token_cache: TokenCache::new(std::time::Duration::from_secs(
                settings.auth.token_cache_seconds,
            )),
            settings: settings.clone(),
            db,
            storage,
            clock: clock.clone(),
            hasher,
            outbox_wakeup: wakeup.clone(),
        });
        let webhook_sender = crate::notify::webhooks::Sender::new(&settings.webhooks)?;
        let worker = settings.email.worker_enabled.then(|| {
            let worker = Worker {
                db: state.db.clone(),
                clock: state.clock.clone(),
                settings: settings.email.clone(),
                transport,
                wakeup,
                state: state.clone(),
                webhooks: webhook_sender,
            };
            tokio::spawn(crate::jobs::run(worker, shutdown_rx))
        });
        let metrics = Metrics::new()?;
        // Paths that match no route share one label: otherwise every made-up URL would become a series of
        // its own, kept for ever (memory and /metrics grow with each one).
        let prometheus = actix_web_prom::PrometheusMetricsBuilder::new("cordee")
            .registry(metrics.registry.clone())
            .mask_unmatched_patterns(UNMATCHED_PATH_LABEL)
            .build()
            .map_err(|e| anyhow::anyhow!("metrics: {e}"))?;
        let metrics = web::Data::new(metrics);
        let count_header = settings.server.sql_statements_header;
        let server = HttpServer::new(move || {
            let statements_metric = metrics.statements.clone();
            let cors = cors(&cors_origins);
            App::new()
                .app_data(state.clone())
                .app_data(metrics.clone())
                .wrap_fn(move |req, srv| {
                    let response = crate::db::statements::count(srv.call(req));
                    let statements_metric = statements_metric.clone();
                    async move {
                        let (response, statements) = response.await;
                        let mut response = response?;
                        statements_metric.observe(statements as f64);
                        if count_header {
                            response.headers_mut().insert(
                                HeaderName::from_static("x-sql-statements"),
                                HeaderValue::from(statements),
                            );
                        }
                        Ok(response)
                    }
                })
                .wrap(api::problem_json_errors())
                .wrap(cors)
                // Again, for the preflights the CORS layer refuses itself.
                .wrap(api::problem_json_errors())
                .wrap_fn(move |req, srv| {
                    let authenticated = req.headers().contains_key(header::AUTHORIZATION);
                    let docs = req.path() == "/docs" || req.path().starts_with("/docs/");
                    let response = srv.call(req);
                    async move {
                        let mut response = response.await?;
                        security_headers(response.headers_mut(), authenticated, docs, hsts);
                        Ok(response)
                    }
                })
                .wrap_fn(|req, srv| {
                    let request_id = req.extensions().get::<RequestId>().copied();
                    let response = srv.call(req);
                    async move {
                        let mut response = response.await?;
                        if let Some(id) =
                            request_id.and_then(|id| HeaderValue::from_str(&id.to_string()).ok())
                        {
                            response
                                .headers_mut()
                                .insert(HeaderName::from_static("x-request-id"), id);
                        }
                        Ok(response)
                    }
                })
                .wrap(prometheus.clone())
                .wrap(TracingLogger::<RequestSpan>::new())
                .into_utoipa_app()
                .openapi(api::openapi_base())
                .configure(api::routes)
                .openapi_service(|openapi| {
                    SwaggerUi::new("/docs/{_:.*}").url("/api-docs/openapi.json", openapi)
                })
                .default_service(web::to(api::not_found))
                .into_app()
                .route("/docs", web::get().to(api::ops::docs_without_slash))
                // The pages behind the emailed links: HTML, not API, so not in the OpenAPI document.
                .configure(api::pages::routes)
        })
        .workers(settings.http_workers())
        .shutdown_timeout(settings.server.shutdown_timeout_seconds)
        .client_request_timeout(Duration::from_millis(
            settings.server.client_request_timeout_ms,
        ))
        .client_disconnect_timeout(Duration::from_millis(
            settings.server.client_disconnect_timeout_ms,
        ))
        .keep_alive(Duration::from_secs(settings.server.keep_alive_seconds))
        .listen(listener)?
        .run();
        tracing::info!(%address, database = ?state_backend(&settings), "Cordée is listening on http://{address}");
        Ok(Application {
            port: address.port(),
            server,
            worker,
            shutdown,
        })
    }

    /// The port the server listens on (useful with port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A handle to stop the server from elsewhere.
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// Serves until the server stops (SIGTERM/SIGINT, or a handle's `stop`), letting in-flight requests
    /// finish, then stops the delivery worker after the batch it holds.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let served = self.server.await;
        let _ = self.shutdown.send(true);
        if let Some(worker) = self.worker {
            if let Err(err) = worker.await {
                tracing::error!(error = %err, "the outbox worker ended abnormally");
            }
        }
        served
    }
}

/// The policy of every answer: JSON is never a page, so it may load nothing and be framed by nobody.
const API_CSP: &str = "default-src 'none'; frame-ancestors 'none'";

/// The policy of Swagger UI (`/docs`): its scripts, styles and the OpenAPI document come from this server; it
/// draws inline styles and data: images; it loads nothing from elsewhere.
const DOCS_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// Adds the security headers an answer lacks: no MIME sniffing, no framing, no referrer, a content security
/// policy, `Cache-Control: no-store` when the request was authenticated, HSTS behind an https public URL,
/// and the headers a cross-origin caller may read when its origin is allowed.
fn security_headers(headers: &mut HeaderMap, authenticated: bool, docs: bool, hsts: bool) {
    let cross_origin = headers.contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN);
    let mut set_default = |name: HeaderName, value: &'static str| {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    };
    set_default(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set_default(header::X_FRAME_OPTIONS, "DENY");
    set_default(header::REFERRER_POLICY, "no-referrer");
    set_default(
        header::CONTENT_SECURITY_POLICY,
        if docs { DOCS_CSP } else { API_CSP },
    );
    if authenticated {
        set_default(header::CACHE_CONTROL, "no-store");
    }
    if hsts {
        set_default(header::STRICT_TRANSPORT_SECURITY, "max-age=31536000");
    }
    if cross_origin {
        set_default(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            "etag, location, retry-after, content-disposition, x-request-id",
        );
    }
}

/// The configured CORS origins, each checked to be an origin (`scheme://host[:port]`, http or https) and
/// written as browsers send it, so that a typo fails at start-up rather than silently allowing nobody.
fn allowed_origins(configured: &[String]) -> anyhow::Result<Vec<String>> {
    configured
        .iter()
        .map(|raw| raw.trim())
        .filter(|raw| !raw.is_empty())
        .map(|raw| {
            let url = url::Url::parse(raw)
                .map_err(|e| anyhow::anyhow!("server.cors_allowed_origins: {raw:?}: {e}"))?;
            let origin = url.origin().ascii_serialization();
            let is_origin = matches!(url.scheme(), "http" | "https")
                && url.path() == "/"
                && url.query().is_none()
                && origin == raw.trim_end_matches('/').to_ascii_lowercase();
            if !is_origin {
                anyhow::bail!(
                    "server.cors_allowed_origins: {raw:?} is not an origin such as https://app.example.org"
                );
            }
            Ok(origin)
        })
        .collect()
}

/// The CORS layer: preflights from the allowed origins are answered for the methods and headers the API
/// uses; other origins get no CORS headers at all (their browsers then refuse to read the answers). The
/// exposed headers are added by `security_headers`, only beside an allowed origin (actix-cors would send
/// them on every answer).
fn cors(origins: &[String]) -> Cors {
    let mut cors = Cors::default()
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE"])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::IF_MATCH,
            header::ACCEPT,
            HeaderName::from_static("idempotency-key"),
        ])
        .max_age(3600);
    for origin in origins {
        cors = cors.allowed_origin(origin);
    }
    cors
}

fn state_backend(settings: &Settings) -> crate::db::Backend {
    use secrecy::ExposeSecret;
    crate::db::Backend::from_url(settings.database.url.expose_secret())
}
