//! Who may do what: every access decision of the API is made by a function of this file.

use actix_web::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

pub use crate::domain::account::CallRole;
use crate::domain::pairing::Side;
use crate::error::Error;

/// What a personal API token may be used for. Session tokens (from login) carry every scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub enum Scope {
    #[serde(rename = "applications:read")]
    ApplicationsRead,
    #[serde(rename = "applications:write")]
    ApplicationsWrite,
    #[serde(rename = "reviews:read")]
    ReviewsRead,
    #[serde(rename = "reviews:write")]
    ReviewsWrite,
    #[serde(rename = "admin")]
    Admin,
}

impl Scope {
    /// Every scope, in the order of the API contract.
    pub const ALL: [Scope; 5] = [
        Scope::ApplicationsRead,
        Scope::ApplicationsWrite,
        Scope::ReviewsRead,
        Scope::ReviewsWrite,
        Scope::Admin,
    ];

    /// The scope's name in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::ApplicationsRead => "applications:read",
            Scope::ApplicationsWrite => "applications:write",
            Scope::ReviewsRead => "reviews:read",
            Scope::ReviewsWrite => "reviews:write",
            Scope::Admin => "admin",
        }
    }

    /// The scope of an API name.
    pub fn parse(name: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

crate::domain::names::stored_names! {
    /// A user's platform-wide role.
    #[derive(Serialize, Deserialize, ToSchema)]
    #[serde(rename_all = "lowercase")]
    pub enum Role("platform role") {
        Admin => "admin",
        User => "user",
    }
}

/// How the caller authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// From login: every scope, revoked at logout.
    Session,
    /// A personal API token: only its scopes.
    Personal,
}

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user_id: Uuid,
    pub role: Role,
    pub token_id: Uuid,
    pub token_kind: TokenKind,
    pub scopes: Vec<Scope>,
    /// Whether the account's owner proved they read its mailbox.
    pub email_verified: bool,
}

impl Principal {
    /// Whether the caller's token carries `scope`.
    pub fn has_scope(&self, scope: Scope) -> bool {
        self.token_kind == TokenKind::Session || self.scopes.contains(&scope)
    }

    /// 403 unless the token carries `scope`.
    pub fn require_scope(&self, scope: Scope) -> Result<(), Error> {
        if self.has_scope(scope) {
            Ok(())
        } else {
            Err(Error::forbidden(
                "missing_scope",
                format!("this token lacks the scope `{}`", scope.as_str()),
            ))
        }
    }

    /// Whether the caller acts as an administrator: an admin, through a token with the `admin` scope.
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin && self.has_scope(Scope::Admin)
    }

    /// Whether the caller's token may act as a call's staff: a session, or a personal token with the `admin`
    /// scope (the rule for administrators, applied to a call's managers and observers).
    pub fn has_staff_scope(&self) -> bool {
        self.has_scope(Scope::Admin)
    }

    /// 403 unless the caller acts as an administrator.
    pub fn require_admin(&self) -> Result<(), Error> {
        if self.role != Role::Admin {
            return Err(Error::forbidden(
                "admin_only",
                "this action is for administrators",
            ));
        }
        self.require_scope(Scope::Admin)
    }

    /// 403 (`email_not_verified`) when `required` and the account's address is not verified yet. Until
    /// then the account may only log in and out, verify its address, ask for the email again, read itself,
    /// export and delete itself: no organization, application, membership, role or token.
    pub fn require_verified_email(&self, required: bool) -> Result<(), Error> {
        if !required || self.email_verified {
            Ok(())
        } else {
            Err(Error::Refused {
                status: StatusCode::FORBIDDEN,
                code: "email_not_verified",
                detail: "confirm your email address first: open the link we sent you, or ask for a new one \
                         with POST /api/v1/auth/verify-email/resend"
                    .into(),
            })
        }
    }

    /// 403 unless the caller logged in: personal tokens cannot manage tokens or the account itself.
    pub fn require_session(&self) -> Result<(), Error> {
        match self.token_kind {
            TokenKind::Session => Ok(()),
            TokenKind::Personal => Err(Error::forbidden(
                "session_required",
                "this action needs a login session, not a personal token",
            )),
        }
    }
}

crate::domain::names::stored_names! {
    /// A user's role in an organization.
    #[derive(Serialize, Deserialize, ToSchema)]
    #[serde(rename_all = "lowercase")]
    pub enum MemberRole("organization role") {
        Owner => "owner",
        Member => "member",
    }
}

/// Reading an organization: its members and administrators; anyone else is told it does not exist.
pub fn can_read_organization(
    caller: &Principal,
    membership: Option<MemberRole>,
) -> Result<(), Error> {
    caller.require_scope(Scope::ApplicationsRead)?;
    if membership.is_some() || caller.is_admin() {
        Ok(())
    } else {
        Err(Error::NotFound)
    }
}

/// Editing an organization or its members: its owners and administrators.
pub fn can_edit_organization(
    caller: &Principal,
    membership: Option<MemberRole>,
) -> Result<(), Error> {
    caller.require_scope(Scope::ApplicationsWrite)?;
    match membership {
        _ if caller.is_admin() => Ok(()),
        Some(MemberRole::Owner) => Ok(()),
        Some(MemberRole::Member) => Err(Error::forbidden(
            "owners_only",
            "only the organization's owners may do this",
        )),
        None => Err(Error::NotFound),
    }
}

/// Removing `member` from an organization: any member may leave (remove themself); owners and
/// administrators may remove anyone; others are told the organization does not exist.
pub fn can_remove_member(
    caller: &Principal,
    membership: Option<MemberRole>,
    member: Uuid,
) -> Result<(), Error> {
    if member == caller.user_id && membership.is_some() {
        return caller.require_scope(Scope::ApplicationsWrite);
    }
    can_edit_organization(caller, membership)
}

/// What is known about a caller and one application when deciding whether they may read it.
#[derive(Debug, Clone, Copy)]
pub struct ApplicationFacts {
    /// The caller's role in the applicant organization.
    pub membership: Option<MemberRole>,
    /// What is recorded about the caller as a juror of the application (`None`: not looked up, as for a
    /// thread or a personal export, which jurors never read).
    pub juror: Option<JurorFacts>,
    /// The caller's role on the staff of the application's call.
    pub call: CallAccess,
    /// Whether the application is still a draft (a call's staff never reads drafts).
    pub draft: bool,
}

impl ApplicationFacts {
    /// The facts of a caller seen only as a member (or not) of the applicant organization.
    pub fn member(membership: Option<MemberRole>) -> ApplicationFacts {
        ApplicationFacts {
            membership,
            juror: None,
            call: CallAccess::default(),
            draft: false,
        }
    }

