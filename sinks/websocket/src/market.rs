//! The latest state of every instrument, kept for snapshots: recent trades (the last one is the price),
//! the open candle and recent closed candles per series.

use crate::message::Instrument;
use crate::snapshot::{Item, Row};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use tickring_engine::candles::{Bucket, Candle, Series};
use tickring_engine::{Exchange, Session, Tick};
use tickring_sink_core::Position;

#[derive(Debug, Default)]
struct SeriesCandles {
    open: Option<Candle>,
    closed: VecDeque<Candle>,
}

/// One instrument of the ring's directory and what happened to it lately.
#[derive(Debug)]
pub struct InstrumentState {
    pub symbol: Arc<str>,
    pub exchange: Exchange,
    recent: VecDeque<(Position, Tick)>,
    candles: Vec<SeriesCandles>,
}

impl InstrumentState {
    pub fn instrument(&self) -> Instrument<'_> {
        Instrument { symbol: &self.symbol, exchange: self.exchange }
    }

    fn row(&self, item: Item) -> Row {
        Row { symbol: Arc::clone(&self.symbol), exchange: self.exchange, item }
    }

    pub fn last(&self) -> Option<&(Position, Tick)> {
        self.recent.back()
    }

    /// The session and trading day of the latest trade (closed / none before the first one).
    pub fn session_day(&self) -> (Session, u32) {
        self.last()
            .map_or((Session::Closed, Tick::NO_TRADING_DAY), |(_, t)| (t.session(), t.trading_day))
    }
}

/// Every instrument by id, plus the symbol index.
#[derive(Debug)]
pub struct Market {
    instruments: Vec<Option<InstrumentState>>,
    by_symbol: HashMap<Arc<str>, Vec<u32>>,
    series: Vec<Series>,
    keep_trades: usize,
    keep_candles: usize,
}

impl Market {
    pub fn new(series: Vec<Series>, keep_trades: usize, keep_candles: usize) -> Self {
        Self {
            instruments: Vec::new(),
            by_symbol: HashMap::new(),
            series,
            keep_trades: keep_trades.max(1),
            keep_candles,
        }
    }

    pub fn series(&self) -> &[Series] {
        &self.series
    }

    pub fn known(&self) -> usize {
        self.instruments.len()
    }

    /// Records a directory entry (ids only grow; an id already known keeps its state).
    pub fn set_instrument(&mut self, id: u32, symbol: &str, exchange: Exchange) {
        let i = id as usize;
        if self.instruments.len() <= i {
            self.instruments.resize_with(i + 1, || None);
        }
        if self.instruments[i].is_some() {
            return;
        }
        let symbol: Arc<str> = Arc::from(symbol);
        self.by_symbol.entry(Arc::clone(&symbol)).or_default().push(id);
        self.instruments[i] = Some(InstrumentState {
            symbol,
            exchange,
            recent: VecDeque::new(),
            candles: self.series.iter().map(|_| SeriesCandles::default()).collect(),
        });
    }

    pub fn get(&self, id: u32) -> Option<&InstrumentState> {
        self.instruments.get(id as usize).and_then(Option::as_ref)
    }

    pub fn on_trade(&mut self, at: Position, tick: &Tick) {
        let keep = self.keep_trades;
        if let Some(Some(s)) = self.instruments.get_mut(tick.instrument_id as usize) {
            if s.recent.len() >= keep {
                s.recent.pop_front();
            }
            s.recent.push_back((at, *tick));
        }
    }

    /// Index of a series in the configured list (its conflation kind is 1 + this).
    pub fn series_index(&self, series: Series) -> Option<usize> {
        self.series.iter().position(|s| *s == series)
    }

    pub fn on_candle(&mut self, c: &Candle) {
        let keep = self.keep_candles;
        let Some(idx) = self.series_index(c.series) else { return };
        let Some(Some(s)) = self.instruments.get_mut(c.instrument_id as usize) else { return };
        let sc = &mut s.candles[idx];
        if !c.closed {
            sc.open = Some(*c);
            return;
        }
        if sc.open.is_some_and(|o| o.bucket <= c.bucket) {
            sc.open = None;
        }
        match sc.closed.iter().position(|x| x.bucket >= c.bucket) {
            Some(i) if sc.closed[i].bucket == c.bucket => sc.closed[i] = *c,
            Some(i) => sc.closed.insert(i, *c),
            None => sc.closed.push_back(*c),
        }
        while sc.closed.len() > keep {
            sc.closed.pop_front();
        }
    }

    /// Ids of the instruments a symbol names (usually one).
    pub fn ids(&self, symbol: &str) -> &[u32] {
        self.by_symbol.get(symbol).map_or(&[], Vec::as_slice)
    }

    fn all_ids(&self) -> impl Iterator<Item = u32> + '_ {
        self.instruments.iter().enumerate().filter(|(_, s)| s.is_some()).map(|(i, _)| i as u32)
    }

    /// Snapshot events of `kind` for the given instruments; `history` adds recent trades / closed candles.
    pub fn snapshot_trades(&self, ids: &[u32], history: bool, out: &mut Vec<Row>) {
        for s in ids.iter().filter_map(|&id| self.get(id)) {
            let skip = if history { 0 } else { s.recent.len().saturating_sub(1) };
            for (at, t) in s.recent.iter().skip(skip) {
                out.push(s.row(Item::Trade(*at, *t)));
            }
        }
    }

    pub fn snapshot_prices(&self, ids: &[u32], out: &mut Vec<Row>) {
        for s in ids.iter().filter_map(|&id| self.get(id)) {
            if let Some((at, t)) = s.last() {
                out.push(s.row(Item::Price(*at, *t)));
            }
        }
    }

    pub fn snapshot_candles(&self, ids: &[u32], series: Series, history: bool, out: &mut Vec<Row>) {
        let Some(idx) = self.series_index(series) else { return };
        for s in ids.iter().filter_map(|&id| self.get(id)) {
            let (session, day) = s.session_day();
            let sc = &s.candles[idx];
            if history {
                for c in &sc.closed {
                    out.push(s.row(Item::Candle(*c, session, day)));
                }
            }
            if let Some(c) = &sc.open {
                out.push(s.row(Item::Candle(*c, session, day)));
            }
        }
    }

    /// Every known instrument id (for wildcard snapshots).
    pub fn every_id(&self) -> Vec<u32> {
        self.all_ids().collect()
    }
}

/// A monotone key of a candle's bucket within its series (for conflation).
pub fn bucket_key(b: Bucket) -> u64 {
    match b {
        Bucket::Start(ns) => ns,
        Bucket::TradingDay(d) => u64::from(d),
    }
}
