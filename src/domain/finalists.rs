//! Finalists convened: the rules of pitch slots (when, where, and never two at once at a stage), of the
//! extra documents the shortlisted upload, and of the default due date of changes asked at screening.

use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

use super::application::ApplicationStatus;
use super::form::Stage;
use super::identifiers::InvalidValue;
use super::refusal::Refusal;
use crate::error::FieldError;

/// The days an applicant has by default to make the changes screening asks for.
pub const DEFAULT_CHANGES_DUE_DAYS: i32 = 14;

/// Shortest and longest pitch, in minutes.
pub const PITCH_MINUTES: std::ops::RangeInclusive<i64> = 5..=480;

/// Longest place or video link, in characters.
const PLACE_MAX_LENGTH: usize = 500;

/// A call's `changes_due_days`: 1 to 90.
pub fn parse_changes_due_days(raw: i64) -> Result<i32, InvalidValue> {
    match i32::try_from(raw) {
        Ok(days) if (1..=90).contains(&days) => Ok(days),
        _ => Err(InvalidValue::new(
            "out_of_range",
            "a number of days from 1 to 90",
        )),
    }
}

/// When changes asked at `now` are due when staff give no date: the end of the day (23:59:59 on the
/// call's clock) `days` days after `now`.
pub fn default_changes_due(now: DateTime<Utc>, days: i32, timezone: &str) -> DateTime<Utc> {
    let tz: Tz = timezone.parse().unwrap_or(chrono_tz::Europe::Paris);
    let day = (now.with_timezone(&tz) + Duration::days(i64::from(days))).date_naive();
    let last_second = NaiveTime::from_hms_opt(23, 59, 59).unwrap_or_default();
    tz.from_local_datetime(&day.and_time(last_second))
        .latest()
        .map_or(now + Duration::days(i64::from(days)), |t| {
            t.with_timezone(&Utc)
        })
}

/// Whether an application in `status`, last shortlisted to `shortlisted_for`, is a finalist of `stage`.
pub fn is_finalist_of(
    status: ApplicationStatus,
    shortlisted_for: Option<&str>,
    stage: &str,
) -> bool {
    status == ApplicationStatus::Shortlisted && shortlisted_for == Some(stage)
}

/// May a finalist's files of `stage` be added or deleted now: only while the application is shortlisted
/// to that stage (409 `not_shortlisted`).
pub fn may_change_extra_documents(
    status: ApplicationStatus,
    shortlisted_for: Option<&str>,
    stage: &str,
) -> Result<(), Refusal> {
    if is_finalist_of(status, shortlisted_for, stage) {
        Ok(())
    } else {
        Err(Refusal::NotShortlisted {
            stage: stage.to_owned(),
        })
    }
}

/// Where and when a finalist pitches, as staff set it (checked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotPlan {
    pub stage: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub place: Option<String>,
    pub video_url: Option<String>,
}

/// A pitch's length: [`PITCH_MINUTES`].
pub fn parse_duration_minutes(raw: i64) -> Result<i64, InvalidValue> {
    if PITCH_MINUTES.contains(&raw) {
        Ok(raw)
    } else {
        Err(InvalidValue::new(
            "out_of_range",
            "a pitch lasts from 5 to 480 minutes",
        ))
    }
}

/// A place to meet: some visible text, at most 500 characters.
pub fn parse_place(raw: &str) -> Result<String, InvalidValue> {
    let place = raw.trim();
    if place.is_empty() || place.chars().count() > PLACE_MAX_LENGTH || place.contains('\0') {
        return Err(InvalidValue::new(
            "invalid_place",
            "an address or a room, 1 to 500 characters",
        ));
    }
    Ok(place.to_owned())
}

/// A video link: an `https://` address with a host (the finalist opens it from an email).
pub fn parse_video_url(raw: &str) -> Result<String, InvalidValue> {
    let refused = || InvalidValue::new("invalid_url", "an https:// address");
    let raw = raw.trim();
    if raw.len() > 2048 {
        return Err(refused());
    }
    let url = url::Url::parse(raw).map_err(|_| refused())?;
    if url.scheme() != "https" || url.host_str().is_none_or(str::is_empty) {
        return Err(refused());
    }
    Ok(url.to_string())
}

