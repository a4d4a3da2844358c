//! Feed gaps: the times a live feed was down, journaled where they happened (after which sequence), so
//! every reader can tell "the market was quiet" from "we were not listening".
//!
//! `feed_gaps.log` frames: `{seq u64, from_ns u64, to_ns u64, connection u64}`.

use crate::error::JournalError;
use crate::frames::{FrameReader, LogKind, FEED_GAPS};
use crate::layout::FEED_GAPS_FILE;
use std::path::Path;

/// The feed was down from `from_ns` to `to_ns` (UTC ns); it came back as `connection` (counted since
/// ingest started), before the tick with sequence `seq`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct FeedGap {
    pub seq: u64,
    pub from_ns: u64,
    pub to_ns: u64,
    pub connection: u64,
}

impl FeedGap {
    pub(crate) fn encode(&self) -> [u8; 32] {
        let mut b = [0u8; 32];
        for (i, v) in [self.seq, self.from_ns, self.to_ns, self.connection].iter().enumerate() {
            b[i * 8..i * 8 + 8].copy_from_slice(&v.to_le_bytes());
        }
        b
    }

    fn decode(b: &[u8]) -> Option<Self> {
        if b.len() != 32 {
            return None;
        }
        let at = |i: usize| {
            let mut a = [0u8; 8];
            a.copy_from_slice(&b[i * 8..i * 8 + 8]);
            u64::from_le_bytes(a)
        };
        Some(Self { seq: at(0), from_ns: at(1), to_ns: at(2), connection: at(3) })
    }
}

pub(crate) fn kind(epoch: u64) -> LogKind {
    LogKind { kind: FEED_GAPS, epoch, schema: 0, item_size: 32 }
}

/// Follows the feed gaps of one epoch as they are journaled.
#[derive(Debug)]
pub struct FeedGapReader {
    frames: FrameReader,
}

impl FeedGapReader {
    pub fn new(epoch_dir: &Path, epoch: u64) -> Self {
        Self { frames: FrameReader::new(epoch_dir.join(FEED_GAPS_FILE), kind(epoch)) }
    }

    /// Gaps journaled since the last call.
    ///
    /// # Errors
    /// A damaged or foreign log.
    pub fn read_new(&mut self) -> Result<Vec<FeedGap>, JournalError> {
        Ok(self.frames.read_new()?.iter().filter_map(|f| FeedGap::decode(f)).collect())
    }
}
