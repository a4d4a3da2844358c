//! One instrument's buckets in one series: the open bucket, the retained closed ones, and the rules that
//! move a bucket from open to closed and let late ticks amend it.

use super::accumulator::{Accumulator, Applied};
use super::bucket::Bucket;
use super::candle::{CandleEvent, SkipReason, SkippedTick};
use super::config::{CandleConfig, OpenUpdates};
use super::interval::Series;
use super::stats::AggregatorStats;
use crate::tick::Tick;
use std::collections::VecDeque;

/// Everything a state transition needs besides the state: settings, the clock, and where output goes.
pub(crate) struct Ctx<'a, F> {
    pub instrument_id: u32,
    pub series: Series,
    pub retention: usize,
    pub grace_ns: u64,
    pub daily_lag_ns: u64,
    /// Highest `on_clock` time seen (0 before the first call).
    pub clock_ns: u64,
    pub open_updates: OpenUpdates,
    pub stats: &'a mut AggregatorStats,
    pub out: &'a mut F,
}

impl<'a, F: FnMut(CandleEvent)> Ctx<'a, F> {
    pub fn new(
        config: &CandleConfig,
        clock_ns: u64,
        instrument_id: u32,
        series: Series,
        stats: &'a mut AggregatorStats,
        out: &'a mut F,
    ) -> Self {
        Self {
            instrument_id,
            series,
            retention: config.retention.of(series.interval),
            grace_ns: config.grace_ns,
            daily_lag_ns: config.daily_close_lag_ns,
            clock_ns,
            open_updates: config.open_updates,
            stats,
            out,
        }
    }

    /// Whether the clock is past the bucket's end plus the grace period.
    fn clock_passed(&self, key: u64) -> bool {
        let end = Bucket::end_ns(self.series.interval, key, self.daily_lag_ns);
        self.clock_ns >= end.saturating_add(self.grace_ns)
    }

    fn emit(&mut self, acc: &mut Accumulator, closed: bool) {
        acc.dirty = false;
        match (closed, acc.version) {
            (false, _) => self.stats.live_updates += 1,
            (true, 1) => self.stats.closed += 1,
            (true, _) => self.stats.reemitted += 1,
        }
        (self.out)(CandleEvent::Update(acc.candle(self.instrument_id, self.series, closed)));
    }

    pub fn skip(&mut self, seq: u64, key: u64, reason: SkipReason) {
        self.stats.skipped(reason);
        (self.out)(CandleEvent::Skipped(SkippedTick {
            seq,
            instrument_id: self.instrument_id,
            series: self.series,
            bucket: Bucket::from_key(self.series.interval, key),
            reason,
        }));
    }

    fn count(&mut self, applied: Applied) {
        self.stats.volume_overflows += u64::from(applied.volume_overflow);
        self.stats.turnover_overflows += u64::from(applied.turnover_overflow);
    }
}

