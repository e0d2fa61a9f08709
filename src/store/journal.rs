//! What happened, written once: the audit entry (who, what, before/after) and, for the changes that clients
//! follow, the event of the feed (which webhooks deliver), in the caller's transaction.

use chrono::{DateTime, Utc};
use diesel::QueryResult;
use serde_json::Value;
use uuid::Uuid;

use crate::db::DbConn;
use crate::domain::action::Action;
use crate::store::audit::{self, Change};
use crate::store::events::{self, NewEvent};

/// The thing a change is about, as the audit log names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entity {
    Application(Uuid),
    Call(Uuid),
    User(Uuid),
    Organization(Uuid),
    Invitation(Uuid),
    Webhook(Uuid),
    ApiToken(Uuid),
    Outbox(Uuid),
    OrganizationInvitation(Uuid),
    /// A jury meeting of a call.
    Meeting(Uuid),
}

impl Entity {
    fn parts(self) -> (&'static str, Uuid) {
        match self {
            Entity::Application(id) => ("application", id),
            Entity::Call(id) => ("call", id),
            Entity::User(id) => ("user", id),
            Entity::Organization(id) => ("organization", id),
            Entity::Invitation(id) => ("invitation", id),
            Entity::Webhook(id) => ("webhook", id),
            Entity::ApiToken(id) => ("api_token", id),
            Entity::Outbox(id) => ("outbox", id),
            Entity::OrganizationInvitation(id) => ("organization_invitation", id),
            Entity::Meeting(id) => ("meeting", id),
        }
    }
}

/// Where an event of the feed belongs: a call, and one of its applications when it is about one. `data`
/// carries identifiers and statuses, never personal data: the feed outlives the people it mentions.
#[derive(Debug, Clone)]
pub struct Feed {
    /// `None` for an event about the platform as a whole (an account deleted).
    pub call_id: Option<Uuid>,
    pub application_id: Option<Uuid>,
    pub data: Value,
}

impl Feed {
    /// An event about a call as a whole.
    pub fn call(call_id: Uuid, data: Value) -> Feed {
        Feed {
            call_id: Some(call_id),
            application_id: None,
            data,
        }
    }

    /// An event about no call (an account deleted).
    pub fn platform(data: Value) -> Feed {
        Feed {
            call_id: None,
            application_id: None,
            data,
        }
    }

    /// An event about one application of a call.
    pub fn application(call_id: Uuid, application_id: Uuid, data: Value) -> Feed {
        Feed {
            call_id: Some(call_id),
            application_id: Some(application_id),
            data,
        }
    }
}

/// A change, with what the audit log and the feed say about it.
#[derive(Debug, Clone)]
pub struct Happened {
    pub action: Action,
    pub actor: Option<Uuid>,
    pub entity: Entity,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub feed: Option<Feed>,
}

impl Happened {
    /// `actor` did `action` to `entity`; nothing before or after yet, not on the feed.
    pub fn new(action: Action, actor: Option<Uuid>, entity: Entity) -> Happened {
        Happened {
            action,
            actor,
            entity,
            before: None,
            after: None,
            feed: None,
        }
    }

    /// What the entity was, for the audit log.
    pub fn before(mut self, before: Value) -> Happened {
        self.before = Some(before);
        self
    }

    /// What the entity became, for the audit log.
    pub fn after(mut self, after: Value) -> Happened {
        self.after = Some(after);
        self
    }

    /// Also publishes the change on the feed (and to the webhooks that follow it).
    pub fn on_feed(mut self, feed: Feed) -> Happened {
        self.feed = Some(feed);
        self
    }

    /// Writes the audit entry, and the feed event when there is one.
    pub fn record(self, conn: &mut DbConn, now: DateTime<Utc>) -> QueryResult<()> {
        let (entity_type, entity_id) = self.entity.parts();
        audit::record(
            conn,
            Change {
                actor_id: self.actor,
                action: self.action.as_str(),
                entity_type,
                entity_id,
                before: self.before,
                after: self.after,
            },
            now,
        )?;
        if let Some(feed) = self.feed {
            publish(conn, self.action, self.actor, feed, now)?;
        }
        Ok(())
    }
}

/// Publishes an event on the feed without an audit entry of its own (the change it belongs to is audited
/// as a whole, such as each application's status in a shortlist).
pub fn publish(
    conn: &mut DbConn,
    action: Action,
    actor: Option<Uuid>,
    feed: Feed,
    now: DateTime<Utc>,
) -> QueryResult<events::Event> {
    events::record(
        conn,
        NewEvent {
            event_type: action.as_str(),
            call_id: feed.call_id,
            application_id: feed.application_id,
            actor_id: actor,
            data: feed.data,
        },
        now,
    )
}
