//! Optimistic concurrency: an `ETag` from a version number, and `If-Match` required on changes.

use actix_web::http::header;
use actix_web::HttpRequest;

use crate::error::Error;

/// The ETag of a resource at `version`.
pub fn of_version(version: i32) -> String {
    format!("\"{version}\"")
}

/// The `If-Match` header of a change; 428 when it is missing.
pub fn if_match(req: &HttpRequest) -> Result<String, Error> {
    req.headers()
        .get(header::IF_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .ok_or(Error::PreconditionRequired)
}

/// 412 unless `if_match` names `version` (or is `*`). A list of ETags matches when any of them does.
pub fn check(if_match: &str, version: i32) -> Result<(), Error> {
    let current = of_version(version);
    let matches = if_match
        .split(',')
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == "*" || tag == current);
    if matches {
        Ok(())
    } else {
        Err(Error::PreconditionFailed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_names_the_current_version() {
        assert!(check("\"3\"", 3).is_ok());
        assert!(check("\"1\", \"3\"", 3).is_ok());
        assert!(check("*", 3).is_ok());
        assert!(matches!(check("\"2\"", 3), Err(Error::PreconditionFailed)));
    }
}