    /// Whether the caller reads the application as a manager or observer of its call: never a draft, and
    /// with a token that may act as staff.
    fn read_as_call_staff(&self, caller: &Principal) -> bool {
        self.call.role.is_some() && !self.draft && caller.has_staff_scope()
    }
}

/// What is known about the caller and one call: their role on its staff, if any. Loaded once per request by
/// the use case (`service::staff::load_call_access`); administrators need no role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CallAccess {
    pub role: Option<CallRole>,
}

impl CallAccess {
    /// The access of someone with this role (or none) on the call.
    pub fn of(role: Option<CallRole>) -> CallAccess {
        CallAccess { role }
    }
}

/// Acting on a call as its staff (screening, messages to applicants, the jury and its conflicts,
/// assignments, review deadlines and reopening, shortlist, decisions and their publication, exports, email
/// templates, other jurors' review packs): administrators and the call's managers. An observer knows the
/// call and is refused (403 `managers_only`); anyone else is told its staff side does not exist (404). A
/// personal token needs the `admin` scope (403 `missing_scope`), as an administrator's does.
pub fn can_manage_call(caller: &Principal, access: &CallAccess) -> Result<(), Error> {
    caller.require_scope(Scope::Admin)?;
    if caller.role == Role::Admin {
        return Ok(());
    }
    match access.role {
        Some(CallRole::Manager) => Ok(()),
        Some(CallRole::Observer) => Err(Error::forbidden(
            "managers_only",
            "observers of a call read it; its managers and administrators act on it",
        )),
        None => Err(Error::NotFound),
    }
}

/// Reading a call as its staff (the ranking, every review, the decisions): administrators, the call's
/// managers and observers; anyone else is told it does not exist (404). A personal token needs the `admin`
/// scope (403 `missing_scope`).
pub fn can_observe_call(caller: &Principal, access: &CallAccess) -> Result<(), Error> {
    caller.require_scope(Scope::Admin)?;
    if caller.role == Role::Admin || access.role.is_some() {
        Ok(())
    } else {
        Err(Error::NotFound)
    }
}

/// Acting on an application as its call's staff (screening, reopening a review, writing to the applicant):
/// [`can_manage_call`] on its call; a draft is for its applicant only (404 to anyone but administrators).
pub fn can_manage_application(caller: &Principal, facts: &ApplicationFacts) -> Result<(), Error> {
    if facts.draft && caller.role != Role::Admin {
        caller.require_scope(Scope::Admin)?;
        return Err(Error::NotFound);
    }
    can_manage_call(caller, &facts.call)
}

/// Opening a jury meeting of a call and recording it (attendance, items, minutes, closing): whoever acts on
/// the call ([`can_manage_call`]); an observer reads the record and is refused (403 `managers_only`).
pub fn can_record_meeting(caller: &Principal, access: &CallAccess) -> Result<(), Error> {
    can_manage_call(caller, access)
}

/// Reading a call's jury meetings and their records: its staff ([`can_observe_call`]: administrators,
/// managers, observers); anyone else is told they do not exist (404).
pub fn can_read_meetings(caller: &Principal, access: &CallAccess) -> Result<(), Error> {
    can_observe_call(caller, access)
}

/// Listing a call's staff: administrators and the call's managers (an observer: 403; anyone else 404).
/// Granting and removing roles stays with administrators (`require_admin`).
pub fn can_list_call_staff(caller: &Principal, access: &CallAccess) -> Result<(), Error> {
    can_manage_call(caller, access)
}

/// Reading an application: the members of its organization and administrators, the managers and observers
/// of its call once it is no longer a draft, and the jurors it is assigned to who are not conflicted with it
/// ([`can_read_as_juror`]); anyone else is told it does not exist (or, with a token lacking
/// `applications:read`, 403).
pub fn can_read_application(caller: &Principal, facts: &ApplicationFacts) -> Result<(), Error> {
    let as_applicant_or_staff = caller
        .require_scope(Scope::ApplicationsRead)
        .and_then(|()| {
            if facts.membership.is_some() || caller.is_admin() || facts.read_as_call_staff(caller) {
                Ok(())
            } else {
                Err(Error::NotFound)
            }
        });
    match facts.juror {
        Some(juror) if as_applicant_or_staff.is_err() && can_read_as_juror(caller, juror) => Ok(()),
        _ => as_applicant_or_staff,
    }
}

/// Seeing an application's published decision (on the application, and in what follows it: history,
/// appeals, timeline): the members of its organization and its call's staff (administrators, managers,
/// observers). Jurors read the application to score it, not the decision on it. A decision not yet
/// published is never seen this way: the caller checks publication first.
pub fn can_see_decision(caller: &Principal, facts: &ApplicationFacts) -> bool {
    facts.membership.is_some() || caller.is_admin() || facts.read_as_call_staff(caller)
}

/// Following an application (its timeline, its decision's history, its appeals): the members of its
/// organization, as the applicant, and its call's staff (administrators, managers, observers; never a
/// draft), as staff; anyone else, jurors included, is told it does not exist (a token lacking
/// `applications:read`: 403).
pub fn can_follow_application(
    caller: &Principal,
    facts: &ApplicationFacts,
) -> Result<crate::domain::decision::HistoryReader, Error> {
    use crate::domain::decision::HistoryReader;
    caller.require_scope(Scope::ApplicationsRead)?;
    if caller.is_admin() || (facts.membership.is_none() && facts.read_as_call_staff(caller)) {
        Ok(HistoryReader::Staff)
    } else if facts.membership.is_some() {
        Ok(HistoryReader::Applicant)
    } else {
        Err(Error::NotFound)
    }
}

/// Following an application on its status page (`GET /applications/{id}`, a page, not the API): whoever may
/// read it as [`can_read_application`] allows, except as a juror (jurors follow their work on their
/// assignments page): the members of its organization, administrators, its call's managers and observers
/// once it is no longer a draft. Anyone else, jurors included, is told it does not exist.
pub fn can_open_status_page(caller: &Principal, facts: &ApplicationFacts) -> Result<(), Error> {
    let without_jury = ApplicationFacts {
        juror: None,
        ..*facts
    };
    can_read_application(caller, &without_jury)
}

/// Downloading an attachment: whoever may read its application.
pub fn can_read_attachment(caller: &Principal, facts: &ApplicationFacts) -> Result<(), Error> {
    can_read_application(caller, facts)
}

/// Reading an application's pitch slot: the members of its organization, administrators, and the managers
/// and observers of its call; anyone else (jurors included) is told it does not exist.
pub fn can_read_pitch_slot(caller: &Principal, facts: &ApplicationFacts) -> Result<(), Error> {
    caller.require_scope(Scope::ApplicationsRead)?;
    if facts.membership.is_some() || caller.is_admin() || facts.read_as_call_staff(caller) {
        Ok(())
    } else {
        Err(Error::NotFound)
    }
}

