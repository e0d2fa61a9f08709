//! Backups: one archive (gzip-compressed tar) holding a consistent copy of the SQLite database, every
//! attachment file that copy references and a manifest with their sizes and SHA-256 checksums; and the
//! restore, which checks every byte against the manifest before it puts anything in place.
//!
//! The copy is taken while the server runs: `VACUUM INTO` reads one snapshot of the database (a read
//! transaction, which in WAL mode blocks no writer), then the files that snapshot names are copied. A file is
//! renamed into place before the row naming it commits, so every file the snapshot references exists unless
//! it was deleted since; the backup then starts again from a fresh snapshot, and fails if that keeps
//! happening. PostgreSQL is backed up with `pg_dump`; `--attachments-only` archives the files on either
//! database. The files are read from, and restored to, the storage the settings name (a folder or an S3
//! bucket): an archive made from one restores onto the other.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context};
use chrono::{DateTime, Utc};
use diesel::connection::SimpleConnection;
use diesel::dsl::max;
use diesel::{Connection, ExpressionMethods, QueryDsl, RunQueryDsl, SqliteConnection};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::Settings;
use crate::db::schema::attachments;
use crate::db::{sqlite_path, Backend, Db, DbConn};
use crate::storage::blocking::{move_file, Source};
use crate::storage::{Blocking, Storage};

/// The archive's layout version, written in the manifest.
pub const FORMAT: u32 = 1;
const MANIFEST: &str = "manifest.json";
const DATABASE: &str = "cordee.db";
const ATTACHMENTS: &str = "attachments/";
/// Fresh snapshots taken when a file the previous one referenced was deleted meanwhile.
const ATTEMPTS: usize = 3;

diesel::table! {
    /// Diesel's own record of the applied migrations.
    __diesel_schema_migrations (version) {
        version -> Text,
    }
}

/// What an archive holds, written last into it as `manifest.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub cordee_version: String,
    pub created_at: DateTime<Utc>,
    /// `sqlite`, or the database the attachments came from for an attachments-only archive.
    pub backend: String,
    /// The last migration applied to the database copied (or read, for an attachments-only archive).
    pub migration_version: Option<String>,
    /// The database copy; absent from an attachments-only archive.
    pub database: Option<ArchivedFile>,
    pub attachment_count: usize,
    pub attachment_bytes: u64,
    pub attachments: Vec<ArchivedFile>,
}

/// One file of the archive.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ArchivedFile {
    /// The path inside the archive (`cordee.db`, `attachments/<storage name>`).
    pub path: String,
    pub size: u64,
    pub sha256: String,
}

/// What `cordee backup` wrote.
#[derive(Debug)]
pub struct BackupSummary {
    pub manifest: Manifest,
    pub archive_bytes: u64,
    /// Snapshots taken (more than one when files were deleted while copying).
    pub attempts: usize,
}

/// What `cordee restore` put in place.
#[derive(Debug)]
pub struct RestoreSummary {
    pub manifest: Manifest,
    pub database_path: Option<PathBuf>,
    /// Where the files went: the folder, or `s3://bucket/prefix`.
    pub storage: String,
}

/// Why a snapshot could not be archived.
enum ArchiveError {
    /// A file the snapshot references is gone (deleted after the snapshot): take a new one.
    Missing(String),
    Other(anyhow::Error),
}

impl From<anyhow::Error> for ArchiveError {
    fn from(err: anyhow::Error) -> Self {
        ArchiveError::Other(err)
    }
}

impl From<std::io::Error> for ArchiveError {
    fn from(err: std::io::Error) -> Self {
        ArchiveError::Other(err.into())
    }
}

/// An attachment row: the file it names and what that file must hash to.
struct Referenced {
    storage_name: String,
    sha256: String,
    size: i64,
}

