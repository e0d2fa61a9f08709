//! Attachment files as objects `<prefix><name>` in an S3-compatible bucket. An upload goes up while it
//! arrives: a file that fits in one part ([`PART_BYTES`]) is one PUT carrying its SHA-256 as metadata, a
//! larger one a multipart upload of 5 MiB parts, aborted on any error, so that memory stays bounded
//! whatever the file's size and a failed upload leaves no object.

use std::io;
use std::sync::Arc;

use actix_web::web::Bytes;
use anyhow::bail;
use futures_util::{Stream, StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as ObjectPath;
use object_store::{
    Attribute, AttributeValue, Attributes, MultipartUpload, ObjectStore, PutMultipartOptions,
    PutOptions, PutPayload,
};
use secrecy::ExposeSecret;

use super::{next_chunk, upload_chunk, Download, Measure, Stored};
use crate::config::S3Settings;
use crate::error::Error;

/// The size of a multipart upload's parts, and the most an upload holds in memory: S3's smallest part.
pub const PART_BYTES: usize = 5 * 1024 * 1024;

/// The object metadata key that holds a file's SHA-256 (`x-amz-meta-sha256`).
pub const SHA256_METADATA: &str = "sha256";

/// A bucket and the key prefix of the attachment objects in it.
#[derive(Clone)]
pub struct Bucket {
    store: Arc<AmazonS3>,
    bucket: String,
    prefix: String,
}

impl Bucket {
    /// A client for the bucket of `settings`; refuses an empty bucket name.
    pub fn new(settings: &S3Settings) -> anyhow::Result<Bucket> {
        let bucket = settings.bucket.trim();
        if bucket.is_empty() {
            bail!(
                "storage.backend is \"s3\" but storage.s3.bucket is empty: name the bucket that holds the \
                 attachment files (CORDEE__STORAGE__S3__BUCKET)"
            );
        }
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(bucket)
            .with_region(settings.region.trim())
            .with_allow_http(settings.allow_http);
        if !settings.endpoint.trim().is_empty() {
            builder = builder.with_endpoint(settings.endpoint.trim());
        }
        let key_id = settings.access_key_id.expose_secret();
        if !key_id.is_empty() {
            builder = builder
                .with_access_key_id(key_id)
                .with_secret_access_key(settings.secret_access_key.expose_secret());
        }
        let store = builder
            .build()
            .map_err(|e| anyhow::anyhow!("storage.s3: {e}"))?;
        Ok(Bucket {
            store: Arc::new(store),
            bucket: bucket.to_owned(),
            prefix: folder_prefix(&settings.prefix),
        })
    }

    /// `s3://bucket/prefix`, for messages.
    pub fn describe(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.prefix)
    }

    fn path_of(&self, name: &str) -> ObjectPath {
        ObjectPath::from(format!("{}{name}", self.prefix))
    }

    /// Uploads the stream as the object `name` while measuring it; nothing is left on any error.
    pub(super) async fn receive<S, E>(
        &self,
        name: &str,
        stream: &mut S,
        mut measure: Measure,
        idle: std::time::Duration,
    ) -> Result<Measure, Error>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let mut writer = ObjectWriter::new(self, name);
        let received: Result<(), Error> = async {
            while let Some(chunk) = next_chunk(stream, idle).await? {
                let chunk = upload_chunk(chunk)?;
                measure.add(&chunk)?;
                writer.write(&chunk).await.map_err(internal)?;
            }
            Ok(())
        }
        .await;
        match received {
            Ok(()) => {
                writer.finish(&measure.sha256()).await.map_err(internal)?;
                Ok(measure)
            }
            Err(err) => {
                writer.abort().await;
                Err(err)
            }
        }
    }

    /// Deletes the object `name`; a missing one is fine.
    pub(super) async fn delete(&self, name: &str) -> io::Result<()> {
        match self.store.delete(&self.path_of(name)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(err) => Err(io_error(err)),
        }
    }

    /// The object's bytes as they arrive from the bucket.
    pub(super) async fn download(&self, name: &str) -> io::Result<Download> {
        let object = self
            .store
            .get(&self.path_of(name))
            .await
            .map_err(io_error)?;
        let size = object.meta.size;
        let body = object.into_stream().map_err(io_error).boxed();
        Ok(Download::Stream { size, body })
    }

    /// Whether the object `name` exists.
    pub(super) async fn exists(&self, name: &str) -> io::Result<bool> {
        match self.store.head(&self.path_of(name)).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(err) => Err(io_error(err)),
        }
    }

    /// The objects directly under the prefix (deeper keys belong to someone else).
    pub(super) async fn list(&self) -> io::Result<Vec<Stored>> {
        let prefix = ObjectPath::from(self.prefix.as_str());
        let prefix = (!self.prefix.is_empty()).then_some(&prefix);
        let mut objects = self.store.list(prefix);
        let mut stored = Vec::new();
        while let Some(meta) = objects.next().await {
            let meta = meta.map_err(io_error)?;
            let Some(name) = meta.location.as_ref().strip_prefix(self.prefix.as_str()) else {
                continue;
            };
            if name.is_empty() || name.contains('/') {
                continue;
            }
            stored.push(Stored {
                name: name.to_owned(),
                modified: meta.last_modified.into(),
            });
        }
        Ok(stored)
    }

    /// A writer for the object `name` (a restore, an upload).
    pub(super) fn writer(&self, name: &str) -> ObjectWriter {
        ObjectWriter::new(self, name)
    }
}

