//! The publisher: classifies decoded trades and writes the ticks into the ring in batches, stamping the
//! publish time the ring hop is measured from. Runs on one pinned thread.

use super::classify::{Classifier, ClassifyStats, Unclassified};
use super::pace::Pacer;
use crate::feed::{
    FeedItem, LinkEvent, Poll, Quarantine, Rejection, SourceError, Trade, TradeSource,
};
use crate::tick::Tick;
use crate::wire::InstrumentEntry;
use std::collections::BTreeMap;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tickring_ipc::{clock::realtime_ns, Producer};
use tickring_journal::{JournalError, JournalWriter};

/// The journal of the ticks this publisher writes, appended before each batch enters the ring.
pub type TickJournal = JournalWriter<Tick, InstrumentEntry>;

/// How often the source position is journaled (and on every clean stop).
const POSITION_EVERY_NS: u64 = 200_000_000;

/// What the publisher did, for logs, `tickring status` and tests.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct IngestCounters {
    /// Feed items handed to the publisher (trades and rejects).
    pub received: u64,
    pub published: u64,
    /// Rejected by the feed decoder or by classification, by reason; every one is in the quarantine file.
    pub rejected: BTreeMap<&'static str, u64>,
    pub out_of_order: u64,
    pub outside_calendar: u64,
    pub instruments: u64,
    pub link_downs: u64,
    /// Quarantine lines that could not be written (disk full...): the reject is still counted.
    pub quarantine_write_errors: u64,
    /// Ticks published to the ring that the journal could not take (disk full, I/O errors).
    pub journal_behind: u64,
    pub journal_errors: u64,
    /// Ticks a resumed source produced again and that were already journaled (not published twice).
    pub resume_skipped: u64,
}

/// Turns feed items into ticks in the ring.
#[derive(Debug)]
pub struct Publisher<W: Write> {
    producer: Producer<Tick, InstrumentEntry>,
    journal: Option<TickJournal>,
    /// Ticks still to drop because the journal already holds them (a resumed source).
    skip: u64,
    last_position_ns: u64,
    /// Since when the live feed has not been listening (a link down, or ingest itself not running).
    down_since: Option<u64>,
    classifier: Classifier,
    quarantine: Quarantine<W>,
    batch: Vec<Tick>,
    batch_limit: usize,
    counters: IngestCounters,
    /// Shared copy of the counters for other threads (metrics), refreshed at most every 100 ms.
    snapshot: Option<(Arc<Mutex<IngestCounters>>, u64)>,
}

impl<W: Write> Publisher<W> {
    pub fn new(
        producer: Producer<Tick, InstrumentEntry>,
        classifier: Classifier,
        quarantine: Quarantine<W>,
        batch_limit: usize,
    ) -> Self {
        let batch_limit = batch_limit.max(1);
        Self {
            producer,
            journal: None,
            skip: 0,
            last_position_ns: 0,
            down_since: None,
            classifier,
            quarantine,
            batch: Vec::with_capacity(batch_limit),
            batch_limit,
            counters: IngestCounters::default(),
            snapshot: None,
        }
    }

    /// Journals every batch before it enters the ring (and the directory entries and source positions).
    pub fn with_journal(mut self, journal: TickJournal) -> Self {
        self.journal = Some(journal);
        self
    }

    /// The feed was not listening since `from_ns` (ingest was down): journaled as a feed gap once the
    /// feed is up.
    pub fn down_since(&mut self, from_ns: u64) {
        self.down_since = Some(from_ns);
    }

    fn record_feed_gap(&mut self, connection: u64) {
        let Some(from_ns) = self.down_since.take() else { return };
        let seq = self.producer.head() + self.batch.len() as u64;
        let gap = tickring_journal::FeedGap { seq, from_ns, to_ns: realtime_ns(), connection };
        tracing::warn!(?gap, "the live feed was not listening: journaled as a feed gap");
        if let Some(journal) = self.journal.as_mut() {
            if let Err(e) = journal.record_feed_gap(gap) {
                self.counters.journal_errors += 1;
                tracing::error!(error = %e, "could not journal a feed gap");
            }
        }
    }

