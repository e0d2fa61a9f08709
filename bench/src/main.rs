//! `cordee-bench`: seeds N applications through the library, starts the real `cordee` server as a child
//! process, measures the machine's floor (`floor.rs`), drives each workload over HTTP and prints throughput
//! (also as a fraction of the floor), latency, errors, SQL statements per request and the server's memory,
//! for SQLite and for PostgreSQL.
//!
//! `cargo run --release -p cordee-bench -- --database both --n 10000`

mod floor;
mod instances;
mod load;
mod pack;
mod report;
mod seed;
mod server;
mod workloads;

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::{Parser, ValueEnum};
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use secrecy::SecretString;

use cordee::config::DatabaseSettings;
use load::{Memory, MemorySampler};
use report::{Row, Section};
use server::{Server, ServerConfig};
use workloads::Context;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Database {
    Sqlite,
    Postgres,
    Both,
}

const ALL_WORKLOADS: &str = "pack,detail,list,review,submit,upload,login,ranking,soak";
/// Workloads run only when asked for: `upload2` (PostgreSQL only) needs Python for its S3 server.
const MORE_WORKLOADS: &str = "upload2";

/// Benchmarks the Cordée server over HTTP on SQLite and PostgreSQL.
#[derive(Debug, Parser)]
#[command(name = "cordee-bench")]
struct Args {
    /// Which database(s) to benchmark.
    #[arg(long, value_enum, default_value = "both")]
    database: Database,
    /// Submitted applications to seed (each with three submitted reviews of five criteria).
    #[arg(long, default_value_t = 10_000)]
    n: usize,
    /// Jurors of the call.
    #[arg(long, default_value_t = 30)]
    jurors: usize,
    /// Applicant accounts owning the organizations.
    #[arg(long, default_value_t = 20)]
    applicants: usize,
    /// Complete drafts for the submit workload (it stops early when they run out).
    #[arg(long, default_value_t = 20_000)]
    drafts: usize,
    /// Seconds per workload.
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// Concurrent connections per workload.
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Connections logging in during the `login` workload (beside `--connections` reading applications).
    #[arg(long, default_value_t = 4)]
    login_connections: usize,
    /// Then the `login` workload runs again with logins paced at this rate (the target's 35 a second), to
    /// measure application detail while that many people log in; 0 skips it.
    #[arg(long, default_value_t = 35.0)]
    login_rate: f64,
    /// Comma-separated workloads.
    #[arg(long, default_value = ALL_WORKLOADS, value_delimiter = ',')]
    workloads: Vec<String>,
    /// Sequential ranking requests.
    #[arg(long, default_value_t = 20)]
    ranking_runs: usize,
    /// Seconds of the SQLite write soak (saving reviews).
    #[arg(long, default_value_t = 60)]
    soak_seconds: u64,
    /// Size of the uploaded PDF, KiB.
    #[arg(long, default_value_t = 100)]
    upload_kib: usize,
    /// Applications in the review pack of the `pack` workload (one juror assigned them all).
    #[arg(long, default_value_t = 500)]
    pack_applications: usize,
    /// Size of each pitch deck in that pack, KiB.
    #[arg(long, default_value_t = 256)]
    pack_file_kib: usize,
    /// Review packs downloaded one after the other, then at once, by the `pack` workload.
    #[arg(long, default_value_t = 3)]
    pack_runs: usize,
    /// Reading rate of the slow client of the `pack` workload, MiB/s.
    #[arg(long, default_value_t = 20.0)]
    pack_slow_mib_per_second: f64,
    /// The server binary; built with `cargo build --release -p cordee` when left out.
    #[arg(long)]
    server_bin: Option<PathBuf>,
    /// PostgreSQL database to connect to for creating and dropping the benchmark database.
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    postgres_admin_url: String,
    /// Also write the whole report (the targets met or not, both databases, the command, the commit, the
    /// date, the machine and its load before the run) to this markdown file, ready to paste into
    /// BENCHMARKS.md.
    #[arg(long)]
    write_markdown: Option<PathBuf>,
}

