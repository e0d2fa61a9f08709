//! The figures of a call (`GET /calls/{id}/stats`): what they are, and how the counts the database returns
//! become them — every status, kind and option present with its zeros, submissions counted per day of the
//! call's time zone, review progress per stage and juror with what is overdue. No I/O: the counting is SQL
//! (`store/stats.rs`), the loading `service/stats.rs`.
//!
//! The response reads the same for one call or for several side by side (the editions of a call): each
//! [`CallFigures`] names its call and holds its own figures.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::application::ApplicationStatus;
use super::call::CallStatus;
use super::form::{Field, FieldType, Form, Stage, Text};
use super::organization::OrganizationKind;
use super::review::ReviewStatus;

/// The figures of one call.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CallFigures {
    /// Which call (and edition) these figures are about.
    pub call: CallHeading,
    /// How many applied, in which status, from which kind of organization, on which day.
    pub applications: ApplicationFigures,
    /// What the submitted applications answered to the form's choice and number fields.
    pub answers: AnswerFigures,
    /// How far the jury is, per stage and per juror.
    pub reviews: ReviewFigures,
    /// The emails about the call's applications that have not gone out.
    pub emails: EmailFigures,
}

/// The figures of the editions of a call side by side, oldest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EditionFigures {
    /// One entry per edition the caller may read, from the oldest to the one asked for.
    pub editions: Vec<CallFigures>,
}

/// The call the figures are about.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CallHeading {
    pub id: Uuid,
    pub slug: String,
    pub title: Text,
    /// The edition's year (`ATL-2027-…`).
    pub edition: i32,
    /// The call this one is the next edition of.
    pub previous_edition_id: Option<Uuid>,
    pub status: CallStatus,
    /// The time zone submission days are counted in.
    pub timezone: String,
    pub opens_at: DateTime<Utc>,
    pub closes_at: DateTime<Utc>,
}

/// The applications of a call, anonymised ones included (anonymisation erases what they said, not that
/// they applied, their status or their submission date).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApplicationFigures {
    /// Every application of the call, drafts and withdrawn ones included.
    pub total: i64,
    /// How many of them were anonymised (counted everywhere in this section).
    pub anonymised: i64,
    /// Applications per status: every status of the life cycle, zeros included.
    pub by_status: BTreeMap<String, i64>,
    /// Applications per kind of applicant organization: every kind, zeros included.
    pub by_organization_kind: BTreeMap<String, i64>,
    /// Applications submitted per day of the call's time zone (the day of their latest submission), oldest
    /// first; days without a submission are left out.
    pub by_submission_day: Vec<DayCount>,
}

/// How many applications were submitted on one day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct DayCount {
    /// The day in the call's time zone, `YYYY-MM-DD`.
    #[schema(value_type = String, format = Date)]
    pub day: NaiveDate,
    pub count: i64,
}

/// What the submitted applications answered.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AnswerFigures {
    /// The applications whose answers are counted: every application that was submitted (whatever its
    /// status since, withdrawn included) and not anonymised. Drafts never count: their answers are
    /// unfinished.
    pub applications: i64,
    /// Every `choice` and `multi_choice` field of the form, in form order.
    pub choices: Vec<ChoiceFigures>,
    /// Every `integer` and `number` field of the form, in form order.
    pub numbers: Vec<NumberFigures>,
}

/// The answers to a `choice` or `multi_choice` field.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChoiceFigures {
    /// The field's key.
    pub field: String,
    #[serde(rename = "type")]
    pub kind: FieldType,
    pub label: Text,
    /// Every option of the field, in form order, zeros included. For a `multi_choice`, an application
    /// counts once under each option it chose, so the counts may add up to more than the applications.
    pub options: Vec<OptionCount>,
}

/// How many counted applications chose one option.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OptionCount {
    pub value: String,
    pub label: Text,
    pub count: i64,
}

/// The answers to an `integer` or `number` field, over the counted applications that answered it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct NumberFigures {
    /// The field's key.
    pub field: String,
    #[serde(rename = "type")]
    pub kind: FieldType,
    pub label: Text,
    /// How many counted applications answered it.
    pub count: i64,
    /// `null` when nobody answered.
    pub min: Option<f64>,
    /// The exact median (the mean of the two middle answers when their number is even); `null` when
    /// nobody answered.
    pub median: Option<f64>,
    /// `null` when nobody answered.
    pub max: Option<f64>,
    /// 0 when nobody answered.
    pub sum: f64,
}

