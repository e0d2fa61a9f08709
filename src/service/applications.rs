//! The applicant's and the screening staff's use cases on an application: start a draft, save answers,
//! submit, withdraw, screen. Each loads what it needs, asks [`crate::auth::permissions`] and the life cycle
//! ([`ApplicationStatus`]) for a decision, writes only if nobody changed the application meanwhile, and
//! records the change (audit + feed) and queues the emails in the caller's transaction.

use std::collections::HashSet;

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::auth::permissions::{
    can_act_for_applicant, can_manage_application, can_read_application, ApplicationFacts,
    CallAccess, JurorFacts, MemberRole, Principal,
};
use crate::db::types::{Json, Ts, Uid};
use crate::db::DbConn;
use crate::domain::action::Action;
use crate::domain::application::{ApplicationStatus, ScreeningOutcome, SubmitWindow};
use crate::domain::call::{self, CallStatus, Phase};
use crate::domain::check::Check;
use crate::domain::finalists::default_changes_due;
use crate::domain::prefill::Prefill;
use crate::domain::refusal::Refusal;
use crate::error::{Error, FieldError};
use crate::notify::applications::{answers_summary, format_instant, About};
use crate::notify::emails;
use crate::service::staff::load_call_access;
use crate::service::{decision_history, editions};
use crate::state::AppState;
use crate::store::access::{self, Around};
use crate::store::applications::{self, Application, Attachment};
use crate::store::calls::{self, Call};
use crate::store::journal::{Entity, Feed, Happened};
use crate::store::organizations::{self, Organization};

/// The application and the caller's role in its organization; 404 when it does not exist.
pub fn load(
    conn: &mut DbConn,
    caller: &Principal,
    id: Uuid,
) -> Result<(Application, Option<MemberRole>), Error> {
    let app = applications::find(conn, id)?.ok_or(Error::NotFound)?;
    let role = organizations::membership(conn, *app.organization_id, caller.user_id)?;
    Ok((app, role))
}

/// What decides whether `caller` may read `app`: their role in its organization, whether they are an
/// assigned juror kept away by no conflict, their role on its call's staff; one statement
/// ([`access::recorded`]).
pub fn facts_of(
    conn: &mut DbConn,
    caller: &Principal,
    app: &Application,
) -> Result<ApplicationFacts, Error> {
    let recorded = access::recorded(conn, around(app), caller.user_id, None)?;
    Ok(ApplicationFacts {
        membership: recorded.membership,
        juror: Some(JurorFacts {
            assigned: recorded.assigned,
            conflicted: recorded.conflicted,
        }),
        call: CallAccess::of(recorded.staff),
        draft: app.status == ApplicationStatus::Draft,
    })
}

/// The application as [`access::recorded`] looks around it.
pub fn around(app: &Application) -> Around {
    Around {
        application_id: *app.id,
        call_id: *app.call_id,
        organization_id: *app.organization_id,
    }
}

/// What decides whether `caller` may act on `app` as its call's staff: their role on the call, and whether
/// the application is still a draft.
pub fn staff_facts(
    conn: &mut DbConn,
    caller: &Principal,
    app: &Application,
) -> Result<ApplicationFacts, Error> {
    Ok(ApplicationFacts {
        call: load_call_access(conn, caller, *app.call_id)?,
        draft: app.status == ApplicationStatus::Draft,
        ..ApplicationFacts::member(None)
    })
}

/// The application, if `caller` may act on it as its call's staff ([`can_manage_application`]).
pub fn load_for_staff(
    conn: &mut DbConn,
    caller: &Principal,
    id: Uuid,
) -> Result<Application, Error> {
    let app = applications::find(conn, id)?.ok_or(Error::NotFound)?;
    can_manage_application(caller, &staff_facts(conn, caller, &app)?)?;
    Ok(app)
}

/// The application, if `caller` may read it ([`can_read_application`]).
pub fn load_readable(
    conn: &mut DbConn,
    caller: &Principal,
    id: Uuid,
) -> Result<(Application, Option<MemberRole>), Error> {
    let (app, role, _) = load_readable_with_facts(conn, caller, id)?;
    Ok((app, role))
}

