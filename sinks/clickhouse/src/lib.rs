//! The ClickHouse writer: ticks, candles (1s/1m/1h/1d) and latest prices from the ring into ClickHouse,
//! batched, with the ring cursor committed only after ClickHouse acknowledged (see `writer.rs`), and tables
//! that absorb the rows a crash makes it write twice (see `schema.rs`).
#![forbid(unsafe_code)]

mod backoff;
pub mod bench;
pub mod config;
mod error;
mod failure;
pub mod fixture;
mod instruments;
mod pending;
mod recovery;
pub mod rows;
pub mod schema;
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
