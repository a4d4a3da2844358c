//! The `journal_segment` target's input: a few flag bits, the sequence to read from, a `directory.log`
//! and one or more segment files, in one byte string:
//!
//! ```text
//! flags u8 | from u64 LE | directory length u16 LE | directory.log bytes | segment bytes...
//! ```
//!
//! The segment bytes are cut into files at every 4 KiB boundary that starts with the segment magic (a
//! journal's segments written back to back). Checksums stop random bytes at the first check, so the flags
//! can make the harness repair them after mutation: the mutated content then reaches the code behind.
//! Shared by the target and `seedgen` (which writes real journals in this form).

/// Give the segment header the ring, epoch, schema and sizes the reader expects, and its checksum.
pub const FIX_HEADER: u8 = 1;
/// Recompute block header copy 0 (magic, first sequence, count clamped, data and copy checksums).
pub const FIX_COPY0: u8 = 2;
/// The same for copy 1.
pub const FIX_COPY1: u8 = 4;
/// Give `directory.log` a valid header and every frame its checksum.
pub const FIX_DIRECTORY: u8 = 8;
/// Name segment files 0, 1, 2.. instead of by the first sequence their header says.
pub const NAME_BY_INDEX: u8 = 16;
/// Records are `tickring_engine::Tick` with `InstrumentEntry` directory entries (else a 64-byte test
/// record and no directory type).
pub const TICKS: u8 = 32;
/// The epoch is sealed (its writer closed cleanly).
pub const SEALED: u8 = 64;
/// Read one record at a time (else up to 500).
pub const READ_ONE: u8 = 128;

pub const PAGE: usize = 4096;
pub const SEGMENT_MAGIC: [u8; 8] = *b"TRKJSEG\x01";
const PREFIX: usize = 1 + 8 + 2;
const MAX_SEGMENTS: usize = 8;

/// One fuzz input, split.
#[derive(Debug)]
pub struct Input<'a> {
    pub flags: u8,
    pub from: u64,
    pub directory: &'a [u8],
    pub segments: Vec<&'a [u8]>,
}

impl<'a> Input<'a> {
    /// `None` for inputs too short to hold the prefix.
    pub fn split(data: &'a [u8]) -> Option<Self> {
        if data.len() < PREFIX {
            return None;
        }
        let flags = data[0];
        let from = u64::from_le_bytes(data[1..9].try_into().ok()?);
        let dir_len = usize::from(u16::from_le_bytes([data[9], data[10]]));
        let rest = &data[PREFIX..];
        let (directory, segs) = rest.split_at(dir_len.min(rest.len()));
        let mut starts = vec![0];
        starts.extend(
            (PAGE..segs.len())
                .step_by(PAGE)
                .filter(|&at| segs[at..].starts_with(&SEGMENT_MAGIC))
                .take(MAX_SEGMENTS - 1),
        );
        let segments = starts
            .iter()
            .zip(starts.iter().skip(1).chain(std::iter::once(&segs.len())))
            .map(|(&a, &b)| &segs[a..b])
            .filter(|s| !s.is_empty())
            .collect();
        Some(Self { flags, from, directory, segments })
    }

    /// The input holding these parts (what `split` gives back, for segments that each start with the
    /// magic and are whole pages).
    pub fn encode(flags: u8, from: u64, directory: &[u8], segments: &[Vec<u8>]) -> Vec<u8> {
        let dir_len = u16::try_from(directory.len()).expect("a directory under 64 KiB");
        let mut out = vec![flags];
        out.extend_from_slice(&from.to_le_bytes());
        out.extend_from_slice(&dir_len.to_le_bytes());
        out.extend_from_slice(directory);
        for s in segments {
            out.extend_from_slice(s);
        }
        out
    }
}