/// Errors of a plan against its stage: a place or a link (`place`, `required`), and within the stage's
/// dates when it has them (`starts_at`, `outside_stage`).
pub fn check_plan(plan: &SlotPlan, stage: &Stage) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if plan.place.is_none() && plan.video_url.is_none() {
        errors.push(FieldError::new(
            "place",
            "required",
            "give a place, a video_url, or both",
        ));
    }
    if !stage.covers(plan.starts_at, plan.ends_at) {
        errors.push(FieldError::new(
            "starts_at",
            "outside_stage",
            "the pitch must fall within the stage's dates",
        ));
    }
    errors
}

/// Whether two pitches overlap (one ending when the other starts does not).
pub fn overlaps(a: (DateTime<Utc>, DateTime<Utc>), b: (DateTime<Utc>, DateTime<Utc>)) -> bool {
    a.0 < b.1 && b.0 < a.1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::form::Text;

    fn utc(d: u32, h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 5, d, h, m, 0).unwrap()
    }

    #[test]
    fn the_default_due_date_is_the_end_of_a_day_on_the_call_clock() {
        // 6 May 2026 10:00 UTC, 14 days → 20 May 23:59:59 in Paris (UTC+2) = 21:59:59 UTC.
        assert_eq!(
            default_changes_due(utc(6, 10, 0), 14, "Europe/Paris"),
            Utc.with_ymd_and_hms(2026, 5, 20, 21, 59, 59).unwrap()
        );
        // 23:30 UTC is already the next day in Paris.
        assert_eq!(
            default_changes_due(utc(6, 23, 30), 1, "Europe/Paris"),
            Utc.with_ymd_and_hms(2026, 5, 8, 21, 59, 59).unwrap()
        );
        assert_eq!(parse_changes_due_days(14), Ok(14));
        assert!(parse_changes_due_days(0).is_err());
        assert!(parse_changes_due_days(91).is_err());
        assert!(parse_changes_due_days(i64::MAX).is_err());
    }

    #[test]
    fn only_finalists_of_the_stage_change_its_documents() {
        let s = ApplicationStatus::Shortlisted;
        assert!(may_change_extra_documents(s, Some("pitch"), "pitch").is_ok());
        assert!(may_change_extra_documents(s, Some("final"), "pitch").is_err());
        assert!(may_change_extra_documents(s, None, "pitch").is_err());
        let selected = ApplicationStatus::Selected;
        assert!(may_change_extra_documents(selected, Some("pitch"), "pitch").is_err());
    }

    #[test]
    fn slots_are_checked_against_their_stage_and_each_other() {
        let mut stage = Stage::new("pitch", Text::french("Pitch"), Vec::new());
        stage.starts_at = Some(utc(4, 7, 0));
        stage.ends_at = Some(utc(6, 16, 0));
        let plan = SlotPlan {
            stage: "pitch".into(),
            starts_at: utc(5, 9, 0),
            ends_at: utc(5, 9, 20),
            place: None,
            video_url: None,
        };
        let codes: Vec<String> = check_plan(&plan, &stage)
            .into_iter()
            .map(|e| e.code)
            .collect();
        assert_eq!(codes, vec!["required"]);
        let early = SlotPlan {
            starts_at: utc(3, 9, 0),
            place: Some("Salle 2".into()),
            ..plan.clone()
        };
        let codes: Vec<String> = check_plan(&early, &stage)
            .into_iter()
            .map(|e| e.code)
            .collect();
        assert_eq!(codes, vec!["outside_stage"]);
        let a = (utc(5, 9, 0), utc(5, 9, 20));
        assert!(overlaps(a, (utc(5, 9, 10), utc(5, 9, 30))));
        assert!(!overlaps(a, (utc(5, 9, 20), utc(5, 9, 40))));
        assert!(overlaps(a, (utc(5, 8, 0), utc(5, 10, 0))));
    }

    #[test]
    fn video_links_are_https_only() {
        assert!(parse_video_url("https://visio.example/pitch-7").is_ok());
        assert!(parse_video_url("http://visio.example/pitch-7").is_err());
        assert!(parse_video_url("javascript:alert(1)").is_err());
        assert!(parse_video_url("https://").is_err());
        assert!(parse_place("  ").is_err());
        assert_eq!(parse_place(" Salle 2 ").unwrap(), "Salle 2");
        assert!(parse_duration_minutes(20).is_ok());
        assert!(parse_duration_minutes(0).is_err());
    }
}
