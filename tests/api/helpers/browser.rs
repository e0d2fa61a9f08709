//! Pages seen as a person sees them: headless Chromium (Debian's `chromium` package) loads a page, dumps the
//! DOM it built and keeps a screenshot in `target/ci-artifacts/`; or a test drives it as a person would
//! ([`Browser`]: open, fill, click, read, screenshot) through chromedriver. Chromium and chromedriver are
//! installed on first use when missing (`apt-get`, as root), one installation at a time across test
//! processes (`flock`).

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

/// The page at `url` printed by Chromium (`--print-to-pdf`, without the browser's header and footer), kept as
/// `target/ci-artifacts/<name>.pdf` (returned). Blocking: call it from `spawn_blocking` in async tests.
pub fn pdf(url: &str, name: &str) -> PathBuf {
    let printed = artifacts().join(format!("{name}.pdf"));
    run(
        url,
        &[
            format!("--print-to-pdf={}", printed.display()),
            "--no-pdf-header-footer".to_owned(),
        ],
    );
    assert!(printed.exists(), "chromium printed no PDF of {url}");
    printed
}

/// Where chromedriver lives once installed.
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// The chromedriver binary (Debian's `chromium-driver`), installed first when missing, with Chromium.
pub fn chromedriver() -> PathBuf {
    chromium();
    let path = Path::new(CHROMEDRIVER);
    if !path.exists() {
        let status = Command::new("flock")
            .arg(INSTALL_LOCK)
            .arg("sh")
            .arg("-c")
            .arg(
                "command -v chromedriver >/dev/null || { apt-get update -qq && \
                 DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium-driver; }",
            )
            .status()
            .expect("flock and apt-get run");
        assert!(
            status.success(),
            "installing chromium-driver failed: {status}"
        );
    }
    assert!(path.exists(), "no chromedriver at {CHROMEDRIVER}");
    path.to_owned()
}

/// The key under which WebDriver names an element.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A real browser a test drives as a person would: headless Chromium through chromedriver (the W3C WebDriver
/// protocol, plain HTTP), with a phone-sized window, asking for French. `open`, `fill`, `click`, `text`, `screenshot`.
pub struct Browser {
    driver: std::process::Child,
    session: String,
    base: String,
    client: reqwest::Client,
}

