//! The `[ingest]` table of `tuning.toml`: which feed, which data files, which core publishes.

use crate::feed::lseg::LsegConfig;
use crate::feed::simulator::SimulatorConfig;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Which adapter produces trades.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeedKind {
    /// Synthetic trades across several exchanges, following their real sessions.
    Simulator,
    /// A recorded file (LSEG dump, canonical JSON lines or CSV).
    Replay,
    /// The LSEG Real-Time WebSocket API.
    Lseg,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IngestConfig {
    pub feed: FeedKind,
    /// The file `feed = "replay"` reads when the command line names none (LSEG dump, JSON lines or CSV).
    pub replay_file: Option<PathBuf>,
    /// Replay pacing when the command line gives none: "1x", "10x", ... or "max".
    pub replay_speed: String,
    /// Longest wall-clock wait between two trades of a paced replay; a longer recorded gap is cut to it.
    pub replay_max_gap_ms: u64,
    /// A trade whose event time is further than this after its receive time (or, in a replay, whose
    /// receive time is further than this after now) is quarantined as `time_out_of_range`.
    pub max_future_skew_ms: u64,
    /// Field-mapping file for LSEG messages; empty = the built-in `engine/mappings/lseg.toml`.
    pub mapping: Option<PathBuf>,
    /// Folder of calendar files; empty = the built-in `engine/calendars/`.
    pub calendars: Option<PathBuf>,
    /// Where messages that cannot be mapped are kept, one JSON line each with the reason.
    pub quarantine: PathBuf,
    /// Size at which the quarantine file is rotated to `PATH.1` (one rotated file is kept).
    pub quarantine_max_bytes: u64,
    /// RIC -> MIC table for instruments neither RDN_EXCHD2 nor the RIC suffix place (TOML `[ric]` table).
    pub exchange_overrides: Option<PathBuf>,
    /// Core the publisher thread is pinned to; none = not pinned.
    pub publisher_core: Option<usize>,
    /// Most ticks handed to the ring in one publish.
    pub publish_batch: usize,
    /// Address of the Prometheus endpoint (`GET /metrics`); empty = not served.
    pub metrics: String,
    /// The live LSEG client (`[ingest.lseg]`).
    pub lseg: LsegConfig,
    /// The simulator (`[ingest.simulator]`).
    pub simulator: SimulatorConfig,
}

impl Default for IngestConfig {
    fn default() -> Self {
        Self {
            feed: FeedKind::Simulator,
            replay_file: None,
            replay_speed: "max".into(),
            replay_max_gap_ms: 60_000,
            max_future_skew_ms: 300_000,
            mapping: None,
            calendars: None,
            quarantine: PathBuf::from("var/quarantine/ingest.jsonl"),
            quarantine_max_bytes: crate::feed::quarantine::DEFAULT_MAX_BYTES,
            exchange_overrides: None,
            publisher_core: Some(0),
            publish_batch: 64,
            metrics: "127.0.0.1:9101".into(),
            lseg: LsegConfig::default(),
            simulator: SimulatorConfig::default(),
        }
    }
}

/// A data file named in `[ingest]` could not be used, or a value is out of range.
#[derive(Debug, thiserror::Error)]
pub enum IngestConfigError {
    /// `key` is relative to `[ingest]` unless it names another table (`ring.`).
    #[error("{}{key} = {value} must be {accepted}", if key.starts_with("ring.") { "" } else { "ingest." })]
    Range { key: &'static str, value: String, accepted: String },
    #[error(transparent)]
    Lseg(#[from] crate::feed::lseg::LsegConfigError),
    #[error("reading {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: {source}")]
    Overrides { path: PathBuf, source: crate::instrument::OverrideError },
}

impl IngestConfig {
    /// Checks every value once at start, including the rules against `[ring]`.
    ///
    /// # Errors
    /// The first value out of range, naming its key and the accepted range.
    pub fn validate(&self, ring: &tickring_ipc::RingConfig) -> Result<(), IngestConfigError> {
        let range = |key, value: u64, min: u64, max: u64| {
            if (min..=max).contains(&value) {
                return Ok(());
            }
            let accepted = format!("{min}..={max}");
            Err(IngestConfigError::Range { key, value: value.to_string(), accepted })
        };
        // The publisher allocates a batch up front and one publish must fit the ring.
        let batch_max = ring.capacity.min(65_536);
        range("publish_batch", self.publish_batch as u64, 1, batch_max).map_err(|e| match e {
            IngestConfigError::Range { key, value, accepted } => IngestConfigError::Range {
                key,
                value,
                accepted: format!("{accepted} (at most 65536 and at most ring.capacity)"),
            },
            other => other,
        })?;
        // With no room for instruments every trade would be quarantined as directory_full.
        if !(1..=1 << 24).contains(&ring.directory_capacity) {
            return Err(IngestConfigError::Range {
                key: "ring.directory_capacity",
                value: ring.directory_capacity.to_string(),
                accepted: "1..=16777216 for ingest".into(),
            });
        }
        range("quarantine_max_bytes", self.quarantine_max_bytes, 1 << 20, 1 << 40)?;
        range("replay_max_gap_ms", self.replay_max_gap_ms, 1, 86_400_000)?;
        range("max_future_skew_ms", self.max_future_skew_ms, 1, 604_800_000)?;
        if self.quarantine.as_os_str().is_empty() {
            let accepted = "a file path".to_string();
            return Err(IngestConfigError::Range {
                key: "quarantine",
                value: "\"\"".into(),
                accepted,
            });
        }
        if let Err(e) = self.replay_speed.parse::<crate::ingest::Speed>() {
            let accepted = format!("a speed ({e})");
            let value = format!("{:?}", self.replay_speed);
            return Err(IngestConfigError::Range { key: "replay_speed", value, accepted });
        }
        self.lseg.validate_ranges()?;
        Ok(())
    }

    /// The override table named by `exchange_overrides`, or an empty one.
    ///
    /// # Errors
    /// The file cannot be read or is not a valid table.
    pub fn exchange_overrides(
        &self,
    ) -> Result<crate::instrument::ExchangeOverrides, IngestConfigError> {
        let Some(path) = &self.exchange_overrides else { return Ok(Default::default()) };
        let text = std::fs::read_to_string(path)
            .map_err(|source| IngestConfigError::Io { path: path.clone(), source })?;
        crate::instrument::ExchangeOverrides::from_toml(&text)
            .map_err(|source| IngestConfigError::Overrides { path: path.clone(), source })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tickring_ipc::RingConfig;

    #[test]
    fn default_is_valid() {
        IngestConfig::default().validate(&RingConfig::default()).expect("valid");
    }

    #[test]
    fn bad_values_name_the_key_and_the_range() {
        type Mutation = fn(&mut IngestConfig);
        let cases: [(Mutation, &str); 8] = [
            (|c| c.publish_batch = 0, "ingest.publish_batch = 0 must be 1..=65536"),
            (|c| c.publish_batch = usize::MAX, "ingest.publish_batch"),
            (
                |c| c.quarantine_max_bytes = 10,
                "ingest.quarantine_max_bytes = 10 must be 1048576..=",
            ),
            (|c| c.replay_max_gap_ms = 0, "ingest.replay_max_gap_ms"),
            (|c| c.max_future_skew_ms = u64::MAX, "ingest.max_future_skew_ms"),
            (|c| c.replay_speed = "fast".into(), "ingest.replay_speed"),
            (|c| c.lseg.default_ping_timeout_s = u64::MAX, "ingest.lseg.default_ping_timeout_s"),
            (|c| c.lseg.ping_timeout_slack_ms = u64::MAX, "ingest.lseg.ping_timeout_slack_ms"),
        ];
        for (mutate, key) in cases {
            let mut c = IngestConfig::default();
            mutate(&mut c);
            let err = c.validate(&RingConfig::default()).expect_err(key).to_string();
            assert!(err.contains(key), "{err}");
        }
    }

    #[test]
    fn a_batch_must_fit_the_ring() {
        let ring = RingConfig { capacity: 16, ..RingConfig::default() };
        let c = IngestConfig { publish_batch: 17, ..IngestConfig::default() };
        let err = c.validate(&ring).expect_err("bigger than the ring").to_string();
        assert!(err.contains("ring.capacity") && err.contains("1..=16"), "{err}");
        let ring = RingConfig { directory_capacity: 0, ..RingConfig::default() };
        let err = IngestConfig::default().validate(&ring).expect_err("no directory").to_string();
        assert!(err.starts_with("ring.directory_capacity = 0 must be 1..="), "{err}");
    }
}
