//! Counters the sinks export, so that nothing the aggregator did to a tick goes unseen.

use super::candle::SkipReason;

/// Counters of one [`super::CandleAggregator`]. Per-series counters add up over all configured series.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AggregatorStats {
    /// Ticks given to `on_tick`.
    pub ticks: u64,
    /// Ticks without a trading day: in intraday series only.
    pub no_trading_day: u64,
    /// Ticks flagged CANCEL / CORRECTION.
    pub cancels: u64,
    pub corrections: u64,
    /// Tick applications to a bucket that had already closed (each re-emits that candle with a new version).
    pub late_ticks: u64,
    /// Tick applications refused because the bucket is past retention (reported as `SkipReason::TooLate`).
    pub too_late: u64,
    pub unmatched_cancels: u64,
    pub negative_size: u64,
    /// Buckets whose volume saturated at `i64::MAX` raw, or whose turnover hit the `i128` limit.
    pub volume_overflows: u64,
    pub turnover_overflows: u64,
    /// Candles emitted closed with version 1, re-emitted with a higher version, and emitted live.
    pub closed: u64,
    pub reemitted: u64,
    pub live_updates: u64,
}

impl AggregatorStats {
    pub(crate) fn skipped(&mut self, reason: SkipReason) {
        match reason {
            SkipReason::TooLate => self.too_late += 1,
            SkipReason::UnmatchedCancel => self.unmatched_cancels += 1,
            SkipReason::NegativeSize => self.negative_size += 1,
        }
    }
}
