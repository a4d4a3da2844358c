//! The hub: subscriptions and market state under one lock, so that a snapshot and the live events after it
//! are never out of order. The ring reader fans events out from here; client readers subscribe here.

use crate::channel::{Channel, Kind, SymbolPattern};
use crate::market::{bucket_key, Market};
use crate::message;
use crate::queue::{ClientShared, ConflationKey, Push};
use crate::registry::Registry;
use crate::snapshot::Row;
use crate::stats::Stats;
use std::sync::{Arc, Mutex, MutexGuard};
use tickring_engine::candles::Candle;
use tickring_engine::{Exchange, Tick};
use tickring_sink_core::Position;

/// Shared by the ring reader thread and every client task.
#[derive(Debug)]
pub struct Hub {
    state: Mutex<HubState>,
    pub stats: Arc<Stats>,
}

/// What the lock guards.
#[derive(Debug)]
pub struct HubState {
    registry: Registry,
    pub market: Market,
    dispatch: u64,
    stats: Arc<Stats>,
}

impl Hub {
    pub fn new(market: Market, stats: Arc<Stats>) -> Self {
        Self {
            state: Mutex::new(HubState {
                registry: Registry::default(),
                market,
                dispatch: 0,
                stats: Arc::clone(&stats),
            }),
            stats,
        }
    }

    pub fn lock(&self) -> MutexGuard<'_, HubState> {
        // The state stays usable after a panic elsewhere: every update is a single push or replace.
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn count(stats: &Stats, pushed: Push) {
    match pushed {
        Push::Queued => {}
        Push::Dropped => Stats::add(&stats.trades_dropped, 1),
        Push::Replaced => Stats::add(&stats.updates_conflated, 1),
    }
}

impl HubState {
    fn next_dispatch(&mut self) -> u64 {
        self.dispatch += 1;
        self.dispatch
    }

    pub fn set_instrument(&mut self, id: u32, symbol: &str, exchange: Exchange) {
        self.market.set_instrument(id, symbol, exchange);
    }

    /// One trade: kept for snapshots, pushed to `trade` and `price` subscribers.
    pub fn on_trade(&mut self, at: Position, tick: &Tick) {
        self.market.on_trade(at, tick);
        let Some(inst) = self.market.get(tick.instrument_id) else { return };
        let (exact, any) = self.registry.subscribers(Kind::Trade, &inst.symbol);
        if !exact.is_empty() || !any.is_empty() {
            self.dispatch += 1;
            let msg: Arc<str> = Arc::from(message::trade(inst.instrument(), at, tick));
            for c in exact.iter().chain(any) {
                if c.first_in_dispatch(self.dispatch) {
                    count(&self.stats, c.push_trade(&msg));
                }
            }
        }
        let (exact, any) = self.registry.subscribers(Kind::Price, &inst.symbol);
        if !exact.is_empty() || !any.is_empty() {
            self.dispatch += 1;
            let msg: Arc<str> = Arc::from(message::price(inst.instrument(), at, tick));
            let key = ConflationKey { kind: 0, instrument_id: tick.instrument_id, bucket: 0 };
            for c in exact.iter().chain(any) {
                if c.first_in_dispatch(self.dispatch) {
                    count(&self.stats, c.push_conflated(key, &msg));
                }
            }
        }
    }

    /// One candle (live or closed): kept for snapshots, pushed to its series' subscribers.
    pub fn on_candle(&mut self, c: &Candle) {
        self.market.on_candle(c);
        let Some(idx) = self.market.series_index(c.series) else { return };
        let Some(inst) = self.market.get(c.instrument_id) else { return };
        let (exact, any) = self.registry.subscribers(Kind::Candle(c.series), &inst.symbol);
        if exact.is_empty() && any.is_empty() {
            return;
        }
        self.dispatch += 1;
        let (session, day) = inst.session_day();
        let msg: Arc<str> = Arc::from(message::candle(inst.instrument(), c, session, day));
        let key = ConflationKey {
            kind: 1 + idx as u8,
            instrument_id: c.instrument_id,
            bucket: bucket_key(c.bucket),
        };
        for client in exact.iter().chain(any) {
            if client.first_in_dispatch(self.dispatch) {
                count(&self.stats, client.push_conflated(key, &msg));
            }
        }
    }

    /// A notice for every subscribed client (ring overrun, producer restart).
    pub fn broadcast(&mut self, msg: &str) {
        let d = self.next_dispatch();
        for c in self.registry.everyone() {
            if c.first_in_dispatch(d) && !c.push_control(msg.to_string()) {
                c.request_close(1008, "not reading: reply queue full");
            }
        }
    }

    /// Subscribes and copies each channel's snapshot rows. The client's live events are held back from
    /// its writer from now until the caller, having encoded and queued the snapshots outside this lock,
    /// calls [`ClientShared::release_live`]: live events still go out after their snapshot.
    pub fn subscribe(&mut self, client: &Arc<ClientShared>, channels: &[Channel]) -> Vec<Vec<Row>> {
        client.hold_live();
        channels
            .iter()
            .map(|ch| {
                self.registry.add(ch, client);
                self.snapshot(ch)
            })
            .collect()
    }

    /// Symbols of exact channels in `channels` that no tick seen so far carries, each once.
    pub fn unknown_symbols(&self, channels: &[Channel]) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for ch in channels {
            if let SymbolPattern::Exact(s) = &ch.symbol {
                if self.market.ids(s).is_empty() && !out.iter().any(|o| **o == **s) {
                    out.push(s.to_string());
                }
            }
        }
        out
    }

    pub fn unsubscribe(&mut self, client_id: u64, channels: &[Channel]) {
        for ch in channels {
            self.registry.remove(ch, client_id);
        }
    }

    fn snapshot(&self, ch: &Channel) -> Vec<Row> {
        let (ids, exact) = match &ch.symbol {
            SymbolPattern::Exact(s) => (self.market.ids(s).to_vec(), true),
            SymbolPattern::Any => (self.market.every_id(), false),
        };
        let mut out = Vec::new();
        match ch.kind {
            Kind::Trade => self.market.snapshot_trades(&ids, exact, &mut out),
            Kind::Price => self.market.snapshot_prices(&ids, &mut out),
            Kind::Candle(s) => self.market.snapshot_candles(&ids, s, exact, &mut out),
        }
        out
    }
}
