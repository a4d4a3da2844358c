//! Checks on the segment file itself: whose it is (a segment planted by another local user must not be read)
//! and whether its folder can hold it (a sparse file on a too-small tmpfs SIGBUSes its writer later).

use crate::config::RingConfig;
use crate::error::RingError;
use std::fs::{File, Metadata};
use std::os::unix::fs::MetadataExt;
use std::os::unix::io::AsRawFd;
use std::path::Path;

/// Refuses a segment not owned by this process's user or readable or writable by anyone else.
pub(crate) fn check_private(meta: &Metadata, path: &Path) -> Result<(), RingError> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let uid = unsafe { libc::geteuid() };
    check_owner_and_mode(meta.uid(), meta.mode(), uid, path)
}

fn check_owner_and_mode(owner: u32, mode: u32, uid: u32, path: &Path) -> Result<(), RingError> {
    let mode = mode & 0o7777;
    if owner == uid && mode == 0o600 {
        return Ok(());
    }
    Err(RingError::NotPrivate { path: path.to_path_buf(), owner, mode, uid })
}

/// Reserves `len` bytes for `file` now, so running out of room is an error at start, not a SIGBUS later.
pub(crate) fn allocate(
    file: &File,
    len: u64,
    cfg: &RingConfig,
    path: &Path,
) -> Result<(), RingError> {
    let no_space = |free: u64| RingError::NoSpace {
        dir: cfg.dir.clone(),
        needed: len,
        free,
        capacity: cfg.capacity,
    };
    let free = free_bytes(file).map_err(RingError::io("statvfs", path))?;
    if free < len {
        return Err(no_space(free));
    }
    let Ok(off_len) = libc::off_t::try_from(len) else { return Err(no_space(free)) };
    // SAFETY: the descriptor is open for writing for the duration of the call (borrowed from `file`);
    // posix_fallocate only extends the file and touches no memory of ours.
    match unsafe { libc::posix_fallocate(file.as_raw_fd(), 0, off_len) } {
        0 => Ok(()),
        libc::ENOSPC | libc::EFBIG => Err(no_space(free_bytes(file).unwrap_or(0))),
        e => Err(RingError::io("allocate", path)(std::io::Error::from_raw_os_error(e))),
    }
}

/// Bytes an unprivileged writer may still use on the file's filesystem.
fn free_bytes(file: &File) -> std::io::Result<u64> {
    let mut st = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: `st` is a valid, writable statvfs-sized buffer; the descriptor is open (borrowed from `file`).
    if unsafe { libc::fstatvfs(file.as_raw_fd(), st.as_mut_ptr()) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: fstatvfs returned 0, so it filled the whole struct.
    let st = unsafe { st.assume_init() };
    #[allow(clippy::useless_conversion)] // fsblkcnt_t and c_ulong are narrower on 32-bit targets
    let free = u64::from(st.f_bavail).saturating_mul(u64::from(st.f_frsize));
    Ok(free)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_own_0600_segment_is_accepted() {
        let p = Path::new("/dev/shm/tickring-x");
        assert!(check_owner_and_mode(1000, 0o100600, 1000, p).is_ok());
        for (owner, mode) in [(1000, 0o100644), (1000, 0o100666), (1001, 0o100600), (0, 0o100600)] {
            let err = check_owner_and_mode(owner, mode, 1000, p).expect_err("refused");
            let text = err.to_string();
            assert!(text.contains("0600") && !text.contains('\n'), "{text}");
        }
    }

    #[test]
    fn free_space_is_read_from_the_file_system() {
        let file = File::open("/dev/shm").or_else(|_| File::open("/tmp")).expect("a folder");
        assert!(free_bytes(&file).is_ok());
    }
}
