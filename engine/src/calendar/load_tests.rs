//! A bad calendar file is refused with its name, the line and column, and the reason.

use super::*;

const GOOD: &str = r#"[calendar]
name = "test"
exchanges = ["XNYS"]
timezone = "America/New_York"
first_day = 2024-01-01
last_day = 2024-12-31
compiled = 2024-01-01
sources = ["tests"]

[[template]]
effective_from = 2024-01-01
weekdays = ["mon", "tue", "wed", "thu", "fri"]
windows = [
  { session = "pre", start = "04:00", end = "09:30" },
  { session = "regular", start = "09:30", end = "16:00" },
]

[[holiday]]
date = 2024-07-04
name = "Independence Day"
"#;

fn load(text: &str) -> Result<Calendars, CalendarError> {
    Calendars::from_sources([("cal.toml".to_owned(), text.to_owned())])
}

/// Loads `GOOD` with `from` replaced by `to`, expects a refusal at `line` whose reason contains `reason`.
fn refused(from: &str, to: &str, line: usize, reason: &str) {
    assert!(GOOD.contains(from), "fixture lacks {from:?}");
    match load(&GOOD.replacen(from, to, 1)) {
        Err(CalendarError::Invalid { file, line: l, column, reason: r }) => {
            assert_eq!(file, "cal.toml");
            assert_eq!(l, line, "line for {to:?}: {r}");
            assert!(column >= 1);
            assert!(r.contains(reason), "reason {r:?} lacks {reason:?}");
        }
        other => panic!("{to:?}: expected a located refusal, got {other:?}"),
    }
}

#[test]
fn the_fixture_loads() {
    let cals = load(GOOD).unwrap_or_else(|e| panic!("{e}"));
    assert!(cals.get(crate::tick::Exchange::Xnys).is_some());
}

#[test]
fn syntax_and_format_errors_are_located() {
    refused("sources = [\"tests\"]", "sources = [\"tests\"", 10, "expected `]`");
    refused("name = \"test\"", "name = \"test\"\ncolour = \"red\"", 3, "unknown field");
    refused("end = \"16:00\"", "end = \"4pm\"", 15, "bad time");
    refused("date = 2024-07-04", "date = \"July 4th\"", 19, "");
    refused("session = \"pre\"", "session = \"lunch\"", 14, "unknown variant");
}

#[test]
fn semantic_errors_are_located() {
    refused("\"XNYS\"", "\"XNYZ\"", 3, "unknown MIC");
    refused("\"America/New_York\"", "\"America/Gotham\"", 4, "unknown timezone");
    refused("\"America/New_York\"", "\"Europe/London\"", 3, "trades in America/New_York");
    refused("end = \"09:30\"", "end = \"10:00\"", 13, "overlap");
    refused(
        "start = \"09:30\", end = \"16:00\"",
        "start = \"16:00\", end = \"09:30\"",
        13,
        "before it starts",
    );
    refused("date = 2024-07-04", "date = 2025-07-04", 19, "outside the covered days");
    refused("\"fri\"]", "\"fri\", \"fri\"]", 12, "twice");
    refused("\"fri\"]", "\"fry\"]", 12, "unknown weekday");
    refused("last_day = 2024-12-31", "last_day = 2023-12-31", 6, "before first_day");
    refused("effective_from = 2024-01-01", "effective_from = 2024-02-01", 11, "after first_day");
    refused("session = \"pre\"", "session = \"closed\"", 13, "cannot be \"closed\"");
    refused("session = \"pre\"", "session = \"break\"", 13, "break must lie between");
}