/// Writes a backup of the instance the settings describe to `output` (refusing to replace an existing file
/// unless `force`). With `attachments_only`, only the attachment files the database references (either
/// database); otherwise the SQLite database and those files (PostgreSQL is refused: use `pg_dump`).
pub fn backup(
    settings: &Settings,
    output: &Path,
    attachments_only: bool,
    force: bool,
) -> anyhow::Result<BackupSummary> {
    let url = settings.database.url.expose_secret();
    let backend = Backend::from_url(url);
    if backend == Backend::Postgres && !attachments_only {
        bail!(
            "cordee backup copies a SQLite database, and this instance runs on PostgreSQL: back the \
             database up with pg_dump (for example `pg_dump --format=custom --file=cordee.dump \"$URL\"`, \
             restored with pg_restore), then archive the attachment files with \
             `cordee backup --attachments-only <file>`"
        );
    }
    if output.exists() && !force {
        bail!(
            "{} already exists: choose another file or pass --force to replace it",
            output.display()
        );
    }
    let files = Blocking::new(Storage::from_settings(&settings.storage)?)?;
    let parent = parent_of(output);
    std::fs::create_dir_all(&parent)
        .with_context(|| format!("cannot create the folder {}", parent.display()))?;
    let staging = tempfile::Builder::new()
        .prefix(".cordee-backup-")
        .tempdir_in(&parent)
        .with_context(|| format!("cannot create a temporary folder in {}", parent.display()))?;
    let partial = staging.path().join("archive.tar.gz");
    for attempt in 1..=ATTEMPTS {
        let (snapshot, referenced, migration_version) = if attachments_only {
            let db = Db::connect(&settings.database)?;
            let mut conn = db.write_connection()?;
            let referenced = referenced_files(&mut conn)?;
            let version = migration_version(&mut conn)?;
            (None, referenced, version)
        } else {
            let snapshot = staging.path().join(DATABASE);
            snapshot_sqlite(settings, &snapshot)?;
            let mut conn = DbConn::Sqlite(
                SqliteConnection::establish(&snapshot.to_string_lossy())
                    .context("cannot open the database copy")?,
            );
            check_integrity(&mut conn).context("the database copy")?;
            let referenced = referenced_files(&mut conn)?;
            let version = migration_version(&mut conn)?;
            drop(conn);
            (Some(snapshot), referenced, version)
        };
        let manifest = Manifest {
            format: FORMAT,
            cordee_version: env!("CARGO_PKG_VERSION").to_owned(),
            created_at: Utc::now(),
            backend: match backend {
                Backend::Sqlite => "sqlite".into(),
                Backend::Postgres => "postgres".into(),
            },
            migration_version,
            database: None,
            attachment_count: 0,
            attachment_bytes: 0,
            attachments: Vec::new(),
        };
        match write_archive(&partial, manifest, snapshot.as_deref(), &files, &referenced) {
            Ok(manifest) => {
                std::fs::rename(&partial, output)
                    .with_context(|| format!("cannot write {}", output.display()))?;
                let archive_bytes = std::fs::metadata(output)?.len();
                return Ok(BackupSummary {
                    manifest,
                    archive_bytes,
                    attempts: attempt,
                });
            }
            Err(ArchiveError::Missing(name)) if attempt < ATTEMPTS => {
                tracing::info!(
                    file = %name,
                    "an attachment was deleted after the snapshot; taking a new one"
                );
            }
            Err(ArchiveError::Missing(name)) => bail!(
                "the attachment file {name} that the database references is missing from {} \
                 (after {ATTEMPTS} snapshots): the storage and the database disagree",
                files.storage().describe()
            ),
            Err(ArchiveError::Other(err)) => return Err(err),
        }
    }
    unreachable!("the last attempt returns")
}

