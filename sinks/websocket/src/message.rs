//! Outbound messages, encoded once as JSON objects; a frame is a JSON array of them (see docs/websocket.md).

use crate::channel::Kind;
use serde::Serialize;
use serde_json::Value;
use tickring_engine::candles::{Bucket, Candle};
use tickring_engine::{Exchange, Session, Tick};
use tickring_sink_core::Position;

/// What every event says about its instrument.
#[derive(Clone, Copy, Debug)]
pub struct Instrument<'a> {
    pub symbol: &'a str,
    pub exchange: Exchange,
}

/// Days since 1970-01-01 as `YYYY-MM-DD`; `None` for "no trading day".
fn trading_day(day: u32) -> Option<String> {
    (day != Tick::NO_TRADING_DAY).then(|| Bucket::TradingDay(day).to_string())
}

#[derive(Serialize)]
struct TradeMsg<'a> {
    r#type: &'static str,
    channel: String,
    symbol: &'a str,
    exchange: &'static str,
    session: &'static str,
    trading_day: Option<String>,
    epoch: u64,
    seq: u64,
    price: String,
    size: String,
    trade_id: u64,
    flags: Vec<&'static str>,
    ts_event: u64,
    ts_publish: u64,
}

/// A `trade` event.
pub fn trade(inst: Instrument<'_>, at: Position, tick: &Tick) -> String {
    encode(&TradeMsg {
        r#type: "trade",
        channel: crate::channel::Channel::name_for(Kind::Trade, inst.symbol),
        symbol: inst.symbol,
        exchange: inst.exchange.mic(),
        session: tick.session().as_str(),
        trading_day: trading_day(tick.trading_day),
        epoch: at.epoch,
        seq: at.seq,
        price: tick.price.to_string(),
        size: tick.size.to_string(),
        trade_id: tick.trade_id,
        flags: tick.flags().names().collect(),
        ts_event: tick.ts_event_ns,
        ts_publish: tick.ts_publish_ns,
    })
}

#[derive(Serialize)]
struct PriceMsg<'a> {
    r#type: &'static str,
    channel: String,
    symbol: &'a str,
    exchange: &'static str,
    session: &'static str,
    trading_day: Option<String>,
    epoch: u64,
    seq: u64,
    price: String,
    ts_event: u64,
    ts_publish: u64,
}

/// A `price` event: the latest trade price.
pub fn price(inst: Instrument<'_>, at: Position, tick: &Tick) -> String {
    encode(&PriceMsg {
        r#type: "price",
        channel: crate::channel::Channel::name_for(Kind::Price, inst.symbol),
        symbol: inst.symbol,
        exchange: inst.exchange.mic(),
        session: tick.session().as_str(),
        trading_day: trading_day(tick.trading_day),
        epoch: at.epoch,
        seq: at.seq,
        price: tick.price.to_string(),
        ts_event: tick.ts_event_ns,
        ts_publish: tick.ts_publish_ns,
    })
}

#[derive(Serialize)]
struct CandleMsg<'a> {
    r#type: &'static str,
    channel: String,
    symbol: &'a str,
    exchange: &'static str,
    session: &'static str,
    trading_day: Option<String>,
    interval: String,
    /// Intraday: bucket start (RFC 3339 UTC); daily: the trading day.
    start: String,
    /// Intraday: bucket start in ns since the epoch; daily: midnight UTC of the trading day.
    start_ns: u64,
    open: String,
    high: String,
    low: String,
    close: String,
    volume: String,
    trades: u64,
    vwap: String,
    version: u32,
    closed: bool,
    /// A trade outside its calendar's coverage went in: the trading day is the local date, unverified.
    unverified: bool,
}

/// A `candle` event. `session` and `trading_day` are the instrument's latest (for daily candles the trading
/// day is the candle's own).
pub fn candle(inst: Instrument<'_>, c: &Candle, session: Session, last_trading_day: u32) -> String {
    let (start_ns, day) = match c.bucket {
        Bucket::Start(ns) => (ns, last_trading_day),
        Bucket::TradingDay(d) => (u64::from(d) * 86_400_000_000_000, d),
    };
    encode(&CandleMsg {
        r#type: "candle",
        channel: crate::channel::Channel::name_for(Kind::Candle(c.series), inst.symbol),
        symbol: inst.symbol,
        exchange: inst.exchange.mic(),
        session: session.as_str(),
        trading_day: trading_day(day),
        interval: c.series.to_string(),
        start: c.bucket.to_string(),
        start_ns,
        open: c.open.to_string(),
        high: c.high.to_string(),
        low: c.low.to_string(),
        close: c.close.to_string(),
        volume: c.volume.to_string(),
        trades: c.trades,
        vwap: c.vwap.to_string(),
        version: c.version,
        closed: c.closed,
        unverified: c.unverified,
    })
}

/// The first message on every connection.
pub fn hello(limits: &Value) -> String {
    encode(&serde_json::json!({
        "type": "hello",
        "server": "tickring",
        "version": env!("CARGO_PKG_VERSION"),
        "limits": limits,
    }))
}

