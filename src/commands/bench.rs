//! `tickring bench`: latency and throughput benchmarks against peer transports measured in the same run.

use crate::tuning::Tuning;
use anyhow::{bail, Context, Result};
use clap::Subcommand;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tickring_bench::e2e::{self, ClickhouseSource, E2eConfig};
use tickring_bench::{
    ring_peers, run_ring, write_outputs, ChildLauncher, Combined, Report, RingBenchConfig,
    BASELINE_PEER,
};

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    command: BenchCommand,
}

#[derive(Debug, Subcommand)]
enum BenchCommand {
    /// One-way hop latency (paced) and throughput (flat out) of 64-byte messages between two pinned
    /// cores, for every ring peer, with p99 ratios against the in-process disruptor.
    Ring(Box<RingArgs>),
    /// Feed messages decoded, mapped, classified and published into the ring on one core, per second;
    /// rows `lseg-json`, `jsonl` and `session-lookup`.
    Ingest(IngestArgs),
    /// Rows/s into the real ClickHouse server with candles on, and tick -> visible latency.
    Clickhouse(super::bench_clickhouse::BenchClickhouseArgs),
    /// The websocket pusher: many clients, tick -> client latency percentiles, messages/s out.
    Websocket(super::bench_websocket::BenchWebsocketArgs),
    /// The durable journal: ticks/s appended (alone, by the publisher, by a ring consumer), replayed cold
    /// through a TickStream, against a file-backed NATS JetStream stream in the same run.
    Journal(Box<super::bench_journal::BenchJournalArgs>),
    /// The whole path at a set input rate: feed -> ring -> ClickHouse writer and websocket pusher ->
    /// websocket clients, with a local ClickHouse server; latency per hop and end to end, `.hgrm` files
    /// and an SVG plot.
    E2e(E2eArgs),
    /// Every scenario (ring, ingest, journal, clickhouse, websocket, e2e) into one report.
    All(AllArgs),
    /// The measuring consumer of `bench e2e` (started by it, not by hand).
    #[command(name = "__e2e-probe", hide = true)]
    E2eProbe {
        /// The probe's JSON spec.
        spec: String,
    },
    /// The other process of a cross-process peer (started by `bench ring`, not by hand).
    #[command(name = "__child", hide = true)]
    Child {
        /// Peer name, e.g. `iceoryx2-ipc`.
        peer: String,
        /// The peer's JSON spec.
        spec: String,
    },
}

#[derive(Debug, clap::Args)]
struct RingArgs {
    /// Smaller counts: all peers together finish in well under a minute.
    #[arg(long)]
    quick: bool,
    /// Where to write the JSON report [default: <out-dir>/ring.json].
    #[arg(long, value_name = "PATH")]
    json: Option<PathBuf>,
    /// Directory for the `.hgrm` files (and the JSON when --json is not given) [default: the JSON's
    /// directory, or bench-results].
    #[arg(long, value_name = "DIR")]
    out_dir: Option<PathBuf>,
    /// Paced messages recorded per peer (latency samples) [default: 1000000, quick 100000].
    #[arg(long, value_name = "N")]
    messages: Option<u64>,
    /// Messages per peer in the flat-out throughput phase [default: 20000000, quick 2000000].
    #[arg(long, value_name = "N")]
    throughput_messages: Option<u64>,
    /// Paced warm-up messages, not recorded [default: 100000, quick 10000].
    #[arg(long, value_name = "N")]
    warmup: Option<u64>,
    /// Spin gap after each paced message, nanoseconds [default: 1000].
    #[arg(long, value_name = "NS")]
    gap_ns: Option<u64>,
    /// Messages per batch in the throughput phase [default: 64].
    #[arg(long, value_name = "N")]
    batch: Option<u64>,
    /// Ring / channel capacity in messages, a power of two [default: 4096].
    #[arg(long, value_name = "N")]
    capacity: Option<usize>,
    /// Core for the producer thread or process.
    #[arg(long, value_name = "N", default_value_t = 0)]
    producer_core: usize,
    /// Core for the consumer thread or process.
    #[arg(long, value_name = "N", default_value_t = 1)]
    consumer_core: usize,
    /// Give up on a peer's phase after this many seconds [default: 120, quick 20].
    #[arg(long, value_name = "S")]
    timeout_s: Option<u64>,
    /// Rounds; every peer runs once per round, interleaved [default: 7, quick 5].
    #[arg(long, value_name = "N")]
    rounds: Option<usize>,
    /// Row whose p99 the others are compared with.
    #[arg(long, value_name = "NAME", default_value = BASELINE_PEER)]
    baseline: String,
    /// Run only these peers (repeatable); all when absent.
    #[arg(long = "peer", value_name = "NAME")]
    peers: Vec<String>,
}

