//! Applicant organizations: their kinds and the identity rules each kind must satisfy.

use serde::Serialize;
use validator::ValidateUrl;

use super::identifiers::{InseeCode, InvalidValue, Siren, Siret};

/// What sort of organization applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OrganizationKind {
    Startup,
    Company,
    Territory,
    Association,
}

impl OrganizationKind {
    /// Every kind, in the order of the API contract.
    pub const ALL: [OrganizationKind; 4] = [
        OrganizationKind::Startup,
        OrganizationKind::Company,
        OrganizationKind::Territory,
        OrganizationKind::Association,
    ];

    /// Parses `startup`, `company`, `territory` or `association`.
    pub fn parse(raw: &str) -> Result<OrganizationKind, InvalidValue> {
        match raw {
            "startup" => Ok(OrganizationKind::Startup),
            "company" => Ok(OrganizationKind::Company),
            "territory" => Ok(OrganizationKind::Territory),
            "association" => Ok(OrganizationKind::Association),
            _ => Err(InvalidValue::new(
                "invalid_kind",
                "one of startup, company, territory, association",
            )),
        }
    }

    /// The kind's name in the API and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            OrganizationKind::Startup => "startup",
            OrganizationKind::Company => "company",
            OrganizationKind::Territory => "territory",
            OrganizationKind::Association => "association",
        }
    }
}

/// Parses a required free-text value: no control characters, format characters (right-to-left overrides,
/// zero-width spaces…) taken out, trimmed, 1 to `max` characters.
pub fn text(raw: &str, max: usize) -> Result<String, InvalidValue> {
    if raw.trim().chars().any(char::is_control) {
        return Err(InvalidValue::new(
            "invalid_characters",
            "control characters are not allowed",
        ));
    }
    let visible = crate::domain::text::visible(raw);
    let value = visible.trim();
    if value.is_empty() {
        return Err(InvalidValue::new("required", "this field cannot be empty"));
    }
    if value.chars().count() > max {
        return Err(InvalidValue::new(
            "too_long",
            format!("at most {max} characters"),
        ));
    }
    Ok(value.to_owned())
}

/// Parses a website: an absolute http(s) URL of at most 2048 characters.
pub fn website(raw: &str) -> Result<String, InvalidValue> {
    let value = raw.trim();
    let scheme_ok = value.starts_with("https://") || value.starts_with("http://");
    if !scheme_ok || value.len() > 2048 || !value.validate_url() {
        return Err(InvalidValue::new(
            "invalid_url",
            "an http:// or https:// address",
        ));
    }
    Ok(value.to_owned())
}

/// The national identifiers of an organization, checked against what its kind requires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub siret: Option<Siret>,
    pub siren: Option<Siren>,
    pub insee_code: Option<InseeCode>,
}

impl Identity {
    /// Start-ups and companies need a SIRET; territories a SIREN or an INSEE commune code; a SIREN given
    /// beside a SIRET must be the SIRET's own. The SIREN is derived from the SIRET when absent.
    /// Returns every failing field.
    pub fn check(
        kind: OrganizationKind,
        siret: Option<Siret>,
        siren: Option<Siren>,
        insee_code: Option<InseeCode>,
    ) -> Result<Identity, Vec<(&'static str, InvalidValue)>> {
        let mut errors = Vec::new();
        match kind {
            OrganizationKind::Startup | OrganizationKind::Company if siret.is_none() => {
                errors.push((
                    "siret",
                    InvalidValue::new("required", "start-ups and companies give their SIRET"),
                ));
            }
            OrganizationKind::Territory
                if siren.is_none() && insee_code.is_none() && siret.is_none() =>
            {
                errors.push((
                    "siren",
                    InvalidValue::new(
                        "required",
                        "a territory gives its SIREN or its INSEE commune code",
                    ),
                ));
            }
            _ => {}
        }
        if let (Some(siret), Some(siren)) = (&siret, &siren) {
            if siret.siren() != *siren {
                errors.push((
                    "siren",
                    InvalidValue::new("mismatch", "the SIREN is not the SIRET's first 9 digits"),
                ));
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let siren = siren.or_else(|| siret.as_ref().map(Siret::siren));
        Ok(Identity {
            siret,
            siren,
            insee_code,
        })
    }
}

/// Whether an organization may lose one of its members: never its last owner, who alone can manage it.
pub fn may_lose_member(member_is_owner: bool, owners: i64) -> bool {
    !member_is_owner || owners > 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn siret(s: &str) -> Option<Siret> {
        Some(Siret::parse(s).unwrap())
    }

    #[test]
    fn companies_need_a_siret_and_get_its_siren() {
        let missing = Identity::check(OrganizationKind::Startup, None, None, None).unwrap_err();
        assert_eq!(missing[0].0, "siret");
        let ok = Identity::check(
            OrganizationKind::Company,
            siret("73282932000074"),
            None,
            None,
        )
        .unwrap();
        assert_eq!(ok.siren.unwrap().as_str(), "732829320");
    }

    #[test]
    fn territories_need_a_siren_or_an_insee_code() {
        assert!(Identity::check(OrganizationKind::Territory, None, None, None).is_err());
        let insee = InseeCode::parse("74056").ok();
        assert!(Identity::check(OrganizationKind::Territory, None, None, insee).is_ok());
    }

    #[test]
    fn a_siren_must_match_the_siret() {
        let other = Siren::parse("356000000").ok();
        let errors = Identity::check(
            OrganizationKind::Company,
            siret("73282932000074"),
            other,
            None,
        )
        .unwrap_err();
        assert_eq!(errors[0].1.code, "mismatch");
    }

    #[test]
    fn names_lose_their_format_characters_and_keep_refusing_control_characters() {
        assert_eq!(
            text("\u{202E}Acme\u{200B} SAS\u{FEFF} ", 200).unwrap(),
            "Acme SAS"
        );
        assert_eq!(text("\u{200B}\u{2066}", 200).unwrap_err().code, "required");
        assert_eq!(
            text("Acme\u{7}", 200).unwrap_err().code,
            "invalid_characters"
        );
        assert_eq!(text(" Acme\n", 200).unwrap(), "Acme");
    }

    #[test]
    fn websites_are_http_urls() {
        assert!(website("https://www.alpes-tourisme.fr").is_ok());
        assert!(website("javascript:alert(1)").is_err());
        assert!(website("ftp://example.org").is_err());
    }

    #[test]
    fn the_last_owner_stays() {
        assert!(may_lose_member(false, 1));
        assert!(may_lose_member(true, 2));
        assert!(!may_lose_member(true, 1));
    }
}