/// Copies the live SQLite database to `target` with `VACUUM INTO`: one consistent snapshot, taken without
/// stopping the writers.
fn snapshot_sqlite(settings: &Settings, target: &Path) -> anyhow::Result<()> {
    let url = settings.database.url.expose_secret();
    let path = Path::new(sqlite_path(url));
    if !path.is_file() {
        bail!("there is no database at {}", path.display());
    }
    if target.exists() {
        std::fs::remove_file(target)?;
    }
    let mut conn = SqliteConnection::establish(&path.to_string_lossy())
        .with_context(|| format!("cannot open the database {}", path.display()))?;
    let target = target.to_string_lossy().replace('\'', "''");
    conn.batch_execute(&format!(
        "PRAGMA busy_timeout = {}; VACUUM INTO '{target}';",
        settings.database.sqlite_busy_timeout_ms
    ))
    .context("cannot copy the database (VACUUM INTO)")?;
    Ok(())
}

/// Fails unless SQLite finds the database file sound.
fn check_integrity(conn: &mut DbConn) -> anyhow::Result<()> {
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        integrity_check: String,
    }
    let DbConn::Sqlite(conn) = conn else {
        return Ok(());
    };
    let rows: Vec<Row> = diesel::sql_query("PRAGMA integrity_check").load(conn)?;
    let problems: Vec<String> = rows
        .into_iter()
        .map(|r| r.integrity_check)
        .filter(|r| r != "ok")
        .collect();
    if !problems.is_empty() {
        bail!("fails SQLite's integrity check: {}", problems.join("; "));
    }
    Ok(())
}

fn referenced_files(conn: &mut DbConn) -> anyhow::Result<Vec<Referenced>> {
    let rows: Vec<(String, String, i64)> = attachments::table
        .select((
            attachments::storage_name,
            attachments::sha256,
            attachments::size,
        ))
        .order(attachments::storage_name.asc())
        .load(conn)
        .context("cannot list the attachments")?;
    Ok(rows
        .into_iter()
        .map(|(storage_name, sha256, size)| Referenced {
            storage_name,
            sha256,
            size,
        })
        .collect())
}

fn migration_version(conn: &mut DbConn) -> anyhow::Result<Option<String>> {
    __diesel_schema_migrations::table
        .select(max(__diesel_schema_migrations::version))
        .first(conn)
        .context("cannot read the migration version")
}

/// Writes the archive: the database copy, the referenced files (each checked against its row's size and
/// checksum), then the manifest.
fn write_archive(
    target: &Path,
    mut manifest: Manifest,
    snapshot: Option<&Path>,
    files: &Blocking,
    referenced: &[Referenced],
) -> Result<Manifest, ArchiveError> {
    // 0600: the archive holds password hashes, personal data and webhook secrets.
    let file = crate::private_fs::create_file(target)?;
    let gzip = flate2::write::GzEncoder::new(BufWriter::new(file), flate2::Compression::fast());
    let mut tar = tar::Builder::new(gzip);
    tar.mode(tar::HeaderMode::Deterministic);
    if let Some(snapshot) = snapshot {
        let file = File::open(snapshot)?;
        let size = file.metadata()?.len();
        let source = Source {
            reader: Box::new(file),
            size,
        };
        manifest.database = Some(append(&mut tar, DATABASE, source)?);
    }
    for row in referenced {
        if !is_plain_name(&row.storage_name) {
            return Err(anyhow!(
                "an attachment row names an unsafe file: {:?}",
                row.storage_name
            )
            .into());
        }
        let source = match files.open(&row.storage_name) {
            Ok(Some(source)) => source,
            Ok(None) => return Err(ArchiveError::Missing(row.storage_name.clone())),
            Err(err) => return Err(anyhow!("cannot read {}: {err}", row.storage_name).into()),
        };
        let archived = append(
            &mut tar,
            &format!("{ATTACHMENTS}{}", row.storage_name),
            source,
        )?;
        if archived.sha256 != row.sha256 || archived.size as i64 != row.size {
            return Err(anyhow!(
                "the attachment file {} does not match its row (size {} vs {}, SHA-256 {} vs {}): it was \
                 changed or damaged in storage",
                row.storage_name,
                archived.size,
                row.size,
                archived.sha256,
                row.sha256
            )
            .into());
        }
        manifest.attachment_bytes += archived.size;
        manifest.attachments.push(archived);
    }
    manifest.attachment_count = manifest.attachments.len();
    let json = serde_json::to_vec_pretty(&manifest).map_err(anyhow::Error::from)?;
    let mut header = entry_header(json.len() as u64);
    tar.append_data(&mut header, MANIFEST, json.as_slice())?;
    let gzip = tar.into_inner()?;
    let file = gzip
        .finish()?
        .into_inner()
        .map_err(|e| anyhow!("cannot write the archive: {}", e.error()))?;
    file.sync_all()?;
    Ok(manifest)
}