fn main() -> anyhow::Result<()> {
    // Before anything else (the build, the seeding): how busy the machine was when the run began.
    let machine = Machine::now();
    let args = Args::parse();
    for w in &args.workloads {
        anyhow::ensure!(
            ALL_WORKLOADS
                .split(',')
                .chain([MORE_WORKLOADS])
                .any(|k| k == w),
            "unknown workload {w} (known: {ALL_WORKLOADS},{MORE_WORKLOADS})"
        );
    }
    let binary = match &args.server_bin {
        Some(path) => {
            std::fs::canonicalize(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?
        }
        None => server::build_server()?,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let mut sections = Vec::new();
    if matches!(args.database, Database::Sqlite | Database::Both) {
        sections.push(runtime.block_on(run_sqlite(&args, &binary))?);
        println!(
            "{}",
            report::markdown(sections.last().unwrap_or_else(|| unreachable!()))
        );
    }
    if matches!(args.database, Database::Postgres | Database::Both) {
        sections.push(runtime.block_on(run_postgres(&args, &binary))?);
        println!(
            "{}",
            report::markdown(sections.last().unwrap_or_else(|| unreachable!()))
        );
    }
    let summary = report::summary(&sections);
    println!("{summary}");
    if let Some(path) = &args.write_markdown {
        let mut text = header(&args, &machine, &binary);
        text.push_str("### Targets\n\n");
        text.push_str(&summary);
        text.push('\n');
        for section in &sections {
            text.push_str(&report::markdown(section));
            text.push('\n');
        }
        std::fs::write(path, text)?;
        eprintln!("results written to {}", path.display());
    }
    Ok(())
}

/// A fresh folder under the system's temporary directory.
fn work_dir(label: &str, n: usize) -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("cordee-bench-{label}-{n}-{}", std::process::id()));
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

fn database_settings(url: &str) -> DatabaseSettings {
    DatabaseSettings {
        url: SecretString::from(url.to_owned()),
        pool_size: 2,
        connect_timeout_seconds: 5,
        sqlite_busy_timeout_ms: 5000,
        sqlite_wal_limit_bytes: 67_108_864,
    }
}

async fn run_sqlite(args: &Args, binary: &Path) -> anyhow::Result<Section> {
    let dir = work_dir("sqlite", args.n)?;
    let db_path = dir.join("cordee.db");
    let url = format!("sqlite://{}", db_path.display());
    let wal = PathBuf::from(format!("{}-wal", db_path.display()));
    let result = run(args, binary, "SQLite", &url, &dir, Some(wal)).await;
    std::fs::remove_dir_all(&dir)?;
    result
}

async fn run_postgres(args: &Args, binary: &Path) -> anyhow::Result<Section> {
    let dir = work_dir("postgres", args.n)?;
    let name = format!("cordee_bench_{}", args.n);
    let admin_url = args.postgres_admin_url.clone();
    let admin = move |sql: String| -> anyhow::Result<()> {
        let mut conn = PgConnection::establish(&admin_url)?;
        conn.batch_execute(&sql)?;
        Ok(())
    };
    admin(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))?;
    admin(format!("CREATE DATABASE {name}"))?;
    let url = match args.postgres_admin_url.rsplit_once('/') {
        Some((server, _)) => format!("{server}/{name}"),
        None => anyhow::bail!("the PostgreSQL admin URL names no database"),
    };
    let result = run(args, binary, "PostgreSQL", &url, &dir, None).await;
    admin(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))?;
    std::fs::remove_dir_all(&dir)?;
    result
}

fn wants(args: &Args, workload: &str) -> bool {
    args.workloads.iter().any(|w| w == workload)
}

