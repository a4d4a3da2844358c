//! The calendar file format (TOML), as written by people: parsed here, checked and compiled in `load`.
//!
//! ```toml
//! [calendar]
//! name = "us-equities"
//! exchanges = ["XNYS", "XNAS"]
//! timezone = "America/New_York"
//! first_day = 2024-01-01          # covered trading days, inclusive
//! last_day = 2027-12-31
//! compiled = 2025-06-01
//! sources = ["NYSE holidays and trading hours page"]
//!
//! [[template]]                     # weekly windows, from a date on (a later template replaces it)
//! effective_from = 2024-01-01
//! weekdays = ["mon", "tue", "wed", "thu", "fri"]
//! windows = [{ session = "regular", start = "09:30", end = "16:00" }]
//!
//! [[holiday]]                      # no trading day at all
//! date = 2024-01-01
//! name = "New Year's Day"
//!
//! [[special]]                      # this day's windows replace the template's
//! date = 2024-07-03
//! name = "Independence Day eve, early close"
//! windows = [{ session = "regular", start = "09:30", end = "13:00" }]
//!
//! [[rule]]                         # a holiday every year (weekend observance optional)
//! name = "Independence Day"
//! month = 7
//! day = 4
//! observe = "nearest_weekday"
//!
//! [[rule]]                         # with windows: a special day every year
//! name = "Day after Thanksgiving, early close"
//! month = 11
//! weekday = "thu"
//! nth = 4
//! offset = 1
//! windows = [{ session = "regular", start = "09:30", end = "13:00" }]
//! ```
//!
//! The full reference is `docs/calendars.md`.

use super::wall::WallTime;
use crate::tick::Session;
use chrono::NaiveDate;
use serde::Deserialize;
use toml::Spanned;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarFile {
    pub calendar: Header,
    #[serde(default)]
    pub template: Vec<Spanned<TemplateSpec>>,
    #[serde(default)]
    pub holiday: Vec<Spanned<DaySpec>>,
    #[serde(default)]
    pub special: Vec<Spanned<SpecialSpec>>,
    #[serde(default)]
    pub rule: Vec<Spanned<RuleSpec>>,
}

/// A holiday or special day by rule, expanded over the covered years (see `expand`). Exactly one way of
/// picking the date: `month` + `day` (with `weekday`: the last such weekday on or before it),
/// `month` + `weekday` + `nth`, `easter`, or `dates`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    pub name: String,
    pub month: Option<Spanned<u32>>,
    pub day: Option<Spanned<u32>>,
    /// With `month` and `nth`: the nth (1..=5, or -1 for the last) such weekday of the month.
    pub weekday: Option<Spanned<String>>,
    pub nth: Option<Spanned<i32>>,
    /// Days from Western Easter Sunday (-2 Good Friday, 1 Easter Monday, 39 Ascension, 50 Whit Monday).
    pub easter: Option<Spanned<i64>>,
    /// Explicit dates: tables (lunar holidays) and one-off closures.
    pub dates: Option<Spanned<Vec<Date>>>,
    /// Days added to the picked date (e.g. 1 for the day after Thanksgiving).
    #[serde(default)]
    pub offset: i64,
    /// What happens when the date falls on a weekend (default `none`).
    #[serde(default)]
    pub observe: Observe,
    /// Only when the date falls on one of these weekdays (after `observe`).
    pub on: Option<Vec<Spanned<String>>>,
    /// The rule applies to dates in `from ..= until` (both optional).
    pub from: Option<Spanned<Date>>,
    pub until: Option<Spanned<Date>>,
    /// Present: a special day with these windows (early close, late open); absent: a holiday.
    pub windows: Option<Spanned<Vec<WindowSpec>>>,
}

/// Weekend observance of a rule's date.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Observe {
    /// A weekend date is simply lost.
    #[default]
    None,
    /// Saturday moves to Friday, Sunday to Monday (US federal style).
    NearestWeekday,
    /// Sunday moves to Monday; Saturday is lost (NYSE New Year's Day).
    SundayToMonday,
    /// Saturday or Sunday moves to the next weekday that is not already a holiday (UK substitute days).
    NextWeekday,
    /// Saturday or Sunday moves to the Friday before (early closes on the last trading day before a date).
    PreviousWeekday,
    /// Sunday moves to the next day that is not already a holiday; Saturday is lost (Japan's substitute
    /// holiday).
    SundayToNextFree,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    /// Free-form name, shown in errors and reports.
    pub name: String,
    /// MICs that trade on this calendar.
    pub exchanges: Vec<Spanned<String>>,
    /// IANA timezone name all wall times are in.
    pub timezone: Spanned<String>,
    /// First and last trading day the file vouches for (inclusive).
    pub first_day: Spanned<Date>,
    pub last_day: Spanned<Date>,
    /// When the dates were compiled, so a reader can judge how stale they are.
    pub compiled: Date,
    /// Where the dates and hours come from.
    pub sources: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateSpec {
    pub effective_from: Spanned<Date>,
    pub weekdays: Vec<Spanned<String>>,
    pub windows: Spanned<Vec<WindowSpec>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DaySpec {
    pub date: Spanned<Date>,
    pub name: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpecialSpec {
    pub date: Spanned<Date>,
    pub name: String,
    pub windows: Spanned<Vec<WindowSpec>>,
}

/// One window of a trading day; the gaps between windows are closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowSpec {
    pub session: Session,
    #[serde(deserialize_with = "wall_time")]
    pub start: WallTime,
    #[serde(deserialize_with = "wall_time")]
    pub end: WallTime,
}

fn wall_time<'de, D: serde::Deserializer<'de>>(de: D) -> Result<WallTime, D::Error> {
    let text = String::deserialize(de)?;
    WallTime::try_from(text).map_err(serde::de::Error::custom)
}

/// A TOML local date (`2024-01-01`, unquoted).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(try_from = "toml::value::Datetime")]
pub struct Date(pub NaiveDate);

impl TryFrom<toml::value::Datetime> for Date {
    type Error = String;

    fn try_from(dt: toml::value::Datetime) -> Result<Self, Self::Error> {
        match (dt.date, dt.time, dt.offset) {
            (Some(d), None, None) => {
                NaiveDate::from_ymd_opt(i32::from(d.year), u32::from(d.month), u32::from(d.day))
                    .map(Date)
                    .ok_or_else(|| format!("{dt} is not a calendar date"))
            }
            _ => Err(format!("expected a plain date like 2024-01-31, got {dt}")),
        }
    }
}
