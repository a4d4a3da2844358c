//! Golden cases against the builtin calendars: one or more per exchange, DST switches, special days.

use super::*;
use crate::tick::{Exchange, Session};
use chrono::{DateTime, NaiveDate};

pub(crate) fn ns(rfc3339: &str) -> i64 {
    DateTime::parse_from_rfc3339(rfc3339)
        .ok()
        .and_then(|t| t.timestamp_nanos_opt())
        .unwrap_or_else(|| panic!("bad test timestamp {rfc3339}"))
}

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap_or_else(|_| panic!("bad test date {s}"))
}

fn builtin() -> Calendars {
    Calendars::builtin().unwrap_or_else(|e| panic!("builtin calendars: {e}"))
}

/// (MIC, instant, session, trading day or "-")
#[rustfmt::skip]
const GOLDEN: &[(&str, &str, &str, &str)] = &[
    // US equities; New York switched to EDT on Sunday 2024-03-10 and back on 2024-11-03.
    ("XNYS", "2024-03-08T14:30:00Z", "regular", "2024-03-08"), // 09:30 EST
    ("XNYS", "2024-03-08T13:30:00Z", "pre", "2024-03-08"),     // 08:30 EST
    ("XNYS", "2024-03-11T13:30:00Z", "regular", "2024-03-11"), // 09:30 EDT
    ("XNYS", "2024-03-11T13:29:59.999Z", "pre", "2024-03-11"),
    ("XNYS", "2024-03-11T08:00:00Z", "pre", "2024-03-11"),     // 04:00 EDT
    ("XNYS", "2024-03-11T07:59:59Z", "closed", "-"),
    ("XNYS", "2024-03-11T20:00:00Z", "post", "2024-03-11"),
    ("XNYS", "2024-03-11T23:59:59Z", "post", "2024-03-11"),
    ("XNYS", "2024-03-12T00:00:00Z", "closed", "-"),           // 20:00 EDT
    ("XNYS", "2024-03-09T15:00:00Z", "closed", "-"),           // Saturday
    ("XNYS", "2024-11-01T13:30:00Z", "regular", "2024-11-01"), // EDT
    ("XNYS", "2024-11-04T13:30:00Z", "pre", "2024-11-04"),     // 08:30 EST
    ("XNYS", "2024-11-04T14:30:00Z", "regular", "2024-11-04"),
    ("XNAS", "2024-07-04T15:00:00Z", "closed", "-"),           // Independence Day
    ("XASE", "2025-01-09T15:00:00Z", "closed", "-"),           // national day of mourning
    ("ARCX", "2024-11-29T17:59:00Z", "regular", "2024-11-29"), // half day, 12:59 EST
    ("ARCX", "2024-11-29T18:00:00Z", "post", "2024-11-29"),    // 13:00
    ("ARCX", "2024-11-29T21:59:00Z", "post", "2024-11-29"),
    ("ARCX", "2024-11-29T22:00:00Z", "closed", "-"),           // 17:00
    ("XNYS", "2024-07-03T17:00:00Z", "post", "2024-07-03"),    // 13:00 EDT on a half day
    ("XNYS", "2026-07-03T15:00:00Z", "closed", "-"),           // observed Independence Day
    // CME Globex equity index futures, America/Chicago (CDT from 2024-03-10).
    ("XCME", "2024-03-10T22:00:00Z", "regular", "2024-03-11"), // Sunday 17:00 CDT opens Monday
    ("XCME", "2024-03-10T21:59:59Z", "closed", "-"),
    ("XCME", "2024-03-11T05:00:00Z", "regular", "2024-03-11"), // past UTC midnight, same trading day
    ("XCME", "2024-03-11T20:59:59Z", "regular", "2024-03-11"),
    ("XCME", "2024-03-11T21:00:00Z", "closed", "-"),           // 16:00 halt
    ("XCME", "2024-03-11T21:30:00Z", "closed", "-"),
    ("XCME", "2024-03-11T22:00:00Z", "regular", "2024-03-12"), // 17:00 reopen for Tuesday
    ("XCME", "2024-03-12T01:00:00Z", "regular", "2024-03-12"), // 20:00 CDT Monday, Tuesday's session
    ("XCME", "2024-03-08T23:00:00Z", "closed", "-"),           // Friday evening
    ("XCME", "2024-03-09T18:00:00Z", "closed", "-"),           // Saturday
    ("XCME", "2024-03-08T22:00:00Z", "closed", "-"),           // Friday 16:00 CST
    ("XCME", "2024-03-08T21:59:00Z", "regular", "2024-03-08"), // 15:59 CST
    ("XCME", "2024-01-15T17:00:00Z", "regular", "2024-01-16"), // MLK: holiday session dated Tuesday
    ("XCME", "2024-01-15T18:30:00Z", "closed", "2024-01-16"),  // 12:30 CST halt inside Tuesday's day
    ("XCME", "2024-01-15T23:00:00Z", "regular", "2024-01-16"),
    ("XCME", "2024-11-29T18:14:00Z", "regular", "2024-11-29"), // 12:14 CST
    ("XCME", "2024-11-29T18:15:00Z", "closed", "-"),
    ("XCME", "2024-12-25T18:00:00Z", "closed", "-"),           // Christmas
    ("XCME", "2024-12-25T23:00:00Z", "regular", "2024-12-26"), // 17:00 CST Christmas evening
    ("XCME", "2025-07-05T12:00:00Z", "closed", "2025-07-07"),  // Saturday inside the post-holiday day
    ("XCME", "2025-07-04T16:59:00Z", "regular", "2025-07-07"), // Friday 11:59 CDT, dated Monday
    ("XCME", "2024-11-03T22:00:00Z", "closed", "-"),           // Sunday 16:00 CST, first day of CST
    ("XCME", "2024-11-03T23:00:00Z", "regular", "2024-11-04"), // Sunday 17:00 CST
    // KRX: first trading day 2024-01-02 and CSAT day 2024-11-14 run one hour late.
    ("XKRX", "2024-01-02T00:00:00Z", "closed", "-"),           // 09:00 KST
    ("XKRX", "2024-01-02T00:35:00Z", "pre", "2024-01-02"),
    ("XKRX", "2024-01-02T00:45:00Z", "closed", "2024-01-02"),
    ("XKRX", "2024-01-02T01:00:00Z", "regular", "2024-01-02"), // 10:00 KST
    // First trading day: only the opening moves; the close stays 15:30 and the post session 15:40-18:00.
    ("XKRX", "2024-01-02T06:29:00Z", "regular", "2024-01-02"), // 15:29
    ("XKRX", "2024-01-02T06:35:00Z", "closed", "2024-01-02"),
    ("XKRX", "2024-01-02T06:40:00Z", "post", "2024-01-02"),
    ("XKRX", "2024-01-02T09:00:00Z", "closed", "-"),           // 18:00
    ("XKRX", "2024-01-03T23:35:00Z", "pre", "2024-01-04"),     // 08:35 KST is the previous UTC day
    ("XKRX", "2024-01-03T23:45:00Z", "closed", "2024-01-04"),
    ("XKRX", "2024-01-04T00:00:00Z", "regular", "2024-01-04"),
    ("XKRX", "2024-01-04T06:29:59Z", "regular", "2024-01-04"),
    ("XKRX", "2024-01-04T06:35:00Z", "closed", "2024-01-04"),  // 15:35
    ("XKRX", "2024-01-04T06:40:00Z", "post", "2024-01-04"),
    ("XKRX", "2024-01-04T09:00:00Z", "closed", "-"),           // 18:00
    ("XKRX", "2024-11-14T00:00:00Z", "closed", "-"),           // CSAT 09:00
    ("XKRX", "2024-11-14T01:00:00Z", "regular", "2024-11-14"),
    ("XKRX", "2024-11-14T07:29:00Z", "regular", "2024-11-14"),
    ("XKRX", "2024-11-14T07:30:00Z", "closed", "2024-11-14"),
    ("XKRX", "2024-11-15T00:00:00Z", "regular", "2024-11-15"),
    ("XKRX", "2024-02-09T02:00:00Z", "closed", "-"),           // Seollal
    // TSE: close 15:00 until 2024-11-01, 15:30 from 2024-11-05 (11-04 is a holiday).
    ("XTKS", "2024-11-01T06:10:00Z", "closed", "-"),           // 15:10 JST
    ("XTKS", "2024-11-01T05:59:00Z", "regular", "2024-11-01"),
    ("XTKS", "2024-11-05T06:10:00Z", "regular", "2024-11-05"),
    ("XTKS", "2024-11-05T06:30:00Z", "closed", "-"),
    ("XTKS", "2024-11-05T02:45:00Z", "break", "2024-11-05"),   // 11:45 lunch
    ("XTKS", "2024-11-05T03:30:00Z", "regular", "2024-11-05"), // 12:30
    ("XTKS", "2024-11-04T02:00:00Z", "closed", "-"),
    // HKEX: lunch break, half day, holiday.
    ("XHKG", "2024-03-01T04:30:00Z", "break", "2024-03-01"),   // 12:30 HKT
    ("XHKG", "2024-03-01T01:30:00Z", "regular", "2024-03-01"),
    ("XHKG", "2024-03-01T07:59:00Z", "regular", "2024-03-01"),
    ("XHKG", "2024-12-24T04:30:00Z", "closed", "-"),           // half day is over at 12:00
    ("XHKG", "2024-12-24T03:59:00Z", "regular", "2024-12-24"),
    ("XHKG", "2024-02-12T02:00:00Z", "closed", "-"),
    // Shanghai / Shenzhen.
    ("XSHG", "2024-03-01T04:00:00Z", "break", "2024-03-01"),   // 12:00 CST
    ("XSHE", "2024-03-01T05:00:00Z", "regular", "2024-03-01"), // 13:00
    ("XSHE", "2024-03-01T07:00:00Z", "closed", "-"),           // 15:00
    ("XSHG", "2024-10-01T02:00:00Z", "closed", "-"),
    // London: BST from 2025-03-30; New York moved on 2025-03-09, London did not.
    ("XLON", "2025-03-28T08:00:00Z", "regular", "2025-03-28"), // 08:00 GMT
    ("XLON", "2025-03-28T07:59:00Z", "closed", "-"),
    ("XLON", "2025-03-31T07:00:00Z", "regular", "2025-03-31"), // 08:00 BST
    ("XLON", "2025-03-31T15:29:00Z", "regular", "2025-03-31"),
    ("XLON", "2025-03-31T15:30:00Z", "closed", "-"),
    ("XLON", "2024-10-28T08:00:00Z", "regular", "2024-10-28"),
    ("XLON", "2024-12-24T12:29:00Z", "regular", "2024-12-24"),
    ("XLON", "2024-12-24T12:30:00Z", "closed", "-"),
    ("XLON", "2024-12-26T10:00:00Z", "closed", "-"),
    // Paris and Berlin: CEST from 2025-03-30.
    ("XPAR", "2025-03-28T08:00:00Z", "regular", "2025-03-28"), // 09:00 CET
    ("XPAR", "2025-03-28T07:30:00Z", "closed", "-"),
    ("XPAR", "2025-03-31T07:00:00Z", "regular", "2025-03-31"), // 09:00 CEST
    ("XPAR", "2024-12-24T13:04:00Z", "regular", "2024-12-24"), // 14:04 CET
    ("XPAR", "2024-12-24T13:05:00Z", "closed", "-"),
    ("XETR", "2025-03-31T15:29:00Z", "regular", "2025-03-31"), // 17:29 CEST
    ("XETR", "2025-03-31T15:30:00Z", "closed", "-"),
    ("XETR", "2024-12-24T10:00:00Z", "closed", "-"),           // Xetra does not trade on 24 Dec
    ("XETR", "2024-10-28T08:00:00Z", "regular", "2024-10-28"), // back to CET
    // Toronto: EDT from 2024-03-10.
    ("XTSE", "2024-03-08T14:30:00Z", "regular", "2024-03-08"),
    ("XTSE", "2024-03-08T14:29:00Z", "closed", "-"),
    ("XTSE", "2024-03-11T13:30:00Z", "regular", "2024-03-11"),
    ("XTSE", "2024-07-01T15:00:00Z", "closed", "-"),
    // Sydney: AEDT from Sunday 2024-10-06, AEST from Sunday 2025-04-06.
    ("XASX", "2024-10-04T00:00:00Z", "regular", "2024-10-04"), // 10:00 AEST
    ("XASX", "2024-10-06T23:00:00Z", "regular", "2024-10-07"), // 10:00 AEDT
    ("XASX", "2024-10-06T22:59:00Z", "closed", "-"),
    ("XASX", "2025-04-04T04:59:00Z", "regular", "2025-04-04"), // 15:59 AEDT
    ("XASX", "2025-04-04T05:00:00Z", "closed", "-"),
    ("XASX", "2025-04-07T00:00:00Z", "regular", "2025-04-07"), // 10:00 AEST
    ("XASX", "2024-12-24T03:09:00Z", "regular", "2024-12-24"), // 14:09 AEDT, early close
    ("XASX", "2024-12-24T03:10:00Z", "closed", "-"),
];

