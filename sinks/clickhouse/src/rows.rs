//! Rows as they travel to ClickHouse (RowBinary): fixed point stays raw `i64` (`Decimal(18, 8)`), dates are
//! day numbers, enums their codes. Symbols are borrowed, so building a row allocates nothing.

use clickhouse::Row;
use serde::{Deserialize, Serialize};
use tickring_engine::candles::{Bucket, Candle};
use tickring_engine::fixed::{Price, Quantity};
use tickring_engine::{Exchange, Tick};

const NS_PER_SEC: u64 = 1_000_000_000;

/// Seconds since the epoch for a `DateTime` column (saturating past 2106).
pub fn datetime(ts_ns: u64) -> u32 {
    u32::try_from(ts_ns / NS_PER_SEC).unwrap_or(u32::MAX)
}

/// A `Date` column from a trading day (days since 1970-01-01; 0, "none", stays 1970-01-01).
pub fn date(day: u32) -> u16 {
    u16::try_from(day).unwrap_or(u16::MAX)
}

/// One row of `ticks`.
#[derive(Debug, Row, Serialize)]
pub struct TickRow<'a> {
    pub ts_ns: u64,
    pub ts: u32,
    pub recv_ns: u64,
    pub publish_ns: u64,
    pub epoch: u64,
    pub seq: u64,
    pub symbol: &'a str,
    pub exchange: &'a str,
    pub session: i8,
    pub trading_day: u16,
    pub price: i64,
    pub size: i64,
    pub trade_id: u64,
    pub flags: u8,
}

impl<'a> TickRow<'a> {
    pub fn new(epoch: u64, seq: u64, tick: &Tick, symbol: &'a str, exchange: &'a str) -> Self {
        Self {
            ts_ns: tick.ts_event_ns,
            ts: datetime(tick.ts_event_ns),
            recv_ns: tick.ts_recv_ns,
            publish_ns: tick.ts_publish_ns,
            epoch,
            seq,
            symbol,
            exchange,
            session: tick.session() as i8,
            trading_day: date(tick.trading_day),
            price: tick.price.raw(),
            size: tick.size.raw(),
            trade_id: tick.trade_id,
            flags: tick.flags,
        }
    }

    /// Bytes of the row on the wire (RowBinary), for the `max_bytes` threshold.
    pub fn wire_bytes(symbol: &str, exchange: &str) -> usize {
        8 * 9 + 4 + 2 + 1 + 1 + 2 + symbol.len() + exchange.len()
    }
}

/// A tick as read back for recovery (same columns, owned).
#[derive(Debug, Row, Deserialize)]
pub struct StoredTick {
    pub seq: u64,
    pub ts_ns: u64,
    pub recv_ns: u64,
    pub publish_ns: u64,
    pub symbol: String,
    pub exchange: String,
    pub session: i8,
    pub trading_day: u16,
    pub price: i64,
    pub size: i64,
    pub trade_id: u64,
    pub flags: u8,
}

impl StoredTick {
    /// Column list matching the field order, for `SELECT`.
    pub const COLUMNS: &'static str = "seq, ts_ns, recv_ns, publish_ns, symbol, exchange, session, trading_day, price, size, trade_id, flags";

    /// The tick as the aggregator saw it, with `instrument_id` set to the writer's own id.
    pub fn to_tick(&self, instrument_id: u32) -> Tick {
        let exchange = Exchange::from_mic(&self.exchange).unwrap_or(Exchange::Unknown);
        Tick {
            ts_event_ns: self.ts_ns,
            ts_recv_ns: self.recv_ns,
            ts_publish_ns: self.publish_ns,
            price: Price::from_raw(self.price),
            size: Quantity::from_raw(self.size),
            trade_id: self.trade_id,
            instrument_id,
            trading_day: u32::from(self.trading_day),
            exchange: exchange as u16,
            session: u8::try_from(self.session).unwrap_or(0),
            flags: self.flags,
            reserved: [0; 4],
        }
    }
}

macro_rules! candle_row {
    ($(#[$doc:meta])* $name:ident, $bucket:ident: $ty:ty) => {
        $(#[$doc])*
        #[derive(Debug, Row, Serialize)]
        pub struct $name<'a> {
            pub $bucket: $ty,
            pub symbol: &'a str,
            pub exchange: &'a str,
            pub scope: i8,
            pub open: i64,
            pub high: i64,
            pub low: i64,
            pub close: i64,
            pub volume: i64,
            pub trades: u64,
            pub turnover: i128,
            pub vwap: i64,
            pub first_seq: u64,
            pub last_seq: u64,
            pub version: u32,
            pub closed: u8,
            pub unverified: u8,
            pub rev: u64,
        }

        impl<'a> $name<'a> {
            pub fn new($bucket: $ty, c: &Candle, rev: u64, symbol: &'a str, exchange: &'a str) -> Self {
                Self {
                    $bucket,
                    symbol,
                    exchange,
                    scope: c.series.scope as i8,
                    open: c.open.raw(),
                    high: c.high.raw(),
                    low: c.low.raw(),
                    close: c.close.raw(),
                    volume: c.volume.raw(),
                    trades: c.trades,
                    turnover: c.turnover.raw(),
                    vwap: c.vwap.raw(),
                    first_seq: c.first_seq,
                    last_seq: c.last_seq,
                    version: c.version,
                    closed: u8::from(c.closed),
                    unverified: u8::from(c.unverified),
                    rev,
                }
            }
        }
    };
}

candle_row!(
    /// One row of `candles_1s` / `candles_1m` / `candles_1h`: the UTC bucket start (`DateTime`) first.
    IntradayCandleRow, bucket: u32
);
candle_row!(
    /// One row of `candles_1d`: the exchange trading day (`Date`) first.
    DailyCandleRow, trading_day: u16
);

/// The `DateTime` of an intraday bucket or the `Date` of a daily one.
pub fn bucket_value(bucket: Bucket) -> Result<u32, u16> {
    match bucket {
        Bucket::Start(ns) => Ok(datetime(ns)),
        Bucket::TradingDay(day) => Err(date(day)),
    }
}

/// One row of `latest_price`.
#[derive(Debug, Row, Serialize)]
pub struct LatestRow<'a> {
    pub symbol: &'a str,
    pub exchange: &'a str,
    pub ts_ns: u64,
    pub ts: u32,
    pub price: i64,
    pub size: i64,
    pub session: i8,
    pub trading_day: u16,
    pub epoch: u64,
    pub seq: u64,
    pub recv_ns: u64,
}

impl<'a> LatestRow<'a> {
    pub fn new(epoch: u64, seq: u64, tick: &Tick, symbol: &'a str, exchange: &'a str) -> Self {
        Self {
            symbol,
            exchange,
            ts_ns: tick.ts_event_ns,
            ts: datetime(tick.ts_event_ns),
            price: tick.price.raw(),
            size: tick.size.raw(),
            session: tick.session() as i8,
            trading_day: date(tick.trading_day),
            epoch,
            seq,
            recv_ns: tick.ts_recv_ns,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_times_saturate() {
        assert_eq!(datetime(1_710_163_800_500_000_000), 1_710_163_800);
        assert_eq!(datetime(u64::MAX), u32::MAX);
        assert_eq!(date(19_793), 19_793);
        assert_eq!(date(70_000), u16::MAX);
    }
}
