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
    /// Sink processes attached to the ring.
    #[command(subcommand)]
    Sink(Sink),
    /// Benchmarks.
    #[command(subcommand)]
    Bench(Bench),
}

#[derive(Debug, Subcommand)]
enum Sink {
    /// Push live trades, prices and candles to websocket clients; serve the live chart page.
    Websocket(commands::sink_websocket::SinkWebsocketArgs),
}

#[derive(Debug, Subcommand)]
enum Bench {
    /// Websocket pusher: many clients, tick -> client latency percentiles, messages/s out.
    Websocket(commands::bench_websocket::BenchWebsocketArgs),
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
        Command::Sink(Sink::Websocket(args)) => {
            commands::sink_websocket::run(&tuning::Tuning::load(&cli.tuning)?, args)
        }
        Command::Bench(Bench::Websocket(args)) => {
            commands::bench_websocket::run(&tuning::Tuning::load(&cli.tuning)?, args)
        }
    }
}
