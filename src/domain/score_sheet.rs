//! The score sheet, `scores.csv`: a juror's reviews of one stage as a spreadsheet, one row per application.
//! Columns: `reference`, `stage`, one column per criterion of the stage named `<key> (<min>–<max>)`, then
//! `comment`.
//!
//! It is written like every export (RFC 4180, `,`, CRLF, UTF-8 with a byte-order mark, every cell a
//! [`Cell`], so that no text is taken for a formula) and read back from whatever a spreadsheet saves: `;` or
//! `,` (told apart on the header line), with or without the byte-order mark, decimal commas (`7,5`). A
//! criterion's column is found by the key before ` (`; an empty cell is no score. Reading reports every
//! error, each with its row as the spreadsheet numbers it (the header is row 1) and its column.

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};

use super::form::{Criterion, Stage};
use super::spreadsheet::{typed_text, Cell};

/// The byte-order mark that tells spreadsheets the file is UTF-8.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// At most this many characters in a comment, as through the API.
pub const COMMENT_MAX_CHARS: usize = 10_000;

/// One application's row: its reference, the scores given (criterion key → score) and the comment.
#[derive(Debug, Clone, PartialEq)]
pub struct SheetRow {
    pub reference: String,
    pub scores: BTreeMap<String, f64>,
    pub comment: Option<String>,
}

impl SheetRow {
    /// Whether the row says nothing: no score, no comment.
    pub fn is_blank(&self) -> bool {
        self.scores.is_empty() && self.comment.is_none()
    }
}

/// Where a problem of a sheet is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// The file as a whole (its encoding, or no header at all).
    File,
    /// A whole row.
    Row(usize),
    /// One cell: its row and its column (a criterion's key, `reference`, `stage`, `comment`).
    Cell(usize, String),
}

/// A problem of a sheet, where it is, with a stable code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SheetError {
    pub place: Place,
    pub code: &'static str,
    pub message: String,
}

impl SheetError {
    fn new(place: Place, code: &'static str, message: impl Into<String>) -> SheetError {
        SheetError {
            place,
            code,
            message: message.into(),
        }
    }

    fn cell(row: usize, column: &str, code: &'static str, message: impl Into<String>) -> Self {
        SheetError::new(Place::Cell(row, column.to_owned()), code, message)
    }

    /// The row it is on (0 for the file as a whole), to list errors in the sheet's order.
    pub fn row(&self) -> usize {
        match &self.place {
            Place::File => 0,
            Place::Row(row) | Place::Cell(row, _) => *row,
        }
    }

    /// Its field in a 422 answer: `body`, `rows.3` or `rows.3.innovation`.
    pub fn field(&self) -> String {
        match &self.place {
            Place::File => "body".into(),
            Place::Row(row) => format!("rows.{row}"),
            Place::Cell(row, column) => format!("rows.{row}.{column}"),
        }
    }
}

/// What reading a sheet found: the rows without errors (with their row numbers) and every error.
#[derive(Debug, Default)]
pub struct Read {
    pub rows: Vec<(usize, SheetRow)>,
    pub errors: Vec<SheetError>,
}

/// The header of a criterion's column: `innovation (0–10)`.
pub fn criterion_column(criterion: &Criterion) -> String {
    format!("{} ({}–{})", criterion.key, criterion.min, criterion.max)
}

/// Writes the byte-order mark and the header line of a sheet of `stage`.
pub fn write_header(out: &mut impl Write, stage: &Stage) -> io::Result<()> {
    out.write_all(BOM)?;
    let mut header = vec![Cell::from("reference"), Cell::from("stage")];
    header.extend(
        stage
            .criteria
            .iter()
            .map(|c| Cell::from(criterion_column(c))),
    );
    header.push(Cell::from("comment"));
    write_records(out, [header])
}

/// Writes `rows` (after [`write_header`]): a score as a number, no score as an empty cell.
pub fn write_rows<'a>(
    out: &mut impl Write,
    stage: &Stage,
    rows: impl IntoIterator<Item = &'a SheetRow>,
) -> io::Result<()> {
    write_records(
        out,
        rows.into_iter().map(|row| {
            let mut cells = vec![
                Cell::from(row.reference.as_str()),
                Cell::from(stage.key.as_str()),
            ];
            cells.extend(stage.criteria.iter().map(|c| match row.scores.get(&c.key) {
                Some(score) => Cell::number(*score),
                None => Cell::from(""),
            }));
            cells.push(Cell::from(row.comment.as_deref()));
            cells
        }),
    )
}

