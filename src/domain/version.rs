//! Optimistic concurrency: each versioned resource carries a version number; its ETag names it, and a
//! change must name the version it was made against (`If-Match`), or it is refused with 412.

use crate::error::Error;

/// The ETag of a resource at `version`.
pub fn of_version(version: i32) -> String {
    format!("\"{version}\"")
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
