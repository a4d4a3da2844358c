//! A synthetic feed: many symbols across several exchanges, trading only in each exchange's real
//! sessions (from the calendars), with random-walk prices on real tick grids, board-lot sizes and
//! same-millisecond bursts. Deterministic for a seed in simulated-clock mode. Every trade is flagged
//! [`TickFlags::SIMULATED`].

mod config;
mod hours;
mod position;
mod universe;

pub use config::{ClockMode, SimulatorConfig};

use super::rng::SplitMix64;
use super::source::{FeedItem, Poll, ResumeError, SourceError, TradeSource};
use super::{Counters, Symbol, Trade};
use crate::calendar::{Calendar, Calendars, SessionClock};
use crate::fixed::{Price, Quantity, SCALE};
use crate::instrument::exchange_from_ric;
use crate::mapping::TradeClass;
use crate::tick::{Exchange, Session, TickFlags};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// A configuration the simulator cannot run.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SimulatorError {
    #[error("ingest.simulator: {0:?} is not a known MIC")]
    UnknownMic(String),
    #[error("ingest.simulator: cannot tell the exchange of symbol {0:?} from its RIC")]
    UnknownExchange(String),
    #[error("ingest.simulator: no calendar for {0}")]
    NoCalendar(Exchange),
    #[error(
        "ingest.simulator: no symbols (set symbols, or exchanges and symbols_per_exchange > 0)"
    )]
    NoSymbols,
    #[error("ingest.simulator: burst_probability must be in [0, 1)")]
    BurstProbability,
}

struct Instrument {
    symbol: Symbol,
    code: Option<Symbol>,
    exchange: Exchange,
    /// Index into `Simulator::venues`.
    venue: usize,
    price: i64,
    lot: u64,
}

struct Venue {
    calendar: Arc<Calendar>,
    clock: SessionClock,
}

enum Clock {
    /// Pending trade times, earliest first (ties by instrument index, so the order is reproducible).
    Simulated { queue: BinaryHeap<Reverse<(i64, usize)>>, end_ns: i64 },
    /// Instruments in a session as of `checked_ns` (refreshed every second).
    Wall { open: Vec<usize>, checked_ns: i64 },
}

/// The simulator; see the module documentation.
pub struct Simulator {
    instruments: Vec<Instrument>,
    venues: Vec<Venue>,
    clock: Clock,
    rng: SplitMix64,
    rate_per_s: u64,
    paced_since: Option<Instant>,
    emitted: u64,
    mean_gap_ns: f64,
    burst: f64,
    next_trade_id: u64,
    /// Which universe, seed and clock this is: a journaled position only fits the same one.
    identity: u64,
    counters: Counters,
}

impl std::fmt::Debug for Simulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulator")
            .field("instruments", &self.instruments.len())
            .field("emitted", &self.emitted)
            .finish_non_exhaustive()
    }
}

fn wall_ns() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as i64)
}

