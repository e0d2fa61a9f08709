//! Attachment files: kept as files under `storage.dir` ([`fs`]) or as objects in an S3-compatible bucket
//! ([`s3`]), behind one [`Storage`]. An upload is streamed in while hashed and measured (never held whole),
//! checked against its magic bytes, and kept under a generated name. The database row is the truth; a sweep
//! removes files without one.

pub mod blocking;
pub mod fs;
pub mod s3;

use std::io;
use std::path::PathBuf;

use actix_web::web::Bytes;
use futures_util::stream::BoxStream;
use futures_util::{Stream, StreamExt};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::config::{StorageBackend, StorageSettings};
use crate::error::Error;

pub use blocking::Blocking;

/// Where attachment files are kept, as the settings say; cheap to clone.
#[derive(Clone)]
pub enum Storage {
    Fs(fs::Folder),
    S3(s3::Bucket),
}

/// A file received in full: on disk under a temporary name until [`Storage::keep`], or already the object
/// it will stay on S3. Either way [`Storage::discard`] removes it when it is not kept.
pub struct Received {
    /// The generated name it is kept under (the attachment row's `storage_name`).
    pub name: String,
    pub size: u64,
    pub sha256: String,
    /// The type recognised from the file's first bytes, if any.
    pub detected_type: Option<String>,
}

/// An attachment's bytes, for a download.
pub enum Download {
    /// A file on disk (served with ranges and validators).
    File(PathBuf),
    /// An object's bytes as they arrive, and how many there are.
    Stream {
        size: u64,
        body: BoxStream<'static, io::Result<Bytes>>,
    },
}

/// One kept file or object, as a sweep sees it.
pub struct Stored {
    pub name: String,
    pub modified: std::time::SystemTime,
}

/// How many bytes of a file's start decide its type.
const HEAD_BYTES: usize = 8192;

/// What a streamed upload has seen so far: its size, its hash and its first bytes.
struct Measure {
    hasher: Sha256,
    size: u64,
    head: Vec<u8>,
    max_size: u64,
}

impl Measure {
    fn new(max_size: u64) -> Measure {
        Measure {
            hasher: Sha256::new(),
            size: 0,
            head: Vec::with_capacity(HEAD_BYTES),
            max_size,
        }
    }

    /// Counts and hashes `chunk`; 413 once the file is over `max_size`.
    fn add(&mut self, chunk: &[u8]) -> Result<(), Error> {
        self.size += chunk.len() as u64;
        if self.size > self.max_size {
            return Err(Error::PayloadTooLarge(format!(
                "the file is over the {}-byte limit of this field",
                self.max_size
            )));
        }
        if self.head.len() < HEAD_BYTES {
            let take = (HEAD_BYTES - self.head.len()).min(chunk.len());
            self.head.extend_from_slice(&chunk[..take]);
        }
        self.hasher.update(chunk);
        Ok(())
    }

    fn sha256(&self) -> String {
        hex::encode(self.hasher.clone().finalize())
    }

    fn received(self, name: String) -> Received {
        let sha256 = self.sha256();
        Received {
            name,
            size: self.size,
            sha256,
            detected_type: infer::get(&self.head).map(|t| t.mime_type().to_owned()),
        }
    }
}

/// The next piece of an upload: 400 when the client's body broke off.
fn upload_chunk<E: std::fmt::Display>(chunk: Result<Bytes, E>) -> Result<Bytes, Error> {
    chunk.map_err(|e| Error::BadRequest(format!("the upload was interrupted: {e}")))
}

impl Storage {
    /// The storage the settings describe; an `s3` backend without a bucket is refused.
    pub fn from_settings(settings: &StorageSettings) -> anyhow::Result<Storage> {
        Ok(match settings.backend {
            StorageBackend::Fs => Storage::Fs(fs::Folder::new(settings.dir.clone())),
            StorageBackend::S3 => Storage::S3(s3::Bucket::new(&settings.s3)?),
        })
    }

