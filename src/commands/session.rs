//! `tickring session`: which trading session an exchange (or a RIC's exchange) is in at a moment.
//!
//! Prints one JSON object per query:
//! `{"exchange":"XNYS","timezone":"America/New_York","local_time":"2024-03-11T09:30:00-04:00","session":"regular","trading_day":"2024-03-11"}`.
//! With `--stdin`, reads `EXCHANGE_OR_RIC TIMESTAMP` lines and answers each in order; a bad line is answered
//! with `{"input":"...","error":"..."}` so output lines stay aligned with input lines, and the exit status is
//! non-zero at the end if any line failed.

use anyhow::{anyhow, bail, Context};
use chrono::{DateTime, SecondsFormat};
use serde::Serialize;
use std::io::{BufRead, Write};
use std::path::PathBuf;
use tickring_engine::calendar::{Calendars, Coverage};
use tickring_engine::instrument::parse_exchange_or_ric;

#[derive(Debug, clap::Args)]
pub struct SessionArgs {
    /// A MIC (XNYS, XCME, XKRX, ...) or a RIC (AAPL.O, 005930.KS, ESZ6).
    #[arg(required_unless_present = "stdin", conflicts_with = "stdin")]
    pub exchange_or_ric: Option<String>,
    /// An RFC 3339 instant with any offset, e.g. 2024-03-11T13:30:00Z.
    #[arg(required_unless_present = "stdin", conflicts_with = "stdin")]
    pub timestamp: Option<String>,
    /// Read `EXCHANGE_OR_RIC TIMESTAMP` lines from standard input instead.
    #[arg(long)]
    pub stdin: bool,
    /// A directory of calendar files to use instead of the built-in ones.
    #[arg(long, value_name = "DIR")]
    pub calendars: Option<PathBuf>,
}

#[derive(Debug, Serialize)]
struct Answer {
    exchange: &'static str,
    timezone: &'static str,
    local_time: String,
    session: &'static str,
    trading_day: Option<String>,
}

#[derive(Debug, Serialize)]
struct LineError<'a> {
    input: &'a str,
    error: String,
}

pub fn run(args: SessionArgs) -> anyhow::Result<()> {
    let calendars = match &args.calendars {
        Some(dir) => Calendars::load_dir(dir)
            .with_context(|| format!("loading calendars from {}", dir.display()))?,
        None => Calendars::builtin().context("loading the built-in calendars")?,
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if !args.stdin {
        let (Some(what), Some(when)) = (&args.exchange_or_ric, &args.timestamp) else {
            bail!("give EXCHANGE_OR_RIC and TIMESTAMP, or --stdin");
        };
        let answer = answer(&calendars, what, when)?;
        writeln!(out, "{}", serde_json::to_string(&answer)?).context("writing to stdout")?;
        return Ok(());
    }

    let mut failed = 0usize;
    for (n, line) in std::io::stdin().lock().lines().enumerate() {
        let line = line.with_context(|| format!("reading standard input line {}", n + 1))?;
        let json = match parse_line(&line).and_then(|(what, when)| answer(&calendars, what, when)) {
            Ok(answer) => serde_json::to_string(&answer)?,
            Err(e) => {
                failed += 1;
                serde_json::to_string(&LineError { input: &line, error: format!("{e:#}") })?
            }
        };
        writeln!(out, "{json}").context("writing to stdout")?;
    }
    out.flush().context("writing to stdout")?;
    if failed > 0 {
        bail!("{failed} input line(s) could not be answered");
    }
    Ok(())
}

fn parse_line(line: &str) -> anyhow::Result<(&str, &str)> {
    let mut words = line.split_whitespace();
    match (words.next(), words.next(), words.next()) {
        (Some(what), Some(when), None) => Ok((what, when)),
        _ => bail!("expected `EXCHANGE_OR_RIC TIMESTAMP`"),
    }
}

fn answer(calendars: &Calendars, what: &str, when: &str) -> anyhow::Result<Answer> {
    let exchange = parse_exchange_or_ric(what)
        .ok_or_else(|| anyhow!("{what:?} is neither a known MIC nor a RIC with a known suffix"))?;
    let instant = DateTime::parse_from_rfc3339(when)
        .with_context(|| format!("{when:?} is not an RFC 3339 timestamp"))?;
    let ts_ns = instant
        .timestamp_nanos_opt()
        .ok_or_else(|| anyhow!("{when} is outside the nanosecond range (years 1677-2262)"))?;
    let calendar =
        calendars.get(exchange).ok_or_else(|| anyhow!("no calendar covers {exchange}"))?;
    let classified = calendar.classify(ts_ns);
    if classified.coverage == Coverage::Outside {
        let (first, last) = calendar.days();
        tracing::warn!(%exchange, %when, %first, %last, "outside calendar coverage: session unknown, trading day is the local date");
    }
    Ok(Answer {
        exchange: exchange.mic(),
        timezone: exchange.timezone(),
        local_time: calendar.local_datetime(ts_ns).to_rfc3339_opts(SecondsFormat::AutoSi, false),
        session: classified.session.as_str(),
        trading_day: classified.trading_day.map(|d| d.to_string()),
    })
}