impl Simulator {
    /// Builds the instrument list and, in simulated-clock mode, each one's first trade time.
    ///
    /// # Errors
    /// An unknown MIC or RIC suffix, an exchange without a calendar, no symbols, a bad probability.
    pub fn new(config: &SimulatorConfig, calendars: &Calendars) -> Result<Self, SimulatorError> {
        if !(0.0..1.0).contains(&config.burst_probability) {
            return Err(SimulatorError::BurstProbability);
        }
        let mut wanted: Vec<(String, Exchange)> = Vec::new();
        if config.symbols.is_empty() {
            for mic in &config.exchanges {
                let exchange = Exchange::from_mic(mic)
                    .ok_or_else(|| SimulatorError::UnknownMic(mic.clone()))?;
                let Some(profile) = universe::profile(exchange) else {
                    return Err(SimulatorError::UnknownMic(mic.clone()));
                };
                wanted.extend(
                    (0..config.symbols_per_exchange)
                        .map(|n| (universe::nth_symbol(profile, n), exchange)),
                );
            }
        } else {
            for ric in &config.symbols {
                let exchange = exchange_from_ric(ric)
                    .ok_or_else(|| SimulatorError::UnknownExchange(ric.clone()))?;
                wanted.push((ric.trim().to_string(), exchange));
            }
        }
        if wanted.is_empty() {
            return Err(SimulatorError::NoSymbols);
        }
        let mut venues: Vec<(Exchange, Venue)> = Vec::new();
        let mut instruments = Vec::with_capacity(wanted.len());
        for (symbol, exchange) in wanted {
            let venue = match venues.iter().position(|(e, _)| *e == exchange) {
                Some(i) => i,
                None => {
                    let calendar = calendars
                        .get(exchange)
                        .ok_or(SimulatorError::NoCalendar(exchange))?
                        .clone();
                    let clock = SessionClock::new(calendar.clone());
                    venues.push((exchange, Venue { calendar, clock }));
                    venues.len() - 1
                }
            };
            let profile = universe::profile(exchange);
            instruments.push(Instrument {
                price: universe::start_price(profile, &symbol),
                symbol: symbol.as_str().into(),
                code: profile.map(|p| p.code.into()),
                exchange,
                venue,
                lot: profile.map_or(1, |p| p.lot),
            });
        }
        let names: Vec<u8> = instruments
            .iter()
            .flat_map(|i: &Instrument| i.symbol.as_bytes().iter().copied().chain([0]))
            .collect();
        let identity = position::identity(&[
            &names,
            &config.seed.to_le_bytes(),
            format!(
                "{:?} {} {} {}",
                config.clock, config.start, config.start_time_utc, config.days
            )
            .as_bytes(),
        ]);
        let mut sim = Self {
            identity,
            instruments,
            venues: venues.into_iter().map(|(_, v)| v).collect(),
            clock: Clock::Wall { open: Vec::new(), checked_ns: i64::MIN },
            rng: SplitMix64::new(config.seed),
            rate_per_s: config.rate_per_s,
            paced_since: None,
            emitted: 0,
            mean_gap_ns: config.mean_gap_ms.max(1) as f64 * 1e6,
            burst: config.burst_probability,
            next_trade_id: 1,
            counters: Counters::default(),
        };
        if config.clock == ClockMode::Simulated {
            let start =
                config.start.and_time(config.start_time_utc).and_utc().timestamp() * 1_000_000_000;
            let end_ns = start.saturating_add(i64::from(config.days) * 86_400 * 1_000_000_000);
            let mut queue = BinaryHeap::new();
            for i in 0..sim.instruments.len() {
                let first = start + sim.rng.exponential(sim.mean_gap_ns) as i64;
                if let Some(t) = sim.open_at_or_after(i, first).filter(|&t| t < end_ns) {
                    queue.push(Reverse((t, i)));
                }
            }
            sim.clock = Clock::Simulated { queue, end_ns };
        }
        Ok(sim)
    }

    /// The symbols simulated, in order.
    pub fn symbols(&self) -> impl Iterator<Item = (&str, Exchange)> {
        self.instruments.iter().map(|i| (&*i.symbol, i.exchange))
    }

    fn open_at_or_after(&mut self, i: usize, t: i64) -> Option<i64> {
        let venue = &mut self.venues[self.instruments[i].venue];
        hours::next_open(&venue.calendar, &mut venue.clock, t)
    }

    fn session(&mut self, i: usize, t: i64) -> Session {
        self.venues[self.instruments[i].venue].clock.classify(t).session
    }

    /// When instrument `i` trades next after a trade at `t`: in the same millisecond (a burst), or after
    /// a random gap (sparser outside regular hours), moved to the next open window if it falls outside.
    fn next_time(&mut self, i: usize, t: i64) -> Option<i64> {
        if self.rng.chance(self.burst) {
            return Some(t);
        }
        let mean = match self.session(i, t) {
            Session::Regular => self.mean_gap_ns,
            _ => self.mean_gap_ns * 8.0,
        };
        let next = t + (self.rng.exponential(mean) as i64).max(1_000);
        self.open_at_or_after(i, next)
    }

