//! Attachment files under one folder: an upload is written to `<name>.part` (0600) and renamed to `<name>`
//! when its row is stored.

use std::io;
use std::path::{Path, PathBuf};

use actix_web::web::Bytes;
use futures_util::Stream;
use tokio::io::AsyncWriteExt;

use super::{next_chunk, upload_chunk, Measure, Stored};
use crate::error::Error;

/// The folder attachment files are kept in.
#[derive(Debug, Clone)]
pub struct Folder {
    dir: PathBuf,
}

impl Folder {
    /// The folder `dir` (created on the first upload).
    pub fn new(dir: PathBuf) -> Folder {
        Folder { dir }
    }

    /// The folder itself.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where a kept file lives.
    pub fn path_of(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn temporary(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.part"))
    }

    /// Writes the upload to `<name>.part`; removes it on any error.
    pub(super) async fn receive<S, E>(
        &self,
        name: &str,
        stream: &mut S,
        measure: Measure,
        idle: std::time::Duration,
    ) -> Result<Measure, Error>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        crate::private_fs::create_dir_all_async(&self.dir)
            .await
            .map_err(|e| Error::Internal(e.into()))?;
        let temporary = self.temporary(name);
        let result = write(&temporary, stream, measure, idle).await;
        if result.is_err() {
            let _ = tokio::fs::remove_file(&temporary).await;
        }
        result
    }

    /// Renames `<name>.part` to `<name>`.
    pub(super) fn keep(&self, name: &str) -> io::Result<()> {
        std::fs::rename(self.temporary(name), self.path_of(name))
    }

    /// Removes `<name>.part`.
    pub(super) async fn discard(&self, name: &str) -> io::Result<()> {
        ignore_missing(tokio::fs::remove_file(self.temporary(name)).await)
    }

    /// Removes the kept file `name` (or a temporary file the sweep found); missing is fine.
    pub(super) async fn delete(&self, name: &str) -> io::Result<()> {
        ignore_missing(tokio::fs::remove_file(self.path_of(name)).await)
    }

    /// The regular files of the folder (none when it does not exist yet).
    pub(super) fn list(&self) -> io::Result<Vec<Stored>> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(err) => return Err(err),
        };
        let mut stored = Vec::new();
        for entry in entries {
            let entry = entry?;
            let metadata = entry.metadata()?;
            if metadata.is_file() {
                stored.push(Stored {
                    name: entry.file_name().to_string_lossy().into_owned(),
                    modified: metadata.modified()?,
                });
            }
        }
        Ok(stored)
    }
}

/// Not found is no error for a removal.
pub(super) fn ignore_missing(result: io::Result<()>) -> io::Result<()> {
    match result {
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

async fn write<S, E>(
    path: &Path,
    stream: &mut S,
    mut measure: Measure,
    idle: std::time::Duration,
) -> Result<Measure, Error>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    // 0600: the file keeps this mode when it is renamed into place.
    let mut file = crate::private_fs::create_file_async(path)
        .await
        .map_err(|e| Error::Internal(e.into()))?;
    while let Some(chunk) = next_chunk(stream, idle).await? {
        let chunk = upload_chunk(chunk)?;
        measure.add(&chunk)?;
        file.write_all(&chunk)
            .await
            .map_err(|e| Error::Internal(e.into()))?;
    }
    file.sync_all()
        .await
        .map_err(|e| Error::Internal(e.into()))?;
    Ok(measure)
}
