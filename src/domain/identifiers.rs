//! French administrative identifiers and contact values, parsed once at the
//! boundary ("parse, don't validate").
//!
//! Every type here is a newtype over a normalised `String` whose field is
//! private: the only way to obtain one is through its `parse` function, so a
//! value of the type is proof that the check has passed.

use std::fmt;

use serde::Serialize;

pub use crate::error::InvalidValue;

/// The SIREN of La Poste, whose SIRETs follow a different check rule.
const LA_POSTE_SIREN: &str = "356000000";

/// Characters accepted as visual separators inside identifiers: the ASCII
/// space plus the no-break spaces that French typography and copy-paste from
/// official documents commonly produce.
fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\u{a0}' | '\u{202f}')
}

/// Removes surrounding whitespace and every inner space.
fn strip_spaces(raw: &str) -> String {
    raw.trim().chars().filter(|c| !is_space(*c)).collect()
}

/// True when `s` is made of exactly `len` ASCII digits.
fn is_digits(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_digit())
}

/// Luhn checksum over ASCII digits: true when the number is Luhn-valid.
/// The caller guarantees that `digits` only holds ASCII digits.
fn luhn_valid(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 {
                    doubled - 9
                } else {
                    doubled
                }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Sum of the ASCII digits of `digits`.
fn digit_sum(digits: &str) -> u32 {
    digits.bytes().map(|b| u32::from(b - b'0')).sum()
}

/// Implements `as_str`, `Display` for a newtype over `String`.
macro_rules! string_newtype {
    ($ty:ident) => {
        impl $ty {
            /// The normalised value as a string slice.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

/// A SIREN: the 9-digit INSEE number identifying a French legal unit
/// (company, association…), whose last digit is a Luhn check digit.
///
/// Spaces in the input (`"732 829 320"`) are tolerated and removed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Siren(String);

impl Siren {
    /// Parses a SIREN: 9 digits passing the Luhn check, spaces ignored.
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let digits = strip_spaces(raw);
        if !is_digits(&digits, 9) {
            return Err(InvalidValue::new("invalid_siren", "a SIREN has 9 digits"));
        }
        if !luhn_valid(&digits) {
            return Err(InvalidValue::new(
                "invalid_siren",
                "the SIREN's check digit is wrong",
            ));
        }
        Ok(Self(digits))
    }
}

string_newtype!(Siren);

/// A SIRET: the 14-digit INSEE number identifying one establishment of a
/// legal unit; its first 9 digits are the unit's SIREN.
///
/// The check is Luhn over the 14 digits, except for La Poste (SIREN
/// 356000000), whose establishments are numbered so that the sum of the 14
/// digits is a multiple of 5. Spaces in the input are tolerated and removed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Siret(String);

impl Siret {
    /// Parses a SIRET: 14 digits, a valid SIREN prefix, and a valid check
    /// (Luhn, or the La Poste digit-sum rule), spaces ignored.
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let digits = strip_spaces(raw);
        if !is_digits(&digits, 14) {
            return Err(InvalidValue::new("invalid_siret", "a SIRET has 14 digits"));
        }
        let siren = &digits[..9];
        if !luhn_valid(siren) {
            return Err(InvalidValue::new(
                "invalid_siret",
                "the SIRET's first 9 digits are not a valid SIREN",
            ));
        }
        // La Poste's head office (35600000000048) is Luhn-valid but its
        // digit sum is not a multiple of 5, so both rules are accepted there.
        let valid = luhn_valid(&digits)
            || (siren == LA_POSTE_SIREN && digit_sum(&digits).is_multiple_of(5));
        if !valid {
            return Err(InvalidValue::new(
                "invalid_siret",
                "the SIRET's check digit is wrong",
            ));
        }
        Ok(Self(digits))
    }

    /// The SIREN of the legal unit this establishment belongs to.
    pub fn siren(&self) -> Siren {
        Siren(self.0[..9].to_owned())
    }
}

string_newtype!(Siret);

/// An INSEE commune code (code officiel géographique): five digits, or for
/// Corsica `2A`/`2B` followed by three digits.
///
/// Lowercase Corsican input (`"2a004"`) is accepted and uppercased.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct InseeCode(String);

impl InseeCode {
    /// Parses an INSEE commune code, e.g. `"74056"` (Chamonix) or `"2A004"`.
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let code = raw.trim().to_ascii_uppercase();
        let bytes = code.as_bytes();
        let valid = is_digits(&code, 5)
            || (bytes.len() == 5
                && bytes[0] == b'2'
                && matches!(bytes[1], b'A' | b'B')
                && bytes[2..].iter().all(u8::is_ascii_digit));
        if !valid {
            return Err(InvalidValue::new(
                "invalid_insee_code",
                "an INSEE commune code has 5 digits, or 2A/2B and 3 digits for Corsica",
            ));
        }
        Ok(Self(code))
    }
}

string_newtype!(InseeCode);

/// A French postcode: five digits, never starting with `00`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Postcode(String);

impl Postcode {
    /// Parses a French postcode such as `"74400"` or `"05100"`.
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let code = raw.trim();
        if !is_digits(code, 5) {
            return Err(InvalidValue::new(
                "invalid_postcode",
                "a postcode has 5 digits",
            ));
        }
        if code.starts_with("00") {
            return Err(InvalidValue::new(
                "invalid_postcode",
                "a postcode cannot start with 00",
            ));
        }
        Ok(Self(code.to_owned()))
    }
}

