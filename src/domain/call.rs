//! Calls for applications: their life cycle, their phase on the clock, and the rules of their definition.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::application::DecisionOutcome;
use super::catalogue::Catalogue;
use super::form::{check_extra_keys_against, check_stages, Form, Stage, Text};
use super::identifiers::InvalidValue;
use super::organization::OrganizationKind;
use super::refusal::Refusal;
use crate::error::FieldError;

/// Where a call is in its life.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    ToSchema,
    diesel::AsExpression,
    diesel::FromSqlRow,
)]
#[serde(rename_all = "lowercase")]
#[diesel(sql_type = diesel::sql_types::Text)]
pub enum CallStatus {
    Draft,
    Published,
    Evaluation,
    Decided,
    Archived,
}

impl CallStatus {
    /// The status's name in the API and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            CallStatus::Draft => "draft",
            CallStatus::Published => "published",
            CallStatus::Evaluation => "evaluation",
            CallStatus::Decided => "decided",
            CallStatus::Archived => "archived",
        }
    }

    /// Every status.
    pub const ALL: [CallStatus; 5] = [
        CallStatus::Draft,
        CallStatus::Published,
        CallStatus::Evaluation,
        CallStatus::Decided,
        CallStatus::Archived,
    ];

    /// Whether applications may be created and submitted in this status (the clock decides the rest).
    pub fn accepts_applications(self) -> bool {
        self == CallStatus::Published
    }

    /// Publishing: only a draft is published.
    pub fn publish(self) -> Result<CallStatus, Refusal> {
        match self {
            CallStatus::Draft => Ok(CallStatus::Published),
            _ => Err(Refusal::CallNotDraft),
        }
    }

    /// "Published → evaluation once closed": the status a call takes when staff first screen or assign after
    /// its closing; `None` when it stays as it is.
    pub fn on_evaluation_work(self, phase: Phase) -> Option<CallStatus> {
        (self == CallStatus::Published && phase == Phase::Closed).then_some(CallStatus::Evaluation)
    }

    /// The status once decisions are published; `None` when it already is `decided`.
    pub fn on_decisions_published(self) -> Option<CallStatus> {
        (self != CallStatus::Decided).then_some(CallStatus::Decided)
    }
}

/// `Display` as the stored name, and a strict `FromStr` (an unknown name is an error, never a default) for
/// an enum of this module with `ALL` and `as_str`.
macro_rules! named_in_the_database {
    ($type:ty, $what:literal) => {
        impl std::fmt::Display for $type {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $type {
            type Err = String;

            fn from_str(name: &str) -> Result<Self, Self::Err> {
                <$type>::ALL
                    .into_iter()
                    .find(|v| v.as_str() == name)
                    .ok_or_else(|| format!("unknown {} `{name}`", $what))
            }
        }
    };
}

named_in_the_database!(CallStatus, "call status");

/// Whether applications are accepted, from the server clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    Upcoming,
    Open,
    Closed,
}

/// The phase of a call opening at `opens_at` (included) and closing at `closes_at` (excluded).
pub fn phase(opens_at: DateTime<Utc>, closes_at: DateTime<Utc>, now: DateTime<Utc>) -> Phase {
    if now < opens_at {
        Phase::Upcoming
    } else if now < closes_at {
        Phase::Open
    } else {
        Phase::Closed
    }
}

/// What sort of call this is: start-ups apply to a lab, territories to an experiment (with pairings), and
/// companies express their interest (no jury: staff triage, and retained solutions may join a catalogue).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    diesel::AsExpression,
    diesel::FromSqlRow,
)]
#[serde(rename_all = "snake_case")]
#[diesel(sql_type = diesel::sql_types::Text)]
pub enum CallKind {
    StartupLab,
    TerritoryExperiment,
    ExpressionOfInterest,
}

impl CallKind {
    /// Every kind.
    pub const ALL: [CallKind; 3] = [
        CallKind::StartupLab,
        CallKind::TerritoryExperiment,
        CallKind::ExpressionOfInterest,
    ];

    /// The kind's name in the API and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            CallKind::StartupLab => "startup_lab",
            CallKind::TerritoryExperiment => "territory_experiment",
            CallKind::ExpressionOfInterest => "expression_of_interest",
        }
    }

    /// Whether a jury scores the applications against weighted criteria in stages; an expression of
    /// interest has no stages: staff triage it.
    pub fn has_jury_scoring(self) -> bool {
        self != CallKind::ExpressionOfInterest
    }

    /// Jury work (jurors, assignments, reviews, ranking, shortlist): refused on a call without jury scoring.
    pub fn allows_jury_work(self) -> Result<(), Refusal> {
        if self.has_jury_scoring() {
            Ok(())
        } else {
            Err(Refusal::NoJuryScoring)
        }
    }

    /// Whether a decision with this outcome ends a call of this kind: the jury's outcomes (selected,
    /// waitlisted, rejected) where a jury scores, the triage's (retained, not retained) elsewhere.
    pub fn decides_with(self, outcome: DecisionOutcome) -> bool {
        outcome.is_triage() != self.has_jury_scoring()
    }

    /// The organization kinds that may apply when the call does not say.
    pub fn default_eligible(self) -> Vec<String> {
        match self {
            CallKind::TerritoryExperiment => vec!["territory".into()],
            CallKind::StartupLab => vec!["startup".into()],
            CallKind::ExpressionOfInterest => vec!["startup".into(), "company".into()],
        }
    }
}

