//! Retention: the oldest segments go first, by age of their last write and by the ring's total size.
//! The segment being written is never deleted.

use crate::config::JournalConfig;
use crate::layout::{self, SEALED_FILE};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Deletes what retention no longer keeps; failures are logged, never fatal (the journal keeps growing).
pub(crate) fn enforce(ring_dir: &Path, cfg: &JournalConfig, current_epoch: &Path) {
    let Ok(epochs) = layout::list_epochs(ring_dir) else { return };
    let mut segments: Vec<(PathBuf, u64, SystemTime, bool)> = Vec::new();
    for dir in &epochs {
        let Ok(list) = dir.segments() else { continue };
        let newest = list.last().map(|(first, _)| *first);
        for (first, path) in list {
            let Ok(meta) = std::fs::metadata(&path) else { continue };
            let active = dir.path == current_epoch && Some(first) == newest;
            let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
            segments.push((path, meta.len(), modified, active));
        }
    }
    let mut total: u64 = segments.iter().map(|s| s.1).sum();
    let max_age = cfg.retention_age();
    let now = SystemTime::now();
    for (path, len, modified, active) in &segments {
        let too_old =
            max_age.is_some_and(|age| now.duration_since(*modified).is_ok_and(|d| d > age));
        let too_big = cfg.retention_bytes > 0 && total > cfg.retention_bytes;
        if *active || !(too_old || too_big) {
            if !too_old && !too_big {
                break;
            }
            continue;
        }
        match std::fs::remove_file(path) {
            Ok(()) => {
                total -= len;
                tracing::info!(path = %path.display(), bytes = len, too_old, "journal segment deleted by retention");
            }
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "could not delete a journal segment")
            }
        }
    }
    // Epoch folders left without segments (and finished) go too, directory and all.
    let newest = epochs.last().map(|e| e.ordinal);
    for dir in &epochs {
        if dir.path != current_epoch
            && Some(dir.ordinal) != newest
            && dir.path.join(SEALED_FILE).exists()
            && dir.segments().is_ok_and(|s| s.is_empty())
            && std::fs::remove_dir_all(&dir.path).is_ok()
        {
            tracing::info!(epoch = dir.epoch, "empty journal epoch removed");
        }
    }
}
