//! From decoded trades to ticks in the ring: classification, pacing and the pinned publisher.

pub mod classify;
pub mod config;
pub mod fan_in;
pub mod pace;
pub mod pinned;
pub mod publisher;

pub use classify::{Classifier, ClassifyStats, Unclassified};
pub use config::{FeedKind, IngestConfig};
pub use fan_in::FanIn;
pub use pace::{Pacer, Speed};
pub use publisher::{run, Ended, IngestCounters, Publisher, TickJournal};
