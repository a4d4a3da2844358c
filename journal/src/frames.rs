//! Small append-only logs of checksummed frames beside the segments: the instrument directory and the
//! source positions. Each is a 40-byte header then frames of `{len u32, crc32c u32, payload}`; a torn
//! last frame (a kill in the middle of a write) is cut off when the log is opened for appending.

use crate::error::JournalError;
use crate::format::{get_u32, get_u64, put_u32, put_u64};
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

const MAGIC: [u8; 8] = *b"TRKJFRM\x01";
pub(crate) const HEADER: usize = 40;
/// Frames larger than this are damage, not data.
const MAX_FRAME: u32 = 1 << 20;

/// What a log holds, checked on every open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct LogKind {
    pub kind: u32,
    pub epoch: u64,
    pub schema: u64,
    pub item_size: u32,
}

pub(crate) const DIRECTORY: u32 = 1;
pub(crate) const SOURCE: u32 = 2;
pub(crate) const FEED_GAPS: u32 = 3;

impl LogKind {
    fn encode(&self) -> [u8; HEADER] {
        let mut h = [0u8; HEADER];
        h[..8].copy_from_slice(&MAGIC);
        put_u32(&mut h, 8, crate::format::LAYOUT_VERSION);
        put_u32(&mut h, 12, self.kind);
        put_u64(&mut h, 16, self.epoch);
        put_u64(&mut h, 24, self.schema);
        put_u32(&mut h, 32, self.item_size);
        let crc = crc32c::crc32c(&h[..36]);
        put_u32(&mut h, 36, crc);
        h
    }

    fn check(&self, h: &[u8], path: &Path) -> Result<(), JournalError> {
        if h.len() < HEADER || h[..8] != MAGIC {
            return Err(JournalError::Foreign { path: path.to_path_buf() });
        }
        let version = get_u32(h, 8);
        if version != crate::format::LAYOUT_VERSION {
            return Err(JournalError::LayoutVersion {
                path: path.to_path_buf(),
                found: version,
                expected: crate::format::LAYOUT_VERSION,
            });
        }
        if crc32c::crc32c(&h[..36]) != get_u32(h, 36) || get_u32(h, 12) != self.kind {
            return Err(JournalError::Damaged {
                path: path.to_path_buf(),
                offset: 0,
                what: "log header checksum".into(),
            });
        }
        if get_u64(h, 24) != self.schema || get_u32(h, 32) != self.item_size {
            return Err(JournalError::Schema {
                path: path.to_path_buf(),
                found_size: get_u32(h, 32),
                found_schema: get_u64(h, 24),
                expected_size: self.item_size,
                expected_schema: self.schema,
            });
        }
        Ok(())
    }
}

/// Parses whole frames from `bytes` (which start at a frame boundary); returns the payloads and how many
/// bytes they took. Stops at the first frame that is incomplete or fails its checksum.
fn parse(bytes: &[u8]) -> (Vec<&[u8]>, usize, bool) {
    let mut out = Vec::new();
    let mut at = 0;
    while bytes.len() - at >= 8 {
        let len = get_u32(bytes, at);
        let crc = get_u32(bytes, at + 4);
        if len > MAX_FRAME {
            return (out, at, true);
        }
        let end = at + 8 + len as usize;
        if end > bytes.len() {
            break;
        }
        let payload = &bytes[at + 8..end];
        if crc32c::crc32c(payload) != crc {
            return (out, at, true);
        }
        out.push(payload);
        at = end;
    }
    (out, at, false)
}

/// The appending side.
#[derive(Debug)]
pub(crate) struct FrameWriter {
    file: File,
    path: PathBuf,
    scratch: Vec<u8>,
}

