//! The `[clickhouse]` table of `tuning.toml`: where the writer writes, how it batches, how it retries.

use serde::{Deserialize, Serialize};
use std::time::Duration;
use tickring_engine::candles::{CandleConfig, OpenUpdates, Series};

/// Most rows in one flush: ClickHouse forms one block (one atomic part) of up to 1,048,576 rows per insert, so
/// a flush stays all-or-nothing per table below that.
pub const MAX_ROWS_LIMIT: usize = 1_000_000;

/// Shortest candle-recovery window: a restart must see at least a whole 1m candle's ticks again.
pub const MIN_RECOVERY_WINDOW_S: u64 = 60;
/// Longest: a week of ticks re-read at start is already slow.
pub const MAX_RECOVERY_WINDOW_S: u64 = 7 * 24 * 3_600;

/// Settings of the ClickHouse writer (`tickring sink clickhouse`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClickhouseConfig {
    /// HTTP interface of the server, e.g. `http://127.0.0.1:18123`.
    pub url: String,
    /// Database holding the tables; created if missing.
    pub database: String,
    pub user: String,
    /// Empty for none. The CLI also reads `TICKRING_CLICKHOUSE_PASSWORD`, which wins over this.
    pub password: String,
    /// Consumer name in the ring: the saved cursor is found again under it after a restart.
    pub consumer: String,
    /// Flush when this many ticks are pending (1..=1,000,000, at most half the ring).
    pub max_rows: usize,
    /// Flush when the pending rows would take about this many bytes on the wire.
    pub max_bytes: usize,
    /// Flush at the latest this long after the first pending row (bounds tick -> visible latency).
    pub flush_interval_ms: u64,
    /// First retry delay after a failed insert; doubles per failure up to `retry_max_ms`.
    pub retry_min_ms: u64,
    pub retry_max_ms: u64,
    /// One insert or query may take this long before it counts as failed and is retried.
    pub request_timeout_ms: u64,
    /// Candle series written (`1s`, `1m`, `1h`, `1d`, and `1d-regular` style scopes).
    pub candle_series: Vec<Series>,
    /// A bucket closes on the clock this long after its end (ticks still in flight may amend it until then).
    /// The clock is feed time: the newest event time read, running on with the wall clock while the feed
    /// is quiet.
    pub candle_grace_ms: u64,
    /// Also write still-open candles at each flush (replaced by later versions), so the current minute,
    /// hour and day are visible before they close.
    pub open_candles: bool,
    /// On start, candle state is rebuilt from the ticks of this many seconds before the newest stored tick.
    pub recovery_window_s: u64,
    /// Address of the writer's Prometheus endpoint (`GET /metrics`); empty = not served.
    pub metrics: String,
}

impl Default for ClickhouseConfig {
    fn default() -> Self {
        Self {
            url: "http://127.0.0.1:18123".into(),
            database: "tickring".into(),
            user: "default".into(),
            password: String::new(),
            consumer: "clickhouse".into(),
            max_rows: 500_000,
            max_bytes: 64 << 20,
            flush_interval_ms: 500,
            retry_min_ms: 100,
            retry_max_ms: 10_000,
            request_timeout_ms: 30_000,
            candle_series: Series::DEFAULT.to_vec(),
            candle_grace_ms: 2_000,
            open_candles: true,
            recovery_window_s: 36 * 3_600,
            metrics: "127.0.0.1:9102".into(),
        }
    }
}

/// A setting the writer refuses at start-up, naming the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("clickhouse.{key}: {message}")]
pub struct ConfigError {
    pub key: &'static str,
    pub message: String,
}

