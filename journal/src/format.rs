//! The bytes on disk. Little-endian throughout.
//!
//! A segment is a 4 KiB header page followed by 4 KiB blocks. A block is a 64-byte block header and
//! `block_records` records (63 of 64 bytes), so sequence `s` of a segment starting at `first` lives in block
//! `(s - first) / block_records`, slot `(s - first) % block_records`: arithmetic, no index.
//!
//! The block header holds two 32-byte copies of {count, first_seq, crc32c of the first `count` records}.
//! The writer fills a block's records, then writes the copy the reader did not pick last time (alternating
//! by generation), so an interrupted header write (a kill between two stores, a torn sector) always leaves
//! the other copy intact with a smaller count. A reader takes the valid copy with the largest count.

/// Segment header page and block size.
pub const PAGE: usize = 4096;
pub const BLOCK_HEADER: usize = 64;
pub const SEGMENT_MAGIC: [u8; 8] = *b"TRKJSEG\x01";
pub const LAYOUT_VERSION: u32 = 1;
const COPY: usize = 32;
const BLOCK_MAGIC: u32 = 0x4b4c_4254; // "TBLK"
const RING_NAME: usize = 64;

/// Records per block for a record size.
pub const fn block_records(record_size: usize) -> usize {
    (PAGE - BLOCK_HEADER) / record_size
}

/// What the header page of a segment says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SegmentHeader {
    pub layout_version: u32,
    pub record_size: u32,
    pub block_records: u32,
    pub schema_id: u64,
    pub epoch: u64,
    pub first_seq: u64,
    pub created_ns: u64,
    /// Blocks the segment was allocated with (a sealed segment may be cut shorter).
    pub blocks: u64,
    pub ring: String,
}

/// Why a header page is unusable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HeaderError {
    Magic,
    Version(u32),
    Checksum,
    Short,
}

impl SegmentHeader {
    pub fn encode(&self) -> [u8; PAGE] {
        let mut page = [0u8; PAGE];
        page[..8].copy_from_slice(&SEGMENT_MAGIC);
        put_u32(&mut page, 8, self.layout_version);
        put_u32(&mut page, 12, self.record_size);
        put_u32(&mut page, 16, self.block_records);
        put_u64(&mut page, 24, self.schema_id);
        put_u64(&mut page, 32, self.epoch);
        put_u64(&mut page, 40, self.first_seq);
        put_u64(&mut page, 48, self.created_ns);
        put_u64(&mut page, 56, self.blocks);
        let name = self.ring.as_bytes();
        let n = name.len().min(RING_NAME);
        page[64..64 + n].copy_from_slice(&name[..n]);
        let crc = crc32c::crc32c(&page[..128]);
        put_u32(&mut page, 128, crc);
        page
    }

    /// # Errors
    /// Not a segment, another layout version, or a damaged header.
    pub fn decode(page: &[u8]) -> Result<Self, HeaderError> {
        if page.len() < 132 {
            return Err(HeaderError::Short);
        }
        if page[..8] != SEGMENT_MAGIC {
            return Err(HeaderError::Magic);
        }
        let version = get_u32(page, 8);
        if version != LAYOUT_VERSION {
            return Err(HeaderError::Version(version));
        }
        if crc32c::crc32c(&page[..128]) != get_u32(page, 128) {
            return Err(HeaderError::Checksum);
        }
        let name = &page[64..64 + RING_NAME];
        let len = name.iter().position(|&b| b == 0).unwrap_or(RING_NAME);
        Ok(Self {
            layout_version: version,
            record_size: get_u32(page, 12),
            block_records: get_u32(page, 16),
            schema_id: get_u64(page, 24),
            epoch: get_u64(page, 32),
            first_seq: get_u64(page, 40),
            created_ns: get_u64(page, 48),
            blocks: get_u64(page, 56),
            ring: String::from_utf8_lossy(&name[..len]).into_owned(),
        })
    }

    /// Byte offset of block `index`.
    pub fn block_offset(index: u64) -> u64 {
        PAGE as u64 + index * PAGE as u64
    }
}

/// One copy of a block header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockCopy {
    pub count: u32,
    pub first_seq: u64,
    pub data_crc: u32,
    pub generation: u32,
}

impl BlockCopy {
    fn encode(&self) -> [u8; COPY] {
        let mut b = [0u8; COPY];
        put_u32(&mut b, 0, BLOCK_MAGIC);
        put_u32(&mut b, 4, self.count);
        put_u64(&mut b, 8, self.first_seq);
        put_u32(&mut b, 16, self.data_crc);
        put_u32(&mut b, 20, self.generation);
        let crc = crc32c::crc32c(&b[..28]);
        put_u32(&mut b, 28, crc);
        b
    }

    fn decode(b: &[u8]) -> Option<Self> {
        if get_u32(b, 0) != BLOCK_MAGIC || crc32c::crc32c(&b[..28]) != get_u32(b, 28) {
            return None;
        }
        Some(Self {
            count: get_u32(b, 4),
            first_seq: get_u64(b, 8),
            data_crc: get_u32(b, 16),
            generation: get_u32(b, 20),
        })
    }

