//! The server killed (SIGKILL) while submissions and multipart uploads are in flight, then started again on
//! the same data: every application is either fully submitted (status, reference, receipt email queued and
//! delivered, audit entry, domain event) or still a draft with none of those, and every attachment row has
//! its file and every file its row.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::stream;
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::backup::{letter, sha256, Instance, Server};
use crate::helpers::{Mailbox, TestDatabase, PASSWORD};

/// Applications whose letter is already attached, submitted during the crash.
const SUBMITTERS: usize = 12;
/// Applications whose letter is uploaded during the crash (in chunks, half of them a large file that is
/// still streaming when the server dies), then submitted.
const UPLOADERS: usize = 12;
/// The server is killed once this many of the crash's requests have been answered.
const KILL_AFTER: usize = 8;
const LETTER_BYTES: usize = 1024 * 1024;
const CHUNK_BYTES: usize = 32 * 1024;

/// One applicant's application and what the client saw of it.
struct Applicant {
    email: String,
    token: String,
    id: String,
}

/// What a request of the crash came back with: an answer, or nothing (the server died first).
#[derive(Debug, Clone, Default)]
struct Seen {
    uploaded: Option<StatusCode>,
    submitted: Option<(StatusCode, Value)>,
}

/// Uploads the letter as a stream of chunks, so that the server is killed while some are half-way.
async fn slow_upload(server: &Server, applicant: &Applicant, bytes: Vec<u8>) -> Option<StatusCode> {
    let total = bytes.len() as u64;
    let chunks: Vec<Vec<u8>> = bytes.chunks(CHUNK_BYTES).map(<[u8]>::to_vec).collect();
    let body = stream::unfold(chunks.into_iter(), |mut chunks| async move {
        let chunk = chunks.next()?;
        tokio::time::sleep(Duration::from_millis(3)).await;
        Some((Ok::<_, std::io::Error>(chunk), chunks))
    });
    let part =
        reqwest::multipart::Part::stream_with_length(reqwest::Body::wrap_stream(body), total)
            .file_name("lettre.pdf");
    let form = reqwest::multipart::Form::new()
        .text("field", "support_letter")
        .part("file", part);
    let response = server
        .request(
            Method::POST,
            &format!("/api/v1/applications/{}/attachments", applicant.id),
            Some(&applicant.token),
        )
        .multipart(form)
        .send()
        .await
        .ok()?;
    let status = response.status();
    response.bytes().await.ok()?;
    Some(status)
}

async fn submit(server: &Server, applicant: &Applicant) -> Option<(StatusCode, Value)> {
    let response = server
        .request(
            Method::POST,
            &format!("/api/v1/applications/{}/submit", applicant.id),
            Some(&applicant.token),
        )
        .json(&serde_json::json!({}))
        .send()
        .await
        .ok()?;
    let status = response.status();
    let body = response.json().await.ok()?;
    Some((status, body))
}

