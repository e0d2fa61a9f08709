//! What the pages behind the emailed links show (`api/pages/`): view models gathered in one read, in the
//! reader's language, so that the handlers only render them. The rules are the API's: the same use cases,
//! the same permission functions.

pub mod assignments;
pub mod follow_up;
pub mod invitation;
pub mod status;

use chrono::{DateTime, Datelike, Utc};

/// A date as people read it in `lang` (`fr` or `en`), in the time zone `tz` (a call's), else UTC.
pub fn long_date(at: DateTime<Utc>, tz: &str, lang: &str) -> String {
    let date = match tz.parse::<chrono_tz::Tz>() {
        Ok(tz) => at.with_timezone(&tz).date_naive(),
        Err(_) => at.date_naive(),
    };
    let month = date.month0() as usize;
    if lang == "en" {
        const MONTHS: [&str; 12] = [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ];
        format!("{} {} {}", MONTHS[month % 12], date.day(), date.year())
    } else {
        const MOIS: [&str; 12] = [
            "janvier",
            "février",
            "mars",
            "avril",
            "mai",
            "juin",
            "juillet",
            "août",
            "septembre",
            "octobre",
            "novembre",
            "décembre",
        ];
        format!("{} {} {}", date.day(), MOIS[month % 12], date.year())
    }
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
        assert_eq!(long_date(late, "not a zone", "fr"), "31 mars 2026");
    }
}
