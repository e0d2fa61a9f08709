//! Attachments: files for the form's file fields, streamed to the storage (a folder or a bucket) and checked
//! by their content.

use actix_files::NamedFile;
use actix_multipart::Multipart;
use actix_web::http::header::{
    Charset, ContentDisposition, DispositionParam, DispositionType, ExtendedValue,
};
use actix_web::{delete, get, post, web, HttpRequest, HttpResponse};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::applications::AttachmentView;
use crate::api::extract::{client_address, Caller};
use crate::auth::permissions::Principal;
use crate::domain::form::Field;
use crate::error::{Error, Problem};
use crate::service::attachments::{self as use_case, Upload, Usage};
use crate::state::AppState;
use crate::storage::{self, Download};

/// The form's file field `key`, once the caller may change the application and it has room for a file.
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
        .read(move |conn| use_case::file_field(conn, &caller, id, &key, &quota))
        .await
}

/// Reads the multipart parts: `field` then `file` (streamed to the storage).
async fn read_parts(
    state: &AppState,
    caller: &Principal,
    id: Uuid,
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
                let file = match state.storage.receive(&mut part, max_size, idle).await {
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

/// The multipart body of an upload, as documented: the part `field` first, then `file`.
#[derive(ToSchema)]
pub struct AttachmentUpload {
    /// The key of the form's file field (`pitch_deck`…).
    pub field: String,
    /// The file; its content decides its type (PDF, PNG, JPEG…), not its name.
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
}

/// A file's bytes, as downloaded.
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct FileContent(pub Vec<u8>);

/// Uploads a file for one of the form's file fields: multipart parts `field` (the key) then `file`.
/// 413 over the field's size, 415 when the file's content is not an allowed type, 422 when the application
/// has no room left for it, 429 when the caller or their address uploads too often.
#[utoipa::path(
    operation_id = "uploadAttachment",
    tag = "applications",
    params(("id" = Uuid, Path)),
    request_body(content = AttachmentUpload, content_type = "multipart/form-data", description = "parts `field` (the form's file field key), then `file`"),
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
    let (field, file, filename) = receive(&state, &caller, id, &mut payload).await?;
    match keep(&state, caller, id, (&field, &file), filename).await {
        Ok(view) => Ok(HttpResponse::Created().json(view)),
        Err(err) => {
            state.storage.discard(&file).await;
            Err(err)
        }
    }
}

/// Receives the multipart parts: the form's file field, the file (received, not kept yet) and its name.
async fn receive(
    state: &AppState,
    caller: &Principal,
    id: Uuid,
    payload: &mut Multipart,
) -> Result<(Field, storage::Received, String), Error> {
    let mut field: Option<(Field, Usage)> = None;
    let mut received: Option<(storage::Received, String)> = None;
    let read = read_parts(state, caller, id, payload, &mut field, &mut received).await;
    if let Err(err) = read {
        // A part after the file failed: the file received so far goes too.
        if let Some((file, _)) = &received {
            state.storage.discard(file).await;
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
    Ok((field, file, filename))
}

/// Keeps a received file if its content suits the field ([`use_case::keep`]); the caller discards the
/// file when this fails.
async fn keep(
    state: &AppState,
    caller: Principal,
    id: Uuid,
    (field, file): (&Field, &storage::Received),
    filename: String,
) -> Result<AttachmentView, Error> {
    let content_type = use_case::content_type(field, file)?;
    let now = state.clock.now();
    let new = Upload {
        id,
        field,
        file,
        filename,
        content_type,
    };
    let attachment = use_case::attachment(&caller, new, now);
    let view = AttachmentView::from(&attachment);
    let quota = state.settings.storage.clone();
    let storage = state.storage.clone();
    let name = file.name.clone();
    state
        .db
        .write(move |conn| {
            use_case::keep(conn, &caller, &attachment, &quota, (&storage, &name), now)
        })
        .await?;
    Ok(view)
}

/// Downloads an attachment (who may read the application), as an attachment with a safe file name.
#[utoipa::path(
    operation_id = "downloadAttachment",
    tag = "applications",
    params(("id" = Uuid, Path), ("attachment_id" = Uuid, Path)),
    responses((status = 200, description = "The file", content_type = "application/octet-stream", body = FileContent), (status = 401, body = Problem), (status = 404, body = Problem)),
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
        .read(move |conn| use_case::readable(conn, &caller, id, attachment_id))
        .await?;
    let missing =
        |e: std::io::Error| Error::Internal(anyhow::anyhow!("attachment file missing: {e}"));
    let download = state
        .storage
        .download(&attachment.storage_name)
        .await
        .map_err(missing)?;
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
    let mut response = match download {
        Download::File(path) => NamedFile::open_async(&path)
            .await
            .map_err(missing)?
            .set_content_type(mime)
            .set_content_disposition(disposition)
            .into_response(&req),
        Download::Stream { size, body } => HttpResponse::Ok()
            .content_type(mime)
            .insert_header(disposition)
            .no_chunking(size)
            .streaming(body),
    };
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
    operation_id = "deleteAttachment",
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
        .write(move |conn| use_case::remove(conn, &caller, id, attachment_id, now))
        .await?;
    state.storage.remove(&[attachment.storage_name]).await;
    Ok(HttpResponse::NoContent().finish())
}
