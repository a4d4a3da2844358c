//! From-scratch classification: the reference answer, computed from the rules every time.

use super::rules::Calendar;
use super::wall::local_date;
use crate::tick::{Session, Tick};
use chrono::{Duration, NaiveDate};

/// Whether the calendar could answer for an instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Coverage {
    Covered,
    /// The instant lies outside the days the calendar file vouches for: the session is
    /// [`Session::Unknown`], the trading day the local date (unverified), and it is worth counting (the
    /// calendar needs extending).
    Outside,
}

/// The session an instant falls in, by its exchange's calendar.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Classified {
    pub session: Session,
    /// The trading day (local date; for CME the day the session ends) when the instant lies between the
    /// start of that day's first window and the end of its last, gaps and breaks included. Outside the
    /// coverage: the exchange's local date, a guess ([`Coverage::Outside`] says so).
    pub trading_day: Option<NaiveDate>,
    pub coverage: Coverage,
}

impl Classified {
    pub const CLOSED: Self =
        Self { session: Session::Closed, trading_day: None, coverage: Coverage::Covered };

    /// Outside the coverage: the session is unknown and the local date stands in for the trading day.
    pub fn outside(local_date: NaiveDate) -> Self {
        Self {
            session: Session::Unknown,
            trading_day: Some(local_date),
            coverage: Coverage::Outside,
        }
    }

    /// The trading day as [`Tick::trading_day`] stores it: days since 1970-01-01, 0 for none.
    pub fn tick_trading_day(&self) -> u32 {
        self.trading_day
            .map(|d| (d - NaiveDate::default()).num_days())
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(Tick::NO_TRADING_DAY)
    }
}

impl Calendar {
    /// Classifies `ts_ns` (nanoseconds since the Unix epoch, UTC) from the rules alone, without caching.
    ///
    /// A trading day D's windows lie on local dates D - lookback ..= D, so only those trading days can
    /// contain an instant whose local date is L: D in L ..= L + lookback.
    pub fn classify(&self, ts_ns: i64) -> Classified {
        let local = local_date(self.tz, ts_ns);
        if !self.covered_ns.contains(&ts_ns) {
            return Classified::outside(local);
        }
        for ahead in 0..=self.lookback_days {
            let day = local + Duration::days(ahead);
            if let Some(s) = self.schedule(day) {
                if s.start_ns() <= ts_ns && ts_ns < s.end_ns() {
                    return Classified {
                        session: s.session_at(ts_ns),
                        trading_day: Some(day),
                        coverage: Coverage::Covered,
                    };
                }
            }
        }
        Classified::CLOSED
    }
}
