//! Pages seen as a person sees them: headless Chromium (Debian's `chromium` package) loads a page, dumps the
//! DOM it built and keeps a screenshot in `target/ci-artifacts/`. Chromium is installed on first use when
//! missing (`apt-get`, as root), one installation at a time across test processes (`flock`).

use std::path::{Path, PathBuf};
use std::process::Command;

/// Where Chromium lives once installed.
const CHROMIUM: &str = "/usr/bin/chromium";
/// Serialises installations between parallel tests and test binaries.
const INSTALL_LOCK: &str = "/tmp/cordee-chromium-install.lock";

/// The Chromium binary, installed first when missing.
pub fn chromium() -> PathBuf {
    let path = Path::new(CHROMIUM);
    if !path.exists() {
        let status = Command::new("flock")
            .arg(INSTALL_LOCK)
            .arg("sh")
            .arg("-c")
            .arg(
                "command -v chromium >/dev/null || { apt-get update -qq && \
                 DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; }",
            )
            .status()
            .expect("flock and apt-get run");
        assert!(status.success(), "installing chromium failed: {status}");
    }
    assert!(path.exists(), "no chromium at {CHROMIUM}");
    path.to_owned()
}

/// The folder CI keeps as artifacts.
fn artifacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/ci-artifacts");
    std::fs::create_dir_all(&dir).expect("target/ci-artifacts can be created");
    dir
}

/// Runs headless Chromium on `url` with `args`, in a profile of its own; returns its standard output.
fn run(url: &str, args: &[String]) -> String {
    let profile = tempfile::tempdir().expect("a temporary profile");
    let output = Command::new("timeout")
        .arg("120")
        .arg(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .arg(url)
        .output()
        .expect("chromium runs");
    assert!(
        output.status.success(),
        "chromium failed on {url}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// What a person sees of the page at `url`: the DOM Chromium built (`--dump-dom`), and a screenshot kept as
/// `target/ci-artifacts/<name>.png` (returned).
pub async fn look_at(url: &str, name: &str) -> (String, PathBuf) {
    let url = url.to_owned();
    let shot = artifacts().join(format!("{name}.png"));
    let screenshot = shot.clone();
    tokio::task::spawn_blocking(move || {
        let dom = run(&url, &["--dump-dom".to_owned()]);
        run(
            &url,
            &[
                format!("--screenshot={}", screenshot.display()),
                "--window-size=1280,2000".to_owned(),
            ],
        );
        dom
    })
    .await
    .map(|dom| (dom, shot))
    .expect("chromium finishes")
}

/// The page at `url` printed by Chromium (`--print-to-pdf`, A4 as the page's print style asks, no header or
/// footer), kept as `target/ci-artifacts/<name>.pdf` (returned).
pub async fn print_to_pdf(url: &str, name: &str) -> PathBuf {
    let url = url.to_owned();
    let pdf = artifacts().join(format!("{name}.pdf"));
    let path = pdf.clone();
    tokio::task::spawn_blocking(move || {
        let _ = std::fs::remove_file(&path);
        run(
            &url,
            &[
                format!("--print-to-pdf={}", path.display()),
                "--no-pdf-header-footer".to_owned(),
            ],
        );
    })
    .await
    .expect("chromium finishes");
    pdf
}

/// Where the artifacts of a test go: `target/ci-artifacts/<file>` (the folder made first).
pub fn artifact(file: &str) -> PathBuf {
    artifacts().join(file)
}
