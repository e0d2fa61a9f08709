//! Attachments, the use cases: which form field a file goes to and whether the application has room for
//! it, keeping a received file (its row, the journal, and putting it in place before the commit), reading
//! one, deleting one. Receiving the bytes stays in the handler ([`crate::storage`]).

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;

use crate::auth::permissions::{can_read_attachment, Principal};
use crate::config::StorageSettings;
use crate::db::types::{Ts, Uid};
use crate::db::DbConn;
use crate::domain::action::Action;
use crate::domain::form::{Field, FieldType};
use crate::domain::refusal::Refusal;
use crate::error::Error;
use crate::service::applications::{facts_of, load_for_applicant};
use crate::service::finalists;
use crate::storage::{Received, Storage};
use crate::store::applications::{self, Application, Attachment};
use crate::store::calls;
use crate::store::journal::{Entity, Happened};

/// What an application's attachments already take of its quota.
#[derive(Debug, Clone, Copy)]
pub struct Usage {
    files: usize,
    bytes: u64,
}

impl Usage {
    fn of(conn: &mut DbConn, application_id: Uuid) -> Result<Usage, Error> {
        let attachments = applications::attachments_of(conn, application_id)
            .context("loading the application's attachments")?;
        Ok(Usage {
            files: attachments.len(),
            bytes: attachments.iter().map(|a| a.size.max(0) as u64).sum(),
        })
    }

    /// 422 when one more file of `size` bytes would take the application over its quota.
    fn admit(&self, quota: &StorageSettings, size: u64) -> Result<(), Error> {
        if self.files >= quota.max_files_per_application as usize {
            return Err(Error::field(
                "file",
                "too_many_files",
                format!(
                    "this application already has {} files, the most allowed; delete one first",
                    self.files
                ),
            ));
        }
        if self.bytes.saturating_add(size) > quota.max_bytes_per_application {
            return Err(self.over_bytes(quota));
        }
        Ok(())
    }

    /// The 422 for a file that does not fit in what is left of the application's quota.
    pub fn over_bytes(&self, quota: &StorageSettings) -> Error {
        Error::field(
            "file",
            "application_quota_exceeded",
            format!(
                "an application's files may take {} bytes in all and this one's already take {}: \
                 this file does not fit",
                quota.max_bytes_per_application, self.bytes
            ),
        )
    }

    /// Bytes the next file may have at most.
    pub fn room(&self, quota: &StorageSettings) -> u64 {
        quota.max_bytes_per_application.saturating_sub(self.bytes)
    }
}

/// 409 once the application's files can no longer change (it is no longer editable).
fn files_unlocked(app: &Application) -> Result<(), Error> {
    if !app.status.is_editable() {
        return Err(Refusal::FilesLocked(app.status).into());
    }
    Ok(())
}

/// The file field `key` of application `app` (of the caller), if its files for that key may change now:
/// a stage's extra document while the application is shortlisted to that stage (409 `not_shortlisted`
/// otherwise, [`finalists::extra_document_field`]); a form's file field while it is editable (409
/// otherwise). `None` for a key that names neither.
fn changeable_file(
    conn: &mut DbConn,
    app: &Application,
    key: &str,
) -> Result<Option<Field>, Error> {
    let call = calls::find(conn, *app.call_id)?.ok_or(Error::NotFound)?;
    if let Some(field) = finalists::extra_document_field(conn, &call, app, key)? {
        return Ok(Some(field));
    }
    let field = call
        .form()?
        .field(key)
        .filter(|field| field.kind == FieldType::File)
        .cloned();
    if field.is_some() {
        files_unlocked(app)?;
    }
    Ok(field)
}

/// [`changeable_file`], a 422 for a key that names no file.
fn changeable_file_field(conn: &mut DbConn, app: &Application, key: &str) -> Result<Field, Error> {
    changeable_file(conn, app, key)?.ok_or_else(|| {
        Error::field(
            "field",
            "not_a_file_field",
            "neither the form nor a stage asks for a file with this key",
        )
    })
}

/// The file field `key` of the application's call (a form's file field, or a stage's extra document), once
/// the caller may change the application's files for it and it has room for one more file; with what its
/// files already take.
pub fn file_field(
    conn: &mut DbConn,
    caller: &Principal,
    id: Uuid,
    key: &str,
    quota: &StorageSettings,
) -> Result<(Field, Usage), Error> {
    let app = load_for_applicant(conn, caller, id)?;
    let field = changeable_file_field(conn, &app, key)?;
    let usage = Usage::of(conn, id)?;
    usage.admit(quota, 0)?;
    Ok((field, usage))
}

