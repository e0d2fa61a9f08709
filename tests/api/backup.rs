//! Backups, through the real binary as an operator runs it: `cordee serve` as a child process, `cordee backup`
//! while a writer keeps submitting and uploading, then `cordee restore` into a fresh folder and a server
//! started on it, which must hold the same applications, references and file bytes. On PostgreSQL,
//! `cordee backup` refuses and points to pg_dump, and `--attachments-only` archives and restores the files.
//!
//! `Instance` and `Server` (a `cordee` child process configured by environment variables) serve the crash
//! tests too.

use std::collections::{HashSet, VecDeque};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::helpers::{exp_answers, pdf_bytes, Http, Mailbox, TestDatabase, PASSWORD};

/// The settings of `cordee` processes, as the `CORDEE__SECTION__KEY` variables an operator sets.
#[derive(Clone)]
pub struct Instance {
    pub database_url: String,
    pub storage_dir: PathBuf,
    mail_dir: PathBuf,
    smtp_port: u16,
    mailbox: Mailbox,
    extra: Vec<(String, String)>,
}

impl Instance {
    /// An instance on `database_url` keeping its files under `dir`, sending email to `mailbox`.
    pub fn new(database_url: &str, dir: &Path, mailbox: &Mailbox) -> Instance {
        Instance {
            database_url: database_url.to_owned(),
            storage_dir: dir.join("attachments"),
            mail_dir: dir.join("mail"),
            smtp_port: mailbox.port,
            mailbox: mailbox.clone(),
            extra: Vec::new(),
        }
    }

    /// The same instance with one more setting.
    pub fn with(&self, key: &str, value: &str) -> Instance {
        let mut instance = self.clone();
        instance.extra.push((key.to_owned(), value.to_owned()));
        instance
    }

    /// `cordee <args>` with this instance's settings (and none inherited from the test's environment).
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_cordee"));
        for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("CORDEE")) {
            command.env_remove(key);
        }
        command
            .args(args)
            .env_remove("RUST_LOG")
            .env(
                "CORDEE_CONFIG_DIR",
                concat!(env!("CARGO_MANIFEST_DIR"), "/config"),
            )
            .env("CORDEE_ENV", "test")
            .env("CORDEE__DATABASE__URL", &self.database_url)
            .env("CORDEE__SERVER__HOST", "127.0.0.1")
            .env("CORDEE__SERVER__PORT", "0")
            .env("CORDEE__SERVER__WORKERS", "2")
            .env("CORDEE__STORAGE__DIR", &self.storage_dir)
            .env("CORDEE__EMAIL__TRANSPORT", "smtp")
            .env("CORDEE__EMAIL__SMTP_HOST", "127.0.0.1")
            .env("CORDEE__EMAIL__SMTP_PORT", self.smtp_port.to_string())
            .env("CORDEE__EMAIL__SMTP_TLS", "none")
            .env("CORDEE__EMAIL__FILE_DIR", &self.mail_dir)
            .env("CORDEE__LOG__FORMAT", "json")
            .env("CORDEE__LOG__LEVEL", "info");
        for (key, value) in &self.extra {
            command.env(key, value);
        }
        command
    }

    /// Runs `cordee <args>` to its end, off the async threads, with `stdin` as its standard input.
    pub async fn run(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut command = self.command(args);
        let stdin = stdin.map(str::to_owned);
        tokio::task::spawn_blocking(move || {
            command
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            let mut child = command.spawn().expect("cordee starts");
            let mut input = child.stdin.take().expect("a stdin pipe");
            if let Some(text) = stdin {
                input.write_all(text.as_bytes()).expect("stdin is written");
            }
            drop(input);
            child.wait_with_output().expect("cordee ends")
        })
        .await
        .unwrap()
    }

    /// Starts `cordee serve` and waits (up to 60 s) until it says where it listens.
    pub async fn serve(&self) -> Server {
        let mut child = self
            .command(&["serve"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cordee serve starts");
        let stderr = child.stderr.take().expect("a stderr pipe");
        let log = Arc::new(Mutex::new(VecDeque::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let lines = log.clone();
        // Reads the log to its end (a full pipe would block the server), remembering the last lines.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(address) = listening_address(&line) {
                    let _ = tx.send(address);
                }
                let mut lines = lines.lock().unwrap();
                lines.push_back(line);
                if lines.len() > 40 {
                    lines.pop_front();
                }
            }
        });
        let address = tokio::task::spawn_blocking(move || rx.recv_timeout(Duration::from_secs(60)))
            .await
            .unwrap();
        let Ok(address) = address else {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "cordee serve did not start listening: {:?}",
                log.lock().unwrap()
            );
        };
        Server {
            child,
            http: Http {
                client: reqwest::Client::new(),
                base: format!("http://{address}"),
            },
            log,
            mailbox: self.mailbox.clone(),
        }
    }
}