async fn run(
    args: &Args,
    binary: &Path,
    database: &'static str,
    url: &str,
    dir: &Path,
    wal: Option<PathBuf>,
) -> anyhow::Result<Section> {
    let plan = seed::Plan {
        applications: args.n,
        jurors: args.jurors,
        applicants: args.applicants,
        submit_drafts: if wants(args, "submit") {
            args.drafts
        } else {
            0
        },
        draft_reviews_per_juror: args.connections.div_ceil(args.jurors).max(1) * 4,
        pack_applications: if wants(args, "pack") {
            args.pack_applications.min(args.n)
        } else {
            0
        },
        pack_file_bytes: args.pack_file_kib * 1024,
        storage_dir: dir.join("attachments"),
    };
    eprintln!("[{database}] seeding N = {} …", args.n);
    let settings = database_settings(url);
    let seeded = tokio::task::spawn_blocking(move || seed::seed(&settings, &plan)).await??;
    eprintln!("[{database}] seeded in {:.1} s", seeded.seconds);
    let server = Server::start(ServerConfig {
        binary,
        database_url: url,
        work_dir: dir,
        env: &[],
    })
    .await?;
    let upload2 = (wants(args, "upload2") && wal.is_none()).then(|| seeded.clone());
    let result = measure(args, database, &server, seeded, wal).await;
    let final_hwm = server.peak_rss_kib();
    let tail = server.log_tail();
    if !tail.trim().is_empty() {
        eprintln!("[{database}] the server's log ends with:\n{tail}");
    }
    let stopped = server.stop();
    let (seed_seconds, mut rows) = result?;
    stopped?;
    if let Some(seeded) = upload2 {
        let shape = (
            args.connections,
            Duration::from_secs(args.duration),
            args.upload_kib,
        );
        for row in instances::upload2(binary, url, dir, &seeded, shape).await? {
            report_progress(database, &row.workload, &row.outcome);
            rows.push(row);
        }
    }
    Ok(Section {
        database,
        n: args.n,
        seed_seconds,
        rows,
        final_hwm_kib: final_hwm,
    })
}

