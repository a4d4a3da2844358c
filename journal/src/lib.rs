//! The durable journal under every sink: the truth, where the ring is the fast path.
//!
//! The publisher appends every batch here *before* it enters the ring, so whatever any sink ever saw is in
//! the journal. Files live under `{dir}/{ring}/{epoch}/`:
//!
//! - `epoch.info`: which epoch this is and its place in the ring's history (epochs are ordered by it, not by
//!   their number);
//! - `{first_seq:020}.seg`: segments of fixed-size records, so a sequence maps to a file offset by arithmetic;
//!   checksummed 4 KiB blocks (see `format.rs`), rolled by size and by UTC day;
//! - `directory.log`: the epoch's instrument directory (id = index), so (epoch, id) resolves forever;
//! - `source.log`: where the feed stood after a sequence, so a restarted ingest continues its source.
//!
//! [`JournalWriter`] appends (one writer per epoch); [`JournalReader`] reads any epoch from any sequence,
//! live or cold, in another process. The format and what each fsync policy guarantees: `docs/journal.md`.
#![deny(unsafe_op_in_unsafe_fn)]

pub mod config;
pub mod error;
pub mod feed_gap;
pub mod format;
mod frames;
pub mod info;
pub mod layout;
mod map;
pub mod reader;
mod retention;
mod scan;
mod sync;
pub mod verify;
pub mod writer;

pub use config::{FsyncPolicy, JournalConfig, OnFull};
pub use error::JournalError;
pub use feed_gap::{FeedGap, FeedGapReader};
pub use info::{EpochInfo, JournalInfo};
pub use reader::{JournalReader, ReadGapCause, ReadOutcome};
pub use verify::{verify, Damage, VerifyReport};
pub use writer::{JournalWriter, WriterStats};