#[test]
fn golden_cases() {
    let cals = builtin();
    let mut failures = Vec::new();
    for &(mic, at, session, trading_day) in GOLDEN {
        let exchange = Exchange::from_mic(mic).unwrap_or_else(|| panic!("bad MIC {mic}"));
        let got =
            cals.classify(exchange, ns(at)).unwrap_or_else(|| panic!("no calendar for {mic}"));
        let want_day = (trading_day != "-").then(|| day(trading_day));
        if got.session.as_str() != session
            || got.trading_day != want_day
            || got.coverage != Coverage::Covered
        {
            failures.push(format!("{mic} {at}: want {session} {trading_day}, got {got:?}"));
        }
    }
    assert!(failures.is_empty(), "{} golden failures:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn every_exchange_has_a_builtin_calendar() {
    let cals = builtin();
    for &exchange in Exchange::ALL {
        let cal = cals.get(exchange).unwrap_or_else(|| panic!("{exchange} has no calendar"));
        assert_eq!(cal.timezone().name(), exchange.timezone());
        let (first, last) = cal.days();
        assert!(
            first <= day("2024-01-01") && last >= day("2027-12-31"),
            "{exchange}: {first}..{last}"
        );
        assert!(!cal.sources().is_empty());
    }
}

#[test]
fn outside_coverage_is_unknown_with_the_local_date() {
    let cals = builtin();
    for &exchange in Exchange::ALL {
        let cal = cals.get(exchange).unwrap_or_else(|| panic!("{exchange}"));
        let (first, last) = cal.days();
        let before = (first - chrono::Duration::days(200)).and_hms_opt(12, 0, 0);
        let after = (last + chrono::Duration::days(200)).and_hms_opt(12, 0, 0);
        for local in [before, after].into_iter().flatten() {
            let ts = super::local_to_utc_ns(cal.timezone(), local);
            let want = Classified {
                session: Session::Unknown,
                trading_day: Some(local.date()),
                coverage: Coverage::Outside,
            };
            assert_eq!(cals.classify(exchange, ts), Some(want), "{exchange} {local}");
            let mut clock = cals.clock(exchange).unwrap_or_else(|| panic!("{exchange}"));
            assert_eq!(clock.classify(ts), want, "{exchange} {local}");
            // The cached span is one local date: the next day's instant gets the next date.
            let next = clock.classify(ts + 86_400_000_000_000);
            assert_eq!(next.trading_day, Some(local.date() + chrono::Duration::days(1)));
        }
        for ts in [i64::MIN, i64::MAX] {
            let got = cals.classify(exchange, ts).unwrap_or_else(|| panic!("{exchange}"));
            assert_eq!((got.session, got.coverage), (Session::Unknown, Coverage::Outside));
        }
    }
}

#[test]
fn tick_trading_day_counts_days_since_epoch() {
    let cals = builtin();
    let got =
        cals.classify(Exchange::Xnys, ns("2024-03-11T14:00:00Z")).unwrap_or_else(|| panic!("XNYS"));
    assert_eq!(got.tick_trading_day(), 19793); // 2024-03-11
    assert_eq!(Classified::CLOSED.tick_trading_day(), crate::tick::Tick::NO_TRADING_DAY);
}

#[test]
fn weekends_and_listed_holidays_never_trade() {
    let cals = builtin();
    for &exchange in Exchange::ALL {
        let Some(cal) = cals.get(exchange) else { continue };
        let mut d = day("2024-01-01");
        while d <= day("2027-12-31") {
            if cal.holiday(d).is_some() {
                assert!(cal.schedule(d).is_none(), "{exchange} trades on holiday {d}");
            }
            if chrono::Datelike::weekday(&d).number_from_monday() >= 6 {
                assert!(cal.schedule(d).is_none(), "{exchange} trades on weekend {d}");
            }
            d += chrono::Duration::days(1);
        }
    }
}

#[test]
fn sessions_cover_the_expected_regular_minutes() {
    // A regular US day has 6.5 h of regular session, a half day 3.5 h, measured in UTC across DST.
    let cals = builtin();
    let cal = cals.get(Exchange::Xnys).unwrap_or_else(|| panic!("XNYS"));
    let regular = |d: &str| -> i64 {
        let s = cal.schedule(day(d)).unwrap_or_else(|| panic!("{d} trades"));
        s.windows()
            .iter()
            .filter(|w| w.session == Session::Regular)
            .map(|w| w.end_ns - w.start_ns)
            .sum()
    };
    let hour = 3_600_000_000_000_i64;
    assert_eq!(regular("2024-03-11"), 13 * hour / 2);
    assert_eq!(regular("2024-11-04"), 13 * hour / 2);
    assert_eq!(regular("2024-12-24"), 7 * hour / 2);
}

/// Not a timed assertion: prints how long building every built-in calendar takes (36 years of rules
/// expanded and every day checked in UTC; run with --release --nocapture for the start-up cost).
#[test]
fn measure_builtin_build_time() {
    let runs = 5;
    let mut best = std::time::Duration::MAX;
    for _ in 0..runs {
        let t0 = std::time::Instant::now();
        let cals = builtin();
        best = best.min(t0.elapsed());
        assert_eq!(cals.exchanges().count(), Exchange::ALL.len());
    }
    eprintln!("Calendars::builtin(): best of {runs}: {:.1} ms", best.as_secs_f64() * 1e3);
}

/// Each market's historical hour changes, checked on the last day before and the first day after:
/// (MIC, local day, local time, session expected). Times are wall times, converted with the calendar's zone.
#[rustfmt::skip]
const HOUR_CHANGES: &[(&str, &str, &str, Session)] = &[
    // KRX: the lunch break ended 2000-05-22.
    ("XKRX", "2000-05-19", "12:30", Session::Break),
    ("XKRX", "2000-05-22", "12:30", Session::Regular),
    // KRX: the close moved from 15:00 to 15:30 on 2016-08-01.
    ("XKRX", "2016-07-29", "15:15", Session::Post),
    ("XKRX", "2016-08-01", "15:15", Session::Regular),
    ("XKRX", "2016-08-01", "15:35", Session::Closed),
    // KRX first trading day: late open, normal close, in both eras.
    ("XKRX", "2015-01-02", "09:30", Session::Closed),
    ("XKRX", "2015-01-02", "14:59", Session::Regular),
    ("XKRX", "2015-01-02", "15:05", Session::Closed),
    ("XKRX", "2024-01-02", "15:29", Session::Regular),
    ("XKRX", "2024-01-02", "15:45", Session::Post),
    // TSE: the morning session ran to 11:00 until 2011-11-18, to 11:30 since 2011-11-21.
    ("XTKS", "2011-11-18", "11:15", Session::Break),
    ("XTKS", "2011-11-21", "11:15", Session::Regular),
    // TSE: the close moved from 15:00 to 15:30 on 2024-11-05.
    ("XTKS", "2024-11-01", "15:15", Session::Closed),
    ("XTKS", "2024-11-05", "15:15", Session::Regular),
    ("XTKS", "2024-11-05", "15:30", Session::Closed),
    // HKEX: 10:00 open and 12:30-14:30 lunch until 2011-03-04; 09:30 open and 12:00-13:30 lunch from
    // 2011-03-07; the afternoon from 13:00 since 2012-03-05.
    ("XHKG", "2011-03-04", "09:45", Session::Closed),
    ("XHKG", "2011-03-04", "12:15", Session::Regular),
    ("XHKG", "2011-03-04", "14:15", Session::Break),
    ("XHKG", "2011-03-07", "09:45", Session::Regular),
    ("XHKG", "2011-03-07", "12:15", Session::Break),
    ("XHKG", "2012-03-02", "13:15", Session::Break),
    ("XHKG", "2012-03-05", "13:15", Session::Regular),
    // Xetra: the year-end early close 14:00 exists since 2010.
    ("XETR", "2009-12-30", "15:00", Session::Regular),
    ("XETR", "2010-12-30", "15:00", Session::Closed),
    // TSX: the Christmas Eve early close 13:00 exists since 2010.
    ("XTSE", "2009-12-24", "14:00", Session::Regular),
    ("XTSE", "2010-12-24", "14:00", Session::Closed),
    // ASX: the 14:10 pre-holiday early closes exist since 2010.
    ("XASX", "2009-12-24", "15:00", Session::Regular),
    ("XASX", "2010-12-24", "15:00", Session::Closed),
    // NYSE: the Wednesday 3 July early close exists since 2013.
    ("XNYS", "2002-07-03", "14:00", Session::Regular),
    ("XNYS", "2013-07-03", "14:00", Session::Post),
];

#[test]
fn historical_hour_changes_take_effect_on_their_day() {
    let cals = builtin();
    let mut failures = Vec::new();
    for &(mic, date, time, want) in HOUR_CHANGES {
        let exchange = Exchange::from_mic(mic).unwrap_or_else(|| panic!("{mic}"));
        let cal = cals.get(exchange).unwrap_or_else(|| panic!("{mic}"));
        let local = day(date).and_time(time.parse().unwrap_or_else(|_| panic!("{time}")));
        let ts = local_to_utc_ns(cal.timezone(), local);
        let got = cal.classify(ts).session;
        let mut clock = cals.clock(exchange).unwrap_or_else(|| panic!("{mic}"));
        if got != want || clock.classify(ts).session != want {
            failures.push(format!("{mic} {date} {time}: want {want}, got {got}"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
