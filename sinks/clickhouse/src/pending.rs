//! What the writer holds between flushes: how far into the current (uncommitted) ring batch it has read,
//! and the candles and latest prices derived from it. The tick rows themselves stay in the ring, read in
//! place at flush time.

use std::collections::HashMap;
use std::time::Instant;
use tickring_engine::candles::{Candle, Interval};
use tickring_engine::{Tick, TickFlags};

#[derive(Debug, Default)]
pub struct Pending {
    /// First sequence of the batch being accumulated and how many of its records were processed.
    pub first_seq: u64,
    pub done: usize,
    /// Tick rows to write and their approximate wire size.
    pub rows: usize,
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
    pub fn is_empty(&self) -> bool {
        self.rows == 0 && self.candles.is_empty() && self.latest.is_empty()
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

    /// Pending candles of one interval.
    pub fn candles_of(&self, interval: Interval) -> impl Iterator<Item = &(Candle, u64)> {
        self.candles.iter().filter(move |(c, _)| c.series.interval == interval)
    }

    /// After a flush was acknowledged (and the batch committed).
    pub fn clear(&mut self) {
        self.done = 0;
        self.rows = 0;
        self.bytes = 0;
        self.since = None;
        self.capped = false;
        self.candles.clear();
        self.latest.clear();
    }
}
