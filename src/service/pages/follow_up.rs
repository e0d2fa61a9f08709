//! The sections of the status page that follow an application after it is submitted: its timeline (the one
//! rule of [`crate::domain::timeline`], through [`crate::service::timeline`]), the published decision (only
//! once published: [`crate::service::decision_history::published_decision`]), its appeal (and whether one
//! may be filed now: [`AppealWindow`], the rule the API applies) and its pitch slot.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use super::long_date;
use super::status::status_words;
use crate::auth::permissions::{ApplicationFacts, Principal};
use crate::db::DbConn;
use crate::domain::appeal::{AppealStatus, AppealWindow};
use crate::domain::application::DecisionOutcome;
use crate::domain::decision::DecisionChange;
use crate::domain::timeline::{Item, ItemKind};
use crate::error::Error;
use crate::notify::applications::format_instant;
use crate::service::{decision_history, pitch_slots, timeline};
use crate::store::applications::Application;

/// One line of the timeline, in the reader's language.
#[derive(Debug, Serialize)]
pub struct TimelineLine {
    /// What happened, by its API name (for styling and tests).
    pub kind: ItemKind,
    /// When, as a date in the call's time zone.
    pub on: String,
    /// What happened, in words.
    pub what: &'static str,
    /// What the applicant was told with it (a reason, a due date, a motivation…), if anything.
    pub detail: Option<String>,
}

/// The published decision.
#[derive(Debug, Serialize)]
pub struct DecisionSection {
    pub outcome: DecisionOutcome,
    /// The outcome in words.
    pub outcome_words: &'static str,
    pub motivation: Option<String>,
    /// When it was first published.
    pub published_on: Option<String>,
    /// Whether the decision was revised since, and why (the latest revision's reason).
    pub revised: bool,
    pub revision_reason: Option<String>,
    /// Whether the applicant withdrew after it.
    pub withdrawn: bool,
    /// Until when it may be appealed (date and time in the call's zone), when the call takes appeals.
    pub appeal_deadline: Option<String>,
}

/// The application's latest appeal.
#[derive(Debug, Serialize)]
pub struct AppealSection {
    pub status: AppealStatus,
    /// The status in words.
    pub status_words: &'static str,
    pub grounds: String,
    pub filed_on: String,
    /// Staff's answer, once resolved.
    pub resolution: Option<String>,
}

/// The pitch slot the application is convened to.
#[derive(Debug, Serialize)]
pub struct PitchSlotSection {
    pub stage: String,
    /// Date and time, in the call's zone.
    pub starts_at: String,
    pub duration_minutes: i64,
    pub place: Option<String>,
    pub video_url: Option<String>,
    pub confirmed: bool,
}

/// The follow-up sections of one application's status page.
#[derive(Debug, Default, Serialize)]
pub struct FollowUp {
    pub timeline: Vec<TimelineLine>,
    pub decision: Option<DecisionSection>,
    pub appeal: Option<AppealSection>,
    /// Whether an appeal may be filed now (the form shows).
    pub may_appeal: bool,
    pub pitch_slot: Option<PitchSlotSection>,
}

/// The follow-up of `app` for `caller` (who may open its status page), at `now`, in `lang`, dates in the
/// call's time zone `tz`.
pub fn read(
    conn: &mut DbConn,
    caller: &Principal,
    app: &Application,
    facts: &ApplicationFacts,
    (tz, lang, now): (&str, &str, DateTime<Utc>),
) -> Result<FollowUp, Error> {
    let id = *app.id;
    let timeline = match timeline::of_application(conn, caller, id) {
        Ok((items, _)) => items.iter().map(|i| line(i, tz, lang)).collect(),
        Err(e) if hidden(&e) => Vec::new(),
        Err(e) => return Err(e),
    };
    let mut follow_up = FollowUp {
        timeline,
        pitch_slot: pitch_slot(conn, caller, id, tz, lang)?,
        ..FollowUp::default()
    };
    let Some(published) = decision_history::published_decision(conn, caller, app, facts)? else {
        return Ok(follow_up);
    };
    let Some(current) = published.current() else {
        return Ok(follow_up);
    };
    let deadline = published.appeal_deadline();
    let revision = published
        .versions
        .iter()
        .rev()
        .find(|v| v.kind == DecisionChange::Revised);
    if let Some(outcome) = current.outcome {
        follow_up.decision = Some(DecisionSection {
            outcome,
            outcome_words: status_words(outcome.status(), lang),
            motivation: current.motivation.clone(),
            published_on: published.published_at().map(|t| long_date(t, tz, lang)),
            revised: revision.is_some(),
            revision_reason: revision.and_then(|v| v.reason.clone()),
            withdrawn: published.withdrawn(),
            appeal_deadline: deadline.map(|t| format_instant(t, tz, lang)),
        });
    }
    follow_up.may_appeal = membership_may_appeal(facts)
        && !published.withdrawn()
        && AppealWindow {
            deadline,
            already_appealed: published
                .appeals
                .iter()
                .any(|a| a.status.is_open() || a.decision_version == current.version),
            now,
        }
        .may_file()
        .is_ok();
    follow_up.appeal = published.appeals.last().map(|a| AppealSection {
        status: a.status,
        status_words: appeal_words(a.status, lang),
        grounds: a.grounds.clone(),
        filed_on: long_date(a.filed_at.0, tz, lang),
        resolution: a.resolution.clone(),
    });
    Ok(follow_up)
}

