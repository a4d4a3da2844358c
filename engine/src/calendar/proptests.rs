//! Properties around every DST transition of 2000-2035 (the rule-based calendars' years; outside a
//! calendar's coverage they hold for the `unknown` spans too): the cached clock agrees with the from-scratch path,
//! boundaries land on the template's wall-clock times, and local offsets are the zone's.

use super::tests::ns;
use super::*;
use crate::tick::Exchange;
use chrono::{Duration, Offset, TimeZone};
use chrono_tz::Tz;
use proptest::prelude::*;
use std::sync::OnceLock;

const HOUR_NS: i64 = 3_600_000_000_000;

fn cals() -> &'static Calendars {
    static CALS: OnceLock<Calendars> = OnceLock::new();
    CALS.get_or_init(|| Calendars::builtin().unwrap_or_else(|e| panic!("builtin calendars: {e}")))
}

/// UTC offsets (seconds) in standard and summer time, written down independently of chrono-tz.
fn known_offsets(exchange: Exchange) -> (i32, i32) {
    match exchange.timezone() {
        "America/New_York" | "America/Toronto" => (-5 * 3600, -4 * 3600),
        "America/Chicago" => (-6 * 3600, -5 * 3600),
        "Europe/London" => (0, 3600),
        "Europe/Paris" | "Europe/Berlin" => (3600, 7200),
        "Australia/Sydney" => (10 * 3600, 11 * 3600),
        "Asia/Seoul" | "Asia/Tokyo" => (9 * 3600, 9 * 3600),
        "Asia/Hong_Kong" | "Asia/Shanghai" => (8 * 3600, 8 * 3600),
        other => panic!("no known offsets for {other}"),
    }
}

/// Every (exchange, transition instant) in 2000-2035, found by scanning for offset changes hour by hour.
fn transitions() -> &'static [(Exchange, i64)] {
    static ALL: OnceLock<Vec<(Exchange, i64)>> = OnceLock::new();
    ALL.get_or_init(|| {
        let (start, end) = (ns("2000-01-01T00:00:00Z"), ns("2036-01-01T00:00:00Z"));
        let mut out = Vec::new();
        for &exchange in Exchange::ALL {
            let tz: Tz = exchange.timezone().parse().unwrap_or_else(|_| panic!("{exchange}"));
            let offset = |t: i64| tz.timestamp_nanos(t).offset().fix().local_minus_utc();
            let mut t = start;
            while t < end {
                if offset(t) != offset(t + HOUR_NS) {
                    out.push((exchange, t + HOUR_NS));
                }
                t += HOUR_NS;
            }
        }
        out
    })
}

#[test]
fn each_dst_zone_has_two_transitions_a_year() {
    for &exchange in Exchange::ALL {
        let n = transitions().iter().filter(|(e, _)| *e == exchange).count();
        let (std, dst) = known_offsets(exchange);
        assert_eq!(n, if std == dst { 0 } else { 72 }, "{exchange}");
    }
}

fn around_transition() -> impl Strategy<Value = (Exchange, i64, Vec<i64>)> {
    (0..transitions().len()).prop_flat_map(|i| {
        let (exchange, at) = transitions()[i];
        (Just(exchange), Just(at), prop::collection::vec(-48 * HOUR_NS..48 * HOUR_NS, 1..64))
    })
}

/// Instants anywhere in the covered years, for the zones without DST too.
fn anywhere() -> impl Strategy<Value = (Exchange, Vec<i64>)> {
    let (start, end) = (ns("1999-12-20T00:00:00Z"), ns("2036-01-10T00:00:00Z"));
    (prop::sample::select(Exchange::ALL.to_vec()), prop::collection::vec(start..end, 1..64))
}

fn check_clock_agrees(exchange: Exchange, instants: &[i64]) -> Result<(), TestCaseError> {
    let cals = cals();
    let mut clock = cals.clock(exchange).ok_or_else(|| TestCaseError::fail("no calendar"))?;
    let mut sorted = instants.to_vec();
    sorted.sort_unstable();
    // Random order (cache misses, jumps back) and time order (the feed's usual case).
    for &t in instants.iter().chain(&sorted) {
        let cached = clock.classify(t);
        let fresh = cals.classify(exchange, t).ok_or_else(|| TestCaseError::fail("no calendar"))?;
        prop_assert_eq!(cached, fresh, "{} at {}", exchange, t);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn clock_agrees_with_scratch_around_dst((exchange, at, offsets) in around_transition()) {
        let instants: Vec<i64> = offsets.iter().map(|o| at + o).collect();
        check_clock_agrees(exchange, &instants)?;
    }

    #[test]
    fn clock_agrees_with_scratch_anywhere((exchange, instants) in anywhere()) {
        check_clock_agrees(exchange, &instants)?;
    }

    #[test]
    fn local_offset_is_the_zones((exchange, at, offsets) in around_transition()) {
        let cal = cals().get(exchange).ok_or_else(|| TestCaseError::fail("no calendar"))?;
        let (std, dst) = known_offsets(exchange);
        let before = cal.local_datetime(at - 1).offset().fix().local_minus_utc();
        let after = cal.local_datetime(at).offset().fix().local_minus_utc();
        prop_assert!((before, after) == (std, dst) || (before, after) == (dst, std));
        for o in offsets {
            let got = cal.local_datetime(at + o).offset().fix().local_minus_utc();
            prop_assert_eq!(got, if o < 0 { before } else { after });
        }
    }

    #[test]
    fn boundaries_fall_on_template_wall_times((exchange, at, _offsets) in around_transition()) {
        let cal = cals().get(exchange).ok_or_else(|| TestCaseError::fail("no calendar"))?;
        let tz = cal.timezone();
        let centre = cal.local_datetime(at).date_naive();
        for d in -3..=3 {
            let day = centre + Duration::days(d);
            let (Some(local), Some(utc)) = (cal.local_windows(day), cal.schedule(day)) else { continue };
            prop_assert_eq!(local.len(), utc.windows().len());
            for (l, u) in local.iter().zip(utc.windows()) {
                prop_assert_eq!(tz.timestamp_nanos(u.start_ns).naive_local(), l.start.on(day));
                prop_assert_eq!(tz.timestamp_nanos(u.end_ns).naive_local(), l.end.on(day));
                let inside = cal.classify(u.start_ns);
                prop_assert_eq!(inside.session, l.session);
                prop_assert_eq!(inside.trading_day, Some(day));
                prop_assert_eq!(cal.classify(u.end_ns - 1).session, l.session);
            }
        }
    }
}
