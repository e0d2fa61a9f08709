//! Persistence, one file per aggregate. Functions take `&mut DbConn` so that callers own the transaction.

pub mod applications;
pub mod assignments;
pub mod audit;
pub mod calls;
pub mod catalogue;
pub mod conflicts;
pub mod decisions;
pub mod deliberation;
pub mod email_templates;
pub mod email_tokens;
pub mod events;
pub mod idempotency;
pub mod invitations;
pub mod journal;
pub mod jurors;
pub mod organizations;
pub mod outbox;
pub mod packs;
pub mod pairings;
pub mod personal;
pub mod reviews;
pub mod staff;
pub mod stats;
pub mod tokens;
pub mod users;
pub mod webhooks;
