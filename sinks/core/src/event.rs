//! What a [`crate::TickStream`] yields.

use crate::instruments::Instruments;
use std::path::PathBuf;
use tickring_engine::Tick;

/// A sink's place: the next sequence to read in an epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Position {
    pub epoch: u64,
    pub seq: u64,
}

/// Where the stream reads right now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadingFrom {
    /// The shared-memory ring: the live, fast path.
    Ring,
    /// The journal: catching up, or the ring does not hold the position.
    Journal,
}

impl ReadingFrom {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ring => "ring",
            Self::Journal => "journal",
        }
    }
}

/// Why sequences will never be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StreamGapCause {
    /// The journal deleted them (retention) before this sink read them.
    Retention,
    /// The journal could not take them (disk full) and the ring no longer holds them.
    JournalBehind,
    /// A journal block failed its checksum.
    Damaged { path: PathBuf, offset: u64 },
    /// The epoch is not in the journal at all and the ring lapped this reader.
    Lapped,
}

impl StreamGapCause {
    /// A short stable name for logs, metrics and client notices.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Retention => "journal_retention",
            Self::JournalBehind => "journal_behind",
            Self::Damaged { .. } => "journal_damaged",
            Self::Lapped => "ring_overrun",
        }
    }
}

/// Sequences `from..to` of `epoch` that will never be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamGap {
    pub epoch: u64,
    pub from: u64,
    pub to: u64,
    pub cause: StreamGapCause,
}

impl StreamGap {
    pub fn count(&self) -> u64 {
        self.to.saturating_sub(self.from)
    }
}

/// One step of a [`crate::TickStream`].
#[derive(Debug)]
pub enum Event<'a> {
    /// Reading moves to `epoch` (the first one, or a restarted producer's): instrument ids start over.
    NewEpoch {
        epoch: u64,
        previous: Option<u64>,
    },
    /// Consecutive ticks of `epoch` from `first_seq`; their `instrument_id` is the sink id that
    /// `instruments` names (stable across epochs).
    Ticks {
        epoch: u64,
        first_seq: u64,
        ticks: &'a [Tick],
        instruments: &'a Instruments,
    },
    Gap(StreamGap),
    /// The live feed was not listening (a disconnect, or ingest down) before the tick at `gap.seq`.
    FeedGap {
        epoch: u64,
        gap: tickring_journal::FeedGap,
    },
    /// Nothing new within the wait.
    Idle,
    /// The producer shut down cleanly and everything it published was read (a new one may follow).
    Closed,
}
