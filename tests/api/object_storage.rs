//! Attachments on S3-compatible object storage (`storage.backend = "s3"`), against a real local server
//! (moto, `.ci/s3-server`): uploads stream into the bucket and download byte for byte with their checksum,
//! large ones in parts; a refused or failed upload leaves no object; two instances share the bucket; review
//! packs read from it; the sweep removes an object without a row once it is old enough and never a fresh one;
//! `cordee backup` reads the objects and `cordee restore` puts them on the other backend; erasing an account
//! deletes its objects.

use std::collections::BTreeSet;

use chrono::Utc;
use cordee::clock::Clock;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::backup::Instance;
use crate::evaluation::{assign, Scenario, Template};
use crate::helpers::s3::{self, fresh_bucket, object, object_keys, put_object, use_bucket};
use crate::helpers::*;

/// A running Cordée whose attachments go to a fresh bucket; returns it and the bucket.
async fn on_s3(
    clock: Clock,
    configure: impl FnOnce(&mut cordee::config::Settings) + 'static,
) -> (TestApp, String) {
    let bucket = fresh_bucket().await;
    let name = bucket.clone();
    let app = TestApp::spawn_with(Options {
        clock,
        configure: Box::new(move |settings| {
            use_bucket(settings, &name);
            configure(settings);
        }),
        ..Options::default()
    })
    .await;
    (app, bucket)
}

