//! The aggregator's closing, late-tick, cancel and live-update rules, through its public API.

mod support;

use support::{candles, day, ns, trade, with_flags};
use tickring_engine::candles::{
    Bucket, CandleAggregator, CandleConfig, CandleEvent, OpenUpdates, Retention, Series, SkipReason,
};
use tickring_engine::{Price, Quantity, Session, Tick, TickFlags};

const REG: Session = Session::Regular;

fn agg(series: &[Series], f: impl FnOnce(&mut CandleConfig)) -> CandleAggregator {
    let mut config = CandleConfig { series: series.to_vec(), ..CandleConfig::default() };
    f(&mut config);
    CandleAggregator::new(config).expect("valid config")
}

fn feed(agg: &mut CandleAggregator, ticks: &[(u64, Tick)]) -> Vec<CandleEvent> {
    let mut out = Vec::new();
    for (seq, t) in ticks {
        agg.on_tick(*seq, t, &mut |e| out.push(e));
    }
    out
}

fn clock(agg: &mut CandleAggregator, at: &str) -> Vec<CandleEvent> {
    let mut out = Vec::new();
    agg.on_clock(ns(at), &mut |e| out.push(e));
    out
}

fn p(s: &str) -> Price {
    Price::parse(s).expect("price")
}

fn t(ts: &str, price: &str, size: &str) -> Tick {
    trade(1, ts, price, size, "2024-03-11", REG)
}

#[test]
fn a_trade_in_a_later_bucket_closes_the_open_one() {
    let mut a = agg(&[Series::M1], |_| {});
    let ev = feed(
        &mut a,
        &[(1, t("2024-03-11T14:00:01Z", "10", "1")), (2, t("2024-03-11T14:00:59Z", "11", "2"))],
    );
    assert!(ev.is_empty(), "no live updates by default");
    let ev = candles(&feed(&mut a, &[(3, t("2024-03-11T14:01:00Z", "12", "1"))]));
    assert_eq!(ev.len(), 1);
    let c = ev[0];
    assert_eq!(c.bucket, Bucket::Start(ns("2024-03-11T14:00:00Z")));
    assert_eq!((c.open, c.high, c.low, c.close), (p("10"), p("11"), p("10"), p("11")));
    assert_eq!((c.volume, c.trades, c.version, c.closed), (Quantity::from_units(3), 2, 1, true));
    assert_eq!((c.first_seq, c.last_seq), (1, 2));
    assert_eq!(c.vwap, p("10.66666667"));
    assert_eq!(a.stats().closed, 1);
}

#[test]
fn the_clock_closes_a_bucket_after_its_end_plus_grace() {
    let mut a = agg(&[Series::M1], |c| c.grace_ns = 2_000_000_000);
    feed(&mut a, &[(1, t("2024-03-11T14:00:01Z", "10", "1"))]);
    assert!(clock(&mut a, "2024-03-11T14:01:01.999999999Z").is_empty());
    let ev = candles(&clock(&mut a, "2024-03-11T14:01:02Z"));
    assert_eq!(ev.len(), 1);
    assert!(ev[0].closed);
    // Closed once: neither the clock nor a later bucket emits it again.
    assert!(clock(&mut a, "2024-03-11T15:00:00Z").is_empty());
    assert!(feed(&mut a, &[(2, t("2024-03-11T15:00:00Z", "10", "1"))]).is_empty());
    // The clock never runs backwards.
    assert!(clock(&mut a, "2024-03-11T14:00:00Z").is_empty());
    assert_eq!(candles(&clock(&mut a, "2024-03-11T15:01:02Z")).len(), 1);
}

