//! Optimistic concurrency: an `ETag` from a version number, and `If-Match` required on changes.

use actix_web::http::header;
use actix_web::HttpRequest;

pub use crate::domain::version::{check, of_version};
use crate::error::Error;

/// The `If-Match` header of a change; 428 when it is missing.
pub fn if_match(req: &HttpRequest) -> Result<String, Error> {
    req.headers()
        .get(header::IF_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .ok_or(Error::PreconditionRequired)
}
