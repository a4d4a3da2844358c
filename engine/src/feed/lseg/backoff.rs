//! Reconnect delays: exponential from a minimum, capped, with jitter so that many clients restarted by
//! one outage do not reconnect in lockstep.

use crate::feed::rng::SplitMix64;
use std::time::Duration;

#[derive(Debug)]
pub(crate) struct Backoff {
    min_ms: u64,
    max_ms: u64,
    attempt: u32,
    rng: SplitMix64,
}

impl Backoff {
    pub fn new(min_ms: u64, max_ms: u64, seed: u64) -> Self {
        Self {
            min_ms: min_ms.max(1),
            max_ms: max_ms.max(min_ms.max(1)),
            attempt: 0,
            rng: SplitMix64::new(seed),
        }
    }

    /// The next delay: a uniform pick in `[d/2, d]` where `d = min(max, min * 2^attempt)`.
    pub fn next_delay(&mut self) -> Duration {
        let ceiling = self.min_ms.saturating_mul(1u64 << self.attempt.min(32)).min(self.max_ms);
        self.attempt = self.attempt.saturating_add(1);
        Duration::from_millis(self.rng.range(ceiling / 2, ceiling).max(1))
    }

    /// A connection worked: the next failure starts from the minimum again.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_the_cap_with_jitter_and_resets() {
        let mut b = Backoff::new(100, 1000, 3);
        let ms: Vec<u64> = (0..8).map(|_| b.next_delay().as_millis() as u64).collect();
        for (i, &d) in ms.iter().enumerate() {
            let ceiling = (100u64 << i).min(1000);
            assert!((ceiling / 2..=ceiling).contains(&d), "attempt {i}: {d} ms");
        }
        b.reset();
        assert!(b.next_delay() <= Duration::from_millis(100));
    }
}
