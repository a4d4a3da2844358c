//! Feeds: decoding what a market data source sends into [`Trade`]s, and quarantining what cannot be.

pub mod intern;
pub mod lseg;
pub mod quarantine;
pub mod replay;
pub mod trade;

pub use quarantine::{Counters, Quarantine, RejectReason, Rejection};
pub use trade::{Symbol, Trade};