async fn measure(
    args: &Args,
    database: &'static str,
    server: &Server,
    seeded: seed::Seeded,
    wal: Option<PathBuf>,
) -> anyhow::Result<(f64, Vec<Row>)> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.connections + args.login_connections)
        .timeout(Duration::from_secs(120))
        .build()?;
    let base = server.base_url.clone();
    let admin_token = workloads::login(&client, &base, &seeded.admin.email).await?;
    let mut applicant_tokens = Vec::new();
    for a in &seeded.applicants {
        applicant_tokens.push(workloads::login(&client, &base, &a.email).await?);
    }
    let mut juror_tokens = Vec::new();
    for j in &seeded.jurors {
        juror_tokens.push(workloads::login(&client, &base, &j.email).await?);
    }
    let seed_seconds = seeded.seconds;
    let mut rows = Vec::new();
    // First, on a server that has done nothing else yet: what a pack adds to an idle server.
    if let (true, Some(juror)) = (wants(args, "pack"), seeded.pack_juror.clone()) {
        eprintln!("[{database}] pack …");
        let token = workloads::login(&client, &base, &juror.email).await?;
        let plan = pack::Plan {
            url: format!(
                "{base}/api/v1/me/assignments/pack.zip?call_id={}&stage={}",
                seeded.call_id,
                seed::STAGE
            ),
            token,
            entries: 2 + 2 * args.pack_applications.min(args.n) as u64,
            runs: args.pack_runs,
            concurrent: args.pack_runs,
            slow_mib_per_second: args.pack_slow_mib_per_second,
        };
        for phase in pack::run(&client, server, &plan).await {
            report_progress(database, phase.name, &phase.outcome);
            rows.push(Row {
                workload: phase.name.into(),
                outcome: phase.outcome,
                memory: Memory {
                    rss_kib: phase.rss_kib,
                    ..Memory::default()
                },
                hwm_kib: server.peak_rss_kib(),
                idle_kib: Some(phase.idle_kib),
                wal_bytes: None,
                note: phase.note,
            });
        }
    }
    let ctx = Context::new(
        base,
        seeded,
        admin_token,
        applicant_tokens,
        juror_tokens,
        args.upload_kib,
    );
    let duration = Duration::from_secs(args.duration);
    let c = args.connections;
    let pid = server.pid();
    // Warm the server's caches and connection pools before the first measurement.
    let _ = load::drive(&client, ctx.detail(c), Duration::from_secs(2)).await;
    let row = |workload: &str, outcome: load::Outcome, sampled: (Memory, u64), note: String| Row {
        workload: workload.into(),
        outcome,
        memory: sampled.0,
        hwm_kib: server.peak_rss_kib(),
        idle_kib: None,
        wal_bytes: wal.as_ref().map(|_| sampled.1),
        note,
    };
    // The machine's floor, same connections and duration as the workloads.
    if [
        "detail", "list", "review", "submit", "upload", "upload2", "login", "soak",
    ]
    .iter()
    .any(|w| wants(args, w))
    {
        let organizations = floor::organizations(&client, &ctx).await?;
        for (name, connections) in [
            (floor::HEALTH, floor::health(&ctx, c)),
            (floor::ONE_ROW, floor::one_row(&ctx, &organizations, c)),
        ] {
            eprintln!("[{database}] {name} …");
            let sampler = MemorySampler::start(pid, wal.clone());
            let outcome = load::drive(&client, connections, duration).await;
            let sampled = sampler.finish();
            report_progress(database, name, &outcome);
            rows.push(row(name, outcome, sampled, String::new()));
        }
    }
    for workload in ["detail", "list", "review", "submit", "upload"] {
        if !wants(args, workload) {
            continue;
        }
        eprintln!("[{database}] {workload} …");
        let connections = match workload {
            "detail" => ctx.detail(c),
            "list" => ctx.list(c),
            "review" => ctx.review(c),
            "submit" => ctx.submit(c),
            _ => ctx.upload(c),
        };
        let sampler = MemorySampler::start(pid, wal.clone());
        let outcome = load::drive(&client, connections, duration).await;
        let sampled = sampler.finish();
        let note = match workload {
            "submit" if outcome.requests as usize >= ctx.submit_pool() => format!(
                "all {} drafts submitted in {:.1} s",
                ctx.submit_pool(),
                outcome.elapsed.as_secs_f64()
            ),
            _ => String::new(),
        };
        report_progress(database, workload, &outcome);
        rows.push(row(workload, outcome, sampled, note));
    }
    if wants(args, "login") {
        // Flat out from `login_connections`, then (unless 0) paced at `login_rate`, each beside detail.
        let flat_out = (
            None,
            "login",
            "detail during login",
            format!("{} connections logging in", args.login_connections),
        );
        let paced = (
            Some(args.login_rate),
            "paced login",
            "detail during paced login",
            format!("paced at {} a second", args.login_rate),
        );
        let phases = if args.login_rate > 0.0 {
            vec![flat_out, paced]
        } else {
            vec![flat_out]
        };
        for (rate, login, detail, note) in phases {
            eprintln!("[{database}] {login} during detail …");
            let sampler = MemorySampler::start(pid, wal.clone());
            let (logins, details) = tokio::join!(
                load::drive_paced(&client, ctx.login(args.login_connections), duration, rate),
                load::drive(&client, ctx.detail(c), duration),
            );
            let sampled = sampler.finish();
            report_progress(database, login, &logins);
            report_progress(database, detail, &details);
            rows.push(row(login, logins, sampled, note));
            rows.push(row(detail, details, sampled, String::new()));
        }
    }
    if wants(args, "ranking") {
        eprintln!("[{database}] ranking …");
        let sampler = MemorySampler::start(pid, wal.clone());
        let outcome = load::sequential(&client, args.ranking_runs, ctx.ranking()).await;
        let sampled = sampler.finish();
        report_progress(database, "ranking", &outcome);
        let note = format!("{} sequential requests", args.ranking_runs);
        rows.push(row("ranking", outcome, sampled, note));
    }
    if wants(args, "soak") && wal.is_some() {
        eprintln!(
            "[{database}] soak: {} s of review saves …",
            args.soak_seconds
        );
        let sampler = MemorySampler::start(pid, wal.clone());
        let outcome = load::drive(
            &client,
            ctx.review(c),
            Duration::from_secs(args.soak_seconds),
        )
        .await;
        let sampled = sampler.finish();
        report_progress(database, "soak", &outcome);
        let note = format!("{} s of review saves", args.soak_seconds);
        rows.push(row("soak", outcome, sampled, note));
    }
    Ok((seed_seconds, rows))
}

