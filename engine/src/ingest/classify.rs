//! Trade -> Tick: which instrument (directory id), which exchange, which session and trading day.
//!
//! Pure apart from the directory callback: the same trades in the same order give the same ticks.

use crate::calendar::{Calendars, Coverage, SessionClock};
use crate::feed::{RejectReason, Trade};
use crate::instrument::{resolve_exchange, ExchangeOverrides};
use crate::tick::{Exchange, Tick, TickFlags};
use crate::wire::InstrumentEntry;
use std::collections::HashMap;
use std::sync::Arc;

/// Why a trade did not become a tick; the caller quarantines it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unclassified {
    pub reason: RejectReason,
    pub detail: String,
}

/// Counts of what classification noticed without rejecting.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClassifyStats {
    pub instruments: u64,
    /// Event time older than one already seen for the instrument (flagged OUT_OF_ORDER, still published).
    pub out_of_order: u64,
    /// Event time outside the years the exchange's calendar covers (published as closed, no trading day).
    pub outside_calendar: u64,
}

#[derive(Debug)]
struct Instrument {
    id: u32,
    exchange: Exchange,
    last_event_ns: u64,
}

/// Assigns directory ids and session tags. One per publisher thread.
#[derive(Debug)]
pub struct Classifier {
    overrides: ExchangeOverrides,
    /// One cached clock per exchange code: ticks of one exchange arrive close in time, so the cache hits.
    clocks: Vec<Option<SessionClock>>,
    instruments: HashMap<Arc<str>, Instrument>,
    stats: ClassifyStats,
}

impl Classifier {
    pub fn new(calendars: &Calendars, overrides: ExchangeOverrides) -> Self {
        let max_code = Exchange::ALL.iter().map(|e| *e as usize).max().unwrap_or(0);
        let clocks =
            (0..=max_code).map(|code| calendars.clock(Exchange::from_code(code as u16))).collect();
        Self { overrides, clocks, instruments: HashMap::new(), stats: ClassifyStats::default() }
    }

    pub fn stats(&self) -> ClassifyStats {
        self.stats
    }

    /// Turns a trade into a tick. A symbol seen for the first time is registered through `register`, which
    /// returns its directory id (the ring's `push_entry`); `ts_publish_ns` is left 0 for the publisher.
    ///
    /// # Errors
    /// Unknown exchange, a symbol the directory cannot hold, or a full directory.
    pub fn classify(
        &mut self,
        trade: &Trade,
        register: &mut dyn FnMut(&InstrumentEntry) -> Option<u32>,
    ) -> Result<Tick, Unclassified> {
        let instrument = match self.instruments.get_mut(&trade.symbol) {
            Some(i) => i,
            None => {
                let exchange = self.exchange_of(trade)?;
                let entry =
                    InstrumentEntry::new(&trade.symbol, exchange).ok_or_else(|| Unclassified {
                        reason: RejectReason::BadSymbol,
                        detail: format!(
                            "symbol {:?} is empty or longer than 40 bytes",
                            &*trade.symbol
                        ),
                    })?;
                let id = register(&entry).ok_or_else(|| Unclassified {
                    reason: RejectReason::DirectoryFull,
                    detail: format!("no directory room for {}", &*trade.symbol),
                })?;
                self.stats.instruments += 1;
                self.instruments.entry(Arc::clone(&trade.symbol)).or_insert(Instrument {
                    id,
                    exchange,
                    last_event_ns: 0,
                })
            }
        };
        let mut flags = trade.flags;
        if trade.ts_event_ns < instrument.last_event_ns {
            flags |= TickFlags::OUT_OF_ORDER;
            self.stats.out_of_order += 1;
        } else {
            instrument.last_event_ns = trade.ts_event_ns;
        }
        let (session, trading_day) = match &mut self.clocks[instrument.exchange as usize] {
            Some(clock) => {
                let c = clock.classify(trade.ts_event_ns as i64);
                if c.coverage == Coverage::Outside {
                    self.stats.outside_calendar += 1;
                }
                (c.session, c.tick_trading_day())
            }
            // No calendar at all: the session cannot be told, and there is no zone to date the tick by.
            None => (crate::Session::Unknown, Tick::NO_TRADING_DAY),
        };
        Ok(Tick {
            ts_event_ns: trade.ts_event_ns,
            ts_recv_ns: trade.ts_recv_ns,
            ts_publish_ns: 0,
            price: trade.price,
            size: trade.size,
            trade_id: trade.trade_id,
            instrument_id: instrument.id,
            trading_day,
            exchange: instrument.exchange as u16,
            session: session as u8,
            flags,
            reserved: [0; 4],
        })
    }

