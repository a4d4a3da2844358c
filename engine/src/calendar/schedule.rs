//! One trading day's windows as UTC nanosecond intervals: what classification compares against.

use super::rules::Calendar;
use super::wall::local_to_utc_ns;
use crate::tick::Session;
use chrono::NaiveDate;

/// Most windows one trading day may have (checked on load); keeps [`DaySchedule`] inline and `Copy`.
pub const MAX_WINDOWS: usize = 8;

/// A half-open interval `[start_ns, end_ns)` in one session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UtcWindow {
    pub start_ns: i64,
    pub end_ns: i64,
    pub session: Session,
}

impl UtcWindow {
    const EMPTY: Self = Self { start_ns: 0, end_ns: 0, session: Session::Closed };
}

/// The windows of one trading day, sorted and non-overlapping; gaps between them are closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DaySchedule {
    pub day: NaiveDate,
    len: u8,
    windows: [UtcWindow; MAX_WINDOWS],
}

impl DaySchedule {
    /// `windows` beyond [`MAX_WINDOWS`] are dropped; loading refuses such days first.
    pub fn new(day: NaiveDate, windows: impl IntoIterator<Item = UtcWindow>) -> Self {
        let mut out = Self { day, len: 0, windows: [UtcWindow::EMPTY; MAX_WINDOWS] };
        for (slot, w) in out.windows.iter_mut().zip(windows) {
            *slot = w;
            out.len += 1;
        }
        out
    }

    pub fn windows(&self) -> &[UtcWindow] {
        &self.windows[..usize::from(self.len)]
    }

    /// Start of the first window (the trading day begins).
    pub fn start_ns(&self) -> i64 {
        self.windows().first().map_or(0, |w| w.start_ns)
    }

    /// End of the last window (the trading day is over).
    pub fn end_ns(&self) -> i64 {
        self.windows().last().map_or(0, |w| w.end_ns)
    }

    /// Session at `ts_ns`, assuming it lies inside `[start_ns, end_ns)`: a window's session, or closed in a gap.
    #[inline]
    pub fn session_at(&self, ts_ns: i64) -> Session {
        for w in self.windows() {
            if ts_ns < w.end_ns {
                return if ts_ns >= w.start_ns { w.session } else { Session::Closed };
            }
        }
        Session::Closed
    }
}

impl Calendar {
    /// The UTC schedule of trading day `day`, or `None` when the exchange does not trade that day.
    pub fn schedule(&self, day: NaiveDate) -> Option<DaySchedule> {
        let windows = self.local_windows(day)?;
        let tz = self.tz;
        Some(DaySchedule::new(
            day,
            windows.iter().map(|w| UtcWindow {
                start_ns: local_to_utc_ns(tz, w.start.on(day)),
                end_ns: local_to_utc_ns(tz, w.end.on(day)),
                session: w.session,
            }),
        ))
    }
}
