//! E-mail addresses, parsed once at the boundary into one canonical spelling per mailbox.
//!
//! The domain is stored in its ASCII (punycode) form, so that `user@exämple.org` and
//! `user@xn--exmple-cua.org` are one account. Addresses that cannot be a person's public mailbox
//! (an IP literal, a single-label domain such as `localhost`) are refused, and so are domains whose
//! labels mix writing systems or spell Latin words with look-alike letters (`exаmple.org` with a
//! Cyrillic `а`): they would otherwise pass for another organization's domain.

use std::fmt;

use serde::Serialize;
use validator::ValidateEmail;

use super::identifiers::InvalidValue;

/// Longest e-mail address accepted, in characters (RFC 5321 path limit).
const EMAIL_MAX_CHARS: usize = 254;

/// An e-mail address used to sign in and to receive messages: trimmed, lowercased, its domain in
/// ASCII (punycode) form, so that two spellings of the same mailbox compare equal.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct EmailAddress(String);

impl EmailAddress {
    /// Parses an e-mail address: trimmed, lowercased, the domain converted to punycode (UTS 46), at
    /// most 254 characters, syntactically valid, on a public multi-label domain written in one script.
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        let email = raw.trim().to_lowercase();
        let Some((local, domain)) = email.rsplit_once('@') else {
            return Err(invalid());
        };
        if local.is_empty() || local.contains('@') || domain.is_empty() {
            return Err(invalid());
        }
        if domain.starts_with('[') || is_ip_address(domain) {
            return Err(InvalidValue::new(
                "ip_literal_domain",
                "an address at an IP address is not accepted: use a domain name",
            ));
        }
        let ascii = idna::domain_to_ascii(domain).map_err(|_| invalid())?;
        if ascii.is_empty() || ascii.split('.').any(str::is_empty) {
            return Err(invalid());
        }
        if !ascii.contains('.') {
            return Err(InvalidValue::new(
                "single_label_domain",
                "the domain needs at least two parts, such as example.org",
            ));
        }
        if is_ip_address(&ascii) {
            return Err(InvalidValue::new(
                "ip_literal_domain",
                "an address at an IP address is not accepted: use a domain name",
            ));
        }
        let (unicode, checked) = idna::domain_to_unicode(&ascii);
        if checked.is_err() || unicode.split('.').any(|label| !single_script(label)) {
            return Err(InvalidValue::new(
                "mixed_script_domain",
                "the domain mixes writing systems or look-alike letters",
            ));
        }
        let email = format!("{local}@{ascii}");
        if email.chars().count() > EMAIL_MAX_CHARS {
            return Err(InvalidValue::new(
                "invalid_email",
                "an email address has at most 254 characters",
            ));
        }
        if !email.validate_email() {
            return Err(invalid());
        }
        Ok(Self(email))
    }

    /// The normalised address as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The domain part of the address (everything after the last `@`), in ASCII (punycode) form.
    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(_, domain)| domain)
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn invalid() -> InvalidValue {
    InvalidValue::new("invalid_email", "this is not a valid email address")
}

/// Whether a domain is in fact an IPv4 or IPv6 address (with or without brackets).
fn is_ip_address(domain: &str) -> bool {
    let bare = domain.trim_start_matches('[').trim_end_matches(']');
    bare.parse::<std::net::IpAddr>().is_ok()
        || domain
            .rsplit('.')
            .next()
            .is_some_and(|tld| !tld.is_empty() && tld.bytes().all(|b| b.is_ascii_digit()))
}

/// The writing systems that look alike and that a homoglyph attack mixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Script {
    Latin,
    Greek,
    Cyrillic,
    /// Any other script, roughly told apart by its Unicode block of 128 code points.
    Other,
}

/// The script of a letter; `None` for digits, hyphens and other neutral characters.
fn script_of(c: char) -> Option<Script> {
    if !c.is_alphabetic() {
        return None;
    }
    Some(match u32::from(c) {
        0x41..=0x5A
        | 0x61..=0x7A
        | 0xAA
        | 0xBA
        | 0xC0..=0x2AF
        | 0x1D00..=0x1DBF
        | 0x1E00..=0x1EFF
        | 0x2C60..=0x2C7F
        | 0xA720..=0xA7FF
        | 0xAB30..=0xAB6F
        | 0xFF21..=0xFF5A => Script::Latin,
        0x370..=0x3FF | 0x1F00..=0x1FFF => Script::Greek,
        0x400..=0x52F | 0x1C80..=0x1C8F | 0x2DE0..=0x2DFF | 0xA640..=0xA69F => Script::Cyrillic,
        _ => Script::Other,
    })
}

