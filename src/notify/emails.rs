//! What each email gives its templates, as one typed context per event: the code that sends an email builds
//! its struct, so a variable the templates need cannot be forgotten (it is a compile error, not a 500 at
//! rendering), and the built-in templates are checked against each struct's example (`examples.rs`, the tests
//! of `templates.rs`) so that a template cannot use a variable the struct does not give.
//!
//! Emails about an application carry the [`ApplicationHeader`] (reader, organization, call, reference, link)
//! that `notify::applications::About` fills in, followed by the event's own details.

mod finalists;

use serde::Serialize;

use super::templates::Event;

pub use finalists::{AskedDocument, PitchSlot, Shortlisted};

/// A typed context of one email event.
pub trait EmailContext: Serialize {
    /// The email this context renders.
    const EVENT: Event;

    /// A realistic context, every optional variable set: previews and the checks of staff templates use it.
    fn example() -> Self;
}

/// What every email about an application says about it, in the reader's language.
#[derive(Debug, Clone, Serialize)]
pub struct ApplicationHeader {
    pub display_name: String,
    pub organization_name: String,
    pub call_title: String,
    /// Given at the first submission (a draft has none).
    pub reference: Option<String>,
    pub link: String,
}

impl ApplicationHeader {
    /// The header of the examples.
    pub fn example() -> ApplicationHeader {
        ApplicationHeader {
            display_name: "Camille Durand".into(),
            organization_name: "Refuges du Vercors".into(),
            call_title: "Alpes Tourisme Lab".into(),
            reference: Some("ATL-2026-0007".into()),
            link: "https://cordee.example/applications/atl-2026-0007".into(),
        }
    }
}

/// An email about an application: the header, then the event's details (same level in the template).
#[derive(Debug, Clone, Serialize)]
pub struct ApplicationEmail<'a, C: Serialize> {
    #[serde(flatten)]
    pub header: ApplicationHeader,
    #[serde(flatten)]
    pub details: &'a C,
}

/// Marks the details of an email about an application (its header is added by `About`).
pub trait ApplicationDetails: EmailContext {}

macro_rules! application_details {
    ($($details:ty),* $(,)?) => {$(impl ApplicationDetails for $details {})*};
}

application_details!(
    SubmissionReceipt,
    ChangesRequested,
    ScreeningOutcome,
    NewMessage,
    WithdrawalAck,
    DraftReminder,
    DecisionPublished,
    PairingUpdate,
    DecisionRevised,
    AppealFiled,
    AppealResolved,
    Shortlisted,
    PitchSlot,
);

/// Asks a new user to confirm their address.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyEmail {
    pub display_name: String,
    pub link: String,
    pub token: String,
    pub expires_in_hours: i64,
}

impl EmailContext for VerifyEmail {
    const EVENT: Event = Event::VerifyEmail;
    fn example() -> Self {
        VerifyEmail {
            display_name: "Camille Durand".into(),
            link: "https://cordee.example/verify?token=abc123".into(),
            token: "abc123".into(),
            expires_in_hours: 24,
        }
    }
}

/// Carries a password reset link.
#[derive(Debug, Clone, Serialize)]
pub struct PasswordReset {
    pub display_name: String,
    pub link: String,
    pub token: String,
    pub expires_in_minutes: i64,
}

impl EmailContext for PasswordReset {
    const EVENT: Event = Event::PasswordReset;
    fn example() -> Self {
        PasswordReset {
            display_name: "Camille Durand".into(),
            link: "https://cordee.example/reset?token=def456".into(),
            token: "def456".into(),
            expires_in_minutes: 30,
        }
    }
}

/// Invites someone to join as administrator, juror or organization member.
#[derive(Debug, Clone, Serialize)]
pub struct Invitation {
    pub inviter_name: String,
    pub role: String,
    pub link: String,
    pub token: String,
    pub expires_in_days: i64,
    /// The call a juror is invited to, if any.
    pub call_title: Option<String>,
    /// The organization a member is invited to join, if any.
    pub organization_name: Option<String>,
}

