//! Cordée runs calls for applications end to end: an organisation publishes a call, start-ups or territories
//! apply, staff screen, a jury scores, the jury deliberates, and everyone is told the outcome by email.

pub mod api;
pub mod auth;
pub mod backup;
pub mod cli;
pub mod clock;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod jobs;
pub mod memory;
pub mod notify;
pub mod private_fs;
pub mod service;
pub mod startup;
pub mod state;
pub mod storage;
pub mod store;
pub mod telemetry;
