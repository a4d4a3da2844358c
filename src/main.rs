//! The `tickring` command line.
#![forbid(unsafe_code)]

mod commands;
mod metrics;
mod tuning;

use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// Live market data: feed -> sessions -> shared-memory ring -> ClickHouse and websocket sinks.
#[derive(Debug, Parser)]
#[command(name = "tickring", version)]
struct Cli {
    /// The tuning file (every knob of every process).
    #[arg(long, global = true, default_value = "tuning.toml", env = "TICKRING_TUNING")]
    tuning: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Everything on one machine: ClickHouse, the feed into the ring, both sinks; supervised.
    Up(commands::up::UpArgs),
    /// Run a feed into the ring: decode, classify sessions, publish from one pinned thread.
    Ingest(commands::ingest::IngestArgs),
    /// Candles of a recorded file, as CSV (the aggregation the sinks run, offline).
    Candles(commands::candles::CandlesArgs),
    /// Record what the live LSEG feed sends into a dump file that replays as live.
    Record(commands::record::RecordArgs),
    /// Which trading session an exchange (or RIC) is in at a moment.
    Session(commands::session::SessionArgs),
    /// Exchange calendars: show a year, check calendar files.
    #[command(subcommand)]
    Calendar(commands::calendar::CalendarCommand),
    /// The ring's producer and consumers: cursors, lag, liveness, losses.
    Status(commands::status::StatusArgs),
    /// `status`, refreshed live, with publish and consume rates.
    Top(commands::status::TopArgs),
    /// Processes that read the ring and store or forward it.
    #[command(subcommand)]
    Sink(Sink),
    /// Latency and throughput benchmarks, with peers measured in the same run.
    Bench(commands::bench::BenchArgs),
    /// The durable journal: list epochs, verify checksums, print ticks.
    #[command(subcommand)]
    Journal(commands::journal::JournalCommand),
}

#[derive(Debug, Subcommand)]
enum Sink {
    /// Ticks, candles and latest prices into ClickHouse, lossless and without duplicates.
    Clickhouse(commands::sink_clickhouse::ClickhouseArgs),
    /// Push live trades, prices and candles to websocket clients; serve the live chart page.
    Websocket(commands::sink_websocket::SinkWebsocketArgs),
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        // Colour for a person at a terminal; a redirected log (a file, `up`'s pipes) gets plain text.
        .with_ansi(
            std::io::IsTerminal::is_terminal(&std::io::stderr())
                && std::env::var_os("NO_COLOR").is_none(),
        )
        .init();
    let cli = Cli::parse();
    commands::supervisor::die_with_supervisor();
    match cli.command {
        Command::Up(args) => commands::up::run(&cli.tuning, args),
        Command::Ingest(args) => {
            commands::ingest::run_ingest(&tuning::Tuning::load(&cli.tuning)?, args)
        }
        Command::Candles(args) => commands::candles::run(&tuning::Tuning::load(&cli.tuning)?, args),
        Command::Record(args) => commands::record::run(&tuning::Tuning::load(&cli.tuning)?, args),
        Command::Session(args) => commands::session::run(args),
        Command::Calendar(command) => commands::calendar::run(command),
        Command::Status(args) => commands::status::run(&tuning::Tuning::load(&cli.tuning)?, args),
        Command::Top(args) => commands::status::top(&tuning::Tuning::load(&cli.tuning)?, args),
        Command::Sink(Sink::Websocket(args)) => {
            commands::sink_websocket::run(&tuning::Tuning::load(&cli.tuning)?, args)
        }
        Command::Bench(args) => commands::bench::run(args, &cli.tuning),
        Command::Journal(command) => {
            commands::journal::run(&tuning::Tuning::load(&cli.tuning)?, command)
        }
        Command::Sink(Sink::Clickhouse(args)) => {
            commands::sink_clickhouse::run(&tuning::Tuning::load(&cli.tuning)?, args)
        }
    }
}
