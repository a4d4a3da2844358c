//! Replay pacing: reproduce the recorded gaps between trades, sped up by a factor.

use std::time::{Duration, Instant};

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

/// Maps event time to wall time: the first trade anchors both clocks.
#[derive(Debug)]
pub struct Pacer {
    factor: f64,
    anchor: Option<(u64, Instant)>,
}

impl Pacer {
    pub fn new(speed: Speed) -> Option<Self> {
        match speed {
            Speed::Max => None,
            Speed::Factor(factor) => Some(Self { factor, anchor: None }),
        }
    }

    fn due(&mut self, event_ns: u64) -> Instant {
        let (first, start) = *self.anchor.get_or_insert((event_ns, Instant::now()));
        let offset = event_ns.saturating_sub(first) as f64 / self.factor;
        start + Duration::from_nanos(offset as u64)
    }

    /// Whether the trade at `event_ns` is not due yet.
    pub fn must_wait(&mut self, event_ns: u64) -> bool {
        self.due(event_ns) > Instant::now()
    }

    pub fn wait(&mut self, event_ns: u64) {
        let due = self.due(event_ns);
        let now = Instant::now();
        if due > now {
            std::thread::sleep(due - now);
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
}
