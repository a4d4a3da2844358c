//! The paced producer: synthetic trades, stamped with their receive time when made (the start of the feed
//! hop), classified and published into the ring by the engine's [`Publisher`], `batch` ticks per publish.

use anyhow::{Context, Result};
use std::time::{Duration, Instant};
use tickring_engine::calendar::Calendars;
use tickring_engine::feed::{FeedItem, Quarantine, Symbol, Trade};
use tickring_engine::ingest::{Classifier, Publisher, TickJournal};
use tickring_engine::mapping::TradeClass;
use tickring_engine::{InstrumentEntry, Price, Quantity, Tick, TickFlags};
use tickring_ipc::clock::realtime_ns;
use tickring_ipc::{Producer, RingConfig};
use tickring_journal::JournalConfig;

/// The benchmark's symbols: `E00000.O`, `E00001.O`, ... (Nasdaq RICs).
pub fn symbol(i: usize) -> String {
    format!("E{i:05}.O")
}

/// A publish: the sequence of its first tick and the time stamped just before it.
pub type Chunk = (u64, u64);

/// Synthetic trades into the ring through the engine's publisher.
#[derive(Debug)]
pub struct Feed {
    publisher: Publisher<std::io::Sink>,
    symbols: Vec<Symbol>,
    exchange: Symbol,
    batch: usize,
    next: u64,
    epoch: u64,
}

impl Feed {
    /// Creates the ring (replacing a stale one of the same name) and the publisher, which journals every
    /// batch under `journal` before it enters the ring, as ingest does.
    ///
    /// # Errors
    /// The ring or the journal cannot be created, or the built-in calendars are broken.
    pub fn create(
        ring: &RingConfig,
        journal: &JournalConfig,
        symbols: usize,
        batch: usize,
    ) -> Result<Self> {
        let _ = std::fs::remove_file(ring.segment_path());
        let _ = std::fs::remove_file(ring.lock_path());
        let producer = Producer::<Tick, InstrumentEntry>::create(ring)
            .with_context(|| format!("creating ring {}", ring.name))?;
        let epoch = producer.epoch();
        let calendars = Calendars::builtin().context("the built-in calendars")?;
        let classifier = Classifier::new(&calendars, Default::default());
        // Publishes are driven from here (`batch` ticks each), so the publisher's own limit (one more) is
        // never hit while measuring.
        let batch = batch.max(1);
        let journal = TickJournal::open(journal, &ring.name, epoch)
            .with_context(|| format!("opening the journal in {}", journal.dir.display()))?;
        let publisher =
            Publisher::new(producer, classifier, Quarantine::new(std::io::sink()), batch + 1)
                .with_journal(journal);
        Ok(Self {
            publisher,
            symbols: (0..symbols.max(1)).map(|i| Symbol::from(symbol(i))).collect(),
            exchange: Symbol::from("XNAS"),
            batch,
            next: 0,
            epoch,
        })
    }

    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// Sequence of the next tick.
    pub fn head(&self) -> u64 {
        self.publisher.head()
    }

    fn trade(&mut self, now: u64) -> FeedItem {
        let n = self.next;
        self.next += 1;
        let symbol = &self.symbols[(n % self.symbols.len() as u64) as usize];
        FeedItem::Trade(Trade {
            symbol: Symbol::clone(symbol),
            exchange_code: Some(Symbol::clone(&self.exchange)),
            // A synthetic trade happens when it is received: the client's `ts_event` is the receive time.
            ts_event_ns: now,
            ts_recv_ns: now,
            price: Price::from_raw(10_000_000_000 + (n % 1000) as i64 * 1_000_000),
            size: Quantity::from_units(100),
            flags: TickFlags::REGULAR,
            trade_id: n + 1,
            class: TradeClass::Equity,
        })
    }

    fn publish(&mut self, on_publish: &mut dyn FnMut(Chunk)) {
        let first = self.publisher.head();
        let at = realtime_ns();
        self.publisher.flush();
        on_publish((first, at));
    }

    /// One trade of every symbol, so the instrument directory is complete before clients subscribe.
    pub fn seed(&mut self) {
        for _ in 0..self.symbols.len() {
            let item = self.trade(realtime_ns());
            self.publisher.on_item(item);
        }
        self.publisher.flush();
    }

    /// Publishes `count` ticks at `rate` per second (each made when due, at most `batch` per publish),
    /// reporting every publish; returns the wall time it took.
    pub fn run(&mut self, rate: u64, count: u64, on_publish: &mut dyn FnMut(Chunk)) -> Duration {
        let start = Instant::now();
        let rate = rate.max(1);
        let mut sent = 0u64;
        while sent < count {
            let elapsed = start.elapsed().as_nanos() as u64;
            let due = (u128::from(elapsed) * u128::from(rate) / 1_000_000_000) as u64;
            let due = due.min(count);
            if due <= sent {
                std::thread::sleep(Duration::from_micros(20));
                continue;
            }
            let mut in_batch = 0;
            while sent < due {
                let item = self.trade(realtime_ns());
                self.publisher.on_item(item);
                sent += 1;
                in_batch += 1;
                if in_batch == self.batch {
                    self.publish(on_publish);
                    in_batch = 0;
                }
            }
            if in_batch > 0 {
                self.publish(on_publish);
            }
        }
        start.elapsed()
    }

    /// Ticks the publisher refused (quarantined): none expected.
    pub fn rejected(&self) -> u64 {
        self.publisher.counters().rejected.values().sum()
    }
}
