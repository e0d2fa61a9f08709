//! Replacing a person's email address and name with placeholders in the rows that belong to them or are
//! about them (their own messages, their applications' answers, the emails about those applications, the
//! audit entries they caused…). The rows are chosen by the caller, by identifier: nothing here searches
//! other people's data for a name.
//!
//! The email is matched in any case; the name as a whole word, in any case and with or without accents
//! ("Zélie Marchand", "ZELIE MARCHAND", "zelie marchand"), so that deleting "Jean" leaves "Jeanne" alone.
//! Both are also looked for as an HTML page writes them.

use diesel::prelude::*;
use diesel::sql_types::Text;
use serde_json::Value;

use crate::db::types::{DbUuid, Uid};
use crate::db::DbConn;

/// Whose traces to erase, and what to write instead.
pub struct Identity {
    pub email: String,
    pub name: String,
    pub email_placeholder: String,
    pub name_placeholder: String,
}

/// A column that may hold someone's email or name, in a table keyed by a UUID.
pub struct Column {
    pub table: &'static str,
    pub key: &'static str,
    pub column: &'static str,
    /// A JSON column: scrubbed value by value, so that the document stays valid.
    pub json: bool,
}

/// A text column.
pub const fn text(table: &'static str, key: &'static str, column: &'static str) -> Column {
    Column {
        table,
        key,
        column,
        json: false,
    }
}

/// A JSON column.
pub const fn json(table: &'static str, key: &'static str, column: &'static str) -> Column {
    Column {
        table,
        key,
        column,
        json: true,
    }
}

/// Rows read or written per statement.
const CHUNK: usize = 500;

#[derive(QueryableByName)]
struct Candidate {
    #[diesel(sql_type = DbUuid)]
    key: Uid,
    #[diesel(sql_type = Text)]
    value: String,
}

impl Identity {
    /// `text` with every occurrence of the email and the name replaced, or `None` when there was none.
    pub fn scrub_text(&self, text: &str) -> Option<String> {
        let mut current = text.to_owned();
        let mut changed = false;
        for email in variants(&self.email) {
            if let Some(next) = replace(&current, &email, &self.email_placeholder, Kind::Email) {
                current = next;
                changed = true;
            }
        }
        if let Some(name) = self.searchable_name() {
            for name in variants(name) {
                if let Some(next) = replace(&current, &name, &self.name_placeholder, Kind::Word) {
                    current = next;
                    changed = true;
                }
            }
        }
        changed.then_some(current)
    }

    /// The name to look for: a single letter would match too much that is not a name.
    fn searchable_name(&self) -> Option<&str> {
        let name = self.name.trim();
        (name.chars().count() >= 2).then_some(name)
    }

    /// Scrubs every string of a JSON document in place; true when something changed.
    pub fn scrub_json(&self, value: &mut Value) -> bool {
        match value {
            Value::String(s) => match self.scrub_text(s) {
                Some(next) => {
                    *s = next;
                    true
                }
                None => false,
            },
            Value::Array(items) => {
                let mut changed = false;
                for item in items {
                    changed |= self.scrub_json(item);
                }
                changed
            }
            Value::Object(map) => {
                let mut changed = false;
                for item in map.values_mut() {
                    changed |= self.scrub_json(item);
                }
                changed
            }
            _ => false,
        }
    }

    /// Scrubs `column` in the rows whose key is one of `keys` (and only those); returns the keys of the rows
    /// that changed.
    pub fn scrub_rows(
        &self,
        conn: &mut DbConn,
        column: &Column,
        keys: &[Uid],
    ) -> QueryResult<Vec<Uid>> {
        let postgres = matches!(conn, DbConn::Pg(_));
        let value = if postgres {
            format!("{}::text", column.column)
        } else {
            column.column.to_owned()
        };
        let mut changed = Vec::new();
        for chunk in keys.chunks(CHUNK) {
            let placeholders = (1..=chunk.len())
                .map(|i| {
                    if postgres {
                        format!("${i}")
                    } else {
                        format!("?{i}")
                    }
                })
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "SELECT {key} AS key, {value} AS value FROM {table} \
                 WHERE {column} IS NOT NULL AND {key} IN ({placeholders})",
                key = column.key,
                table = column.table,
                column = column.column,
            );
            let mut query = diesel::sql_query(sql).into_boxed();
            for key in chunk {
                query = query.bind::<DbUuid, _>(*key);
            }
            let candidates: Vec<Candidate> = query.load(conn)?;
            for candidate in candidates {
                let Some(scrubbed) = self.scrub_value(column, &candidate.value)? else {
                    continue;
                };
                let sql = if postgres {
                    let cast = if column.json { "::jsonb" } else { "" };
                    format!(
                        "UPDATE {} SET {} = $1{cast} WHERE {} = $2",
                        column.table, column.column, column.key
                    )
                } else {
                    format!(
                        "UPDATE {} SET {} = ?1 WHERE {} = ?2",
                        column.table, column.column, column.key
                    )
                };
                diesel::sql_query(sql)
                    .bind::<Text, _>(scrubbed)
                    .bind::<DbUuid, _>(candidate.key)
                    .execute(conn)?;
                changed.push(candidate.key);
            }
        }
        Ok(changed)
    }

    fn scrub_value(&self, column: &Column, value: &str) -> QueryResult<Option<String>> {
        if !column.json {
            return Ok(self.scrub_text(value));
        }
        let mut document: Value = serde_json::from_str(value)
            .map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))?;
        Ok(self.scrub_json(&mut document).then(|| document.to_string()))
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// An email address: any case, and not part of a longer address.
    Email,
    /// A name: any case, with or without accents, and not part of a longer word.
    Word,
}

