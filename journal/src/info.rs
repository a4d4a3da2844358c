//! What a journal holds, for `tickring journal ls`, `status` and a restarting ingest.

use crate::config::JournalConfig;
use crate::error::JournalError;
use crate::format::{BlockState, PAGE};
use crate::frames::{FrameReader, LogKind, DIRECTORY, SOURCE};
use crate::layout::{self, EpochDir, DIRECTORY_FILE, SOURCE_FILE};
use crate::scan::{Expect, SegmentFile};
use tickring_ipc::Record;

/// One epoch, summarised.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct EpochInfo {
    pub epoch: u64,
    pub ordinal: u64,
    pub created_ns: u64,
    pub sealed: bool,
    pub segments: usize,
    /// First sequence still held (retention deletes from the front).
    pub first_seq: u64,
    /// Records appended (the next sequence).
    pub head: u64,
    pub bytes: u64,
    pub instruments: usize,
    /// The times a live feed was down in this epoch, in order.
    pub feed_gaps: Vec<crate::FeedGap>,
}

/// A ring's journal, summarised.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct JournalInfo {
    pub ring: String,
    pub dir: String,
    pub bytes: u64,
    pub epochs: Vec<EpochInfo>,
}

/// Where the source stood after `seq` records of `epoch`, and how many records that epoch holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourcePosition {
    pub epoch: u64,
    pub seq: u64,
    pub position: Vec<u8>,
    pub journal_head: u64,
}

/// Summarises every epoch of `ring` (record counts found by binary search over blocks, not a full read).
///
/// # Errors
/// A folder of another ring or layout; I/O errors.
pub fn inspect<R: Record, E: Record>(
    cfg: &JournalConfig,
    ring: &str,
) -> Result<JournalInfo, JournalError> {
    let ring_dir = cfg.ring_dir(ring);
    layout::check_ring_dir(&ring_dir, ring, false)?;
    let mut epochs = Vec::new();
    let mut total = 0;
    for dir in layout::list_epochs(&ring_dir)? {
        let segments = dir.segments()?;
        let bytes: u64 =
            segments.iter().filter_map(|(_, p)| std::fs::metadata(p).ok()).map(|m| m.len()).sum();
        total += bytes;
        let head = epoch_head::<R>(&dir, ring)?;
        let kind = LogKind {
            kind: DIRECTORY,
            epoch: dir.epoch,
            schema: E::SCHEMA_ID,
            item_size: std::mem::size_of::<E>() as u32,
        };
        let instruments =
            FrameReader::new(dir.path.join(DIRECTORY_FILE), kind).read_new().map_or(0, |f| f.len());
        epochs.push(EpochInfo {
            epoch: dir.epoch,
            ordinal: dir.ordinal,
            created_ns: dir.created_ns,
            sealed: dir.sealed(),
            segments: segments.len(),
            first_seq: segments.first().map_or(head, |(f, _)| *f),
            head,
            bytes,
            instruments,
            feed_gaps: crate::FeedGapReader::new(&dir.path, dir.epoch).read_new()?,
        });
    }
    Ok(JournalInfo {
        ring: ring.to_string(),
        dir: ring_dir.display().to_string(),
        bytes: total,
        epochs,
    })
}

/// Records appended to an epoch: the last segment's first sequence plus its valid records.
///
/// # Errors
/// I/O errors, a foreign segment.
pub fn epoch_head<R: Record>(dir: &EpochDir, ring: &str) -> Result<u64, JournalError> {
    let segments = dir.segments()?;
    let Some((first, path)) = segments.last() else { return Ok(0) };
    let expect = Expect {
        ring,
        epoch: dir.epoch,
        schema_id: R::SCHEMA_ID,
        record_size: std::mem::size_of::<R>(),
    };
    let seg = SegmentFile::open(path, &expect)?;
    let per_block = seg.per_block();
    let mut page = vec![0u64; PAGE / 8];
    let mut judge = |b: u64| -> Result<Option<u32>, JournalError> {
        let bytes: &mut [u8] = bytemuck::cast_slice_mut(&mut page);
        if seg.read_blocks(b, bytes)? < PAGE {
            return Ok(None);
        }
        Ok(match seg.judge(b, bytes) {
            BlockState::Valid { count, .. } => Some(count),
            _ => None,
        })
    };
    // Blocks are filled in order: full blocks, at most one partial one, then nothing.
    let (mut lo, mut hi) = (0u64, seg.blocks_in_file()?);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if judge(mid)? == Some(per_block as u32) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    let tail = u64::from(judge(lo)?.unwrap_or(0));
    Ok(first + lo * per_block + tail)
}

/// The newest source position journaled for `ring`, if any.
///
/// # Errors
/// I/O errors, a damaged or foreign log.
pub fn last_source_position<R: Record>(
    cfg: &JournalConfig,
    ring: &str,
) -> Result<Option<SourcePosition>, JournalError> {
    let ring_dir = cfg.ring_dir(ring);
    layout::check_ring_dir(&ring_dir, ring, false)?;
    for dir in layout::list_epochs(&ring_dir)?.iter().rev() {
        let kind = LogKind { kind: SOURCE, epoch: dir.epoch, schema: 0, item_size: 0 };
        let frames = FrameReader::new(dir.path.join(SOURCE_FILE), kind).read_new()?;
        let Some(last) = frames.iter().rev().find(|f| f.len() >= 8) else { continue };
        let mut seq = [0u8; 8];
        seq.copy_from_slice(&last[..8]);
        return Ok(Some(SourcePosition {
            epoch: dir.epoch,
            seq: u64::from_le_bytes(seq),
            position: last[8..].to_vec(),
            journal_head: epoch_head::<R>(dir, ring)?,
        }));
    }
    Ok(None)
}
