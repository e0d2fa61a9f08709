//! Email transports: `.eml` files on disk, SMTP through lettre, or memory.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;

use crate::config::{EmailSettings, SmtpTls, TransportKind};

/// A message ready to hand to a transport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingEmail {
    /// Message-ID without angle brackets, e.g. `0190...@cordee`.
    pub message_id: String,
    /// Recipient address.
    pub to: String,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub text: String,
    /// HTML body.
    pub html: String,
}

/// Why a message could not be sent, and whether retrying may help.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// Retrying will not help: invalid address, 5xx SMTP reply.
    #[error("permanent email delivery failure: {0}")]
    Permanent(String),
    /// Retrying later may help: connection refused, timeout, 4xx SMTP reply, I/O error.
    #[error("transient email delivery failure: {0}")]
    Transient(String),
}

/// An SMTP relay and how long one message's exchange with it may take.
#[derive(Debug, Clone)]
pub struct Smtp {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    /// lettre bounds only the connection with its own timeout: a server that accepts the connection and
    /// then stops answering would hold the worker for ever, so the whole exchange is bounded here.
    timeout: Duration,
}

/// Messages captured by the memory transport.
pub type Outbox = Arc<Mutex<Vec<Message>>>;

/// Where outgoing email goes. Cheap to clone.
#[derive(Debug, Clone)]
pub enum Transport {
    /// Writes one `{message_id}.eml` file per message into this directory.
    File(PathBuf),
    /// Sends through an SMTP server.
    Smtp(Smtp),
    /// Keeps messages in memory (tests, development).
    Memory(Outbox),
}

impl Transport {
    /// Builds the transport chosen in the settings. No connection is made yet.
    pub fn from_settings(settings: &EmailSettings) -> anyhow::Result<Transport> {
        match settings.transport {
            TransportKind::File => Ok(Transport::File(settings.file_dir.clone())),
            TransportKind::Memory => Ok(Transport::memory().0),
            TransportKind::Smtp => smtp_from_settings(settings).map(Transport::Smtp),
        }
    }

    /// A memory transport and a handle on the messages it receives.
    pub fn memory() -> (Transport, Outbox) {
        let outbox = Outbox::default();
        (Transport::Memory(Arc::clone(&outbox)), outbox)
    }

    /// Sends `email` from the `from` address (e.g. `Cordée <no-reply@cordee.local>`).
    pub async fn send(&self, from: &str, email: &OutgoingEmail) -> Result<(), SendError> {
        let message = build_message(from, email)?;
        match self {
            Transport::File(dir) => write_eml(dir, &email.message_id, &message.formatted()).await,
            Transport::Smtp(smtp) => {
                tokio::time::timeout(smtp.timeout, smtp.transport.send(message))
                    .await
                    .map_err(|_| {
                        SendError::Transient(format!(
                            "the SMTP server did not complete the exchange within {} s",
                            smtp.timeout.as_secs_f64()
                        ))
                    })?
                    .map_err(|err| {
                        if err.is_permanent() {
                            SendError::Permanent(err.to_string())
                        } else {
                            SendError::Transient(err.to_string())
                        }
                    })?;
                tracing::debug!(message_id = %email.message_id, "email sent over SMTP");
                Ok(())
            }
            Transport::Memory(outbox) => {
                outbox
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .push(message);
                Ok(())
            }
        }
    }
}

/// Builds the SMTP transport from the settings: `smtp_timeout_seconds` bounds the connection and, as a
/// whole, the exchange of each message.
fn smtp_from_settings(settings: &EmailSettings) -> anyhow::Result<Smtp> {
    let host = settings.smtp_host.as_str();
    let builder = match settings.smtp_tls {
        SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
        SmtpTls::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)
            .with_context(|| format!("setting up STARTTLS for SMTP host {host}"))?,
        SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host)
            .with_context(|| format!("setting up TLS for SMTP host {host}"))?,
    };
    let timeout = Duration::from_secs(settings.smtp_timeout_seconds.max(1));
    let mut builder = builder.port(settings.smtp_port).timeout(Some(timeout));
    if let Some(username) = &settings.smtp_username {
        let password = settings
            .smtp_password
            .as_ref()
            .context("smtp_username is set but smtp_password is missing")?;
        builder = builder.credentials(Credentials::new(
            username.clone(),
            password.expose_secret().to_owned(),
        ));
    }
    Ok(Smtp {
        transport: builder.build(),
        timeout,
    })
}

