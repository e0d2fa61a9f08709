//! Webhook deliveries: where they may go, how they are signed, and how the worker sends them.
//!
//! A receiver verifies a delivery by computing `HMAC-SHA256(secret, "{Cordee-Timestamp}.{raw body}")`, hex
//! encoded, comparing it in constant time with the `v1=` value of `Cordee-Signature`, and refusing
//! timestamps too far from its own clock (see `docs/webhooks.md`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::Url;
use sha2::Sha256;

use crate::config::WebhookSettings;

/// The header naming the event (stable across retries: receivers de-duplicate on it).
pub const EVENT_ID_HEADER: &str = "Cordee-Event-Id";
/// The header carrying the event type.
pub const EVENT_TYPE_HEADER: &str = "Cordee-Event-Type";
/// The header naming this delivery.
pub const DELIVERY_ID_HEADER: &str = "Cordee-Delivery-Id";
/// The header carrying the signing time, in seconds since the Unix epoch.
pub const TIMESTAMP_HEADER: &str = "Cordee-Timestamp";
/// The header carrying `v1=<hex HMAC-SHA256>`.
pub const SIGNATURE_HEADER: &str = "Cordee-Signature";

/// Signs a delivery: the hex HMAC-SHA256 of `"{timestamp}.{body}"` under `secret`.
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Why a webhook target is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("not a valid absolute URL")]
    Malformed,
    #[error("only http and https URLs are allowed")]
    Scheme,
    #[error("user names and passwords do not belong in the URL; use the signing secret")]
    Credentials,
    #[error("the address {0} is not public (loopback, private, link-local or reserved)")]
    Private(String),
}

impl TargetError {
    /// A stable code for the API's error list.
    pub fn code(&self) -> &'static str {
        match self {
            TargetError::Malformed => "invalid_url",
            TargetError::Scheme => "unsupported_scheme",
            TargetError::Credentials => "credentials_in_url",
            TargetError::Private(_) => "private_address",
        }
    }
}

/// Parses a webhook target: http(s), no credentials, and unless `allow_private`, not an address or a name
/// that is obviously not public. Names are resolved again at every delivery, which refuses private answers.
pub fn check_target(raw: &str, allow_private: bool) -> Result<Url, TargetError> {
    let url = Url::parse(raw.trim()).map_err(|_| TargetError::Malformed)?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(TargetError::Scheme);
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(TargetError::Credentials);
    }
    let host = match url.host() {
        Some(host) => host,
        None => return Err(TargetError::Malformed),
    };
    if allow_private {
        return Ok(url);
    }
    let ip = match host {
        url::Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
        url::Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
        url::Host::Domain(name) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            if name == "localhost" || name.ends_with(".localhost") || name.ends_with(".internal") {
                return Err(TargetError::Private(name));
            }
            None
        }
    };
    match ip {
        Some(ip) if !is_public(ip) => Err(TargetError::Private(ip.to_string())),
        _ => Ok(url),
    }
}

/// Whether an address is reachable on the public internet (not loopback, private, link-local, shared,
/// documentation, benchmarking, multicast, unspecified or reserved). IPv6 forms that carry an IPv4 address
/// (IPv4-compatible, IPv4-mapped, SIIT, NAT64, 6to4, Teredo) are refused whatever the address they carry: a
/// translator on the path would otherwise take the delivery to that IPv4 address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

/// IPv6: only global unicast (`2000::/3`) outside the IANA special-purpose blocks. Everything outside
/// `2000::/3` is refused, which covers `::/8` (unspecified, loopback, IPv4-compatible `::a.b.c.d`,
/// IPv4-mapped `::ffff:a.b.c.d`, SIIT `::ffff:0:a.b.c.d`), NAT64 `64:ff9b::/96` and `64:ff9b:1::/48`, discard
/// `100::/64`, unique-local `fc00::/7`, link-local `fe80::/10`, site-local `fec0::/10` and multicast `ff00::/8`.
fn is_public_v6(ip: Ipv6Addr) -> bool {
    let [a, b, ..] = ip.segments();
    let global_unicast = (a & 0xe000) == 0x2000;
    global_unicast
        && !(a == 0x2001 && b < 0x0200) // IETF protocol assignments 2001::/23: Teredo, benchmarking, ORCHID…
        && !(a == 0x2001 && b == 0x0db8) // documentation 2001:db8::/32
        && a != 0x2002 // 6to4 2002::/16
        && (a & 0xfff0) != 0x3ff0 // documentation 3fff::/20
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_unspecified()
        || ip.is_multicast()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space 100.64.0.0/10
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240) // reserved
}

