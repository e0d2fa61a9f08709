//! Results as markdown tables, each figure checked against the targets of issue 17 (those it keeps from
//! issue 6, and the review packs of issue 13), in two forms for throughput: the absolute figure, and the
//! same figure as a fraction of the machine's `/health` measured in the same run (see `floor.rs`).

use std::fmt::Write;

use crate::floor;
use crate::load::{Memory, Outcome};

/// The `/health` throughput of the machine the absolute targets were set for (issue 17): a throughput
/// target of T requests a second is also a target of T / 60,000 of the `/health` measured in the run.
pub const REFERENCE_HEALTH: f64 = 60_000.0;

/// The memory target of every workload (issue 17), MiB.
const MEMORY_TARGET_MIB: f64 = 64.0;

/// One measured workload.
pub struct Row {
    pub workload: String,
    pub outcome: Outcome,
    /// The server's memory at the largest `VmRSS` sampled during the workload.
    pub memory: Memory,
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

/// A floor measured in the run: (requests a second, p99 ms).
#[derive(Debug, Clone, Copy)]
struct Floor {
    rps: f64,
    p99_ms: f64,
}

/// The two floors of a section, when they were measured without errors.
#[derive(Debug, Clone, Copy, Default)]
struct Floors {
    health: Option<Floor>,
    one_row: Option<Floor>,
}

impl Section {
    fn floors(&self) -> Floors {
        let find = |name: &str| {
            self.rows
                .iter()
                .find(|r| r.workload == name)
                .filter(|r| r.outcome.errors == 0 && r.outcome.requests > 0)
                .map(|r| Floor {
                    rps: r.outcome.throughput(),
                    p99_ms: r.outcome.quantile_ms(0.99),
                })
        };
        Floors {
            health: find(floor::HEALTH),
            one_row: find(floor::ONE_ROW),
        }
    }
}

/// Whether a row's throughput and tail latency compare with the floors: many connections for a fixed
/// time. The ranking (one request after another, judged on its median) and the pack's phases (three
/// downloads of 126 MiB, judged on memory) do not.
fn compares_with_floor(row: &Row) -> bool {
    !(row.workload == "ranking" || row.workload.starts_with("pack"))
}

/// A figure compared with its target.
struct Check {
    what: &'static str,
    target: f64,
    actual: f64,
    at_least: bool,
    /// For a throughput target: the same target as a fraction of `/health` (target / 60,000).
    relative: Option<f64>,
}

/// A judged check: whether it holds (both forms, for throughput) and what to print.
struct Verdict {
    met: bool,
    text: String,
}

impl Check {
    fn holds(&self) -> bool {
        if self.at_least {
            self.actual >= self.target
        } else {
            self.actual <= self.target
        }
    }

    /// How far the absolute figure is from its target.
    fn gap(&self) -> String {
        if self.at_least {
            format!("{:.0} % short", 100.0 * (1.0 - self.actual / self.target))
        } else if self.target > 0.0 {
            format!("{:.1}× over", self.actual / self.target)
        } else {
            format!("{} over", fmt(self.actual))
        }
    }

    fn absolute(&self) -> String {
        if self.holds() {
            format!(
                "{} {} {} {}",
                self.what,
                fmt(self.actual),
                if self.at_least { "≥" } else { "≤" },
                fmt(self.target)
            )
        } else {
            format!(
                "{} {} vs {} {} ({})",
                self.what,
                fmt(self.actual),
                if self.at_least { "≥" } else { "≤" },
                fmt(self.target),
                self.gap()
            )
        }
    }

