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

/// A data file named in `[ingest]` could not be used.
#[derive(Debug, thiserror::Error)]
pub enum IngestConfigError {
    #[error("reading {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: {source}")]
    Overrides { path: PathBuf, source: crate::instrument::OverrideError },
}

impl IngestConfig {
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
