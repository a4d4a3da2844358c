//! The feed reader: a dedicated OS thread (the stream spins and blocks, so it stays off the async workers)
//! that reads the [`TickStream`] from the latest tick on, builds candles and fans every event out through
//! the hub. Instrument ids are the stream's sink ids, so a restarted producer that numbers its
//! instruments differently never sends a trade under another symbol.

use crate::config::WebsocketConfig;
use crate::hub::Hub;
use crate::message;
use crate::stats::Stats;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::{Duration, Instant};
use tickring_engine::candles::{CandleAggregator, CandleEvent};
use tickring_engine::Exchange;
use tickring_sink_core::{Event, Instruments, Position, Start, StreamConfig, TickStream};

/// Runs until `stop` is set.
pub fn run(cfg: &WebsocketConfig, source: StreamConfig, hub: &Hub, stop: &AtomicBool) {
    let mut aggregator = match CandleAggregator::new(cfg.candle_config()) {
        Ok(a) => a,
        Err(e) => {
            tracing::error!(error = %e, "candle configuration refused; the feed reader stops");
            return;
        }
    };
    let stats: &Stats = &hub.stats;
    let mut stream = TickStream::new(source, Start::Latest);
    let mut next_clock = Instant::now() + cfg.candle_update();
    let mut closed_logged = false;
    while !stop.load(Relaxed) {
        match stream.next(cfg.feed_wait()) {
            Ok(Event::Ticks { epoch, first_seq, ticks, instruments }) => {
                closed_logged = false;
                sync_instruments(instruments, hub);
                Stats::add(&stats.ticks_in, ticks.len() as u64);
                let mut state = hub.lock();
                for (seq, tick) in (first_seq..).zip(ticks) {
                    state.on_trade(Position { epoch, seq }, tick);
                    aggregator.on_tick(seq, tick, &mut |ev| {
                        if let CandleEvent::Update(c) = ev {
                            state.on_candle(&c);
                        }
                    });
                }
            }
            Ok(Event::Gap(gap)) => {
                Stats::add(&stats.ring_overruns, 1);
                Stats::add(&stats.ring_missed, gap.count());
                tracing::warn!(
                    reason = gap.cause.as_str(),
                    epoch = gap.epoch,
                    from = gap.from,
                    to = gap.to,
                    "ticks lost before they reached this pusher"
                );
                hub.lock().broadcast(&message::ring_gap(gap.cause.as_str(), gap.count(), gap.to));
            }
            Ok(Event::FeedGap { gap, .. }) => {
                tracing::warn!(?gap, "the live feed was down");
                hub.lock().broadcast(&message::feed_gap(gap.from_ns, gap.to_ns, gap.connection));
            }
            Ok(Event::NewEpoch { epoch, previous }) => {
                tracing::info!(epoch, ?previous, "reading epoch");
                if previous.is_some() {
                    hub.lock().broadcast(&message::ring_gap("producer_restart", 0, 0));
                }
            }
            Ok(Event::Idle) => {}
            Ok(Event::Closed) => {
                if !closed_logged {
                    tracing::info!("producer closed the ring; waiting for a new one");
                    closed_logged = true;
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "the tick stream failed; retrying in 1 s");
                std::thread::sleep(Duration::from_secs(1));
            }
        }
        if Instant::now() >= next_clock {
            next_clock = Instant::now() + cfg.candle_update();
            if let Some(now) = stream.clock().now_ns() {
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

/// Gives the hub the names of sink ids it has not seen yet.
fn sync_instruments(instruments: &Instruments, hub: &Hub) {
    if instruments.len() <= hub.lock().market.known() {
        return;
    }
    let mut state = hub.lock();
    for id in state.market.known()..instruments.len() {
        let Ok(id) = u32::try_from(id) else { break };
        let (symbol, mic) = instruments.name(id);
        state.set_instrument(id, symbol, Exchange::from_mic(mic).unwrap_or(Exchange::Unknown));
    }
}