pub fn run(args: BenchArgs, tuning: &Path) -> Result<()> {
    match args.command {
        BenchCommand::Ring(args) => ring(*args).map(drop),
        BenchCommand::Ingest(args) => ingest(&args).map(drop),
        BenchCommand::Clickhouse(args) => {
            super::bench_clickhouse::run(&Tuning::load(tuning)?, args).map(drop)
        }
        BenchCommand::Websocket(args) => {
            super::bench_websocket::run(&Tuning::load(tuning)?, args).map(drop)
        }
        BenchCommand::Journal(args) => {
            super::bench_journal::run(&Tuning::load(tuning)?, &args).map(drop)
        }
        BenchCommand::E2e(args) if args.find_max => super::bench_find_max::run(&args, tuning),
        BenchCommand::E2e(args) => e2e_bench(&args, tuning, None).map(drop),
        BenchCommand::All(args) => all(&args, tuning),
        BenchCommand::E2eProbe { spec } => e2e::probe::run_probe(&spec),
        BenchCommand::Child { peer, spec } => tickring_bench::run_child(&peer, &spec),
    }
}

impl RingArgs {
    fn preset(quick: bool, out_dir: &Path) -> Self {
        Self {
            quick,
            json: Some(out_dir.join("ring.json")),
            out_dir: Some(out_dir.to_owned()),
            messages: None,
            throughput_messages: None,
            warmup: None,
            gap_ns: None,
            batch: None,
            capacity: None,
            producer_core: 0,
            consumer_core: 1,
            timeout_s: None,
            rounds: None,
            baseline: BASELINE_PEER.to_owned(),
            peers: Vec::new(),
        }
    }
}

fn ring(args: RingArgs) -> Result<Report> {
    let preset = if args.quick { RingBenchConfig::quick() } else { RingBenchConfig::full() };
    let program =
        std::env::current_exe().context("finding this executable to start child processes")?;
    let cfg = RingBenchConfig {
        producer_core: args.producer_core,
        consumer_core: args.consumer_core,
        warmup_messages: args.warmup.unwrap_or(preset.warmup_messages),
        latency_messages: args.messages.unwrap_or(preset.latency_messages),
        gap_ns: args.gap_ns.unwrap_or(preset.gap_ns),
        throughput_messages: args.throughput_messages.unwrap_or(preset.throughput_messages),
        batch: args.batch.unwrap_or(preset.batch),
        capacity: args.capacity.unwrap_or(preset.capacity),
        timeout: args.timeout_s.map_or(preset.timeout, Duration::from_secs),
        child: Some(ChildLauncher { program, args: vec!["bench".into(), "__child".into()] }),
        rounds: args.rounds.unwrap_or(preset.rounds),
    };
    cfg.validate()?;

    let mut peers = ring_peers();
    if !args.peers.is_empty() {
        for wanted in &args.peers {
            if !peers.iter().any(|p| p.name() == wanted) {
                let known: Vec<_> = peers.iter().map(|p| p.name()).collect();
                bail!("no peer named `{wanted}`; peers: {}", known.join(", "));
            }
        }
        peers.retain(|p| args.peers.iter().any(|w| w == p.name()));
    }

    let (json, hgrm_dir) = match (args.json, args.out_dir) {
        (Some(json), Some(dir)) => (json, dir),
        (Some(json), None) => {
            let dir = json.parent().map(PathBuf::from).unwrap_or_default();
            (json, dir)
        }
        (None, dir) => {
            let dir = dir.unwrap_or_else(|| PathBuf::from("bench-results"));
            (dir.join("ring.json"), dir)
        }
    };

    let clock_ns = tickring_bench::clock::read_cost_ns(10_000);
    println!(
        "ring: 64-byte messages, producer core {} -> consumer core {}; latency: {} paced messages {} ns apart \
         after {} warm-up; throughput: {} messages in batches of {}; capacity {}; one clock read ~{} ns",
        cfg.producer_core,
        cfg.consumer_core,
        cfg.latency_messages,
        cfg.gap_ns,
        cfg.warmup_messages,
        cfg.throughput_messages,
        cfg.batch,
        cfg.capacity,
        clock_ns
    );
    let run = run_ring(&cfg, &peers, &args.baseline)?;
    println!();
    print!("{}", run.report.table(&args.baseline));
    let written = write_outputs(&run, &json, &hgrm_dir)?;
    for path in &written {
        println!("wrote {}", path.display());
    }
    if !run.failures.is_empty() {
        for (name, err) in &run.failures {
            eprintln!("peer {name} failed: {err:#}");
        }
        bail!("{} of {} peers failed", run.failures.len(), peers.len());
    }
    Ok(run.report)
}

