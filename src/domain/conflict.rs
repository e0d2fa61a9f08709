//! Conflicts of interest that Cordée detects on its own between a juror and an applying organization.
//!
//! Declared conflicts (by the juror or by staff) are stored as they are; this module only finds the ones that
//! follow from facts already known: membership of the organization, an affiliation with its SIREN, or an email
//! domain shared with it. Pure functions: the caller loads the facts and stores the result.
//!
//! A detected conflict is a record, not a view: it is found when a juror is assigned or when staff ask, and
//! read as stored afterwards. Facts the applicant controls (its website, its members) may change after a juror
//! reviewed; such a change never voids a review by itself: [`DetectedStatus::when_found`] flags it for staff.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::identifiers::{Siren, Siret};
use crate::error::Error;

/// Why a juror is detected as conflicted with an application.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ConflictReason {
    /// The juror is a member of the applying organization.
    Member,
    /// One of the juror's declared affiliations has the applying organization's SIREN.
    SameSiren,
    /// The juror's email domain is the applying organization's domain (that of a member's email or of its
    /// website), public webmail domains excepted.
    SameEmailDomain,
}

impl ConflictReason {
    /// The reason's name in the API and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            ConflictReason::Member => "member",
            ConflictReason::SameSiren => "same_siren",
            ConflictReason::SameEmailDomain => "same_email_domain",
        }
    }
}

impl std::str::FromStr for ConflictReason {
    type Err = String;

    /// The reason of its stored name; an unknown name is an error, never a default.
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        [
            ConflictReason::Member,
            ConflictReason::SameSiren,
            ConflictReason::SameEmailDomain,
        ]
        .into_iter()
        .find(|r| r.as_str() == name)
        .ok_or_else(|| format!("unknown conflict reason `{name}`"))
    }
}

/// Where a detected conflict stands.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    ToSchema,
    diesel::AsExpression,
    diesel::FromSqlRow,
)]
#[diesel(sql_type = diesel::sql_types::Text)]
#[serde(rename_all = "snake_case")]
pub enum DetectedStatus {
    /// It applies: the juror does not see the application, cannot be assigned it, and their reviews of it do
    /// not count.
    Active,
    /// Found after the juror was assigned the application: staff are told and decide; until then it does not
    /// apply (a review already given keeps counting).
    Flagged,
    /// Staff decided it does not apply.
    Dismissed,
}

impl DetectedStatus {
    /// The status's name in the API and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            DetectedStatus::Active => "active",
            DetectedStatus::Flagged => "flagged",
            DetectedStatus::Dismissed => "dismissed",
        }
    }

    /// The status a conflict found now is recorded with: it applies at once when the juror is not assigned the
    /// application yet (nothing depended on its absence); otherwise it waits for staff, since the fact behind
    /// it may be the applicant's own edit, made after the juror's review.
    pub fn when_found(already_assigned: bool) -> DetectedStatus {
        if already_assigned {
            DetectedStatus::Flagged
        } else {
            DetectedStatus::Active
        }
    }

    /// Whether the conflict keeps the juror away from the application (access, reviews, ranking).
    pub fn applies(self) -> bool {
        self == DetectedStatus::Active
    }

    /// Whether a new assignment of the pair must wait (a flagged conflict is decided first).
    pub fn blocks_assignment(self) -> bool {
        self != DetectedStatus::Dismissed
    }

    /// The status after staff decide on a flagged conflict (`confirm`: it applies), or `None` when it was
    /// not flagged (decided already).
    pub fn decide(self, confirm: bool) -> Option<DetectedStatus> {
        match (self, confirm) {
            (DetectedStatus::Flagged, true) => Some(DetectedStatus::Active),
            (DetectedStatus::Flagged, false) => Some(DetectedStatus::Dismissed),
            _ => None,
        }
    }
}

impl std::str::FromStr for DetectedStatus {
    type Err = String;

    /// The status of its stored name; an unknown name is an error, never a default.
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        [
            DetectedStatus::Active,
            DetectedStatus::Flagged,
            DetectedStatus::Dismissed,
        ]
        .into_iter()
        .find(|r| r.as_str() == name)
        .ok_or_else(|| format!("unknown conflict status `{name}`"))
    }
}

/// One reason found, with the fact it rests on (what staff read to decide).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detection {
    pub reason: ConflictReason,
    /// The fact, such as `website station-alpine.fr` or `SIREN 732829320`.
    pub source: String,
}

