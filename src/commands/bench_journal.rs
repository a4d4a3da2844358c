//! `tickring bench journal`: the durable journal against JetStream (see `bench/src/journal/`).

use crate::tuning::Tuning;
use anyhow::{Context, Result};
use clap::Args;
use std::path::PathBuf;
use std::time::Duration;
use tickring_bench::journal::data::ScratchDir;
use tickring_bench::journal::{run_journal, JournalBenchConfig, SCENARIO};
use tickring_bench::{write_outputs, BenchResult, Report};
use tickring_sink_clickhouse::bench as ch_bench;
use tickring_sink_clickhouse::ClickhouseConfig;

#[derive(Debug, Args)]
pub struct BenchJournalArgs {
    /// Five rounds of 2 M ticks (200 k to JetStream) instead of seven of 10 M (1 M).
    #[arg(long)]
    pub quick: bool,
    /// Where to write the JSON report [default: <out-dir>/journal.json].
    #[arg(long, value_name = "PATH")]
    pub json: Option<PathBuf>,
    /// Directory for the `.hgrm` files (and the JSON when --json is not given) [default: the JSON's
    /// directory, or bench-results].
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
    /// Folder on the disk to measure; the run's journals and JetStream store live in a subfolder,
    /// removed afterwards [default: the system's temporary folder].
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Ticks per round of each appending row [default: 10000000, quick 2000000].
    #[arg(long, value_name = "N")]
    pub records: Option<u64>,
    /// Ticks per round of jetstream-publish [default: 1000000, quick 200000].
    #[arg(long, value_name = "N")]
    pub jetstream_records: Option<u64>,
    /// Ticks in the journal the replay rows read [default: 10000000, quick 2000000].
    #[arg(long, value_name = "N")]
    pub replay_records: Option<u64>,
    /// Ticks per append / publish batch [default: ingest.publish_batch of tuning.toml].
    #[arg(long, value_name = "N")]
    pub batch: Option<usize>,
    /// Most ticks per replay read [default: ring.max_batch of tuning.toml].
    #[arg(long, value_name = "N")]
    pub replay_batch: Option<usize>,
    /// Rounds; every row runs once per round, interleaved [default: 7, quick 5].
    #[arg(long, value_name = "N")]
    pub rounds: Option<usize>,
    /// fsync interval of the appending rows, ms.
    #[arg(long, value_name = "MS", default_value_t = 200)]
    pub fsync_interval_ms: u64,
    /// Most JetStream messages published and not yet acknowledged.
    #[arg(long, value_name = "N", default_value_t = 4096)]
    pub jetstream_window: usize,
    /// The nats-server program (a path, or a name on PATH or in /usr/sbin).
    #[arg(long, value_name = "PROGRAM", default_value = "nats-server")]
    pub nats_server: PathBuf,
    /// Leave out the JetStream peer.
    #[arg(long)]
    pub no_jetstream: bool,
    /// Core of the publisher (and of the single-threaded rows).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub producer_core: usize,
    /// Core of the journaler in journal-append-from-ring.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub consumer_core: usize,
    /// Give up on a round of a row after this many seconds [default: 120, quick 60].
    #[arg(long, value_name = "S")]
    pub timeout_s: Option<u64>,
    /// Ticks the ClickHouse writer catches up from the journal in `catch-up` (and writes live in
    /// `clickhouse-live`) [default: 2000000, quick 400000].
    #[arg(long, value_name = "N")]
    pub catch_up_records: Option<usize>,
    /// The ClickHouse server of `catch-up` [default: clickhouse.url of tuning.toml].
    #[arg(long, value_name = "URL")]
    pub clickhouse_url: Option<String>,
    /// Leave out `catch-up` and `clickhouse-live` (they need a ClickHouse server).
    #[arg(long)]
    pub no_clickhouse: bool,
}

impl BenchJournalArgs {
    /// The arguments `bench all` runs the scenario with.
    pub fn preset(quick: bool, out_dir: &std::path::Path) -> Self {
        Self {
            quick,
            json: Some(out_dir.join("journal.json")),
            out_dir: Some(out_dir.to_owned()),
            dir: None,
            records: None,
            jetstream_records: None,
            replay_records: None,
            batch: None,
            replay_batch: None,
            rounds: None,
            fsync_interval_ms: 200,
            jetstream_window: 4096,
            nats_server: PathBuf::from("nats-server"),
            no_jetstream: false,
            producer_core: 0,
            consumer_core: 1,
            timeout_s: None,
            catch_up_records: None,
            clickhouse_url: None,
            no_clickhouse: false,
        }
    }

