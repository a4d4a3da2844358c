//! The measuring consumer: a process of its own that attaches to the ring as a non-gating consumer and
//! records, per tick past the warm-up, publish -> observed here (the ring hop, both stamps
//! `CLOCK_REALTIME`) and receive -> publish (the feed hop), then writes them to a file when the producer
//! closes the ring.

use crate::histogram::LatencyHistogram;
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tickring_engine::{InstrumentEntry, Tick};
use tickring_ipc::clock::realtime_ns;
use tickring_ipc::{Consumer, ConsumerOptions, ConsumerPolicy, Read, RingConfig, StartAt};

/// What the parent tells the probe (as JSON on its command line).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProbeSpec {
    pub ring: RingConfig,
    pub consumer: String,
    /// Ticks with a lower ring sequence are warm-up: read, not recorded.
    pub skip: u64,
    /// Where the result goes (JSON, [`ProbeResult`]).
    pub out: PathBuf,
}

/// What the probe measured.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ProbeResult {
    /// Ticks recorded (past the warm-up).
    pub seen: u64,
    /// Ticks the probe was lapped over (never seen).
    pub missed: u64,
    /// Observation times of the first and the last recorded tick, ns since the epoch.
    pub first_ns: u64,
    pub last_ns: u64,
    /// publish -> observed, as [`LatencyHistogram::to_pairs`].
    pub hop: Vec<(u64, u64)>,
    /// receive -> publish.
    pub feed: Vec<(u64, u64)>,
}

impl ProbeResult {
    /// Reads what a probe wrote.
    ///
    /// # Errors
    /// The file is missing or not a probe result.
    pub fn read(path: &Path) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
    }
}

/// The probe process's body: attach, record until the ring closes, write the result.
///
/// # Errors
/// A bad spec, the ring cannot be attached or read, the result cannot be written.
pub fn run_probe(spec: &str) -> Result<()> {
    let spec: ProbeSpec = serde_json::from_str(spec).context("the probe's spec")?;
    let opts = ConsumerOptions {
        name: spec.consumer.clone(),
        policy: ConsumerPolicy::NonGating,
        start: StartAt::Oldest,
    };
    let mut consumer = Consumer::<Tick, InstrumentEntry>::attach(&spec.ring, opts)
        .with_context(|| format!("attaching to ring {}", spec.ring.name))?;
    let (mut hop, mut feed) = (LatencyHistogram::new(), LatencyHistogram::new());
    let mut result = ProbeResult::default();
    loop {
        match consumer.wait(Some(Duration::from_millis(100)))? {
            Read::Batch(batch) => {
                let now = realtime_ns();
                let first = batch.first_seq();
                for (i, t) in batch.records().iter().enumerate() {
                    if first + i as u64 >= spec.skip {
                        hop.record(now.saturating_sub(t.ts_publish_ns).max(1));
                        feed.record(t.ts_publish_ns.saturating_sub(t.ts_recv_ns).max(1));
                        if result.seen == 0 {
                            result.first_ns = now;
                        }
                        result.seen += 1;
                        result.last_ns = now;
                    }
                }
                // A non-gating batch is a validated copy: its commit cannot fail.
                let _ = batch.commit();
            }
            Read::Gap(gap) => result.missed += gap.missed,
            Read::Empty => {}
            Read::Closed => break,
        }
    }
    result.hop = hop.to_pairs();
    result.feed = feed.to_pairs();
    let text = serde_json::to_string(&result)?;
    std::fs::write(&spec.out, text).with_context(|| format!("writing {}", spec.out.display()))
}
