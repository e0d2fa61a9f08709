//! Applications, their attachments and their message threads.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::schema::{
    application_messages, applications, assignments, attachments, call_staff, organization_members,
    organizations, reminders_sent, users,
};
use crate::db::types::{Json, Ts, Uid};
use crate::db::DbConn;
use crate::domain::application::ApplicationStatus;

/// An application as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset, serde::Serialize)]
#[diesel(table_name = applications, treat_none_as_null = true)]
pub struct Application {
    pub id: Uid,
    pub call_id: Uid,
    pub organization_id: Uid,
    pub status: ApplicationStatus,
    pub reference: Option<String>,
    pub answers: Json,
    pub version: i32,
    pub submitted_at: Option<Ts>,
    pub screening_reason: Option<String>,
    pub changes_due_at: Option<Ts>,
    pub withdrawn_reason: Option<String>,
    pub created_by: Option<Uid>,
    pub created_at: Ts,
    pub updated_at: Ts,
}

/// An application in a list, with its organization's name: no answers.
#[derive(Debug, Clone, Queryable)]
pub struct Summary {
    pub id: Uid,
    pub call_id: Uid,
    pub organization_id: Uid,
    pub organization_name: String,
    pub status: ApplicationStatus,
    pub reference: Option<String>,
    pub submitted_at: Option<Ts>,
    pub updated_at: Ts,
}

/// Who is listing, and what they asked for.
pub struct ListFilter {
    /// `None` for administrators (everything); otherwise the applications of this user's organizations and
    /// the ones assigned to them as a juror that no conflict keeps them away from.
    pub member: Option<Uuid>,
    /// With `member`: whether they also see the applications past their draft of the calls where they have a
    /// staff role (manager or observer).
    pub as_call_staff: bool,
    pub call_id: Option<Uuid>,
    pub status: Option<ApplicationStatus>,
    /// Part of a reference or of an organization's name, any case.
    pub q: Option<String>,
    pub after: Option<Uuid>,
    pub limit: i64,
}

/// Stores a new application.
pub fn insert(conn: &mut DbConn, application: &Application) -> QueryResult<()> {
    diesel::insert_into(applications::table)
        .values(application)
        .execute(conn)
        .map(|_| ())
}

/// The application with this id.
pub fn find(conn: &mut DbConn, id: Uuid) -> QueryResult<Option<Application>> {
    applications::table
        .find(Uid(id))
        .select(Application::as_select())
        .first(conn)
        .optional()
}

/// Locks the application's row until the end of the transaction (PostgreSQL; SQLite's write transactions
/// already run one at a time), so that checks made on it and on its attachments hold until the commit: two
/// uploads cannot both pass the quota, and an upload cannot slip in beside the submission.
pub fn lock(conn: &mut DbConn, id: Uuid) -> QueryResult<()> {
    if let DbConn::Pg(c) = conn {
        applications::table
            .find(Uid(id))
            .select(applications::id)
            .for_update()
            .load::<Uid>(c)?;
    }
    Ok(())
}

/// Locks these applications' rows, in id order, until the end of the transaction (PostgreSQL; SQLite's write
/// transactions already run one at a time). A change of many applications (a publication, a shortlist) takes
/// them all before it records anything: the event feed's lock comes after every row lock, as in a change of
/// one application (a withdrawal), so that the two never wait on each other in a circle.
pub fn lock_all(conn: &mut DbConn, ids: &[Uuid]) -> QueryResult<()> {
    if let DbConn::Pg(c) = conn {
        let ids: Vec<Uid> = ids.iter().copied().map(Uid).collect();
        for chunk in ids.chunks(10_000) {
            applications::table
                .filter(applications::id.eq_any(chunk))
                .order(applications::id.asc())
                .select(applications::id)
                .for_update()
                .load::<Uid>(c)?;
        }
    }
    Ok(())
}

