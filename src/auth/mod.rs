//! Authentication and authorisation: password hashing, tokens, and the permission rules in one place.

pub mod password;
pub mod permissions;
pub mod throttle;
pub mod token;
pub mod token_cache;