#[test]
fn late_ticks_amend_their_closed_bucket_with_a_new_version() {
    let mut a = agg(&[Series::M1], |_| {});
    feed(
        &mut a,
        &[(1, t("2024-03-11T14:00:10Z", "10", "1")), (2, t("2024-03-11T14:01:00Z", "20", "1"))],
    );
    // Older than the open of 14:00, and a same-time tie that loses to seq 1 for the close.
    let ev = candles(&feed(&mut a, &[(3, t("2024-03-11T14:00:05Z", "9", "1"))]));
    assert_eq!(ev.len(), 1);
    assert_eq!(
        (ev[0].version, ev[0].closed, ev[0].open, ev[0].close, ev[0].trades),
        (2, true, p("9"), p("10"), 2)
    );
    let ev = candles(&feed(&mut a, &[(4, t("2024-03-11T14:00:10Z", "12", "1"))]));
    assert_eq!((ev[0].version, ev[0].close, ev[0].high, ev[0].last_seq), (3, p("12"), p("12"), 4));
    assert_eq!(a.stats().late_ticks, 2);
    assert_eq!(a.stats().reemitted, 2);
}

#[test]
fn a_late_trade_in_a_bucket_that_never_traded_is_emitted_closed() {
    let mut a = agg(&[Series::M1], |_| {});
    feed(
        &mut a,
        &[(1, t("2024-03-11T14:00:00Z", "10", "1")), (2, t("2024-03-11T14:05:00Z", "10", "1"))],
    );
    let ev = candles(&feed(&mut a, &[(3, t("2024-03-11T14:03:30Z", "11", "1"))]));
    assert_eq!(ev.len(), 1);
    assert_eq!(
        (ev[0].bucket, ev[0].version, ev[0].closed),
        (Bucket::Start(ns("2024-03-11T14:03:00Z")), 1, true)
    );
    assert_eq!(a.stats().late_ticks, 1);
}

#[test]
fn ticks_past_retention_are_reported_not_applied() {
    let mut a = agg(&[Series::M1], |c| c.retention = Retention { m1: 1, ..Retention::default() });
    feed(
        &mut a,
        &[
            (1, t("2024-03-11T14:00:00Z", "10", "1")),
            (2, t("2024-03-11T14:01:00Z", "10", "1")),
            (3, t("2024-03-11T14:02:00Z", "10", "1")),
        ],
    );
    // 14:01 is retained, 14:00 was evicted, and 13:59 lies below it.
    for (seq, ts) in [(4, "2024-03-11T14:00:30Z"), (5, "2024-03-11T13:59:00Z")] {
        let ev = feed(&mut a, &[(seq, t(ts, "99", "1"))]);
        assert_eq!(ev.len(), 1);
        let CandleEvent::Skipped(s) = ev[0] else { panic!("expected a skip, got {ev:?}") };
        assert_eq!(
            (s.seq, s.reason, s.series, s.instrument_id),
            (seq, SkipReason::TooLate, Series::M1, 1)
        );
    }
    assert_eq!(a.stats().too_late, 2);
    let ev = candles(&feed(&mut a, &[(6, t("2024-03-11T14:01:30Z", "11", "1"))]));
    assert_eq!((ev[0].version, ev[0].trades), (2, 2));
    assert_eq!(a.buckets_held(), 2);
}

#[test]
fn live_updates_every_tick_or_on_the_clock() {
    let mut a = agg(&[Series::S1], |c| c.open_updates = OpenUpdates::EveryTick);
    let ev = candles(&feed(
        &mut a,
        &[(1, t("2024-03-11T14:00:00Z", "10", "1")), (2, t("2024-03-11T14:00:00.5Z", "11", "1"))],
    ));
    assert_eq!(
        ev.iter().map(|c| (c.closed, c.version, c.trades)).collect::<Vec<_>>(),
        [(false, 1, 1), (false, 1, 2)]
    );

    let mut a = agg(&[Series::S1], |c| c.open_updates = OpenUpdates::OnClock);
    assert!(feed(
        &mut a,
        &[(1, t("2024-03-11T14:00:00Z", "10", "1")), (2, t("2024-03-11T14:00:00.5Z", "11", "1"))]
    )
    .is_empty());
    let ev = candles(&clock(&mut a, "2024-03-11T14:00:00.6Z"));
    assert_eq!(ev.iter().map(|c| (c.closed, c.trades)).collect::<Vec<_>>(), [(false, 2)]);
    assert!(clock(&mut a, "2024-03-11T14:00:00.7Z").is_empty(), "unchanged: not emitted again");
    assert_eq!(a.stats().live_updates, 1);
}

