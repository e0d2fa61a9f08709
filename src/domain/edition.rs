//! Editions of a call: the year an edition carries (in its references), what a new edition copies from the
//! previous one, and how its dates move one year on in the call's time zone.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::identifiers::InvalidValue;

/// Smallest edition year: references keep four digits for the year.
pub const FIRST_EDITION: i64 = 1000;
/// Largest edition year.
pub const LAST_EDITION: i64 = 9999;

/// An edition year given in a request: a four-digit year such as 2027.
pub fn parse_edition(raw: i64) -> Result<i32, InvalidValue> {
    if (FIRST_EDITION..=LAST_EDITION).contains(&raw) {
        i32::try_from(raw).map_err(|_| out_of_range())
    } else {
        Err(out_of_range())
    }
}

fn out_of_range() -> InvalidValue {
    InvalidValue::new("invalid_edition", "a four-digit year such as 2027")
}

/// The edition of a call opening at `opens_at` when none is given: the year it opens, in its time zone.
pub fn edition_of(opens_at: DateTime<Utc>, timezone: Tz) -> i32 {
    opens_at.with_timezone(&timezone).year()
}

/// What a new edition may copy from the previous one (title, summary, kind, time zone, eligibility and
/// reference prefix are always copied).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum EditionPart {
    /// The form's fields.
    Form,
    /// The evaluation stages and their criteria.
    Stages,
    /// Staff's overrides of the email templates.
    EmailTemplates,
    /// The jurors, with their declared affiliations.
    Jury,
    /// The review deadline of each stage, one year later.
    ReviewDeadlines,
}

impl EditionPart {
    /// Every part, copied when a request does not say.
    pub const ALL: [EditionPart; 5] = [
        EditionPart::Form,
        EditionPart::Stages,
        EditionPart::EmailTemplates,
        EditionPart::Jury,
        EditionPart::ReviewDeadlines,
    ];

    /// The part's name in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            EditionPart::Form => "form",
            EditionPart::Stages => "stages",
            EditionPart::EmailTemplates => "email_templates",
            EditionPart::Jury => "jury",
            EditionPart::ReviewDeadlines => "review_deadlines",
        }
    }

    /// A part by its API name, strictly.
    pub fn parse(raw: &str) -> Result<EditionPart, InvalidValue> {
        EditionPart::ALL
            .into_iter()
            .find(|p| p.as_str() == raw)
            .ok_or_else(|| {
                InvalidValue::new(
                    "unknown_part",
                    "one of form, stages, email_templates, jury, review_deadlines",
                )
            })
    }
}

/// The same calendar day one year later; 29 February becomes 28 February.
fn same_day_next_year(date: NaiveDate) -> NaiveDate {
    let year = date.year() + 1;
    NaiveDate::from_ymd_opt(year, date.month(), date.day())
        .or_else(|| NaiveDate::from_ymd_opt(year, date.month(), 28))
        .unwrap_or(date)
}

/// The instant one year after `instant` on the wall clock of `timezone`: the same local date (29 February
/// becomes 28 February) and the same local time, whatever the UTC offset then. A local time that does not
/// exist that day (the hour skipped when clocks go forward) moves on by that hour; one that happens twice
/// (clocks going back) is the first.
pub fn a_year_later(instant: DateTime<Utc>, timezone: Tz) -> DateTime<Utc> {
    let local = instant.with_timezone(&timezone).naive_local();
    let moved = NaiveDateTime::new(same_day_next_year(local.date()), local.time());
    timezone
        .from_local_datetime(&moved)
        .earliest()
        .or_else(|| {
            timezone
                .from_local_datetime(&(moved + Duration::hours(1)))
                .earliest()
        })
        .map_or_else(|| instant + Duration::days(365), |t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Europe::Paris;

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
    }

    #[test]
    fn eight_in_the_morning_in_paris_stays_eight_when_the_offset_changes() {
        // 6 January 2026 08:00 in Paris (UTC+1) → 6 January 2027 08:00 (UTC+1).
        assert_eq!(
            a_year_later(utc(2026, 1, 6, 7, 0), Paris),
            utc(2027, 1, 6, 7, 0)
        );
        // 28 March 2026 08:00 (UTC+1, the day before the change) → 28 March 2027 08:00, which is summer
        // time then (clocks went forward on 28 March 2027): 06:00 UTC.
        assert_eq!(
            a_year_later(utc(2026, 3, 28, 7, 0), Paris),
            utc(2027, 3, 28, 6, 0)
        );
        // 25 October 2026 noon (UTC+1, winter time since that night) → 25 October 2027 noon (UTC+2).
        assert_eq!(
            a_year_later(utc(2026, 10, 25, 11, 0), Paris),
            utc(2027, 10, 25, 10, 0)
        );
    }

    #[test]
    fn the_twenty_ninth_of_february_becomes_the_twenty_eighth() {
        assert_eq!(
            a_year_later(utc(2028, 2, 29, 7, 0), Paris),
            utc(2029, 2, 28, 7, 0)
        );
        assert_eq!(
            a_year_later(utc(2027, 2, 28, 7, 0), Paris),
            utc(2028, 2, 28, 7, 0)
        );
    }

    #[test]
    fn a_skipped_hour_moves_on_and_a_repeated_hour_is_the_first() {
        // 26 March 2027 02:30 (UTC+1) → on 26 March 2028 clocks skip from 02:00 to 03:00: 03:30 summer
        // time (01:30 UTC).
        assert_eq!(
            a_year_later(utc(2027, 3, 26, 1, 30), Paris),
            utc(2028, 3, 26, 1, 30)
        );
        // 31 October 2027 02:30 (first, UTC+2, 00:30 UTC) → 31 October 2028 02:30 exists once (UTC+1).
        assert_eq!(
            a_year_later(utc(2027, 10, 31, 0, 30), Paris),
            utc(2028, 10, 31, 1, 30)
        );
        // 29 October 2028 02:30 happens twice; from 29 October 2027 02:30 (UTC+2) the first one is taken.
        assert_eq!(
            a_year_later(utc(2027, 10, 29, 0, 30), Paris),
            utc(2028, 10, 29, 0, 30)
        );
    }

    #[test]
    fn the_edition_is_the_local_year_of_the_opening() {
        assert_eq!(edition_of(utc(2026, 12, 31, 23, 30), Paris), 2027);
        assert_eq!(edition_of(utc(2026, 12, 31, 22, 30), Paris), 2026);
        assert_eq!(edition_of(utc(2026, 12, 1, 8, 0), chrono_tz::UTC), 2026);
    }

    #[test]
    fn editions_and_parts_parse_strictly() {
        assert_eq!(parse_edition(2027), Ok(2027));
        assert!(parse_edition(999).is_err());
        assert!(parse_edition(10_000).is_err());
        for part in EditionPart::ALL {
            assert_eq!(EditionPart::parse(part.as_str()), Ok(part));
        }
        assert!(EditionPart::parse("applications").is_err());
        assert!(EditionPart::parse("Form").is_err());
    }
}
