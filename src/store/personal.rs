//! Personal data: everything Cordée holds about a person (for their export), deleting an account, and
//! anonymising applications once their retention period is over. What is kept, for how long and why is
//! written down in `docs/personal-data.md`.

pub mod erase;
pub mod retention;
pub mod scope;
pub mod scrub;

use std::collections::BTreeMap;

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};
use uuid::Uuid;

use crate::db::schema::{
    api_tokens, application_messages, applications, assignments, attachments, audit_log,
    call_jurors, calls, conflicts, decisions, email_tokens, events, idempotency_keys, invitations,
    organization_invitations, organization_members, organizations, outbox, reviews,
};
use crate::db::types::{Json, Ts, Uid};
use crate::db::DbConn;
use crate::store::applications::{Attachment, Message};
use crate::store::assignments::Assignment;
use crate::store::audit::Entry;
use crate::store::conflicts::Conflict;
use crate::store::decisions::Decision;
use crate::store::events::Event;
use crate::store::invitations::{Invitation, MemberInvitation};
use crate::store::organizations::Organization;
use crate::store::outbox::OutboxEmail;
use crate::store::reviews::{self as review_store, Review};
use crate::store::tokens::Token;
use crate::store::users::{self, User};

/// An application with the fields that say how long it is kept.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = applications)]
pub struct ApplicationRecord {
    pub id: Uid,
    pub call_id: Uid,
    pub organization_id: Uid,
    pub status: String,
    pub reference: Option<String>,
    pub answers: Json,
    pub submitted_at: Option<Ts>,
    pub screening_reason: Option<String>,
    pub changes_due_at: Option<Ts>,
    pub withdrawn_reason: Option<String>,
    pub created_by: Option<Uid>,
    pub created_at: Ts,
    pub updated_at: Ts,
    pub retention_consent: bool,
    pub anonymised_at: Option<Ts>,
}

/// A one-time link sent by email, without its secret.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = email_tokens)]
pub struct EmailLink {
    pub id: Uid,
    pub purpose: String,
    pub expires_at: Ts,
    pub used_at: Option<Ts>,
    pub created_at: Ts,
}

/// A seat on a call's jury.
#[derive(Debug, Clone, Queryable)]
pub struct JurySeat {
    pub call_id: Uid,
    pub call_slug: String,
    pub affiliations: Json,
    pub created_at: Ts,
}

/// A remembered request of the person (its stored answer apart).
#[derive(Debug, Clone, Queryable)]
pub struct RememberedRequest {
    pub key: String,
    pub route: String,
    pub created_at: Ts,
}

/// Everything Cordée holds about one person, table by table.
pub struct Holdings {
    pub user: User,
    pub tokens: Vec<Token>,
    pub email_links: Vec<EmailLink>,
    /// Their organizations, with their role and when they joined.
    pub organizations: Vec<(Organization, String, Ts)>,
    /// The applications of their organizations.
    pub applications: Vec<ApplicationRecord>,
    pub attachments: Vec<Attachment>,
    /// The threads of those applications.
    pub threads: Vec<Message>,
    /// The published decisions on those applications.
    pub decisions: Vec<Decision>,
    /// Every message they wrote (as an applicant or as staff).
    pub messages_written: Vec<Message>,
    pub juries: Vec<JurySeat>,
    /// Conflicts of interest they declared or that concern them as a juror.
    pub conflicts: Vec<Conflict>,
    pub assignments: Vec<Assignment>,
    pub reviews: Vec<(Review, BTreeMap<String, f64>)>,
    /// Invitations sent to their address or accepted by them.
    pub invitations: Vec<Invitation>,
    /// Invitations to join an organization sent to their address or accepted by them.
    pub organization_invitations: Vec<MemberInvitation>,
    /// Emails addressed to them.
    pub emails: Vec<OutboxEmail>,
    pub requests: Vec<RememberedRequest>,
    /// Audit entries where they acted, are the entity, or are named.
    pub audit: Vec<Entry>,
    /// Domain events they caused.
    pub events: Vec<Event>,
    /// The slug of each call named above.
    pub call_slugs: BTreeMap<Uuid, String>,
}