fn entry_header(size: u64) -> tar::Header {
    let mut header = tar::Header::new_gnu();
    header.set_size(size);
    header.set_mode(0o600);
    header.set_mtime(0);
    header.set_entry_type(tar::EntryType::Regular);
    header
}

/// Appends `source` under `path`, hashing it on the way.
fn append<W: Write>(
    tar: &mut tar::Builder<W>,
    path: &str,
    source: Source,
) -> Result<ArchivedFile, ArchiveError> {
    let size = source.size;
    let mut reader = Hashing::new(BufReader::new(source.reader).take(size));
    let mut header = entry_header(size);
    tar.append_data(&mut header, path, &mut reader)?;
    if reader.count != size {
        return Err(anyhow!("{path} shrank while it was copied").into());
    }
    Ok(ArchivedFile {
        path: path.to_owned(),
        size,
        sha256: reader.finish(),
    })
}

/// A reader that hashes and counts what goes through it.
struct Hashing<R> {
    inner: R,
    hasher: Sha256,
    count: u64,
}

impl<R: Read> Hashing<R> {
    fn new(inner: R) -> Self {
        Hashing {
            inner,
            hasher: Sha256::new(),
            count: 0,
        }
    }

    fn finish(self) -> String {
        hex::encode(self.hasher.finalize())
    }
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }
}

