//! What the API shows of an application: the full view with its files, the summary of a list, the answer
//! to a submission.

use actix_web::http::header;
use actix_web::HttpResponse;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::etag;
use crate::domain::appeal::AppealStatus;
use crate::domain::application::{ApplicationStatus, DecisionOutcome};
use crate::domain::decision::DecisionChange;
use crate::domain::prefill::{LeftOut, Prefill};
use crate::service::decision_history::PublishedDecision;
use crate::store::applications::{Application, Attachment, Summary};

/// A file attached to an application.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttachmentView {
    pub id: Uuid,
    /// The form's file field, or the extra document of a stage asked of finalists.
    pub field: String,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub created_at: DateTime<Utc>,
}

impl From<&Attachment> for AttachmentView {
    fn from(a: &Attachment) -> Self {
        AttachmentView {
            id: *a.id,
            field: a.field.clone(),
            filename: a.filename.clone(),
            content_type: a.content_type.clone(),
            size: a.size,
            sha256: a.sha256.clone(),
            created_at: a.created_at.0,
        }
    }
}

/// An application with its answers and files.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApplicationView {
    pub id: Uuid,
    pub call_id: Uuid,
    pub organization_id: Uuid,
    /// `draft`, `submitted`, `changes_requested`, `eligible`, `ineligible`, `shortlisted`, `not_shortlisted`,
    /// `selected`, `waitlisted`, `rejected`, `withdrawn`, `retained` or `not_retained` (an expression of
    /// interest, triaged by staff).
    pub status: ApplicationStatus,
    /// Given at the first submission, such as `ATL-2026-0007`.
    pub reference: Option<String>,
    #[schema(value_type = Object)]
    pub answers: Value,
    pub attachments: Vec<AttachmentView>,
    pub submitted_at: Option<DateTime<Utc>>,
    /// Why staff asked for changes, or found the application ineligible.
    pub screening_reason: Option<String>,
    /// When changes are due.
    pub changes_due_at: Option<DateTime<Utc>>,
    pub withdrawn_reason: Option<String>,
    /// The company or start-up a territory's experiment is paired with, once both sides accepted (shown when
    /// the application is read).
    pub partner: Option<PartnerView>,
    /// The published decision (`GET /applications/{id}` only), for the members of the applicant
    /// organization and the call's staff; `null` before publication, for jurors, and in the answers of the
    /// routes that change the application.
    pub decision: Option<DecisionSummaryView>,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A new draft, with what was copied from the organization's application to the previous edition when the
/// request asked for it (`prefill_from_previous`).
#[derive(Debug, Serialize, ToSchema)]
pub struct NewDraftView {
    #[serde(flatten)]
    pub application: ApplicationView,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefill: Option<PrefillView>,
}

/// What a prefill copied and left out. Without a previous edition, or without an application of the
/// organization to it, nothing is copied and `previous_application_id` is `null`.
#[derive(Debug, Serialize, ToSchema)]
pub struct PrefillView {
    /// The organization's application to the previous edition the answers come from.
    pub previous_application_id: Option<Uuid>,
    /// The keys of the answers copied.
    pub copied: Vec<String>,
    /// The answers not copied, and why (files are never copied).
    pub left_out: Vec<LeftOut>,
}

impl PrefillView {
    /// The view of a prefill.
    pub fn new(prefill: &Prefill) -> PrefillView {
        PrefillView {
            previous_application_id: prefill.previous_application_id,
            copied: prefill.copied(),
            left_out: prefill.left_out.clone(),
        }
    }
}

/// A published decision as it stands, with what its applicant may do about it.
#[derive(Debug, Serialize, ToSchema)]
pub struct DecisionSummaryView {
    pub outcome: DecisionOutcome,
    pub motivation: String,
    /// When the decision was first published.
    pub published_at: DateTime<Utc>,
    /// The version shown (1 as published, more once revised: `GET /applications/{id}/decision/history`).
    pub version: i32,
    /// When it was last revised.
    pub revised_at: Option<DateTime<Utc>>,
    /// When the applicant withdrew after the decision.
    pub withdrawn_at: Option<DateTime<Utc>>,
    pub appeal: AppealSummaryView,
}

