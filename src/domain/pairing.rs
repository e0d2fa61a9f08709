//! Expérimentation Montagne pairings: which organizations may be a territory's partner, and when an
//! application can be paired.

use crate::domain::application::ApplicationStatus;
use crate::domain::call::CallKind;
use crate::domain::organization::OrganizationKind;

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
}