/// An applicant with a draft of the Alpes Tourisme Lab; returns their token and the application's id.
async fn applicant_with_a_draft(app: &TestApp, email: &str) -> (String, String) {
    let admin = app.admin("staff@example.org").await;
    let call = app
        .open_call(&admin, "alpes-tourisme-lab", "atl-2026")
        .await;
    let token = app.applicant(email).await;
    let org = app.organization(&token, "startup", "Neige Express").await;
    let (status, created) = app
        .post(
            &format!(
                "/api/v1/calls/{}/applications",
                call["id"].as_str().unwrap()
            ),
            Some(&token),
            json!({"organization_id": org, "answers": {}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    (token, created["id"].as_str().unwrap().to_owned())
}

/// A PDF of `size` bytes whose content depends on `seed`.
fn pdf_of(size: usize, seed: u8) -> Vec<u8> {
    let mut bytes = pdf_bytes();
    bytes.extend((bytes.len()..size).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)));
    bytes
}

/// Downloads an attachment; returns the status and the bytes.
async fn download(app: &TestApp, token: &str, id: &str, attachment: &str) -> (StatusCode, Vec<u8>) {
    let response = app
        .request(
            Method::GET,
            &format!("/api/v1/applications/{id}/attachments/{attachment}"),
            Some(token),
        )
        .send()
        .await
        .unwrap();
    (response.status(), response.bytes().await.unwrap().to_vec())
}

/// Uploads `bytes` as the pitch deck; the attachment as the API shows it.
async fn upload(app: &TestApp, token: &str, id: &str, bytes: Vec<u8>) -> Value {
    let (status, body) = app.upload(token, id, "pitch_deck", "deck.pdf", bytes).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

/// The multipart uploads the bucket has started and neither completed nor aborted.
async fn unfinished_uploads(bucket: &str) -> usize {
    let listing = reqwest::get(format!("{}/{bucket}?uploads", s3::endpoint()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    listing.matches("<UploadId>").count()
}

#[tokio::test]
async fn on_s3_files_download_byte_for_byte_with_their_checksum_and_refused_uploads_leave_no_object(
) {
    // Room for the small file and the large one, not for a second large one.
    let (app, bucket) = on_s3(Clock::system(), |settings| {
        settings.storage.max_bytes_per_application = 12 * 1024 * 1024;
    })
    .await;
    let (token, id) = applicant_with_a_draft(&app, "founder@example.org").await;
    let small = pdf_of(100 * 1024, 1);
    // Over one 5 MiB part: a multipart upload.
    let large = pdf_of(6 * 1024 * 1024 + 123, 2);

    let small_view = upload(&app, &token, &id, small.clone()).await;
    let large_view = upload(&app, &token, &id, large.clone()).await;

    for (view, bytes) in [(&small_view, &small), (&large_view, &large)] {
        assert_eq!(view["sha256"], hex::encode(Sha256::digest(bytes)));
        assert_eq!(view["size"], bytes.len());
        let (status, downloaded) = download(&app, &token, &id, view["id"].as_str().unwrap()).await;
        assert_eq!(status, StatusCode::OK);
        assert!(downloaded == *bytes, "the download differs from the upload");
    }
    let keys = object_keys(&bucket).await;
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert!(
        keys.iter().all(|k| k.starts_with("attachments/")),
        "{keys:?}"
    );
    // A file sent in one piece carries its checksum as metadata.
    let mut checksums = BTreeSet::new();
    for key in &keys {
        let (_, sha256) = object(&bucket, key).await.unwrap();
        checksums.extend(sha256);
    }
    assert_eq!(
        checksums,
        BTreeSet::from([hex::encode(Sha256::digest(&small))])
    );

    // A PNG named like a PDF goes up before its type is known: refused, its object goes too.
    let mut png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR".to_vec();
    png.extend_from_slice(&[0u8; 256]);
    let (status, body) = app.upload(&token, &id, "pitch_deck", "deck.pdf", png).await;
    assert_problem(status, &body, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // Over the application's room after a first part went up: the multipart upload is aborted.
    let (status, body) = app
        .upload(
            &token,
            &id,
            "pitch_deck",
            "deck.pdf",
            pdf_of(7 * 1024 * 1024, 3),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(object_keys(&bucket).await, keys);
    assert_eq!(unfinished_uploads(&bucket).await, 0);
}

#[tokio::test]
async fn two_instances_on_one_bucket_read_each_other_s_files() {
    let (first, bucket) = on_s3(Clock::system(), |_| {}).await;
    let second = first.another_instance().await;
    let (token, id) = applicant_with_a_draft(&first, "founder@example.org").await;
    let deck = pdf_of(300 * 1024, 4);

    let view = upload(&first, &token, &id, deck.clone()).await;
    let attachment = view["id"].as_str().unwrap();

    let (status, downloaded) = download(&second, &token, &id, attachment).await;
    assert_eq!(status, StatusCode::OK);
    assert!(downloaded == deck, "the other instance serves other bytes");
    let (status, body) = second
        .send(
            Method::DELETE,
            &format!("/api/v1/applications/{id}/attachments/{attachment}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(object_keys(&bucket).await, Vec::<String>::new());
    let (status, _) = download(&first, &token, &id, attachment).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_review_pack_holds_the_attachments_read_from_the_bucket() {
    let (app, _bucket) = on_s3(Clock::system(), |_| {}).await;
    let (call, [lea]) = Scenario::new(&app)
        .call(Template::Atl)
        .eligible(2)
        .juror("lea@jury-lea.example")
        .build()
        .await
        .into_parts();
    for application in &call.applications {
        assign(&app, &call, application, &lea).await;
    }

    let pack = crate::review_packs::download(&app, &lea.token, &call, None).await;

    let mut packed = 0;
    for application in pack.manifest["applications"].as_array().unwrap() {
        for file in application["files"].as_array().unwrap() {
            if file["kind"] != "attachment" {
                continue;
            }
            let content = &pack.files[file["path"].as_str().unwrap()];
            assert!(*content == pdf_bytes(), "{}", file["path"]);
            assert_eq!(file["sha256"], hex::encode(Sha256::digest(content)));
            packed += 1;
        }
    }
    assert_eq!(packed, 2);
}

#[tokio::test]
async fn the_sweep_removes_an_old_object_without_a_row_and_keeps_fresh_ones_and_those_with_a_row() {
    let clock = Clock::manual(Utc::now());
    let (app, bucket) = on_s3(clock.clone(), |settings| {
        settings.storage.sweep_grace_seconds = 3600;
    })
    .await;
    let (token, id) = applicant_with_a_draft(&app, "founder@example.org").await;
    let deck = pdf_of(50 * 1024, 5);
    let kept = upload(&app, &token, &id, deck.clone()).await;
    // Left by a crash between the upload and its row; and an object of someone else, beside the prefix.
    put_object(
        &bucket,
        "attachments/0193a5b2c4d87e0f9a1b2c3d4e5f6a7b",
        b"orphan".to_vec(),
    )
    .await;
    put_object(&bucket, "exports/report.csv", b"not ours".to_vec()).await;
    let everything = object_keys(&bucket).await;
    assert_eq!(everything.len(), 3, "{everything:?}");

    // An instance starting now sweeps: the orphan may be an upload in progress elsewhere.
    drop(app.another_instance().await);
    assert_eq!(object_keys(&bucket).await, everything);

    // Past the grace period (the clock was set before the objects were written) it goes; the attachment
    // and the object outside the prefix stay.
    clock.advance(chrono::Duration::seconds(3600 + 60));
    let later = app.another_instance().await;
    let left = object_keys(&bucket).await;
    assert_eq!(left.len(), 2, "{left:?}");
    assert!(!left.contains(&"attachments/0193a5b2c4d87e0f9a1b2c3d4e5f6a7b".to_owned()));
    assert!(left.contains(&"exports/report.csv".to_owned()));
    let (status, downloaded) = download(&later, &token, &id, kept["id"].as_str().unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(downloaded == deck);
}

#[tokio::test]
async fn a_backup_of_the_bucket_restores_into_a_folder_and_into_another_bucket() {
    let (app, bucket) = on_s3(Clock::system(), |_| {}).await;
    let (token, id) = applicant_with_a_draft(&app, "founder@example.org").await;
    let decks = [pdf_of(80 * 1024, 6), pdf_of(5 * 1024 * 1024 + 10, 7)];
    for deck in &decks {
        upload(&app, &token, &id, deck.clone()).await;
    }
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("files.tar.gz");
    let archive_arg = archive.to_str().unwrap();
    let with_bucket = |instance: Instance, bucket: &str| {
        s3::bucket_env(bucket)
            .into_iter()
            .fold(instance, |instance, (key, value)| {
                instance.with(key, &value)
            })
    };
    let source = with_bucket(
        Instance::new(&app.db.url, &dir.path().join("s3"), &app.mailbox),
        &bucket,
    );

    let output = source
        .run(&["backup", "--attachments-only", archive_arg], None)
        .await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let expected: BTreeSet<Vec<u8>> = decks.iter().cloned().collect();
    // Onto the file system.
    let folder = Instance::new(&app.db.url, &dir.path().join("fs"), &app.mailbox);
    let output = folder.run(&["restore", archive_arg], None).await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let on_disk: BTreeSet<Vec<u8>> = std::fs::read_dir(&folder.storage_dir)
        .unwrap()
        .map(|entry| std::fs::read(entry.unwrap().path()).unwrap())
        .collect();
    assert_eq!(on_disk, expected);
    // Onto another bucket, under the same names as on disk.
    let other = fresh_bucket().await;
    let target = with_bucket(
        Instance::new(&app.db.url, &dir.path().join("s3-2"), &app.mailbox),
        &other,
    );
    let output = target.run(&["restore", archive_arg], None).await;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut in_bucket = BTreeSet::new();
    for key in object_keys(&other).await {
        let name = key.strip_prefix("attachments/").unwrap();
        assert!(folder.storage_dir.join(name).is_file(), "{key}");
        in_bucket.insert(object(&other, &key).await.unwrap().0);
    }
    assert_eq!(in_bucket, expected);
    // The bucket is no longer empty: a second restore is refused without --force.
    let output = target.run(&["restore", archive_arg], None).await;
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("is not empty"));
}

#[tokio::test]
async fn deleting_an_account_deletes_the_objects_of_its_draft() {
    let (app, bucket) = on_s3(Clock::system(), |_| {}).await;
    let (token, id) = applicant_with_a_draft(&app, "founder@example.org").await;
    upload(&app, &token, &id, pdf_of(20 * 1024, 8)).await;
    assert_eq!(object_keys(&bucket).await.len(), 1);

    let (status, body) = app
        .send(Method::DELETE, "/api/v1/me", Some(&token), None)
        .await;

    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(object_keys(&bucket).await, Vec::<String>::new());
}
