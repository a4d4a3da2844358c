//! `tickring-shm`: tickring's own shared-memory ring between two real processes.
//!
//! The consumer runs here, attached as a gating consumer and pinned to the consumer core, reading batches
//! in place (zero-copy). The producer is this program started again through [`RingBenchConfig::child`],
//! pinned to the producer core: it creates the ring, says `ready` on its standard output, waits for
//! `start` on its standard input (sent once the consumer is attached, so nothing is published before a
//! reader gates it), publishes, then stays until the parent closes the pipe. Both sides busy-spin.
//!
//! The hop measured is stamp + publish in the child, then poll + read + clock here.

use super::child::ChildProcess;
use super::pair::{batches, paced_producer, Deadline, LatencyRecorder, ThroughputRecorder};
use super::Peer;
use crate::affinity::pin_current_thread;
use crate::clock::now_ns;
use crate::message::Message;
use crate::report::Measurement;
use crate::ring_scenario::{ChildLauncher, RingBenchConfig};
use anyhow::{anyhow, bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::io::{BufRead, Read as _, Write};
use std::path::PathBuf;

use tickring_ipc::{
    Consumer, ConsumerOptions, ConsumerPolicy, Producer, Read, Record, RingConfig, StartAt,
    WaitStrategy,
};

/// Row name; also the child-process peer name.
pub const NAME: &str = "tickring-shm";

impl Record for Message {
    const SCHEMA_ID: u64 = 0x6265_6e63_6800_0040; // "bench", 64 bytes
}

/// Which phase a child process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    Latency,
    Throughput,
}

/// What the parent tells its child producer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChildSpec {
    pub ring: String,
    pub dir: PathBuf,
    pub phase: Phase,
    pub total: u64,
    pub gap_ns: u64,
    pub batch: u64,
    pub capacity: u64,
    pub core: usize,
}

/// The shared-memory ring peer.
#[derive(Debug, Clone, Copy, Default)]
pub struct ShmPeer;

impl Peer for ShmPeer {
    fn name(&self) -> &'static str {
        NAME
    }

    fn measure(&self, cfg: &RingBenchConfig) -> Result<Measurement> {
        let launcher = cfg
            .child
            .clone()
            .context("tickring-shm needs a child launcher to start its producer")?;
        std::thread::scope(|s| {
            std::thread::Builder::new()
                .name("bench-shm-consumer".into())
                .spawn_scoped(s, || {
                    pin_current_thread(cfg.consumer_core)?;
                    consumer_side(cfg, &launcher)
                })
                .context("spawning the consumer thread")?
                .join()
                .map_err(|_| anyhow!("the consumer thread panicked"))?
        })
    }

    fn run_child(&self, spec: &str) -> Result<()> {
        let spec: ChildSpec = serde_json::from_str(spec).context("parsing the child spec")?;
        producer_side(&spec)
    }
}

fn ring_config(name: &str, dir: PathBuf, capacity: u64) -> RingConfig {
    RingConfig {
        name: name.to_owned(),
        dir,
        capacity,
        max_consumers: 4,
        directory_capacity: 0,
        producer_wait: WaitStrategy::BusySpin,
        consumer_wait: WaitStrategy::BusySpin,
        max_batch: capacity as usize,
        ..RingConfig::default()
    }
}

/// Removes the bench ring's files however the phase ends.
struct RingFiles(RingConfig);

impl Drop for RingFiles {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(self.0.segment_path());
        let _ = std::fs::remove_file(self.0.lock_path());
    }
}

