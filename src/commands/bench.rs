//! `tickring bench`: latency and throughput benchmarks against peer transports measured in the same run.

use anyhow::{bail, Context, Result};
use clap::Subcommand;
use std::path::PathBuf;
use std::time::Duration;
use tickring_bench::{
    ring_peers, run_ring, write_outputs, ChildLauncher, RingBenchConfig, BASELINE_PEER,
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
    /// Row whose p99 the others are compared with.
    #[arg(long, value_name = "NAME", default_value = BASELINE_PEER)]
    baseline: String,
    /// Run only these peers (repeatable); all when absent.
    #[arg(long = "peer", value_name = "NAME")]
    peers: Vec<String>,
}

pub fn run(args: BenchArgs, tuning: &std::path::Path) -> Result<()> {
    match args.command {
        BenchCommand::Ring(args) => ring(*args),
        BenchCommand::Ingest(args) => ingest(&args),
        BenchCommand::Clickhouse(args) => {
            super::bench_clickhouse::run(&crate::tuning::Tuning::load(tuning)?, args)
        }
        BenchCommand::Websocket(args) => {
            super::bench_websocket::run(&crate::tuning::Tuning::load(tuning)?, args)
        }
        BenchCommand::Child { peer, spec } => tickring_bench::run_child(&peer, &spec),
    }
}

fn ring(args: RingArgs) -> Result<()> {
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
    Ok(())
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

fn ingest(args: &IngestArgs) -> Result<()> {
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
    Ok(())
}