/// The application, if `caller` may read it, with the facts that decided it (what else the caller sees
/// of it, such as its decision, follows from them).
pub fn load_readable_with_facts(
    conn: &mut DbConn,
    caller: &Principal,
    id: Uuid,
) -> Result<(Application, Option<MemberRole>, ApplicationFacts), Error> {
    let app = applications::find(conn, id)?.ok_or(Error::NotFound)?;
    let facts = facts_of(conn, caller, &app)?;
    can_read_application(caller, &facts)?;
    Ok((app, facts.membership, facts))
}

/// The application, if `caller` may act for its applicant ([`can_act_for_applicant`]).
pub fn load_for_applicant(
    conn: &mut DbConn,
    caller: &Principal,
    id: Uuid,
) -> Result<Application, Error> {
    let (app, role) = load(conn, caller, id)?;
    can_act_for_applicant(caller, role)?;
    Ok(app)
}

/// The call and the organization of an application.
fn context_of(conn: &mut DbConn, app: &Application) -> Result<(Call, Organization), Error> {
    let call = calls::find(conn, *app.call_id)
        .context("loading the application's call")?
        .ok_or(Error::NotFound)?;
    let organization = organizations::find(conn, *app.organization_id)
        .context("loading the applicant organization")?
        .ok_or(Error::NotFound)?;
    Ok((call, organization))
}

/// A new draft as the applicant sent it; `check` holds the field errors found while parsing.
pub struct NewDraft {
    pub call_id: Uuid,
    pub organization_id: Option<Uuid>,
    pub answers: Map<String, Value>,
    /// Whether to copy what still fits of the organization's application to the previous edition.
    pub prefill_from_previous: bool,
    pub check: Check,
}

/// Starts a draft of an organization the caller belongs to, for an open call its kind may apply to (422
/// lists every invalid answer and field; 409 when the call is not open or the organization already applied).
/// When asked, the draft is prefilled from the organization's application to the previous edition
/// ([`editions::prefill_draft`]; the answers given win), and what was copied and left out is returned.
pub fn create_draft(
    conn: &mut DbConn,
    caller: &Principal,
    draft: NewDraft,
    now: DateTime<Utc>,
) -> Result<(Application, Option<Prefill>), Error> {
    let NewDraft {
        call_id,
        organization_id,
        answers,
        prefill_from_previous,
        mut check,
    } = draft;
    let call = calls::find(conn, call_id)?.ok_or(Error::NotFound)?;
    if call.status == CallStatus::Draft && !caller.is_admin() {
        return Err(Error::NotFound);
    }
    let (answers, errors) = call.form()?.check_answers(&answers);
    errors.into_iter().for_each(|e| check.push(e));
    let organization = match organization_id {
        Some(id) => applicant_organization(conn, caller, &call, id, &mut check)?,
        None => None,
    };
    let Some(organization) = organization else {
        return Err(check.into_error());
    };
    check.finish()?;
    if !call.status.accepts_applications()
        || call::phase(call.opens_at.0, call.closes_at.0, now) != Phase::Open
    {
        return Err(Refusal::CallNotOpen.into());
    }
    if applications::exists_for(conn, call_id, *organization.id)? {
        return Err(Refusal::AlreadyApplied.into());
    }
    let mut answers: Map<String, Value> =
        answers.into_iter().filter(|(_, v)| !v.is_null()).collect();
    let prefill = if prefill_from_previous {
        let given = answers.keys().cloned().collect();
        let prefill = editions::prefill_draft(conn, caller, &call, *organization.id, &given)?;
        answers.extend(prefill.answers.clone());
        Some(prefill)
    } else {
        None
    };
    let app = Application {
        id: Uid(Uuid::now_v7()),
        call_id: call.id,
        organization_id: organization.id,
        status: ApplicationStatus::Draft,
        reference: None,
        answers: Json(Value::Object(answers)),
        version: 1,
        submitted_at: None,
        screening_reason: None,
        changes_due_at: None,
        withdrawn_reason: None,
        created_by: Some(Uid(caller.user_id)),
        created_at: Ts(now),
        updated_at: Ts(now),
    };
    applications::insert(conn, &app).context("storing the new draft")?;
    let status = ApplicationStatus::Draft;
    Happened::new(
        Action::ApplicationCreated,
        Some(caller.user_id),
        Entity::Application(*app.id),
    )
    .after(
        json!({"call_id": app.call_id, "organization_id": app.organization_id, "status": status}),
    )
    .on_feed(Feed::application(
        *app.call_id,
        *app.id,
        json!({"organization_id": app.organization_id, "status": status}),
    ))
    .record(conn, now)
    .context("recording the new draft")?;
    Ok((app, prefill))
}

