//! Values that describe a user account, parsed once at the boundary
//! ("parse, don't validate").
//!
//! Each type keeps its field private and can only be built through `parse`,
//! so holding one is proof that the input was checked and normalised.

use std::fmt;

pub use super::email::EmailAddress;
use super::identifiers::InvalidValue;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
/// Shortest password accepted, in characters.
const PASSWORD_MIN_CHARS: usize = 12;
/// Longest password accepted, in characters (bounds hashing cost).
const PASSWORD_MAX_CHARS: usize = 128;
/// Longest display name accepted, in characters.
const DISPLAY_NAME_MAX_CHARS: usize = 100;

/// A new password chosen by a user, before hashing.
///
/// Kept in a [`SecretString`] so that it is zeroed on drop and never shows up
/// in `Debug` output or logs; deliberately not `Serialize`.
#[derive(Debug, Clone)]
pub struct Password(SecretString);

impl Password {
    /// Parses a password: 12 to 128 characters (not bytes), and not the
    /// account's own e-mail address (compared trimmed, case-insensitively).
    ///
    /// The password itself is kept exactly as typed, without trimming. Without a valid email (the
    /// request's email failed its own check), only the length rules apply.
    pub fn parse(raw: &str, email: Option<&EmailAddress>) -> Result<Self, InvalidValue> {
        let chars = raw.chars().count();
        if chars < PASSWORD_MIN_CHARS {
            return Err(InvalidValue::new(
                "too_short",
                "a password has at least 12 characters",
            ));
        }
        if chars > PASSWORD_MAX_CHARS {
            return Err(InvalidValue::new(
                "too_long",
                "a password has at most 128 characters",
            ));
        }
        if email.is_some_and(|email| raw.trim().to_lowercase() == email.as_str()) {
            return Err(InvalidValue::new(
                "same_as_email",
                "the password cannot be the email address",
            ));
        }
        Ok(Self(SecretString::from(raw)))
    }

    /// The clear-text password, for hashing only.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// The password as a secret, to hand to the hasher.
    pub fn into_secret(self) -> SecretString {
        self.0
    }
}

/// The name shown for a user in the interface and in e-mails: trimmed,
/// 1 to 100 characters, without control or format characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct DisplayName(String);

impl DisplayName {
    /// Parses a display name, trimming surrounding whitespace.
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        if raw.trim().chars().any(char::is_control) {
            return Err(InvalidValue::new(
                "invalid_characters",
                "a name cannot contain control characters",
            ));
        }
        // Format characters (right-to-left overrides, zero-width spaces…) change how the name reads.
        let visible = crate::domain::text::visible(raw);
        let name = visible.trim();
        if name.is_empty() {
            return Err(InvalidValue::new("required", "a name is required"));
        }
        if name.chars().count() > DISPLAY_NAME_MAX_CHARS {
            return Err(InvalidValue::new(
                "too_long",
                "a name has at most 100 characters",
            ));
        }
        Ok(Self(name.to_owned()))
    }

    /// The trimmed name as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DisplayName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The language a user reads the interface and e-mails in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Locale {
    /// French, the default.
    #[default]
    Fr,
    /// English.
    En,
}

impl Locale {
    /// Parses `"fr"` or `"en"`, trimmed and case-insensitive.
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let raw = raw.trim();
        if raw.eq_ignore_ascii_case("fr") {
            Ok(Self::Fr)
        } else if raw.eq_ignore_ascii_case("en") {
            Ok(Self::En)
        } else {
            Err(InvalidValue::new(
                "invalid_locale",
                "the language must be fr or en",
            ))
        }
    }

    /// The two-letter language code, `"fr"` or `"en"`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Fr => "fr",
            Self::En => "en",
        }
    }
}

