//! Where a replay stands in its file, as bytes for the journal's source log: the byte offset after the
//! last line handed out, its line number, and the length and hash of that line, so a resume can check it
//! is continuing the same file rather than trusting an offset into another one.
//!
//! Layout (little-endian): magic `RPL1`, offset u64, line u64, last line length u32, last line hash u64.

use crate::feed::source::ResumeError;

const MAGIC: &[u8; 4] = b"RPL1";
const LEN: usize = 4 + 8 + 8 + 4 + 8;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct LinePosition {
    /// Bytes of the file consumed through the last line.
    pub offset: u64,
    /// 1-based number of the last line (0 before the first).
    pub line: u64,
    /// That line as read (with its line ending): length and FNV-1a hash.
    pub last_len: u32,
    pub last_hash: u64,
}

impl LinePosition {
    pub(super) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(LEN);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&self.offset.to_le_bytes());
        out.extend_from_slice(&self.line.to_le_bytes());
        out.extend_from_slice(&self.last_len.to_le_bytes());
        out.extend_from_slice(&self.last_hash.to_le_bytes());
        out
    }

    pub(super) fn decode(bytes: &[u8]) -> Result<Self, ResumeError> {
        if bytes.len() != LEN || &bytes[..4] != MAGIC {
            return Err(ResumeError::Mismatch("not a replay file position".into()));
        }
        let u64_at = |at: usize| {
            let mut a = [0u8; 8];
            a.copy_from_slice(&bytes[at..at + 8]);
            u64::from_le_bytes(a)
        };
        let mut len = [0u8; 4];
        len.copy_from_slice(&bytes[20..24]);
        Ok(Self {
            offset: u64_at(4),
            line: u64_at(12),
            last_len: u32::from_le_bytes(len),
            last_hash: u64_at(24),
        })
    }
}

/// FNV-1a: identifies a line, not a secret.
pub(super) fn line_hash(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_other_bytes() {
        let p = LinePosition { offset: 1234, line: 7, last_len: 40, last_hash: 99 };
        assert_eq!(LinePosition::decode(&p.encode()).unwrap(), p);
        assert!(LinePosition::decode(b"SIM1....").is_err());
    }
}
