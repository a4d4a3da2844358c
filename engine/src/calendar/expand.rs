//! Turns a file's `[[rule]]`s into dated holidays and special days over its covered years.
//!
//! Holidays are placed before specials, and a holiday wins over a special day by rule on the same date (an
//! early close on a day that turns out closed simply does not happen). Weekend dates that move
//! (`observe = "next_weekday"` and friends) are placed after the fixed ones, in file order, so a substitute
//! day skips dates already taken, as UK Boxing Day after a weekend Christmas does.

use super::model::{Observe, RuleSpec, WindowSpec};
use chrono::{Datelike, Duration, NaiveDate, Weekday};
use std::collections::BTreeMap;
use std::ops::Range;
use toml::Spanned;

type Span = Range<usize>;

/// A rule's dated days, with the span errors about them should point at.
#[derive(Debug, Default)]
pub(crate) struct Expanded {
    pub holidays: BTreeMap<NaiveDate, (String, Span)>,
    pub specials: BTreeMap<NaiveDate, (String, Vec<WindowSpec>, Span)>,
}

/// Expands `rules` over `first ..= last`; `Err((span, reason))` for a malformed rule or one that never
/// matches a covered day.
pub(crate) fn expand(
    rules: &[Spanned<RuleSpec>],
    first: NaiveDate,
    last: NaiveDate,
) -> Result<Expanded, (Span, String)> {
    let mut out = Expanded::default();
    let mut matched = vec![0usize; rules.len()];
    // Three passes: holidays on their own date, then holidays moved off a weekend (so a substitute day
    // skips every date already taken), then special days.
    for pass in [Pass::InPlace, Pass::Moved, Pass::Special] {
        for (rule, count) in rules.iter().zip(matched.iter_mut()) {
            let spec = rule.get_ref();
            if (pass == Pass::Special) != spec.windows.is_some() {
                continue;
            }
            let on_mask = weekday_mask(spec)?;
            let lo = spec.from.as_ref().map_or(first, |d| d.get_ref().0.max(first));
            let hi = spec.until.as_ref().map_or(last, |d| d.get_ref().0.min(last));
            if let Some(dates) = &spec.dates {
                if let Some(bad) = dates.get_ref().iter().find(|d| d.0 < first || d.0 > last) {
                    return Err((
                        dates.span(),
                        format!("{} is outside the covered days {first} ..= {last}", bad.0),
                    ));
                }
            }
            for raw in candidates(spec, lo.year() - 1, hi.year() + 1)? {
                let Some(day) = observe(spec, raw, &out.holidays) else { continue };
                let moved = day != raw;
                if (pass == Pass::InPlace && moved) || (pass == Pass::Moved && !moved) {
                    continue;
                }
                if day < lo
                    || day > hi
                    || on_mask & (1 << day.weekday().num_days_from_monday()) == 0
                {
                    continue;
                }
                *count += 1;
                match &spec.windows {
                    None => {
                        let name = if moved {
                            format!("{} (observed; falls on {} {raw})", spec.name, raw.weekday())
                        } else {
                            spec.name.clone()
                        };
                        out.holidays.entry(day).or_insert_with(|| (name, rule.span()));
                    }
                    Some(windows) if !out.holidays.contains_key(&day) => {
                        if let Some((other, _, _)) = out.specials.get(&day) {
                            return Err((
                                windows.span(),
                                format!(
                                    "{day} gets windows from two rules: {other:?} and {:?}",
                                    spec.name
                                ),
                            ));
                        }
                        out.specials.insert(
                            day,
                            (spec.name.clone(), windows.get_ref().clone(), windows.span()),
                        );
                    }
                    Some(_) => {}
                }
            }
        }
    }
    for (rule, count) in rules.iter().zip(matched) {
        if count == 0 {
            let spec = rule.get_ref();
            let lo = spec.from.as_ref().map_or(first, |d| d.get_ref().0.max(first));
            let hi = spec.until.as_ref().map_or(last, |d| d.get_ref().0.min(last));
            return Err((
                rule.span(),
                if lo > hi {
                    format!(
                        "rule {:?} matches no day: its range lies outside the covered days {first} ..= {last}",
                        spec.name
                    )
                } else {
                    format!("rule {:?} matches no day in {lo} ..= {hi}", spec.name)
                },
            ));
        }
    }
    Ok(out)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Pass {
    InPlace,
    Moved,
    Special,
}

/// The rule's raw dates (before observance and offset filtering) in years `y0 ..= y1`.
fn candidates(spec: &RuleSpec, y0: i32, y1: i32) -> Result<Vec<NaiveDate>, (Span, String)> {
    let selectors =
        [spec.day.is_some(), spec.nth.is_some(), spec.easter.is_some(), spec.dates.is_some()];
    if selectors.iter().filter(|s| **s).count() != 1 {
        return Err((
            spec.month.as_ref().map_or(0..0, Spanned::span),
            format!(
                "rule {:?} needs exactly one of: month + day, month + weekday + nth, easter, dates",
                spec.name
            ),
        ));
    }
    let offset = Duration::days(spec.offset);
    if let Some(dates) = &spec.dates {
        if spec.month.is_some() || spec.weekday.is_some() {
            return Err((dates.span(), "dates cannot be combined with month or weekday".into()));
        }
        return Ok(dates.get_ref().iter().map(|d| d.0 + offset).collect());
    }
    if let Some(easter) = &spec.easter {
        if spec.month.is_some() || spec.weekday.is_some() {
            return Err((easter.span(), "easter cannot be combined with month or weekday".into()));
        }
        let days = Duration::days(*easter.get_ref()) + offset;
        return Ok((y0..=y1).map(|y| easter_sunday(y) + days).collect());
    }
    let month = spec
        .month
        .as_ref()
        .ok_or_else(|| (0..0, format!("rule {:?}: day and nth need a month", spec.name)))?;
    let m = *month.get_ref();
    if !(1..=12).contains(&m) {
        return Err((month.span(), format!("month {m} is not 1..=12")));
    }
    let mut out = Vec::new();
    if let Some(day) = &spec.day {
        let d = *day.get_ref();
        if NaiveDate::from_ymd_opt(2000, m, d).is_none() {
            return Err((day.span(), format!("{m:02}-{d:02} is not a date")));
        }
        // With a weekday: the last such weekday on or before the date (Victoria Day: the Monday on or
        // before 24 May).
        let back_to = match &spec.weekday {
            Some(w) => Some(
                parse_weekday(w.get_ref())
                    .ok_or_else(|| (w.span(), format!("unknown weekday {:?}", w.get_ref())))?,
            ),
            None => None,
        };
        // 29 February only exists in leap years; other years simply have no candidate.
        out.extend((y0..=y1).filter_map(|y| NaiveDate::from_ymd_opt(y, m, d)).map(|date| {
            let back = back_to.map_or(0, |wd| {
                (7 + date.weekday().num_days_from_monday() - wd.num_days_from_monday()) % 7
            });
            date - Duration::days(i64::from(back)) + offset
        }));
        return Ok(out);
    }
    let (Some(nth), Some(weekday)) = (&spec.nth, &spec.weekday) else {
        return Err((month.span(), format!("rule {:?}: nth needs a weekday", spec.name)));
    };
    let wd = parse_weekday(weekday.get_ref())
        .ok_or_else(|| (weekday.span(), format!("unknown weekday {:?}", weekday.get_ref())))?;
    let n = *nth.get_ref();
    if !(n == -1 || (1..=5).contains(&n)) {
        return Err((nth.span(), format!("nth {n}: use 1..=5, or -1 for the last")));
    }
    for y in y0..=y1 {
        let found = if n == -1 {
            let next = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
            NaiveDate::from_ymd_opt(next.0, next.1, 1).map(|d| {
                let last = d - Duration::days(1);
                let back =
                    (7 + last.weekday().num_days_from_monday() - wd.num_days_from_monday()) % 7;
                last - Duration::days(i64::from(back))
            })
        } else {
            // `n` is 1..=5 here, so the cast cannot wrap.
            NaiveDate::from_weekday_of_month_opt(y, m, wd, n.unsigned_abs() as u8)
        };
        out.extend(found.map(|d| d + offset));
    }
    Ok(out)
}

/// Where a raw date lands after weekend observance, or `None` when it is lost.
fn observe(
    spec: &RuleSpec,
    raw: NaiveDate,
    taken: &BTreeMap<NaiveDate, (String, Span)>,
) -> Option<NaiveDate> {
    let wd = raw.weekday();
    let weekend = matches!(wd, Weekday::Sat | Weekday::Sun);
    let free_from = |mut d: NaiveDate, weekdays_only: bool| {
        while taken.contains_key(&d) || (weekdays_only && d.weekday().num_days_from_monday() >= 5) {
            d += Duration::days(1);
        }
        d
    };
    match spec.observe {
        Observe::None => Some(raw),
        Observe::NearestWeekday => Some(match wd {
            Weekday::Sat => raw - Duration::days(1),
            Weekday::Sun => raw + Duration::days(1),
            _ => raw,
        }),
        Observe::SundayToMonday => match wd {
            Weekday::Sat => None,
            Weekday::Sun => Some(raw + Duration::days(1)),
            _ => Some(raw),
        },
        Observe::PreviousWeekday => Some(match wd {
            Weekday::Sat => raw - Duration::days(1),
            Weekday::Sun => raw - Duration::days(2),
            _ => raw,
        }),
        Observe::NextWeekday if weekend => Some(free_from(raw, true)),
        Observe::NextWeekday => Some(raw),
        Observe::SundayToNextFree if wd == Weekday::Sun => {
            Some(free_from(raw + Duration::days(1), false))
        }
        Observe::SundayToNextFree => Some(raw),
    }
}

fn weekday_mask(spec: &RuleSpec) -> Result<u8, (Span, String)> {
    let Some(on) = &spec.on else { return Ok(0x7f) };
    let mut mask = 0u8;
    for w in on {
        let wd = parse_weekday(w.get_ref()).ok_or_else(|| {
            (w.span(), format!("unknown weekday {:?} (use mon..sun)", w.get_ref()))
        })?;
        mask |= 1 << wd.num_days_from_monday();
    }
    Ok(mask)
}

pub(crate) fn parse_weekday(name: &str) -> Option<Weekday> {
    const NAMES: [(&str, Weekday); 7] = [
        ("mon", Weekday::Mon),
        ("tue", Weekday::Tue),
        ("wed", Weekday::Wed),
        ("thu", Weekday::Thu),
        ("fri", Weekday::Fri),
        ("sat", Weekday::Sat),
        ("sun", Weekday::Sun),
    ];
    NAMES.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, w)| *w)
}

