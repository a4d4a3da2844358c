//! `tickring candles`: the same classification and candle aggregation the sinks run, offline over any file
//! the replay feed reads, printed as CSV.

use super::feeds::{bounded, calendars, field_mapping, open_replay};
use crate::tuning::Tuning;
use anyhow::{Context, Result};
use std::path::PathBuf;
use tickring_engine::candles::{candles_to_csv, DailyScope, Interval};
use tickring_engine::feed::{FeedItem, Poll};
use tickring_engine::ingest::Classifier;
use tickring_engine::InstrumentEntry;

#[derive(Debug, clap::Args)]
pub struct CandlesArgs {
    /// 1s, 1m, 1h or 1d (daily candles are labelled by the exchange's trading day).
    #[arg(long, default_value = "1m")]
    interval: Interval,
    /// Which trades count: all (every session) or regular (regular session only).
    #[arg(long, default_value = "all")]
    scope: DailyScope,
    /// Format of FILE: lseg, jsonl or csv; guessed if omitted.
    #[arg(long, value_parser = ["lseg", "jsonl", "csv"])]
    format: Option<String>,
    /// CSV column names, e.g. `symbol=ric,ts=time,price=px,size=qty`.
    #[arg(long, value_parser = super::feeds::parse_csv_columns)]
    csv_columns: Option<tickring_engine::feed::replay::CsvColumns>,
    /// A recorded file (LSEG dump, canonical JSON lines or CSV).
    file: PathBuf,
}

pub fn run(tuning: &Tuning, args: CandlesArgs) -> Result<()> {
    // Bounded as ingest bounds it, so these candles are the sinks' candles.
    let mut source = bounded(
        tuning,
        open_replay(
            &args.file,
            args.format.as_deref(),
            args.csv_columns.as_ref(),
            field_mapping(tuning)?,
        )?,
    );
    let mut classifier = Classifier::new(&calendars(tuning)?, tuning.ingest.exchange_overrides()?);
    let mut directory: Vec<InstrumentEntry> = Vec::new();
    let mut ticks = Vec::new();
    let mut rejected = 0u64;
    loop {
        let poll = source.next_batch(1024, &mut |item| match item {
            FeedItem::Trade(trade) => {
                let mut register = |e: &InstrumentEntry| {
                    directory.push(*e);
                    u32::try_from(directory.len() - 1).ok()
                };
                match classifier.classify(&trade, &mut register) {
                    Ok(tick) => ticks.push((ticks.len() as u64, tick)),
                    Err(e) => {
                        rejected += 1;
                        tracing::warn!(reason = %e.reason, detail = %e.detail, "trade skipped");
                    }
                }
            }
            FeedItem::Rejected(r) => {
                rejected += 1;
                tracing::warn!(reason = %r.reason, line = r.line, detail = %r.detail, "line rejected");
            }
            FeedItem::Link(_) => {}
        })?;
        if poll == Poll::End {
            break;
        }
    }
    let symbol_of =
        |id: u32| directory.get(id as usize).map(|e| e.symbol().into_owned()).unwrap_or_default();
    let stats =
        candles_to_csv(ticks, args.interval, args.scope, symbol_of, std::io::stdout().lock())
            .context("writing candles")?;
    if rejected > 0 || stats.unmatched_cancels > 0 {
        tracing::warn!(
            rejected,
            unmatched_cancels = stats.unmatched_cancels,
            "some input did not make candles"
        );
    }
    Ok(())
}
