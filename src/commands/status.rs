//! `tickring status`: the ring's producer and every consumer's cursor, lag, liveness and losses.

use crate::tuning::Tuning;
use anyhow::{Context, Result};
use tickring_engine::{InstrumentEntry, Tick};
use tickring_ipc::RingStatus;

#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

pub fn run(tuning: &Tuning, args: StatusArgs) -> Result<()> {
    let status = RingStatus::read::<Tick, InstrumentEntry>(&tuning.ring)
        .with_context(|| format!("reading ring '{}'", tuning.ring.name))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&status)?);
        return Ok(());
    }
    println!(
        "ring {}  epoch {}  capacity {}  published {}  producer pid {} {} ({}, heartbeat {} ms ago)",
        status.name,
        status.epoch,
        status.capacity,
        status.published,
        status.producer_pid,
        if status.producer_alive { "alive" } else { "gone" },
        status.producer_state,
        status.producer_heartbeat_age_ms,
    );
    println!(
        "producer stalls {}  evicted consumers {}  instruments {}",
        status.producer_stalls, status.evictions, status.directory_len
    );
    println!(
        "{:<24} {:<10} {:<9} {:>8} {:>6} {:>14} {:>10} {:>10} {:>9}",
        "consumer", "policy", "state", "pid", "alive", "cursor", "lag", "missed", "hb_ms"
    );
    for c in &status.consumers {
        println!(
            "{:<24} {:<10} {:<9} {:>8} {:>6} {:>14} {:>10} {:>10} {:>9}",
            c.name,
            if c.gating { "gating" } else { "non-gating" },
            c.state,
            c.pid,
            c.alive,
            c.cursor,
            c.lag,
            c.missed,
            c.heartbeat_age_ms
        );
    }
    Ok(())
}
