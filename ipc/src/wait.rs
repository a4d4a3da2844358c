//! The wait strategies, as a small state machine a loop steps through.

use crate::config::WaitStrategy;
use std::time::Duration;

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
            WaitStrategy::SpinThenYield { spins } => {
                if self.spins < spins {
                    self.spins += 1;
                    std::hint::spin_loop();
                } else {
                    std::thread::yield_now();
                }
            }
            WaitStrategy::Sleep { micros } => std::thread::sleep(Duration::from_micros(micros)),
        }
    }
}
