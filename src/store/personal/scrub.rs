//! Finding a person's email address and name where free text and JSON documents may hold them (message
//! bodies, email copies, audit snapshots, answers…), and writing placeholders instead.
//!
//! The email is matched in any case; the name as written, as a whole word (so that deleting "Jean" leaves
//! "Jeanne" alone). Both are also looked for as an HTML page and a JSON document write them.

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

const fn text(table: &'static str, key: &'static str, column: &'static str) -> Column {
    Column {
        table,
        key,
        column,
        json: false,
    }
}

const fn json(table: &'static str, key: &'static str, column: &'static str) -> Column {
    Column {
        table,
        key,
        column,
        json: true,
    }
}

/// Every column where a person's email or name can end up without being their own account's field: free
/// text written by people, copies of emails, snapshots and payloads.
pub const COLUMNS: [Column; 19] = [
    text("outbox", "id", "recipient"),
    text("outbox", "id", "subject"),
    text("outbox", "id", "body_text"),
    text("outbox", "id", "body_html"),
    text("outbox", "id", "last_error"),
    json("applications", "id", "answers"),
    text("applications", "id", "screening_reason"),
    text("applications", "id", "withdrawn_reason"),
    text("attachments", "id", "filename"),
    text("application_messages", "id", "body"),
    text("conflicts", "id", "reason"),
    text("reviews", "id", "comment"),
    text("decisions", "application_id", "motivation"),
    json("audit_log", "id", "before"),
    json("audit_log", "id", "after"),
    json("events", "id", "data"),
    text("webhooks", "id", "description"),
    text("webhook_deliveries", "id", "payload"),
    text("webhook_deliveries", "id", "last_error"),
];

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

    /// `LIKE` patterns selecting the rows that may hold the email or the name, each with whether it is
    /// compared with the lowercased column (the email) or as written (the name).
    fn patterns(&self) -> Vec<(String, bool)> {
        let mut patterns: Vec<(String, bool)> = Vec::new();
        let mut push = |needle: &str, lowercase: bool| {
            let pattern = format!("%{}%", like_escape(needle));
            if !needle.is_empty() && !patterns.iter().any(|(p, _)| *p == pattern) {
                patterns.push((pattern, lowercase));
            }
        };
        for email in variants(&self.email.to_lowercase()) {
            push(&email, true);
            push(&json_escape(&email), true);
        }
        if let Some(name) = self.searchable_name() {
            for name in variants(name) {
                push(&name, false);
                push(&json_escape(&name), false);
            }
        }
        patterns
    }

    /// Scrubs one column of every row that holds the email or the name; returns how many rows changed.
    pub fn scrub_column(&self, conn: &mut DbConn, column: &Column) -> QueryResult<usize> {
        let patterns = self.patterns();
        if patterns.is_empty() {
            return Ok(0);
        }
        let postgres = matches!(conn, DbConn::Pg(_));
        let value = if postgres {
            format!("{}::text", column.column)
        } else {
            column.column.to_owned()
        };
        let conditions = condition_sql(&value, &patterns, postgres);
        let sql = format!(
            "SELECT {key} AS key, {value} AS value FROM {table} WHERE {conditions}",
            key = column.key,
            table = column.table,
        );
        let mut query = diesel::sql_query(sql).into_boxed();
        for (pattern, _) in patterns {
            query = query.bind::<Text, _>(pattern);
        }
        let candidates: Vec<Candidate> = query.load(conn)?;
        let mut changed = 0;
        for candidate in candidates {
            let scrubbed = if column.json {
                let mut document: Value = serde_json::from_str(&candidate.value)
                    .map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))?;
                if !self.scrub_json(&mut document) {
                    continue;
                }
                document.to_string()
            } else {
                match self.scrub_text(&candidate.value) {
                    Some(next) => next,
                    None => continue,
                }
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
            changed += diesel::sql_query(sql)
                .bind::<Text, _>(scrubbed)
                .bind::<DbUuid, _>(candidate.key)
                .execute(conn)?;
        }
        Ok(changed)
    }

    /// Deletes the rows of `table` whose `column` holds the email or the name (stored answers replayed for
    /// idempotency keys, which are only kept for retries).
    pub fn delete_rows(
        &self,
        conn: &mut DbConn,
        table: &'static str,
        column: &'static str,
    ) -> QueryResult<usize> {
        let patterns = self.patterns();
        if patterns.is_empty() {
            return Ok(0);
        }
        let postgres = matches!(conn, DbConn::Pg(_));
        let conditions = condition_sql(column, &patterns, postgres);
        let mut query =
            diesel::sql_query(format!("DELETE FROM {table} WHERE {conditions}")).into_boxed();
        for (pattern, _) in patterns {
            query = query.bind::<Text, _>(pattern);
        }
        query.execute(conn)
    }
}

fn condition_sql(value: &str, patterns: &[(String, bool)], postgres: bool) -> String {
    patterns
        .iter()
        .enumerate()
        .map(|(i, (_, lowercase))| {
            let placeholder = if postgres {
                format!("${}", i + 1)
            } else {
                format!("?{}", i + 1)
            };
            if *lowercase {
                format!("lower({value}) LIKE {placeholder} ESCAPE '\\'")
            } else {
                format!("{value} LIKE {placeholder} ESCAPE '\\'")
            }
        })
        .collect::<Vec<_>>()
        .join(" OR ")
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// An email address: any case, and not part of a longer address.
    Email,
    /// A name: as written, and not part of a longer word.
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

/// The text as it appears inside a JSON string.
fn json_escape(text: &str) -> String {
    let quoted = Value::String(text.to_owned()).to_string();
    quoted[1..quoted.len() - 1].to_owned()
}

fn like_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '%' | '_') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `haystack` with each bounded occurrence of `needle` replaced by `with`; `None` when there is none.
fn replace(haystack: &str, needle: &str, with: &str, kind: Kind) -> Option<String> {
    let first_len = needle.chars().next()?.len_utf8();
    // ASCII lowercasing keeps every byte where it was, so positions found in `folded` hold in `haystack`.
    let (folded, needle) = match kind {
        Kind::Email => (haystack.to_ascii_lowercase(), needle.to_ascii_lowercase()),
        Kind::Word => (haystack.to_owned(), needle.to_owned()),
    };
    let mut out = String::new();
    let mut copied = 0;
    let mut from = 0;
    while let Some(found) = folded[from..].find(&needle) {
        let start = from + found;
        let end = start + needle.len();
        if is_bounded(kind, &haystack[..start], &haystack[end..]) {
            out.push_str(&haystack[copied..start]);
            out.push_str(with);
            copied = end;
            from = end;
        } else {
            from = start + first_len;
        }
    }
    if copied == 0 {
        return None;
    }
    out.push_str(&haystack[copied..]);
    Some(out)
}

fn is_bounded(kind: Kind, before: &str, after: &str) -> bool {
    let previous = before.chars().next_back();
    let mut rest = after.chars();
    let next = rest.next();
    let then = rest.next();
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

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_escape("a_b%c\\d"), "a\\_b\\%c\\\\d");
        assert_eq!(json_escape("say \"hi\""), "say \\\"hi\\\"");
    }
}
