//! Conflicts of interest as use cases: declaring one, staff deciding a flagged one, and detecting them and
//! recording them, once, when they matter: when a juror is assigned, when
//! staff ask, and when an applicant changes a fact after jurors were assigned (then only flagged for staff).
//!
//! Access checks, reviews and the ranking never run detection: they read the records
//! ([`crate::store::conflicts`]), so nothing an applicant edits later voids a review on its own.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;

use crate::auth::permissions::{can_declare_conflict_for, can_declare_conflict_in_call, Principal};
use crate::db::types::{Ts, Uid};
use crate::db::DbConn;
use crate::domain::action::Action;
use crate::domain::conflict::{self, DetectedStatus};
use crate::domain::refusal::Refusal;
use crate::error::Error;
use crate::notify::applications::localized;
use crate::notify::emails::{ConflictFlagged, FlaggedConflict};
use crate::notify::{queue, Email};
use crate::state::AppState;
use crate::store::conflicts::{self as records, Conflict, DetectedConflict};
use crate::store::journal::{Entity, Happened};
use crate::store::{self, applications, calls, ranking_tallies, users};

/// Which pairs a detection looks at.
#[derive(Debug, Clone, Copy)]
pub struct Scope {
    /// One juror, or every juror of the call.
    pub juror: Option<Uuid>,
    /// One application, or every application of the call past its draft.
    pub application: Option<Uuid>,
    /// Only the pairs already assigned (an applicant's change: nothing new applies on its own).
    pub only_assigned: bool,
}

impl Scope {
    /// Every juror against every application of the call.
    pub fn whole_call() -> Scope {
        Scope {
            juror: None,
            application: None,
            only_assigned: false,
        }
    }
}

/// Detects conflicts in `scope` from today's facts and records the ones not recorded yet: active for a pair
/// not assigned yet, flagged for a pair already assigned ([`DetectedStatus::when_found`]). A reason already
/// recorded for a pair (even dismissed) is not recorded again. Returns the new records.
pub fn detect(
    conn: &mut DbConn,
    call_id: Uuid,
    scope: Scope,
    now: DateTime<Utc>,
) -> Result<Vec<DetectedConflict>, Error> {
    let jurors: Vec<store::jurors::Juror> = store::jurors::jurors(conn, call_id)?
        .into_iter()
        .filter(|j| scope.juror.is_none_or(|id| id == *j.user_id))
        .collect();
    if jurors.is_empty() {
        return Ok(Vec::new());
    }
    let assigned: HashSet<(Uuid, Uuid)> =
        store::assignments::assignments_of_call(conn, call_id, None)?
            .iter()
            .map(|a| (*a.application_id, *a.juror_id))
            .collect();
    let facts = records::applicant_facts(conn, call_id, scope.application)?;
    let juror_ids: Vec<Uuid> = jurors.iter().map(|j| *j.user_id).collect();
    let memberships = records::organizations_of(conn, &juror_ids)?;
    let mut recorded: Vec<DetectedConflict> = Vec::new();
    for juror in &jurors {
        let sirens: Vec<String> = crate::domain::conflict::affiliations_of(&juror.affiliations.0)?
            .into_iter()
            .filter_map(|a| a.siren)
            .collect();
        let organizations = memberships
            .get(&*juror.user_id)
            .cloned()
            .unwrap_or_default();
        let juror_facts = conflict::JurorFacts {
            juror: *juror.user_id,
            email: &juror.email,
            organizations: &organizations,
            affiliation_sirens: &sirens,
        };
        for app in &facts {
            let is_assigned = assigned.contains(&(app.application_id, *juror.user_id));
            if scope.only_assigned && !is_assigned {
                continue;
            }
            let applicant = conflict::ApplicantFacts {
                application: app.application_id,
                organization: app.organization_id,
                siren: app.siren.as_deref(),
                member_emails: &app.member_emails,
                website: app.website.as_deref(),
            };
            for found in conflict::detect_with_sources(&juror_facts, &applicant) {
                let record = DetectedConflict::new(
                    call_id,
                    *juror.user_id,
                    app.application_id,
                    found.reason,
                    found.source,
                    DetectedStatus::when_found(is_assigned),
                    now,
                );
                if records::record_detected(conn, &record)? {
                    recorded.push(record);
                }
            }
        }
    }
    // A conflict that applies at once takes the juror's reviews out of the application's ranking.
    let applying: BTreeSet<Uuid> = recorded
        .iter()
        .filter(|r| r.status.applies())
        .map(|r| *r.application_id)
        .collect();
    for application in applying {
        ranking_tallies::refresh_application(conn, application)?;
    }
    Ok(recorded)
}