impl fmt::Display for Locale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn email() -> EmailAddress {
        EmailAddress::parse("Marie.Curie@Example.org").unwrap()
    }

    // ---- EmailAddress ----

    #[test]
    fn email_is_trimmed_and_lowercased() {
        let e = EmailAddress::parse("  Marie.Curie@Example.ORG \n").unwrap();
        assert_eq!(e.as_str(), "marie.curie@example.org");
        assert_eq!(e.domain(), "example.org");
        assert_eq!(e.to_string(), "marie.curie@example.org");
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            "\"marie.curie@example.org\""
        );
    }

    #[test]
    fn email_rejects_invalid() {
        for raw in [
            "",
            "   ",
            "marie",
            "marie@",
            "@example.org",
            "ma rie@example.org",
            "a@b@c",
        ] {
            let err = EmailAddress::parse(raw).unwrap_err();
            assert_eq!(err.code, "invalid_email", "{raw}");
        }
    }

    #[test]
    fn email_length_limit() {
        // 64-char local part + '@' + domain made of 63-char labels.
        let label = "a".repeat(63);
        let local = "b".repeat(64);
        let ok = format!("{local}@{label}.{label}.{}.fr", "c".repeat(58));
        assert_eq!(ok.chars().count(), 254);
        assert!(EmailAddress::parse(&ok).is_ok());
        let too_long = format!("{local}@{label}.{label}.{}.fr", "c".repeat(59));
        let err = EmailAddress::parse(&too_long).unwrap_err();
        assert_eq!(err.message, "an email address has at most 254 characters");
    }

    // ---- Password ----

    #[test]
    fn password_length_is_counted_in_chars() {
        assert_eq!(
            Password::parse("short", Some(&email())).unwrap_err().code,
            "too_short"
        );
        assert_eq!(
            Password::parse(&"a".repeat(11), Some(&email()))
                .unwrap_err()
                .code,
            "too_short"
        );
        assert!(Password::parse(&"a".repeat(12), Some(&email())).is_ok());
        // 12 chars but 24 bytes: accepted; 11 multi-byte chars: rejected.
        assert!(Password::parse(&"é".repeat(12), Some(&email())).is_ok());
        assert_eq!(
            Password::parse(&"é".repeat(11), Some(&email()))
                .unwrap_err()
                .code,
            "too_short"
        );
        assert!(Password::parse(&"é".repeat(128), Some(&email())).is_ok());
        assert_eq!(
            Password::parse(&"a".repeat(129), Some(&email()))
                .unwrap_err()
                .code,
            "too_long"
        );
    }

    #[test]
    fn password_cannot_be_the_email() {
        for raw in [
            "marie.curie@example.org",
            "MARIE.CURIE@EXAMPLE.ORG",
            "  Marie.Curie@example.org ",
        ] {
            assert_eq!(
                Password::parse(raw, Some(&email())).unwrap_err().code,
                "same_as_email",
                "{raw}"
            );
        }
        assert!(Password::parse("marie.curie@example.org!", Some(&email())).is_ok());
    }

    #[test]
    fn password_is_kept_verbatim_and_hidden_from_debug() {
        let p = Password::parse("  correct horse battery  ", Some(&email())).unwrap();
        assert_eq!(p.expose(), "  correct horse battery  ");
        let debug = format!("{p:?}");
        assert!(!debug.contains("horse"), "{debug}");
        assert_eq!(p.clone().expose(), p.expose());
    }

    // ---- DisplayName ----

    #[test]
    fn display_name_rules() {
        assert_eq!(
            DisplayName::parse("  Marie Curie ").unwrap().as_str(),
            "Marie Curie"
        );
        assert_eq!(DisplayName::parse("  ").unwrap_err().code, "required");
        assert_eq!(DisplayName::parse("").unwrap_err().code, "required");
        assert!(DisplayName::parse(&"é".repeat(100)).is_ok());
        assert_eq!(
            DisplayName::parse(&"é".repeat(101)).unwrap_err().code,
            "too_long"
        );
        assert_eq!(
            DisplayName::parse("Marie\u{0}Curie").unwrap_err().code,
            "invalid_characters"
        );
        assert_eq!(
            DisplayName::parse("Marie\nCurie").unwrap_err().code,
            "invalid_characters"
        );
        assert_eq!(
            DisplayName::parse("\u{202E}Marie\u{200B} Curie\u{2069}")
                .unwrap()
                .as_str(),
            "Marie Curie"
        );
        assert_eq!(
            DisplayName::parse("\u{200F}\u{FEFF}").unwrap_err().code,
            "required"
        );
        let name = DisplayName::parse("Zoé").unwrap();
        assert_eq!(name.to_string(), "Zoé");
        assert_eq!(serde_json::to_string(&name).unwrap(), "\"Zoé\"");
    }

    // ---- Locale ----

    #[test]
    fn locale_rules() {
        assert_eq!(Locale::parse("fr").unwrap(), Locale::Fr);
        assert_eq!(Locale::parse(" EN ").unwrap(), Locale::En);
        assert_eq!(Locale::parse("Fr").unwrap(), Locale::Fr);
        for raw in ["", "de", "fr-FR", "french"] {
            assert_eq!(
                Locale::parse(raw).unwrap_err().code,
                "invalid_locale",
                "{raw}"
            );
        }
        assert_eq!(Locale::default(), Locale::Fr);
        assert_eq!(Locale::En.as_str(), "en");
        assert_eq!(Locale::Fr.to_string(), "fr");
        assert_eq!(serde_json::to_string(&Locale::En).unwrap(), "\"en\"");
        assert_eq!(
            serde_json::from_str::<Locale>("\"fr\"").unwrap(),
            Locale::Fr
        );
        assert!(serde_json::from_str::<Locale>("\"FR\"").is_err());
    }

    proptest! {
        #[test]
        fn parse_never_panics(raw in any::<String>()) {
            let _ = EmailAddress::parse(&raw);
            let _ = Password::parse(&raw, Some(&email()));
            let _ = DisplayName::parse(&raw);
            let _ = Locale::parse(&raw);
        }

        #[test]
        fn generated_emails_round_trip(
            raw in "[A-Za-z0-9._%+-]{1,30}@[A-Za-z0-9]{1,20}\\.[A-Za-z]{2,6}"
        ) {
            // Some generated local parts are rejected (e.g. "a..b"); check the
            // accepted ones.
            if let Ok(e) = EmailAddress::parse(&raw) {
                prop_assert_eq!(e.as_str(), raw.to_lowercase());
                prop_assert_eq!(EmailAddress::parse(e.as_str()).unwrap(), e.clone());
                let suffix = format!("@{}", e.domain());
                prop_assert!(e.as_str().ends_with(&suffix));
            }
        }

        #[test]
        fn simple_emails_always_parse(
            local in "[a-z0-9]{1,30}", domain in "[a-z0-9]{1,20}\\.[a-z]{2,6}"
        ) {
            let e = EmailAddress::parse(&format!("{local}@{domain}")).unwrap();
            prop_assert_eq!(e.domain(), domain.as_str());
        }

        #[test]
        fn password_accepted_iff_length_in_range(raw in "\\PC{0,140}") {
            let n = raw.chars().count();
            let result = Password::parse(&raw, Some(&email()));
            prop_assert_eq!(result.is_ok(), (12..=128).contains(&n) && raw.trim().to_lowercase() != email().as_str());
            if let Ok(p) = result {
                prop_assert_eq!(p.expose(), raw.as_str());
            }
        }

        #[test]
        fn display_names_round_trip(raw in "[\\PC&&[^\\s]][\\PC]{0,98}[\\PC&&[^\\s]]|[\\PC&&[^\\s]]") {
            let name = DisplayName::parse(&raw).unwrap();
            prop_assert_eq!(name.as_str(), raw.as_str());
            prop_assert_eq!(DisplayName::parse(name.as_str()).unwrap(), name);
        }
    }
}