impl EmailContext for Invitation {
    const EVENT: Event = Event::Invitation;
    fn example() -> Self {
        Invitation {
            inviter_name: "Alex Martin".into(),
            role: "juror".into(),
            link: "https://cordee.example/invitations/ghi789".into(),
            token: "ghi789".into(),
            expires_in_days: 7,
            call_title: Some("Alpes Tourisme Lab".into()),
            organization_name: None,
        }
    }
}

/// Warns the owner of an address that someone tried to register with it.
#[derive(Debug, Clone, Serialize)]
pub struct RegistrationAttempt {
    pub display_name: String,
    pub login_link: String,
    pub reset_link: String,
}

impl EmailContext for RegistrationAttempt {
    const EVENT: Event = Event::RegistrationAttempt;
    fn example() -> Self {
        RegistrationAttempt {
            display_name: "Camille Durand".into(),
            login_link: "https://cordee.example/login".into(),
            reset_link: "https://cordee.example/password-reset".into(),
        }
    }
}

/// One answer of a submission receipt, labelled in the reader's language.
#[derive(Debug, Clone, Serialize)]
pub struct AnswerLine {
    pub label: String,
    pub value: String,
}

/// Acknowledges a submitted application with a summary of its answers.
#[derive(Debug, Clone, Serialize)]
pub struct SubmissionReceipt {
    pub submitted_at: String,
    pub answers: Vec<AnswerLine>,
}

impl EmailContext for SubmissionReceipt {
    const EVENT: Event = Event::SubmissionReceipt;
    fn example() -> Self {
        let line = |label: &str, value: &str| AnswerLine {
            label: label.into(),
            value: value.into(),
        };
        SubmissionReceipt {
            submitted_at: "6 janvier 2026 à 14:05 (Europe/Paris)".into(),
            answers: vec![
                line("Nom du projet", "Sentiers connectés"),
                line(
                    "Description",
                    "Des capteurs de fréquentation\nsur les sentiers du massif.",
                ),
                line("Site web", ""),
            ],
        }
    }
}

/// Tells the applicant that staff ask for changes before a due date.
#[derive(Debug, Clone, Serialize)]
pub struct ChangesRequested {
    pub reason: Option<String>,
    pub due_at: Option<String>,
}

impl EmailContext for ChangesRequested {
    const EVENT: Event = Event::ChangesRequested;
    fn example() -> Self {
        ChangesRequested {
            reason: Some(
                "Merci de joindre le budget prévisionnel.\nLe plan de financement manque.".into(),
            ),
            due_at: Some("20 janvier 2026 à 18:00 (Europe/Paris)".into()),
        }
    }
}

/// Tells the applicant whether the application is eligible.
#[derive(Debug, Clone, Serialize)]
pub struct ScreeningOutcome {
    pub outcome: crate::domain::application::ScreeningOutcome,
    pub reason: Option<String>,
}

impl EmailContext for ScreeningOutcome {
    const EVENT: Event = Event::ScreeningOutcome;
    fn example() -> Self {
        ScreeningOutcome {
            outcome: crate::domain::application::ScreeningOutcome::Ineligible,
            reason: Some("Le siège de l'entreprise est hors du périmètre de l'appel.".into()),
        }
    }
}

/// Carries a message posted on an application.
#[derive(Debug, Clone, Serialize)]
pub struct NewMessage {
    /// Who wrote it (`applicant` or `staff` in the template).
    pub author_side: crate::domain::message::MessageSide,
    pub message: String,
}

impl EmailContext for NewMessage {
    const EVENT: Event = Event::NewMessage;
    fn example() -> Self {
        NewMessage {
            author_side: crate::domain::message::MessageSide::Staff,
            message: "Bonjour,\n\nPourriez-vous préciser le calendrier ?\nMerci.".into(),
        }
    }
}

/// Confirms a withdrawal.
#[derive(Debug, Clone, Serialize)]
pub struct WithdrawalAck {
    pub reason: Option<String>,
}

impl EmailContext for WithdrawalAck {
    const EVENT: Event = Event::WithdrawalAck;
    fn example() -> Self {
        WithdrawalAck {
            reason: Some("Projet reporté à l'an prochain.".into()),
        }
    }
}