/// What is known about a juror, for detection.
#[derive(Debug, Clone, Copy)]
pub struct JurorFacts<'a> {
    /// The juror's account.
    pub juror: Uuid,
    /// The juror's email address.
    pub email: &'a str,
    /// The organizations the juror is a member of.
    pub organizations: &'a [Uuid],
    /// The SIRENs of the juror's declared affiliations (a SIRET counts for its SIREN).
    pub affiliation_sirens: &'a [String],
}

/// What is known about an application's organization, for detection.
#[derive(Debug, Clone, Copy)]
pub struct ApplicantFacts<'a> {
    /// The application.
    pub application: Uuid,
    /// The applying organization.
    pub organization: Uuid,
    /// The organization's SIREN, when it has one.
    pub siren: Option<&'a str>,
    /// The email addresses of the organization's members.
    pub member_emails: &'a [String],
    /// The organization's website, when known.
    pub website: Option<&'a str>,
}

/// The reasons why `juror` is conflicted with `applicant`, each at most once, in the order `Member`,
/// `SameSiren`, `SameEmailDomain`; empty when there is none.
///
/// - `Member`: the juror is a member of the applying organization.
/// - `SameSiren`: one of the juror's affiliation SIRENs (or SIRETs, through their SIREN) is the organization's
///   SIREN. Spaces are ignored; values that are not a valid SIREN or SIRET never match.
/// - `SameEmailDomain`: the domain of the juror's email is, case-insensitively, the domain of one of the
///   members' emails or the host of the organization's website (a leading `www.` removed), unless it is a
///   public webmail domain ([`is_public_webmail`]).
pub fn detect(juror: &JurorFacts, applicant: &ApplicantFacts) -> Vec<ConflictReason> {
    detect_with_sources(juror, applicant)
        .into_iter()
        .map(|d| d.reason)
        .collect()
}

/// [`detect`], each reason with the fact it rests on.
pub fn detect_with_sources(juror: &JurorFacts, applicant: &ApplicantFacts) -> Vec<Detection> {
    let mut found = Vec::new();
    if juror.organizations.contains(&applicant.organization) {
        found.push(Detection {
            reason: ConflictReason::Member,
            source: format!("member of organization {}", applicant.organization),
        });
    }
    if let Some(siren) = applicant.siren.and_then(siren_of) {
        if juror
            .affiliation_sirens
            .iter()
            .filter_map(|raw| siren_of(raw))
            .any(|affiliation| affiliation == siren)
        {
            found.push(Detection {
                reason: ConflictReason::SameSiren,
                source: format!("SIREN {}", siren.as_str()),
            });
        }
    }
    if let Some(domain) = email_domain(juror.email) {
        if !is_public_webmail(&domain) {
            let by_member = applicant
                .member_emails
                .iter()
                .filter_map(|email| email_domain(email))
                .any(|other| other == domain);
            let by_website = applicant.website.and_then(website_host).as_deref() == Some(&domain);
            if by_member || by_website {
                let what = if by_member {
                    "member email domain"
                } else {
                    "website"
                };
                found.push(Detection {
                    reason: ConflictReason::SameEmailDomain,
                    source: format!("{what} {domain}"),
                });
            }
        }
    }
    found
}

/// Public webmail domains, French and international, lower-case and sorted (for binary search).
const PUBLIC_WEBMAIL_DOMAINS: &[&str] = &[
    "163.com",
    "9online.fr",
    "aliceadsl.fr",
    "aol.com",
    "aol.fr",
    "bbox.fr",
    "bluewin.ch",
    "caramail.com",
    "cegetel.net",
    "club-internet.fr",
    "fastmail.com",
    "free.fr",
    "gmail.com",
    "gmx.com",
    "gmx.de",
    "gmx.fr",
    "gmx.net",
    "googlemail.com",
    "hey.com",
    "hotmail.be",
    "hotmail.ch",
    "hotmail.co.uk",
    "hotmail.com",
    "hotmail.de",
    "hotmail.es",
    "hotmail.fr",
    "hotmail.it",
    "icloud.com",
    "laposte.net",
    "libero.it",
    "live.be",
    "live.com",
    "live.fr",
    "lycos.fr",
    "mac.com",
    "mail.com",
    "mail.ru",
    "mailo.com",
    "me.com",
    "msn.com",
    "netcourrier.com",
    "neuf.fr",
    "numericable.fr",
    "orange.fr",
    "outlook.be",
    "outlook.com",
    "outlook.de",
    "outlook.es",
    "outlook.fr",
    "outlook.it",
    "pm.me",
    "posteo.de",
    "posteo.net",
    "proton.me",
    "protonmail.ch",
    "protonmail.com",
    "qq.com",
    "sfr.fr",
    "skynet.be",
    "tuta.io",
    "tutanota.com",
    "voila.fr",
    "wanadoo.fr",
    "web.de",
    "yahoo.co.uk",
    "yahoo.com",
    "yahoo.de",
    "yahoo.es",
    "yahoo.fr",
    "yahoo.it",
    "yandex.com",
    "yandex.ru",
    "ymail.com",
    "zoho.com",
];