string_newtype!(Postcode);

/// A telephone number normalised to E.164 (`+` then 8 to 15 digits).
///
/// French numbers may be given in national form (`"06 12 34 56 78"`) or
/// international form (`"+33 (0)6 12 34 56 78"`, `"0033612345678"`) and are
/// stored as `+33` followed by 9 digits. Other countries must be given with
/// `+` or `00` and their country code.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// Parses and normalises a phone number to E.164.
    ///
    /// Accepted separators are spaces, dots and dashes, plus `(0)` right after
    /// the French country code (`+33 (0)6…`).
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let invalid = |message: &str| InvalidValue::new("invalid_phone", message);

        let compact: String = raw
            .trim()
            .chars()
            .filter(|c| !is_space(*c) && !matches!(c, '.' | '-'))
            .collect();

        let (international, rest) = if let Some(rest) = compact.strip_prefix('+') {
            (true, rest)
        } else if let Some(rest) = compact.strip_prefix("00") {
            (true, rest)
        } else {
            (false, compact.as_str())
        };

        if !international {
            if !rest.bytes().all(|b| b.is_ascii_digit()) {
                return Err(invalid(
                    "a phone number may only contain digits and separators",
                ));
            }
            let Some(national) = rest.strip_prefix('0') else {
                return Err(invalid(
                    "a national phone number starts with 0; give other numbers with + and a country code",
                ));
            };
            return french(national).ok_or_else(|| {
                invalid("a French phone number has 10 digits starting with 0 then 1 to 9")
            });
        }

        // The optional trunk prefix "(0)" is only meaningful after +33.
        let rest = match rest.strip_prefix("33(0)") {
            Some(after) => format!("33{after}"),
            None => rest.to_owned(),
        };
        if rest.is_empty() || !rest.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid(
                "an international phone number is + followed by digits and separators",
            ));
        }
        if let Some(national) = rest.strip_prefix("33") {
            return french(national).ok_or_else(|| {
                invalid("a French phone number is +33 followed by 9 digits, the first 1 to 9")
            });
        }
        if rest.starts_with('0') {
            return Err(invalid("a country code cannot start with 0"));
        }
        if !(8..=15).contains(&rest.len()) {
            return Err(invalid(
                "an international phone number has 8 to 15 digits after the +",
            ));
        }
        Ok(Self(format!("+{rest}")))
    }
}

/// Builds `+33…` from the 9 national significant digits (without the leading
/// 0), or `None` when they are not 9 digits starting with 1 to 9.
fn french(national: &str) -> Option<PhoneNumber> {
    let valid = is_digits(national, 9) && !national.starts_with('0');
    valid.then(|| PhoneNumber(format!("+33{national}")))
}