    /// The next `n` ticks are already journaled (a source resumed from an earlier position): drop them.
    pub fn skip_ticks(&mut self, n: u64) {
        self.skip = n;
    }

    /// Keeps `shared` up to date with the counters (at most every 100 ms, on publish).
    pub fn share_counters(&mut self, shared: Arc<Mutex<IngestCounters>>) {
        self.snapshot = Some((shared, 0));
    }

    fn refresh_snapshot(&mut self, now: u64, force: bool) {
        let due = match &self.snapshot {
            Some((_, last)) => force || now.saturating_sub(*last) >= 100_000_000,
            None => false,
        };
        if due {
            let counters = self.counters();
            if let Some((shared, last)) = &mut self.snapshot {
                *shared.lock().unwrap_or_else(|p| p.into_inner()) = counters;
                *last = now;
            }
        }
    }

    pub fn on_item(&mut self, item: FeedItem) {
        self.counters.received += 1;
        match item {
            FeedItem::Trade(trade) => self.on_trade(&trade),
            FeedItem::Rejected(rejection) => self.reject(&rejection),
            FeedItem::Link(LinkEvent::Down { reason }) => {
                self.counters.link_downs += 1;
                self.down_since.get_or_insert_with(realtime_ns);
                tracing::warn!(%reason, "feed link down; the client reconnects");
            }
            FeedItem::Link(LinkEvent::Up { connection }) => {
                tracing::info!(connection, "feed link up");
                self.record_feed_gap(connection);
            }
        }
    }

    fn on_trade(&mut self, trade: &Trade) {
        let (producer, journal) = (&mut self.producer, &mut self.journal);
        let journal_errors = &mut self.counters.journal_errors;
        let mut register = |e: &InstrumentEntry| {
            let index = producer.push_entry(e).ok()?;
            if let Some(j) = journal.as_mut() {
                if let Err(err) = j.push_entry(index, e) {
                    *journal_errors += 1;
                    tracing::error!(error = %err, index, "could not journal a directory entry");
                }
            }
            Some(index)
        };
        match self.classifier.classify(trade, &mut register) {
            Ok(_) if self.skip > 0 => {
                self.skip -= 1;
                self.counters.resume_skipped += 1;
            }
            Ok(tick) => {
                self.batch.push(tick);
                if self.batch.len() >= self.batch_limit {
                    self.flush();
                }
            }
            Err(Unclassified { reason, detail }) => {
                let raw = trade_json(trade);
                self.reject(&Rejection {
                    reason,
                    detail,
                    raw,
                    recv_ns: trade.ts_recv_ns,
                    line: None,
                });
            }
        }
    }

    fn reject(&mut self, rejection: &Rejection) {
        *self.counters.rejected.entry(rejection.reason.as_str()).or_default() += 1;
        if let Err(e) = self.quarantine.write(rejection) {
            self.counters.quarantine_write_errors += 1;
            tracing::error!(error = %e, reason = %rejection.reason, "could not write to the quarantine file");
        }
    }

    /// Publishes the pending batch (one cursor update), stamping its publish time.
    pub fn flush(&mut self) {
        if self.batch.is_empty() {
            return;
        }
        let now = realtime_ns();
        for tick in &mut self.batch {
            tick.ts_publish_ns = now;
        }
        // Journal first: whatever a sink sees in the ring is already in the journal.
        self.journal_batch();
        self.producer.publish_batch(&self.batch);
        self.counters.published += self.batch.len() as u64;
        self.batch.clear();
        self.refresh_snapshot(now, false);
    }

