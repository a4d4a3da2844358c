//! Properties of the aggregator over random streams: it matches a naive model, instruments are
//! independent, and volume and trade counts are conserved across intervals.

mod support;

use bytemuck::Zeroable;
use proptest::prelude::*;
use std::collections::{BTreeMap, HashMap};
use tickring_engine::candles::{
    Bucket, Candle, CandleAggregator, CandleConfig, CandleEvent, DailyScope, OpenUpdates,
    Retention, Series, Turnover,
};
use tickring_engine::{Price, Quantity, Session, Tick, TickFlags};

const BASE_NS: u64 = 1_710_115_200_000_000_000; // 2024-03-11T00:00:00Z
const MS: u64 = 1_000_000;
const DAY_NS: u64 = 86_400_000_000_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    Tick(u64, Tick),
    Clock(u64),
}

#[derive(Clone, Debug)]
enum Op {
    Trade {
        inst: u32,
        ms: u64,
        price: i64,
        size: i64,
        session: Session,
        has_day: bool,
    },
    /// Cancels one earlier, not yet cancelled trade, picked by this number.
    Cancel(usize),
    Clock(u64),
}

fn op(with_cancels: bool) -> impl Strategy<Value = Op> {
    // A dense cluster (ties, shared buckets) and a spread over ten hours (many buckets, two trading days).
    let ms = prop_oneof![0..300u64, 0..36_000_000u64];
    let session = prop_oneof![
        Just(Session::Pre),
        Just(Session::Regular),
        Just(Session::Post),
        Just(Session::Closed),
        Just(Session::Unknown)
    ];
    let trade = (0..3u32, ms, 1..2_000i64, 0..50i64, session, prop::bool::weighted(0.9)).prop_map(
        |(inst, ms, price, size, session, has_day)| Op::Trade {
            inst,
            ms,
            price,
            size,
            session,
            has_day,
        },
    );
    let cancel_weight = if with_cancels { 1 } else { 0 };
    prop_oneof![
        8 => trade,
        cancel_weight => any::<usize>().prop_map(Op::Cancel),
        1 => (0..36_000_000u64).prop_map(Op::Clock),
    ]
}

/// Turns ops into ticks with ring sequence numbers; trading days roll over at 18:00Z, not UTC midnight.
fn steps(ops: &[Op]) -> Vec<Step> {
    let mut out = Vec::new();
    let mut trades: Vec<Tick> = Vec::new();
    let mut seq = 0;
    for op in ops {
        match *op {
            Op::Trade { inst, ms, price, size, session, has_day } => {
                let ts = BASE_NS + ms * MS + u64::from(inst) * 7; // instruments rarely share a nanosecond
                let tick = Tick {
                    ts_event_ns: ts,
                    price: Price::from_raw(price * 1_000_000),
                    size: Quantity::from_raw(size * 10_000_000),
                    instrument_id: inst + 10,
                    trading_day: if has_day {
                        ((ts + 6 * 3_600_000_000_000) / DAY_NS) as u32
                    } else {
                        0
                    },
                    session: session as u8,
                    flags: TickFlags::REGULAR,
                    ..Tick::zeroed()
                };
                trades.push(tick);
                seq += 1;
                out.push(Step::Tick(seq, tick));
            }
            Op::Cancel(pick) if !trades.is_empty() => {
                let mut tick = trades.swap_remove(pick % trades.len());
                tick.flags = TickFlags::CANCEL;
                seq += 1;
                out.push(Step::Tick(seq, tick));
            }
            Op::Cancel(_) => {}
            Op::Clock(ms) => out.push(Step::Clock(BASE_NS + ms * MS)),
        }
    }
    out
}

fn run(steps: &[Step], config: &CandleConfig) -> (Vec<CandleEvent>, CandleAggregator) {
    let mut agg = CandleAggregator::new(config.clone()).expect("config");
    let mut events = Vec::new();
    for step in steps {
        match step {
            Step::Tick(seq, tick) => agg.on_tick(*seq, tick, &mut |e| events.push(e)),
            Step::Clock(now) => agg.on_clock(*now, &mut |e| events.push(e)),
        }
    }
    agg.close_all(&mut |e| events.push(e));
    (events, agg)
}

