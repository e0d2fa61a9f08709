//! The S3-compatible server of the tests: moto, run by `.ci/s3-server` (which installs it on first use). It is
//! started once per test binary, on a free port, the first time a test asks for a bucket, and dies with the
//! binary (`PR_SET_PDEATHSIG` on the thread that started it, which lives as long as the process). Every test
//! gets a bucket of its own.

use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use cordee::config::{S3Settings, Settings, StorageBackend};
use secrecy::SecretString;

use super::free_port;

/// The script that installs and runs the server.
const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/.ci/s3-server");
/// How long the first start may take: installing moto from PyPI takes most of it.
const READY_WITHIN: Duration = Duration::from_secs(300);

static ENDPOINT: OnceLock<String> = OnceLock::new();

/// The server's URL (`http://127.0.0.1:PORT`), started on first use.
pub fn endpoint() -> &'static str {
    ENDPOINT.get_or_init(start)
}

fn start() -> String {
    let port = free_port();
    let (exited, exit) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("s3-server".into())
        .spawn(move || {
            let mut command = Command::new(SCRIPT);
            command
                .args(["run", &port.to_string()])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
            unsafe {
                command.pre_exec(|| {
                    if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
            let status = command.spawn().and_then(|mut child| child.wait());
            let _ = exited.send(format!("{status:?}"));
            // Stays alive: the death signal follows the thread that started the server.
            loop {
                std::thread::park();
            }
        })
        .expect("a thread for the S3 server");
    let started = Instant::now();
    loop {
        if let Ok(status) = exit.try_recv() {
            panic!("the S3 server (.ci/s3-server run {port}) stopped: {status}");
        }
        if answers(port) {
            return format!("http://127.0.0.1:{port}");
        }
        assert!(
            started.elapsed() < READY_WITHIN,
            "the S3 server did not answer on port {port} within {READY_WITHIN:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Whether an HTTP server answers on `port`.
fn answers(port: u16) -> bool {
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    if stream
        .write_all(b"GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.")
}

/// A new, empty bucket; returns its name.
pub async fn fresh_bucket() -> String {
    let endpoint = tokio::task::spawn_blocking(endpoint).await.unwrap();
    let name = format!("cordee-test-{}", uuid::Uuid::now_v7().simple());
    let response = reqwest::Client::new()
        .put(format!("{endpoint}/{name}"))
        .send()
        .await
        .expect("the S3 server answers");
    assert!(
        response.status().is_success(),
        "cannot create the bucket {name}: {}",
        response.status()
    );
    name
}

/// The settings of a bucket of the test server, objects under `attachments/`.
pub fn s3_settings(bucket: &str) -> S3Settings {
    S3Settings {
        bucket: bucket.to_owned(),
        endpoint: endpoint().to_owned(),
        region: "us-east-1".into(),
        access_key_id: SecretString::from("cordee-test"),
        secret_access_key: SecretString::from("cordee-test-secret"),
        allow_http: true,
        prefix: "attachments/".into(),
    }
}

/// Points `settings` at `bucket` (the `s3` backend).
pub fn use_bucket(settings: &mut Settings, bucket: &str) {
    settings.storage.backend = StorageBackend::S3;
    settings.storage.s3 = s3_settings(bucket);
}

/// The `CORDEE__STORAGE__…` variables an operator sets for `bucket`.
pub fn bucket_env(bucket: &str) -> Vec<(&'static str, String)> {
    vec![
        ("CORDEE__STORAGE__BACKEND", "s3".into()),
        ("CORDEE__STORAGE__S3__BUCKET", bucket.to_owned()),
        ("CORDEE__STORAGE__S3__ENDPOINT", endpoint().to_owned()),
        ("CORDEE__STORAGE__S3__ACCESS_KEY_ID", "cordee-test".into()),
        (
            "CORDEE__STORAGE__S3__SECRET_ACCESS_KEY",
            "cordee-test-secret".into(),
        ),
        ("CORDEE__STORAGE__S3__ALLOW_HTTP", "true".into()),
    ]
}

/// The keys of the bucket's objects, sorted (as the server lists them, without signing).
pub async fn object_keys(bucket: &str) -> Vec<String> {
    let listing = reqwest::get(format!("{}/{bucket}?list-type=2", endpoint()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut keys: Vec<String> = listing
        .split("<Key>")
        .skip(1)
        .filter_map(|rest| rest.split_once("</Key>").map(|(key, _)| key.to_owned()))
        .collect();
    keys.sort();
    keys
}

/// A signed client of `bucket`, as Cordée's own.
fn client(bucket: &str) -> object_store::aws::AmazonS3 {
    let settings = s3_settings(bucket);
    object_store::aws::AmazonS3Builder::new()
        .with_bucket_name(bucket)
        .with_region(settings.region)
        .with_endpoint(settings.endpoint)
        .with_access_key_id("cordee-test")
        .with_secret_access_key("cordee-test-secret")
        .with_allow_http(true)
        .build()
        .expect("a client of the test bucket")
}

/// The object `key`'s bytes and its `x-amz-meta-sha256`, or `None` when it does not exist.
pub async fn object(bucket: &str, key: &str) -> Option<(Vec<u8>, Option<String>)> {
    use object_store::ObjectStore;
    let found = client(bucket)
        .get(&object_store::path::Path::from(key))
        .await;
    let found = match found {
        Err(object_store::Error::NotFound { .. }) => return None,
        other => other.expect("the object can be read"),
    };
    let sha256 = found
        .attributes
        .get(&object_store::Attribute::Metadata("sha256".into()))
        .map(|v| v.to_string());
    Some((found.bytes().await.unwrap().to_vec(), sha256))
}

/// Puts `bytes` as the object `key` directly (as an operator's tool, or a crashed upload, would).
pub async fn put_object(bucket: &str, key: &str, bytes: Vec<u8>) {
    use object_store::ObjectStore;
    client(bucket)
        .put(&object_store::path::Path::from(key), bytes.into())
        .await
        .expect("the object is written");
}
