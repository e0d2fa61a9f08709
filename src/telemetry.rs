//! Structured logs: one line per event, JSON in production, with the request id of each request.
//!
//! Each request runs in a root span ([`RequestSpan`]); when its answer is an error, one event says so: a
//! client error (4xx) at INFO on one line (status, code, detail, request id), a server error (5xx) at ERROR
//! with the full cause chain of the error. Colour only when stderr is a terminal.

use std::io::IsTerminal;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::HttpMessage;
use tracing::{Level, Span};
use tracing_actix_web::{DefaultRootSpanBuilder, RequestId, RootSpanBuilder};
use tracing_subscriber::{fmt, EnvFilter};

use crate::config::{LogFormat, LogSettings};
use crate::error::Error;

/// Installs the global subscriber; `RUST_LOG` wins over the settings' level.
pub fn init(settings: &LogSettings) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&settings.level));
    let builder = fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let result = match settings.format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Pretty => builder.try_init(),
    };
    // Already installed (tests start several applications in one process): keep the first.
    drop(result);
}

/// The level an answer with this status is logged at: none for a success or a redirect, INFO for a client
/// error (the client was told why; nothing for an operator to do), ERROR for a server error.
pub fn log_level_of(status: StatusCode) -> Option<Level> {
    if status.is_server_error() {
        Some(Level::ERROR)
    } else if status.is_client_error() {
        Some(Level::INFO)
    } else {
        None
    }
}

/// The root span of each request (tracing-actix-web's default fields: method, route, request id…) and, at
/// its end, one event for an error answer at the level [`log_level_of`] gives.
pub struct RequestSpan;

impl RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        DefaultRootSpanBuilder::on_request_start(request)
    }

    fn on_request_end<B: MessageBody>(
        span: Span,
        outcome: &Result<ServiceResponse<B>, actix_web::Error>,
    ) {
        let (status, error, request_id) = match outcome {
            Ok(response) => (
                response.status(),
                response.response().error(),
                response.request().extensions().get::<RequestId>().copied(),
            ),
            Err(error) => (error.as_response_error().status_code(), Some(error), None),
        };
        span.record("http.status_code", i32::from(status.as_u16()));
        let otel_status = if status.is_server_error() {
            "ERROR"
        } else {
            "OK"
        };
        span.record("otel.status_code", otel_status);
        let Some(level) = log_level_of(status) else {
            return;
        };
        let cordee = error.and_then(|e| e.as_error::<Error>());
        let code = cordee.and_then(|e| e.problem().code);
        let detail = match (cordee, error) {
            (Some(e), _) => e.log_detail(),
            (None, Some(e)) => e.to_string(),
            (None, None) => status.canonical_reason().unwrap_or_default().to_owned(),
        };
        if error.is_some() {
            span.record("exception.message", tracing::field::display(&detail));
        }
        let request_id = request_id.map(tracing::field::display);
        let status = status.as_u16();
        if level == Level::ERROR {
            tracing::error!(status, code, request_id, error = %detail, "request failed");
        } else {
            tracing::info!(status, code, request_id, detail = %detail, "request refused");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_errors_are_info_server_errors_are_error_the_rest_is_silent() {
        let table = [
            (200, None),
            (201, None),
            (204, None),
            (304, None),
            (400, Some(Level::INFO)),
            (401, Some(Level::INFO)),
            (403, Some(Level::INFO)),
            (404, Some(Level::INFO)),
            (409, Some(Level::INFO)),
            (422, Some(Level::INFO)),
            (429, Some(Level::INFO)),
            (500, Some(Level::ERROR)),
            (503, Some(Level::ERROR)),
        ];
        for (status, level) in table {
            let status = StatusCode::from_u16(status).unwrap();
            assert_eq!(log_level_of(status), level, "{status}");
        }
    }
}
