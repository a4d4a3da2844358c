//! Replay pacing: reproduce the recorded gaps between trades, sped up by a factor.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Longest wait between two trades when none is configured (`ingest.replay_max_gap_ms`).
pub const DEFAULT_MAX_GAP: Duration = Duration::from_secs(60);
/// A stop request is seen within this while pacing.
const STOP_CHECK: Duration = Duration::from_millis(50);

/// `--speed`: `1x`, `10x`, `2.5x`, or `max` (no pacing).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Speed {
    Factor(f64),
    Max,
}

impl std::str::FromStr for Speed {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.eq_ignore_ascii_case("max") {
            return Ok(Self::Max);
        }
        let n = s.strip_suffix(['x', 'X']).unwrap_or(s);
        match n.parse::<f64>() {
            Ok(f) if f.is_finite() && f > 0.0 => Ok(Self::Factor(f)),
            _ => Err(format!("speed {s:?}: use 1x, 10x, 0.5x or max")),
        }
    }
}

/// Maps event time to wall time: the first trade anchors both clocks; a gap longer than `max_gap` (in wall
/// time) re-anchors at the trade after it, so a file spanning years (or holding one far-off stamp) never
/// sleeps for them.
#[derive(Debug)]
pub struct Pacer {
    factor: f64,
    max_gap: Duration,
    anchor: Option<(u64, Instant)>,
}

impl Pacer {
    pub fn new(speed: Speed) -> Option<Self> {
        match speed {
            Speed::Max => None,
            Speed::Factor(factor) => Some(Self { factor, max_gap: DEFAULT_MAX_GAP, anchor: None }),
        }
    }

    /// Caps every wait at `max_gap` (itself at most a day, so the deadline arithmetic cannot overflow).
    pub fn with_max_gap(self, max_gap: Duration) -> Self {
        Self { max_gap: max_gap.min(Duration::from_secs(86_400)), ..self }
    }

    fn due(&mut self, event_ns: u64) -> Instant {
        let now = Instant::now();
        let (first, start) = *self.anchor.get_or_insert((event_ns, now));
        // A tiny speed factor can make the offset too big for a Duration: then it is past the cap anyway.
        let secs = event_ns.saturating_sub(first) as f64 / 1e9 / self.factor;
        let offset = Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX);
        let limit = now + self.max_gap;
        match start.checked_add(offset) {
            Some(due) if due <= limit => due,
            _ => {
                self.anchor = Some((event_ns, limit));
                limit
            }
        }
    }

    /// Whether the trade at `event_ns` is not due yet.
    pub fn must_wait(&mut self, event_ns: u64) -> bool {
        self.due(event_ns) > Instant::now()
    }

    pub fn wait(&mut self, event_ns: u64) {
        self.wait_unless(event_ns, &AtomicBool::new(false));
    }

    /// Waits until the trade at `event_ns` is due, or `stop` is raised (checked every 50 ms).
    pub fn wait_unless(&mut self, event_ns: u64, stop: &AtomicBool) {
        let due = self.due(event_ns);
        loop {
            let now = Instant::now();
            if due <= now || stop.load(Ordering::Relaxed) {
                return;
            }
            std::thread::sleep((due - now).min(STOP_CHECK));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speeds_parse() {
        assert_eq!("max".parse::<Speed>(), Ok(Speed::Max));
        assert_eq!("10x".parse::<Speed>(), Ok(Speed::Factor(10.0)));
        assert_eq!("1".parse::<Speed>(), Ok(Speed::Factor(1.0)));
        assert!("0x".parse::<Speed>().is_err());
        assert!("fast".parse::<Speed>().is_err());
    }

    #[test]
    fn pacer_spreads_events_by_their_gaps() {
        let mut p = Pacer::new(Speed::Factor(100.0)).expect("paced");
        let start = Instant::now();
        p.wait(0);
        p.wait(1_000_000_000); // one second of feed time at 100x = 10 ms
        assert!(start.elapsed() >= Duration::from_millis(10));
        assert!(Pacer::new(Speed::Max).is_none());
    }

    #[test]
    fn gaps_are_capped_so_a_year_apart_is_not_a_year() {
        let mut p =
            Pacer::new(Speed::Factor(1.0)).expect("paced").with_max_gap(Duration::from_millis(20));
        let start = Instant::now();
        p.wait(0);
        p.wait(365 * 86_400 * 1_000_000_000); // a year later: waits the cap
        p.wait(365 * 86_400 * 1_000_000_000 + 10_000_000); // then the real 10 ms gap
        p.wait(u64::MAX);
        let mut slow = Pacer::new(Speed::Factor(1e-300)).expect("paced");
        slow.max_gap = Duration::from_millis(1);
        slow.wait(0);
        slow.wait(1);
        let took = start.elapsed();
        assert!(took >= Duration::from_millis(50) && took < Duration::from_secs(2), "{took:?}");
    }

    #[test]
    fn a_stop_request_ends_the_wait() {
        let mut p = Pacer::new(Speed::Factor(1.0)).expect("paced");
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let raise = std::sync::Arc::clone(&stop);
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            raise.store(true, Ordering::Relaxed);
        });
        let start = Instant::now();
        p.wait_unless(0, &stop);
        p.wait_unless(30_000_000_000, &stop); // 30 s of feed time at 1x
        assert!(start.elapsed() < Duration::from_secs(2), "{:?}", start.elapsed());
        t.join().expect("joined");
    }
}
