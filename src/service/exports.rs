//! What the exports contain: the rows of a call's applications as spreadsheet cells. The HTTP layer
//! (`api/exports.rs`) writes them as CSV.

use std::collections::BTreeMap;

use serde_json::Value;
use uuid::Uuid;

use crate::db::DbConn;
use crate::domain::spreadsheet::Cell;
use crate::error::Error;
use crate::store::{applications, calls, organizations, pairings};

/// The fixed columns of the applications export, before one column per form field.
const APPLICATION_COLUMNS: [&str; 11] = [
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
];

/// Every application of call `id` (404 when there is no such call), one row each after the header: the
/// organization, the confirmed partner, the answers flattened to one column per form field and the
/// attachments' file names in their field's column. Returns the call's slug (for the file name) and the rows.
pub fn applications_table(conn: &mut DbConn, id: Uuid) -> Result<(String, Vec<Vec<Cell>>), Error> {
    let call = calls::find(conn, id)?.ok_or(Error::NotFound)?;
    let rows = applications::with_organizations(conn, id)?;
    let files = applications::attachments_of_call(conn, id)?;
    let ids: Vec<Uuid> = rows.iter().map(|(a, _)| *a.id).collect();
    let mut partners: BTreeMap<Uuid, String> = BTreeMap::new();
    for (app, org) in pairings::confirmed_partners(conn, &ids)? {
        if let Some(org) = organizations::find(conn, *org)? {
            partners.insert(*app, org.legal_name);
        }
    }
    let form = call.form()?;
    let mut files_by_app: BTreeMap<(Uuid, String), Vec<String>> = BTreeMap::new();
    for f in files {
        files_by_app
            .entry((*f.application_id, f.field.clone()))
            .or_default()
            .push(f.filename);
    }
    let mut header: Vec<Cell> = APPLICATION_COLUMNS.into_iter().map(Cell::from).collect();
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
    Ok((call.slug, out))
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
