//! An SMTP server that misbehaves on demand: it refuses connections, accepts them and never answers,
//! takes a message then drops the connection before acknowledging it, or answers 4xx or 5xx. It keeps
//! every message whose data it received, as a real relay would have queued it.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::helpers::ReceivedEmail;

/// What the server does wrong, if anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Healthy: every message is accepted with a 250.
    None,
    /// Nobody listens on the port: connections are refused (and open ones are closed).
    Refuse,
    /// Connections are accepted, then nothing is ever said, not even the greeting.
    Silent,
    /// The message data is received (and kept), then the connection drops before the final 250: the
    /// sender cannot know that the relay has the message.
    DropAfterData,
    /// `451 4.3.0` to MAIL FROM: try again later.
    Temporary,
    /// `554 5.7.1` to MAIL FROM: this will not be accepted.
    Permanent,
}

struct Shared {
    fault: Mutex<Fault>,
    inbox: Mutex<Vec<ReceivedEmail>>,
    connections: Mutex<usize>,
}

/// The fault-injecting SMTP server, on its own local port.
pub struct FaultySmtp {
    pub port: u16,
    shared: Arc<Shared>,
    listener: Mutex<Option<JoinHandle<()>>>,
}

impl FaultySmtp {
    /// Starts the server on a free port, misbehaving as `fault` says.
    pub async fn start(fault: Fault) -> FaultySmtp {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let shared = Arc::new(Shared {
            fault: Mutex::new(Fault::None),
            inbox: Mutex::default(),
            connections: Mutex::new(0),
        });
        let task = tokio::spawn(accept(listener, shared.clone()));
        let server = FaultySmtp {
            port,
            shared,
            listener: Mutex::new(Some(task)),
        };
        server.set(fault).await;
        server
    }

    /// Changes what the server does from the next connection or command on.
    pub async fn set(&self, fault: Fault) {
        *self.shared.fault.lock().unwrap() = fault;
        match fault {
            Fault::Refuse => self.stop_listening().await,
            _ => self.listen().await,
        }
    }

    async fn stop_listening(&self) {
        let task = self.listener.lock().unwrap().take();
        if let Some(task) = task {
            task.abort();
            // Once the task is gone its listener is closed: connections are refused from now on.
            let _ = task.await;
        }
    }

    async fn listen(&self) {
        if self.listener.lock().unwrap().is_some() {
            return;
        }
        let listener = TcpListener::bind(("127.0.0.1", self.port))
            .await
            .expect("the SMTP port is free again");
        let task = tokio::spawn(accept(listener, self.shared.clone()));
        *self.listener.lock().unwrap() = Some(task);
    }

    /// Every message whose data reached the server, acknowledged or not.
    pub fn all(&self) -> Vec<ReceivedEmail> {
        self.shared.inbox.lock().unwrap().clone()
    }

    /// The messages received for `to`.
    pub fn emails_to(&self, to: &str) -> Vec<ReceivedEmail> {
        self.all()
            .into_iter()
            .filter(|e| e.to.iter().any(|t| t == to))
            .collect()
    }

    /// How many connections the server accepted.
    pub fn connections(&self) -> usize {
        *self.shared.connections.lock().unwrap()
    }

    /// Waits (up to 30 s) until `to` has received `count` messages, and returns them.
    pub async fn wait_for(&self, to: &str, count: usize) -> Vec<ReceivedEmail> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let emails = self.emails_to(to);
            if emails.len() >= count {
                return emails;
            }
            assert!(
                Instant::now() < deadline,
                "{to} expected {count} emails, got {}",
                emails.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for FaultySmtp {
    fn drop(&mut self) {
        if let Some(task) = self.listener.lock().unwrap().take() {
            task.abort();
        }
    }
}

async fn accept(listener: TcpListener, shared: Arc<Shared>) {
    while let Ok((socket, _)) = listener.accept().await {
        *shared.connections.lock().unwrap() += 1;
        tokio::spawn(session(socket, shared.clone()));
    }
}

fn fault(shared: &Shared) -> Fault {
    *shared.fault.lock().unwrap()
}

/// Reads what the client sends until it gives up and closes the connection, answering nothing.
async fn stay_silent(mut reader: BufReader<TcpStream>) {
    let mut sink = [0u8; 1024];
    while matches!(reader.read(&mut sink).await, Ok(n) if n > 0) {}
}

/// One SMTP session (RFC 5321, the commands lettre sends), with the current fault applied at each step.
async fn session(socket: TcpStream, shared: Arc<Shared>) {
    let mut reader = BufReader::new(socket);
    match fault(&shared) {
        Fault::Silent => return stay_silent(reader).await,
        Fault::Refuse => return,
        _ => {}
    }
    if reply(&mut reader, "220 smtp.faulty ESMTP").await.is_err() {
        return;
    }
    let mut to: Vec<String> = Vec::new();
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let current = fault(&shared);
        match current {
            Fault::Refuse => return,
            Fault::Silent => return stay_silent(reader).await,
            _ => {}
        }
        let command = line.trim_end().to_ascii_uppercase();
        let answer = if command.starts_with("EHLO") || command.starts_with("HELO") {
            "250 smtp.faulty"
        } else if command.starts_with("MAIL FROM") {
            to.clear();
            match current {
                Fault::Temporary => "451 4.3.0 Temporary local problem, try again later",
                Fault::Permanent => "554 5.7.1 Message refused",
                _ => "250 2.1.0 Ok",
            }
        } else if command.starts_with("RCPT TO") {
            let address = line.trim_end()[7..]
                .trim_start_matches(':')
                .trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_owned();
            to.push(address);
            "250 2.1.5 Ok"
        } else if command == "DATA" {
            if reply(&mut reader, "354 End data with <CR><LF>.<CR><LF>")
                .await
                .is_err()
            {
                return;
            }
            let Some(raw) = read_data(&mut reader).await else {
                return;
            };
            shared.inbox.lock().unwrap().push(ReceivedEmail {
                to: std::mem::take(&mut to),
                raw,
            });
            if fault(&shared) == Fault::DropAfterData {
                return;
            }
            "250 2.0.0 Ok: queued"
        } else if command == "RSET" || command == "NOOP" {
            to.clear();
            "250 2.0.0 Ok"
        } else if command == "QUIT" {
            let _ = reply(&mut reader, "221 2.0.0 Bye").await;
            return;
        } else {
            "500 5.5.2 Command not recognized"
        };
        if reply(&mut reader, answer).await.is_err() {
            return;
        }
    }
}

async fn reply(reader: &mut BufReader<TcpStream>, line: &str) -> std::io::Result<()> {
    let socket = reader.get_mut();
    socket.write_all(format!("{line}\r\n").as_bytes()).await?;
    socket.flush().await
}

/// The message up to the lone `.` line, with dot-stuffing undone; `None` if the connection ends first.
async fn read_data(reader: &mut BufReader<TcpStream>) -> Option<Vec<u8>> {
    let mut raw = Vec::new();
    loop {
        let mut line = Vec::new();
        match reader.read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => return None,
            Ok(_) => {}
        }
        if line == b".\r\n" || line == b".\n" {
            return Some(raw);
        }
        let line = line.strip_prefix(b".").unwrap_or(&line);
        raw.extend_from_slice(line);
    }
}