#[derive(Debug, clap::Args)]
struct IngestArgs {
    /// 200 k messages per row instead of 2 M.
    #[arg(long)]
    quick: bool,
    /// Where to write the JSON report [default: bench-results/ingest.json].
    #[arg(long, value_name = "PATH")]
    json: Option<PathBuf>,
    /// Core the measuring thread is pinned to.
    #[arg(long, value_name = "N", default_value_t = 0)]
    core: usize,
}

fn ingest(args: &IngestArgs) -> Result<Report> {
    let preset = if args.quick {
        tickring_bench::ingest::IngestBenchConfig::quick()
    } else {
        tickring_bench::ingest::IngestBenchConfig::full()
    };
    let cfg = tickring_bench::ingest::IngestBenchConfig { core: args.core, ..preset };
    let run = tickring_bench::ingest::run_ingest(&cfg)?;
    println!("{}", run.report.table("lseg-json"));
    let json = args.json.clone().unwrap_or_else(|| PathBuf::from("bench-results/ingest.json"));
    let dir =
        json.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
    for path in write_outputs(&run, &json, dir)? {
        println!("wrote {}", path.display());
    }
    Ok(run.report)
}

#[derive(Debug, Clone, clap::Args)]
pub(super) struct E2eArgs {
    /// 5 s measured after 1 s of warm-up instead of 30 s after 2 s.
    #[arg(long)]
    pub(super) quick: bool,
    /// Where to write the JSON report [default: <out-dir>/e2e.json].
    #[arg(long, value_name = "PATH")]
    pub(super) json: Option<PathBuf>,
    /// Directory for the `.hgrm` files and the SVG plot [default: the JSON's directory, or
    /// bench-results].
    #[arg(long, value_name = "DIR")]
    pub(super) out_dir: Option<PathBuf>,
    /// Input rate, ticks per second.
    #[arg(long, value_name = "N", default_value_t = 100_000)]
    pub(super) rate: u64,
    /// Ticks measured [default: 30 s at the rate, quick 5 s].
    #[arg(long, value_name = "N")]
    pub(super) ticks: Option<u64>,
    /// Ticks of warm-up, not measured [default: 2 s at the rate, quick 1 s].
    #[arg(long, value_name = "N")]
    pub(super) warmup_ticks: Option<u64>,
    /// Websocket clients.
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub(super) clients: usize,
    /// Symbols the ticks go round robin over.
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub(super) symbols: usize,
    /// Trade channels each client subscribes to (client i: symbols i*N .. i*N+N-1, wrapping).
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub(super) per_client: usize,
    /// Use this running ClickHouse server (http://HOST:PORT) instead of starting one; the run's
    /// database `tickring_e2e` is dropped and recreated there.
    #[arg(long, value_name = "URL")]
    pub(super) clickhouse_url: Option<String>,
    /// Limit on start-up and on draining at the end, seconds.
    #[arg(long, value_name = "S", default_value_t = 60)]
    pub(super) timeout_s: u64,
    /// Search for the highest input rate at which all three e2e targets hold, starting at --rate
    /// (doubling or halving to a bracket, then bisecting); one run per probe.
    #[arg(long)]
    pub(super) find_max: bool,
    /// Runs of the search after the bracket is found.
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub(super) find_max_steps: u32,
}