/// Whether the organization already applied to the call.
pub fn exists_for(conn: &mut DbConn, call_id: Uuid, organization_id: Uuid) -> QueryResult<bool> {
    let found: Option<Uid> = applications::table
        .filter(applications::call_id.eq(Uid(call_id)))
        .filter(applications::organization_id.eq(Uid(organization_id)))
        .select(applications::id)
        .first(conn)
        .optional()?;
    Ok(found.is_some())
}

/// The organization's application to the call, unless it was anonymised (its answers are gone).
pub fn of_organization_in_call(
    conn: &mut DbConn,
    call_id: Uuid,
    organization_id: Uuid,
) -> QueryResult<Option<Application>> {
    applications::table
        .filter(applications::call_id.eq(Uid(call_id)))
        .filter(applications::organization_id.eq(Uid(organization_id)))
        .filter(applications::anonymised_at.is_null())
        .select(Application::as_select())
        .first(conn)
        .optional()
}

/// Writes every field of `application` if its version is still `expected_version`; false when it changed.
pub fn update(
    conn: &mut DbConn,
    application: &Application,
    expected_version: i32,
) -> QueryResult<bool> {
    let changed = diesel::update(
        applications::table
            .find(application.id)
            .filter(applications::version.eq(expected_version)),
    )
    .set(application)
    .execute(conn)?;
    Ok(changed == 1)
}

/// One page of application summaries: one statement whatever the page size.
pub fn list(conn: &mut DbConn, filter: &ListFilter) -> QueryResult<Vec<Summary>> {
    let mut query = applications::table
        .inner_join(organizations::table)
        .select((
            applications::id,
            applications::call_id,
            applications::organization_id,
            organizations::legal_name,
            applications::status,
            applications::reference,
            applications::submitted_at,
            applications::updated_at,
        ))
        .order(applications::id.asc())
        .limit(filter.limit)
        .into_boxed();
    if let Some(user_id) = filter.member {
        let mine = organization_members::table
            .filter(organization_members::user_id.eq(Uid(user_id)))
            .select(organization_members::organization_id);
        let assigned = assignments::table
            .filter(assignments::juror_id.eq(Uid(user_id)))
            .select(assignments::application_id);
        // A juror never sees an application a conflict keeps them away from (declared, or detected and
        // applying), even if it was assigned before the conflict came to light; their own organizations'
        // applications they see as applicants.
        let (declared, detected) = super::conflicts::keeping_away(user_id);
        // A call's managers and observers see its applications once submitted, never a draft. Through a
        // token that may not act as staff, nothing: the nil id has no staff role.
        let staff_user = if filter.as_call_staff {
            user_id
        } else {
            Uuid::nil()
        };
        let staffed = call_staff::table
            .filter(call_staff::user_id.eq(Uid(staff_user)))
            .select(call_staff::call_id);
        query = query.filter(
            applications::organization_id
                .eq_any(mine)
                .or(applications::id
                    .eq_any(assigned)
                    .and(applications::id.ne_all(declared))
                    .and(applications::id.ne_all(detected)))
                .or(applications::call_id
                    .eq_any(staffed)
                    .and(applications::status.ne(ApplicationStatus::Draft))),
        );
    }
    if let Some(call_id) = filter.call_id {
        query = query.filter(applications::call_id.eq(Uid(call_id)));
    }
    if let Some(status) = &filter.status {
        query = query.filter(applications::status.eq(*status));
    }
    if let Some(q) = &filter.q {
        let pattern = format!("%{}%", q.to_lowercase().replace(['\\', '%', '_'], ""));
        query = query.filter(
            diesel::dsl::sql::<diesel::sql_types::Bool>(
                "(lower(coalesce(applications.reference, '')) LIKE ",
            )
            .bind::<diesel::sql_types::Text, _>(pattern.clone())
            .sql(" OR lower(organizations.legal_name) LIKE ")
            .bind::<diesel::sql_types::Text, _>(pattern)
            .sql(")"),
        );
    }
    if let Some(after) = filter.after {
        query = query.filter(applications::id.gt(Uid(after)));
    }
    query.load(conn)
}

