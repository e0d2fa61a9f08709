//! Operations: liveness, readiness, metrics.

use actix_web::http::header;
use actix_web::{get, web, HttpRequest, HttpResponse};
use prometheus::{Encoder, Histogram, HistogramOpts, IntGaugeVec, Opts, Registry, TextEncoder};
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::domain::delivery::{DeliveryStatus, OutboxStatus};
use crate::error::{Error, Problem};
use crate::state::AppState;
use crate::store::{outbox, webhooks};

/// The answer of `/health` and `/ready`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Status {
    /// `ok`, or what is wrong.
    pub status: String,
}

/// 200 while the process serves.
#[utoipa::path(operation_id = "getHealth", tag = "operations", responses((status = 200, body = Status)))]
#[get("/health")]
pub async fn health() -> HttpResponse {
    HttpResponse::Ok().json(Status {
        status: "ok".into(),
    })
}

/// `/docs` without its trailing slash: a permanent redirect to `/docs/`, where Swagger UI is served (its pages
/// load their scripts relative to that folder).
pub async fn docs_without_slash() -> HttpResponse {
    HttpResponse::PermanentRedirect()
        .insert_header((header::LOCATION, "/docs/"))
        .finish()
}

/// 200 when the database answers and every migration is applied, else 503.
#[utoipa::path(operation_id = "getReadiness", tag = "operations", responses((status = 200, body = Status), (status = 503, body = Problem)))]
#[get("/ready")]
pub async fn ready(state: web::Data<AppState>) -> Result<HttpResponse, Error> {
    let db = state.db.clone();
    let ready = tokio::task::spawn_blocking(move || db.is_ready())
        .await
        .unwrap_or(false);
    if ready {
        Ok(HttpResponse::Ok().json(Status {
            status: "ok".into(),
        }))
    } else {
        Err(Error::Unavailable(
            "the database is unreachable or has pending migrations".into(),
        ))
    }
}

/// The Prometheus registry of the process, with the outbox gauges that `/metrics` refreshes.
pub struct Metrics {
    pub registry: Registry,
    outbox: IntGaugeVec,
    webhooks: IntGaugeVec,
    /// SQL statements run per HTTP request.
    pub statements: Histogram,
}

impl Metrics {
    /// A registry with Cordée's own metrics registered.
    pub fn new() -> anyhow::Result<Metrics> {
        let registry = Registry::new();
        let outbox = IntGaugeVec::new(
            Opts::new("cordee_outbox_emails", "Emails in the outbox by status"),
            &["status"],
        )?;
        registry.register(Box::new(outbox.clone()))?;
        let webhooks = IntGaugeVec::new(
            Opts::new("cordee_webhook_deliveries", "Webhook deliveries by status"),
            &["status"],
        )?;
        registry.register(Box::new(webhooks.clone()))?;
        let statements = Histogram::with_opts(
            HistogramOpts::new(
                "cordee_sql_statements_per_request",
                "SQL statements run by one HTTP request",
            )
            .buckets(vec![1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 16.0, 32.0, 64.0]),
        )?;
        registry.register(Box::new(statements.clone()))?;
        Ok(Metrics {
            registry,
            outbox,
            webhooks,
            statements,
        })
    }
}

/// Prometheus metrics (request counts and latencies, emails and webhook deliveries by status). When
/// `server.metrics_token` is set, only for `Authorization: Bearer <that token>` (else 401).
#[utoipa::path(
    operation_id = "getMetrics",
    tag = "operations",
    responses(
        (status = 200, description = "Prometheus text format", content_type = "text/plain"),
        (status = 401, description = "`server.metrics_token` is set and the request does not carry it", body = Problem),
    )
)]
#[get("/metrics")]
pub async fn metrics(
    request: HttpRequest,
    state: web::Data<AppState>,
    metrics: web::Data<Metrics>,
) -> Result<HttpResponse, Error> {
    if let Some(expected) = state.settings.server.metrics_token() {
        let presented = request
            .headers()
            .get(actix_web::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        // Compared as digests, so that the time taken says nothing about the token.
        if Sha256::digest(presented.as_bytes()) != Sha256::digest(expected.as_bytes()) {
            return Err(Error::Unauthorized(
                "the metrics need the token set in server.metrics_token".into(),
            ));
        }
    }
    // A database outage must not hide the process metrics: the gauges are then left as they were.
    if let Ok((emails, deliveries)) = state
        .db
        .read(|conn| {
            Ok((
                outbox::count_by_status(conn)?,
                webhooks::count_by_status(conn)?,
            ))
        })
        .await
    {
        set_by_status(&metrics.outbox, OutboxStatus::ALL, &emails);
        set_by_status(&metrics.webhooks, DeliveryStatus::ALL, &deliveries);
    }
    let mut buffer = Vec::new();
    TextEncoder::new()
        .encode(&metrics.registry.gather(), &mut buffer)
        .map_err(|e| Error::Internal(e.into()))?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(buffer))
}

/// Sets one gauge per status, zero for a status with no row.
fn set_by_status<S: Copy + PartialEq + std::fmt::Display>(
    gauge: &IntGaugeVec,
    statuses: &[S],
    counts: &[(S, i64)],
) {
    for status in statuses {
        let n = counts
            .iter()
            .find(|(s, _)| s == status)
            .map_or(0, |(_, n)| *n);
        gauge.with_label_values(&[&status.to_string()]).set(n);
    }
}
