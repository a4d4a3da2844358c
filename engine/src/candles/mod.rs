//! Candles (OHLC, volume, trades, turnover, VWAP) from ticks: 1s/1m/1h buckets by UTC event time and daily
//! buckets by exchange trading day, all sessions or regular only. Pure and deterministic: no clock is read,
//! time only comes from ticks and `on_clock`.

mod accumulator;
mod aggregator;
mod bucket;
mod candle;
mod config;
mod csv;
mod instrument_index;
mod interval;
mod series_state;
mod stats;
mod turnover;

pub use aggregator::CandleAggregator;
pub use bucket::Bucket;
pub use candle::{Candle, CandleEvent, SkipReason, SkippedTick};
pub use config::{CandleConfig, CandleConfigError, OpenUpdates, Retention};
pub use csv::{candles_to_csv, final_candles, CsvError, CSV_HEADER};
pub use interval::{DailyScope, Interval, IntervalParseError, Series};
pub use stats::AggregatorStats;
pub use turnover::{write_turnover, Turnover, TURNOVER_DIGITS};
