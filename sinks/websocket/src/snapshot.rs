//! Snapshot rows: plain copies of market state taken under the hub lock, encoded to JSON after it is
//! released, so a subscribe costs the ring reader a copy of a few `Copy` records, not the JSON work.

use crate::message::{self, Instrument};
use std::sync::Arc;
use tickring_engine::candles::Candle;
use tickring_engine::{Exchange, Session, Tick};
use tickring_sink_core::Position;

/// One event of a snapshot.
#[derive(Clone, Debug)]
pub enum Item {
    Trade(Position, Tick),
    Price(Position, Tick),
    /// The candle with its instrument's latest session and trading day.
    Candle(Candle, Session, u32),
}

#[derive(Clone, Debug)]
pub struct Row {
    pub symbol: Arc<str>,
    pub exchange: Exchange,
    pub item: Item,
}

impl Row {
    pub fn encode(&self) -> String {
        let inst = Instrument { symbol: &self.symbol, exchange: self.exchange };
        match &self.item {
            Item::Trade(at, t) => message::trade(inst, *at, t),
            Item::Price(at, t) => message::price(inst, *at, t),
            Item::Candle(c, session, day) => message::candle(inst, c, *session, *day),
        }
    }
}

/// The snapshot message of `channel`: encodes every row (call without the hub lock).
pub fn encode(channel: &str, rows: &[Row]) -> String {
    let events: Vec<String> = rows.iter().map(Row::encode).collect();
    message::snapshot(channel, &events)
}