/// The organization `id` if the caller is a member and its kind may apply to `call`; otherwise notes why
/// in `check`.
fn applicant_organization(
    conn: &mut DbConn,
    caller: &Principal,
    call: &Call,
    id: Uuid,
    check: &mut Check,
) -> Result<Option<Organization>, Error> {
    if organizations::membership(conn, id, caller.user_id)?.is_none() {
        check.push(FieldError::new(
            "organization_id",
            "not_a_member",
            "you are not a member of this organization",
        ));
        return Ok(None);
    }
    let organization = organizations::find(conn, id)?;
    if let Some(org) = &organization {
        let eligible: Vec<String> =
            serde_json::from_value(call.eligible_kinds.0.clone()).unwrap_or_default();
        if !eligible.contains(&org.kind) {
            check.push(FieldError::new(
                "organization_id",
                "not_eligible",
                format!(
                    "this call is for {}; this organization is a {}",
                    eligible.join(", "),
                    org.kind
                ),
            ));
        }
    }
    Ok(organization)
}

/// Merges `given` answers (`null` clears one) into an editable application the caller acts for, at the
/// version the client read (`if_match`). 422 lists every invalid answer given and every rule between answers
/// the merged answers break (`altitude_min` above the `altitude_max` saved earlier, say).
pub fn save_answers(
    conn: &mut DbConn,
    caller: &Principal,
    id: Uuid,
    if_match: Result<String, Error>,
    given: Map<String, Value>,
    mut check: Check,
    now: DateTime<Utc>,
) -> Result<Application, Error> {
    let before = load_for_applicant(conn, caller, id)?;
    crate::domain::version::check(&if_match?, before.version)?;
    if !before.status.is_editable() {
        return Err(Refusal::NotEditable(before.status).into());
    }
    let call = calls::find(conn, *before.call_id)?.ok_or(Error::NotFound)?;
    let form = call.form()?;
    let (normalised, errors) = form.check_answers(&given);
    errors.into_iter().for_each(|e| check.push(e));
    let mut answers = before.answers.0.as_object().cloned().unwrap_or_default();
    for key in given.keys() {
        answers.remove(key);
    }
    for (key, value) in normalised {
        if !value.is_null() {
            answers.insert(key, value);
        }
    }
    // The rules between answers relate the answers given to those already held.
    form.check_rules(&answers)
        .into_iter()
        .for_each(|e| check.push(e));
    check.finish()?;
    let after = Application {
        answers: Json(Value::Object(answers)),
        version: before.version + 1,
        updated_at: Ts(now),
        ..before.clone()
    };
    if !applications::update(conn, &after, before.version)? {
        return Err(Error::PreconditionFailed);
    }
    Happened::new(
        Action::ApplicationUpdated,
        Some(caller.user_id),
        Entity::Application(id),
    )
    .before(before.answers.0.clone())
    .after(after.answers.0.clone())
    .record(conn, now)
    .context("recording the saved answers")?;
    Ok(after)
}

/// A submission: the reference and when.
pub struct Submission {
    pub reference: String,
    pub submitted_at: DateTime<Utc>,
}

