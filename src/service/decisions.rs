//! Deliberation: shortlisting applications to the next stage, recording decisions (invisible to applicants
//! until published), and publishing them with one email per application.
//!
//! Every move of an application's status is a conditional write on the status read (`set_status` reports
//! whether the row changed), under a lock of the applications concerned: a withdrawal or a concurrent
//! request that comes first wins, a shortlist then rolls back whole (409 `application_changed`), and a
//! publication sends nothing for what another publication already did.

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::auth::permissions::Principal;
use crate::db::types::{Ts, Uid};
use crate::db::DbConn;
use crate::domain::action::Action;
use crate::domain::application::{ApplicationStatus, DecisionOutcome};
use crate::domain::call::CallStatus;
use crate::domain::check::Check;
use crate::domain::form::Stage;
use crate::domain::refusal::Refusal;
use crate::error::{Error, FieldError};
use crate::notify::applications::About;
use crate::notify::emails::DecisionPublished;
use crate::service::decision_history;
use crate::service::finalists;
use crate::service::staff::{managed_call, observed_call};
use crate::state::AppState;
use crate::store::applications::{self, Application};
use crate::store::calls::{self, Call};
use crate::store::decisions::{self, Decision};
use crate::store::journal::{self, Entity, Feed, Happened};
use crate::store::organizations;

/// The key under which the email telling a not-shortlisted application is recorded as sent.
const NOT_SHORTLISTED_NOTICE: &str = "decision_not_shortlisted";

/// What a shortlist did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShortlistCounts {
    pub shortlisted: usize,
    pub not_shortlisted: usize,
}

/// The status of a shortlist's candidates: reviewed at the stage before `next_stage`. A first or unknown
/// stage is noted in `check`.
fn candidates_status(stages: &[Stage], next_stage: &str, check: &mut Check) -> ApplicationStatus {
    match stages.iter().position(|s| s.key == next_stage) {
        Some(0) => {
            check.push(FieldError::new(
                "next_stage",
                "first_stage",
                "the first stage needs no shortlist",
            ));
            ApplicationStatus::Eligible
        }
        Some(next) => ApplicationStatus::reviewed_at_stage(next - 1),
        None => {
            check.push(FieldError::new(
                "next_stage",
                "unknown_stage",
                "the call has no such stage",
            ));
            ApplicationStatus::Eligible
        }
    }
}

/// What staff ask of a shortlist: the applications kept, the stage they go on to, and whether the others
/// are told now (rather than at the publication of the decisions).
#[derive(Debug, Clone)]
pub struct ShortlistRequest {
    pub ids: Vec<Uuid>,
    pub next_stage: String,
    pub notify_not_shortlisted: bool,
}

/// Shortlists applications `ids` of call `call_id` to `next_stage`: they become `shortlisted`, the other
/// candidates `not_shortlisted` ([`ApplicationStatus::shortlist`]). Each finalist's members are emailed
/// (`shortlisted`: the stage, its dates, the pitch to come, the documents asked); with
/// `notify_not_shortlisted`, the others get their notice now, once (the publication then does not tell them
/// again). 422 (with the problems already in `check`) for a first or unknown stage or an id that is not a
/// candidate; 409 `application_changed` when a candidate moved meanwhile, and then nothing changes and
/// nothing is sent.
pub fn shortlist(
    conn: &mut DbConn,
    state: &AppState,
    actor: &Principal,
    call_id: Uuid,
    request: &ShortlistRequest,
    mut check: Check,
    now: DateTime<Utc>,
) -> Result<ShortlistCounts, Error> {
    let ShortlistRequest {
        ids,
        next_stage,
        notify_not_shortlisted,
    } = request;
    let next_stage = next_stage.as_str();
    let call = managed_call(conn, actor, call_id)?;
    call.kind.allows_jury_work()?;
    let stages = call.stages()?;
    let from_status = candidates_status(&stages, next_stage, &mut check);
    let candidates = applications::ids_with_status(conn, call_id, from_status)
        .context("loading the shortlist's candidates")?;
    for (i, app) in ids.iter().enumerate() {
        if !candidates.contains(app) {
            check.push(FieldError::new(
                format!("application_ids.{i}"),
                "not_a_candidate",
                format!("not a {from_status} application of this call"),
            ));
        }
    }
    check.finish()?;
    applications::lock_all(conn, &candidates)?;
    let mut counts = ShortlistCounts {
        shortlisted: 0,
        not_shortlisted: 0,
    };
    for app in &candidates {
        let Some(status) = from_status.shortlist(ids.contains(app)) else {
            continue;
        };
        let action = if status == ApplicationStatus::Shortlisted {
            counts.shortlisted += 1;
            Action::ApplicationShortlisted
        } else {
            counts.not_shortlisted += 1;
            Action::ApplicationNotShortlisted
        };
        if !applications::set_status(conn, *app, from_status, status, now)? {
            // Rolls the whole shortlist back: a second request at once, or a withdrawal, came first.
            return Err(Refusal::ApplicationChanged.into());
        }
        if status == ApplicationStatus::Shortlisted {
            applications::set_shortlisted_for(conn, *app, next_stage)?;
            if let Some(stage) = stages.iter().find(|s| s.key == next_stage) {
                finalists::tell_finalist(conn, state, &call, stage, *app, now)?;
            }
        } else if *notify_not_shortlisted {
            tell_left_out(conn, state, &call, *app, now)?;
        }
        let data = json!({"status": status, "next_stage": next_stage});
        journal::publish(
            conn,
            action,
            Some(actor.user_id),
            Feed::application(call_id, *app, data),
            now,
        )?;
    }
    Happened::new(
        Action::CallShortlisted,
        Some(actor.user_id),
        Entity::Call(call_id),
    )
    .after(json!({"next_stage": next_stage, "application_ids": ids, "notify_not_shortlisted": notify_not_shortlisted}))
    .record(conn, now)?;
    Ok(counts)
}