/// How far the jury is.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReviewFigures {
    /// Every stage of the call, in order.
    pub stages: Vec<StageProgress>,
}

/// The reviews of one stage. Assignments of withdrawn applications are left out: they are no longer
/// reviewed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StageProgress {
    /// The stage's key.
    pub stage: String,
    pub label: Text,
    /// The stage's review deadline, if staff set one.
    pub due_at: Option<DateTime<Utc>>,
    #[serde(flatten)]
    pub progress: Progress,
    /// Each juror with assignments at this stage, by id.
    pub jurors: Vec<JurorProgress>,
}

/// Review progress over a set of assignments.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct Progress {
    /// Assignments (one juror, one application).
    pub assigned: i64,
    /// Assignments whose review was never saved.
    pub not_started: i64,
    /// Assignments whose review is saved but not submitted.
    pub draft: i64,
    /// Assignments whose review is submitted.
    pub submitted: i64,
    /// Assignments whose review is not submitted although the stage's deadline has passed.
    pub overdue: i64,
}

/// One juror's progress at a stage.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct JurorProgress {
    pub juror_id: Uuid,
    /// The juror's name, for staff only (`null` for anyone else reading the figures).
    pub display_name: Option<String>,
    #[serde(flatten)]
    pub progress: Progress,
}

/// The emails about the call's applications that have not gone out (found by the link to the application
/// every such email carries).
#[derive(Debug, Clone, Copy, Default, Serialize, ToSchema)]
pub struct EmailFigures {
    /// Waiting for their first or next attempt, or being sent.
    pub pending: i64,
    /// Given up after their attempts (staff may retry them from the outbox).
    pub failed: i64,
}

/// Applications per status, every status present.
pub fn by_status(counts: &[(ApplicationStatus, i64)]) -> BTreeMap<String, i64> {
    let mut all: BTreeMap<String, i64> = ApplicationStatus::ALL
        .iter()
        .map(|s| (s.as_str().to_owned(), 0))
        .collect();
    for (status, n) in counts {
        *all.entry(status.as_str().to_owned()).or_default() += n;
    }
    all
}

/// Applications per organization kind, every kind present (a kind stored that the code does not know
/// still shows, under its stored name).
pub fn by_organization_kind(counts: &[(String, i64)]) -> BTreeMap<String, i64> {
    let mut all: BTreeMap<String, i64> = OrganizationKind::ALL
        .iter()
        .map(|k| (k.as_str().to_owned(), 0))
        .collect();
    for (kind, n) in counts {
        *all.entry(kind.clone()).or_default() += n;
    }
    all
}

/// Submissions per day of `timezone`, from counts per minute in UTC (time zones are offset from UTC by
/// whole minutes, so a minute never straddles two local days).
pub fn by_day(per_minute: &[(NaiveDateTime, i64)], timezone: chrono_tz::Tz) -> Vec<DayCount> {
    let mut days: BTreeMap<NaiveDate, i64> = BTreeMap::new();
    for (minute, n) in per_minute {
        let day = minute.and_utc().with_timezone(&timezone).date_naive();
        *days.entry(day).or_default() += n;
    }
    days.into_iter()
        .map(|(day, count)| DayCount { day, count })
        .collect()
}

/// The figures of every choice field of `form`, from counts per (field, value); values that are not an
/// option of the field (there should be none: answers are checked against the options) are left out.
pub fn choice_figures(form: &Form, counts: &[(String, String, i64)]) -> Vec<ChoiceFigures> {
    choice_fields(form)
        .map(|field| ChoiceFigures {
            field: field.key.clone(),
            kind: field.kind,
            label: field.label.clone(),
            options: field
                .options
                .iter()
                .flatten()
                .map(|option| OptionCount {
                    value: option.value.clone(),
                    label: option.label.clone(),
                    count: counts
                        .iter()
                        .filter(|(f, v, _)| *f == field.key && *v == option.value)
                        .map(|(_, _, n)| n)
                        .sum(),
                })
                .collect(),
        })
        .collect()
}

/// The `choice` and `multi_choice` fields of a form, in form order.
pub fn choice_fields(form: &Form) -> impl Iterator<Item = &Field> {
    form.fields
        .iter()
        .filter(|f| matches!(f.kind, FieldType::Choice | FieldType::MultiChoice))
}

