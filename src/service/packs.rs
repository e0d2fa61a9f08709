//! Review packs: a juror's assigned applications of one stage as one ZIP to read offline. A folder per
//! reference (the answers as a page in the juror's language, the attachments), and at the root
//! `scores.csv` (the score sheet, prefilled with the juror's reviews; see [`crate::domain::score_sheet`])
//! and `manifest.json` (every file with its SHA-256). The applications are those the juror sees
//! ([`visible_assignments`]: never one they are conflicted on, never a withdrawn one).
//!
//! [`open`] decides, in a transaction, whose pack it is and what it holds, and audits the download;
//! [`stream`] then writes the archive on a blocking thread, a page of applications at a time, into a
//! bounded channel that the response body reads: the memory a download holds does not grow with the
//! number of applications or the size of their files.

mod archive;
mod page;

use std::io;
use std::sync::atomic::Ordering;

use anyhow::Context;
use chrono::{DateTime, Utc};
use futures_util::Stream;
use serde_json::json;
use uuid::Uuid;

use crate::auth::permissions::{can_download_review_pack, Principal};
use crate::db::{Db, DbConn};
use crate::domain::action::Action;
use crate::domain::form::{Form, Stage};
use crate::domain::score_sheet::{self, SheetRow};
use crate::error::Error;
use crate::notify::applications::localized;
use crate::service::assignments::visible_assignments;
use crate::storage::{Blocking, Storage};
use crate::store::applications::Attachment;
use crate::store::journal::{Entity, Happened};
use crate::store::{calls, packs, users};

use archive::{Archive, ChannelWriter, Chunk, Kind, Written};
use page::{
    folder_of, Folder, Manifest, ManifestApplication, ManifestCall, ManifestFile, ManifestStage,
    Renderer, PAGE_NAME,
};

/// Applications read from the database at a time while a pack is written.
const PAGE_SIZE: usize = 50;

/// Chunks (of at most 64 KiB) of a pack waiting for a slow client, at most.
const CHUNKS_IN_FLIGHT: usize = 8;

/// The pack asked for: a call's stage, and (staff only) the juror whose pack it is.
#[derive(Debug, Clone)]
pub struct PackRequest {
    pub call_id: Uuid,
    pub stage: String,
    pub juror: Option<Uuid>,
}

/// One application of a pack, by its folder.
#[derive(Debug, Clone)]
pub struct PackItem {
    pub application_id: Uuid,
    pub reference: Option<String>,
    pub folder: String,
}

/// What a pack holds, decided when it is opened.
#[derive(Debug, Clone)]
pub struct Pack {
    pub juror: Uuid,
    /// The juror's language: the pages are in it.
    pub locale: String,
    pub call_id: Uuid,
    pub slug: String,
    pub call_title: String,
    pub timezone: String,
    pub form: Form,
    pub stage: Stage,
    pub stage_label: String,
    /// The applications, in the order of their references.
    pub items: Vec<PackItem>,
    pub generated_at: DateTime<Utc>,
}

impl Pack {
    /// The name the download is saved as: `atl-2026-written-pack.zip`.
    pub fn file_name(&self) -> String {
        format!("{}-{}-pack.zip", self.slug, self.stage.key)
    }
}

