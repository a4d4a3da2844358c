//! The appending rows, one round each:
//!
//! - `journal-append`: a [`JournalWriter`] alone, batch after batch; latency = one `append` call (one batch).
//! - `journal-append-in-publisher`: the chosen placement: the publisher appends each batch, then publishes it
//!   into the ring (no gating consumer); latency = the publisher's cost per tick (append + publish).
//! - `journal-append-from-ring`: the alternative: the publisher only publishes; a gating ring consumer on
//!   another core appends each batch it reads and commits its cursor after the append; latency = the
//!   publisher's cost per tick (publish, including any wait for the journaler). Throughput ends when the
//!   journal holds the last record.

use super::data::TickPool;
use crate::affinity::pin_current_thread;
use crate::clock::now_ns;
use crate::histogram::LatencyHistogram;
use crate::report::{Measurement, Throughput};
use anyhow::{anyhow, bail, ensure, Context, Result};
use std::time::Duration;
use tickring_engine::{InstrumentEntry, Tick};
use tickring_ipc::{
    Consumer, ConsumerOptions, ConsumerPolicy, Producer, Read, RingConfig, StartAt,
};
use tickring_journal::{JournalConfig, JournalWriter};

pub const APPEND: &str = "journal-append";
pub const IN_PUBLISHER: &str = "journal-append-in-publisher";
pub const FROM_RING: &str = "journal-append-from-ring";
/// The ring name under which the bench journals (its folder under the journal's `dir`).
pub const RING: &str = "bench-journal";
/// The epoch every writer of this bench appends to.
pub const EPOCH: u64 = 1;

type Writer = JournalWriter<Tick, InstrumentEntry>;

/// What one appending round needs.
#[derive(Debug)]
pub struct AppendRound<'a> {
    /// A journal config whose `dir` is this round's own (empty) folder.
    pub journal: &'a JournalConfig,
    /// The ring's settings (capacity, wait strategies); the name is replaced by a private one.
    pub ring: &'a RingConfig,
    pub pool: &'a TickPool,
    pub records: u64,
    pub batch: usize,
    pub producer_core: usize,
    pub consumer_core: usize,
    pub timeout: Duration,
}

impl AppendRound<'_> {
    /// The round's ticks in batches of `batch`: (tick number of the first, the batch).
    fn batches(&self) -> impl Iterator<Item = (u64, &[Tick])> + '_ {
        let step = self.batch.max(1);
        (0..self.records)
            .step_by(step)
            .map(move |seq| (seq, self.pool.batch(seq, step.min((self.records - seq) as usize))))
    }

    /// The row's measurement: every record of the round in `elapsed_ns`.
    fn measured(&self, name: &str, latency: LatencyHistogram, elapsed_ns: u64) -> Measurement {
        Measurement {
            name: name.into(),
            latency,
            throughput: Throughput { messages: self.records, elapsed_ns },
        }
    }
}

fn open_writer(journal: &JournalConfig) -> Result<Writer> {
    Writer::open(journal, RING, EPOCH).context("opening the bench journal")
}

/// Checks that the journal holds exactly `records`, then seals it (not timed).
fn finish(writer: Writer, records: u64) -> Result<()> {
    let stats = writer.stats();
    ensure!(stats.behind == 0, "the journal fell behind by {} records", stats.behind);
    ensure!(stats.head == records, "journaled {} of {records} records", stats.head);
    writer.close().context("sealing the bench journal")?;
    Ok(())
}

/// `journal-append`.
///
/// # Errors
/// The journal cannot be opened or an append fails.
pub fn journal_append(r: &AppendRound<'_>) -> Result<Measurement> {
    pin_current_thread(r.producer_core)?;
    let mut writer = open_writer(r.journal)?;
    let mut latency = LatencyHistogram::new();
    let start = now_ns();
    for (seq, batch) in r.batches() {
        let t0 = now_ns();
        writer.append(seq, batch)?;
        latency.record(now_ns() - t0);
    }
    let elapsed = now_ns() - start;
    finish(writer, r.records)?;
    Ok(r.measured(APPEND, latency, elapsed))
}

/// A private ring with the product's settings; its files are removed when dropped.
struct BenchRing(RingConfig);

