//! Appeals: an applicant appeals its published decision within the call's window; staff (administrators
//! and the call's managers) are emailed, then uphold or dismiss it, and the applicant is emailed the
//! answer. An upheld appeal is followed by a revision of the decision that names it
//! ([`crate::service::decision_history::revise`] with `appeal_id`).

use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;

use crate::auth::permissions::{can_follow_application, Principal};
use crate::db::types::{Ts, Uid};
use crate::db::DbConn;
use crate::domain::action::Action;
use crate::domain::appeal::{self, AppealOutcome, AppealStatus, AppealWindow};
use crate::domain::refusal::Refusal;
use crate::error::Error;
use crate::notify::applications::About;
use crate::notify::emails;
use crate::service::applications::{load_for_applicant, load_for_staff, load_readable_with_facts};
use crate::state::AppState;
use crate::store::appeals::{self, Appeal};
use crate::store::applications::{self, Application};
use crate::store::calls::{self, Call};
use crate::store::decision_history;
use crate::store::journal::{Entity, Feed, Happened};
use crate::store::organizations;

/// The call and the organization of `app`, for its emails.
fn about_parts(
    conn: &mut DbConn,
    app: &Application,
) -> Result<(Call, organizations::Organization), Error> {
    let call = calls::find(conn, *app.call_id)?.ok_or(Error::NotFound)?;
    let organization = organizations::find(conn, *app.organization_id)?.ok_or(Error::NotFound)?;
    Ok((call, organization))
}

/// Files an appeal against the current version of application `id`'s published decision (its members):
/// 409 `no_published_decision` without one standing, `no_appeals` when the call takes none,
/// `appeal_window_closed` after the deadline, `appeal_exists` when this version was appealed or an appeal
/// is open. The staff are emailed the grounds.
pub fn file(
    conn: &mut DbConn,
    state: &AppState,
    caller: &Principal,
    id: Uuid,
    grounds: String,
    now: DateTime<Utc>,
) -> Result<Appeal, Error> {
    applications::lock(conn, id)?;
    let app = load_for_applicant(conn, caller, id)?;
    let Some(outcome) = app.status.published_outcome() else {
        return Err(Refusal::NoPublishedDecision(app.status).into());
    };
    let versions = decision_history::of_application(conn, id)?;
    let Some(current) = versions.iter().rev().find(|v| v.outcome.is_some()) else {
        return Err(Refusal::NoPublishedDecision(app.status).into());
    };
    let (call, organization) = about_parts(conn, &app)?;
    let existing = appeals::of_application(conn, id)?;
    AppealWindow {
        deadline: appeal::deadline(current.at(), call.appeal_window_days),
        already_appealed: existing
            .iter()
            .any(|a| a.status.is_open() || a.decision_version == current.version),
        now,
    }
    .may_file()?;
    let filed = Appeal {
        id: Uid(Uuid::now_v7()),
        application_id: app.id,
        call_id: app.call_id,
        decision_version: current.version,
        grounds,
        status: AppealStatus::Open,
        filed_by: Some(Uid(caller.user_id)),
        filed_at: Ts(now),
        resolution: None,
        resolved_by: None,
        resolved_at: None,
    };
    if !appeals::insert(conn, &filed)? {
        return Err(Refusal::AppealExists.into());
    }
    let after = json!({"appeal_id": filed.id, "grounds": filed.grounds, "decision_version": current.version, "status": filed.status});
    let feed =
        json!({"appeal_id": filed.id, "decision_version": current.version, "status": filed.status});
    Happened::new(
        Action::AppealFiled,
        Some(caller.user_id),
        Entity::Application(id),
    )
    .after(after)
    .on_feed(Feed::application(*app.call_id, id, feed))
    .record(conn, now)?;
    let about = About {
        call: &call,
        organization: &organization,
        application: &app,
    };
    let appeals_link = state.link(&format!("/api/v1/applications/{id}/appeals"));
    let email = |_: &str| emails::AppealFiled {
        outcome,
        grounds: filed.grounds.clone(),
        appeals_link: appeals_link.clone(),
    };
    about.tell_staff(conn, state, email, now)?;
    Ok(filed)
}

/// The appeals of application `id`, oldest first (its members and its call's staff; jurors 404).
pub fn of_application(
    conn: &mut DbConn,
    caller: &Principal,
    id: Uuid,
) -> Result<Vec<Appeal>, Error> {
    let (_, _, facts) = load_readable_with_facts(conn, caller, id)?;
    can_follow_application(caller, &facts)?;
    Ok(appeals::of_application(conn, id)?)
}

/// Staff's answer to an appeal, parsed.
pub struct Resolution {
    pub outcome: AppealOutcome,
    /// Why; the applicant is emailed it.
    pub motivation: String,
}

/// Staff's answer to an appeal (the call's managers and administrators): upheld or dismissed, with a
/// motivation the applicant's members are emailed. 404 for an appeal of another application; 409
/// `appeal_resolved` when it was answered already (also the second of two answers at once).
pub fn resolve(
    conn: &mut DbConn,
    state: &AppState,
    actor: &Principal,
    id: Uuid,
    appeal_id: Uuid,
    resolution: Resolution,
    now: DateTime<Utc>,
) -> Result<Appeal, Error> {
    let Resolution {
        outcome,
        motivation,
    } = resolution;
    let app = load_for_staff(conn, actor, id)?;
    let appeal = appeals::of_application(conn, id)?
        .into_iter()
        .find(|a| *a.id == appeal_id)
        .ok_or(Error::NotFound)?;
    let status = appeal.status.resolve(outcome)?;
    if !appeals::resolve(conn, appeal_id, status, &motivation, actor.user_id, now)? {
        return Err(Refusal::AppealResolved.into());
    }
    let after = json!({"appeal_id": appeal_id, "outcome": outcome, "motivation": motivation, "status": status});
    let feed = json!({"appeal_id": appeal_id, "status": status});
    Happened::new(
        Action::AppealResolved,
        Some(actor.user_id),
        Entity::Application(id),
    )
    .before(json!({"appeal_id": appeal_id, "status": appeal.status}))
    .after(after)
    .on_feed(Feed::application(*app.call_id, id, feed))
    .record(conn, now)?;
    let (call, organization) = about_parts(conn, &app)?;
    let about = About {
        call: &call,
        organization: &organization,
        application: &app,
    };
    let email = |_: &str| emails::AppealResolved {
        outcome,
        motivation: motivation.clone(),
    };
    about.tell_members(conn, state, email, now)?;
    Ok(Appeal {
        status,
        resolution: Some(motivation),
        resolved_by: Some(Uid(actor.user_id)),
        resolved_at: Some(Ts(now)),
        ..appeal
    })
}
