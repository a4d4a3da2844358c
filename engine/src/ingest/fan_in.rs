//! Several feed connections, one publisher: each feed runs (and decodes) on its own thread and hands its
//! items to the pinned publisher thread through an in-process multi-producer disruptor (the `disruptor`
//! crate: in-process only, which is all this hop needs). The fan-in is itself a [`TradeSource`], so the
//! publisher loop does not change.
//!
//! Decoding happens in the feed threads: `tickring bench ingest` measures this against forwarding raw
//! frames and decoding on the publisher thread (see the `fanin-*` rows).

use crate::feed::{Counters, FeedItem, Poll, SourceError, TradeSource};
use disruptor::{build_multi_producer, BusySpin, EventPoller, Polling, Producer};
use std::sync::Mutex;
use std::thread::JoinHandle;

/// One ring slot: the item a feed thread published (moved out by the publisher thread).
#[derive(Default)]
struct Slot(Mutex<Option<FeedItem>>);

type Poller = EventPoller<Slot, disruptor::MultiProducerBarrier>;

/// The publisher's side of the fan-in.
pub struct FanIn {
    poller: Poller,
    feeds: Vec<JoinHandle<Result<Counters, SourceError>>>,
    counters: Counters,
    ended: bool,
}

impl std::fmt::Debug for FanIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FanIn").field("feeds", &self.feeds.len()).finish()
    }
}

impl FanIn {
    /// Starts one thread per source; `capacity` (a power of two) slots buffer between them and the
    /// publisher. A full buffer makes the feed threads wait, never drops.
    ///
    /// # Errors
    /// A feed thread could not be started.
    pub fn start(
        sources: Vec<Box<dyn TradeSource>>,
        capacity: usize,
        max_batch: usize,
    ) -> std::io::Result<Self> {
        let (poller, builder) =
            build_multi_producer(capacity.next_power_of_two(), Slot::default, BusySpin)
                .new_event_poller();
        let producer = builder.build();
        let mut feeds = Vec::with_capacity(sources.len());
        for (i, mut source) in sources.into_iter().enumerate() {
            let mut producer = producer.clone();
            feeds.push(std::thread::Builder::new().name(format!("feed-{i}")).spawn(move || {
                loop {
                    let poll = source.next_batch(max_batch, &mut |item| {
                        producer.publish(|slot: &mut Slot| {
                            *slot.0.get_mut().unwrap_or_else(|p| p.into_inner()) = Some(item);
                        });
                    })?;
                    match poll {
                        Poll::Ready(_) => {}
                        Poll::Idle => std::thread::sleep(std::time::Duration::from_micros(20)),
                        Poll::End => return Ok(source.counters()),
                    }
                }
            })?);
        }
        // The feed threads hold the only producers now: when the last one ends, the poller sees Shutdown.
        drop(producer);
        Ok(Self { poller, feeds, counters: Counters::default(), ended: false })
    }
}

impl TradeSource for FanIn {
    fn next_batch(
        &mut self,
        max: usize,
        sink: &mut dyn FnMut(FeedItem),
    ) -> Result<Poll, SourceError> {
        if self.ended {
            return Ok(Poll::End);
        }
        match self.poller.take(max as u64) {
            Ok(mut events) => {
                let mut n = 0;
                for slot in &mut events {
                    let item = slot.0.lock().unwrap_or_else(|p| p.into_inner()).take();
                    if let Some(item) = item {
                        sink(item);
                        n += 1;
                    }
                }
                Ok(if n == 0 { Poll::Idle } else { Poll::Ready(n) })
            }
            Err(Polling::NoEvents) => Ok(Poll::Idle),
            Err(Polling::Shutdown) => {
                self.ended = true;
                for feed in self.feeds.drain(..) {
                    let counters = feed
                        .join()
                        .map_err(|_| SourceError::Client("a feed thread panicked".into()))??;
                    self.counters.merge(&counters);
                }
                Ok(Poll::End)
            }
        }
    }

    fn counters(&self) -> Counters {
        self.counters.clone()
    }

    fn name(&self) -> &'static str {
        "fan-in"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feed::replay::CanonicalReader;

    fn source(symbol: &str, n: usize) -> Box<dyn TradeSource> {
        let text: String = (0..n)
            .map(|i| {
                format!(
                    "{{\"symbol\":\"{symbol}\",\"ts\":{},\"price\":\"1.{i}\",\"size\":1}}\n",
                    1_700_000_000_000_000_000u64 + i as u64
                )
            })
            .collect();
        Box::new(CanonicalReader::new(std::io::Cursor::new(text.into_bytes())))
    }

    #[test]
    fn every_item_of_every_feed_arrives_once_in_feed_order() {
        let mut fan =
            FanIn::start(vec![source("A.N", 5000), source("B.N", 3000)], 64, 16).expect("start");
        let mut seen: std::collections::HashMap<String, Vec<u64>> = Default::default();
        loop {
            let poll = fan
                .next_batch(32, &mut |item| {
                    if let FeedItem::Trade(t) = item {
                        seen.entry(t.symbol.to_string()).or_default().push(t.ts_event_ns);
                    }
                })
                .expect("poll");
            if poll == Poll::End {
                break;
            }
        }
        for (symbol, n) in [("A.N", 5000), ("B.N", 3000)] {
            let ts = &seen[symbol];
            assert_eq!(ts.len(), n, "{symbol}");
            assert!(ts.windows(2).all(|w| w[0] < w[1]), "{symbol} out of order");
        }
        assert_eq!(fan.counters().trades, 8000);
    }
}
