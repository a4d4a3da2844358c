//! Reading a segment file with read(2): its header checked against what the caller expects, its blocks
//! judged one by one. Shared by the reader, the writer's torn-tail repair and `verify`.

use crate::error::JournalError;
use crate::format::{
    block_records, judge_block, BlockCopy, BlockState, HeaderError, SegmentHeader, PAGE,
};
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// What the caller expects a segment to be.
#[derive(Clone, Debug)]
pub(crate) struct Expect<'a> {
    pub ring: &'a str,
    pub epoch: u64,
    pub schema_id: u64,
    pub record_size: usize,
}

#[derive(Debug)]
pub(crate) struct SegmentFile {
    pub file: File,
    pub path: PathBuf,
    pub header: SegmentHeader,
}

impl SegmentFile {
    /// # Errors
    /// Not a segment, another version, ring, epoch or schema, a damaged header, I/O errors.
    pub(crate) fn open(path: &Path, expect: &Expect<'_>) -> Result<Self, JournalError> {
        let file = File::open(path).map_err(JournalError::io("open", path))?;
        let mut page = vec![0u8; PAGE];
        let n = read_full(&file, &mut page, 0).map_err(JournalError::io("read", path))?;
        let header = SegmentHeader::decode(&page[..n]).map_err(|e| match e {
            HeaderError::Magic => JournalError::Foreign { path: path.to_path_buf() },
            HeaderError::Version(found) => JournalError::LayoutVersion {
                path: path.to_path_buf(),
                found,
                expected: crate::format::LAYOUT_VERSION,
            },
            HeaderError::Checksum | HeaderError::Short => JournalError::Damaged {
                path: path.to_path_buf(),
                offset: 0,
                what: "segment header checksum".into(),
            },
        })?;
        if header.ring != expect.ring {
            return Err(JournalError::OtherRing {
                path: path.to_path_buf(),
                found: header.ring,
                expected: expect.ring.to_string(),
            });
        }
        if header.schema_id != expect.schema_id
            || header.record_size as usize != expect.record_size
            || header.block_records as usize != block_records(expect.record_size)
        {
            return Err(JournalError::Schema {
                path: path.to_path_buf(),
                found_size: header.record_size,
                found_schema: header.schema_id,
                expected_size: expect.record_size as u32,
                expected_schema: expect.schema_id,
            });
        }
        if header.epoch != expect.epoch {
            return Err(JournalError::Damaged {
                path: path.to_path_buf(),
                offset: 32,
                what: format!(
                    "segment of epoch {} in the folder of epoch {}",
                    header.epoch, expect.epoch
                ),
            });
        }
        // Every sequence and offset of the segment is computed from these: a header (valid checksum, but
        // not written by a writer) whose blocks or sequences run past what u64 holds is damage.
        let max_blocks = crate::config::MAX_SEGMENT_BYTES / PAGE as u64;
        let end = header
            .blocks
            .checked_mul(u64::from(header.block_records))
            .and_then(|n| header.first_seq.checked_add(n));
        if header.blocks > max_blocks || end.is_none() {
            return Err(JournalError::Damaged {
                path: path.to_path_buf(),
                offset: 56,
                what: format!(
                    "header says {} blocks from sequence {}: more than a segment holds",
                    header.blocks, header.first_seq
                ),
            });
        }
        Ok(Self { file, path: path.to_path_buf(), header })
    }

    /// Blocks present in the file now.
    pub(crate) fn blocks_in_file(&self) -> Result<u64, JournalError> {
        let len = self.file.metadata().map_err(JournalError::io("stat", &self.path))?.len();
        Ok((len.saturating_sub(PAGE as u64) / PAGE as u64).min(self.header.blocks))
    }

    pub(crate) fn per_block(&self) -> u64 {
        u64::from(self.header.block_records)
    }