/// Drafts of a call that have not had the reminder `kind` yet.
pub fn drafts_without_reminder(
    conn: &mut DbConn,
    call_id: Uuid,
    kind: &str,
) -> QueryResult<Vec<Application>> {
    let reminded = reminders_sent::table
        .filter(reminders_sent::kind.eq(kind.to_owned()))
        .select(reminders_sent::application_id);
    applications::table
        .filter(applications::call_id.eq(Uid(call_id)))
        .filter(applications::status.eq(ApplicationStatus::Draft))
        .filter(applications::id.ne_all(reminded))
        .select(Application::as_select())
        .load(conn)
}

/// Records that the reminder `kind` went out for the application; false if it already had (another
/// instance got there first).
pub fn mark_reminded(
    conn: &mut DbConn,
    application_id: Uuid,
    kind: &str,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    let row = (
        reminders_sent::application_id.eq(Uid(application_id)),
        reminders_sent::kind.eq(kind),
        reminders_sent::sent_at.eq(Ts(now)),
    );
    let insert = diesel::insert_into(reminders_sent::table).values(row);
    let inserted = crate::on_backend!(conn, |c| insert.on_conflict_do_nothing().execute(c)?);
    Ok(inserted == 1)
}

/// A file attached to an application.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, serde::Serialize)]
#[diesel(table_name = attachments)]
pub struct Attachment {
    pub id: Uid,
    pub application_id: Uid,
    pub field: String,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub storage_name: String,
    pub uploaded_by: Option<Uid>,
    pub created_at: Ts,
}

/// Stores an attachment's record.
pub fn insert_attachment(conn: &mut DbConn, attachment: &Attachment) -> QueryResult<()> {
    diesel::insert_into(attachments::table)
        .values(attachment)
        .execute(conn)
        .map(|_| ())
}

/// The attachments of an application, oldest first.
pub fn attachments_of(conn: &mut DbConn, application_id: Uuid) -> QueryResult<Vec<Attachment>> {
    attachments::table
        .filter(attachments::application_id.eq(Uid(application_id)))
        .order(attachments::id.asc())
        .select(Attachment::as_select())
        .load(conn)
}

/// One attachment of an application.
pub fn find_attachment(
    conn: &mut DbConn,
    application_id: Uuid,
    id: Uuid,
) -> QueryResult<Option<Attachment>> {
    attachments::table
        .find(Uid(id))
        .filter(attachments::application_id.eq(Uid(application_id)))
        .select(Attachment::as_select())
        .first(conn)
        .optional()
}

/// Deletes an attachment's record.
pub fn delete_attachment(conn: &mut DbConn, id: Uuid) -> QueryResult<()> {
    diesel::delete(attachments::table.find(Uid(id)))
        .execute(conn)
        .map(|_| ())
}

/// Every stored file name, for the start-up sweep of orphan files.
pub fn storage_names(conn: &mut DbConn) -> QueryResult<Vec<String>> {
    attachments::table
        .select(attachments::storage_name)
        .load(conn)
}

/// A message of an application's thread.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = application_messages)]
pub struct Message {
    pub id: Uid,
    pub application_id: Uid,
    pub author_id: Option<Uid>,
    pub author_side: crate::domain::message::MessageSide,
    pub body: String,
    pub created_at: Ts,
}

/// Stores a message.
pub fn insert_message(conn: &mut DbConn, message: &Message) -> QueryResult<()> {
    diesel::insert_into(application_messages::table)
        .values(message)
        .execute(conn)
        .map(|_| ())
}

