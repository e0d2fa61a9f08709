//! The test harness: a running Cordée, its own database, the SMTP server that receives its email, the
//! HTTP client that speaks to it, the shared test data, a webhook receiver and the route table. Every
//! test file says `use crate::helpers::*;`.

mod app;
pub mod browser;
mod fixtures;
mod http;
mod mailbox;
pub mod receiver;
pub mod routes;
pub mod s3;
pub mod scenario;

pub use app::*;
pub use fixtures::*;
pub use http::*;
pub use mailbox::*;
