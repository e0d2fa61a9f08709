//! Example data for every email: what each event provides to its templates, used to preview templates
//! and to check the ones staff write.

use serde_json::json;

use super::Event;

/// A realistic context of `event`, with every variable the event may provide (optional ones included).
pub fn example_context(event: Event) -> serde_json::Value {
    match event {
        Event::VerifyEmail => json!({
            "display_name": "Camille Durand",
            "link": "https://cordee.example/verify?token=abc123",
            "token": "abc123",
            "expires_in_hours": 24,
        }),
        Event::PasswordReset => json!({
            "display_name": "Camille Durand",
            "link": "https://cordee.example/reset?token=def456",
            "token": "def456",
            "expires_in_minutes": 30,
        }),
        Event::Invitation => json!({
            "inviter_name": "Alex Martin",
            "role": "juror",
            "link": "https://cordee.example/invitations/ghi789",
            "token": "ghi789",
            "expires_in_days": 7,
            "call_title": "Alpes Tourisme Lab",
            "organization_name": null,
        }),
        Event::RegistrationAttempt => json!({
            "display_name": "Camille Durand",
            "login_link": "https://cordee.example/login",
            "reset_link": "https://cordee.example/password-reset",
        }),
        Event::SubmissionReceipt => json!({
            "display_name": "Camille Durand",
            "organization_name": "Refuges du Vercors",
            "call_title": "Alpes Tourisme Lab",
            "reference": "ATL-2026-0007",
            "submitted_at": "6 janvier 2026 à 14:05 (Europe/Paris)",
            "answers": [
                {"label": "Nom du projet", "value": "Sentiers connectés"},
                {
                    "label": "Description",
                    "value": "Des capteurs de fréquentation\nsur les sentiers du massif.",
                },
                {"label": "Site web", "value": ""},
            ],
            "link": "https://cordee.example/applications/atl-2026-0007",
        }),
        Event::ChangesRequested => json!({
            "display_name": "Camille Durand",
            "organization_name": "Refuges du Vercors",
            "call_title": "Alpes Tourisme Lab",
            "reference": "ATL-2026-0007",
            "reason": "Merci de joindre le budget prévisionnel.\nLe plan de financement manque.",
            "due_at": "20 janvier 2026 à 18:00 (Europe/Paris)",
            "link": "https://cordee.example/applications/atl-2026-0007",
        }),
        Event::ScreeningOutcome => json!({
            "display_name": "Camille Durand",
            "organization_name": "Refuges du Vercors",
            "call_title": "Alpes Tourisme Lab",
            "reference": "ATL-2026-0007",
            "outcome": "ineligible",
            "reason": "Le siège de l'entreprise est hors du périmètre de l'appel.",
        }),
        Event::NewMessage => json!({
            "display_name": "Camille Durand",
            "organization_name": "Refuges du Vercors",
            "call_title": "Expérimentation Montagne",
            "reference": "EXM-2026-0012",
            "author_side": "staff",
            "message": "Bonjour,\n\nPourriez-vous préciser le calendrier ?\nMerci.",
            "link": "https://cordee.example/applications/exm-2026-0012/messages",
        }),
        Event::WithdrawalAck => json!({
            "display_name": "Camille Durand",
            "organization_name": "Refuges du Vercors",
            "call_title": "Expérimentation Montagne",
            "reference": "EXM-2026-0012",
            "reason": "Projet reporté à l'an prochain.",
        }),
        Event::DraftReminder => json!({
            "display_name": "Camille Durand",
            "organization_name": "Refuges du Vercors",
            "call_title": "Alpes Tourisme Lab",
            "closes_at": "13 janvier 2026 à 12:00 (Europe/Paris)",
            "days_left": 7,
            "link": "https://cordee.example/applications/draft-42",
        }),
        Event::AssignmentDigest => json!({
            "display_name": "Dominique Rey",
            "call_title": "Alpes Tourisme Lab",
            "stage_label": "Évaluation écrite",
            "count": 2,
            "applications": [
                {"reference": "ATL-2026-0007", "organization_name": "Refuges du Vercors"},
                {"reference": "ATL-2026-0011", "organization_name": "Glisse & Co"},
            ],
            "due_at": "3 février 2026 à 18:00 (Europe/Paris)",
            "link": "https://cordee.example/jury/calls/atl-2026/stages/written",
        }),
        Event::ReviewReminder => json!({
            "display_name": "Dominique Rey",
            "call_title": "Alpes Tourisme Lab",
            "stage_label": "Évaluation écrite",
            "pending": 3,
            "due_at": "3 février 2026 à 18:00 (Europe/Paris)",
            "link": "https://cordee.example/jury/calls/atl-2026/stages/written",
        }),
        Event::DecisionPublished => json!({
            "display_name": "Camille Durand",
            "organization_name": "Refuges du Vercors",
            "call_title": "Alpes Tourisme Lab",
            "reference": "ATL-2026-0007",
            "outcome": "selected",
            "motivation": "Projet solide et bien chiffré.\nLe jury salue l'ancrage local.",
            "link": "https://cordee.example/applications/atl-2026-0007/decision",
        }),
        Event::PairingUpdate => json!({
            "display_name": "Claude Perrin",
            "organization_name": "Commune de Chamonix-Mont-Blanc",
            "call_title": "Expérimentation Montagne",
            "reference": "EXM-2026-0012",
            "territory_name": "Commune de Chamonix-Mont-Blanc",
            "partner_name": "Capteurs Alpins",
            "step": "proposed",
            "proposer_name": "Capteurs Alpins",
            "link": "https://cordee.example/pairings/17",
        }),
        Event::WebhookDisabled => json!({
            "display_name": "Alex Martin",
            "url": "https://partenaire.example/hooks/cordee",
            "reason": "HTTP 503 Service Unavailable",
            "failures": 10,
            "link": "https://cordee.example/api/v1/admin/webhooks/0190f3a2-7c1d-7b3e-9a40-2f6d8e1c5b77",
        }),
        Event::ConflictFlagged => json!({
            "display_name": "Alex Martin",
            "call_title": "Alpes Tourisme Lab",
            "count": 1,
            "conflicts": [
                {"reference": "ATL-2026-0007", "juror_name": "Dominique Rey", "reason": "same_email_domain", "source": "website cabinet-rey.fr"},
            ],
            "link": "https://cordee.example/api/v1/calls/0190f3a2-7c1d-7b3e-9a40-2f6d8e1c5b77/conflicts",
        }),
    }
}

/// The variables that `event` may go without (absent or null): templates must test them with
/// `is defined` / `is not none` before use.
pub fn optional_variables(event: Event) -> &'static [&'static str] {
    match event {
        Event::Invitation => &["call_title", "organization_name"],
        Event::ScreeningOutcome => &["reason"],
        Event::NewMessage => &["reference"],
        Event::WithdrawalAck => &["reference", "reason"],
        Event::AssignmentDigest => &["due_at"],
        Event::PairingUpdate => &["reference", "proposer_name"],
        _ => &[],
    }
}
