//! Candle intervals, the daily scope, and the series (interval + scope) a candle belongs to.

use std::fmt;
use std::str::FromStr;

const NS_PER_SEC: u64 = 1_000_000_000;
/// One UTC day in nanoseconds; trading days count these from 1970-01-01.
pub const NS_PER_DAY: u64 = 86_400 * NS_PER_SEC;

/// A name that is not an interval, scope or series.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IntervalParseError {
    #[error("unknown candle interval {0:?} (expected 1s, 1m, 1h or 1d)")]
    Interval(String),
    #[error("unknown daily scope {0:?} (expected all or regular)")]
    Scope(String),
}

/// Candle length. Intraday intervals bucket by UTC event time; `D1` buckets by exchange trading day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Interval {
    S1,
    M1,
    H1,
    D1,
}

impl Interval {
    pub const ALL: [Interval; 4] = [Interval::S1, Interval::M1, Interval::H1, Interval::D1];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::S1 => "1s",
            Self::M1 => "1m",
            Self::H1 => "1h",
            Self::D1 => "1d",
        }
    }

    /// Bucket length in nanoseconds for intraday intervals; `None` for `D1`, whose length is the trading day's.
    pub fn intraday_ns(self) -> Option<u64> {
        match self {
            Self::S1 => Some(NS_PER_SEC),
            Self::M1 => Some(60 * NS_PER_SEC),
            Self::H1 => Some(3_600 * NS_PER_SEC),
            Self::D1 => None,
        }
    }

    pub fn is_daily(self) -> bool {
        self == Self::D1
    }
}

impl fmt::Display for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Interval {
    type Err = IntervalParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|i| i.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| IntervalParseError::Interval(s.to_string()))
    }
}

/// Which trades a series takes: every session, or only ticks tagged `Session::Regular`.
///
/// Named for its main use (1d has one stream per scope) but valid for any interval.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DailyScope {
    #[default]
    All,
    Regular,
}

impl DailyScope {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::All => "all",
            Self::Regular => "regular",
        }
    }
}

impl fmt::Display for DailyScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DailyScope {
    type Err = IntervalParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            x if x.eq_ignore_ascii_case("all") => Ok(Self::All),
            x if x.eq_ignore_ascii_case("regular") => Ok(Self::Regular),
            _ => Err(IntervalParseError::Scope(s.to_string())),
        }
    }
}

/// One candle stream: an interval and the scope of trades it takes. Written `1m`, `1d`, `1d-regular`.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "String", into = "String")]
pub struct Series {
    pub interval: Interval,
    pub scope: DailyScope,
}

impl Series {
    pub const S1: Series = Series::new(Interval::S1, DailyScope::All);
    pub const M1: Series = Series::new(Interval::M1, DailyScope::All);
    pub const H1: Series = Series::new(Interval::H1, DailyScope::All);
    pub const D1: Series = Series::new(Interval::D1, DailyScope::All);
    pub const D1_REGULAR: Series = Series::new(Interval::D1, DailyScope::Regular);
    /// What the sinks store and push: all intraday intervals and both daily streams.
    pub const DEFAULT: [Series; 5] = [Self::S1, Self::M1, Self::H1, Self::D1, Self::D1_REGULAR];

    pub const fn new(interval: Interval, scope: DailyScope) -> Self {
        Self { interval, scope }
    }
}

impl fmt::Display for Series {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.scope {
            DailyScope::All => write!(f, "{}", self.interval),
            scope => write!(f, "{}-{scope}", self.interval),
        }
    }
}

impl FromStr for Series {
    type Err = IntervalParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (interval, scope) = match s.split_once('-') {
            Some((i, sc)) => (i.parse()?, sc.parse()?),
            None => (s.parse()?, DailyScope::All),
        };
        Ok(Self { interval, scope })
    }
}

impl TryFrom<String> for Series {
    type Error = IntervalParseError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Series> for String {
    fn from(s: Series) -> Self {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for i in Interval::ALL {
            assert_eq!(i.to_string().parse::<Interval>(), Ok(i));
            for scope in [DailyScope::All, DailyScope::Regular] {
                let s = Series::new(i, scope);
                assert_eq!(s.to_string().parse::<Series>(), Ok(s));
            }
        }
        assert_eq!("1M".parse::<Interval>(), Ok(Interval::M1));
        assert_eq!(Series::D1_REGULAR.to_string(), "1d-regular");
        assert_eq!(Series::H1.to_string(), "1h");
    }

    #[test]
    fn rejects_unknown_names() {
        assert!(matches!("5m".parse::<Interval>(), Err(IntervalParseError::Interval(_))));
        assert!(matches!("1d-extended".parse::<Series>(), Err(IntervalParseError::Scope(_))));
        assert!(matches!("".parse::<Series>(), Err(IntervalParseError::Interval(_))));
    }

    #[test]
    fn intraday_lengths() {
        assert_eq!(Interval::S1.intraday_ns(), Some(1_000_000_000));
        assert_eq!(Interval::H1.intraday_ns(), Some(3_600_000_000_000));
        assert_eq!(Interval::D1.intraday_ns(), None);
    }
}