/// Reminds the applicant that a draft is not submitted yet.
#[derive(Debug, Clone, Serialize)]
pub struct DraftReminder {
    pub closes_at: String,
    pub days_left: i64,
}

impl EmailContext for DraftReminder {
    const EVENT: Event = Event::DraftReminder;
    fn example() -> Self {
        DraftReminder {
            closes_at: "13 janvier 2026 à 12:00 (Europe/Paris)".into(),
            days_left: 7,
        }
    }
}

/// One application in a juror's assignment digest.
#[derive(Debug, Clone, Serialize)]
pub struct AssignedApplication {
    pub reference: Option<String>,
    pub organization_name: Option<String>,
}

/// Tells a juror which applications were just assigned to them at a stage.
#[derive(Debug, Clone, Serialize)]
pub struct AssignmentDigest {
    pub display_name: String,
    pub call_title: String,
    pub stage_label: String,
    pub count: usize,
    pub applications: Vec<AssignedApplication>,
    pub due_at: Option<String>,
    pub link: String,
}

impl EmailContext for AssignmentDigest {
    const EVENT: Event = Event::AssignmentDigest;
    fn example() -> Self {
        let app = |reference: &str, organization_name: &str| AssignedApplication {
            reference: Some(reference.into()),
            organization_name: Some(organization_name.into()),
        };
        AssignmentDigest {
            display_name: "Dominique Rey".into(),
            call_title: "Alpes Tourisme Lab".into(),
            stage_label: "Évaluation écrite".into(),
            count: 2,
            applications: vec![
                app("ATL-2026-0007", "Refuges du Vercors"),
                app("ATL-2026-0011", "Glisse & Co"),
            ],
            due_at: Some("3 février 2026 à 18:00 (Europe/Paris)".into()),
            link: "https://cordee.example/jury/calls/atl-2026/stages/written".into(),
        }
    }
}

/// Reminds a juror of the reviews of a stage still pending before its due date.
#[derive(Debug, Clone, Serialize)]
pub struct ReviewReminder {
    pub display_name: String,
    pub call_title: String,
    pub stage_label: String,
    pub pending: usize,
    pub due_at: String,
    pub link: String,
}

impl EmailContext for ReviewReminder {
    const EVENT: Event = Event::ReviewReminder;
    fn example() -> Self {
        ReviewReminder {
            display_name: "Dominique Rey".into(),
            call_title: "Alpes Tourisme Lab".into(),
            stage_label: "Évaluation écrite".into(),
            pending: 3,
            due_at: "3 février 2026 à 18:00 (Europe/Paris)".into(),
            link: "https://cordee.example/jury/calls/atl-2026/stages/written".into(),
        }
    }
}

/// Tells the applicant the published decision and its motivation.
#[derive(Debug, Clone, Serialize)]
pub struct DecisionPublished {
    pub outcome: crate::domain::application::DecisionOutcome,
    pub motivation: String,
    /// Until when the decision may be appealed, in the call's time zone (none: the call takes no appeals).
    pub appeal_deadline: Option<String>,
    /// Where to appeal (`POST` with `{"grounds": …}`), when the call takes appeals.
    pub appeal_link: Option<String>,
}

impl EmailContext for DecisionPublished {
    const EVENT: Event = Event::DecisionPublished;
    fn example() -> Self {
        DecisionPublished {
            outcome: crate::domain::application::DecisionOutcome::Selected,
            motivation: "Projet solide et bien chiffré.\nLe jury salue l'ancrage local.".into(),
            appeal_deadline: Some("20 juin 2026 à 14:00 (Europe/Paris)".into()),
            appeal_link: Some(
                "https://cordee.example/api/v1/applications/0190f3a2-7c1d-7b3e-9a40-2f6d8e1c5b77/appeals"
                    .into(),
            ),
        }
    }
}

/// Tells the applicant that its published decision was revised: from what, to what, and why.
#[derive(Debug, Clone, Serialize)]
pub struct DecisionRevised {
    /// The outcome the applicant was told before.
    pub from: crate::domain::application::DecisionOutcome,
    pub outcome: crate::domain::application::DecisionOutcome,
    pub motivation: String,
    /// Why the decision changed.
    pub reason: String,
    /// Until when the new decision may be appealed, in the call's time zone.
    pub appeal_deadline: Option<String>,
    pub appeal_link: Option<String>,
}

