//! The ring reader: a dedicated OS thread (the consumer spins and blocks, so it stays off the async
//! workers) that attaches as a non-gating consumer, builds candles and fans every event out through the hub.

use crate::config::WebsocketConfig;
use crate::hub::Hub;
use crate::message;
use crate::stats::Stats;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::{Duration, Instant};
use tickring_engine::candles::{CandleAggregator, CandleEvent};
use tickring_engine::{InstrumentEntry, Tick};
use tickring_ipc::{
    Consumer, ConsumerOptions, ConsumerPolicy, GapCause, Read, RingConfig, StartAt,
};

/// Candle time follows the data: the newest event time seen, advanced by the wall time since it was seen.
/// Live feeds get wall time; a replay of an old file gets its own time instead of closing every bucket.
#[derive(Debug, Default)]
struct DataClock {
    newest_event_ns: u64,
    seen_at: Option<Instant>,
}

impl DataClock {
    fn observe(&mut self, ts_event_ns: u64) {
        if ts_event_ns > self.newest_event_ns {
            self.newest_event_ns = ts_event_ns;
            self.seen_at = Some(Instant::now());
        }
    }

    fn now_ns(&self) -> Option<u64> {
        let seen = self.seen_at?;
        let elapsed = u64::try_from(seen.elapsed().as_nanos()).unwrap_or(u64::MAX);
        Some(self.newest_event_ns.saturating_add(elapsed))
    }
}

/// Runs until `stop` is set: attaches (retrying while the ring is missing), reads, fans out.
pub fn run(cfg: &WebsocketConfig, ring: &RingConfig, hub: &Hub, stop: &AtomicBool) {
    let mut aggregator = match CandleAggregator::new(cfg.candle_config()) {
        Ok(a) => a,
        Err(e) => {
            tracing::error!(error = %e, "candle configuration refused; the ring reader stops");
            return;
        }
    };
    let opts = ConsumerOptions {
        name: cfg.consumer_name.clone(),
        policy: ConsumerPolicy::NonGating,
        start: StartAt::Latest,
    };
    let mut announced = false;
    while !stop.load(Relaxed) {
        match Consumer::<Tick, InstrumentEntry>::attach(ring, opts.clone()) {
            Ok(consumer) => {
                tracing::info!(ring = %ring.name, consumer = %opts.name, "attached (non-gating)");
                read_loop(cfg, consumer, hub, &mut aggregator, stop);
                announced = false;
            }
            Err(e) => {
                if !announced {
                    tracing::warn!(ring = %ring.name, error = %e, "ring not attachable yet; retrying");
                    announced = true;
                }
                std::thread::sleep(Duration::from_millis(200));
            }
        }
    }
}

fn sync_directory(consumer: &Consumer<Tick, InstrumentEntry>, hub: &Hub) {
    let entries = consumer.entries();
    let mut state = hub.lock();
    for (id, e) in entries.iter().enumerate().skip(state.market.known()) {
        let Ok(id) = u32::try_from(id) else { break };
        state.set_instrument(id, &e.symbol(), e.exchange());
    }
}

fn read_loop(
    cfg: &WebsocketConfig,
    mut consumer: Consumer<Tick, InstrumentEntry>,
    hub: &Hub,
    aggregator: &mut CandleAggregator,
    stop: &AtomicBool,
) {
    let stats: &Stats = &hub.stats;
    let mut clock = DataClock::default();
    let mut next_clock = Instant::now() + cfg.candle_update();
    let mut ticks: Vec<Tick> = Vec::with_capacity(1024);
    let mut closed_logged = false;
    while !stop.load(Relaxed) {
        if consumer.entries().len() > hub.lock().market.known() {
            sync_directory(&consumer, hub);
        }
        let first_seq = match consumer.wait(Some(cfg.feed_wait())) {
            Ok(Read::Batch(batch)) => {
                ticks.clear();
                ticks.extend_from_slice(batch.records());
                let first = batch.first_seq();
                // Non-gating batches are copies validated before they were handed out; commit cannot fail.
                if let Err(e) = batch.commit() {
                    tracing::warn!(error = %e, "batch overwritten while read; skipped");
                    continue;
                }
                Some(first)
            }
            Ok(Read::Gap(gap)) => {
                let reason = match gap.cause {
                    GapCause::Lapped => {
                        Stats::add(&stats.ring_overruns, 1);
                        Stats::add(&stats.ring_missed, gap.missed);
                        "ring_overrun"
                    }
                    GapCause::NewEpoch { .. } => "producer_restart",
                    GapCause::Evicted | GapCause::Resumed => "ring_resync",
                };
                tracing::warn!(reason, missed = gap.missed, resume_at = gap.resume_at, "ring gap");
                if gap.missed > 0 || reason == "producer_restart" {
                    hub.lock().broadcast(&message::ring_gap(reason, gap.missed, gap.resume_at));
                }
                None
            }
            Ok(Read::Empty) => None,
            Ok(Read::Closed) => {
                if !closed_logged {
                    tracing::info!("producer closed the ring; waiting for a new one");
                    closed_logged = true;
                }
                std::thread::sleep(cfg.feed_wait());
                None
            }
            Err(e) => {
                tracing::error!(error = %e, "ring reader failed; re-attaching");
                return;
            }
        };
        if let Some(first) = first_seq {
            closed_logged = false;
            if ticks.iter().any(|t| t.instrument_id as usize >= hub.lock().market.known()) {
                sync_directory(&consumer, hub);
            }
            Stats::add(&stats.ticks_in, ticks.len() as u64);
            let mut state = hub.lock();
            for (i, tick) in ticks.iter().enumerate() {
                let seq = first + i as u64;
                clock.observe(tick.ts_event_ns);
                state.on_trade(seq, tick);
                aggregator.on_tick(seq, tick, &mut |ev| {
                    if let CandleEvent::Update(c) = ev {
                        state.on_candle(&c);
                    }
                });
            }
        }
        if Instant::now() >= next_clock {
            next_clock = Instant::now() + cfg.candle_update();
            if let Some(now) = clock.now_ns() {
                let mut state = hub.lock();
                aggregator.on_clock(now, &mut |ev| {
                    if let CandleEvent::Update(c) = ev {
                        state.on_candle(&c);
                    }
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_clock_follows_the_newest_event_time() {
        let mut c = DataClock::default();
        assert_eq!(c.now_ns(), None);
        c.observe(1_000);
        c.observe(500);
        let now = c.now_ns().expect("seen");
        assert!((1_000..1_000 + 1_000_000_000).contains(&now), "{now}");
    }
}
