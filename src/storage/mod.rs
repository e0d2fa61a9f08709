//! Attachment files on disk: streamed in under a temporary name while hashed and measured, checked against
//! their magic bytes, then kept under a generated name. The database row is the truth; a start-up sweep
//! removes files without one.

use std::path::{Path, PathBuf};

use futures_util::{Stream, StreamExt};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;
use uuid::Uuid;

use crate::error::Error;

/// A file received in full under a temporary name.
pub struct Received {
    pub temp_path: PathBuf,
    pub size: u64,
    pub sha256: String,
    /// The type recognised from the file's first bytes, if any.
    pub detected_type: Option<String>,
}

/// The next chunk of a request body; 408 when none arrives within `idle`, so that a client sending its body
/// slowly (or not at all) cannot hold a connection and a worker's attention for ever.
pub async fn next_chunk<S, T>(stream: &mut S, idle: std::time::Duration) -> Result<Option<T>, Error>
where
    S: Stream<Item = T> + Unpin,
{
    tokio::time::timeout(idle, stream.next())
        .await
        .map_err(|_| {
            Error::RequestTimeout(format!(
                "no part of the body arrived for {} ms",
                idle.as_millis()
            ))
        })
}

/// Writes `stream` to a temporary file in `dir`, at most `max_size` bytes (413 beyond, nothing left
/// behind; 408 when it pauses longer than `idle`); any read error also removes the partial file.
pub async fn receive<S, E>(
    dir: &Path,
    mut stream: S,
    max_size: u64,
    idle: std::time::Duration,
) -> Result<Received, Error>
where
    S: Stream<Item = Result<actix_web::web::Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    crate::private_fs::create_dir_all_async(dir)
        .await
        .map_err(|e| Error::Internal(e.into()))?;
    let temp_path = dir.join(format!("{}.part", Uuid::now_v7()));
    let result = write(&temp_path, &mut stream, max_size, idle).await;
    if result.is_err() {
        let _ = tokio::fs::remove_file(&temp_path).await;
    }
    let (size, sha256, head) = result?;
    let detected_type = infer::get(&head).map(|t| t.mime_type().to_owned());
    Ok(Received {
        temp_path,
        size,
        sha256,
        detected_type,
    })
}

async fn write<S, E>(
    path: &Path,
    stream: &mut S,
    max_size: u64,
    idle: std::time::Duration,
) -> Result<(u64, String, Vec<u8>), Error>
where
    S: Stream<Item = Result<actix_web::web::Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    // 0600: the file keeps this mode when it is renamed into place.
    let mut file = crate::private_fs::create_file_async(path)
        .await
        .map_err(|e| Error::Internal(e.into()))?;
    let mut hasher = Sha256::new();
    let mut size: u64 = 0;
    let mut head = Vec::with_capacity(8192);
    while let Some(chunk) = next_chunk(stream, idle).await? {
        let chunk =
            chunk.map_err(|e| Error::BadRequest(format!("the upload was interrupted: {e}")))?;
        size += chunk.len() as u64;
        if size > max_size {
            return Err(Error::PayloadTooLarge(format!(
                "the file is over the {max_size}-byte limit of this field"
            )));
        }
        if head.len() < 8192 {
            let take = (8192 - head.len()).min(chunk.len());
            head.extend_from_slice(&chunk[..take]);
        }
        hasher.update(&chunk);
        file.write_all(&chunk)
            .await
            .map_err(|e| Error::Internal(e.into()))?;
    }
    file.sync_all()
        .await
        .map_err(|e| Error::Internal(e.into()))?;
    Ok((size, hex::encode(hasher.finalize()), head))
}

/// Where a kept file lives.
pub fn path_of(dir: &Path, storage_name: &str) -> PathBuf {
    dir.join(storage_name)
}

/// A file name safe to show and to send back in Content-Disposition: the last path segment, without
/// control or format characters (a right-to-left override would show `invoice\u{202E}fdp.exe` as `invoiceexe.pdf`)
/// or quotes, at most 200 characters.
pub fn safe_filename(raw: Option<&str>) -> String {
    let base = raw.unwrap_or("").rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base
        .chars()
        .filter(|&c| !crate::domain::text::is_invisible(c) && !matches!(c, '"' | '\\' | '/'))
        .take(200)
        .collect();
    // Leading dots and spaces go together (". ." would otherwise leave " ."), so that cleaning a clean name
    // changes nothing.
    let cleaned = cleaned
        .trim_start_matches(|c: char| c == '.' || c.is_whitespace())
        .trim_end()
        .to_owned();
    if cleaned.is_empty() {
        "file".into()
    } else {
        cleaned
    }
}

/// Removes temporary files and files that no attachment row names (left by a crash mid-upload), once they
/// are older than `grace` (another instance may be finishing an upload right now).
pub fn sweep(
    dir: &Path,
    known: &std::collections::HashSet<String>,
    grace: std::time::Duration,
) -> std::io::Result<usize> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(0);
    };
    let mut removed = 0;
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let metadata = entry.metadata()?;
        let old_enough = metadata
            .modified()
            .ok()
            .and_then(|m| m.elapsed().ok())
            .is_some_and(|age| age >= grace);
        if metadata.is_file() && old_enough && !known.contains(&name) {
            std::fs::remove_file(entry.path())?;
            removed += 1;
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn file_names_are_made_safe() {
        assert_eq!(safe_filename(Some("../../etc/passwd")), "passwd");
        assert_eq!(
            safe_filename(Some("C:\\Users\\lea\\deck \"v2\".pdf")),
            "deck v2.pdf"
        );
        assert_eq!(safe_filename(Some("\u{0}\n")), "file");
        assert_eq!(safe_filename(None), "file");
        assert_eq!(safe_filename(Some(".hidden")), "hidden");
        assert_eq!(safe_filename(Some(". .")), "file");
        assert_eq!(safe_filename(Some(" . deck.pdf ")), "deck.pdf");
        assert_eq!(
            safe_filename(Some("invoice\u{202E}fdp.exe")),
            "invoicefdp.exe"
        );
        assert_eq!(safe_filename(Some("\u{200B}.\u{FEFF}deck.pdf")), "deck.pdf");
    }

    proptest! {
        #[test]
        fn any_client_file_name_becomes_a_safe_one(
            raw in proptest::option::of("\\PC{0,300}|[./\\\\\"\\x00-\\x1f\\u{7f}-\\u{9f}a. ]{0,40}|\\.\\./[a-z]{1,8}\\.pdf|(\\PC|\\p{Cf}|[. ]){0,40}"),
        ) {
            let name = safe_filename(raw.as_deref());
            prop_assert!(!name.is_empty());
            prop_assert!(name.chars().count() <= 200);
            prop_assert!(!name.contains(['/', '\\', '"']), "{:?}", name);
            prop_assert!(!name.chars().any(crate::domain::text::is_invisible), "{:?}", name);
            prop_assert!(!name.starts_with('.'), "{:?}", name);
            prop_assert_eq!(name.trim(), name.as_str());
            // Safe names stay as they are.
            prop_assert_eq!(safe_filename(Some(&name)), name.clone());
            // It can be sent back in a header.
            let header = format!("attachment; filename=\"{name}\"");
            prop_assert!(actix_web::http::header::HeaderValue::from_str(&header).is_ok());
        }
    }
}
