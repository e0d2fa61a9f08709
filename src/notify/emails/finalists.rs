//! The emails of finalists: shortlisted to the next stage, and convened to a pitch.

use serde::Serialize;

use super::EmailContext;
use crate::notify::templates::Event;

/// A document asked of the finalists at a stage, as the email lists it.
#[derive(Debug, Clone, Serialize)]
pub struct AskedDocument {
    pub label: String,
    /// The accepted types, such as `application/pdf`, joined with commas.
    pub content_types: String,
    /// The largest file, in megabytes (rounded up).
    pub max_size_mb: u64,
    pub required: bool,
}

/// Tells an application's members it is shortlisted to the next stage: the stage, its dates when known,
/// that a pitch slot follows, and the documents asked.
#[derive(Debug, Clone, Serialize)]
pub struct Shortlisted {
    pub stage_label: String,
    /// When the stage begins, in the call's time zone, if set.
    pub stage_starts_at: Option<String>,
    /// When it ends, if set.
    pub stage_ends_at: Option<String>,
    /// The documents to upload while shortlisted (as the `field` of an upload); may be empty.
    pub extra_documents: Vec<AskedDocument>,
}

impl EmailContext for Shortlisted {
    const EVENT: Event = Event::Shortlisted;
    fn example() -> Self {
        Shortlisted {
            stage_label: "Pitch devant le jury".into(),
            stage_starts_at: Some("4 mai 2026 à 09:00 (Europe/Paris)".into()),
            stage_ends_at: Some("6 mai 2026 à 18:00 (Europe/Paris)".into()),
            extra_documents: vec![AskedDocument {
                label: "Présentation finale".into(),
                content_types: "application/pdf".into(),
                max_size_mb: 20,
                required: false,
            }],
        }
    }
}

/// Convenes a finalist's members to their pitch, or tells them it moved.
#[derive(Debug, Clone, Serialize)]
pub struct PitchSlot {
    pub stage_label: String,
    /// When it starts, in the call's time zone.
    pub starts_at: String,
    pub duration_minutes: i64,
    /// Where, if in person.
    pub place: Option<String>,
    /// The video link, if online.
    pub video_url: Option<String>,
    /// Whether an earlier slot was moved (its confirmation is then asked again).
    pub moved: bool,
    /// Where to confirm: `POST` there with the applicant's token, or from the application's page.
    pub confirm_url: String,
}

impl EmailContext for PitchSlot {
    const EVENT: Event = Event::PitchSlot;
    fn example() -> Self {
        PitchSlot {
            stage_label: "Pitch devant le jury".into(),
            starts_at: "5 mai 2026 à 10:20 (Europe/Paris)".into(),
            duration_minutes: 20,
            place: Some("Maison du Tourisme, salle Belledonne, 14 rue de la République, Grenoble".into()),
            video_url: Some("https://visio.example/atl-2026-pitch".into()),
            moved: false,
            confirm_url:
                "https://cordee.example/api/v1/applications/0190f3a2-7c1d-7b3e-9a40-2f6d8e1c5b77/pitch-slot/confirm"
                    .into(),
        }
    }
}
