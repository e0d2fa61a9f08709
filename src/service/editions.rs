//! The next edition of a call, in one request: a draft call linked to its previous edition, with the same
//! title, summary, kind, time zone, eligibility and reference prefix, dates one year later in the call's time
//! zone unless given, and a copy of the parts staff ask for (form, stages, email templates, jury, review
//! deadlines); a part not copied comes from the call's template. The previous edition is only read. Also what
//! an organization's application to the previous edition gives its new draft ([`prefill_draft`]).

use std::collections::BTreeSet;

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;

use crate::auth::permissions::{can_create_edition, can_prefill_from, Principal};
use crate::db::types::{Json, Ts, Uid};
use crate::db::DbConn;
use crate::domain::action::Action;
use crate::domain::call::{CallStatus, Definition};
use crate::domain::catalogue::Catalogue;
use crate::domain::edition::{a_year_later, EditionPart};
use crate::domain::form::{builtin_template, CallTemplate, Form, Stage};
use crate::domain::prefill::{prefill, Prefill};
use crate::error::{Error, FieldError};
use crate::service::calls::{edition_is_free, slug_is_free};
use crate::store::calls::{self, stored, Call};
use crate::store::email_templates::{self, EmailTemplate};
use crate::store::journal::{Entity, Feed, Happened};
use crate::store::{applications, jurors, organizations, reviews};

/// A new edition as staff asked for it, parsed.
pub struct NewEdition {
    pub slug: String,
    /// When it opens; one year after the previous edition when not given.
    pub opens_at: Option<DateTime<Utc>>,
    /// When it closes; one year after the previous edition when not given.
    pub closes_at: Option<DateTime<Utc>>,
    /// The edition's year; the previous edition's plus one when not given.
    pub edition: Option<i32>,
    /// What is copied from the previous edition.
    pub copy: BTreeSet<EditionPart>,
}

/// Starts the next edition of call `source_id` (404 when there is none): 422 when the slug is taken or the
/// dates do not make a call, or when a part not copied has no template to come from; 409 `edition_taken`
/// when another call has the same reference prefix and edition. Returns the new draft call.
pub fn create(
    conn: &mut DbConn,
    actor: &Principal,
    source_id: Uuid,
    new: NewEdition,
    now: DateTime<Utc>,
) -> Result<Call, Error> {
    can_create_edition(actor)?;
    let source = calls::find(conn, source_id)
        .context("loading the previous edition")?
        .ok_or(Error::NotFound)?;
    let call = next_edition(&source, &new, actor.user_id, now)?;
    slug_is_free(conn, &call.slug, None)?;
    edition_is_free(conn, &call.reference_prefix, call.edition, None)?;
    calls::insert(conn, &call).context("storing the new edition")?;
    let stages = call.stages()?;
    copy_parts(conn, actor.user_id, &source, &call, &stages, &new.copy, now)?;
    let copied: Vec<&str> = new.copy.iter().map(|p| p.as_str()).collect();
    Happened::new(
        Action::CallEditionCreated,
        Some(actor.user_id),
        Entity::Call(*call.id),
    )
    .after(json!({"slug": call.slug, "edition": call.edition, "previous_edition_id": source.id, "copied": copied, "opens_at": call.opens_at, "closes_at": call.closes_at}))
    .on_feed(Feed::call(
        *call.id,
        json!({"slug": call.slug, "status": call.status, "edition": call.edition, "previous_edition_id": source.id, "copied": copied}),
    ))
    .record(conn, now)?;
    Ok(call)
}

/// The template a part not copied comes from; 422 on `copy` when the call has none.
fn template_for(source: &Call, part: EditionPart) -> Result<CallTemplate, Error> {
    source
        .template
        .as_deref()
        .and_then(builtin_template)
        .ok_or_else(|| {
            Error::field(
                "copy",
                "needs_template",
                format!(
                    "this call has no template to take its {} from: copy it",
                    part.as_str()
                ),
            )
        })
}

