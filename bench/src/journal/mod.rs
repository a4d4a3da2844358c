//! The `journal` scenario: how fast the durable journal takes and gives back ticks, where the publisher
//! should write it, and the peer JetStream measured in the same run.
//!
//! Rows run in interleaved rounds (every row once per round, A B C .. A B C ..): a row's throughput is the
//! median of its rounds, with their spread beside it; its percentiles come from the histogram of all its
//! rounds together. Between rows the disk is synced, so no row pays for another's writeback. Rows:
//! `journal-append`, `journal-append-in-publisher`, `journal-append-from-ring` (see `append.rs`),
//! `journal-replay`, `journal-replay-reader` (see `replay.rs`) and `jetstream-publish` (see
//! `jetstream.rs`; skipped, with the reason, when no `nats-server` can be started).

pub mod append;
pub mod data;
pub mod jetstream;
pub mod replay;

use crate::report::{merge_rounds, BenchResult, Measurement, Report, Rounds};
use crate::ring_scenario::RingRun;
use anyhow::{ensure, Context, Result};
use data::{journal_config, settle, Cold, ScratchDir, TickPool};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;
use tickring_ipc::RingConfig;
use tickring_journal::{FsyncPolicy, JournalConfig};

/// Scenario name in reports and file names.
pub const SCENARIO: &str = "journal";
/// The peer every row's throughput is compared with.
pub const BASELINE: &str = jetstream::NAME;

/// Knobs of the journal scenario.
#[derive(Debug, Clone)]
pub struct JournalBenchConfig {
    /// Ticks per round of each appending row.
    pub records: u64,
    /// Ticks per round of `jetstream-publish` (slower: fewer, so a round takes seconds).
    pub jetstream_records: u64,
    /// Ticks in the journal the replay rows read.
    pub replay_records: u64,
    /// Ticks per append / publish batch (the publisher's `ingest.publish_batch`).
    pub batch: usize,
    /// Most ticks a replay read returns (the sinks' `ring.max_batch`).
    pub replay_batch: usize,
    pub rounds: usize,
    /// The appending rows' fsync interval.
    pub fsync_interval_ms: u64,
    /// Most JetStream messages published and not yet acknowledged.
    pub jetstream_window: usize,
    /// `None`: no JetStream row.
    pub nats_server: Option<PathBuf>,
    pub producer_core: usize,
    pub consumer_core: usize,
    /// Folder on the disk to measure; the run's journals and JetStream store go in a subfolder of it,
    /// removed afterwards.
    pub dir: PathBuf,
    /// The product's `[journal]` (segment size); dir, fsync and retention are the bench's.
    pub journal: JournalConfig,
    /// The product's `[ring]` (capacity, wait strategies); the name is the bench's.
    pub ring: RingConfig,
    /// Limit on each round of each row.
    pub timeout: Duration,
}

impl JournalBenchConfig {
    /// Seven rounds of 10 M ticks per appending row, 1 M to JetStream, a 10 M-tick replay.
    pub fn full(journal: JournalConfig, ring: RingConfig) -> Self {
        Self {
            records: 10_000_000,
            jetstream_records: 1_000_000,
            replay_records: 10_000_000,
            batch: 64,
            replay_batch: 1024,
            rounds: 7,
            fsync_interval_ms: 200,
            jetstream_window: 4096,
            nats_server: Some(PathBuf::from("nats-server")),
            producer_core: 0,
            consumer_core: 1,
            dir: std::env::temp_dir(),
            journal,
            ring,
            timeout: Duration::from_secs(120),
        }
    }

    /// Five rounds of 2 M ticks per appending row, 200 k to JetStream, a 2 M-tick replay.
    pub fn quick(journal: JournalConfig, ring: RingConfig) -> Self {
        Self {
            records: 2_000_000,
            jetstream_records: 200_000,
            replay_records: 2_000_000,
            rounds: 5,
            timeout: Duration::from_secs(60),
            ..Self::full(journal, ring)
        }
    }

    /// # Errors
    /// A count of zero, or a fsync interval the journal refuses.
    pub fn validate(&self) -> Result<()> {
        ensure!(self.records > 0 && self.replay_records > 0, "record counts must be positive");
        ensure!(self.batch > 0 && self.replay_batch > 0, "batch sizes must be positive");
        ensure!(self.rounds > 0, "at least one round");
        ensure!(self.jetstream_window >= self.batch, "the JetStream window must hold one batch");
        let cfg = journal_config(&self.journal, &self.dir, self.fsync());
        cfg.validate().context("the bench's journal settings")?;
        Ok(())
    }

