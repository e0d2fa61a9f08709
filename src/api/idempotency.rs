//! `Idempotency-Key` on creating and submitting POSTs: the same key with the same body replays the first
//! answer; with another body it is a 422; while the first request still runs, a retry waits a moment for its
//! answer, then gets 409.

use std::future::Future;
use std::time::Duration;

use actix_web::http::{header, StatusCode};
use actix_web::{HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::Error;
use crate::state::AppState;
use crate::store::idempotency::{self, Claim};

/// How long a retry waits for the first request with its key to finish.
const WAIT_FOR_FIRST: Duration = Duration::from_secs(5);
/// A claim older than this without an answer belonged to a server that died: it is taken over.
const ABANDONED_AFTER_SECONDS: i64 = 60;

/// A successful JSON answer that can be stored and replayed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Reply {
    pub status: u16,
    pub body: serde_json::Value,
    pub etag: Option<String>,
}

impl Reply {
    /// A JSON answer with `status`.
    pub fn json(status: StatusCode, body: impl Serialize) -> Result<Reply, Error> {
        let body = serde_json::to_value(body).map_err(|e| Error::Internal(e.into()))?;
        Ok(Reply {
            status: status.as_u16(),
            body,
            etag: None,
        })
    }

    /// The same answer with an `ETag`.
    pub fn with_etag(mut self, etag: String) -> Reply {
        self.etag = Some(etag);
        self
    }

    fn into_response(self, replayed: bool) -> HttpResponse {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::OK);
        let mut response = HttpResponse::build(status);
        if let Some(etag) = self.etag {
            response.insert_header((header::ETAG, etag));
        }
        if replayed {
            response.insert_header(("Idempotent-Replayed", "true"));
        }
        response.json(self.body)
    }
}

fn key_of(req: &HttpRequest) -> Result<Option<String>, Error> {
    let Some(value) = req.headers().get("Idempotency-Key") else {
        return Ok(None);
    };
    let key = value.to_str().map_err(|_| bad_key())?.trim();
    if key.is_empty() || key.len() > 255 {
        return Err(bad_key());
    }
    Ok(Some(key.to_owned()))
}

fn bad_key() -> Error {
    Error::field(
        "Idempotency-Key",
        "invalid_key",
        "1 to 255 visible ASCII characters",
    )
}

/// Runs `handler` once per `Idempotency-Key` of `user_id` (every time when the request has no key).
/// `body_hash` identifies the request body.
pub async fn once<F, Fut>(
    state: &AppState,
    req: &HttpRequest,
    user_id: Uuid,
    body_hash: &str,
    handler: F,
) -> Result<HttpResponse, Error>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Reply, Error>>,
{
    let Some(key) = key_of(req)? else {
        return Ok(handler().await?.into_response(false));
    };
    let route = format!("{} {}", req.method(), req.path());
    let request_hash = hex::encode(Sha256::digest(format!("{route}\n{body_hash}").as_bytes()));
    let deadline = tokio::time::Instant::now() + WAIT_FOR_FIRST;
    let mut pause = Duration::from_millis(5);
    loop {
        let now = state.clock.now();
        let stale_before = now - chrono::Duration::seconds(ABANDONED_AFTER_SECONDS);
        let (k, r, h) = (key.clone(), route.clone(), request_hash.clone());
        let claim = state
            .db
            .write(move |conn| {
                Ok(idempotency::claim(
                    conn,
                    user_id,
                    &k,
                    &r,
                    &h,
                    now,
                    stale_before,
                )?)
            })
            .await?;
        match claim {
            Claim::Run => break,
            Claim::Mismatch => {
                return Err(Error::field(
                    "Idempotency-Key",
                    "key_reused",
                    "this key was already used for a different request",
                ))
            }
            Claim::Replay { body, .. } => {
                let reply: Reply =
                    serde_json::from_str(&body).map_err(|e| Error::Internal(e.into()))?;
                return Ok(reply.into_response(true));
            }
            Claim::InFlight if tokio::time::Instant::now() >= deadline => {
                return Err(Error::refused(
                    "idempotency_key_in_flight",
                    "a request with this Idempotency-Key is still in progress",
                ))
            }
            Claim::InFlight => {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_millis(100));
            }
        }
    }
    match handler().await {
        Ok(reply) => {
            let stored = serde_json::to_string(&reply).map_err(|e| Error::Internal(e.into()))?;
            let status = i32::from(reply.status);
            state
                .db
                .write(move |conn| Ok(idempotency::finish(conn, user_id, &key, status, &stored)?))
                .await?;
            Ok(reply.into_response(false))
        }
        Err(err) => {
            // A failed request changed nothing: the client may retry with the same key.
            let release = state
                .db
                .write(move |conn| Ok(idempotency::release(conn, user_id, &key)?))
                .await;
            if let Err(release_err) = release {
                tracing::warn!(error = %release_err, "could not release an idempotency key");
            }
            Err(err)
        }
    }
}