#[test]
fn a_later_trading_day_in_any_session_closes_both_daily_streams() {
    let mut a = agg(&[Series::D1, Series::D1_REGULAR], |_| {});
    let ticks = [
        (1, trade(1, "2024-03-08T14:00:00Z", "10", "1", "2024-03-08", Session::Pre)),
        (2, trade(1, "2024-03-08T15:00:00Z", "11", "1", "2024-03-08", REG)),
        (3, trade(1, "2024-03-09T00:30:00Z", "12", "1", "2024-03-08", Session::Post)),
    ];
    assert!(feed(&mut a, &ticks).is_empty());
    let ev = candles(&feed(
        &mut a,
        &[(4, trade(1, "2024-03-11T12:00:00Z", "13", "1", "2024-03-11", Session::Pre))],
    ));
    let got: Vec<_> = ev.iter().map(|c| (c.series, c.bucket, c.open, c.close, c.trades)).collect();
    let d = Bucket::TradingDay(day("2024-03-08"));
    assert_eq!(
        got,
        [(Series::D1, d, p("10"), p("12"), 3), (Series::D1_REGULAR, d, p("11"), p("11"), 1)]
    );
}

#[test]
fn daily_buckets_close_on_the_clock_the_day_after_plus_the_lag() {
    let mut a = agg(&[Series::D1], |c| c.grace_ns = 0);
    feed(&mut a, &[(1, trade(1, "2024-03-11T14:00:00Z", "10", "1", "2024-03-11", REG))]);
    assert!(clock(&mut a, "2024-03-12T11:59:59Z").is_empty());
    assert_eq!(candles(&clock(&mut a, "2024-03-12T12:00:00Z")).len(), 1);
}

#[test]
fn ticks_without_a_trading_day_enter_intraday_series_only() {
    let mut a = agg(&[Series::H1, Series::D1], |_| {});
    feed(&mut a, &[(1, trade(1, "2024-03-10T14:00:00Z", "10", "1", "", Session::Closed))]);
    let mut out = Vec::new();
    a.close_all(&mut |e| out.push(e));
    let got: Vec<_> = candles(&out).iter().map(|c| c.series).collect();
    assert_eq!(got, [Series::H1]);
    assert_eq!(a.stats().no_trading_day, 1);
}

#[test]
fn ticks_outside_calendar_coverage_make_unverified_daily_candles() {
    // A 2013 replay outside the calendar: session unknown, the local date as trading day.
    let mut a = agg(&[Series::D1], |_| {});
    feed(
        &mut a,
        &[
            (1, trade(1, "2013-03-11T14:00:00Z", "10", "1", "2013-03-11", Session::Unknown)),
            (2, trade(1, "2013-03-11T15:00:00Z", "11", "1", "2013-03-11", Session::Unknown)),
            (3, trade(2, "2024-03-11T15:00:00Z", "11", "1", "2024-03-11", REG)),
        ],
    );
    let mut out = Vec::new();
    a.close_all(&mut |e| out.push(e));
    let got: Vec<_> =
        candles(&out).iter().map(|c| (c.instrument_id, c.trades, c.unverified)).collect();
    assert_eq!(got, [(1, 2, true), (2, 1, false)]);
}

#[test]
fn cancels_take_the_trade_out_or_are_reported() {
    let mut a = agg(&[Series::M1], |c| c.open_updates = OpenUpdates::EveryTick);
    let cancel = |ts, price, size| with_flags(t(ts, price, size), TickFlags::CANCEL);
    feed(
        &mut a,
        &[(1, t("2024-03-11T14:00:01Z", "10", "2")), (2, t("2024-03-11T14:00:02Z", "12", "1"))],
    );
    let ev = candles(&feed(&mut a, &[(3, cancel("2024-03-11T14:00:02Z", "12", "1"))]));
    assert_eq!(
        (ev[0].trades, ev[0].volume, ev[0].vwap, ev[0].last_seq),
        (1, Quantity::from_units(2), p("10"), 3)
    );
    // More volume than the bucket holds, and a bucket that never traded.
    let ev = feed(
        &mut a,
        &[
            (4, cancel("2024-03-11T14:00:02Z", "12", "5")),
            (5, cancel("2024-03-11T14:09:00Z", "1", "1")),
        ],
    );
    assert!(ev
        .iter()
        .all(|e| matches!(e, CandleEvent::Skipped(s) if s.reason == SkipReason::UnmatchedCancel)));
    assert_eq!(a.stats().unmatched_cancels, 2);
    // A cancel after the close re-emits the bucket; it does not open or close anything itself.
    feed(&mut a, &[(6, t("2024-03-11T14:01:00Z", "10", "1"))]);
    let ev = candles(&feed(&mut a, &[(7, cancel("2024-03-11T14:00:01Z", "10", "2"))]));
    assert_eq!(
        (ev[0].trades, ev[0].volume, ev[0].version, ev[0].closed),
        (0, Quantity::ZERO, 2, true)
    );
    assert_eq!(a.stats().cancels, 4);
}

