//! What can stop the websocket pusher from starting or running.

use std::io;

#[derive(Debug, thiserror::Error)]
pub enum WsError {
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("cannot listen on {addr}: {source}")]
    Listen { addr: String, source: io::Error },
    #[error("cannot start the runtime: {0}")]
    Runtime(io::Error),
    #[error("cannot start the ring reader thread: {0}")]
    Thread(io::Error),
    #[error("candle configuration: {0}")]
    Candles(#[from] tickring_engine::candles::CandleConfigError),
}
