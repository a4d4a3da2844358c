//! The quarantine file on disk: each line reaches the kernel as it is written (so `tail -f` sees it and a
//! crash loses nothing written), mode 0600 (rejects hold raw feed text), rotated to `PATH.1` at a size cap.

use std::fs::{File, OpenOptions, Permissions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Size cap when none is configured (`ingest.quarantine_max_bytes`).
pub const DEFAULT_MAX_BYTES: u64 = 64 << 20;

/// An append-only, size-capped file: at most `max_bytes` in `PATH` plus one rotated `PATH.1`.
///
/// Unbuffered on purpose: rejects are rare next to trades, and a line held in a buffer is a line a crash
/// loses or a watcher cannot see. A single line longer than the cap is still written whole.
#[derive(Debug)]
pub struct QuarantineFile {
    path: PathBuf,
    file: File,
    len: u64,
    max_bytes: u64,
    /// Rotation happens only between lines, never inside one cut by a short write.
    at_line_start: bool,
}

impl QuarantineFile {
    /// Opens `path` for appending (creating it 0600, or making an existing one 0600).
    ///
    /// # Errors
    /// The file cannot be opened, or its mode cannot be set (e.g. another user owns it).
    pub fn open(path: impl AsRef<Path>, max_bytes: u64) -> io::Result<Self> {
        let path = path.as_ref().to_path_buf();
        let file = open_private(&path)?;
        let len = file.metadata()?.len();
        Ok(Self { path, file, len, max_bytes: max_bytes.max(1), at_line_start: true })
    }

    /// Where the previous file goes when this one is full.
    pub fn rotated_path(&self) -> PathBuf {
        let mut name = self.path.clone().into_os_string();
        name.push(".1");
        PathBuf::from(name)
    }

    fn rotate(&mut self) -> io::Result<()> {
        std::fs::rename(&self.path, self.rotated_path())?;
        self.file = open_private(&self.path)?;
        self.len = 0;
        Ok(())
    }
}

fn open_private(path: &Path) -> io::Result<File> {
    let file = OpenOptions::new().create(true).append(true).mode(0o600).open(path)?;
    // `mode` applies only to a new file; an older, wider one is narrowed too.
    file.set_permissions(Permissions::from_mode(0o600))?;
    Ok(file)
}

impl Write for QuarantineFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.at_line_start && self.len > 0 && self.len + buf.len() as u64 > self.max_bytes {
            self.rotate()?;
        }
        let n = self.file.write(buf)?;
        self.len += n as u64;
        if n > 0 {
            self.at_line_start = buf[n - 1] == b'\n';
        }
        Ok(n)
    }

    /// Nothing is buffered here; durability beyond the kernel's page cache is not promised.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn created_private_and_narrowed_if_it_existed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("q.jsonl");
        QuarantineFile::open(&path, 1024).unwrap();
        assert_eq!(mode(&path), 0o600);
        let old = dir.path().join("old.jsonl");
        std::fs::write(&old, "x\n").unwrap();
        std::fs::set_permissions(&old, Permissions::from_mode(0o644)).unwrap();
        let q = QuarantineFile::open(&old, 1024).unwrap();
        assert_eq!((mode(&old), q.len), (0o600, 2));
    }

    #[test]
    fn rotates_between_lines_at_the_cap() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("q.jsonl");
        let mut q = QuarantineFile::open(&path, 100).unwrap();
        for i in 0..30 {
            q.write_all(format!("line {i:02} of the quarantine\n").as_bytes()).unwrap();
        }
        let current = std::fs::read_to_string(&path).unwrap();
        let rotated = std::fs::read_to_string(q.rotated_path()).unwrap();
        assert!(current.len() <= 100 && rotated.len() <= 100, "{current:?} {rotated:?}");
        let lines: Vec<&str> = rotated.lines().chain(current.lines()).collect();
        assert_eq!(lines.last(), Some(&"line 29 of the quarantine"));
        assert!(lines.iter().all(|l| l.len() == 25), "{lines:?}");
        assert_eq!(mode(&q.rotated_path()), 0o600);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2, "one rotated file only");
    }
}
