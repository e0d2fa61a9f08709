//! The `pack` workload: one juror's review pack (`--pack-applications` applications, each with a pitch deck
//! of `--pack-file-kib` on disk) downloaded whole while the server's resident set is sampled: downloads one
//! after another, several at once, then one read by a slow client. Each download is checked complete (the
//! archive's end record counts every file). Each phase reports the resident set just before it (idle) and
//! the most it reached.

use std::time::{Duration, Instant};

use reqwest::Client;

use crate::load::Outcome;
use crate::server::{Sampler, Server};

/// One phase of the workload.
pub struct Phase {
    pub name: &'static str,
    pub outcome: Outcome,
    /// `VmRSS` just before the phase, KiB.
    pub idle_kib: u64,
    /// The largest `VmRSS` sampled during it, KiB.
    pub rss_kib: u64,
    pub note: String,
}

/// How the packs are downloaded.
pub struct Plan {
    pub url: String,
    pub token: String,
    /// Files the archive must hold: the sheet, the manifest, a page and a pitch deck per application.
    pub entries: u64,
    /// Downloads one after the other.
    pub runs: usize,
    /// Downloads at once.
    pub concurrent: usize,
    /// The slow client's reading rate, MiB/s.
    pub slow_mib_per_second: f64,
}

/// Runs the three phases.
pub async fn run(client: &Client, server: &Server, plan: &Plan) -> Vec<Phase> {
    let mut phases = Vec::new();
    let sequential = phase(server, || async {
        let mut outcome = Outcome::new();
        let mut bytes = 0;
        let started = Instant::now();
        for _ in 0..plan.runs {
            let t0 = Instant::now();
            let result = download(client, &plan.target(), None).await;
            bytes = *result.as_ref().unwrap_or(&0);
            outcome.record(t0, result.map(|_| (200, None)));
        }
        let rate = (bytes * plan.runs as u64) as f64 / started.elapsed().as_secs_f64().max(1e-9);
        (
            outcome,
            format!(
                "{} MiB each, one after another at {} MiB/s",
                mib(bytes),
                mib(rate as u64)
            ),
        )
    })
    .await;
    phases.push(Phase {
        name: "pack",
        ..sequential
    });
    let at_once = phase(server, || async {
        let tasks: Vec<_> = (0..plan.concurrent)
            .map(|_| {
                let (client, target) = (client.clone(), plan.target());
                tokio::spawn(async move {
                    let t0 = Instant::now();
                    (t0, download(&client, &target, None).await)
                })
            })
            .collect();
        let mut outcome = Outcome::new();
        for task in tasks {
            let (t0, result) = task
                .await
                .unwrap_or_else(|e| (Instant::now(), Err(e.to_string())));
            outcome.record(t0, result.map(|_| (200, None)));
        }
        (outcome, format!("{} downloads at once", plan.concurrent))
    })
    .await;
    phases.push(Phase {
        name: "pack, several at once",
        ..at_once
    });
    let rate = (plan.slow_mib_per_second * 1_048_576.0) as u64;
    let slow = phase(server, || async {
        let mut outcome = Outcome::new();
        let t0 = Instant::now();
        let result = download(client, &plan.target(), Some(rate)).await;
        outcome.record(t0, result.map(|_| (200, None)));
        (
            outcome,
            format!("read at {} MiB/s", plan.slow_mib_per_second),
        )
    })
    .await;
    phases.push(Phase {
        name: "pack, slow client",
        ..slow
    });
    phases
}

/// Runs `work`, sampling the server's resident set around it.
async fn phase<F, Fut>(server: &Server, work: F) -> Phase
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = (Outcome, String)>,
{
    let idle_kib = server.rss_kib();
    let sampler = Sampler::start(server.pid(), None);
    let started = Instant::now();
    let (mut outcome, note) = work().await;
    outcome.elapsed = started.elapsed();
    let (rss_kib, _) = sampler.finish();
    Phase {
        name: "",
        outcome,
        idle_kib,
        rss_kib,
        note,
    }
}

/// What one download asks for and expects.
#[derive(Clone)]
struct Target {
    url: String,
    token: String,
    entries: u64,
}

impl Plan {
    fn target(&self) -> Target {
        Target {
            url: self.url.clone(),
            token: self.token.clone(),
            entries: self.entries,
        }
    }
}

/// Downloads the pack, reading at most `rate` bytes a second when given; its size when it is whole.
async fn download(client: &Client, plan: &Target, rate: Option<u64>) -> Result<u64, String> {
    let mut response = client
        .get(&plan.url)
        .bearer_auth(&plan.token)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if !response.status().is_success() {
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        return Err(format!("HTTP {status}: {body}"));
    }
    let started = Instant::now();
    let mut total: u64 = 0;
    let mut tail: Vec<u8> = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| e.to_string())? {
        total += chunk.len() as u64;
        tail.extend_from_slice(&chunk);
        let keep = tail.len().saturating_sub(22);
        tail.drain(..keep);
        if let Some(rate) = rate {
            let due = Duration::from_secs_f64(total as f64 / rate as f64);
            if let Some(wait) = due.checked_sub(started.elapsed()) {
                tokio::time::sleep(wait).await;
            }
        }
    }
    // The end-of-central-directory record: signature, then the number of files at offset 10.
    let whole = tail.len() == 22
        && tail[..4] == [0x50, 0x4b, 0x05, 0x06]
        && u64::from(u16::from_le_bytes([tail[10], tail[11]])) == plan.entries;
    if whole {
        Ok(total)
    } else {
        Err(format!("an incomplete pack ({total} bytes)"))
    }
}

fn mib(bytes: u64) -> String {
    format!("{:.0}", bytes as f64 / 1_048_576.0)
}