/// True when `domain` belongs to a public webmail provider (gmail.com, orange.fr, laposte.net, proton.me…),
/// whose users share nothing but their provider. Case-insensitive; a trailing dot is ignored.
pub fn is_public_webmail(domain: &str) -> bool {
    let domain = normalize_domain(domain);
    PUBLIC_WEBMAIL_DOMAINS
        .binary_search(&domain.as_str())
        .is_ok()
}

/// A domain trimmed, lower-cased and without its trailing dot.
fn normalize_domain(domain: &str) -> String {
    domain.trim().trim_end_matches('.').to_ascii_lowercase()
}

/// The normalised domain of an email address (after its last `@`), if it has a non-empty one.
fn email_domain(email: &str) -> Option<String> {
    let (_, domain) = email.trim().rsplit_once('@')?;
    let domain = normalize_domain(domain);
    (!domain.is_empty()).then_some(domain)
}

/// The normalised host of a website address, without a leading `www.`: `https://www.Example.fr:443/a?b`
/// gives `example.fr`. The scheme is optional.
fn website_host(website: &str) -> Option<String> {
    let rest = website.trim();
    let rest = match rest.find("://") {
        Some(at) => &rest[at + 3..],
        None => rest.strip_prefix("//").unwrap_or(rest),
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let host = host_port
        .split_once(':')
        .map_or(host_port, |(host, _)| host);
    let host = normalize_domain(host);
    let host = host.strip_prefix("www.").map(str::to_owned).unwrap_or(host);
    (!host.is_empty()).then_some(host)
}

/// The SIREN in a SIREN or SIRET, spaces ignored; `None` for anything else.
fn siren_of(raw: &str) -> Option<Siren> {
    Siren::parse(raw)
        .ok()
        .or_else(|| Siret::parse(raw).ok().map(|siret| siret.siren()))
}

/// An organization a juror is tied to.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Affiliation {
    pub name: String,
    /// SIREN (or SIRET) of the organization, when known: conflicts are then detected by it.
    pub siren: Option<String>,
}

