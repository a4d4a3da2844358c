//! Who is subscribed to what: per symbol and per kind, plus the wildcard lists.

use crate::channel::{Channel, Kind, SymbolPattern};
use crate::queue::ClientShared;
use std::collections::HashMap;
use std::sync::Arc;
use tickring_engine::candles::Series;

type Clients = Vec<Arc<ClientShared>>;

/// The subscribers of one symbol (or of `*`), by kind.
#[derive(Debug, Default)]
struct Subs {
    trade: Clients,
    price: Clients,
    candle: Vec<(Series, Clients)>,
}

impl Subs {
    fn list(&self, kind: Kind) -> &[Arc<ClientShared>] {
        match kind {
            Kind::Trade => &self.trade,
            Kind::Price => &self.price,
            Kind::Candle(s) => {
                self.candle.iter().find(|(x, _)| *x == s).map_or(&[][..], |(_, l)| l)
            }
        }
    }

    fn list_mut(&mut self, kind: Kind) -> &mut Clients {
        match kind {
            Kind::Trade => &mut self.trade,
            Kind::Price => &mut self.price,
            Kind::Candle(s) => {
                let i = match self.candle.iter().position(|(x, _)| *x == s) {
                    Some(i) => i,
                    None => {
                        self.candle.push((s, Vec::new()));
                        self.candle.len() - 1
                    }
                };
                &mut self.candle[i].1
            }
        }
    }

    fn is_empty(&self) -> bool {
        self.trade.is_empty()
            && self.price.is_empty()
            && self.candle.iter().all(|(_, l)| l.is_empty())
    }

    fn all(&self) -> impl Iterator<Item = &Arc<ClientShared>> {
        self.trade.iter().chain(&self.price).chain(self.candle.iter().flat_map(|(_, l)| l))
    }
}

/// Subscriptions of every client.
#[derive(Debug, Default)]
pub struct Registry {
    by_symbol: HashMap<Arc<str>, Subs>,
    any: Subs,
}

impl Registry {
    /// Adds `client` to `channel` (the caller keeps each client's set, so no duplicates arrive here).
    pub fn add(&mut self, channel: &Channel, client: &Arc<ClientShared>) {
        let subs = match &channel.symbol {
            SymbolPattern::Any => &mut self.any,
            SymbolPattern::Exact(s) => self.by_symbol.entry(Arc::clone(s)).or_default(),
        };
        subs.list_mut(channel.kind).push(Arc::clone(client));
    }

    pub fn remove(&mut self, channel: &Channel, client_id: u64) {
        let subs = match &channel.symbol {
            SymbolPattern::Any => &mut self.any,
            SymbolPattern::Exact(s) => match self.by_symbol.get_mut(&**s) {
                Some(subs) => subs,
                None => return,
            },
        };
        subs.list_mut(channel.kind).retain(|c| c.id != client_id);
        if let SymbolPattern::Exact(s) = &channel.symbol {
            if subs.is_empty() {
                self.by_symbol.remove(&**s);
            }
        }
    }

    /// The exact and the wildcard subscribers of `kind` for `symbol`.
    pub fn subscribers(
        &self,
        kind: Kind,
        symbol: &str,
    ) -> (&[Arc<ClientShared>], &[Arc<ClientShared>]) {
        let exact = self.by_symbol.get(symbol).map_or(&[][..], |s| s.list(kind));
        (exact, self.any.list(kind))
    }

    /// Every subscribed client (with repeats; callers dedupe by dispatch).
    pub fn everyone(&self) -> impl Iterator<Item = &Arc<ClientShared>> {
        self.any.all().chain(self.by_symbol.values().flat_map(Subs::all))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queue::QueueBounds;

    #[test]
    fn add_find_remove() {
        let series = Series::DEFAULT;
        let a = ClientShared::new(1, QueueBounds { trades: 1, conflated: 1, control: 4 });
        let b = ClientShared::new(2, QueueBounds { trades: 1, conflated: 1, control: 4 });
        let mut r = Registry::default();
        let exact = Channel::parse("candle.1m.AAPL", &series).expect("channel");
        let any = Channel::parse("candle.1m.*", &series).expect("channel");
        r.add(&exact, &a);
        r.add(&any, &b);
        let (e, w) = r.subscribers(Kind::Candle(Series::M1), "AAPL");
        assert_eq!((e.len(), w.len()), (1, 1));
        assert_eq!(r.subscribers(Kind::Candle(Series::H1), "AAPL").0.len(), 0);
        assert_eq!(r.subscribers(Kind::Trade, "AAPL").0.len(), 0);
        assert_eq!(r.everyone().count(), 2);
        r.remove(&exact, 1);
        assert_eq!(r.subscribers(Kind::Candle(Series::M1), "AAPL").0.len(), 0);
        assert!(r.by_symbol.is_empty());
    }
}
