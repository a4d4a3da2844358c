//! `tickring status`: the ring's producer and every consumer's cursor, lag, liveness and losses.

use crate::tuning::Tuning;
use anyhow::{Context, Result};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tickring_engine::{InstrumentEntry, Tick};
use tickring_ipc::liveness::cpu_time_ns;
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

/// One-shot `status` reads the ring twice this far apart, so it can show rates and CPU use.
const SAMPLE_GAP: Duration = Duration::from_millis(500);

fn read(tuning: &Tuning) -> Result<RingStatus> {
    RingStatus::read::<Tick, InstrumentEntry>(&tuning.ring)
        .with_context(|| format!("reading ring '{}'", tuning.ring.name))
}

/// The ring's state and the CPU time of every process attached to it, at one moment.
struct Sample {
    status: RingStatus,
    cpu_ns: HashMap<u32, u64>,
    at: Instant,
}

fn sample(tuning: &Tuning) -> Result<Sample> {
    let status = read(tuning)?;
    let pids = std::iter::once(status.producer_pid).chain(status.consumers.iter().map(|c| c.pid));
    let cpu_ns = pids.filter_map(|pid| Some((pid, cpu_time_ns(pid)?))).collect();
    Ok(Sample { status, cpu_ns, at: Instant::now() })
}

impl Sample {
    /// Per-second rate of a counter between `before` and this sample.
    fn rate(&self, before: &Sample, now: u64, then: u64) -> Option<f64> {
        let secs = self.at.duration_since(before.at).as_secs_f64();
        (secs > 0.0 && now >= then).then(|| (now - then) as f64 / secs)
    }

    /// CPU `pid` used between `before` and this sample, percent of one core.
    fn cpu_percent(&self, before: &Sample, pid: u32) -> Option<f64> {
        let (now, then) = (*self.cpu_ns.get(&pid)?, *before.cpu_ns.get(&pid)?);
        let ns = self.at.duration_since(before.at).as_nanos() as f64;
        (ns > 0.0 && now >= then).then(|| (now - then) as f64 * 100.0 / ns)
    }
}

pub fn run(tuning: &Tuning, args: StatusArgs) -> Result<()> {
    // The journal outlives the ring: with no producer running, `status` still shows what is stored.
    let first = sample(tuning);
    let journal = journal_summary(tuning);
    let samples = match (first, &journal) {
        (Ok(first), _) => {
            std::thread::sleep(SAMPLE_GAP);
            let second = sample(tuning)?;
            Some((first, second))
        }
        (Err(e), Some(_)) => {
            if !args.json {
                println!("ring {}: not running ({e:#})", tuning.ring.name);
            }
            None
        }
        (Err(e), None) => return Err(e),
    };
    if args.json {
        let mut value = match &samples {
            Some((before, now)) => status_json(before, now)?,
            None => serde_json::json!({ "name": tuning.ring.name, "running": false }),
        };
        if let (Some(map), Some(j)) = (value.as_object_mut(), &journal) {
            map.insert("journal".into(), serde_json::to_value(j)?);
        }
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(());
    }
    if let Some((before, now)) = &samples {
        print_status(now, Some(before));
    }
    if let Some(j) = &journal {
        let (published, epoch) =
            samples.as_ref().map_or((0, 0), |(_, s)| (s.status.published, s.status.epoch));
        print_journal(j, tuning, published, epoch);
    }
    Ok(())
}

/// The ring's status with the rates and CPU use between the two samples beside its fields.
fn status_json(before: &Sample, now: &Sample) -> Result<serde_json::Value> {
    let same_epoch = before.status.epoch == now.status.epoch;
    let mut value = serde_json::to_value(&now.status)?;
    let Some(map) = value.as_object_mut() else { return Ok(value) };
    let publish_rate =
        same_epoch.then(|| now.rate(before, now.status.published, before.status.published));
    map.insert("publish_rate_per_s".into(), serde_json::json!(publish_rate.flatten()));
    map.insert(
        "producer_cpu_percent".into(),
        serde_json::json!(now.cpu_percent(before, now.status.producer_pid)),
    );
    if let Some(consumers) = map.get_mut("consumers").and_then(|c| c.as_array_mut()) {
        for (json, c) in consumers.iter_mut().zip(&now.status.consumers) {
            let cursor_before = before.status.consumers.iter().find(|b| b.name == c.name);
            let rate = cursor_before
                .filter(|_| same_epoch)
                .and_then(|b| now.rate(before, c.cursor, b.cursor));
            if let Some(obj) = json.as_object_mut() {
                obj.insert("rate_per_s".into(), serde_json::json!(rate));
                obj.insert("cpu_percent".into(), serde_json::json!(now.cpu_percent(before, c.pid)));
            }
        }
    }
    Ok(value)
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
    let mut previous: Option<Sample> = None;
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        let now = sample(tuning)?;
        print!("\x1b[2J\x1b[H");
        print_status(&now, previous.as_ref());
        previous = Some(now);
        std::thread::sleep(std::time::Duration::from_millis(args.interval_ms.max(100)));
    }
    Ok(())
}

fn per_s(rate: Option<f64>) -> String {
    rate.map_or("-".into(), |r| format!("{r:.0}/s"))
}

fn percent(p: Option<f64>) -> String {
    p.map_or("-".into(), |p| format!("{p:.1}%"))
}

fn print_status(now: &Sample, previous: Option<&Sample>) {
    let status = &now.status;
    let same_epoch = previous.filter(|p| p.status.epoch == status.epoch);
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
    let cpu = |pid: u32| percent(previous.and_then(|p| now.cpu_percent(p, pid)));
    println!(
        "publish rate {}  producer cpu {}  producer stalls {} (held back {} ms)  evicted consumers {}  instruments {}",
        per_s(same_epoch.and_then(|p| now.rate(p, status.published, p.status.published))),
        cpu(status.producer_pid),
        status.producer_stalls,
        status.producer_gated_ns / 1_000_000,
        status.evictions,
        status.directory_len
    );
    println!(
        "{:<24} {:<10} {:<9} {:<7} {:>8} {:>6} {:>7} {:>14} {:>10} {:>10} {:>10} {:>9}",
        "consumer",
        "policy",
        "state",
        "reads",
        "pid",
        "alive",
        "cpu",
        "cursor",
        "lag",
        "rate",
        "missed",
        "hb_ms"
    );
    for c in &status.consumers {
        let before = same_epoch
            .and_then(|p| p.status.consumers.iter().find(|x| x.name == c.name).map(|x| (p, x)));
        println!(
            "{:<24} {:<10} {:<9} {:<7} {:>8} {:>6} {:>7} {:>14} {:>10} {:>10} {:>10} {:>9}",
            c.name,
            if c.gating { "gating" } else { "non-gating" },
            c.state,
            c.reading,
            c.pid,
            c.alive,
            cpu(c.pid),
            c.cursor,
            c.lag,
            per_s(before.and_then(|(p, b)| now.rate(p, c.cursor, b.cursor))),
            c.missed,
            c.heartbeat_age_ms
        );
    }
}
