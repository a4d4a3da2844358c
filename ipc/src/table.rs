//! The consumer table: finding, claiming and releasing slots under a small cross-process lock.

use crate::clock::monotonic_ns;
use crate::config::ConsumerPolicy;
use crate::layout::{decode_name, encode_name, slot_state, ConsumerSlot, Control};
use crate::liveness::{running_start, Identity};
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use std::time::{Duration, Instant};

/// A holder this module cannot look up (another pid namespace) loses the lock after holding it this long:
/// the critical sections take microseconds.
const UNKNOWN_HOLDER_LIMIT: Duration = Duration::from_secs(2);

/// Held while a process edits the table; a holder that died (or became a zombie) is detected by its pid
/// and start time and its lock broken.
pub(crate) struct TableLock<'a> {
    control: &'a Control,
    token: u64,
}

fn lock_token(id: Identity) -> u64 {
    (u64::from(id.pid) << 32) | (id.start & 0xffff_ffff)
}

/// Whether the lock `holder` may be taken over. A holder seen running here keeps it; one that is not (dead,
/// a zombie, its pid reused, or in another pid namespace, which a token cannot tell apart) loses it once it
/// has held it for [`UNKNOWN_HOLDER_LIMIT`]. `since` tracks that.
fn holder_gone(holder: u64, since: &mut Option<(u64, Instant)>) -> bool {
    let pid = (holder >> 32) as u32;
    if running_start(pid).is_some_and(|start| start & 0xffff_ffff == holder & 0xffff_ffff) {
        *since = None;
        return false;
    }
    match since {
        Some((h, t)) if *h == holder => t.elapsed() >= UNKNOWN_HOLDER_LIMIT,
        _ => {
            *since = Some((holder, Instant::now()));
            false
        }
    }
}

impl<'a> TableLock<'a> {
    pub fn acquire(control: &'a Control) -> Self {
        let token = lock_token(Identity::current());
        let mut spins = 0u32;
        let mut since = None;
        loop {
            let holder = control.table_lock.load(Relaxed);
            if holder == 0 || holder_gone(holder, &mut since) {
                // Acquire pairs with the Release in `drop`: the previous holder's table edits are visible.
                if control.table_lock.compare_exchange(holder, token, Acquire, Relaxed).is_ok() {
                    return Self { control, token };
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
        let _ = self.control.table_lock.compare_exchange(self.token, 0, Release, Relaxed);
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

/// The process that last activated `slot`.
pub(crate) fn slot_owner(slot: &ConsumerSlot) -> Identity {
    Identity {
        pid: slot.pid.load(Relaxed),
        start: slot.start_time.load(Relaxed),
        pid_ns: slot.pid_ns.load(Relaxed),
    }
}

/// Whether the process of an ACTIVE slot still runs (by heartbeat when it cannot be seen from here).
pub(crate) fn owner_alive(slot: &ConsumerSlot, timeout_ns: u64) -> bool {
    let age = monotonic_ns().saturating_sub(slot.heartbeat_ns.load(Relaxed));
    slot_owner(slot).alive_or_recent(age, timeout_ns)
}

/// A slot another name may take when none is FREE: detached, or left by a process that is gone.
fn reusable(slot: &ConsumerSlot, timeout_ns: u64) -> bool {
    match slot.state.load(Acquire) {
        slot_state::DETACHED => true,
        slot_state::EVICTED | slot_state::ACTIVE => !owner_alive(slot, timeout_ns),
        _ => false,
    }
}

/// Fills a slot with a registration (state stays CLAIMING until the caller activates it): a FREE one, else
/// the reusable one heard from least recently (its saved cursor is forgotten).
pub(crate) fn claim_free(
    slots: &[ConsumerSlot],
    name: &str,
    policy: ConsumerPolicy,
    cursor: u64,
    timeout_ns: u64,
) -> Option<usize> {
    let index = slots.iter().position(|s| s.state.load(Acquire) == slot_state::FREE).or_else(|| {
        let i = (0..slots.len())
            .filter(|&i| reusable(&slots[i], timeout_ns))
            .min_by_key(|&i| slots[i].heartbeat_ns.load(Relaxed))?;
        tracing::info!(consumer = %name, replaces = %slot_name(&slots[i]), "consumer table full: reusing the slot of a consumer that is gone");
        Some(i)
    })?;
    let slot = &slots[index];
    slot.state.store(slot_state::CLAIMING, Relaxed);
    for (word, value) in slot.name.iter().zip(encode_name(name)) {
        word.store(value, Relaxed);
    }
    slot.name_len.store(name.len() as u32, Relaxed);
    slot.missed.store(0, Relaxed);
    slot.overruns.store(0, Relaxed);
    slot.reading_journal.store(0, Relaxed);
    slot.cursor.store(cursor, Relaxed);
    slot.gating.store(u32::from(policy == ConsumerPolicy::Gating), Relaxed);
    Some(index)
}

/// Marks a slot as this process's live consumer. Release pairs with the producer's Acquire of `state`, so a
/// producer that sees ACTIVE also sees the cursor stored before.
pub(crate) fn activate(slot: &ConsumerSlot, policy: ConsumerPolicy) {
    slot.gating.store(u32::from(policy == ConsumerPolicy::Gating), Relaxed);
    let me = Identity::current();
    slot.pid.store(me.pid, Relaxed);
    slot.start_time.store(me.start, Relaxed);
    slot.pid_ns.store(me.pid_ns, Relaxed);
    slot.heartbeat_ns.store(monotonic_ns(), Relaxed);
    slot.state.store(slot_state::ACTIVE, Release);
}

pub(crate) fn is_gating_active(slot: &ConsumerSlot) -> bool {
    slot.state.load(Acquire) == slot_state::ACTIVE && slot.gating.load(Relaxed) == 1
}