/// A DNS resolver that drops non-public answers, so that a public name cannot point a delivery at an
/// internal service (DNS rebinding).
struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| is_public(a.ip()))
                .collect();
            if addrs.is_empty() {
                return Err(format!("{host} resolves to no public address").into());
            }
            let addrs: Addrs = Box::new(addrs.into_iter());
            Ok(addrs)
        })
    }
}

/// Sends signed deliveries over HTTP.
#[derive(Clone)]
pub struct Sender {
    client: reqwest::Client,
    allow_private: bool,
}

/// The outcome of one attempt.
#[derive(Debug)]
pub enum Attempt {
    /// The receiver answered 2xx.
    Delivered { status: u16 },
    /// It answered something else, or could not be reached.
    Failed { status: Option<u16>, error: String },
}

/// One delivery to send.
pub struct Outgoing<'a> {
    pub url: &'a str,
    pub secret: &'a str,
    pub delivery_id: uuid::Uuid,
    pub event_id: uuid::Uuid,
    pub event_type: &'a str,
    pub body: &'a str,
}

impl Sender {
    /// A sender with the configured timeout; no redirects are followed.
    pub fn new(settings: &WebhookSettings) -> anyhow::Result<Sender> {
        // `no_proxy`: an HTTP(S)_PROXY or ALL_PROXY in the environment would take deliveries past the
        // resolver that refuses private addresses (the proxy resolves the name, not Cordée).
        let mut builder = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_millis(settings.timeout_ms.max(100)))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("Cordee-Webhooks/", env!("CARGO_PKG_VERSION")));
        if !settings.allow_private_targets {
            builder = builder.dns_resolver(Arc::new(PublicOnly));
        }
        Ok(Sender {
            client: builder.build()?,
            allow_private: settings.allow_private_targets,
        })
    }

    /// Signs and posts one delivery.
    pub async fn send(&self, outgoing: Outgoing<'_>, now: DateTime<Utc>) -> Attempt {
        // The target is checked again: the setting may have changed since the webhook was registered.
        let url = match check_target(outgoing.url, self.allow_private) {
            Ok(url) => url,
            Err(err) => {
                return Attempt::Failed {
                    status: None,
                    error: err.to_string(),
                }
            }
        };
        let timestamp = now.timestamp();
        let request = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(EVENT_ID_HEADER, outgoing.event_id.to_string())
            .header(EVENT_TYPE_HEADER, outgoing.event_type)
            .header(DELIVERY_ID_HEADER, outgoing.delivery_id.to_string())
            .header(TIMESTAMP_HEADER, timestamp.to_string())
            .header(
                SIGNATURE_HEADER,
                format!(
                    "v1={}",
                    signature(outgoing.secret, timestamp, outgoing.body)
                ),
            )
            .body(outgoing.body.to_owned());
        match request.send().await {
            Ok(response) if response.status().is_success() => Attempt::Delivered {
                status: response.status().as_u16(),
            },
            Ok(response) => Attempt::Failed {
                status: Some(response.status().as_u16()),
                error: format!("the receiver answered {}", response.status()),
            },
            Err(err) => Attempt::Failed {
                status: None,
                error: one_line_error(&err),
            },
        }
    }
}