/// Whether `error` only says the caller may not see a section (which the page then leaves out).
fn hidden(error: &Error) -> bool {
    match error {
        Error::NotFound => true,
        Error::Refused { status, .. } => *status == actix_web::http::StatusCode::FORBIDDEN,
        _ => false,
    }
}

/// Only the applicant's members file appeals (staff read the page too).
fn membership_may_appeal(facts: &ApplicationFacts) -> bool {
    facts.membership.is_some()
}

/// The pitch slot of application `id` at the stage it is shortlisted to, if the caller may read it.
fn pitch_slot(
    conn: &mut DbConn,
    caller: &Principal,
    id: Uuid,
    tz: &str,
    lang: &str,
) -> Result<Option<PitchSlotSection>, Error> {
    match pitch_slots::read(conn, caller, id, None) {
        Ok(slot) => Ok(Some(PitchSlotSection {
            stage: slot.stage.clone(),
            starts_at: format_instant(slot.starts_at.0, tz, lang),
            duration_minutes: (slot.ends_at.0 - slot.starts_at.0).num_minutes(),
            place: slot.place.clone(),
            video_url: slot.video_url.clone(),
            confirmed: slot.confirmed_at.is_some(),
        })),
        Err(e) if hidden(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

/// An appeal's status as applicants read it.
pub fn appeal_words(status: AppealStatus, lang: &str) -> &'static str {
    let en = lang == "en";
    match status {
        AppealStatus::Open if en => "Filed, awaiting the call's team",
        AppealStatus::Open => "Déposé, en attente de l'équipe de l'appel",
        AppealStatus::Upheld if en => "Upheld: the decision will be revised",
        AppealStatus::Upheld => "Accepté : la décision va être révisée",
        AppealStatus::Dismissed if en => "Dismissed: the decision stands",
        AppealStatus::Dismissed => "Rejeté : la décision est maintenue",
    }
}

/// What a kind of timeline line says, in `lang`.
pub fn kind_words(kind: ItemKind, lang: &str) -> &'static str {
    use ItemKind::*;
    let en = lang == "en";
    match kind {
        Created if en => "Application started",
        Created => "Candidature commencée",
        Submitted if en => "Application submitted",
        Submitted => "Candidature déposée",
        ChangesRequested if en => "Changes requested",
        ChangesRequested => "Modifications demandées",
        Resubmitted if en => "Application submitted again",
        Resubmitted => "Candidature déposée de nouveau",
        Eligible if en => "Found eligible",
        Eligible => "Déclarée recevable",
        Ineligible if en => "Found not eligible",
        Ineligible => "Déclarée non recevable",
        Shortlisted if en => "Shortlisted for the next stage",
        Shortlisted => "Retenue pour l'étape suivante",
        NotShortlisted if en => "Not shortlisted",
        NotShortlisted => "Non retenue pour l'étape suivante",
        DecisionPublished if en => "Decision published",
        DecisionPublished => "Décision publiée",
        DecisionRevised if en => "Decision revised",
        DecisionRevised => "Décision révisée",
        Withdrawn if en => "Application withdrawn",
        Withdrawn => "Candidature retirée",
        AppealFiled if en => "Appeal filed",
        AppealFiled => "Recours déposé",
        AppealResolved if en => "Appeal answered",
        AppealResolved => "Réponse au recours",
        Message if en => "Message",
        Message => "Message",
    }
}

/// A timeline item as the page shows it: its words and the detail it carries.
fn line(item: &Item, tz: &str, lang: &str) -> TimelineLine {
    let text = |key: &str| item.details.get(key).and_then(Value::as_str);
    let outcome = |key: &str| {
        text(key)
            .and_then(|o| DecisionOutcome::ALL.into_iter().find(|x| x.as_str() == o))
            .map(|o| status_words(o.status(), lang).to_owned())
    };
    let due = text("due_at")
        .and_then(|d| d.parse::<DateTime<Utc>>().ok())
        .map(|d| long_date(d, tz, lang));
    let detail = match item.kind {
        ItemKind::ChangesRequested => match (text("reason"), due) {
            (Some(reason), Some(due)) => Some(format!("{reason} ({due})")),
            (reason, due) => reason.map(str::to_owned).or(due),
        },
        ItemKind::Ineligible | ItemKind::Withdrawn => text("reason").map(str::to_owned),
        ItemKind::DecisionPublished => outcome("outcome"),
        ItemKind::DecisionRevised => outcome("to"),
        ItemKind::AppealResolved => text("motivation").map(str::to_owned),
        _ => None,
    };
    TimelineLine {
        kind: item.kind,
        on: long_date(item.at, tz, lang),
        what: kind_words(item.kind, lang),
        detail,
    }
}