    fn fsync(&self) -> FsyncPolicy {
        FsyncPolicy::IntervalMs(self.fsync_interval_ms)
    }
}

/// A finished run: the report (and histograms) plus what the table needs to say about it.
#[derive(Debug)]
pub struct JournalRun {
    pub run: RingRun,
    /// How the replay rounds made their reads cold (the weakest way any round managed).
    pub cold: Cold,
    /// Why `jetstream-publish` is missing, when it is.
    pub jetstream_skipped: Option<String>,
    /// The nats-server version measured.
    pub jetstream_version: Option<String>,
}

/// Every round of one row.
#[derive(Debug, Default)]
struct Row {
    rounds: Vec<Measurement>,
    /// CPU ns per tick of each round (this process, plus nats-server for the peer).
    cpu: Vec<f64>,
}

impl Row {
    fn result(&self) -> Option<(BenchResult, Measurement)> {
        let (mut r, m) = merge_rounds(&self.rounds)?;
        r.cpu_ns_per_tick = Rounds::of(self.cpu.clone()).map(|c| c.median_per_s);
        Some((r, m))
    }

    /// Adds a round measured from `cpu_before` (see [`cpu_now`]).
    fn push(&mut self, m: Measurement, cpu_before: u64, cpu_after: u64) {
        let ticks = m.throughput.messages.max(1);
        self.cpu.push(cpu_after.saturating_sub(cpu_before) as f64 / ticks as f64);
        self.rounds.push(m);
    }
}

/// CPU time of this process and, when given, of the nats-server it started, ns.
fn cpu_now(server: Option<&jetstream::NatsServer>) -> u64 {
    let server = server.and_then(|s| tickring_ipc::liveness::cpu_time_ns(s.pid())).unwrap_or(0);
    tickring_ipc::liveness::own_and_children_cpu_time_ns() + server
}

/// Runs every row, `cfg.rounds` times, interleaved.
///
/// # Errors
/// Any journal row failing (a missing nats-server only skips its row).
pub fn run_journal(cfg: &JournalBenchConfig) -> Result<JournalRun> {
    cfg.validate()?;
    let root =
        ScratchDir::new(&cfg.dir, &format!("tickring-bench-journal-{}", std::process::id()))?;
    let pool = TickPool::new();
    let (server, mut skipped) = match &cfg.nats_server {
        None => (None, Some("not asked for (--no-jetstream)".to_owned())),
        Some(program) => match jetstream::NatsServer::start(program, root.path()) {
            Ok(s) => (Some(s), None),
            Err(e) => {
                let why = format!("{e:#}");
                println!("{}: skipped: {why}", jetstream::NAME);
                (None, Some(why))
            }
        },
    };
    let replay = replay::ReplayJournal::write(
        root.path(),
        &cfg.journal,
        &pool,
        cfg.replay_records,
        cfg.batch,
    )?;
    let names = [
        append::APPEND,
        append::IN_PUBLISHER,
        append::FROM_RING,
        replay::STREAM,
        replay::READER,
        jetstream::NAME,
    ];
    let mut rows: Vec<Row> = names.iter().map(|_| Row::default()).collect();
    let mut cold = Cold::DropCaches;
    for round in 0..cfg.rounds {
        for (i, appender) in
            [append::journal_append, append::in_publisher, append::from_ring].iter().enumerate()
        {
            let dir = ScratchDir::new(root.path(), "append")?;
            let journal = journal_config(&cfg.journal, dir.path(), cfg.fsync());
            let spec = append::AppendRound {
                journal: &journal,
                ring: &cfg.ring,
                pool: &pool,
                records: cfg.records,
                batch: cfg.batch,
                producer_core: cfg.producer_core,
                consumer_core: cfg.consumer_core,
                timeout: cfg.timeout,
            };
            settle();
            let before = cpu_now(None);
            let m = appender(&spec).with_context(|| format!("{} round {}", names[i], round + 1))?;
            rows[i].push(m, before, cpu_now(None));
        }
        for i in 0..2 {
            let before = cpu_now(None);
            let r = if i == 0 {
                replay::stream(&replay, cfg.replay_batch, cfg.producer_core, cfg.timeout)
            } else {
                replay::reader(&replay, cfg.replay_batch, cfg.producer_core)
            };
            let r = r.with_context(|| format!("{} round {}", names[3 + i], round + 1))?;
            cold = weakest(cold, r.cold);
            rows[3 + i].push(r.measurement, before, cpu_now(None));
        }
        if let Some(server) = &server {
            settle();
            let spec = jetstream::PublishRound {
                server,
                pool: &pool,
                records: cfg.jetstream_records,
                batch: cfg.batch,
                window: cfg.jetstream_window,
                timeout: cfg.timeout,
            };
            let before = cpu_now(Some(server));
            match jetstream::publish(&spec) {
                Ok(m) => rows[5].push(m, before, cpu_now(Some(server))),
                Err(e) => {
                    let why = format!("round {}: {e:#}", round + 1);
                    println!("{}: skipped: {why}", jetstream::NAME);
                    skipped = Some(why);
                    rows[5].rounds.clear();
                    rows[5].cpu.clear();
                    break;
                }
            }
        }
    }
    let version = server.as_ref().filter(|_| skipped.is_none()).map(|s| s.version.clone());
    drop(server);
    let (results, measurements): (Vec<_>, Vec<_>) = rows.iter().filter_map(Row::result).unzip();
    let mut report = Report::new(SCENARIO, results, BASELINE).with_throughput_ratios(BASELINE);
    // Only the per-batch rows have latencies comparable with JetStream's per-batch publish -> ack.
    for r in &mut report.results {
        if r.name != append::APPEND && r.name != BASELINE {
            r.p99_vs_baseline = None;
        }
    }
    Ok(JournalRun {
        run: RingRun { report, measurements, failures: Vec::new() },
        cold,
        jetstream_skipped: skipped,
        jetstream_version: version,
    })
}

