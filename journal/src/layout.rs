//! Where things are: `{dir}/{ring}/{epoch}/{epoch.info, NNN.seg, directory.log, source.log}`.
//!
//! Epoch numbers are not ordered in time, so each epoch folder carries `epoch.info` with its ordinal in the
//! ring's history; listing sorts by it.

use crate::error::JournalError;
use crate::format::{get_u32, get_u64, put_u32, put_u64};
use std::fs;
use std::path::{Path, PathBuf};

const INFO_MAGIC: [u8; 8] = *b"TRKJEPO\x01";
const INFO_LEN: usize = 44;
pub const INFO_FILE: &str = "epoch.info";
pub const DIRECTORY_FILE: &str = "directory.log";
pub const SOURCE_FILE: &str = "source.log";
pub const FEED_GAPS_FILE: &str = "feed_gaps.log";
/// Written when the epoch's writer closed cleanly: nothing will be appended any more.
pub const SEALED_FILE: &str = "sealed";

/// One epoch folder, as listed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EpochDir {
    pub epoch: u64,
    pub ordinal: u64,
    pub created_ns: u64,
    pub path: PathBuf,
}

impl EpochDir {
    pub fn segment_path(&self, first_seq: u64) -> PathBuf {
        segment_path(&self.path, first_seq)
    }

    /// Segment files of the epoch as (first_seq, path), by first_seq.
    ///
    /// # Errors
    /// The folder cannot be listed.
    pub fn segments(&self) -> Result<Vec<(u64, PathBuf)>, JournalError> {
        list_segments(&self.path)
    }

    pub fn sealed(&self) -> bool {
        self.path.join(SEALED_FILE).exists()
    }
}

pub fn epoch_path(ring_dir: &Path, epoch: u64) -> PathBuf {
    ring_dir.join(epoch.to_string())
}

pub fn segment_path(epoch_dir: &Path, first_seq: u64) -> PathBuf {
    epoch_dir.join(format!("{first_seq:020}.seg"))
}

/// # Errors
/// The folder cannot be listed.
pub fn list_segments(epoch_dir: &Path) -> Result<Vec<(u64, PathBuf)>, JournalError> {
    let mut out = Vec::new();
    let entries = match fs::read_dir(epoch_dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(JournalError::io("list", epoch_dir)(e)),
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if let Some(first) = name.strip_suffix(".seg").and_then(|n| n.parse::<u64>().ok()) {
            out.push((first, entry.path()));
        }
    }
    out.sort_unstable_by_key(|(first, _)| *first);
    Ok(out)
}

/// The ring's epochs, oldest first. Folders without a readable `epoch.info` are skipped with a warning
/// (a writer killed while creating one leaves an empty folder).
///
/// # Errors
/// The ring folder exists but cannot be listed.
pub fn list_epochs(ring_dir: &Path) -> Result<Vec<EpochDir>, JournalError> {
    let mut out = Vec::new();
    let entries = match fs::read_dir(ring_dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(JournalError::io("list", ring_dir)(e)),
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Some(epoch) = path.file_name().and_then(|n| n.to_str()).and_then(|n| n.parse().ok())
        else {
            continue;
        };
        match read_info(&path) {
            Ok(Some((e, ordinal, created_ns))) if e == epoch => {
                out.push(EpochDir { epoch, ordinal, created_ns, path })
            }
            Ok(_) => {
                tracing::warn!(path = %path.display(), "epoch folder without a valid epoch.info; skipped")
            }
            Err(e) => tracing::warn!(error = %e, "epoch folder unreadable; skipped"),
        }
    }
    out.sort_unstable_by_key(|e| (e.ordinal, e.created_ns));
    Ok(out)
}

fn read_info(epoch_dir: &Path) -> Result<Option<(u64, u64, u64)>, JournalError> {
    let path = epoch_dir.join(INFO_FILE);
    let bytes = match fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(JournalError::io("read", &path)(e)),
    };
    if bytes.len() < INFO_LEN || bytes[..8] != INFO_MAGIC {
        return Ok(None);
    }
    if crc32c::crc32c(&bytes[..40]) != get_u32(&bytes, 40) {
        return Ok(None);
    }
    Ok(Some((get_u64(&bytes, 8), get_u64(&bytes, 16), get_u64(&bytes, 24))))
}

