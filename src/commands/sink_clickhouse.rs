//! `tickring sink clickhouse`: the writer process (see `sinks/clickhouse`).

use crate::tuning::Tuning;
use anyhow::{Context, Result};
use clap::Args;
use tickring_sink_clickhouse::{Exit, Writer};

#[derive(Debug, Args)]
pub struct ClickhouseArgs {
    /// Overrides clickhouse.url.
    #[arg(long)]
    pub url: Option<String>,
    /// Overrides clickhouse.database.
    #[arg(long)]
    pub database: Option<String>,
    /// Overrides clickhouse.consumer (the writer's name in the ring).
    #[arg(long)]
    pub consumer: Option<String>,
    /// Password (wins over clickhouse.password).
    #[arg(long, env = "TICKRING_CLICKHOUSE_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
}

pub fn run(tuning: &Tuning, args: ClickhouseArgs) -> Result<()> {
    let mut cfg = tuning.clickhouse.clone();
    if let Some(url) = args.url {
        cfg.url = url;
    }
    if let Some(database) = args.database {
        cfg.database = database;
    }
    if let Some(consumer) = args.consumer {
        cfg.consumer = consumer;
    }
    let password = args.password.unwrap_or_else(|| cfg.password.clone());
    let mut writer =
        Writer::new(&tuning.ring, cfg, &password).context("starting the ClickHouse writer")?;
    writer.stop_on_signals().context("installing signal handlers")?;
    match writer.run().context("ClickHouse writer")? {
        Exit::ProducerClosed | Exit::Stopped => Ok(()),
    }
}
