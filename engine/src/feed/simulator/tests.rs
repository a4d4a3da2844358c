use super::*;
use chrono::NaiveDate;

fn config(seed: u64) -> SimulatorConfig {
    SimulatorConfig {
        seed,
        rate_per_s: 0,
        days: 3,
        mean_gap_ms: 60_000,
        start: NaiveDate::from_ymd_opt(2026, 7, 13).unwrap(),
        start_time_utc: chrono::NaiveTime::MIN,
        ..SimulatorConfig::default()
    }
}

fn all(sim: &mut Simulator) -> Vec<Trade> {
    let mut out = Vec::new();
    loop {
        let mut batch = |item| {
            if let FeedItem::Trade(t) = item {
                out.push(t);
            }
        };
        if sim.next_batch(256, &mut batch).unwrap() == Poll::End {
            return out;
        }
    }
}

#[test]
fn same_seed_same_trades_other_seed_other_trades() {
    let cal = Calendars::builtin().unwrap();
    let a = all(&mut Simulator::new(&config(1), &cal).unwrap());
    let b = all(&mut Simulator::new(&config(1), &cal).unwrap());
    let c = all(&mut Simulator::new(&config(2), &cal).unwrap());
    assert!(a.len() > 1000, "{}", a.len());
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[test]
fn trades_follow_each_exchange_sessions_ticks_and_flags() {
    let cal = Calendars::builtin().unwrap();
    let mut sim = Simulator::new(&config(7), &cal).unwrap();
    let exchanges: Vec<Exchange> = sim.symbols().map(|(_, e)| e).collect();
    assert_eq!(exchanges.len(), 28);
    let trades = all(&mut sim);
    let (start, end) = (1_783_900_800_000_000_000u64, 1_784_160_000_000_000_000u64); // 2026-07-13..16 UTC
    let mut seen = std::collections::BTreeSet::new();
    let (mut extended, mut bursts) = (0, 0);
    for (k, t) in trades.iter().enumerate() {
        assert!((start..end).contains(&t.ts_event_ns), "{t:?}");
        assert!(t.ts_recv_ns > t.ts_event_ns);
        let exchange = exchange_from_ric(&t.symbol).unwrap();
        seen.insert(exchange);
        let session = cal.classify(exchange, t.ts_event_ns as i64).unwrap().session;
        assert!(hours::trades_in(session), "{t:?} in {session:?}");
        assert!(t.flags().contains(TickFlags::SIMULATED));
        let futures = exchange == Exchange::Xcme;
        let expect = if session == Session::Regular || futures {
            TickFlags::REGULAR
        } else {
            TickFlags::EXTENDED_HOURS
        };
        assert!(t.flags().contains(expect), "{t:?} in {session:?}");
        if matches!(exchange, Exchange::Xnys | Exchange::Xnas | Exchange::Xcme) {
            let tick = universe::tick_size(exchange, &t.symbol, t.price.raw());
            assert_eq!(t.price.raw() % tick, 0, "{t:?}");
        }
        assert!(t.price.raw() > 0 && t.size.raw() > 0);
        if session != Session::Regular && !futures {
            extended += 1;
        }
        if k > 0 && trades[k - 1].ts_event_ns > t.ts_event_ns {
            panic!("out of order at {k}: {:?} then {t:?}", trades[k - 1]);
        }
        if trades[..k]
            .iter()
            .rev()
            .take(4)
            .any(|p| p.symbol == t.symbol && p.ts_event_ns / 1_000_000 == t.ts_event_ns / 1_000_000)
        {
            bursts += 1;
        }
    }
    assert_eq!(seen.len(), 7, "{seen:?}");
    assert!(extended > 0 && bursts > 0, "extended {extended}, bursts {bursts}");
}

#[test]
fn paced_rate_is_kept() {
    let cal = Calendars::builtin().unwrap();
    let mut sim = Simulator::new(&SimulatorConfig { rate_per_s: 2000, ..config(3) }, &cal).unwrap();
    let started = Instant::now();
    let mut n = 0;
    while started.elapsed() < std::time::Duration::from_millis(300) {
        match sim.next_batch(64, &mut |_| n += 1).unwrap() {
            Poll::Idle => std::thread::sleep(std::time::Duration::from_millis(1)),
            Poll::Ready(_) => {}
            Poll::End => panic!("ended early"),
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let expected = 2000.0 * secs;
    assert!((n as f64) <= expected + 1.0 && (n as f64) >= expected * 0.8, "{n} trades in {secs} s");
}

#[test]
fn explicit_symbols_and_bad_config() {
    let cal = Calendars::builtin().unwrap();
    let cfg = SimulatorConfig { symbols: vec!["ESZ6".into(), "7203.T".into()], ..config(1) };
    let sim = Simulator::new(&cfg, &cal).unwrap();
    assert_eq!(
        sim.symbols().collect::<Vec<_>>(),
        [("ESZ6", Exchange::Xcme), ("7203.T", Exchange::Xtks)]
    );
    let bad = SimulatorConfig { symbols: vec!["FOO".into()], ..config(1) };
    assert_eq!(
        Simulator::new(&bad, &cal).unwrap_err(),
        SimulatorError::UnknownExchange("FOO".into())
    );
    let bad = SimulatorConfig { exchanges: vec!["XXXX".into()], ..config(1) };
    assert_eq!(Simulator::new(&bad, &cal).unwrap_err(), SimulatorError::UnknownMic("XXXX".into()));
    let bad = SimulatorConfig { burst_probability: 1.0, ..config(1) };
    assert_eq!(Simulator::new(&bad, &cal).unwrap_err(), SimulatorError::BurstProbability);
}

#[test]
fn a_resumed_simulator_continues_with_the_next_trade() {
    let cal = Calendars::builtin().unwrap();
    let whole = all(&mut Simulator::new(&config(5), &cal).unwrap());
    let mut first = Simulator::new(&config(5), &cal).unwrap();
    let mut head = Vec::new();
    while head.len() < 700 {
        first
            .next_batch(100, &mut |item| {
                if let FeedItem::Trade(t) = item {
                    head.push(t);
                }
            })
            .unwrap();
    }
    let position = first.position().expect("the simulator has a position");
    let mut resumed = Simulator::new(&config(5), &cal).unwrap();
    resumed.resume(&position).expect("same universe");
    head.extend(all(&mut resumed));
    assert_eq!(head.len(), whole.len());
    assert!(head == whole, "the resumed run differs from the uninterrupted one");
    // Another seed is another day: its position does not fit.
    let mut other = Simulator::new(&config(6), &cal).unwrap();
    assert!(matches!(other.resume(&position), Err(ResumeError::Mismatch(_))));
}

#[test]
fn the_default_day_shows_new_york_and_london_in_its_first_simulated_minutes() {
    // A newcomer's first run: AAPL.O (the docs' example) and a London symbol trade at once.
    let cal = Calendars::builtin().unwrap();
    let cfg = SimulatorConfig { rate_per_s: 0, ..SimulatorConfig::default() };
    let mut sim = Simulator::new(&cfg, &cal).unwrap();
    let mut first = Vec::new();
    while first.len() < 2_000 {
        let mut take = |item| {
            if let FeedItem::Trade(t) = item {
                first.push(t);
            }
        };
        assert_ne!(sim.next_batch(256, &mut take).unwrap(), Poll::End);
    }
    let exchanges: std::collections::BTreeSet<Exchange> =
        first.iter().filter_map(|t| exchange_from_ric(&t.symbol)).collect();
    assert!(first.iter().any(|t| &*t.symbol == "AAPL.O"), "AAPL.O trades at once");
    assert!(exchanges.contains(&Exchange::Xlon), "{exchanges:?}");
    let span_s = (first[first.len() - 1].ts_event_ns - first[0].ts_event_ns) / 1_000_000_000;
    assert!(span_s < 600, "2000 trades cover {span_s} simulated s");
}