    /// The feed's exchange code (a MIC from canonical files, RDN_EXCHD2 from LSEG), then the RIC, then the
    /// override table.
    fn exchange_of(&self, trade: &Trade) -> Result<Exchange, Unclassified> {
        let code = trade.exchange_code.as_deref();
        code.and_then(Exchange::from_mic)
            .or_else(|| resolve_exchange(&trade.symbol, code, &self.overrides))
            .ok_or_else(|| Unclassified {
                reason: RejectReason::UnknownExchange,
                detail: format!(
                    "no exchange for {:?} (exchange code {:?}); add it to the override table",
                    &*trade.symbol, code
                ),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapping::TradeClass;
    use crate::{Price, Quantity, Session};

    fn trade(symbol: &str, code: Option<&str>, ts: &str) -> Trade {
        let ts_ns = chrono::DateTime::parse_from_rfc3339(ts)
            .expect("ts")
            .timestamp_nanos_opt()
            .expect("ns");
        Trade {
            symbol: symbol.into(),
            exchange_code: code.map(Into::into),
            ts_event_ns: ts_ns as u64,
            ts_recv_ns: ts_ns as u64 + 1_000,
            price: Price::parse("189.84").expect("price"),
            size: Quantity::from_units(100),
            flags: TickFlags::REGULAR,
            trade_id: 7,
            class: TradeClass::Equity,
        }
    }

    fn directory() -> (Vec<InstrumentEntry>, impl FnMut(&InstrumentEntry) -> Option<u32>) {
        let mut dir = Vec::new();
        let register = move |e: &InstrumentEntry| {
            dir.push(*e);
            Some(dir.len() as u32 - 1)
        };
        (Vec::new(), register)
    }

    #[test]
    fn tags_exchange_session_and_trading_day_in_exchange_time() {
        let cal = Calendars::builtin().expect("calendars");
        let mut c = Classifier::new(&cal, ExchangeOverrides::default());
        let (_, mut reg) = directory();
        // 09:30 New York on a DST Monday = 13:30 UTC.
        let t = c
            .classify(&trade("AAPL.O", Some("NMQ"), "2024-03-11T13:30:00Z"), &mut reg)
            .expect("tick");
        assert_eq!(
            (t.exchange(), t.session(), t.instrument_id),
            (Exchange::Xnas, Session::Regular, 0)
        );
        assert_eq!(t.trading_day, 19793); // 2024-03-11
        let t = c.classify(&trade("AAPL.O", None, "2024-03-11T13:29:59Z"), &mut reg).expect("tick");
        assert_eq!(t.session(), Session::Pre);
        assert!(t.flags().contains(TickFlags::OUT_OF_ORDER), "older than the previous trade");
        // CME: 17:00 Chicago on a Sunday opens Monday's trading day.
        let t = c.classify(&trade("ESZ6", None, "2026-11-22T23:00:00Z"), &mut reg).expect("tick");
        assert_eq!(
            (t.exchange(), t.session(), t.instrument_id),
            (Exchange::Xcme, Session::Regular, 1)
        );
        assert_eq!(t.trading_day, 20780); // 2026-11-23
                                          // A canonical file's MIC wins over the suffix.
        let t = c
            .classify(&trade("VOD.L", Some("XLON"), "2026-11-23T09:00:00Z"), &mut reg)
            .expect("tick");
        assert_eq!((t.exchange(), t.session()), (Exchange::Xlon, Session::Regular));
        assert_eq!(c.stats().instruments, 3);
        assert_eq!(c.stats().out_of_order, 1);
        // Outside the CME calendar's coverage (a 2013 replay): unknown, dated by the local date, counted.
        let t = c.classify(&trade("ESZ6", None, "2013-03-11T15:00:00Z"), &mut reg).expect("tick");
        assert_eq!((t.exchange(), t.session()), (Exchange::Xcme, Session::Unknown));
        assert_eq!(t.trading_day, 15775); // 2013-03-11, Chicago
        assert_eq!(c.stats().outside_calendar, 1);
    }

    #[test]
    fn unknown_exchanges_and_bad_symbols_are_refused_with_a_reason() {
        let cal = Calendars::builtin().expect("calendars");
        let mut c = Classifier::new(&cal, ExchangeOverrides::default());
        let (_, mut reg) = directory();
        let err = c
            .classify(&trade("AAPL", None, "2024-03-11T13:30:00Z"), &mut reg)
            .expect_err("bare symbol");
        assert_eq!(err.reason, RejectReason::UnknownExchange);
        let long = format!("{}.N", "X".repeat(40));
        let err =
            c.classify(&trade(&long, None, "2024-03-11T13:30:00Z"), &mut reg).expect_err("long");
        assert_eq!(err.reason, RejectReason::BadSymbol);
        let err = c
            .classify(&trade("IBM.N", None, "2024-03-11T13:30:00Z"), &mut |_| None)
            .expect_err("directory full");
        assert_eq!(err.reason, RejectReason::DirectoryFull);
        let mut overrides = ExchangeOverrides::default();
        overrides.insert("AAPL", Exchange::Xnas);
        let mut c = Classifier::new(&cal, overrides);
        assert!(c.classify(&trade("AAPL", None, "2024-03-11T13:30:00Z"), &mut reg).is_ok());
    }
}