#[test]
fn corrections_are_added_as_the_corrected_trade() {
    let mut a = agg(&[Series::M1], |_| {});
    feed(
        &mut a,
        &[
            (1, t("2024-03-11T14:00:01Z", "10", "1")),
            (2, with_flags(t("2024-03-11T14:00:01Z", "10", "1"), TickFlags::CANCEL)),
            (3, with_flags(t("2024-03-11T14:00:01Z", "10.5", "1"), TickFlags::CORRECTION)),
        ],
    );
    let mut out = Vec::new();
    a.close_all(&mut |e| out.push(e));
    let c = candles(&out)[0];
    assert_eq!(
        (c.trades, c.volume, c.vwap, c.close),
        (1, Quantity::from_units(1), p("10.5"), p("10.5"))
    );
    assert_eq!((a.stats().corrections, a.stats().cancels), (1, 1));
}

#[test]
fn negative_sizes_are_refused_in_every_series() {
    let mut a = agg(&[Series::S1, Series::M1], |_| {});
    let ev = feed(&mut a, &[(1, t("2024-03-11T14:00:01Z", "10", "-1"))]);
    assert_eq!(ev.len(), 2);
    assert!(ev
        .iter()
        .all(|e| matches!(e, CandleEvent::Skipped(s) if s.reason == SkipReason::NegativeSize)));
    assert_eq!(a.buckets_held(), 0);
}

#[test]
fn instruments_do_not_close_each_other() {
    let mut a = agg(&[Series::M1], |_| {});
    let ev = feed(
        &mut a,
        &[
            (1, trade(1, "2024-03-11T14:00:00Z", "10", "1", "2024-03-11", REG)),
            (2, trade(2, "2024-03-11T14:05:00Z", "10", "1", "2024-03-11", REG)),
        ],
    );
    assert!(ev.is_empty());
    assert_eq!(a.instruments(), 2);
}

#[test]
fn a_regular_only_intraday_series_closes_on_out_of_scope_trades() {
    let regular_m1 = "1m-regular".parse::<Series>().expect("series");
    let mut a = agg(&[regular_m1], |_| {});
    feed(&mut a, &[(1, t("2024-03-11T19:59:59Z", "10", "1"))]);
    let ev = candles(&feed(
        &mut a,
        &[(2, trade(1, "2024-03-11T20:00:01Z", "11", "1", "2024-03-11", Session::Post))],
    ));
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].trades, 1);
    let mut out = Vec::new();
    a.close_all(&mut |e| out.push(e));
    assert!(out.is_empty(), "the post-market trade made no regular candle");
}

#[test]
fn a_first_trade_for_a_bucket_the_clock_has_passed_is_emitted_closed_at_once() {
    let mut a = agg(&[Series::M1], |c| c.grace_ns = 0);
    assert!(clock(&mut a, "2024-03-11T14:05:00Z").is_empty());
    let ev = candles(&feed(&mut a, &[(1, t("2024-03-11T14:03:10Z", "10", "1"))]));
    assert_eq!(ev.iter().map(|c| (c.closed, c.version)).collect::<Vec<_>>(), [(true, 1)]);
    assert_eq!(a.stats().late_ticks, 1);
    // The bucket the clock is still inside opens as usual.
    assert!(feed(&mut a, &[(2, t("2024-03-11T14:05:00Z", "10", "1"))]).is_empty());
}