/// The `integer` and `number` fields of a form, in form order.
pub fn number_fields(form: &Form) -> impl Iterator<Item = &Field> {
    form.fields
        .iter()
        .filter(|f| matches!(f.kind, FieldType::Integer | FieldType::Number))
}

/// What the database computed for one number field.
#[derive(Debug, Clone, PartialEq)]
pub struct NumberSummary {
    pub field: String,
    pub count: i64,
    pub min: Option<f64>,
    pub median: Option<f64>,
    pub max: Option<f64>,
    pub sum: Option<f64>,
}

/// The figures of every number field of `form`, zeros for the fields nobody answered.
pub fn number_figures(form: &Form, summaries: &[NumberSummary]) -> Vec<NumberFigures> {
    number_fields(form)
        .map(|field| {
            let found = summaries.iter().find(|s| s.field == field.key);
            NumberFigures {
                field: field.key.clone(),
                kind: field.kind,
                label: field.label.clone(),
                count: found.map_or(0, |s| s.count),
                min: found.and_then(|s| s.min),
                median: found.and_then(|s| s.median),
                max: found.and_then(|s| s.max),
                sum: found.and_then(|s| s.sum).unwrap_or(0.0),
            }
        })
        .collect()
}

/// How many assignments of one juror at one stage have their review in one status (`None`: no review).
#[derive(Debug, Clone)]
pub struct ReviewTally {
    pub stage: String,
    pub juror_id: Uuid,
    pub display_name: String,
    pub status: Option<ReviewStatus>,
    pub count: i64,
}

impl Progress {
    fn add(&mut self, status: Option<ReviewStatus>, n: i64, overdue: bool) {
        self.assigned += n;
        match status {
            None => self.not_started += n,
            Some(ReviewStatus::Draft) => self.draft += n,
            Some(ReviewStatus::Submitted) => self.submitted += n,
        }
        if overdue && status != Some(ReviewStatus::Submitted) {
            self.overdue += n;
        }
    }
}

