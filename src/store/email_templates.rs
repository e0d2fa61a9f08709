//! Staff overrides of the built-in email templates, one per call, event and locale.

use diesel::prelude::*;
use diesel::upsert::excluded;
use uuid::Uuid;

use crate::db::schema::email_templates;
use crate::db::types::{Ts, Uid};
use crate::db::DbConn;
use crate::notify::templates::TemplateSources;

/// A call's own template for one event and locale, as stored.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = email_templates)]
pub struct EmailTemplate {
    pub call_id: Uid,
    /// The event's stable name, such as `submission_receipt`.
    pub event: String,
    /// `fr` or `en`.
    pub locale: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub updated_by: Option<Uid>,
    pub updated_at: Ts,
}

impl EmailTemplate {
    /// The three sources, as the template engine renders them.
    pub fn sources(&self) -> TemplateSources {
        TemplateSources {
            subject: self.subject.clone(),
            text: self.body_text.clone(),
            html: self.body_html.clone(),
        }
    }
}

/// The call's template for `event` in `locale`, if staff wrote one.
pub fn find(
    conn: &mut DbConn,
    call_id: Uuid,
    event: &str,
    locale: &str,
) -> QueryResult<Option<EmailTemplate>> {
    email_templates::table
        .find((Uid(call_id), event, locale))
        .select(EmailTemplate::as_select())
        .first(conn)
        .optional()
}

/// Stores `template`, replacing the call's previous one for the same event and locale.
pub fn upsert(conn: &mut DbConn, template: &EmailTemplate) -> QueryResult<()> {
    let insert = diesel::insert_into(email_templates::table)
        .values(template)
        .on_conflict((
            email_templates::call_id,
            email_templates::event,
            email_templates::locale,
        ))
        .do_update()
        .set((
            email_templates::subject.eq(excluded(email_templates::subject)),
            email_templates::body_text.eq(excluded(email_templates::body_text)),
            email_templates::body_html.eq(excluded(email_templates::body_html)),
            email_templates::updated_by.eq(excluded(email_templates::updated_by)),
            email_templates::updated_at.eq(excluded(email_templates::updated_at)),
        ));
    crate::on_backend!(conn, |c| insert.execute(c))?;
    Ok(())
}

/// Deletes the call's template for `event` in `locale`; false when there was none.
pub fn delete(conn: &mut DbConn, call_id: Uuid, event: &str, locale: &str) -> QueryResult<bool> {
    diesel::delete(email_templates::table.find((Uid(call_id), event, locale)))
        .execute(conn)
        .map(|n| n > 0)
}

/// Every template staff wrote for the call, by event and locale.
pub fn of_call(conn: &mut DbConn, call_id: Uuid) -> QueryResult<Vec<EmailTemplate>> {
    email_templates::table
        .filter(email_templates::call_id.eq(Uid(call_id)))
        .order((email_templates::event.asc(), email_templates::locale.asc()))
        .select(EmailTemplate::as_select())
        .load(conn)
}