const ALL_SERIES: [&str; 6] = ["1s", "1m", "1h", "1d", "1d-regular", "1m-regular"];

fn all_series() -> Vec<Series> {
    ALL_SERIES.iter().map(|s| s.parse().expect("series")).collect()
}

/// The last closed version of each candle.
fn finals(events: &[CandleEvent]) -> BTreeMap<(Series, u32, Bucket), Candle> {
    let mut out = BTreeMap::new();
    for c in support::candles(events).into_iter().filter(|c| c.closed) {
        out.insert((c.series, c.instrument_id, c.bucket), c);
    }
    out
}

/// The naive model: group every tick by bucket and compute the candle from the whole group.
fn model(steps: &[Step], series: &[Series]) -> BTreeMap<(Series, u32, Bucket), Candle> {
    let mut groups: HashMap<(Series, u32, Bucket), Vec<(u64, Tick)>> = HashMap::new();
    for step in steps {
        let Step::Tick(seq, t) = *step else { continue };
        for &s in series {
            let in_scope = s.scope == DailyScope::All || t.session() == Session::Regular;
            if let (true, Some(b)) = (in_scope, Bucket::of(s.interval, &t)) {
                groups.entry((s, t.instrument_id, b)).or_default().push((seq, t));
            }
        }
    }
    let mut out = BTreeMap::new();
    for ((series, instrument_id, bucket), ticks) in groups {
        let cancel = |t: &Tick| t.flags().contains(TickFlags::CANCEL);
        let trades: Vec<(u64, Tick)> = ticks.iter().copied().filter(|(_, t)| !cancel(t)).collect();
        let by_time = |(seq, t): &&(u64, Tick)| (t.ts_event_ns, *seq);
        let (Some(first), Some(last)) =
            (trades.iter().min_by_key(by_time), trades.iter().max_by_key(by_time))
        else {
            continue;
        };
        let sign = |t: &Tick| if cancel(t) { -1 } else { 1 };
        let count: i64 = ticks.iter().map(|(_, t)| sign(t)).sum();
        if count == 0 {
            continue;
        }
        let volume = Quantity::from_raw(ticks.iter().map(|(_, t)| sign(t) * t.size.raw()).sum());
        let turnover = Turnover(
            ticks
                .iter()
                .map(|(_, t)| i128::from(sign(t)) * Turnover::of_trade(t.price, t.size).raw())
                .sum(),
        );
        let close = last.1.price;
        out.insert(
            (series, instrument_id, bucket),
            Candle {
                instrument_id,
                series,
                bucket,
                open: first.1.price,
                high: trades.iter().map(|(_, t)| t.price).max().unwrap_or(close),
                low: trades.iter().map(|(_, t)| t.price).min().unwrap_or(close),
                close,
                volume,
                trades: count as u64,
                turnover,
                vwap: turnover.vwap(volume).unwrap_or(close),
                first_seq: ticks.iter().map(|(s, _)| *s).min().unwrap_or(0),
                last_seq: ticks.iter().map(|(s, _)| *s).max().unwrap_or(0),
                version: 0,
                closed: true,
                unverified: trades.iter().any(|(_, t)| t.session() == Session::Unknown),
            },
        );
    }
    out
}

fn unbounded(open_updates: OpenUpdates) -> CandleConfig {
    CandleConfig {
        series: all_series(),
        retention: Retention::UNBOUNDED,
        open_updates,
        ..CandleConfig::default()
    }
}

