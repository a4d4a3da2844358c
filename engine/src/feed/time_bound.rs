//! Refuses trades stamped too far in the future before they are classified: one tick in year 2262 would move
//! every candle clock forward for good. Wraps any [`TradeSource`]; what it refuses is quarantined.

use super::source::{FeedItem, Poll, SourceError, TradeSource};
use super::{Counters, RejectReason, Rejection, Trade};
use std::time::Duration;

/// A source whose trades are checked against the receive time and the wall clock.
pub struct TimeBound {
    inner: Box<dyn TradeSource>,
    max_skew_ns: u64,
    refused: u64,
    now_ns: fn() -> u64,
}

impl std::fmt::Debug for TimeBound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TimeBound")
            .field("inner", &self.inner.name())
            .field("max_skew_ns", &self.max_skew_ns)
            .field("refused", &self.refused)
            .finish()
    }
}

impl TimeBound {
    /// Refuses trades more than `max_future_skew` after their receive time, or received (as a file
    /// says) more than that after now.
    pub fn new(inner: Box<dyn TradeSource>, max_future_skew: Duration) -> Self {
        Self::with_clock(inner, max_future_skew, tickring_ipc::clock::realtime_ns)
    }

    fn with_clock(
        inner: Box<dyn TradeSource>,
        max_future_skew: Duration,
        now_ns: fn() -> u64,
    ) -> Self {
        let max_skew_ns = u64::try_from(max_future_skew.as_nanos()).unwrap_or(u64::MAX);
        Self { inner, max_skew_ns, refused: 0, now_ns }
    }
}

/// Why `trade` is too far in the future, if it is. A replay's receive time is only what the file says, so
/// it is bounded by the wall clock too (canonical files use the event time as receive time).
pub fn check(trade: &Trade, now_ns: u64, max_skew_ns: u64) -> Result<(), String> {
    let ms = |ns: u64| ns / 1_000_000;
    if trade.ts_recv_ns > now_ns.saturating_add(max_skew_ns) {
        return Err(format!(
            "receive time {} ns is {} ms after now (most {} ms)",
            trade.ts_recv_ns,
            ms(trade.ts_recv_ns - now_ns),
            ms(max_skew_ns)
        ));
    }
    if trade.ts_event_ns > trade.ts_recv_ns.saturating_add(max_skew_ns) {
        return Err(format!(
            "event time {} ns is {} ms after its receive time (most {} ms)",
            trade.ts_event_ns,
            ms(trade.ts_event_ns - trade.ts_recv_ns),
            ms(max_skew_ns)
        ));
    }
    Ok(())
}

fn rejection(t: &Trade, detail: String) -> Rejection {
    let raw = serde_json::json!({
        "symbol": &*t.symbol,
        "exchange_code": t.exchange_code.as_deref(),
        "ts_event_ns": t.ts_event_ns,
        "ts_recv_ns": t.ts_recv_ns,
        "price": t.price.to_string(),
        "size": t.size.to_string(),
        "trade_id": t.trade_id,
    });
    Rejection {
        reason: RejectReason::TimeOutOfRange,
        detail,
        raw: raw.to_string(),
        recv_ns: t.ts_recv_ns,
        line: None,
    }
}

impl TradeSource for TimeBound {
    fn next_batch(
        &mut self,
        max: usize,
        sink: &mut dyn FnMut(FeedItem),
    ) -> Result<Poll, SourceError> {
        // One clock read per batch: a batch is read in microseconds, far below any useful skew.
        let now = (self.now_ns)();
        let (skew, refused) = (self.max_skew_ns, &mut self.refused);
        self.inner.next_batch(max, &mut |item| match item {
            FeedItem::Trade(t) => match check(&t, now, skew) {
                Ok(()) => sink(FeedItem::Trade(t)),
                Err(detail) => {
                    *refused += 1;
                    sink(FeedItem::Rejected(rejection(&t, detail)));
                }
            },
            other => sink(other),
        })
    }

    /// The inner source's counters, with refused trades moved from trades to rejects.
    fn counters(&self) -> Counters {
        let mut c = self.inner.counters();
        c.trades = c.trades.saturating_sub(self.refused);
        c.count_rejects(RejectReason::TimeOutOfRange, self.refused);
        c
    }

    fn name(&self) -> &'static str {
        self.inner.name()
    }

    // The bound only filters: the position is the wrapped source's.
    fn position(&self) -> Option<Vec<u8>> {
        self.inner.position()
    }

    fn resume(&mut self, position: &[u8]) -> Result<(), crate::feed::ResumeError> {
        self.inner.resume(position)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feed::replay::CanonicalReader;

    const NOW: u64 = 1_800_000_000_000_000_000;

    #[test]
    fn far_future_trades_are_rejected_with_the_reason() {
        let text = format!(
            "{}\n{}\n{}\n",
            r#"{"symbol":"A","ts":1784122200000000000,"price":1,"size":1}"#,
            r#"{"symbol":"B","ts":18446744073709551615,"price":1,"size":1}"#,
            r#"{"symbol":"C","ts":"2262-04-11T23:47:16Z","price":1,"size":1}"#,
        );
        let inner = Box::new(CanonicalReader::new(std::io::Cursor::new(text.into_bytes())));
        let mut bound = TimeBound::with_clock(inner, Duration::from_secs(60), || NOW);
        let mut items = Vec::new();
        while bound.next_batch(8, &mut |i| items.push(i)).unwrap() != Poll::End {}
        assert!(matches!(&items[0], FeedItem::Trade(t) if &*t.symbol == "A"), "{items:?}");
        for item in &items[1..] {
            let FeedItem::Rejected(r) = item else { panic!("{item:?}") };
            assert_eq!(r.reason, RejectReason::TimeOutOfRange);
            assert!(r.detail.contains("after now"), "{}", r.detail);
        }
        assert_eq!(items.len(), 3);
        let c = bound.counters();
        assert_eq!((c.trades, c.rejected(RejectReason::TimeOutOfRange)), (1, 2));
    }

    #[test]
    fn event_time_is_bounded_by_receive_time() {
        let trade = |ev: u64, recv: u64| Trade {
            symbol: "X".into(),
            exchange_code: None,
            ts_event_ns: ev,
            ts_recv_ns: recv,
            price: crate::Price::from_units(1),
            size: crate::Quantity::from_units(1),
            flags: 0,
            trade_id: 0,
            class: crate::mapping::TradeClass::Canonical,
        };
        let skew = 1_000_000_000;
        assert!(check(&trade(NOW + skew, NOW), NOW, skew).is_ok());
        assert!(check(&trade(NOW - 5, NOW), NOW, skew).is_ok());
        let err = check(&trade(u64::MAX, NOW), NOW, skew).expect_err("far future");
        assert!(err.contains("after its receive time"), "{err}");
        assert!(check(&trade(NOW, NOW + skew + 1), NOW, skew).is_err());
        assert!(check(&trade(u64::MAX, u64::MAX), u64::MAX, u64::MAX).is_ok());
    }
}