/// A storage name: one path segment, no hidden or parent names.
fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Restores the archive `input` where the settings say: the SQLite database file and the attachment files
/// (into the folder, or uploaded to the bucket). Refuses to replace an existing non-empty database or
/// storage unless `force` (which deletes them first). Every file is checked against the manifest before
/// anything is put in place. Stop the server first.
pub fn restore(settings: &Settings, input: &Path, force: bool) -> anyhow::Result<RestoreSummary> {
    let url = settings.database.url.expose_secret();
    let backend = Backend::from_url(url);
    let files = Blocking::new(Storage::from_settings(&settings.storage)?)?;
    // Staged beside the folder the files go to, so that they are renamed into place; beside the archive
    // when they go to a bucket.
    let staging_parent = match files.storage() {
        Storage::Fs(folder) => parent_of(folder.dir()),
        Storage::S3(_) => parent_of(input),
    };
    std::fs::create_dir_all(&staging_parent)
        .with_context(|| format!("cannot create the folder {}", staging_parent.display()))?;
    let staging = tempfile::Builder::new()
        .prefix(".cordee-restore-")
        .tempdir_in(&staging_parent)
        .with_context(|| {
            format!(
                "cannot create a temporary folder in {}",
                staging_parent.display()
            )
        })?;
    let (manifest, extracted) = extract(input, staging.path())?;
    let database_path = match (&manifest.database, backend) {
        (None, _) => None,
        (Some(_), Backend::Postgres) => bail!(
            "this archive holds a SQLite database but the settings name a PostgreSQL one: restore it \
             with CORDEE__DATABASE__URL=sqlite://<path>, or restore PostgreSQL with pg_restore"
        ),
        (Some(_), Backend::Sqlite) => Some(PathBuf::from(sqlite_path(url))),
    };
    if let Some(path) = &database_path {
        let staged = staging.path().join(DATABASE);
        let mut conn = DbConn::Sqlite(
            SqliteConnection::establish(&staged.to_string_lossy())
                .context("cannot open the archived database")?,
        );
        check_integrity(&mut conn).context("the archived database")?;
        for row in referenced_files(&mut conn)? {
            let path = format!("{ATTACHMENTS}{}", row.storage_name);
            match extracted.get(&path) {
                Some(file) if file.sha256 == row.sha256 => {}
                Some(_) => bail!("the archive's {path} does not match its attachment row"),
                None => bail!("the archive lacks {path}, which its database references"),
            }
        }
        drop(conn);
        let occupied = std::fs::metadata(path).is_ok_and(|m| m.len() > 0);
        if occupied && !force {
            bail!(
                "a database already exists at {}: restore elsewhere or pass --force to replace it",
                path.display()
            );
        }
    }
    let present = files
        .list()
        .with_context(|| format!("cannot list {}", files.storage().describe()))?;
    if !present.is_empty() && !force {
        bail!(
            "the storage {} is not empty: restore elsewhere or pass --force to replace its files",
            files.storage().describe()
        );
    }
    if let Some(path) = &database_path {
        let parent = parent_of(path);
        std::fs::create_dir_all(&parent)
            .with_context(|| format!("cannot create the folder {}", parent.display()))?;
        // A write-ahead log left beside the old database would be replayed into the restored one.
        for suffix in ["-wal", "-shm", "-journal"] {
            remove_if_present(&PathBuf::from(format!("{}{suffix}", path.display())))?;
        }
        move_file(&staging.path().join(DATABASE), path)?;
    }
    if force && manifest.database.is_some() {
        for stored in &present {
            files.delete(&stored.name)?;
        }
    }
    if let Storage::Fs(folder) = files.storage() {
        crate::private_fs::create_dir_all(folder.dir())
            .with_context(|| format!("cannot create the folder {}", folder.dir().display()))?;
    }
    for file in &manifest.attachments {
        // Checked by `check_manifest` before anything was put in place.
        let name = file.path.strip_prefix(ATTACHMENTS).ok_or_else(|| {
            anyhow!(
                "the archive's manifest lists {:?} as an attachment",
                file.path
            )
        })?;
        files.put_file(name, &staging.path().join(&file.path), &file.sha256)?;
    }
    Ok(RestoreSummary {
        manifest,
        database_path,
        storage: files.storage().describe(),
    })
}

