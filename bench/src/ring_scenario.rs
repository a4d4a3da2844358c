//! The `ring` scenario: every peer moves 64-byte messages from a producer on one core to a consumer on
//! another; the report has one row per peer, ratios against the in-process disruptor.

use crate::peers::{self, Peer};
use crate::report::{merge_rounds, ratio, Measurement, Report, RoundRatios, Rounds};
use anyhow::{bail, Context, Result};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;
use tickring_ipc::liveness::own_and_children_cpu_time_ns;

/// Scenario name in reports and file names.
pub const SCENARIO: &str = "ring";
/// The row the p99 ratios are taken against.
pub const BASELINE_PEER: &str = peers::disruptor::NAME;

/// How to start this program again as a peer's child process: `program args.. <peer> <spec>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildLauncher {
    /// The executable, usually `std::env::current_exe()`.
    pub program: PathBuf,
    /// Arguments before the peer name, e.g. `["bench", "__child"]`.
    pub args: Vec<OsString>,
}

impl ChildLauncher {
    /// The command that enters `peer`'s [`Peer::run_child`] with `spec`. Standard input is closed,
    /// standard output and error are inherited.
    pub fn command(&self, peer: &str, spec: &str) -> Command {
        let mut cmd = Command::new(&self.program);
        cmd.args(&self.args).arg(peer).arg(spec).stdin(Stdio::null());
        cmd
    }
}

/// Knobs of the ring scenario, shared by every peer.
#[derive(Debug, Clone)]
pub struct RingBenchConfig {
    /// Core of the producer thread (or process).
    pub producer_core: usize,
    /// Core of the consumer thread (or process).
    pub consumer_core: usize,
    /// Paced messages sent before recording starts (caches, page faults, branch predictors).
    pub warmup_messages: u64,
    /// Paced messages recorded: the latency sample count.
    pub latency_messages: u64,
    /// Spin gap after each paced message, ns; longer than a hop so each hop starts on an idle transport.
    pub gap_ns: u64,
    /// Messages in the flat-out phase.
    pub throughput_messages: u64,
    /// Messages per batch in the flat-out phase (one clock stamp and, where the transport has it, one
    /// batch publish per batch).
    pub batch: u64,
    /// Ring / channel / queue capacity in messages (a power of two).
    pub capacity: usize,
    /// Limit on each phase of each peer; a peer past it fails instead of hanging the run.
    pub timeout: Duration,
    /// How cross-process peers start their other process; `None` makes them fail with a clear error.
    pub child: Option<ChildLauncher>,
    /// Every peer runs once per round, interleaved (A B C A B C ..), so a noisy neighbour hits all
    /// peers alike; rows are merged over the rounds and the p99 ratio is taken per round.
    pub rounds: usize,
}

impl RingBenchConfig {
    /// The full run: 1 M paced samples per peer, 20 M messages flat out.
    pub fn full() -> Self {
        Self {
            producer_core: 0,
            consumer_core: 1,
            warmup_messages: 100_000,
            latency_messages: 1_000_000,
            gap_ns: 1_000,
            throughput_messages: 20_000_000,
            batch: 64,
            capacity: 4096,
            timeout: Duration::from_secs(120),
            child: None,
            rounds: 7,
        }
    }

    /// A run that finishes in seconds: 100 k paced samples, 2 M messages flat out.
    pub fn quick() -> Self {
        Self {
            warmup_messages: 10_000,
            latency_messages: 100_000,
            throughput_messages: 2_000_000,
            timeout: Duration::from_secs(20),
            rounds: 5,
            ..Self::full()
        }
    }

    /// Checks the knobs once, before anything runs.
    ///
    /// # Errors
    /// Equal cores (both sides busy-spin, so sharing a core measures the scheduler), zero counts, or a
    /// capacity that is not a power of two.
    pub fn validate(&self) -> Result<()> {
        if self.producer_core == self.consumer_core {
            bail!(
                "producer and consumer cores are both {}: both sides busy-spin, give them two cores",
                self.producer_core
            );
        }
        if self.rounds == 0 {
            bail!("rounds must be at least 1");
        }
        if self.latency_messages == 0 || self.throughput_messages == 0 {
            bail!("message counts must be at least 1");
        }
        if self.batch == 0 {
            bail!("batch must be at least 1");
        }
        if !self.capacity.is_power_of_two() || self.capacity < 2 {
            bail!("capacity must be a power of two of at least 2, not {}", self.capacity);
        }
        if u64::try_from(self.capacity).map_or(true, |c| self.batch > c) {
            bail!("batch ({}) must not exceed capacity ({})", self.batch, self.capacity);
        }
        Ok(())
    }
}

