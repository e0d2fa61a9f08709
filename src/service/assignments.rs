//! Assigning applications to jurors, by hand or automatically, with conflicts detected and recorded first; the
//! call moves to evaluation once closed, each juror gets one email listing their new assignments; and a
//! juror's own list of assignments.

use std::collections::{BTreeMap, HashSet};

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::db::types::{Ts, Uid};
use crate::db::DbConn;
use crate::domain::action::Action;
use crate::domain::application::ApplicationStatus;
use crate::domain::assignment::{self, AssignmentInput};
use crate::domain::call;
use crate::domain::form::Stage;
use crate::domain::refusal::Refusal;
use crate::error::Error;
use crate::notify::applications::localized;
use crate::notify::emails::{AssignedApplication, AssignmentDigest};
use crate::notify::{queue, Email};
use crate::service::conflicts as conflict_service;
use crate::state::AppState;
use crate::store::applications::Application;
use crate::store::assignments::{self, Assignment, JurorAssignments, MyAssignment};
use crate::store::calls::{self, Call};
use crate::store::journal::{publish, Entity, Feed, Happened};
use crate::store::{applications, conflicts, jurors, organizations, users};

/// What automatic assignment did: the assignments made now, and the applications left with fewer jurors than
/// asked (with how many they have).
pub struct AutoAssigned {
    pub created: Vec<Assignment>,
    pub short: Vec<(Uuid, usize)>,
}

/// How automatic assignment is asked to spread the stage's applications.
#[derive(Debug, Clone, Copy)]
pub struct Spread {
    /// How many jurors review each application.
    pub reviews_per_application: usize,
    /// At most this many applications per juror.
    pub max_per_juror: Option<usize>,
}

/// The call, or 404.
pub fn call_or_404(conn: &mut DbConn, id: Uuid) -> Result<Call, Error> {
    calls::find(conn, id)?.ok_or(Error::NotFound)
}

/// The call, or 404; 409 `no_jury_scoring` for a call without jury (an expression of interest), whose
/// jurors, assignments, reviews, ranking and shortlist do not exist.
pub fn jury_call_or_404(conn: &mut DbConn, id: Uuid) -> Result<Call, Error> {
    let call = call_or_404(conn, id)?;
    call.kind.allows_jury_work()?;
    Ok(call)
}

/// The status an application needs to be reviewed at `stage` (422 for a stage the call does not have).
fn status_for_stage(stages: &[Stage], stage: &str) -> Result<ApplicationStatus, Error> {
    match stages.iter().position(|s| s.key == stage) {
        Some(index) => Ok(ApplicationStatus::reviewed_at_stage(index)),
        None => Err(Error::field(
            "stage",
            "unknown_stage",
            "the call has no such stage",
        )),
    }
}

/// The application of the call that `juror_id`, a juror of the call, is to be paired with (422 when either
/// is not the call's).
pub fn juror_and_application(
    conn: &mut DbConn,
    call_id: Uuid,
    juror_id: Uuid,
    application_id: Uuid,
) -> Result<Application, Error> {
    if !jurors::is_juror(conn, call_id, juror_id)? {
        return Err(Error::field(
            "juror_id",
            "not_a_juror",
            "this person is not on the call's jury",
        ));
    }
    let app = applications::find(conn, application_id)?
        .filter(|a| *a.call_id == call_id)
        .ok_or_else(|| {
            Error::field(
                "application_id",
                "unknown_application",
                "no such application in this call",
            )
        })?;
    Ok(app)
}