/// A juror's stored affiliations; unreadable ones are an error, never "none" (which would silently switch
/// SIREN conflict detection off).
pub fn affiliations_of(value: &serde_json::Value) -> Result<Vec<Affiliation>, Error> {
    serde_json::from_value(value.clone())
        .map_err(|e| Error::Internal(anyhow::anyhow!("unreadable juror affiliations: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Luhn-valid SIREN.
    const SIREN: &str = "732829320";
    /// Another Luhn-valid SIREN.
    const OTHER_SIREN: &str = "552100554";

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    struct Juror {
        email: String,
        organizations: Vec<Uuid>,
        sirens: Vec<String>,
    }

    impl Juror {
        fn new(email: &str) -> Self {
            Juror {
                email: email.to_owned(),
                organizations: vec![id(100)],
                sirens: vec![OTHER_SIREN.to_owned()],
            }
        }

        fn facts(&self) -> JurorFacts<'_> {
            JurorFacts {
                juror: id(1),
                email: &self.email,
                organizations: &self.organizations,
                affiliation_sirens: &self.sirens,
            }
        }
    }

    struct Applicant {
        siren: Option<String>,
        emails: Vec<String>,
        website: Option<String>,
    }

    impl Applicant {
        fn new() -> Self {
            Applicant {
                siren: Some(SIREN.to_owned()),
                emails: vec!["contact@station-alpine.fr".to_owned()],
                website: Some("https://www.station-alpine.fr/".to_owned()),
            }
        }

        fn facts(&self) -> ApplicantFacts<'_> {
            ApplicantFacts {
                application: id(2),
                organization: id(200),
                siren: self.siren.as_deref(),
                member_emails: &self.emails,
                website: self.website.as_deref(),
            }
        }
    }

    #[test]
    fn unrelated_juror_has_no_conflict() {
        let juror = Juror::new("marie@cabinet-conseil.fr");
        assert!(detect(&juror.facts(), &Applicant::new().facts()).is_empty());
    }

    #[test]
    fn member_of_the_organization() {
        let mut juror = Juror::new("marie@cabinet-conseil.fr");
        juror.organizations.push(id(200));
        assert_eq!(
            detect(&juror.facts(), &Applicant::new().facts()),
            vec![ConflictReason::Member]
        );
    }

    #[test]
    fn affiliation_with_the_same_siren() {
        let mut juror = Juror::new("marie@cabinet-conseil.fr");
        juror.sirens.push("732 829 320".to_owned());
        assert_eq!(
            detect(&juror.facts(), &Applicant::new().facts()),
            vec![ConflictReason::SameSiren]
        );
    }

    #[test]
    fn affiliation_given_as_a_siret_counts_for_its_siren() {
        let mut juror = Juror::new("marie@cabinet-conseil.fr");
        juror.sirens = vec!["73282932000074".to_owned()];
        assert_eq!(
            detect(&juror.facts(), &Applicant::new().facts()),
            vec![ConflictReason::SameSiren]
        );
    }

    #[test]
    fn no_siren_match_without_an_organization_siren_or_with_invalid_values() {
        let mut juror = Juror::new("marie@cabinet-conseil.fr");
        juror.sirens = vec![SIREN.to_owned(), String::new()];
        let mut applicant = Applicant::new();
        applicant.siren = None;
        assert!(detect(&juror.facts(), &applicant.facts()).is_empty());

        // Not a SIREN (Luhn check fails): never matches, even when equal.
        juror.sirens = vec!["123456789".to_owned()];
        applicant.siren = Some("123456789".to_owned());
        assert!(detect(&juror.facts(), &applicant.facts()).is_empty());
    }

    #[test]
    fn same_domain_as_a_member_email_case_insensitively() {
        let juror = Juror::new("Paul@Station-Alpine.FR");
        let mut applicant = Applicant::new();
        applicant.website = None;
        assert_eq!(
            detect(&juror.facts(), &applicant.facts()),
            vec![ConflictReason::SameEmailDomain]
        );
    }

    #[test]
    fn same_domain_as_the_website_host() {
        let juror = Juror::new("paul@station-alpine.fr");
        let mut applicant = Applicant::new();
        applicant.emails = vec!["president@gmail.com".to_owned()];
        for website in [
            "https://www.station-alpine.fr/",
            "http://WWW.Station-Alpine.fr:8080/contact?x=1#top",
            "station-alpine.fr",
            "www.station-alpine.fr/equipe",
        ] {
            applicant.website = Some(website.to_owned());
            assert_eq!(
                detect(&juror.facts(), &applicant.facts()),
                vec![ConflictReason::SameEmailDomain],
                "{website}"
            );
        }
    }

    #[test]
    fn subdomains_are_not_the_same_domain() {
        let juror = Juror::new("paul@montagne.station-alpine.fr");
        assert!(detect(&juror.facts(), &Applicant::new().facts()).is_empty());
    }

    #[test]
    fn public_webmail_domains_never_conflict() {
        let juror = Juror::new("marie.dupont@Gmail.com");
        let mut applicant = Applicant::new();
        applicant.emails = vec![
            "tresorier@gmail.com".to_owned(),
            "contact@station-alpine.fr".to_owned(),
        ];
        applicant.website = Some("https://gmail.com".to_owned());
        assert!(detect(&juror.facts(), &applicant.facts()).is_empty());

        let juror = Juror::new("jean@orange.fr");
        applicant.emails = vec!["mairie@orange.fr".to_owned()];
        assert!(detect(&juror.facts(), &applicant.facts()).is_empty());
    }

    #[test]
    fn several_reasons_are_all_reported_once_in_order() {
        let mut juror = Juror::new("paul@station-alpine.fr");
        juror.organizations.push(id(200));
        juror.sirens.push(SIREN.to_owned());
        juror.sirens.push(SIREN.to_owned());
        let mut applicant = Applicant::new();
        applicant.emails.push("autre@station-alpine.fr".to_owned());
        assert_eq!(
            detect(&juror.facts(), &applicant.facts()),
            vec![
                ConflictReason::Member,
                ConflictReason::SameSiren,
                ConflictReason::SameEmailDomain
            ]
        );
    }

    #[test]
    fn malformed_emails_and_websites_are_ignored() {
        let juror = Juror::new("no-at-sign");
        let mut applicant = Applicant::new();
        applicant.emails = vec!["no-at-sign".to_owned(), "x@".to_owned()];
        applicant.website = Some("https://".to_owned());
        assert!(detect(&juror.facts(), &applicant.facts()).is_empty());
        let juror = Juror::new("x@");
        assert!(detect(&juror.facts(), &applicant.facts()).is_empty());
    }

    #[test]
    fn webmail_list() {
        for domain in [
            "gmail.com",
            "yahoo.fr",
            "orange.fr",
            "free.fr",
            "laposte.net",
            "hotmail.com",
            "hotmail.fr",
            "outlook.com",
            "outlook.fr",
            "live.fr",
            "sfr.fr",
            "wanadoo.fr",
            "icloud.com",
            "protonmail.com",
            "proton.me",
            "gmx.fr",
            "gmx.com",
            "GMAIL.COM",
            " gmail.com. ",
        ] {
            assert!(is_public_webmail(domain), "{domain}");
        }
        for domain in ["station-alpine.fr", "cci.fr", "mail.gmail.com", ""] {
            assert!(!is_public_webmail(domain), "{domain}");
        }
    }

    #[test]
    fn webmail_list_is_sorted_lower_case_and_distinct() {
        for pair in PUBLIC_WEBMAIL_DOMAINS.windows(2) {
            assert!(pair[0] < pair[1], "{} before {}", pair[0], pair[1]);
        }
        for domain in PUBLIC_WEBMAIL_DOMAINS {
            assert_eq!(*domain, domain.to_ascii_lowercase());
        }
    }

    #[test]
    fn each_reason_names_the_fact_it_rests_on() {
        let mut juror = Juror::new("paul@station-alpine.fr");
        juror.organizations.push(id(200));
        juror.sirens.push(SIREN.to_owned());
        let mut applicant = Applicant::new();
        applicant.emails = vec!["president@gmail.com".to_owned()];
        let sources: Vec<String> = detect_with_sources(&juror.facts(), &applicant.facts())
            .into_iter()
            .map(|d| d.source)
            .collect();
        assert_eq!(
            sources,
            vec![
                format!("member of organization {}", id(200)),
                format!("SIREN {SIREN}"),
                "website station-alpine.fr".to_owned(),
            ]
        );
    }

    #[test]
    fn a_conflict_found_after_the_assignment_waits_for_staff() {
        assert_eq!(DetectedStatus::when_found(false), DetectedStatus::Active);
        assert_eq!(DetectedStatus::when_found(true), DetectedStatus::Flagged);
        assert!(DetectedStatus::Active.applies());
        assert!(!DetectedStatus::Flagged.applies());
        assert!(!DetectedStatus::Dismissed.applies());
        assert!(DetectedStatus::Flagged.blocks_assignment());
        assert!(!DetectedStatus::Dismissed.blocks_assignment());
        assert_eq!(
            DetectedStatus::Flagged.decide(true),
            Some(DetectedStatus::Active)
        );
        assert_eq!(
            DetectedStatus::Flagged.decide(false),
            Some(DetectedStatus::Dismissed)
        );
        assert_eq!(DetectedStatus::Active.decide(false), None);
        assert_eq!(DetectedStatus::Dismissed.decide(true), None);
    }

    #[test]
    fn stored_names_parse_strictly() {
        for status in [
            DetectedStatus::Active,
            DetectedStatus::Flagged,
            DetectedStatus::Dismissed,
        ] {
            assert_eq!(status.as_str().parse::<DetectedStatus>(), Ok(status));
        }
        assert!("Active".parse::<DetectedStatus>().is_err());
        assert_eq!(
            "same_siren".parse::<ConflictReason>(),
            Ok(ConflictReason::SameSiren)
        );
        assert!("sibling".parse::<ConflictReason>().is_err());
    }

    #[test]
    fn reasons_serialize_in_snake_case() {
        assert_eq!(
            serde_json::to_string(&ConflictReason::SameEmailDomain).ok(),
            Some("\"same_email_domain\"".to_owned())
        );
        for reason in [
            ConflictReason::Member,
            ConflictReason::SameSiren,
            ConflictReason::SameEmailDomain,
        ] {
            assert_eq!(
                serde_json::to_value(reason).ok(),
                Some(serde_json::Value::from(reason.as_str()))
            );
        }
    }
}
