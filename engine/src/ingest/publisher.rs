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
}

/// Turns feed items into ticks in the ring.
#[derive(Debug)]
pub struct Publisher<W: Write> {
    producer: Producer<Tick, InstrumentEntry>,
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
            classifier,
            quarantine,
            batch: Vec::with_capacity(batch_limit),
            batch_limit,
            counters: IngestCounters::default(),
            snapshot: None,
        }
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
                tracing::warn!(%reason, "feed link down; the client reconnects");
            }
            FeedItem::Link(LinkEvent::Up { connection }) => {
                tracing::info!(connection, "feed link up")
            }
        }
    }

    fn on_trade(&mut self, trade: &Trade) {
        let producer = &mut self.producer;
        let mut register = |e: &InstrumentEntry| producer.push_entry(e).ok();
        match self.classifier.classify(trade, &mut register) {
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
        self.producer.publish_batch(&self.batch);
        self.counters.published += self.batch.len() as u64;
        self.batch.clear();
        self.refresh_snapshot(now, false);
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
            }
            Poll::Idle => {
                publisher.flush();
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