fn run_phase(
    cfg: &RingBenchConfig,
    launcher: &ChildLauncher,
    spec: ChildSpec,
    mut on_batch: impl FnMut(&[Message], u64) -> Result<bool>,
) -> Result<()> {
    let ring = ring_config(&spec.ring, spec.dir.clone(), spec.capacity);
    let _files = RingFiles(ring.clone());
    let mut child = ChildProcess::spawn(launcher, NAME, &serde_json::to_string(&spec)?, true)?;
    child.wait_ready()?;
    let opts = ConsumerOptions {
        name: "bench".into(),
        policy: ConsumerPolicy::Gating,
        start: StartAt::Oldest,
    };
    let mut consumer =
        Consumer::<Message>::attach(&ring, opts).context("attaching to the bench ring")?;
    child.start()?;
    let deadline = Deadline::after(cfg.timeout);
    let mut idle = 0u32;
    loop {
        match consumer.poll()? {
            Read::Batch(batch) => {
                let read_ns = now_ns();
                let done = on_batch(batch.records(), read_ns)?;
                batch.commit().map_err(|e| anyhow!("{e}"))?;
                if done {
                    break;
                }
            }
            Read::Empty => {
                std::hint::spin_loop();
                idle = idle.wrapping_add(1);
                if idle.is_multiple_of(4096) {
                    deadline.check(NAME)?;
                    if child.exited()? {
                        bail!("the producer process exited before everything arrived");
                    }
                }
            }
            Read::Gap(gap) => bail!("a gating consumer lost records: {gap:?}"),
            Read::Closed => bail!("the producer closed the ring before everything arrived"),
        }
    }
    drop(consumer);
    child.wait()
}

fn consumer_side(cfg: &RingBenchConfig, launcher: &ChildLauncher) -> Result<Measurement> {
    let capacity = (cfg.capacity as u64).max(16);
    let spec = |phase, total| ChildSpec {
        ring: format!("bench-{}-{}", std::process::id(), now_ns() % 1_000_000_000),
        dir: PathBuf::from("/dev/shm"),
        phase,
        total,
        gap_ns: cfg.gap_ns,
        batch: cfg.batch,
        capacity,
        core: cfg.producer_core,
    };
    let mut latency = LatencyRecorder::new(cfg.warmup_messages, cfg.latency_messages);
    run_phase(cfg, launcher, spec(Phase::Latency, latency.total()), |records, read_ns| {
        for m in records {
            latency.on_message(m, read_ns)?;
        }
        Ok(latency.is_done())
    })
    .context("latency phase")?;
    let mut throughput = ThroughputRecorder::new(cfg.throughput_messages);
    run_phase(cfg, launcher, spec(Phase::Throughput, cfg.throughput_messages), |records, _| {
        for m in records {
            throughput.on_message(m)?;
        }
        Ok(throughput.is_done())
    })
    .context("throughput phase")?;
    Ok(Measurement {
        name: NAME.to_owned(),
        latency: latency.into_histogram(),
        throughput: throughput.finish(),
    })
}

fn producer_side(spec: &ChildSpec) -> Result<()> {
    pin_current_thread(spec.core)?;
    let ring = ring_config(&spec.ring, spec.dir.clone(), spec.capacity);
    let mut producer = Producer::<Message>::create(&ring).context("creating the bench ring")?;
    let mut out = std::io::stdout().lock();
    out.write_all(b"ready\n").and_then(|()| out.flush()).context("signalling ready")?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).context("waiting for the start signal")?;
    if line.trim_end() != "start" {
        bail!("no start signal from the consumer (got {line:?})");
    }
    match spec.phase {
        Phase::Latency => paced_producer(spec.total, spec.gap_ns, |seq| {
            let stamp = now_ns();
            producer.publish(&Message::new(seq, stamp));
            Ok(stamp)
        })?,
        Phase::Throughput => {
            let mut buffer = Vec::with_capacity(spec.batch as usize);
            for (first, len) in batches(spec.total, spec.batch) {
                let stamp = now_ns();
                buffer.clear();
                buffer.extend((first..first + len).map(|seq| Message::new(seq, stamp)));
                producer.publish_batch(&buffer);
            }
        }
    }
    // Stay until the consumer has everything (it closes our stdin), then close the ring cleanly.
    std::io::stdin().read_to_end(&mut Vec::new()).context("waiting for the consumer to finish")?;
    Ok(())
}