/// Assigns an application to a juror for a stage. Conflicts of the pair are detected from today's facts and
/// recorded (what is found here is what access checks, reviews and the ranking read later); a conflict
/// refuses the assignment in the inner result, so that the caller still commits what was detected.
#[allow(clippy::too_many_arguments)]
pub fn assign(
    conn: &mut DbConn,
    state: &AppState,
    actor: Uuid,
    call_id: Uuid,
    application_id: Uuid,
    juror_id: Uuid,
    stage: &str,
    now: DateTime<Utc>,
) -> Result<Result<Assignment, Error>, Error> {
    let call = jury_call_or_404(conn, call_id)?;
    let needed = status_for_stage(&call.stages()?, stage)?;
    let app = juror_and_application(conn, call_id, juror_id, application_id)?;
    if app.status != needed {
        return Err(Refusal::NotAtStage {
            status: app.status,
            stage: stage.to_owned(),
            needed,
        }
        .into());
    }
    let scope = conflict_service::Scope {
        juror: Some(juror_id),
        application: Some(application_id),
        only_assigned: false,
    };
    let found = conflict_service::detect(conn, call_id, scope, now)?;
    conflict_service::report(conn, state, Some(actor), call_id, &found, now)?;
    if conflicts::blocks_assignment(conn, call_id, application_id, juror_id)? {
        return Ok(Err(Refusal::ConflictOfInterest.into()));
    }
    let row = assignment_row(call_id, application_id, juror_id, stage, actor, now);
    if assignments::insert_assignments(conn, std::slice::from_ref(&row))? == 0 {
        return Err(Refusal::AlreadyAssigned.into());
    }
    record_new(
        conn,
        state,
        actor,
        &call,
        stage,
        std::slice::from_ref(&row),
        now,
    )?;
    Ok(Ok(row))
}

/// Assigns every application of a stage to `spread.reviews_per_application` jurors, never a conflicted one
/// (conflicts of the whole call are detected and recorded first), with juror loads differing by at most one;
/// deterministic; re-running fills gaps only.
pub fn auto_assign(
    conn: &mut DbConn,
    state: &AppState,
    actor: Uuid,
    call_id: Uuid,
    stage: &str,
    spread: Spread,
    now: DateTime<Utc>,
) -> Result<AutoAssigned, Error> {
    let call = jury_call_or_404(conn, call_id)?;
    let needed = status_for_stage(&call.stages()?, stage)?;
    let apps: Vec<Uuid> = applications::ids_with_status(conn, call_id, needed)
        .context("loading the stage's applications")?;
    let juror_ids: Vec<Uuid> = jurors::jurors(conn, call_id)
        .context("loading the call's jurors")?
        .iter()
        .map(|j| *j.user_id)
        .collect();
    let existing: Vec<(Uuid, Uuid)> = assignments::assignments_of_call(conn, call_id, Some(stage))
        .context("loading the stage's assignments")?
        .iter()
        .map(|a| (*a.application_id, *a.juror_id))
        .collect();
    let found =
        conflict_service::detect(conn, call_id, conflict_service::Scope::whole_call(), now)?;
    conflict_service::report(conn, state, Some(actor), call_id, &found, now)?;
    let conflicted: HashSet<(Uuid, Uuid)> =
        conflicts::conflicted_pairs(conn, call_id, true).context("loading the call's conflicts")?;
    let plan = assignment::plan(&AssignmentInput {
        applications: &apps,
        jurors: &juror_ids,
        existing: &existing,
        conflicts: &conflicted,
        reviews_per_application: spread.reviews_per_application,
        max_per_juror: spread.max_per_juror,
    });
    let rows: Vec<Assignment> = plan
        .new
        .iter()
        .map(|(app, juror)| assignment_row(call_id, *app, *juror, stage, actor, now))
        .collect();
    assignments::insert_assignments(conn, &rows).context("storing the new assignments")?;
    record_new(conn, state, actor, &call, stage, &rows, now)?;
    Ok(AutoAssigned {
        created: rows,
        short: plan.short,
    })
}

fn assignment_row(
    call_id: Uuid,
    application_id: Uuid,
    juror_id: Uuid,
    stage: &str,
    by: Uuid,
    now: DateTime<Utc>,
) -> Assignment {
    Assignment {
        id: Uid(Uuid::now_v7()),
        call_id: Uid(call_id),
        application_id: Uid(application_id),
        juror_id: Uid(juror_id),
        stage: stage.to_owned(),
        created_by: Some(Uid(by)),
        created_at: Ts(now),
    }
}

