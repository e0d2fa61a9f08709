//! Operations: liveness, readiness, metrics.

use actix_web::{get, web, HttpResponse};
use prometheus::{Encoder, IntGaugeVec, Opts, Registry, TextEncoder};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{Error, Problem};
use crate::state::AppState;
use crate::store::outbox;

/// The answer of `/health` and `/ready`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Status {
    /// `ok`, or what is wrong.
    pub status: String,
}

/// 200 while the process serves.
#[utoipa::path(tag = "operations", responses((status = 200, body = Status)))]
#[get("/health")]
pub async fn health() -> HttpResponse {
    HttpResponse::Ok().json(Status {
        status: "ok".into(),
    })
}

/// 200 when the database answers and every migration is applied, else 503.
#[utoipa::path(tag = "operations", responses((status = 200, body = Status), (status = 503, body = Problem)))]
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

/// The Prometheus registry of the process, with the outbox gauge that `/metrics` refreshes.
pub struct Metrics {
    pub registry: Registry,
    outbox: IntGaugeVec,
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
        Ok(Metrics { registry, outbox })
    }
}

/// Prometheus metrics (request counts and latencies, the outbox by status). Bind to loopback in production.
#[utoipa::path(tag = "operations", responses((status = 200, description = "Prometheus text format", content_type = "text/plain")))]
#[get("/metrics")]
pub async fn metrics(
    state: web::Data<AppState>,
    metrics: web::Data<Metrics>,
) -> Result<HttpResponse, Error> {
    // A database outage must not hide the process metrics: the outbox gauge is then left as it was.
    if let Ok(counts) = state
        .db
        .read(|conn| Ok(outbox::count_by_status(conn)?))
        .await
    {
        for status in ["pending", "sending", "sent", "failed"] {
            let n = counts
                .iter()
                .find(|(s, _)| s == status)
                .map_or(0, |(_, n)| *n);
            metrics.outbox.with_label_values(&[status]).set(n);
        }
    }
    let mut buffer = Vec::new();
    TextEncoder::new()
        .encode(&metrics.registry.gather(), &mut buffer)
        .map_err(|e| Error::Internal(e.into()))?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(buffer))
}
