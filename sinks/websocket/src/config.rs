//! `[websocket]` in `tuning.toml`: the pusher's threads, limits, queues and timers, validated once at start.

use crate::error::WsError;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Duration;
use tickring_engine::candles::{CandleConfig, OpenUpdates, Retention, Series};

/// Every knob of the websocket pusher. Field docs are the user docs; `tuning.toml` repeats them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebsocketConfig {
    /// Address the websocket and the chart page listen on (one port for both).
    pub listen: String,
    /// Worker threads of the async runtime (fixed; the ring reader has its own extra thread).
    pub worker_threads: usize,
    /// Name of this sink's non-gating consumer slot in the ring.
    pub consumer_name: String,
    /// Folder holding the chart page (index.html, app.js, style.css) and, under node_modules, the charting
    /// library installed by `scripts/setup-web.sh`.
    pub web_dir: PathBuf,
    /// Most open websocket connections; one more gets an error message and a close (1013).
    pub max_connections: usize,
    /// Most channels one client may hold (a wildcard counts as one).
    pub max_subscriptions: usize,
    /// Largest inbound frame or message in bytes; a bigger one closes the connection (1009).
    pub max_frame_bytes: usize,
    /// Inbound messages per second a client may send (burst of the same size). Over it: an error; more than
    /// a further burst refused in a row: a close (1008).
    pub max_messages_per_sec: u32,
    /// Name of an environment variable holding the bearer token clients must present (`Authorization: Bearer`
    /// header or `?token=` in the URL). Unset: no authentication.
    pub auth_token_env: Option<String>,
    /// `Origin` header values allowed to open a websocket (exact match, e.g. "https://charts.example"), besides
    /// the server's own origin (its chart page). Empty: also localhost pages. `"*"`: any origin. Requests
    /// without an `Origin` header (non-browser clients) are always allowed.
    pub allowed_origins: Vec<String>,
    /// How often the server pings each client.
    pub ping_interval_ms: u64,
    /// A client from which nothing (pong or other frame) arrived for this long is dropped.
    pub ping_timeout_ms: u64,
    /// A connection must complete its HTTP request or websocket upgrade within this time.
    pub handshake_timeout_ms: u64,
    /// Most connections still in their handshake; a new one past it evicts the oldest (never waits).
    pub max_handshakes: usize,
    /// Most connections in their handshake from one IP address; a new one past it evicts that address's
    /// oldest, so one address cannot fill `max_handshakes`.
    pub max_handshakes_per_addr: usize,
    /// Most plain HTTP answers (page, library, stats) being written at once; more get 503 at once.
    pub max_http_connections: usize,
    /// A plain HTTP answer (or a refusal) not taken by the client within this time is dropped.
    pub http_write_timeout_ms: u64,
    /// Trades queued per client; past it trades are dropped for that client and it gets a gap notice with
    /// the count.
    pub trade_queue: usize,
    /// Distinct price/candle keys (symbol x kind x candle) queued per client; updates to a queued key
    /// replace it (the latest wins). Past it new keys are dropped and counted like trades.
    pub conflated_queue: usize,
    /// Replies, snapshots and notices queued per client; a client that lets more pile up is disconnected.
    pub control_queue: usize,
    /// A client whose queue overflowed on every drain for this long, or one write to whose socket does not
    /// complete within this long, is disconnected (1008, "slow consumer").
    pub slow_client_disconnect_ms: u64,
    /// Bytes all client queues together may hold (each queued message counted per client until written).
    /// Past it the clients holding the most (those not reading) are closed first (1008), until usage is
    /// under 90% of it.
    pub queue_memory_budget_bytes: u64,
    /// Most messages in one outbound frame (every frame is a JSON array of messages).
    pub max_messages_per_frame: usize,
    /// Kernel send buffer per connection in bytes (0: the OS default). Smaller buffers make a stuck client
    /// show up sooner as "behind".
    pub socket_send_buffer: u32,
    /// How often live (open) candles are pushed; also the candle clock's tick.
    pub candle_update_ms: u64,
    /// Candle series built and offered as `candle.SERIES.SYMBOL` channels.
    pub candle_series: Vec<Series>,
    /// How long after a candle's end the clock waits for late ticks before closing it.
    pub candle_grace_ms: u64,
    /// Recent trades per symbol kept for the snapshot of a trade channel.
    pub snapshot_trades: usize,
    /// Recent closed candles per symbol and series kept for the snapshot of a candle channel.
    pub snapshot_candles: usize,
    /// Snapshot events one client may cause per second (a token bucket of one second; one subscribe may
    /// overdraw it and then waits it off). Past it a subscribe gets `snapshot_rate_limited`.
    pub snapshot_events_per_sec: u32,
    /// Longest the ring reader waits for ticks before running the candle clock.
    pub feed_wait_ms: u64,
}

