//! Decisions that move: staff revise a published decision (a laureate dropped out, an appeal was upheld),
//! a laureate withdraws after it, and every version its applicant was told is kept, in order. The
//! application's status follows the latest version, through a conditional write on the status read.

use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;

use crate::auth::permissions::{
    can_follow_application, can_see_decision, ApplicationFacts, Principal,
};
use crate::db::types::{Ts, Uid};
use crate::db::DbConn;
use crate::domain::action::Action;
use crate::domain::appeal::{self, AppealStatus};
use crate::domain::application::DecisionOutcome;
use crate::domain::check::Check;
use crate::domain::decision::{DecisionChange, HistoryReader};
use crate::domain::refusal::Refusal;
use crate::error::{Error, FieldError};
use crate::notify::applications::{format_instant, About};
use crate::notify::emails::DecisionRevised;
use crate::service::applications::{load_for_staff, load_readable_with_facts};
use crate::state::AppState;
use crate::store::appeals::{self, Appeal};
use crate::store::applications::{self, Application};
use crate::store::calls::{self, Call};
use crate::store::decision_history::{self, DecisionVersion};
use crate::store::journal::{Entity, Feed, Happened};
use crate::store::{decisions, organizations};

/// What the decision emails say about appealing the version told at `told_at`: the deadline in the
/// reader's language and the call's time zone, and where to appeal (both `None` when the call takes none).
pub fn appeal_notice(
    state: &AppState,
    call: &Call,
    application_id: Uuid,
    told_at: DateTime<Utc>,
    locale: &str,
) -> (Option<String>, Option<String>) {
    match appeal::deadline(told_at, call.appeal_window_days) {
        Some(deadline) => (
            Some(format_instant(deadline, &call.timezone, locale)),
            Some(state.link(&format!("/api/v1/applications/{application_id}/appeals"))),
        ),
        None => (None, None),
    }
}

/// Records the first version of a decision just published (with its audit entry on the application, which
/// the timeline reads, and its `application.decided` event).
pub fn record_publication(
    conn: &mut DbConn,
    actor: &Principal,
    app: &Application,
    outcome: DecisionOutcome,
    motivation: &str,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let version = DecisionVersion {
        application_id: app.id,
        version: 1,
        call_id: app.call_id,
        kind: DecisionChange::Published,
        outcome: Some(outcome),
        motivation: Some(motivation.to_owned()),
        reason: None,
        appeal_id: None,
        decided_by: Some(Uid(actor.user_id)),
        decided_at: Ts(now),
    };
    if !decision_history::insert(conn, &version)? {
        return Err(Refusal::ChangedMeanwhile.into());
    }
    let feed = json!({"outcome": outcome, "status": app.status, "reference": app.reference});
    Happened::new(
        Action::ApplicationDecided,
        Some(actor.user_id),
        Entity::Application(*app.id),
    )
    .after(
        json!({"outcome": outcome, "motivation": motivation, "version": 1, "status": app.status}),
    )
    .on_feed(Feed::application(*app.call_id, *app.id, feed))
    .record(conn, now)?;
    Ok(())
}

/// Records a withdrawal after a published decision as the next version of its history (no outcome, the
/// applicant's reason). The caller saved the withdrawal and journalled it.
pub fn record_withdrawal(
    conn: &mut DbConn,
    caller: &Principal,
    before: &Application,
    reason: Option<String>,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let last = decision_history::of_application(conn, *before.id)?
        .last()
        .map_or(0, |v| v.version);
    let version = DecisionVersion {
        application_id: before.id,
        version: last + 1,
        call_id: before.call_id,
        kind: DecisionChange::Withdrawn,
        outcome: None,
        motivation: None,
        reason,
        appeal_id: None,
        decided_by: Some(Uid(caller.user_id)),
        decided_at: Ts(now),
    };
    if !decision_history::insert(conn, &version)? {
        return Err(Refusal::ChangedMeanwhile.into());
    }
    Ok(())
}

/// A revision staff asked for, parsed.
pub struct Revision {
    pub outcome: DecisionOutcome,
    pub motivation: String,
    pub reason: String,
    /// The upheld appeal this revision answers, if any.
    pub appeal_id: Option<Uuid>,
}

