//! Where `tail --since TIME` starts: the first journaled tick, in sequence order, whose event time is at or
//! after TIME. Event times are not ordered across instruments (nor across a late feed), so this scans
//! linearly from the oldest epoch instead of bisecting.

use anyhow::{Context, Result};
use tickring_engine::{InstrumentEntry, Tick};
use tickring_journal::layout::{check_ring_dir, list_epochs};
use tickring_journal::{JournalConfig, JournalReader, ReadOutcome};
use tickring_sink_core::Position;

/// Records read per step of the scan.
const SCAN_BATCH: usize = 1 << 16;

/// The first tick of `ring`'s journal with `ts_event_ns >= since_ns`, if any.
pub fn first_at_or_after(
    cfg: &JournalConfig,
    ring: &str,
    since_ns: u64,
) -> Result<Option<Position>> {
    let ring_dir = cfg.ring_dir(ring);
    let context = || format!("scanning the journal in {} for --since", ring_dir.display());
    check_ring_dir(&ring_dir, ring, false).with_context(context)?;
    for epoch in list_epochs(&ring_dir).with_context(context)? {
        let first = epoch.segments().with_context(context)?.first().map_or(0, |(f, _)| *f);
        let number = epoch.epoch;
        let mut reader =
            JournalReader::<Tick, InstrumentEntry>::at(ring, ring_dir.clone(), epoch, first);
        loop {
            match reader.read(SCAN_BATCH).with_context(context)? {
                ReadOutcome::Records { first_seq, records } => {
                    if let Some(i) = records.iter().position(|t| t.ts_event_ns >= since_ns) {
                        return Ok(Some(Position { epoch: number, seq: first_seq + i as u64 }));
                    }
                }
                // The reader already moved past what it cannot read.
                ReadOutcome::Gap { .. } => {}
                ReadOutcome::CaughtUp | ReadOutcome::EpochEnd => break,
            }
        }
    }
    Ok(None)
}

/// `--since` as nanoseconds: RFC 3339 (`2026-07-13T13:30:00Z`) or plain nanoseconds since the Unix epoch.
pub fn parse_time(text: &str) -> Result<u64, String> {
    if let Ok(ns) = text.parse::<u64>() {
        return Ok(ns);
    }
    let at = chrono::DateTime::parse_from_rfc3339(text).map_err(|e| {
        format!("{text:?} is neither RFC 3339 (2026-07-13T13:30:00Z) nor nanoseconds: {e}")
    })?;
    at.timestamp_nanos_opt()
        .and_then(|ns| u64::try_from(ns).ok())
        .ok_or_else(|| format!("{text} is outside 1970..2262"))
}

/// `--from EPOCH:SEQ`.
pub fn parse_position(text: &str) -> Result<Position, String> {
    let (epoch, seq) = text
        .split_once(':')
        .ok_or_else(|| format!("{text:?} is not EPOCH:SEQ (e.g. 1752412345:0)"))?;
    let number = |s: &str, what: &str| {
        s.trim().parse::<u64>().map_err(|e| format!("{what} {s:?} in {text:?}: {e}"))
    };
    Ok(Position { epoch: number(epoch, "epoch")?, seq: number(seq, "sequence")? })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_and_times_parse_or_say_why_not() {
        assert_eq!(parse_position("12:34"), Ok(Position { epoch: 12, seq: 34 }));
        assert!(parse_position("12").expect_err("no colon").contains("EPOCH:SEQ"));
        assert!(parse_position("x:1").expect_err("not a number").contains("epoch"));
        assert_eq!(parse_time("1970-01-01T00:00:01Z"), Ok(1_000_000_000));
        assert_eq!(parse_time("5"), Ok(5));
        assert!(parse_time("yesterday").is_err());
    }
}
