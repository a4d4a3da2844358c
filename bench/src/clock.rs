//! The one clock every peer stamps and reads: `CLOCK_MONOTONIC` in nanoseconds.
//!
//! `CLOCK_MONOTONIC` is system-wide on Linux, so a stamp taken in one process can be subtracted from a reading
//! taken in another. The read goes through the vDSO (tens of nanoseconds); that cost is part of every hop
//! measured here and is reported beside the results (see [`read_cost_ns`]).

use rustix::time::{clock_gettime, ClockId};

/// Nanoseconds on `CLOCK_MONOTONIC`.
#[inline]
pub fn now_ns() -> u64 {
    let ts = clock_gettime(ClockId::Monotonic);
    // Monotonic time is never negative and fits u64 nanoseconds for ~584 years of uptime.
    (ts.tv_sec as u64).wrapping_mul(1_000_000_000).wrapping_add(ts.tv_nsec as u64)
}

/// Busy-waits until `now_ns() >= deadline_ns`. Used to pace messages without giving up the core.
#[inline]
pub fn spin_until(deadline_ns: u64) {
    while now_ns() < deadline_ns {
        std::hint::spin_loop();
    }
}

/// Median cost of one [`now_ns`] call, from `samples` back-to-back pairs.
///
/// The one-way hop latency contains one clock read on each side; this tells the reader how much of a
/// p50 is the clock itself.
pub fn read_cost_ns(samples: usize) -> u64 {
    let samples = samples.max(1);
    let mut deltas: Vec<u64> = (0..samples)
        .map(|_| {
            let a = now_ns();
            let b = now_ns();
            b.saturating_sub(a)
        })
        .collect();
    deltas.sort_unstable();
    deltas[deltas.len() / 2]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn monotonic_and_spins_past_deadline() {
        let a = now_ns();
        spin_until(a + 10_000);
        let b = now_ns();
        assert!(b >= a + 10_000);
        assert!(read_cost_ns(100) < 1_000_000);
    }
}
