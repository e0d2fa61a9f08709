//! Parsing of one answer by field type: text, numbers, dates, emails, URLs, identifiers and choices, each
//! normalised (trimmed, E.164, SIRET without spaces...) or refused with a field error.

use chrono::NaiveDate;
use serde_json::Value;
use validator::{ValidateEmail, ValidateUrl};

use super::{Field, FieldType, MAX_SAFE_INTEGER, URL_MAX_LENGTH};
use crate::domain::identifiers::{InseeCode, InvalidValue, PhoneNumber, Postcode, Siret};
use crate::error::FieldError;

pub(super) fn invalid_type(path: &str, expected: &str) -> FieldError {
    FieldError::new(path, "invalid_type", format!("expected {expected}"))
}

fn from_invalid(path: &str, err: InvalidValue) -> FieldError {
    FieldError::new(path, err.code, err.message)
}

/// Parses `YYYY-MM-DD` strictly (four-digit year, two-digit month and day).
fn parse_date(raw: &str) -> Result<NaiveDate, &'static str> {
    let bytes = raw.as_bytes();
    let shaped = bytes.len() == 10
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && bytes
            .iter()
            .enumerate()
            .all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit());
    if !shaped {
        return Err("expected a date as YYYY-MM-DD");
    }
    NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| "this date does not exist")
}

/// The URL when it is an `http(s)` address without spaces or control characters, `None` otherwise.
fn parse_url(raw: &str) -> Option<String> {
    let lower_start: String = raw.chars().take(8).collect::<String>().to_ascii_lowercase();
    let scheme_ok = lower_start.starts_with("https://") || lower_start.starts_with("http://");
    let clean = !raw.chars().any(|c| c.is_whitespace() || c.is_control());
    (scheme_ok && clean && raw.len() <= URL_MAX_LENGTH && raw.validate_url())
        .then(|| raw.to_owned())
}

impl Field {
    /// Checks a trimmed, non-blank answer to a string-valued field.
    pub(super) fn check_string(&self, s: &str, path: &str) -> Result<String, FieldError> {
        use FieldType as T;

        match self.kind {
            T::Text | T::LongText => {
                let multiline = self.kind == T::LongText;
                let bad_char = s
                    .chars()
                    .any(|c| c.is_control() && !(multiline && matches!(c, '\n' | '\r' | '\t')));
                if bad_char {
                    let message = if multiline {
                        "control characters other than line breaks and tabs are not allowed"
                    } else {
                        "line breaks and control characters are not allowed"
                    };
                    return Err(FieldError::new(path, "invalid_characters", message));
                }
                let count = s.chars().count();
                if let Some(min) = self.min_length {
                    if count < min as usize {
                        return Err(FieldError::new(
                            path,
                            "too_short",
                            format!("at least {min} characters"),
                        ));
                    }
                }
                if let Some(max) = self.effective_max_length() {
                    if count > max as usize {
                        return Err(FieldError::new(
                            path,
                            "too_long",
                            format!("at most {max} characters"),
                        ));
                    }
                }
                Ok(s.to_owned())
            }
            T::Date => {
                let date = parse_date(s).map_err(|m| FieldError::new(path, "invalid_date", m))?;
                if let Some(min) = self.min_date.filter(|min| date < *min) {
                    return Err(FieldError::new(
                        path,
                        "below_min",
                        format!("on or after {min}"),
                    ));
                }
                if let Some(max) = self.max_date.filter(|max| date > *max) {
                    return Err(FieldError::new(
                        path,
                        "above_max",
                        format!("on or before {max}"),
                    ));
                }
                Ok(date.format("%Y-%m-%d").to_string())
            }
            T::Email => {
                let clean = !s.chars().any(|c| c.is_whitespace() || c.is_control());
                if clean && s.validate_email() {
                    Ok(s.to_owned())
                } else {
                    Err(FieldError::new(
                        path,
                        "invalid_email",
                        "not a valid email address",
                    ))
                }
            }
            T::Url => parse_url(s).ok_or_else(|| {
                FieldError::new(
                    path,
                    "invalid_url",
                    "expected an http:// or https:// address",
                )
            }),
            T::Phone => PhoneNumber::parse(s)
                .map(|v| v.as_str().to_owned())
                .map_err(|e| from_invalid(path, e)),
            T::Siret => Siret::parse(s)
                .map(|v| v.as_str().to_owned())
                .map_err(|e| from_invalid(path, e)),
            T::Postcode => Postcode::parse(s)
                .map(|v| v.as_str().to_owned())
                .map_err(|e| from_invalid(path, e)),
            T::InseeCode => InseeCode::parse(s)
                .map(|v| v.as_str().to_owned())
                .map_err(|e| from_invalid(path, e)),
            T::Choice => self
                .option_list()
                .iter()
                .find(|o| o.value == s)
                .map(|o| o.value.clone())
                .ok_or_else(|| {
                    FieldError::new(path, "invalid_option", "not one of the field's options")
                }),
            T::Integer | T::Number | T::Boolean | T::MultiChoice | T::File => {
                Err(invalid_type(path, "a value of the field's type"))
            }
        }
    }