/// Opens the pack `request` asks for: whose it is ([`can_download_review_pack`]), the applications that juror
/// sees at the stage, in the order of their references; records the download. 404 when the call does not
/// exist or the juror has no assignment they may see in it; 422 for a stage the call does not have.
pub fn open(
    conn: &mut DbConn,
    caller: &Principal,
    request: PackRequest,
    now: DateTime<Utc>,
) -> Result<Pack, Error> {
    let access = crate::service::staff::load_call_access(conn, caller, request.call_id)?;
    let juror = can_download_review_pack(caller, request.juror, &access)?;
    let call = calls::find(conn, request.call_id)?.ok_or(Error::NotFound)?;
    let visible = visible_assignments(conn, juror, Some(request.call_id))?;
    if visible.is_empty() {
        return Err(Error::NotFound);
    }
    let stage = call
        .stages()?
        .into_iter()
        .find(|s| s.key == request.stage)
        .ok_or_else(|| Error::field("stage", "unknown_stage", "the call has no such stage"))?;
    let user = users::find(conn, juror)?.ok_or(Error::NotFound)?;
    let mut items: Vec<PackItem> = visible
        .into_iter()
        .filter(|a| a.stage == stage.key)
        .map(|a| PackItem {
            application_id: *a.application_id,
            folder: folder_of(*a.application_id, a.reference.as_deref()),
            reference: a.reference,
        })
        .collect();
    items.sort_by(|a, b| a.folder.cmp(&b.folder));
    Happened::new(
        Action::ReviewPackDownloaded,
        Some(caller.user_id),
        Entity::Call(request.call_id),
    )
    .after(json!({"juror_id": juror, "stage": stage.key, "applications": items.len()}))
    .record(conn, now)?;
    Ok(Pack {
        juror,
        call_id: request.call_id,
        slug: call.slug.clone(),
        call_title: localized(&call.title_text(), &user.locale),
        timezone: call.timezone.clone(),
        form: call.form()?,
        stage_label: localized(&stage.label, &user.locale),
        stage,
        locale: user.locale,
        items,
        generated_at: now,
    })
}

/// Writes `pack` as a ZIP, attachments read from `storage`, and returns the stream of its bytes. The writing
/// runs on a blocking thread and waits while the client is slow; if the client goes away it stops. If it
/// fails half-way, the stream ends with an error (the client sees a broken download, never a short pack
/// that looks whole).
pub fn stream(db: Db, storage: Storage, pack: Pack) -> impl Stream<Item = Chunk> + 'static {
    let (tx, rx) = tokio::sync::mpsc::channel::<Chunk>(CHUNKS_IN_FLIGHT);
    let runtime = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        let (out, abandon) = ChannelWriter::new(tx.clone());
        let mut archive = Archive::new(out, pack.generated_at);
        let reader = Reader {
            runtime: &runtime,
            db: &db,
        };
        let written = Blocking::new(storage)
            .map_err(io_error)
            .and_then(|files| write_pack(&reader, &files, &pack, &mut archive));
        let failed = match written {
            Ok(()) => archive.finish().err().map(io_error),
            Err(err) => {
                // What the archive still writes as it drops is discarded: the client only sees the error.
                abandon.store(true, Ordering::Relaxed);
                drop(archive);
                Some(err)
            }
        };
        let Some(err) = failed else { return };
        if tx.is_closed() {
            tracing::info!(call_id = %pack.call_id, "a review pack download was cut short by its client");
        } else {
            tracing::error!(call_id = %pack.call_id, error = ?err, "a review pack could not be written");
            let _ = tx.blocking_send(Err(io::Error::other(
                "the review pack could not be completed",
            )));
        }
    });
    futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    })
}

/// Runs database work from the blocking thread that writes a pack, a page at a time.
struct Reader<'a> {
    runtime: &'a tokio::runtime::Handle,
    db: &'a Db,
}

impl Reader<'_> {
    fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut DbConn) -> Result<T, Error> + Send + 'static,
    ) -> Result<T, Error> {
        self.runtime.block_on(self.db.read(f))
    }
}

