//! The `tickring` command line.
#![forbid(unsafe_code)]

mod commands;
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
    /// Which trading session an exchange (or RIC) is in at a moment.
    Session(commands::session::SessionArgs),
    /// The ring's producer and consumers: cursors, lag, liveness, losses.
    Status(commands::status::StatusArgs),
    /// Processes that read the ring and store or forward it.
    #[command(subcommand)]
    Sink(SinkCommand),
    /// Benchmarks with percentiles and throughput (table, and JSON with --json).
    #[command(subcommand)]
    Bench(BenchCommand),
}

#[derive(Debug, Subcommand)]
enum BenchCommand {
    /// Rows/s into the real ClickHouse server with candles on, and tick -> visible latency.
    Clickhouse(commands::bench_clickhouse::BenchClickhouseArgs),
}

#[derive(Debug, Subcommand)]
enum SinkCommand {
    /// Ticks, candles and latest prices into ClickHouse, lossless and without duplicates.
    Clickhouse(commands::sink_clickhouse::ClickhouseArgs),
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Session(args) => commands::session::run(args),
        Command::Status(args) => commands::status::run(&tuning::Tuning::load(&cli.tuning)?, args),
        Command::Bench(BenchCommand::Clickhouse(args)) => {
            commands::bench_clickhouse::run(&tuning::Tuning::load(&cli.tuning)?, args)
        }
        Command::Sink(SinkCommand::Clickhouse(args)) => {
            commands::sink_clickhouse::run(&tuning::Tuning::load(&cli.tuning)?, args)
        }
    }
}