/// Builds the multipart/alternative (text, then HTML) UTF-8 message.
fn build_message(from: &str, email: &OutgoingEmail) -> Result<Message, SendError> {
    let from: Mailbox = from
        .parse()
        .map_err(|err| SendError::Permanent(format!("invalid From address: {err}")))?;
    let to: Mailbox = email
        .to
        .parse()
        .map_err(|err| SendError::Permanent(format!("invalid recipient address: {err}")))?;
    let message_id = email.message_id.trim_matches(|c| c == '<' || c == '>');
    Message::builder()
        .message_id(Some(format!("<{message_id}>")))
        .from(from)
        .to(to)
        .subject(email.subject.as_str())
        .multipart(MultiPart::alternative_plain_html(
            email.text.clone(),
            email.html.clone(),
        ))
        .map_err(|err| SendError::Permanent(format!("cannot build message: {err}")))
}

/// Keeps `[A-Za-z0-9._-]` and replaces every other character with `_`.
fn sanitize_file_stem(message_id: &str) -> String {
    let stem: String = message_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if stem.is_empty() {
        "_".to_owned()
    } else {
        stem
    }
}

/// Writes `bytes` to `{dir}/{message_id}.eml` atomically: a temporary file is
/// written and synced, then renamed over the final name.
async fn write_eml(dir: &Path, message_id: &str, bytes: &[u8]) -> Result<(), SendError> {
    let io_error = |what: &str, err: std::io::Error| {
        SendError::Transient(format!("{what} in {}: {err}", dir.display()))
    };
    crate::private_fs::create_dir_all_async(dir)
        .await
        .map_err(|err| io_error("cannot create the mail directory", err))?;
    let stem = sanitize_file_stem(message_id.trim_matches(|c| c == '<' || c == '>'));
    let target = dir.join(format!("{stem}.eml"));
    let temporary = dir.join(format!(".{stem}.{}.tmp", uuid::Uuid::now_v7()));

    let written = async {
        // Readable by the service's user only: emails hold personal data and one-time links.
        let mut file = crate::private_fs::create_file_async(&temporary).await?;
        tokio::io::AsyncWriteExt::write_all(&mut file, bytes).await?;
        file.sync_all().await?;
        drop(file);
        tokio::fs::rename(&temporary, &target).await
    }
    .await;
    if let Err(err) = written {
        // Best effort: the temporary file is useless now.
        let _ = tokio::fs::remove_file(&temporary).await;
        return Err(io_error("cannot write the .eml file", err));
    }
    Ok(())
}