named_in_the_database!(CallKind, "call kind");

/// What sort of call this is.
pub fn parse_kind(raw: &str) -> Result<CallKind, InvalidValue> {
    raw.parse().map_err(|_| {
        InvalidValue::new(
            "invalid_kind",
            "startup_lab, territory_experiment or expression_of_interest",
        )
    })
}

/// A call's quorum for its jury meetings: 1 to 1000 jurors present.
pub fn parse_quorum(raw: i64) -> Result<i32, InvalidValue> {
    match i32::try_from(raw) {
        Ok(quorum @ 1..=1000) => Ok(quorum),
        _ => Err(InvalidValue::new(
            "invalid_quorum",
            "a number of jurors from 1 to 1000 (null: a majority of the jury)",
        )),
    }
}

/// The days an applicant has to appeal a decision once told: 1 to 365.
pub fn parse_appeal_window(raw: i64) -> Result<i32, InvalidValue> {
    match i32::try_from(raw) {
        Ok(days) if (1..=365).contains(&days) => Ok(days),
        _ => Err(InvalidValue::new(
            "invalid_appeal_window",
            "a number of days from 1 to 365",
        )),
    }
}

/// A call's URL name: 3 to 64 lower-case letters, digits and dashes, starting with a letter or digit.
pub fn parse_slug(raw: &str) -> Result<String, InvalidValue> {
    let slug = raw.trim();
    let ok = (3..=64).contains(&slug.len())
        && slug
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !slug.starts_with('-')
        && !slug.ends_with('-');
    if ok {
        Ok(slug.to_owned())
    } else {
        Err(InvalidValue::new(
            "invalid_slug",
            "3 to 64 lower-case letters, digits and dashes, such as atl-2026",
        ))
    }
}

/// The prefix of application references: 2 to 6 upper-case letters, such as `ATL`.
pub fn parse_reference_prefix(raw: &str) -> Result<String, InvalidValue> {
    let prefix = raw.trim();
    if (2..=6).contains(&prefix.len()) && prefix.chars().all(|c| c.is_ascii_uppercase()) {
        Ok(prefix.to_owned())
    } else {
        Err(InvalidValue::new(
            "invalid_prefix",
            "2 to 6 upper-case letters, such as ATL",
        ))
    }
}

/// An IANA time zone such as `Europe/Paris`.
pub fn parse_timezone(raw: &str) -> Result<String, InvalidValue> {
    raw.trim()
        .parse::<chrono_tz::Tz>()
        .map(|tz| tz.name().to_owned())
        .map_err(|_| {
            InvalidValue::new("invalid_timezone", "an IANA time zone such as Europe/Paris")
        })
}

/// An instant in RFC 3339, such as `2026-01-06T08:00:00Z`.
pub fn parse_instant(raw: &str) -> Result<DateTime<Utc>, InvalidValue> {
    DateTime::parse_from_rfc3339(raw.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            InvalidValue::new(
                "invalid_datetime",
                "an RFC 3339 instant such as 2026-01-06T08:00:00Z",
            )
        })
}

/// The reference of the `number`th submitted application of a call: `ATL-2026-0007`.
pub fn reference(prefix: &str, year: i32, number: i32) -> String {
    format!("{prefix}-{year}-{number:04}")
}

/// Everything that defines a call, checked as a whole.
#[derive(Debug, Clone)]
pub struct Definition {
    pub kind: CallKind,
    pub title: Text,
    pub summary: Option<Text>,
    pub opens_at: DateTime<Utc>,
    pub closes_at: DateTime<Utc>,
    pub eligible_kinds: Vec<String>,
    pub form: Form,
    pub stages: Vec<Stage>,
    /// What the call may publish of retained applications, when it has a catalogue.
    pub catalogue: Option<Catalogue>,
}

impl Definition {
    /// Every rule the definition breaks: a French title, opening before closing, known eligible kinds, a
    /// valid form, stages whose weights sum to 100 (no stages at all for a call without jury scoring), a
    /// catalogue naming publishable fields of the form.
    pub fn check(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        if self.title.fr.trim().is_empty() {
            errors.push(FieldError::new(
                "title.fr",
                "required",
                "the French title is required",
            ));
        }
        if self.opens_at >= self.closes_at {
            errors.push(FieldError::new(
                "closes_at",
                "before_opening",
                "a call closes after it opens",
            ));
        }
        if self.eligible_kinds.is_empty() {
            errors.push(FieldError::new(
                "eligible_kinds",
                "required",
                "at least one kind of organization",
            ));
        }
        for (i, kind) in self.eligible_kinds.iter().enumerate() {
            if let Err(err) = OrganizationKind::parse(kind) {
                errors.push(FieldError::new(
                    format!("eligible_kinds.{i}"),
                    err.code,
                    err.message,
                ));
            }
        }
        errors.extend(self.form.check_definition("form"));
        errors.extend(stage_errors(self.kind, &self.stages));
        let form_keys: Vec<&str> = self.form.fields.iter().map(|f| f.key.as_str()).collect();
        errors.extend(check_extra_keys_against(&form_keys, &self.stages));
        if let Some(catalogue) = &self.catalogue {
            errors.extend(catalogue.check(&self.form, "catalogue"));
        }
        errors
    }
}

