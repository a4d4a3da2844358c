//! The segment layout: `#[repr(C)]` structs at fixed offsets, no pointers, so every process can map it anywhere.
//!
//! ```text
//! 0          Header       (immutable after creation; `magic` written last)
//! 256        Cursors      (claim, published: the producer's hot line)
//! 384        Control      (table_gen, lifecycle, heartbeats, counters)
//! 512        WakeLine     (the `block` wait strategy's futex word and sleeper count)
//! 4096       consumer table: max_consumers x ConsumerSlot (128 bytes each)
//! page       records:     capacity x record_size        <- consumers map this and the directory read-only
//! ...        directory:   directory_capacity x entry_size
//! ```

use std::sync::atomic::{AtomicU32, AtomicU64};

/// "TICKRING" in ASCII, little-endian.
pub const MAGIC: u64 = u64::from_le_bytes(*b"TICKRING");
/// Bump whenever any struct in this file changes shape or meaning.
pub const LAYOUT_VERSION: u32 = 4;
pub const PAGE: usize = 4096;
pub const HEADER_OFFSET: usize = 0;
pub const CURSORS_OFFSET: usize = 256;
pub const CONTROL_OFFSET: usize = 384;
pub const WAKE_OFFSET: usize = 512;
pub const TABLE_OFFSET: usize = PAGE;
/// Longest consumer name, in bytes.
pub const MAX_NAME_LEN: usize = 48;

/// Written once by the creating producer, then only read.
#[repr(C)]
#[derive(Debug)]
pub struct Header {
    /// [`MAGIC`], stored with Release after everything else, so an opener never sees a half-built segment.
    pub magic: AtomicU64,
    pub layout_version: u32,
    pub record_size: u32,
    pub record_align: u32,
    pub entry_size: u32,
    pub record_schema: u64,
    pub entry_schema: u64,
    pub capacity: u64,
    pub max_consumers: u32,
    pub directory_capacity: u32,
    pub records_offset: u64,
    pub directory_offset: u64,
    pub segment_len: u64,
    /// Unique per producer start: consumers compare it to notice a takeover.
    pub epoch: u64,
    pub producer_pid: u32,
    pub reserved: u32,
    /// With `producer_pid`, names the producer process (see `liveness.rs`).
    pub producer_start: u64,
    pub producer_pid_ns: u64,
}

/// The producer's two hot counters, alone on their cache line (see `protocol.rs`).
#[repr(C, align(128))]
#[derive(Debug)]
pub struct CursorLine {
    pub claim: AtomicU64,
    pub published: AtomicU64,
}

/// Lifecycle of the producer of a segment, in [`Control::lifecycle`].
pub mod lifecycle {
    pub const RUNNING: u32 = 1;
    /// The producer shut down cleanly; everything published stays readable.
    pub const CLOSED: u32 = 2;
    /// A newer producer took the name over; drain this segment, then attach to the new one.
    pub const SUPERSEDED: u32 = 3;
}

#[repr(C, align(128))]
#[derive(Debug)]
pub struct Control {
    pub table_gen: AtomicU64,
    pub lifecycle: AtomicU32,
    /// Holder of the consumer-table lock, pid << 32 | low 32 bits of its start time (0 = free); a dead
    /// holder's lock is broken.
    pub table_lock: AtomicU64,
    pub producer_heartbeat_ns: AtomicU64,
    pub directory_len: AtomicU64,
    /// Gating consumers the producer stopped waiting for (dead pid or stale heartbeat).
    pub evictions: AtomicU64,
    /// Times the producer had to wait for a gating consumer.
    pub producer_stalls: AtomicU64,
    /// Total time the producer spent waiting for gating consumers (ns): ~0 when no sink gates.
    pub producer_gated_ns: AtomicU64,
}

/// The `block` wait strategy's words (see `wake.rs`), on a line of their own: sleepers write `sleepers`,
/// and the producer reads it on every publish.
#[repr(C, align(128))]
#[derive(Debug)]
pub struct WakeLine {
    /// Bumped by the producer to wake sleepers; consumers sleep on it with FUTEX_WAIT.
    pub word: AtomicU32,
    /// Consumers asleep, or about to be, on `word`.
    pub sleepers: AtomicU32,
}

/// States of a consumer slot, in [`ConsumerSlot::state`].
pub mod slot_state {
    pub const FREE: u32 = 0;
    /// Being (re)claimed under the table lock.
    pub const CLAIMING: u32 = 1;
    pub const ACTIVE: u32 = 2;
    /// Stopped gating because its process died or its heartbeat went stale; the cursor is kept for a resume.
    pub const EVICTED: u32 = 3;
    /// Detached cleanly; the cursor is kept for a resume.
    pub const DETACHED: u32 = 4;
}