/// Removes the `.eml` copies of these messages from `dir` (the `file` transport's folder), when they are
/// there: the emails of a deleted account, or about an anonymised application.
pub async fn remove_eml_copies(dir: &Path, message_ids: &[String]) {
    for message_id in message_ids {
        let stem = sanitize_file_stem(message_id.trim_matches(|c| c == '<' || c == '>'));
        match tokio::fs::remove_file(dir.join(format!("{stem}.eml"))).await {
            Ok(()) => {}
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => tracing::warn!(error = %err, %message_id, "could not delete an .eml copy"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::EmailSettings;
    use mailin_embedded::{response, Handler, Response, Server};

    fn example() -> OutgoingEmail {
        OutgoingEmail {
            message_id: "0190abcd-1234@cordee".to_owned(),
            to: "Camille Durand <camille@example.org>".to_owned(),
            subject: "Confirmez votre adresse e-mail".to_owned(),
            text: "Hello plain text part\n".to_owned(),
            html: "<p>Hello HTML part</p>\n".to_owned(),
        }
    }

    const FROM: &str = "Cordée <no-reply@cordee.local>";

    fn smtp_settings(port: u16) -> EmailSettings {
        EmailSettings {
            transport: TransportKind::Smtp,
            file_dir: PathBuf::from("unused"),
            smtp_host: "127.0.0.1".to_owned(),
            smtp_port: port,
            smtp_tls: SmtpTls::None,
            smtp_username: None,
            smtp_password: None,
            smtp_timeout_seconds: 5,
            from: FROM.to_owned(),
            max_attempts: 3,
            retry_base_ms: 100,
            poll_interval_ms: 100,
            lease_seconds: 5,
            worker_enabled: true,
            max_rendered_bytes: 1 << 20,
        }
    }

    /// Splits a raw message into (headers, body) and returns the body of each
    /// MIME part of a multipart message, with its headers.
    fn parse_multipart(raw: &str) -> (String, Vec<(String, String)>) {
        let (headers, body) = raw.split_once("\r\n\r\n").unwrap();
        let boundary = headers
            .split("boundary=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap();
        let delimiter = format!("--{boundary}");
        let mut sections = body.split(delimiter.as_str());
        assert!(sections.next().unwrap().trim().is_empty());
        let parts = sections
            .filter(|section| !section.starts_with("--"))
            .map(|section| {
                let (h, b) = section.trim_start().split_once("\r\n\r\n").unwrap();
                (h.to_owned(), b.trim_end().to_owned())
            })
            .collect();
        (headers.to_owned(), parts)
    }

    fn assert_well_formed(raw: &str) {
        let (headers, parts) = parse_multipart(raw);
        assert!(headers.contains("Message-ID: <0190abcd-1234@cordee>"));
        assert!(headers.contains("To: \"Camille Durand\" <camille@example.org>"));
        assert!(headers.contains("From: "));
        assert!(headers.contains("no-reply@cordee.local"));
        assert!(headers.contains("Subject: "));
        assert!(headers.contains("Date: "));
        assert!(headers.contains("Content-Type: multipart/alternative"));
        assert_eq!(parts.len(), 2);
        assert!(parts[0].0.contains("text/plain; charset=utf-8"));
        assert_eq!(parts[0].1, "Hello plain text part");
        assert!(parts[1].0.contains("text/html; charset=utf-8"));
        assert_eq!(parts[1].1, "<p>Hello HTML part</p>");
    }

    #[tokio::test]
    async fn file_transport_writes_parseable_eml_idempotently() {
        let dir = tempfile::tempdir().unwrap();
        let mail_dir = dir.path().join("outbox");
        let settings = EmailSettings {
            transport: TransportKind::File,
            file_dir: mail_dir.clone(),
            ..smtp_settings(25)
        };
        let transport = Transport::from_settings(&settings).unwrap();
        transport.send(FROM, &example()).await.unwrap();
        transport.send(FROM, &example()).await.unwrap();

        let names: Vec<_> = std::fs::read_dir(&mail_dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, ["0190abcd-1234_cordee.eml"]);
        let raw = std::fs::read_to_string(mail_dir.join(&names[0])).unwrap();
        assert_well_formed(&raw);
    }

    #[test]
    fn file_names_are_sanitized() {
        assert_eq!(sanitize_file_stem("a/../b@c d.é"), "a_.._b_c_d._");
        assert_eq!(sanitize_file_stem("Ok-1_2.x"), "Ok-1_2.x");
        assert_eq!(sanitize_file_stem(""), "_");
    }

    #[tokio::test]
    async fn memory_transport_collects_messages() {
        let (transport, outbox) = Transport::memory();
        transport.send(FROM, &example()).await.unwrap();
        let messages = outbox.lock().unwrap();
        assert_eq!(messages.len(), 1);
        let raw = String::from_utf8(messages[0].formatted()).unwrap();
        assert_well_formed(&raw);
    }

    #[tokio::test]
    async fn invalid_recipient_is_permanent() {
        let (transport, outbox) = Transport::memory();
        let email = OutgoingEmail {
            to: "not an address".to_owned(),
            ..example()
        };
        let err = transport.send(FROM, &email).await.unwrap_err();
        assert!(matches!(err, SendError::Permanent(_)), "{err}");
        assert!(outbox.lock().unwrap().is_empty());
    }

    /// SMTP handler that stores the DATA it receives, and rejects
    /// recipients at `rejected.example`.
    #[derive(Clone, Default)]
    struct Collector {
        data: Arc<Mutex<Vec<u8>>>,
    }

    impl Handler for Collector {
        fn rcpt(&mut self, to: &str) -> Response {
            if to.ends_with("@rejected.example") {
                response::NO_MAILBOX
            } else {
                response::OK
            }
        }

        fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
            self.data.lock().unwrap().extend_from_slice(buf);
            Ok(())
        }
    }

    /// Starts an SMTP server on a free local port; returns the port and the
    /// buffer it fills.
    fn start_smtp_server() -> (u16, Arc<Mutex<Vec<u8>>>) {
        let handler = Collector::default();
        let data = Arc::clone(&handler.data);
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut server = Server::new(handler);
        server.with_tcp_listener(listener);
        std::thread::spawn(move || {
            let _ = server.serve();
        });
        (port, data)
    }

    #[tokio::test]
    async fn smtp_transport_delivers_to_a_real_server() {
        let (port, data) = start_smtp_server();
        let transport = Transport::from_settings(&smtp_settings(port)).unwrap();
        transport.send(FROM, &example()).await.unwrap();

        let raw = String::from_utf8(data.lock().unwrap().clone()).unwrap();
        assert_well_formed(&raw);
    }

    #[tokio::test]
    async fn smtp_rejection_is_permanent() {
        let (port, data) = start_smtp_server();
        let transport = Transport::from_settings(&smtp_settings(port)).unwrap();
        let email = OutgoingEmail {
            to: "nobody@rejected.example".to_owned(),
            ..example()
        };
        let err = transport.send(FROM, &email).await.unwrap_err();
        assert!(matches!(err, SendError::Permanent(_)), "{err}");
        assert!(data.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn closed_port_is_transient() {
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let transport = Transport::from_settings(&smtp_settings(port)).unwrap();
        let err = transport.send(FROM, &example()).await.unwrap_err();
        assert!(matches!(err, SendError::Transient(_)), "{err}");
    }

    #[tokio::test]
    async fn a_server_that_never_answers_is_transient_within_the_timeout() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        // Accepts connections and keeps them open without a word.
        let held = std::thread::spawn(move || listener.accept().map(|(socket, _)| socket));
        let settings = EmailSettings {
            smtp_timeout_seconds: 1,
            ..smtp_settings(port)
        };
        let transport = Transport::from_settings(&settings).unwrap();
        let started = std::time::Instant::now();
        let err = transport.send(FROM, &example()).await.unwrap_err();
        assert!(matches!(err, SendError::Transient(_)), "{err}");
        assert!(started.elapsed() < Duration::from_secs(3), "{err}");
        drop(held.join());
    }

    #[test]
    fn credentials_need_a_password_and_never_leak() {
        let mut settings = smtp_settings(25);
        settings.smtp_username = Some("cordee".to_owned());
        let err = Transport::from_settings(&settings).unwrap_err();
        assert!(format!("{err:#}").contains("smtp_password"));

        settings.smtp_password = Some("hunter2-secret".to_owned().into());
        let transport = Transport::from_settings(&settings).unwrap();
        assert!(!format!("{transport:?}").contains("hunter2-secret"));
    }
}