/// Every peer of the ring scenario, in table order.
///
/// tickring's own ring heads the table; ratios are against [`BASELINE_PEER`].
pub fn ring_peers() -> Vec<Box<dyn Peer>> {
    vec![
        Box::new(peers::shm::ShmPeer),
        Box::new(peers::disruptor::DisruptorPeer),
        Box::new(peers::crossbeam::CrossbeamPeer),
        Box::new(peers::iceoryx2::Iceoryx2Peer),
    ]
}

/// What one run of the scenario produced.
#[derive(Debug)]
pub struct RingRun {
    /// Rows of the peers that succeeded, in peer order.
    pub report: Report,
    /// The histograms behind the rows (same order), for `.hgrm` files.
    pub measurements: Vec<Measurement>,
    /// Peers that failed, with why. Their rows are missing from the report.
    pub failures: Vec<(String, anyhow::Error)>,
}

/// Runs every peer once per round, interleaved, `cfg.rounds` rounds. A peer that fails is recorded and
/// left out of later rounds; the others still run.
///
/// # Errors
/// An invalid configuration.
pub fn run_ring(cfg: &RingBenchConfig, peers: &[Box<dyn Peer>], baseline: &str) -> Result<RingRun> {
    cfg.validate()?;
    let mut rounds: Vec<Vec<Option<Measurement>>> = vec![Vec::new(); peers.len()];
    // CPU ns per message of each peer's rounds: this process and the children it waited for.
    let mut cpu: Vec<Vec<f64>> = vec![Vec::new(); peers.len()];
    let messages = cfg.warmup_messages + cfg.latency_messages + cfg.throughput_messages;
    let mut failures: Vec<(String, anyhow::Error)> = Vec::new();
    for round in 0..cfg.rounds {
        for ((peer, done), cpu) in peers.iter().zip(&mut rounds).zip(&mut cpu) {
            if failures.iter().any(|(name, _)| name == peer.name()) {
                continue;
            }
            tracing::info!(peer = peer.name(), round, "measuring");
            let cpu_before = own_and_children_cpu_time_ns();
            match peer.measure(cfg) {
                Ok(mut m) => {
                    m.name = peer.name().to_owned();
                    let spent = own_and_children_cpu_time_ns().saturating_sub(cpu_before);
                    cpu.push(spent as f64 / messages.max(1) as f64);
                    done.push(Some(m));
                }
                Err(e) => {
                    tracing::error!(peer = peer.name(), round, "failed: {e:#}");
                    failures.push((peer.name().to_owned(), e));
                    done.push(None);
                }
            }
        }
    }
    let base_rounds = peers.iter().position(|p| p.name() == baseline).map(|i| &rounds[i]);
    let mut rows = Vec::new();
    let mut measurements = Vec::new();
    for ((peer, done), cpu) in peers.iter().zip(&rounds).zip(cpu) {
        if failures.iter().any(|(name, _)| name == peer.name()) {
            continue;
        }
        let ok: Vec<Measurement> = done.iter().flatten().cloned().collect();
        let Some((mut row, merged)) = merge_rounds(&ok) else { continue };
        row.p99_ratio_rounds = base_rounds.and_then(|base| round_ratios(done, base));
        row.cpu_ns_per_tick = Rounds::of(cpu).map(|r| r.median_per_s);
        rows.push(row);
        measurements.push(merged);
    }
    Ok(RingRun { report: Report::new(SCENARIO, rows, baseline), measurements, failures })
}

/// p99 over the baseline's p99, round by round (rounds where both measured).
fn round_ratios(peer: &[Option<Measurement>], base: &[Option<Measurement>]) -> Option<RoundRatios> {
    let per_round = peer
        .iter()
        .zip(base)
        .filter_map(|(p, b)| {
            let (p, b) = (p.as_ref()?, b.as_ref()?);
            ratio(p.latency.percentile(99.0), b.latency.percentile(99.0))
        })
        .collect();
    RoundRatios::of(per_round)
}

