//! `tickring bench websocket`: N clients on the websocket pusher, tick -> client latency and messages/s.

use crate::tuning::Tuning;
use anyhow::{Context, Result};
use std::path::PathBuf;
use tickring_sink_websocket::bench::{self, BenchOptions, BenchReport};

#[derive(Debug, clap::Args)]
pub struct BenchWebsocketArgs {
    /// Fewer rates, shorter runs.
    #[arg(long)]
    pub quick: bool,
    /// Also write the results as JSON here.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Websocket clients.
    #[arg(long, default_value_t = 1000)]
    pub clients: usize,
    /// Symbols the producer spreads ticks over.
    #[arg(long, default_value_t = 1000)]
    pub symbols: usize,
    /// Symbols (trade channels) per client.
    #[arg(long, default_value_t = 10)]
    pub per_client: usize,
    /// Input rates to try, ticks/s (comma-separated; default 2000,5000,10000,20000,40000, quick 2000,10000).
    #[arg(long, value_delimiter = ',')]
    pub rates: Vec<u64>,
    /// Seconds measured per rate.
    #[arg(long)]
    pub seconds: Option<u64>,
}

impl BenchWebsocketArgs {
    /// The defaults of the command line (for `bench all`).
    pub fn preset(quick: bool, json: Option<PathBuf>) -> Self {
        Self {
            quick,
            json,
            clients: 1000,
            symbols: 1000,
            per_client: 10,
            rates: Vec::new(),
            seconds: None,
        }
    }
}

pub fn run(tuning: &Tuning, args: BenchWebsocketArgs) -> Result<BenchReport> {
    let mut opts = if args.quick {
        BenchOptions::quick(args.clients)
    } else {
        BenchOptions::full(args.clients)
    };
    opts.symbols = args.symbols.max(1);
    opts.per_client = args.per_client.max(1);
    if !args.rates.is_empty() {
        opts.rates = args.rates;
    }
    if let Some(s) = args.seconds {
        opts.duration = std::time::Duration::from_secs(s.max(1));
    }
    println!(
        "websocket bench: {} clients x {} trade channels over {} symbols (each tick reaches ~{:.1} clients)",
        opts.clients,
        opts.per_client,
        opts.symbols,
        (opts.clients * opts.per_client) as f64 / opts.symbols as f64
    );
    let report =
        bench::run(&tuning.websocket, &tuning.ring, &opts).context("websocket benchmark")?;
    for r in &report.results {
        println!("{}", r.line());
    }
    print!("{}", report.summary(opts.p99_target));
    if let Some(path) = args.json {
        let text = serde_json::to_string_pretty(&report)?;
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        println!("wrote {}", path.display());
    }
    Ok(report)
}
