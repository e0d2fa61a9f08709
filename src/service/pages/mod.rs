//! What the pages behind the emailed links show (`api/pages/`): view models gathered in one read, in the
//! reader's language, so that the handlers only render them. The rules are the API's: the same use cases,
//! the same permission functions.

pub mod assignments;
pub mod follow_up;
pub mod invitation;
pub mod status;

use chrono::{DateTime, Utc};

/// A date as people read it in `lang` (`fr` or `en`), in the time zone `tz` (a call's).
pub fn long_date(at: DateTime<Utc>, tz: &str, lang: &str) -> String {
    crate::notify::applications::format_date(at, tz, lang)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn dates_read_in_the_call_s_time_zone_and_language() {
        let late = Utc.with_ymd_and_hms(2026, 3, 31, 23, 30, 0).unwrap();
        assert_eq!(long_date(late, "Europe/Paris", "fr"), "1 avril 2026");
        assert_eq!(long_date(late, "UTC", "en"), "March 31 2026");
        // A call's zone is checked when it is set; an unreadable one reads as the default, Paris, as in emails.
        assert_eq!(long_date(late, "not a zone", "fr"), "1 avril 2026");
    }
}