/// Creates the folder of a new epoch with the next ordinal (written to a temporary name, then renamed, so
/// a listed `epoch.info` is always whole).
///
/// # Errors
/// I/O errors, a full disk.
pub fn create_epoch(
    ring_dir: &Path,
    epoch: u64,
    created_ns: u64,
) -> Result<EpochDir, JournalError> {
    let existing = list_epochs(ring_dir)?;
    if let Some(found) = existing.iter().find(|e| e.epoch == epoch) {
        return Ok(found.clone());
    }
    let ordinal = existing.last().map_or(1, |e| e.ordinal + 1);
    let path = epoch_path(ring_dir, epoch);
    fs::create_dir_all(&path).map_err(JournalError::io("create", &path))?;
    let mut bytes = [0u8; INFO_LEN];
    bytes[..8].copy_from_slice(&INFO_MAGIC);
    put_u64(&mut bytes, 8, epoch);
    put_u64(&mut bytes, 16, ordinal);
    put_u64(&mut bytes, 24, created_ns);
    let crc = crc32c::crc32c(&bytes[..40]);
    put_u32(&mut bytes, 40, crc);
    let tmp = path.join("epoch.info.tmp");
    fs::write(&tmp, bytes).map_err(JournalError::io("write", &tmp))?;
    let info = path.join(INFO_FILE);
    fs::rename(&tmp, &info).map_err(JournalError::io("rename", &info))?;
    sync_dir(&path);
    sync_dir(ring_dir);
    Ok(EpochDir { epoch, ordinal, created_ns, path })
}

/// Makes a created or renamed entry durable; failures only weaken power-loss safety, so they are logged.
pub(crate) fn sync_dir(path: &Path) {
    if let Err(e) = fs::File::open(path).and_then(|d| d.sync_all()) {
        tracing::debug!(path = %path.display(), error = %e, "could not sync folder");
    }
}

const RING_MAGIC: &str = "tickring-journal";

/// Creates `ring_dir` or checks that it is this layout's journal of this ring (`journal.meta`).
///
/// # Errors
/// The folder holds another ring's journal or another layout version.
pub fn check_ring_dir(ring_dir: &Path, ring: &str, create: bool) -> Result<(), JournalError> {
    let meta = ring_dir.join("journal.meta");
    match fs::read_to_string(&meta) {
        Ok(text) => {
            let mut fields = text.split_whitespace();
            let (magic, version, name) = (fields.next(), fields.next(), fields.next());
            if magic != Some(RING_MAGIC) {
                return Err(JournalError::Foreign { path: meta });
            }
            let version: u32 = version.and_then(|v| v.parse().ok()).unwrap_or(0);
            if version != crate::format::LAYOUT_VERSION {
                return Err(JournalError::LayoutVersion {
                    path: meta,
                    found: version,
                    expected: crate::format::LAYOUT_VERSION,
                });
            }
            if name != Some(ring) {
                return Err(JournalError::OtherRing {
                    path: meta,
                    found: name.unwrap_or("").to_string(),
                    expected: ring.to_string(),
                });
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && create => {
            fs::create_dir_all(ring_dir).map_err(JournalError::io("create", ring_dir))?;
            let text = format!("{RING_MAGIC} {} {ring}\n", crate::format::LAYOUT_VERSION);
            let tmp = ring_dir.join("journal.meta.tmp");
            fs::write(&tmp, text).map_err(JournalError::io("write", &tmp))?;
            fs::rename(&tmp, &meta).map_err(JournalError::io("rename", &meta))?;
            sync_dir(ring_dir);
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(JournalError::io("read", &meta)(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epochs_list_in_creation_order_not_number_order() {
        let dir = tempfile::tempdir().expect("tmp");
        check_ring_dir(dir.path(), "ticks", true).expect("create");
        create_epoch(dir.path(), 900, 1).expect("first");
        create_epoch(dir.path(), 5, 2).expect("second");
        create_epoch(dir.path(), 70, 3).expect("third");
        let epochs: Vec<u64> =
            list_epochs(dir.path()).expect("list").iter().map(|e| e.epoch).collect();
        assert_eq!(epochs, [900, 5, 70]);
    }

    #[test]
    fn another_rings_folder_is_refused_with_the_fix() {
        let dir = tempfile::tempdir().expect("tmp");
        check_ring_dir(dir.path(), "ticks", true).expect("create");
        let err = check_ring_dir(dir.path(), "other", true).expect_err("other ring").to_string();
        assert!(err.contains("journal.dir"), "{err}");
        fs::write(dir.path().join("journal.meta"), "tickring-journal 9 ticks\n").expect("write");
        let err = check_ring_dir(dir.path(), "ticks", true).expect_err("version").to_string();
        assert!(err.contains("version 9"), "{err}");
    }
}
