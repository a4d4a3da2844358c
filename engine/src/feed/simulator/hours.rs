//! When an exchange trades: the first instant at or after a time inside a pre, regular or post window.

use crate::calendar::{Calendar, SessionClock};
use crate::tick::Session;
use chrono::{DateTime, Days};

/// Sessions in which the simulator makes trades (not breaks, not closed).
pub(super) fn trades_in(session: Session) -> bool {
    matches!(session, Session::Pre | Session::Regular | Session::Post)
}

/// The first instant `>= t` at which `calendar` is in a trading session, looking up to ten days ahead.
pub(super) fn next_open(calendar: &Calendar, clock: &mut SessionClock, t: i64) -> Option<i64> {
    if trades_in(clock.classify(t).session) {
        return Some(t);
    }
    let day = DateTime::from_timestamp_nanos(t).date_naive().checked_sub_days(Days::new(1))?;
    (0..11u64).filter_map(|k| day.checked_add_days(Days::new(k))).find_map(|d| {
        let schedule = calendar.schedule(d)?;
        schedule
            .windows()
            .iter()
            .find(|w| w.end_ns > t && trades_in(w.session))
            .map(|w| w.start_ns.max(t))
    })
}