/// A decision to record, parsed; `index` is its place in the request, for its 422.
#[derive(Debug, Clone)]
pub struct NewDecision {
    pub index: usize,
    pub application_id: Uuid,
    pub outcome: DecisionOutcome,
    pub motivation: String,
}

/// Records pending decisions for call `call_id` and returns all its decisions. An application must be
/// decidable ([`ApplicationStatus::decidable`]) or already decided, else 422 (with the problems already in
/// `check`); a decision already published is not replaced (409 `decision_published`, nothing recorded).
pub fn record(
    conn: &mut DbConn,
    actor: &Principal,
    call_id: Uuid,
    decisions: &[NewDecision],
    mut check: Check,
    now: DateTime<Utc>,
) -> Result<Vec<Decision>, Error> {
    let call = managed_call(conn, actor, call_id)?;
    let decidable = ApplicationStatus::decidable(call.stages()?.len());
    let candidates = applications::ids_with_status(conn, call_id, decidable)
        .context("loading the decidable applications")?;
    for d in decisions {
        if !call.kind.decides_with(d.outcome) {
            check.push(FieldError::new(
                format!("{}.outcome", d.index),
                "outcome_not_for_call",
                if d.outcome.is_triage() {
                    "retained and not_retained decide an expression of interest only"
                } else {
                    "an expression of interest is decided retained or not_retained"
                },
            ));
        }
    }
    let decided: Vec<Uuid> = decisions::decisions_of_call(conn, call_id)
        .context("loading the call's decisions")?
        .iter()
        .map(|d| *d.application_id)
        .collect();
    for d in decisions {
        if !candidates.contains(&d.application_id) && !decided.contains(&d.application_id) {
            check.push(FieldError::new(
                format!("{}.application_id", d.index),
                "not_decidable",
                format!("not a {decidable} application of this call"),
            ));
        }
    }
    check.finish()?;
    for d in decisions {
        let decision = Decision {
            application_id: Uid(d.application_id),
            call_id: Uid(call_id),
            outcome: d.outcome,
            motivation: d.motivation.clone(),
            decided_by: Some(Uid(actor.user_id)),
            decided_at: Ts(now),
            published_at: None,
        };
        if !decisions::record_decision(conn, &decision)? {
            return Err(Refusal::DecisionPublished.into());
        }
    }
    let recorded: Vec<Value> = decisions
        .iter()
        .map(|d| json!({"application_id": d.application_id, "outcome": d.outcome}))
        .collect();
    Happened::new(
        Action::DecisionsRecorded,
        Some(actor.user_id),
        Entity::Call(call_id),
    )
    .after(json!(recorded))
    .record(conn, now)?;
    Ok(decisions::decisions_of_call(conn, call_id)?)
}