impl E2eArgs {
    fn preset(quick: bool, out_dir: &Path) -> Self {
        Self {
            quick,
            json: Some(out_dir.join("e2e.json")),
            out_dir: Some(out_dir.to_owned()),
            rate: 100_000,
            ticks: None,
            warmup_ticks: None,
            clients: 100,
            symbols: 1000,
            per_client: 10,
            clickhouse_url: None,
            timeout_s: 60,
            find_max: false,
            find_max_steps: 4,
        }
    }
}

/// The output paths of a scenario: (JSON, folder of the other files).
pub(super) fn outputs(
    json: Option<&PathBuf>,
    out_dir: Option<&PathBuf>,
    stem: &str,
) -> (PathBuf, PathBuf) {
    match (json, out_dir) {
        (Some(json), Some(dir)) => (json.clone(), dir.clone()),
        (Some(json), None) => {
            let dir = json.parent().map(PathBuf::from).unwrap_or_default();
            (json.clone(), dir)
        }
        (None, dir) => {
            let dir = dir.cloned().unwrap_or_else(|| PathBuf::from("bench-results"));
            (dir.join(format!("{stem}.json")), dir)
        }
    }
}

pub(super) fn e2e_bench(
    args: &E2eArgs,
    tuning_path: &Path,
    clickhouse_url: Option<&str>,
) -> Result<Report> {
    e2e_run(args, tuning_path, clickhouse_url).map(|run| run.run.report)
}

/// One e2e run: prints its table, writes its files, returns it whole (targets included).
pub(super) fn e2e_run(
    args: &E2eArgs,
    tuning_path: &Path,
    clickhouse_url: Option<&str>,
) -> Result<e2e::E2eRun> {
    let tuning = Tuning::load(tuning_path)?;
    let (ticks, warmup) = E2eConfig::counts(args.rate, args.quick);
    let clickhouse = match clickhouse_url.or(args.clickhouse_url.as_deref()) {
        Some(url) => ClickhouseSource::Existing { url: url.to_owned() },
        None => ClickhouseSource::Start { script: tuning.up.clickhouse_script.clone() },
    };
    let cfg = E2eConfig {
        rate: args.rate,
        ticks: args.ticks.unwrap_or(ticks),
        warmup_ticks: args.warmup_ticks.unwrap_or(warmup),
        clients: args.clients,
        symbols: args.symbols,
        per_client: args.per_client,
        publish_batch: tuning.ingest.publish_batch,
        producer_core: tuning.ingest.publisher_core,
        ring: tuning.ring.clone(),
        tuning: tuning_path.to_owned(),
        flush_interval_ms: tuning.clickhouse.flush_interval_ms,
        clickhouse,
        program: std::env::current_exe().context("finding this executable to start the sinks")?,
        timeout: Duration::from_secs(args.timeout_s.max(1)),
    };
    cfg.validate()?;
    let (json, dir) = outputs(args.json.as_ref(), args.out_dir.as_ref(), e2e::SCENARIO);
    println!(
        "e2e: {} ticks/s in, {} measured after {} warm-up; {} websocket clients x {} channels over {} symbols; \
         ClickHouse flush interval {} ms",
        cfg.rate, cfg.ticks, cfg.warmup_ticks, cfg.clients, cfg.per_client, cfg.symbols, cfg.flush_interval_ms
    );
    let run = e2e::run_e2e(&cfg)?;
    println!();
    print!("{}", run.table());
    for path in run.write_outputs(&json, &dir)? {
        println!("wrote {}", path.display());
    }
    Ok(run)
}

#[derive(Debug, clap::Args)]
struct AllArgs {
    /// The quick variant of every scenario.
    #[arg(long)]
    quick: bool,
    /// Folder of every scenario's files and of the combined `all.json`.
    #[arg(long, value_name = "DIR", default_value = "bench-results")]
    out_dir: PathBuf,
}