/// Revises the published decision of application `id` (its call's managers and administrators): a new
/// version with its reason, the application's status follows it (conditional on the status read: 409
/// `changed_meanwhile` otherwise), the change is audited and on the feed, and the members get one email.
/// 422 for an outcome the call does not decide with, or an appeal that is not an upheld appeal of this
/// application; 409 `no_published_decision` when there is nothing to revise.
pub fn revise(
    conn: &mut DbConn,
    state: &AppState,
    actor: &Principal,
    id: Uuid,
    revision: Revision,
    mut check: Check,
    now: DateTime<Utc>,
) -> Result<DecisionVersion, Error> {
    applications::lock(conn, id)?;
    let app = load_for_staff(conn, actor, id)?;
    let call = calls::find(conn, *app.call_id)?.ok_or(Error::NotFound)?;
    if !call.kind.decides_with(revision.outcome) {
        check.push(FieldError::new(
            "outcome",
            "outcome_not_for_call",
            "this call does not decide with this outcome",
        ));
    }
    if let Some(appeal_id) = revision.appeal_id {
        let upheld = appeals::of_application(conn, id)?
            .iter()
            .any(|a| *a.id == appeal_id && a.status == AppealStatus::Upheld);
        if !upheld {
            check.push(FieldError::new(
                "appeal_id",
                "not_an_upheld_appeal",
                "not an upheld appeal of this application",
            ));
        }
    }
    check.finish()?;
    let status = app.status.revise(revision.outcome)?;
    let Some(from) = app.status.published_outcome() else {
        return Err(Refusal::NoPublishedDecision(app.status).into());
    };
    let history = decision_history::of_application(conn, id)?;
    let version = DecisionVersion {
        application_id: app.id,
        version: history.last().map_or(1, |v| v.version + 1),
        call_id: app.call_id,
        kind: DecisionChange::Revised,
        outcome: Some(revision.outcome),
        motivation: Some(revision.motivation.clone()),
        reason: Some(revision.reason.clone()),
        appeal_id: revision.appeal_id.map(Uid),
        decided_by: Some(Uid(actor.user_id)),
        decided_at: Ts(now),
    };
    let saved = applications::set_status(conn, id, app.status, status, now)?
        && decisions::revise_published(
            conn,
            id,
            revision.outcome,
            &revision.motivation,
            actor.user_id,
            now,
        )?
        && decision_history::insert(conn, &version)?;
    if !saved {
        return Err(Refusal::ChangedMeanwhile.into());
    }
    let after = json!({
        "from": from, "outcome": revision.outcome, "motivation": revision.motivation,
        "reason": revision.reason, "version": version.version, "status": status,
        "appeal_id": revision.appeal_id,
    });
    let feed = json!({"from": from, "outcome": revision.outcome, "status": status, "version": version.version, "reference": app.reference});
    Happened::new(
        Action::DecisionRevised,
        Some(actor.user_id),
        Entity::Application(id),
    )
    .before(json!({"status": app.status, "outcome": from}))
    .after(after)
    .on_feed(Feed::application(*app.call_id, id, feed))
    .record(conn, now)?;
    let organization = organizations::find(conn, *app.organization_id)?.ok_or(Error::NotFound)?;
    let told = Application {
        status,
        ..app.clone()
    };
    let about = About {
        call: &call,
        organization: &organization,
        application: &told,
    };
    let email = |locale: &str| {
        let (appeal_deadline, appeal_link) = appeal_notice(state, &call, id, now, locale);
        DecisionRevised {
            from,
            outcome: revision.outcome,
            motivation: revision.motivation.clone(),
            reason: revision.reason.clone(),
            appeal_deadline,
            appeal_link,
        }
    };
    about.tell_members(conn, state, email, now)?;
    Ok(version)
}

/// The history of application `id`'s decision, oldest first, and who reads it: staff see who made each
/// version; the applicant the versions it was told. Empty before publication.
pub fn history(
    conn: &mut DbConn,
    caller: &Principal,
    id: Uuid,
) -> Result<(Vec<DecisionVersion>, HistoryReader), Error> {
    let (_, _, facts) = load_readable_with_facts(conn, caller, id)?;
    let reader = can_follow_application(caller, &facts)?;
    Ok((decision_history::of_application(conn, id)?, reader))
}

/// A published decision as its readers see it on the application.
#[derive(Debug, Clone)]
pub struct PublishedDecision {
    /// The versions, oldest first (at least one).
    pub versions: Vec<DecisionVersion>,
    /// The appeals of the application, oldest first.
    pub appeals: Vec<Appeal>,
    /// The call's appeal window.
    pub appeal_window_days: Option<i32>,
}

impl PublishedDecision {
    /// The latest version with an outcome (what the decision says now).
    pub fn current(&self) -> Option<&DecisionVersion> {
        self.versions.iter().rev().find(|v| v.outcome.is_some())
    }

    /// When it was first published.
    pub fn published_at(&self) -> Option<DateTime<Utc>> {
        self.versions.first().map(DecisionVersion::at)
    }

    /// Whether the applicant withdrew after it.
    pub fn withdrawn(&self) -> bool {
        self.versions
            .last()
            .is_some_and(|v| v.kind == DecisionChange::Withdrawn)
    }

    /// Until when the current version may be appealed (`None`: no appeals, or withdrawn).
    pub fn appeal_deadline(&self) -> Option<DateTime<Utc>> {
        if self.withdrawn() {
            return None;
        }
        appeal::deadline(self.current()?.at(), self.appeal_window_days)
    }

    /// The appeal of the current version, or the one still open.
    pub fn appeal(&self) -> Option<&Appeal> {
        let version = self.current()?.version;
        self.appeals
            .iter()
            .rev()
            .find(|a| a.decision_version == version || a.status.is_open())
    }
}

/// The published decision on `app` if the caller may see it ([`can_see_decision`]): `None` before
/// publication, and for jurors. Two statements (versions, appeals).
pub fn published_decision(
    conn: &mut DbConn,
    caller: &Principal,
    app: &Application,
    facts: &ApplicationFacts,
) -> Result<Option<PublishedDecision>, Error> {
    if !can_see_decision(caller, facts) {
        return Ok(None);
    }
    let versions = decision_history::of_application(conn, *app.id)?;
    if versions.is_empty() {
        return Ok(None);
    }
    let appeals = appeals::of_application(conn, *app.id)?;
    let appeal_window_days = calls::find(conn, *app.call_id)?.and_then(|c| c.appeal_window_days);
    Ok(Some(PublishedDecision {
        versions,
        appeals,
        appeal_window_days,
    }))
}
