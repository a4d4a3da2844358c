//! LSEG (Refinitiv) Real-Time WebSocket API, `tr_json2`: decoding frames into trades, building requests,
//! the live client and a local server speaking the protocol for tests.

mod backoff;
pub mod client;
pub mod config;
mod connection;
mod event;
mod extract;
mod frame;
mod message;
mod onepass;
pub mod requests;
mod session;
mod stats;
mod stream;
pub mod test_server;

pub use client::{ClientError, LsegClient};
pub use config::{LsegConfig, LsegConfigError};
pub use connection::{FrameTap, SUBPROTOCOL};
pub use event::{DataState, FeedEvent, StreamState, StreamStatus};
pub use session::{IdHasher, LsegSession};
pub use stats::ClientStats;
