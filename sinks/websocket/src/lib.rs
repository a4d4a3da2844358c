//! The websocket pusher: a non-gating ring consumer that pushes live trades, latest prices and candles to
//! many websocket clients, and serves the live chart page. Protocol and limits: docs/websocket.md.
#![forbid(unsafe_code)]

mod admission;
pub mod bench;
pub mod channel;
pub mod config;
mod connection;
pub mod error;
mod feed;
pub mod http;
mod hub;
pub mod limits;
mod market;
mod memory;
pub mod message;
mod origin;
pub mod queue;
mod registry;
pub mod request;
pub mod server;
mod session;
mod snapshot;
pub mod stats;
pub mod web;

pub use config::WebsocketConfig;
pub use error::WsError;
pub use server::{Server, WS_PATH};
pub use stats::StatsSnapshot;
