//! The consumer table: finding, claiming and releasing slots under a small cross-process lock.

use crate::clock::{monotonic_ns, pid_alive};
use crate::config::ConsumerPolicy;
use crate::layout::{decode_name, encode_name, slot_state, ConsumerSlot, Control};
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};

/// Held while a process edits the table; a holder that died is detected by its pid and its lock broken.
pub(crate) struct TableLock<'a> {
    control: &'a Control,
    pid: u32,
}

impl<'a> TableLock<'a> {
    pub fn acquire(control: &'a Control) -> Self {
        let pid = std::process::id();
        let mut spins = 0u32;
        loop {
            let holder = control.table_lock.load(Relaxed);
            if holder == 0 || !pid_alive(holder) {
                // Acquire pairs with the Release in `drop`: the previous holder's table edits are visible.
                if control.table_lock.compare_exchange(holder, pid, Acquire, Relaxed).is_ok() {
                    return Self { control, pid };
                }
            }
            spins += 1;
            if spins > 100 {
                std::thread::sleep(std::time::Duration::from_micros(50));
            } else {
                std::thread::yield_now();
            }
        }
    }
}

impl Drop for TableLock<'_> {
    fn drop(&mut self) {
        let _ = self.control.table_lock.compare_exchange(self.pid, 0, Release, Relaxed);
    }
}

pub(crate) fn slot_name(slot: &ConsumerSlot) -> String {
    let words = std::array::from_fn(|i| slot.name[i].load(Relaxed));
    decode_name(words, slot.name_len.load(Relaxed) as usize)
}

/// Index of the slot registered under `name` (in any state but FREE).
pub(crate) fn find_by_name(slots: &[ConsumerSlot], name: &str) -> Option<usize> {
    slots.iter().position(|s| s.state.load(Acquire) != slot_state::FREE && slot_name(s) == name)
}

/// Fills a free slot with a registration (state stays CLAIMING until the caller activates it).
pub(crate) fn claim_free(
    slots: &[ConsumerSlot],
    name: &str,
    policy: ConsumerPolicy,
    cursor: u64,
) -> Option<usize> {
    let index = slots.iter().position(|s| s.state.load(Acquire) == slot_state::FREE)?;
    let slot = &slots[index];
    slot.state.store(slot_state::CLAIMING, Relaxed);
    for (word, value) in slot.name.iter().zip(encode_name(name)) {
        word.store(value, Relaxed);
    }
    slot.name_len.store(name.len() as u32, Relaxed);
    slot.missed.store(0, Relaxed);
    slot.overruns.store(0, Relaxed);
    slot.cursor.store(cursor, Relaxed);
    slot.gating.store(u32::from(policy == ConsumerPolicy::Gating), Relaxed);
    Some(index)
}

/// Marks a slot as this process's live consumer. Release pairs with the producer's Acquire of `state`, so a
/// producer that sees ACTIVE also sees the cursor stored before.
pub(crate) fn activate(slot: &ConsumerSlot, policy: ConsumerPolicy) {
    slot.gating.store(u32::from(policy == ConsumerPolicy::Gating), Relaxed);
    slot.pid.store(std::process::id(), Relaxed);
    slot.heartbeat_ns.store(monotonic_ns(), Relaxed);
    slot.state.store(slot_state::ACTIVE, Release);
}

pub(crate) fn is_gating_active(slot: &ConsumerSlot) -> bool {
    slot.state.load(Acquire) == slot_state::ACTIVE && slot.gating.load(Relaxed) == 1
}
