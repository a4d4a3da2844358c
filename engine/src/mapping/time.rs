//! Trade times: UTC time-of-day texts and the choice of the UTC date they belong to.

use serde::Deserialize;

pub const NS_PER_SEC: u64 = 1_000_000_000;
pub const NS_PER_DAY: u64 = 86_400 * NS_PER_SEC;

/// Why a time-of-day could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    #[error("not a time of day")]
    Malformed,
    #[error("time of day out of range")]
    OutOfRange,
}

/// Parses `HH:MM:SS`, `HH:MM:SS.f` (1 to 9 digits) or `HH:MM:SS:mmm[:uuu[:nnn]]` into ns since midnight.
pub fn parse_time_of_day(text: &str) -> Result<u64, TimeError> {
    let b = text.as_bytes();
    if b.len() < 8 || b[2] != b':' || b[5] != b':' {
        return Err(TimeError::Malformed);
    }
    let (h, m, s) = (two_digits(&b[0..2])?, two_digits(&b[3..5])?, two_digits(&b[6..8])?);
    if h > 23 || m > 59 || s > 59 {
        return Err(TimeError::OutOfRange);
    }
    let sub_ns = match &b[8..] {
        [] => 0,
        [b'.', frac @ ..] if (1..=9).contains(&frac.len()) => {
            let mut v = digits(frac)?;
            for _ in frac.len()..9 {
                v *= 10;
            }
            v
        }
        [b':', groups @ ..] => colon_groups(groups)?,
        _ => return Err(TimeError::Malformed),
    };
    Ok((u64::from(h) * 3600 + u64::from(m) * 60 + u64::from(s)) * NS_PER_SEC + sub_ns)
}

/// `mmm[:uuu[:nnn]]`, each group exactly three digits.
fn colon_groups(groups: &[u8]) -> Result<u64, TimeError> {
    let mut ns = 0;
    let mut scale = 1_000_000;
    for group in groups.split(|&c| c == b':') {
        if group.len() != 3 || scale == 0 {
            return Err(TimeError::Malformed);
        }
        ns += digits(group)? * scale;
        scale /= 1000;
    }
    Ok(ns)
}

/// Milliseconds since UTC midnight (SALTIM_MS) into ns since midnight.
pub fn ms_of_day(ms_text: &str) -> Result<u64, TimeError> {
    if ms_text.is_empty() || ms_text.len() > 12 {
        return Err(TimeError::Malformed);
    }
    let ms = digits(ms_text.as_bytes())?;
    if ms >= 86_400_000 {
        return Err(TimeError::OutOfRange);
    }
    Ok(ms * 1_000_000)
}

fn two_digits(b: &[u8]) -> Result<u32, TimeError> {
    digits(b).map(|v| v as u32)
}

fn digits(b: &[u8]) -> Result<u64, TimeError> {
    b.iter().try_fold(0u64, |acc, &c| {
        if c.is_ascii_digit() {
            Ok(acc * 10 + u64::from(c - b'0'))
        } else {
            Err(TimeError::Malformed)
        }
    })
}

/// Parses `YYYY-MM-DD` into days since 1970-01-01.
pub fn parse_date(text: &str) -> Option<i64> {
    let date = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    Some(date.signed_duration_since(chrono::NaiveDate::default()).num_days())
}

/// Where the UTC date of a UTC time-of-day comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DateSource {
    /// The UTC date that puts the event closest to the receive time. Right for every feed whose
    /// times are UTC, whatever its TRADE_DATE convention (futures trading dates, US after-hours).
    #[default]
    NearestRecv,
    /// TRADE_DATE taken as the UTC date. Wrong for futures after the evening reopen and for US
    /// after-hours past UTC midnight; only for feeds known to send a UTC TRADE_DATE.
    TradeDate,
}

/// Picks the UTC day for `time_of_day_ns` nearest to `recv_ns`; `None` when even the nearest is
/// further than `max_skew_ns` away.
pub fn nearest_to_recv(time_of_day_ns: u64, recv_ns: u64, max_skew_ns: u64) -> Option<u64> {
    let day = recv_ns / NS_PER_DAY;
    let candidates = [day.checked_sub(1), Some(day), day.checked_add(1)];
    candidates
        .into_iter()
        .flatten()
        .filter_map(|d| d.checked_mul(NS_PER_DAY)?.checked_add(time_of_day_ns))
        .min_by_key(|t| t.abs_diff(recv_ns))
        .filter(|t| t.abs_diff(recv_ns) <= max_skew_ns)
}

/// The event time from a date taken as given (days since epoch) and a UTC time-of-day.
pub fn on_date(days: i64, time_of_day_ns: u64) -> Option<u64> {
    u64::try_from(days).ok()?.checked_mul(NS_PER_DAY)?.checked_add(time_of_day_ns)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const H: u64 = 3600 * NS_PER_SEC;

    #[test]
    fn reads_the_three_time_formats() {
        assert_eq!(parse_time_of_day("13:30:01"), Ok(13 * H + 30 * 60 * NS_PER_SEC + NS_PER_SEC));
        assert_eq!(parse_time_of_day("00:00:00.5"), Ok(500_000_000));
        assert_eq!(parse_time_of_day("00:00:00.000000007"), Ok(7));
        assert_eq!(parse_time_of_day("00:00:01:002:003:004"), Ok(1_002_003_004));
        assert_eq!(parse_time_of_day("00:00:01:002"), Ok(1_002_000_000));
        assert_eq!(ms_of_day("48600123"), Ok(48_600_123_000_000));
    }

    #[test]
    fn refuses_bad_times() {
        assert_eq!(parse_time_of_day("24:00:00"), Err(TimeError::OutOfRange));
        assert_eq!(parse_time_of_day("12:60:00"), Err(TimeError::OutOfRange));
        assert_eq!(parse_time_of_day("12:00"), Err(TimeError::Malformed));
        assert_eq!(parse_time_of_day("12:00:00.1234567890"), Err(TimeError::Malformed));
        assert_eq!(parse_time_of_day("12:00:00:12"), Err(TimeError::Malformed));
        assert_eq!(parse_time_of_day("12:00:00:123:456:789:000"), Err(TimeError::Malformed));
        assert_eq!(parse_time_of_day("1a:00:00"), Err(TimeError::Malformed));
        assert_eq!(ms_of_day("86400000"), Err(TimeError::OutOfRange));
        assert_eq!(ms_of_day("-5"), Err(TimeError::Malformed));
    }

    #[test]
    fn nearest_date_crosses_midnight_both_ways() {
        let day = 20_000 * NS_PER_DAY;
        // Received just after midnight, traded just before: yesterday.
        assert_eq!(
            nearest_to_recv(23 * H + 59 * 60 * NS_PER_SEC, day + 1000, 12 * H),
            Some(day - 60 * NS_PER_SEC)
        );
        // Received just before midnight, a clock slightly ahead: tomorrow.
        assert_eq!(nearest_to_recv(1000, day - 1000, 12 * H), Some(day + 1000));
        assert_eq!(nearest_to_recv(5 * H, day, 2 * H), None);
        assert_eq!(parse_date("1970-01-02"), Some(1));
        assert_eq!(parse_date("2026-02-30"), None);
    }

    proptest! {
        #[test]
        fn nearest_recovers_any_event_within_skew(event in NS_PER_DAY..u64::MAX / 4, lag in -(11 * H as i64)..(11 * H as i64)) {
            let recv = event.saturating_add_signed(lag);
            prop_assert_eq!(nearest_to_recv(event % NS_PER_DAY, recv, 12 * H), Some(event));
        }
    }
}
