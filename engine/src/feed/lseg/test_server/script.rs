//! What the test server does on each connection, and what it writes in its log.

use serde_json::{json, Value};
use std::time::Duration;

/// One step of a connection's script, run after the client has logged in and requested its items.
#[derive(Clone, Debug)]
pub enum Step {
    /// An Update on `ric`'s stream: `update_type` (Trade, Quote, ClosingRun, Correction, ..) and `fields`
    /// (a JSON object). Corrections carry `DoNotRipple`.
    Update { ric: String, update_type: String, fields: Value },
    /// A Status on `ric`'s stream, e.g. `("Closed", "Suspect")`.
    Status { ric: String, stream: String, data: String },
    /// A frame sent exactly as given (malformed ones included).
    Raw(String),
    /// `{"Type":"Ping"}`; the client must Pong within the PingTimeout or be disconnected.
    Ping,
    /// Wait before the next step.
    Sleep(Duration),
    /// Drop the TCP connection without a closing handshake; ends this connection.
    Drop,
    /// Send nothing more (no data, no pings) and answer nothing, but keep the socket open.
    Stall,
}

impl Step {
    pub fn update(ric: &str, update_type: &str, fields: Value) -> Self {
        Self::Update { ric: ric.into(), update_type: update_type.into(), fields }
    }

    pub fn trade(ric: &str, fields: Value) -> Self {
        Self::update(ric, "Trade", fields)
    }
}

/// The server's behaviour.
#[derive(Clone, Debug)]
pub struct Script {
    /// PingTimeout stated in the login Refresh, in seconds.
    pub ping_timeout_s: u64,
    /// After its steps, each connection sends a Ping this often (none if `None`).
    pub ping_every: Option<Duration>,
    /// Steps of the 1st, 2nd, .. connection; connections beyond the list run no steps.
    pub connections: Vec<Vec<Step>>,
    /// `Fields` of each item's Refresh (an empty object for items not listed).
    pub images: Vec<(String, Value)>,
}

impl Default for Script {
    fn default() -> Self {
        Self { ping_timeout_s: 30, ping_every: None, connections: Vec::new(), images: Vec::new() }
    }
}

impl Script {
    pub(super) fn image(&self, ric: &str) -> Value {
        self.images.iter().find(|(r, _)| r == ric).map_or_else(|| json!({}), |(_, v)| v.clone())
    }
}

/// What the server saw, for tests to check.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServerLog {
    /// Websocket handshakes accepted.
    pub connections: u64,
    /// Handshakes refused because the client did not offer `tr_json2`.
    pub refused: u64,
    /// Login names, one per login request.
    pub logins: Vec<String>,
    /// Items of each item request, in order.
    pub requests: Vec<Vec<String>>,
    /// `View` of each item request (empty when none).
    pub views: Vec<Vec<String>>,
    pub pings_sent: u64,
    pub pongs: u64,
    /// Connections dropped because a Pong did not come in time.
    pub pong_timeouts: u64,
    /// Connections that ended (for any reason).
    pub ended: u64,
}