/// The problems of a call's stages for its kind: weighted stages where a jury scores, none otherwise.
pub fn stage_errors(kind: CallKind, stages: &[Stage]) -> Vec<FieldError> {
    if kind.has_jury_scoring() {
        check_stages(stages)
    } else if stages.is_empty() {
        Vec::new()
    } else {
        vec![FieldError::new(
            "stages",
            "no_jury_scoring",
            "an expression of interest has no stages of weighted criteria: give `stages: []`",
        )]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn call_statuses_parse_strictly_and_move_forward_only() {
        for status in CallStatus::ALL {
            assert_eq!(status.as_str().parse::<CallStatus>(), Ok(status));
        }
        assert!("unknown".parse::<CallStatus>().is_err());
        assert_eq!(CallStatus::Draft.publish(), Ok(CallStatus::Published));
        assert_eq!(CallStatus::Published.publish(), Err(Refusal::CallNotDraft));
        assert_eq!(
            CallStatus::Published.on_evaluation_work(Phase::Closed),
            Some(CallStatus::Evaluation)
        );
        assert_eq!(CallStatus::Published.on_evaluation_work(Phase::Open), None);
        assert_eq!(
            CallStatus::Evaluation.on_evaluation_work(Phase::Closed),
            None
        );
        assert_eq!(CallStatus::Decided.on_decisions_published(), None);
    }

    #[test]
    fn call_kinds_parse_strictly() {
        for kind in CallKind::ALL {
            assert_eq!(parse_kind(kind.as_str()), Ok(kind));
        }
        assert!(parse_kind("lab").is_err());
        assert_eq!(
            CallKind::TerritoryExperiment.default_eligible(),
            vec!["territory".to_owned()]
        );
        assert_eq!(
            CallKind::StartupLab.default_eligible(),
            vec!["startup".to_owned()]
        );
    }

    #[test]
    fn an_expression_of_interest_has_no_jury_and_decides_by_triage() {
        use DecisionOutcome::*;
        let eoi = CallKind::ExpressionOfInterest;
        assert_eq!(eoi.allows_jury_work(), Err(Refusal::NoJuryScoring));
        assert_eq!(CallKind::StartupLab.allows_jury_work(), Ok(()));
        for outcome in DecisionOutcome::ALL {
            let triage = matches!(outcome, Retained | NotRetained);
            assert_eq!(eoi.decides_with(outcome), triage, "{outcome}");
            assert_eq!(CallKind::StartupLab.decides_with(outcome), !triage);
            assert_eq!(CallKind::TerritoryExperiment.decides_with(outcome), !triage);
        }
        assert!(stage_errors(eoi, &[]).is_empty());
        assert_eq!(stage_errors(CallKind::StartupLab, &[])[0].code, "required");
        let written: Vec<Stage> = serde_json::from_value(serde_json::json!([{
            "key": "written", "label": {"fr": "Écrit"},
            "criteria": [{"key": "a", "label": {"fr": "A"}, "weight": 100, "min": 0, "max": 5}]
        }]))
        .unwrap();
        assert!(stage_errors(CallKind::StartupLab, &written).is_empty());
        assert_eq!(stage_errors(eoi, &written)[0].code, "no_jury_scoring");
    }

    #[test]
    fn the_phase_follows_the_clock() {
        let opens = Utc.with_ymd_and_hms(2026, 1, 6, 8, 0, 0).unwrap();
        let closes = Utc.with_ymd_and_hms(2026, 2, 27, 11, 0, 0).unwrap();
        assert_eq!(
            phase(opens, closes, opens - chrono::Duration::seconds(1)),
            Phase::Upcoming
        );
        assert_eq!(phase(opens, closes, opens), Phase::Open);
        assert_eq!(
            phase(opens, closes, closes - chrono::Duration::seconds(1)),
            Phase::Open
        );
        assert_eq!(phase(opens, closes, closes), Phase::Closed);
    }

    #[test]
    fn references_are_padded() {
        assert_eq!(reference("ATL", 2026, 7), "ATL-2026-0007");
        assert_eq!(reference("EXP", 2026, 12345), "EXP-2026-12345");
    }

    #[test]
    fn slugs_prefixes_and_zones_are_checked() {
        assert!(parse_slug("atl-2026").is_ok());
        assert!(parse_slug("ATL 2026").is_err());
        assert!(parse_slug("-x-").is_err());
        assert!(parse_reference_prefix("EXP").is_ok());
        assert!(parse_reference_prefix("exp").is_err());
        assert_eq!(parse_timezone("Europe/Paris").unwrap(), "Europe/Paris");
        assert!(parse_timezone("Mars/Olympus").is_err());
    }
}