/// Audits new records (`actor`: who caused the detection, `None` for the service) and emails every
/// administrator the flagged ones of the call, in one email each.
pub fn report(
    conn: &mut DbConn,
    state: &AppState,
    actor: Option<Uuid>,
    call_id: Uuid,
    new: &[DetectedConflict],
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let mut flagged = Vec::new();
    for record in new {
        let action = match record.status {
            DetectedStatus::Flagged => Action::ConflictFlagged,
            _ => Action::ConflictDetected,
        };
        Happened::new(action, actor, Entity::Application(*record.application_id))
            .after(json!({
                "conflict_id": record.id,
                "juror_id": record.juror_id,
                "reason": record.reason,
                "source_fact": record.source_fact,
                "status": record.status,
            }))
            .record(conn, now)?;
        if record.status == DetectedStatus::Flagged {
            flagged.push(record);
        }
    }
    if flagged.is_empty() {
        return Ok(());
    }
    let call = calls::find(conn, call_id)?.ok_or(Error::NotFound)?;
    let references = applications::references(conn, call_id)?;
    let mut names: BTreeMap<Uuid, String> = BTreeMap::new();
    for record in &flagged {
        if let Some(user) = users::find(conn, *record.juror_id)? {
            names.insert(*record.juror_id, user.display_name);
        }
    }
    let listed: Vec<FlaggedConflict> = flagged
        .iter()
        .map(|r| FlaggedConflict {
            reference: references
                .get(&*r.application_id)
                .cloned()
                .flatten()
                .unwrap_or_else(|| r.application_id.to_string()),
            juror_name: names.get(&*r.juror_id).cloned().unwrap_or_default(),
            reason: r.reason.clone(),
            source: r.source_fact.clone(),
        })
        .collect();
    let title = call.title_text();
    for admin in users::admins(conn)? {
        let context = ConflictFlagged {
            display_name: admin.display_name.clone(),
            call_title: localized(&title, &admin.locale),
            count: listed.len(),
            conflicts: listed.clone(),
            link: state.link(&format!("/api/v1/calls/{call_id}/conflicts")),
        };
        let email = Email::of(
            &context,
            &admin.email,
            Some(*admin.id),
            Some(call_id),
            &admin.locale,
        )?;
        queue(conn, &state.templates, &state.settings.email, email, now)?;
    }
    Ok(())
}

/// After an applicant changed their organization (its website, identifiers or members): the conflicts this
/// would now cause with jurors already assigned its applications are flagged for staff (recorded, audited,
/// emailed), never applied. Pairs not assigned are left to the next assignment, which detects afresh.
pub fn after_organization_change(
    conn: &mut DbConn,
    state: &AppState,
    organization_id: Uuid,
    actor: Uuid,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    for (call_id, application_id) in records::assigned_applications_of(conn, organization_id)? {
        let scope = Scope {
            juror: None,
            application: Some(application_id),
            only_assigned: true,
        };
        let new = detect(conn, call_id, scope, now)?;
        report(conn, state, Some(actor), call_id, &new, now)?;
    }
    Ok(())
}

/// Declares a conflict of interest of a juror of the call with one of its applications (the caller's right to
/// do so is checked first: [`crate::auth::permissions::can_declare_conflict_for`] and
/// [`crate::auth::permissions::can_declare_conflict_in_call`]). It applies at once: the juror's assignments
/// to the application are withdrawn.
pub fn declare(
    conn: &mut DbConn,
    caller: &Principal,
    call_id: Uuid,
    juror_id: Uuid,
    application_id: Uuid,
    reason: String,
    now: DateTime<Utc>,
) -> Result<Conflict, Error> {
    calls::find(conn, call_id)?.ok_or(Error::NotFound)?;
    let access = crate::service::staff::load_call_access(conn, caller, call_id)?;
    can_declare_conflict_for(caller, juror_id, &access)?;
    let on_jury = store::jurors::is_juror(conn, call_id, caller.user_id)?;
    can_declare_conflict_in_call(caller, on_jury, &access)?;
    let app = crate::service::assignments::juror_and_application(
        conn,
        call_id,
        juror_id,
        application_id,
    )?;
    let conflict = Conflict {
        id: Uid(Uuid::now_v7()),
        call_id: Uid(call_id),
        juror_id: Uid(juror_id),
        application_id: app.id,
        reason,
        declared_by: Some(Uid(caller.user_id)),
        created_at: Ts(now),
    };
    records::declare_conflict(conn, &conflict)?;
    ranking_tallies::refresh_application(conn, application_id)?;
    let withdrawn = store::assignments::remove_assignments(conn, application_id, juror_id)?;
    Happened::new(
        Action::ConflictDeclared,
        Some(caller.user_id),
        Entity::Application(application_id),
    )
    .after(json!({"juror_id": juror_id, "reason": conflict.reason, "assignments_withdrawn": withdrawn}))
    .record(conn, now)?;
    Ok(conflict)
}

/// Staff decide a flagged conflict: confirmed (`confirm`), it applies from now on and the juror's
/// assignments to the application are withdrawn; dismissed, it does not apply. Refused (`not_flagged`) when
/// it was decided already, also for the second of two decisions at once.
pub fn decide(
    conn: &mut DbConn,
    actor: Uuid,
    call_id: Uuid,
    conflict_id: Uuid,
    confirm: bool,
    now: DateTime<Utc>,
) -> Result<DetectedConflict, Error> {
    let record = records::find_detected(conn, call_id, conflict_id)?.ok_or(Error::NotFound)?;
    let before = record.status;
    let after = before
        .decide(confirm)
        .ok_or(Refusal::NotFlagged(Some(before.as_str())))?;
    // Conditional: of two decisions at once, one changes the record, the other is told.
    if !records::decide(conn, conflict_id, before, after, actor, now)? {
        return Err(Refusal::NotFlagged(None).into());
    }
    ranking_tallies::refresh_application(conn, *record.application_id)?;
    let withdrawn = if after.applies() {
        store::assignments::remove_assignments(conn, *record.application_id, *record.juror_id)?
    } else {
        0
    };
    let action = if confirm {
        Action::ConflictConfirmed
    } else {
        Action::ConflictDismissed
    };
    Happened::new(action, Some(actor), Entity::Application(*record.application_id))
        .before(json!({"conflict_id": conflict_id, "status": before}))
        .after(json!({"conflict_id": conflict_id, "status": after, "juror_id": record.juror_id, "assignments_withdrawn": withdrawn}))
        .record(conn, now)?;
    Ok(DetectedConflict {
        status: after,
        decided_by: Some(Uid(actor)),
        decided_at: Some(Ts(now)),
        ..record
    })
}
