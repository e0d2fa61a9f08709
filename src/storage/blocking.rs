//! The storage from code that runs on a blocking thread: the review pack writer, `cordee backup` and
//! `cordee restore`, the start-up sweep. Files are read with `std::io::Read` in chunks, whatever the backend:
//! an object's bytes are pulled from its stream one chunk at a time.

use std::io::{self, Read};
use std::path::Path;

use actix_web::web::Bytes;
use futures_util::stream::BoxStream;
use futures_util::StreamExt;
use tokio::runtime::{Handle, Runtime};

use super::{Download, Storage, Stored};

/// [`Storage`] for a blocking thread: inside a Tokio runtime's blocking pool it uses that runtime, elsewhere
/// (a command of the CLI) a small one of its own. Never use it on an async worker thread.
pub struct Blocking {
    storage: Storage,
    handle: Handle,
    _runtime: Option<Runtime>,
}

/// A kept file opened for reading, and its size.
pub struct Source {
    pub reader: Box<dyn Read + Send>,
    pub size: u64,
}

impl Blocking {
    /// `storage`, driven from this blocking thread.
    pub fn new(storage: Storage) -> io::Result<Blocking> {
        let (handle, runtime) = match Handle::try_current() {
            Ok(handle) => (handle, None),
            Err(_) => {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(1)
                    .enable_all()
                    .build()?;
                (runtime.handle().clone(), Some(runtime))
            }
        };
        Ok(Blocking {
            storage,
            handle,
            _runtime: runtime,
        })
    }

    /// The storage itself.
    pub fn storage(&self) -> &Storage {
        &self.storage
    }

    /// The kept file `name`, opened; `None` when it does not exist.
    pub fn open(&self, name: &str) -> io::Result<Option<Source>> {
        let download = match &self.storage {
            Storage::Fs(folder) => {
                return match std::fs::File::open(folder.path_of(name)) {
                    Ok(file) => {
                        let size = file.metadata()?.len();
                        Ok(Some(Source {
                            reader: Box::new(file),
                            size,
                        }))
                    }
                    Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(None),
                    Err(err) => Err(err),
                };
            }
            Storage::S3(_) => self.handle.block_on(self.storage.download(name)),
        };
        match download {
            Ok(Download::Stream { size, body }) => Ok(Some(Source {
                reader: Box::new(StreamReader {
                    handle: self.handle.clone(),
                    body,
                    current: Bytes::new(),
                }),
                size,
            })),
            Ok(Download::File(path)) => {
                let file = std::fs::File::open(path)?;
                let size = file.metadata()?.len();
                Ok(Some(Source {
                    reader: Box::new(file),
                    size,
                }))
            }
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(err),
        }
    }

    /// Whether the kept file `name` exists.
    pub fn exists(&self, name: &str) -> io::Result<bool> {
        match &self.storage {
            Storage::Fs(folder) => Ok(folder.path_of(name).is_file()),
            Storage::S3(bucket) => self.handle.block_on(bucket.exists(name)),
        }
    }

    /// Every kept file and object.
    pub fn list(&self) -> io::Result<Vec<Stored>> {
        match &self.storage {
            Storage::Fs(folder) => folder.list(),
            Storage::S3(bucket) => self.handle.block_on(bucket.list()),
        }
    }

    /// Deletes the kept file `name` (missing is fine).
    pub fn delete(&self, name: &str) -> io::Result<()> {
        match &self.storage {
            Storage::Fs(folder) => {
                super::fs::ignore_missing(std::fs::remove_file(folder.path_of(name)))
            }
            Storage::S3(bucket) => self.handle.block_on(bucket.delete(name)),
        }
    }

    /// [`Storage::sweep`] from a blocking thread.
    pub fn sweep(
        &self,
        known: &std::collections::HashSet<String>,
        grace: std::time::Duration,
        now: std::time::SystemTime,
    ) -> io::Result<usize> {
        let mut removed = 0;
        for stored in self.list()? {
            if super::orphan(&stored, known, grace, now) {
                self.delete(&stored.name)?;
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Keeps the local file `source` as `name` (a restore): moved into the folder, or uploaded in parts with
    /// its SHA-256 `sha256`. `source` is consumed either way.
    pub fn put_file(&self, name: &str, source: &Path, sha256: &str) -> anyhow::Result<()> {
        match &self.storage {
            Storage::Fs(folder) => {
                crate::private_fs::create_dir_all(folder.dir())?;
                move_file(source, &folder.path_of(name))
            }
            Storage::S3(bucket) => {
                let mut file = std::fs::File::open(source)?;
                let mut writer = bucket.writer(name);
                let mut buffer = vec![0; 64 * 1024];
                loop {
                    let read = file.read(&mut buffer)?;
                    if read == 0 {
                        break;
                    }
                    if let Err(err) = self.handle.block_on(writer.write(&buffer[..read])) {
                        self.handle.block_on(writer.abort());
                        return Err(anyhow::anyhow!("cannot upload {name}: {err}"));
                    }
                }
                self.handle
                    .block_on(writer.finish(sha256))
                    .map_err(|e| anyhow::anyhow!("cannot upload {name}: {e}"))?;
                std::fs::remove_file(source)?;
                Ok(())
            }
        }
    }
}

/// Renames `from` to `to`, copying when they are on different file systems.
pub fn move_file(from: &Path, to: &Path) -> anyhow::Result<()> {
    use anyhow::Context;
    if std::fs::rename(from, to).is_ok() {
        return Ok(());
    }
    std::fs::copy(from, to)
        .and_then(|_| crate::private_fs::restrict(to))
        .and_then(|_| std::fs::File::open(to)?.sync_all())
        .with_context(|| format!("cannot write {}", to.display()))?;
    std::fs::remove_file(from)?;
    Ok(())
}

/// Reads an object's stream from a blocking thread, a chunk at a time.
struct StreamReader {
    handle: Handle,
    body: BoxStream<'static, io::Result<Bytes>>,
    current: Bytes,
}

impl Read for StreamReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            match self.handle.block_on(self.body.next()) {
                Some(chunk) => self.current = chunk?,
                None => return Ok(0),
            }
        }
        let take = buf.len().min(self.current.len());
        buf[..take].copy_from_slice(&self.current.split_to(take));
        Ok(take)
    }
}