/// Gathers everything held about `user_id`, or `None` when there is no such account. A bounded number of
/// statements, whatever the amount of data.
pub fn holdings(conn: &mut DbConn, user_id: Uuid) -> QueryResult<Option<Holdings>> {
    let Some(user) = users::find(conn, user_id)? else {
        return Ok(None);
    };
    let me = Uid(user_id);
    let tokens = api_tokens::table
        .filter(api_tokens::user_id.eq(me))
        .order(api_tokens::id.asc())
        .select(Token::as_select())
        .load(conn)?;
    let email_links = email_tokens::table
        .filter(email_tokens::user_id.eq(me))
        .order(email_tokens::id.asc())
        .select(EmailLink::as_select())
        .load(conn)?;
    let organizations: Vec<(Organization, String, Ts)> = organizations::table
        .inner_join(organization_members::table)
        .filter(organization_members::user_id.eq(me))
        .order(organizations::id.asc())
        .select((
            Organization::as_select(),
            organization_members::role,
            organization_members::created_at,
        ))
        .load(conn)?;
    let organization_ids: Vec<Uid> = organizations.iter().map(|(o, _, _)| o.id).collect();
    let applications: Vec<ApplicationRecord> = applications::table
        .filter(applications::organization_id.eq_any(&organization_ids))
        .order(applications::id.asc())
        .select(ApplicationRecord::as_select())
        .load(conn)?;
    let application_ids: Vec<Uid> = applications.iter().map(|a| a.id).collect();
    let attachments = attachments::table
        .filter(attachments::application_id.eq_any(&application_ids))
        .order(attachments::id.asc())
        .select(Attachment::as_select())
        .load(conn)?;
    let threads = application_messages::table
        .filter(application_messages::application_id.eq_any(&application_ids))
        .order(application_messages::id.asc())
        .select(Message::as_select())
        .load(conn)?;
    let decisions = decisions::table
        .filter(decisions::application_id.eq_any(&application_ids))
        .filter(decisions::published_at.is_not_null())
        .select(Decision::as_select())
        .load(conn)?;
    let messages_written = application_messages::table
        .filter(application_messages::author_id.eq(me))
        .order(application_messages::id.asc())
        .select(Message::as_select())
        .load(conn)?;
    let juries: Vec<JurySeat> = call_jurors::table
        .inner_join(calls::table.on(calls::id.eq(call_jurors::call_id)))
        .filter(call_jurors::user_id.eq(me))
        .order(call_jurors::call_id.asc())
        .select((
            call_jurors::call_id,
            calls::slug,
            call_jurors::affiliations,
            call_jurors::created_at,
        ))
        .load(conn)?;
    let conflicts = conflicts::table
        .filter(conflicts::juror_id.eq(me).or(conflicts::declared_by.eq(me)))
        .order(conflicts::id.asc())
        .select(Conflict::as_select())
        .load(conn)?;
    let assignments = assignments::table
        .filter(assignments::juror_id.eq(me))
        .order(assignments::id.asc())
        .select(Assignment::as_select())
        .load(conn)?;
    let reviews: Vec<(Review, BTreeMap<String, f64>)> = reviews::table
        .filter(reviews::juror_id.eq(me))
        .order(reviews::id.asc())
        .select((Review::as_select(), reviews::scores))
        .load::<(Review, Json)>(conn)?
        .into_iter()
        .map(|(review, scores)| (review, review_store::scores_map(&scores)))
        .collect();
    let invitations = invitations::table
        .filter(
            invitations::email
                .eq(&user.email)
                .or(invitations::accepted_by.eq(me)),
        )
        .order(invitations::id.asc())
        .select(Invitation::as_select())
        .load(conn)?;
    let organization_invitations = organization_invitations::table
        .filter(
            organization_invitations::email
                .eq(&user.email)
                .or(organization_invitations::accepted_by.eq(me)),
        )
        .order(organization_invitations::id.asc())
        .select(MemberInvitation::as_select())
        .load(conn)?;
    let emails = outbox::table
        .filter(
            outbox::user_id
                .eq(me)
                .or(outbox::recipient.eq(user.email.clone())),
        )
        .order(outbox::id.asc())
        .select(OutboxEmail::as_select())
        .load(conn)?;
    let requests = idempotency_keys::table
        .filter(idempotency_keys::user_id.eq(me))
        .order(idempotency_keys::created_at.asc())
        .select((
            idempotency_keys::key,
            idempotency_keys::route,
            idempotency_keys::created_at,
        ))
        .load(conn)?;
    // Entries where they acted, are the entity, or are named in a snapshot (added to a jury, to an
    // organization…). Both databases cast a JSON column to its text with CAST.
    let named = format!("%{user_id}%");
    let audit = audit_log::table
        .filter(
            audit_log::actor_id
                .eq(me)
                .or(audit_log::entity_id.eq(me))
                .or(sql::<Bool>("(CAST(audit_log.before AS TEXT) LIKE ")
                    .bind::<Text, _>(named.clone())
                    .sql(" OR CAST(audit_log.after AS TEXT) LIKE ")
                    .bind::<Text, _>(named)
                    .sql(")")),
        )
        .order(audit_log::id.asc())
        .select(Entry::as_select())
        .load(conn)?;
    let events = events::table
        .filter(events::actor_id.eq(me))
        .order(events::seq.asc())
        .select(Event::as_select())
        .load(conn)?;

    let mut call_ids: Vec<Uid> = applications.iter().map(|a| a.call_id).collect();
    call_ids.extend(conflicts.iter().map(|c| c.call_id));
    call_ids.extend(assignments.iter().map(|a| a.call_id));
    call_ids.extend(reviews.iter().map(|(r, _)| r.call_id));
    let call_slugs: BTreeMap<Uuid, String> = calls::table
        .filter(calls::id.eq_any(&call_ids))
        .select((calls::id, calls::slug))
        .load::<(Uid, String)>(conn)?
        .into_iter()
        .map(|(id, slug)| (id.0, slug))
        .chain(juries.iter().map(|j| (j.call_id.0, j.call_slug.clone())))
        .collect();

    Ok(Some(Holdings {
        user,
        tokens,
        email_links,
        organizations,
        applications,
        attachments,
        threads,
        decisions,
        messages_written,
        juries,
        conflicts,
        assignments,
        reviews,
        invitations,
        organization_invitations,
        emails,
        requests,
        audit,
        events,
        call_slugs,
    }))
}

