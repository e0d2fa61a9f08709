//! The export of everything Cordée holds about a person: one list per kind of record, so that every table
//! holding personal data has its place.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::api::applications::AttachmentView;
use crate::store::personal::Holdings;

/// The account.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportedUser {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    pub locale: String,
    /// `admin` or `user`.
    pub role: String,
    pub email_verified_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A login session or personal API token: its metadata, never its secret nor its hash.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportedToken {
    pub id: Uuid,
    /// `session` or `personal`.
    pub kind: String,
    pub name: Option<String>,
    #[schema(value_type = Vec<String>)]
    pub scopes: Value,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// A one-time link sent by email (address verification, password reset), without its secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportedEmailLink {
    pub id: Uuid,
    /// `verify_email` or `password_reset`.
    pub purpose: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
}

/// An organization the person belongs to.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportedOrganization {
    pub id: Uuid,
    pub kind: String,
    pub legal_name: String,
    pub siret: Option<String>,
    pub siren: Option<String>,
    pub insee_code: Option<String>,
    pub postcode: String,
    pub city: String,
    pub website: Option<String>,
    pub phone: Option<String>,
    /// Their role: `owner` or `member`.
    pub role: String,
    pub joined_at: DateTime<Utc>,
}

/// A message of an application's thread.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportedMessage {
    pub id: Uuid,
    pub application_id: Uuid,
    /// `applicant` or `staff`.
    pub author_side: String,
    /// Whether the person wrote it.
    pub written_by_you: bool,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

/// A published decision on an application.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportedDecision {
    /// `selected`, `waitlisted` or `rejected` (`retained` or `not_retained` for an expression of interest).
    pub outcome: String,
    pub motivation: String,
    pub published_at: Option<DateTime<Utc>>,
}

/// An application of one of the person's organizations, with its files, thread and published decision.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportedApplication {
    pub id: Uuid,
    pub call_id: Uuid,
    pub call_slug: Option<String>,
    pub organization_id: Uuid,
    pub status: String,
    pub reference: Option<String>,
    #[schema(value_type = Object)]
    pub answers: Value,
    pub submitted_at: Option<DateTime<Utc>>,
    pub screening_reason: Option<String>,
    pub changes_due_at: Option<DateTime<Utc>>,
    pub withdrawn_reason: Option<String>,
    /// Whether the applicant consented to be kept for the longer retention period.
    pub retention_consent: bool,
    pub anonymised_at: Option<DateTime<Utc>>,
    /// Whether the person started it.
    pub created_by_you: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub attachments: Vec<AttachmentView>,
    pub messages: Vec<ExportedMessage>,
    pub decision: Option<ExportedDecision>,
}

/// A seat on a call's jury.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportedJury {
    pub call_id: Uuid,
    pub call_slug: String,
    /// The organizations the juror declared ties to.
    #[schema(value_type = Vec<crate::api::jurors::Affiliation>)]
    pub affiliations: Value,
    pub joined_at: DateTime<Utc>,
}

/// A conflict of interest declared by the person, or about them as a juror.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportedConflict {
    pub id: Uuid,
    pub call_id: Uuid,
    pub application_id: Uuid,
    pub juror_id: Uuid,
    pub reason: String,
    pub declared_by_you: bool,
    pub created_at: DateTime<Utc>,
}

/// An application assigned to the person as a juror.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportedAssignment {
    pub id: Uuid,
    pub call_id: Uuid,
    pub application_id: Uuid,
    pub stage: String,
    pub created_at: DateTime<Utc>,
}

/// A review written by the person as a juror, with its scores.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportedReview {
    pub id: Uuid,
    pub call_id: Uuid,
    pub application_id: Uuid,
    pub stage: String,
    /// `draft` or `submitted`.
    pub status: String,
    pub scores: BTreeMap<String, f64>,
    pub comment: Option<String>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// An invitation sent to the person's address.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportedInvitation {
    pub id: Uuid,
    /// `admin` or `juror`.
    pub role: String,
    pub call_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
}

/// An invitation to join an organization sent to the person's address.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportedOrganizationInvitation {
    pub id: Uuid,
    pub organization_id: Uuid,
    /// `owner` or `member`.
    pub role: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
    pub declined_at: Option<DateTime<Utc>>,
}

/// An email addressed to the person (its body apart: it may carry one-time links).
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportedEmail {
    pub id: Uuid,
    pub event: String,
    pub subject: String,
    /// `pending`, `sending`, `sent` or `failed`.
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// A request remembered under an idempotency key, so that a retry replays its answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportedRequest {
    pub key: String,
    pub route: String,
    pub created_at: DateTime<Utc>,
}

