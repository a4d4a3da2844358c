//! What the aggregator emits: candles, and ticks it could not place.

use super::bucket::Bucket;
use super::interval::Series;
use super::turnover::Turnover;
use crate::fixed::{Price, Quantity};

/// One candle as emitted, either live (`closed == false`) or final (`closed == true`).
///
/// A candle is emitted with `closed == true` exactly once per version: version 1 when its bucket closes, and
/// version 2, 3, ... each time a late tick or cancel amends it afterwards. Live updates carry version 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Candle {
    pub instrument_id: u32,
    pub series: Series,
    pub bucket: Bucket,
    /// Price of the first trade by `(ts_event_ns, seq)`.
    pub open: Price,
    pub high: Price,
    pub low: Price,
    /// Price of the last trade by `(ts_event_ns, seq)`.
    pub close: Price,
    /// Sum of sizes (saturating at the `i64` limit; see [`super::AggregatorStats::volume_overflows`]).
    pub volume: Quantity,
    /// Trades counted, less cancelled ones. Zero only when every trade was cancelled: drop the candle.
    pub trades: u64,
    pub turnover: Turnover,
    /// `turnover / volume` rounded half-to-even to 1e-8; the close price when the volume is zero.
    pub vwap: Price,
    /// Lowest and highest ring sequence that contributed (trades, corrections and cancels).
    pub first_seq: u64,
    pub last_seq: u64,
    pub version: u32,
    pub closed: bool,
    /// Some trade's session was [`crate::Session::Unknown`] (outside its calendar's coverage): its
    /// trading day is the exchange's local date, not one a calendar vouched for.
    pub unverified: bool,
}

/// Why a tick did not enter one series.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SkipReason {
    /// Its bucket is older than the closed buckets still retained; the candle there cannot be amended.
    TooLate,
    /// A cancel for a bucket holding no trade it could cancel (no candle, or less volume than it removes).
    UnmatchedCancel,
    /// A negative size cannot be a trade; it is refused rather than silently subtracting volume.
    NegativeSize,
}

/// A tick left out of one series, reported so that nothing is dropped silently.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SkippedTick {
    pub seq: u64,
    pub instrument_id: u32,
    pub series: Series,
    pub bucket: Bucket,
    pub reason: SkipReason,
}

/// One output of [`super::CandleAggregator`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CandleEvent {
    Update(Candle),
    Skipped(SkippedTick),
}
