//! The ClickHouse writer: ticks, candles (1s/1m/1h/1d) and latest prices from the tick stream (ring when
//! near, journal when behind) into ClickHouse, batched, resuming after any stop from the last flush the
//! server acknowledged (see `writer.rs`, `flush.rs`).
#![forbid(unsafe_code)]

mod backoff;
pub mod bench;
pub mod config;
mod error;
mod failure;
pub mod fixture;
mod flush;
mod pending;
mod recovery;
mod retry;
pub mod rows;
pub mod schema;
mod signals;
mod stats;
mod store;
pub mod verify;
mod writer;

pub use backoff::Backoff;
pub use config::ClickhouseConfig;
pub use error::SinkError;
pub use failure::FailureKind;
pub use stats::WriterStats;
pub use store::Store;
pub use writer::{Exit, Writer};