/// A whole sheet of `stage` with `rows`.
pub fn write(stage: &Stage, rows: &[SheetRow]) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing to memory cannot fail.
    let _ = write_header(&mut out, stage).and_then(|()| write_rows(&mut out, stage, rows));
    out
}

fn write_records(
    out: &mut impl Write,
    records: impl IntoIterator<Item = Vec<Cell>>,
) -> io::Result<()> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(out);
    for record in records {
        writer
            .write_record(record.iter().map(|cell| cell.written().into_owned()))
            .map_err(io::Error::other)?;
    }
    writer.flush()
}

/// Reads a sheet of `stage` as a spreadsheet saved it. Rows whose cells are all empty are skipped; a row
/// with an error is left out of [`Read::rows`] and its errors are in [`Read::errors`], with every other
/// error of the sheet.
pub fn read(bytes: &[u8], stage: &Stage) -> Read {
    let bytes = bytes.strip_prefix(BOM).unwrap_or(bytes);
    let Ok(text) = std::str::from_utf8(bytes) else {
        return Read::failed(
            "not_utf8",
            "the sheet is not UTF-8 text: save it as \"CSV UTF-8\"",
        );
    };
    let first_line = text.lines().next().unwrap_or("");
    let delimiter = if first_line.matches(';').count() > first_line.matches(',').count() {
        b';'
    } else {
        b','
    };
    let mut records = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes())
        .into_records()
        .enumerate();
    let mut read = Read::default();
    let columns = match records.next() {
        Some((_, Ok(header))) => Columns::of(&header, stage, &mut read.errors),
        Some((_, Err(err))) => return Read::failed("malformed", format!("unreadable: {err}")),
        None => return Read::failed("empty", "the sheet is empty: it needs its header line"),
    };
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (index, record) in records {
        let row = index + 1;
        let record = match record {
            Ok(record) => record,
            Err(err) => {
                read.errors.push(SheetError::new(
                    Place::Row(row),
                    "malformed",
                    format!("unreadable: {err}"),
                ));
                continue;
            }
        };
        if record.iter().all(|cell| cell.trim().is_empty()) {
            continue;
        }
        let before = read.errors.len();
        let sheet_row = columns.row(row, &record, stage, &mut read.errors);
        if let Some(first) = seen.get(&sheet_row.reference) {
            read.errors.push(SheetError::cell(
                row,
                "reference",
                "duplicate_reference",
                format!("this reference is on row {first} already"),
            ));
        } else if !sheet_row.reference.is_empty() {
            seen.insert(sheet_row.reference.clone(), row);
        }
        if read.errors.len() == before {
            read.rows.push((row, sheet_row));
        }
    }
    read
}

impl Read {
    fn failed(code: &'static str, message: impl Into<String>) -> Read {
        Read {
            rows: Vec::new(),
            errors: vec![SheetError::new(Place::File, code, message)],
        }
    }
}

/// A cell's text as typed: trimmed, without the quote an export put before a formula-like start.
fn typed(cell: &str) -> &str {
    typed_text(cell.trim()).trim()
}

/// Which column holds what, from the header line.
struct Columns {
    reference: Option<usize>,
    stage: Option<usize>,
    comment: Option<usize>,
    /// The criteria's columns: (column, criterion key).
    criteria: Vec<(usize, String)>,
    /// Columns without a name in the header (and every column past the header's last).
    named: Vec<bool>,
}

