//! The one place the journal maps a file: the writer's view of the segment it appends to.

use crate::error::JournalError;
use memmap2::{MmapMut, MmapOptions};
use std::fs::File;
use std::os::unix::io::AsRawFd;
use std::path::Path;

/// A writable shared mapping of a whole segment file, pre-faulted so appends never page-fault.
#[derive(Debug)]
pub(crate) struct SegmentMap {
    map: MmapMut,
}

impl SegmentMap {
    /// # Errors
    /// mmap failed.
    pub(crate) fn new(file: &File, len: usize, path: &Path) -> Result<Self, JournalError> {
        // SAFETY: the segment file is private to this journal (mode 0600 in a folder the writer owns) and
        // its length was allocated with fallocate before mapping, so no access can SIGBUS on a missing
        // page. Only this writer writes it; readers use read(2) and check every block's checksum, so a
        // concurrent change can never make this process read invalid data: the map is only written here.
        let map = unsafe { MmapOptions::new().len(len).populate().map_mut(file) }
            .map_err(JournalError::io("map", path))?;
        Ok(Self { map })
    }

    pub(crate) fn bytes(&mut self) -> &mut [u8] {
        &mut self.map
    }

    /// Writes dirty pages of `range` back and waits (msync MS_SYNC).
    pub(crate) fn flush_range(&self, offset: usize, len: usize) -> std::io::Result<()> {
        self.map.flush_range(offset, len)
    }
}

/// Allocates the file's blocks up front, so writes through the mapping never meet a full disk.
pub(crate) fn allocate(file: &File, len: u64) -> std::io::Result<()> {
    let len =
        libc::off_t::try_from(len).map_err(|_| std::io::Error::from_raw_os_error(libc::EFBIG))?;
    // SAFETY: posix_fallocate only reads its integer arguments; the descriptor is open for writing.
    let rc = unsafe { libc::posix_fallocate(file.as_raw_fd(), 0, len) };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::from_raw_os_error(rc))
    }
}
