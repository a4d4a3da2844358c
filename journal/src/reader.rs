//! The reading side: any epoch, from any sequence, while the writer appends or long after. Plain read(2)
//! calls, every block's checksum checked before a record is handed out.

use crate::config::JournalConfig;
use crate::error::JournalError;
use crate::format::{BlockState, PAGE};
use crate::frames::{FrameReader, LogKind, DIRECTORY};
use crate::layout::{self, EpochDir, DIRECTORY_FILE};
use crate::scan::{Expect, SegmentFile};
use std::marker::PhantomData;
use std::path::PathBuf;
use tickring_ipc::Record;

/// Most blocks read per call (1 MiB).
const READ_BLOCKS: usize = 256;

/// Why records of an epoch cannot be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReadGapCause {
    /// Deleted by retention.
    Retention,
    /// The journal could not take them (disk full) while the ring did.
    Behind,
    /// A block failed its checksum.
    Damaged { path: PathBuf, offset: u64 },
}

/// What one [`JournalReader::read`] found.
#[derive(Debug)]
pub enum ReadOutcome<'a, R> {
    Records {
        first_seq: u64,
        records: &'a [R],
    },
    /// Sequences `from..to` will never be read; reading goes on at `to`.
    Gap {
        from: u64,
        to: u64,
        cause: ReadGapCause,
    },
    /// Everything appended so far is read; the writer may append more.
    CaughtUp,
    /// The epoch is finished (sealed, or a newer epoch exists) and everything in it was read.
    EpochEnd,
}

/// One step of reading, before the records are lent out.
enum Step {
    Records(u64),
    Gap {
        from: u64,
        to: u64,
        cause: ReadGapCause,
    },
    CaughtUp,
    EpochEnd,
    /// Moved to another segment: read again.
    Again,
}

/// Reads records of type `R` (directory entries `E`) of one epoch.
#[derive(Debug)]
pub struct JournalReader<R: Record, E: Record = ()> {
    ring: String,
    ring_dir: PathBuf,
    epoch: EpochDir,
    next: u64,
    segments: Vec<(u64, PathBuf)>,
    seg: Option<(usize, SegmentFile)>,
    buf: Vec<u64>,
    out: Vec<R>,
    directory: FrameReader,
    entries: Vec<E>,
    finished: bool,
    _types: PhantomData<E>,
}

