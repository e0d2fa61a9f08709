//! What the API shows of a call: the whole call (form and criteria included) and its summary in a list,
//! with the phase on the server clock.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::call::{self, CallKind, CallStatus, Phase};
use crate::domain::catalogue::Catalogue;
use crate::domain::form::{Form, Stage, Text};
use crate::error::Error;
use crate::store::calls::{stored, Call};

/// A call with its whole form and criteria.
#[derive(Debug, Serialize, ToSchema)]
pub struct CallView {
    pub id: Uuid,
    pub slug: String,
    pub template: Option<String>,
    /// `startup_lab`, `territory_experiment` or `expression_of_interest` (no jury: staff triage).
    #[schema(value_type = String)]
    pub kind: CallKind,
    pub reference_prefix: String,
    /// The edition's year, in its references (`ATL-2027-0001`).
    pub edition: i32,
    /// The call this one is the next edition of (`POST /calls/{id}/editions`).
    pub previous_edition_id: Option<Uuid>,
    pub title: Text,
    pub summary: Option<Text>,
    pub opens_at: DateTime<Utc>,
    pub closes_at: DateTime<Utc>,
    pub timezone: String,
    pub eligible_kinds: Vec<String>,
    pub form: Form,
    pub stages: Vec<Stage>,
    /// The fields the call may publish of retained applications in its public catalogue (each applicant
    /// chooses among them), when it has one.
    pub catalogue: Option<Catalogue>,
    /// How many of the call's jurors must be present to close a jury meeting; `null`: a majority of them.
    pub quorum: Option<i32>,
    /// Days an applicant has to appeal a decision once told (`POST /applications/{id}/appeals`); `null`:
    /// the call takes no appeals.
    pub appeal_window_days: Option<i32>,
    /// The days applicants have to make the changes screening asks for when staff give no due date (the
    /// end of that day on the call's clock).
    pub changes_due_days: i32,
    pub status: CallStatus,
    pub phase: Phase,
    /// True once an application has been submitted: the form and criteria can no longer change (a stage's
    /// dates and extra documents still can).
    pub form_frozen: bool,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A call in a list: no form or criteria.
#[derive(Debug, Serialize, ToSchema)]
pub struct CallSummary {
    pub id: Uuid,
    pub slug: String,
    #[schema(value_type = String)]
    pub kind: CallKind,
    /// The edition's year.
    pub edition: i32,
    /// The call this one is the next edition of.
    pub previous_edition_id: Option<Uuid>,
    pub title: Text,
    pub summary: Option<Text>,
    pub opens_at: DateTime<Utc>,
    pub closes_at: DateTime<Utc>,
    pub timezone: String,
    pub eligible_kinds: Vec<String>,
    pub status: CallStatus,
    pub phase: Phase,
}

impl CallView {
    /// The view of a stored call at `now`.
    pub fn new(call: &Call, now: DateTime<Utc>) -> Result<CallView, Error> {
        Ok(CallView {
            id: *call.id,
            slug: call.slug.clone(),
            template: call.template.clone(),
            kind: call.kind,
            reference_prefix: call.reference_prefix.clone(),
            edition: call.edition,
            previous_edition_id: call.previous_edition_id.map(|id| *id),
            title: stored(&call.title)?,
            summary: call.summary.as_ref().map(stored).transpose()?,
            opens_at: call.opens_at.0,
            closes_at: call.closes_at.0,
            timezone: call.timezone.clone(),
            eligible_kinds: stored(&call.eligible_kinds)?,
            form: stored(&call.form)?,
            stages: stored(&call.stages)?,
            catalogue: call.catalogue()?,
            quorum: call.quorum,
            appeal_window_days: call.appeal_window_days,
            changes_due_days: call.changes_due_days,
            status: call.status,
            phase: call::phase(call.opens_at.0, call.closes_at.0, now),
            form_frozen: call.form_frozen_at.is_some(),
            version: call.version,
            created_at: call.created_at.0,
            updated_at: call.updated_at.0,
        })
    }
}

impl CallSummary {
    /// The summary of a stored call at `now`.
    pub fn new(call: &Call, now: DateTime<Utc>) -> Result<CallSummary, Error> {
        Ok(CallSummary {
            id: *call.id,
            slug: call.slug.clone(),
            kind: call.kind,
            edition: call.edition,
            previous_edition_id: call.previous_edition_id.map(|id| *id),
            title: stored(&call.title)?,
            summary: call.summary.as_ref().map(stored).transpose()?,
            opens_at: call.opens_at.0,
            closes_at: call.closes_at.0,
            timezone: call.timezone.clone(),
            eligible_kinds: stored(&call.eligible_kinds)?,
            status: call.status,
            phase: call::phase(call.opens_at.0, call.closes_at.0, now),
        })
    }
}