/// Whether and how the decision may be appealed, and the appeal of this version if there is one.
#[derive(Debug, Serialize, ToSchema)]
pub struct AppealSummaryView {
    /// Until when it may be appealed (`null`: the call takes no appeals, or the applicant withdrew).
    pub deadline: Option<DateTime<Utc>>,
    /// Where to appeal (`POST`, `{"grounds": …}`), while the call takes appeals.
    pub route: Option<String>,
    /// The appeal of this version (or the one still open).
    pub id: Option<Uuid>,
    /// `open`, `upheld` or `dismissed`.
    pub status: Option<AppealStatus>,
}

impl DecisionSummaryView {
    /// The view of a published decision on application `id` (`None` when it holds no outcome).
    pub fn new(id: Uuid, d: &PublishedDecision) -> Option<DecisionSummaryView> {
        let current = d.current()?;
        let deadline = d.appeal_deadline();
        let appeal = d.appeal();
        Some(DecisionSummaryView {
            outcome: current.outcome?,
            motivation: current.motivation.clone().unwrap_or_default(),
            published_at: d.published_at()?,
            version: current.version,
            revised_at: (current.kind == DecisionChange::Revised).then(|| current.at()),
            withdrawn_at: d
                .withdrawn()
                .then(|| d.versions.last().map(|v| v.at()))
                .flatten(),
            appeal: AppealSummaryView {
                deadline,
                route: deadline.map(|_| format!("/api/v1/applications/{id}/appeals")),
                id: appeal.map(|a| *a.id),
                status: appeal.map(|a| a.status),
            },
        })
    }
}

/// A confirmed partner of a territory's experiment.
#[derive(Debug, Serialize, ToSchema)]
pub struct PartnerView {
    pub organization_id: Uuid,
    pub name: String,
}

impl ApplicationView {
    /// The view of an application with its attachments.
    pub fn new(app: &Application, attachments: &[Attachment]) -> ApplicationView {
        ApplicationView {
            id: *app.id,
            call_id: *app.call_id,
            organization_id: *app.organization_id,
            status: app.status,
            reference: app.reference.clone(),
            answers: app.answers.0.clone(),
            attachments: attachments.iter().map(AttachmentView::from).collect(),
            submitted_at: app.submitted_at.map(|t| t.0),
            screening_reason: app.screening_reason.clone(),
            changes_due_at: app.changes_due_at.map(|t| t.0),
            withdrawn_reason: app.withdrawn_reason.clone(),
            partner: None,
            decision: None,
            version: app.version,
            created_at: app.created_at.0,
            updated_at: app.updated_at.0,
        }
    }
}

/// An application in a list: no answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApplicationSummary {
    pub id: Uuid,
    pub call_id: Uuid,
    pub organization_id: Uuid,
    pub organization_name: String,
    pub status: ApplicationStatus,
    pub reference: Option<String>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

impl From<Summary> for ApplicationSummary {
    fn from(r: Summary) -> Self {
        ApplicationSummary {
            id: *r.id,
            call_id: *r.call_id,
            organization_id: *r.organization_id,
            organization_name: r.organization_name,
            status: r.status,
            reference: r.reference,
            submitted_at: r.submitted_at.map(|t| t.0),
            updated_at: r.updated_at.0,
        }
    }
}

/// The answer to a submission.
#[derive(Debug, Serialize, ToSchema)]
pub struct Submitted {
    pub status: ApplicationStatus,
    pub reference: String,
    pub submitted_at: DateTime<Utc>,
}

/// 200 with the application's view and its version as `ETag`.
pub(super) fn ok_with_etag(view: ApplicationView) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::ETAG, etag::of_version(view.version)))
        .json(view)
}
