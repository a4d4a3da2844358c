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
//! ```

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