/// A prefix that is a folder: empty, or ending with one `/`.
fn folder_prefix(raw: &str) -> String {
    let trimmed = raw.trim().trim_matches('/');
    if trimmed.is_empty() {
        String::new()
    } else {
        format!("{trimmed}/")
    }
}

/// Writes one object from bytes given in pieces, holding at most [`PART_BYTES`] (and a piece) in memory.
pub(super) struct ObjectWriter {
    store: Arc<AmazonS3>,
    path: ObjectPath,
    buffer: Vec<u8>,
    upload: Option<Box<dyn MultipartUpload>>,
}

impl ObjectWriter {
    fn new(bucket: &Bucket, name: &str) -> ObjectWriter {
        ObjectWriter {
            store: bucket.store.clone(),
            path: bucket.path_of(name),
            buffer: Vec::new(),
            upload: None,
        }
    }

    /// Adds `bytes`; sends a part each time [`PART_BYTES`] are buffered.
    pub(super) async fn write(&mut self, bytes: &[u8]) -> object_store::Result<()> {
        self.buffer.extend_from_slice(bytes);
        while self.buffer.len() >= PART_BYTES {
            let rest = self.buffer.split_off(PART_BYTES);
            let part = std::mem::replace(&mut self.buffer, rest);
            self.send(part).await?;
        }
        Ok(())
    }

    async fn send(&mut self, part: Vec<u8>) -> object_store::Result<()> {
        if self.upload.is_none() {
            self.upload = Some(
                self.store
                    .put_multipart_opts(&self.path, PutMultipartOptions::default())
                    .await?,
            );
        }
        if let Some(upload) = self.upload.as_mut() {
            upload.put_part(PutPayload::from(part)).await?;
        }
        Ok(())
    }

    /// Completes the object: one PUT (with the SHA-256 as metadata) when it never filled a part, otherwise
    /// the last part and the completion; a failure aborts the multipart upload.
    pub(super) async fn finish(mut self, sha256: &str) -> object_store::Result<()> {
        let rest = std::mem::take(&mut self.buffer);
        let Some(mut upload) = self.upload.take() else {
            let mut attributes = Attributes::new();
            attributes.insert(
                Attribute::Metadata(SHA256_METADATA.into()),
                AttributeValue::from(sha256.to_owned()),
            );
            let options = PutOptions {
                attributes,
                ..PutOptions::default()
            };
            self.store
                .put_opts(&self.path, PutPayload::from(rest), options)
                .await?;
            return Ok(());
        };
        let completed = async {
            if !rest.is_empty() {
                upload.put_part(PutPayload::from(rest)).await?;
            }
            upload.complete().await
        }
        .await;
        if let Err(err) = completed {
            if let Err(abort) = upload.abort().await {
                tracing::warn!(error = %abort, "could not abort a multipart upload");
            }
            return Err(err);
        }
        Ok(())
    }

    /// Drops what was written: aborts the multipart upload, if one was started.
    pub(super) async fn abort(mut self) {
        if let Some(mut upload) = self.upload.take() {
            if let Err(err) = upload.abort().await {
                tracing::warn!(error = %err, "could not abort a multipart upload");
            }
        }
    }
}

fn internal(err: object_store::Error) -> Error {
    Error::Internal(anyhow::anyhow!("attachment storage: {err}"))
}

/// An object store error as an I/O error (not found stays not found).
fn io_error(err: object_store::Error) -> io::Error {
    match err {
        object_store::Error::NotFound { .. } => io::Error::new(io::ErrorKind::NotFound, err),
        other => io::Error::other(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prefix_is_a_folder() {
        assert_eq!(folder_prefix("attachments/"), "attachments/");
        assert_eq!(folder_prefix("/attachments"), "attachments/");
        assert_eq!(folder_prefix("a/b"), "a/b/");
        assert_eq!(folder_prefix(""), "");
        assert_eq!(folder_prefix("/"), "");
    }

    #[test]
    fn an_empty_bucket_is_refused() {
        let err = Bucket::new(&S3Settings::default()).err().unwrap();
        assert!(
            err.to_string().contains("storage.s3.bucket is empty"),
            "{err}"
        );
    }
}