/// A page of the decisions of call `call_id`, published or not: those after `after`, at most `limit` (404
/// for an unknown call); for whoever may read the call as staff ([`observed_call`]).
pub fn of_call(
    conn: &mut DbConn,
    caller: &Principal,
    call_id: Uuid,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<Decision>, Error> {
    observed_call(conn, caller, call_id)?;
    Ok(decisions::page_of_call(conn, call_id, after, limit)?)
}

/// Queues the decision email of `app` to its members, each in their language.
fn tell_members(
    conn: &mut DbConn,
    state: &AppState,
    call: &Call,
    app: &Application,
    per_reader: impl Fn(&str) -> DecisionPublished,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let organization = organizations::find(conn, *app.organization_id)?.ok_or(Error::NotFound)?;
    let about = About {
        call,
        organization: &organization,
        application: app,
    };
    about.tell_members(conn, state, per_reader, now)
}

/// Publishes the pending decisions of call `call_id` and returns how many this publication published.
/// Each decision is marked published by a conditional update, so of several publications at once one
/// publishes it and sends its email; an application withdrawn meanwhile keeps its status and is not told.
/// Applications left out at a shortlist are told once. The call becomes `decided` when anything was
/// published.
pub fn publish(
    conn: &mut DbConn,
    state: &AppState,
    actor: &Principal,
    call_id: Uuid,
    now: DateTime<Utc>,
) -> Result<usize, Error> {
    let call = managed_call(conn, actor, call_id)?;
    let decidable = ApplicationStatus::decidable(call.stages()?.len());
    let pending =
        decisions::pending_decisions(conn, call_id).context("loading the pending decisions")?;
    let app_ids: Vec<Uuid> = pending.iter().map(|d| *d.application_id).collect();
    applications::lock_all(conn, &app_ids)?;
    let mut published = 0;
    for decision in &pending {
        let app_id = *decision.application_id;
        if !decisions::mark_published(conn, app_id, now)? {
            // Another publication did it (and sent its email) first.
            continue;
        }
        published += 1;
        let status = decision.outcome.status();
        if !applications::set_status(conn, app_id, decidable, status, now)? {
            // Withdrawn (or otherwise moved) before the publication: it keeps that status.
            continue;
        }
        let app = applications::find(conn, app_id)?.ok_or(Error::NotFound)?;
        decision_history::record_publication(
            conn,
            actor,
            &app,
            decision.outcome,
            &decision.motivation,
            now,
        )?;
        let told = |locale: &str| {
            let (appeal_deadline, appeal_link) =
                decision_history::appeal_notice(state, &call, app_id, now, locale);
            DecisionPublished {
                outcome: decision.outcome,
                motivation: decision.motivation.clone(),
                appeal_deadline,
                appeal_link,
            }
        };
        tell_members(conn, state, &call, &app, told, now)?;
    }
    tell_not_shortlisted(conn, state, &call, now)?;
    if published > 0 {
        if let Some(decided) = call.status.on_decisions_published() {
            calls::set_status(conn, call_id, call.status, decided, now)?;
        }
        Happened::new(
            Action::DecisionsPublished,
            Some(actor.user_id),
            Entity::Call(call_id),
        )
        .after(json!({"published": published}))
        .on_feed(Feed::call(
            call_id,
            json!({"published": published, "status": CallStatus::Decided}),
        ))
        .record(conn, now)?;
    }
    Ok(published)
}

/// Tells the applications left out at a shortlist, once each, that they were not retained.
fn tell_not_shortlisted(
    conn: &mut DbConn,
    state: &AppState,
    call: &Call,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let left_out = applications::ids_with_status(conn, *call.id, ApplicationStatus::NotShortlisted)
        .context("loading the applications left out at a shortlist")?;
    for app_id in left_out {
        tell_left_out(conn, state, call, app_id, now)?;
    }
    Ok(())
}

/// Tells application `app_id`, left out at a shortlist, that it was not retained, unless it was told
/// already (at the shortlist, or at an earlier publication).
fn tell_left_out(
    conn: &mut DbConn,
    state: &AppState,
    call: &Call,
    app_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    if !applications::mark_reminded(conn, app_id, NOT_SHORTLISTED_NOTICE, now)? {
        return Ok(());
    }
    let app = applications::find(conn, app_id)?.ok_or(Error::NotFound)?;
    let per_reader = |locale: &str| {
        let motivation = if locale == "en" {
            "The application was not shortlisted for the next stage of the call."
        } else {
            "La candidature n'a pas été retenue pour l'étape suivante de l'appel."
        };
        DecisionPublished {
            outcome: DecisionOutcome::Rejected,
            motivation: motivation.into(),
            appeal_deadline: None,
            appeal_link: None,
        }
    };
    tell_members(conn, state, call, &app, per_reader, now)?;
    Ok(())
}
