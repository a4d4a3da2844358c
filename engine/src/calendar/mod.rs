//! Exchange calendars: trading sessions, holidays and special days, shipped as data files.
//!
//! The files in `engine/calendars/` are embedded ([`Calendars::builtin`]); a user-maintained copy of the
//! directory can replace them without a rebuild ([`Calendars::load_dir`]). Each file covers a range of
//! trading days; instants outside it classify as [`crate::Session::Unknown`] with [`Coverage::Outside`].

mod classify;
mod clock;
mod error;
mod expand;
mod load;
mod model;
mod rules;
mod schedule;
mod wall;

#[cfg(test)]
mod load_tests;
#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

pub use classify::{Classified, Coverage};
pub use clock::SessionClock;
pub use error::CalendarError;
pub use model::WindowSpec;
pub use rules::{Calendar, TemplateView};
pub use schedule::{DaySchedule, UtcWindow, MAX_WINDOWS};
pub use wall::{local_to_utc_ns, WallTime};

use crate::tick::Exchange;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// The calendar files compiled into the binary, by file name.
pub const BUILTIN_FILES: &[(&str, &str)] = &[
    ("us-equities.toml", include_str!("../../calendars/us-equities.toml")),
    ("cme-equity-futures.toml", include_str!("../../calendars/cme-equity-futures.toml")),
    ("xkrx.toml", include_str!("../../calendars/xkrx.toml")),
    ("xtks.toml", include_str!("../../calendars/xtks.toml")),
    ("xhkg.toml", include_str!("../../calendars/xhkg.toml")),
    ("xlon.toml", include_str!("../../calendars/xlon.toml")),
    ("xpar.toml", include_str!("../../calendars/xpar.toml")),
    ("xetr.toml", include_str!("../../calendars/xetr.toml")),
    ("xshg-xshe.toml", include_str!("../../calendars/xshg-xshe.toml")),
    ("xtse.toml", include_str!("../../calendars/xtse.toml")),
    ("xasx.toml", include_str!("../../calendars/xasx.toml")),
];

/// Every exchange's calendar, shared (`Arc`) so clocks can move to other threads.
#[derive(Clone, Debug, Default)]
pub struct Calendars {
    by_exchange: BTreeMap<Exchange, Arc<Calendar>>,
}

impl Calendars {
    /// The calendars embedded in the binary.
    ///
    /// # Errors
    /// Only if an embedded file is broken, which the test suite rules out.
    pub fn builtin() -> Result<Self, CalendarError> {
        Self::from_sources(
            BUILTIN_FILES
                .iter()
                .map(|(name, text)| (format!("builtin:{name}"), (*text).to_owned())),
        )
    }

    /// Reads every `*.toml` file in `dir` (a user-updated copy of `engine/calendars/`).
    ///
    /// # Errors
    /// An unreadable directory or file, a file that fails to parse or check (with its line and column),
    /// two files claiming one exchange, or a directory without calendar files.
    pub fn load_dir(dir: &Path) -> Result<Self, CalendarError> {
        let mut paths = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(|e| io_err(dir, e))? {
            let path = entry.map_err(|e| io_err(dir, e))?.path();
            if path.extension().is_some_and(|e| e == "toml") && path.is_file() {
                paths.push(path);
            }
        }
        if paths.is_empty() {
            return Err(CalendarError::EmptyDir(dir.to_path_buf()));
        }
        paths.sort();
        let mut sources = Vec::with_capacity(paths.len());
        for path in paths {
            let text = std::fs::read_to_string(&path).map_err(|e| io_err(&path, e))?;
            sources.push((path.display().to_string(), text));
        }
        Self::from_sources(sources)
    }

    /// Builds calendars from `(file name, TOML text)` pairs.
    ///
    /// # Errors
    /// As [`Calendars::load_dir`], minus the I/O.
    pub fn from_sources(
        sources: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, CalendarError> {
        let mut by_exchange: BTreeMap<Exchange, Arc<Calendar>> = BTreeMap::new();
        for (file, text) in sources {
            let (exchanges, calendar) = load::parse_calendar(&file, &text)?;
            let calendar = Arc::new(calendar);
            for exchange in exchanges {
                if let Some(other) = by_exchange.insert(exchange, Arc::clone(&calendar)) {
                    return Err(CalendarError::DuplicateExchange {
                        mic: exchange.mic().to_owned(),
                        first: other.file().to_owned(),
                        second: file,
                    });
                }
            }
            tracing::debug!(file, name = calendar.name(), "calendar loaded");
        }
        Ok(Self { by_exchange })
    }

    pub fn get(&self, exchange: Exchange) -> Option<&Arc<Calendar>> {
        self.by_exchange.get(&exchange)
    }

    /// Exchanges that have a calendar.
    pub fn exchanges(&self) -> impl Iterator<Item = Exchange> + '_ {
        self.by_exchange.keys().copied()
    }

    /// Classifies `ts_ns` (ns since the Unix epoch, UTC) from scratch; `None` when `exchange` has no calendar.
    pub fn classify(&self, exchange: Exchange, ts_ns: i64) -> Option<Classified> {
        self.get(exchange).map(|c| c.classify(ts_ns))
    }

    /// A caching classifier for `exchange`'s stream of ticks; `None` when it has no calendar.
    pub fn clock(&self, exchange: Exchange) -> Option<SessionClock> {
        self.get(exchange).map(|c| SessionClock::new(Arc::clone(c)))
    }
}

fn io_err(path: &Path, source: std::io::Error) -> CalendarError {
    CalendarError::Io { path: path.to_path_buf(), source }
}
