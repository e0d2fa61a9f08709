//! CSV exports for spreadsheet users: RFC 4180, UTF-8 with a byte-order mark. Every cell is a
//! [`Cell`]: text is written so that no spreadsheet takes it for a formula, numbers Cordée computed stay numbers.

use std::collections::BTreeMap;

use actix_web::http::header::{ContentDisposition, DispositionParam, DispositionType};
use actix_web::{get, web, HttpResponse};
use serde_json::Value;
use uuid::Uuid;

use crate::api::extract::{Admin, Caller};
use crate::api::ranking::{rank_stage, RankingOrder, RankingQuery};
use crate::auth::permissions::Scope;
use crate::domain::spreadsheet::Cell;
use crate::error::{Error, Problem};
use crate::state::AppState;
use crate::store::{applications, calls};

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

/// A cell for an answer: numbers as numbers; text as is, lists joined with "; ", booleans as JSON, all as text.
fn cell(value: Option<&Value>) -> Cell {
    match value {
        None | Some(Value::Null) => Cell::from(""),
        Some(Value::Number(n)) => Cell::number(n),
        Some(Value::String(s)) => Cell::from(s.as_str()),
        Some(Value::Array(items)) => Cell::Text(
            items
                .iter()
                .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_owned))
                .collect::<Vec<_>>()
                .join("; "),
        ),
        Some(other) => Cell::Text(other.to_string()),
    }
}

/// Every application of a call, one row each, the answers flattened to one column per form field and the
/// attachments' file names in their field's column (administrators).
#[utoipa::path(
    tag = "evaluation",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "CSV", content_type = "text/csv"), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
#[get("/calls/{id}/export/applications.csv")]
pub async fn applications_csv(
    state: web::Data<AppState>,
    _admin: Admin,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, Error> {
    let id = id.into_inner();
    let (call, rows, files, partners) = state
        .db
        .read(move |conn| {
            let call = calls::find(conn, id)?.ok_or(Error::NotFound)?;
            let rows = applications::with_organizations(conn, id)?;
            let files = applications::attachments_of_call(conn, id)?;
            let ids: Vec<Uuid> = rows.iter().map(|(a, _)| *a.id).collect();
            let mut partners: BTreeMap<Uuid, String> = BTreeMap::new();
            for (app, org) in crate::store::pairings::confirmed_partners(conn, &ids)? {
                if let Some(org) = crate::store::organizations::find(conn, *org)? {
                    partners.insert(*app, org.legal_name);
                }
            }
            Ok((call, rows, files, partners))
        })
        .await?;
    let form = call.form()?;
    let mut files_by_app: BTreeMap<(Uuid, String), Vec<String>> = BTreeMap::new();
    for f in files {
        files_by_app
            .entry((*f.application_id, f.field.clone()))
            .or_default()
            .push(f.filename);
    }
    let mut header: Vec<Cell> = [
        "reference",
        "status",
        "organization",
        "organization_kind",
        "siret",
        "siren",
        "insee_code",
        "postcode",
        "city",
        "submitted_at",
        "partner",
    ]
    .into_iter()
    .map(Cell::from)
    .collect();
    header.extend(form.fields.iter().map(|f| Cell::from(f.key.as_str())));
    let mut out = vec![header];
    for (app, org) in rows {
        let mut row: Vec<Cell> = vec![
            app.reference.clone().into(),
            app.status.as_str().into(),
            org.legal_name.into(),
            org.kind.into(),
            org.siret.into(),
            org.siren.into(),
            org.insee_code.into(),
            org.postcode.into(),
            org.city.into(),
            app.submitted_at.map(|t| t.0.to_rfc3339()).into(),
            partners.get(&*app.id).cloned().into(),
        ];
        for field in &form.fields {
            let value = match files_by_app.get(&(*app.id, field.key.clone())) {
                Some(names) => Cell::Text(names.join("; ")),
                None => cell(app.answers.0.get(&field.key)),
            };
            row.push(value);
        }
        out.push(row);
    }
    csv_response(&format!("{}-applications.csv", call.slug), out)
}

/// The ranking of a stage as CSV (administrators), in the order `normalize` asks for.
#[utoipa::path(
    tag = "evaluation",
    params(("id" = Uuid, Path), RankingQuery),
    responses((status = 200, description = "CSV", content_type = "text/csv"), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = []))
)]
#[get("/calls/{id}/export/ranking.csv")]
pub async fn ranking_csv(
    state: web::Data<AppState>,
    _admin: Admin,
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
            let call = calls::find(conn, id)?.ok_or(Error::NotFound)?;
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
