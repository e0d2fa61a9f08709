//! Results as markdown tables, each figure checked against the target of issue 6 (the review packs: issue 13).

use std::fmt::Write;

use crate::load::Outcome;

/// One measured workload.
pub struct Row {
    pub workload: String,
    pub outcome: Outcome,
    /// Largest `VmRSS` sampled during the workload, KiB.
    pub rss_kib: u64,
    /// `VmHWM` after the workload (peak since the server started), KiB.
    pub hwm_kib: u64,
    /// `VmRSS` just before the workload, KiB, for the workloads judged on what they add to it.
    pub idle_kib: Option<u64>,
    /// Largest size of the SQLite `-wal` file during the workload, bytes.
    pub wal_bytes: Option<u64>,
    pub note: String,
}

/// All the rows of one database at one size.
pub struct Section {
    pub database: &'static str,
    pub n: usize,
    pub seed_seconds: f64,
    pub rows: Vec<Row>,
    pub final_hwm_kib: u64,
}

/// A figure compared with its target.
struct Check {
    what: &'static str,
    target: f64,
    actual: f64,
    at_least: bool,
}

impl Check {
    fn verdict(&self) -> String {
        let met = if self.at_least {
            self.actual >= self.target
        } else {
            self.actual <= self.target
        };
        if met {
            format!("met ({} {})", self.what, fmt(self.actual))
        } else {
            let gap = if self.at_least {
                format!("{:.0} % short", 100.0 * (1.0 - self.actual / self.target))
            } else if self.target > 0.0 {
                format!("{:.1}× over", self.actual / self.target)
            } else {
                format!("{} over", fmt(self.actual))
            };
            format!(
                "**not met**: {} {} vs {}{} ({gap})",
                self.what,
                fmt(self.actual),
                if self.at_least { "≥ " } else { "≤ " },
                fmt(self.target)
            )
        }
    }
}

fn fmt(x: f64) -> String {
    if x >= 100.0 || x == x.trunc() {
        format!("{x:.0}")
    } else {
        format!("{x:.2}")
    }
}

/// The targets of a workload on a database (issue 6).
fn checks(database: &str, n: usize, row: &Row) -> Vec<Check> {
    let o = &row.outcome;
    let sqlite = database == "SQLite";
    let rps = |target: f64| Check {
        what: "req/s",
        target,
        actual: o.throughput(),
        at_least: true,
    };
    let p99 = |target: f64| Check {
        what: "p99 ms",
        target,
        actual: o.quantile_ms(0.99),
        at_least: false,
    };
    let errors = || Check {
        what: "errors",
        target: 0.0,
        actual: o.errors as f64,
        at_least: false,
    };
    match (row.workload.as_str(), sqlite) {
        ("detail", true) => vec![rps(15_000.0), p99(10.0)],
        ("detail", false) => vec![rps(5_000.0)],
        ("list", true) => vec![
            rps(2_000.0),
            p99(30.0),
            Check {
                what: "SQL/request",
                target: 4.0,
                actual: o.statements().unwrap_or(f64::NAN),
                at_least: false,
            },
        ],
        ("list", false) => vec![rps(1_000.0)],
        ("review", true) => vec![rps(3_000.0), p99(25.0), errors()],
        ("review", false) => vec![rps(1_500.0), errors()],
        ("submit", true) => vec![rps(1_000.0), p99(50.0)],
        ("submit", false) => vec![rps(500.0)],
        ("upload", true) => vec![rps(500.0)],
        ("upload", false) => vec![rps(300.0)],
        ("login", _) => vec![rps(35.0)],
        ("detail during login", _) | ("detail during paced login", _) => vec![p99(20.0)],
        ("paced login", _) => vec![errors()],
        ("ranking", _) => vec![
            Check {
                what: "p50 ms",
                target: if n > 10_000 { 500.0 } else { 50.0 },
                actual: o.quantile_ms(0.5),
                at_least: false,
            },
            errors(),
        ],
        (pack, _) if pack.starts_with("pack") => vec![
            Check {
                what: "RSS above idle MiB",
                target: 64.0,
                actual: row.rss_kib.saturating_sub(row.idle_kib.unwrap_or(0)) as f64 / 1024.0,
                at_least: false,
            },
            errors(),
        ],
        ("soak", true) => vec![Check {
            what: "WAL MiB",
            target: 64.0,
            actual: row.wal_bytes.unwrap_or(0) as f64 / 1_048_576.0,
            at_least: false,
        }],
        _ => Vec::new(),
    }
}

fn mib(kib: u64) -> String {
    format!("{:.1}", kib as f64 / 1024.0)
}

/// The markdown of one section.
pub fn markdown(section: &Section) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "### {} — N = {} (seeded in {:.1} s)\n",
        section.database, section.n, section.seed_seconds
    );
    let _ = writeln!(
        out,
        "| workload | requests | req/s | p50 ms | p99 ms | p99.9 ms | max ms | errors | SQL/req | RSS max MiB | VmHWM MiB | target |"
    );
    let _ = writeln!(
        out,
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
    );
    for row in &section.rows {
        let o = &row.outcome;
        let mut verdicts: Vec<String> = checks(section.database, section.n, row)
            .iter()
            .map(Check::verdict)
            .collect();
        if let Some(wal) = row.wal_bytes {
            if section.database == "SQLite" && row.workload != "soak" {
                verdicts.push(format!("WAL max {:.1} MiB", wal as f64 / 1_048_576.0));
            }
        }
        if let Some(idle) = row.idle_kib {
            verdicts.push(format!("idle {} MiB", mib(idle)));
        }
        if !row.note.is_empty() {
            verdicts.push(row.note.clone());
        }
        let _ = writeln!(
            out,
            "| {} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {:.2} | {} | {} | {} | {} | {} |",
            row.workload,
            o.requests,
            o.throughput(),
            o.quantile_ms(0.5),
            o.quantile_ms(0.99),
            o.quantile_ms(0.999),
            o.latency.max() as f64 / 1000.0,
            errors(o),
            o.statements().map_or("–".into(), |s| format!("{s:.2}")),
            mib(row.rss_kib),
            mib(row.hwm_kib),
            verdicts.join("; ")
        );
    }
    let peak = Check {
        what: "peak RSS MiB",
        target: 64.0,
        actual: section.final_hwm_kib as f64 / 1024.0,
        at_least: false,
    };
    let _ = writeln!(
        out,
        "\nPeak server RSS over the whole run (VmHWM): {} MiB — {}.",
        mib(section.final_hwm_kib),
        peak.verdict()
    );
    out
}

fn errors(o: &Outcome) -> String {
    if o.errors == 0 {
        return "0".into();
    }
    let statuses: Vec<String> = o
        .statuses
        .iter()
        .filter(|(s, _)| !(200..300).contains(*s))
        .map(|(s, n)| {
            if *s == 0 {
                format!("{n}× transport")
            } else {
                format!("{n}× {s}")
            }
        })
        .collect();
    format!("{} ({})", o.errors, statuses.join(", "))
}
