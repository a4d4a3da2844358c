//! Candle time follows the data: the newest event time read, advanced by the wall time since it was read.
//! A live feed gets wall time; a catch-up from the journal or a replay of an old day gets its own time, so
//! buckets close as the ticks' time passes, not all at once.

use std::time::Instant;

#[derive(Clone, Copy, Debug, Default)]
pub struct FeedClock {
    newest_event_ns: u64,
    seen_at: Option<Instant>,
}

impl FeedClock {
    pub fn observe(&mut self, ts_event_ns: u64) {
        if ts_event_ns > self.newest_event_ns || self.seen_at.is_none() {
            self.newest_event_ns = self.newest_event_ns.max(ts_event_ns);
        }
        self.seen_at = Some(Instant::now());
    }

    /// Feed time now; `None` before the first tick.
    pub fn now_ns(&self) -> Option<u64> {
        let seen = self.seen_at?;
        let quiet = u64::try_from(seen.elapsed().as_nanos()).unwrap_or(u64::MAX);
        Some(self.newest_event_ns.saturating_add(quiet))
    }

    /// The newest event time read (0 before the first tick).
    pub fn newest_event_ns(&self) -> u64 {
        self.newest_event_ns
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_the_newest_event_time_then_the_wall() {
        let mut c = FeedClock::default();
        assert_eq!(c.now_ns(), None);
        c.observe(1_000);
        c.observe(500);
        let now = c.now_ns().expect("seen");
        assert!((1_000..1_000 + 1_000_000_000).contains(&now), "{now}");
        assert_eq!(c.newest_event_ns(), 1_000);
    }
}
