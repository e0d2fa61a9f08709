//! Domain events: the append-only, ordered record of what happened, written in the transaction of the change
//! itself. Recording an event also queues its webhook deliveries, in that same transaction.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::BigInt;
use uuid::Uuid;

use crate::db::schema::events;
use crate::db::types::{Json, Ts, Uid};
use crate::db::DbConn;
use crate::store::webhooks;

/// Every type of domain event, as webhooks subscribe to them.
pub const TYPES: &[&str] = &[
    "call.created",
    "call.edition_created",
    "call.published",
    "application.created",
    "application.submitted",
    "application.withdrawn",
    "application.screened",
    "application.message_posted",
    "application.shortlisted",
    "application.not_shortlisted",
    "application.decided",
    "decision.revised",
    "appeal.filed",
    "appeal.resolved",
    "application.anonymised",
    "jury.juror_added",
    "jury.juror_removed",
    "assignment.created",
    "review.submitted",
    "review.reopened",
    "decisions.published",
    "pairing.proposed",
    "pairing.confirmed",
    "pairing.declined",
    "user.deleted",
];

/// The type of the event a webhook's test action sends (never in the feed).
pub const TEST_TYPE: &str = "webhook.test";

/// One event as stored. `seq` orders the feed; `id` names the event in the API and in webhook headers.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = events)]
pub struct Event {
    pub seq: i64,
    pub id: Uid,
    pub event_type: String,
    pub call_id: Option<Uid>,
    pub application_id: Option<Uid>,
    pub actor_id: Option<Uid>,
    pub data: Json,
    pub occurred_at: Ts,
}

#[derive(Insertable)]
#[diesel(table_name = events)]
struct NewRow {
    id: Uid,
    event_type: String,
    call_id: Option<Uid>,
    application_id: Option<Uid>,
    actor_id: Option<Uid>,
    data: Json,
    occurred_at: Ts,
}

/// What happened, to be recorded in the caller's transaction. `data` carries identifiers and statuses, never
/// personal data: the feed outlives the people it mentions.
pub struct NewEvent<'a> {
    pub event_type: &'a str,
    pub call_id: Option<Uuid>,
    pub application_id: Option<Uuid>,
    pub actor_id: Option<Uuid>,
    pub data: serde_json::Value,
}

impl<'a> NewEvent<'a> {
    /// An event about a call as a whole.
    pub fn call(
        event_type: &'a str,
        call_id: Uuid,
        actor_id: Option<Uuid>,
        data: serde_json::Value,
    ) -> Self {
        NewEvent {
            event_type,
            call_id: Some(call_id),
            application_id: None,
            actor_id,
            data,
        }
    }

    /// An event about one application of a call.
    pub fn application(
        event_type: &'a str,
        call_id: Uuid,
        application_id: Uuid,
        actor_id: Option<Uuid>,
        data: serde_json::Value,
    ) -> Self {
        NewEvent {
            event_type,
            call_id: Some(call_id),
            application_id: Some(application_id),
            actor_id,
            data,
        }
    }
}

impl Event {
    /// The event as the feed and webhook receivers see it.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "id": *self.id,
            "type": self.event_type,
            "occurred_at": *self.occurred_at,
            "call_id": self.call_id.map(|id| *id),
            "application_id": self.application_id.map(|id| *id),
            "actor_id": self.actor_id.map(|id| *id),
            "data": self.data.0,
        })
    }
}

/// Records an event and queues a delivery for every enabled webhook that subscribed to its type.
///
/// On PostgreSQL the transaction first takes a transaction-level advisory lock, held until commit, so that
/// events become visible in the order of their `seq`: a reader following the feed with `?after=` never
/// skips an event that commits late. SQLite has a single writer, which gives the same guarantee.
pub fn record(conn: &mut DbConn, event: NewEvent<'_>, now: DateTime<Utc>) -> QueryResult<Event> {
    if let DbConn::Pg(c) = conn {
        diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
            .bind::<BigInt, _>(FEED_LOCK)
            .execute(c)?;
    }
    let row = NewRow {
        id: Uid(Uuid::now_v7()),
        event_type: event.event_type.to_owned(),
        call_id: event.call_id.map(Uid),
        application_id: event.application_id.map(Uid),
        actor_id: event.actor_id.map(Uid),
        data: Json(event.data),
        occurred_at: Ts(now),
    };
    let seq: i64 = diesel::insert_into(events::table)
        .values(&row)
        .returning(events::seq)
        .get_result(conn)?;
    let stored = Event {
        seq,
        id: row.id,
        event_type: row.event_type,
        call_id: row.call_id,
        application_id: row.application_id,
        actor_id: row.actor_id,
        data: row.data,
        occurred_at: row.occurred_at,
    };
    webhooks::queue_deliveries(conn, &stored, now)?;
    Ok(stored)
}

/// The advisory lock key that orders the feed ("cordee-ev" in ASCII).
const FEED_LOCK: i64 = 0x636f_7264_6565_7631;

/// Events after `after` (an event id; the start of the feed when `None`), oldest first, optionally of one call
/// or of some types. `Ok(None)` when `after` names no event.
pub fn list(
    conn: &mut DbConn,
    after: Option<Uuid>,
    call_id: Option<Uuid>,
    types: &[String],
    limit: i64,
) -> QueryResult<Option<Vec<Event>>> {
    let after_seq = match after {
        Some(id) => match events::table
            .filter(events::id.eq(Uid(id)))
            .select(events::seq)
            .first::<i64>(conn)
            .optional()?
        {
            Some(seq) => seq,
            None => return Ok(None),
        },
        None => 0,
    };
    let mut query = events::table
        .filter(events::seq.gt(after_seq))
        .order(events::seq.asc())
        .limit(limit)
        .select(Event::as_select())
        .into_boxed();
    if let Some(call_id) = call_id {
        query = query.filter(events::call_id.eq(Uid(call_id)));
    }
    if !types.is_empty() {
        query = query.filter(events::event_type.eq_any(types.to_vec()));
    }
    query.load(conn).map(Some)
}
