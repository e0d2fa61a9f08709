//! The server under test: the real `cordee serve` binary as a child process, configured through
//! `CORDEE__…` variables, so that its memory is its own. Its peak resident set is read from `/proc`.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The workspace root (the server crate's folder).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(".."))
}

/// Builds `cordee` in release mode (a no-op when it is up to date) and returns its path.
pub fn build_server() -> anyhow::Result<PathBuf> {
    let root = workspace_root();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    eprintln!("building the server: cargo build --release -p cordee --bin cordee");
    let status = Command::new(cargo)
        .args(["build", "--release", "-p", "cordee", "--bin", "cordee"])
        .current_dir(&root)
        .status()?;
    anyhow::ensure!(status.success(), "building the server failed");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    Ok(target.join("release").join("cordee"))
}

/// A running server.
pub struct Server {
    child: Child,
    pub base_url: String,
    log: PathBuf,
}

/// Where the server keeps its files and which database it uses.
pub struct ServerConfig<'a> {
    pub binary: &'a Path,
    pub database_url: &'a str,
    pub work_dir: &'a Path,
    /// More `CORDEE__…` variables (they win over the ones above).
    pub env: &'a [(String, String)],
}

impl Server {
    /// Starts the server on a free port and waits until `/ready` answers 200.
    pub async fn start(config: ServerConfig<'_>) -> anyhow::Result<Server> {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let log = config.work_dir.join("server.log");
        let log_file = std::fs::File::create(&log)?;
        let root = workspace_root();
        let dir = |name: &str| config.work_dir.join(name).display().to_string();
        let child = Command::new(config.binary)
            .arg("serve")
            .current_dir(config.work_dir)
            .env_remove("RUST_LOG")
            .env_remove("CORDEE_ENV")
            .env("CORDEE_CONFIG_DIR", root.join("config"))
            .env("CORDEE__DATABASE__URL", config.database_url)
            .env("CORDEE__SERVER__HOST", "127.0.0.1")
            .env("CORDEE__SERVER__PORT", port.to_string())
            .env("CORDEE__SERVER__SQL_STATEMENTS_HEADER", "true")
            .env("CORDEE__STORAGE__DIR", dir("attachments"))
            .env("CORDEE__EMAIL__TRANSPORT", "file")
            .env("CORDEE__EMAIL__FILE_DIR", dir("mail"))
            .env(
                "CORDEE__APP__PUBLIC_URL",
                format!("http://127.0.0.1:{port}"),
            )
            // One client address logs in thousands of times: lift the throttle, keep the hashing.
            .env(
                "CORDEE__AUTH__LOGIN_ATTEMPTS_PER_MINUTE_PER_ACCOUNT",
                "1000000",
            )
            .env(
                "CORDEE__AUTH__LOGIN_ATTEMPTS_PER_MINUTE_PER_ADDRESS",
                "1000000",
            )
            // Likewise one address uploads thousands of files to the same drafts: lift the upload limits
            // and the per-application quotas (the work of storing each file is what is measured).
            .env("CORDEE__STORAGE__UPLOADS_PER_MINUTE_PER_USER", "1000000")
            .env("CORDEE__STORAGE__UPLOADS_PER_MINUTE_PER_ADDRESS", "1000000")
            .env("CORDEE__STORAGE__MAX_FILES_PER_APPLICATION", "1000000000")
            .env(
                "CORDEE__STORAGE__MAX_BYTES_PER_APPLICATION",
                "1000000000000000",
            )
            .env("CORDEE__LOG__LEVEL", "warn")
            .envs(config.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(log_file.try_clone()?)
            .stderr(log_file)
            .spawn()
            .map_err(|e| anyhow::anyhow!("cannot start {}: {e}", config.binary.display()))?;
        let mut server = Server {
            child,
            base_url: format!("http://127.0.0.1:{port}"),
            log,
        };
        server.wait_ready().await?;
        Ok(server)
    }

    async fn wait_ready(&mut self) -> anyhow::Result<()> {
        let client = reqwest::Client::new();
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(120) {
            if let Some(status) = self.child.try_wait()? {
                anyhow::bail!("the server exited ({status}): {}", self.log_tail());
            }
            if let Ok(r) = client.get(format!("{}/ready", self.base_url)).send().await {
                if r.status().is_success() {
                    return Ok(());
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        anyhow::bail!("the server was not ready within 120 s: {}", self.log_tail())
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The end of the server's log.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// Resident set now (`VmRSS`), in KiB.
    pub fn rss_kib(&self) -> u64 {
        status_field(self.pid(), "VmRSS:")
    }

    /// Peak resident set since start (`VmHWM`), in KiB.
    pub fn peak_rss_kib(&self) -> u64 {
        status_field(self.pid(), "VmHWM:")
    }

    /// Stops the server with SIGTERM (in-flight requests finish), killing it after 30 s.
    pub fn stop(mut self) -> anyhow::Result<()> {
        // `kill(1)` rather than a signal crate: that one would change the features of `libc` and with them
        // rebuild every crate the server shares with the harness.
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()?;
        anyhow::ensure!(status.success(), "kill -TERM {} failed", self.child.id());
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(30) {
            if self.child.try_wait()?.is_some() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.child.kill()?;
        self.child.wait()?;
        anyhow::bail!("the server did not stop within 30 s of SIGTERM")
    }
}

/// A field of `/proc/<pid>/status` in KiB (0 when unreadable).
fn status_field(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kib| kib.parse().ok())
        })
        .unwrap_or(0)
}

/// Samples the server's resident set (and optionally a file's size) every 50 ms until stopped.
pub struct Sampler {
    stop: Arc<AtomicBool>,
    max_rss_kib: Arc<AtomicU64>,
    max_file_bytes: Arc<AtomicU64>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl Sampler {
    /// Starts sampling `pid`'s `VmRSS`, and the size of `file` when given.
    pub fn start(pid: u32, file: Option<PathBuf>) -> Sampler {
        let stop = Arc::new(AtomicBool::new(false));
        let max_rss_kib = Arc::new(AtomicU64::new(0));
        let max_file_bytes = Arc::new(AtomicU64::new(0));
        let handle = {
            let (stop, rss, bytes) = (stop.clone(), max_rss_kib.clone(), max_file_bytes.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    rss.fetch_max(status_field(pid, "VmRSS:"), Ordering::Relaxed);
                    if let Some(len) = file.as_ref().and_then(|f| std::fs::metadata(f).ok()) {
                        bytes.fetch_max(len.len(), Ordering::Relaxed);
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
            })
        };
        Sampler {
            stop,
            max_rss_kib,
            max_file_bytes,
            handle: Some(handle),
        }
    }

    /// Stops sampling: (largest VmRSS in KiB, largest file size in bytes).
    pub fn finish(mut self) -> (u64, u64) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
        (
            self.max_rss_kib.load(Ordering::Relaxed),
            self.max_file_bytes.load(Ordering::Relaxed),
        )
    }
}