impl BenchRing {
    fn new(base: &RingConfig, tag: &str) -> Self {
        let name = format!("bench-journal-{tag}-{}", std::process::id());
        Self(RingConfig { name, ..base.clone() })
    }
}

impl Drop for BenchRing {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(self.0.segment_path());
        let _ = std::fs::remove_file(self.0.lock_path());
    }
}

/// Records a batch's cost once per tick, as the per-tick average (ticks weigh equally).
fn record_per_tick(h: &mut LatencyHistogram, batch_ns: u64, n: usize) {
    h.record_n((batch_ns / n.max(1) as u64).max(1), n as u64);
}

/// `journal-append-in-publisher`.
///
/// # Errors
/// The ring or the journal cannot be created, or an append fails.
pub fn in_publisher(r: &AppendRound<'_>) -> Result<Measurement> {
    pin_current_thread(r.producer_core)?;
    let ring = BenchRing::new(r.ring, "pub");
    let mut producer =
        Producer::<Tick, InstrumentEntry>::create(&ring.0).context("creating the bench ring")?;
    let mut writer = open_writer(r.journal)?;
    let mut latency = LatencyHistogram::new();
    let start = now_ns();
    for (_, batch) in r.batches() {
        let t0 = now_ns();
        writer.append(producer.head(), batch)?;
        producer.publish_batch(batch);
        record_per_tick(&mut latency, now_ns() - t0, batch.len());
    }
    let elapsed = now_ns() - start;
    finish(writer, r.records)?;
    Ok(r.measured(IN_PUBLISHER, latency, elapsed))
}

/// `journal-append-from-ring`.
///
/// # Errors
/// The ring or the journal cannot be created, an append fails, or the journaler stalls past the timeout.
pub fn from_ring(r: &AppendRound<'_>) -> Result<Measurement> {
    pin_current_thread(r.producer_core)?;
    let ring = BenchRing::new(r.ring, "ring");
    let mut producer =
        Producer::<Tick, InstrumentEntry>::create(&ring.0).context("creating the bench ring")?;
    let opts = ConsumerOptions {
        name: "journaler".into(),
        policy: ConsumerPolicy::Gating,
        start: StartAt::Oldest,
    };
    let consumer = Consumer::<Tick, InstrumentEntry>::attach(&ring.0, opts)
        .context("attaching the journaler to the bench ring")?;
    let writer = open_writer(r.journal)?;
    std::thread::scope(|s| {
        let journaler = std::thread::Builder::new()
            .name("bench-journaler".into())
            .spawn_scoped(s, || journaler(r, consumer, writer))
            .context("spawning the journaler thread")?;
        let mut latency = LatencyHistogram::new();
        let start = now_ns();
        for (_, batch) in r.batches() {
            let t0 = now_ns();
            producer.publish_batch(batch);
            record_per_tick(&mut latency, now_ns() - t0, batch.len());
            if journaler.is_finished() {
                break;
            }
        }
        let done_ns = journaler.join().map_err(|_| anyhow!("the journaler thread panicked"))??;
        Ok(r.measured(FROM_RING, latency, done_ns - start))
    })
}

/// The gating journaler: appends each batch it reads, commits after the append; returns when the journal
/// holds every record (the clock reading then).
fn journaler(
    r: &AppendRound<'_>,
    mut consumer: Consumer<Tick, InstrumentEntry>,
    mut writer: Writer,
) -> Result<u64> {
    pin_current_thread(r.consumer_core)?;
    let limit = now_ns() + u64::try_from(r.timeout.as_nanos()).unwrap_or(u64::MAX);
    loop {
        match consumer.wait(Some(Duration::from_millis(100)))? {
            Read::Batch(batch) => {
                writer.append(batch.first_seq(), batch.records())?;
                batch.commit().map_err(|e| anyhow!("a gating batch was overwritten: {e}"))?;
                if writer.head() >= r.records {
                    let done = now_ns();
                    finish(writer, r.records)?;
                    return Ok(done);
                }
            }
            Read::Empty => {
                if now_ns() > limit {
                    bail!(
                        "the journaler got {} of {} records in {:?}",
                        writer.head(),
                        r.records,
                        r.timeout
                    );
                }
            }
            Read::Gap(gap) => bail!("a gating consumer lost records: {gap:?}"),
            Read::Closed => {
                bail!("the ring closed after {} of {} records", writer.head(), r.records)
            }
        }
    }
}
