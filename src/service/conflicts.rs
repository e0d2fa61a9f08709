//! Detecting conflicts of interest and recording them, once, when they matter: when a juror is assigned, when
//! staff ask, and when an applicant changes a fact after jurors were assigned (then only flagged for staff).
//!
//! Access checks, reviews and the ranking never run detection: they read the records
//! ([`crate::store::conflicts`]), so nothing an applicant edits later voids a review on its own.

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;

use crate::db::DbConn;
use crate::domain::conflict::{self, DetectedStatus};
use crate::error::Error;
use crate::notify::applications::localized;
use crate::notify::templates::Event;
use crate::notify::{queue, Email};
use crate::state::AppState;
use crate::store::audit::{self, Change};
use crate::store::conflicts::{self as records, DetectedConflict};
use crate::store::{self, applications, calls, users};

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
    let mut recorded = Vec::new();
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
        let status = record.status()?;
        let action = match status {
            DetectedStatus::Flagged => "conflict.flagged",
            _ => "conflict.detected",
        };
        audit::record(
            conn,
            Change {
                actor_id: actor,
                action,
                entity_type: "application",
                entity_id: *record.application_id,
                before: None,
                after: Some(json!({
                    "conflict_id": record.id,
                    "juror_id": record.juror_id,
                    "reason": record.reason,
                    "source_fact": record.source_fact,
                    "status": record.status,
                })),
            },
            now,
        )?;
        if status == DetectedStatus::Flagged {
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
    let listed: Vec<serde_json::Value> = flagged
        .iter()
        .map(|r| {
            json!({
                "reference": references.get(&*r.application_id).cloned().flatten().unwrap_or_else(|| r.application_id.to_string()),
                "juror_name": names.get(&*r.juror_id).cloned().unwrap_or_default(),
                "reason": r.reason,
                "source": r.source_fact,
            })
        })
        .collect();
    let title = call.title_text();
    for admin in users::admins(conn)? {
        let context = json!({
            "display_name": admin.display_name,
            "call_title": localized(&title, &admin.locale),
            "count": listed.len(),
            "conflicts": listed,
            "link": state.link(&format!("/api/v1/calls/{call_id}/conflicts")),
        });
        let email = Email {
            event: Event::ConflictFlagged,
            to: &admin.email,
            user_id: Some(*admin.id),
            call_id: Some(call_id),
            locale: &admin.locale,
            context,
        };
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