/// Submits an application the caller acts for: a draft while the call is open, an application sent back
/// for changes until their due date ([`ApplicationStatus::submit`]). Every answer is checked (422 lists
/// every missing or invalid one); the first submission takes the call's next reference; the members get a
/// receipt with a summary of the answers.
pub fn submit(
    conn: &mut DbConn,
    state: &AppState,
    caller: &Principal,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<Submission, Error> {
    applications::lock(conn, id)?;
    let before = load_for_applicant(conn, caller, id)?;
    let (call, organization) = context_of(conn, &before)?;
    let window = SubmitWindow {
        call_accepts: call.status.accepts_applications()
            && call::phase(call.opens_at.0, call.closes_at.0, now) == Phase::Open,
        closes_at: call.closes_at.0,
        changes_due_at: before.changes_due_at.map(|due| due.0),
        now,
    };
    let status = before.status.submit(window)?;
    let form = call.form()?;
    let answers = before.answers.0.as_object().cloned().unwrap_or_default();
    let files = applications::attachments_of(conn, id).context("loading the attachments")?;
    let attached: HashSet<String> = files.iter().map(|f| f.field.clone()).collect();
    let (_, mut errors) = form.check_answers(&answers);
    errors.extend(form.check_complete(&answers, &attached));
    if !errors.is_empty() {
        let mut check = Check::default();
        errors.into_iter().for_each(|e| check.push(e));
        return Err(check.into_error());
    }
    let reference = match &before.reference {
        Some(reference) => reference.clone(),
        None => next_reference(conn, &call, now)?,
    };
    let after = Application {
        status,
        reference: Some(reference.clone()),
        submitted_at: Some(Ts(now)),
        changes_due_at: None,
        version: before.version + 1,
        updated_at: Ts(now),
        ..before.clone()
    };
    let details = json!({"status": status, "reference": reference});
    save_transition(
        conn,
        caller.user_id,
        &before,
        &after,
        Action::ApplicationSubmitted,
        details,
        now,
    )?;
    let about = About {
        call: &call,
        organization: &organization,
        application: &after,
    };
    let receipt = |locale: &str| emails::SubmissionReceipt {
        submitted_at: format_instant(now, &call.timezone, locale),
        answers: answers_summary(&form, &after.answers.0, &files, locale),
    };
    about.tell_members(conn, state, receipt, now)?;
    Ok(Submission {
        reference,
        submitted_at: now,
    })
}

/// The call's next application reference, such as `ATL-2027-0007` (the call's edition, whenever it opens:
/// no other call has the same prefix and edition, so references are unique across calls).
fn next_reference(conn: &mut DbConn, call: &Call, now: DateTime<Utc>) -> Result<String, Error> {
    let number = calls::take_reference_number(conn, *call.id, now)
        .context("taking the call's next reference number")?;
    Ok(call::reference(
        &call.reference_prefix,
        call.edition,
        number,
    ))
}

/// Withdraws an application the caller acts for, any time before a published decision, and after one
/// that kept it (selected, waitlisted, retained: [`ApplicationStatus::withdraw`]); its members are told.
/// After a decision the withdrawal is a version of the decision's history, and staff follow it on the
/// audit log and the event feed (`application.withdrawn`, `previous_status`).
pub fn withdraw(
    conn: &mut DbConn,
    state: &AppState,
    caller: &Principal,
    id: Uuid,
    reason: Option<String>,
    now: DateTime<Utc>,
) -> Result<(Application, Vec<Attachment>), Error> {
    applications::lock(conn, id)?;
    let before = load_for_applicant(conn, caller, id)?;
    let status = before.status.withdraw()?;
    let (call, organization) = context_of(conn, &before)?;
    let after = Application {
        status,
        withdrawn_reason: reason.clone(),
        version: before.version + 1,
        updated_at: Ts(now),
        ..before.clone()
    };
    let details = json!({"status": status, "reason": reason});
    save_transition(
        conn,
        caller.user_id,
        &before,
        &after,
        Action::ApplicationWithdrawn,
        details,
        now,
    )?;
    if before.status.published_outcome().is_some() {
        decision_history::record_withdrawal(conn, caller, &before, reason.clone(), now)?;
    }
    // A withdrawn application leaves every ranking of its call.
    crate::store::ranking_tallies::refresh_application(conn, id)?;
    let about = About {
        call: &call,
        organization: &organization,
        application: &after,
    };
    let ack = |_: &str| emails::WithdrawalAck {
        reason: reason.clone(),
    };
    about.tell_members(conn, state, ack, now)?;
    let files = applications::attachments_of(conn, id).context("loading the attachments")?;
    Ok((after, files))
}

/// Staff's screening of a submitted application, parsed.
pub struct Screening {
    pub outcome: ScreeningOutcome,
    /// Required for `ineligible` and `changes_requested`.
    pub reason: Option<String>,
    /// For `changes_requested` only; without it, the end of the day `changes_due_days` days from now on
    /// the call's clock.
    pub due_at: Option<DateTime<Utc>>,
}

/// Screens a submitted application ([`ApplicationStatus::screen`]); the first screening of a closed call
/// moves it to evaluation ([`CallStatus::on_evaluation_work`]). The applicant's members are emailed.
pub fn screen(
    conn: &mut DbConn,
    state: &AppState,
    actor: &Principal,
    id: Uuid,
    screening: Screening,
    now: DateTime<Utc>,
) -> Result<(Application, Vec<Attachment>), Error> {
    let Screening {
        outcome,
        reason,
        due_at,
    } = screening;
    let before = load_for_staff(conn, actor, id)?;
    let status = before.status.screen(outcome)?;
    let (call, organization) = context_of(conn, &before)?;
    // Changes asked without a due date are due at the end of the call's `changes_due_days`th day.
    let due_at = match (outcome, due_at) {
        (ScreeningOutcome::ChangesRequested, None) => Some(default_changes_due(
            now,
            call.changes_due_days,
            &call.timezone,
        )),
        (_, given) => given,
    };
    let after = Application {
        status,
        screening_reason: reason.clone(),
        changes_due_at: due_at.map(Ts),
        version: before.version + 1,
        updated_at: Ts(now),
        ..before.clone()
    };
    let details = json!({"status": outcome, "reason": reason, "due_at": due_at});
    save_transition(
        conn,
        actor.user_id,
        &before,
        &after,
        Action::ApplicationScreened,
        details,
        now,
    )?;
    let phase = call::phase(call.opens_at.0, call.closes_at.0, now);
    if let Some(next) = call.status.on_evaluation_work(phase) {
        calls::set_status(conn, *call.id, call.status, next, now)
            .context("moving the call to evaluation")?;
    }
    let about = About {
        call: &call,
        organization: &organization,
        application: &after,
    };
    if outcome == ScreeningOutcome::ChangesRequested {
        let changes = |locale: &str| emails::ChangesRequested {
            reason: reason.clone(),
            due_at: due_at.map(|d| format_instant(d, &call.timezone, locale)),
        };
        about.tell_members(conn, state, changes, now)?;
    } else {
        let screened = |_: &str| emails::ScreeningOutcome {
            outcome,
            reason: reason.clone(),
        };
        about.tell_members(conn, state, screened, now)?;
    }
    let files = applications::attachments_of(conn, id).context("loading the attachments")?;
    Ok((after, files))
}

/// Saves a change of status (only if nobody changed the application meanwhile: 409 otherwise) and records
/// it: the audit entry with the status before and `details` after, and the feed event named after `action`.
fn save_transition(
    conn: &mut DbConn,
    actor: Uuid,
    before: &Application,
    after: &Application,
    action: Action,
    details: Value,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    if !applications::update(conn, after, before.version)? {
        return Err(Error::refused(
            "changed_meanwhile",
            "the application changed meanwhile: try again",
        ));
    }
    let feed = json!({"status": after.status, "previous_status": before.status, "reference": after.reference});
    Happened::new(action, Some(actor), Entity::Application(*before.id))
        .before(json!({"status": before.status}))
        .after(details)
        .on_feed(Feed::application(*after.call_id, *after.id, feed))
        .record(conn, now)
        .context("recording the change of status")?;
    Ok(())
}
