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

#[derive(Debug, clap::Args)]
pub struct TopArgs {
    /// Refresh period in milliseconds.
    #[arg(long, default_value_t = 1000)]
    interval_ms: u64,
}

fn read(tuning: &Tuning) -> Result<RingStatus> {
    RingStatus::read::<Tick, InstrumentEntry>(&tuning.ring)
        .with_context(|| format!("reading ring '{}'", tuning.ring.name))
}

pub fn run(tuning: &Tuning, args: StatusArgs) -> Result<()> {
    // The journal outlives the ring: with no producer running, `status` still shows what is stored.
    let status = read(tuning);
    let journal = journal_summary(tuning);
    let status = match (status, &journal) {
        (Ok(s), _) => Some(s),
        (Err(e), Some(_)) => {
            if !args.json {
                println!("ring {}: not running ({e:#})", tuning.ring.name);
            }
            None
        }
        (Err(e), None) => return Err(e),
    };
    if args.json {
        let mut value = match &status {
            Some(s) => serde_json::to_value(s)?,
            None => serde_json::json!({ "name": tuning.ring.name, "running": false }),
        };
        if let (Some(map), Some(j)) = (value.as_object_mut(), &journal) {
            map.insert("journal".into(), serde_json::to_value(j)?);
        }
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(());
    }
    if let Some(s) = &status {
        print_status(s, None, 0.0);
    }
    if let Some(j) = &journal {
        let (published, epoch) = status.as_ref().map_or((0, 0), |s| (s.published, s.epoch));
        print_journal(j, tuning, published, epoch);
    }
    Ok(())
}

/// The journal's epochs, if it can be read (a missing journal is not an error for `status`).
fn journal_summary(tuning: &Tuning) -> Option<tickring_journal::JournalInfo> {
    tickring_journal::info::inspect::<Tick, InstrumentEntry>(&tuning.journal, &tuning.ring.name)
        .ok()
}

fn print_journal(j: &tickring_journal::JournalInfo, tuning: &Tuning, published: u64, epoch: u64) {
    let Some(newest) = j.epochs.last() else { return };
    let behind = if newest.epoch == epoch { published.saturating_sub(newest.head) } else { 0 };
    println!(
        "journal {}  head {}:{}  {} epochs  {} MiB  retention {} h / {} MiB  behind the ring {}",
        j.dir,
        newest.epoch,
        newest.head,
        j.epochs.len(),
        j.bytes >> 20,
        tuning.journal.retention_hours,
        tuning.journal.retention_bytes >> 20,
        behind
    );
    print_feed_gaps(newest);
}

/// The live feed's outages in the newest epoch: how many, for how long in all, and the last one.
fn print_feed_gaps(epoch: &tickring_journal::EpochInfo) {
    let Some(last) = epoch.feed_gaps.last() else { return };
    let down_ns: u64 = epoch.feed_gaps.iter().map(|g| g.to_ns.saturating_sub(g.from_ns)).sum();
    let at = |ns: u64| {
        chrono::DateTime::from_timestamp_nanos(i64::try_from(ns).unwrap_or(i64::MAX))
            .format("%Y-%m-%dT%H:%M:%S%.3fZ")
            .to_string()
    };
    println!(
        "feed gaps {}  down {:.1} s in all  last {} .. {} ({:.1} s, before seq {}, connection {})",
        epoch.feed_gaps.len(),
        down_ns as f64 / 1e9,
        at(last.from_ns),
        at(last.to_ns),
        last.to_ns.saturating_sub(last.from_ns) as f64 / 1e9,
        last.seq,
        last.connection
    );
}

/// `tickring top`: the status table, refreshed, with publish and commit rates.
pub fn top(tuning: &Tuning, args: TopArgs) -> Result<()> {
    let stop = super::stop_flag::on_interrupt()?;
    let mut previous: Option<(RingStatus, std::time::Instant)> = None;
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        let status = read(tuning)?;
        let now = std::time::Instant::now();
        print!("\x1b[2J\x1b[H");
        let secs = previous.as_ref().map_or(0.0, |(_, t)| now.duration_since(*t).as_secs_f64());
        print_status(&status, previous.as_ref().map(|(s, _)| s), secs);
        previous = Some((status, now));
        std::thread::sleep(std::time::Duration::from_millis(args.interval_ms.max(100)));
    }
    Ok(())
}

fn rate(now: u64, before: Option<u64>, secs: f64) -> String {
    match before {
        Some(b) if secs > 0.0 && now >= b => format!("{:.0}/s", (now - b) as f64 / secs),
        _ => "-".into(),
    }
}

fn print_status(status: &RingStatus, previous: Option<&RingStatus>, secs: f64) {
    let same_epoch = previous.filter(|p| p.epoch == status.epoch);
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
        "publish rate {}  producer stalls {} (held back {} ms)  evicted consumers {}  instruments {}",
        rate(status.published, same_epoch.map(|p| p.published), secs),
        status.producer_stalls,
        status.producer_gated_ns / 1_000_000,
        status.evictions,
        status.directory_len
    );
    println!(
        "{:<24} {:<10} {:<9} {:<7} {:>8} {:>6} {:>14} {:>10} {:>10} {:>10} {:>9}",
        "consumer",
        "policy",
        "state",
        "reads",
        "pid",
        "alive",
        "cursor",
        "lag",
        "rate",
        "missed",
        "hb_ms"
    );
    for c in &status.consumers {
        let before = same_epoch
            .and_then(|p| p.consumers.iter().find(|x| x.name == c.name))
            .map(|x| x.cursor);
        println!(
            "{:<24} {:<10} {:<9} {:<7} {:>8} {:>6} {:>14} {:>10} {:>10} {:>10} {:>9}",
            c.name,
            if c.gating { "gating" } else { "non-gating" },
            c.state,
            c.reading,
            c.pid,
            c.alive,
            c.cursor,
            c.lag,
            rate(c.cursor, before, secs),
            c.missed,
            c.heartbeat_age_ms
        );
    }
}