/// Cyrillic and Greek letters that read as Latin ones once lowercased (`а` for `a`, `ο` for `o`…).
const LATIN_LOOK_ALIKES: &str = "аеорсухіјѕԁһӏԛԝвкмнтүɡαικνορτυχϲϳ";

/// Whether a domain label is written in one script, and, when it is Cyrillic or Greek, is not made
/// only of letters that pass for Latin ones (a whole-script look-alike such as `аре` for `ape`).
fn single_script(label: &str) -> bool {
    let mut scripts = label.chars().filter_map(script_of);
    let Some(first) = scripts.next() else {
        return true;
    };
    if !scripts.all(|s| s == first) {
        return false;
    }
    match first {
        Script::Cyrillic | Script::Greek => !label
            .chars()
            .filter(|c| c.is_alphabetic())
            .all(|c| LATIN_LOOK_ALIKES.contains(c)),
        Script::Latin | Script::Other => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn code(raw: &str) -> &'static str {
        EmailAddress::parse(raw).unwrap_err().code
    }

    #[test]
    fn an_international_domain_and_its_punycode_are_one_address() {
        let unicode = EmailAddress::parse("User@Exämple.org").unwrap();
        let ascii = EmailAddress::parse("user@xn--exmple-cua.org").unwrap();
        assert_eq!(unicode, ascii);
        assert_eq!(unicode.as_str(), "user@xn--exmple-cua.org");
        assert_eq!(unicode.domain(), "xn--exmple-cua.org");
        // A domain that is one script from end to end is welcome, whatever the script.
        assert!(EmailAddress::parse("ivan@пример.рф").is_ok());
        assert!(EmailAddress::parse("zoe@crème-brûlée.fr").is_ok());
    }

    #[test]
    fn ip_literals_and_single_label_domains_are_refused() {
        for raw in [
            "user@[127.0.0.1]",
            "user@[IPv6:::1]",
            "user@127.0.0.1",
            "user@10.0.0.1",
            "user@example.123",
        ] {
            assert_eq!(code(raw), "ip_literal_domain", "{raw}");
        }
        for raw in ["user@localhost", "user@intranet", "user@xn--exmple-cua"] {
            assert_eq!(code(raw), "single_label_domain", "{raw}");
        }
        for raw in [
            "user@example..org",
            "user@.example.org",
            "user@example.org.",
        ] {
            assert_eq!(code(raw), "invalid_email", "{raw}");
        }
    }

    #[test]
    fn look_alike_domains_are_refused() {
        for raw in [
            // A Cyrillic а in a Latin word.
            "user@exаmple.org",
            // A Greek ο in a Latin word.
            "user@gοogle.com",
            // A label written only with Cyrillic letters that read as Latin ones.
            "user@аре.org",
            // Latin and Cyrillic in one label of a Cyrillic domain.
            "user@пpимер.рф",
        ] {
            assert_eq!(code(raw), "mixed_script_domain", "{raw}");
        }
        // Its punycode spelling is refused just the same.
        let punycode = idna::domain_to_ascii("exаmple.org").unwrap();
        assert!(punycode.starts_with("xn--"), "{punycode}");
        assert_eq!(code(&format!("user@{punycode}")), "mixed_script_domain");
    }

    proptest! {
        #[test]
        fn parsing_is_idempotent(raw in "\\PC{0,40}@\\PC{0,40}") {
            if let Ok(email) = EmailAddress::parse(&raw) {
                prop_assert_eq!(EmailAddress::parse(email.as_str()).unwrap(), email.clone());
                prop_assert!(email.domain().is_ascii(), "{}", email);
                prop_assert!(email.domain().contains('.'), "{}", email);
            }
        }

        #[test]
        fn a_latin_domain_with_one_cyrillic_letter_is_refused(
            head in "[a-z]{1,10}", tail in "[a-z]{1,10}",
            letter in proptest::sample::select(vec!['а', 'е', 'о', 'р', 'с', 'х', 'у'])
        ) {
            let raw = format!("user@{head}{letter}{tail}.org");
            prop_assert_eq!(code(&raw), "mixed_script_domain");
        }

        #[test]
        fn ascii_domains_keep_their_spelling(
            local in "[a-z0-9]{1,20}", name in "[a-z][a-z0-9]{0,15}", tld in "[a-z]{2,6}"
        ) {
            let email = EmailAddress::parse(&format!("{local}@{name}.{tld}")).unwrap();
            prop_assert_eq!(email.as_str(), format!("{local}@{name}.{tld}"));
        }
    }
}