    fn journal_batch(&mut self) {
        let Some(journal) = self.journal.as_mut() else { return };
        let first = self.producer.head();
        let behind_before = journal.stats().behind;
        let mut held = false;
        loop {
            match journal.append(first, &self.batch) {
                Ok(()) => break,
                // `on_full = "hold"`: the feed waits for space; nothing is ever missing from the journal.
                Err(JournalError::Full { .. }) => {
                    if !held {
                        tracing::error!("journal disk full: holding the feed until space is free (journal.on_full = \"hold\")");
                        held = true;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
                Err(e) => {
                    self.counters.journal_errors += 1;
                    self.counters.journal_behind += self.batch.len() as u64;
                    tracing::error!(error = %e, ticks = self.batch.len(), "could not journal a batch; published to the ring only");
                    return;
                }
            }
        }
        self.counters.journal_behind += journal.stats().behind - behind_before;
    }

    /// Journals where `source` stands (every 200 ms, or now with `force`). Call only between source
    /// batches, after a flush, so the position matches the published head exactly.
    pub fn checkpoint(&mut self, source: &dyn TradeSource, force: bool) {
        let now = realtime_ns();
        if !force && now.saturating_sub(self.last_position_ns) < POSITION_EVERY_NS {
            return;
        }
        self.last_position_ns = now;
        let head = self.producer.head();
        let (Some(journal), Some(position)) = (self.journal.as_mut(), source.position()) else {
            return;
        };
        if let Err(e) = journal.record_position(head, &position) {
            self.counters.journal_errors += 1;
            tracing::error!(error = %e, "could not journal the source position");
        }
    }

    /// The journal's counters, if there is one.
    pub fn journal_stats(&self) -> Option<tickring_journal::WriterStats> {
        self.journal.as_ref().map(JournalWriter::stats)
    }

    /// Seals the journal's epoch (a clean stop: readers know nothing more comes).
    pub fn close_journal(&mut self) {
        if let Some(journal) = self.journal.take() {
            if let Err(e) = journal.close() {
                tracing::error!(error = %e, "could not seal the journal epoch");
            }
        }
    }

    pub fn counters(&self) -> IngestCounters {
        let ClassifyStats { instruments, out_of_order, outside_calendar } = self.classifier.stats();
        IngestCounters { instruments, out_of_order, outside_calendar, ..self.counters.clone() }
    }

    /// Sequence of the next tick (ticks published in this ring epoch).
    pub fn head(&self) -> u64 {
        self.producer.head()
    }

    fn finish(&mut self) {
        self.flush();
        self.refresh_snapshot(realtime_ns(), true);
        if let Err(e) = self.quarantine.flush() {
            tracing::error!(error = %e, "could not flush the quarantine file");
        }
    }
}

/// How the feed loop ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ended {
    /// The source is exhausted (end of file or of the simulated range).
    SourceEnd,
    /// `stop` was raised (Ctrl-C, SIGTERM, supervisor).
    Stopped,
}

/// Runs `source` into `publisher` until the source ends or `stop` is raised. Everything received is
/// published (or quarantined) before it returns.
///
/// # Errors
/// The source failed for good.
pub fn run<W: Write>(
    source: &mut dyn TradeSource,
    publisher: &mut Publisher<W>,
    stop: &AtomicBool,
    mut pacer: Option<Pacer>,
    max_batch: usize,
) -> Result<Ended, SourceError> {
    let mut idle_spins = 0u32;
    let ended = loop {
        if stop.load(Ordering::Relaxed) {
            break Ended::Stopped;
        }
        let poll = source.next_batch(max_batch, &mut |item| {
            if let (Some(p), FeedItem::Trade(t)) = (pacer.as_mut(), &item) {
                if p.must_wait(t.ts_event_ns) {
                    publisher.flush();
                    p.wait_unless(t.ts_event_ns, stop);
                }
            }
            publisher.on_item(item);
        })?;
        match poll {
            Poll::Ready(_) => {
                idle_spins = 0;
                publisher.flush();
                publisher.checkpoint(source, false);
            }
            Poll::Idle => {
                publisher.flush();
                publisher.checkpoint(source, false);
                idle_spins = idle_spins.saturating_add(1);
                if idle_spins > 64 {
                    std::thread::sleep(std::time::Duration::from_micros(50));
                } else {
                    std::hint::spin_loop();
                }
            }
            Poll::End => break Ended::SourceEnd,
        }
    };
    publisher.finish();
    publisher.checkpoint(source, true);
    Ok(ended)
}

fn trade_json(t: &Trade) -> String {
    serde_json::json!({
        "symbol": &*t.symbol,
        "exchange_code": t.exchange_code.as_deref(),
        "ts_event_ns": t.ts_event_ns,
        "ts_recv_ns": t.ts_recv_ns,
        "price": t.price.to_string(),
        "size": t.size.to_string(),
        "flags": t.flags,
        "trade_id": t.trade_id,
    })
    .to_string()
}