/// An audit entry where the person acted or is the entity.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportedAuditEntry {
    pub id: Uuid,
    pub action: String,
    pub entity_type: String,
    pub entity_id: Uuid,
    pub by_you: bool,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub at: DateTime<Utc>,
}

/// A domain event the person caused.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportedEvent {
    pub id: Uuid,
    #[serde(rename = "type")]
    pub event_type: String,
    pub call_id: Option<Uuid>,
    pub application_id: Option<Uuid>,
    pub occurred_at: DateTime<Utc>,
}

/// Everything Cordée holds about the caller, one list per kind of record.
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonalExport {
    pub exported_at: DateTime<Utc>,
    pub user: ExportedUser,
    pub tokens: Vec<ExportedToken>,
    pub email_links: Vec<ExportedEmailLink>,
    pub organizations: Vec<ExportedOrganization>,
    pub applications: Vec<ExportedApplication>,
    pub messages_written: Vec<ExportedMessage>,
    pub juries: Vec<ExportedJury>,
    pub conflicts_declared: Vec<ExportedConflict>,
    pub assignments: Vec<ExportedAssignment>,
    pub reviews: Vec<ExportedReview>,
    pub invitations: Vec<ExportedInvitation>,
    pub organization_invitations: Vec<ExportedOrganizationInvitation>,
    pub emails: Vec<ExportedEmail>,
    pub idempotency_keys: Vec<ExportedRequest>,
    pub audit: Vec<ExportedAuditEntry>,
    pub events: Vec<ExportedEvent>,
}