fn weakest(a: Cold, b: Cold) -> Cold {
    let rank = |c| match c {
        Cold::DropCaches => 0,
        Cold::Fadvise => 1,
        Cold::Warm => 2,
    };
    if rank(b) > rank(a) {
        b
    } else {
        a
    }
}

impl JournalRun {
    /// The report's table, then each row's rounds (median, min, max, spread, times JetStream) and what its
    /// latency column measures.
    pub fn table(&self) -> String {
        let report = &self.run.report;
        let mut s = report.table(BASELINE);
        let width = report.results.iter().map(|r| r.name.len()).max().unwrap_or(4).max(4);
        let _ = writeln!(
            s,
            "\n{:<width$} {:>6} {:>12} {:>12} {:>12} {:>7} {:>10}  latency column",
            "name", "rounds", "median M/s", "min M/s", "max M/s", "spread", "x jetstream"
        );
        for r in &report.results {
            let Some(rounds) = &r.rounds else { continue };
            let ratio = r.throughput_vs_baseline.map_or("-".to_owned(), |x| format!("{x:.1}x"));
            let _ = writeln!(
                s,
                "{:<width$} {:>6} {:>12.2} {:>12.2} {:>12.2} {:>6.0}% {:>10}  {}",
                r.name,
                rounds.per_s.len(),
                rounds.median_per_s / 1e6,
                rounds.min_per_s / 1e6,
                rounds.max_per_s / 1e6,
                rounds.spread * 100.0,
                ratio,
                latency_meaning(&r.name)
            );
        }
        let _ = writeln!(s, "replay reads made cold by: {}", self.cold.as_str());
        match (&self.jetstream_skipped, &self.jetstream_version) {
            (Some(why), _) => {
                let _ = writeln!(s, "{BASELINE} skipped: {why}");
            }
            (None, Some(v)) => {
                let _ = writeln!(s, "{BASELINE}: {v}, file storage, one replica, async acks");
            }
            (None, None) => {}
        }
        let find = |name: &str| report.results.iter().find(|r| r.name == name);
        if let (Some(a), Some(b)) = (find(append::APPEND), find(BASELINE)) {
            if b.throughput_per_s > 0.0 {
                let _ = writeln!(
                    s,
                    "{} / {BASELINE} = {:.1}x (medians of rounds)",
                    append::APPEND,
                    a.throughput_per_s / b.throughput_per_s
                );
            }
        }
        s
    }
}

fn latency_meaning(name: &str) -> &'static str {
    match name {
        append::APPEND => "one append of a batch",
        append::IN_PUBLISHER | append::FROM_RING => "publisher's cost per tick",
        replay::STREAM => "one TickStream::next with ticks",
        replay::READER => "one JournalReader::read",
        jetstream::NAME => "a batch from first publish to last ack",
        _ => "",
    }
}