/// One page of an application's thread, oldest first, with each author's name (one statement).
pub fn messages_of(
    conn: &mut DbConn,
    application_id: Uuid,
    after: Option<Uuid>,
    limit: i64,
) -> QueryResult<Vec<(Message, Option<String>)>> {
    let mut query = application_messages::table
        .left_join(users::table)
        .filter(application_messages::application_id.eq(Uid(application_id)))
        .order(application_messages::id.asc())
        .limit(limit)
        .select((Message::as_select(), users::display_name.nullable()))
        .into_boxed();
    if let Some(after) = after {
        query = query.filter(application_messages::id.gt(Uid(after)));
    }
    query.load(conn)
}

/// The ids of a call's applications in `status`, in id order.
pub fn ids_with_status(
    conn: &mut DbConn,
    call_id: Uuid,
    status: ApplicationStatus,
) -> QueryResult<Vec<Uuid>> {
    let ids: Vec<Uid> = applications::table
        .filter(applications::call_id.eq(Uid(call_id)))
        .filter(applications::status.eq(status))
        .order(applications::id.asc())
        .select(applications::id)
        .load(conn)?;
    Ok(ids.into_iter().map(|id| id.0).collect())
}

/// The reference of every application of a call.
pub fn references(
    conn: &mut DbConn,
    call_id: Uuid,
) -> QueryResult<std::collections::HashMap<Uuid, Option<String>>> {
    // Only submitted applications have one: drafts (most of a call on deadline day) are not read.
    let rows: Vec<(Uid, Option<String>)> = applications::table
        .filter(applications::call_id.eq(Uid(call_id)))
        .filter(applications::reference.is_not_null())
        .select((applications::id, applications::reference))
        .load(conn)?;
    Ok(rows.into_iter().map(|(id, r)| (id.0, r)).collect())
}

/// Moves an application from `from` to `status` (decisions, shortlists), bumping its version; false when it
/// is no longer in `from` (withdrawn, or moved by another request meanwhile: on PostgreSQL the update waits
/// for that request to commit, then finds nothing to change). Nothing that follows a move may happen then.
pub fn set_status(
    conn: &mut DbConn,
    id: Uuid,
    from: ApplicationStatus,
    status: ApplicationStatus,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    let changed = diesel::update(
        applications::table
            .find(Uid(id))
            .filter(applications::status.eq(from)),
    )
    .set((
        applications::status.eq(status),
        applications::version.eq(applications::version + 1),
        applications::updated_at.eq(Ts(now)),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}

/// Records the stage the application is shortlisted to.
pub fn set_shortlisted_for(conn: &mut DbConn, id: Uuid, stage: &str) -> QueryResult<()> {
    diesel::update(applications::table.find(Uid(id)))
        .set(applications::shortlisted_for.eq(stage))
        .execute(conn)
        .map(|_| ())
}

/// The stage the application was last shortlisted to, if any.
pub fn shortlisted_for(conn: &mut DbConn, id: Uuid) -> QueryResult<Option<String>> {
    applications::table
        .find(Uid(id))
        .select(applications::shortlisted_for)
        .first::<Option<String>>(conn)
        .optional()
        .map(Option::flatten)
}

/// Every application of a call with its organization, in id order (for exports).
pub fn with_organizations(
    conn: &mut DbConn,
    call_id: Uuid,
) -> QueryResult<Vec<(Application, crate::store::organizations::Organization)>> {
    applications::table
        .inner_join(organizations::table)
        .filter(applications::call_id.eq(Uid(call_id)))
        .order(applications::id.asc())
        .select((
            Application::as_select(),
            crate::store::organizations::Organization::as_select(),
        ))
        .load(conn)
}

/// The attachments of every application of a call, by application.
pub fn attachments_of_call(conn: &mut DbConn, call_id: Uuid) -> QueryResult<Vec<Attachment>> {
    attachments::table
        .inner_join(applications::table)
        .filter(applications::call_id.eq(Uid(call_id)))
        .order(attachments::id.asc())
        .select(Attachment::as_select())
        .load(conn)
}