impl Browser {
    /// Starts chromedriver and a headless Chromium session.
    pub async fn start() -> Browser {
        let port = crate::helpers::free_port();
        let driver = Command::new(chromedriver())
            .arg(format!("--port={port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let base = format!("http://127.0.0.1:{port}");
        let client = reqwest::Client::new();
        let mut ready = false;
        for _ in 0..200 {
            let answer = client.get(format!("{base}/status")).send().await;
            if let Ok(answer) = answer {
                let body: serde_json::Value = answer.json().await.unwrap_or_default();
                if body["value"]["ready"] == true {
                    ready = true;
                    break;
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert!(ready, "chromedriver did not get ready");
        let capabilities = serde_json::json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--no-first-run", "--hide-scrollbars", "--window-size=430,1100", "--lang=fr-FR"],
                // A person in France: pages choose their language from Accept-Language.
                "prefs": {"intl.accept_languages": "fr-FR,fr"},
            },
        }}});
        let answer: serde_json::Value = client
            .post(format!("{base}/session"))
            .json(&capabilities)
            .send()
            .await
            .expect("chromedriver answers")
            .json()
            .await
            .expect("a session");
        let session = answer["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {answer}"))
            .to_owned();
        Browser {
            driver,
            session,
            base,
            client,
        }
    }

    async fn try_call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<serde_json::Value, serde_json::Value> {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let mut request = self.client.request(method, &url);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let answer: serde_json::Value = request
            .send()
            .await
            .expect("chromedriver answers")
            .json()
            .await
            .expect("chromedriver answers JSON");
        match answer["value"].get("error") {
            Some(_) => Err(answer),
            None => Ok(answer["value"].clone()),
        }
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> serde_json::Value {
        self.try_call(method, path, body)
            .await
            .unwrap_or_else(|answer| panic!("WebDriver {path}: {answer}"))
    }

    /// The id of the page's document element, which changes when another page loads.
    async fn document(&self) -> Option<String> {
        let found = self
            .try_call(
                reqwest::Method::POST,
                "/element",
                Some(serde_json::json!({"using": "css selector", "value": "html"})),
            )
            .await
            .ok()?;
        found[ELEMENT].as_str().map(str::to_owned)
    }

    /// Opens `url` and waits for it to load.
    pub async fn open(&self, url: &str) {
        self.call(
            reqwest::Method::POST,
            "/url",
            Some(serde_json::json!({"url": url})),
        )
        .await;
    }

    /// The page's address now.
    pub async fn url(&self) -> String {
        self.call(reqwest::Method::GET, "/url", None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    async fn element(&self, css: &str) -> String {
        let found = self
            .call(
                reqwest::Method::POST,
                "/element",
                Some(serde_json::json!({"using": "css selector", "value": css})),
            )
            .await;
        found[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}"))
            .to_owned()
    }

    /// Types `text` into the field matching `css` (emptied first).
    pub async fn fill(&self, css: &str, text: &str) {
        let id = self.element(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{id}/clear"),
            Some(serde_json::json!({})),
        )
        .await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{id}/value"),
            Some(serde_json::json!({"text": text})),
        )
        .await;
    }

    /// Clicks the element matching `css`, a link or a form's button, and waits until the next page has
    /// loaded (at most 20 seconds).
    pub async fn click(&self, css: &str) {
        let before = self.document().await;
        let id = self.element(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{id}/click"),
            Some(serde_json::json!({})),
        )
        .await;
        for _ in 0..400 {
            let now = self.document().await;
            if now.is_some() && now != before {
                let state = self
                    .try_call(
                        reqwest::Method::POST,
                        "/execute/sync",
                        Some(
                            serde_json::json!({"script": "return document.readyState", "args": []}),
                        ),
                    )
                    .await;
                if state.is_ok_and(|s| s == "complete") {
                    return;
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("clicking {css} loaded no other page");
    }

    /// The text a person reads on the page (or in the element matching `css`).
    pub async fn text_of(&self, css: &str) -> String {
        let id = self.element(css).await;
        self.call(reqwest::Method::GET, &format!("/element/{id}/text"), None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The text of the whole page.
    pub async fn text(&self) -> String {
        self.text_of("body").await
    }

    /// The value of the cookie `name`, if the browser holds it.
    pub async fn cookie(&self, name: &str) -> Option<String> {
        let url = format!("{}/session/{}/cookie", self.base, self.session);
        let all: serde_json::Value = self
            .client
            .get(url)
            .send()
            .await
            .expect("chromedriver answers")
            .json()
            .await
            .expect("JSON");
        all["value"]
            .as_array()?
            .iter()
            .find(|c| c["name"] == name)
            .and_then(|c| c["value"].as_str().map(str::to_owned))
    }

    /// Keeps a screenshot of the page as `target/ci-artifacts/<name>.png` (returned).
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        use base64::Engine;
        let png = self.call(reqwest::Method::GET, "/screenshot", None).await;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().unwrap_or_default())
            .expect("a base64 PNG");
        let path = artifacts().join(format!("{name}.png"));
        std::fs::write(&path, bytes).expect("the screenshot is written");
        path
    }

    /// Ends the session (Chromium quits) and chromedriver.
    pub async fn close(mut self) {
        let url = format!("{}/session/{}", self.base, self.session);
        let _ = self.client.delete(url).send().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // A test that failed before `close`: chromedriver goes, and Chromium with its pipe.
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// The page at `url` printed by Chromium (`--print-to-pdf`, A4 as the page's print style asks, no header or
/// footer), kept as `target/ci-artifacts/<name>.pdf` (returned).
pub async fn print_to_pdf(url: &str, name: &str) -> PathBuf {
    let (url, name) = (url.to_owned(), name.to_owned());
    tokio::task::spawn_blocking(move || {
        let _ = std::fs::remove_file(artifacts().join(format!("{name}.pdf")));
        pdf(&url, &name)
    })
    .await
    .expect("chromium finishes")
}

/// Where the artifacts of a test go: `target/ci-artifacts/<file>` (the folder made first).
pub fn artifact(file: &str) -> PathBuf {
    artifacts().join(file)
}
