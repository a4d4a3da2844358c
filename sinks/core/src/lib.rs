//! The sink core: [`TickStream`], the one reader under every sink.
//!
//! A sink's position is (epoch, seq). The stream reads the shared-memory ring while that position is in
//! it, and the journal when it is not (starting behind, lapped, an older epoch after a producer takeover, a
//! restart hours later), switching back to the ring without a gap or a duplicate: both hold the same records
//! under the same sequences, the journal first. Instrument ids are resolved per epoch; the feed-time clock
//! candles close by lives here too.
#![forbid(unsafe_code)]

mod clock;
mod error;
mod event;
mod instruments;
mod stream;

pub use clock::FeedClock;
pub use error::StreamError;
pub use event::{Event, Position, ReadingFrom, StreamGap, StreamGapCause};
pub use instruments::{Instruments, Names};
pub use stream::{Start, StreamConfig, TickStream};
