//! What the writer holds between flushes: the batch being accumulated (its ring records, copied as they are
//! read, and the candles and latest prices derived from them), and the owned [`FlushJob`] it becomes when it
//! is handed to ClickHouse, so the writer can read on while that flush is in flight.

use crate::instruments::Names;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;
use tickring_engine::candles::{Candle, Interval};
use tickring_engine::{Tick, TickFlags};

#[derive(Debug, Default)]
pub struct Pending {
    /// First ring sequence of the batch being accumulated and how many of its records were processed
    /// (written or skipped as already stored).
    pub first_seq: u64,
    pub done: usize,
    /// Tick rows to write (sequence, tick with the writer's instrument id) and their approximate wire size.
    pub ticks: Vec<(u64, Tick)>,
    pub bytes: usize,
    /// When the oldest pending row or candle arrived.
    pub since: Option<Instant>,
    /// The batch stopped growing although more records exist (it reached the ring's end): flush now.
    pub capped: bool,
    /// Candle emissions with their write revision, in emission order.
    pub candles: Vec<(Candle, u64)>,
    /// Writer id -> (epoch, seq, tick) of its newest trade.
    pub latest: HashMap<u32, (u64, u64, Tick)>,
}

impl Pending {
    pub fn rows(&self) -> usize {
        self.ticks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ticks.is_empty() && self.candles.is_empty() && self.latest.is_empty()
    }

    pub fn mark(&mut self) {
        self.since.get_or_insert_with(Instant::now);
    }

    /// Keeps the newest trade by event time (arrival breaks ties); cancels do not move the last price.
    pub fn offer_latest(&mut self, id: u32, epoch: u64, seq: u64, tick: &Tick) {
        if tick.flags().contains(TickFlags::CANCEL) {
            return;
        }
        match self.latest.get_mut(&id) {
            Some(slot) if slot.2.ts_event_ns > tick.ts_event_ns => {}
            Some(slot) => *slot = (epoch, seq, *tick),
            None => {
                self.latest.insert(id, (epoch, seq, *tick));
            }
        }
    }

    /// Hands everything accumulated to a flush and starts an empty batch after it. `spare` is the tick
    /// buffer of an earlier, finished flush, reused so a steady stream allocates nothing per batch.
    pub fn take_job(&mut self, epoch: u64, names: Arc<Names>, spare: Vec<(u64, Tick)>) -> FlushJob {
        let mut ticks = spare;
        ticks.clear();
        std::mem::swap(&mut ticks, &mut self.ticks);
        let job = FlushJob {
            epoch,
            first_seq: self.first_seq,
            records: self.done,
            ticks,
            candles: std::mem::take(&mut self.candles),
            latest: self.latest.drain().map(|(id, (e, s, t))| (id, e, s, t)).collect(),
            names,
        };
        self.first_seq += self.done as u64;
        self.clear();
        job
    }

    /// Forgets the batch's records (they were lost from the ring) but keeps derived candles and prices.
    pub fn drop_records(&mut self) {
        self.done = 0;
        self.ticks.clear();
        self.bytes = 0;
    }

    fn clear(&mut self) {
        self.done = 0;
        self.ticks.clear();
        self.bytes = 0;
        self.since = None;
        self.capped = false;
        self.candles.clear();
        self.latest.clear();
    }
}

/// Everything one flush writes, owned, so it can be in flight while the writer reads the next batch.
#[derive(Debug)]
pub struct FlushJob {
    pub epoch: u64,
    /// The ring records `[first_seq, first_seq + records)` it covers: committed once ClickHouse acknowledged.
    pub first_seq: u64,
    pub records: usize,
    pub ticks: Vec<(u64, Tick)>,
    pub candles: Vec<(Candle, u64)>,
    /// (writer id, epoch, seq, tick).
    pub latest: Vec<(u32, u64, u64, Tick)>,
    pub names: Arc<Names>,
}

impl FlushJob {
    /// Candles of one interval.
    pub fn candles_of(&self, interval: Interval) -> impl Iterator<Item = &(Candle, u64)> {
        self.candles.iter().filter(move |(c, _)| c.series.interval == interval)
    }
}