/// Writes every file of the pack: `scores.csv`, a folder per application, then `manifest.json`.
fn write_pack(
    db: &Reader<'_>,
    files: &Blocking,
    pack: &Pack,
    archive: &mut Archive<ChannelWriter>,
) -> Result<(), Error> {
    let scores = write_sheet(db, pack, archive)?;
    let renderer = Renderer::new()?;
    let mut applications = Vec::with_capacity(pack.items.len());
    for items in pack.items.chunks(PAGE_SIZE) {
        let ids: Vec<Uuid> = items.iter().map(|i| i.application_id).collect();
        let (found, attachments) = db.read(move |conn| {
            let found = packs::applications_with_names(conn, &ids)
                .context("loading a page of applications")?;
            let attachments = packs::attachments_of_applications(conn, &ids)
                .context("loading their attachments")?;
            Ok((found, attachments))
        })?;
        for (application, organization) in found {
            let Some(item) = items.iter().find(|i| i.application_id == *application.id) else {
                continue;
            };
            let mut folder = Folder::new();
            let mut packed: Vec<(Attachment, String)> = Vec::new();
            for attachment in attachments.iter() {
                if attachment.application_id == application.id && kept(files, attachment)? {
                    packed.push((attachment.clone(), folder.name(&attachment.filename)));
                }
            }
            let html = renderer.page(pack, &application, &organization, &packed)?;
            let path = format!("{}/{PAGE_NAME}", item.folder);
            let page = archive
                .add(&path, Kind::Compressed, html.as_bytes())
                .map_err(io_error)?;
            let mut entries = vec![manifest_file(page, "answers")];
            for (attachment, name) in &packed {
                let path = format!("{}/{name}", item.folder);
                let source = files
                    .open(&attachment.storage_name)
                    .and_then(|source| {
                        source.ok_or_else(|| {
                            io::Error::new(
                                io::ErrorKind::NotFound,
                                "an attachment's file went missing",
                            )
                        })
                    })
                    .map_err(io_error)?;
                let written = archive
                    .add_file(&path, Kind::Stored, source.reader)
                    .map_err(io_error)?;
                entries.push(ManifestFile {
                    field: Some(attachment.field.clone()),
                    filename: Some(attachment.filename.clone()),
                    content_type: Some(attachment.content_type.clone()),
                    ..manifest_file(written, "attachment")
                });
            }
            applications.push(ManifestApplication {
                reference: item.reference.clone(),
                application_id: item.application_id,
                folder: item.folder.clone(),
                files: entries,
            });
        }
    }
    let manifest = Manifest {
        format: 1,
        call: ManifestCall {
            id: pack.call_id,
            slug: pack.slug.clone(),
            title: pack.call_title.clone(),
        },
        stage: ManifestStage {
            key: pack.stage.key.clone(),
            label: pack.stage_label.clone(),
        },
        juror_id: pack.juror,
        generated_at: pack.generated_at,
        scores: manifest_file(scores, "scores"),
        applications,
    };
    let json = serde_json::to_vec_pretty(&manifest).context("writing the manifest")?;
    archive
        .add("manifest.json", Kind::Compressed, &json)
        .map_err(io_error)?;
    Ok(())
}

/// Writes `scores.csv`: a row per application, prefilled with the juror's review of it.
fn write_sheet(
    db: &Reader<'_>,
    pack: &Pack,
    archive: &mut Archive<ChannelWriter>,
) -> Result<Written, Error> {
    archive
        .start("scores.csv", Kind::Compressed)
        .map_err(io_error)?;
    score_sheet::write_header(archive, &pack.stage).map_err(io_error)?;
    for items in pack.items.chunks(PAGE_SIZE) {
        let ids: Vec<Uuid> = items.iter().map(|i| i.application_id).collect();
        let (juror, call_id, stage) = (pack.juror, pack.call_id, pack.stage.key.clone());
        let reviews = db.read(move |conn| {
            Ok(
                packs::reviews_of_juror(conn, juror, call_id, &stage, Some(&ids))
                    .context("loading the juror's reviews")?,
            )
        })?;
        let rows: Vec<SheetRow> = items
            .iter()
            .map(|item| {
                let review = reviews.get(&item.application_id);
                SheetRow {
                    reference: item
                        .reference
                        .clone()
                        .unwrap_or_else(|| item.folder.clone()),
                    scores: review.map(|(_, scores)| scores.clone()).unwrap_or_default(),
                    comment: review.and_then(|(r, _)| r.comment.clone()),
                }
            })
            .collect();
        score_sheet::write_rows(archive, &pack.stage, &rows).map_err(io_error)?;
    }
    archive.end().map_err(io_error)
}

/// Whether an attachment's file is there to be packed; a missing one (an operator's mistake) is left out
/// of the pack, and logged, rather than failing every download that holds it.
fn kept(files: &Blocking, attachment: &Attachment) -> Result<bool, Error> {
    let present = files.exists(&attachment.storage_name).map_err(io_error)?;
    if !present {
        tracing::warn!(attachment_id = %*attachment.id, "an attachment's file is missing: left out of a review pack");
    }
    Ok(present)
}

fn io_error(err: io::Error) -> Error {
    Error::Internal(err.into())
}

fn manifest_file(written: Written, kind: &'static str) -> ManifestFile {
    ManifestFile {
        path: written.path,
        kind,
        field: None,
        filename: None,
        content_type: None,
        size: written.size,
        sha256: written.sha256,
    }
}