    fn trade(&mut self, i: usize, ts: i64, recv: i64) -> Trade {
        let session = self.session(i, ts);
        let rng = &mut self.rng;
        let inst = &mut self.instruments[i];
        const STEPS: [i64; 9] = [-2, -1, -1, 0, 0, 0, 1, 1, 2];
        let step = STEPS[rng.range(0, STEPS.len() as u64 - 1) as usize];
        let tick = universe::tick_size(inst.exchange, &inst.symbol, inst.price).max(1);
        let moved = (inst.price / tick + step) * tick;
        inst.price = moved.max(tick);
        let units = match inst.exchange {
            // US equities: a quarter odd lots, else round lots.
            Exchange::Xnys | Exchange::Xnas if rng.chance(0.25) => rng.range(1, 99),
            _ => inst.lot * rng.range(1, 10).pow(rng.range(1, 2) as u32).min(50),
        };
        let regular = session == Session::Regular;
        let futures = inst.exchange == Exchange::Xcme;
        let trade_id = self.next_trade_id;
        self.next_trade_id += 1;
        Trade {
            symbol: inst.symbol.clone(),
            exchange_code: inst.code.clone(),
            ts_event_ns: ts as u64,
            ts_recv_ns: recv as u64,
            price: Price::from_raw(inst.price),
            size: Quantity::from_raw(units as i64 * SCALE),
            flags: TickFlags::SIMULATED
                | if regular || futures { TickFlags::REGULAR } else { TickFlags::EXTENDED_HOURS },
            trade_id,
            class: match (futures, regular) {
                (true, _) => TradeClass::Futures,
                (false, true) => TradeClass::Equity,
                (false, false) => TradeClass::ExtendedHours,
            },
        }
    }

    /// How many trades may go out now: `max`, or what the rate allows since the first call.
    fn budget(&mut self, max: usize) -> usize {
        if self.rate_per_s == 0 {
            return max;
        }
        let since = *self.paced_since.get_or_insert_with(Instant::now);
        let due = (since.elapsed().as_nanos() * u128::from(self.rate_per_s) / 1_000_000_000) as u64;
        (due.saturating_sub(self.emitted) as usize).min(max)
    }
}

impl TradeSource for Simulator {
    fn next_batch(
        &mut self,
        max: usize,
        sink: &mut dyn FnMut(FeedItem),
    ) -> Result<Poll, SourceError> {
        let budget = self.budget(max.max(1));
        if let Clock::Simulated { queue, .. } = &self.clock {
            if queue.is_empty() {
                return Ok(Poll::End);
            }
        }
        if budget == 0 {
            return Ok(Poll::Idle);
        }
        let mut n = 0;
        match &mut self.clock {
            Clock::Simulated { .. } => {
                while n < budget {
                    let Clock::Simulated { queue, end_ns } = &mut self.clock else { break };
                    let end_ns = *end_ns;
                    let Some(Reverse((ts, i))) = queue.pop() else { break };
                    let latency = self.rng.range(50_000, 2_000_000) as i64;
                    let trade = self.trade(i, ts, ts + latency);
                    sink(FeedItem::Trade(trade));
                    n += 1;
                    if let Some(next) = self.next_time(i, ts).filter(|&t| t < end_ns) {
                        if let Clock::Simulated { queue, .. } = &mut self.clock {
                            queue.push(Reverse((next, i)));
                        }
                    }
                }
            }
            Clock::Wall { .. } => {
                let now = wall_ns();
                self.refresh_open(now);
                let Clock::Wall { open, .. } = &self.clock else { return Ok(Poll::Idle) };
                if open.is_empty() {
                    return Ok(Poll::Idle);
                }
                let open = open.clone();
                while n < budget {
                    let i = open[self.rng.range(0, open.len() as u64 - 1) as usize];
                    let trade = self.trade(i, now, now);
                    sink(FeedItem::Trade(trade));
                    n += 1;
                }
            }
        }
        self.emitted += n as u64;
        self.counters.trades += n as u64;
        self.counters.messages += n as u64;
        Ok(if n == 0 { Poll::End } else { Poll::Ready(n) })
    }

    fn counters(&self) -> Counters {
        self.counters.clone()
    }

    fn name(&self) -> &'static str {
        "simulator"
    }

    fn position(&self) -> Option<Vec<u8>> {
        Some(self.encode_position())
    }

    fn resume(&mut self, position: &[u8]) -> Result<(), ResumeError> {
        self.decode_position(position)
    }
}

impl Simulator {
    /// Wall mode: which instruments are in a session now (rechecked once a second).
    fn refresh_open(&mut self, now: i64) {
        let Clock::Wall { checked_ns, .. } = &self.clock else { return };
        if now - *checked_ns < 1_000_000_000 {
            return;
        }
        let open: Vec<usize> = (0..self.instruments.len())
            .filter(|&i| hours::trades_in(self.session(i, now)))
            .collect();
        self.clock = Clock::Wall { open, checked_ns: now };
    }
}

#[cfg(test)]
mod tests;