    /// Writes this copy into its place (`generation % 2`) of a block header.
    pub fn write_into(&self, header: &mut [u8]) {
        let at = (self.generation as usize % 2) * COPY;
        header[at..at + COPY].copy_from_slice(&self.encode());
    }
}

/// What a block holds, judged from its bytes alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockState {
    /// Never written: the header is all zeros.
    Empty,
    /// `count` records are whole and checksummed; `copy` is the header the count came from.
    Valid { count: u32, copy: BlockCopy },
    /// Written, but no header copy matches its records: torn or damaged.
    Damaged,
}

/// Judges a block (`PAGE` bytes: header then records) expected to start at `first_seq`.
pub fn judge_block(block: &[u8], first_seq: u64, record_size: usize) -> BlockState {
    let per_block = block_records(record_size) as u32;
    let mut best: Option<BlockCopy> = None;
    for at in [0, COPY] {
        let Some(copy) = BlockCopy::decode(&block[at..at + COPY]) else { continue };
        if copy.first_seq != first_seq || copy.count == 0 || copy.count > per_block {
            continue;
        }
        let end = BLOCK_HEADER + copy.count as usize * record_size;
        if end > block.len() || crc32c::crc32c(&block[BLOCK_HEADER..end]) != copy.data_crc {
            continue;
        }
        if best.is_none_or(|b| copy.count > b.count) {
            best = Some(copy);
        }
    }
    match best {
        Some(copy) => BlockState::Valid { count: copy.count, copy },
        None if block[..BLOCK_HEADER].iter().all(|&b| b == 0) => BlockState::Empty,
        None => BlockState::Damaged,
    }
}

pub(crate) fn put_u32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

pub(crate) fn put_u64(b: &mut [u8], at: usize, v: u64) {
    b[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

pub(crate) fn get_u32(b: &[u8], at: usize) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(a)
}

pub(crate) fn get_u64(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn header() -> SegmentHeader {
        SegmentHeader {
            layout_version: LAYOUT_VERSION,
            record_size: 64,
            block_records: 63,
            schema_id: 7,
            epoch: 42,
            first_seq: 630,
            created_ns: 1,
            blocks: 16,
            ring: "ticks".into(),
        }
    }

    fn block_with(records: &[[u8; 64]], generation: u32) -> Vec<u8> {
        let mut block = vec![0u8; PAGE];
        for (i, r) in records.iter().enumerate() {
            let at = BLOCK_HEADER + i * 64;
            block[at..at + 64].copy_from_slice(r);
        }
        let crc = crc32c::crc32c(&block[BLOCK_HEADER..BLOCK_HEADER + records.len() * 64]);
        BlockCopy { count: records.len() as u32, first_seq: 0, data_crc: crc, generation }
            .write_into(&mut block[..BLOCK_HEADER]);
        block
    }

    #[test]
    fn header_round_trips_and_refuses_damage() {
        let h = header();
        let page = h.encode();
        assert_eq!(SegmentHeader::decode(&page), Ok(h));
        let mut bad = page;
        bad[40] ^= 1;
        assert_eq!(SegmentHeader::decode(&bad), Err(HeaderError::Checksum));
        bad[0] = b'X';
        assert_eq!(SegmentHeader::decode(&bad), Err(HeaderError::Magic));
    }

    #[test]
    fn an_unwritten_block_is_empty() {
        assert_eq!(judge_block(&[0u8; PAGE], 0, 64), BlockState::Empty);
    }

    proptest! {
        /// Whatever prefix of a header rewrite lands, the block reads as the old or the new count, never
        /// as garbage.
        #[test]
        fn interrupted_header_rewrite_keeps_the_older_count(
            old in 1usize..63, grow in 1usize..10, cut in 0usize..=32, fill in any::<u8>()
        ) {
            let new = (old + grow).min(63);
            let records: Vec<[u8; 64]> = (0..new).map(|i| [(i as u8) ^ fill; 64]).collect();
            let mut block = block_with(&records[..old], 0);
            // Records for the new count land first, then the new copy (generation 1) byte by byte.
            let full = block_with(&records, 1);
            block[BLOCK_HEADER..].copy_from_slice(&full[BLOCK_HEADER..]);
            block[32..32 + cut].copy_from_slice(&full[32..32 + cut]);
            let state = judge_block(&block, 0, 64);
            let expect = if cut == 32 { new as u32 } else { old as u32 };
            prop_assert!(matches!(state, BlockState::Valid { count, .. } if count == expect), "{state:?}");
        }

        /// A flipped bit anywhere in the records or the live header copy is never read as valid data
        /// of the newest count.
        #[test]
        fn flipped_bits_are_detected(count in 1usize..=63, at in 0usize..PAGE, bit in 0u8..8) {
            let records: Vec<[u8; 64]> = (0..count).map(|i| [i as u8 + 1; 64]).collect();
            let mut block = block_with(&records, 0);
            let used = BLOCK_HEADER + count * 64;
            prop_assume!(at < 32 || (BLOCK_HEADER..used).contains(&at));
            block[at] ^= 1 << bit;
            let state = judge_block(&block, 0, 64);
            prop_assert!(!matches!(state, BlockState::Valid { count: c, .. } if c as usize == count), "{state:?}");
        }
    }
}
