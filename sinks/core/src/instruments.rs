//! A sink's own instrument ids, stable across producer restarts.
//!
//! A directory index (`Tick::instrument_id` as published) is only valid in one producer epoch: a restarted
//! producer may number instruments differently. Candle state and client subscriptions must survive that,
//! so every instrument gets a sink id from its (symbol, exchange), and [`crate::TickStream`] hands out
//! ticks carrying that id.

use std::collections::HashMap;
use std::sync::Arc;
use tickring_engine::{Exchange, InstrumentEntry};

/// Sink id -> (symbol, MIC): a snapshot a flush in flight takes along (ids only grow, so an older
/// snapshot names every id its flush uses).
#[derive(Debug, Default, Clone)]
pub struct Names(Vec<(String, &'static str)>);

impl Names {
    /// Symbol and MIC of a sink id.
    pub fn name(&self, id: u32) -> (&str, &'static str) {
        self.0.get(id as usize).map_or(("", Exchange::Unknown.mic()), |(s, e)| (s.as_str(), e))
    }
}

#[derive(Clone, Debug, Default)]
pub struct Instruments {
    ids: HashMap<(String, Exchange), u32>,
    /// Sink id -> (symbol, MIC), shared with flushes in flight (copied on write only when a new instrument
    /// appears while one holds it).
    names: Arc<Names>,
    /// Directory index of the current epoch -> sink id.
    ring: Vec<u32>,
}

impl Instruments {
    /// The sink id of (symbol, exchange), assigned on first sight.
    pub fn intern(&mut self, symbol: &str, exchange: Exchange) -> u32 {
        if let Some(&id) = self.ids.get(&(symbol.to_string(), exchange)) {
            return id;
        }
        let id = u32::try_from(self.names.0.len()).unwrap_or(u32::MAX);
        Arc::make_mut(&mut self.names).0.push((symbol.to_string(), exchange.mic()));
        self.ids.insert((symbol.to_string(), exchange), id);
        id
    }

    /// Takes in directory entries published since the last call (the directory only grows in an epoch).
    pub fn sync(&mut self, entries: &[InstrumentEntry]) {
        for entry in entries.iter().skip(self.ring.len()) {
            let id = self.intern(&entry.symbol(), entry.exchange());
            self.ring.push(id);
        }
    }

    /// Directory entries known for the current epoch.
    pub fn known(&self) -> usize {
        self.ring.len()
    }

    /// A new producer epoch numbers its directory afresh.
    pub fn reset_ring(&mut self) {
        self.ring.clear();
    }

    /// The sink id of a directory index of the current epoch, if that entry was seen.
    pub fn of_ring(&self, instrument_id: u32) -> Option<u32> {
        self.ring.get(instrument_id as usize).copied()
    }

    /// Symbol and MIC of a sink id.
    pub fn name(&self, id: u32) -> (&str, &'static str) {
        self.names.name(id)
    }

    /// The sink id of a symbol (on the first exchange it was seen on).
    pub fn instruments_of(&self, symbol: &str) -> Option<u32> {
        self.names.0.iter().position(|(s, _)| s == symbol).map(|i| i as u32)
    }

    /// Sink ids assigned so far (ids are `0..len`).
    pub fn len(&self) -> usize {
        self.names.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.0.is_empty()
    }

    /// The names as they are now, for a flush in flight.
    pub fn names(&self) -> Arc<Names> {
        Arc::clone(&self.names)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(sym: &str, ex: Exchange) -> InstrumentEntry {
        InstrumentEntry::new(sym, ex).expect("valid entry")
    }

    #[test]
    fn ids_survive_a_renumbered_directory() {
        let mut ins = Instruments::default();
        ins.sync(&[entry("AAPL.O", Exchange::Xnas), entry("ESZ6", Exchange::Xcme)]);
        assert_eq!((ins.of_ring(0), ins.of_ring(1), ins.of_ring(2)), (Some(0), Some(1), None));
        ins.reset_ring();
        ins.sync(&[entry("ESZ6", Exchange::Xcme), entry("VOD.L", Exchange::Xlon)]);
        assert_eq!((ins.of_ring(0), ins.of_ring(1)), (Some(1), Some(2)));
        assert_eq!(ins.name(2), ("VOD.L", "XLON"));
        assert_eq!(ins.intern("AAPL.O", Exchange::Xnas), 0);
        assert_eq!(ins.known(), 2);
        let snapshot = ins.names();
        ins.intern("MSFT.O", Exchange::Xnas);
        assert_eq!((snapshot.name(2), snapshot.name(3)), (("VOD.L", "XLON"), ("", "XXXX")));
        assert_eq!(ins.name(3), ("MSFT.O", "XNAS"));
    }
}
