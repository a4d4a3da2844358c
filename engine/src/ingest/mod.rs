//! From decoded trades to ticks in the ring: classification and the pinned publisher.

pub mod config;

pub use config::{FeedKind, IngestConfig};
