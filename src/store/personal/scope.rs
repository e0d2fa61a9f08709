//! Which rows belong to a person or are about them, found by identifier: their organizations' applications
//! and what hangs off them, what they wrote, their jury work, the emails and audit entries about all that.
//! Deleting an account erases the person's email and name in these rows, and in no other.

use std::collections::BTreeSet;

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};
use uuid::Uuid;

use crate::db::schema::{
    application_messages, applications, assignments, attachments, audit_log, conflicts, events,
    invitations, organization_members, outbox, reviews, webhook_deliveries, webhooks,
};
use crate::db::types::Uid;
use crate::db::DbConn;

/// Applications whose emails are looked up per statement (one `LIKE` each).
const LINKS_PER_QUERY: usize = 100;

/// The rows of one person, by table.
#[derive(Debug, Default)]
pub struct Scope {
    /// The applications of their organizations, and those they created.
    pub applications: Vec<Uid>,
    /// The files of those applications, and those they uploaded.
    pub attachments: Vec<Uid>,
    /// The threads of those applications, and every message they wrote.
    pub messages: Vec<Uid>,
    /// Conflicts they declared or are the juror of, and those on their applications.
    pub conflicts: Vec<Uid>,
    /// Their reviews, and the reviews of their applications.
    pub reviews: Vec<Uid>,
    /// Emails about their applications (which link to them) and the invitations they sent.
    pub emails: Vec<Uid>,
    /// Audit entries they caused, about them or about their rows above, or naming their id.
    pub audit: Vec<Uid>,
    /// Domain events they caused or about their applications.
    pub events: Vec<Uid>,
    /// Webhook deliveries of those events.
    pub deliveries: Vec<Uid>,
    /// Webhooks they created.
    pub webhooks: Vec<Uid>,
}

/// Finds the rows of `user_id` (whose address is `email`). Call it before anything is deleted.
pub fn of_person(conn: &mut DbConn, user_id: Uuid, email: &str) -> QueryResult<Scope> {
    let me = Uid(user_id);
    let organizations: Vec<Uid> = organization_members::table
        .filter(organization_members::user_id.eq(me))
        .select(organization_members::organization_id)
        .load(conn)?;
    let applications: Vec<Uid> = applications::table
        .filter(
            applications::organization_id
                .eq_any(&organizations)
                .or(applications::created_by.eq(me)),
        )
        .select(applications::id)
        .load(conn)?;
    let attachments: Vec<Uid> = attachments::table
        .filter(
            attachments::application_id
                .eq_any(&applications)
                .or(attachments::uploaded_by.eq(me)),
        )
        .select(attachments::id)
        .load(conn)?;
    let messages: Vec<Uid> = application_messages::table
        .filter(
            application_messages::application_id
                .eq_any(&applications)
                .or(application_messages::author_id.eq(me)),
        )
        .select(application_messages::id)
        .load(conn)?;
    let conflicts: Vec<Uid> = conflicts::table
        .filter(
            conflicts::juror_id
                .eq(me)
                .or(conflicts::declared_by.eq(me))
                .or(conflicts::application_id.eq_any(&applications)),
        )
        .select(conflicts::id)
        .load(conn)?;
    let reviews: Vec<Uid> = reviews::table
        .filter(
            reviews::juror_id
                .eq(me)
                .or(reviews::application_id.eq_any(&applications)),
        )
        .select(reviews::id)
        .load(conn)?;
    let assignments: Vec<Uid> = assignments::table
        .filter(assignments::juror_id.eq(me))
        .select(assignments::id)
        .load(conn)?;
    let invitations: Vec<(Uid, String, Option<Uid>)> = invitations::table
        .filter(
            invitations::email
                .eq(email)
                .or(invitations::accepted_by.eq(me))
                .or(invitations::invited_by.eq(me)),
        )
        .select((invitations::id, invitations::email, invitations::invited_by))
        .load(conn)?;

    let invited: Vec<String> = invitations
        .iter()
        .filter(|(_, _, by)| *by == Some(me))
        .map(|(_, address, _)| address.clone())
        .collect();
    let mut emails: BTreeSet<Uid> = outbox::table
        .filter(outbox::event.eq("invitation"))
        .filter(outbox::recipient.eq_any(&invited))
        .select(outbox::id)
        .load::<Uid>(conn)?
        .into_iter()
        .collect();
    emails.extend(emails_about(conn, &applications)?);

    let mut entities: BTreeSet<Uid> = BTreeSet::from([me]);
    entities.extend(organizations.iter().copied());
    entities.extend(applications.iter().copied());
    entities.extend(attachments.iter().copied());
    entities.extend(messages.iter().copied());
    entities.extend(conflicts.iter().copied());
    entities.extend(reviews.iter().copied());
    entities.extend(assignments.iter().copied());
    entities.extend(invitations.iter().map(|(id, _, _)| *id));
    let entities: Vec<Uid> = entities.into_iter().collect();
    // Entries naming their id in a snapshot (added to a jury, assigned…). Both databases cast a JSON column
    // to its text with CAST.
    let named = format!("%{user_id}%");
    let audit: Vec<Uid> = audit_log::table
        .filter(
            audit_log::actor_id
                .eq(me)
                .or(audit_log::entity_id.eq_any(&entities))
                .or(sql::<Bool>("(CAST(audit_log.before AS TEXT) LIKE ")
                    .bind::<Text, _>(named.clone())
                    .sql(" OR CAST(audit_log.after AS TEXT) LIKE ")
                    .bind::<Text, _>(named)
                    .sql(")")),
        )
        .select(audit_log::id)
        .load(conn)?;
    let events: Vec<Uid> = events::table
        .filter(
            events::actor_id
                .eq(me)
                .or(events::application_id.eq_any(&applications)),
        )
        .select(events::id)
        .load(conn)?;
    let deliveries: Vec<Uid> = webhook_deliveries::table
        .filter(webhook_deliveries::event_id.eq_any(&events))
        .select(webhook_deliveries::id)
        .load(conn)?;
    let webhooks: Vec<Uid> = webhooks::table
        .filter(webhooks::created_by.eq(me))
        .select(webhooks::id)
        .load(conn)?;

    Ok(Scope {
        applications,
        attachments,
        messages,
        conflicts,
        reviews,
        emails: emails.into_iter().collect(),
        audit,
        events,
        deliveries,
        webhooks,
    })
}

/// The emails about these applications: every email about an application carries its link.
pub fn emails_about(conn: &mut DbConn, applications: &[Uid]) -> QueryResult<Vec<Uid>> {
    let mut found = Vec::new();
    for chunk in applications.chunks(LINKS_PER_QUERY) {
        let mut query = outbox::table.select(outbox::id).into_boxed();
        for (i, application) in chunk.iter().enumerate() {
            let link = format!("%/applications/{}%", application.0);
            query = if i == 0 {
                query.filter(outbox::body_text.like(link))
            } else {
                query.or_filter(outbox::body_text.like(link))
            };
        }
        found.extend(query.load::<Uid>(conn)?);
    }
    Ok(found)
}
