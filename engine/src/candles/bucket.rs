//! The label of a candle: its bucket start in UTC for intraday series, the trading day for daily ones.

use super::interval::{Interval, NS_PER_DAY};
use crate::tick::Tick;
use chrono::{DateTime, NaiveDate};
use std::fmt;

/// Days from 0001-01-01 (chrono's day 1) to 1970-01-01.
const UNIX_EPOCH_DAYS_FROM_CE: i64 = 719_163;

/// Where a candle sits on its series' axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Bucket {
    /// Intraday: the bucket start, nanoseconds since the Unix epoch, UTC (floor of the event time).
    Start(u64),
    /// Daily: the exchange trading day, days since 1970-01-01 (as in [`Tick::trading_day`]).
    TradingDay(u32),
}

impl Bucket {
    /// The bucket a tick falls in for `interval`; `None` for a daily interval when the tick has no trading day.
    pub fn of(interval: Interval, tick: &Tick) -> Option<Self> {
        match interval.intraday_ns() {
            Some(len) => Some(Self::Start(tick.ts_event_ns - tick.ts_event_ns % len)),
            None if tick.trading_day == Tick::NO_TRADING_DAY => None,
            None => Some(Self::TradingDay(tick.trading_day)),
        }
    }

    /// A monotone `u64` key, comparable within one interval.
    pub(crate) fn key(self) -> u64 {
        match self {
            Self::Start(ns) => ns,
            Self::TradingDay(day) => u64::from(day),
        }
    }

    pub(crate) fn from_key(interval: Interval, key: u64) -> Self {
        match interval {
            // Daily keys come from a `u32` trading day, so the narrowing never fails.
            Interval::D1 => Self::TradingDay(u32::try_from(key).unwrap_or(u32::MAX)),
            _ => Self::Start(key),
        }
    }

    /// UTC nanosecond at which the bucket's trading is over at the latest.
    ///
    /// Intraday: the bucket end. Daily: the UTC midnight after the trading day's date plus `daily_lag_ns`; a
    /// trading day is labelled with the local date its session ends on, and every local date is over by the
    /// following UTC midnight plus the largest negative UTC offset (12 h), which is the default lag.
    pub(crate) fn end_ns(interval: Interval, key: u64, daily_lag_ns: u64) -> u64 {
        match interval.intraday_ns() {
            Some(len) => key.saturating_add(len),
            None => key.saturating_add(1).saturating_mul(NS_PER_DAY).saturating_add(daily_lag_ns),
        }
    }
}

/// Writes an intraday bucket as RFC 3339 UTC (`2024-03-11T13:30:00Z`) and a trading day as `2024-03-11`.
impl fmt::Display for Bucket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Start(ns) => {
                let secs = i64::try_from(ns / 1_000_000_000).map_err(|_| fmt::Error)?;
                let subsec = (ns % 1_000_000_000) as u32;
                let t = DateTime::from_timestamp(secs, subsec).ok_or(fmt::Error)?;
                if subsec == 0 {
                    write!(f, "{}", t.format("%Y-%m-%dT%H:%M:%SZ"))
                } else {
                    write!(f, "{}", t.format("%Y-%m-%dT%H:%M:%S%.9fZ"))
                }
            }
            Self::TradingDay(day) => {
                let d = NaiveDate::from_num_days_from_ce_opt(
                    i32::try_from(i64::from(day) + UNIX_EPOCH_DAYS_FROM_CE)
                        .map_err(|_| fmt::Error)?,
                )
                .ok_or(fmt::Error)?;
                write!(f, "{}", d.format("%Y-%m-%d"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixed::{Price, Quantity};
    use bytemuck::Zeroable;

    fn tick(ts: u64, day: u32) -> Tick {
        Tick {
            ts_event_ns: ts,
            trading_day: day,
            price: Price::from_units(1),
            size: Quantity::from_units(1),
            ..Tick::zeroed()
        }
    }

    // 2024-03-11T13:30:00.5Z
    const T: u64 = 1_710_163_800_500_000_000;

    #[test]
    fn intraday_buckets_floor_the_event_time() {
        assert_eq!(
            Bucket::of(Interval::S1, &tick(T, 0)),
            Some(Bucket::Start(1_710_163_800_000_000_000))
        );
        assert_eq!(
            Bucket::of(Interval::H1, &tick(T, 0)),
            Some(Bucket::Start(1_710_162_000_000_000_000))
        );
        assert_eq!(
            Bucket::of(Interval::M1, &tick(T, 0)).map(|b| b.to_string()).as_deref(),
            Some("2024-03-11T13:30:00Z")
        );
    }

    #[test]
    fn daily_buckets_use_the_trading_day() {
        assert_eq!(Bucket::of(Interval::D1, &tick(T, 0)), None);
        assert_eq!(Bucket::of(Interval::D1, &tick(T, 19_793)), Some(Bucket::TradingDay(19_793)));
        assert_eq!(Bucket::TradingDay(19_793).to_string(), "2024-03-11");
        assert_eq!(Bucket::TradingDay(0).to_string(), "1970-01-01");
    }

    #[test]
    fn daily_end_is_the_next_utc_midnight_plus_the_lag() {
        let lag = 12 * 3_600_000_000_000;
        assert_eq!(Bucket::end_ns(Interval::D1, 1, lag), 2 * NS_PER_DAY + lag);
        assert_eq!(Bucket::end_ns(Interval::M1, 60, 0), 60 + 60_000_000_000);
        assert_eq!(Bucket::end_ns(Interval::S1, u64::MAX - 1, 0), u64::MAX);
    }
}