#[tokio::test]
async fn a_server_killed_mid_submissions_and_uploads_leaves_each_application_whole() {
    let dir = Arc::new(tempfile::tempdir().unwrap());
    let db = TestDatabase::create(dir.clone());
    let mailbox = Mailbox::up();
    let instance = Instance::new(&db.url, dir.path(), &mailbox);
    let server = instance.serve().await;
    let admin = server.admin(&instance, "admin@crash.test").await;
    let call_id = server.open_call(&admin, "exp-crash").await;
    let mut applicants = Vec::new();
    for n in 0..SUBMITTERS + UPLOADERS {
        let email = format!("mairie{n}@crash.test");
        let token = server.applicant(&email).await;
        let id = server
            .draft(&token, &call_id, &format!("Commune {n}"))
            .await;
        if n < SUBMITTERS {
            let (status, body) = server.upload(&token, &id, letter(n, 4096)).await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
        }
        applicants.push(Applicant { email, token, id });
    }

    // Everything at once; SIGKILL once a few answers have come back.
    let server = Arc::new(server);
    let applicants = Arc::new(applicants);
    let answered = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for n in 0..applicants.len() {
        let (server, applicants, answered) = (server.clone(), applicants.clone(), answered.clone());
        tasks.push(tokio::spawn(async move {
            let applicant = &applicants[n];
            let mut seen = Seen::default();
            if n >= SUBMITTERS {
                let size = if n % 2 == 0 {
                    CHUNK_BYTES / 2
                } else {
                    LETTER_BYTES
                };
                seen.uploaded = slow_upload(&server, applicant, letter(n, size)).await;
                answered.fetch_add(seen.uploaded.is_some() as usize, Ordering::SeqCst);
                if seen.uploaded != Some(StatusCode::CREATED) {
                    return seen;
                }
            }
            seen.submitted = submit(&server, applicant).await;
            answered.fetch_add(seen.submitted.is_some() as usize, Ordering::SeqCst);
            seen
        }));
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while answered.load(Ordering::SeqCst) < KILL_AFTER {
        assert!(Instant::now() < deadline, "the requests are stuck");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    server.kill();
    let mut seen = Vec::new();
    for task in tasks {
        seen.push(task.await.unwrap());
    }
    Arc::into_inner(server)
        .expect("the requests let the server go")
        .killed()
        .await;
    let interrupted = seen
        .iter()
        .enumerate()
        .filter(|(n, s)| match s.uploaded {
            _ if *n < SUBMITTERS => s.submitted.is_none(),
            None => true,
            Some(status) => status == StatusCode::CREATED && s.submitted.is_none(),
        })
        .count();
    assert!(
        interrupted > 0,
        "the kill came after every request: {seen:?}"
    );

    // Started again on the same data, as the only instance: orphan files of any age are swept.
    let instance = instance.with("CORDEE__STORAGE__SWEEP_GRACE_SECONDS", "0");
    let server = instance.serve().await;
    let admin = server.login("admin@crash.test", PASSWORD).await;
    let receipts: Vec<Value> = server
        .all_pages("/api/v1/admin/outbox", &admin, "cursor")
        .await
        .into_iter()
        .filter(|m| m["event"] == "submission_receipt")
        .collect();
    let submitted_events: Vec<Value> = server
        .all_pages(
            &format!("/api/v1/events?call_id={call_id}&type=application.submitted"),
            &admin,
            "after",
        )
        .await;
    let mut rows: HashMap<String, usize> = HashMap::new();
    let (mut submitted, mut drafts) = (0, 0);
    for (n, applicant) in applicants.iter().enumerate() {
        let (status, view) = server
            .get(
                &format!("/api/v1/applications/{}", applicant.id),
                Some(&admin),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{view}");
        let audit = server
            .all_pages(
                &format!(
                    "/api/v1/audit?entity_type=application&entity_id={}",
                    applicant.id
                ),
                &admin,
                "cursor",
            )
            .await;
        let audited = audit
            .iter()
            .filter(|a| a["action"] == "application.submitted")
            .count();
        let events = submitted_events
            .iter()
            .filter(|e| e["application_id"] == applicant.id.as_str())
            .count();
        let queued = receipts
            .iter()
            .filter(|m| m["recipient"] == applicant.email.as_str())
            .count();
        match view["status"].as_str() {
            Some("submitted") => {
                submitted += 1;
                let reference = view["reference"].as_str().expect("a reference");
                assert!(view["submitted_at"].is_string(), "{view}");
                assert_eq!((audited, events, queued), (1, 1, 1), "{view}");
                if let Some((status, body)) = &seen[n].submitted {
                    assert_eq!(*status, StatusCode::OK, "{body}");
                    assert_eq!(body["reference"], reference);
                }
                mailbox.wait_for_subject(&applicant.email, reference).await;
            }
            Some("draft") => {
                drafts += 1;
                assert_eq!(view["reference"], Value::Null, "{view}");
                assert_eq!(view["submitted_at"], Value::Null, "{view}");
                assert_eq!((audited, events, queued), (0, 0, 0), "{view}");
                assert!(
                    seen[n].submitted.is_none(),
                    "a submission answered before the kill was lost: {view}"
                );
            }
            _ => panic!("an application is neither submitted nor a draft: {view}"),
        }
        let attachments = view["attachments"].as_array().unwrap();
        if n < SUBMITTERS || seen[n].uploaded == Some(StatusCode::CREATED) {
            assert_eq!(attachments.len(), 1, "an answered upload was lost: {view}");
        }
        assert!(attachments.len() <= 1, "{view}");
        for attachment in attachments {
            let (status, bytes) = server
                .download(&admin, &applicant.id, attachment["id"].as_str().unwrap())
                .await;
            assert_eq!(status, StatusCode::OK, "an attachment row without its file");
            assert_eq!(attachment["sha256"], sha256(&bytes).as_str());
            *rows.entry(sha256(&bytes)).or_default() += 1;
        }
    }
    let uploads_answered = seen.iter().filter(|s| s.uploaded.is_some()).count();
    eprintln!(
        "after the kill: {submitted} submitted, {drafts} drafts; {uploads_answered} of {UPLOADERS} \
         uploads answered before it, {interrupted} requests cut"
    );

    // Every file on disk belongs to a row: same count, same contents; no partial upload left.
    let mut files: HashMap<String, usize> = HashMap::new();
    for entry in std::fs::read_dir(&instance.storage_dir).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        assert!(
            !name.ends_with(".part"),
            "a partial upload was left: {name}"
        );
        *files
            .entry(sha256(&std::fs::read(entry.path()).unwrap()))
            .or_default() += 1;
    }
    assert_eq!(files, rows, "files on disk without an attachment row");

    // Service resumes: the drafts can be finished and submitted.
    for (n, applicant) in applicants.iter().enumerate() {
        let (_, view) = server
            .get(
                &format!("/api/v1/applications/{}", applicant.id),
                Some(&applicant.token),
            )
            .await;
        if view["status"] != "draft" {
            continue;
        }
        if view["attachments"].as_array().unwrap().is_empty() {
            let (status, body) = server
                .upload(&applicant.token, &applicant.id, letter(n, 4096))
                .await;
            assert_eq!(status, StatusCode::CREATED, "{body}");
        }
        let body = server.submit(&applicant.token, &applicant.id).await;
        mailbox
            .wait_for_subject(&applicant.email, body["reference"].as_str().unwrap())
            .await;
    }
}