/// Review progress of every stage at `now`, from the tallies and the stages' deadlines; juror names only
/// when `with_names`.
pub fn review_progress(
    stages: &[Stage],
    deadlines: &BTreeMap<String, DateTime<Utc>>,
    tallies: &[ReviewTally],
    now: DateTime<Utc>,
    with_names: bool,
) -> Vec<StageProgress> {
    stages
        .iter()
        .map(|stage| {
            let due_at = deadlines.get(&stage.key).copied();
            let overdue = due_at.is_some_and(|due| now > due);
            let mut total = Progress::default();
            let mut jurors: BTreeMap<Uuid, JurorProgress> = BTreeMap::new();
            for tally in tallies.iter().filter(|t| t.stage == stage.key) {
                total.add(tally.status, tally.count, overdue);
                jurors
                    .entry(tally.juror_id)
                    .or_insert_with(|| JurorProgress {
                        juror_id: tally.juror_id,
                        display_name: with_names.then(|| tally.display_name.clone()),
                        progress: Progress::default(),
                    })
                    .progress
                    .add(tally.status, tally.count, overdue);
            }
            StageProgress {
                stage: stage.key.clone(),
                label: stage.label.clone(),
                due_at,
                progress: total,
                jurors: jurors.into_values().collect(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn minute(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M").unwrap()
    }

    #[test]
    fn submissions_fall_on_the_day_of_the_call_s_time_zone() {
        let per_minute = [
            (minute("2026-12-03T22:59"), 2), // 23:59 in Paris
            (minute("2026-12-03T23:00"), 1), // midnight in Paris: the next day
            (minute("2026-07-01T21:59"), 4), // 23:59 in summer (UTC+2)
            (minute("2026-07-01T22:00"), 1),
        ];
        let days = by_day(&per_minute, chrono_tz::Europe::Paris);
        let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(
            days,
            [
                DayCount {
                    day: day("2026-07-01"),
                    count: 4
                },
                DayCount {
                    day: day("2026-07-02"),
                    count: 1
                },
                DayCount {
                    day: day("2026-12-03"),
                    count: 2
                },
                DayCount {
                    day: day("2026-12-04"),
                    count: 1
                },
            ]
        );
        let kolkata = by_day(&[(minute("2026-12-03T18:29"), 1)], chrono_tz::Asia::Kolkata);
        assert_eq!(kolkata[0].day, day("2026-12-03"), "23:59 at UTC+5:30");
        let kolkata = by_day(&[(minute("2026-12-03T18:30"), 1)], chrono_tz::Asia::Kolkata);
        assert_eq!(kolkata[0].day, day("2026-12-04"));
    }

    #[test]
    fn every_status_and_kind_shows_with_its_zeros() {
        let statuses = by_status(&[
            (ApplicationStatus::Draft, 2),
            (ApplicationStatus::Eligible, 3),
        ]);
        assert_eq!(statuses.len(), ApplicationStatus::ALL.len());
        assert_eq!(statuses["draft"], 2);
        assert_eq!(statuses["eligible"], 3);
        assert_eq!(statuses["withdrawn"], 0);
        let kinds = by_organization_kind(&[("territory".into(), 4)]);
        assert_eq!(kinds.len(), 4);
        assert_eq!((kinds["territory"], kinds["startup"]), (4, 0));
    }

    fn stage(key: &str) -> Stage {
        Stage::new(key, Text::french(key), Vec::new())
    }

    fn tally(stage: &str, juror: u128, status: Option<ReviewStatus>, count: i64) -> ReviewTally {
        ReviewTally {
            stage: stage.into(),
            juror_id: Uuid::from_u128(juror),
            display_name: format!("Juror {juror}"),
            status,
            count,
        }
    }

    #[test]
    fn reviews_not_submitted_are_overdue_only_once_the_stage_deadline_has_passed() {
        let stages = [stage("written"), stage("pitch")];
        let tallies = [
            tally("written", 1, Some(ReviewStatus::Submitted), 1),
            tally("written", 1, Some(ReviewStatus::Draft), 1),
            tally("written", 1, None, 1),
            tally("written", 2, Some(ReviewStatus::Submitted), 2),
        ];
        let due = Utc.with_ymd_and_hms(2026, 12, 10, 17, 0, 0).unwrap();
        let deadlines = BTreeMap::from([("written".to_owned(), due)]);
        let before = review_progress(&stages, &deadlines, &tallies, due, true);
        assert_eq!(before.len(), 2);
        assert_eq!(
            before[0].progress,
            Progress {
                assigned: 5,
                not_started: 1,
                draft: 1,
                submitted: 3,
                overdue: 0
            }
        );
        assert_eq!(before[0].jurors[0].display_name.as_deref(), Some("Juror 1"));
        assert_eq!(before[1].progress, Progress::default());
        assert!(before[1].jurors.is_empty() && before[1].due_at.is_none());

        let after = review_progress(
            &stages,
            &deadlines,
            &tallies,
            due + chrono::Duration::seconds(1),
            false,
        );
        assert_eq!(after[0].progress.overdue, 2);
        assert_eq!(after[0].jurors[0].progress.overdue, 2);
        assert_eq!(after[0].jurors[1].progress.overdue, 0);
        assert!(after[0].jurors.iter().all(|j| j.display_name.is_none()));
    }

    #[test]
    fn every_option_and_number_field_shows_even_when_nobody_answered_it() {
        use super::super::form::ChoiceOption;
        let mut season = Field::new("season", FieldType::Choice, Text::french("Saison"));
        season.options = Some(vec![
            ChoiceOption {
                value: "winter".into(),
                label: Text::bilingual("Hiver", "Winter"),
            },
            ChoiceOption {
                value: "summer".into(),
                label: Text::french("Été"),
            },
        ]);
        let form = Form {
            fields: vec![
                Field::new("name", FieldType::Text, Text::french("Nom")),
                season,
                Field::new("budget", FieldType::Integer, Text::french("Budget")),
            ],
            rules: Vec::new(),
        };
        let choices = choice_figures(&form, &[("season".into(), "winter".into(), 3)]);
        assert_eq!(choices.len(), 1);
        let counts: Vec<_> = choices[0]
            .options
            .iter()
            .map(|o| (o.value.as_str(), o.count))
            .collect();
        assert_eq!(counts, [("winter", 3), ("summer", 0)]);
        assert_eq!(choices[0].options[0].label.en.as_deref(), Some("Winter"));
        let numbers = number_figures(&form, &[]);
        assert_eq!(numbers.len(), 1);
        assert_eq!(
            (numbers[0].count, numbers[0].median, numbers[0].sum),
            (0, None, 0.0)
        );
    }
}
