//! CSV exports for spreadsheet users: RFC 4180, UTF-8 with a byte-order mark. Every cell is a
//! [`Cell`]: text is written so that no spreadsheet takes it for a formula, numbers Cordée computed stay numbers.

use actix_web::http::header::{ContentDisposition, DispositionParam, DispositionType};
use actix_web::{get, web, HttpResponse};
use uuid::Uuid;

use crate::api::extract::Caller;
use crate::api::ranking::{rank_stage, RankingOrder, RankingQuery};
use crate::auth::permissions::Scope;
use crate::domain::spreadsheet::Cell;
use crate::error::{Error, Problem};
use crate::service::exports;
use crate::state::AppState;

/// The byte-order mark that tells spreadsheets the file is UTF-8.
const BOM: &[u8] = b"\xEF\xBB\xBF";

fn csv_response(filename: &str, rows: Vec<Vec<Cell>>) -> Result<HttpResponse, Error> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(BOM.to_vec());
    for row in rows {
        writer
            .write_record(row.iter().map(|cell| cell.written().into_owned()))
            .map_err(|e| Error::Internal(e.into()))?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| Error::Internal(anyhow::anyhow!("csv: {e}")))?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(ContentDisposition {
            disposition: DispositionType::Attachment,
            parameters: vec![DispositionParam::Filename(filename.to_owned())],
        })
        .body(bytes))
}

/// Every application of a call, one row each, the answers flattened to one column per form field and the
/// attachments' file names in their field's column (administrators and the call's managers: personal data,
/// never for observers).
#[utoipa::path(
    operation_id = "exportApplicationsCsv",
    tag = "evaluation",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "CSV", content_type = "text/csv"), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
#[get("/calls/{id}/export/applications.csv")]
pub async fn applications_csv(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, Error> {
    let id = id.into_inner();
    let (slug, table) = state
        .db
        .read(move |conn| {
            crate::service::staff::managed_call(conn, &caller, id)?;
            exports::applications_table(conn, id)
        })
        .await?;
    csv_response(&format!("{slug}-applications.csv"), table)
}

/// The ranking of a stage as CSV, in the order `normalize` asks for: what the ranking shows (references and
/// scores, no personal data), for whoever reads the ranking (administrators, the call's managers and observers).
#[utoipa::path(
    operation_id = "exportRankingCsv",
    tag = "evaluation",
    params(("id" = Uuid, Path), RankingQuery),
    responses((status = 200, description = "CSV", content_type = "text/csv"), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = []))
)]
#[get("/calls/{id}/export/ranking.csv")]
pub async fn ranking_csv(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<Uuid>,
    query: web::Query<RankingQuery>,
) -> Result<HttpResponse, Error> {
    let id = id.into_inner();
    let query = query.into_inner();
    let order = RankingOrder::parse(query.normalize.as_deref())?;
    let stage = query.stage;
    let (slug, entries) = state
        .db
        .read(move |conn| {
            let call = crate::service::staff::observed_call(conn, &caller, id)?;
            Ok((call.slug, rank_stage(conn, id, stage.as_deref())?))
        })
        .await?;
    let entries = order.apply(entries);
    let criteria: Vec<String> = entries
        .iter()
        .flat_map(|e| e.criteria.keys().cloned())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let fmt = Cell::decimal;
    let mut header: Vec<Cell> = [
        "rank",
        "reference",
        "n_reviews",
        "score",
        "normalized_score",
        "stddev",
        "disagreement",
    ]
    .into_iter()
    .map(Cell::from)
    .collect();
    header.extend(criteria.iter().map(|c| Cell::from(c.as_str())));
    let mut out = vec![header];
    for (i, e) in entries.iter().enumerate() {
        let mut row = vec![
            Cell::number(i + 1),
            e.reference.clone().into(),
            Cell::number(e.n_reviews),
            fmt(e.score),
            fmt(e.normalized_score),
            fmt(e.stddev),
            Cell::Text(e.disagreement.to_string()),
        ];
        row.extend(criteria.iter().map(|c| fmt(e.criteria.get(c).copied())));
        out.push(row);
    }
    csv_response(&format!("{slug}-ranking.csv"), out)
}

/// The caller's own assignments as a juror, as CSV; never an application they are conflicted on.
#[utoipa::path(
    operation_id = "exportMyAssignmentsCsv",
    tag = "evaluation",
    params(crate::api::assignments::MyAssignmentsQuery),
    responses((status = 200, description = "CSV", content_type = "text/csv"), (status = 401, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = []))
)]
#[get("/me/assignments.csv")]
pub async fn my_assignments_csv(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<crate::api::assignments::MyAssignmentsQuery>,
) -> Result<HttpResponse, Error> {
    let query = query.into_inner();
    let caller = caller.0;
    caller.require_scope(Scope::ReviewsRead)?;
    let rows = state
        .db
        .read(move |conn| {
            crate::service::assignments::visible_assignments(conn, caller.user_id, query.call_id)
        })
        .await?;
    let mut out: Vec<Vec<Cell>> = vec![vec![
        "call_id".into(),
        "application_id".into(),
        "reference".into(),
        "stage".into(),
        "review_status".into(),
    ]];
    for a in rows {
        out.push(vec![
            a.call_id.to_string().into(),
            a.application_id.to_string().into(),
            a.reference.into(),
            a.stage.into(),
            a.review_status.map_or("pending", |s| s.as_str()).into(),
        ]);
    }
    csv_response("my-assignments.csv", out)
}
