//! Exchange-local wall-clock times as written in calendar files, and their conversion to UTC.

use chrono::{Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone};
use chrono_tz::Tz;
use std::fmt;

/// How many days before its trading day a window may start (CME evening sessions open the evening before, or up to 4 days before after a Friday holiday).
pub const MAX_LOOKBACK_DAYS: i8 = 4;

/// A wall-clock time on a trading day `D`, optionally on an earlier calendar date (`"-1d 17:00"` is 17:00 on
/// `D - 1`). Ordered by (day offset, time).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct WallTime {
    /// 0 for the trading day itself, -1 for the evening before, down to `-MAX_LOOKBACK_DAYS`.
    pub day_offset: i8,
    pub time: NaiveTime,
}

impl WallTime {
    /// The local date-time this wall time names for trading day `day`.
    pub fn on(self, day: NaiveDate) -> NaiveDateTime {
        (day + Duration::days(i64::from(self.day_offset))).and_time(self.time)
    }
}

impl TryFrom<String> for WallTime {
    type Error = String;

    /// Accepts `HH:MM`, `HH:MM:SS`, each optionally prefixed by `-Nd ` with N in 1..=MAX_LOOKBACK_DAYS.
    fn try_from(text: String) -> Result<Self, Self::Error> {
        let trimmed = text.trim();
        let (day_offset, clock) = match trimmed.split_once(' ') {
            Some((prefix, rest)) => {
                let days = prefix
                    .strip_prefix('-')
                    .and_then(|p| p.strip_suffix('d'))
                    .and_then(|n| n.parse::<i8>().ok())
                    .filter(|n| (1..=MAX_LOOKBACK_DAYS).contains(n))
                    .ok_or_else(|| {
                        format!("bad day prefix {prefix:?} in {text:?}: expected -1d .. -{MAX_LOOKBACK_DAYS}d")
                    })?;
                (-days, rest.trim())
            }
            None => (0, trimmed),
        };
        let time = NaiveTime::parse_from_str(clock, "%H:%M:%S")
            .or_else(|_| NaiveTime::parse_from_str(clock, "%H:%M"))
            .map_err(|_| {
                format!("bad time {text:?}: expected HH:MM or HH:MM:SS, optionally after -1d")
            })?;
        Ok(Self { day_offset, time })
    }
}

impl fmt::Display for WallTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.day_offset != 0 {
            write!(f, "{}d ", self.day_offset)?;
        }
        write!(f, "{}", self.time.format("%H:%M:%S"))
    }
}

/// Nanoseconds since the Unix epoch of a local wall time in `tz`.
///
/// DST is resolved like RFC 9557 / Temporal's "compatible" rule, chosen so the result never fails:
/// a time repeated by the autumn overlap maps to its *first* occurrence; a time skipped by the spring gap
/// maps as if the pre-transition offset still applied (02:30 in a 02:00->03:00 gap lands at 03:30 new time).
/// Calendar validation warns when a session boundary lands in either.
pub fn local_to_utc_ns(tz: Tz, local: NaiveDateTime) -> i64 {
    let utc = match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => t.naive_utc(),
        LocalResult::Ambiguous(first, _) => first.naive_utc(),
        LocalResult::None => {
            // No gap anywhere is longer than a few hours: step back until a wall time exists.
            let before = (1..=6)
                .find_map(|h| tz.from_local_datetime(&(local - Duration::hours(h))).earliest());
            match before {
                Some(t) => {
                    local
                        - Duration::seconds(i64::from(
                            chrono::Offset::fix(t.offset()).local_minus_utc(),
                        ))
                }
                None => local,
            }
        }
    };
    utc_naive_to_ns(utc)
}

/// Whether `local` falls in a DST gap or overlap of `tz` (used to warn about badly placed boundaries).
pub fn is_ambiguous_or_skipped(tz: Tz, local: NaiveDateTime) -> bool {
    !matches!(tz.from_local_datetime(&local), LocalResult::Single(_))
}

/// Saturates outside the i64 nanosecond range (years before 1677 or after 2262); calendar dates are
/// validated to lie well inside it.
pub fn utc_naive_to_ns(utc: NaiveDateTime) -> i64 {
    utc.and_utc().timestamp_nanos_opt().unwrap_or(if utc.and_utc().timestamp() < 0 {
        i64::MIN
    } else {
        i64::MAX
    })
}

/// Local calendar date of an instant in `tz`.
pub fn local_date(tz: Tz, ts_ns: i64) -> NaiveDate {
    tz.timestamp_nanos(ts_ns).date_naive()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wt(s: &str) -> WallTime {
        WallTime::try_from(s.to_owned()).expect("valid wall time")
    }

    fn ndt(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").expect("valid datetime")
    }

    fn iso(ns: i64) -> String {
        chrono::DateTime::from_timestamp_nanos(ns).format("%Y-%m-%dT%H:%M").to_string()
    }

    #[test]
    fn parses_times_and_day_prefixes() {
        assert_eq!(
            wt("09:30"),
            WallTime { day_offset: 0, time: NaiveTime::from_hms_opt(9, 30, 0).expect("t") }
        );
        assert_eq!(wt("-1d 17:00").day_offset, -1);
        assert_eq!(wt("-2d 17:00:30").time, NaiveTime::from_hms_opt(17, 0, 30).expect("t"));
        assert!(wt("-1d 17:00") < wt("00:00"));
        for bad in ["9h30", "25:00", "-5d 17:00", "+1d 10:00", "-1x 10:00", ""] {
            assert!(WallTime::try_from(bad.to_owned()).is_err(), "{bad}");
        }
    }

    #[test]
    fn displays_round_trip() {
        for s in ["-1d 17:00:00", "09:30:00"] {
            assert_eq!(wt(s).to_string(), s);
        }
    }

    #[test]
    fn spring_gap_keeps_the_old_offset() {
        let ny: Tz = "America/New_York".parse().expect("tz");
        // 02:30 does not exist on 2024-03-10; with EST (-5) it is 07:30Z = 03:30 EDT.
        assert_eq!(iso(local_to_utc_ns(ny, ndt("2024-03-10 02:30"))), "2024-03-10T07:30");
        assert!(is_ambiguous_or_skipped(ny, ndt("2024-03-10 02:30")));
        assert_eq!(iso(local_to_utc_ns(ny, ndt("2024-03-10 03:00"))), "2024-03-10T07:00");
    }

    #[test]
    fn autumn_overlap_takes_the_first_occurrence() {
        let ny: Tz = "America/New_York".parse().expect("tz");
        // 01:30 happens twice on 2024-11-03: first at EDT (05:30Z), then at EST (06:30Z).
        assert_eq!(iso(local_to_utc_ns(ny, ndt("2024-11-03 01:30"))), "2024-11-03T05:30");
        assert!(is_ambiguous_or_skipped(ny, ndt("2024-11-03 01:30")));
        assert!(!is_ambiguous_or_skipped(ny, ndt("2024-11-03 09:30")));
    }

    #[test]
    fn sydney_switches_the_other_way() {
        let syd: Tz = "Australia/Sydney".parse().expect("tz");
        // 2024-10-06 02:00 AEST -> 03:00 AEDT; 10:00 local is then UTC+11.
        assert_eq!(iso(local_to_utc_ns(syd, ndt("2024-10-06 10:00"))), "2024-10-05T23:00");
        assert_eq!(iso(local_to_utc_ns(syd, ndt("2024-10-04 10:00"))), "2024-10-04T00:00");
    }
}
