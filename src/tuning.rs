//! `tuning.toml`: every knob of every process, read once at start and validated before anything runs.

use anyhow::{Context, Result};
use serde::Deserialize;
use std::path::Path;
use tickring_engine::ingest::IngestConfig;
use tickring_ipc::RingConfig;
use tickring_journal::JournalConfig;
use tickring_sink_clickhouse::ClickhouseConfig;
use tickring_sink_websocket::WebsocketConfig;

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Tuning {
    pub ring: RingConfig,
    pub journal: JournalConfig,
    pub ingest: IngestConfig,
    pub clickhouse: ClickhouseConfig,
    pub websocket: WebsocketConfig,
    pub up: crate::commands::up::UpConfig,
}

impl Tuning {
    /// Reads and validates a tuning file; errors name the file, line and key.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading {} (pass --tuning PATH)", path.display()))?;
        Self::parse(&text).with_context(|| format!("in {}", path.display()))
    }

    pub fn parse(text: &str) -> Result<Self> {
        let tuning: Self = toml::from_str(text)?;
        tuning.ring.validate()?;
        tuning.journal.validate()?;
        tuning.ingest.validate(&tuning.ring)?;
        tuning.clickhouse.validate()?;
        tuning.websocket.validate()?;
        tuning.up.validate()?;
        Ok(tuning)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_tuning_file_is_valid() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tuning.toml");
        Tuning::load(&path).expect("tuning.toml parses and validates");
    }

    #[test]
    fn unknown_keys_and_bad_values_are_refused_with_the_key() {
        let err = Tuning::parse("[ring]\ncapacity = 1000\n").expect_err("not a power of two");
        assert!(format!("{err:#}").contains("ring.capacity"), "{err:#}");
        let err = Tuning::parse("[ring]\ncapacityy = 1024\n").expect_err("typo");
        assert!(format!("{err:#}").contains("capacityy"), "{err:#}");
        let err = Tuning::parse("[ingest]\npublish_batch = 100000000\n").expect_err("huge batch");
        assert!(format!("{err:#}").contains("ingest.publish_batch"), "{err:#}");
        let err =
            Tuning::parse("[ring]\ncapacity = 16\nmax_batch = 16\n[ingest]\npublish_batch = 64\n")
                .expect_err("batch beyond the ring");
        assert!(format!("{err:#}").contains("ring.capacity"), "{err:#}");
        for (text, key) in [
            ("[up]\nrestart_backoff_min_ms = 0\n", "up.restart_backoff_min_ms"),
            (
                "[up]\nrestart_backoff_min_ms = 900\nrestart_backoff_max_ms = 800\n",
                "up.restart_backoff_max_ms",
            ),
            ("[up]\ndrain_timeout_ms = 0\n", "up.drain_timeout_ms"),
            ("[clickhouse]\nrecovery_window_s = 0\n", "clickhouse.recovery_window_s"),
        ] {
            let err = Tuning::parse(text).expect_err(text);
            assert!(format!("{err:#}").contains(key), "{text}: {err:#}");
        }
    }
}