/// One consumer's entry in the table. Everything is atomic because several processes touch it.
#[repr(C, align(128))]
#[derive(Debug)]
pub struct ConsumerSlot {
    /// Next sequence this consumer will read; everything below is done with.
    pub cursor: AtomicU64,
    pub state: AtomicU32,
    /// 0 = non-gating, 1 = gating.
    pub gating: AtomicU32,
    pub pid: AtomicU32,
    pub name_len: AtomicU32,
    pub heartbeat_ns: AtomicU64,
    /// With `pid`, names the consumer process: a reused pid or a zombie is not mistaken for it.
    pub start_time: AtomicU64,
    pub pid_ns: AtomicU64,
    /// Records skipped because the producer lapped this consumer (or it was evicted).
    pub missed: AtomicU64,
    /// Times that happened.
    pub overruns: AtomicU64,
    pub name: [AtomicU64; MAX_NAME_LEN / 8],
    /// 1 while the consumer reads records from the journal instead of the ring (behind it, catching up),
    /// for `tickring status`. In what was padding: older segments read 0, "the ring".
    pub reading_journal: AtomicU32,
}

const _: () = {
    assert!(std::mem::size_of::<Header>() <= CURSORS_OFFSET);
    assert!(CURSORS_OFFSET + std::mem::size_of::<CursorLine>() <= CONTROL_OFFSET);
    assert!(CONTROL_OFFSET + std::mem::size_of::<Control>() <= WAKE_OFFSET);
    assert!(WAKE_OFFSET + std::mem::size_of::<WakeLine>() <= TABLE_OFFSET);
    assert!(std::mem::size_of::<ConsumerSlot>() == 128);
};

/// Byte offsets of one segment, derived from its sizes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geometry {
    pub capacity: u64,
    pub record_size: usize,
    pub entry_size: usize,
    pub max_consumers: usize,
    pub directory_capacity: usize,
    pub records_offset: usize,
    pub directory_offset: usize,
    pub len: usize,
}

impl Geometry {
    /// `None` when the sizes overflow the address space.
    pub fn new(
        capacity: u64,
        record_size: usize,
        entry_size: usize,
        max_consumers: usize,
        directory_capacity: usize,
    ) -> Option<Self> {
        let table_end = TABLE_OFFSET
            .checked_add(max_consumers.checked_mul(std::mem::size_of::<ConsumerSlot>())?)?;
        let records_offset = round_up(table_end, PAGE)?;
        let records_len = usize::try_from(capacity).ok()?.checked_mul(record_size)?;
        let directory_offset = round_up(records_offset.checked_add(records_len)?, 64)?;
        let dir_len = directory_capacity.checked_mul(entry_size)?;
        let len = round_up(directory_offset.checked_add(dir_len)?, PAGE)?;
        Some(Self {
            capacity,
            record_size,
            entry_size,
            max_consumers,
            directory_capacity,
            records_offset,
            directory_offset,
            len,
        })
    }
}

fn round_up(value: usize, to: usize) -> Option<usize> {
    value.checked_add(to - 1).map(|v| v / to * to)
}

/// Packs a name into the slot's words (zero padded).
pub fn encode_name(name: &str) -> [u64; MAX_NAME_LEN / 8] {
    let mut bytes = [0u8; MAX_NAME_LEN];
    bytes[..name.len()].copy_from_slice(name.as_bytes());
    let mut words = [0u64; MAX_NAME_LEN / 8];
    for (w, chunk) in words.iter_mut().zip(bytes.chunks_exact(8)) {
        let mut b = [0u8; 8];
        b.copy_from_slice(chunk);
        *w = u64::from_le_bytes(b);
    }
    words
}

/// Unpacks a name written by [`encode_name`]; invalid UTF-8 (a corrupt table) comes back lossy.
pub fn decode_name(words: [u64; MAX_NAME_LEN / 8], len: usize) -> String {
    let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    String::from_utf8_lossy(&bytes[..len.min(MAX_NAME_LEN)]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn geometry_is_page_aligned_and_ordered() {
        let g = Geometry::new(1 << 16, 64, 128, 16, 1024).expect("fits");
        assert_eq!(g.records_offset % PAGE, 0);
        assert!(g.records_offset >= TABLE_OFFSET + 16 * 128);
        assert_eq!(g.directory_offset, g.records_offset + (1 << 16) * 64);
        assert_eq!(g.len % PAGE, 0);
        assert!(Geometry::new(u64::MAX, 64, 128, 16, 1024).is_none());
    }

    #[test]
    fn names_round_trip() {
        for name in ["", "clickhouse", "a-very-long-consumer-name-that-fills-48-bytes-x"] {
            assert_eq!(decode_name(encode_name(name), name.len()), name);
        }
    }
}
