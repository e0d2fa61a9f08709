//! The SMTP server that receives the test application's email, and the emails it keeps.

use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mailin_embedded::response::{Response, OK};
use mailin_embedded::{Handler, Server};

/// One email as received by the test SMTP server.
#[derive(Debug, Clone)]
pub struct ReceivedEmail {
    pub to: Vec<String>,
    pub raw: Vec<u8>,
}

impl ReceivedEmail {
    fn parsed(&self) -> mail_parser::Message<'_> {
        mail_parser::MessageParser::default()
            .parse(&self.raw)
            .expect("a parseable email")
    }

    /// The decoded subject.
    pub fn subject(&self) -> String {
        self.parsed().subject().unwrap_or_default().to_owned()
    }

    /// The decoded plain-text part.
    pub fn text(&self) -> String {
        self.parsed()
            .body_text(0)
            .map(|t| t.into_owned())
            .unwrap_or_default()
    }

    /// The decoded HTML part.
    pub fn html(&self) -> String {
        self.parsed()
            .body_html(0)
            .map(|t| t.into_owned())
            .unwrap_or_default()
    }

    /// The Message-ID header.
    pub fn message_id(&self) -> String {
        self.parsed().message_id().unwrap_or_default().to_owned()
    }

    /// The one-time token (`cordee_…`) the email carries.
    pub fn token(&self) -> String {
        let text = self.text();
        let start = text.find("cordee_").expect("the email carries a token");
        text[start..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
            .collect()
    }
}

#[derive(Clone, Default)]
struct Collector {
    inbox: Arc<Mutex<Vec<ReceivedEmail>>>,
    current_to: Vec<String>,
    current: Vec<u8>,
}

impl Handler for Collector {
    fn data_start(&mut self, _domain: &str, _from: &str, _is8bit: bool, to: &[String]) -> Response {
        self.current_to = to.to_vec();
        self.current.clear();
        OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.current.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        let email = ReceivedEmail {
            to: std::mem::take(&mut self.current_to),
            raw: std::mem::take(&mut self.current),
        };
        self.inbox.lock().unwrap().push(email);
        OK
    }
}

/// A real SMTP server on a local port, keeping every email it receives. It can be created before it
/// listens, to play an SMTP server that is down.
#[derive(Clone)]
pub struct Mailbox {
    pub port: u16,
    inbox: Arc<Mutex<Vec<ReceivedEmail>>>,
}

impl Mailbox {
    /// A mailbox whose port is chosen but that does not listen yet (connections are refused).
    pub fn down() -> Mailbox {
        let port = free_port();
        Mailbox {
            port,
            inbox: Arc::default(),
        }
    }

    /// A listening mailbox.
    pub fn up() -> Mailbox {
        let mailbox = Mailbox::down();
        mailbox.start();
        mailbox
    }

    /// Starts listening on the mailbox's port.
    pub fn start(&self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port)).expect("the SMTP port is free");
        let handler = Collector {
            inbox: self.inbox.clone(),
            ..Default::default()
        };
        let mut server = Server::new(handler);
        server.with_name("smtp.test").with_tcp_listener(listener);
        std::thread::spawn(move || {
            let _ = server.serve();
        });
    }

    /// Every email received so far.
    pub fn all(&self) -> Vec<ReceivedEmail> {
        self.inbox.lock().unwrap().clone()
    }

    /// Waits (up to 15 s) until `count` emails have arrived in all, and returns them all.
    pub async fn wait_for(&self, count: usize) -> Vec<ReceivedEmail> {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let emails = self.all();
            if emails.len() >= count {
                return emails;
            }
            assert!(
                Instant::now() < deadline,
                "expected {count} emails, got {}: {emails:?}",
                emails.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits (up to 15 s) for the first email to `to` that satisfies `wanted`, and returns it.
    pub async fn wait_for_match(
        &self,
        to: &str,
        what: &str,
        wanted: impl Fn(&ReceivedEmail) -> bool,
    ) -> ReceivedEmail {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let emails = self.emails_to(to);
            if let Some(email) = emails.iter().find(|e| wanted(e)) {
                return email.clone();
            }
            let subjects: Vec<String> = emails.iter().map(|e| e.subject()).collect();
            assert!(
                Instant::now() < deadline,
                "no email to {to} {what}: {subjects:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits for the first email sent to `to` and returns it.
    pub async fn wait_for_email_to(&self, to: &str) -> ReceivedEmail {
        self.wait_for_match(to, "at all", |_| true).await
    }

    /// Waits for an email to `to` whose subject contains `part` (any case).
    pub async fn wait_for_subject(&self, to: &str, part: &str) -> ReceivedEmail {
        let part = part.to_lowercase();
        self.wait_for_match(to, &format!("about {part}"), |e| {
            e.subject().to_lowercase().contains(&part)
        })
        .await
    }

    /// Every email received by `to`.
    pub fn emails_to(&self, to: &str) -> Vec<ReceivedEmail> {
        self.all()
            .into_iter()
            .filter(|e| e.to.iter().any(|t| t == to))
            .collect()
    }
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
