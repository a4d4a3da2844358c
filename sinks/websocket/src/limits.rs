//! The inbound message rate: a token bucket per client.

use std::time::Instant;

/// What the bucket says about one message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Allow,
    /// Refused; `first` is true for the first refusal after an allowed message (one error per burst).
    Refuse {
        first: bool,
    },
    /// Refused a whole further burst in a row: close the connection.
    Close,
}

/// `rate` messages per second with a burst of `rate`.
#[derive(Debug)]
pub struct RateLimiter {
    rate: f64,
    tokens: f64,
    last: Instant,
    refused_in_row: u32,
}

impl RateLimiter {
    pub fn new(rate: u32, now: Instant) -> Self {
        let rate = f64::from(rate.max(1));
        Self { rate, tokens: rate, last: now, refused_in_row: 0 }
    }

    pub fn check(&mut self, now: Instant) -> Verdict {
        let dt = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + dt * self.rate).min(self.rate);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            self.refused_in_row = 0;
            return Verdict::Allow;
        }
        self.refused_in_row += 1;
        if f64::from(self.refused_in_row) > self.rate {
            Verdict::Close
        } else {
            Verdict::Refuse { first: self.refused_in_row == 1 }
        }
    }
}

/// Snapshot events a client may cost per second. A subscribe is let in while the balance is positive and
/// then pays for its whole snapshot (the balance may go negative), so one large snapshot always works and
/// subscribe/unsubscribe loops get at most `rate` events of snapshot work per second.
#[derive(Debug)]
pub struct SnapshotBudget {
    rate: f64,
    balance: f64,
    last: Instant,
}

impl SnapshotBudget {
    pub fn new(rate: u32, now: Instant) -> Self {
        let rate = f64::from(rate.max(1));
        Self { rate, balance: rate, last: now }
    }

    fn refill(&mut self, now: Instant) {
        let dt = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.balance = (self.balance + dt * self.rate).min(self.rate);
    }

    /// `None` when a snapshot may be built now, else the wait until one may.
    pub fn wait(&mut self, now: Instant) -> Option<std::time::Duration> {
        self.refill(now);
        (self.balance <= 0.0)
            .then(|| std::time::Duration::from_secs_f64((-self.balance + 1.0) / self.rate))
    }

    pub fn charge(&mut self, events: usize, now: Instant) {
        self.refill(now);
        self.balance -= events as f64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn burst_then_refuse_then_close_and_refill() {
        let t0 = Instant::now();
        let mut r = RateLimiter::new(3, t0);
        for _ in 0..3 {
            assert_eq!(r.check(t0), Verdict::Allow);
        }
        assert_eq!(r.check(t0), Verdict::Refuse { first: true });
        assert_eq!(r.check(t0), Verdict::Refuse { first: false });
        assert_eq!(r.check(t0), Verdict::Refuse { first: false });
        assert_eq!(r.check(t0), Verdict::Close);
        let mut r = RateLimiter::new(3, t0);
        for _ in 0..3 {
            r.check(t0);
        }
        assert_eq!(r.check(t0 + Duration::from_millis(400)), Verdict::Allow);
    }

    #[test]
    fn snapshot_budget_lets_one_big_snapshot_in_then_waits_it_off() {
        let t0 = Instant::now();
        let mut b = SnapshotBudget::new(100, t0);
        assert_eq!(b.wait(t0), None);
        b.charge(300, t0);
        let wait = b.wait(t0).expect("in debt");
        assert!(wait > Duration::from_secs(2) && wait < Duration::from_millis(2_100), "{wait:?}");
        assert!(b.wait(t0 + Duration::from_millis(1_500)).is_some());
        assert_eq!(b.wait(t0 + Duration::from_millis(2_100)), None);
    }
}
