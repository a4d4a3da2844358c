//! `tickring journal verify`: every block checked; damage named by file and byte offset; non-zero exit on
//! damage (holes and torn tails are reported, not failures: retention and a running writer make them).

use crate::tuning::Tuning;
use anyhow::{bail, Context, Result};
use tickring_engine::{InstrumentEntry, Tick};
use tickring_journal::VerifyReport;

#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// Print the report as JSON (the exit status still says whether damage was found).
    #[arg(long)]
    json: bool,
}

pub fn run(tuning: &Tuning, args: &VerifyArgs) -> Result<()> {
    let report =
        tickring_journal::verify::<Tick, InstrumentEntry>(&tuning.journal, &tuning.ring.name)
            .with_context(|| {
                format!(
                    "verifying the journal of ring '{}' in {}",
                    tuning.ring.name,
                    tuning.journal.dir.display()
                )
            })?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_report(&report);
    }
    if !report.ok() {
        bail!(
            "the journal of ring '{}' is damaged in {} place(s): records there are unreadable (readers \
             skip them with a gap); move the damaged segment aside or restore it from a copy",
            tuning.ring.name,
            report.damage.len()
        );
    }
    Ok(())
}

fn print_report(r: &VerifyReport) {
    for d in &r.damage {
        println!("DAMAGE {} at byte {}: {}", d.path.display(), d.offset, d.what);
    }
    for (epoch, from, to) in &r.holes {
        println!(
            "hole   epoch {epoch}: sequences {from}..{to} missing ({} records)",
            to.saturating_sub(*from)
        );
    }
    for path in &r.torn_tails {
        println!(
            "torn   {}: last block unfinished (a writer running or killed; not damage)",
            path.display()
        );
    }
    println!(
        "{}: {} epochs, {} segments, {} records, {} damaged, {} holes, {} torn tails",
        if r.ok() { "ok" } else { "DAMAGED" },
        r.epochs,
        r.segments,
        r.records,
        r.damage.len(),
        r.holes.len(),
        r.torn_tails.len()
    );
}
