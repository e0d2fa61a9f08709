//! Pure rules, no I/O: raw input becomes these types at the edge of the API.

pub mod account;
pub mod action;
pub mod application;
pub mod assignment;
pub mod call;
pub mod catalogue;
pub mod check;
pub mod conflict;
pub mod delivery;
pub mod edition;
pub mod email;
pub mod figures;
pub mod form;
pub mod identifiers;
pub mod message;
pub mod names;
pub mod organization;
pub mod pairing;
pub mod prefill;
pub mod ranking;
pub mod refusal;
pub mod review;
pub mod score_sheet;
pub mod spreadsheet;
pub mod text;
pub mod version;
