//! A webhook receiver: a real HTTP server run by the test, keeping every delivery it accepts, and the
//! receiver's check of a signature as `docs/webhooks.md` documents it.

use std::collections::BTreeSet;
use std::net::TcpListener;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{web, HttpRequest, HttpResponse, HttpServer};
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

/// A delivery as the receiver got it.
#[derive(Debug, Clone)]
pub(crate) struct Received {
    pub(crate) event_id: String,
    pub(crate) event_type: String,
    pub(crate) timestamp: String,
    pub(crate) signature: String,
    pub(crate) body: String,
}

impl Received {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

/// The receiver's side of `docs/webhooks.md`: HMAC-SHA256 over `"{timestamp}.{body}"` with the shared
/// secret, hex-encoded, compared in constant time with the `v1=` value; timestamps more than five minutes
/// from `now` are refused.
pub(crate) fn verify(
    secret: &str,
    timestamp: &str,
    body: &str,
    signature_header: &str,
    now: i64,
) -> bool {
    let Ok(ts) = timestamp.parse::<i64>() else {
        return false;
    };
    if (now - ts).abs() > 300 {
        return false;
    }
    let Some(hex_signature) = signature_header
        .split(',')
        .find_map(|part| part.trim().strip_prefix("v1="))
    else {
        return false;
    };
    let Ok(given) = hex::decode(hex_signature) else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{timestamp}.{body}").as_bytes());
    mac.verify_slice(&given).is_ok()
}

/// A webhook receiver on 127.0.0.1 that answers with the status it is told to (200 when up).
pub(crate) struct Receiver {
    pub(crate) url: String,
    answer: Arc<AtomicU16>,
    received: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    pub(crate) async fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let answer = Arc::new(AtomicU16::new(200));
        let received = Arc::new(Mutex::new(Vec::new()));
        let (a, r) = (answer.clone(), received.clone());
        let server = HttpServer::new(move || {
            let (a, r) = (a.clone(), r.clone());
            actix_web::App::new().default_service(web::to(move |req: HttpRequest, body: String| {
                let (a, r) = (a.clone(), r.clone());
                async move {
                    let header = |name: &str| {
                        req.headers()
                            .get(name)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default()
                            .to_owned()
                    };
                    let status = a.load(Ordering::SeqCst);
                    if status == 200 {
                        r.lock().unwrap().push(Received {
                            event_id: header("Cordee-Event-Id"),
                            event_type: header("Cordee-Event-Type"),
                            timestamp: header("Cordee-Timestamp"),
                            signature: header("Cordee-Signature"),
                            body,
                        });
                    }
                    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap())
                        .finish()
                }
            }))
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        tokio::spawn(server);
        Receiver {
            url: format!("http://127.0.0.1:{port}/hooks/cordee"),
            answer,
            received,
        }
    }

    pub(crate) fn answer_with(&self, status: u16) {
        self.answer.store(status, Ordering::SeqCst);
    }

    pub(crate) fn all(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Waits until deliveries of every one of `ids` arrived; returns everything received.
    pub(crate) async fn wait_for_events(&self, ids: &BTreeSet<String>) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let all = self.all();
            let got: BTreeSet<String> = all.iter().map(|r| r.event_id.clone()).collect();
            if ids.is_subset(&got) {
                return all;
            }
            assert!(
                Instant::now() < deadline,
                "missing deliveries: {:?}",
                ids.difference(&got).collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
