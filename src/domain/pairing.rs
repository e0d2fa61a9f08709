//! Expérimentation Montagne pairings: which organizations may be a territory's partner, when an
//! application can be paired, and the life cycle of a pairing: proposed, then confirmed once both sides
//! accepted, or declined as soon as one side declined.

use serde::Serialize;

use crate::domain::application::ApplicationStatus;
use crate::domain::call::CallKind;
use crate::domain::organization::OrganizationKind;
use crate::domain::refusal::Refusal;

/// Whether an organization of `kind` may be paired with a territory: a company or a start-up.
pub fn can_be_partner(kind: OrganizationKind) -> bool {
    matches!(kind, OrganizationKind::Startup | OrganizationKind::Company)
}

/// Whether an application to a call of `call_kind` in `application_status` can be paired: territory
/// experiment calls only, once the application is submitted and until it is rejected or withdrawn.
pub fn is_open(call_kind: CallKind, application_status: ApplicationStatus) -> bool {
    use ApplicationStatus::*;
    call_kind == CallKind::TerritoryExperiment
        && matches!(
            application_status,
            Submitted | Eligible | Shortlisted | Selected | Waitlisted
        )
}

/// Where a pairing stands.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, diesel::AsExpression, diesel::FromSqlRow,
)]
#[serde(rename_all = "snake_case")]
#[diesel(sql_type = diesel::sql_types::Text)]
pub enum PairingStatus {
    /// Waiting for one side at least.
    Proposed,
    /// Both sides accepted.
    Confirmed,
    /// One side declined.
    Declined,
}

impl PairingStatus {
    /// The status's name in the API and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            PairingStatus::Proposed => "proposed",
            PairingStatus::Confirmed => "confirmed",
            PairingStatus::Declined => "declined",
        }
    }

    /// The status two answers make: confirmed when both accept, declined when either declines.
    pub fn of(territory: Response, partner: Response) -> PairingStatus {
        match (territory, partner) {
            (Response::Accepted, Response::Accepted) => PairingStatus::Confirmed,
            (Response::Declined, _) | (_, Response::Declined) => PairingStatus::Declined,
            _ => PairingStatus::Proposed,
        }
    }
}

impl std::fmt::Display for PairingStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for PairingStatus {
    type Err = String;

    /// The status of its stored name; an unknown name is an error, never a default.
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        [
            PairingStatus::Proposed,
            PairingStatus::Confirmed,
            PairingStatus::Declined,
        ]
        .into_iter()
        .find(|s| s.as_str() == name)
        .ok_or_else(|| format!("unknown pairing status `{name}`"))
    }
}

/// One side's answer to a pairing.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, diesel::AsExpression, diesel::FromSqlRow,
)]
#[serde(rename_all = "snake_case")]
#[diesel(sql_type = diesel::sql_types::Text)]
pub enum Response {
    Pending,
    Accepted,
    Declined,
}

impl Response {
    /// The answer's name in the API and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Response::Pending => "pending",
            Response::Accepted => "accepted",
            Response::Declined => "declined",
        }
    }

    /// Accepting or declining.
    pub fn given(accept: bool) -> Response {
        if accept {
            Response::Accepted
        } else {
            Response::Declined
        }
    }
}

impl std::str::FromStr for Response {
    type Err = String;

    /// The answer of its stored name; an unknown name is an error, never a default.
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        [Response::Pending, Response::Accepted, Response::Declined]
            .into_iter()
            .find(|r| r.as_str() == name)
            .ok_or_else(|| format!("unknown pairing response `{name}`"))
    }
}

/// What just happened to a pairing, as the email to both sides tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// Someone proposed the partner.
    Proposed,
    /// One side accepted; the other has not answered yet.
    Accepted,
    /// One side declined: the pairing is over.
    Declined,
    /// Both sides accepted.
    Confirmed,
}

impl Step {
    /// The step an answer leads to, from the pairing's status after it.
    pub fn after_answer(status: PairingStatus) -> Step {
        match status {
            PairingStatus::Confirmed => Step::Confirmed,
            PairingStatus::Declined => Step::Declined,
            PairingStatus::Proposed => Step::Accepted,
        }
    }
}

/// The side of a pairing someone answers for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// The territory that applied.
    Territory,
    /// The company or start-up proposed as its partner.
    Partner,
}

/// Both sides' answers and the status they make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Answers {
    pub territory: Response,
    pub partner: Response,
    pub status: PairingStatus,
}

impl Answers {
    /// A new proposal: the partner's side counts as accepted when the partner proposed it.
    pub fn proposed(by_partner: bool) -> Answers {
        let partner = if by_partner {
            Response::Accepted
        } else {
            Response::Pending
        };
        Answers {
            territory: Response::Pending,
            partner,
            status: PairingStatus::Proposed,
        }
    }

    /// `side` accepts or declines a proposed pairing; a settled one (confirmed or declined) is refused.
    pub fn respond(self, side: Side, accept: bool) -> Result<Answers, Refusal> {
        if self.status != PairingStatus::Proposed {
            return Err(Refusal::PairingSettled(self.status));
        }
        let mut after = self;
        match side {
            Side::Territory => after.territory = Response::given(accept),
            Side::Partner => after.partner = Response::given(accept),
        }
        after.status = PairingStatus::of(after.territory, after.partner);
        Ok(after)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn companies_and_start_ups_pair_with_submitted_territory_experiments() {
        assert!(can_be_partner(OrganizationKind::Startup));
        assert!(can_be_partner(OrganizationKind::Company));
        assert!(!can_be_partner(OrganizationKind::Territory));
        assert!(!can_be_partner(OrganizationKind::Association));
        use ApplicationStatus::*;
        assert!(is_open(CallKind::TerritoryExperiment, Submitted));
        assert!(is_open(CallKind::TerritoryExperiment, Selected));
        for status in [Draft, Withdrawn, Rejected, Ineligible, ChangesRequested] {
            assert!(!is_open(CallKind::TerritoryExperiment, status), "{status}");
        }
        assert!(!is_open(CallKind::StartupLab, Submitted));
    }

    #[test]
    fn a_pairing_is_confirmed_when_both_accept_and_declined_when_either_declines() {
        let staff = Answers::proposed(false);
        let by_partner = Answers::proposed(true);
        let accepted = staff.respond(Side::Territory, true).unwrap();
        assert_eq!(accepted.status, PairingStatus::Proposed);
        let confirmed = accepted.respond(Side::Partner, true).unwrap();
        assert_eq!(confirmed.status, PairingStatus::Confirmed);
        assert_eq!(
            by_partner.respond(Side::Territory, true).unwrap().status,
            PairingStatus::Confirmed
        );
        let declined = by_partner.respond(Side::Territory, false).unwrap();
        assert_eq!(declined.status, PairingStatus::Declined);
        for settled in [confirmed, declined] {
            assert_eq!(
                settled.respond(Side::Partner, true),
                Err(Refusal::PairingSettled(settled.status))
            );
        }
        for status in [
            PairingStatus::Proposed,
            PairingStatus::Confirmed,
            PairingStatus::Declined,
        ] {
            assert_eq!(status.as_str().parse::<PairingStatus>(), Ok(status));
        }
        assert!("maybe".parse::<PairingStatus>().is_err());
        assert!("maybe".parse::<Response>().is_err());
    }
}
