//! Attachments: files for the form's file fields, streamed to disk and checked by their content.

use actix_files::NamedFile;
use actix_multipart::Multipart;
use actix_web::http::header::{
    Charset, ContentDisposition, DispositionParam, DispositionType, ExtendedValue,
};
use actix_web::{delete, get, post, web, HttpRequest, HttpResponse};
use serde_json::json;
use uuid::Uuid;

use crate::api::applications::AttachmentView;
use crate::api::extract::{client_address, Caller};
use crate::auth::permissions::{can_read_attachment, Principal};
use crate::config::StorageSettings;
use crate::db::types::{Ts, Uid};
use crate::domain::action::Action;
use crate::domain::form::{Field, FieldType};
use crate::domain::refusal::Refusal;
use crate::error::{Error, Problem};
use crate::service::applications::{load, load_for_applicant, read_facts};
use crate::state::AppState;
use crate::storage;
use crate::store::applications::{self, Attachment};
use crate::store::calls;
use crate::store::journal::{Entity, Happened};

/// What an application's attachments already take of its quota.
#[derive(Debug, Clone, Copy)]
struct Usage {
    files: usize,
    bytes: u64,
}

impl Usage {
    fn of(conn: &mut crate::db::DbConn, application_id: Uuid) -> Result<Usage, Error> {
        let attachments = applications::attachments_of(conn, application_id)?;
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

    fn over_bytes(&self, quota: &StorageSettings) -> Error {
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
    fn room(&self, quota: &StorageSettings) -> u64 {
        quota.max_bytes_per_application.saturating_sub(self.bytes)
    }
}

/// The form's file field `key` of the application's call, once the caller may change the application and
/// it has room for one more file; with what its files already take.
async fn file_field(
    state: &AppState,
    caller: &Principal,
    id: Uuid,
    key: String,
) -> Result<(Field, Usage), Error> {
    let caller = caller.clone();
    let quota = state.settings.storage.clone();
    state
        .db
        .read(move |conn| {
            let app = load_for_applicant(conn, &caller, id)?;
            if !app.status.is_editable() {
                return Err(Refusal::FilesLocked(app.status).into());
            }
            let call = calls::find(conn, *app.call_id)?.ok_or(Error::NotFound)?;
            let field = match call.form()?.field(&key) {
                Some(field) if field.kind == FieldType::File => field.clone(),
                _ => {
                    return Err(Error::field(
                        "field",
                        "not_a_file_field",
                        "the form has no file field with this key",
                    ))
                }
            };
            let usage = Usage::of(conn, id)?;
            usage.admit(&quota, 0)?;
            Ok((field, usage))
        })
        .await
}

/// Reads the multipart parts: `field` then `file` (streamed to a temporary file).
async fn read_parts(
    state: &AppState,
    caller: &Principal,
    id: Uuid,
    dir: &std::path::Path,
    payload: &mut Multipart,
    field: &mut Option<(Field, Usage)>,
    received: &mut Option<(storage::Received, String)>,
) -> Result<(), Error> {
    let idle = std::time::Duration::from_millis(state.settings.server.client_body_timeout_ms);
    while let Some(part) = storage::next_chunk(payload, idle).await? {
        let mut part =
            part.map_err(|e| Error::BadRequest(format!("malformed multipart body: {e}")))?;
        match part.name().unwrap_or("") {
            "field" => {
                if field.is_some() {
                    return Err(Error::field("field", "too_many", "one field per request"));
                }
                let mut key = Vec::new();
                while let Some(chunk) = storage::next_chunk(&mut part, idle).await? {
                    let chunk = chunk
                        .map_err(|e| Error::BadRequest(format!("malformed multipart body: {e}")))?;
                    key.extend_from_slice(&chunk);
                    if key.len() > 64 {
                        return Err(Error::field(
                            "field",
                            "invalid",
                            "a field key has at most 64 characters",
                        ));
                    }
                }
                let key = String::from_utf8(key)
                    .map_err(|_| Error::field("field", "invalid", "a field key is text"))?;
                *field = Some(file_field(state, caller, id, key.trim().to_owned()).await?);
            }
            "file" => {
                let Some((field, usage)) = field.as_ref() else {
                    return Err(Error::field(
                        "field",
                        "required",
                        "send the `field` part before the `file` part",
                    ));
                };
                if received.is_some() {
                    return Err(Error::field("file", "too_many", "one file per request"));
                }
                let filename = storage::safe_filename(
                    part.content_disposition().and_then(|cd| cd.get_filename()),
                );
                let field_max = field.max_size.unwrap_or(20 * 1024 * 1024);
                let quota = &state.settings.storage;
                let max_size = field_max.min(usage.room(quota));
                let file = match storage::receive(dir, &mut part, max_size, idle).await {
                    Err(Error::PayloadTooLarge(_)) if max_size < field_max => {
                        return Err(usage.over_bytes(quota))
                    }
                    other => other?,
                };
                *received = Some((file, filename));
            }
            other => {
                return Err(Error::field(
                    other.to_owned(),
                    "unknown_field",
                    "only the parts `field` and `file` are accepted",
                ))
            }
        }
    }
    Ok(())
}

/// Uploads a file for one of the form's file fields: multipart parts `field` (the key) then `file`.
/// 413 over the field's size, 415 when the file's content is not an allowed type, 422 when the application
/// has no room left for it, 429 when the caller or their address uploads too often.
#[utoipa::path(
    tag = "applications",
    params(("id" = Uuid, Path)),
    request_body(content_type = "multipart/form-data", description = "parts `field` (the form's file field key), then `file`"),
    responses(
        (status = 201, body = AttachmentView), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, description = "No longer editable", body = Problem),
        (status = 413, body = Problem), (status = 415, body = Problem), (status = 422, body = Problem),
        (status = 429, description = "Too many uploads; see Retry-After", body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/applications/{id}/attachments")]
pub async fn upload(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
    mut payload: Multipart,
) -> Result<HttpResponse, Error> {
    let caller = caller.0;
    state
        .throttles
        .upload
        .check(&caller.user_id.to_string(), client_address(&req))?;
    let id = id.into_inner();
    let dir = state.settings.storage.dir.clone();
    let mut field: Option<(Field, Usage)> = None;
    let mut received: Option<(storage::Received, String)> = None;
    let read = read_parts(
        &state,
        &caller,
        id,
        &dir,
        &mut payload,
        &mut field,
        &mut received,
    )
    .await;
    if let Err(err) = read {
        // A part after the file failed: the file received so far goes too.
        if let Some((file, _)) = &received {
            let _ = tokio::fs::remove_file(&file.temp_path).await;
        }
        return Err(err);
    }
    let (Some((field, _)), Some((file, filename))) = (field, received) else {
        return Err(Error::Validation(vec![crate::error::FieldError::new(
            "file",
            "required",
            "send the parts `field` and `file`",
        )]));
    };
    let allowed = field.content_types.clone().unwrap_or_default();
    let content_type = match &file.detected_type {
        Some(detected) if allowed.iter().any(|a| a == detected) => detected.clone(),
        other => {
            let _ = tokio::fs::remove_file(&file.temp_path).await;
            return Err(Error::UnsupportedMediaType(format!(
                "the file's content is {}; this field accepts {}",
                other.as_deref().unwrap_or("not a recognised type"),
                allowed.join(", ")
            )));
        }
    };
    let now = state.clock.now();
    let attachment = Attachment {
        id: Uid(Uuid::now_v7()),
        application_id: Uid(id),
        field: field.key.clone(),
        filename,
        content_type,
        size: file.size as i64,
        sha256: file.sha256.clone(),
        storage_name: Uuid::now_v7().simple().to_string(),
        uploaded_by: Some(Uid(caller.user_id)),
        created_at: Ts(now),
    };
    let temp_path = file.temp_path.clone();
    let final_path = storage::path_of(&dir, &attachment.storage_name);
    let view = AttachmentView::from(&attachment);
    let quota = state.settings.storage.clone();
    let stored = state
        .db
        .write(move |conn| {
            applications::lock(conn, id)?;
            let app = load_for_applicant(conn, &caller, id)?;
            if !app.status.is_editable() {
                return Err(Refusal::FilesLocked(app.status).into());
            }
            // Again in the transaction: another upload to the same application may have landed meanwhile.
            Usage::of(conn, id)?.admit(&quota, attachment.size as u64)?;
            applications::insert_attachment(conn, &attachment)?;
            Happened::new(Action::AttachmentUploaded, Some(caller.user_id), Entity::Application(id))
                .after(json!({"attachment_id": attachment.id, "field": attachment.field, "filename": attachment.filename, "size": attachment.size, "sha256": attachment.sha256}))
                .record(conn, now)?;
            // Renamed before the commit: a crash in between leaves a file without a row, which the start-up
            // sweep removes, never a row without its file.
            std::fs::rename(&temp_path, &final_path).map_err(|e| Error::Internal(e.into()))?;
            Ok(())
        })
        .await;
    if let Err(err) = stored {
        let _ = tokio::fs::remove_file(&file.temp_path).await;
        return Err(err);
    }
    Ok(HttpResponse::Created().json(view))
}

/// Downloads an attachment (who may read the application), as an attachment with a safe file name.
#[utoipa::path(
    tag = "applications",
    params(("id" = Uuid, Path), ("attachment_id" = Uuid, Path)),
    responses((status = 200, description = "The file", content_type = "application/octet-stream"), (status = 401, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
#[get("/applications/{id}/attachments/{attachment_id}")]
pub async fn download(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, Error> {
    let caller = caller.0;
    let (id, attachment_id) = path.into_inner();
    let attachment = state
        .db
        .read(move |conn| {
            let (app, role) = load(conn, &caller, id)?;
            can_read_attachment(&caller, &read_facts(conn, &caller, &app, role)?)?;
            applications::find_attachment(conn, id, attachment_id)?.ok_or(Error::NotFound)
        })
        .await?;
    let path = storage::path_of(&state.settings.storage.dir, &attachment.storage_name);
    let file = NamedFile::open_async(&path)
        .await
        .map_err(|e| Error::Internal(anyhow::anyhow!("attachment file missing: {e}")))?;
    let mime = attachment
        .content_type
        .parse()
        .unwrap_or(mime_octet_stream());
    let disposition = ContentDisposition {
        disposition: DispositionType::Attachment,
        parameters: vec![DispositionParam::FilenameExt(ExtendedValue {
            charset: Charset::Ext("UTF-8".into()),
            language_tag: None,
            // Cleaned again: names kept before format characters were taken out at upload may hold some.
            value: storage::safe_filename(Some(&attachment.filename)).into_bytes(),
        })],
    };
    let mut response = file
        .set_content_type(mime)
        .set_content_disposition(disposition)
        .into_response(&req);
    response.headers_mut().insert(
        actix_web::http::header::X_CONTENT_TYPE_OPTIONS,
        actix_web::http::header::HeaderValue::from_static("nosniff"),
    );
    Ok(response)
}

fn mime_octet_stream() -> actix_web::mime::Mime {
    actix_web::mime::APPLICATION_OCTET_STREAM
}

/// Deletes an attachment while the application is editable (its members).
#[utoipa::path(
    tag = "applications",
    params(("id" = Uuid, Path), ("attachment_id" = Uuid, Path)),
    responses((status = 204), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)),
    security(("bearer" = []))
)]
#[delete("/applications/{id}/attachments/{attachment_id}")]
pub async fn remove(
    state: web::Data<AppState>,
    caller: Caller,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, Error> {
    let caller = caller.0;
    let (id, attachment_id) = path.into_inner();
    let now = state.clock.now();
    let attachment = state
        .db
        .write(move |conn| {
            let app = load_for_applicant(conn, &caller, id)?;
            let attachment =
                applications::find_attachment(conn, id, attachment_id)?.ok_or(Error::NotFound)?;
            if !app.status.is_editable() {
                return Err(Refusal::FilesLocked(app.status).into());
            }
            applications::delete_attachment(conn, attachment_id)?;
            Happened::new(
                Action::AttachmentDeleted,
                Some(caller.user_id),
                Entity::Application(id),
            )
            .before(json!({"attachment_id": attachment_id, "filename": attachment.filename}))
            .record(conn, now)?;
            Ok(attachment)
        })
        .await?;
    let path = storage::path_of(&state.settings.storage.dir, &attachment.storage_name);
    if let Err(err) = tokio::fs::remove_file(&path).await {
        tracing::warn!(error = %err, "could not delete an attachment file; the start-up sweep will");
    }
    Ok(HttpResponse::NoContent().finish())
}