impl EmailContext for DecisionRevised {
    const EVENT: Event = Event::DecisionRevised;
    fn example() -> Self {
        DecisionRevised {
            from: crate::domain::application::DecisionOutcome::Waitlisted,
            outcome: crate::domain::application::DecisionOutcome::Selected,
            motivation: "Projet solide, premier sur la liste d'attente.".into(),
            reason: "Une place s'est libérée dans le programme.".into(),
            appeal_deadline: Some("5 juillet 2026 à 09:30 (Europe/Paris)".into()),
            appeal_link: Some(
                "https://cordee.example/api/v1/applications/0190f3a2-7c1d-7b3e-9a40-2f6d8e1c5b77/appeals"
                    .into(),
            ),
        }
    }
}

/// Tells the call's staff that an applicant appealed its decision, with the grounds.
#[derive(Debug, Clone, Serialize)]
pub struct AppealFiled {
    /// The outcome appealed.
    pub outcome: crate::domain::application::DecisionOutcome,
    pub grounds: String,
    /// Where staff read and resolve the appeals of the application.
    pub appeals_link: String,
}

impl EmailContext for AppealFiled {
    const EVENT: Event = Event::AppealFiled;
    fn example() -> Self {
        AppealFiled {
            outcome: crate::domain::application::DecisionOutcome::Rejected,
            grounds: "Le jury n'a pas lu l'annexe financière.\nElle figure page 12.".into(),
            appeals_link:
                "https://cordee.example/api/v1/applications/0190f3a2-7c1d-7b3e-9a40-2f6d8e1c5b77/appeals"
                    .into(),
        }
    }
}

/// Tells the applicant how its appeal was resolved.
#[derive(Debug, Clone, Serialize)]
pub struct AppealResolved {
    pub outcome: crate::domain::appeal::AppealOutcome,
    pub motivation: String,
}

impl EmailContext for AppealResolved {
    const EVENT: Event = Event::AppealResolved;
    fn example() -> Self {
        AppealResolved {
            outcome: crate::domain::appeal::AppealOutcome::Upheld,
            motivation: "L'annexe financière a été relue par le jury.".into(),
        }
    }
}

/// Tells a territory's or a company's members how their pairing stands.
#[derive(Debug, Clone, Serialize)]
pub struct PairingUpdate {
    pub territory_name: String,
    pub partner_name: String,
    /// `proposed`, `accepted`, `declined` or `confirmed` in the template.
    pub step: crate::domain::pairing::Step,
    /// The organization that proposed the pairing, when it was not the call's team.
    pub proposer_name: Option<String>,
}

impl EmailContext for PairingUpdate {
    const EVENT: Event = Event::PairingUpdate;
    fn example() -> Self {
        PairingUpdate {
            territory_name: "Commune de Chamonix-Mont-Blanc".into(),
            partner_name: "Capteurs Alpins".into(),
            step: crate::domain::pairing::Step::Proposed,
            proposer_name: Some("Capteurs Alpins".into()),
        }
    }
}

/// Tells an administrator that a webhook was disabled after too many failed deliveries.
#[derive(Debug, Clone, Serialize)]
pub struct WebhookDisabled {
    pub display_name: String,
    pub url: String,
    pub reason: String,
    pub failures: i32,
    pub link: String,
}

impl EmailContext for WebhookDisabled {
    const EVENT: Event = Event::WebhookDisabled;
    fn example() -> Self {
        WebhookDisabled {
            display_name: "Alex Martin".into(),
            url: "https://partenaire.example/hooks/cordee".into(),
            reason: "HTTP 503 Service Unavailable".into(),
            failures: 10,
            link:
                "https://cordee.example/api/v1/admin/webhooks/0190f3a2-7c1d-7b3e-9a40-2f6d8e1c5b77"
                    .into(),
        }
    }
}

