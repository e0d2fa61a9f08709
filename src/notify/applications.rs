//! Emails about an application, to its organization's members or to staff, each in the reader's language.

use chrono::{DateTime, Datelike, Timelike, Utc};
use serde_json::Value;

use super::emails::{AnswerLine, ApplicationDetails, ApplicationEmail, ApplicationHeader};
use super::{queue, Email};
use crate::db::DbConn;
use crate::domain::form::{Field, FieldType, Form, Text};
use crate::error::Error;
use crate::state::AppState;
use crate::store::applications::{Application, Attachment};
use crate::store::calls::Call;
use crate::store::organizations::{self, Organization};
use crate::store::users::{self, User};

const MONTHS_FR: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];
const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// A date as people of `locale` read it, in the call's time zone: "6 janvier 2026", "January 6 2026".
pub fn format_date(at: DateTime<Utc>, timezone: &str, locale: &str) -> String {
    let tz: chrono_tz::Tz = timezone.parse().unwrap_or(chrono_tz::Europe::Paris);
    let local = at.with_timezone(&tz);
    let month = local.month0() as usize;
    if locale == "en" {
        format!("{} {} {}", MONTHS_EN[month], local.day(), local.year())
    } else {
        format!("{} {} {}", local.day(), MONTHS_FR[month], local.year())
    }
}

/// An instant as people of `locale` read it, in the call's time zone: "6 janvier 2026 à 14:05 (Europe/Paris)".
pub fn format_instant(at: DateTime<Utc>, timezone: &str, locale: &str) -> String {
    let tz: chrono_tz::Tz = timezone.parse().unwrap_or(chrono_tz::Europe::Paris);
    let local = at.with_timezone(&tz);
    let month = local.month0() as usize;
    let (day, year, hour, minute) = (local.day(), local.year(), local.hour(), local.minute());
    if locale == "en" {
        format!(
            "{} {day}, {year} at {hour:02}:{minute:02} ({timezone})",
            MONTHS_EN[month]
        )
    } else {
        format!(
            "{day} {} {year} à {hour:02}:{minute:02} ({timezone})",
            MONTHS_FR[month]
        )
    }
}

/// A bilingual text in the reader's language (French when English is missing).
pub fn localized(text: &Text, locale: &str) -> String {
    match (&text.en, locale) {
        (Some(en), "en") if !en.trim().is_empty() => en.clone(),
        _ => text.fr.clone(),
    }
}

/// What every application email says about the application.
pub struct About<'a> {
    pub call: &'a Call,
    pub organization: &'a Organization,
    pub application: &'a Application,
}

impl About<'_> {
    /// What the email says about the application, in `reader`'s language.
    fn header(&self, state: &AppState, reader: &User) -> ApplicationHeader {
        ApplicationHeader {
            display_name: reader.display_name.clone(),
            organization_name: self.organization.legal_name.clone(),
            call_title: localized(&self.call.title_text(), &reader.locale),
            reference: self.application.reference.clone(),
            link: state.link(&format!("/applications/{}", *self.application.id)),
        }
    }

    /// Queues the email of `details` (built in each reader's language) to `readers`.
    fn tell<C: ApplicationDetails>(
        &self,
        conn: &mut DbConn,
        state: &AppState,
        readers: Vec<User>,
        details: impl Fn(&str) -> C,
        now: DateTime<Utc>,
    ) -> Result<(), Error> {
        for reader in readers {
            let details = details(&reader.locale);
            let context = ApplicationEmail {
                header: self.header(state, &reader),
                details: &details,
            };
            let email = Email::with_context(
                C::EVENT,
                &context,
                &reader.email,
                Some(*reader.id),
                Some(*self.call.id),
                &reader.locale,
            )?;
            queue(conn, &state.templates, &state.settings.email, email, now)?;
        }
        Ok(())
    }

    /// Queues the email of `details` to every member of the organization, each in their language.
    pub fn tell_members<C: ApplicationDetails>(
        &self,
        conn: &mut DbConn,
        state: &AppState,
        details: impl Fn(&str) -> C,
        now: DateTime<Utc>,
    ) -> Result<(), Error> {
        let mut readers = Vec::new();
        for member in organizations::members(conn, *self.organization.id)? {
            if let Some(user) = users::find(conn, *member.user_id)? {
                readers.push(user);
            }
        }
        self.tell(conn, state, readers, details, now)
    }

    /// Queues the email of `details` to every administrator and to the managers of the call.
    pub fn tell_staff<C: ApplicationDetails>(
        &self,
        conn: &mut DbConn,
        state: &AppState,
        details: impl Fn(&str) -> C,
        now: DateTime<Utc>,
    ) -> Result<(), Error> {
        let mut readers = users::admins(conn)?;
        // The call's managers too (an administrator who also manages it is told once).
        for manager in crate::store::staff::managers_of(conn, *self.call.id)? {
            if !readers.iter().any(|r| r.id == manager.id) {
                readers.push(manager);
            }
        }
        self.tell(conn, state, readers, details, now)
    }
}

/// A readable summary of the answers, for the receipt: labels and values in the reader's language.
pub fn answers_summary(
    form: &Form,
    answers: &Value,
    files: &[Attachment],
    locale: &str,
) -> Vec<AnswerLine> {
    let mut lines = Vec::new();
    for field in &form.fields {
        let label = localized(&field.label, locale);
        let value = match field.kind {
            FieldType::File => {
                let names: Vec<&str> = files
                    .iter()
                    .filter(|f| f.field == field.key)
                    .map(|f| f.filename.as_str())
                    .collect();
                names.join(", ")
            }
            _ => match answers.get(&field.key) {
                None | Some(Value::Null) => String::new(),
                Some(Value::Bool(b)) => match (b, locale) {
                    (true, "en") => "Yes".into(),
                    (false, "en") => "No".into(),
                    (true, _) => "Oui".into(),
                    (false, _) => "Non".into(),
                },
                Some(Value::String(s)) => option_label(field, s, locale),
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|i| {
                        i.as_str()
                            .map_or_else(|| i.to_string(), |s| option_label(field, s, locale))
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
                Some(other) => other.to_string(),
            },
        };
        lines.push(AnswerLine { label, value });
    }
    lines
}

fn option_label(field: &Field, value: &str, locale: &str) -> String {
    field
        .options
        .as_ref()
        .and_then(|options| options.iter().find(|o| o.value == value))
        .map_or_else(|| value.to_owned(), |o| localized(&o.label, locale))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn instants_are_shown_in_the_call_time_zone_and_language() {
        let at = Utc.with_ymd_and_hms(2026, 1, 6, 13, 5, 0).unwrap();
        assert_eq!(
            format_instant(at, "Europe/Paris", "fr"),
            "6 janvier 2026 à 14:05 (Europe/Paris)"
        );
        assert_eq!(
            format_instant(at, "Europe/Paris", "en"),
            "January 6, 2026 at 14:05 (Europe/Paris)"
        );
    }
}