    /// Reads whole blocks from `block` into `buf` (a multiple of PAGE); returns the bytes read.
    pub(crate) fn read_blocks(&self, block: u64, buf: &mut [u8]) -> Result<usize, JournalError> {
        let n = read_full(&self.file, buf, SegmentHeader::block_offset(block))
            .map_err(JournalError::io("read", &self.path))?;
        Ok(n - n % PAGE)
    }

    pub(crate) fn judge(&self, block_index: u64, block: &[u8]) -> BlockState {
        let first = self.header.first_seq + block_index * self.per_block();
        judge_block(block, first, self.header.record_size as usize)
    }
}

/// Everything a full pass over a segment learned.
#[derive(Clone, Debug, Default)]
pub(crate) struct Scan {
    /// Records in the valid prefix (whole blocks, then the partial tail block).
    pub records: u64,
    /// The partial tail block: index, count and the header copy it was read from.
    pub tail: Option<(u64, u32, BlockCopy)>,
    /// First bad block of the prefix: its offset and what is wrong.
    pub damage: Option<(u64, String)>,
    /// Valid blocks found after the damage (damage in the middle, not a torn tail).
    pub valid_after_damage: u64,
}

/// Reads every block of `seg` (1 MiB at a time).
///
/// # Errors
/// I/O errors.
pub(crate) fn scan(seg: &SegmentFile) -> Result<Scan, JournalError> {
    let blocks = seg.blocks_in_file()?;
    let per_block = seg.per_block();
    let mut out = Scan::default();
    let mut buf = vec![0u8; 256 * PAGE];
    let mut ended = false;
    let mut index = 0;
    while index < blocks {
        let n = seg.read_blocks(index, &mut buf)? / PAGE;
        if n == 0 {
            break;
        }
        for (i, block) in buf[..n * PAGE].chunks_exact(PAGE).enumerate() {
            let b = index + i as u64;
            let state = seg.judge(b, block);
            if ended {
                if matches!(state, BlockState::Valid { .. }) && out.damage.is_some() {
                    out.valid_after_damage += 1;
                }
                continue;
            }
            match state {
                BlockState::Valid { count, copy } => {
                    out.records += u64::from(count);
                    if u64::from(count) < per_block {
                        out.tail = Some((b, count, copy));
                        ended = true;
                    }
                }
                BlockState::Empty => ended = true,
                BlockState::Damaged => {
                    out.damage =
                        Some((SegmentHeader::block_offset(b), "block checksum mismatch".into()));
                    ended = true;
                }
            }
        }
        index += n as u64;
    }
    Ok(out)
}

/// pread until `buf` is full or the file ends.
pub(crate) fn read_full(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        match file.read_at(&mut buf[done..], offset + done as u64) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(first_seq: u64, blocks: u64) -> Result<SegmentFile, JournalError> {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("s.seg");
        let header = SegmentHeader {
            layout_version: crate::format::LAYOUT_VERSION,
            record_size: 64,
            block_records: block_records(64) as u32,
            schema_id: 9,
            epoch: 1,
            first_seq,
            created_ns: 0,
            blocks,
            ring: "t".into(),
        };
        let mut bytes = header.encode().to_vec();
        bytes.resize(2 * PAGE, 0);
        std::fs::write(&path, bytes).expect("write");
        SegmentFile::open(&path, &Expect { ring: "t", epoch: 1, schema_id: 9, record_size: 64 })
    }

    /// Found by the `journal_segment` fuzz target (fuzz/regressions/journal_segment/): a header whose
    /// sequences run past u64::MAX made judging its blocks overflow.
    #[test]
    fn a_header_whose_range_overflows_is_damage() {
        open(0, 16).expect("a plain segment opens");
        let err = open(u64::MAX - 10, 16).expect_err("sequences past u64").to_string();
        assert!(err.contains("more than a segment holds"), "{err}");
        let err = open(0, u64::MAX / 63).expect_err("blocks past any segment").to_string();
        assert!(err.contains("more than a segment holds"), "{err}");
    }
}
