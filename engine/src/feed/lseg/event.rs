//! What the LSEG decoder reports besides trades: heartbeats, stream states, server errors, rejects.

use crate::feed::{Rejection, Symbol, Trade};

/// LSEG stream state (`State.Stream`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamState {
    Open,
    NonStreaming,
    Closed,
    ClosedRecover,
    Redirected,
    Other,
}

impl StreamState {
    pub fn from_wire(s: &str) -> Self {
        match s {
            "Open" => Self::Open,
            "NonStreaming" => Self::NonStreaming,
            "Closed" => Self::Closed,
            "ClosedRecover" => Self::ClosedRecover,
            "Redirected" => Self::Redirected,
            _ => Self::Other,
        }
    }

    /// The server will send nothing more on this stream.
    pub fn is_closed(self) -> bool {
        matches!(self, Self::Closed | Self::ClosedRecover | Self::Redirected)
    }
}

/// LSEG data state (`State.Data`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataState {
    Ok,
    Suspect,
    NoChange,
    Other,
}

impl DataState {
    pub fn from_wire(s: &str) -> Self {
        match s {
            "Ok" => Self::Ok,
            "Suspect" => Self::Suspect,
            "NoChange" => Self::NoChange,
            _ => Self::Other,
        }
    }
}

/// A stream's state as the server last stated it (Refresh or Status).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamStatus {
    pub id: i64,
    /// The item, when the stream is one the decoder knows.
    pub symbol: Option<Symbol>,
    pub stream: StreamState,
    pub data: DataState,
    pub text: Option<String>,
}

/// One thing the decoder has to tell its caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FeedEvent {
    Trade(Trade),
    /// The server pinged: send [`super::requests::pong`] before its PingTimeout runs out.
    PongDue,
    /// The login stream opened; `ping_timeout_s` is how long the server waits for a Pong.
    LoginAccepted {
        ping_timeout_s: Option<u64>,
    },
    /// A Refresh or Status stated a stream's state (also for the login stream).
    Status(StreamStatus),
    /// The server refused a request (`Type: Error`).
    ServerError {
        id: Option<i64>,
        text: String,
    },
    /// A message that could not be mapped; already counted.
    Rejected(Rejection),
}