/// Setting, moving or deleting an application's pitch slot: its call's staff who act on it
/// ([`can_manage_application`]: administrators and the call's managers).
pub fn can_schedule_pitch(caller: &Principal, facts: &ApplicationFacts) -> Result<(), Error> {
    can_manage_application(caller, facts)
}

/// Confirming an application's pitch slot: the members of its organization ([`can_act_for_applicant`]).
pub fn can_confirm_pitch_slot(
    caller: &Principal,
    membership: Option<MemberRole>,
) -> Result<(), Error> {
    can_act_for_applicant(caller, membership)
}

/// Acting for the applicant (answers, files, submission, withdrawal): the members of its organization.
/// Administrators may read but not act for the applicant.
pub fn can_act_for_applicant(
    caller: &Principal,
    membership: Option<MemberRole>,
) -> Result<(), Error> {
    caller.require_scope(Scope::ApplicationsWrite)?;
    match membership {
        Some(_) => Ok(()),
        None if caller.is_admin() => Err(Error::forbidden(
            "applicant_only",
            "only the applicant's members may do this",
        )),
        None => Err(Error::NotFound),
    }
}

/// What is recorded about a caller as a juror of one application.
#[derive(Debug, Clone, Copy)]
pub struct JurorFacts {
    /// Assigned the application (at any stage).
    pub assigned: bool,
    /// A recorded conflict keeps them away: declared, or detected and active. A conflict flagged after the
    /// assignment (an applicant's later change) does not, until staff confirm it.
    pub conflicted: bool,
}

/// Reading an application (and reviewing it) as a juror: assigned to it and not conflicted with it, with a
/// token that may read reviews.
pub fn can_read_as_juror(caller: &Principal, facts: JurorFacts) -> bool {
    caller.has_scope(Scope::ReviewsRead) && facts.assigned && !facts.conflicted
}

/// Saving or submitting one's review of an application as a juror: assigned to it for the stage and not
/// conflicted with it, with a token that may write reviews.
pub fn can_review_as_juror(caller: &Principal, facts: JurorFacts) -> bool {
    caller.has_scope(Scope::ReviewsWrite) && facts.assigned && !facts.conflicted
}

/// Whose reviews of an application the caller may read: everyone's for staff (`None`: administrators, the
/// call's managers and observers), only their own for an assigned, unconflicted juror (blind review:
/// `Some(their id)`); anyone else is told it does not exist.
pub fn can_read_reviews(
    caller: &Principal,
    facts: JurorFacts,
    call: &CallAccess,
) -> Result<Option<Uuid>, Error> {
    if caller.is_admin() || (call.role.is_some() && caller.has_staff_scope()) {
        Ok(None)
    } else if can_read_as_juror(caller, facts) {
        Ok(Some(caller.user_id))
    } else {
        Err(Error::NotFound)
    }
}

/// Whose review pack the caller downloads: their own as a juror (with a token that may read reviews), or,
/// for staff only (administrators, the call's managers), the pack of the juror they name (403 `admin_only`
/// for anyone else naming another juror). Which applications it holds is [`can_read_as_juror`]'s rule,
/// applied to that juror.
pub fn can_download_review_pack(
    caller: &Principal,
    juror: Option<Uuid>,
    call: &CallAccess,
) -> Result<Uuid, Error> {
    match juror {
        Some(juror) if juror != caller.user_id => {
            if call.role == Some(CallRole::Manager) {
                caller.require_scope(Scope::Admin)?;
            } else {
                caller.require_admin()?;
            }
            Ok(juror)
        }
        _ => {
            caller.require_scope(Scope::ReviewsRead)?;
            Ok(caller.user_id)
        }
    }
}

/// Declaring a conflict of interest for `juror`: staff (administrators, the call's managers) for any juror,
/// a juror (with a token that may write reviews) for themself only.
pub fn can_declare_conflict_for(
    caller: &Principal,
    juror: Uuid,
    call: &CallAccess,
) -> Result<(), Error> {
    if can_manage_call(caller, call).is_ok() {
        return Ok(());
    }
    caller.require_scope(Scope::ReviewsWrite)?;
    if juror == caller.user_id {
        Ok(())
    } else {
        Err(Error::forbidden(
            "own_conflicts_only",
            "a juror declares conflicts for themself only",
        ))
    }
}

/// Declaring a conflict in a call: staff (administrators, its managers), or a member of its jury; anyone
/// else is told the call does not exist (an observer too: they act on nothing).
pub fn can_declare_conflict_in_call(
    caller: &Principal,
    on_jury: bool,
    call: &CallAccess,
) -> Result<(), Error> {
    if on_jury || can_manage_call(caller, call).is_ok() {
        Ok(())
    } else {
        Err(Error::NotFound)
    }
}

/// What is known when someone proposes a pairing of an application with a company or start-up.
#[derive(Debug, Clone, Copy)]
pub struct PairingProposal {
    /// The caller's role in the proposed partner organization.
    pub partner_membership: Option<MemberRole>,
    /// Whether the caller may read the application (a member of the territory).
    pub reads_application: bool,
    /// Whether the application can be paired now (`domain::pairing::is_open`).
    pub open: bool,
    /// Whether the caller may act on the application's call as staff ([`can_manage_call`]).
    pub manages_call: bool,
}

/// How a permitted proposal is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proposer {
    /// Staff: the call's team proposes.
    Staff,
    /// A member of the partner organization proposes it for itself (its side counts as accepted).
    Partner,
}

/// Proposing a pairing: staff for any company or start-up, or a member of that company or start-up for
/// itself. A partner learns nothing about an application that cannot be paired: for them, an application
/// of another kind of call, not submitted, rejected or withdrawn is 404 like one that does not exist.
/// A member of the territory, who knows the application, is told to ask staff (403).
pub fn can_propose_pairing(caller: &Principal, facts: PairingProposal) -> Result<Proposer, Error> {
    caller.require_scope(Scope::ApplicationsWrite)?;
    if facts.manages_call {
        return if facts.open {
            Ok(Proposer::Staff)
        } else {
            Err(Error::refused(
                "not_pairable",
                "only submitted applications to territory experiment calls are paired",
            ))
        };
    }
    match (facts.partner_membership, facts.reads_application) {
        (Some(_), _) if facts.open => Ok(Proposer::Partner),
        (None, true) => Err(Error::forbidden(
            "ask_staff",
            "staff, or the company itself, propose pairings",
        )),
        _ => Err(Error::NotFound),
    }
}

