//! What a benchmark run reports: per workload, per store (ours, a baseline, later the peers),
//! each run's figures, their medians, and the ratios ours : baseline per run and their median.
//! Printed as a plain-text table and written as JSON.

use std::fmt::Write as _;

use serde::Serialize;

/// Serialises a `Duration` as seconds (a float).
pub mod seconds {
    use std::time::Duration;

    pub fn serialize<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }
}

/// The median of `values` (the mean of the middle two for an even count); `NaN` for none.
pub fn median(values: &[f64]) -> f64 {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| !v.is_nan()).collect();
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    if sorted.len() % 2 == 1 {
        sorted[mid]
    } else {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    }
}

/// The `q`-quantile (0 < q <= 1) of sorted `values` by the nearest-rank method.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (q * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

/// The machine and the database server the figures were taken on.
#[derive(Debug, Clone, Serialize)]
pub struct Environment {
    pub cpus: usize,
    pub cpu_model: String,
    pub memory: String,
    /// `/proc/loadavg` when the benchmark started and when it ended.
    pub load_before: String,
    pub load_after: String,
    pub postgres_version: String,
    /// shared_buffers, synchronous_commit, fsync, max_wal_size, wal_level, max_connections.
    pub postgres_settings: Vec<(String, String)>,
    pub build: &'static str,
}

/// One measure of one store in every run, e.g. the ledger's events/s at concurrency 16.
#[derive(Debug, Clone, Serialize)]
pub struct Series {
    /// Who: `ours`, `baseline: …`, later a peer's name.
    pub store: String,
    /// What: `events/s`, `p50 ms`, …
    pub measure: String,
    pub runs: Vec<f64>,
    pub median: f64,
}

impl Series {
    pub fn new(store: &str, measure: &str, runs: Vec<f64>) -> Self {
        Self {
            store: store.into(),
            measure: measure.into(),
            median: median(&runs),
            runs,
        }
    }
}

/// Ours over a baseline (or a peer) per run, and the median of those ratios.
#[derive(Debug, Clone, Serialize)]
pub struct Ratio {
    pub name: String,
    pub runs: Vec<f64>,
    pub median: f64,
}

impl Ratio {
    pub fn of(name: &str, ours: &[f64], other: &[f64]) -> Self {
        let runs: Vec<f64> = ours.iter().zip(other).map(|(a, b)| a / b).collect();
        Self {
            name: name.into(),
            median: median(&runs),
            runs,
        }
    }
}

/// One table of a workload: e.g. W1 at concurrency 16.
#[derive(Debug, Clone, Serialize)]
pub struct Table {
    pub title: String,
    pub series: Vec<Series>,
    pub ratios: Vec<Ratio>,
}

/// A workload's result: its tables and the answer checks it passed.
#[derive(Debug, Clone, Serialize)]
pub struct WorkloadReport {
    /// `W1`, `W3`, ….
    pub id: &'static str,
    pub name: &'static str,
    /// What was measured and how, in a sentence or two.
    pub method: String,
    pub tables: Vec<Table>,
    /// Every check that passed (a failed one stops the benchmark).
    pub checks: Vec<String>,
}

/// The whole run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub command: String,
    pub quick: bool,
    pub runs: usize,
    pub environment: Environment,
    pub workload: crate::workload::Recorded,
    pub workloads: Vec<WorkloadReport>,
}

fn figure(v: f64) -> String {
    if v.is_nan() {
        "-".into()
    } else if v.abs() >= 1_000.0 {
        // Thousands with a comma, no decimals.
        let whole = v.round() as i64;
        let digits = whole.abs().to_string();
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(c);
        }
        if whole < 0 {
            format!("-{out}")
        } else {
            out
        }
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

impl Report {
    /// The plain-text table of everything.
    pub fn text(&self) -> String {
        let mut out = String::new();
        let e = &self.environment;
        let _ = writeln!(out, "command: {}", self.command);
        if self.quick {
            let _ = writeln!(
                out,
                "QUICK RUN: small sizes, for checking the benchmark, not for quoting"
            );
        }
        let _ = writeln!(
            out,
            "machine: {} CPUs ({}), {} memory, {} build; load average {} before, {} after",
            e.cpus, e.cpu_model, e.memory, e.build, e.load_before, e.load_after
        );
        let settings: Vec<String> = e
            .postgres_settings
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let _ = writeln!(
            out,
            "PostgreSQL {}: {}",
            e.postgres_version,
            settings.join(", ")
        );
        let w = &self.workload;
        let _ = writeln!(
            out,
            "workload: {}; recorded in {:.1} s (set-up) + {:.1} s (measurements, bulk path)",
            w.shape.describe(),
            w.setup_time.as_secs_f64(),
            w.measurements_time.as_secs_f64()
        );
        let _ = writeln!(
            out,
            "runs: {} (medians; ratios per run, then their median)",
            self.runs
        );
        for workload in &self.workloads {
            let _ = writeln!(out, "\n== {} {} ==", workload.id, workload.name);
            let _ = writeln!(out, "{}", workload.method);
            for table in &workload.tables {
                let _ = writeln!(out, "\n-- {} --", table.title);
                let store_width = table
                    .series
                    .iter()
                    .map(|s| s.store.len())
                    .chain(table.ratios.iter().map(|r| r.name.len()))
                    .max()
                    .unwrap_or(5)
                    .max(5);
                let _ = writeln!(
                    out,
                    "{:<store_width$}  {:<10}  {:>12}  runs",
                    "store", "measure", "median"
                );
                for s in &table.series {
                    let runs: Vec<String> = s.runs.iter().map(|v| figure(*v)).collect();
                    let _ = writeln!(
                        out,
                        "{:<store_width$}  {:<10}  {:>12}  {}",
                        s.store,
                        s.measure,
                        figure(s.median),
                        runs.join(" / ")
                    );
                }
                for r in &table.ratios {
                    let runs: Vec<String> = r.runs.iter().map(|v| format!("{v:.2}")).collect();
                    let _ = writeln!(
                        out,
                        "{:<store_width$}  {:<10}  {:>12.2}  {}",
                        r.name,
                        "ratio",
                        r.median,
                        runs.join(" / ")
                    );
                }
            }
            let _ = writeln!(out, "\nchecks passed:");
            for check in &workload.checks {
                let _ = writeln!(out, "  ok  {check}");
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median(&[]).is_nan());
    }

    #[test]
    fn quantiles_by_nearest_rank() {
        let values: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(quantile(&values, 0.5), 50.0);
        assert_eq!(quantile(&values, 0.99), 99.0);
        assert_eq!(quantile(&values, 1.0), 100.0);
        assert_eq!(quantile(&[7.0], 0.99), 7.0);
    }

    #[test]
    fn figures_read_at_a_glance() {
        assert_eq!(figure(1_234_567.4), "1,234,567");
        assert_eq!(figure(12.345), "12.3");
        assert_eq!(figure(0.456), "0.46");
    }

    #[test]
    fn ratios_per_run_and_their_median() {
        let r = Ratio::of("ours / plain", &[10.0, 20.0, 30.0], &[20.0, 20.0, 20.0]);
        assert_eq!(r.runs, vec![0.5, 1.0, 1.5]);
        assert_eq!(r.median, 1.0);
    }
}
