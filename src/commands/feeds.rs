//! Opening the feed a command reads: the simulator, a replay file (LSEG dump, canonical JSON lines, CSV)
//! or the live LSEG client, as `tuning.toml` or the command line says.

use crate::tuning::Tuning;
use anyhow::{bail, Context, Result};
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tickring_engine::calendar::Calendars;
use tickring_engine::feed::lseg::client::LsegClient;
use tickring_engine::feed::replay::{CanonicalReader, CsvColumns, CsvReader, LsegDumpReader};
use tickring_engine::feed::simulator::Simulator;
use tickring_engine::feed::{TimeBound, TradeSource};
use tickring_engine::ingest::{FeedKind, Pacer, Speed};
use tickring_engine::mapping::{self, Mapping};

/// Which feed to read, overriding `[ingest]`.
#[derive(Debug, clap::Args)]
pub struct SourceArgs {
    /// simulator, replay or lseg (default: ingest.feed in tuning.toml; a FILE implies replay).
    #[arg(long, value_parser = parse_feed)]
    pub feed: Option<FeedKind>,
    /// A recorded file to replay.
    pub file: Option<PathBuf>,
    /// Format of FILE: lseg (dump of received frames), jsonl (canonical ticks) or csv; guessed if omitted.
    #[arg(long, value_parser = ["lseg", "jsonl", "csv"])]
    pub format: Option<String>,
    /// Replay speed: 1x, 10x, ... or max [default: ingest.replay_speed].
    #[arg(long)]
    pub speed: Option<Speed>,
    /// CSV column names, e.g. `symbol=ric,ts=time,price=px,size=qty,exchange=mic,trade_id=id`
    /// (default: columns named symbol, ts, price, size, exchange, trade_id).
    #[arg(long, value_parser = parse_csv_columns)]
    pub csv_columns: Option<CsvColumns>,
}

/// `field=column,...` -> which CSV header holds each trade field.
pub fn parse_csv_columns(text: &str) -> Result<CsvColumns, String> {
    let mut columns = CsvColumns { exchange: None, trade_id: None, ..CsvColumns::default() };
    for pair in text.split(',').filter(|p| !p.trim().is_empty()) {
        let (field, column) =
            pair.split_once('=').ok_or_else(|| format!("{pair:?}: write field=column"))?;
        let column = column.trim().to_string();
        match field.trim() {
            "symbol" => columns.symbol = column,
            "ts" => columns.ts = column,
            "price" => columns.price = column,
            "size" => columns.size = column,
            "exchange" => columns.exchange = Some(column),
            "trade_id" => columns.trade_id = Some(column),
            other => {
                return Err(format!(
                    "unknown field {other:?}: symbol, ts, price, size, exchange or trade_id"
                ))
            }
        }
    }
    Ok(columns)
}

fn parse_feed(s: &str) -> Result<FeedKind, String> {
    match s {
        "simulator" => Ok(FeedKind::Simulator),
        "replay" => Ok(FeedKind::Replay),
        "lseg" => Ok(FeedKind::Lseg),
        _ => Err(format!("unknown feed {s:?}: use simulator, replay or lseg")),
    }
}

pub fn calendars(tuning: &Tuning) -> Result<Calendars> {
    match &tuning.ingest.calendars {
        Some(dir) => Calendars::load_dir(dir)
            .with_context(|| format!("loading calendars from {}", dir.display())),
        None => Calendars::builtin().context("loading the built-in calendars"),
    }
}

pub fn field_mapping(tuning: &Tuning) -> Result<Arc<Mapping>> {
    Ok(Arc::new(match &tuning.ingest.mapping {
        Some(path) => mapping::load(path)
            .with_context(|| format!("loading the field mapping {}", path.display()))?,
        None => mapping::builtin(),
    }))
}

