//! The status page of an application (`GET /applications/{id}`): what its applicants (and the call's staff)
//! need to follow it, without the API: a summary, then the follow-up sections ([`super::follow_up`]: the
//! timeline, the published decision, an appeal, a pitch slot), each a block of
//! `templates/pages/application.html`.

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::follow_up::{self, FollowUp};
use crate::auth::permissions::{can_open_status_page, ApplicationFacts, Principal};
use crate::db::DbConn;
use crate::domain::application::ApplicationStatus;
use crate::error::Error;
use crate::notify::applications::localized;
use crate::service::applications::load;
use crate::service::staff::load_call_access;
use crate::store::{calls, organizations};

/// What the status page shows of one application, in the reader's language.
#[derive(Debug, Serialize)]
pub struct StatusPage {
    pub id: Uuid,
    /// Given at the first submission; none for a draft.
    pub reference: Option<String>,
    pub call_title: String,
    pub organization_name: String,
    /// The status's API name (`submitted`, …), for styling.
    pub status: ApplicationStatus,
    /// The status in words.
    pub status_words: &'static str,
    /// When it was (first) submitted, as a date.
    pub submitted_on: Option<String>,
    /// When requested changes are due.
    pub changes_due_on: Option<String>,
    /// What happens next, in a sentence or two.
    pub next_steps: &'static str,
    /// The timeline, the published decision, the appeal and the pitch slot.
    #[serde(flatten)]
    pub follow_up: FollowUp,
}

/// The status page of application `id` for `caller` ([`can_open_status_page`]: members and staff;
/// 404 for anyone else, jurors included), in `lang`, at `now` (whether an appeal may be filed).
pub fn read(
    conn: &mut DbConn,
    caller: &Principal,
    id: Uuid,
    lang: &str,
    now: DateTime<Utc>,
) -> Result<StatusPage, Error> {
    let (app, membership) = load(conn, caller, id)?;
    let facts = ApplicationFacts {
        call: load_call_access(conn, caller, *app.call_id)?,
        draft: app.status == ApplicationStatus::Draft,
        ..ApplicationFacts::member(membership)
    };
    can_open_status_page(caller, &facts)?;
    let call = calls::find(conn, *app.call_id)
        .context("loading the application's call")?
        .ok_or(Error::NotFound)?;
    let organization = organizations::find(conn, *app.organization_id)
        .context("loading the applicant organization")?
        .ok_or(Error::NotFound)?;
    let date = |at: DateTime<Utc>| super::long_date(at, &call.timezone, lang);
    let follow_up = follow_up::read(conn, caller, &app, &facts, (&call.timezone, lang, now))?;
    Ok(StatusPage {
        id: *app.id,
        reference: app.reference.clone(),
        call_title: localized(&call.title_text(), lang),
        organization_name: organization.legal_name.clone(),
        status: app.status,
        status_words: status_words(app.status, lang),
        submitted_on: app.submitted_at.map(|t| date(t.0)),
        changes_due_on: app.changes_due_at.map(|t| date(t.0)),
        next_steps: next_steps(app.status, lang),
        follow_up,
    })
}

/// A status as applicants read it.
pub fn status_words(status: ApplicationStatus, lang: &str) -> &'static str {
    use ApplicationStatus::*;
    let en = lang == "en";
    match status {
        Draft if en => "Draft, not submitted",
        Draft => "Brouillon, non déposé",
        Submitted if en => "Submitted",
        Submitted => "Déposée",
        ChangesRequested if en => "Changes requested",
        ChangesRequested => "Modifications demandées",
        Eligible if en => "Eligible, with the jury",
        Eligible => "Recevable, en cours d'évaluation",
        Ineligible if en => "Not eligible",
        Ineligible => "Non recevable",
        Shortlisted if en => "Shortlisted for the next stage",
        Shortlisted => "Retenue pour l'étape suivante",
        NotShortlisted if en => "Not shortlisted",
        NotShortlisted => "Non retenue pour l'étape suivante",
        Selected if en => "Selected",
        Selected => "Lauréate",
        Waitlisted if en => "On the waiting list",
        Waitlisted => "Sur liste d'attente",
        Rejected if en => "Not selected",
        Rejected => "Non retenue",
        Withdrawn if en => "Withdrawn",
        Withdrawn => "Retirée",
        Retained if en => "Retained",
        Retained => "Retenue",
        NotRetained if en => "Not retained",
        NotRetained => "Non retenue",
    }
}

/// What happens after `status`, for the applicant.
pub fn next_steps(status: ApplicationStatus, lang: &str) -> &'static str {
    use ApplicationStatus::*;
    let en = lang == "en";
    match status {
        Draft if en => "Complete and submit it before the call closes.",
        Draft => "Complétez-la et déposez-la avant la clôture de l'appel.",
        Submitted if en => "The call's team checks that it is complete and eligible; you will hear from them by email.",
        Submitted => "L'équipe de l'appel vérifie qu'elle est complète et recevable ; vous serez informé·e par e-mail.",
        ChangesRequested if en => "Make the requested changes and submit it again before the due date.",
        ChangesRequested => "Apportez les modifications demandées et déposez-la de nouveau avant la date limite.",
        Eligible | Shortlisted if en => "The jury is evaluating it; the decision will be sent to you by email once published.",
        Eligible | Shortlisted => "Le jury l'évalue ; la décision vous sera envoyée par e-mail dès sa publication.",
        Waitlisted if en => "A place may open up: the call's team will write to you.",
        Waitlisted => "Une place peut se libérer : l'équipe de l'appel vous écrira.",
        Selected | Retained if en => "The call's team will write to you about what comes next.",
        Selected | Retained => "L'équipe de l'appel vous écrira pour la suite.",
        Ineligible | NotShortlisted | Rejected | NotRetained | Withdrawn if en => "Nothing more is expected of you for this application.",
        Ineligible | NotShortlisted | Rejected | NotRetained | Withdrawn => "Plus rien n'est attendu de vous pour cette candidature.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_has_words_and_next_steps_in_both_languages() {
        for status in ApplicationStatus::ALL {
            for lang in ["fr", "en"] {
                assert!(!status_words(status, lang).is_empty());
                assert!(!next_steps(status, lang).is_empty());
            }
            assert_ne!(status_words(status, "fr"), status_words(status, "en"));
        }
    }
}