impl Columns {
    /// Reads the header line; notes unknown, repeated and missing columns.
    fn of(header: &csv::StringRecord, stage: &Stage, errors: &mut Vec<SheetError>) -> Columns {
        let mut columns = Columns {
            reference: None,
            stage: None,
            comment: None,
            criteria: Vec::new(),
            named: Vec::new(),
        };
        let mut found: HashMap<String, usize> = HashMap::new();
        for (index, cell) in header.iter().enumerate() {
            let name = typed(cell);
            columns.named.push(!name.is_empty());
            if name.is_empty() {
                continue;
            }
            let key = name.split('(').next().unwrap_or(name).trim().to_lowercase();
            let key = if key.is_empty() { name.to_owned() } else { key };
            if found.insert(key.clone(), index).is_some() {
                errors.push(SheetError::cell(
                    1,
                    &key,
                    "duplicate_column",
                    "this column is in the header twice",
                ));
                continue;
            }
            match key.as_str() {
                "reference" => columns.reference = Some(index),
                "stage" => columns.stage = Some(index),
                "comment" => columns.comment = Some(index),
                _ => match stage.criteria.iter().find(|c| c.key.to_lowercase() == key) {
                    Some(criterion) => columns.criteria.push((index, criterion.key.clone())),
                    None => errors.push(SheetError::cell(
                        1,
                        &key,
                        "unknown_column",
                        format!(
                            "the stage `{}` has no criterion `{key}`; the columns are reference, \
                             stage, one per criterion and comment",
                            stage.key
                        ),
                    )),
                },
            }
        }
        let criteria_missing = stage.criteria.iter().filter_map(|c| {
            let present = columns.criteria.iter().any(|(_, key)| key == &c.key);
            (!present).then_some(c.key.as_str())
        });
        let missing = [
            ("reference", columns.reference),
            ("stage", columns.stage),
            ("comment", columns.comment),
        ]
        .into_iter()
        .filter_map(|(key, column)| column.is_none().then_some(key))
        .chain(criteria_missing);
        for key in missing {
            errors.push(SheetError::cell(
                1,
                key,
                "missing_column",
                "the header has no such column",
            ));
        }
        columns
    }

    /// Reads one row (number `row`); notes each bad cell. The row's reference is read even when other
    /// cells are bad, so that repeated references are told too.
    fn row(
        &self,
        row: usize,
        record: &csv::StringRecord,
        stage: &Stage,
        errors: &mut Vec<SheetError>,
    ) -> SheetRow {
        let cell = |column: Option<usize>| column.and_then(|c| record.get(c)).map_or("", typed);
        let reference = cell(self.reference).to_owned();
        if reference.is_empty() && self.reference.is_some() {
            errors.push(SheetError::cell(
                row,
                "reference",
                "required",
                "each row names the application's reference",
            ));
        }
        let given_stage = cell(self.stage);
        if !given_stage.is_empty() && given_stage != stage.key {
            errors.push(SheetError::cell(
                row,
                "stage",
                "wrong_stage",
                format!("this sheet is for the stage `{}`", stage.key),
            ));
        }
        let mut scores = BTreeMap::new();
        for (column, key) in &self.criteria {
            let text = cell(Some(*column));
            if text.is_empty() {
                continue;
            }
            match parse_score(text) {
                Some(score) => {
                    scores.insert(key.clone(), score);
                }
                None => errors.push(SheetError::cell(
                    row,
                    key,
                    "not_a_number",
                    format!("`{text}` is not a number (write 7 or 7.5 or 7,5)"),
                )),
            }
        }
        let comment = cell(self.comment);
        if comment.chars().count() > COMMENT_MAX_CHARS {
            errors.push(SheetError::cell(
                row,
                "comment",
                "too_long",
                format!("at most {COMMENT_MAX_CHARS} characters"),
            ));
        }
        if comment.contains('\0') {
            errors.push(SheetError::cell(
                row,
                "comment",
                "invalid_characters",
                "NUL characters are not allowed",
            ));
        }
        for (index, value) in record.iter().enumerate() {
            let named = self.named.get(index).copied().unwrap_or(false);
            if !named && !value.trim().is_empty() {
                errors.push(SheetError::new(
                    Place::Row(row),
                    "unknown_column",
                    format!(
                        "column {} holds a value but has no name in the header",
                        index + 1
                    ),
                ));
            }
        }
        SheetRow {
            reference,
            scores,
            comment: (!comment.is_empty()).then(|| comment.to_owned()),
        }
    }
}