/// A change a tick makes to a bucket.
#[derive(Clone, Copy)]
enum Op<'t> {
    Trade(&'t Tick),
    Cancel(&'t Tick),
}

/// Invariants: `open`, when present, is the bucket at `frontier` and `frontier_closed` is false; `retained`
/// is sorted by key, every key in it is above `horizon`, and every bucket ever closed with a key above
/// `horizon` is in it (eviction always takes the lowest key), so an absent key above `horizon` never had a
/// trade and one at or below it cannot be amended.
#[derive(Clone, Debug, Default)]
pub(crate) struct SeriesState {
    /// Highest bucket key of any trade of the instrument, in scope or not.
    frontier: Option<u64>,
    frontier_closed: bool,
    open: Option<Accumulator>,
    retained: VecDeque<Accumulator>,
    /// Highest key evicted from `retained`.
    horizon: Option<u64>,
}

impl SeriesState {
    /// A trade of the instrument reached bucket `key`: a later bucket closes the open one, whether or not the
    /// trade is in this series' scope (a pre-market print ends the previous regular day).
    pub fn advance<F: FnMut(CandleEvent)>(&mut self, key: u64, ctx: &mut Ctx<'_, F>) {
        if self.frontier.is_some_and(|f| key <= f) {
            return;
        }
        self.close_open(ctx);
        self.frontier = Some(key);
        // A first trade for a bucket the clock is already past goes straight to the closed path.
        self.frontier_closed = ctx.clock_passed(key);
    }

    pub fn trade<F: FnMut(CandleEvent)>(
        &mut self,
        key: u64,
        seq: u64,
        tick: &Tick,
        ctx: &mut Ctx<'_, F>,
    ) {
        if let Some(acc) = self.open.as_mut().filter(|a| a.key == key) {
            let applied = acc.add_trade(seq, tick);
            ctx.count(applied);
            if ctx.open_updates == OpenUpdates::EveryTick {
                ctx.emit(acc, false);
            }
        } else if self.frontier == Some(key) && !self.frontier_closed {
            let (mut acc, applied) = Accumulator::new(key, seq, tick);
            ctx.count(applied);
            if ctx.open_updates == OpenUpdates::EveryTick {
                ctx.emit(&mut acc, false);
            }
            self.open = Some(acc);
        } else {
            self.amend_closed(key, seq, Op::Trade(tick), ctx);
        }
    }

    pub fn cancel<F: FnMut(CandleEvent)>(
        &mut self,
        key: u64,
        seq: u64,
        tick: &Tick,
        ctx: &mut Ctx<'_, F>,
    ) {
        if let Some(acc) = self.open.as_mut().filter(|a| a.key == key) {
            if acc.can_cancel(tick) {
                let applied = acc.cancel_trade(seq, tick);
                ctx.count(applied);
                if ctx.open_updates == OpenUpdates::EveryTick {
                    ctx.emit(acc, false);
                }
            } else {
                ctx.skip(seq, key, SkipReason::UnmatchedCancel);
            }
        } else if self.frontier.is_some_and(|f| key < f || (key == f && self.frontier_closed)) {
            self.amend_closed(key, seq, Op::Cancel(tick), ctx);
        } else {
            ctx.skip(seq, key, SkipReason::UnmatchedCancel);
        }
    }

    /// Applies a tick to a bucket that is closed (or would have been, had it had a trade) and re-emits it.
    fn amend_closed<F: FnMut(CandleEvent)>(
        &mut self,
        key: u64,
        seq: u64,
        op: Op<'_>,
        ctx: &mut Ctx<'_, F>,
    ) {
        let pos = self.retained.binary_search_by_key(&key, |a| a.key);
        match (pos, op) {
            (Ok(i), _) => {
                let acc = &mut self.retained[i];
                let applied = match op {
                    Op::Trade(tick) => acc.add_trade(seq, tick),
                    Op::Cancel(tick) if acc.can_cancel(tick) => acc.cancel_trade(seq, tick),
                    Op::Cancel(_) => return ctx.skip(seq, key, SkipReason::UnmatchedCancel),
                };
                ctx.count(applied);
                acc.version = acc.version.saturating_add(1);
                ctx.stats.late_ticks += 1;
                ctx.emit(acc, true);
            }
            (Err(_), _) if self.horizon.is_some_and(|h| key <= h) => {
                ctx.skip(seq, key, SkipReason::TooLate)
            }
            (Err(_), Op::Cancel(_)) => ctx.skip(seq, key, SkipReason::UnmatchedCancel),
            (Err(i), Op::Trade(tick)) => {
                let (mut acc, applied) = Accumulator::new(key, seq, tick);
                ctx.count(applied);
                ctx.stats.late_ticks += 1;
                ctx.emit(&mut acc, true);
                self.retained.insert(i, acc);
                self.evict(ctx.retention);
            }
        }
    }

    /// Clock tick: closes the frontier bucket once the clock is past its end plus grace, else (in
    /// `OnClock` mode) emits the open bucket if it changed.
    pub fn on_clock<F: FnMut(CandleEvent)>(&mut self, ctx: &mut Ctx<'_, F>) {
        match self.frontier {
            Some(f) if !self.frontier_closed && ctx.clock_passed(f) => {
                self.frontier_closed = true;
                self.close_open(ctx);
            }
            _ => {
                if let Some(acc) = self.open.as_mut().filter(|a| a.dirty) {
                    if ctx.open_updates == OpenUpdates::OnClock {
                        ctx.emit(acc, false);
                    }
                }
            }
        }
    }

    /// End of input: closes the open bucket whatever the clock says.
    pub fn close_all<F: FnMut(CandleEvent)>(&mut self, ctx: &mut Ctx<'_, F>) {
        self.frontier_closed = self.frontier.is_some();
        self.close_open(ctx);
    }

    fn close_open<F: FnMut(CandleEvent)>(&mut self, ctx: &mut Ctx<'_, F>) {
        if let Some(mut acc) = self.open.take() {
            ctx.emit(&mut acc, true);
            // The open bucket is at the frontier, above every retained key: appending keeps the order.
            self.retained.push_back(acc);
            self.evict(ctx.retention);
        }
    }

    fn evict(&mut self, retention: usize) {
        while self.retained.len() > retention {
            if let Some(old) = self.retained.pop_front() {
                self.horizon = Some(self.horizon.map_or(old.key, |h| h.max(old.key)));
            }
        }
    }

    /// Open plus retained buckets, for memory accounting and tests.
    pub fn bucket_count(&self) -> usize {
        self.retained.len() + usize::from(self.open.is_some())
    }
}
