//! The timeline of an application: what happened to it, as its applicant was told, oldest first. Built from
//! the journal (audit entries about the application, and the feed events of a shortlist) through the one
//! rule of [`crate::domain::timeline`]; a fixed number of statements whatever its length.

use uuid::Uuid;

use crate::auth::permissions::{can_follow_application, Principal};
use crate::db::DbConn;
use crate::domain::action::Action;
use crate::domain::timeline::{self, Item, JournalLine, Source, AUDIT_ACTIONS, FEED_ACTIONS};
use crate::error::Error;
use crate::service::applications::load_readable_with_facts;
use crate::store::timeline as store;

/// At most this many lines of each source are read: a timeline longer than that (a thread of hundreds of
/// messages) is cut, and says so.
pub const CAP: usize = 500;

/// The timeline of application `id` for its members and its call's staff (jurors and anyone else: 404),
/// and whether it was cut at [`CAP`] lines.
pub fn of_application(
    conn: &mut DbConn,
    caller: &Principal,
    id: Uuid,
) -> Result<(Vec<Item>, bool), Error> {
    let (_, _, facts) = load_readable_with_facts(conn, caller, id)?;
    can_follow_application(caller, &facts)?;
    let rows = store::lines(conn, id, &AUDIT_ACTIONS, &FEED_ACTIONS, CAP as i64 + 1)?;
    let audited = rows.iter().filter(|r| !r.from_feed).count();
    let truncated = audited > CAP || rows.len() - audited > CAP;
    let lines: Vec<JournalLine<'_>> = rows
        .iter()
        .filter_map(|row| {
            Some(JournalLine {
                source: if row.from_feed {
                    Source::Feed
                } else {
                    Source::Audit
                },
                id: row.id,
                at: row.at.0,
                action: Action::parse(&row.action)?,
                before: row.before.as_ref().map(|j| &j.0),
                after: row.after.as_ref().map(|j| &j.0),
            })
        })
        .collect();
    let mut items = timeline::timeline(lines);
    items.truncate(2 * CAP);
    Ok((items, truncated))
}
