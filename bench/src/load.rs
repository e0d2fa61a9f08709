//! The load generator: a fixed number of connections, each sending one request after another for a fixed
//! time, with latencies in an HDR histogram and the server's `x-sql-statements` header averaged; and the
//! server's memory sampled meanwhile ([`MemorySampler`]).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use reqwest::{Client, RequestBuilder};

/// Builds the next request of one connection; `None` when it has nothing left to send.
pub type NextRequest = Box<dyn FnMut(&Client) -> Option<RequestBuilder> + Send>;

/// What one workload measured.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Latencies in microseconds.
    pub latency: Histogram<u64>,
    pub requests: u64,
    /// Non-2xx answers and transport errors.
    pub errors: u64,
    /// Answers by status code (0: transport error).
    pub statuses: BTreeMap<u16, u64>,
    pub first_error: Option<String>,
    statements_sum: u64,
    statements_seen: u64,
    pub elapsed: Duration,
}

impl Outcome {
    pub(crate) fn new() -> Outcome {
        Outcome {
            // From 1 µs to 10 minutes, three significant digits; the bounds are valid constants.
            latency: Histogram::new_with_bounds(1, 600_000_000, 3).unwrap_or_else(|_| {
                Histogram::new(3).unwrap_or_else(|_| unreachable!("3 significant digits is valid"))
            }),
            requests: 0,
            errors: 0,
            statuses: BTreeMap::new(),
            first_error: None,
            statements_sum: 0,
            statements_seen: 0,
            elapsed: Duration::ZERO,
        }
    }

    pub(crate) fn merge(&mut self, other: Outcome) {
        let _ = self.latency.add(&other.latency);
        self.requests += other.requests;
        self.errors += other.errors;
        for (status, count) in other.statuses {
            *self.statuses.entry(status).or_default() += count;
        }
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
        self.statements_sum += other.statements_sum;
        self.statements_seen += other.statements_seen;
    }

    /// Requests per second over the workload's duration.
    pub fn throughput(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// A latency quantile in milliseconds.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        self.latency.value_at_quantile(q) as f64 / 1000.0
    }

    /// Mean SQL statements per request, when the server reported them.
    pub fn statements(&self) -> Option<f64> {
        (self.statements_seen > 0).then(|| self.statements_sum as f64 / self.statements_seen as f64)
    }

    /// Records one request: its latency, its status and the statements it ran.
    pub(crate) fn record(&mut self, started: Instant, result: Result<(u16, Option<u64>), String>) {
        let micros = started.elapsed().as_micros().max(1) as u64;
        let _ = self.latency.record(micros.min(600_000_000));
        self.requests += 1;
        match result {
            Ok((status, statements)) => {
                *self.statuses.entry(status).or_default() += 1;
                if !(200..300).contains(&status) {
                    self.errors += 1;
                    if self.first_error.is_none() {
                        self.first_error = Some(format!("HTTP {status}"));
                    }
                }
                if let Some(n) = statements {
                    self.statements_sum += n;
                    self.statements_seen += 1;
                }
            }
            Err(err) => {
                *self.statuses.entry(0).or_default() += 1;
                self.errors += 1;
                if self.first_error.is_none() {
                    self.first_error = Some(err);
                }
            }
        }
    }
}

/// Sends one request and reads the whole answer: (status, SQL statements).
async fn send(request: RequestBuilder) -> Result<(u16, Option<u64>), String> {
    let response = request.send().await.map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let statements = response
        .headers()
        .get("x-sql-statements")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let body = response.bytes().await.map_err(|e| e.to_string())?;
    if !(200..300).contains(&status) && std::env::var_os("CORDEE_BENCH_DEBUG").is_some() {
        eprintln!("HTTP {status}: {}", String::from_utf8_lossy(&body));
    }
    Ok((status, statements))
}

/// Runs one task per connection for `duration` (or until every connection has nothing left to send), each
/// sending its next request as soon as the previous one is answered.
pub async fn drive(client: &Client, connections: Vec<NextRequest>, duration: Duration) -> Outcome {
    drive_paced(client, connections, duration, None).await
}

