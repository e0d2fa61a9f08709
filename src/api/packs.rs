//! Reviewing offline: a juror downloads a review pack (their applications of a stage as one ZIP, with the
//! score sheet `scores.csv`) and uploads the sheet back, filled in a spreadsheet. The rules are in
//! [`service::packs`] and [`service::score_sheets`]; the sheet's format in [`crate::domain::score_sheet`].

use actix_web::dev::Payload;
use actix_web::http::header::{ContentDisposition, DispositionParam, DispositionType};
use actix_web::{get, put, web, FromRequest, HttpRequest, HttpResponse};
use futures_util::future::LocalBoxFuture;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::api::extract::{body_headers, body_timeout, read_body, Caller};
use crate::auth::permissions::Scope;
use crate::error::{Error, FieldError, Problem};
use crate::service;
use crate::service::packs::PackRequest;
use crate::service::score_sheets::{RowOutcome, SavedRow, SheetUpload};
use crate::state::AppState;

/// The largest score sheet accepted, in bytes (a sheet of 500 applications with long comments fits).
pub const SHEET_LIMIT_BYTES: usize = 4 * 1024 * 1024;

/// `?call_id=&stage=&juror_id=` of a review pack.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PackQuery {
    /// The call (required).
    pub call_id: Option<Uuid>,
    /// The stage whose applications the pack holds, such as `written` (required).
    pub stage: Option<String>,
    /// Administrators only: the juror whose pack to download, as that juror sees it.
    pub juror_id: Option<Uuid>,
}

/// The call and the stage of a query, or a 422 naming each one missing.
fn call_and_stage(call_id: Option<Uuid>, stage: Option<String>) -> Result<(Uuid, String), Error> {
    let stage = stage.filter(|s| !s.trim().is_empty());
    let required = |field: &str| FieldError::new(field, "required", "this parameter is required");
    match (call_id, stage) {
        (Some(call_id), Some(stage)) => Ok((call_id, stage)),
        (call_id, stage) => Err(Error::Validation(
            [
                call_id.is_none().then(|| required("call_id")),
                stage.is_none().then(|| required("stage")),
            ]
            .into_iter()
            .flatten()
            .collect(),
        )),
    }
}

/// Downloads the caller's review pack for a call's stage: one ZIP, streamed, with a folder per application
/// (named after its reference) holding `application.html` (the answers, in the juror's language) and the
/// attachments, and at the root `scores.csv` (the score sheet: `reference`, `stage`, one column per criterion
/// named `<key> (<min>–<max>)`, `comment`; prefilled with the juror's reviews) and `manifest.json` (every
/// file with its size and SHA-256). Applications the juror is conflicted on, and withdrawn ones, are never in
/// it. Audited. Administrators may name a juror (`juror_id`) to get the pack that juror sees. 404 when the
/// call does not exist or the juror has no assignment in it.
#[utoipa::path(
    operation_id = "downloadReviewPack",
    tag = "evaluation",
    params(PackQuery),
    responses(
        (status = 200, description = "The review pack, a ZIP archive", content_type = "application/zip"),
        (status = 401, body = Problem),
        (status = 403, description = "The token lacks `reviews:read`, or `juror_id` names another juror and the caller is not an administrator (`admin_only`)", body = Problem),
        (status = 404, description = "No such call, or no assignment in it", body = Problem),
        (status = 422, description = "`call_id` or `stage` missing, or a stage the call does not have", body = Problem),
    ),
    security(("bearer" = []))
)]
#[get("/me/assignments/pack.zip")]
pub async fn download_pack(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<PackQuery>,
) -> Result<HttpResponse, Error> {
    let caller = caller.0;
    let query = query.into_inner();
    let (call_id, stage) = call_and_stage(query.call_id, query.stage)?;
    let request = PackRequest {
        call_id,
        stage,
        juror: query.juror_id,
    };
    let now = state.clock.now();
    let pack = state
        .db
        .write(move |conn| service::packs::open(conn, &caller, request, now))
        .await?;
    let disposition = ContentDisposition {
        disposition: DispositionType::Attachment,
        parameters: vec![DispositionParam::Filename(pack.file_name())],
    };
    let body = service::packs::stream(state.db.clone(), state.storage.clone(), pack);
    Ok(HttpResponse::Ok()
        .content_type("application/zip")
        .insert_header(disposition)
        .streaming(body))
}

/// `?call_id=&stage=&submit=` of a score sheet.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SheetQuery {
    /// The call (required).
    pub call_id: Option<Uuid>,
    /// The stage the sheet scores, such as `written` (required).
    pub stage: Option<String>,
    /// `true` submits (locks) the reviews too; by default they are saved as drafts.
    pub submit: Option<bool>,
}

