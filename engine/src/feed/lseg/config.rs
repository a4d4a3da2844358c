//! `[ingest.lseg]` of `tuning.toml`: where the LSEG Real-Time WebSocket server is, what to ask it for, and
//! how to behave when it goes away.

use serde::{Deserialize, Serialize};

/// Settings of the live LSEG client. Every key is documented in `tuning.toml`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LsegConfig {
    /// `ws://HOST:PORT/WebSocket` (the API's port is 15000).
    pub url: String,
    /// Login name (`Key.Name` of the login request).
    pub user: String,
    /// `ApplicationId` of the login request.
    pub app_id: String,
    /// `Position` of the login request (the client's address as the server should see it).
    pub position: String,
    /// Items to request, in one batch.
    pub rics: Vec<String>,
    /// Fields to ask for (`View`); empty = every field the server has.
    pub view: Vec<String>,
    /// First reconnect delay; doubles per failed attempt up to `backoff_max_ms`, jittered.
    pub backoff_min_ms: u64,
    pub backoff_max_ms: u64,
    /// Silence tolerated beyond the server's PingTimeout before the connection is taken as dead.
    pub ping_timeout_slack_ms: u64,
    /// PingTimeout assumed until the login Refresh states one.
    pub default_ping_timeout_s: u64,
    /// Longest wait for the TCP connect and websocket handshake.
    pub connect_timeout_ms: u64,
    /// Longest wait for the login Refresh.
    pub login_timeout_ms: u64,
    /// Decoded items buffered between the client thread and the ingest side.
    pub channel_capacity: usize,
    /// Connections to open, the RICs split between them round-robin; each decodes on its own thread and
    /// hands trades to the one publisher through an in-process disruptor.
    pub connections: usize,
}

impl Default for LsegConfig {
    fn default() -> Self {
        Self {
            url: "ws://127.0.0.1:15000/WebSocket".into(),
            user: "user".into(),
            app_id: "256".into(),
            position: "127.0.0.1".into(),
            rics: Vec::new(),
            view: Vec::new(),
            backoff_min_ms: 500,
            backoff_max_ms: 30_000,
            ping_timeout_slack_ms: 5_000,
            default_ping_timeout_s: 30,
            connect_timeout_ms: 10_000,
            login_timeout_ms: 10_000,
            channel_capacity: 65_536,
            connections: 1,
        }
    }
}

/// A setting the client cannot work with.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LsegConfigError {
    #[error("ingest.lseg.url {0:?} must start with ws://")]
    Url(String),
    #[error("ingest.lseg.rics is empty: name at least one item")]
    NoRics,
    #[error("ingest.lseg.backoff_min_ms must be > 0 and <= backoff_max_ms")]
    Backoff,
    #[error("ingest.lseg.{0} must be > 0")]
    Zero(&'static str),
    #[error("ingest.lseg.{key} = {value} must be {min}..={max}")]
    Range { key: &'static str, value: u64, min: u64, max: u64 },
}

impl LsegConfig {
    /// The settings of connection `index` of [`LsegConfig::connections`]: every n-th RIC.
    pub fn connection(&self, index: usize) -> Self {
        let n = self.connections.max(1);
        let rics = self.rics.iter().skip(index).step_by(n).cloned().collect();
        Self { rics, connections: 1, ..self.clone() }
    }

    /// Checks the numbers whatever the feed (at start, from `[ingest]`): none may overflow a timer.
    ///
    /// # Errors
    /// The first value out of range, named by its key.
    pub fn validate_ranges(&self) -> Result<(), LsegConfigError> {
        let max_ping = super::connection::MAX_PING_TIMEOUT_S;
        for (key, value, min, max) in [
            ("backoff_min_ms", self.backoff_min_ms, 1, 3_600_000),
            ("backoff_max_ms", self.backoff_max_ms, 1, 3_600_000),
            ("ping_timeout_slack_ms", self.ping_timeout_slack_ms, 0, 600_000),
            ("default_ping_timeout_s", self.default_ping_timeout_s, 1, max_ping),
            ("connect_timeout_ms", self.connect_timeout_ms, 1, 600_000),
            ("login_timeout_ms", self.login_timeout_ms, 1, 600_000),
            ("channel_capacity", self.channel_capacity as u64, 1, 1 << 24),
            ("connections", self.connections as u64, 1, 256),
        ] {
            if !(min..=max).contains(&value) {
                return Err(LsegConfigError::Range { key, value, min, max });
            }
        }
        Ok(())
    }

    /// Checks what a connection needs (called when the LSEG feed is started, not for other feeds).
    ///
    /// # Errors
    /// The first setting that cannot work, named by its key.
    pub fn validate(&self) -> Result<(), LsegConfigError> {
        if !self.url.starts_with("ws://") {
            return Err(LsegConfigError::Url(self.url.clone()));
        }
        if self.rics.iter().all(|r| r.trim().is_empty()) {
            return Err(LsegConfigError::NoRics);
        }
        if self.backoff_min_ms == 0 || self.backoff_min_ms > self.backoff_max_ms {
            return Err(LsegConfigError::Backoff);
        }
        for (key, value) in [
            ("default_ping_timeout_s", self.default_ping_timeout_s),
            ("connect_timeout_ms", self.connect_timeout_ms),
            ("login_timeout_ms", self.login_timeout_ms),
            ("channel_capacity", self.channel_capacity as u64),
        ] {
            if value == 0 {
                return Err(LsegConfigError::Zero(key));
            }
        }
        self.validate_ranges()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_need_only_rics() {
        assert_eq!(LsegConfig::default().validate(), Err(LsegConfigError::NoRics));
        let ok = LsegConfig { rics: vec!["AAPL.O".into()], ..LsegConfig::default() };
        assert_eq!(ok.validate(), Ok(()));
        let bad = LsegConfig { url: "http://x".into(), ..ok.clone() };
        assert!(matches!(bad.validate(), Err(LsegConfigError::Url(_))));
        let bad = LsegConfig { backoff_min_ms: 10, backoff_max_ms: 5, ..ok.clone() };
        assert_eq!(bad.validate(), Err(LsegConfigError::Backoff));
        let bad = LsegConfig { channel_capacity: 0, ..ok };
        assert_eq!(bad.validate(), Err(LsegConfigError::Zero("channel_capacity")));
    }
}