    /// Pushes `below_min`/`above_max` when `n` is outside the field's bounds.
    fn check_bounds(&self, n: f64, path: &str, errors: &mut Vec<FieldError>) -> bool {
        if let Some(min) = self.min.filter(|min| n < *min) {
            errors.push(FieldError::new(
                path,
                "below_min",
                format!("at least {min}"),
            ));
            return false;
        }
        if let Some(max) = self.max.filter(|max| n > *max) {
            errors.push(FieldError::new(path, "above_max", format!("at most {max}")));
            return false;
        }
        true
    }

    pub(super) fn check_integer(
        &self,
        value: &Value,
        path: &str,
        errors: &mut Vec<FieldError>,
    ) -> Option<Value> {
        let Some(f) = value.as_f64().filter(|f| f.is_finite() && f.fract() == 0.0) else {
            errors.push(invalid_type(path, "a whole number"));
            return None;
        };
        // Compared as floats: every i64 up to 2^53 is exact, and larger ones round to at least 2^53.
        if f > MAX_SAFE_INTEGER as f64 {
            errors.push(FieldError::new(
                path,
                "above_max",
                format!("at most {MAX_SAFE_INTEGER}"),
            ));
            return None;
        }
        if f < -(MAX_SAFE_INTEGER as f64) {
            errors.push(FieldError::new(
                path,
                "below_min",
                format!("at least -{MAX_SAFE_INTEGER}"),
            ));
            return None;
        }
        // In range, so the conversion is exact.
        let n = value.as_i64().unwrap_or(f as i64);
        self.check_bounds(n as f64, path, errors)
            .then(|| Value::from(n))
    }

    pub(super) fn check_number(
        &self,
        value: &Value,
        path: &str,
        errors: &mut Vec<FieldError>,
    ) -> Option<Value> {
        let Some(f) = value.as_f64().filter(|f| f.is_finite()) else {
            errors.push(invalid_type(path, "a number"));
            return None;
        };
        self.check_bounds(f, path, errors).then(|| value.clone())
    }

