//! The `upload2` workload: two `cordee` processes on the same PostgreSQL database and the same S3 bucket (a
//! local S3-compatible server started with `.ci/s3-server run PORT`), as behind a load balancer. The
//! connections, split across both, upload the `upload` workload's PDF for the given time; then every file
//! uploaded is downloaded back through the OTHER instance and checked against the SHA-256 the uploading
//! instance answered with. `CORDEE_S3_SERVER=s3rver` runs npm's s3rver instead of moto (see `.ci/s3-server`).

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::CONTENT_TYPE;
use reqwest::Client;
use sha2::{Digest, Sha256};
use tokio::sync::Mutex;
use uuid::Uuid;

use crate::load::Outcome;
use crate::report::Row;
use crate::seed::Seeded;
use crate::server::{workspace_root, Sampler, Server, ServerConfig};
use crate::workloads::{login, multipart_pdf, BOUNDARY};

const BUCKET: &str = "cordee-bench";

/// The S3-compatible server, stopped when dropped.
struct S3Server {
    child: Child,
    endpoint: String,
}

impl S3Server {
    /// Runs `.ci/s3-server run PORT` (installing the server on first use) and creates the bucket.
    async fn start(dir: &Path) -> anyhow::Result<S3Server> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let log = std::fs::File::create(dir.join("s3-server.log"))?;
        let child = Command::new(workspace_root().join(".ci/s3-server"))
            .args(["run", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()?;
        let mut server = S3Server {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        let client = Client::new();
        let started = Instant::now();
        loop {
            if let Some(status) = server.child.try_wait()? {
                anyhow::bail!("the S3 server exited ({status}); see {}", dir.display());
            }
            if client.get(&server.endpoint).send().await.is_ok() {
                break;
            }
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(300),
                "the S3 server did not answer within 300 s"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let created = client
            .put(format!("{}/{BUCKET}", server.endpoint))
            .send()
            .await?;
        anyhow::ensure!(
            created.status().is_success(),
            "cannot create the bucket: {}",
            created.status()
        );
        Ok(server)
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One upload that succeeded: where, through which instance, and what the server hashed.
struct Uploaded {
    application: Uuid,
    attachment: String,
    owner: usize,
    instance: usize,
    sha256: String,
}

/// Runs `upload2` on the database `url` seeded as `seeded`: two rows, the uploads and the downloads.
pub async fn upload2(
    binary: &Path,
    url: &str,
    dir: &Path,
    seeded: &Seeded,
    (connections, duration, upload_kib): (usize, Duration, usize),
) -> anyhow::Result<Vec<Row>> {
    let s3_dir = dir.join("s3");
    std::fs::create_dir_all(&s3_dir)?;
    let s3 = S3Server::start(&s3_dir).await?;
    let env: Vec<(String, String)> = [
        ("CORDEE__STORAGE__BACKEND", "s3"),
        ("CORDEE__STORAGE__S3__BUCKET", BUCKET),
        ("CORDEE__STORAGE__S3__ENDPOINT", s3.endpoint.as_str()),
        // What s3rver expects; moto takes any.
        ("CORDEE__STORAGE__S3__ACCESS_KEY_ID", "S3RVER"),
        ("CORDEE__STORAGE__S3__SECRET_ACCESS_KEY", "S3RVER"),
        ("CORDEE__STORAGE__S3__ALLOW_HTTP", "true"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let mut servers = Vec::new();
    for name in ["instance-a", "instance-b"] {
        let work_dir = dir.join(name);
        std::fs::create_dir_all(&work_dir)?;
        servers.push(
            Server::start(ServerConfig {
                binary,
                database_url: url,
                work_dir: &work_dir,
                env: &env,
            })
            .await?,
        );
    }
    let result = measure(&servers, seeded, (connections, duration, upload_kib)).await;
    for server in servers {
        server.stop()?;
    }
    drop(s3);
    result
}

async fn measure(
    servers: &[Server],
    seeded: &Seeded,
    (connections, duration, upload_kib): (usize, Duration, usize),
) -> anyhow::Result<Vec<Row>> {
    let client = Client::builder()
        .pool_max_idle_per_host(connections)
        .timeout(Duration::from_secs(120))
        .build()?;
    let mut tokens = Vec::new();
    for applicant in &seeded.applicants {
        tokens.push(login(&client, &servers[0].base_url, &applicant.email).await?);
    }
    let tokens = Arc::new(tokens);
    let body = multipart_pdf(upload_kib * 1024);
    let bases: Arc<Vec<String>> = Arc::new(servers.iter().map(|s| s.base_url.clone()).collect());
    let uploaded = Arc::new(Mutex::new(Vec::<Uploaded>::new()));

    eprintln!("[PostgreSQL] upload2: {connections} connections over 2 instances on one bucket …");
    let samplers: Vec<Sampler> = servers
        .iter()
        .map(|s| Sampler::start(s.pid(), None))
        .collect();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..connections {
        let (application, owner) = seeded.upload_drafts[c % seeded.upload_drafts.len()];
        let instance = c % bases.len();
        let url = format!(
            "{}/api/v1/applications/{application}/attachments",
            bases[instance]
        );
        let (client, tokens, body, uploaded) = (
            client.clone(),
            tokens.clone(),
            body.clone(),
            uploaded.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut outcome = Outcome::new();
            while started.elapsed() < duration {
                let sent = Instant::now();
                let answer = client
                    .post(&url)
                    .bearer_auth(&tokens[owner])
                    .header(
                        CONTENT_TYPE,
                        format!("multipart/form-data; boundary={BOUNDARY}"),
                    )
                    .body(body.clone())
                    .send()
                    .await;
                let status = answer.as_ref().map_or(0, |a| a.status().as_u16());
                let view: Option<serde_json::Value> = match answer {
                    Ok(a) if a.status().is_success() => a.json().await.ok(),
                    Ok(a) => {
                        let text = a.text().await.unwrap_or_default();
                        outcome
                            .first_error
                            .get_or_insert(format!("{status} {text}"));
                        None
                    }
                    Err(err) => {
                        outcome.first_error.get_or_insert(err.to_string());
                        None
                    }
                };
                let _ = outcome.latency.record(sent.elapsed().as_micros() as u64);
                outcome.requests += 1;
                *outcome.statuses.entry(status).or_default() += 1;
                let view = view.and_then(|v| {
                    Some((
                        v["id"].as_str()?.to_owned(),
                        v["sha256"].as_str()?.to_owned(),
                    ))
                });
                match view {
                    Some((attachment, sha256)) => uploaded.lock().await.push(Uploaded {
                        application,
                        attachment,
                        owner,
                        instance,
                        sha256,
                    }),
                    None => outcome.errors += 1,
                }
            }
            outcome
        }));
    }
    let mut uploads = Outcome::new();
    for task in tasks {
        uploads.merge(task.await?);
    }
    uploads.elapsed = started.elapsed();
    let sampled: Vec<(u64, u64)> = samplers.into_iter().map(Sampler::finish).collect();

    // Every file back through the other instance, checked against what the uploading one hashed.
    let uploaded = Arc::new(std::mem::take(&mut *uploaded.lock().await));
    eprintln!(
        "[PostgreSQL] upload2: {} uploads; downloading each through the other instance …",
        uploaded.len()
    );
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (client, tokens, bases, uploaded, next) = (
            client.clone(),
            tokens.clone(),
            bases.clone(),
            uploaded.clone(),
            next.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut outcome = Outcome::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(file) = uploaded.get(i) else { break };
                let other = &bases[(file.instance + 1) % bases.len()];
                let url = format!(
                    "{other}/api/v1/applications/{}/attachments/{}",
                    file.application, file.attachment
                );
                let sent = Instant::now();
                let answer = client
                    .get(&url)
                    .bearer_auth(&tokens[file.owner])
                    .send()
                    .await;
                let status = answer.as_ref().map_or(0, |a| a.status().as_u16());
                let bytes = match answer {
                    Ok(a) if a.status().is_success() => a.bytes().await.ok(),
                    _ => None,
                };
                let _ = outcome.latency.record(sent.elapsed().as_micros() as u64);
                outcome.requests += 1;
                *outcome.statuses.entry(status).or_default() += 1;
                let intact = bytes.is_some_and(|b| hex::encode(Sha256::digest(&b)) == file.sha256);
                if !intact {
                    outcome.errors += 1;
                    outcome.first_error.get_or_insert(format!(
                        "{status}: {url} missing or not the bytes uploaded"
                    ));
                }
            }
            outcome
        }));
    }
    let mut downloads = Outcome::new();
    for task in tasks {
        downloads.merge(task.await?);
    }
    downloads.elapsed = started.elapsed();

    let rss = sampled.iter().map(|s| s.0).sum();
    let hwm = servers.iter().map(Server::peak_rss_kib).sum();
    let s3_server = std::env::var("CORDEE_S3_SERVER").unwrap_or_else(|_| "moto".into());
    let note = format!(
        "2 instances, one PostgreSQL, one S3 bucket ({s3_server}); {} uploads, {} checked through the other instance, {} failed",
        uploaded.len(),
        downloads.requests,
        downloads.errors
    );
    Ok(vec![
        Row {
            workload: "upload2".into(),
            outcome: uploads,
            memory: crate::load::Memory {
                rss_kib: rss,
                anon_kib: None,
                file_kib: None,
            },
            hwm_kib: hwm,
            idle_kib: None,
            wal_bytes: None,
            note: note.clone(),
        },
        Row {
            workload: "upload2 download".into(),
            outcome: downloads,
            memory: crate::load::Memory {
                rss_kib: rss,
                anon_kib: None,
                file_kib: None,
            },
            hwm_kib: hwm,
            idle_kib: None,
            wal_bytes: None,
            note: "each file read back through the other instance; memory: both instances added"
                .into(),
        },
    ])
}
