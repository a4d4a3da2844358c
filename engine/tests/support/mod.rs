//! Tick builders and a small fixture reader shared by the candle tests.
#![allow(dead_code)] // each test binary uses a different part

use bytemuck::Zeroable;
use chrono::{DateTime, NaiveDate};
use tickring_engine::candles::{Candle, CandleEvent};
use tickring_engine::{Price, Quantity, Session, Tick, TickFlags};

/// Nanoseconds since the epoch of an RFC 3339 time (`2024-03-11T13:30:00.001Z`).
pub fn ns(rfc3339: &str) -> u64 {
    let t = DateTime::parse_from_rfc3339(rfc3339).expect("test time");
    u64::try_from(t.timestamp_nanos_opt().expect("in range")).expect("after 1970")
}

/// Trading day number of `YYYY-MM-DD`.
pub fn day(date: &str) -> u32 {
    let d = NaiveDate::parse_from_str(date, "%Y-%m-%d").expect("test date");
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch");
    u32::try_from((d - epoch).num_days()).expect("after 1970")
}

/// A trade: instrument, event time, price, size, trading day (`""` for none), session.
pub fn trade(
    instrument_id: u32,
    ts: &str,
    price: &str,
    size: &str,
    trading_day: &str,
    session: Session,
) -> Tick {
    Tick {
        ts_event_ns: ns(ts),
        price: Price::parse(price).expect("test price"),
        size: Quantity::parse(size).expect("test size"),
        instrument_id,
        trading_day: if trading_day.is_empty() { 0 } else { day(trading_day) },
        session: session as u8,
        flags: TickFlags::REGULAR,
        ..Tick::zeroed()
    }
}

pub fn with_flags(mut tick: Tick, flags: u8) -> Tick {
    tick.flags = flags;
    tick
}

/// Reads a fixture: `seq,ts,symbol,price,size,trading_day,session,flags`, `#` comments, flags joined by `|`,
/// `-` for no trading day. Instrument ids are the symbols' positions in the returned list (first seen first).
pub fn read_fixture(text: &str) -> (Vec<(u64, Tick)>, Vec<String>) {
    let mut symbols: Vec<String> = Vec::new();
    let ticks = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with("seq,"))
        .map(|line| {
            let f: Vec<&str> = line.split(',').map(str::trim).collect();
            assert_eq!(f.len(), 8, "fixture line {line:?}");
            let id = symbols.iter().position(|s| s == f[2]).unwrap_or_else(|| {
                symbols.push(f[2].to_string());
                symbols.len() - 1
            });
            let session =
                Session::ALL.into_iter().find(|s| s.as_str() == f[6]).expect("session name");
            let td = if f[5] == "-" { "" } else { f[5] };
            let mut tick = trade(id as u32, f[1], f[3], f[4], td, session);
            tick.flags =
                f[7].split('|').filter(|n| !n.is_empty()).fold(0, |bits, n| bits | flag(n));
            (f[0].parse().expect("seq"), tick)
        })
        .collect();
    (ticks, symbols)
}

fn flag(name: &str) -> u8 {
    match name {
        "regular" => TickFlags::REGULAR,
        "extended_hours" => TickFlags::EXTENDED_HOURS,
        "correction" => TickFlags::CORRECTION,
        "cancel" => TickFlags::CANCEL,
        "out_of_order" => TickFlags::OUT_OF_ORDER,
        other => panic!("unknown flag {other}"),
    }
}

/// Candle updates only, in order.
pub fn candles(events: &[CandleEvent]) -> Vec<Candle> {
    events
        .iter()
        .filter_map(|e| match e {
            CandleEvent::Update(c) => Some(*c),
            CandleEvent::Skipped(_) => None,
        })
        .collect()
}
