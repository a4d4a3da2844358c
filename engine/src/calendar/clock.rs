//! The hot path: a per-exchange classifier that caches the span the last instant fell in.

use super::classify::{Classified, Coverage};
use super::rules::Calendar;
use super::schedule::DaySchedule;
use super::wall::{local_date, local_to_utc_ns};
use chrono::{Duration, NaiveDate, NaiveTime};
use std::sync::Arc;

/// How far (days) to look for the neighbouring trading days of a closed stretch before caching a smaller span.
const SCAN_DAYS: i64 = 40;

/// A stretch of time with one shape: a whole trading day, the closed time between two trading days, or one
/// local date outside the coverage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Span {
    Day(DaySchedule),
    Closed,
    Outside { local_date: NaiveDate },
}

/// Classifies a stream of instants for one exchange.
///
/// Holds the current span (a trading day's windows as UTC ns, or the closed stretch between two trading days)
/// so that while instants stay inside it a classification is a range check and a scan of at most
/// [`super::MAX_WINDOWS`] boundaries; leaving it recomputes from the rules. Agrees with
/// [`Calendar::classify`] everywhere (property-tested).
#[derive(Clone, Debug)]
pub struct SessionClock {
    calendar: Arc<Calendar>,
    lo_ns: i64,
    hi_ns: i64,
    span: Span,
    recomputes: u64,
}

impl SessionClock {
    pub fn new(calendar: Arc<Calendar>) -> Self {
        // Empty range: the first call fills it.
        Self { calendar, lo_ns: 0, hi_ns: 0, span: Span::Closed, recomputes: 0 }
    }

    pub fn calendar(&self) -> &Calendar {
        &self.calendar
    }

    /// How many times the cached span had to be recomputed (a cheap health metric).
    pub fn recomputes(&self) -> u64 {
        self.recomputes
    }

    #[inline]
    pub fn classify(&mut self, ts_ns: i64) -> Classified {
        if ts_ns < self.lo_ns || ts_ns >= self.hi_ns {
            self.refill(ts_ns);
        }
        match &self.span {
            Span::Day(s) => Classified {
                session: s.session_at(ts_ns),
                trading_day: Some(s.day),
                coverage: Coverage::Covered,
            },
            Span::Closed => Classified::CLOSED,
            Span::Outside { local_date } => Classified::outside(*local_date),
        }
    }

    #[cold]
    fn refill(&mut self, ts_ns: i64) {
        self.recomputes += 1;
        let (lo, hi, span) = span_at(&self.calendar, ts_ns);
        self.lo_ns = lo;
        self.hi_ns = hi;
        self.span = span;
    }
}

fn midnight_ns(cal: &Calendar, day: NaiveDate) -> i64 {
    local_to_utc_ns(cal.tz, day.and_time(NaiveTime::MIN))
}

/// The span containing `ts_ns`, as `[lo, hi)`.
fn span_at(cal: &Calendar, ts_ns: i64) -> (i64, i64, Span) {
    let covered = cal.covered_ns();
    let local = local_date(cal.tz, ts_ns);
    if !covered.contains(&ts_ns) {
        // One local date at a time, so the stand-in trading day stays right within the span.
        let (day_lo, day_hi) =
            (midnight_ns(cal, local), midnight_ns(cal, local + Duration::days(1)));
        let (lo, hi) = if ts_ns < covered.start {
            (day_lo, day_hi.min(covered.start))
        } else {
            (day_lo.max(covered.end), day_hi)
        };
        return (lo, hi, Span::Outside { local_date: local });
    }
    let lookback = cal.lookback_days;

    // Last trading day over by ts: walk back from the latest day that could contain ts.
    let newest = local + Duration::days(lookback);
    let mut lo = None;
    for back in 0..SCAN_DAYS {
        let day = newest - Duration::days(back);
        if let Some(s) = cal.schedule(day) {
            if s.start_ns() <= ts_ns && ts_ns < s.end_ns() {
                return (s.start_ns(), s.end_ns(), Span::Day(s));
            }
            if s.end_ns() <= ts_ns {
                lo = Some(s.end_ns());
                break;
            }
        }
    }
    // Nothing found: days before the scanned ones end by the first scanned date's midnight.
    let lo = lo.unwrap_or_else(|| midnight_ns(cal, newest - Duration::days(SCAN_DAYS - 1)));

    // First trading day starting after ts; days beyond the scan start no earlier than their lookback allows.
    let mut hi = None;
    for ahead in 0..SCAN_DAYS {
        let day = local + Duration::days(ahead);
        if let Some(s) = cal.schedule(day) {
            if s.start_ns() > ts_ns {
                hi = Some(s.start_ns());
                break;
            }
        }
    }
    let hi = hi.unwrap_or_else(|| midnight_ns(cal, local + Duration::days(SCAN_DAYS - lookback)));
    (lo.max(covered.start), hi.min(covered.end), Span::Closed)
}

#[cfg(test)]
mod tests {
    use super::super::tests::ns;
    use super::super::Calendars;
    use crate::tick::{Exchange, Session};
    use std::time::Instant;

    #[test]
    fn cache_is_reused_within_a_day_and_refilled_across_days() {
        let cals = Calendars::builtin().unwrap_or_else(|e| panic!("{e}"));
        let mut clock = cals.clock(Exchange::Xnys).unwrap_or_else(|| panic!("XNYS"));
        let open = ns("2024-03-11T13:30:00Z");
        for i in 0..1000 {
            assert_eq!(clock.classify(open + i * 1_000_000_000).session, Session::Regular);
        }
        assert_eq!(clock.recomputes(), 1);
        assert_eq!(clock.classify(ns("2024-03-11T08:00:00Z")).session, Session::Pre); // same day, no refill
        assert_eq!(clock.recomputes(), 1);
        assert_eq!(clock.classify(ns("2024-03-12T02:00:00Z")).session, Session::Closed); // overnight gap
        assert_eq!(clock.classify(ns("2024-03-12T07:00:00Z")).session, Session::Closed); // same gap
        assert_eq!(clock.recomputes(), 2);
        assert_eq!(clock.classify(ns("2024-03-12T13:30:00Z")).session, Session::Regular);
        assert_eq!(clock.recomputes(), 3);
    }

    /// Not a timed assertion: prints the cached and from-scratch cost per tick (run with --nocapture, and
    /// --release for meaningful numbers).
    #[test]
    fn measure_cost_per_tick() {
        let cals = Calendars::builtin().unwrap_or_else(|e| panic!("{e}"));
        let start = ns("2024-03-11T13:30:00Z");
        let n: i64 = 2_000_000;
        let step = 23_400_000_000_000 / n; // spread over the 6.5 h regular session
        let mut clock = cals.clock(Exchange::Xnys).unwrap_or_else(|| panic!("XNYS"));
        let mut regular = 0u64;
        let t0 = Instant::now();
        for i in 0..n {
            regular += u64::from(
                clock.classify(std::hint::black_box(start + i * step)).session == Session::Regular,
            );
        }
        let cached = t0.elapsed().as_nanos() as f64 / n as f64;
        let m: i64 = 20_000;
        let t1 = Instant::now();
        for i in 0..m {
            let c = cals.classify(Exchange::Xnys, std::hint::black_box(start + i * step * (n / m)));
            regular += u64::from(c.is_some_and(|c| c.session == Session::Regular));
        }
        let scratch = t1.elapsed().as_nanos() as f64 / m as f64;
        assert_eq!(regular, (n + m) as u64);
        eprintln!("SessionClock::classify cached: {cached:.1} ns/tick; Calendars::classify from scratch: {scratch:.1} ns/tick");
    }
}
