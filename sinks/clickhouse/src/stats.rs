//! Counters of the writer, logged periodically and at exit, so nothing it did goes unseen.

use crate::failure::FailureKind;
use std::fmt;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WriterStats {
    /// Ticks read from the stream (ring or journal).
    pub ticks_read: u64,
    pub ticks_written: u64,
    pub candles_written: u64,
    pub latest_written: u64,
    /// Stored ticks fed to the aggregator on start.
    pub recovered_ticks: u64,
    /// Flushes acknowledged by ClickHouse (each moves the resume point).
    pub flushes: u64,
    /// Failed ClickHouse requests, by [`FailureKind`] (index), and the retries they caused.
    pub failures: [u64; FailureKind::ALL.len()],
    pub retries: u64,
    /// Ticks lost before this writer stored them (journal retention or damage; never for a live writer).
    pub ring_missed: u64,
    /// Ticks the aggregator could not place: past retention, unmatched cancels, negative sizes.
    pub candle_too_late: u64,
    pub candle_unmatched_cancels: u64,
    pub candle_late_reemits: u64,
}

impl WriterStats {
    pub fn failed(&mut self, kind: FailureKind) {
        self.failures[kind.index()] += 1;
    }

    pub fn failures_total(&self) -> u64 {
        self.failures.iter().sum()
    }
}

impl fmt::Display for WriterStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "read={} ticks={} candles={} latest={} recovered={} flushes={} retries={}",
            self.ticks_read,
            self.ticks_written,
            self.candles_written,
            self.latest_written,
            self.recovered_ticks,
            self.flushes,
            self.retries
        )?;
        for kind in FailureKind::ALL {
            let n = self.failures[kind.index()];
            if n > 0 {
                write!(f, " failed_{kind}={n}")?;
            }
        }
        write!(
            f,
            " missed={} candle_late_reemits={} candle_too_late={} candle_unmatched_cancels={}",
            self.ring_missed,
            self.candle_late_reemits,
            self.candle_too_late,
            self.candle_unmatched_cancels
        )
    }
}