impl Default for WebsocketConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8090".into(),
            worker_threads: 2,
            consumer_name: "websocket".into(),
            web_dir: PathBuf::from("sinks/websocket/web"),
            max_connections: 5_000,
            max_subscriptions: 200,
            max_frame_bytes: 16 * 1024,
            max_messages_per_sec: 20,
            auth_token_env: None,
            allowed_origins: Vec::new(),
            ping_interval_ms: 15_000,
            ping_timeout_ms: 45_000,
            handshake_timeout_ms: 5_000,
            max_handshakes: 1_024,
            max_handshakes_per_addr: 64,
            max_http_connections: 256,
            http_write_timeout_ms: 10_000,
            trade_queue: 4_096,
            conflated_queue: 4_096,
            control_queue: 1_024,
            slow_client_disconnect_ms: 5_000,
            queue_memory_budget_bytes: 512 << 20,
            max_messages_per_frame: 256,
            socket_send_buffer: 0,
            candle_update_ms: 250,
            candle_series: Series::DEFAULT.to_vec(),
            candle_grace_ms: 2_000,
            snapshot_trades: 20,
            snapshot_candles: 120,
            snapshot_events_per_sec: 50_000,
            feed_wait_ms: 20,
        }
    }
}

impl WebsocketConfig {
    /// Checks every value once, so a bad file stops the process with the key and the accepted range.
    ///
    /// # Errors
    /// [`WsError::Config`] naming the key.
    pub fn validate(&self) -> Result<(), WsError> {
        let bad = |msg: String| Err(WsError::Config(msg));
        if self.listen.parse::<std::net::SocketAddr>().is_err() {
            return bad(format!("websocket.listen = {:?}: expected IP:PORT", self.listen));
        }
        let ranges: [(&str, u64, u64, u64); 20] = [
            ("worker_threads", self.worker_threads as u64, 1, 64),
            ("max_connections", self.max_connections as u64, 1, 1_000_000),
            ("max_subscriptions", self.max_subscriptions as u64, 1, 100_000),
            ("max_frame_bytes", self.max_frame_bytes as u64, 256, 16 << 20),
            ("max_messages_per_sec", u64::from(self.max_messages_per_sec), 1, 100_000),
            ("ping_interval_ms", self.ping_interval_ms, 10, 3_600_000),
            ("handshake_timeout_ms", self.handshake_timeout_ms, 10, 600_000),
            ("max_handshakes", self.max_handshakes as u64, 1, 1_000_000),
            ("max_handshakes_per_addr", self.max_handshakes_per_addr as u64, 1, 1_000_000),
            ("max_http_connections", self.max_http_connections as u64, 1, 1_000_000),
            ("http_write_timeout_ms", self.http_write_timeout_ms, 10, 600_000),
            ("trade_queue", self.trade_queue as u64, 1, 1 << 24),
            ("conflated_queue", self.conflated_queue as u64, 1, 1 << 24),
            ("control_queue", self.control_queue as u64, 4, 1 << 20),
            ("slow_client_disconnect_ms", self.slow_client_disconnect_ms, 10, 3_600_000),
            ("queue_memory_budget_bytes", self.queue_memory_budget_bytes, 1 << 20, 1 << 40),
            ("max_messages_per_frame", self.max_messages_per_frame as u64, 1, 1 << 16),
            ("candle_update_ms", self.candle_update_ms, 10, 60_000),
            ("feed_wait_ms", self.feed_wait_ms, 1, 10_000),
            ("snapshot_events_per_sec", u64::from(self.snapshot_events_per_sec), 1, 100_000_000),
        ];
        for (key, value, lo, hi) in ranges {
            if value < lo || value > hi {
                return bad(format!("websocket.{key} = {value}: expected {lo}..={hi}"));
            }
        }
        if self.control_queue < self.max_subscriptions + 16 {
            return bad(format!(
                "websocket.control_queue = {} must be at least max_subscriptions + 16 = {} (one snapshot per channel)",
                self.control_queue,
                self.max_subscriptions + 16
            ));
        }
        if self.max_handshakes_per_addr > self.max_handshakes {
            return bad(format!(
                "websocket.max_handshakes_per_addr = {} must be at most max_handshakes = {}",
                self.max_handshakes_per_addr, self.max_handshakes
            ));
        }
        if self.ping_timeout_ms <= self.ping_interval_ms {
            return bad(format!(
                "websocket.ping_timeout_ms = {} must be above ping_interval_ms = {}",
                self.ping_timeout_ms, self.ping_interval_ms
            ));
        }
        if self.consumer_name.is_empty() {
            return bad("websocket.consumer_name must not be empty".into());
        }
        if let Some(var) = &self.auth_token_env {
            if var.is_empty() {
                return bad(
                    "websocket.auth_token_env must name a variable (omit it for no auth)".into()
                );
            }
        }
        for entry in &self.allowed_origins {
            crate::origin::check_entry(entry).map_err(WsError::Config)?;
        }
        self.candle_config()
            .validate()
            .map_err(|e| WsError::Config(format!("websocket.candle_series: {e}")))
    }