fn report_progress(database: &str, workload: &str, o: &load::Outcome) {
    eprintln!(
        "[{database}] {workload}: {} requests, {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms, errors {}{}",
        o.requests,
        o.throughput(),
        o.quantile_ms(0.5),
        o.quantile_ms(0.99),
        o.errors,
        o.first_error
            .as_deref()
            .map(|e| format!(" (first: {e})"))
            .unwrap_or_default()
    );
}

/// The machine and how busy it was when the run began.
struct Machine {
    started: chrono::DateTime<chrono::Utc>,
    /// `/proc/loadavg`'s three load averages (1, 5 and 15 minutes).
    load_average: String,
}

impl Machine {
    fn now() -> Machine {
        let load_average = std::fs::read_to_string("/proc/loadavg")
            .ok()
            .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
            .unwrap_or_else(|| "unknown".into());
        Machine {
            started: chrono::Utc::now(),
            load_average,
        }
    }
}

/// The output of a command run in the workspace, trimmed (`None` when it fails).
fn command_output(program: &str, args: &[&str]) -> Option<String> {
    let output = std::process::Command::new(program)
        .args(args)
        .current_dir(server::workspace_root())
        .output()
        .ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// An argument as a shell would need it.
fn shell_quoted(arg: &str) -> String {
    if !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./,=:@+".contains(c))
    {
        arg.to_owned()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

/// The command, the commit, the date and the machine, for the markdown file.
fn header(args: &Args, machine: &Machine, binary: &Path) -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let nproc = command_output("nproc", &[]).unwrap_or_else(|| "unknown".into());
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kib| kib.parse::<u64>().ok())
        })
        .map_or("unknown".into(), |kib| {
            format!("{:.1} GiB", kib as f64 / 1_048_576.0)
        });
    let commit = command_output("git", &["rev-parse", "--short", "HEAD"])
        .unwrap_or_else(|| "unknown".into());
    let dirty = command_output("git", &["status", "--porcelain", "--untracked-files=no"])
        .is_some_and(|s| !s.is_empty());
    let built = std::fs::metadata(binary)
        .and_then(|m| m.modified())
        .map(|t| {
            chrono::DateTime::<chrono::Utc>::from(t)
                .format("%Y-%m-%d %H:%M UTC")
                .to_string()
        })
        .unwrap_or_else(|_| "unknown".into());
    let command: Vec<String> = std::env::args().map(|a| shell_quoted(&a)).collect();
    format!(
        "## Run of {started}, commit `{commit}`{dirty}\n\n\
         - Command: `{command}`\n\
         - Commit: `{commit}` (`git rev-parse --short HEAD`){dirty}; server binary `{binary}`, built {built}\n\
         - Date: {started} to {ended}\n\
         - Machine: `nproc` {nproc} ({cpu}), {memory} of memory; load average before the run {load} \
         (1, 5, 15 min); the load generator runs on the same machine\n\
         - N = {n}, {jurors} jurors, {applicants} applicants, {connections} connections, {duration} s per \
         workload\n\n",
        started = machine.started.format("%Y-%m-%d %H:%M UTC"),
        ended = chrono::Utc::now().format("%H:%M UTC"),
        dirty = if dirty {
            " with uncommitted changes"
        } else {
            ""
        },
        command = command.join(" "),
        binary = binary.display(),
        load = machine.load_average,
        n = args.n,
        jurors = args.jurors,
        applicants = args.applicants,
        connections = args.connections,
        duration = args.duration,
    )
}