impl<R: Record, E: Record> JournalReader<R, E> {
    /// Opens `epoch` of `ring` to read from sequence `from`.
    ///
    /// # Errors
    /// The journal or the epoch does not exist, or belongs to another ring or layout.
    pub fn open(
        cfg: &JournalConfig,
        ring: &str,
        epoch: u64,
        from: u64,
    ) -> Result<Self, JournalError> {
        let ring_dir = cfg.ring_dir(ring);
        layout::check_ring_dir(&ring_dir, ring, false)?;
        let dir = layout::list_epochs(&ring_dir)?
            .into_iter()
            .find(|e| e.epoch == epoch)
            .ok_or_else(|| JournalError::Io {
                op: "find epoch in",
                path: ring_dir.clone(),
                source: std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    format!("epoch {epoch} is not in the journal (deleted by retention, or never journaled)"),
                ),
            })?;
        Ok(Self::at(ring, ring_dir, dir, from))
    }

    /// A reader of an epoch folder already listed.
    pub fn at(ring: &str, ring_dir: PathBuf, epoch: EpochDir, from: u64) -> Self {
        let kind = LogKind {
            kind: DIRECTORY,
            epoch: epoch.epoch,
            schema: E::SCHEMA_ID,
            item_size: std::mem::size_of::<E>() as u32,
        };
        Self {
            ring: ring.to_string(),
            ring_dir,
            directory: FrameReader::new(epoch.path.join(DIRECTORY_FILE), kind),
            epoch,
            next: from,
            segments: Vec::new(),
            seg: None,
            buf: vec![0u64; READ_BLOCKS * PAGE / 8],
            out: Vec::new(),
            entries: Vec::new(),
            finished: false,
            _types: PhantomData,
        }
    }

    pub fn epoch(&self) -> u64 {
        self.epoch.epoch
    }

    /// The next sequence [`JournalReader::read`] returns.
    pub fn position(&self) -> u64 {
        self.next
    }

    /// Moves to `seq` (the next read starts there).
    pub fn seek(&mut self, seq: u64) {
        if seq != self.next {
            self.next = seq;
            self.seg = None;
        }
    }

    /// Directory entry `id` of this epoch, reading entries appended since the last look.
    ///
    /// # Errors
    /// A damaged or foreign directory log.
    pub fn entry(&mut self, id: u32) -> Result<Option<E>, JournalError> {
        if id as usize >= self.entries.len() {
            self.refresh_entries()?;
        }
        Ok(self.entries.get(id as usize).copied())
    }

    /// Every directory entry of the epoch so far.
    ///
    /// # Errors
    /// As [`JournalReader::entry`].
    pub fn entries(&mut self) -> Result<&[E], JournalError> {
        self.refresh_entries()?;
        Ok(&self.entries)
    }

    fn refresh_entries(&mut self) -> Result<(), JournalError> {
        let size = std::mem::size_of::<E>();
        for frame in self.directory.read_new()? {
            if frame.len() != 4 + size {
                continue;
            }
            let index = u32::from_le_bytes([frame[0], frame[1], frame[2], frame[3]]) as usize;
            if index == self.entries.len() {
                self.entries.push(bytemuck::pod_read_unaligned(&frame[4..]));
            }
        }
        Ok(())
    }

    fn expect(&self) -> Expect<'_> {
        Expect {
            ring: &self.ring,
            epoch: self.epoch.epoch,
            schema_id: R::SCHEMA_ID,
            record_size: std::mem::size_of::<R>(),
        }
    }

    /// Whether the writer of this epoch is done (a clean close, or a newer epoch exists).
    fn is_finished(&mut self) -> Result<bool, JournalError> {
        if !self.finished {
            self.finished = self.epoch.sealed()
                || layout::list_epochs(&self.ring_dir)?
                    .iter()
                    .any(|e| e.ordinal > self.epoch.ordinal);
        }
        Ok(self.finished)
    }

    /// Up to `max` records from the current position.
    ///
    /// # Errors
    /// I/O errors; a segment of another ring, schema or layout.
    pub fn read(&mut self, max: usize) -> Result<ReadOutcome<'_, R>, JournalError> {
        loop {
            return Ok(match self.step(max.max(1))? {
                Step::Again => continue,
                Step::Records(first_seq) => ReadOutcome::Records { first_seq, records: &self.out },
                Step::Gap { from, to, cause } => ReadOutcome::Gap { from, to, cause },
                Step::CaughtUp => ReadOutcome::CaughtUp,
                Step::EpochEnd => ReadOutcome::EpochEnd,
            });
        }
    }

    fn step(&mut self, max: usize) -> Result<Step, JournalError> {
        if self.seg.is_none() {
            if let Some(step) = self.open_segment()? {
                return Ok(step);
            }
        }
        let Some((index, seg)) = self.seg.as_ref() else { return Ok(Step::CaughtUp) };
        let index = *index;
        let per_block = seg.per_block();
        let rel = self.next - seg.header.first_seq;
        let first_block = rel / per_block;
        let mut slot = (rel % per_block) as usize;
        if first_block >= seg.header.blocks {
            return self.after_segment(index);
        }
        // Never past the blocks the header gives (sequences beyond them are not this segment's).
        let left = usize::try_from(seg.header.blocks - first_block).unwrap_or(usize::MAX);
        let want_blocks = (slot + max).div_ceil(per_block as usize).clamp(1, READ_BLOCKS).min(left);
        let bytes: &mut [u8] = bytemuck::cast_slice_mut(&mut self.buf[..want_blocks * PAGE / 8]);
        let n = seg.read_blocks(first_block, bytes)? / PAGE;
        let size = std::mem::size_of::<R>();
        self.out.clear();
        let mut stop = None;
        for (i, block) in bytes[..n * PAGE].chunks_exact(PAGE).enumerate() {
            match seg.judge(first_block + i as u64, block) {
                BlockState::Valid { count, .. } => {
                    let count = count as usize;
                    if count > slot {
                        let take = (count - slot).min(max - self.out.len());
                        let at = crate::format::BLOCK_HEADER + slot * size;
                        extend_records(&mut self.out, &block[at..at + take * size]);
                    }
                    slot = 0;
                    if count < per_block as usize || self.out.len() >= max {
                        break;
                    }
                }
                state => {
                    stop = Some((first_block + i as u64, state));
                    break;
                }
            }
        }
        if !self.out.is_empty() {
            let first_seq = self.next;
            self.next += self.out.len() as u64;
            return Ok(Step::Records(first_seq));
        }
        match stop {
            Some((block, BlockState::Damaged)) => self.at_damage(index, block),
            _ => self.after_segment_if_done(index),
        }
    }

    /// Finds the segment holding `next`; a step when there is none to read from.
    fn open_segment(&mut self) -> Result<Option<Step>, JournalError> {
        self.segments = self.epoch.segments()?;
        let Some(index) = self.segments.iter().rposition(|(first, _)| *first <= self.next) else {
            if let Some((first, _)) = self.segments.first() {
                let (from, to) = (self.next, *first);
                self.next = to;
                return Ok(Some(Step::Gap { from, to, cause: ReadGapCause::Retention }));
            }
            return Ok(Some(if self.is_finished()? { Step::EpochEnd } else { Step::CaughtUp }));
        };
        let (first, path) = &self.segments[index];
        let seg = SegmentFile::open(path, &self.expect())?;
        // Sequences map to offsets from the header's first sequence; a file renamed (or a header forged
        // with a valid checksum) would put them elsewhere, or below zero.
        if seg.header.first_seq != *first {
            return Err(JournalError::Damaged {
                path: path.clone(),
                offset: 40,
                what: format!(
                    "header says first sequence {}, the name {first}",
                    seg.header.first_seq
                ),
            });
        }
        self.seg = Some((index, seg));
        Ok(None)
    }

    /// Nothing more in the segment at the current position: move on if a later segment exists.
    fn after_segment_if_done(&mut self, index: usize) -> Result<Step, JournalError> {
        self.segments = self.epoch.segments()?;
        if self.segments.len() > index + 1 || self.is_finished()? {
            return self.after_segment(index);
        }
        Ok(Step::CaughtUp)
    }

    fn after_segment(&mut self, index: usize) -> Result<Step, JournalError> {
        self.segments = self.epoch.segments()?;
        match self.segments.get(index + 1).map(|(first, _)| *first) {
            Some(first) => {
                self.seg = None;
                if first > self.next {
                    let from = self.next;
                    self.next = first;
                    return Ok(Step::Gap { from, to: first, cause: ReadGapCause::Behind });
                }
                Ok(Step::Again)
            }
            None if self.is_finished()? => Ok(Step::EpochEnd),
            None => Ok(Step::CaughtUp),
        }
    }

    /// A block failed its checksum: damage if anything valid follows it, else the writer's tail.
    fn at_damage(&mut self, index: usize, block: u64) -> Result<Step, JournalError> {
        let Some((_, seg)) = self.seg.as_ref() else { return Ok(Step::CaughtUp) };
        let per_block = seg.per_block();
        let path = seg.path.clone();
        let offset = crate::format::SegmentHeader::block_offset(block);
        let blocks = seg.blocks_in_file()?;
        let mut page = vec![0u64; PAGE / 8];
        let mut resume = None;
        for b in block + 1..blocks {
            let bytes: &mut [u8] = bytemuck::cast_slice_mut(&mut page);
            if seg.read_blocks(b, bytes)? < PAGE {
                break;
            }
            if matches!(seg.judge(b, bytes), BlockState::Valid { .. }) {
                resume = Some(seg.header.first_seq + b * per_block);
                break;
            }
        }
        // A live writer fills a block by appends and starts the next only once it is full: the block
        // that failed may simply have been in flight and is whole by now. Judged again after a valid
        // block was seen beyond it, a failure is final.
        let bytes: &mut [u8] = bytemuck::cast_slice_mut(&mut page);
        if seg.read_blocks(block, bytes)? == PAGE
            && matches!(seg.judge(block, bytes), BlockState::Valid { .. })
        {
            return Ok(Step::Again);
        }
        self.segments = self.epoch.segments()?;
        let resume = resume.or_else(|| self.segments.get(index + 1).map(|(first, _)| *first));
        match resume {
            Some(to) => {
                tracing::error!(path = %path.display(), offset, from = self.next, to, "journal block damaged; skipping it");
                let from = self.next;
                self.next = to;
                self.seg = None;
                Ok(Step::Gap { from, to, cause: ReadGapCause::Damaged { path, offset } })
            }
            // A torn tail: the dead writer's last block, or a block being written right now.
            None if self.is_finished()? => Ok(Step::EpochEnd),
            None => Ok(Step::CaughtUp),
        }
    }
}