/// A score sheet's body: CSV text, read whole up to [`SHEET_LIMIT_BYTES`].
pub struct CsvBody(pub Vec<u8>);

impl FromRequest for CsvBody {
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Self, Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let idle = body_timeout(req);
        let (media_type, declared_length) = body_headers(req);
        // What spreadsheets and browsers send a `.csv` file as.
        let is_csv = media_type.as_deref().is_some_and(|t| {
            matches!(
                t,
                "text/csv" | "application/csv" | "text/plain" | "application/vnd.ms-excel"
            )
        });
        let mut payload = payload.take();
        Box::pin(async move {
            if !is_csv {
                return Err(Error::UnsupportedMediaType(
                    "send the score sheet as text/csv".into(),
                ));
            }
            let bytes = read_body(&mut payload, declared_length, SHEET_LIMIT_BYTES, idle).await?;
            Ok(CsvBody(bytes.to_vec()))
        })
    }
}

/// What an accepted score sheet did.
#[derive(Debug, Serialize, ToSchema)]
pub struct SheetSummary {
    /// Rows saved as drafts.
    pub saved: usize,
    /// Rows submitted (locked).
    pub submitted: usize,
    /// Rows that said what their review already said.
    pub unchanged: usize,
    /// Blank rows (no score, no comment) of applications not reviewed yet, left alone.
    pub skipped: usize,
    /// Each row, in the sheet's order.
    pub rows: Vec<SheetRowView>,
}

/// One row of an accepted score sheet.
#[derive(Debug, Serialize, ToSchema)]
pub struct SheetRowView {
    /// The row's number in the spreadsheet (the header is row 1).
    pub row: usize,
    pub reference: String,
    pub application_id: Uuid,
    /// `saved`, `submitted`, `unchanged` or `skipped`.
    pub outcome: String,
    /// The review now: `pending` (none yet), `draft` or `submitted`.
    pub review_status: String,
}

impl From<Vec<SavedRow>> for SheetSummary {
    fn from(rows: Vec<SavedRow>) -> Self {
        let count = |outcome| rows.iter().filter(|r| r.outcome == outcome).count();
        SheetSummary {
            saved: count(RowOutcome::Saved),
            submitted: count(RowOutcome::Submitted),
            unchanged: count(RowOutcome::Unchanged),
            skipped: count(RowOutcome::Skipped),
            rows: rows
                .iter()
                .map(|r| SheetRowView {
                    row: r.row,
                    reference: r.reference.clone(),
                    application_id: r.application_id,
                    outcome: r.outcome.as_str().into(),
                    review_status: r.review_status.map_or("pending", |s| s.as_str()).into(),
                })
                .collect(),
        }
    }
}

/// Uploads the caller's score sheet for a call's stage (the `scores.csv` of their review pack, filled in a
/// spreadsheet: `;` or `,`, UTF-8 with or without a byte-order mark, decimal commas accepted; an empty cell
/// is no score) and saves every row as their draft review, or submits them with `submit=true`. All or
/// nothing: any bad row — a format error, a reference not assigned to the caller at the stage, a score out
/// of its range, a submitted (locked) review that the row would change, a withdrawn application, the stage's
/// deadline passed — is a 422 listing every error, `field` naming its row as the spreadsheet numbers it and
/// its column (`rows.3.innovation`, `rows.4.reference`, `rows.5` for a refused row, `body` for the whole
/// file), and nothing is saved. Idempotent: a row that says what its review says changes nothing.
#[utoipa::path(
    operation_id = "uploadScoreSheet",
    tag = "evaluation",
    params(SheetQuery),
    request_body(content = String, content_type = "text/csv", description = "The score sheet (at most 4 MiB)"),
    responses(
        (status = 200, body = SheetSummary),
        (status = 401, body = Problem),
        (status = 403, description = "The token lacks `reviews:write`", body = Problem),
        (status = 404, description = "No such call, or no assignment in it", body = Problem),
        (status = 422, description = "Every error of the sheet, by row and column; nothing saved", body = Problem),
    ),
    security(("bearer" = []))
)]
#[put("/me/reviews.csv")]
pub async fn upload_sheet(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<SheetQuery>,
    body: CsvBody,
) -> Result<HttpResponse, Error> {
    let caller = caller.0;
    caller.require_scope(Scope::ReviewsWrite)?;
    let query = query.into_inner();
    let (call_id, stage) = call_and_stage(query.call_id, query.stage)?;
    let upload = SheetUpload {
        call_id,
        stage,
        submit: query.submit.unwrap_or(false),
    };
    let now = state.clock.now();
    let rows = state
        .db
        .write(move |conn| service::score_sheets::upload(conn, &caller, upload, &body.0, now))
        .await?;
    Ok(HttpResponse::Ok().json(SheetSummary::from(rows)))
}
