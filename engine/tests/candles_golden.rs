//! Golden candles: fixture ticks in `fixtures/candles/NAME.ticks.csv`, expected CSV in
//! `fixtures/candles/NAME.SERIES.csv`. `UPDATE_GOLDEN=1 cargo test` rewrites the expected files; review
//! the diff before committing it.

mod support;

use std::path::PathBuf;
use support::{candles, read_fixture};
use tickring_engine::candles::{
    candles_to_csv, CandleAggregator, CandleConfig, OpenUpdates, Retention, Series,
};

fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/candles")
}

fn check(name: &str, series: &[&str]) {
    let dir = fixture_dir();
    let text = std::fs::read_to_string(dir.join(format!("{name}.ticks.csv"))).expect("fixture");
    let (ticks, symbols) = read_fixture(&text);
    for s in series {
        let series: Series = s.parse().expect("series");
        let mut out = Vec::new();
        candles_to_csv(
            ticks.iter().copied(),
            series.interval,
            series.scope,
            |id| symbols[id as usize].clone(),
            &mut out,
        )
        .expect("csv");
        let got = String::from_utf8(out).expect("utf-8");
        let path = dir.join(format!("{name}.{series}.csv"));
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            std::fs::write(&path, &got).expect("write golden");
        }
        let want = std::fs::read_to_string(&path).unwrap_or_default();
        assert_eq!(got, want, "{name} {series}: output differs from {}", path.display());
    }
}

#[test]
fn dst_week_in_new_york() {
    check("nyse_dst", &["1h", "1d", "1d-regular"]);
}

#[test]
fn half_day() {
    check("nyse_half_day", &["1h", "1d", "1d-regular"]);
}

#[test]
fn cme_reopen_starts_the_next_trading_day() {
    check("cme_reopen", &["1h", "1d"]);
}

#[test]
fn same_millisecond_trades_tie_by_sequence() {
    check("same_millisecond", &["1s"]);
}

#[test]
fn late_ticks_and_a_cancel() {
    check("late_and_cancel", &["1m"]);
}

/// The emissions behind `late_and_cancel.1m.csv`: each amendment of the closed 14:00 bucket is one more
/// version; the correction lands in the open 14:01 bucket.
#[test]
fn late_ticks_bump_the_version() {
    let text =
        std::fs::read_to_string(fixture_dir().join("late_and_cancel.ticks.csv")).expect("fixture");
    let (ticks, _) = read_fixture(&text);
    let config = CandleConfig {
        series: vec![Series::M1],
        retention: Retention::default(),
        open_updates: OpenUpdates::Off,
        ..CandleConfig::default()
    };
    let mut agg = CandleAggregator::new(config).expect("config");
    let mut events = Vec::new();
    for (seq, tick) in &ticks {
        agg.on_tick(*seq, tick, &mut |e| events.push(e));
    }
    agg.close_all(&mut |e| events.push(e));
    let got: Vec<_> = candles(&events)
        .iter()
        .map(|c| {
            (c.bucket.to_string(), c.version, c.trades, c.open.to_string(), c.close.to_string())
        })
        .collect();
    let want = [
        ("2024-03-11T14:00:00Z", 1, 2, "10", "11"),
        ("2024-03-11T14:00:00Z", 2, 3, "9.5", "11"),
        ("2024-03-11T14:00:00Z", 3, 2, "9.5", "11"),
        ("2024-03-11T14:01:00Z", 1, 2, "12", "12.5"),
        ("2024-03-11T14:02:00Z", 1, 1, "12.4", "12.4"),
    ];
    let want: Vec<_> = want
        .iter()
        .map(|(b, v, n, o, c)| (b.to_string(), *v, *n, o.to_string(), c.to_string()))
        .collect();
    assert_eq!(got, want);
    let stats = agg.stats();
    assert_eq!((stats.late_ticks, stats.cancels, stats.corrections, stats.reemitted), (2, 1, 1, 2));
}
