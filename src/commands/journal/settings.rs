//! `[journal]` of tuning.toml as `journal ls`, `status` and `/metrics` show it: retention and syncing.

use serde::Serialize;
use tickring_journal::{FsyncPolicy, JournalConfig, OnFull};

/// How long the journal keeps data and how hard it syncs (`[journal]` of tuning.toml).
#[derive(Clone, Debug, Serialize)]
pub struct Settings {
    /// 0 keeps segments forever.
    pub retention_hours: u64,
    /// 0: no size limit.
    pub retention_bytes: u64,
    pub segment_bytes: u64,
    pub fsync: String,
    pub on_full: &'static str,
}

impl Settings {
    pub fn of(cfg: &JournalConfig) -> Self {
        Self {
            retention_hours: cfg.retention_hours,
            retention_bytes: cfg.retention_bytes,
            segment_bytes: cfg.segment_bytes,
            fsync: match cfg.fsync {
                FsyncPolicy::Never => "never".into(),
                FsyncPolicy::IntervalMs(ms) => format!("interval_ms = {ms}"),
                FsyncPolicy::EveryBatch => "every_batch".into(),
            },
            on_full: match cfg.on_full {
                OnFull::Continue => "continue",
                OnFull::Hold => "hold",
            },
        }
    }

    /// `72 h, 16.0 GiB`, as `ls` and `status` print it.
    pub fn retention_text(&self) -> String {
        let age = match self.retention_hours {
            0 => "forever".to_string(),
            h => format!("{h} h"),
        };
        let size = match self.retention_bytes {
            0 => "no size limit".to_string(),
            b => super::human_bytes(b),
        };
        format!("{age}, {size}")
    }
}
