//! Aggregator settings: which series to build, when buckets close, how long closed ones stay amendable.

use super::interval::{Interval, Series};

/// A configuration the aggregator refuses at start-up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CandleConfigError {
    #[error("no candle series configured")]
    NoSeries,
    #[error("candle series {0} listed twice")]
    DuplicateSeries(Series),
}

/// When live (not yet closed) candles are emitted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OpenUpdates {
    /// Only closed candles and late re-emissions (the ClickHouse writer).
    #[default]
    Off,
    /// After every tick that changes an open bucket (highest rate; for tests and low-volume feeds).
    EveryTick,
    /// On each `on_clock` call, once per open bucket changed since its last emission: the caller's clock
    /// cadence is the throttle (the websocket pusher calls it every few hundred milliseconds).
    OnClock,
}

/// How many closed buckets per instrument and series stay amendable by late ticks and cancels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Retention {
    pub s1: usize,
    pub m1: usize,
    pub h1: usize,
    pub d1: usize,
}

impl Default for Retention {
    /// Two minutes of 1s buckets, an hour of 1m, a day of 1h, a week of trading days.
    fn default() -> Self {
        Self { s1: 120, m1: 60, h1: 24, d1: 5 }
    }
}

impl Retention {
    /// Keeps everything: for offline runs over a finished file, where memory is bounded by the file.
    pub const UNBOUNDED: Self =
        Self { s1: usize::MAX, m1: usize::MAX, h1: usize::MAX, d1: usize::MAX };

    pub fn of(&self, interval: Interval) -> usize {
        match interval {
            Interval::S1 => self.s1,
            Interval::M1 => self.m1,
            Interval::H1 => self.h1,
            Interval::D1 => self.d1,
        }
    }
}

/// Settings of a [`super::CandleAggregator`].
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CandleConfig {
    /// Series to build, e.g. `["1s", "1m", "1h", "1d", "1d-regular"]`.
    pub series: Vec<Series>,
    /// How long after a bucket's end `on_clock` waits before closing it, for ticks still in flight.
    pub grace_ns: u64,
    /// Daily buckets close on the clock at the UTC midnight after their trading day plus this lag (default
    /// 12 h: every local date is over by then), plus `grace_ns`. A tick of the instrument with a later
    /// trading day closes them sooner.
    pub daily_close_lag_ns: u64,
    pub retention: Retention,
    pub open_updates: OpenUpdates,
}

impl Default for CandleConfig {
    fn default() -> Self {
        Self {
            series: Series::DEFAULT.to_vec(),
            grace_ns: 2_000_000_000,
            daily_close_lag_ns: 12 * 3_600 * 1_000_000_000,
            retention: Retention::default(),
            open_updates: OpenUpdates::Off,
        }
    }
}

impl CandleConfig {
    /// # Errors
    /// No series, or one series listed twice.
    pub fn validate(&self) -> Result<(), CandleConfigError> {
        if self.series.is_empty() {
            return Err(CandleConfigError::NoSeries);
        }
        for (i, s) in self.series.iter().enumerate() {
            if self.series[..i].contains(s) {
                return Err(CandleConfigError::DuplicateSeries(*s));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid_and_builds_five_series() {
        let c = CandleConfig::default();
        assert_eq!(c.validate(), Ok(()));
        assert_eq!(c.series.len(), 5);
    }

    #[test]
    fn refuses_empty_and_duplicate_series() {
        let mut c = CandleConfig { series: vec![], ..CandleConfig::default() };
        assert_eq!(c.validate(), Err(CandleConfigError::NoSeries));
        c.series = vec![Series::M1, Series::D1, Series::M1];
        assert_eq!(c.validate(), Err(CandleConfigError::DuplicateSeries(Series::M1)));
    }

    #[test]
    fn reads_from_toml_and_refuses_unknown_keys() {
        let c: CandleConfig = toml::from_str(
            "series = [\"1m\", \"1d-regular\"]\ngrace_ns = 5\nopen_updates = \"on_clock\"\n[retention]\ns1 = 3\n",
        )
        .expect("test value");
        assert_eq!(c.series, [Series::M1, Series::D1_REGULAR]);
        assert_eq!(
            (c.grace_ns, c.open_updates, c.retention.s1, c.retention.m1),
            (5, OpenUpdates::OnClock, 3, 60)
        );
        assert!(toml::from_str::<CandleConfig>("grace = 5").is_err());
        assert!(toml::from_str::<CandleConfig>("series = [\"5m\"]").is_err());
    }
}