/// The type a received file is kept as: the type recognised from its content, if `field` accepts it
/// (415 otherwise).
pub fn content_type(field: &Field, file: &Received) -> Result<String, Error> {
    let allowed = field.content_types.clone().unwrap_or_default();
    match &file.detected_type {
        Some(detected) if allowed.iter().any(|a| a == detected) => Ok(detected.clone()),
        other => Err(Error::UnsupportedMediaType(format!(
            "the file's content is {}; this field accepts {}",
            other.as_deref().unwrap_or("not a recognised type"),
            allowed.join(", ")
        ))),
    }
}

/// A received file for field `field` of application `id`, of `content_type` (see [`content_type`]).
pub struct Upload<'a> {
    pub id: Uuid,
    pub field: &'a Field,
    pub file: &'a Received,
    pub filename: String,
    pub content_type: String,
}

/// The row of a new attachment for `upload` by `caller` (not stored yet).
pub fn attachment(caller: &Principal, upload: Upload<'_>, now: DateTime<Utc>) -> Attachment {
    Attachment {
        id: Uid(Uuid::now_v7()),
        application_id: Uid(upload.id),
        field: upload.field.key.clone(),
        filename: upload.filename,
        content_type: upload.content_type,
        size: upload.file.size as i64,
        sha256: upload.file.sha256.clone(),
        storage_name: upload.file.name.clone(),
        uploaded_by: Some(Uid(caller.user_id)),
        created_at: Ts(now),
    }
}

/// Keeps `attachment`, received as `name` in `storage`: checks again, under the application's lock, that
/// it is editable and has room (another upload may have landed meanwhile), stores the row, records the
/// upload and puts the file in place ([`Storage::keep`]).
pub fn keep(
    conn: &mut DbConn,
    caller: &Principal,
    attachment: &Attachment,
    quota: &StorageSettings,
    (storage, name): (&Storage, &str),
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let id = *attachment.application_id;
    applications::lock(conn, id)?;
    let app = load_for_applicant(conn, caller, id)?;
    changeable_file_field(conn, &app, &attachment.field)?;
    Usage::of(conn, id)?.admit(quota, attachment.size as u64)?;
    applications::insert_attachment(conn, attachment).context("storing the attachment")?;
    Happened::new(Action::AttachmentUploaded, Some(caller.user_id), Entity::Application(id))
        .after(json!({"attachment_id": attachment.id, "field": attachment.field, "filename": attachment.filename, "size": attachment.size, "sha256": attachment.sha256}))
        .record(conn, now)
        .context("recording the upload")?;
    // In place before the commit: a crash in between leaves a file without a row, which the sweep
    // removes, never a row without its file.
    storage.keep(name).map_err(|e| Error::Internal(e.into()))?;
    Ok(())
}

/// Attachment `attachment_id` of application `id`, if the caller may read it ([`can_read_attachment`]).
pub fn readable(
    conn: &mut DbConn,
    caller: &Principal,
    id: Uuid,
    attachment_id: Uuid,
) -> Result<Attachment, Error> {
    let app = applications::find(conn, id)?.ok_or(Error::NotFound)?;
    can_read_attachment(caller, &facts_of(conn, caller, &app)?)?;
    applications::find_attachment(conn, id, attachment_id)?.ok_or(Error::NotFound)
}

/// Deletes attachment `attachment_id` of an application the caller acts for, while its file may change
/// (the application is editable; for a stage's extra document, shortlisted to that stage), and records it; returns the deleted row (its file is for the caller to remove after the commit).
pub fn remove(
    conn: &mut DbConn,
    caller: &Principal,
    id: Uuid,
    attachment_id: Uuid,
    now: DateTime<Utc>,
) -> Result<Attachment, Error> {
    let app = load_for_applicant(conn, caller, id)?;
    let attachment =
        applications::find_attachment(conn, id, attachment_id)?.ok_or(Error::NotFound)?;
    if changeable_file(conn, &app, &attachment.field)?.is_none() {
        // A file whose key the call no longer asks for goes while the application is editable.
        files_unlocked(&app)?;
    }
    applications::delete_attachment(conn, attachment_id).context("deleting the attachment")?;
    Happened::new(
        Action::AttachmentDeleted,
        Some(caller.user_id),
        Entity::Application(id),
    )
    .before(json!({"attachment_id": attachment_id, "filename": attachment.filename}))
    .record(conn, now)
    .context("recording the deletion")?;
    Ok(attachment)
}