crate::domain::names::stored_names! {
    /// What staff invite someone to become.
    #[derive(Serialize)]
    #[serde(rename_all = "lowercase")]
    pub enum StaffRole("invitation role") {
        /// An administrator of the platform.
        Admin => "admin",
        /// A juror of one call.
        Juror => "juror",
        /// A manager of one call: acts on it as staff (screening, jury, ranking, decisions).
        Manager => "manager",
        /// An observer of one call: reads its applications, reviews, ranking and decisions.
        Observer => "observer",
    }
}

impl StaffRole {
    /// The role on one call this invitation gives, if it gives one on a call's staff.
    pub fn call_role(self) -> Option<CallRole> {
        match self {
            StaffRole::Manager => Some(CallRole::Manager),
            StaffRole::Observer => Some(CallRole::Observer),
            StaffRole::Admin | StaffRole::Juror => None,
        }
    }
}

crate::domain::names::stored_names! {
    /// A person's role on the staff of one call (a partner of a joint call, say), never beyond it.
    #[derive(Serialize, utoipa::ToSchema)]
    #[serde(rename_all = "lowercase")]
    pub enum CallRole("call staff role") {
        /// Acts on the call: screening, messages, jury and conflicts, assignments, ranking, shortlist,
        /// decisions and their publication, exports, email templates.
        Manager => "manager",
        /// Reads the call: its submitted applications, their files and messages, reviews, ranking and
        /// decisions; no change, no export.
        Observer => "observer",
    }
}
