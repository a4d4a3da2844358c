//! The candle aggregator: every instrument, every configured series, one tick at a time.

use super::bucket::Bucket;
use super::candle::{CandleEvent, SkipReason};
use super::config::{CandleConfig, CandleConfigError};
use super::instrument_index::InstrumentIndex;
use super::interval::{DailyScope, Series};
use super::series_state::{Ctx, SeriesState};
use super::stats::AggregatorStats;
use crate::tick::{Session, Tick, TickFlags};

/// Builds candles for all instruments of a ring from `(seq, tick)` in arrival order.
///
/// Deterministic: the same ticks and clock calls give the same events in the same order. Output goes to a
/// caller's closure; the steady path (a tick into an open bucket) allocates nothing.
///
/// * A trade enters the bucket of its event time (intraday) or trading day (daily) in every series whose
///   scope takes its session. Ticks without a trading day stay out of daily series.
/// * A bucket closes when a trade of the same instrument lands in a later bucket of that interval, when
///   `on_clock` passes its end plus `grace_ns`, or on `close_all`; it is then emitted once, closed, version 1.
/// * A tick for a closed bucket amends it and re-emits it with the next version; past retention it is
///   refused with a [`super::SkippedTick`] (`TooLate`).
/// * CANCEL ticks carry the cancelled trade (event time, price, size) and take its size, value and count
///   out of its bucket; OHLC are kept as they were, since buckets do not hold their trade lists (a day of
///   trades per instrument is too much) and so cannot recompute them exactly. CORRECTION ticks are
///   the corrected trade and are added like trades; the feed cancels the trade they replace. A tick with
///   both flags is a cancel.
#[derive(Debug)]
pub struct CandleAggregator {
    config: CandleConfig,
    index: InstrumentIndex,
    /// `config.series.len()` states per instrument slot.
    states: Vec<SeriesState>,
    clock_ns: u64,
    stats: AggregatorStats,
}

impl CandleAggregator {
    /// # Errors
    /// The configuration is invalid (see [`CandleConfig::validate`]).
    pub fn new(config: CandleConfig) -> Result<Self, CandleConfigError> {
        config.validate()?;
        Ok(Self {
            config,
            index: InstrumentIndex::default(),
            states: Vec::new(),
            clock_ns: 0,
            stats: AggregatorStats::default(),
        })
    }

    pub fn config(&self) -> &CandleConfig {
        &self.config
    }

    pub fn stats(&self) -> &AggregatorStats {
        &self.stats
    }

    /// Instruments seen so far.
    pub fn instruments(&self) -> usize {
        self.index.ids().len()
    }

    /// Open and retained buckets held, over all instruments and series.
    pub fn buckets_held(&self) -> usize {
        self.states.iter().map(SeriesState::bucket_count).sum()
    }

    /// Feeds one tick; `seq` is its ring sequence, which orders trades with equal event times.
    pub fn on_tick(&mut self, seq: u64, tick: &Tick, out: &mut impl FnMut(CandleEvent)) {
        let flags = tick.flags();
        let cancel = flags.contains(TickFlags::CANCEL);
        self.stats.ticks += 1;
        self.stats.cancels += u64::from(cancel);
        self.stats.corrections += u64::from(!cancel && flags.contains(TickFlags::CORRECTION));
        self.stats.no_trading_day += u64::from(tick.trading_day == Tick::NO_TRADING_DAY);

        let n = self.config.series.len();
        let (slot, new) = self.index.slot(tick.instrument_id);
        if new {
            self.states.resize_with(self.states.len() + n, SeriesState::default);
        }
        let regular = tick.session() == Session::Regular;
        let states = &mut self.states[slot * n..(slot + 1) * n];
        for (state, &series) in states.iter_mut().zip(&self.config.series) {
            let Some(bucket) = Bucket::of(series.interval, tick) else { continue };
            let key = bucket.key();
            let mut ctx = Ctx::new(
                &self.config,
                self.clock_ns,
                tick.instrument_id,
                series,
                &mut self.stats,
                out,
            );
            if tick.size.raw() < 0 {
                ctx.skip(seq, key, SkipReason::NegativeSize);
                continue;
            }
            let in_scope = series.scope == DailyScope::All || regular;
            if cancel {
                if in_scope {
                    state.cancel(key, seq, tick, &mut ctx);
                }
            } else {
                state.advance(key, &mut ctx);
                if in_scope {
                    state.trade(key, seq, tick, &mut ctx);
                }
            }
        }
    }

    /// Advances the clock (it never goes back): closes buckets whose end plus grace it passed and, in
    /// `OpenUpdates::OnClock` mode, emits open buckets changed since their last emission.
    pub fn on_clock(&mut self, now_ns: u64, out: &mut impl FnMut(CandleEvent)) {
        self.clock_ns = self.clock_ns.max(now_ns);
        self.for_each_state(out, |state, ctx| state.on_clock(ctx));
    }

    /// End of input (offline runs, shutdown): closes every open bucket now.
    pub fn close_all(&mut self, out: &mut impl FnMut(CandleEvent)) {
        self.for_each_state(out, |state, ctx| state.close_all(ctx));
    }

    fn for_each_state<F: FnMut(CandleEvent)>(
        &mut self,
        out: &mut F,
        mut f: impl FnMut(&mut SeriesState, &mut Ctx<'_, F>),
    ) {
        let n = self.config.series.len();
        for (chunk, &instrument_id) in self.states.chunks_mut(n).zip(self.index.ids()) {
            for (state, &series) in chunk.iter_mut().zip(&self.config.series) {
                let mut ctx = Ctx::new(
                    &self.config,
                    self.clock_ns,
                    instrument_id,
                    series,
                    &mut self.stats,
                    out,
                );
                f(state, &mut ctx);
            }
        }
    }

    /// The series this aggregator builds.
    pub fn series(&self) -> &[Series] {
        &self.config.series
    }
}
