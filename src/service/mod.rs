//! Use cases: each function takes a connection (the caller owns the transaction) and does one thing the
//! product promises, from loading the facts to the side effects (audit, email), so that handlers only parse,
//! call and present.

pub mod accounts;
pub mod conflicts;
pub mod outbox;
pub mod webhooks;
