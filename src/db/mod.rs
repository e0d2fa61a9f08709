//! The database layer: one connection type for SQLite and PostgreSQL, pools, write transactions,
//! embedded migrations.

pub mod schema;
pub mod statements;
pub mod types;
mod writer;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::r2d2::{self, ManageConnection, Pool, PooledConnection};
use diesel::{Connection, PgConnection, SqliteConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use secrecy::ExposeSecret;

use crate::config::DatabaseSettings;
use crate::error::Error;

/// Runs one diesel statement on whichever backend the connection holds, for what the multi-backend cannot
/// express (`ON CONFLICT`, `FOR UPDATE SKIP LOCKED`, multi-row inserts): the body is written once and
/// compiled for each backend, `c` being the backend's own connection.
///
/// ```ignore
/// let inserted = on_backend!(conn, |c| insert.on_conflict_do_nothing().execute(c)?);
/// ```
#[macro_export]
macro_rules! on_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::DbConn::Pg($c) => $body,
            $crate::db::DbConn::Sqlite($c) => $body,
        }
    };
}

/// A connection to either database; store functions take `&mut DbConn`.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Pg(PgConnection),
    Sqlite(SqliteConnection),
}

/// Which database a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

impl Backend {
    /// `postgres://` and `postgresql://` are PostgreSQL; anything else is a SQLite path.
    pub fn from_url(url: &str) -> Backend {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }
}

/// The file path of a SQLite URL (`sqlite://data/x.db`, `sqlite:data/x.db` or a bare path).
pub fn sqlite_path(url: &str) -> &str {
    url.strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url)
}

/// Whether a SQLite path names a file on disk (not `:memory:` nor a `file:` URI).
fn is_file_path(path: &std::path::Path) -> bool {
    let text = path.to_string_lossy();
    !text.is_empty() && !text.starts_with(':') && !text.starts_with("file:")
}

/// Opens connections for r2d2, choosing the variant from the URL, with the SQLite pragmas applied.
#[derive(Debug, Clone)]
pub struct ConnectionManager {
    url: String,
    backend: Backend,
    busy_timeout_ms: u64,
    wal_limit_bytes: u64,
    connect_timeout_seconds: u64,
}

/// Sets SQLite's process-wide options once, before the first connection opens (afterwards SQLite refuses
/// them, harmlessly): no memory statistics, whose global mutex every allocation of every connection took
/// (on the benchmark, threads waiting on each other's mutexes were the largest cost of a read after the
/// thread switches), and the multi-thread mode, in which SQLite does not lock each connection on every call
/// because one connection is only ever used by one thread at a time (the pool hands it out whole).
fn configure_sqlite() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        use libsqlite3_sys::{sqlite3_config, SQLITE_CONFIG_MEMSTATUS, SQLITE_CONFIG_MULTITHREAD};
        // SAFETY: called once, before this process opens any SQLite connection (every connection is opened
        // here); both options take plain integers. Should SQLite be initialised already, it returns
        // SQLITE_MISUSE and changes nothing.
        unsafe {
            sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0 as libc::c_int);
            sqlite3_config(SQLITE_CONFIG_MULTITHREAD);
        }
    });
}

/// Adds libpq's `connect_timeout` to a PostgreSQL URL that has none, so that an unreachable host fails
/// within the configured time instead of the operating system's TCP timeout.
fn with_connect_timeout(url: &str, seconds: u64) -> String {
    if url.contains("connect_timeout=") {
        return url.to_owned();
    }
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}connect_timeout={}", seconds.max(1))
}