#[test]
fn duplicate_dates_are_refused() {
    let text = format!("{GOOD}\n[[holiday]]\ndate = 2024-07-04\nname = \"again\"\n");
    match load(&text) {
        Err(CalendarError::Invalid { line, reason, .. }) => {
            assert_eq!(line, 23);
            assert!(reason.contains("already listed"), "{reason}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn overlapping_trading_days_are_refused() {
    // An evening window for every day that runs into the next day's pre-market.
    let text = GOOD.replace(
        "  { session = \"pre\", start = \"04:00\", end = \"09:30\" },",
        "  { session = \"pre\", start = \"-1d 03:00\", end = \"09:30\" },",
    );
    match load(&text) {
        Err(CalendarError::Invalid { reason, .. }) => {
            assert!(reason.contains("starts before trading day"), "{reason}")
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn two_files_cannot_claim_one_exchange() {
    let r = Calendars::from_sources([
        ("a.toml".to_owned(), GOOD.to_owned()),
        ("b.toml".to_owned(), GOOD.to_owned()),
    ]);
    assert!(matches!(r, Err(CalendarError::DuplicateExchange { .. })), "{r:?}");
}

#[test]
fn load_dir_reads_a_user_copy() {
    let dir = std::env::temp_dir().join(format!("tickring-cal-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let empty = Calendars::load_dir(&dir);
    assert!(matches!(empty, Err(CalendarError::EmptyDir(_))), "{empty:?}");
    std::fs::write(dir.join("us.toml"), GOOD).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.join("README.txt"), "not a calendar").unwrap_or_else(|e| panic!("{e}"));
    let cals = Calendars::load_dir(&dir).unwrap_or_else(|e| panic!("{e}"));
    assert!(cals.get(crate::tick::Exchange::Xnys).is_some());
    assert!(cals.get(crate::tick::Exchange::Xlon).is_none());
    std::fs::write(dir.join("us.toml"), GOOD.replace("2024-07-04", "2024-07-4"))
        .unwrap_or_else(|e| panic!("{e}"));
    let err = Calendars::load_dir(&dir).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(err.contains("us.toml:19:"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn dst_gaps_and_overlaps_resolve_without_failing() {
    // Boundaries deliberately in New York's spring gap (02:30) and autumn overlap (01:30).
    let text = GOOD
        .replace("weekdays = [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\"]", "weekdays = [\"sun\"]")
        .replace("start = \"04:00\", end = \"09:30\"", "start = \"01:30\", end = \"02:30\"")
        .replace("start = \"09:30\", end = \"16:00\"", "start = \"02:30\", end = \"16:00\"");
    let cals = load(&text).unwrap_or_else(|e| panic!("{e}"));
    let cal = cals.get(crate::tick::Exchange::Xnys).unwrap_or_else(|| panic!("XNYS"));
    let spring =
        cal.schedule("2024-03-10".parse().unwrap_or_default()).unwrap_or_else(|| panic!("trades"));
    // 01:30 EST = 06:30Z; 02:30 does not exist, taken at the old offset = 07:30Z (03:30 EDT).
    assert_eq!(spring.windows()[0].start_ns, super::tests::ns("2024-03-10T06:30:00Z"));
    assert_eq!(spring.windows()[0].end_ns, super::tests::ns("2024-03-10T07:30:00Z"));
    let autumn =
        cal.schedule("2024-11-03".parse().unwrap_or_default()).unwrap_or_else(|| panic!("trades"));
    // 01:30 happens twice: the first (EDT, 05:30Z) counts.
    assert_eq!(autumn.windows()[0].start_ns, super::tests::ns("2024-11-03T05:30:00Z"));
    assert_eq!(autumn.windows()[0].end_ns, super::tests::ns("2024-11-03T07:30:00Z"));
}

#[test]
fn bad_rules_are_refused_where_they_are_written() {
    let rule = |body: &str| {
        format!("[[holiday]]\ndate = 2024-07-04\nname = \"Independence Day\"\n\n[[rule]]\nname = \"r\"\n{body}")
    };
    let old = "[[holiday]]\ndate = 2024-07-04\nname = \"Independence Day\"\n";
    // A rule as a whole is located at its `[[rule]]` header (line 22), a bad key at that key.
    refused(old, &rule("month = 3\nday = 1\nuntil = 2020-01-01\n"), 22, "matches no day");
    refused(old, &rule("dates = [2023-12-25]\n"), 24, "outside the covered days");
    refused(old, &rule("month = 3\nday = 1\neaster = 1\n"), 24, "exactly one of");
    refused(old, &rule("month = 2\nday = 30\n"), 25, "is not a date");
    refused(old, &rule("month = 5\nweekday = \"mon\"\nnth = 6\n"), 26, "nth 6");
    refused(old, &rule("month = 5\nday = 1\nobserve = \"sometimes\"\n"), 26, "unknown variant");
    // A listed day that a rule already makes a holiday is a contradiction, reported at the listed day.
    refused(old, &rule("month = 7\nday = 4\n"), 19, "already makes it a holiday");
    let ok = load(&GOOD.replacen(
        old,
        &rule("month = 12\nday = 25\nobserve = \"nearest_weekday\"\n"),
        1,
    ));
    let cals = ok.unwrap_or_else(|e| panic!("{e}"));
    let cal = cals.get(crate::tick::Exchange::Xnys).unwrap_or_else(|| panic!("XNYS"));
    assert_eq!(
        cal.holiday(chrono::NaiveDate::from_ymd_opt(2024, 12, 25).unwrap_or_default()),
        Some("r")
    );
}

#[test]
fn a_month_without_trading_days_is_a_gap() {
    let closures = "[[rule]]\nname = \"closed\"\nmonth = 3\nday = 1\n\n[[holiday]]";
    let mut days = String::new();
    // 1 March by the rule, then 2 March ..= 1 April listed: 32 days in a row.
    for d in 2..=31 {
        days.push_str(&format!("[[holiday]]\ndate = 2024-03-{d:02}\nname = \"x\"\n"));
    }
    days.push_str("[[holiday]]\ndate = 2024-04-01\nname = \"x\"\n");
    let text = GOOD.replacen("[[holiday]]", &format!("{days}{closures}"), 1);
    match load(&text) {
        Err(CalendarError::Invalid { reason, .. }) => {
            assert!(reason.contains("no trading day for more than 31 days"), "{reason}")
        }
        other => panic!("expected a gap refusal, got {other:?}"),
    }
}