    fn config(&self, tuning: &Tuning) -> JournalBenchConfig {
        let (journal, ring) = (tuning.journal.clone(), tuning.ring.clone());
        let preset = if self.quick {
            JournalBenchConfig::quick(journal, ring)
        } else {
            JournalBenchConfig::full(journal, ring)
        };
        JournalBenchConfig {
            records: self.records.unwrap_or(preset.records),
            jetstream_records: self.jetstream_records.unwrap_or(preset.jetstream_records),
            replay_records: self.replay_records.unwrap_or(preset.replay_records),
            batch: self.batch.unwrap_or(tuning.ingest.publish_batch),
            replay_batch: self.replay_batch.unwrap_or(tuning.ring.max_batch),
            rounds: self.rounds.unwrap_or(preset.rounds),
            fsync_interval_ms: self.fsync_interval_ms,
            jetstream_window: self.jetstream_window,
            nats_server: (!self.no_jetstream).then(|| self.nats_server.clone()),
            producer_core: self.producer_core,
            consumer_core: self.consumer_core,
            dir: self.dir.clone().unwrap_or(preset.dir.clone()),
            timeout: self.timeout_s.map_or(preset.timeout, Duration::from_secs),
            ..preset
        }
    }
}

/// Runs the scenario; prints the tables, writes the JSON and one `.hgrm` per row.
///
/// # Errors
/// A journal row failed (a missing nats-server only skips its row), or the outputs cannot be written.
pub fn run(tuning: &Tuning, args: &BenchJournalArgs) -> Result<Report> {
    let cfg = args.config(tuning);
    cfg.validate()?;
    println!(
        "journal: {} rounds; append {} ticks in batches of {} (fsync every {} ms, segments of {} MiB); \
         replay {} ticks in reads of up to {}; jetstream {} ticks, window {}; disk of {}",
        cfg.rounds,
        cfg.records,
        cfg.batch,
        cfg.fsync_interval_ms,
        cfg.journal.segment_bytes >> 20,
        cfg.replay_records,
        cfg.replay_batch,
        cfg.jetstream_records,
        cfg.jetstream_window,
        cfg.dir.display()
    );
    let mut run = run_journal(&cfg)?;
    let catch_up = (!args.no_clickhouse).then(|| catch_up(tuning, args, &cfg.dir));
    if let Some(Ok(rows)) = &catch_up {
        run.run.report.results.extend(rows.iter().cloned());
    }
    println!();
    print!("{}", run.table());
    match &catch_up {
        None => {}
        Some(Ok([live, behind])) => println!(
            "catch-up: the ClickHouse writer stores {:.0} rows/s from the journal after an outage, \
             {:.0} rows/s live ({:.2}x)",
            behind.throughput_per_s,
            live.throughput_per_s,
            behind.throughput_per_s / live.throughput_per_s.max(1.0)
        ),
        Some(Err(e)) => println!("catch-up: skipped ({e:#})"),
    }
    let (json, dir) = super::bench::outputs(args.json.as_ref(), args.out_dir.as_ref(), SCENARIO);
    for path in write_outputs(&run.run, &json, &dir)? {
        println!("wrote {}", path.display());
    }
    Ok(run.run.report)
}

/// `clickhouse-live` and `catch-up`: the writer keeping up with the ring, then started behind a journal
/// holding as many ticks (see `sinks/clickhouse/src/bench.rs`).
fn catch_up(
    tuning: &Tuning,
    args: &BenchJournalArgs,
    dir: &std::path::Path,
) -> Result<[BenchResult; 2]> {
    let n = args.catch_up_records.unwrap_or(if args.quick { 400_000 } else { 2_000_000 });
    let cfg = ClickhouseConfig {
        url: args.clickhouse_url.clone().unwrap_or_else(|| tuning.clickhouse.url.clone()),
        ..tuning.clickhouse.clone()
    };
    let scratch = ScratchDir::new(dir, &format!("tickring-bench-catch-up-{}", std::process::id()))?;
    let live = ch_bench::live(&cfg, n).context("the live writer (is ClickHouse up?)")?;
    let behind = ch_bench::catch_up(&cfg, scratch.path(), n).context("the catching-up writer")?;
    // Throughput only: the writer's latency is `bench clickhouse`'s subject, not this one's.
    let row = |name, r: &ch_bench::BenchResult| {
        BenchResult::throughput_only(name, r.throughput_per_s, n as u64)
    };
    Ok([row("clickhouse-live", &live), row("catch-up", &behind)])
}