impl ManageConnection for ConnectionManager {
    type Connection = DbConn;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConn, r2d2::Error> {
        match self.backend {
            Backend::Postgres => {
                let mut conn = PgConnection::establish(&with_connect_timeout(
                    &self.url,
                    self.connect_timeout_seconds,
                ))
                .map_err(r2d2::Error::ConnectionError)?;
                conn.set_instrumentation(statements::StatementCounter);
                Ok(DbConn::Pg(conn))
            }
            Backend::Sqlite => {
                configure_sqlite();
                let mut conn = SqliteConnection::establish(sqlite_path(&self.url))
                    .map_err(r2d2::Error::ConnectionError)?;
                conn.batch_execute(&format!(
                    "PRAGMA busy_timeout = {}; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                     PRAGMA foreign_keys = ON; PRAGMA journal_size_limit = {}; PRAGMA wal_autocheckpoint = 1000; \
                     PRAGMA secure_delete = ON;",
                    self.busy_timeout_ms, self.wal_limit_bytes
                ))
                .map_err(r2d2::Error::QueryError)?;
                conn.set_instrumentation(statements::StatementCounter);
                Ok(DbConn::Sqlite(conn))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), r2d2::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConn) -> bool {
        match conn {
            DbConn::Pg(c) => AnsiTransactionManager::is_broken_transaction_manager(c),
            DbConn::Sqlite(c) => AnsiTransactionManager::is_broken_transaction_manager(c),
        }
    }
}

/// A pool of connections.
pub type DbPool = Pool<ConnectionManager>;
/// A connection checked out of a pool.
pub type PooledConn = PooledConnection<ConnectionManager>;

/// Reads and writes. On SQLite, writes go through a single connection so writers queue in the process
/// instead of fighting over the file lock; on PostgreSQL both are the same pool.
#[derive(Clone)]
pub struct Db {
    read: DbPool,
    write: DbPool,
    backend: Backend,
    /// Database work waiting for a connection waits here, as a task, rather than on a blocking thread of its
    /// own: under a burst the blocking threads (and the memory each one's allocator keeps) stay few.
    readers: Arc<Semaphore>,
    writers: Arc<Semaphore>,
    /// SQLite's writer thread (`writer.rs`); PostgreSQL's writes share the pool instead.
    writer: Option<writer::Writer>,
}

const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");
const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

impl Db {
    /// Builds the pools and checks that the database answers; fails fast with the driver's message.
    pub fn connect(settings: &DatabaseSettings) -> anyhow::Result<Db> {
        let url = settings.url.expose_secret().to_owned();
        let backend = Backend::from_url(&url);
        if backend == Backend::Postgres {
            // libpq speaks TLS through OpenSSL, which by default registers an `atexit` clean-up that frees
            // its state while other threads (the pools, the worker) may still be inside a TLS call: the
            // process then crashes on its way out. Initialising OpenSSL first, without that clean-up, avoids
            // it (the operating system frees everything at exit anyway).
            openssl_sys::init();
        }
        if backend == Backend::Sqlite {
            let path = std::path::Path::new(sqlite_path(&url));
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                crate::private_fs::create_dir_all(dir).map_err(|e| {
                    anyhow::anyhow!("cannot create the database folder {}: {e}", dir.display())
                })?;
            }
            // Created 0600 before SQLite opens it (SQLite gives its -wal and -shm files the database
            // file's mode): it holds password hashes, personal data and webhook secrets.
            if is_file_path(path) {
                crate::private_fs::ensure_file(path).map_err(|e| {
                    anyhow::anyhow!("cannot create the database file {}: {e}", path.display())
                })?;
            }
        }
        let manager = ConnectionManager {
            url,
            backend,
            busy_timeout_ms: settings.sqlite_busy_timeout_ms,
            wal_limit_bytes: settings.sqlite_wal_limit_bytes,
            connect_timeout_seconds: settings.connect_timeout_seconds,
        };
        // Open one connection by hand first: r2d2 would only say "timed out", the driver says why.
        manager.connect().map_err(|e| {
            anyhow::anyhow!(
                "cannot connect to the database: {}",
                one_line(&e.to_string())
            )
        })?;
        let timeout = Duration::from_secs(settings.connect_timeout_seconds.max(1));
        // A PostgreSQL connection may have been cut by a server restart while it sat in the pool: check it
        // on checkout (one round trip) so that service resumes by itself. A SQLite file does not go away.
        let check_on_checkout = backend == Backend::Postgres;
        let build = |size: u32| {
            Pool::builder()
                .max_size(size)
                .min_idle(Some(0))
                .connection_timeout(timeout)
                .test_on_check_out(check_on_checkout)
                .build_unchecked(manager.clone())
        };
        let read = build(settings.pool_size.max(1));
        let write = match backend {
            Backend::Sqlite => build(1),
            Backend::Postgres => read.clone(),
        };
        let writers = match backend {
            Backend::Sqlite => 1,
            Backend::Postgres => settings.pool_size.max(1) as usize,
        };
        let writer = match backend {
            Backend::Sqlite => Some(writer::Writer::start(write.clone())?),
            Backend::Postgres => None,
        };
        Ok(Db {
            read,
            write,
            backend,
            readers: Arc::new(Semaphore::new(settings.pool_size.max(1) as usize)),
            writers: Arc::new(Semaphore::new(writers)),
            writer,
        })
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Applies the pending migrations of this database; returns their names. What the migrations leave to
    /// Rust is done by `service::upgrade::migrate`, which every entry point calls instead.
    pub fn migrate(&self) -> anyhow::Result<Vec<String>> {
        let mut conn = self
            .write
            .get()
            .map_err(|e| anyhow::anyhow!("cannot connect to the database: {e}"))?;
        run_migrations(&mut conn)
    }

    /// True when the database answers and no migration is pending.
    pub fn is_ready(&self) -> bool {
        let Ok(mut conn) = self.read.get() else {
            return false;
        };
        let pending = match &mut *conn {
            DbConn::Pg(c) => c.has_pending_migration(POSTGRES_MIGRATIONS),
            DbConn::Sqlite(c) => c.has_pending_migration(SQLITE_MIGRATIONS),
        };
        matches!(pending, Ok(false))
    }

    /// Runs `f` on a read connection, off the async worker threads.
    pub async fn read<T, F>(&self, f: F) -> Result<T, Error>
    where
        F: FnOnce(&mut DbConn) -> Result<T, Error> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.read.clone();
        let counter = statements::of_this_request();
        let permit = acquire(&self.readers).await?;
        run_blocking(move || {
            let mut conn = pool.get().map_err(Error::from)?;
            let result = statements::counting(counter, || f(&mut conn));
            // The next reader starts as soon as this one is done, not once this task is polled again.
            drop(conn);
            drop(permit);
            result
        })
        .await
    }

