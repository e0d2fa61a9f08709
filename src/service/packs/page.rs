//! What a review pack holds for one application, and the manifest that lists it all: a readable page of the
//! answers in the juror's language (labels, not keys; option labels, not values: the receipt's
//! [`answers_summary`]), the attachments under safe names, unique in their folder.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::error::Error;
use crate::notify::applications::{answers_summary, format_instant};
use crate::notify::emails::AnswerLine;
use crate::storage::safe_filename;
use crate::store::applications::{Application, Attachment};

use super::Pack;

/// The page of an application's answers, in its folder.
pub const PAGE_NAME: &str = "application.html";

const PAGE_TEMPLATE: &str = include_str!("../../../templates/pack/application.html");

/// Renders the pages of a pack (HTML, every value escaped).
pub struct Renderer {
    env: minijinja::Environment<'static>,
}

#[derive(Serialize)]
struct PageContext<'a> {
    lang: &'a str,
    call_title: &'a str,
    stage_label: &'a str,
    reference: &'a str,
    organization: &'a str,
    submitted_at: Option<String>,
    lines: Vec<AnswerLine>,
    files: Vec<PageFile>,
}

#[derive(Serialize)]
struct PageFile {
    name: String,
    href: String,
    size: String,
}

impl Renderer {
    /// The renderer of the built-in page template.
    pub fn new() -> Result<Renderer, Error> {
        let mut env = minijinja::Environment::new();
        // The `.html` name turns HTML escaping on for every value.
        env.add_template(PAGE_NAME, PAGE_TEMPLATE)
            .map_err(|e| Error::Internal(anyhow::anyhow!("the review pack page template: {e}")))?;
        Ok(Renderer { env })
    }

    /// The page of `application` (of `organization`) with its attachments, named as in its folder.
    pub fn page(
        &self,
        pack: &Pack,
        application: &Application,
        organization: &str,
        files: &[(Attachment, String)],
    ) -> Result<String, Error> {
        let lang = pack.locale.as_str();
        let attachments: Vec<Attachment> = files.iter().map(|(a, _)| a.clone()).collect();
        let answers = application.answers.0.clone();
        let context = PageContext {
            lang,
            call_title: &pack.call_title,
            stage_label: &pack.stage_label,
            reference: application.reference.as_deref().unwrap_or_default(),
            organization,
            submitted_at: application
                .submitted_at
                .map(|at| format_instant(at.0, &pack.timezone, lang)),
            lines: answers_summary(&pack.form, &answers, &attachments, lang),
            files: files
                .iter()
                .map(|(attachment, name)| PageFile {
                    name: name.clone(),
                    href: percent_encoded(name),
                    size: human_size(attachment.size.max(0) as u64, lang),
                })
                .collect(),
        };
        self.env
            .get_template(PAGE_NAME)
            .and_then(|t| t.render(&context))
            .map_err(|e| Error::Internal(anyhow::anyhow!("rendering a review pack page: {e}")))
    }
}

/// The names of the files of one application's folder: each safe ([`safe_filename`]) and unique in the
/// folder (`deck.pdf`, `deck (2).pdf`), the page's name taken first.
pub struct Folder {
    used: HashSet<String>,
}

impl Folder {
    /// A folder whose page is already named.
    pub fn new() -> Folder {
        Folder {
            used: HashSet::from([PAGE_NAME.to_owned()]),
        }
    }

    /// A safe name for `filename`, not used yet in this folder.
    pub fn name(&mut self, filename: &str) -> String {
        let safe = safe_filename(Some(filename));
        let (stem, extension) = match safe.rsplit_once('.') {
            Some((stem, ext)) if !stem.is_empty() => (stem.to_owned(), format!(".{ext}")),
            _ => (safe.clone(), String::new()),
        };
        let mut name = safe;
        let mut n = 1;
        while self.used.contains(&name.to_lowercase()) {
            n += 1;
            name = format!("{stem} ({n}){extension}");
        }
        self.used.insert(name.to_lowercase());
        name
    }
}

