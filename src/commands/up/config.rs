//! The `[up]` table of `tuning.toml`, validated once at start.

use std::path::PathBuf;

/// The `[up]` table of `tuning.toml`.
#[derive(Clone, Debug, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UpConfig {
    /// Start (and at the end stop) the local server with `clickhouse_script`.
    pub start_clickhouse: bool,
    pub clickhouse_script: PathBuf,
    /// Restart delay of a crashed process: doubles from min to max; reset after a minute of running.
    pub restart_backoff_min_ms: u64,
    pub restart_backoff_max_ms: u64,
    /// How long the ClickHouse writer may take to flush after the ring closed, before it is stopped.
    pub drain_timeout_ms: u64,
}

impl Default for UpConfig {
    fn default() -> Self {
        Self {
            start_clickhouse: true,
            clickhouse_script: PathBuf::from("scripts/clickhouse.sh"),
            restart_backoff_min_ms: 500,
            restart_backoff_max_ms: 30_000,
            drain_timeout_ms: 60_000,
        }
    }
}

/// Longest drain allowed at Ctrl-C (an hour): beyond it a stuck writer would hold `up` for good.
pub const MAX_DRAIN_TIMEOUT_MS: u64 = 3_600_000;
/// Longest restart delay (an hour).
pub const MAX_BACKOFF_MS: u64 = 3_600_000;

impl UpConfig {
    /// # Errors
    /// The first out-of-range value, naming its key (`up.KEY: ...`) and the accepted range.
    pub fn validate(&self) -> anyhow::Result<()> {
        let bad = |key: &str, message: String| Err(anyhow::anyhow!("up.{key}: {message}"));
        let (min, max) = (self.restart_backoff_min_ms, self.restart_backoff_max_ms);
        if !(1..=MAX_BACKOFF_MS).contains(&min) {
            return bad("restart_backoff_min_ms", format!("{min} must be 1..={MAX_BACKOFF_MS}"));
        }
        if !(min..=MAX_BACKOFF_MS).contains(&max) {
            return bad(
                "restart_backoff_max_ms",
                format!("{max} must be restart_backoff_min_ms ({min})..={MAX_BACKOFF_MS}"),
            );
        }
        if !(1_000..=MAX_DRAIN_TIMEOUT_MS).contains(&self.drain_timeout_ms) {
            return bad(
                "drain_timeout_ms",
                format!("{} must be 1000..={MAX_DRAIN_TIMEOUT_MS}", self.drain_timeout_ms),
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid_and_bad_values_name_their_key() {
        assert!(UpConfig::default().validate().is_ok());
        let key = |c: UpConfig| {
            c.validate().map_err(|e| e.to_string().split(':').next().unwrap_or("").to_string())
        };
        let d = UpConfig::default;
        assert_eq!(
            key(UpConfig { restart_backoff_min_ms: 0, ..d() }),
            Err("up.restart_backoff_min_ms".into())
        );
        assert_eq!(
            key(UpConfig { restart_backoff_max_ms: 0, ..d() }),
            Err("up.restart_backoff_max_ms".into())
        );
        assert_eq!(
            key(UpConfig { restart_backoff_min_ms: 900, restart_backoff_max_ms: 800, ..d() }),
            Err("up.restart_backoff_max_ms".into())
        );
        assert_eq!(key(UpConfig { drain_timeout_ms: 0, ..d() }), Err("up.drain_timeout_ms".into()));
        assert_eq!(
            key(UpConfig { drain_timeout_ms: u64::MAX, ..d() }),
            Err("up.drain_timeout_ms".into())
        );
    }
}
