//! tickring ingest: the tick record every other part reads, and everything that turns feed data into ticks.
#![forbid(unsafe_code)]

pub mod calendar;
pub mod candles;
pub mod feed;
pub mod fixed;
pub mod ingest;
pub mod instrument;
pub mod mapping;
pub mod tick;
pub mod wire;

pub use fixed::{FixedParseError, Price, Quantity};
pub use tick::{Exchange, Session, Tick, TickFlags};
pub use wire::InstrumentEntry;