/// The application's retention facts: its organization, whether the applicant consented to be kept longer,
/// and when it was anonymised.
pub fn retention_of(
    conn: &mut DbConn,
    application_id: Uuid,
) -> QueryResult<Option<(Uid, bool, Option<Ts>)>> {
    applications::table
        .find(Uid(application_id))
        .select((
            applications::organization_id,
            applications::retention_consent,
            applications::anonymised_at,
        ))
        .first(conn)
        .optional()
}

/// Records the applicant's consent (or its withdrawal) to be kept for the longer period; false when the
/// application was anonymised meanwhile.
pub fn set_retention_consent(
    conn: &mut DbConn,
    application_id: Uuid,
    consent: bool,
    now: chrono::DateTime<chrono::Utc>,
) -> QueryResult<bool> {
    let changed = diesel::update(
        applications::table
            .find(Uid(application_id))
            .filter(applications::anonymised_at.is_null()),
    )
    .set((
        applications::retention_consent.eq(consent),
        applications::updated_at.eq(Ts(now)),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}

/// Keys of audit snapshots that say what happened rather than what someone wrote: the only ones left in
/// the snapshots of an anonymised application or a deleted draft or organization.
const STRUCTURAL_KEYS: [&str; 20] = [
    "status",
    "outcome",
    "side",
    "stage",
    "reference",
    "call_id",
    "organization_id",
    "application_id",
    "attachment_id",
    "message_id",
    "review_id",
    "pairing_id",
    "juror_id",
    "user_id",
    "partner_organization_id",
    "response",
    "role",
    "field",
    "size",
    "due_at",
];

fn keep_structure(snapshot: &Option<Json>) -> Option<Json> {
    let map = snapshot.as_ref()?.0.as_object()?;
    let kept: serde_json::Map<String, serde_json::Value> = map
        .iter()
        .filter(|(k, _)| STRUCTURAL_KEYS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Some(Json(serde_json::Value::Object(kept)))
}

/// Reduces the audit snapshots of an entity to what happened (statuses, outcomes, identifiers), dropping
/// what was written (answers, reasons, file names…). Returns how many entries changed.
pub fn structural_audit(
    conn: &mut DbConn,
    entity_type: &str,
    entity_id: Uuid,
) -> QueryResult<usize> {
    let entries: Vec<(Uid, Option<Json>, Option<Json>)> = audit_log::table
        .filter(audit_log::entity_type.eq(entity_type))
        .filter(audit_log::entity_id.eq(Uid(entity_id)))
        .select((audit_log::id, audit_log::before, audit_log::after))
        .load(conn)?;
    let mut changed = 0;
    for (id, before, after) in entries {
        let (kept_before, kept_after) = (keep_structure(&before), keep_structure(&after));
        if kept_before != before || kept_after != after {
            changed += diesel::update(audit_log::table.find(id))
                .set((
                    audit_log::before.eq(kept_before),
                    audit_log::after.eq(kept_after),
                ))
                .execute(conn)?;
        }
    }
    Ok(changed)
}
