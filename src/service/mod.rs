//! Use cases: each function takes a connection (the caller owns the transaction) and does one thing the
//! product promises, from loading the facts to the side effects (audit, email), so that handlers only parse,
//! call and present.

pub mod accounts;
pub mod appeals;
pub mod applications;
pub mod assignments;
pub mod attachments;
pub mod calls;
pub mod catalogue;
pub mod conflicts;
pub mod decision_history;
pub mod decisions;
pub mod deliberation;
pub mod editions;
pub mod email_templates;
pub mod exports;
pub mod finalists;
pub mod invitations;
pub mod jurors;
pub mod meetings;
pub mod messages;
pub mod organizations;
pub mod outbox;
pub mod packs;
pub mod page_policy;
pub mod pages;
pub mod pairings;
pub mod pitch_slots;
pub mod reviews;
pub mod score_sheets;
pub mod staff;
pub mod stats;
pub mod timeline;
pub mod upgrade;
pub mod webhooks;