/// Enters the child side of the peer named `peer` (the hidden `tickring bench __child` command).
///
/// # Errors
/// No such peer, or the peer's child run failed.
pub fn run_child(peer: &str, spec: &str) -> Result<()> {
    let peers = ring_peers();
    let p = peers
        .iter()
        .find(|p| p.name() == peer)
        .with_context(|| format!("no bench peer named `{peer}`"))?;
    p.run_child(spec)
}

/// Writes the JSON report to `json` and one `.hgrm` per row into `hgrm_dir`, named
/// `<json file stem>.<row name>.hgrm`. Returns the paths written.
///
/// # Errors
/// Any I/O error, with the path.
pub fn write_outputs(run: &RingRun, json: &Path, hgrm_dir: &Path) -> Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    if let Some(parent) = json.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    std::fs::create_dir_all(hgrm_dir)
        .with_context(|| format!("creating {}", hgrm_dir.display()))?;
    std::fs::write(json, run.report.to_json() + "\n")
        .with_context(|| format!("writing {}", json.display()))?;
    written.push(json.to_owned());
    let stem = json.file_stem().and_then(|s| s.to_str()).unwrap_or(SCENARIO);
    for m in &run.measurements {
        let path = hgrm_dir.join(format!("{stem}.{}.hgrm", file_name_part(&m.name)));
        std::fs::write(&path, m.latency.to_hgrm_string(1.0))
            .with_context(|| format!("writing {}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

/// A row name as a file-name part: `->` becomes `-to-`, anything but ASCII letters, digits, `.`, `_` and
/// `-` becomes `_` (e.g. `tick->websocket-client` -> `tick-to-websocket-client`).
pub fn file_name_part(name: &str) -> String {
    name.replace("->", "-to-")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') { c } else { '_' })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::histogram::LatencyHistogram;
    use crate::report::Throughput;

    #[test]
    fn row_names_become_plain_file_names() {
        assert_eq!(file_name_part("tick->websocket-client"), "tick-to-websocket-client");
        assert_eq!(file_name_part("tickring-shm"), "tickring-shm");
        assert_eq!(file_name_part("in=10/s x"), "in_10_s_x");
    }

    #[test]
    fn presets_are_valid_and_bad_knobs_are_refused() {
        RingBenchConfig::full().validate().expect("full");
        RingBenchConfig::quick().validate().expect("quick");
        let same = RingBenchConfig { consumer_core: 0, ..RingBenchConfig::quick() };
        assert!(same.validate().is_err());
        let odd = RingBenchConfig { capacity: 1000, ..RingBenchConfig::quick() };
        assert!(odd.validate().is_err());
    }

    #[test]
    fn peer_names_are_unique_and_contain_the_baseline() {
        let peers = ring_peers();
        let mut names: Vec<_> = peers.iter().map(|p| p.name()).collect();
        assert!(names.contains(&BASELINE_PEER));
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), peers.len());
        assert!(run_child("no-such-peer", "{}").is_err());
        assert!(run_child(BASELINE_PEER, "{}").is_err(), "in-process peers have no child");
    }

    #[test]
    fn outputs_land_next_to_each_other() {
        let dir = std::env::temp_dir().join(format!("tickring-bench-test-{}", std::process::id()));
        let mut latency = LatencyHistogram::new();
        latency.record(42);
        let m = Measurement {
            name: "x".into(),
            latency,
            throughput: Throughput { messages: 1, elapsed_ns: 1 },
        };
        let run = RingRun {
            report: Report::new(
                SCENARIO,
                vec![crate::report::BenchResult::from_measurement(&m)],
                "x",
            ),
            measurements: vec![m],
            failures: Vec::new(),
        };
        let json = dir.join("ring.json");
        let written = write_outputs(&run, &json, &dir).expect("writes");
        assert_eq!(written, [json.clone(), dir.join("ring.x.hgrm")]);
        let text = std::fs::read_to_string(&json).expect("json");
        assert!(
            text.starts_with(r#"{"scenario":"ring","results":[{"name":"x","p50_ns":42,"#),
            "{text}"
        );
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }
}
