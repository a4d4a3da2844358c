//! The wait strategies, as a small state machine a loop steps through.

use crate::config::WaitStrategy;
use std::time::Duration;

/// Yields before a spin-then-yield waiter falls back to short sleeps.
const YIELDS: u32 = 1_000;
/// The sleep of a spin-then-yield waiter that has been idle past its spins and yields.
const IDLE_SLEEP: Duration = Duration::from_micros(50);

/// One waiting episode; create a new one (or `reset`) when progress is made.
#[derive(Debug)]
pub struct Waiter {
    strategy: WaitStrategy,
    spins: u32,
}

impl Waiter {
    pub fn new(strategy: WaitStrategy) -> Self {
        Self { strategy, spins: 0 }
    }

    pub fn reset(&mut self) {
        self.spins = 0;
    }

    /// Waits a little, as the strategy says.
    pub fn step(&mut self) {
        match self.strategy {
            WaitStrategy::BusySpin => std::hint::spin_loop(),
            // A blocking consumer sleeps on the ring's futex in `Consumer::wait`; anywhere else (a bounded
            // wait with nothing to sleep on) it behaves as spin-then-yield.
            WaitStrategy::SpinThenYield { spins } | WaitStrategy::Block { spins } => {
                self.spins = self.spins.saturating_add(1);
                if self.spins <= spins {
                    std::hint::spin_loop();
                } else if self.spins <= spins.saturating_add(YIELDS) {
                    std::thread::yield_now();
                } else {
                    // Idle for a while: stop burning the core (yield returns at once when nothing else
                    // wants it), so idle consumers on a shared machine cost nothing.
                    std::thread::sleep(IDLE_SLEEP);
                }
            }
            WaitStrategy::Sleep { micros } => std::thread::sleep(Duration::from_micros(micros)),
        }
    }
}