/// One flagged conflict in a staff alert.
#[derive(Debug, Clone, Serialize)]
pub struct FlaggedConflict {
    pub reference: String,
    pub juror_name: String,
    pub reason: String,
    pub source: String,
}

/// Tells an administrator that conflicts of interest were found for jurors already assigned.
#[derive(Debug, Clone, Serialize)]
pub struct ConflictFlagged {
    pub display_name: String,
    pub call_title: String,
    pub count: usize,
    pub conflicts: Vec<FlaggedConflict>,
    pub link: String,
}

impl EmailContext for ConflictFlagged {
    const EVENT: Event = Event::ConflictFlagged;
    fn example() -> Self {
        ConflictFlagged {
            display_name: "Alex Martin".into(),
            call_title: "Alpes Tourisme Lab".into(),
            count: 1,
            conflicts: vec![FlaggedConflict {
                reference: "ATL-2026-0007".into(),
                juror_name: "Dominique Rey".into(),
                reason: "same_email_domain".into(),
                source: "website cabinet-rey.fr".into(),
            }],
            link:
                "https://cordee.example/api/v1/calls/0190f3a2-7c1d-7b3e-9a40-2f6d8e1c5b77/conflicts"
                    .into(),
        }
    }
}

/// The example context of `event` as its templates see it (header included for application emails).
pub fn example_of(event: Event) -> serde_json::Value {
    fn plain<C: EmailContext>() -> serde_json::Value {
        serde_json::to_value(C::example()).unwrap_or_default()
    }
    fn about<C: ApplicationDetails>(header: ApplicationHeader) -> serde_json::Value {
        let details = C::example();
        serde_json::to_value(ApplicationEmail {
            header,
            details: &details,
        })
        .unwrap_or_default()
    }
    let header = ApplicationHeader::example();
    match event {
        Event::VerifyEmail => plain::<VerifyEmail>(),
        Event::PasswordReset => plain::<PasswordReset>(),
        Event::Invitation => plain::<Invitation>(),
        Event::RegistrationAttempt => plain::<RegistrationAttempt>(),
        Event::SubmissionReceipt => about::<SubmissionReceipt>(header),
        Event::ChangesRequested => about::<ChangesRequested>(header),
        Event::ScreeningOutcome => about::<ScreeningOutcome>(header),
        Event::NewMessage => about::<NewMessage>(ApplicationHeader {
            call_title: "Expérimentation Montagne".into(),
            reference: Some("EXM-2026-0012".into()),
            link: "https://cordee.example/applications/exm-2026-0012/messages".into(),
            ..header
        }),
        Event::WithdrawalAck => about::<WithdrawalAck>(ApplicationHeader {
            call_title: "Expérimentation Montagne".into(),
            reference: Some("EXM-2026-0012".into()),
            ..header
        }),
        Event::DraftReminder => about::<DraftReminder>(ApplicationHeader {
            reference: None,
            link: "https://cordee.example/applications/draft-42".into(),
            ..header
        }),
        Event::AssignmentDigest => plain::<AssignmentDigest>(),
        Event::ReviewReminder => plain::<ReviewReminder>(),
        Event::DecisionPublished => about::<DecisionPublished>(ApplicationHeader {
            link: "https://cordee.example/applications/atl-2026-0007/decision".into(),
            ..header
        }),
        Event::PairingUpdate => about::<PairingUpdate>(ApplicationHeader {
            display_name: "Claude Perrin".into(),
            organization_name: "Commune de Chamonix-Mont-Blanc".into(),
            call_title: "Expérimentation Montagne".into(),
            reference: Some("EXM-2026-0012".into()),
            link: "https://cordee.example/pairings/17".into(),
        }),
        Event::WebhookDisabled => plain::<WebhookDisabled>(),
        Event::ConflictFlagged => plain::<ConflictFlagged>(),
        Event::DecisionRevised => about::<DecisionRevised>(header),
        Event::AppealFiled => about::<AppealFiled>(ApplicationHeader {
            display_name: "Alex Martin".into(),
            ..header
        }),
        Event::AppealResolved => about::<AppealResolved>(header),
        Event::Shortlisted => about::<Shortlisted>(header),
        Event::PitchSlot => about::<PitchSlot>(header),
    }
}