impl ClickhouseConfig {
    /// # Errors
    /// The first out-of-range value, naming its key and the accepted range.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |key, message: String| Err(ConfigError { key, message });
        if !(self.url.starts_with("http://") || self.url.starts_with("https://")) {
            return bad(
                "url",
                format!("{:?} must start with http:// (the HTTP interface)", self.url),
            );
        }
        if self.database.is_empty()
            || !self.database.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            return bad(
                "database",
                format!("{:?} must be 1+ characters of A-Z a-z 0-9 _", self.database),
            );
        }
        if !(1..=MAX_ROWS_LIMIT).contains(&self.max_rows) {
            return bad("max_rows", format!("{} must be 1..={MAX_ROWS_LIMIT}", self.max_rows));
        }
        if self.max_bytes < 4096 {
            return bad("max_bytes", format!("{} must be at least 4096", self.max_bytes));
        }
        if self.flush_interval_ms == 0 {
            return bad("flush_interval_ms", "must be at least 1".into());
        }
        if self.retry_min_ms == 0 || self.retry_max_ms < self.retry_min_ms {
            return bad(
                "retry_max_ms",
                format!(
                    "need 1 <= retry_min_ms ({}) <= retry_max_ms ({})",
                    self.retry_min_ms, self.retry_max_ms
                ),
            );
        }
        if self.request_timeout_ms < 100 {
            return bad(
                "request_timeout_ms",
                format!("{} must be at least 100", self.request_timeout_ms),
            );
        }
        if !(MIN_RECOVERY_WINDOW_S..=MAX_RECOVERY_WINDOW_S).contains(&self.recovery_window_s) {
            return bad(
                "recovery_window_s",
                format!(
                    "{} must be {MIN_RECOVERY_WINDOW_S}..={MAX_RECOVERY_WINDOW_S} (shorter than a candle's span rebuilds it from too few ticks)",
                    self.recovery_window_s
                ),
            );
        }
        self.candle_config()
            .validate()
            .map_err(|e| ConfigError { key: "candle_series", message: e.to_string() })
    }

    /// The aggregator settings the writer runs with.
    pub fn candle_config(&self) -> CandleConfig {
        CandleConfig {
            series: self.candle_series.clone(),
            grace_ns: self.candle_grace_ms.saturating_mul(1_000_000),
            open_updates: if self.open_candles { OpenUpdates::OnClock } else { OpenUpdates::Off },
            ..CandleConfig::default()
        }
    }

    pub fn flush_interval(&self) -> Duration {
        Duration::from_millis(self.flush_interval_ms)
    }

    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid() {
        assert_eq!(ClickhouseConfig::default().validate(), Ok(()));
    }

    #[test]
    fn refuses_bad_values_naming_the_key() {
        let c = ClickhouseConfig { max_rows: 2_000_000, ..ClickhouseConfig::default() };
        assert_eq!(c.validate().map_err(|e| e.key), Err("max_rows"));
        let c = ClickhouseConfig { database: "a;b".into(), ..ClickhouseConfig::default() };
        assert_eq!(c.validate().map_err(|e| e.key), Err("database"));
        let c =
            ClickhouseConfig { retry_min_ms: 50, retry_max_ms: 10, ..ClickhouseConfig::default() };
        assert_eq!(c.validate().map_err(|e| e.key), Err("retry_max_ms"));
        let c = ClickhouseConfig { recovery_window_s: 0, ..ClickhouseConfig::default() };
        assert_eq!(c.validate().map_err(|e| e.key), Err("recovery_window_s"));
        let c = ClickhouseConfig { candle_series: vec![], ..ClickhouseConfig::default() };
        assert_eq!(c.validate().map_err(|e| e.key), Err("candle_series"));
    }

    #[test]
    fn reads_toml_and_refuses_unknown_keys() {
        let c: ClickhouseConfig =
            toml::from_str("max_rows = 5\ncandle_series = [\"1m\", \"1d-regular\"]\n")
                .expect("parses");
        assert_eq!((c.max_rows, c.candle_series.len()), (5, 2));
        assert!(toml::from_str::<ClickhouseConfig>("max_row = 5").is_err());
    }
}