/// The reply to subscribe / unsubscribe / list: what the client holds now.
pub fn ack(op: &str, id: Option<&Value>, changed: &[String], holding: &[String]) -> String {
    ack_naming_unknown(op, id, changed, holding, &[])
}

/// An ack that also names the symbols of its exact channels this pusher has never seen (a misspelt
/// symbol, or one that has not traded yet): the subscription holds and starts delivering if it appears.
pub fn ack_naming_unknown(
    op: &str,
    id: Option<&Value>,
    changed: &[String],
    holding: &[String],
    unknown: &[String],
) -> String {
    let mut v = serde_json::json!({
        "type": "ack",
        "op": op,
        "id": id,
        "channels": changed,
        "subscriptions": holding,
    });
    if let (Some(map), false) = (v.as_object_mut(), unknown.is_empty()) {
        map.insert("unknown_symbols".into(), serde_json::json!(unknown));
    }
    encode(&v)
}

/// The state of one channel at subscribe time: `data` holds events of that channel, oldest first.
pub fn snapshot(channel: &str, events: &[String]) -> String {
    let mut s = String::with_capacity(64 + events.iter().map(String::len).sum::<usize>());
    s.push_str("{\"type\":\"snapshot\",\"channel\":");
    s.push_str(&encode(&channel));
    s.push_str(",\"data\":[");
    for (i, e) in events.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(e);
    }
    s.push_str("]}");
    s
}

/// Trades this client did not get because it fell behind (counted since the last notice).
pub fn slow_gap(dropped_trades: u64, dropped_updates: u64) -> String {
    encode(&serde_json::json!({
        "type": "gap",
        "reason": "slow_client",
        "dropped": dropped_trades,
        "dropped_updates": dropped_updates,
    }))
}

/// The server itself missed ring records (it was lapped) or the producer restarted.
/// The live feed was not listening from `from_ns` to `to_ns`: trades of that time were never received.
pub fn feed_gap(from_ns: u64, to_ns: u64, connection: u64) -> String {
    encode(&serde_json::json!({
        "type": "feed_gap",
        "from_ns": from_ns,
        "to_ns": to_ns,
        "connection": connection,
    }))
}

pub fn ring_gap(reason: &str, missed: u64, resume_seq: u64) -> String {
    encode(&serde_json::json!({
        "type": "gap",
        "reason": reason,
        "missed": missed,
        "resume_seq": resume_seq,
    }))
}

/// An error with a stable code and a human text; `id` echoes the request's when it had one.
pub fn error(code: &str, message: &str, id: Option<&Value>) -> String {
    encode(&serde_json::json!({ "type": "error", "code": code, "message": message, "id": id }))
}

/// Answer to an application-level `{"op":"ping"}` (for clients that cannot send websocket pings).
pub fn pong(id: Option<&Value>) -> String {
    encode(&serde_json::json!({ "type": "pong", "id": id }))
}

fn encode<T: Serialize + ?Sized>(value: &T) -> String {
    // Serializing these plain structs and `Value`s cannot fail (no maps with non-string keys, no I/O).
    serde_json::to_string(value).unwrap_or_else(|_| String::from("{\"type\":\"error\"}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tickring_engine::{Price, Quantity, TickFlags};

    fn tick() -> Tick {
        Tick {
            ts_event_ns: 1_710_163_800_000_000_000,
            ts_recv_ns: 0,
            ts_publish_ns: 7,
            price: Price::parse("189.5").expect("price"),
            size: Quantity::parse("100").expect("size"),
            trade_id: 42,
            instrument_id: 0,
            trading_day: 19_793,
            exchange: Exchange::Xnas as u16,
            session: Session::Regular as u8,
            flags: TickFlags::REGULAR,
            reserved: [0; 4],
        }
    }

    #[test]
    fn trade_carries_instrument_session_day_and_exact_decimals() {
        let inst = Instrument { symbol: "AAPL.O", exchange: Exchange::Xnas };
        let at = Position { epoch: 77, seq: 9 };
        let v: Value = serde_json::from_str(&trade(inst, at, &tick())).expect("json");
        assert_eq!(v["channel"], "trade.AAPL.O");
        assert_eq!(v["exchange"], "XNAS");
        assert_eq!(v["session"], "regular");
        assert_eq!(v["trading_day"], "2024-03-11");
        assert_eq!(v["price"], "189.5");
        assert_eq!(v["size"], "100");
        assert_eq!((v["epoch"].as_u64(), v["seq"].as_u64()), (Some(77), Some(9)));
        assert_eq!(v["flags"][0], "regular");
    }

    #[test]
    fn snapshot_wraps_events_and_escapes_the_channel() {
        let s = snapshot("price.\"x", &["{\"a\":1}".into(), "{\"b\":2}".into()]);
        let v: Value = serde_json::from_str(&s).expect("json");
        assert_eq!(v["channel"], "price.\"x");
        assert_eq!(v["data"][1]["b"], 2);
    }
}