/// After new assignments: the call enters evaluation (a published call, once closed), the assignments are
/// audited and published on the feed, and each juror is emailed the list of theirs. Nothing for no rows.
fn record_new(
    conn: &mut DbConn,
    state: &AppState,
    actor: Uuid,
    call: &Call,
    stage: &str,
    rows: &[Assignment],
    now: DateTime<Utc>,
) -> Result<(), Error> {
    if rows.is_empty() {
        return Ok(());
    }
    let phase = call::phase(call.opens_at.0, call.closes_at.0, now);
    if let Some(next) = call.status.on_evaluation_work(phase) {
        calls::set_status(conn, *call.id, call.status, next, now)?;
    }
    let pairs: Vec<Value> = rows
        .iter()
        .map(|r| json!({"application_id": r.application_id, "juror_id": r.juror_id}))
        .collect();
    Happened::new(
        Action::AssignmentsCreated,
        Some(actor),
        Entity::Call(*call.id),
    )
    .after(json!({"stage": stage, "assignments": pairs}))
    .record(conn, now)?;
    for row in rows {
        let data = json!({"assignment_id": row.id, "juror_id": row.juror_id, "stage": stage});
        let feed = Feed::application(*call.id, *row.application_id, data);
        publish(conn, Action::AssignmentCreated, Some(actor), feed, now)?;
    }
    digest(conn, state, call, stage, rows, now)
}

/// One email per juror listing their new assignments.
fn digest(
    conn: &mut DbConn,
    state: &AppState,
    call: &Call,
    stage: &str,
    rows: &[Assignment],
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let stages = call.stages()?;
    let stage_def = stages.iter().find(|s| s.key == stage);
    let title = call.title_text();
    let mut by_juror: BTreeMap<Uuid, Vec<Uuid>> = BTreeMap::new();
    for row in rows {
        by_juror
            .entry(*row.juror_id)
            .or_default()
            .push(*row.application_id);
    }
    for (juror, apps) in by_juror {
        let Some(user) = users::find(conn, juror)? else {
            continue;
        };
        let mut listed = Vec::new();
        for app_id in &apps {
            if let Some(app) = applications::find(conn, *app_id)? {
                let org = organizations::find(conn, *app.organization_id)?;
                listed.push(AssignedApplication {
                    reference: app.reference,
                    organization_name: org.map(|o| o.legal_name),
                });
            }
        }
        let context = AssignmentDigest {
            display_name: user.display_name.clone(),
            call_title: localized(&title, &user.locale),
            stage_label: stage_def
                .map_or_else(|| stage.to_owned(), |s| localized(&s.label, &user.locale)),
            count: apps.len(),
            applications: listed,
            due_at: None,
            link: state.link("/me/assignments"),
        };
        let email = Email::of(
            &context,
            &user.email,
            Some(juror),
            Some(*call.id),
            &user.locale,
        )?;
        queue(conn, &state.templates, &state.settings.email, email, now)?;
    }
    Ok(())
}

/// A juror's assignments (of one call, or all), call by call, without those they are conflicted on (declared,
/// or detected and active) nor those of withdrawn applications; one statement whatever their number.
pub fn visible_assignments(
    conn: &mut DbConn,
    juror: Uuid,
    call_id: Option<Uuid>,
) -> Result<Vec<MyAssignment>, Error> {
    let which = JurorAssignments {
        call_id,
        page: None,
    };
    Ok(assignments::assignments_of_juror(conn, juror, which)
        .context("loading the juror's assignments")?)
}

/// A page of the same, in assignment order: those after the assignment `after`, at most `limit`.
pub fn visible_assignments_page(
    conn: &mut DbConn,
    juror: Uuid,
    call_id: Option<Uuid>,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<MyAssignment>, Error> {
    let which = JurorAssignments {
        call_id,
        page: Some((after, limit)),
    };
    Ok(assignments::assignments_of_juror(conn, juror, which)
        .context("loading a page of the juror's assignments")?)
}