impl PersonalExport {
    /// The export of `h`, made at `exported_at`.
    pub fn new(h: Holdings, exported_at: DateTime<Utc>) -> PersonalExport {
        let me = h.user.id;
        let message = |m: &crate::store::applications::Message| ExportedMessage {
            id: *m.id,
            application_id: *m.application_id,
            author_side: m.author_side.as_str().into(),
            written_by_you: m.author_id == Some(me),
            body: m.body.clone(),
            created_at: m.created_at.0,
        };
        let applications = h
            .applications
            .iter()
            .map(|a| ExportedApplication {
                id: *a.id,
                call_id: *a.call_id,
                call_slug: h.call_slugs.get(&a.call_id).cloned(),
                organization_id: *a.organization_id,
                status: a.status.clone(),
                reference: a.reference.clone(),
                answers: a.answers.0.clone(),
                submitted_at: a.submitted_at.map(|t| t.0),
                screening_reason: a.screening_reason.clone(),
                changes_due_at: a.changes_due_at.map(|t| t.0),
                withdrawn_reason: a.withdrawn_reason.clone(),
                retention_consent: a.retention_consent,
                anonymised_at: a.anonymised_at.map(|t| t.0),
                created_by_you: a.created_by == Some(me),
                created_at: a.created_at.0,
                updated_at: a.updated_at.0,
                attachments: h
                    .attachments
                    .iter()
                    .filter(|f| f.application_id == a.id)
                    .map(AttachmentView::from)
                    .collect(),
                messages: h
                    .threads
                    .iter()
                    .filter(|m| m.application_id == a.id)
                    .map(message)
                    .collect(),
                decision: h
                    .decisions
                    .iter()
                    .find(|d| d.application_id == a.id)
                    .map(|d| ExportedDecision {
                        outcome: d.outcome.as_str().into(),
                        motivation: d.motivation.clone(),
                        published_at: d.published_at.map(|t| t.0),
                    }),
            })
            .collect();
        PersonalExport {
            exported_at,
            user: ExportedUser {
                id: *h.user.id,
                email: h.user.email.clone(),
                display_name: h.user.display_name.clone(),
                locale: h.user.locale.clone(),
                role: h.user.role.as_str().into(),
                email_verified_at: h.user.email_verified_at.map(|t| t.0),
                created_at: h.user.created_at.0,
                updated_at: h.user.updated_at.0,
            },
            tokens: h
                .tokens
                .iter()
                .map(|t| ExportedToken {
                    id: *t.id,
                    kind: t.kind.clone(),
                    name: t.name.clone(),
                    scopes: t.scopes.0.clone(),
                    created_at: t.created_at.0,
                    expires_at: t.expires_at.map(|t| t.0),
                    revoked_at: t.revoked_at.map(|t| t.0),
                    last_used_at: t.last_used_at.map(|t| t.0),
                })
                .collect(),
            email_links: h
                .email_links
                .iter()
                .map(|l| ExportedEmailLink {
                    id: *l.id,
                    purpose: l.purpose.clone(),
                    created_at: l.created_at.0,
                    expires_at: l.expires_at.0,
                    used_at: l.used_at.map(|t| t.0),
                })
                .collect(),
            organizations: h
                .organizations
                .iter()
                .map(|(o, role, joined)| ExportedOrganization {
                    id: *o.id,
                    kind: o.kind.clone(),
                    legal_name: o.legal_name.clone(),
                    siret: o.siret.clone(),
                    siren: o.siren.clone(),
                    insee_code: o.insee_code.clone(),
                    postcode: o.postcode.clone(),
                    city: o.city.clone(),
                    website: o.website.clone(),
                    phone: o.phone.clone(),
                    role: role.clone(),
                    joined_at: joined.0,
                })
                .collect(),
            applications,
            messages_written: h.messages_written.iter().map(message).collect(),
            juries: h
                .juries
                .iter()
                .map(|j| ExportedJury {
                    call_id: *j.call_id,
                    call_slug: j.call_slug.clone(),
                    affiliations: j.affiliations.0.clone(),
                    joined_at: j.created_at.0,
                })
                .collect(),
            conflicts_declared: h
                .conflicts
                .iter()
                .map(|c| ExportedConflict {
                    id: *c.id,
                    call_id: *c.call_id,
                    application_id: *c.application_id,
                    juror_id: *c.juror_id,
                    reason: c.reason.clone(),
                    declared_by_you: c.declared_by == Some(me),
                    created_at: c.created_at.0,
                })
                .collect(),
            assignments: h
                .assignments
                .iter()
                .map(|a| ExportedAssignment {
                    id: *a.id,
                    call_id: *a.call_id,
                    application_id: *a.application_id,
                    stage: a.stage.clone(),
                    created_at: a.created_at.0,
                })
                .collect(),
            reviews: h
                .reviews
                .iter()
                .map(|(r, scores)| ExportedReview {
                    id: *r.id,
                    call_id: *r.call_id,
                    application_id: *r.application_id,
                    stage: r.stage.clone(),
                    status: r.status.as_str().into(),
                    scores: scores.clone(),
                    comment: r.comment.clone(),
                    submitted_at: r.submitted_at.map(|t| t.0),
                    created_at: r.created_at.0,
                    updated_at: r.updated_at.0,
                })
                .collect(),
            invitations: h
                .invitations
                .iter()
                .map(|i| ExportedInvitation {
                    id: *i.id,
                    role: i.role.as_str().into(),
                    call_id: i.call_id.map(|c| c.0),
                    created_at: i.created_at.0,
                    expires_at: i.expires_at.0,
                    accepted_at: i.accepted_at.map(|t| t.0),
                })
                .collect(),
            organization_invitations: h
                .organization_invitations
                .iter()
                .map(|i| ExportedOrganizationInvitation {
                    id: *i.id,
                    organization_id: *i.organization_id,
                    role: i.role.as_str().into(),
                    created_at: i.created_at.0,
                    expires_at: i.expires_at.0,
                    accepted_at: i.accepted_at.map(|t| t.0),
                    declined_at: i.declined_at.map(|t| t.0),
                })
                .collect(),
            emails: h
                .emails
                .iter()
                .map(|e| ExportedEmail {
                    id: *e.id,
                    event: e.event.clone(),
                    subject: e.subject.clone(),
                    status: e.status.as_str().into(),
                    created_at: e.created_at.0,
                    sent_at: e.sent_at.map(|t| t.0),
                })
                .collect(),
            idempotency_keys: h
                .requests
                .iter()
                .map(|r| ExportedRequest {
                    key: r.key.clone(),
                    route: r.route.clone(),
                    created_at: r.created_at.0,
                })
                .collect(),
            audit: h
                .audit
                .iter()
                .map(|e| ExportedAuditEntry {
                    id: *e.id,
                    action: e.action.clone(),
                    entity_type: e.entity_type.clone(),
                    entity_id: *e.entity_id,
                    by_you: e.actor_id == Some(me),
                    before: e.before.as_ref().map(|j| j.0.clone()),
                    after: e.after.as_ref().map(|j| j.0.clone()),
                    at: e.created_at.0,
                })
                .collect(),
            events: h
                .events
                .iter()
                .map(|e| ExportedEvent {
                    id: *e.id,
                    event_type: e.event_type.clone(),
                    call_id: e.call_id.map(|c| c.0),
                    application_id: e.application_id.map(|a| a.0),
                    occurred_at: e.occurred_at.0,
                })
                .collect(),
        }
    }
}