/// As [`drive`], but with `rate` (requests per second, all connections together) each connection starts its
/// requests on a fixed schedule instead (open loop: a slow answer delays nothing but itself).
pub async fn drive_paced(
    client: &Client,
    connections: Vec<NextRequest>,
    duration: Duration,
    rate: Option<f64>,
) -> Outcome {
    let every = rate
        .filter(|r| *r > 0.0)
        .map(|r| Duration::from_secs_f64(connections.len() as f64 / r));
    let started = Instant::now();
    let deadline = started + duration;
    let tasks: Vec<_> = connections
        .into_iter()
        .map(|mut next| {
            let client = client.clone();
            tokio::spawn(async move {
                let mut outcome = Outcome::new();
                let mut ticks = every.map(|every| {
                    let mut ticks = tokio::time::interval(every);
                    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                    ticks
                });
                while Instant::now() < deadline {
                    if let Some(ticks) = ticks.as_mut() {
                        ticks.tick().await;
                    }
                    let Some(request) = next(&client) else {
                        break;
                    };
                    let t0 = Instant::now();
                    let result = send(request).await;
                    outcome.record(t0, result);
                }
                outcome
            })
        })
        .collect();
    let mut total = Outcome::new();
    for task in tasks {
        match task.await {
            Ok(outcome) => total.merge(outcome),
            Err(err) => {
                total.errors += 1;
                total.first_error.get_or_insert_with(|| err.to_string());
            }
        }
    }
    total.elapsed = started.elapsed();
    total
}

/// Sends `runs` requests one after the other (after one unrecorded warm-up request).
pub async fn sequential(
    client: &Client,
    runs: usize,
    mut next: impl FnMut(&Client) -> RequestBuilder,
) -> Outcome {
    let _ = send(next(client)).await;
    let mut outcome = Outcome::new();
    let started = Instant::now();
    for _ in 0..runs {
        let t0 = Instant::now();
        let result = send(next(client)).await;
        outcome.record(t0, result);
    }
    outcome.elapsed = started.elapsed();
    outcome
}

/// A small per-connection pseudo-random sequence (xorshift), to spread requests over the data.
pub struct Rng(u64);

impl Rng {
    /// A generator seeded from `seed` (any value).
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// An index below `n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// The server's memory at the largest resident set sampled during a workload, KiB.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Memory {
    /// The largest `VmRSS` sampled.
    pub rss_kib: u64,
    /// Anonymous pages (heap, stacks, allocator arenas) at that sample: `Anonymous` of
    /// `/proc/PID/smaps_rollup`; `None` when it could not be read.
    pub anon_kib: Option<u64>,
    /// File-backed pages at that sample (the binary, shared libraries, mapped database pages such as
    /// SQLite's `-shm`): `Rss` − `Anonymous` of `/proc/PID/smaps_rollup`.
    pub file_kib: Option<u64>,
}

/// What one sample of `/proc/PID/smaps_rollup` says: (Rss, Anonymous), KiB.
fn smaps_rollup(pid: u32) -> Option<(u64, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
    let field = |name: &str| {
        text.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kib| kib.parse::<u64>().ok())
    };
    Some((field("Rss:")?, field("Anonymous:")?))
}

/// A field of `/proc/PID/status` in KiB (0 when unreadable: the process has exited).
pub fn status_kib(pid: u32, field: &str) -> u64 {
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

/// Samples the server's `VmRSS` every 50 ms while a workload runs and, each time it reaches a new
/// maximum, what `smaps_rollup` says of it at that moment (heap or mapped pages); and the largest size of
/// a file (SQLite's `-wal`) when given.
pub struct MemorySampler {
    stop: Arc<AtomicBool>,
    peak: Arc<Mutex<(Memory, u64)>>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl MemorySampler {
    /// Starts sampling `pid`, and the size of `file` when given.
    pub fn start(pid: u32, file: Option<PathBuf>) -> MemorySampler {
        let stop = Arc::new(AtomicBool::new(false));
        let peak = Arc::new(Mutex::new((Memory::default(), 0)));
        let handle = {
            let (stop, peak) = (stop.clone(), peak.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let rss = status_kib(pid, "VmRSS:");
                    let bytes = file
                        .as_ref()
                        .and_then(|f| std::fs::metadata(f).ok())
                        .map_or(0, |m| m.len());
                    let rollup = {
                        let current = peak.lock().map_or(0, |p| p.0.rss_kib);
                        (rss > current).then(|| smaps_rollup(pid))
                    };
                    if let Ok(mut peak) = peak.lock() {
                        if let Some(rollup) = rollup {
                            peak.0 = Memory {
                                rss_kib: rss,
                                anon_kib: rollup.map(|(_, anon)| anon),
                                file_kib: rollup.map(|(all, anon)| all.saturating_sub(anon)),
                            };
                        }
                        peak.1 = peak.1.max(bytes);
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
            })
        };
        MemorySampler {
            stop,
            peak,
            handle: Some(handle),
        }
    }

    /// Stops sampling: the memory at the largest `VmRSS`, and the largest file size in bytes.
    pub fn finish(mut self) -> (Memory, u64) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
        self.peak
            .lock()
            .map_or((Memory::default(), 0), |peak| *peak)
    }
}
