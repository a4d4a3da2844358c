//! Checks what ClickHouse holds against what the ticks say: exact tick counts without duplicates, every
//! candle equal to the offline aggregator's final candle, the latest price per instrument. Used by the
//! integration tests and by the benchmark (which refuses to report numbers for a wrong result).

use crate::fixture::INSTRUMENTS;
use crate::schema;
use clickhouse::{Client, Row};
use serde::Deserialize;
use std::collections::BTreeMap;
use tickring_engine::candles::{final_candles, Bucket, DailyScope, Interval, Series};
use tickring_engine::fixed::Quantity;
use tickring_engine::{Tick, TickFlags};

/// What the tick table holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TickCounts {
    /// Rows as stored (duplicates not yet merged away included).
    pub raw: u64,
    /// Rows with `FINAL` (duplicates merged).
    pub final_rows: u64,
    /// Distinct (epoch, seq).
    pub distinct: u64,
}

/// # Errors
/// The query failed.
pub async fn tick_counts(client: &Client) -> Result<TickCounts, String> {
    let q = |sql: &'static str| async move {
        client.query(sql).fetch_one::<u64>().await.map_err(|e| format!("{sql}: {e}"))
    };
    Ok(TickCounts {
        raw: q("SELECT count() FROM ticks").await?,
        final_rows: q("SELECT count() FROM ticks FINAL").await?,
        distinct: q("SELECT uniqExact(epoch, seq) FROM ticks").await?,
    })
}

#[derive(Debug, Row, Deserialize)]
struct CandleOut {
    symbol: String,
    b: u64,
    open: i64,
    high: i64,
    low: i64,
    close: i64,
    volume: i64,
    trades: u64,
    turnover: i128,
    vwap: i64,
    version: u32,
    closed: u8,
}

type CandleKey = (String, u64);
type CandleFields = (i64, i64, i64, i64, i64, u64, i128, i64, u32);

/// Compares every stored candle of `series` with `final_candles` of `ticks` (ring sequence = index).
/// With `versions`, the version numbers must match too.
///
/// # Errors
/// A description of the first differences (missing, extra or different candles), or a failed query.
pub async fn check_candles(
    client: &Client,
    ticks: &[Tick],
    series: Series,
    versions: bool,
) -> Result<usize, String> {
    let (expected, _) =
        final_candles(ticks.iter().enumerate().map(|(i, t)| (i as u64, *t)), series)
            .map_err(|e| e.to_string())?;
    let want: BTreeMap<CandleKey, CandleFields> = expected
        .iter()
        .map(|c| {
            let b = match c.bucket {
                Bucket::Start(ns) => ns / 1_000_000_000,
                Bucket::TradingDay(d) => u64::from(d),
            };
            let symbol = INSTRUMENTS.get(c.instrument_id as usize).map_or("?", |i| i.0).to_string();
            let v = if versions { c.version } else { 0 };
            (
                (symbol, b),
                (
                    c.open.raw(),
                    c.high.raw(),
                    c.low.raw(),
                    c.close.raw(),
                    c.volume.raw(),
                    c.trades,
                    c.turnover.raw(),
                    c.vwap.raw(),
                    v,
                ),
            )
        })
        .collect();
    let table = schema::candles(series.interval).name;
    let bucket = if series.interval == Interval::D1 { "trading_day" } else { "bucket" };
    let scope = if series.scope == DailyScope::All { "all" } else { "regular" };
    let sql = format!(
        "SELECT symbol, toUInt64({bucket}) AS b, open, high, low, close, volume, trades, turnover, vwap, version, closed \
         FROM {table} FINAL WHERE scope = '{scope}' AND trades > 0"
    );
    let rows =
        client.query(&sql).fetch_all::<CandleOut>().await.map_err(|e| format!("{sql}: {e}"))?;
    let mut got = BTreeMap::new();
    let mut problems = Vec::new();
    for r in rows {
        if r.closed != 1 {
            problems.push(format!("{series} {} {} not closed", r.symbol, r.b));
        }
        let v = if versions { r.version } else { 0 };
        got.insert(
            (r.symbol, r.b),
            (r.open, r.high, r.low, r.close, r.volume, r.trades, r.turnover, r.vwap, v),
        );
    }
    for (k, w) in &want {
        match got.get(k) {
            None => problems.push(format!("{series} {k:?} missing")),
            Some(g) if g != w => {
                problems.push(format!("{series} {k:?}: stored {g:?}, expected {w:?}"))
            }
            Some(_) => {}
        }
    }
    for k in got.keys().filter(|k| !want.contains_key(*k)) {
        problems.push(format!("{series} {k:?} stored but not expected"));
    }
    if problems.is_empty() {
        Ok(want.len())
    } else {
        let n = problems.len();
        problems.truncate(8);
        Err(format!("{n} candle differences, first: {}", problems.join("; ")))
    }
}

/// Compares `latest_price` with the newest non-cancel trade per instrument (later arrival wins ties).
///
/// # Errors
/// A description of the differences, or a failed query.
pub async fn check_latest(client: &Client, ticks: &[Tick]) -> Result<(), String> {
    let mut want: BTreeMap<String, (u64, i64)> = BTreeMap::new();
    for t in ticks.iter().filter(|t| !t.flags().contains(TickFlags::CANCEL)) {
        let symbol = INSTRUMENTS.get(t.instrument_id as usize).map_or("?", |i| i.0).to_string();
        let slot = want.entry(symbol).or_insert((0, 0));
        if t.ts_event_ns >= slot.0 {
            *slot = (t.ts_event_ns, t.price.raw());
        }
    }
    let sql = "SELECT symbol, ts_ns, price FROM latest_price FINAL";
    let rows = client
        .query(sql)
        .fetch_all::<(String, u64, i64)>()
        .await
        .map_err(|e| format!("{sql}: {e}"))?;
    let got: BTreeMap<String, (u64, i64)> = rows.into_iter().map(|(s, t, p)| (s, (t, p))).collect();
    if got == want {
        Ok(())
    } else {
        Err(format!("latest_price: stored {got:?}, expected {want:?}"))
    }
}

/// Compares the total traded size per symbol (every stored tick, cancels included, as published).
///
/// # Errors
/// A description of the differences, or a failed query.
pub async fn check_volumes(client: &Client, ticks: &[Tick]) -> Result<(), String> {
    let mut want: BTreeMap<String, i64> = BTreeMap::new();
    for t in ticks {
        let symbol = INSTRUMENTS.get(t.instrument_id as usize).map_or("?", |i| i.0).to_string();
        *want.entry(symbol).or_default() += t.size.raw();
    }
    let sql = "SELECT symbol, toString(sum(size)) FROM ticks FINAL GROUP BY symbol";
    let rows = client
        .query(sql)
        .fetch_all::<(String, String)>()
        .await
        .map_err(|e| format!("{sql}: {e}"))?;
    let mut got = BTreeMap::new();
    for (s, v) in rows {
        let q = Quantity::parse(&v).map_err(|e| format!("sum(size) {v:?}: {e}"))?;
        got.insert(s, q.raw());
    }
    if got == want {
        Ok(())
    } else {
        Err(format!("volumes: stored {got:?}, expected {want:?}"))
    }
}