    /// The aggregator settings: the configured series, live updates on the clock.
    pub fn candle_config(&self) -> CandleConfig {
        CandleConfig {
            series: self.candle_series.clone(),
            grace_ns: self.candle_grace_ms.saturating_mul(1_000_000),
            open_updates: OpenUpdates::OnClock,
            retention: Retention::default(),
            ..CandleConfig::default()
        }
    }

    /// The token from `auth_token_env`, read once at start.
    ///
    /// # Errors
    /// The variable is named but unset or empty (refusing to start beats silently running without auth).
    pub fn resolve_token(&self) -> Result<Option<String>, WsError> {
        let Some(var) = &self.auth_token_env else { return Ok(None) };
        match std::env::var(var) {
            Ok(token) if !token.is_empty() => Ok(Some(token)),
            _ => Err(WsError::Config(format!(
                "websocket.auth_token_env names {var}, which is unset or empty"
            ))),
        }
    }

    pub fn ping_interval(&self) -> Duration {
        Duration::from_millis(self.ping_interval_ms)
    }
    pub fn ping_timeout(&self) -> Duration {
        Duration::from_millis(self.ping_timeout_ms)
    }
    pub fn handshake_timeout(&self) -> Duration {
        Duration::from_millis(self.handshake_timeout_ms)
    }
    pub fn http_write_timeout(&self) -> Duration {
        Duration::from_millis(self.http_write_timeout_ms)
    }
    pub fn slow_client_disconnect(&self) -> Duration {
        Duration::from_millis(self.slow_client_disconnect_ms)
    }
    pub fn candle_update(&self) -> Duration {
        Duration::from_millis(self.candle_update_ms)
    }
    pub fn feed_wait(&self) -> Duration {
        Duration::from_millis(self.feed_wait_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid() {
        WebsocketConfig::default().validate().expect("defaults validate");
    }

    #[test]
    fn refuses_bad_values_and_unknown_keys_with_the_key() {
        let c = WebsocketConfig { worker_threads: 0, ..WebsocketConfig::default() };
        let err = c.validate().expect_err("zero threads").to_string();
        assert!(err.contains("websocket.worker_threads"), "{err}");
        let c = WebsocketConfig { ping_timeout_ms: 10, ..WebsocketConfig::default() };
        assert!(c.validate().is_err());
        let c = WebsocketConfig { listen: "nowhere".into(), ..WebsocketConfig::default() };
        assert!(c.validate().is_err());
        assert!(toml::from_str::<WebsocketConfig>("max_conections = 3").is_err());
        let c: WebsocketConfig =
            toml::from_str("candle_series = [\"1m\"]\nmax_subscriptions = 7").expect("parses");
        assert_eq!((c.candle_series.len(), c.max_subscriptions), (1, 7));
    }

    #[test]
    fn token_env_must_be_set_when_named() {
        let c = WebsocketConfig {
            auth_token_env: Some("TICKRING_TEST_SURELY_UNSET_VARIABLE".into()),
            ..WebsocketConfig::default()
        };
        assert!(c.resolve_token().is_err());
        assert_eq!(WebsocketConfig::default().resolve_token().expect("no auth"), None);
    }
}