/// Reading a call (in a list or alone): anyone, signed in or not, once it is published; a draft only
/// administrators and its own managers and observers (others are told it does not exist).
pub fn can_read_call(
    caller: Option<&Principal>,
    status: crate::domain::call::CallStatus,
    access: &CallAccess,
) -> bool {
    status != crate::domain::call::CallStatus::Draft
        || caller.is_some_and(|c| c.is_admin() || (access.role.is_some() && c.has_staff_scope()))
}

/// Which draft calls a list of calls shows its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VisibleDrafts {
    /// Every draft (administrators).
    All,
    /// The drafts where this user has a staff role.
    OfStaff(Uuid),
    /// None.
    None,
}

/// The drafts a caller sees in the list of calls ([`can_read_call`]'s rule for a list): administrators all
/// of them, a signed-in caller whose token may act as staff those of the calls where they have a role,
/// anyone else none.
pub fn visible_drafts(caller: Option<&Principal>) -> VisibleDrafts {
    match caller {
        Some(c) if c.is_admin() => VisibleDrafts::All,
        Some(c) if c.has_staff_scope() => VisibleDrafts::OfStaff(c.user_id),
        _ => VisibleDrafts::None,
    }
}

/// What a caller allowed to read a call's figures sees of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FiguresAccess {
    /// Whether jurors are named in the review progress (staff only; anyone else sees their ids).
    pub juror_names: bool,
}

/// Reading a call's figures (`GET /calls/{id}/stats`): whoever may observe the call ([`can_observe_call`]:
/// administrators, its managers and observers); jurors are named for administrators and managers only (an
/// observer, a partner, sees their ids). Anyone else is told the call's figures do not exist (404), so that a
/// call's size and progress leak to nobody.
pub fn can_read_call_figures(
    caller: &Principal,
    access: &CallAccess,
) -> Result<FiguresAccess, Error> {
    can_observe_call(caller, access)?;
    Ok(FiguresAccess {
        juror_names: caller.role == Role::Admin || access.role == Some(CallRole::Manager),
    })
}

/// What a caller allowed to read a stage's deliberation view sees of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliberationAccess {
    /// Whether jurors may be named beside their `J1`…`Jn` labels, when the caller asks.
    pub juror_names: bool,
}

/// Reading the deliberation view of a call (`GET /calls/{id}/deliberation`, the ranking drawn): whoever may
/// read its ranking ([`can_observe_call`]: administrators, its managers and observers; 404 for anyone else,
/// 403 for a personal token without the `admin` scope). Jurors are named, on request, for administrators and
/// managers only: an observer sees `J1`…`Jn`, even when asking for names.
pub fn can_read_deliberation(
    caller: &Principal,
    access: &CallAccess,
) -> Result<DeliberationAccess, Error> {
    can_observe_call(caller, access)?;
    Ok(DeliberationAccess {
        juror_names: caller.role == Role::Admin || access.role == Some(CallRole::Manager),
    })
}

/// Starting the next edition of a call (a draft that copies its form, criteria, email templates, jury and
/// review deadlines): administrators only.
pub fn can_create_edition(caller: &Principal) -> Result<(), Error> {
    caller.require_admin()
}

/// Prefilling a new draft from an application to the previous edition: only from the application of an
/// organization the caller is a member of (`membership`: their role in the organization that applied then),
/// never another organization's.
pub fn can_prefill_from(membership: Option<MemberRole>) -> bool {
    membership.is_some()
}

/// Giving or withdrawing consent to show an application in its call's public catalogue: the members of the
/// applicant organization only, as for any act in the applicant's name ([`can_act_for_applicant`]): staff
/// may not consent for them (403), anyone else is told the application does not exist (404).
pub fn can_consent_to_catalogue(
    caller: &Principal,
    membership: Option<MemberRole>,
) -> Result<(), Error> {
    can_act_for_applicant(caller, membership)
}

/// Publishing a retained application in (or taking it out of) its call's catalogue: whoever manages the call
/// ([`can_manage_call`]: administrators and its managers).
pub fn can_publish_in_catalogue(caller: &Principal, access: &CallAccess) -> Result<(), Error> {
    can_manage_call(caller, access)
}

/// Reading a call's catalogue: anyone, without signing in, once the call is published; nobody while it is a
/// draft (not even staff: the catalogue is a public page).
pub fn can_read_catalogue(status: crate::domain::call::CallStatus) -> bool {
    status != crate::domain::call::CallStatus::Draft
}

/// Who the caller is to a pairing: their role in the territory that applied and in the proposed partner.
#[derive(Debug, Clone, Copy)]
pub struct PairingSides {
    pub territory: Option<MemberRole>,
    pub partner: Option<MemberRole>,
}

/// Answering a pairing: a member of the territory answers for the territory, otherwise a member of the
/// partner for the partner; anyone else is told it does not exist.
pub fn can_respond_to_pairing(facts: PairingSides) -> Result<Side, Error> {
    match (facts.territory, facts.partner) {
        (Some(_), _) => Ok(Side::Territory),
        (None, Some(_)) => Ok(Side::Partner),
        (None, None) => Err(Error::NotFound),
    }
}

/// Which pairings of an application a caller sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VisiblePairings {
    /// Every pairing of the application.
    All,
    /// The pairings whose proposed partner has this user among its members.
    OfPartnersWithMember(Uuid),
    /// None: the application does not exist for them.
    None,
}

