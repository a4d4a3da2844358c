//! Offline: the final candles of a finished tick stream, and their CSV rendering.

use super::aggregator::CandleAggregator;
use super::candle::{Candle, CandleEvent};
use super::config::{CandleConfig, CandleConfigError, OpenUpdates, Retention};
use super::interval::{DailyScope, Interval, Series};
use super::stats::AggregatorStats;
use super::turnover::write_turnover;
use crate::fixed::write_decimal;
use crate::tick::Tick;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{self, Write};

pub const CSV_HEADER: &str = "bucket,symbol,open,high,low,close,volume,trades,turnover,vwap";

#[derive(Debug, thiserror::Error)]
pub enum CsvError {
    #[error("cannot write candles: {0}")]
    Io(#[from] io::Error),
    #[error("bad candle settings: {0}")]
    Config(#[from] CandleConfigError),
}

/// The last version of every candle of `series` over `ticks` (`(ring sequence, tick)` in arrival order),
/// sorted by bucket then instrument id, without candles whose trades were all cancelled.
///
/// Nothing is too late offline (retention is unbounded), so the result does not depend on arrival order
/// beyond the sequence numbers breaking event-time ties.
///
/// # Errors
/// None in practice; the error type is kept for the shared configuration check.
pub fn final_candles(
    ticks: impl IntoIterator<Item = (u64, Tick)>,
    series: Series,
) -> Result<(Vec<Candle>, AggregatorStats), CandleConfigError> {
    let config = CandleConfig {
        series: vec![series],
        retention: Retention::UNBOUNDED,
        open_updates: OpenUpdates::Off,
        ..CandleConfig::default()
    };
    let mut agg = CandleAggregator::new(config)?;
    let mut last: HashMap<(u32, super::Bucket), Candle> = HashMap::new();
    let mut keep = |e: CandleEvent| {
        // Versions only grow, so the last closed emission of a bucket is its final candle.
        if let CandleEvent::Update(c) = e {
            if c.closed {
                last.insert((c.instrument_id, c.bucket), c);
            }
        }
    };
    for (seq, tick) in ticks {
        agg.on_tick(seq, &tick, &mut keep);
    }
    agg.close_all(&mut keep);
    let mut candles: Vec<Candle> = last.into_values().filter(|c| c.trades > 0).collect();
    candles.sort_by_key(|c| (c.bucket, c.instrument_id));
    Ok((candles, *agg.stats()))
}

/// Writes `bucket,symbol,open,high,low,close,volume,trades,turnover,vwap` rows: bucket as RFC 3339 UTC
/// (intraday) or `YYYY-MM-DD` (daily), exact decimals, ordered by bucket then symbol, final versions only.
///
/// Returns the aggregator's counters so the caller can report cancels that matched nothing and the like.
///
/// # Errors
/// Writing to `out` failed.
pub fn candles_to_csv(
    ticks: impl IntoIterator<Item = (u64, Tick)>,
    interval: Interval,
    scope: DailyScope,
    symbol_of: impl Fn(u32) -> String,
    out: impl Write,
) -> Result<AggregatorStats, CsvError> {
    let (candles, stats) = final_candles(ticks, Series::new(interval, scope))?;
    let mut rows: Vec<(String, Candle)> =
        candles.into_iter().map(|c| (symbol_of(c.instrument_id), c)).collect();
    rows.sort_by(|(sa, a), (sb, b)| {
        (a.bucket, sa, a.instrument_id).cmp(&(b.bucket, sb, b.instrument_id))
    });

    let mut out = io::BufWriter::new(out);
    writeln!(out, "{CSV_HEADER}")?;
    let mut line = String::with_capacity(160);
    for (symbol, c) in &rows {
        line.clear();
        format_row(&mut line, symbol, c)
            .map_err(|_| io::Error::other("candle row does not format"))?;
        out.write_all(line.as_bytes())?;
    }
    out.flush()?;
    Ok(stats)
}

fn format_row(line: &mut String, symbol: &str, c: &Candle) -> std::fmt::Result {
    write!(line, "{},", c.bucket)?;
    write_field(line, symbol)?;
    for raw in [c.open.raw(), c.high.raw(), c.low.raw(), c.close.raw(), c.volume.raw()] {
        line.push(',');
        write_decimal(line, raw)?;
    }
    write!(line, ",{},", c.trades)?;
    write_turnover(line, c.turnover.raw())?;
    line.push(',');
    write_decimal(line, c.vwap.raw())?;
    line.push('\n');
    Ok(())
}

/// RFC 4180 quoting, only when the symbol needs it.
fn write_field(line: &mut String, field: &str) -> std::fmt::Result {
    if field.contains([',', '"', '\n', '\r']) {
        write!(line, "\"{}\"", field.replace('"', "\"\""))
    } else {
        line.write_str(field)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_only_symbols_that_need_it() {
        let mut s = String::new();
        write_field(&mut s, "BRK.B").expect("test value");
        write_field(&mut s, "A,\"B\"").expect("test value");
        assert_eq!(s, "BRK.B\"A,\"\"B\"\"\"");
    }
}
