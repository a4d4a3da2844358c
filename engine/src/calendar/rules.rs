//! A compiled calendar: the checked rules of one file, answering "which windows does day D have?".

use super::model::WindowSpec;
use chrono::{Datelike, NaiveDate};
use chrono_tz::Tz;
use std::collections::BTreeMap;
use std::ops::Range;

/// Weekly windows in force from `effective_from` until the next template's date.
#[derive(Clone, Debug)]
pub(crate) struct Template {
    pub effective_from: NaiveDate,
    /// Bit `n` set = trades on weekday `n` (Monday = 0).
    pub weekday_mask: u8,
    pub windows: Vec<WindowSpec>,
}

/// One exchange calendar, ready to answer questions. Built by [`super::Calendars`] from a checked file.
#[derive(Clone, Debug)]
pub struct Calendar {
    pub(crate) name: String,
    pub(crate) file: String,
    pub(crate) tz: Tz,
    pub(crate) first_day: NaiveDate,
    pub(crate) last_day: NaiveDate,
    pub(crate) compiled: NaiveDate,
    pub(crate) sources: Vec<String>,
    /// Sorted by `effective_from`; the first starts on or before `first_day`.
    pub(crate) templates: Vec<Template>,
    pub(crate) holidays: BTreeMap<NaiveDate, String>,
    pub(crate) specials: BTreeMap<NaiveDate, (String, Vec<WindowSpec>)>,
    /// How many calendar days before its date a trading day may start (0, or 1-2 for CME evenings).
    pub(crate) lookback_days: i64,
    /// Instants (UTC ns) whose classification this file fully determines.
    pub(crate) covered_ns: Range<i64>,
}

impl Calendar {
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The file the calendar was read from (`builtin:NAME.toml` for embedded ones).
    pub fn file(&self) -> &str {
        &self.file
    }

    pub fn timezone(&self) -> Tz {
        self.tz
    }

    /// First and last trading day the file covers (inclusive).
    pub fn days(&self) -> (NaiveDate, NaiveDate) {
        (self.first_day, self.last_day)
    }

    pub fn compiled(&self) -> NaiveDate {
        self.compiled
    }

    pub fn sources(&self) -> &[String] {
        &self.sources
    }

    /// Instants (ns since the Unix epoch, UTC) this calendar can classify; anything else is
    /// [`super::Coverage::Outside`].
    pub fn covered_ns(&self) -> Range<i64> {
        self.covered_ns.clone()
    }

    /// The holiday name when `day` is a listed full-day closure.
    pub fn holiday(&self, day: NaiveDate) -> Option<&str> {
        self.holidays.get(&day).map(String::as_str)
    }

    /// The local windows of trading day `day`, or `None` when it is not a trading day (weekend, holiday,
    /// outside the covered days).
    pub fn local_windows(&self, day: NaiveDate) -> Option<&[WindowSpec]> {
        if day < self.first_day || day > self.last_day || self.holidays.contains_key(&day) {
            return None;
        }
        if let Some((_, windows)) = self.specials.get(&day) {
            return Some(windows);
        }
        let template = self.templates.iter().rev().find(|t| t.effective_from <= day)?;
        let weekday = day.weekday().num_days_from_monday();
        (template.weekday_mask & (1 << weekday) != 0).then_some(template.windows.as_slice())
    }
}

/// A weekly template as shown to people: in force from `effective_from` until the next one.
#[derive(Clone, Debug)]
pub struct TemplateView<'a> {
    pub effective_from: NaiveDate,
    pub weekdays: Vec<chrono::Weekday>,
    pub windows: &'a [WindowSpec],
}

const WEEK: [chrono::Weekday; 7] = [
    chrono::Weekday::Mon,
    chrono::Weekday::Tue,
    chrono::Weekday::Wed,
    chrono::Weekday::Thu,
    chrono::Weekday::Fri,
    chrono::Weekday::Sat,
    chrono::Weekday::Sun,
];

impl Calendar {
    /// The templates in force at some point of `days` (inclusive), oldest first.
    pub fn templates_during(
        &self,
        days: std::ops::RangeInclusive<NaiveDate>,
    ) -> Vec<TemplateView<'_>> {
        let mut out = Vec::new();
        for (i, t) in self.templates.iter().enumerate() {
            let until = self.templates.get(i + 1).map_or(NaiveDate::MAX, |n| n.effective_from);
            if t.effective_from <= *days.end() && until > *days.start() {
                let weekdays: Vec<_> = WEEK
                    .iter()
                    .copied()
                    .filter(|w| t.weekday_mask & (1 << w.num_days_from_monday()) != 0)
                    .collect();
                out.push(TemplateView {
                    effective_from: t.effective_from,
                    weekdays,
                    windows: &t.windows,
                });
            }
        }
        out
    }

    /// Full-day closures in `days` (inclusive), by date.
    pub fn holidays_during(
        &self,
        days: std::ops::RangeInclusive<NaiveDate>,
    ) -> impl Iterator<Item = (NaiveDate, &str)> {
        self.holidays.range(days).map(|(d, n)| (*d, n.as_str()))
    }

    /// Days with their own windows in `days` (inclusive), by date.
    pub fn specials_during(
        &self,
        days: std::ops::RangeInclusive<NaiveDate>,
    ) -> impl Iterator<Item = (NaiveDate, &str, &[WindowSpec])> {
        self.specials.range(days).map(|(d, (n, w))| (*d, n.as_str(), w.as_slice()))
    }
}

impl Calendar {
    /// `ts_ns` (ns since the Unix epoch, UTC) on the exchange's wall clock.
    pub fn local_datetime(&self, ts_ns: i64) -> chrono::DateTime<Tz> {
        use chrono::TimeZone;
        self.tz.timestamp_nanos(ts_ns)
    }
}