    /// Where the files are, for messages: the folder, or `s3://bucket/prefix`.
    pub fn describe(&self) -> String {
        match self {
            Storage::Fs(folder) => folder.dir().display().to_string(),
            Storage::S3(bucket) => bucket.describe(),
        }
    }

    /// Streams an upload in, at most `max_size` bytes (413 beyond, nothing left behind; 408 when it pauses
    /// longer than `idle`); any error removes what was written.
    pub async fn receive<S, E>(
        &self,
        mut stream: S,
        max_size: u64,
        idle: std::time::Duration,
    ) -> Result<Received, Error>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let name = Uuid::now_v7().simple().to_string();
        let measure = Measure::new(max_size);
        let measure = match self {
            Storage::Fs(folder) => folder.receive(&name, &mut stream, measure, idle).await?,
            Storage::S3(bucket) => bucket.receive(&name, &mut stream, measure, idle).await?,
        };
        Ok(measure.received(name))
    }

    /// Puts a received file in place under its name (on disk, a rename; an object is already in place).
    /// Called before the row naming it commits, so that a row never names a missing file.
    pub fn keep(&self, name: &str) -> io::Result<()> {
        match self {
            Storage::Fs(folder) => folder.keep(name),
            Storage::S3(_) => Ok(()),
        }
    }

    /// Removes a received file that is not kept (refused, or its row failed); a failure is logged and left
    /// to the sweep.
    pub async fn discard(&self, file: &Received) {
        let result = match self {
            Storage::Fs(folder) => folder.discard(&file.name).await,
            Storage::S3(bucket) => bucket.delete(&file.name).await,
        };
        if let Err(err) = result {
            tracing::warn!(error = %err, "could not remove a file that was not kept; the sweep will");
        }
    }

    /// Deletes the files `names` (their rows are gone); one already missing is fine, one that cannot be
    /// deleted now is logged and left to the sweep.
    pub async fn remove(&self, names: &[String]) {
        for name in names {
            let result = match self {
                Storage::Fs(folder) => folder.delete(name).await,
                Storage::S3(bucket) => bucket.delete(name).await,
            };
            if let Err(err) = result {
                tracing::warn!(error = %err, "could not delete an attachment file; the sweep will");
            }
        }
    }

    /// The bytes of the kept file `name`, for a download.
    pub async fn download(&self, name: &str) -> io::Result<Download> {
        match self {
            Storage::Fs(folder) => Ok(Download::File(folder.path_of(name))),
            Storage::S3(bucket) => bucket.download(name).await,
        }
    }

    /// Every kept file and object, with when it was last written.
    pub async fn list(&self) -> io::Result<Vec<Stored>> {
        match self {
            Storage::Fs(folder) => {
                let folder = folder.clone();
                tokio::task::spawn_blocking(move || folder.list())
                    .await
                    .map_err(io::Error::other)?
            }
            Storage::S3(bucket) => bucket.list().await,
        }
    }

    /// Deletes the files and objects that `known` does not name, once older than `grace` at `now` (another
    /// instance may be finishing an upload right now); returns how many went.
    pub async fn sweep(
        &self,
        known: &std::collections::HashSet<String>,
        grace: std::time::Duration,
        now: std::time::SystemTime,
    ) -> io::Result<usize> {
        let mut removed = 0;
        for stored in self.list().await? {
            if orphan(&stored, known, grace, now) {
                match self {
                    Storage::Fs(folder) => folder.delete(&stored.name).await?,
                    Storage::S3(bucket) => bucket.delete(&stored.name).await?,
                }
                removed += 1;
            }
        }
        Ok(removed)
    }
}

/// Whether a sweep deletes `stored`: no row names it and it is older than `grace` at `now`.
fn orphan(
    stored: &Stored,
    known: &std::collections::HashSet<String>,
    grace: std::time::Duration,
    now: std::time::SystemTime,
) -> bool {
    let old_enough = now
        .duration_since(stored.modified)
        .is_ok_and(|age| age >= grace);
    old_enough && !known.contains(&stored.name)
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