    /// Runs `f` inside a write transaction, off the async worker threads; commits when `f` returns `Ok`,
    /// rolls back otherwise. On SQLite `f` runs on the writer thread, in a savepoint of a transaction
    /// (BEGIN IMMEDIATE) shared with the writes that queued beside it, and its `Ok` comes back once that
    /// transaction committed (`writer.rs`).
    pub async fn write<T, F>(&self, f: F) -> Result<T, Error>
    where
        F: FnOnce(&mut DbConn) -> Result<T, Error> + Send + 'static,
        T: Send + 'static,
    {
        let counter = statements::of_this_request();
        if let Some(writer) = &self.writer {
            return writer.write(counter, f).await;
        }
        let pool = self.write.clone();
        let permit = acquire(&self.writers).await?;
        run_blocking(move || {
            let mut conn = pool.get().map_err(Error::from)?;
            let result = statements::counting(counter, || {
                // Another process holding the SQLite write lock past the busy timeout (a stuck script, a
                // long maintenance) makes the database unavailable for a while, not the request wrong.
                begin_write(&mut conn).map_err(busy_is_unavailable)?;
                finish_write(&mut conn, f)
            });
            // SQLite's one writer goes on with the next transaction as soon as this one committed: the
            // connection and the permit go back here, not when this request's task is next polled (on a
            // busy machine that wait was the writer's idle time).
            drop(conn);
            drop(permit);
            result
        })
        .await
    }
}

/// A SQLite "database is locked" (the busy timeout ran out) is a 503 to retry; anything else as usual.
fn busy_is_unavailable(err: diesel::result::Error) -> Error {
    match &err {
        diesel::result::Error::DatabaseError(_, info)
            if info.message().contains("database is locked")
                || info.message().contains("database is busy") =>
        {
            Error::Unavailable(format!("the database is locked: {}", info.message()))
        }
        _ => Error::from(err),
    }
}

/// A permit of `semaphore`, owned so that the blocking work can give it back when done.
async fn acquire(semaphore: &Arc<Semaphore>) -> Result<tokio::sync::OwnedSemaphorePermit, Error> {
    semaphore
        .clone()
        .acquire_owned()
        .await
        .map_err(|e| Error::Internal(anyhow::anyhow!("database permits closed: {e}")))
}

async fn run_blocking<T, F>(f: F) -> Result<T, Error>
where
    F: FnOnce() -> Result<T, Error> + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::Internal(anyhow::anyhow!("database task failed: {e}")))?
}

/// Runs `f` in a transaction that takes the write lock up front on SQLite (`BEGIN IMMEDIATE`), so that a
/// transaction that reads then writes never fails with "database is locked" half-way.
pub fn write_tx<T, E, F>(conn: &mut DbConn, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    begin_write(conn)?;
    finish_write(conn, f)
}

/// Opens a write transaction: `BEGIN IMMEDIATE` on SQLite, so the write lock is taken up front.
fn begin_write(conn: &mut DbConn) -> diesel::QueryResult<()> {
    match conn {
        DbConn::Sqlite(c) => AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE"),
        DbConn::Pg(c) => AnsiTransactionManager::begin_transaction(c),
    }
}

/// Runs `f` in the transaction `begin_write` opened; commits when it returns `Ok`, rolls back otherwise.
fn finish_write<T, E, F>(conn: &mut DbConn, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    match f(conn) {
        Ok(value) => {
            <DbConn as Connection>::TransactionManager::commit_transaction(conn)?;
            Ok(value)
        }
        Err(err) => {
            // The rollback's own failure would hide the cause; the connection is then marked broken.
            let _ = <DbConn as Connection>::TransactionManager::rollback_transaction(conn);
            Err(err)
        }
    }
}

/// Applies the pending migrations of the connection's database.
pub fn run_migrations(conn: &mut DbConn) -> anyhow::Result<Vec<String>> {
    let result = match conn {
        DbConn::Pg(c) => c
            .pending_migrations(POSTGRES_MIGRATIONS)
            .and_then(|pending| {
                c.run_pending_migrations(POSTGRES_MIGRATIONS)?;
                Ok(pending.iter().map(|m| m.name().to_string()).collect())
            }),
        DbConn::Sqlite(c) => c.pending_migrations(SQLITE_MIGRATIONS).and_then(|pending| {
            c.run_pending_migrations(SQLITE_MIGRATIONS)?;
            Ok(pending.iter().map(|m| m.name().to_string()).collect())
        }),
    };
    result.map_err(|e| anyhow::anyhow!("migration failed: {e}"))
}

fn one_line(message: &str) -> String {
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl Db {
    /// The write connection, for the command-line tools (outside any async runtime).
    pub fn write_connection(&self) -> anyhow::Result<PooledConn> {
        self.write
            .get()
            .map_err(|e| anyhow::anyhow!("cannot connect to the database: {e}"))
    }
}