/// Western (Gregorian) Easter Sunday: the anonymous Gregorian computus.
pub(crate) fn easter_sunday(year: i32) -> NaiveDate {
    let a = year % 19;
    let b = year / 100;
    let c = year % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    // The computus yields March or April and a valid day for every year.
    NaiveDate::from_ymd_opt(year, month.unsigned_abs(), day.unsigned_abs()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn rules(text: &str) -> Vec<Spanned<RuleSpec>> {
        #[derive(serde::Deserialize)]
        struct File {
            rule: Vec<Spanned<RuleSpec>>,
        }
        toml::from_str::<File>(text).unwrap_or_else(|e| panic!("{e}")).rule
    }

    fn holidays(text: &str, y0: &str, y1: &str) -> Vec<NaiveDate> {
        let out = expand(&rules(text), d(y0), d(y1)).unwrap_or_else(|(_, e)| panic!("{e}"));
        out.holidays.keys().copied().collect()
    }

    #[test]
    fn easter_matches_known_years() {
        for (y, want) in [
            (2000, "2000-04-23"),
            (2008, "2008-03-23"),
            (2011, "2011-04-24"),
            (2024, "2024-03-31"),
            (2025, "2025-04-20"),
            (2035, "2035-03-25"),
        ] {
            assert_eq!(easter_sunday(y), d(want), "{y}");
        }
    }

    #[test]
    fn nth_and_last_weekdays() {
        let mlk = "[[rule]]\nname = \"MLK\"\nmonth = 1\nweekday = \"mon\"\nnth = 3\n";
        assert_eq!(holidays(mlk, "2024-01-01", "2025-12-31"), [d("2024-01-15"), d("2025-01-20")]);
        let memorial = "[[rule]]\nname = \"Memorial\"\nmonth = 5\nweekday = \"mon\"\nnth = -1\n";
        assert_eq!(
            holidays(memorial, "2024-01-01", "2025-12-31"),
            [d("2024-05-27"), d("2025-05-26")]
        );
    }

    #[test]
    fn weekday_on_or_before_a_date() {
        let victoria = "[[rule]]\nname = \"Victoria\"\nmonth = 5\nday = 24\nweekday = \"mon\"\n";
        // 2024-05-24 is a Friday, 2021-05-24 a Monday.
        assert_eq!(holidays(victoria, "2021-01-01", "2021-12-31"), [d("2021-05-24")]);
        assert_eq!(holidays(victoria, "2024-01-01", "2024-12-31"), [d("2024-05-20")]);
    }

    #[test]
    fn weekend_observance() {
        let july4 = "[[rule]]\nname = \"J4\"\nmonth = 7\nday = 4\nobserve = \"nearest_weekday\"\n";
        // 2020-07-04 is a Saturday, 2021-07-04 a Sunday.
        assert_eq!(holidays(july4, "2020-01-01", "2021-12-31"), [d("2020-07-03"), d("2021-07-05")]);
        let ny = "[[rule]]\nname = \"NY\"\nmonth = 1\nday = 1\nobserve = \"sunday_to_monday\"\n";
        // 2022-01-01 is a Saturday: lost; 2023-01-01 a Sunday: Monday.
        assert_eq!(holidays(ny, "2022-01-01", "2023-12-31"), [d("2023-01-02")]);
    }

    #[test]
    fn uk_christmas_and_boxing_day_substitutes_skip_taken_days() {
        let text = "[[rule]]\nname = \"Christmas\"\nmonth = 12\nday = 25\nobserve = \"next_weekday\"\n\
                    [[rule]]\nname = \"Boxing\"\nmonth = 12\nday = 26\nobserve = \"next_weekday\"\n";
        // 2021: Sat 25 -> Mon 27, Sun 26 -> Tue 28. 2022: Sun 25 -> Tue 27 (Mon 26 is Boxing Day).
        assert_eq!(
            holidays(text, "2021-01-01", "2022-12-31"),
            [d("2021-12-27"), d("2021-12-28"), d("2022-12-26"), d("2022-12-27")]
        );
    }

    #[test]
    fn holidays_win_over_special_days_and_filters_apply() {
        let text = "[[rule]]\nname = \"J4\"\nmonth = 7\nday = 4\nobserve = \"nearest_weekday\"\n\
                    [[rule]]\nname = \"eve\"\nmonth = 7\nday = 3\non = [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\"]\n\
                    windows = [{ session = \"regular\", start = \"09:30\", end = \"13:00\" }]\n";
        let out = expand(&rules(text), d("2019-01-01"), d("2020-12-31"))
            .unwrap_or_else(|(_, e)| panic!("{e}"));
        // 2020-07-03 is the observed holiday, so no early close that day.
        assert_eq!(out.specials.keys().copied().collect::<Vec<_>>(), [d("2019-07-03")]);
    }

    #[test]
    fn a_rule_that_never_matches_is_refused() {
        let text = "[[rule]]\nname = \"gone\"\nmonth = 7\nday = 4\nuntil = 2010-01-01\n";
        let (_, reason) =
            expand(&rules(text), d("2020-01-01"), d("2021-12-31")).expect_err("no day");
        assert!(reason.contains("matches no day"), "{reason}");
        let both = "[[rule]]\nname = \"x\"\nmonth = 7\nday = 4\neaster = 1\n";
        let (_, reason) =
            expand(&rules(both), d("2020-01-01"), d("2021-12-31")).expect_err("two selectors");
        assert!(reason.contains("exactly one"), "{reason}");
    }
}
