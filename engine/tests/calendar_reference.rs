//! tickring's calendars against an independent reference, every day 2000-2035 of every exchange.
//!
//! The reference (`fixtures/calendar_reference.csv`) is dumped from the open-source `exchange_calendars`
//! library by `scripts/dev/calendar_reference.py`. Each weekday compares the regular session's open, lunch
//! break and close (pre/post-market windows are tickring's own: the reference has none). Days that differ
//! must be covered by a line of `fixtures/calendar_accepted_differences.csv`, which names the reason; a
//! line that no longer absorbs any difference fails the test too, so the list cannot go stale.

use chrono::{Datelike, Duration, NaiveDate};
use std::collections::BTreeMap;
use tickring_engine::calendar::{Calendar, Calendars};
use tickring_engine::{Exchange, Session};

const REFERENCE: &str = include_str!("fixtures/calendar_reference.csv");
const ACCEPTED: &str = include_str!("fixtures/calendar_accepted_differences.csv");

/// A session's regular times as `HH:MM` (or `-1d HH:MM`): open, break start, break end, close.
type Times = [String; 4];

struct Reference {
    range: (NaiveDate, NaiveDate),
    hours: Vec<(NaiveDate, Times)>,
    days: BTreeMap<NaiveDate, Times>,
    closed: BTreeMap<NaiveDate, ()>,
}

impl Reference {
    /// `None` when the reference has no session that day.
    fn session(&self, day: NaiveDate) -> Option<Times> {
        if day.weekday().num_days_from_monday() >= 5 || self.closed.contains_key(&day) {
            return self.days.get(&day).cloned();
        }
        if let Some(t) = self.days.get(&day) {
            return Some(t.clone());
        }
        self.hours.iter().rev().find(|(from, _)| *from <= day).map(|(_, t)| t.clone())
    }
}

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_else(|e| panic!("{s:?}: {e}"))
}

fn times(fields: &[&str]) -> Times {
    let f = |i: usize| fields.get(i).map_or(String::new(), |s| (*s).to_owned());
    [f(0), f(1), f(2), f(3)]
}

fn reference() -> BTreeMap<String, Reference> {
    let mut out: BTreeMap<String, Reference> = BTreeMap::new();
    for line in REFERENCE.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let f: Vec<&str> = line.split(',').collect();
        let r = out.entry(f[0].to_owned()).or_insert_with(|| Reference {
            range: (NaiveDate::MIN, NaiveDate::MIN),
            hours: Vec::new(),
            days: BTreeMap::new(),
            closed: BTreeMap::new(),
        });
        match f[1] {
            "range" => r.range = (date(f[2]), date(f[3])),
            "hours" => r.hours.push((date(f[2]), times(&f[3..]))),
            "day" => {
                r.days.insert(date(f[2]), times(&f[3..]));
            }
            "closed" => {
                r.closed.insert(date(f[2]), ());
            }
            other => panic!("unknown reference line kind {other:?}: {line}"),
        }
    }
    out
}

fn hhmm(w: tickring_engine::calendar::WallTime) -> String {
    let t = w.time.format("%H:%M");
    if w.day_offset == 0 {
        t.to_string()
    } else {
        format!("{}d {t}", w.day_offset)
    }
}

/// tickring's regular times for `day`: `None` when it does not trade, `Err` when outside its coverage.
fn ours(cal: &Calendar, day: NaiveDate) -> Result<Option<Times>, ()> {
    let (first, last) = cal.days();
    if day < first || day > last {
        return Err(());
    }
    let Some(windows) = cal.local_windows(day) else { return Ok(None) };
    let regular: Vec<_> = windows.iter().filter(|w| w.session == Session::Regular).collect();
    let (Some(open), Some(close)) = (regular.first(), regular.last()) else { return Ok(None) };
    let (bs, be) = match regular.len() {
        1 => (String::new(), String::new()),
        _ => (hhmm(regular[0].end), hhmm(regular[1].start)),
    };
    Ok(Some([hhmm(open.start), bs, be, hhmm(close.end)]))
}

struct Accepted {
    mic: String,
    first: NaiveDate,
    last: NaiveDate,
    line: usize,
    used: usize,
}

fn accepted() -> Vec<Accepted> {
    ACCEPTED
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.starts_with('#') && !l.trim().is_empty())
        .map(|(i, l)| {
            let f: Vec<&str> = l.splitn(4, ',').collect();
            assert!(
                f.len() == 4 && !f[3].trim().is_empty(),
                "line {}: MIC,FIRST,LAST,REASON",
                i + 1
            );
            Accepted {
                mic: f[0].to_owned(),
                first: date(f[1]),
                last: date(f[2]),
                line: i + 1,
                used: 0,
            }
        })
        .collect()
}

#[test]
fn every_day_agrees_with_the_reference_or_is_an_accepted_difference() {
    let cals = Calendars::builtin().unwrap_or_else(|e| panic!("{e}"));
    let reference = reference();
    let mut accepted = accepted();
    let mut unexplained: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut compared = 0usize;
    for &exchange in Exchange::ALL {
        let mic = exchange.mic();
        let Some(r) = reference.get(mic) else { continue };
        let cal = cals.get(exchange).unwrap_or_else(|| panic!("{mic} has no calendar"));
        let mut day = r.range.0;
        while day <= r.range.1 {
            compared += 1;
            let want = r.session(day);
            let got = ours(cal, day);
            if got.as_ref().ok() != Some(&want) {
                // The narrowest matching line explains the day (a one-day line inside a wider range).
                let explains = accepted
                    .iter_mut()
                    .filter(|a| a.mic == mic && a.first <= day && day <= a.last)
                    .min_by_key(|a| a.last - a.first);
                match explains {
                    Some(a) => a.used += 1,
                    None => unexplained.entry(mic.to_owned()).or_default().push(format!(
                        "{day} {}: reference {want:?}, tickring {got:?}",
                        day.weekday()
                    )),
                }
            }
            day += Duration::days(1);
        }
    }
    assert!(compared > 100_000, "compared only {compared} days");
    let stale: Vec<String> = accepted
        .iter()
        .filter(|a| a.used == 0)
        .map(|a| format!("line {}: {} {}..{}", a.line, a.mic, a.first, a.last))
        .collect();
    let report: Vec<String> = unexplained
        .iter()
        .map(|(mic, days)| {
            let shown: Vec<&str> = days.iter().take(40).map(String::as_str).collect();
            format!("{mic}: {} days differ\n  {}", days.len(), shown.join("\n  "))
        })
        .collect();
    assert!(
        report.is_empty() && stale.is_empty(),
        "unexplained differences:\n{}\naccepted differences that absorb nothing: {stale:?}",
        report.join("\n")
    );
}