fn all(args: &AllArgs, tuning_path: &Path) -> Result<()> {
    let tuning = Tuning::load(tuning_path)?;
    let dir = &args.out_dir;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut combined = Combined::default();
    let mut failures: Vec<(&str, anyhow::Error)> = Vec::new();
    let mut add = |name: &'static str, result: Result<serde_json::Value>| match result {
        Ok(report) => {
            if let Err(e) = combined.push(&report) {
                failures.push((name, e));
            }
        }
        Err(e) => {
            eprintln!("bench {name} failed: {e:#}");
            failures.push((name, e));
        }
    };
    let json = |r: Result<Report>| r.and_then(|r| Ok(serde_json::to_value(r)?));
    println!("== ring");
    add("ring", json(ring(RingArgs::preset(args.quick, dir))));
    println!("\n== ingest");
    let ingest_args =
        IngestArgs { quick: args.quick, json: Some(dir.join("ingest.json")), core: 0 };
    add("ingest", json(ingest(&ingest_args)));
    // One ClickHouse server of this run, on free ports, for the journal's catch-up, clickhouse and e2e.
    let server = start_local_clickhouse(&tuning, dir);
    let url = match &server {
        Ok((_, url)) => Ok(url.clone()),
        Err(e) => Err(format!("{e:#}")),
    };
    println!("\n== journal");
    let journal_args = super::bench_journal::BenchJournalArgs {
        clickhouse_url: url.as_ref().ok().cloned(),
        no_clickhouse: url.is_err(),
        ..super::bench_journal::BenchJournalArgs::preset(args.quick, dir)
    };
    add("journal", json(super::bench_journal::run(&tuning, &journal_args)));
    println!("\n== clickhouse");
    add(
        "clickhouse",
        match &url {
            Ok(url) => {
                let cfg = tickring_sink_clickhouse::ClickhouseConfig {
                    url: url.clone(),
                    ..tuning.clickhouse.clone()
                };
                let args = super::bench_clickhouse::BenchClickhouseArgs {
                    quick: args.quick,
                    json: Some(dir.join("clickhouse.json")),
                };
                super::bench_clickhouse::run_with(&cfg, args)
                    .and_then(|r| Ok(serde_json::to_value(r)?))
            }
            Err(e) => Err(anyhow::anyhow!("no ClickHouse server: {e}")),
        },
    );
    println!("\n== websocket");
    let ws_args = super::bench_websocket::BenchWebsocketArgs::preset(
        args.quick,
        Some(dir.join("websocket.json")),
    );
    add(
        "websocket",
        super::bench_websocket::run(&tuning, ws_args).and_then(|r| Ok(serde_json::to_value(r)?)),
    );
    println!("\n== e2e");
    add(
        "e2e",
        match &url {
            Ok(url) => json(e2e_bench(&E2eArgs::preset(args.quick, dir), tuning_path, Some(url))),
            Err(e) => Err(anyhow::anyhow!("no ClickHouse server: {e}")),
        },
    );
    drop(server);

    let path = dir.join("all.json");
    std::fs::write(&path, combined.to_json_pretty() + "\n")
        .with_context(|| format!("writing {}", path.display()))?;
    println!("\n== all scenarios\n{}", combined.summary_table());
    println!("wrote {}", path.display());
    if !failures.is_empty() {
        let names: Vec<&str> = failures.iter().map(|(n, _)| *n).collect();
        bail!("{} scenario(s) failed: {}", failures.len(), names.join(", "));
    }
    Ok(())
}

/// A server for `bench all`, stopped when the first element is dropped; with its URL.
pub(super) fn start_local_clickhouse(
    tuning: &Tuning,
    dir: &Path,
) -> Result<(e2e::clickhouse::LocalServer, String)> {
    let (http, tcp) = e2e::clickhouse::free_ports()?;
    let home = std::fs::canonicalize(dir)
        .unwrap_or_else(|_| dir.to_owned())
        .join(format!("clickhouse-{}", std::process::id()));
    let server =
        e2e::clickhouse::LocalServer::start(&tuning.up.clickhouse_script, http, tcp, &home)?;
    Ok((server, format!("http://127.0.0.1:{http}")))
}