string_newtype!(PhoneNumber);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The digit that makes `prefix` followed by it Luhn-valid.
    fn luhn_key(prefix: &str) -> char {
        (0..10u8)
            .map(|d| format!("{prefix}{d}"))
            .find(|candidate| luhn_valid(candidate))
            .and_then(|candidate| candidate.chars().last())
            .unwrap()
    }

    fn digits(len: usize) -> impl Strategy<Value = String> {
        proptest::collection::vec(0u8..10, len)
            .prop_map(|v| v.into_iter().map(|d| char::from(b'0' + d)).collect())
    }

    fn valid_siren() -> impl Strategy<Value = String> {
        digits(8).prop_map(|p| format!("{p}{}", luhn_key(&p)))
    }

    // ---- SIREN ----

    #[test]
    fn siren_accepts_real_examples() {
        assert_eq!(Siren::parse("732829320").unwrap().as_str(), "732829320");
        assert_eq!(Siren::parse("356000000").unwrap().as_str(), "356000000");
    }

    #[test]
    fn siren_removes_spaces() {
        assert_eq!(Siren::parse(" 732 829 320 ").unwrap().as_str(), "732829320");
        assert_eq!(
            Siren::parse("732\u{a0}829\u{a0}320").unwrap().as_str(),
            "732829320"
        );
    }

    #[test]
    fn siren_rejects_bad_check_digit() {
        let err = Siren::parse("732829321").unwrap_err();
        assert_eq!(err.code, "invalid_siren");
        assert_eq!(err.message, "the SIREN's check digit is wrong");
        assert!(Siren::parse("732829420").is_err());
    }

    #[test]
    fn siren_rejects_wrong_length_and_letters() {
        for raw in [
            "",
            "73282932",
            "7328293200",
            "73282932A",
            "732-829-320",
            "７３２８２９３２０",
        ] {
            let err = Siren::parse(raw).unwrap_err();
            assert_eq!(err.code, "invalid_siren", "{raw}");
            assert_eq!(err.message, "a SIREN has 9 digits", "{raw}");
        }
    }

    // ---- SIRET ----

    #[test]
    fn siret_accepts_real_examples() {
        let s = Siret::parse("73282932000074").unwrap();
        assert_eq!(s.as_str(), "73282932000074");
        assert_eq!(s.siren().as_str(), "732829320");
        assert_eq!(Siret::parse("732 829 320 00074").unwrap(), s);
    }

    #[test]
    fn siret_la_poste_exception() {
        // Head office: Luhn-valid, digit sum 26.
        assert!(luhn_valid("35600000000048"));
        assert_eq!(digit_sum("35600000000048"), 26);
        let head = Siret::parse("35600000000048").unwrap();
        assert_eq!(head.siren().as_str(), "356000000");
        // An establishment: not Luhn-valid, digit sum 45.
        assert!(!luhn_valid("35600000049837"));
        assert_eq!(digit_sum("35600000049837"), 45);
        assert!(Siret::parse("356 000 000 49837").is_ok());
        // Neither rule.
        let err = Siret::parse("35600000049838").unwrap_err();
        assert_eq!(err.message, "the SIRET's check digit is wrong");
    }

    #[test]
    fn siret_digit_sum_rule_is_only_for_la_poste() {
        // 73282932000077: digit sum 50 (multiple of 5) but not Luhn-valid.
        assert!(!luhn_valid("73282932000077"));
        assert_eq!(digit_sum("73282932000077") % 5, 0);
        assert!(Siret::parse("73282932000077").is_err());
    }

    #[test]
    fn siret_rejects_one_changed_digit() {
        let err = Siret::parse("73282932000075").unwrap_err();
        assert_eq!(err.code, "invalid_siret");
        assert_eq!(err.message, "the SIRET's check digit is wrong");
    }

    #[test]
    fn siret_rejects_invalid_siren_prefix() {
        // Luhn-valid as 14 digits, but 732829321 is not a valid SIREN.
        let raw = format!("7328293210006{}", luhn_key("7328293210006"));
        assert!(luhn_valid(&raw));
        let err = Siret::parse(&raw).unwrap_err();
        assert_eq!(
            err.message,
            "the SIRET's first 9 digits are not a valid SIREN"
        );
    }

    #[test]
    fn siret_rejects_wrong_length_and_letters() {
        for raw in [
            "",
            "7328293200007",
            "732829320000740",
            "7328293200007A",
            "732829320",
        ] {
            let err = Siret::parse(raw).unwrap_err();
            assert_eq!(err.code, "invalid_siret", "{raw}");
            assert_eq!(err.message, "a SIRET has 14 digits", "{raw}");
        }
    }

    // ---- INSEE code ----

    #[test]
    fn insee_code_examples() {
        assert_eq!(InseeCode::parse("74056").unwrap().as_str(), "74056");
        assert_eq!(InseeCode::parse("73257").unwrap().as_str(), "73257");
        assert_eq!(InseeCode::parse("2A004").unwrap().as_str(), "2A004");
        assert_eq!(InseeCode::parse("2b033").unwrap().as_str(), "2B033");
        for raw in [
            "", "7405", "740560", "2C004", "3A004", "2A04", "2AB04", "A2004", "7405a",
        ] {
            assert_eq!(
                InseeCode::parse(raw).unwrap_err().code,
                "invalid_insee_code",
                "{raw}"
            );
        }
    }

    // ---- Postcode ----

    #[test]
    fn postcode_examples() {
        assert_eq!(Postcode::parse("74400").unwrap().as_str(), "74400");
        assert_eq!(Postcode::parse("05100").unwrap().as_str(), "05100");
        assert_eq!(
            Postcode::parse("00123").unwrap_err().message,
            "a postcode cannot start with 00"
        );
        for raw in ["", "7440", "744000", "7440A", "74 400"] {
            assert_eq!(
                Postcode::parse(raw).unwrap_err().code,
                "invalid_postcode",
                "{raw}"
            );
        }
    }

    // ---- Phone ----

    #[test]
    fn phone_french_forms() {
        for raw in [
            "06 12 34 56 78",
            "06.12.34.56.78",
            "0612345678",
            "06-12-34-56-78",
            "+33 6 12 34 56 78",
            "+33 (0)6 12 34 56 78",
            "+33(0)612345678",
            "0033612345678",
            "0033 (0)6 12 34 56 78",
            " +33612345678 ",
        ] {
            assert_eq!(
                PhoneNumber::parse(raw).unwrap().as_str(),
                "+33612345678",
                "{raw}"
            );
        }
        assert_eq!(
            PhoneNumber::parse("04-50-53-00-24").unwrap().as_str(),
            "+33450530024"
        );
    }

    #[test]
    fn phone_international_forms() {
        assert_eq!(
            PhoneNumber::parse("+41 22 345 67 89").unwrap().as_str(),
            "+41223456789"
        );
        assert_eq!(
            PhoneNumber::parse("0044 20 7946 0958").unwrap().as_str(),
            "+442079460958"
        );
        assert_eq!(
            PhoneNumber::parse("+1234567").unwrap_err().code,
            "invalid_phone"
        );
        assert!(PhoneNumber::parse("+12345678").is_ok());
        assert!(PhoneNumber::parse("+123456789012345").is_ok());
        assert!(PhoneNumber::parse("+1234567890123456").is_err());
    }

    #[test]
    fn phone_rejects_invalid() {
        for raw in [
            "",
            "+",
            "00",
            "0",
            "612345678",
            "061234567",
            "06123456789",
            "0012",
            "06 12 34 56 7a",
            "+33 06 12 34 56 78",
            "+33 0612345678",
            "+3361234567",
            "+336123456789",
            "+44 (0)20 7946 0958",
            "(06) 12 34 56 78",
            "+33 6 12 34 56 78 ext 1",
            "+0 123456789",
            "++33612345678",
            "06/12/34/56/78",
        ] {
            assert_eq!(
                PhoneNumber::parse(raw).unwrap_err().code,
                "invalid_phone",
                "{raw}"
            );
        }
    }

    #[test]
    fn serializes_as_plain_string_and_displays() {
        let siret = Siret::parse("73282932000074").unwrap();
        assert_eq!(serde_json::to_string(&siret).unwrap(), "\"73282932000074\"");
        assert_eq!(siret.to_string(), "73282932000074");
        let phone = PhoneNumber::parse("06 12 34 56 78").unwrap();
        assert_eq!(serde_json::to_string(&phone).unwrap(), "\"+33612345678\"");
        assert_eq!(
            serde_json::to_string(&InseeCode::parse("2a004").unwrap()).unwrap(),
            "\"2A004\""
        );
        assert_eq!(InvalidValue::new("x", "why").to_string(), "why");
    }

    proptest! {
        #[test]
        fn parse_never_panics(raw in any::<String>()) {
            let _ = Siren::parse(&raw);
            let _ = Siret::parse(&raw);
            let _ = InseeCode::parse(&raw);
            let _ = Postcode::parse(&raw);
            let _ = PhoneNumber::parse(&raw);
        }

        #[test]
        fn strings_of_identifier_lengths_never_panic(
            raw in "\\PC{5}|\\PC{9}|\\PC{14}|[0-9٠-٩０-９ \u{a0}\u{202f}]{0,20}|2[AaBb\u{0130}ß][0-9]{3}"
        ) {
            if let Ok(siret) = Siret::parse(&raw) {
                prop_assert!(siret.as_str().bytes().all(|b| b.is_ascii_digit()));
                let _ = siret.siren();
            }
            if let Ok(siren) = Siren::parse(&raw) {
                prop_assert_eq!(siren.as_str().len(), 9);
            }
            if let Ok(code) = InseeCode::parse(&raw) {
                prop_assert_eq!(code.as_str().len(), 5);
            }
            let _ = Postcode::parse(&raw);
            let _ = PhoneNumber::parse(&raw);
        }

        #[test]
        fn phone_like_strings_never_panic(raw in "[+0-9 .()\\-]{0,24}") {
            if let Ok(p) = PhoneNumber::parse(&raw) {
                prop_assert!(p.as_str().starts_with('+'));
                let n = p.as_str().len() - 1;
                prop_assert!((8..=15).contains(&n));
            }
        }

        #[test]
        fn random_14_digits_never_panic(raw in "[0-9]{14}") {
            if let Ok(s) = Siret::parse(&raw) {
                prop_assert_eq!(s.as_str(), raw.as_str());
                prop_assert!(Siren::parse(s.siren().as_str()).is_ok());
            }
        }

        #[test]
        fn valid_siren_round_trips(siren in valid_siren()) {
            let parsed = Siren::parse(&siren).unwrap();
            prop_assert_eq!(Siren::parse(parsed.as_str()).unwrap(), parsed);
        }

        #[test]
        fn siren_with_one_digit_changed_is_rejected(
            siren in valid_siren(), pos in 0usize..9, delta in 1u8..10
        ) {
            let mut bytes = siren.into_bytes();
            bytes[pos] = b'0' + (bytes[pos] - b'0' + delta) % 10;
            let changed = String::from_utf8(bytes).unwrap();
            prop_assert!(Siren::parse(&changed).is_err());
        }

        #[test]
        fn valid_siren_plus_five_digits_with_luhn_key_parses(
            siren in valid_siren(), middle in digits(4)
        ) {
            let prefix = format!("{siren}{middle}");
            let raw = format!("{prefix}{}", luhn_key(&prefix));
            let siret = Siret::parse(&raw).unwrap();
            prop_assert_eq!(siret.siren(), Siren::parse(&siren).unwrap());
            prop_assert_eq!(Siret::parse(siret.as_str()).unwrap(), siret);
        }

        #[test]
        fn la_poste_digit_sum_multiple_of_five_parses(tail in digits(4)) {
            let prefix = format!("{LA_POSTE_SIREN}{tail}");
            let sum = digit_sum(&prefix);
            let last = (5 - sum % 5) % 5; // 0..5, a single digit
            let raw = format!("{prefix}{last}");
            prop_assert!(Siret::parse(&raw).is_ok());
        }

        #[test]
        fn valid_insee_codes_round_trip(
            raw in "([0-9]{5}|2[ABab][0-9]{3})"
        ) {
            let code = InseeCode::parse(&raw).unwrap();
            prop_assert_eq!(code.as_str(), raw.to_ascii_uppercase());
            prop_assert_eq!(InseeCode::parse(code.as_str()).unwrap(), code);
        }

        #[test]
        fn valid_postcodes_round_trip(raw in "(0[1-9]|[1-9][0-9])[0-9]{3}") {
            let code = Postcode::parse(&raw).unwrap();
            prop_assert_eq!(Postcode::parse(code.as_str()).unwrap(), code);
        }

        #[test]
        fn french_national_numbers_round_trip(rest in "[1-9][0-9]{8}") {
            let spaced: String = format!("0{rest}")
                .chars()
                .enumerate()
                .flat_map(|(i, c)| (i > 0 && i % 2 == 0).then_some(' ').into_iter().chain([c]))
                .collect();
            let phone = PhoneNumber::parse(&spaced).unwrap();
            prop_assert_eq!(phone.as_str(), format!("+33{rest}"));
            prop_assert_eq!(PhoneNumber::parse(phone.as_str()).unwrap(), phone);
        }

        #[test]
        fn international_numbers_round_trip(raw in "\\+([1-24-9][0-9]|3[0-24-9])[0-9]{6,13}") {
            let phone = PhoneNumber::parse(&raw).unwrap();
            prop_assert_eq!(phone.as_str(), raw.as_str());
            prop_assert_eq!(PhoneNumber::parse(phone.as_str()).unwrap(), phone);
        }
    }
}
