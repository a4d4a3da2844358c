//! The cursor protocol shared by the producer and every consumer, written against the atomics shim so that the
//! exact same code runs over shared memory and under loom.
//!
//! Three counters live in the segment, all counting records since the segment's epoch began:
//! - `claim`: the producer has started writing every sequence below it. Records at or below
//!   `claim - capacity - 1` may be overwritten (or be half written) at any moment.
//! - `published`: every sequence below it is fully written and visible.
//! - `table_gen`: bumped by a consumer that joins as a gating consumer, so the producer rescans the table.
//!
//! The producer's write of a batch is a seqlock write: `claim` (Relaxed) then a SeqCst fence, then the record
//! bytes, then `published` (Release). A reader that copied records and then loads `claim` after an Acquire fence
//! knows which of them may be torn: the fence pair orders the producer's `claim` store before its record stores
//! as seen by that reader. The SeqCst fence also makes the join handshake a Dekker pair: either the producer sees
//! the bumped `table_gen` before it writes, or the joining consumer sees the `claim` that covers that write.

use crate::sync::{fence, AtomicU64};
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release, SeqCst};

/// The shared counters of one ring, borrowed from wherever they live.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Cursors<'a> {
    pub claim: &'a AtomicU64,
    pub published: &'a AtomicU64,
    pub table_gen: &'a AtomicU64,
}

impl Cursors<'_> {
    /// Producer, before writing records below `new_head`. Returns the table generation to compare with the
    /// one the producer last scanned: if it moved, a consumer joined and the gate must be recomputed before
    /// any record is written.
    pub fn begin_write(&self, new_head: u64) -> u64 {
        self.claim.store(new_head, Relaxed);
        // Pairs with the Acquire fence in `intact_from` (seqlock) and the SeqCst fence in `announce_join`
        // (Dekker): orders the claim before the record stores and before the table_gen load.
        fence(SeqCst);
        self.table_gen.load(Relaxed)
    }

    /// Producer that claimed but then found itself gated without waiting: nothing was written, so the claim
    /// goes back. Readers that saw the higher claim only discarded intact records (conservative).
    pub fn retract_write(&self, head: u64) {
        self.claim.store(head, Relaxed);
    }

    /// Producer, after the records below `new_head` are written. Pairs with `available`'s Acquire load.
    pub fn end_write(&self, new_head: u64) {
        self.published.store(new_head, Release);
    }

    /// Consumer: every sequence below the returned value may be read. Pairs with `end_write`.
    pub fn available(&self) -> u64 {
        self.published.load(Acquire)
    }

    /// Consumer, after copying or reading records in place: sequences at or above the returned value were not
    /// touched by the producer while they were read; anything below may be torn and must be discarded.
    pub fn intact_from(&self, capacity: u64) -> u64 {
        // Pairs with the fence in `begin_write`: if a record read saw a byte of a newer write, this load sees
        // the claim that preceded that write.
        fence(Acquire);
        self.claim.load(Relaxed).saturating_sub(capacity)
    }

    /// Consumer that has just stored its cursor and marked itself gating: announce it and learn the claim the
    /// producer may already have written past without seeing us. Records below `claim - capacity` are lost.
    pub fn announce_join(&self) -> u64 {
        self.table_gen.fetch_add(1, SeqCst);
        // Pairs with the SeqCst fence in `begin_write`.
        fence(SeqCst);
        self.claim.load(Relaxed)
    }

    /// Producer, before scanning the consumer table: the generation that scan reflects.
    pub fn table_generation(&self) -> u64 {
        self.table_gen.load(SeqCst)
    }
}

/// A gating consumer's committed cursor: stores pair with the producer's Acquire loads in [`gate_limit`], so
/// everything the consumer read happens before the producer reuses those slots.
pub(crate) fn commit_cursor(cursor: &AtomicU64, next: u64) {
    cursor.store(next, Release);
}

/// The highest head the producer may advance to without overwriting a record some gating cursor has not read.
pub(crate) fn gate_limit<'a>(gating: impl Iterator<Item = &'a AtomicU64>, capacity: u64) -> u64 {
    gating.map(|c| c.load(Acquire).saturating_add(capacity)).min().unwrap_or(u64::MAX)
}