/// The address in the start-up line `Cordée is listening on http://…` of a JSON log line.
fn listening_address(line: &str) -> Option<String> {
    let value: Value = serde_json::from_str(line).ok()?;
    let message = value["message"].as_str()?;
    let at = message.find("listening on http://")?;
    Some(
        message[at + "listening on http://".len()..]
            .trim()
            .to_owned(),
    )
}

/// A running `cordee serve` child process, killed when dropped.
pub struct Server {
    child: Child,
    pub http: Http,
    log: Arc<Mutex<VecDeque<String>>>,
    mailbox: Mailbox,
}

/// `server.get(…)`, `server.post(…)`, `server.request(…)`.
impl std::ops::Deref for Server {
    type Target = Http;

    fn deref(&self) -> &Http {
        &self.http
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Sends `signal` to the server process.
    fn signal(&self, signal: nix::sys::signal::Signal) {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        nix::sys::signal::kill(pid, signal).expect("the signal is sent");
    }

    /// Waits (up to 40 s) for the process to end.
    async fn ended(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(40);
        while self.child.try_wait().expect("the child's status").is_none() {
            assert!(
                Instant::now() < deadline,
                "cordee did not stop: {:?}",
                self.log.lock().unwrap()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Stops the server as an operator does (SIGTERM: in-flight requests finish) and waits for its end.
    pub async fn stop(&mut self) {
        self.signal(nix::sys::signal::Signal::SIGTERM);
        self.ended().await;
    }

    /// Kills the server at once (SIGKILL: nothing is finished or flushed), from wherever it is shared;
    /// `killed` then waits for the process to be gone.
    pub fn kill(&self) {
        self.signal(nix::sys::signal::Signal::SIGKILL);
    }

    /// Waits for the end of a killed server.
    pub async fn killed(mut self) {
        self.ended().await;
    }

    /// Every item of a paginated list (`{items, next_cursor}`), following the cursor with `param`.
    pub async fn all_pages(&self, path: &str, token: &str, param: &str) -> Vec<Value> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let separator = if path.contains('?') { '&' } else { '?' };
            let page_path = match &cursor {
                Some(cursor) => format!("{path}{separator}limit=200&{param}={cursor}"),
                None => format!("{path}{separator}limit=200"),
            };
            let (status, page) = self.get(&page_path, Some(token)).await;
            assert_eq!(status, StatusCode::OK, "{page_path}: {page}");
            items.extend(page["items"].as_array().unwrap().iter().cloned());
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => return items,
            }
        }
    }

    /// Registers an applicant, verifies the address with the emailed link and logs in; returns the session
    /// token.
    pub async fn applicant(&self, email: &str) -> String {
        let (status, body) = self
            .post(
                "/api/v1/auth/register",
                None,
                json!({"email": email, "password": PASSWORD, "display_name": "Test Person", "locale": "fr"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let link = self
            .mailbox
            .wait_for_match(email, "with a verification link", |e| {
                e.text().contains("/verify-email?token=")
            })
            .await;
        let (status, body) = self
            .post(
                "/api/v1/auth/verify-email",
                None,
                json!({"token": link.token()}),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
        self.login(email, PASSWORD).await
    }

    /// Creates an administrator with `cordee admin create` and logs in.
    pub async fn admin(&self, instance: &Instance, email: &str) -> String {
        let output = instance
            .run(
                &["admin", "create", "--email", email, "--password-stdin"],
                Some(PASSWORD),
            )
            .await;
        assert!(output.status.success(), "{output:?}");
        self.login(email, PASSWORD).await
    }

    /// An Expérimentation Montagne call that opened yesterday and closes in 30 days, published; its id.
    pub async fn open_call(&self, admin: &str, slug: &str) -> String {
        let now = chrono::Utc::now();
        let (status, call) = self
            .post(
                "/api/v1/calls",
                Some(admin),
                json!({
                    "template": "experimentation-montagne",
                    "slug": slug,
                    "opens_at": (now - chrono::Duration::days(1)).to_rfc3339(),
                    "closes_at": (now + chrono::Duration::days(30)).to_rfc3339(),
                }),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{call}");
        let id = call["id"].as_str().unwrap().to_owned();
        let (status, call) = self
            .post(
                &format!("/api/v1/calls/{id}/publish"),
                Some(admin),
                json!({}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{call}");
        id
    }

    /// A territory and its draft application (all answers given, no file yet); the application's id.
    pub async fn draft(&self, token: &str, call_id: &str, name: &str) -> String {
        let (status, org) = self
            .post(
                "/api/v1/organizations",
                Some(token),
                json!({"kind": "territory", "legal_name": name, "insee_code": "74056", "postcode": "74400", "city": "Chamonix-Mont-Blanc"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{org}");
        let (status, created) = self
            .post(
                &format!("/api/v1/calls/{call_id}/applications"),
                Some(token),
                json!({"organization_id": org["id"], "answers": exp_answers()}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        created["id"].as_str().unwrap().to_owned()
    }

    /// Uploads `bytes` as the letter of support; the status and the answer.
    pub async fn upload(
        &self,
        token: &str,
        application_id: &str,
        bytes: Vec<u8>,
    ) -> (StatusCode, Value) {
        let form = reqwest::multipart::Form::new()
            .text("field", "support_letter")
            .part(
                "file",
                reqwest::multipart::Part::bytes(bytes).file_name("lettre.pdf"),
            );
        let response = self
            .request(
                Method::POST,
                &format!("/api/v1/applications/{application_id}/attachments"),
                Some(token),
            )
            .multipart(form)
            .send()
            .await
            .expect("the server answers");
        let status = response.status();
        let text = response.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// Downloads an attachment; the status and the bytes.
    pub async fn download(
        &self,
        token: &str,
        application_id: &str,
        attachment_id: &str,
    ) -> (StatusCode, Vec<u8>) {
        let response = self
            .request(
                Method::GET,
                &format!("/api/v1/applications/{application_id}/attachments/{attachment_id}"),
                Some(token),
            )
            .send()
            .await
            .expect("the server answers");
        (response.status(), response.bytes().await.unwrap().to_vec())
    }

    /// Submits; returns the answer, which must be 200.
    pub async fn submit(&self, token: &str, application_id: &str) -> Value {
        let (status, body) = self
            .post(
                &format!("/api/v1/applications/{application_id}/submit"),
                Some(token),
                json!({}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }
}

/// The hex SHA-256 of `bytes`.
pub fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A real PDF of about `size` bytes, different for each `seed`.
pub fn letter(seed: usize, size: usize) -> Vec<u8> {
    let mut bytes = pdf_bytes();
    let filler = format!("% letter {seed} ");
    while bytes.len() < size {
        bytes.extend_from_slice(filler.as_bytes());
    }
    bytes
}

/// A submitted application whose bytes and answers a restore must give back.
struct Submitted {
    id: String,
    reference: String,
    letter: Vec<u8>,
}

/// Creates a territory's application, uploads its letter and submits it.
async fn submit_one(server: &Server, token: &str, call_id: &str, n: usize) -> Submitted {
    let id = server.draft(token, call_id, &format!("Commune {n}")).await;
    let letter = letter(n, 20_000 + n * 1000);
    let (status, body) = server.upload(token, &id, letter.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let submitted = server.submit(token, &id).await;
    Submitted {
        id,
        reference: submitted["reference"].as_str().unwrap().to_owned(),
        letter,
    }
}

#[tokio::test]
async fn a_backup_taken_while_writers_write_restores_into_a_working_instance() {
    let dir = Arc::new(tempfile::tempdir().unwrap());
    let db = TestDatabase::create(dir.clone());
    let mailbox = Mailbox::up();
    let instance = Instance::new(&db.url, &dir.path().join("live"), &mailbox);
    let mut server = instance.serve().await;
    let admin = server.admin(&instance, "admin@backup.test").await;
    let call_id = server.open_call(&admin, "exp-backup").await;
    let applicant = server.applicant("mairie@backup.test").await;
    let first = submit_one(&server, &applicant, &call_id, 0).await;
    let (_, first_view) = server
        .get(
            &format!("/api/v1/applications/{}", first.id),
            Some(&applicant),
        )
        .await;
    let archive = dir.path().join("backups").join("cordee.tar.gz");
    let archive_arg = archive.to_str().unwrap();

    if db.is_postgres() {
        // The database is pg_dump's job; the attachment files can still be archived and restored.
        let output = instance.run(&["backup", archive_arg], None).await;
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{output:?}");
        assert!(
            stderr.contains("PostgreSQL") && stderr.contains("pg_dump"),
            "{stderr}"
        );
        assert!(!archive.exists());
        let output = instance
            .run(&["backup", "--attachments-only", archive_arg], None)
            .await;
        assert!(output.status.success(), "{output:?}");
        let elsewhere = instance.with(
            "CORDEE__STORAGE__DIR",
            dir.path().join("restored-files").to_str().unwrap(),
        );
        let output = elsewhere.run(&["restore", archive_arg], None).await;
        assert!(output.status.success(), "{output:?}");
        let restored: Vec<Vec<u8>> = std::fs::read_dir(dir.path().join("restored-files"))
            .unwrap()
            .map(|e| std::fs::read(e.unwrap().path()).unwrap())
            .collect();
        assert_eq!(restored, vec![first.letter.clone()]);
        server.stop().await;
        return;
    }

    // A writer keeps creating, uploading and submitting while the backup runs.
    let server = Arc::new(server);
    let done: Arc<Mutex<Vec<Submitted>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let writer = tokio::spawn({
        let (server, done, stop, applicant, call_id) = (
            server.clone(),
            done.clone(),
            stop.clone(),
            applicant.clone(),
            call_id.clone(),
        );
        async move {
            let mut n = 1;
            while !stop.load(Ordering::SeqCst) {
                let submitted = submit_one(&server, &applicant, &call_id, n).await;
                done.lock().unwrap().push(submitted);
                n += 1;
            }
        }
    });
    let completed = |at_least: usize| {
        let done = done.clone();
        async move {
            let deadline = Instant::now() + Duration::from_secs(60);
            while done.lock().unwrap().len() < at_least {
                assert!(Instant::now() < deadline, "the writer is stuck");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    };
    completed(2).await;
    let before: Vec<(String, String)> = done
        .lock()
        .unwrap()
        .iter()
        .map(|s| (s.id.clone(), s.reference.clone()))
        .collect();
    let started = Instant::now();
    let output = instance.run(&["backup", archive_arg], None).await;
    let took = started.elapsed();
    assert!(output.status.success(), "{output:?}");
    let during = done.lock().unwrap().len() - before.len();
    eprintln!(
        "backup: {} ({} bytes, {:.2} s wall clock, {during} applications submitted meanwhile)",
        String::from_utf8_lossy(&output.stdout).trim(),
        std::fs::metadata(&archive).unwrap().len(),
        took.as_secs_f64()
    );
    completed(before.len() + during + 2).await;
    stop.store(true, Ordering::SeqCst);
    writer.await.unwrap();
    let mut server = Arc::into_inner(server).expect("the writer let the server go");
    server.stop().await;

    // Restore into a fresh folder; a second restore there refuses to overwrite.
    let fresh = dir.path().join("restored");
    let restored = Instance::new(
        &format!("sqlite://{}", fresh.join("cordee.db").display()),
        &fresh,
        &mailbox,
    );
    let output = restored.run(&["restore", archive_arg], None).await;
    assert!(output.status.success(), "{output:?}");
    let output = restored.run(&["restore", archive_arg], None).await;
    assert!(!output.status.success(), "{output:?}");
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("--force"),
        "{output:?}"
    );

    // A damaged archive (one attachment's bytes changed, the manifest kept) is refused, nothing restored.
    let damaged = dir.path().join("backups").join("damaged.tar.gz");
    tamper_with_an_attachment(&archive, &damaged);
    let elsewhere = dir.path().join("elsewhere");
    let output = Instance::new(
        &format!("sqlite://{}", elsewhere.join("cordee.db").display()),
        &elsewhere,
        &mailbox,
    )
    .run(&["restore", damaged.to_str().unwrap()], None)
    .await;
    assert!(!output.status.success(), "{output:?}");
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("damaged"),
        "{output:?}"
    );
    assert!(!elsewhere.join("cordee.db").exists());

    let server = restored.serve().await;
    let applicant = server.login("mairie@backup.test", PASSWORD).await;
    let admin = server.login("admin@backup.test", PASSWORD).await;
    let (status, view) = server
        .get(
            &format!("/api/v1/applications/{}", first.id),
            Some(&applicant),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["status"], "submitted");
    assert_eq!(view["reference"], first.reference.as_str());
    assert_eq!(view["submitted_at"], first_view["submitted_at"]);
    assert_eq!(view["answers"], first_view["answers"]);
    assert_eq!(view["attachments"], first_view["attachments"]);
    let attachment = view["attachments"][0]["id"].as_str().unwrap();
    let (status, bytes) = server.download(&applicant, &first.id, attachment).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(bytes, first.letter);

    // Everything submitted before the backup began is there; every application there is whole.
    let items = server
        .all_pages(
            &format!("/api/v1/applications?call_id={call_id}"),
            &admin,
            "cursor",
        )
        .await;
    let listed: HashSet<&str> = items.iter().map(|a| a["id"].as_str().unwrap()).collect();
    for (id, reference) in &before {
        assert!(listed.contains(id.as_str()), "{reference} was lost");
    }
    let done = std::mem::take(&mut *done.lock().unwrap());
    assert!(items.len() <= done.len() + 1);
    for item in &items {
        let id = item["id"].as_str().unwrap();
        let (status, view) = server
            .get(&format!("/api/v1/applications/{id}"), Some(&admin))
            .await;
        assert_eq!(status, StatusCode::OK, "{view}");
        let original = std::iter::once(&first)
            .chain(done.iter())
            .find(|s| s.id == id)
            .expect("a restored application was made before the backup");
        // The snapshot caught the writer's application of the moment at some step of its life.
        let attachments = view["attachments"].as_array().unwrap();
        match view["status"].as_str() {
            Some("submitted") => {
                assert_eq!(view["reference"], original.reference.as_str());
                assert_eq!(attachments.len(), 1, "{view}");
            }
            Some("draft") => {
                assert_eq!(view["reference"], Value::Null, "{view}");
                assert!(attachments.len() <= 1, "{view}");
            }
            _ => panic!("an application restored half-way: {view}"),
        }
        for attachment in attachments {
            let (status, bytes) = server
                .download(&admin, id, attachment["id"].as_str().unwrap())
                .await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(bytes, original.letter);
            assert_eq!(attachment["sha256"], sha256(&bytes).as_str());
        }
    }
}

/// Copies the archive `from` to `to` with the last byte of its first attachment flipped.
fn tamper_with_an_attachment(from: &Path, to: &Path) {
    let reader = flate2::read::GzDecoder::new(std::fs::File::open(from).unwrap());
    let mut archive = tar::Archive::new(reader);
    let writer = flate2::write::GzEncoder::new(
        std::fs::File::create(to).unwrap(),
        flate2::Compression::fast(),
    );
    let mut builder = tar::Builder::new(writer);
    let mut tampered = false;
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let mut header = entry.header().clone();
        let path = entry.path().unwrap().into_owned();
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut bytes).unwrap();
        if !tampered && path.starts_with("attachments") {
            *bytes.last_mut().unwrap() ^= 0xff;
            tampered = true;
        }
        builder
            .append_data(&mut header, path, bytes.as_slice())
            .unwrap();
    }
    assert!(tampered, "the archive holds an attachment");
    builder.into_inner().unwrap().finish().unwrap();
}