/// The needle as written, and as an HTML template writes it when that differs.
fn variants(needle: &str) -> Vec<String> {
    let mut all = vec![needle.to_owned()];
    let escaped = html_escape(needle);
    if escaped != needle {
        all.push(escaped);
    }
    all
}

/// HTML escaping as the email templates apply it.
fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            '/' => out.push_str("&#x2f;"),
            c => out.push(c),
        }
    }
    out
}

/// A character as names are compared: lowercase, without its accent, typographic apostrophes and
/// non-breaking spaces as their plain forms.
fn fold(c: char) -> char {
    let lower = c.to_lowercase().next().unwrap_or(c);
    match lower {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => 'a',
        'ç' | 'ć' | 'ĉ' | 'ċ' | 'č' => 'c',
        'ď' | 'đ' => 'd',
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ĕ' | 'ė' | 'ę' | 'ě' => 'e',
        'ĝ' | 'ğ' | 'ġ' | 'ģ' => 'g',
        'ĥ' | 'ħ' => 'h',
        'ì' | 'í' | 'î' | 'ï' | 'ĩ' | 'ī' | 'ĭ' | 'į' | 'ı' => 'i',
        'ĵ' => 'j',
        'ķ' => 'k',
        'ĺ' | 'ļ' | 'ľ' | 'ŀ' | 'ł' => 'l',
        'ñ' | 'ń' | 'ņ' | 'ň' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ŏ' | 'ő' => 'o',
        'ŕ' | 'ŗ' | 'ř' => 'r',
        'ś' | 'ŝ' | 'ş' | 'š' | 'ș' => 's',
        'ţ' | 'ť' | 'ŧ' | 'ț' => 't',
        'ù' | 'ú' | 'û' | 'ü' | 'ũ' | 'ū' | 'ŭ' | 'ů' | 'ű' | 'ų' => 'u',
        'ŵ' => 'w',
        'ý' | 'ÿ' | 'ŷ' => 'y',
        'ź' | 'ż' | 'ž' => 'z',
        '\u{2019}' | '\u{2018}' | '\u{02bc}' => '\'',
        '\u{a0}' | '\u{202f}' => ' ',
        other => other,
    }
}

/// A combining accent (as in a decomposed "e\u{301}"), folded away with the letter it follows.
fn is_combining(c: char) -> bool {
    matches!(c, '\u{300}'..='\u{36f}')
}

/// The characters of `text` as compared, each with the byte range of `text` it stands for.
fn folded(text: &str, kind: Kind) -> Vec<(char, usize, usize)> {
    let mut out: Vec<(char, usize, usize)> = Vec::with_capacity(text.len());
    for (at, c) in text.char_indices() {
        let end = at + c.len_utf8();
        match kind {
            Kind::Word if is_combining(c) => match out.last_mut() {
                Some(last) => last.2 = end,
                None => out.push((c, at, end)),
            },
            Kind::Word => out.push((fold(c), at, end)),
            Kind::Email => out.push((c.to_lowercase().next().unwrap_or(c), at, end)),
        }
    }
    out
}

