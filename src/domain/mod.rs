//! Pure rules, no I/O: raw input becomes these types at the edge of the API.

pub mod account;
pub mod application;
pub mod call;
pub mod form;
pub mod identifiers;
pub mod organization;
