//! What can happen in Cordée, named once: every audit entry and every event of the feed carries one of these
//! actions, serialized under its dotted name (`application.submitted`), the same on the wire as in the database.

macro_rules! actions {
    ($($(#[$doc:meta])* $variant:ident => $name:literal,)*) => {
        /// One kind of change, for the audit log and the event feed.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Action {
            $($(#[$doc])* $variant,)*
        }

        impl Action {
            /// Every action.
            pub const ALL: &'static [Action] = &[$(Action::$variant,)*];

            /// The action of a stored dotted name, if it is one.
            pub fn parse(name: &str) -> Option<Action> {
                Action::ALL.iter().copied().find(|a| a.as_str() == name)
            }

            /// The action's dotted name, as stored and as sent to webhook receivers.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Action::$variant => $name,)*
                }
            }
        }
    };
}

actions! {
    ApplicationAnonymised => "application.anonymised",
    ApplicationCreated => "application.created",
    ApplicationDecided => "application.decided",
    ApplicationMessagePosted => "application.message_posted",
    ApplicationNotShortlisted => "application.not_shortlisted",
    ApplicationRetentionConsent => "application.retention_consent",
    ApplicationScreened => "application.screened",
    ApplicationShortlisted => "application.shortlisted",
    ApplicationSubmitted => "application.submitted",
    ApplicationUpdated => "application.updated",
    ApplicationWithdrawn => "application.withdrawn",
    /// An applicant appealed a published decision.
    AppealFiled => "appeal.filed",
    /// Staff upheld or dismissed an appeal.
    AppealResolved => "appeal.resolved",
    AssignmentCreated => "assignment.created",
    AssignmentsCreated => "assignments.created",
    AttachmentDeleted => "attachment.deleted",
    AttachmentUploaded => "attachment.uploaded",
    CallCreated => "call.created",
    /// The next edition of a call was started from it (a draft call linked to the previous one).
    CallEditionCreated => "call.edition_created",
    CallPublished => "call.published",
    CallShortlisted => "call.shortlisted",
    CallUpdated => "call.updated",
    CatalogueConsentGiven => "catalogue.consent_given",
    CatalogueConsentWithdrawn => "catalogue.consent_withdrawn",
    CatalogueEntryPublished => "catalogue.entry_published",
    CatalogueEntryUnpublished => "catalogue.entry_unpublished",
    ConflictConfirmed => "conflict.confirmed",
    ConflictDeclared => "conflict.declared",
    ConflictDetected => "conflict.detected",
    ConflictDismissed => "conflict.dismissed",
    ConflictFlagged => "conflict.flagged",
    /// Staff revised a published decision (a new version, with its reason).
    DecisionRevised => "decision.revised",
    DecisionsPublished => "decisions.published",
    DecisionsRecorded => "decisions.recorded",
    EmailTemplateReset => "email_template.reset",
    EmailTemplateUpdated => "email_template.updated",
    InvitationAccepted => "invitation.accepted",
    InvitationCreated => "invitation.created",
    InvitationDeclined => "invitation.declined",
    JurorAdded => "jury.juror_added",
    JurorRemoved => "jury.juror_removed",
    /// A jury meeting's attendance was recorded (replaced whole).
    MeetingAttendanceRecorded => "meeting.attendance_recorded",
    /// A jury meeting was closed: its record is frozen, the audit entry carries the record's digest.
    MeetingClosed => "meeting.closed",
    /// A jury meeting recorded (or replaced) what it decided on an application.
    MeetingItemRecorded => "meeting.item_recorded",
    /// A jury meeting was opened on a stage, with a snapshot of the stage's ranking.
    MeetingOpened => "meeting.opened",
    /// A jury meeting's minutes, agenda, place or date changed.
    MeetingUpdated => "meeting.updated",
    MessagePosted => "message.posted",
    OrganizationCreated => "organization.created",
    OrganizationMemberInvited => "organization.member_invited",
    OrganizationMemberLeft => "organization.member_left",
    OrganizationMemberRemoved => "organization.member_removed",
    OrganizationUpdated => "organization.updated",
    OutboxRetried => "outbox.retried",
    PairingConfirmed => "pairing.confirmed",
    PairingDeclined => "pairing.declined",
    PairingProposed => "pairing.proposed",
    PairingResponded => "pairing.responded",
    /// A finalist confirmed their pitch slot (on the feed: staff see who confirmed).
    PitchSlotConfirmed => "pitch_slot.confirmed",
    PitchSlotDeleted => "pitch_slot.deleted",
    /// Staff set or moved a finalist's pitch slot.
    PitchSlotSet => "pitch_slot.set",
    /// A review pack (a juror's assigned applications as one ZIP) was downloaded; audited only.
    ReviewPackDownloaded => "review_pack.downloaded",
    ReviewReopened => "review.reopened",
    ReviewSaved => "review.saved",
    ReviewSubmitted => "review.submitted",
    /// A juror's score sheet was uploaded and its rows saved (each also as `review.saved`); audited only.
    ScoreSheetUploaded => "score_sheet.uploaded",
    /// Someone took a role on a call's staff (manager or observer) by accepting an invitation; audited only.
    StaffAdded => "staff.added",
    /// An administrator removed someone from a call's staff; audited only.
    StaffRemoved => "staff.removed",
    StageDeadlineSet => "stage.deadline_set",
    TokenCreated => "token.created",
    TokenRevoked => "token.revoked",
    UserCreatedAdmin => "user.created_admin",
    UserDeleted => "user.deleted",
    UserEmailVerified => "user.email_verified",
    UserPasswordReset => "user.password_reset",
    UserPromotedAdmin => "user.promoted_admin",
    UserRegistered => "user.registered",
    WebhookCreated => "webhook.created",
    WebhookDeleted => "webhook.deleted",
    WebhookEnabled => "webhook.enabled",
    WebhookTest => "webhook.test",
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_action_has_its_own_dotted_name() {
        let names: HashSet<&str> = Action::ALL.iter().map(|a| a.as_str()).collect();
        assert_eq!(names.len(), Action::ALL.len());
        assert!(names.iter().all(|n| n.split('.').count() == 2));
    }
}
