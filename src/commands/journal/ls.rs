//! `tickring journal ls`: one line per epoch, oldest first, then totals and retention.

use super::settings::Settings;
use super::{human_bytes, utc};
use crate::tuning::Tuning;
use anyhow::{Context, Result};
use serde::Serialize;
use tickring_engine::{InstrumentEntry, Tick};
use tickring_journal::{info, EpochInfo, JournalInfo};

#[derive(Debug, clap::Args)]
pub struct LsArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Epoch<'a> {
    #[serde(flatten)]
    info: &'a EpochInfo,
    created: String,
    records: u64,
}

#[derive(Serialize)]
struct Totals {
    epochs: usize,
    segments: usize,
    records: u64,
    bytes: u64,
}

#[derive(Serialize)]
struct Listing<'a> {
    ring: &'a str,
    dir: &'a str,
    epochs: Vec<Epoch<'a>>,
    totals: Totals,
    settings: Settings,
}

/// Records an epoch still holds: retention deletes from the front.
fn records(e: &EpochInfo) -> u64 {
    e.head.saturating_sub(e.first_seq)
}

pub fn run(tuning: &Tuning, args: &LsArgs) -> Result<()> {
    let info = info::inspect::<Tick, InstrumentEntry>(&tuning.journal, &tuning.ring.name)
        .with_context(|| {
            format!(
                "reading the journal of ring '{}' in {}",
                tuning.ring.name,
                tuning.journal.dir.display()
            )
        })?;
    let listing = listing(&info, Settings::of(&tuning.journal));
    if args.json {
        println!("{}", serde_json::to_string_pretty(&listing)?);
    } else {
        print_table(&listing);
    }
    Ok(())
}

fn listing(info: &JournalInfo, settings: Settings) -> Listing<'_> {
    let epochs: Vec<Epoch<'_>> = info
        .epochs
        .iter()
        .map(|e| Epoch { info: e, created: utc(e.created_ns), records: records(e) })
        .collect();
    let totals = Totals {
        epochs: epochs.len(),
        segments: info.epochs.iter().map(|e| e.segments).sum(),
        records: info.epochs.iter().map(records).sum(),
        bytes: info.bytes,
    };
    Listing { ring: &info.ring, dir: &info.dir, epochs, totals, settings }
}

fn print_table(l: &Listing<'_>) {
    println!("journal of ring '{}' in {}", l.ring, l.dir);
    println!(
        "{:>3} {:>20} {:<24} {:<6} {:>8} {:>27} {:>12} {:>12} {:>11}",
        "#",
        "epoch",
        "created (UTC)",
        "sealed",
        "segments",
        "first_seq..head",
        "records",
        "bytes",
        "instruments"
    );
    for e in &l.epochs {
        let i = e.info;
        println!(
            "{:>3} {:>20} {:<24} {:<6} {:>8} {:>27} {:>12} {:>12} {:>11}",
            i.ordinal,
            i.epoch,
            e.created,
            if i.sealed { "yes" } else { "no" },
            i.segments,
            format!("{}..{}", i.first_seq, i.head),
            e.records,
            i.bytes,
            i.instruments
        );
    }
    let t = &l.totals;
    println!(
        "total: {} epochs, {} segments, {} records, {} ({} bytes)",
        t.epochs,
        t.segments,
        t.records,
        human_bytes(t.bytes),
        t.bytes
    );
    println!(
        "retention: {}; segments of {}; fsync {}; on_full {}",
        l.settings.retention_text(),
        human_bytes(l.settings.segment_bytes),
        l.settings.fsync,
        l.settings.on_full
    );
}