impl FrameWriter {
    /// Opens (or creates) the log and cuts a torn tail; returns the writer and the frames already there.
    ///
    /// # Errors
    /// A log of another kind, epoch or schema, I/O errors.
    pub(crate) fn open(path: &Path, kind: LogKind) -> Result<(Self, Vec<Vec<u8>>), JournalError> {
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(path)
            .map_err(JournalError::io("open", path))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(JournalError::io("read", path))?;
        let mut frames = Vec::new();
        if bytes.len() < HEADER {
            file.set_len(0).map_err(JournalError::io("truncate", path))?;
            file.seek(SeekFrom::Start(0)).map_err(JournalError::io("seek", path))?;
            file.write_all(&kind.encode()).map_err(JournalError::io("write", path))?;
        } else {
            kind.check(&bytes[..HEADER], path)?;
            let (payloads, used, _damaged) = parse(&bytes[HEADER..]);
            frames = payloads.into_iter().map(<[u8]>::to_vec).collect();
            let end = (HEADER + used) as u64;
            if end < bytes.len() as u64 {
                tracing::warn!(path = %path.display(), cut = bytes.len() as u64 - end, "cut a torn tail off a journal log");
                file.set_len(end).map_err(JournalError::io("truncate", path))?;
            }
            file.seek(SeekFrom::Start(end)).map_err(JournalError::io("seek", path))?;
        }
        Ok((Self { file, path: path.to_path_buf(), scratch: Vec::new() }, frames))
    }

    /// Appends one frame with a single write.
    ///
    /// # Errors
    /// I/O errors, a full disk.
    pub(crate) fn append(&mut self, payload: &[u8]) -> Result<(), JournalError> {
        self.scratch.clear();
        self.scratch.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        self.scratch.extend_from_slice(&crc32c::crc32c(payload).to_le_bytes());
        self.scratch.extend_from_slice(payload);
        self.file.write_all(&self.scratch).map_err(JournalError::io("append to", &self.path))
    }

    pub(crate) fn file(&self) -> &File {
        &self.file
    }
}

/// The reading side: follows a log that may still grow.
#[derive(Debug)]
pub(crate) struct FrameReader {
    path: PathBuf,
    kind: LogKind,
    offset: u64,
}

impl FrameReader {
    pub(crate) fn new(path: PathBuf, kind: LogKind) -> Self {
        Self { path, kind, offset: 0 }
    }

    /// The frames appended since the last call (none if the log does not exist yet).
    ///
    /// # Errors
    /// A log of another kind or schema; a damaged frame followed by more data.
    pub(crate) fn read_new(&mut self) -> Result<Vec<Vec<u8>>, JournalError> {
        let mut file = match File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(JournalError::io("open", &self.path)(e)),
        };
        if self.offset == 0 {
            let mut h = [0u8; HEADER];
            match file.read_exact(&mut h) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(Vec::new()),
                Err(e) => return Err(JournalError::io("read", &self.path)(e)),
            }
            self.kind.check(&h, &self.path)?;
            self.offset = HEADER as u64;
        }
        file.seek(SeekFrom::Start(self.offset)).map_err(JournalError::io("seek", &self.path))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(JournalError::io("read", &self.path))?;
        let (payloads, used, damaged) = parse(&bytes);
        if damaged && used < bytes.len() {
            return Err(JournalError::Damaged {
                path: self.path.clone(),
                offset: self.offset + used as u64,
                what: "frame checksum".into(),
            });
        }
        let out = payloads.into_iter().map(<[u8]>::to_vec).collect();
        self.offset += used as u64;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KIND: LogKind = LogKind { kind: DIRECTORY, epoch: 1, schema: 2, item_size: 3 };

    #[test]
    fn frames_survive_reopen_and_a_torn_tail_is_cut() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("d.log");
        let (mut w, old) = FrameWriter::open(&path, KIND).expect("open");
        assert!(old.is_empty());
        w.append(b"one").expect("append");
        w.append(b"two").expect("append");
        drop(w);
        let mut reader = FrameReader::new(path.clone(), KIND);
        assert_eq!(reader.read_new().expect("read"), [b"one".to_vec(), b"two".to_vec()]);
        // A kill in the middle of the next write leaves half a frame.
        let mut f = OpenOptions::new().append(true).open(&path).expect("open");
        f.write_all(&[9, 0, 0, 0, 1, 2]).expect("write");
        assert!(reader.read_new().expect("torn tail is not yet data").is_empty());
        let (mut w, old) = FrameWriter::open(&path, KIND).expect("reopen");
        assert_eq!(old.len(), 2);
        w.append(b"three").expect("append");
        assert_eq!(reader.read_new().expect("read"), [b"three".to_vec()]);
    }

    #[test]
    fn a_log_of_another_schema_is_refused() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("d.log");
        FrameWriter::open(&path, KIND).expect("open");
        let other = LogKind { schema: 99, ..KIND };
        assert!(matches!(FrameWriter::open(&path, other), Err(JournalError::Schema { .. })));
    }
}