/// A score as typed: `7`, `7.5` or `7,5` (a decimal comma); `None` for anything else.
fn parse_score(text: &str) -> Option<f64> {
    let text = text.replace(',', ".");
    if text.matches('.').count() > 1 {
        return None;
    }
    text.parse::<f64>().ok().filter(|score| score.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::form::Text;
    use proptest::prelude::*;

    fn stage() -> Stage {
        let criterion = |key: &str, max: f64| Criterion {
            key: key.into(),
            label: Text::french(key),
            description: None,
            weight: 50,
            min: 0.0,
            max,
        };
        Stage::new(
            "written",
            Text::french("Dossier"),
            vec![criterion("innovation", 10.0), criterion("team", 2.5)],
        )
    }

    fn row(reference: &str, scores: &[(&str, f64)], comment: Option<&str>) -> SheetRow {
        SheetRow {
            reference: reference.into(),
            scores: scores.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect(),
            comment: comment.map(str::to_owned),
        }
    }

    fn fields(read: &Read) -> Vec<(String, &'static str)> {
        read.errors.iter().map(|e| (e.field(), e.code)).collect()
    }

    #[test]
    fn a_sheet_is_written_like_the_exports_with_the_ranges_in_the_header() {
        let rows = [
            row(
                "ATL-2026-0001",
                &[("innovation", 7.5), ("team", 2.0)],
                Some("Solide"),
            ),
            row("ATL-2026-0002", &[("team", 1.0)], Some("=HYPERLINK(\"x\")")),
            row("ATL-2026-0003", &[], None),
        ];
        let written = String::from_utf8(write(&stage(), &rows)).unwrap();
        assert_eq!(
            written,
            "\u{FEFF}reference,stage,innovation (0–10),team (0–2.5),comment\r\n\
             ATL-2026-0001,written,7.5,2,Solide\r\n\
             ATL-2026-0002,written,,1,\"'=HYPERLINK(\"\"x\"\")\"\r\n\
             ATL-2026-0003,written,,,\r\n"
        );
        let read = read(written.as_bytes(), &stage());
        assert!(read.errors.is_empty(), "{:?}", read.errors);
        let rows_read: Vec<SheetRow> = read.rows.into_iter().map(|(_, r)| r).collect();
        assert_eq!(rows_read, rows);
    }

    #[test]
    fn a_spreadsheet_dialect_with_semicolons_decimal_commas_and_no_byte_order_mark_reads() {
        let sheet = "reference;stage;Innovation (0–10);team;comment\n\
                     ATL-2026-0001;written;7,5;2;\"Bien; vraiment\"\n\
                     ;;;;\n\
                     'ATL-2026-0002;;;; '-quand même \n";
        let read = read(sheet.as_bytes(), &stage());
        assert!(read.errors.is_empty(), "{:?}", read.errors);
        assert_eq!(
            read.rows,
            vec![
                (
                    2,
                    row(
                        "ATL-2026-0001",
                        &[("innovation", 7.5), ("team", 2.0)],
                        Some("Bien; vraiment")
                    )
                ),
                (4, row("'ATL-2026-0002", &[], Some("-quand même"))),
            ]
        );
        // Commas, a decimal comma in quotes, no byte-order mark either.
        let sheet =
            "comment,team,innovation,stage,reference\r\n\"\",\"1,5\",,written,ATL-2026-0009\r\n";
        let read = super::read(sheet.as_bytes(), &stage());
        assert!(read.errors.is_empty(), "{:?}", read.errors);
        assert_eq!(
            read.rows,
            vec![(2, row("ATL-2026-0009", &[("team", 1.5)], None))]
        );
    }

    #[test]
    fn every_error_is_reported_with_its_row_and_column() {
        let sheet = "\u{FEFF}reference;stage;innovation (0–10);impact (0–5);comment;comment\n\
                     ATL-1;written;sept;;\n\
                     ATL-2;pitch;7;;\n\
                     ATL-1;written;1.2.3;;\n\
                     ;written;3;;\n\
                     ATL-3;written;3;;;;en trop\n";
        let read = read(sheet.as_bytes(), &stage());
        assert_eq!(
            fields(&read),
            vec![
                ("rows.1.impact".into(), "unknown_column"),
                ("rows.1.comment".into(), "duplicate_column"),
                ("rows.1.team".into(), "missing_column"),
                ("rows.2.innovation".into(), "not_a_number"),
                ("rows.3.stage".into(), "wrong_stage"),
                ("rows.4.innovation".into(), "not_a_number"),
                ("rows.4.reference".into(), "duplicate_reference"),
                ("rows.5.reference".into(), "required"),
                ("rows.6".into(), "unknown_column"),
            ]
        );
        assert!(read.rows.is_empty(), "{:?}", read.rows);
    }

    #[test]
    fn a_sheet_that_is_not_utf8_or_empty_is_refused_as_a_whole() {
        let latin1 = b"reference;stage;innovation;team;comment\nATL-1;written;1;1;tr\xe8s bien\n";
        assert_eq!(
            fields(&read(latin1, &stage())),
            vec![("body".into(), "not_utf8")]
        );
        assert_eq!(fields(&read(BOM, &stage())), vec![("body".into(), "empty")]);
        let long = format!(
            "reference,stage,innovation,team,comment\nATL-1,written,,,{}\nATL-2,written,,,a\0b\n",
            "é".repeat(COMMENT_MAX_CHARS + 1)
        );
        assert_eq!(
            fields(&read(long.as_bytes(), &stage())),
            vec![
                ("rows.2.comment".into(), "too_long"),
                ("rows.3.comment".into(), "invalid_characters")
            ]
        );
    }

    /// The sheet as a French spreadsheet saves it: `;`, decimal commas, with or without the byte-order mark.
    fn as_french_spreadsheet(sheet: &[u8], bom: bool) -> Vec<u8> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(sheet.strip_prefix(BOM).unwrap());
        let mut out = if bom { BOM.to_vec() } else { Vec::new() };
        {
            let mut writer = csv::WriterBuilder::new()
                .delimiter(b';')
                .from_writer(&mut out);
            for (i, record) in reader.records().enumerate() {
                let record = record.unwrap();
                let cells: Vec<String> = record
                    .iter()
                    .enumerate()
                    .map(|(column, cell)| {
                        let is_score = i > 0 && (2..2 + stage().criteria.len()).contains(&column);
                        if is_score {
                            cell.replace('.', ",")
                        } else {
                            cell.to_owned()
                        }
                    })
                    .collect();
                writer.write_record(&cells).unwrap();
            }
        }
        out
    }

    fn arb_rows() -> impl Strategy<Value = Vec<SheetRow>> {
        let score = prop_oneof![
            (0u32..=100).prop_map(|n| f64::from(n) / 4.0),
            any::<f64>().prop_filter("finite", |f| f.is_finite()),
        ];
        let comment = proptest::option::of(
            "[^'\\s\\x00][^\\x00]{0,60}[^\\s\\x00]|[=+@\\-][^\\x00]{0,20}[^\\s\\x00]|[a-z]",
        );
        let one = (
            proptest::option::of(score.clone()),
            proptest::option::of(score),
            comment,
        );
        proptest::collection::vec(one, 0..8).prop_map(|rows| {
            rows.into_iter()
                .enumerate()
                .map(|(i, (innovation, team, comment))| SheetRow {
                    reference: format!("ATL-2026-{i:04}"),
                    scores: [("innovation", innovation), ("team", team)]
                        .into_iter()
                        .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v)))
                        .collect(),
                    comment: comment
                        .map(|c| c.trim().to_owned())
                        .filter(|c| !c.is_empty()),
                })
                .collect()
        })
    }

    proptest! {
        #[test]
        fn a_written_sheet_reads_back_the_same_as_written_and_as_a_spreadsheet_saves_it(
            rows in arb_rows(),
            bom in any::<bool>(),
        ) {
            let stage = stage();
            let written = write(&stage, &rows);
            for sheet in [written.clone(), as_french_spreadsheet(&written, bom)] {
                let read = read(&sheet, &stage);
                prop_assert!(read.errors.is_empty(), "{:?}", read.errors);
                let back: Vec<SheetRow> = read.rows.into_iter().map(|(_, r)| r).collect();
                prop_assert_eq!(&back, &rows);
            }
        }

        #[test]
        fn reading_any_text_never_panics_and_every_error_has_a_place(text in "\\PC{0,200}") {
            let read = read(text.as_bytes(), &stage());
            for error in &read.errors {
                prop_assert!(!error.field().is_empty());
            }
        }
    }
}
