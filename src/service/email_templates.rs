//! Staff's own email templates for a call: saving one (replacing the previous) and going back to the
//! built-in one, each journalled with the sources before and after.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::auth::permissions::Principal;
use crate::db::DbConn;
use crate::domain::action::Action;
use crate::error::Error;
use crate::service::staff::managed_call;
use crate::store::email_templates::{self, EmailTemplate};
use crate::store::journal::{Entity, Happened};

/// The call's own template for `event` in `locale`, if it has one (404 for an unknown call), for whoever may
/// act on the call as staff ([`managed_call`]: administrators and its managers).
pub fn find(
    conn: &mut DbConn,
    caller: &Principal,
    call_id: Uuid,
    event: &str,
    locale: &str,
) -> Result<Option<EmailTemplate>, Error> {
    managed_call(conn, caller, call_id)?;
    Ok(email_templates::find(conn, call_id, event, locale)?)
}

/// Saves `template` as its call's own for its event and locale (404 for an unknown call).
pub fn save(
    conn: &mut DbConn,
    actor: &Principal,
    template: EmailTemplate,
    now: DateTime<Utc>,
) -> Result<EmailTemplate, Error> {
    let call_id = *template.call_id;
    let before = find(conn, actor, call_id, &template.event, &template.locale)?;
    email_templates::upsert(conn, &template)?;
    Happened::new(
        Action::EmailTemplateUpdated,
        Some(actor.user_id),
        Entity::Call(call_id),
    )
    .before(audited(&template.event, &template.locale, before.as_ref()))
    .after(audited(&template.event, &template.locale, Some(&template)))
    .record(conn, now)?;
    Ok(template)
}

/// Goes back to the built-in template: deletes the call's own one, if any (404 for an unknown call).
pub fn reset(
    conn: &mut DbConn,
    actor: &Principal,
    call_id: Uuid,
    event: &str,
    locale: &str,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let Some(before) = find(conn, actor, call_id, event, locale)? else {
        return Ok(());
    };
    email_templates::delete(conn, call_id, event, locale)?;
    Happened::new(
        Action::EmailTemplateReset,
        Some(actor.user_id),
        Entity::Call(call_id),
    )
    .before(audited(event, locale, Some(&before)))
    .after(audited(event, locale, None))
    .record(conn, now)?;
    Ok(())
}

/// What the audit log keeps of a template: its sources, or null for the built-in one.
fn audited(event: &str, locale: &str, template: Option<&EmailTemplate>) -> Value {
    match template {
        Some(t) => json!({
            "event": event,
            "locale": locale,
            "source": "call",
            "subject": t.subject,
            "text": t.body_text,
            "html": t.body_html,
        }),
        None => json!({"event": event, "locale": locale, "source": "default"}),
    }
}
