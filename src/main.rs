//! The `tickring` command line.
#![forbid(unsafe_code)]

mod commands;

use clap::{Parser, Subcommand};

/// Live market data: feed -> sessions -> shared-memory ring -> ClickHouse and websocket sinks.
#[derive(Debug, Parser)]
#[command(name = "tickring", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Which trading session an exchange (or RIC) is in at a moment.
    Session(commands::session::SessionArgs),
    /// Latency and throughput benchmarks against peer transports.
    Bench(commands::bench::BenchArgs),
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().command {
        Command::Session(args) => commands::session::run(args),
        Command::Bench(args) => commands::bench::run(args),
    }
}
