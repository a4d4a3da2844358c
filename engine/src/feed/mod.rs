//! Feeds: decoding what a market data source sends into [`Trade`]s, and quarantining what cannot be.

pub mod intern;
pub mod lseg;
pub mod quarantine;
pub mod replay;
pub mod rng;
pub mod simulator;
pub mod source;
pub mod time_bound;
pub mod trade;

pub use quarantine::{Counters, Quarantine, RejectReason, Rejection};
pub use source::{FeedItem, LinkEvent, Poll, ResumeError, SourceError, TradeSource};
pub use time_bound::TimeBound;
pub use trade::{Symbol, Trade};