    /// The verdict, with `health` the `/health` throughput measured in the same run.
    fn verdict(&self, health: Option<f64>) -> Verdict {
        let absolute = self.holds();
        let Some(relative_target) = self.relative else {
            return Verdict {
                met: absolute,
                text: if absolute {
                    format!("met ({} {})", self.what, fmt(self.actual))
                } else {
                    format!("**not met**: {}", self.absolute())
                },
            };
        };
        let Some(health) = health else {
            return Verdict {
                met: false,
                text: format!(
                    "**not judged**: {}; the relative form needs the `/health` floor, not measured in this run",
                    self.absolute()
                ),
            };
        };
        let fraction = self.actual / health;
        let relative = fraction >= relative_target;
        let relative_text = if relative {
            format!(
                "{} × /health ≥ {}",
                fraction_fmt(fraction),
                one_in(relative_target)
            )
        } else {
            format!(
                "{} × /health vs ≥ {} ({:.0} % short)",
                fraction_fmt(fraction),
                one_in(relative_target),
                100.0 * (1.0 - fraction / relative_target)
            )
        };
        let text = match (absolute, relative) {
            (true, true) => format!("met ({}; {relative_text})", self.absolute()),
            (true, false) => format!(
                "**not met**, only the absolute form holds: {}; but {relative_text}",
                self.absolute()
            ),
            (false, true) => format!(
                "**not met**, only the relative form holds: {}; but {relative_text}",
                self.absolute()
            ),
            (false, false) => format!("**not met**: {}; {relative_text}", self.absolute()),
        };
        Verdict {
            met: absolute && relative,
            text,
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

/// A fraction with three significant digits (0.271, 0.0412).
fn fraction_fmt(x: f64) -> String {
    if !x.is_finite() || x <= 0.0 {
        return format!("{x:.2}");
    }
    let decimals = (2 - x.log10().floor() as i32).clamp(0, 6) as usize;
    format!("{x:.decimals$}")
}

/// A fraction as "1/4", or "≈ 1/1714" when its inverse is not a whole number.
fn one_in(fraction: f64) -> String {
    let k = 1.0 / fraction;
    if (k - k.round()).abs() < 0.01 {
        format!("1/{:.0}", k.round())
    } else {
        format!("≈ 1/{k:.0}")
    }
}

/// The targets of a workload on a database (issue 17; list and upload from issue 6; packs: issue 13).
fn checks(database: &str, n: usize, row: &Row) -> Vec<Check> {
    let o = &row.outcome;
    let sqlite = database == "SQLite";
    let rps = |target: f64| Check {
        what: "req/s",
        target,
        actual: o.throughput(),
        at_least: true,
        relative: Some(target / REFERENCE_HEALTH),
    };
    let p99 = |target: f64| Check {
        what: "p99 ms",
        target,
        actual: o.quantile_ms(0.99),
        at_least: false,
        relative: None,
    };
    let errors = || Check {
        what: "errors",
        target: 0.0,
        actual: o.errors as f64,
        at_least: false,
        relative: None,
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
                relative: None,
            },
        ],
        ("list", false) => vec![rps(1_000.0)],
        ("review", true) => vec![rps(3_000.0), p99(25.0), errors()],
        ("review", false) => vec![rps(1_500.0), errors()],
        ("submit", true) => vec![rps(1_000.0), p99(50.0)],
        ("submit", false) => vec![rps(500.0)],
        ("upload", true) => vec![rps(500.0)],
        ("upload", false) => vec![rps(300.0)],
        ("upload2", _) => vec![rps(300.0), errors()],
        ("login", _) => vec![rps(35.0)],
        ("detail during login", _) | ("detail during paced login", _) => vec![p99(20.0)],
        ("paced login", _) => vec![errors()],
        ("ranking", _) => vec![
            Check {
                what: "p50 ms",
                target: if n > 10_000 { 100.0 } else { 20.0 },
                actual: o.quantile_ms(0.5),
                at_least: false,
                relative: None,
            },
            errors(),
        ],
        (pack, _) if pack.starts_with("pack") => vec![
            Check {
                what: "RSS above idle MiB",
                target: 64.0,
                actual: row.memory.rss_kib.saturating_sub(row.idle_kib.unwrap_or(0)) as f64
                    / 1024.0,
                at_least: false,
                relative: None,
            },
            errors(),
        ],
        ("soak", true) => vec![Check {
            what: "WAL MiB",
            target: 64.0,
            actual: row.wal_bytes.unwrap_or(0) as f64 / 1_048_576.0,
            at_least: false,
            relative: None,
        }],
        _ => Vec::new(),
    }
}

/// The verdicts of a row, and whether all of them hold (`None`: the row has no target).
fn judge(section: &Section, floors: Floors, row: &Row) -> (Option<bool>, Vec<String>) {
    let verdicts: Vec<Verdict> = checks(section.database, section.n, row)
        .iter()
        .map(|c| c.verdict(floors.health.map(|f| f.rps)))
        .collect();
    let met = (!verdicts.is_empty()).then(|| verdicts.iter().all(|v| v.met));
    (met, verdicts.into_iter().map(|v| v.text).collect())
}

fn mib(kib: u64) -> String {
    format!("{:.1}", kib as f64 / 1024.0)
}

fn mib_or_dash(kib: Option<u64>) -> String {
    kib.map_or("–".into(), mib)
}

/// `actual / floor`, as "0.271" (throughput) or "3.4" (latency), "–" without a floor.
fn ratio(actual: f64, floor: Option<f64>, fraction: bool) -> String {
    match floor {
        Some(floor) if floor > 0.0 => {
            let x = actual / floor;
            if fraction {
                fraction_fmt(x)
            } else {
                format!("{x:.1}")
            }
        }
        _ => "–".into(),
    }
}

/// The markdown of one section.
pub fn markdown(section: &Section) -> String {
    let floors = section.floors();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "### {} — N = {} (seeded in {:.1} s)\n",
        section.database, section.n, section.seed_seconds
    );
    let _ = writeln!(out, "{}", floor_line(floors));
    let _ = writeln!(
        out,
        "| workload | requests | req/s | × /health | × one-row | p50 ms | p99 ms | p99 ÷ /health p99 | p99 ÷ one-row p99 | p99.9 ms | max ms | errors | SQL/req | RSS max MiB | anon MiB | file MiB | VmHWM MiB | target |"
    );
    let _ = writeln!(
        out,
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
    );
    for row in &section.rows {
        let o = &row.outcome;
        let (_, mut verdicts) = judge(section, floors, row);
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
        let compared = compares_with_floor(row);
        let rel = |floor: Option<Floor>, fraction: bool| {
            if !compared {
                return "–".to_owned();
            }
            if fraction {
                ratio(o.throughput(), floor.map(|f| f.rps), true)
            } else {
                ratio(o.quantile_ms(0.99), floor.map(|f| f.p99_ms), false)
            }
        };
        let _ = writeln!(
            out,
            "| {} | {} | {:.0} | {} | {} | {:.2} | {:.2} | {} | {} | {:.2} | {:.2} | {} | {} | {} | {} | {} | {} | {} |",
            row.workload,
            o.requests,
            o.throughput(),
            rel(floors.health, true),
            rel(floors.one_row, true),
            o.quantile_ms(0.5),
            o.quantile_ms(0.99),
            rel(floors.health, false),
            rel(floors.one_row, false),
            o.quantile_ms(0.999),
            o.latency.max() as f64 / 1000.0,
            errors(o),
            o.statements().map_or("–".into(), |s| format!("{s:.2}")),
            mib(row.memory.rss_kib),
            mib_or_dash(row.memory.anon_kib),
            mib_or_dash(row.memory.file_kib),
            mib(row.hwm_kib),
            verdicts.join("; ")
        );
    }
    let peak = Check {
        what: "peak RSS MiB",
        target: MEMORY_TARGET_MIB,
        actual: section.final_hwm_kib as f64 / 1024.0,
        at_least: false,
        relative: None,
    };
    let _ = writeln!(
        out,
        "\nPeak server RSS over the whole run (VmHWM at the end): {} MiB — {}.",
        mib(section.final_hwm_kib),
        peak.verdict(None).text
    );
    out
}

/// One line naming the floors measured in the section.
fn floor_line(floors: Floors) -> String {
    let one = |name: &str, floor: Option<Floor>| match floor {
        Some(f) => format!("{name} {:.0} req/s (p99 {:.2} ms)", f.rps, f.p99_ms),
        None => format!("{name} not measured"),
    };
    format!(
        "Floors of this run: {}; {}. Fractions below are of these; the relative targets are of `/health` \
         (absolute target ÷ {:.0}).\n",
        one("`/health`", floors.health),
        one("one-row read", floors.one_row),
        REFERENCE_HEALTH
    )
}

/// The targets, in the order of issue 17, with their absolute and relative forms (SQLite / PostgreSQL).
const TARGETS: &[(&str, &str)] = &[
    (
        "detail",
        "≥ 15,000/s (1/4 of /health), p99 < 10 ms / ≥ 5,000/s (1/12)",
    ),
    (
        "review",
        "≥ 3,000/s (1/20), p99 < 25 ms, 0 errors / ≥ 1,500/s (1/40), 0 errors",
    ),
    ("submit", "≥ 1,000/s (1/60), p99 < 50 ms / ≥ 500/s (1/120)"),
    ("login", "≥ 35/s (≈ 1/1714) / same"),
    (
        "detail during login",
        "p99 < 20 ms (logins flat out) / same",
    ),
    ("paced login", "0 errors / same"),
    (
        "detail during paced login",
        "p99 < 20 ms (logins paced at 35/s) / same",
    ),
    (
        "ranking",
        "median ≤ 20 ms at N = 10,000, ≤ 100 ms at 100,000 / same",
    ),
    (
        "upload2",
        "— / ≥ 300/s across two instances (1/200), 0 errors",
    ),
    (
        "list",
        "≥ 2,000/s (1/30), p99 < 30 ms, ≤ 4 SQL / ≥ 1,000/s (1/60)",
    ),
    ("upload", "≥ 500/s (1/120) / ≥ 300/s (1/200)"),
    ("soak", "WAL ≤ 64 MiB during 60 s of review saves / —"),
];

/// One table of every target met or not, a column per database: the top of BENCHMARKS.md.
pub fn summary(sections: &[Section]) -> String {
    let mut out = String::new();
    let _ = write!(out, "| workload | target (SQLite / PostgreSQL) |");
    for s in sections {
        let _ = write!(out, " {} |", s.database);
    }
    let _ = write!(out, "\n|---|---|");
    for _ in sections {
        let _ = write!(out, "---|");
    }
    out.push('\n');
    let cell = |s: &Section, workload: &str| -> String {
        let Some(row) = s.rows.iter().find(|r| r.workload == workload) else {
            return "not run".into();
        };
        match judge(s, s.floors(), row) {
            (None, _) => "no target on this database".into(),
            (Some(true), verdicts) => format!("**met** — {}", verdicts.join("; ")),
            (Some(false), verdicts) => format!("**not met** — {}", verdicts.join("; ")),
        }
    };
    for (workload, target) in TARGETS {
        if !sections
            .iter()
            .any(|s| s.rows.iter().any(|r| r.workload == *workload))
        {
            continue;
        }
        let _ = write!(out, "| {workload} | {target} |");
        for s in sections {
            let _ = write!(out, " {} |", cell(s, workload));
        }
        out.push('\n');
    }
    let _ = write!(out, "| peak memory | ≤ 64 MiB in every workload / same |");
    for s in sections {
        let _ = write!(out, " {} |", memory_cell(s));
    }
    out.push('\n');
    out
}

/// Every workload of a section against the memory target: the ones over it, with their anonymous part.
fn memory_cell(section: &Section) -> String {
    let over: Vec<String> = section
        .rows
        .iter()
        .filter(|r| !r.workload.starts_with("floor"))
        .filter(|r| r.memory.rss_kib as f64 / 1024.0 > MEMORY_TARGET_MIB)
        .map(|r| {
            format!(
                "{} {} MiB (anon {})",
                r.workload,
                mib(r.memory.rss_kib),
                mib_or_dash(r.memory.anon_kib)
            )
        })
        .collect();
    let largest = section
        .rows
        .iter()
        .filter(|r| !r.workload.starts_with("floor"))
        .map(|r| r.memory.rss_kib)
        .max()
        .unwrap_or(0);
    if over.is_empty() {
        format!(
            "**met**: at most {} MiB; VmHWM at the end {} MiB",
            mib(largest),
            mib(section.final_hwm_kib)
        )
    } else {
        format!(
            "**not met**: {}; VmHWM at the end {} MiB",
            over.join(", "),
            mib(section.final_hwm_kib)
        )
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn check(target: f64, actual: f64) -> Check {
        Check {
            what: "req/s",
            target,
            actual,
            at_least: true,
            relative: Some(target / REFERENCE_HEALTH),
        }
    }

    #[test]
    fn a_throughput_target_is_met_only_when_both_forms_hold() {
        // 15,000/s is 1/4 of the reference /health.
        let both = check(15_000.0, 16_000.0).verdict(Some(60_000.0));
        assert!(both.met, "{}", both.text);
        let absolute_only = check(15_000.0, 16_000.0).verdict(Some(80_000.0));
        assert!(!absolute_only.met);
        assert!(absolute_only.text.contains("only the absolute form holds"));
        let relative_only = check(15_000.0, 9_000.0).verdict(Some(30_000.0));
        assert!(!relative_only.met);
        assert!(relative_only.text.contains("only the relative form holds"));
        assert!(relative_only.text.contains("0.300 × /health ≥ 1/4"));
        let neither = check(15_000.0, 9_000.0).verdict(Some(60_000.0));
        assert!(!neither.met);
        assert!(neither.text.starts_with("**not met**: "));
        let no_floor = check(15_000.0, 16_000.0).verdict(None);
        assert!(!no_floor.met);
    }

    #[test]
    fn relative_targets_read_as_one_in_k() {
        assert_eq!(one_in(15_000.0 / REFERENCE_HEALTH), "1/4");
        assert_eq!(one_in(3_000.0 / REFERENCE_HEALTH), "1/20");
        assert_eq!(one_in(35.0 / REFERENCE_HEALTH), "≈ 1/1714");
        assert_eq!(fraction_fmt(0.2712), "0.271");
        assert_eq!(fraction_fmt(0.04123), "0.0412");
    }
}
