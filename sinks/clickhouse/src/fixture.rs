//! A deterministic, realistic tick stream for tests and the benchmark: several exchanges, sessions and
//! trading days from the built-in calendars, same-nanosecond trades, late trades and cancels.

use chrono::NaiveDate;
use tickring_engine::calendar::Calendars;
use tickring_engine::fixed::{Price, Quantity};
use tickring_engine::{Exchange, Tick, TickFlags};

/// The instruments of the stream: directory index = position.
pub const INSTRUMENTS: [(&str, Exchange); 4] = [
    ("AAPL.O", Exchange::Xnas),
    ("ESZ6", Exchange::Xcme),
    ("VOD.L", Exchange::Xlon),
    ("7203.T", Exchange::Xtks),
];

/// 2026-03-10T13:28:00Z: New York pre-market two minutes before the open, CME and London trading, Tokyo
/// closed (no trading day, so no daily candle).
pub const BASE_NS: u64 = 1_773_149_280_000_000_000;

/// Shape of a generated stream.
#[derive(Clone, Copy, Debug)]
pub struct FixtureSpec {
    pub ticks: usize,
    /// Event times spread evenly over this span from [`BASE_NS`].
    pub span_ns: u64,
    /// Every n-th tick repeats the previous event time (same-nanosecond trades); 0 for none.
    pub tie_every: usize,
    /// Every n-th tick is 30 s late (an earlier 1s and often 1m bucket); 0 for none.
    pub late_every: usize,
    /// Every n-th tick cancels the instrument's previous trade; 0 for none.
    pub cancel_every: usize,
}

impl FixtureSpec {
    pub fn new(ticks: usize) -> Self {
        Self {
            ticks,
            span_ns: 240_000_000_000,
            tie_every: 97,
            late_every: 4_999,
            cancel_every: 7_001,
        }
    }
}

/// The ticks, in publish order; `instrument_id` indexes [`INSTRUMENTS`].
///
/// # Panics
/// If the built-in calendars do not load (a broken build).
pub fn fixture_ticks(spec: FixtureSpec) -> Vec<Tick> {
    let calendars = Calendars::builtin().expect("built-in calendars load");
    let mut clocks: Vec<_> = INSTRUMENTS
        .iter()
        .map(|&(_, ex)| calendars.clock(ex).expect("calendar for every fixture exchange"))
        .collect();
    let step = (spec.span_ns / spec.ticks.max(1) as u64).max(1);
    let mut rng = 0x2545_f491_4f6c_dd1d_u64;
    let mut prices = [18_950_000_000_i64, 589_925_000_000, 7_212_000_000, 325_000_000_000];
    let mut last_trade: [Option<Tick>; INSTRUMENTS.len()] = [None; INSTRUMENTS.len()];
    let mut ts = BASE_NS;
    let mut out = Vec::with_capacity(spec.ticks);
    let every = |n: usize, i: usize| n > 0 && i > 0 && i.is_multiple_of(n);
    for i in 0..spec.ticks {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let inst = (rng % INSTRUMENTS.len() as u64) as usize;
        if every(spec.cancel_every, i) {
            if let Some(mut cancel) = last_trade[inst].take() {
                cancel.flags |= TickFlags::CANCEL;
                cancel.ts_recv_ns = ts;
                out.push(cancel);
                continue;
            }
        }
        if !every(spec.tie_every, i) {
            ts = BASE_NS + i as u64 * step;
        }
        let event_ns = if every(spec.late_every, i) { ts - 30_000_000_000 } else { ts };
        let px = &mut prices[inst];
        *px += ((rng >> 20) % 2_001) as i64 - 1_000;
        let size = Quantity::from_raw(((rng >> 40) % 500 + 1) as i64 * 1_000_000);
        let class = clocks[inst].classify(event_ns as i64);
        let tick = Tick {
            ts_event_ns: event_ns,
            ts_recv_ns: ts + 1_000,
            ts_publish_ns: 0,
            price: Price::from_raw(*px),
            size,
            trade_id: i as u64 + 1,
            instrument_id: inst as u32,
            trading_day: class.trading_day.map_or(Tick::NO_TRADING_DAY, day_number),
            exchange: INSTRUMENTS[inst].1 as u16,
            session: class.session as u8,
            flags: TickFlags::REGULAR,
            reserved: [0; 4],
        };
        last_trade[inst] = Some(tick);
        out.push(tick);
    }
    out
}

fn day_number(d: NaiveDate) -> u32 {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or(NaiveDate::MIN);
    u32::try_from(d.signed_duration_since(epoch).num_days()).unwrap_or(Tick::NO_TRADING_DAY)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tickring_engine::Session;

    #[test]
    fn stream_has_ties_late_trades_cancels_and_several_sessions() {
        let ticks = fixture_ticks(FixtureSpec::new(20_000));
        assert_eq!(ticks.len(), 20_000);
        assert!(ticks.windows(2).any(|w| w[0].ts_event_ns == w[1].ts_event_ns));
        assert!(ticks.iter().any(|t| t.flags().contains(TickFlags::CANCEL)));
        assert!(ticks.windows(2).any(|w| w[1].ts_event_ns + 20_000_000_000 < w[0].ts_event_ns));
        let sessions: std::collections::BTreeSet<_> = ticks.iter().map(Tick::session).collect();
        assert!(
            sessions.contains(&Session::Pre) && sessions.contains(&Session::Regular),
            "{sessions:?}"
        );
        assert!(ticks.iter().any(|t| t.trading_day == Tick::NO_TRADING_DAY));
        assert!(ticks.iter().any(|t| t.trading_day != Tick::NO_TRADING_DAY));
    }
}