/// Seeing the pairings of an application: who may read the application sees all of them, a caller with
/// `applications:read` the pairings proposing an organization they are a member of, anyone else none.
pub fn visible_pairings(caller: &Principal, reads_application: bool) -> VisiblePairings {
    if reads_application {
        VisiblePairings::All
    } else if caller.has_scope(Scope::ApplicationsRead) {
        VisiblePairings::OfPartnersWithMember(caller.user_id)
    } else {
        VisiblePairings::None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn editions_are_started_by_administrators_acting_as_such() {
        for (role, kind, scopes, allowed) in [
            (Role::Admin, TokenKind::Session, vec![], true),
            (Role::Admin, TokenKind::Personal, vec![Scope::Admin], true),
            (
                Role::Admin,
                TokenKind::Personal,
                vec![Scope::ApplicationsWrite],
                false,
            ),
            (Role::User, TokenKind::Session, vec![], false),
            (Role::User, TokenKind::Personal, vec![Scope::Admin], false),
        ] {
            let caller = principal(role, kind, scopes);
            assert_eq!(can_create_edition(&caller).is_ok(), allowed, "{caller:?}");
        }
    }

    #[test]
    fn a_decision_is_seen_and_followed_by_members_and_staff_never_by_jurors() {
        use crate::domain::decision::HistoryReader;
        let user = principal(Role::User, TokenKind::Session, vec![]);
        let admin = principal(Role::Admin, TokenKind::Session, vec![]);
        let juror = JurorFacts {
            assigned: true,
            conflicted: false,
        };
        let member = ApplicationFacts::member(Some(MemberRole::Member));
        let observer = ApplicationFacts {
            call: CallAccess::of(Some(CallRole::Observer)),
            ..ApplicationFacts::member(None)
        };
        let assigned = ApplicationFacts {
            juror: Some(juror),
            ..ApplicationFacts::member(None)
        };
        let nobody = ApplicationFacts::member(None);
        assert!(can_see_decision(&user, &member));
        assert!(can_see_decision(&user, &observer));
        assert!(can_see_decision(&admin, &nobody));
        assert!(!can_see_decision(&user, &assigned));
        assert!(!can_see_decision(&user, &nobody));
        assert!(matches!(
            can_follow_application(&user, &member),
            Ok(HistoryReader::Applicant)
        ));
        assert!(matches!(
            can_follow_application(&user, &observer),
            Ok(HistoryReader::Staff)
        ));
        assert!(matches!(
            can_follow_application(&admin, &nobody),
            Ok(HistoryReader::Staff)
        ));
        assert!(matches!(
            can_follow_application(&user, &assigned),
            Err(Error::NotFound)
        ));
        let draft = ApplicationFacts {
            draft: true,
            ..observer
        };
        assert!(!can_see_decision(&user, &draft));
    }

    #[test]
    fn a_draft_is_prefilled_only_from_an_application_of_the_callers_organization() {
        assert!(can_prefill_from(Some(MemberRole::Owner)));
        assert!(can_prefill_from(Some(MemberRole::Member)));
        assert!(!can_prefill_from(None));
    }

    #[test]
    fn a_draft_call_is_read_by_administrators_only() {
        use crate::domain::call::CallStatus;
        let user = principal(Role::User, TokenKind::Session, vec![]);
        let admin = principal(Role::Admin, TokenKind::Session, vec![]);
        let admin_token = principal(Role::Admin, TokenKind::Personal, vec![Scope::ReviewsRead]);
        for status in CallStatus::ALL {
            let published = status != CallStatus::Draft;
            let none = CallAccess::default();
            assert_eq!(can_read_call(None, status, &none), published, "{status}");
            assert_eq!(
                can_read_call(Some(&user), status, &none),
                published,
                "{status}"
            );
            assert_eq!(
                can_read_call(Some(&admin_token), status, &none),
                published,
                "{status}"
            );
            assert!(can_read_call(Some(&admin), status, &none), "{status}");
        }
    }

    #[test]
    fn a_call_s_figures_are_for_its_staff_with_jurors_named_for_those_who_manage_it() {
        use actix_web::ResponseError;
        let none = CallAccess::default();
        let manager = CallAccess::of(Some(CallRole::Manager));
        let observer = CallAccess::of(Some(CallRole::Observer));
        let admin = principal(Role::Admin, TokenKind::Session, vec![]);
        let admin_token = principal(Role::Admin, TokenKind::Personal, vec![Scope::Admin]);
        let admin_read_token = principal(
            Role::Admin,
            TokenKind::Personal,
            vec![Scope::ApplicationsRead],
        );
        let user = principal(Role::User, TokenKind::Session, vec![]);
        let user_reviews_token =
            principal(Role::User, TokenKind::Personal, vec![Scope::ReviewsRead]);
        // (caller, access) → Ok(jurors named) or the status of the refusal.
        let cases: [(&Principal, &CallAccess, Result<bool, u16>); 8] = [
            (&admin, &none, Ok(true)),
            (&admin_token, &none, Ok(true)),
            (&admin_read_token, &none, Err(403)),
            (&user, &manager, Ok(true)),
            (&user, &observer, Ok(false)),
            (&user, &none, Err(404)),
            (&user_reviews_token, &manager, Err(403)),
            (&user_reviews_token, &none, Err(403)),
        ];
        for (caller, access, expected) in cases {
            let got = can_read_call_figures(caller, access)
                .map(|a| a.juror_names)
                .map_err(|e| e.status_code().as_u16());
            assert_eq!(got, expected, "{caller:?} {access:?}");
        }
    }

    #[test]
    fn the_deliberation_is_for_a_call_s_staff_with_jurors_named_for_those_who_manage_it() {
        use actix_web::ResponseError;
        let none = CallAccess::default();
        let manager = CallAccess::of(Some(CallRole::Manager));
        let observer = CallAccess::of(Some(CallRole::Observer));
        let admin = principal(Role::Admin, TokenKind::Session, vec![]);
        let user = principal(Role::User, TokenKind::Session, vec![]);
        let user_token = principal(Role::User, TokenKind::Personal, vec![Scope::ReviewsRead]);
        let cases: [(&Principal, &CallAccess, Result<bool, u16>); 5] = [
            (&admin, &none, Ok(true)),
            (&user, &manager, Ok(true)),
            (&user, &observer, Ok(false)),
            (&user, &none, Err(404)),
            (&user_token, &manager, Err(403)),
        ];
        for (caller, access, expected) in cases {
            let got = can_read_deliberation(caller, access)
                .map(|a| a.juror_names)
                .map_err(|e| e.status_code().as_u16());
            assert_eq!(got, expected, "{caller:?} {access:?}");
        }
    }

    #[test]
    fn only_members_consent_to_the_catalogue_and_only_staff_publish_in_it() {
        use crate::domain::call::CallStatus;
        let member = principal(Role::User, TokenKind::Session, vec![]);
        let read_only = principal(
            Role::User,
            TokenKind::Personal,
            vec![Scope::ApplicationsRead],
        );
        let admin = principal(Role::Admin, TokenKind::Session, vec![]);
        use actix_web::ResponseError;
        let status = |r: Result<(), Error>| r.map_err(|e| e.status_code().as_u16());
        // (caller, membership) → Ok, or the status of the refusal.
        let table: [(&Principal, Option<MemberRole>, Result<(), u16>); 6] = [
            (&member, Some(MemberRole::Owner), Ok(())),
            (&member, Some(MemberRole::Member), Ok(())),
            (&member, None, Err(404)),
            (&read_only, Some(MemberRole::Owner), Err(403)),
            (&admin, None, Err(403)),
            (&admin, Some(MemberRole::Member), Ok(())),
        ];
        for (caller, membership, expected) in table {
            assert_eq!(
                status(can_consent_to_catalogue(caller, membership)),
                expected,
                "{caller:?} {membership:?}"
            );
        }
        assert!(can_publish_in_catalogue(&admin, &CallAccess::default()).is_ok());
        assert_eq!(
            status(can_publish_in_catalogue(&member, &CallAccess::default())),
            Err(404)
        );
        let manager = CallAccess::of(Some(CallRole::Manager));
        let observer = CallAccess::of(Some(CallRole::Observer));
        assert!(can_publish_in_catalogue(&member, &manager).is_ok());
        assert_eq!(
            status(can_publish_in_catalogue(&member, &observer)),
            Err(403)
        );
        for call in CallStatus::ALL {
            assert_eq!(
                can_read_catalogue(call),
                call != CallStatus::Draft,
                "{call}"
            );
        }
    }

    #[test]
    fn a_juror_reads_an_application_assigned_to_them_unless_a_conflict_is_recorded() {
        let session = principal(Role::User, TokenKind::Session, vec![]);
        let applicant_token = principal(
            Role::User,
            TokenKind::Personal,
            vec![Scope::ApplicationsRead],
        );
        for (assigned, conflicted, expected) in [
            (true, false, true),
            (true, true, false),
            (false, false, false),
            (false, true, false),
        ] {
            let facts = JurorFacts {
                assigned,
                conflicted,
            };
            assert_eq!(can_read_as_juror(&session, facts), expected, "{facts:?}");
            assert!(!can_read_as_juror(&applicant_token, facts), "{facts:?}");
        }
    }

    #[test]
    fn staff_read_every_review_a_juror_their_own_and_others_nothing() {
        let admin = principal(Role::Admin, TokenKind::Session, vec![]);
        let juror = principal(Role::User, TokenKind::Session, vec![]);
        let write_only = principal(Role::User, TokenKind::Personal, vec![Scope::ReviewsWrite]);
        let facts = |assigned, conflicted| JurorFacts {
            assigned,
            conflicted,
        };
        // (caller, assigned, conflicted) → Some(whose reviews) or None for 404.
        let table: [(&Principal, bool, bool, Option<Option<Uuid>>); 7] = [
            (&admin, false, false, Some(None)),
            (&admin, true, true, Some(None)),
            (&juror, true, false, Some(Some(juror.user_id))),
            (&juror, true, true, None),
            (&juror, false, false, None),
            (&write_only, true, false, None),
            (&write_only, false, true, None),
        ];
        for (caller, assigned, conflicted, expected) in table {
            let got = can_read_reviews(caller, facts(assigned, conflicted), &CallAccess::default());
            match expected {
                Some(whose) => {
                    assert_eq!(got.unwrap(), whose, "{caller:?} {assigned} {conflicted}")
                }
                None => assert!(matches!(got, Err(Error::NotFound)), "{caller:?}"),
            }
            assert_eq!(
                can_review_as_juror(caller, facts(assigned, conflicted)),
                caller.has_scope(Scope::ReviewsWrite) && assigned && !conflicted,
                "{caller:?} {assigned} {conflicted}"
            );
        }
    }

    #[test]
    fn a_juror_downloads_their_own_review_pack_and_staff_anyone_s() {
        let juror = principal(Role::User, TokenKind::Session, vec![]);
        let reads = principal(Role::User, TokenKind::Personal, vec![Scope::ReviewsRead]);
        let writes = principal(Role::User, TokenKind::Personal, vec![Scope::ReviewsWrite]);
        let admin = principal(Role::Admin, TokenKind::Session, vec![]);
        let admin_token = principal(Role::Admin, TokenKind::Personal, vec![Scope::Admin]);
        let other = Uuid::now_v7();
        let code = |result: Result<Uuid, Error>| match result {
            Ok(whose) => Ok(whose),
            Err(Error::Refused { code, .. }) => Err(code),
            Err(other) => panic!("{other:?}"),
        };
        // (caller, juror named, whose pack or the refusal's code)
        let table: [(&Principal, Option<Uuid>, Result<Uuid, &str>); 9] = [
            (&juror, None, Ok(juror.user_id)),
            (&juror, Some(juror.user_id), Ok(juror.user_id)),
            (&juror, Some(other), Err("admin_only")),
            (&reads, None, Ok(reads.user_id)),
            (&reads, Some(other), Err("admin_only")),
            (&writes, None, Err("missing_scope")),
            (&admin, Some(other), Ok(other)),
            (&admin_token, Some(other), Ok(other)),
            (&admin_token, None, Err("missing_scope")),
        ];
        for (caller, named, expected) in table {
            assert_eq!(
                code(can_download_review_pack(
                    caller,
                    named,
                    &CallAccess::default()
                )),
                expected,
                "{caller:?} {named:?}"
            );
        }
    }

    #[test]
    fn a_juror_declares_conflicts_for_themself_staff_for_anyone() {
        let admin = principal(Role::Admin, TokenKind::Session, vec![]);
        let juror = principal(Role::User, TokenKind::Session, vec![]);
        let read_only = principal(Role::User, TokenKind::Personal, vec![Scope::ReviewsRead]);
        let other = Uuid::now_v7();
        let none = CallAccess::default();
        assert!(can_declare_conflict_for(&admin, other, &none).is_ok());
        assert!(can_declare_conflict_for(&juror, juror.user_id, &none).is_ok());
        assert!(matches!(
            can_declare_conflict_for(&juror, other, &none),
            Err(Error::Refused {
                code: "own_conflicts_only",
                ..
            })
        ));
        assert!(can_declare_conflict_for(&read_only, read_only.user_id, &none).is_err());
        for (caller, on_jury, allowed) in [
            (&admin, false, true),
            (&juror, true, true),
            (&juror, false, false),
        ] {
            assert_eq!(
                can_declare_conflict_in_call(caller, on_jury, &none).is_ok(),
                allowed
            );
        }
    }

    #[test]
    fn an_application_is_read_by_its_members_staff_and_its_unconflicted_jurors() {
        let user = principal(Role::User, TokenKind::Session, vec![]);
        let admin = principal(Role::Admin, TokenKind::Session, vec![]);
        let reviews_only = principal(Role::User, TokenKind::Personal, vec![Scope::ReviewsRead]);
        let member = Some(MemberRole::Member);
        let juror = |assigned, conflicted| {
            Some(JurorFacts {
                assigned,
                conflicted,
            })
        };
        // (caller, membership, juror facts, readable, error when not)
        let table = [
            (&user, member, None, Ok(())),
            (&user, Some(MemberRole::Owner), juror(false, false), Ok(())),
            (&admin, None, None, Ok(())),
            (&user, None, None, Err("not_found")),
            (&user, None, juror(true, false), Ok(())),
            (&user, None, juror(true, true), Err("not_found")),
            (&user, None, juror(false, false), Err("not_found")),
            (&reviews_only, None, juror(true, false), Ok(())),
            (&reviews_only, member, juror(false, false), Err("forbidden")),
            (&reviews_only, None, juror(true, true), Err("forbidden")),
        ];
        for (caller, membership, juror, expected) in table {
            let facts = ApplicationFacts {
                membership,
                juror,
                ..ApplicationFacts::member(None)
            };
            let got = can_read_application(caller, &facts).map_err(|e| match e {
                Error::NotFound => "not_found",
                Error::Refused {
                    status: StatusCode::FORBIDDEN,
                    ..
                } => "forbidden",
                _ => "other",
            });
            assert_eq!(got, expected, "{:?} {facts:?}", caller.role);
            assert_eq!(
                can_read_attachment(caller, &facts).is_ok(),
                expected.is_ok(),
                "{facts:?}"
            );
        }
    }

    /// A result as the matrix writes it: `ok`, `403` or `404`.
    fn written(result: Result<(), Error>) -> &'static str {
        match result {
            Ok(()) => "ok",
            Err(Error::NotFound) => "404",
            Err(Error::Refused {
                status: StatusCode::FORBIDDEN,
                ..
            }) => "403",
            Err(other) => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_call_s_managers_act_on_it_its_observers_read_it_and_others_are_told_nothing() {
        let user = principal(Role::User, TokenKind::Session, vec![]);
        let admin = principal(Role::Admin, TokenKind::Session, vec![]);
        let staff_token = principal(Role::User, TokenKind::Personal, vec![Scope::Admin]);
        let reads_token = principal(
            Role::User,
            TokenKind::Personal,
            vec![Scope::ApplicationsRead],
        );
        let manager = CallAccess::of(Some(CallRole::Manager));
        let observer = CallAccess::of(Some(CallRole::Observer));
        let none = CallAccess::default();
        // (caller, access, manage, observe)
        let table = [
            (&admin, none, "ok", "ok"),
            (&user, manager, "ok", "ok"),
            (&user, observer, "403", "ok"),
            (&user, none, "404", "404"),
            (&staff_token, manager, "ok", "ok"),
            (&staff_token, observer, "403", "ok"),
            (&staff_token, none, "404", "404"),
            (&reads_token, manager, "403", "403"),
            (&reads_token, none, "403", "403"),
        ];
        for (caller, access, manage, observe) in table {
            let seen = (
                written(can_manage_call(caller, &access)),
                written(can_observe_call(caller, &access)),
            );
            assert_eq!(seen, (manage, observe), "{:?} {access:?}", caller.scopes);
            assert_eq!(
                written(can_list_call_staff(caller, &access)),
                manage,
                "{access:?}"
            );
        }
    }

    #[test]
    fn a_call_s_staff_reads_its_applications_once_submitted_and_never_another_call_s() {
        let user = principal(Role::User, TokenKind::Session, vec![]);
        let reads_only = principal(
            Role::User,
            TokenKind::Personal,
            vec![Scope::ApplicationsRead],
        );
        let reads_as_staff = principal(
            Role::User,
            TokenKind::Personal,
            vec![Scope::ApplicationsRead, Scope::Admin],
        );
        let facts = |role, draft| ApplicationFacts {
            call: CallAccess::of(role),
            draft,
            ..ApplicationFacts::member(None)
        };
        let (manager, observer) = (Some(CallRole::Manager), Some(CallRole::Observer));
        // (caller, role on the call, draft, read, act on it as staff)
        let table = [
            (&user, observer, false, "ok", "403"),
            (&user, manager, false, "ok", "ok"),
            (&user, observer, true, "404", "404"),
            (&user, manager, true, "404", "404"),
            (&user, None, false, "404", "404"),
            (&reads_as_staff, observer, false, "ok", "403"),
            (&reads_only, observer, false, "404", "403"),
            (&reads_only, manager, false, "404", "403"),
        ];
        for (caller, role, draft, read, act) in table {
            let facts = facts(role, draft);
            let seen = (
                written(can_read_application(caller, &facts)),
                written(can_manage_application(caller, &facts)),
            );
            assert_eq!(seen, (read, act), "{:?} {facts:?}", caller.scopes);
        }
        // Their reviews: every juror's, like staff, for both roles; nobody else's.
        let juror = JurorFacts {
            assigned: false,
            conflicted: false,
        };
        for role in [manager, observer] {
            assert_eq!(
                can_read_reviews(&user, juror, &CallAccess::of(role)).ok(),
                Some(None)
            );
        }
        assert!(can_read_reviews(&user, juror, &CallAccess::default()).is_err());
    }

    #[test]
    fn a_draft_call_is_read_by_its_own_staff_and_listed_for_them() {
        use crate::domain::call::CallStatus;
        let user = principal(Role::User, TokenKind::Session, vec![]);
        let reviews_token = principal(Role::User, TokenKind::Personal, vec![Scope::ReviewsRead]);
        let staff = CallAccess::of(Some(CallRole::Observer));
        assert!(can_read_call(Some(&user), CallStatus::Draft, &staff));
        assert!(!can_read_call(
            Some(&user),
            CallStatus::Draft,
            &CallAccess::default()
        ));
        assert!(!can_read_call(
            Some(&reviews_token),
            CallStatus::Draft,
            &staff
        ));
        assert!(!can_read_call(None, CallStatus::Draft, &staff));
        let admin = principal(Role::Admin, TokenKind::Session, vec![]);
        assert_eq!(visible_drafts(Some(&admin)), VisibleDrafts::All);
        assert_eq!(
            visible_drafts(Some(&user)),
            VisibleDrafts::OfStaff(user.user_id)
        );
        assert_eq!(visible_drafts(Some(&reviews_token)), VisibleDrafts::None);
        assert_eq!(visible_drafts(None), VisibleDrafts::None);
    }

    #[test]
    fn a_manager_downloads_another_juror_s_pack_and_an_observer_does_not() {
        let user = principal(Role::User, TokenKind::Session, vec![]);
        let other = Uuid::now_v7();
        let manager = CallAccess::of(Some(CallRole::Manager));
        let observer = CallAccess::of(Some(CallRole::Observer));
        assert_eq!(
            can_download_review_pack(&user, Some(other), &manager).ok(),
            Some(other)
        );
        assert!(can_download_review_pack(&user, Some(other), &observer).is_err());
        // A manager declares for any juror of their call; an observer for nobody but themself.
        assert!(can_declare_conflict_for(&user, other, &manager).is_ok());
        assert!(can_declare_conflict_for(&user, other, &observer).is_err());
        assert!(can_declare_conflict_in_call(&user, false, &manager).is_ok());
        assert!(can_declare_conflict_in_call(&user, false, &observer).is_err());
    }

    #[test]
    fn the_status_page_is_for_members_and_staff_never_for_jurors() {
        let user = principal(Role::User, TokenKind::Session, vec![]);
        let admin = principal(Role::Admin, TokenKind::Session, vec![]);
        let juror = ApplicationFacts {
            juror: Some(JurorFacts {
                assigned: true,
                conflicted: false,
            }),
            ..ApplicationFacts::member(None)
        };
        // The assigned juror reads the application through the API, but has no status page.
        assert!(can_read_application(&user, &juror).is_ok());
        assert!(matches!(
            can_open_status_page(&user, &juror),
            Err(Error::NotFound)
        ));
        let member = ApplicationFacts::member(Some(MemberRole::Member));
        assert!(can_open_status_page(&user, &member).is_ok());
        assert!(can_open_status_page(&admin, &ApplicationFacts::member(None)).is_ok());
        assert!(matches!(
            can_open_status_page(&user, &ApplicationFacts::member(None)),
            Err(Error::NotFound)
        ));
    }

    fn principal(role: Role, kind: TokenKind, scopes: Vec<Scope>) -> Principal {
        Principal {
            user_id: Uuid::nil(),
            role,
            token_id: Uuid::nil(),
            token_kind: kind,
            scopes,
            email_verified: true,
        }
    }

    #[test]
    fn a_personal_token_is_limited_to_its_scopes() {
        let p = principal(
            Role::User,
            TokenKind::Personal,
            vec![Scope::ApplicationsRead],
        );
        assert!(p.require_scope(Scope::ApplicationsRead).is_ok());
        assert!(matches!(
            p.require_scope(Scope::ApplicationsWrite),
            Err(Error::Refused {
                status: StatusCode::FORBIDDEN,
                code: "missing_scope",
                ..
            })
        ));
        assert!(matches!(
            p.require_session(),
            Err(Error::Refused {
                status: StatusCode::FORBIDDEN,
                code: "session_required",
                ..
            })
        ));
    }

    #[test]
    fn an_admin_without_the_admin_scope_is_not_an_admin() {
        let p = principal(
            Role::Admin,
            TokenKind::Personal,
            vec![Scope::ApplicationsRead],
        );
        assert!(!p.is_admin());
        assert!(p.require_admin().is_err());
        let s = principal(Role::Admin, TokenKind::Session, vec![]);
        assert!(s.is_admin());
    }

    #[test]
    fn only_staff_and_the_partner_itself_propose_pairings_and_others_learn_nothing() {
        let user = principal(Role::User, TokenKind::Session, vec![]);
        let admin = principal(Role::Admin, TokenKind::Session, vec![]);
        let facts = |partner: Option<MemberRole>, reads: bool, open: bool| PairingProposal {
            partner_membership: partner,
            reads_application: reads,
            open,
            manages_call: false,
        };
        let staff = |open: bool| PairingProposal {
            manages_call: true,
            ..facts(None, false, open)
        };
        let member = Some(MemberRole::Member);
        assert_eq!(
            can_propose_pairing(&user, facts(member, false, true)).unwrap(),
            Proposer::Partner
        );
        // Closed to pairing, or not the partner: the same 404 as an unknown application.
        for closed in [
            facts(member, false, false),
            facts(None, false, true),
            facts(None, false, false),
        ] {
            assert!(matches!(
                can_propose_pairing(&user, closed),
                Err(Error::NotFound)
            ));
        }
        assert!(matches!(
            can_propose_pairing(&user, facts(None, true, true)),
            Err(Error::Refused {
                code: "ask_staff",
                ..
            })
        ));
        assert_eq!(
            can_propose_pairing(&admin, staff(true)).unwrap(),
            Proposer::Staff
        );
        assert!(matches!(
            can_propose_pairing(&admin, staff(false)),
            Err(Error::Refused {
                code: "not_pairable",
                ..
            })
        ));
        let sides = |territory, partner| PairingSides { territory, partner };
        for (facts, expected) in [
            (sides(member, None), Some(Side::Territory)),
            (sides(member, member), Some(Side::Territory)),
            (sides(None, Some(MemberRole::Owner)), Some(Side::Partner)),
            (sides(None, None), None),
        ] {
            assert_eq!(can_respond_to_pairing(facts).ok(), expected, "{facts:?}");
        }
        let read_only = principal(
            Role::User,
            TokenKind::Personal,
            vec![Scope::ApplicationsRead],
        );
        assert!(matches!(
            can_propose_pairing(&read_only, facts(member, false, true)),
            Err(Error::Refused {
                status: StatusCode::FORBIDDEN,
                ..
            })
        ));
    }

    #[test]
    fn organization_access_follows_membership() {
        let user = principal(Role::User, TokenKind::Session, vec![]);
        assert!(matches!(
            can_read_organization(&user, None),
            Err(Error::NotFound)
        ));
        assert!(can_read_organization(&user, Some(MemberRole::Member)).is_ok());
        assert!(matches!(
            can_edit_organization(&user, Some(MemberRole::Member)),
            Err(Error::Refused {
                status: StatusCode::FORBIDDEN,
                code: "owners_only",
                ..
            })
        ));
        assert!(can_edit_organization(&user, Some(MemberRole::Owner)).is_ok());
        let admin = principal(Role::Admin, TokenKind::Session, vec![]);
        assert!(can_edit_organization(&admin, None).is_ok());
    }

    #[test]
    fn members_may_leave_and_owners_may_remove() {
        let user = principal(Role::User, TokenKind::Session, vec![]);
        let other = Uuid::now_v7();
        assert!(can_remove_member(&user, Some(MemberRole::Member), user.user_id).is_ok());
        assert!(matches!(
            can_remove_member(&user, Some(MemberRole::Member), other),
            Err(Error::Refused {
                status: StatusCode::FORBIDDEN,
                ..
            })
        ));
        assert!(can_remove_member(&user, Some(MemberRole::Owner), other).is_ok());
        assert!(matches!(
            can_remove_member(&user, None, user.user_id),
            Err(Error::NotFound)
        ));
        let read_only = principal(
            Role::User,
            TokenKind::Personal,
            vec![Scope::ApplicationsRead],
        );
        assert!(
            can_remove_member(&read_only, Some(MemberRole::Member), read_only.user_id).is_err()
        );
    }

    #[test]
    fn a_pairing_is_seen_by_readers_of_the_application_and_members_of_its_partner() {
        let session = principal(Role::User, TokenKind::Session, vec![]);
        let reads_applications = principal(
            Role::User,
            TokenKind::Personal,
            vec![Scope::ApplicationsRead],
        );
        let reviews_only = principal(Role::User, TokenKind::Personal, vec![Scope::ReviewsRead]);
        let member = VisiblePairings::OfPartnersWithMember(Uuid::nil());
        for (caller, reads, expected) in [
            (&session, true, VisiblePairings::All),
            (&session, false, member),
            (&reads_applications, true, VisiblePairings::All),
            (&reads_applications, false, member),
            (&reviews_only, true, VisiblePairings::All),
            (&reviews_only, false, VisiblePairings::None),
        ] {
            assert_eq!(
                visible_pairings(caller, reads),
                expected,
                "{:?} {reads}",
                caller.scopes
            );
        }
    }
}
