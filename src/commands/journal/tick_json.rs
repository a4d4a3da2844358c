//! One tick as a JSON line: where it is (epoch, seq), what it is (symbol, MIC, session, trading day), and
//! price and size as exact decimal strings (never floats), timestamps in nanoseconds.

use serde::Serialize;
use tickring_engine::candles::Bucket;
use tickring_engine::Tick;

#[derive(Serialize)]
struct Line<'a> {
    epoch: u64,
    seq: u64,
    symbol: &'a str,
    exchange: &'a str,
    session: &'static str,
    trading_day: Option<String>,
    price: String,
    size: String,
    trade_id: u64,
    flags: Vec<&'static str>,
    ts_event_ns: u64,
    ts_recv_ns: u64,
    ts_publish_ns: u64,
}

/// `tick` at (`epoch`, `seq`), its instrument named (`symbol`, `mic`) by that epoch's directory.
pub fn line(epoch: u64, seq: u64, symbol: &str, mic: &str, tick: &Tick) -> String {
    let line = Line {
        epoch,
        seq,
        symbol,
        exchange: mic,
        session: tick.session().as_str(),
        trading_day: (tick.trading_day != Tick::NO_TRADING_DAY)
            .then(|| Bucket::TradingDay(tick.trading_day).to_string()),
        price: tick.price.to_string(),
        size: tick.size.to_string(),
        trade_id: tick.trade_id,
        flags: tick.flags().names().collect(),
        ts_event_ns: tick.ts_event_ns,
        ts_recv_ns: tick.ts_recv_ns,
        ts_publish_ns: tick.ts_publish_ns,
    };
    // Plain strings and numbers: serialising cannot fail.
    serde_json::to_string(&line).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tickring_engine::{Exchange, Price, Quantity, Session};

    #[test]
    fn prices_are_exact_decimals_and_days_are_dates() {
        let tick = Tick {
            ts_event_ns: 7,
            ts_recv_ns: 8,
            ts_publish_ns: 9,
            price: Price::parse("187.4305").expect("price"),
            size: Quantity::parse("100").expect("size"),
            trade_id: 0,
            instrument_id: 0,
            trading_day: 20_647, // 2026-07-13
            exchange: Exchange::Xnas as u16,
            session: Session::Regular as u8,
            flags: 0,
            reserved: [0; 4],
        };
        let v: serde_json::Value =
            serde_json::from_str(&line(3, 9, "AAPL.O", "XNAS", &tick)).expect("json");
        assert_eq!(v["price"], "187.4305");
        assert_eq!(v["size"], "100");
        assert_eq!((v["epoch"].as_u64(), v["seq"].as_u64()), (Some(3), Some(9)));
        assert_eq!(v["session"], "regular");
        assert_eq!(v["trading_day"], "2026-07-13");
        assert_eq!(v["ts_event_ns"], 7);
    }
}