/// The feed, its pacing and the calendars it was classified with.
pub fn open_source(
    tuning: &Tuning,
    args: &SourceArgs,
) -> Result<(Box<dyn TradeSource>, Option<Pacer>, Calendars)> {
    let calendars = calendars(tuning)?;
    let feed = args.feed.unwrap_or(if args.file.is_some() {
        FeedKind::Replay
    } else {
        tuning.ingest.feed
    });
    let source: Box<dyn TradeSource> = match feed {
        FeedKind::Simulator => Box::new(
            Simulator::new(&tuning.ingest.simulator, &calendars)
                .context("starting the simulator")?,
        ),
        FeedKind::Replay => {
            let Some(path) = args.file.as_ref().or(tuning.ingest.replay_file.as_ref()) else {
                bail!("the replay feed needs a file: pass FILE or set ingest.replay_file in tuning.toml")
            };
            bounded(
                tuning,
                open_replay(
                    path,
                    args.format.as_deref(),
                    args.csv_columns.as_ref(),
                    field_mapping(tuning)?,
                )?,
            )
        }
        FeedKind::Lseg => bounded(tuning, lseg(tuning)?),
    };
    let speed = match args.speed {
        Some(s) => s,
        None => tuning
            .ingest
            .replay_speed
            .parse()
            .map_err(|e: String| anyhow::anyhow!("ingest.replay_speed: {e}"))?,
    };
    let max_gap = Duration::from_millis(tuning.ingest.replay_max_gap_ms);
    let pacer = match feed {
        FeedKind::Replay => Pacer::new(speed).map(|p| p.with_max_gap(max_gap)),
        _ => None,
    };
    Ok((source, pacer, calendars))
}

/// Quarantines trades stamped beyond `ingest.max_future_skew_ms` (the simulator's clock is its own).
pub fn bounded(tuning: &Tuning, source: Box<dyn TradeSource>) -> Box<dyn TradeSource> {
    let skew = Duration::from_millis(tuning.ingest.max_future_skew_ms);
    Box::new(TimeBound::new(source, skew))
}

/// A reader for a recorded file; the format is guessed from the extension and the first line if not given.
pub fn open_replay(
    path: &Path,
    format: Option<&str>,
    csv_columns: Option<&CsvColumns>,
    mapping: Arc<Mapping>,
) -> Result<Box<dyn TradeSource>> {
    let open = || -> Result<BufReader<File>> {
        Ok(BufReader::new(File::open(path).with_context(|| format!("opening {}", path.display()))?))
    };
    let format = match format {
        Some(f) => f.to_owned(),
        None => guess_format(path, open()?)?,
    };
    Ok(match format.as_str() {
        "lseg" => Box::new(LsegDumpReader::new(open()?, mapping)),
        "jsonl" => Box::new(CanonicalReader::new(open()?)),
        "csv" => Box::new(
            CsvReader::new(open()?, csv_columns.unwrap_or(&CsvColumns::default()))
                .with_context(|| format!("reading the CSV header of {}", path.display()))?,
        ),
        other => bail!("unknown replay format {other:?}"),
    })
}

fn guess_format(path: &Path, mut reader: impl BufRead) -> Result<String> {
    if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv")) {
        return Ok("csv".into());
    }
    let mut first = String::new();
    reader.read_line(&mut first).with_context(|| format!("reading {}", path.display()))?;
    Ok(if first.contains("\"frame\"") { "lseg" } else { "jsonl" }.into())
}

/// One LSEG connection, or several feeding the publisher through the in-process disruptor fan-in.
fn lseg(tuning: &Tuning) -> Result<Box<dyn TradeSource>> {
    let cfg = &tuning.ingest.lseg;
    let mapping = field_mapping(tuning)?;
    if cfg.connections <= 1 {
        return Ok(Box::new(
            LsegClient::start(cfg.clone(), mapping).context("starting the LSEG client")?,
        ));
    }
    let mut clients: Vec<Box<dyn TradeSource>> = Vec::with_capacity(cfg.connections);
    for i in 0..cfg.connections.min(cfg.rics.len()) {
        let client = LsegClient::start(cfg.connection(i), Arc::clone(&mapping))
            .with_context(|| format!("starting LSEG connection {i}"))?;
        clients.push(Box::new(client));
    }
    let fan_in = tickring_engine::ingest::FanIn::start(
        clients,
        cfg.channel_capacity,
        tuning.ingest.publish_batch,
    )
    .context("starting the feed threads")?;
    Ok(Box::new(fan_in))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_columns_parse_and_refuse_unknown_fields() {
        let c =
            parse_csv_columns("symbol=ric,ts=time,price=px,size=qty,exchange=mic").expect("valid");
        assert_eq!(
            (c.symbol.as_str(), c.ts.as_str(), c.exchange.as_deref()),
            ("ric", "time", Some("mic"))
        );
        assert_eq!(c.trade_id, None);
        assert!(parse_csv_columns("volume=qty").is_err());
        assert!(parse_csv_columns("symbol").is_err());
    }
}