/// The new edition's call, not stored yet.
fn next_edition(
    source: &Call,
    new: &NewEdition,
    created_by: Uuid,
    now: DateTime<Utc>,
) -> Result<Call, Error> {
    let tz: chrono_tz::Tz = source.timezone.parse().unwrap_or(chrono_tz::Europe::Paris);
    // The catalogue names fields of the form, so it comes from where the form comes from.
    let (form, catalogue): (Form, Option<Catalogue>) = if new.copy.contains(&EditionPart::Form) {
        (source.form()?, source.catalogue()?)
    } else {
        let template = template_for(source, EditionPart::Form)?;
        (template.form, template.catalogue)
    };
    let stages: Vec<Stage> = if new.copy.contains(&EditionPart::Stages) {
        // A stage's dates move on a year, as the call's do.
        let mut stages = source.stages()?;
        for stage in &mut stages {
            stage.starts_at = stage.starts_at.map(|at| a_year_later(at, tz));
            stage.ends_at = stage.ends_at.map(|at| a_year_later(at, tz));
        }
        stages
    } else {
        template_for(source, EditionPart::Stages)?.stages
    };
    let definition = Definition {
        kind: source.kind,
        title: stored(&source.title)?,
        summary: source.summary.as_ref().map(stored).transpose()?,
        opens_at: new
            .opens_at
            .unwrap_or_else(|| a_year_later(source.opens_at.0, tz)),
        closes_at: new
            .closes_at
            .unwrap_or_else(|| a_year_later(source.closes_at.0, tz)),
        eligible_kinds: stored(&source.eligible_kinds)?,
        form,
        stages,
        catalogue,
    };
    let errors: Vec<FieldError> = definition.check();
    if !errors.is_empty() {
        return Err(Error::Validation(errors));
    }
    Ok(Call {
        id: Uid(Uuid::now_v7()),
        slug: new.slug.clone(),
        template: source.template.clone(),
        kind: source.kind,
        reference_prefix: source.reference_prefix.clone(),
        title: source.title.clone(),
        summary: source.summary.clone(),
        opens_at: Ts(definition.opens_at),
        closes_at: Ts(definition.closes_at),
        timezone: source.timezone.clone(),
        eligible_kinds: source.eligible_kinds.clone(),
        form: Json(json!(definition.form)),
        stages: Json(json!(definition.stages)),
        status: CallStatus::Draft,
        form_frozen_at: None,
        next_reference: 1,
        version: 1,
        created_by: Some(Uid(created_by)),
        created_at: Ts(now),
        updated_at: Ts(now),
        edition: new.edition.unwrap_or(source.edition + 1),
        previous_edition_id: Some(source.id),
        catalogue: definition.catalogue.as_ref().map(|c| Json(json!(c))),
        quorum: source.quorum,
        appeal_window_days: source.appeal_window_days,
        changes_due_days: source.changes_due_days,
    })
}

/// Copies the email templates, the jury and the review deadlines of the new call's stages (one year later)
/// from `source` to `call`, as `copy` asks; each juror's arrival and each deadline is journalled as when staff
/// set them by hand.
fn copy_parts(
    conn: &mut DbConn,
    actor: Uuid,
    source: &Call,
    call: &Call,
    stages: &[Stage],
    copy: &BTreeSet<EditionPart>,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    if copy.contains(&EditionPart::EmailTemplates) {
        for template in email_templates::of_call(conn, *source.id)? {
            email_templates::upsert(
                conn,
                &EmailTemplate {
                    call_id: call.id,
                    updated_by: Some(Uid(actor)),
                    updated_at: Ts(now),
                    ..template
                },
            )?;
        }
    }
    if copy.contains(&EditionPart::Jury) {
        for juror in jurors::jurors(conn, *source.id)? {
            let user_id = *juror.user_id;
            let affiliations = juror.affiliations.0;
            jurors::add_juror(
                conn,
                *call.id,
                user_id,
                affiliations.clone(),
                Some(actor),
                now,
            )?;
            Happened::new(Action::JurorAdded, Some(actor), Entity::Call(*call.id))
                .after(json!({"user_id": user_id, "affiliations": affiliations}))
                .on_feed(Feed::call(*call.id, json!({"juror_id": user_id})))
                .record(conn, now)?;
        }
    }
    if copy.contains(&EditionPart::ReviewDeadlines) {
        let tz: chrono_tz::Tz = call.timezone.parse().unwrap_or(chrono_tz::Europe::Paris);
        for (stage, due) in reviews::review_deadlines_of(conn, *source.id)? {
            if stages.iter().any(|s| s.key == stage) {
                let due_at = a_year_later(due, tz);
                reviews::set_review_deadline(conn, *call.id, &stage, due_at)?;
                Happened::new(
                    Action::StageDeadlineSet,
                    Some(actor),
                    Entity::Call(*call.id),
                )
                .after(json!({"stage": stage, "due_at": due_at}))
                .record(conn, now)?;
            }
        }
    }
    Ok(())
}

/// What the organization's application to the previous edition of `call` gives a new draft of that
/// organization ([`prefill`]); nothing when the call has no previous edition or the organization did not
/// apply to it (or its application was anonymised). `given`: the keys the request answers itself.
pub fn prefill_draft(
    conn: &mut DbConn,
    caller: &Principal,
    call: &Call,
    organization_id: Uuid,
    given: &BTreeSet<String>,
) -> Result<Prefill, Error> {
    let Some(previous_call_id) = call.previous_edition_id else {
        return Ok(Prefill::default());
    };
    let Some(previous) =
        applications::of_organization_in_call(conn, *previous_call_id, organization_id)?
    else {
        return Ok(Prefill::default());
    };
    let membership = organizations::membership(conn, *previous.organization_id, caller.user_id)?;
    if !can_prefill_from(membership) {
        return Ok(Prefill::default());
    }
    let previous_call = calls::find(conn, *previous_call_id)
        .context("loading the previous edition")?
        .ok_or(Error::NotFound)?;
    let attached: BTreeSet<String> = applications::attachments_of(conn, *previous.id)
        .context("loading the previous application's files")?
        .into_iter()
        .map(|a| a.field)
        .collect();
    let answers = previous.answers.0.as_object().cloned().unwrap_or_default();
    Ok(Prefill {
        previous_application_id: Some(*previous.id),
        ..prefill(
            &call.form()?,
            &previous_call.form()?,
            &answers,
            &attached,
            given,
        )
    })
}
