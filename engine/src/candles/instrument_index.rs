//! Dense slots for instrument ids, in first-seen order so that clock-driven output is deterministic.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Multiplicative hash for `u32` keys: ids come from the ring's own directory, not from an adversary, and
/// SipHash would cost more than the rest of a tick's work.
#[derive(Default, Debug)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u32(&mut self, n: u32) {
        self.0 = (u64::from(n) ^ self.0).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

#[derive(Default, Debug)]
pub(crate) struct InstrumentIndex {
    slots: HashMap<u32, usize, BuildHasherDefault<IdHasher>>,
    ids: Vec<u32>,
}

impl InstrumentIndex {
    /// The slot of `id`, and whether it is new (the caller then appends its state).
    pub fn slot(&mut self, id: u32) -> (usize, bool) {
        let next = self.ids.len();
        let slot = *self.slots.entry(id).or_insert(next);
        if slot == next {
            self.ids.push(id);
        }
        (slot, slot == next)
    }

    /// Instrument ids by slot.
    pub fn ids(&self) -> &[u32] {
        &self.ids
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_dense_in_first_seen_order() {
        let mut ix = InstrumentIndex::default();
        assert_eq!(ix.slot(70_000), (0, true));
        assert_eq!(ix.slot(3), (1, true));
        assert_eq!(ix.slot(70_000), (0, false));
        assert_eq!(ix.slot(u32::MAX), (2, true));
        assert_eq!(ix.ids(), [70_000, 3, u32::MAX]);
    }
}