/// `haystack` with each bounded occurrence of `needle` replaced by `with`; `None` when there is none.
fn replace(haystack: &str, needle: &str, with: &str, kind: Kind) -> Option<String> {
    let needle: Vec<char> = folded(needle, kind)
        .into_iter()
        .map(|(c, _, _)| c)
        .collect();
    if needle.is_empty() {
        return None;
    }
    let hay = folded(haystack, kind);
    let mut out = String::new();
    let mut copied = 0;
    let mut i = 0;
    while i + needle.len() <= hay.len() {
        let matches = hay[i..i + needle.len()]
            .iter()
            .zip(&needle)
            .all(|((c, _, _), n)| c == n);
        let end = i + needle.len();
        if matches && is_bounded(kind, i.checked_sub(1).map(|p| hay[p].0), &hay[end..]) {
            out.push_str(&haystack[copied..hay[i].1]);
            out.push_str(with);
            copied = hay[end - 1].2;
            i = end;
        } else {
            i += 1;
        }
    }
    if copied == 0 {
        return None;
    }
    out.push_str(&haystack[copied..]);
    Some(out)
}

fn is_bounded(kind: Kind, previous: Option<char>, after: &[(char, usize, usize)]) -> bool {
    let next = after.first().map(|(c, _, _)| *c);
    let then = after.get(1).map(|(c, _, _)| *c);
    match kind {
        Kind::Word => {
            !previous.is_some_and(char::is_alphanumeric) && !next.is_some_and(char::is_alphanumeric)
        }
        Kind::Email => {
            let left_ok = !previous.is_some_and(|c| c.is_alphanumeric() || "._%+-".contains(c));
            let right_ok = match next {
                None => true,
                Some(c) if c.is_alphanumeric() => false,
                Some('.' | '-') => !then.is_some_and(char::is_alphanumeric),
                Some(_) => true,
            };
            left_ok && right_ok
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn lea() -> Identity {
        Identity {
            email: "lea@example.org".into(),
            name: "Léa O'Neil".into(),
            email_placeholder: "deleted-1@invalid".into(),
            name_placeholder: "Compte supprimé".into(),
        }
    }

    #[test]
    fn emails_are_replaced_in_any_case_but_not_inside_longer_addresses() {
        let lea = lea();
        assert_eq!(
            lea.scrub_text("Write to LEA@example.org, or lea@example.org.")
                .as_deref(),
            Some("Write to deleted-1@invalid, or deleted-1@invalid.")
        );
        assert_eq!(lea.scrub_text("paulalea@example.org"), None);
        assert_eq!(lea.scrub_text("lea@example.org.uk"), None);
        assert_eq!(lea.scrub_text("nothing here"), None);
    }

    #[test]
    fn names_are_replaced_as_whole_words_and_as_html_writes_them() {
        let lea = lea();
        assert_eq!(
            lea.scrub_text("Bonjour Léa O'Neil,").as_deref(),
            Some("Bonjour Compte supprimé,")
        );
        assert_eq!(
            lea.scrub_text("<p>Bonjour Léa O&#x27;Neil,</p>").as_deref(),
            Some("<p>Bonjour Compte supprimé,</p>")
        );
        assert_eq!(lea.scrub_text("Léa O'Neilson"), None);
    }

    #[test]
    fn names_are_found_in_any_case_and_with_or_without_accents() {
        let lea = lea();
        for written in [
            "LÉA O'NEIL",
            "lea o'neil",
            "Lea O\u{2019}Neil",
            "Le\u{301}a O'Neil",
        ] {
            assert_eq!(
                lea.scrub_text(&format!("Signé : {written}.")).as_deref(),
                Some("Signé : Compte supprimé."),
                "{written}"
            );
        }
        assert_eq!(lea.scrub_text("Léandre O'Neil"), None);
    }

    #[test]
    fn a_short_name_is_replaced_only_as_a_whole_word() {
        let la = Identity {
            email: "la@example.org".into(),
            name: "la".into(),
            email_placeholder: "deleted-2@invalid".into(),
            name_placeholder: "Compte supprimé".into(),
        };
        assert_eq!(la.scrub_text("Laval, salade, plat"), None);
        assert_eq!(
            la.scrub_text("Signé : La").as_deref(),
            Some("Signé : Compte supprimé")
        );
    }

    #[test]
    fn json_documents_are_scrubbed_value_by_value() {
        let lea = lea();
        let mut doc = json!({"contact": {"email": "lea@example.org", "name": "Léa O'Neil"}, "n": 3, "list": ["x", "Léa O'Neil"]});
        assert!(lea.scrub_json(&mut doc));
        assert_eq!(
            doc,
            json!({"contact": {"email": "deleted-1@invalid", "name": "Compte supprimé"}, "n": 3, "list": ["x", "Compte supprimé"]})
        );
        assert!(!lea.scrub_json(&mut doc));
    }
}
