//! `tickring bench clickhouse`: the writer against the real server (see `sinks/clickhouse/src/bench.rs`).

use crate::tuning::Tuning;
use anyhow::{Context, Result};
use clap::Args;
use std::path::PathBuf;
use tickring_sink_clickhouse::bench::Report;
use tickring_sink_clickhouse::ClickhouseConfig;

#[derive(Debug, Args)]
pub struct BenchClickhouseArgs {
    /// A short run (seconds) for CI and smoke checks.
    #[arg(long)]
    pub quick: bool,
    /// Also write the results as JSON here.
    #[arg(long)]
    pub json: Option<PathBuf>,
}

pub fn run(tuning: &Tuning, args: BenchClickhouseArgs) -> Result<Report> {
    run_with(&tuning.clickhouse, args)
}

/// The benchmark against the server of `cfg.url`; prints the table, writes the JSON when asked.
pub fn run_with(cfg: &ClickhouseConfig, args: BenchClickhouseArgs) -> Result<Report> {
    let report = tickring_sink_clickhouse::bench::run(cfg, args.quick)
        .context("ClickHouse benchmark (is the server up? scripts/clickhouse.sh start)")?;
    println!(
        "{:<20} {:>14} {:>10} {:>10} {:>10} {:>10} {:>10}",
        "case", "rows/s", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "max ms"
    );
    let ms = |ns: u64| ns as f64 / 1e6;
    for r in &report.results {
        println!(
            "{:<20} {:>14.0} {:>10.1} {:>10.1} {:>10.1} {:>10.1} {:>10.1}",
            r.name,
            r.throughput_per_s,
            ms(r.p50_ns),
            ms(r.p90_ns),
            ms(r.p99_ns),
            ms(r.p999_ns),
            ms(r.max_ns)
        );
    }
    if let Some(path) = args.json {
        let text = serde_json::to_string_pretty(&report)?;
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        println!("wrote {}", path.display());
    }
    Ok(report)
}