/// Appends the records in `bytes` (a whole number of them) to `out`.
fn extend_records<R: Record>(out: &mut Vec<R>, bytes: &[u8]) {
    match bytemuck::try_cast_slice::<u8, R>(bytes) {
        Ok(records) => out.extend_from_slice(records),
        Err(_) => out.extend(
            bytes.chunks_exact(std::mem::size_of::<R>()).map(bytemuck::pod_read_unaligned::<R>),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::FsyncPolicy;
    use crate::writer::JournalWriter;

    #[repr(C)]
    #[derive(Clone, Copy, Debug, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
    struct Rec([u64; 8]);

    impl Record for Rec {
        const SCHEMA_ID: u64 = 0x7465_7374_0002_0040;
    }

    /// Found by the `journal_segment` fuzz target (fuzz/regressions/journal_segment/): a segment whose
    /// header says a later first sequence than its file name made `read` subtract below zero.
    #[test]
    fn a_segment_whose_header_disagrees_with_its_name_is_damage_not_a_panic() {
        let dir = tempfile::tempdir().expect("tmp");
        let cfg = JournalConfig {
            dir: dir.path().to_path_buf(),
            fsync: FsyncPolicy::Never,
            segment_bytes: 64 << 10,
            retention_hours: 0,
            retention_bytes: 0,
            ..JournalConfig::default()
        };
        let mut w = JournalWriter::<Rec>::open(&cfg, "t", 1).expect("open");
        w.append(0, &[Rec([7; 8]); 1000]).expect("append: rolls to a second segment");
        w.close().expect("close");
        let epoch = layout::epoch_path(&cfg.ring_dir("t"), 1);
        let (second, path) = layout::list_segments(&epoch).expect("list").remove(1);
        std::fs::rename(&path, layout::segment_path(&epoch, second - 5)).expect("rename");
        let mut r = JournalReader::<Rec>::open(&cfg, "t", 1, second - 5).expect("reader");
        let err = r.read(10).expect_err("damage").to_string();
        let expected = format!("header says first sequence {second}, the name {}", second - 5);
        assert!(err.contains(&expected), "{err}");
    }
}
