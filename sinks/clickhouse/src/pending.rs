//! What the writer holds between flushes: the ticks read since the last flush (copied, with the sink's
//! instrument ids), the candles and latest prices derived from them, and the owned [`FlushJob`] it becomes
//! when it is handed to ClickHouse, so the writer can read on while that flush is in flight.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;
use tickring_engine::candles::{Candle, Interval};
use tickring_engine::{Tick, TickFlags};
use tickring_sink_core::Names;

#[derive(Debug, Default)]
pub struct Pending {
    /// The epoch of the ticks, and the sequence after the last one read: the store holds everything
    /// below it once this batch is acknowledged.
    pub epoch: u64,
    pub end_seq: Option<u64>,
    /// Tick rows to write (sequence, tick with the sink's instrument id) and their approximate wire size.
    pub ticks: Vec<(u64, Tick)>,
    pub bytes: usize,
    /// When the oldest pending row or candle arrived.
    pub since: Option<Instant>,
    /// Candle emissions with their write revision, in emission order.
    pub candles: Vec<(Candle, u64)>,
    /// Sink id -> (epoch, seq, tick) of its newest trade.
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

    /// Hands everything accumulated to a flush. `spare` is the tick buffer of an earlier, finished flush,
    /// reused so a steady stream allocates nothing per batch.
    pub fn take_job(&mut self, names: Arc<Names>, spare: Vec<(u64, Tick)>) -> FlushJob {
        let mut ticks = spare;
        ticks.clear();
        std::mem::swap(&mut ticks, &mut self.ticks);
        let job = FlushJob {
            epoch: self.epoch,
            end_seq: self.end_seq.take(),
            ticks,
            candles: std::mem::take(&mut self.candles),
            latest: self.latest.drain().map(|(id, (e, s, t))| (id, e, s, t)).collect(),
            names,
        };
        self.bytes = 0;
        self.since = None;
        job
    }
}

/// Everything one flush writes, owned, so it can be in flight while the writer reads the next batch.
#[derive(Debug)]
pub struct FlushJob {
    pub epoch: u64,
    /// The store holds every tick of `epoch` below this once the flush is acknowledged (`None`: the flush
    /// carries candles only).
    pub end_seq: Option<u64>,
    pub ticks: Vec<(u64, Tick)>,
    pub candles: Vec<(Candle, u64)>,
    /// (sink id, epoch, seq, tick).
    pub latest: Vec<(u32, u64, u64, Tick)>,
    pub names: Arc<Names>,
}

impl FlushJob {
    /// Candles of one interval.
    pub fn candles_of(&self, interval: Interval) -> impl Iterator<Item = &(Candle, u64)> {
        self.candles.iter().filter(move |(c, _)| c.series.interval == interval)
    }

    /// The sequence range of its ticks, `first..end`.
    pub fn tick_range(&self) -> Option<(u64, u64)> {
        let first = self.ticks.first()?.0;
        let last = self.ticks.last()?.0;
        Some((first, last + 1))
    }
}
