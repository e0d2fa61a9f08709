//! A ZIP archive written as it streams to the client: each file goes in as it is read (attachments in
//! chunks, never whole), its SHA-256 and size computed on the way, and the bytes leave through a bounded
//! channel, so that the memory a download holds does not grow with the number or the size of its files.
//! Runs on a blocking thread: writing waits while the client is slow to read.

use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use actix_web::web::Bytes;
use chrono::{DateTime, Datelike, Timelike, Utc};
use sha2::{Digest, Sha256};
use tokio::sync::mpsc::Sender;
use zip::write::{SimpleFileOptions, StreamWriter};
use zip::{CompressionMethod, ZipWriter};

/// The bytes of a piece of the archive, or the error that ends it.
pub type Chunk = Result<Bytes, io::Error>;

/// How many bytes go to the client at a time.
const CHUNK_BYTES: usize = 64 * 1024;

/// Writes into a bounded channel, in chunks of [`CHUNK_BYTES`]; waits while the channel is full. Once
/// abandoned (the archive failed and the client was told), what is written is dropped.
pub struct ChannelWriter {
    tx: Sender<Chunk>,
    buffer: Vec<u8>,
    abandoned: Arc<AtomicBool>,
}

impl ChannelWriter {
    /// A writer into `tx`, and the switch that abandons it.
    pub fn new(tx: Sender<Chunk>) -> (ChannelWriter, Arc<AtomicBool>) {
        let abandoned = Arc::new(AtomicBool::new(false));
        let writer = ChannelWriter {
            tx,
            buffer: Vec::with_capacity(CHUNK_BYTES),
            abandoned: abandoned.clone(),
        };
        (writer, abandoned)
    }

    fn send(&mut self) -> io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(
            &mut self.buffer,
            Vec::with_capacity(CHUNK_BYTES),
        ));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the client went away"))
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.abandoned.load(Ordering::Relaxed) {
            return Ok(buf.len());
        }
        let take = buf.len().min(CHUNK_BYTES - self.buffer.len());
        self.buffer.extend_from_slice(&buf[..take]);
        if self.buffer.len() == CHUNK_BYTES {
            self.send()?;
        }
        Ok(take)
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.abandoned.load(Ordering::Relaxed) {
            return Ok(());
        }
        self.send()
    }
}

/// How a file is stored: compressed (text), or as it is (attachments, already compressed formats).
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    Compressed,
    Stored,
}

/// A file written into the archive.
#[derive(Debug, Clone)]
pub struct Written {
    pub path: String,
    pub size: u64,
    pub sha256: String,
}

/// The file being written.
struct Open {
    path: String,
    hasher: Sha256,
    size: u64,
}

/// A ZIP archive written to `W` without seeking (sizes and checksums follow each file).
pub struct Archive<W: Write> {
    zip: ZipWriter<StreamWriter<W>>,
    modified: zip::DateTime,
    open: Option<Open>,
}

impl<W: Write> Archive<W> {
    /// An empty archive whose files are dated `at` (UTC).
    pub fn new(out: W, at: DateTime<Utc>) -> Archive<W> {
        let modified = zip::DateTime::from_date_and_time(
            u16::try_from(at.year()).unwrap_or(1980),
            at.month() as u8,
            at.day() as u8,
            at.hour() as u8,
            at.minute() as u8,
            at.second() as u8,
        )
        .unwrap_or_default();
        Archive {
            zip: ZipWriter::new_stream(out),
            modified,
            open: None,
        }
    }

    /// Starts the file at `path`: what is written next is its content, until [`Archive::end`].
    pub fn start(&mut self, path: &str, kind: Kind) -> io::Result<()> {
        let method = match kind {
            Kind::Compressed => CompressionMethod::Deflated,
            Kind::Stored => CompressionMethod::Stored,
        };
        let options = SimpleFileOptions::default()
            .compression_method(method)
            .last_modified_time(self.modified)
            .unix_permissions(0o644);
        self.zip
            .start_file(path, options)
            .map_err(io::Error::other)?;
        self.open = Some(Open {
            path: path.to_owned(),
            hasher: Sha256::new(),
            size: 0,
        });
        Ok(())
    }

    /// Ends the file started last: its path, size and SHA-256.
    pub fn end(&mut self) -> io::Result<Written> {
        let open = self
            .open
            .take()
            .ok_or_else(|| io::Error::other("no file is open in the archive"))?;
        Ok(Written {
            path: open.path,
            size: open.size,
            sha256: hex::encode(open.hasher.finalize()),
        })
    }

    /// Adds a file from memory.
    pub fn add(&mut self, path: &str, kind: Kind, content: &[u8]) -> io::Result<Written> {
        self.start(path, kind)?;
        self.write_all(content)?;
        self.end()
    }

    /// Adds a file from `file` (on disk or in a bucket), read in chunks.
    pub fn add_file(&mut self, path: &str, kind: Kind, mut file: impl Read) -> io::Result<Written> {
        self.start(path, kind)?;
        let mut buffer = vec![0; CHUNK_BYTES];
        loop {
            let read = file.read(&mut buffer)?;
            if read == 0 {
                break;
            }
            self.write_all(&buffer[..read])?;
        }
        self.end()
    }

    /// Writes the central directory and returns the output, flushed.
    pub fn finish(self) -> io::Result<W> {
        let mut out = self.zip.finish().map_err(io::Error::other)?.into_inner();
        out.flush()?;
        Ok(out)
    }
}

impl<W: Write> Write for Archive<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let written = self.zip.write(buf)?;
        if let Some(open) = self.open.as_mut() {
            open.hasher.update(&buf[..written]);
            open.size += written as u64;
        }
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.zip.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    #[test]
    fn files_written_without_seeking_read_back_with_their_hashes() {
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("deck.pdf");
        let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&source, &big).unwrap();
        let at = DateTime::parse_from_rfc3339("2026-01-06T08:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let mut archive = Archive::new(Vec::new(), at);
        let page = archive
            .add("ATL-1/page.html", Kind::Compressed, b"<p>Bonjour</p>")
            .unwrap();
        let deck = archive
            .add_file(
                "ATL-1/deck.pdf",
                Kind::Stored,
                std::fs::File::open(&source).unwrap(),
            )
            .unwrap();
        let bytes = archive.finish().unwrap();
        assert_eq!(deck.size, 200_000);
        assert_eq!(deck.sha256, hex::encode(Sha256::digest(&big)));
        assert_eq!(page.sha256, hex::encode(Sha256::digest(b"<p>Bonjour</p>")));
        let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        let mut read = Vec::new();
        zip.by_name("ATL-1/deck.pdf")
            .unwrap()
            .read_to_end(&mut read)
            .unwrap();
        assert_eq!(read, big);
        assert_eq!(zip.len(), 2);
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn the_channel_carries_bounded_chunks_and_an_abandoned_writer_sends_nothing_more() {
        let (tx, mut rx) = tokio::sync::mpsc::channel(2);
        let writer = tokio::task::spawn_blocking(move || {
            let (mut writer, abandon) = ChannelWriter::new(tx);
            writer.write_all(&vec![7; CHUNK_BYTES * 3 + 10]).unwrap();
            writer.flush().unwrap();
            abandon.store(true, Ordering::Relaxed);
            writer.write_all(b"dropped").unwrap();
            writer.flush().unwrap();
        });
        let mut sizes = Vec::new();
        while let Some(chunk) = rx.recv().await {
            sizes.push(chunk.unwrap().len());
        }
        writer.await.unwrap();
        assert_eq!(sizes, vec![CHUNK_BYTES, CHUNK_BYTES, CHUNK_BYTES, 10]);
    }
}
