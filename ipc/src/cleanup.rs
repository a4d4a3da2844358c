//! A cleanly closed ring leaves nothing in its folder: the segment and the lock file go once no live
//! consumer still has records to read from it (those keep their mappings and drain them first).

use crate::config::RingConfig;
use crate::layout::{lifecycle, slot_state};
use crate::record::Record;
use crate::segment::Segment;
use crate::table::owner_alive;
use std::fs::{File, OpenOptions};
use std::os::unix::fs::MetadataExt;
use std::sync::atomic::Ordering::{Acquire, Relaxed};
use std::time::Duration;

/// Further tries, and the pause between them, for a producer lock that is busy.
const LOCK_TRIES: u32 = 5;
const LOCK_RETRY: Duration = Duration::from_millis(10);

/// True when a live attached consumer has not yet read every published record of `segment`.
pub(crate) fn someone_behind(segment: &Segment, cfg: &RingConfig) -> bool {
    let published = segment.cursors().available();
    segment.slots().iter().any(|s| {
        s.state.load(Acquire) == slot_state::ACTIVE
            && s.cursor.load(Relaxed) < published
            && owner_alive(s, cfg.heartbeat_timeout_ns())
    })
}

/// Removes the segment and lock file of `cfg` (the caller holds the producer lock).
pub(crate) fn remove_files(cfg: &RingConfig) {
    let _ = std::fs::remove_file(cfg.segment_path());
    let _ = std::fs::remove_file(cfg.lock_path());
}

/// `lock` is the file at `path` now (not one removed and created afresh since it was opened).
pub(crate) fn is_at_path(lock: &File, path: &std::path::Path) -> bool {
    let (Ok(ours), Ok(at_path)) = (lock.metadata(), std::fs::metadata(path)) else {
        return false;
    };
    (ours.dev(), ours.ino()) == (at_path.dev(), at_path.ino())
}

/// A consumer done with a closed segment: if it is still the ring at the path, no producer runs (its
/// lock is free) and nobody else is behind, removes the files. Any doubt leaves them.
pub(crate) fn remove_if_finished<T: Record, E: Record>(cfg: &RingConfig, epoch: u64) {
    let lock_path = cfg.lock_path();
    let Ok(lock) = OpenOptions::new().read(true).write(true).open(&lock_path) else { return };
    // A lock held for a moment by someone else (a process forked while the producer's lock was open
    // holds it until its exec) is tried again briefly; a running producer holds it for good.
    let mut locked = lock.try_lock().is_ok();
    for _ in 0..LOCK_TRIES {
        if locked {
            break;
        }
        std::thread::sleep(LOCK_RETRY);
        locked = lock.try_lock().is_ok();
    }
    if !locked || !is_at_path(&lock, &lock_path) {
        return;
    }
    let Ok(at_path) = Segment::open::<T, E>(&cfg.segment_path(), false) else { return };
    let closed = at_path.control().lifecycle.load(Acquire) == lifecycle::CLOSED;
    if closed && at_path.header().epoch == epoch && !someone_behind(&at_path, cfg) {
        remove_files(cfg);
    }
}
