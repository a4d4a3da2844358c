//! The replay rows: one journal written before the rounds, read back whole each round with the page cache
//! dropped first (see [`make_cold`]):
//!
//! - `journal-replay`: a [`TickStream`] on the journal alone (no ring), `Start::At` the epoch's first
//!   sequence, as a sink restarted after an outage reads; latency = one `next()` that yields ticks.
//! - `journal-replay-reader`: a [`JournalReader`] under it, without the stream's copy; latency = one `read`.

use super::append::{EPOCH, RING};
use super::data::{make_cold, Cold, ScratchDir, TickPool};
use crate::affinity::pin_current_thread;
use crate::clock::now_ns;
use crate::histogram::LatencyHistogram;
use crate::report::{Measurement, Throughput};
use anyhow::{bail, ensure, Context, Result};
use std::path::Path;
use std::time::Duration;
use tickring_engine::{InstrumentEntry, Tick};
use tickring_ipc::RingConfig;
use tickring_journal::{FsyncPolicy, JournalConfig, JournalReader, JournalWriter, ReadOutcome};
use tickring_sink_core::{Event, Position, Start, StreamConfig, TickStream};

pub const STREAM: &str = "journal-replay";
pub const READER: &str = "journal-replay-reader";

/// A sealed journal of `records` ticks, removed when dropped.
#[derive(Debug)]
pub struct ReplayJournal {
    dir: ScratchDir,
    pub journal: JournalConfig,
    pub records: u64,
}

impl ReplayJournal {
    /// Writes `records` ticks in batches of `batch`, syncs and seals them.
    ///
    /// # Errors
    /// The journal cannot be written.
    pub fn write(
        parent: &Path,
        base: &JournalConfig,
        pool: &TickPool,
        records: u64,
        batch: usize,
    ) -> Result<Self> {
        let dir = ScratchDir::new(parent, "replay")?;
        let journal = super::data::journal_config(base, dir.path(), FsyncPolicy::Never);
        let mut writer = JournalWriter::<Tick, InstrumentEntry>::open(&journal, RING, EPOCH)
            .context("opening the replay journal")?;
        // Journaled before the ticks, as the publisher does: the replay resolves every tick's name.
        for (index, entry) in TickPool::directory().iter().enumerate() {
            writer.push_entry(index as u32, entry)?;
        }
        let mut seq = 0u64;
        while seq < records {
            let n = batch.min((records - seq) as usize);
            writer.append(seq, pool.batch(seq, n))?;
            seq += n as u64;
        }
        ensure!(writer.sync(), "could not sync the replay journal");
        writer.close().context("sealing the replay journal")?;
        Ok(Self { dir, journal, records })
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// What one replay round read, and how its reads were made cold.
#[derive(Debug)]
pub struct ReplayRound {
    pub measurement: Measurement,
    pub cold: Cold,
}

/// Folds what was read into a value the optimiser cannot drop.
fn touch(ticks: &[Tick]) -> u64 {
    ticks.iter().fold(0u64, |a, t| a.wrapping_add(t.trade_id ^ t.ts_event_ns))
}

/// `journal-replay`.
///
/// # Errors
/// The stream fails, reports a gap, or ends early.
pub fn stream(
    j: &ReplayJournal,
    max_batch: usize,
    core: usize,
    timeout: Duration,
) -> Result<ReplayRound> {
    pin_current_thread(core)?;
    let cold = make_cold(j.path());
    // A ring that does not exist: the stream reads the journal only.
    let ring = RingConfig { name: RING.into(), dir: j.path().to_owned(), ..RingConfig::default() };
    let cfg = StreamConfig {
        ring,
        journal: j.journal.clone(),
        consumer: "bench-replay".into(),
        max_batch,
    };
    let mut stream = TickStream::new(cfg, Start::At(Position { epoch: EPOCH, seq: 0 }));
    let mut latency = LatencyHistogram::new();
    let (mut read, mut sum) = (0u64, 0u64);
    let start = now_ns();
    let limit = start + u64::try_from(timeout.as_nanos()).unwrap_or(u64::MAX);
    while read < j.records {
        let t0 = now_ns();
        match stream.next(Duration::from_millis(10))? {
            Event::Ticks { epoch, first_seq, ticks, .. } => {
                ensure!(
                    epoch == EPOCH && first_seq == read,
                    "ticks at {epoch}:{first_seq}, expected {EPOCH}:{read}"
                );
                sum = sum.wrapping_add(touch(ticks));
                read += ticks.len() as u64;
                latency.record(now_ns() - t0);
            }
            Event::Gap(gap) => bail!("the replay hit a gap: {gap:?}"),
            Event::Closed => break,
            Event::NewEpoch { .. } | Event::FeedGap { .. } | Event::Idle => {}
        }
        ensure!(now_ns() < limit, "replayed {read} of {} records in {timeout:?}", j.records);
    }
    let elapsed = now_ns() - start;
    std::hint::black_box(sum);
    ensure!(read == j.records, "replayed {read} of {} records", j.records);
    ensure!(
        stream.unresolved_ticks() == 0,
        "{} ticks named no instrument of the journaled directory",
        stream.unresolved_ticks()
    );
    let measurement = Measurement {
        name: STREAM.into(),
        latency,
        throughput: Throughput { messages: read, elapsed_ns: elapsed },
    };
    Ok(ReplayRound { measurement, cold })
}

/// `journal-replay-reader`.
///
/// # Errors
/// The reader fails, reports a gap, or ends early.
pub fn reader(j: &ReplayJournal, max_batch: usize, core: usize) -> Result<ReplayRound> {
    pin_current_thread(core)?;
    let cold = make_cold(j.path());
    let start = now_ns();
    let mut reader = JournalReader::<Tick, InstrumentEntry>::open(&j.journal, RING, EPOCH, 0)
        .context("opening the replay journal")?;
    let mut latency = LatencyHistogram::new();
    let (mut read, mut sum) = (0u64, 0u64);
    loop {
        let t0 = now_ns();
        match reader.read(max_batch)? {
            ReadOutcome::Records { first_seq, records } => {
                ensure!(first_seq == read, "records at {first_seq}, expected {read}");
                sum = sum.wrapping_add(touch(records));
                read += records.len() as u64;
                latency.record(now_ns() - t0);
            }
            ReadOutcome::Gap { from, to, cause } => {
                bail!("the replay hit a gap {from}..{to}: {cause:?}")
            }
            ReadOutcome::CaughtUp | ReadOutcome::EpochEnd => break,
        }
    }
    let elapsed = now_ns() - start;
    std::hint::black_box(sum);
    ensure!(read == j.records, "read {read} of {} records", j.records);
    let measurement = Measurement {
        name: READER.into(),
        latency,
        throughput: Throughput { messages: read, elapsed_ns: elapsed },
    };
    Ok(ReplayRound { measurement, cold })
}
