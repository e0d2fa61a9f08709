//! What the deliberation view reads besides the ranking: the organizations' names, and the last shortlist
//! to a stage (recorded only in the audit log: a shortlist past the first stage changes no status).

use std::collections::{BTreeSet, HashMap};

use diesel::prelude::*;
use uuid::Uuid;

use crate::db::schema::{applications, audit_log, organizations};
use crate::db::types::{Json, Uid};
use crate::db::DbConn;
use crate::domain::action::Action;

/// The name of the organization behind each submitted application of a call (drafts are not read).
pub fn organization_names(conn: &mut DbConn, call_id: Uuid) -> QueryResult<HashMap<Uuid, String>> {
    let rows: Vec<(Uid, String)> = applications::table
        .inner_join(organizations::table)
        .filter(applications::call_id.eq(Uid(call_id)))
        .filter(applications::reference.is_not_null())
        .select((applications::id, organizations::legal_name))
        .load(conn)?;
    Ok(rows.into_iter().map(|(id, name)| (id.0, name)).collect())
}

/// The applications the last shortlist of call `call_id` to stage `next_stage` kept, if there was one: the
/// `application_ids` of its audit entry (`call.shortlisted`, whose `after` names the stage).
pub fn last_shortlist(
    conn: &mut DbConn,
    call_id: Uuid,
    next_stage: &str,
) -> QueryResult<Option<BTreeSet<Uuid>>> {
    let entries: Vec<Option<Json>> = audit_log::table
        .filter(audit_log::action.eq(Action::CallShortlisted.as_str()))
        .filter(audit_log::entity_type.eq("call"))
        .filter(audit_log::entity_id.eq(Uid(call_id)))
        .order(audit_log::id.desc())
        .select(audit_log::after)
        .load(conn)?;
    Ok(entries
        .into_iter()
        .flatten()
        .find(|after| after.0["next_stage"].as_str() == Some(next_stage))
        .map(|after| {
            after.0["application_ids"]
                .as_array()
                .map(|ids| {
                    ids.iter()
                        .filter_map(|id| id.as_str()?.parse().ok())
                        .collect()
                })
                .unwrap_or_default()
        }))
}