/// The folder of an application in the pack: its reference (its id when it has none), made safe.
pub fn folder_of(application_id: Uuid, reference: Option<&str>) -> String {
    match reference {
        Some(reference) => safe_filename(Some(reference)),
        None => application_id.to_string(),
    }
}

/// A file name as a relative link: every byte but the unreserved ones percent-encoded.
fn percent_encoded(name: &str) -> String {
    name.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A size as people read it: `820 o`, `12 Ko`, `3,4 Mo` (French) or `820 B`, `12 KB`, `3.4 MB`.
fn human_size(bytes: u64, lang: &str) -> String {
    let (b, kb, mb) = if lang == "en" {
        ("B", "KB", "MB")
    } else {
        ("o", "Ko", "Mo")
    };
    let text = if bytes < 1024 {
        format!("{bytes} {b}")
    } else if bytes < 1024 * 1024 {
        format!("{} {kb}", bytes.div_ceil(1024))
    } else {
        format!("{:.1} {mb}", bytes as f64 / (1024.0 * 1024.0))
    };
    if lang == "en" {
        text
    } else {
        text.replace('.', ",")
    }
}

/// `manifest.json`: what the pack holds, each file with its size and SHA-256.
#[derive(Debug, Serialize)]
pub struct Manifest {
    /// The layout of this file; 1 for now.
    pub format: u32,
    pub call: ManifestCall,
    pub stage: ManifestStage,
    /// The juror whose pack this is.
    pub juror_id: Uuid,
    pub generated_at: DateTime<Utc>,
    /// The score sheet, at the root of the pack.
    pub scores: ManifestFile,
    /// One entry per application, in the order of their references.
    pub applications: Vec<ManifestApplication>,
}

/// The call of a pack.
#[derive(Debug, Serialize)]
pub struct ManifestCall {
    pub id: Uuid,
    pub slug: String,
    pub title: String,
}

/// The stage of a pack.
#[derive(Debug, Serialize)]
pub struct ManifestStage {
    pub key: String,
    pub label: String,
}

/// One application of a pack: its folder and files.
#[derive(Debug, Serialize)]
pub struct ManifestApplication {
    pub reference: Option<String>,
    pub application_id: Uuid,
    pub folder: String,
    pub files: Vec<ManifestFile>,
}

/// One file of a pack.
#[derive(Debug, Serialize)]
pub struct ManifestFile {
    /// Its path in the archive.
    pub path: String,
    /// `scores`, `answers` (the page) or `attachment`.
    pub kind: &'static str,
    /// For an attachment: its form field and the name it was uploaded with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    pub size: u64,
    pub sha256: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_in_a_folder_are_safe_and_unique() {
        let mut folder = Folder::new();
        assert_eq!(folder.name("deck.pdf"), "deck.pdf");
        assert_eq!(folder.name("../deck.pdf"), "deck (2).pdf");
        assert_eq!(folder.name("DECK.pdf"), "DECK (3).pdf");
        assert_eq!(folder.name("application.html"), "application (2).html");
        assert_eq!(folder.name(""), "file");
        assert_eq!(folder.name("\u{202E}"), "file (2)");
    }

    #[test]
    fn links_and_sizes_read_well() {
        assert_eq!(
            percent_encoded("lettre de soutien #2.pdf"),
            "lettre%20de%20soutien%20%232.pdf"
        );
        assert_eq!(percent_encoded("é.pdf"), "%C3%A9.pdf");
        assert_eq!(human_size(820, "fr"), "820 o");
        assert_eq!(human_size(12 * 1024, "en"), "12 KB");
        assert_eq!(human_size(3_565_158, "fr"), "3,4 Mo");
        assert_eq!(human_size(3_565_158, "en"), "3.4 MB");
    }
}
