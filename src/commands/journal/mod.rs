//! `tickring journal ls | verify | tail`: what the durable journal holds, whether it is intact, and its
//! ticks as JSON lines. The journal itself lives in `tickring-journal`; this is only the operator's view.

mod ls;
mod settings;
mod since;
mod tail;
mod tick_json;
mod verify;

use crate::tuning::Tuning;
use anyhow::Result;

#[derive(Debug, clap::Subcommand)]
pub enum JournalCommand {
    /// Every epoch: records, sequences, segments, bytes, instruments; totals and retention.
    Ls(ls::LsArgs),
    /// Checks every block's checksum and the continuity of every epoch; exits non-zero on damage.
    Verify(verify::VerifyArgs),
    /// Ticks as JSON lines, symbol and exchange resolved per epoch.
    Tail(tail::TailArgs),
}

pub fn run(tuning: &Tuning, command: JournalCommand) -> Result<()> {
    match command {
        JournalCommand::Ls(args) => ls::run(tuning, &args),
        JournalCommand::Verify(args) => verify::run(tuning, &args),
        JournalCommand::Tail(args) => tail::run(tuning, &args),
    }
}

/// Nanoseconds since the Unix epoch as RFC 3339 UTC.
fn utc(ns: u64) -> String {
    let ns = i64::try_from(ns).unwrap_or(i64::MAX);
    chrono::DateTime::from_timestamp_nanos(ns).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Bytes for people: `17.2 MiB`.
fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_sizes_read_as_people_write_them() {
        assert_eq!(utc(1_700_000_000_123_456_789), "2023-11-14T22:13:20.123Z");
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(3 << 20), "3.0 MiB");
    }
}