/// Unpacks the archive into `dir` (only the names a backup writes), then checks every file against the
/// manifest: nothing missing, nothing extra, every size and checksum equal.
fn extract(input: &Path, dir: &Path) -> anyhow::Result<(Manifest, HashMap<String, ArchivedFile>)> {
    let mut file = File::open(input).with_context(|| format!("cannot open {}", input.display()))?;
    let mut magic = [0u8; 2];
    let gzipped = file.read(&mut magic)? == 2 && magic == [0x1f, 0x8b];
    let file = File::open(input)?;
    let reader: Box<dyn Read> = if gzipped {
        Box::new(flate2::read::GzDecoder::new(BufReader::new(file)))
    } else {
        Box::new(BufReader::new(file))
    };
    let mut archive = tar::Archive::new(reader);
    let mut extracted: HashMap<String, ArchivedFile> = HashMap::new();
    let mut manifest: Option<Manifest> = None;
    std::fs::create_dir_all(dir.join(ATTACHMENTS))?;
    for entry in archive
        .entries()
        .context("the file is not a Cordée backup (not a tar archive)")?
    {
        let mut entry = entry.context("the archive is damaged")?;
        let path = entry.path()?.to_string_lossy().into_owned();
        if path == MANIFEST {
            let mut json = Vec::new();
            entry.read_to_end(&mut json)?;
            manifest = Some(
                serde_json::from_slice(&json).context("the archive's manifest is unreadable")?,
            );
            continue;
        }
        let allowed = path == DATABASE || path.strip_prefix(ATTACHMENTS).is_some_and(is_plain_name);
        if !allowed || !entry.header().entry_type().is_file() {
            bail!("the archive holds an unexpected entry {path:?}: not a Cordée backup");
        }
        if extracted.contains_key(&path) {
            bail!("the archive holds {path} twice");
        }
        let mut out = BufWriter::new(crate::private_fs::create_file(&dir.join(&path))?);
        let mut reader = Hashing::new(&mut entry);
        std::io::copy(&mut reader, &mut out).with_context(|| format!("cannot unpack {path}"))?;
        out.into_inner()
            .map_err(|e| anyhow!("cannot unpack {path}: {}", e.error()))?
            .sync_all()?;
        let size = reader.count;
        extracted.insert(
            path.clone(),
            ArchivedFile {
                path,
                size,
                sha256: reader.finish(),
            },
        );
    }
    let manifest = manifest
        .ok_or_else(|| anyhow!("the archive has no manifest: not a complete Cordée backup"))?;
    if manifest.format != FORMAT {
        bail!(
            "the archive's format is {}, this Cordée reads format {FORMAT}",
            manifest.format
        );
    }
    check_manifest(&manifest)?;
    let expected: BTreeMap<&str, &ArchivedFile> = manifest
        .database
        .iter()
        .chain(manifest.attachments.iter())
        .map(|f| (f.path.as_str(), f))
        .collect();
    for (path, want) in &expected {
        match extracted.get(*path) {
            Some(got) if got == *want => {}
            Some(got) => bail!(
                "{path} is damaged: {} bytes with SHA-256 {}, the manifest says {} bytes with SHA-256 {}",
                got.size,
                got.sha256,
                want.size,
                want.sha256
            ),
            None => bail!("the archive lacks {path}, which its manifest lists"),
        }
    }
    if let Some(extra) = extracted
        .keys()
        .find(|p| !expected.contains_key(p.as_str()))
    {
        bail!("the archive holds {extra}, which its manifest does not list");
    }
    Ok((manifest, extracted))
}

/// Refuses a manifest that does not describe what `cordee backup` writes: the database entry exactly
/// `cordee.db`, every attachment a plain name under `attachments/`, no path twice, checksums that are
/// SHA-256 and counts that add up. Nothing has been put in place yet when it runs.
fn check_manifest(manifest: &Manifest) -> anyhow::Result<()> {
    let refuse = |why: String| anyhow!("the archive's manifest {why}: not a Cordée backup");
    let mut seen: HashSet<&str> = HashSet::new();
    if let Some(database) = &manifest.database {
        if database.path != DATABASE {
            return Err(refuse(format!(
                "names the database {:?} instead of {DATABASE}",
                database.path
            )));
        }
        seen.insert(&database.path);
    }
    for file in &manifest.attachments {
        if !file
            .path
            .strip_prefix(ATTACHMENTS)
            .is_some_and(is_plain_name)
        {
            return Err(refuse(format!("lists {:?} as an attachment", file.path)));
        }
        if !seen.insert(&file.path) {
            return Err(refuse(format!("lists {} twice", file.path)));
        }
    }
    for file in manifest.database.iter().chain(&manifest.attachments) {
        if file.sha256.len() != 64 || !file.sha256.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(refuse(format!("gives {} no SHA-256", file.path)));
        }
    }
    let bytes: u64 = manifest.attachments.iter().map(|f| f.size).sum();
    if manifest.attachment_count != manifest.attachments.len() || manifest.attachment_bytes != bytes
    {
        return Err(refuse("counts attachments that it does not list".into()));
    }
    Ok(())
}

fn remove_if_present(path: &Path) -> anyhow::Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(err) => Err(anyhow!("cannot remove {}: {err}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_storage_names_are_accepted() {
        assert!(is_plain_name("0193a5b2c4d87e0f9a1b2c3d4e5f6a7b"));
        assert!(!is_plain_name("../cordee.db"));
        assert!(!is_plain_name("a/b"));
        assert!(!is_plain_name(".hidden"));
        assert!(!is_plain_name(""));
    }
}
