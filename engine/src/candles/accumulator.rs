//! The running state of one bucket: OHLC by `(ts, seq)` order, sums, and emission bookkeeping.

use super::bucket::Bucket;
use super::candle::Candle;
use super::interval::Series;
use super::turnover::Turnover;
use crate::fixed::{Price, Quantity};
use crate::tick::{Session, Tick};

/// A trade's place in time: event time first, ring sequence to break ties (same-millisecond trades).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Mark {
    ts: u64,
    seq: u64,
}

/// What applying a tick changed, so the caller can count overflows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Applied {
    pub volume_overflow: bool,
    pub turnover_overflow: bool,
}

#[derive(Clone, Debug)]
pub(crate) struct Accumulator {
    pub key: u64,
    open_at: Mark,
    open: Price,
    close_at: Mark,
    close: Price,
    high: Price,
    low: Price,
    volume: i64,
    trades: u64,
    turnover: Turnover,
    first_seq: u64,
    last_seq: u64,
    pub version: u32,
    /// A trade with an unknown session went in (see [`Candle::unverified`]).
    unverified: bool,
    /// Changed since it was last emitted (for clock-driven live updates).
    pub dirty: bool,
}

impl Accumulator {
    /// A bucket holding one trade.
    pub fn new(key: u64, seq: u64, tick: &Tick) -> (Self, Applied) {
        let at = Mark { ts: tick.ts_event_ns, seq };
        let mut acc = Self {
            key,
            open_at: at,
            open: tick.price,
            close_at: at,
            close: tick.price,
            high: tick.price,
            low: tick.price,
            volume: 0,
            trades: 0,
            turnover: Turnover::ZERO,
            first_seq: seq,
            last_seq: seq,
            version: 1,
            unverified: false,
            dirty: true,
        };
        let applied = acc.add_sums(tick);
        (acc, applied)
    }

    /// Adds a trade (or the corrected trade of a correction).
    pub fn add_trade(&mut self, seq: u64, tick: &Tick) -> Applied {
        let at = Mark { ts: tick.ts_event_ns, seq };
        if at < self.open_at {
            self.open_at = at;
            self.open = tick.price;
        }
        if at > self.close_at {
            self.close_at = at;
            self.close = tick.price;
        }
        self.high = self.high.max(tick.price);
        self.low = self.low.min(tick.price);
        self.touch(seq);
        self.add_sums(tick)
    }

    fn add_sums(&mut self, tick: &Tick) -> Applied {
        let mut applied = Applied::default();
        self.unverified |= tick.session() == Session::Unknown;
        self.volume = self.volume.checked_add(tick.size.raw()).unwrap_or_else(|| {
            applied.volume_overflow = true;
            i64::MAX
        });
        self.trades = self.trades.saturating_add(1);
        let value = Turnover::of_trade(tick.price, tick.size);
        self.turnover = self.turnover.checked_add(value).unwrap_or_else(|| {
            applied.turnover_overflow = true;
            Turnover(i128::MAX)
        });
        applied
    }

    /// Whether a cancel of `tick` can be taken out of this bucket: it must hold a trade and enough volume.
    pub fn can_cancel(&self, tick: &Tick) -> bool {
        self.trades > 0 && tick.size.raw() <= self.volume
    }

    /// Takes a cancelled trade's size, value and count out. OHLC stay: the bucket does not keep its trade
    /// list (a day of trades per instrument is too much to hold), so they cannot be recomputed exactly.
    pub fn cancel_trade(&mut self, seq: u64, tick: &Tick) -> Applied {
        let mut applied = Applied::default();
        self.volume -= tick.size.raw(); // `can_cancel` checked 0 <= size <= volume.
        self.trades -= 1;
        let value = Turnover::of_trade(tick.price, tick.size);
        self.turnover = self.turnover.checked_sub(value).unwrap_or_else(|| {
            applied.turnover_overflow = true;
            Turnover(i128::MIN)
        });
        self.touch(seq);
        applied
    }

    fn touch(&mut self, seq: u64) {
        self.first_seq = self.first_seq.min(seq);
        self.last_seq = self.last_seq.max(seq);
        self.dirty = true;
    }

    pub fn candle(&self, instrument_id: u32, series: Series, closed: bool) -> Candle {
        let volume = Quantity::from_raw(self.volume);
        Candle {
            instrument_id,
            series,
            bucket: Bucket::from_key(series.interval, self.key),
            open: self.open,
            high: self.high,
            low: self.low,
            close: self.close,
            volume,
            trades: self.trades,
            turnover: self.turnover,
            vwap: self.turnover.vwap(volume).unwrap_or(self.close),
            first_seq: self.first_seq,
            last_seq: self.last_seq,
            version: self.version,
            closed,
            unverified: self.unverified,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytemuck::Zeroable;

    fn t(ts: u64, price: i64, size: i64) -> Tick {
        Tick {
            ts_event_ns: ts,
            price: Price::from_units(price),
            size: Quantity::from_units(size),
            ..Tick::zeroed()
        }
    }

    #[test]
    fn open_and_close_follow_time_then_sequence() {
        let (mut a, _) = Accumulator::new(0, 10, &t(5, 100, 1));
        a.add_trade(11, &t(5, 101, 1)); // same time, later seq: new close
        a.add_trade(9, &t(5, 99, 1)); // same time, earlier seq: new open
        a.add_trade(12, &t(4, 98, 1)); // late tick, older time: new open
        let c = a.candle(1, Series::S1, false);
        assert_eq!((c.open, c.close), (Price::from_units(98), Price::from_units(101)));
        assert_eq!((c.low, c.high), (Price::from_units(98), Price::from_units(101)));
        assert_eq!((c.first_seq, c.last_seq, c.trades), (9, 12, 4));
        assert_eq!(c.volume, Quantity::from_units(4));
        assert_eq!(c.vwap, Price::parse("99.5").expect("test value"));
    }

    #[test]
    fn cancel_takes_sums_out_and_keeps_ohlc() {
        let (mut a, _) = Accumulator::new(0, 1, &t(5, 100, 2));
        a.add_trade(2, &t(6, 110, 1));
        assert!(a.can_cancel(&t(6, 110, 1)));
        assert!(!a.can_cancel(&t(6, 110, 4)));
        a.cancel_trade(3, &t(6, 110, 1));
        let c = a.candle(1, Series::S1, true);
        assert_eq!(
            (c.trades, c.volume, c.turnover),
            (
                1,
                Quantity::from_units(2),
                Turnover::of_trade(Price::from_units(100), Quantity::from_units(2))
            )
        );
        assert_eq!(
            (c.close, c.high, c.vwap),
            (Price::from_units(110), Price::from_units(110), Price::from_units(100))
        );
        a.cancel_trade(4, &t(5, 100, 2));
        let c = a.candle(1, Series::S1, true);
        assert_eq!((c.trades, c.volume, c.vwap), (0, Quantity::ZERO, Price::from_units(110)));
        assert!(!a.can_cancel(&t(5, 100, 0)));
    }

    #[test]
    fn volume_saturates_and_reports_it() {
        let big = Tick { size: Quantity::from_raw(i64::MAX - 1), ..t(1, 1, 0) };
        let (mut a, first) = Accumulator::new(0, 1, &big);
        assert_eq!(first, Applied::default());
        let second = a.add_trade(2, &big);
        assert!(second.volume_overflow);
        assert_eq!(a.candle(1, Series::S1, false).volume, Quantity::from_raw(i64::MAX));
    }
}
