//! The thread between an applicant and the call's staff, the use cases: read a page of it, write to it.
//! Who may read is [`can_read_application`] without the juror's facts (administrators, the call's managers
//! and observers, the applicant's members, never a juror); who may write on the staff side is
//! [`can_manage_application`]. A message is recorded (audit + feed) and the other side emailed in the
//! caller's transaction.

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;

use crate::auth::permissions::{
    can_manage_application, can_read_application, ApplicationFacts, Principal,
};
use crate::db::types::{Ts, Uid};
use crate::db::DbConn;
use crate::domain::action::Action;
use crate::domain::message::MessageSide;
use crate::error::Error;
use crate::notify::applications::About;
use crate::notify::emails::NewMessage;
use crate::service::applications::{load, staff_facts};
use crate::state::AppState;
use crate::store::applications::{self, Application, Message};
use crate::store::journal::{publish, Entity, Feed, Happened};
use crate::store::{calls, organizations, users};

/// The application, if the caller may read its thread (`write`: write to it); with the caller's side in it.
/// A call's observers read the thread; its managers also write to the applicant.
fn thread_of(
    conn: &mut DbConn,
    caller: &Principal,
    id: Uuid,
    write: bool,
) -> Result<(Application, MessageSide), Error> {
    let (app, role) = load(conn, caller, id)?;
    let facts = ApplicationFacts {
        membership: role,
        ..staff_facts(conn, caller, &app)?
    };
    can_read_application(caller, &facts)?;
    if write && role.is_none() {
        can_manage_application(caller, &facts)?;
    }
    Ok((app, MessageSide::of_author(role.is_some())))
}

/// A page of application `id`'s thread, oldest first, after message `after`: at most `limit` messages,
/// each with its author's name.
pub fn page(
    conn: &mut DbConn,
    caller: &Principal,
    id: Uuid,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<(Message, Option<String>)>, Error> {
    thread_of(conn, caller, id, false)?;
    Ok(applications::messages_of(conn, id, after, limit)?)
}

/// Writes `text` to application `id`'s thread on the caller's side; an applicant's message is emailed to
/// the call's staff, a staff message to the applicant's members. Returns the message and its author's name.
pub fn post(
    conn: &mut DbConn,
    state: &AppState,
    caller: &Principal,
    id: Uuid,
    text: String,
    now: DateTime<Utc>,
) -> Result<(Message, String), Error> {
    let (app, side) = thread_of(conn, caller, id, true)?;
    let author = users::find(conn, caller.user_id)?.ok_or(Error::NotFound)?;
    let message = Message {
        id: Uid(Uuid::now_v7()),
        application_id: Uid(id),
        author_id: Some(Uid(caller.user_id)),
        author_side: side,
        body: text,
        created_at: Ts(now),
    };
    applications::insert_message(conn, &message).context("storing the message")?;
    let posted = json!({"message_id": message.id, "side": side});
    Happened::new(
        Action::MessagePosted,
        Some(caller.user_id),
        Entity::Application(id),
    )
    .after(posted.clone())
    .record(conn, now)
    .context("recording the message")?;
    let feed = Feed::application(*app.call_id, id, posted);
    publish(
        conn,
        Action::ApplicationMessagePosted,
        Some(caller.user_id),
        feed,
        now,
    )
    .context("publishing the message")?;
    let call = calls::find(conn, *app.call_id)?.ok_or(Error::NotFound)?;
    let organization = organizations::find(conn, *app.organization_id)?.ok_or(Error::NotFound)?;
    let about = About {
        call: &call,
        organization: &organization,
        application: &app,
    };
    let email = |_: &str| NewMessage {
        author_side: side,
        message: message.body.clone(),
    };
    match side {
        MessageSide::Applicant => about.tell_staff(conn, state, email, now)?,
        MessageSide::Staff => about.tell_members(conn, state, email, now)?,
    }
    Ok((message, author.display_name))
}