    pub(super) fn check_multi_choice(
        &self,
        value: &Value,
        path: &str,
        errors: &mut Vec<FieldError>,
    ) -> Option<Value> {
        let Some(items) = value.as_array() else {
            errors.push(invalid_type(path, "a list of option values"));
            return None;
        };
        let before = errors.len();
        let options = self.option_list();
        let mut chosen: Vec<&str> = Vec::with_capacity(items.len().min(options.len()));
        for (index, item) in items.iter().enumerate() {
            let item_path = format!("{path}.{index}");
            let Some(s) = item.as_str() else {
                errors.push(invalid_type(&item_path, "an option value"));
                continue;
            };
            let Some(option) = options.iter().find(|o| o.value == s) else {
                errors.push(FieldError::new(
                    item_path,
                    "invalid_option",
                    "not one of the field's options",
                ));
                continue;
            };
            if chosen.contains(&option.value.as_str()) {
                errors.push(FieldError::new(
                    item_path,
                    "duplicate_option",
                    "each option may be chosen only once",
                ));
                continue;
            }
            chosen.push(&option.value);
        }
        // An empty list means "nothing chosen yet": `min_items` applies once something is chosen.
        if let Some(min) = self.min_items {
            if !items.is_empty() && items.len() < min as usize {
                errors.push(FieldError::new(
                    path,
                    "too_few_items",
                    format!("choose at least {min} options"),
                ));
            }
        }
        if let Some(max) = self.max_items {
            if items.len() > max as usize {
                errors.push(FieldError::new(
                    path,
                    "too_many_items",
                    format!("choose at most {max} options"),
                ));
            }
        }
        (errors.len() == before).then(|| Value::from(chosen))
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use serde_json::json;

    #[test]
    fn text_is_trimmed_and_bounded() {
        let mut f = field("name", FieldType::Text);
        assert_eq!(ok(f.clone(), json!("  Skiflow ")), json!("Skiflow"));
        assert_eq!(err(f.clone(), json!(42)), "invalid_type");
        assert_eq!(err(f.clone(), json!("a".repeat(501))), "too_long");
        assert_eq!(
            ok(f.clone(), json!("é".repeat(500))),
            json!("é".repeat(500))
        );
        assert_eq!(err(f.clone(), json!("two\nlines")), "invalid_characters");
        assert_eq!(err(f.clone(), json!("nul\u{0}")), "invalid_characters");
        f.min_length = Some(3);
        f.max_length = Some(5);
        assert_eq!(err(f.clone(), json!(" ab ")), "too_short");
        assert_eq!(err(f.clone(), json!("abcdef")), "too_long");
        assert_eq!(ok(f.clone(), json!("  abc  ")), json!("abc"));
        // Characters, not bytes.
        assert_eq!(ok(f.clone(), json!("ÉÉÉÉÉ")), json!("ÉÉÉÉÉ"));
        // Blank means not answered, even with a min_length.
        assert_eq!(ok(f, json!("   ")), Value::Null);
    }

    #[test]
    fn long_text_allows_line_breaks_and_has_a_larger_default() {
        let f = field("pitch", FieldType::LongText);
        assert_eq!(ok(f.clone(), json!("a\r\nb\tc\n")), json!("a\r\nb\tc"));
        assert_eq!(
            ok(f.clone(), json!("x".repeat(10_000)))
                .as_str()
                .unwrap()
                .len(),
            10_000
        );
        assert_eq!(err(f.clone(), json!("x".repeat(10_001))), "too_long");
        assert_eq!(err(f.clone(), json!("bell\u{7}")), "invalid_characters");
        assert_eq!(err(f, json!(["a"])), "invalid_type");
    }

    #[test]
    fn integer_accepts_whole_numbers_only() {
        let mut f = field("revenue", FieldType::Integer);
        assert_eq!(ok(f.clone(), json!(120000)), json!(120000));
        assert_eq!(ok(f.clone(), json!(-5)), json!(-5));
        let two = ok(f.clone(), json!(2.0));
        assert_eq!(two, json!(2));
        assert!(two.is_i64(), "floats without fraction become integers");
        assert_eq!(ok(f.clone(), json!(-0.0)), json!(0));
        assert_eq!(err(f.clone(), json!(2.5)), "invalid_type");
        assert_eq!(err(f.clone(), json!("12")), "invalid_type");
        assert_eq!(err(f.clone(), json!(true)), "invalid_type");
        assert_eq!(
            ok(f.clone(), json!(MAX_SAFE_INTEGER)),
            json!(MAX_SAFE_INTEGER)
        );
        assert_eq!(err(f.clone(), json!(MAX_SAFE_INTEGER + 1)), "above_max");
        assert_eq!(err(f.clone(), json!(u64::MAX)), "above_max");
        assert_eq!(err(f.clone(), json!(1e300)), "above_max");
        assert_eq!(err(f.clone(), json!(i64::MIN)), "below_min");
        f.min = Some(0.0);
        f.max = Some(1000.0);
        assert_eq!(err(f.clone(), json!(-1)), "below_min");
        assert_eq!(err(f.clone(), json!(1001)), "above_max");
        assert_eq!(ok(f.clone(), json!(0)), json!(0));
        assert_eq!(ok(f, json!(1000)), json!(1000));
    }

    #[test]
    fn number_accepts_any_finite_number_within_bounds() {
        let mut f = field("fte", FieldType::Number);
        assert_eq!(ok(f.clone(), json!(2.5)), json!(2.5));
        assert_eq!(ok(f.clone(), json!(3)), json!(3));
        assert_eq!(err(f.clone(), json!("2.5")), "invalid_type");
        assert_eq!(err(f.clone(), json!(null_array())), "invalid_type");
        f.min = Some(0.0);
        f.max = Some(10.5);
        assert_eq!(err(f.clone(), json!(-0.1)), "below_min");
        assert_eq!(err(f.clone(), json!(10.6)), "above_max");
        assert_eq!(ok(f, json!(10.5)), json!(10.5));
    }

    fn null_array() -> Value {
        json!([null])
    }

    #[test]
    fn boolean_takes_json_booleans() {
        let f = field("consent", FieldType::Boolean);
        assert_eq!(ok(f.clone(), json!(true)), json!(true));
        assert_eq!(ok(f.clone(), json!(false)), json!(false));
        assert_eq!(err(f.clone(), json!("true")), "invalid_type");
        assert_eq!(err(f, json!(1)), "invalid_type");
    }

    #[test]
    fn date_is_strict_and_bounded() {
        let mut f = field("start", FieldType::Date);
        assert_eq!(ok(f.clone(), json!(" 2026-09-01 ")), json!("2026-09-01"));
        assert_eq!(ok(f.clone(), json!("2028-02-29")), json!("2028-02-29"));
        for bad in ["2026-02-30", "2027-02-29", "2026-13-01", "2026-00-10"] {
            assert_eq!(err(f.clone(), json!(bad)), "invalid_date", "{bad}");
        }
        for bad in [
            "2026-9-1",
            "01/09/2026",
            "2026-09-01T00:00:00Z",
            "+2026-09-01",
            "20260901",
        ] {
            assert_eq!(err(f.clone(), json!(bad)), "invalid_date", "{bad}");
        }
        assert_eq!(err(f.clone(), json!(20260901)), "invalid_type");
        f.min_date = NaiveDate::from_ymd_opt(2026, 9, 1);
        f.max_date = NaiveDate::from_ymd_opt(2027, 8, 31);
        assert_eq!(err(f.clone(), json!("2026-08-31")), "below_min");
        assert_eq!(err(f.clone(), json!("2027-09-01")), "above_max");
        assert_eq!(ok(f, json!("2027-08-31")), json!("2027-08-31"));
    }

    #[test]
    fn email_is_validated() {
        let f = field("contact", FieldType::Email);
        assert_eq!(
            ok(f.clone(), json!(" contact@station-exemple.fr ")),
            json!("contact@station-exemple.fr")
        );
        for bad in [
            "contact",
            "contact@",
            "@example.fr",
            "a b@example.fr",
            "a@exa mple.fr",
        ] {
            assert_eq!(err(f.clone(), json!(bad)), "invalid_email", "{bad}");
        }
        assert_eq!(err(f, json!(["a@b.fr"])), "invalid_type");
    }

    #[test]
    fn url_must_be_http_or_https() {
        let f = field("site", FieldType::Url);
        assert_eq!(
            ok(f.clone(), json!("https://www.example.fr/projet?x=1")),
            json!("https://www.example.fr/projet?x=1")
        );
        assert_eq!(
            ok(f.clone(), json!("HTTP://example.fr")),
            json!("HTTP://example.fr")
        );
        for bad in [
            "ftp://example.fr",
            "example.fr",
            "javascript:alert(1)",
            "https://",
            "https://exa mple.fr",
            "https://example.fr/\u{0}",
            "https://example.fr/a\nb",
        ] {
            assert_eq!(err(f.clone(), json!(bad)), "invalid_url", "{bad:?}");
        }
        let long = format!("https://example.fr/{}", "a".repeat(URL_MAX_LENGTH));
        assert_eq!(err(f, json!(long)), "invalid_url");
    }

    #[test]
    fn identifiers_are_normalised_with_their_own_codes() {
        assert_eq!(
            ok(field("phone", FieldType::Phone), json!("06 12 34 56 78")),
            json!("+33612345678")
        );
        assert_eq!(
            err(field("phone", FieldType::Phone), json!("12")),
            "invalid_phone"
        );
        assert_eq!(
            ok(field("siret", FieldType::Siret), json!("732 829 320 00074")),
            json!("73282932000074")
        );
        let (_, errors) = form(vec![field("siret", FieldType::Siret)])
            .check_answers(&answers(json!({"siret": "73282932000075"})));
        assert_eq!(
            errors,
            vec![FieldError::new(
                "answers.siret",
                "invalid_siret",
                "the SIRET's check digit is wrong"
            )]
        );
        assert_eq!(
            ok(field("cp", FieldType::Postcode), json!("74400")),
            json!("74400")
        );
        assert_eq!(
            err(field("cp", FieldType::Postcode), json!("00400")),
            "invalid_postcode"
        );
        assert_eq!(
            ok(field("insee", FieldType::InseeCode), json!("2a004")),
            json!("2A004")
        );
        assert_eq!(
            err(field("insee", FieldType::InseeCode), json!("2C004")),
            "invalid_insee_code"
        );
        assert_eq!(
            err(field("siret", FieldType::Siret), json!(73282932000074u64)),
            "invalid_type"
        );
    }

    #[test]
    fn choice_takes_one_option_value() {
        let f = field("maturity", FieldType::Choice);
        assert_eq!(ok(f.clone(), json!("b")), json!("b"));
        assert_eq!(err(f.clone(), json!("B")), "invalid_option");
        assert_eq!(err(f.clone(), json!("z")), "invalid_option");
        assert_eq!(err(f.clone(), json!(["a"])), "invalid_type");
        assert_eq!(ok(f, json!("")), Value::Null);
    }

    #[test]
    fn multi_choice_takes_distinct_options_within_bounds() {
        let mut f = field("challenges", FieldType::MultiChoice);
        assert_eq!(ok(f.clone(), json!(["c", "a"])), json!(["c", "a"]));
        assert_eq!(ok(f.clone(), json!([])), json!([]));
        assert_eq!(err(f.clone(), json!("a")), "invalid_type");

        let (_, errors) = form(vec![f.clone()])
            .check_answers(&answers(json!({"challenges": ["a", "z", 3, "a"]})));
        assert_eq!(
            codes(&errors),
            vec![
                ("answers.challenges.1", "invalid_option"),
                ("answers.challenges.2", "invalid_type"),
                ("answers.challenges.3", "duplicate_option"),
            ]
        );

        f.min_items = Some(2);
        f.max_items = Some(2);
        assert_eq!(err(f.clone(), json!(["a"])), "too_few_items");
        assert_eq!(err(f.clone(), json!(["a", "b", "c"])), "too_many_items");
        assert_eq!(ok(f.clone(), json!(["a", "b"])), json!(["a", "b"]));
        assert_eq!(ok(f, json!([])), json!([]), "empty means not answered yet");
    }
}
