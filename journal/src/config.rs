//! `[journal]` of `tuning.toml`: where the journal lives, how hard it syncs, how long it keeps data.

use crate::error::JournalError;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Duration;

/// When appended records are forced to the disk (`fdatasync`). Every policy survives a `kill -9` of any
/// process (the records are in the page cache the moment they are appended); they differ on power loss.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FsyncPolicy {
    /// Never: the kernel writes back when it likes (about 30 s); a power loss loses up to that much.
    Never,
    /// A background thread syncs every `interval_ms`: a power loss loses at most that much, the publisher
    /// never waits for the disk.
    IntervalMs(u64),
    /// Sync after every appended batch, on the publisher's thread: nothing acknowledged is lost, and every
    /// batch waits for the disk (milliseconds on most disks).
    EveryBatch,
}

/// What happens when a segment cannot be allocated (disk full, quota).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnFull {
    /// Keep publishing to the ring and mark the journal behind: live sinks lose nothing, a sink that must
    /// read those records from the journal later gets an explicit gap. The feed never stalls.
    #[default]
    Continue,
    /// Hold the publisher (and so the feed) until space is free, retrying every 100 ms: nothing is ever
    /// missing from the journal, but a live feed may drop a client that stops reading.
    Hold,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JournalConfig {
    /// Root folder; a ring's journal is `{dir}/{ring}/`.
    pub dir: PathBuf,
    /// `"never"`, `{ interval_ms = N }` or `"every_batch"`.
    pub fsync: FsyncPolicy,
    /// Size a segment is allocated with (rounded down to whole 4 KiB blocks); full segments roll.
    pub segment_bytes: u64,
    /// Segments whose last record is older than this are deleted (0 keeps them forever).
    pub retention_hours: u64,
    /// The oldest segments are deleted while the ring's journal is larger than this (0: no limit).
    pub retention_bytes: u64,
    pub on_full: OnFull,
}

impl Default for JournalConfig {
    fn default() -> Self {
        Self {
            dir: PathBuf::from("var/journal"),
            fsync: FsyncPolicy::IntervalMs(200),
            segment_bytes: 64 << 20,
            retention_hours: 72,
            retention_bytes: 16 << 30,
            on_full: OnFull::Continue,
        }
    }
}

/// Smallest segment: the header and a few blocks.
pub const MIN_SEGMENT_BYTES: u64 = 64 << 10;
/// Largest segment: one mapping per segment must stay modest on 32-bit-like address budgets and tmpfs.
pub const MAX_SEGMENT_BYTES: u64 = 4 << 30;

impl JournalConfig {
    /// # Errors
    /// A setting out of range, naming the key and the accepted range.
    pub fn validate(&self) -> Result<(), JournalError> {
        let bad = |key: &'static str, message: String| Err(JournalError::Config { key, message });
        if self.dir.as_os_str().is_empty() {
            return bad("journal.dir", "must not be empty".into());
        }
        if !(MIN_SEGMENT_BYTES..=MAX_SEGMENT_BYTES).contains(&self.segment_bytes) {
            return bad(
                "journal.segment_bytes",
                format!(
                    "{} is outside {MIN_SEGMENT_BYTES}..={MAX_SEGMENT_BYTES}",
                    self.segment_bytes
                ),
            );
        }
        if let FsyncPolicy::IntervalMs(ms) = self.fsync {
            if !(1..=60_000).contains(&ms) {
                return bad("journal.fsync.interval_ms", format!("{ms} is outside 1..=60000"));
            }
        }
        if self.retention_hours > 24 * 365 * 10 {
            return bad(
                "journal.retention_hours",
                format!("{} is more than ten years (87600)", self.retention_hours),
            );
        }
        if self.retention_bytes != 0 && self.retention_bytes < 2 * self.segment_bytes {
            return bad(
                "journal.retention_bytes",
                format!(
                    "{} keeps less than two segments of journal.segment_bytes ({}); use 0 for no limit",
                    self.retention_bytes, self.segment_bytes
                ),
            );
        }
        Ok(())
    }

    pub fn retention_age(&self) -> Option<Duration> {
        (self.retention_hours > 0).then(|| Duration::from_secs(self.retention_hours * 3600))
    }

    /// The folder of one ring's journal.
    pub fn ring_dir(&self, ring: &str) -> PathBuf {
        self.dir.join(ring)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_bad_values_name_the_key() {
        JournalConfig::default().validate().expect("defaults");
        let cfg = JournalConfig { segment_bytes: 10, ..Default::default() };
        let err = cfg.validate().expect_err("too small").to_string();
        assert!(err.contains("journal.segment_bytes"), "{err}");
        let cfg = JournalConfig { fsync: FsyncPolicy::IntervalMs(0), ..Default::default() };
        assert!(cfg.validate().expect_err("zero").to_string().contains("interval_ms"));
    }

    #[test]
    fn fsync_policy_reads_as_documented() {
        #[derive(Deserialize)]
        struct T {
            fsync: FsyncPolicy,
        }
        let t: T = toml_like("fsync = \"never\"");
        assert_eq!(t.fsync, FsyncPolicy::Never);
        let t: T = toml_like("fsync = { interval_ms = 50 }");
        assert_eq!(t.fsync, FsyncPolicy::IntervalMs(50));
        let t: T = toml_like("fsync = \"every_batch\"");
        assert_eq!(t.fsync, FsyncPolicy::EveryBatch);
    }

    fn toml_like<T: serde::de::DeserializeOwned>(text: &str) -> T {
        toml::from_str(text).expect("parses")
    }
}
