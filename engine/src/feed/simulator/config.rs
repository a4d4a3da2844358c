//! `[ingest.simulator]` of `tuning.toml`: which symbols, how fast, on which clock.

use chrono::{NaiveDate, NaiveTime};
use serde::{Deserialize, Serialize};

/// Whose time the simulated trades carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockMode {
    /// A simulated clock runs through `start` + `days`, through each exchange's real sessions, so there
    /// are trades even while the real markets are closed. Reproducible for a seed.
    Simulated,
    /// Trades are stamped now, for the symbols whose exchange is in a session now (none on weekends).
    Wall,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SimulatorConfig {
    /// Seed of every random choice (prices, sizes, times).
    pub seed: u64,
    /// Exchanges (MICs) to draw built-in symbols from, `symbols_per_exchange` each.
    pub exchanges: Vec<String>,
    pub symbols_per_exchange: usize,
    /// Explicit RICs instead of the built-in lists (their exchange comes from the RIC).
    pub symbols: Vec<String>,
    /// Trades per second of wall time; 0 = as fast as possible.
    pub rate_per_s: u64,
    pub clock: ClockMode,
    /// First UTC day of the simulated clock.
    pub start: NaiveDate,
    /// UTC time of day on `start` where the simulated clock begins. The default, 13:29, is a minute
    /// before New York's open on a summer day, with London and the CME trading: a first run shows US and
    /// European trades at once (Asia follows when the clock reaches its morning).
    pub start_time_utc: NaiveTime,
    /// Days the simulated clock runs before the feed ends.
    pub days: u32,
    /// Mean time between two trades of one symbol in regular hours (simulated ms; pre/post are sparser).
    pub mean_gap_ms: u64,
    /// Chance that a trade is followed by another in the same millisecond.
    pub burst_probability: f64,
}

impl Default for SimulatorConfig {
    fn default() -> Self {
        Self {
            seed: 42,
            exchanges: ["XNYS", "XNAS", "XCME", "XKRX", "XTKS", "XLON", "XHKG"]
                .map(String::from)
                .to_vec(),
            symbols_per_exchange: 4,
            symbols: Vec::new(),
            rate_per_s: 1000,
            clock: ClockMode::Simulated,
            start: NaiveDate::from_ymd_opt(2026, 7, 13).unwrap_or_default(),
            start_time_utc: NaiveTime::from_hms_opt(13, 29, 0).unwrap_or_default(),
            days: 5,
            mean_gap_ms: 500,
            burst_probability: 0.2,
        }
    }
}