fn open_updates() -> impl Strategy<Value = OpenUpdates> {
    prop_oneof![Just(OpenUpdates::Off), Just(OpenUpdates::EveryTick), Just(OpenUpdates::OnClock)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Whatever the arrival order and clock, the final candles equal the model's, and every emitted candle
    /// is well formed with versions counting up by one.
    #[test]
    fn final_candles_match_the_model(ops in prop::collection::vec(op(true), 1..250), mode in open_updates()) {
        let steps = steps(&ops);
        let (events, agg) = run(&steps, &unbounded(mode));
        prop_assert!(events.iter().all(|e| matches!(e, CandleEvent::Update(_))), "nothing skipped: {:?}", agg.stats());

        let mut versions: HashMap<(Series, u32, Bucket), u32> = HashMap::new();
        for c in support::candles(&events) {
            prop_assert!(c.high >= c.open.max(c.close) && c.low <= c.open.min(c.close), "{c:?}");
            prop_assert!(c.first_seq <= c.last_seq);
            let seen = versions.entry((c.series, c.instrument_id, c.bucket)).or_insert(0);
            if c.closed {
                prop_assert_eq!(c.version, *seen + 1, "{:?}", c);
                *seen = c.version;
            } else {
                prop_assert_eq!((c.version, *seen), (1, 0), "live updates only before the close: {:?}", c);
            }
        }

        let got: BTreeMap<_, _> = finals(&events)
            .into_iter()
            .filter(|(_, c)| c.trades > 0)
            .map(|(k, c)| (k, Candle { version: 0, ..c }))
            .collect();
        prop_assert_eq!(got, model(&steps, &all_series()));
    }

    /// Each instrument's events are the same whether it is aggregated alone or among others, including
    /// closings by the clock, retention and live updates.
    #[test]
    fn a_merged_stream_equals_its_parts(
        ops in prop::collection::vec(op(true), 1..250),
        mode in open_updates(),
        keep in 0..4usize,
    ) {
        let steps = steps(&ops);
        let config = CandleConfig {
            series: all_series(),
            retention: Retention { s1: keep, m1: keep, h1: keep, d1: keep },
            open_updates: mode,
            ..CandleConfig::default()
        };
        let (merged, _) = run(&steps, &config);
        let instrument = |e: &CandleEvent| match e {
            CandleEvent::Update(c) => c.instrument_id,
            CandleEvent::Skipped(s) => s.instrument_id,
        };
        for id in 10..13 {
            let part: Vec<Step> = steps
                .iter()
                .copied()
                .filter(|s| !matches!(s, Step::Tick(_, t) if t.instrument_id != id))
                .collect();
            let (alone, _) = run(&part, &config);
            let among: Vec<_> = merged.iter().copied().filter(|e| instrument(e) == id).collect();
            prop_assert_eq!(among, alone);
        }
    }

    /// Volume and trade count add up to the input in every interval; daily streams take exactly the ticks
    /// with a trading day, and the regular stream exactly the regular-session ones.
    #[test]
    fn volume_and_trades_are_conserved(ops in prop::collection::vec(op(false), 1..250)) {
        let steps = steps(&ops);
        let (events, _) = run(&steps, &unbounded(OpenUpdates::Off));
        let finals = finals(&events);
        let total = |s: &str| {
            let s: Series = s.parse().expect("series");
            finals.values().filter(|c| c.series == s).fold((0i64, 0u64), |(v, n), c| (v + c.volume.raw(), n + c.trades))
        };
        let ticks: Vec<Tick> = steps.iter().filter_map(|s| match s { Step::Tick(_, t) => Some(*t), _ => None }).collect();
        let sum = |f: &dyn Fn(&Tick) -> bool| {
            ticks.iter().filter(|t| f(t)).fold((0i64, 0u64), |(v, n), t| (v + t.size.raw(), n + 1))
        };
        let all = sum(&|_| true);
        let with_day = sum(&|t| t.trading_day != 0);
        let regular_with_day = sum(&|t| t.trading_day != 0 && t.session() == Session::Regular);
        prop_assert_eq!(total("1s"), all);
        prop_assert_eq!(total("1m"), all);
        prop_assert_eq!(total("1h"), all);
        prop_assert_eq!(total("1d"), with_day);
        prop_assert_eq!(total("1d-regular"), regular_with_day);
        prop_assert_eq!(total("1m-regular"), sum(&|t| t.session() == Session::Regular));
    }
}