/// The error with its causes, on one line.
fn one_line_error(err: &(dyn std::error::Error + 'static)) -> String {
    let mut message = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

/// When to try a delivery again after `attempts` failed attempts: `base * 2^(attempts-1)` capped at
/// `max_delay`, or `None` once that would fall after `created_at + window` (the delivery has failed for good).
pub fn retry_time(
    now: DateTime<Utc>,
    created_at: DateTime<Utc>,
    attempts: i32,
    settings: &WebhookSettings,
) -> Option<DateTime<Utc>> {
    let exponent = attempts.saturating_sub(1).clamp(0, 30) as u32;
    let delay_ms = settings
        .retry_base_ms
        .saturating_mul(1u64 << exponent)
        .min(settings.retry_max_delay_ms.max(1));
    let at = now + chrono::Duration::milliseconds(delay_ms as i64);
    (at <= created_at + chrono::Duration::seconds(settings.retry_window_seconds)).then_some(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> WebhookSettings {
        WebhookSettings {
            allow_private_targets: false,
            timeout_ms: 1000,
            retry_base_ms: 30_000,
            retry_max_delay_ms: 3_600_000,
            retry_window_seconds: 86_400,
            disable_after_failures: 50,
        }
    }

    #[test]
    fn signature_matches_a_known_hmac() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        let mut mac = Hmac::<Sha256>::new_from_slice(b"Jefe").unwrap();
        mac.update(b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(mac.finalize().into_bytes()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            signature("Jefe", 1_767_686_400, "{}"),
            signature("Jefe", 1_767_686_400, "{}")
        );
        assert_ne!(
            signature("Jefe", 1_767_686_400, "{}"),
            signature("Jefe", 1_767_686_401, "{}")
        );
        assert_ne!(
            signature("Jefe", 1_767_686_400, "{}"),
            signature("Jefe", 1_767_686_400, "{ }")
        );
    }

    #[test]
    fn only_public_http_targets_pass_by_default() {
        assert!(check_target("https://hooks.example.org/cordee", false).is_ok());
        assert!(check_target("http://203.0.113.9/x", false).is_err());
        assert_eq!(
            check_target("ftp://example.org/", false),
            Err(TargetError::Scheme)
        );
        assert_eq!(
            check_target("https://user:pw@example.org/", false),
            Err(TargetError::Credentials)
        );
        assert_eq!(
            check_target("not a url", false),
            Err(TargetError::Malformed)
        );
        for private in [
            "http://127.0.0.1:8080/",
            "http://localhost/",
            "http://api.localhost/",
            "http://10.1.2.3/",
            "http://172.16.0.1/",
            "http://192.168.1.1/",
            "http://169.254.169.254/latest/meta-data",
            "http://100.64.0.1/",
            "http://0.0.0.0/",
            "http://[::1]/",
            "http://[fd00::1]/",
            "http://[fe80::1]/",
            "http://[::ffff:127.0.0.1]/",
        ] {
            assert!(
                matches!(check_target(private, false), Err(TargetError::Private(_))),
                "{private} should be refused"
            );
            assert!(check_target(private, true).is_ok(), "{private} allowed");
        }
        assert!(is_public("8.8.8.8".parse().unwrap()));
        assert!(is_public("2a01:cb00::1".parse().unwrap()));
    }

    /// One address per special-purpose IPv6 range, and the IPv6 forms that embed a public or a private
    /// IPv4 address: all refused, at registration and by the resolver (which uses `is_public` too).
    #[test]
    fn special_purpose_and_ipv4_embedding_ipv6_addresses_are_refused() {
        for (range, address) in [
            ("unspecified", "::"),
            ("loopback", "::1"),
            ("IPv4-compatible, private", "::127.0.0.1"),
            ("IPv4-compatible, public", "::8.8.8.8"),
            ("IPv4-mapped, private", "::ffff:10.0.0.1"),
            ("IPv4-mapped, public", "::ffff:8.8.8.8"),
            ("SIIT IPv4-translated", "::ffff:0:127.0.0.1"),
            ("SIIT IPv4-translated, public", "::ffff:0:8.8.8.8"),
            ("NAT64 well-known prefix", "64:ff9b::7f00:1"),
            ("NAT64 well-known prefix, public", "64:ff9b::808:808"),
            ("NAT64 local-use prefix", "64:ff9b:1::a00:1"),
            ("discard-only", "100::1"),
            (
                "IETF protocol assignments",
                "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            ),
            ("Teredo", "2001::1"),
            ("benchmarking", "2001:2::1"),
            ("ORCHID", "2001:10::1"),
            ("ORCHIDv2", "2001:20::1"),
            ("documentation", "2001:db8::1"),
            ("documentation 3fff::/20", "3fff:0::1"),
            ("6to4, private", "2002:7f00:1::1"),
            ("6to4, public", "2002:808:808::1"),
            ("unique local", "fc00::1"),
            ("unique local fd", "fd12:3456::1"),
            ("link local", "fe80::1"),
            ("site local", "fec0::1"),
            ("multicast", "ff02::1"),
            ("multicast global", "ff0e::1"),
            ("reserved 4000::/3", "4000::1"),
        ] {
            let ip: IpAddr = address.parse().unwrap();
            assert!(!is_public(ip), "{range} ({address}) should not be public");
            let url = format!("https://[{address}]/hook");
            assert!(
                matches!(check_target(&url, false), Err(TargetError::Private(_))),
                "{range}: {url} should be refused"
            );
        }
        for public in [
            "2a01:cb00::1",
            "2606:4700:4700::1111",
            "2001:4860:4860::8888",
            "2c0f:fb50::1",
        ] {
            assert!(is_public(public.parse().unwrap()), "{public} is public");
        }
    }

    /// A one-shot HTTP server on 127.0.0.1 answering `status` to every connection; counts connections.
    async fn counting_server(status: u16) -> (u16, Arc<std::sync::atomic::AtomicUsize>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let count = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let seen = count.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let mut buffer = [0u8; 4096];
                let _ = socket.read(&mut buffer).await;
                let answer = format!(
                    "HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                );
                let _ = socket.write_all(answer.as_bytes()).await;
            }
        });
        (port, count)
    }

    #[tokio::test]
    async fn a_proxy_in_the_environment_is_never_used_for_deliveries() {
        let (proxy_port, proxied) = counting_server(502).await;
        let (receiver_port, received) = counting_server(200).await;
        let proxy = format!("http://127.0.0.1:{proxy_port}");
        for name in [
            "HTTP_PROXY",
            "HTTPS_PROXY",
            "ALL_PROXY",
            "http_proxy",
            "https_proxy",
            "all_proxy",
        ] {
            std::env::set_var(name, &proxy);
        }
        std::env::remove_var("NO_PROXY");
        std::env::remove_var("no_proxy");
        let sender = Sender::new(&WebhookSettings {
            allow_private_targets: true,
            ..settings()
        })
        .unwrap();
        for name in [
            "HTTP_PROXY",
            "HTTPS_PROXY",
            "ALL_PROXY",
            "http_proxy",
            "https_proxy",
            "all_proxy",
        ] {
            std::env::remove_var(name);
        }
        let url = format!("http://127.0.0.1:{receiver_port}/hook");
        let attempt = sender
            .send(
                Outgoing {
                    url: &url,
                    secret: "a-long-enough-signing-secret",
                    delivery_id: uuid::Uuid::nil(),
                    event_id: uuid::Uuid::nil(),
                    event_type: "call.published",
                    body: "{}",
                },
                Utc::now(),
            )
            .await;
        assert!(
            matches!(attempt, Attempt::Delivered { status: 200 }),
            "{attempt:?}"
        );
        assert_eq!(proxied.load(std::sync::atomic::Ordering::SeqCst), 0);
        assert_eq!(received.load(std::sync::atomic::Ordering::SeqCst), 1);
    }

    #[test]
    fn retries_back_off_until_the_window_closes() {
        let settings = settings();
        let created = Utc::now();
        let delay = |now: DateTime<Utc>, attempts| {
            retry_time(now, created, attempts, &settings).map(|t| (t - now).num_seconds())
        };
        assert_eq!(delay(created, 1), Some(30));
        assert_eq!(delay(created, 2), Some(60));
        assert_eq!(delay(created, 10), Some(3600));
        let late = created + chrono::Duration::hours(23) + chrono::Duration::minutes(30);
        assert_eq!(delay(late, 12), None, "past the one-day window");
        // Attempts over a day with the defaults: about 30.
        let mut now = created;
        let mut attempts = 1;
        while let Some(at) = retry_time(now, created, attempts, &settings) {
            now = at;
            attempts += 1;
        }
        assert!((25..=35).contains(&attempts), "{attempts} attempts");
        assert!(now - created <= chrono::Duration::days(1));
    }
}
