//! `disruptor-inproc`: the `disruptor` crate, single producer, one consumer, BusySpin, both threads pinned.
//!
//! The consumer is an `EventPoller` polled in a busy loop on our own pinned thread (the same as the
//! crate's managed BusySpin processor thread, but it hands its histogram back). The flat-out phase uses
//! `batch_publish`.

use super::pair::{
    batches, paced_producer, run_pinned_pair, Deadline, LatencyRecorder, ThroughputRecorder,
};
use super::Peer;
use crate::clock::now_ns;
use crate::message::Message;
use crate::report::{Measurement, Throughput};
use crate::ring_scenario::RingBenchConfig;
use crate::LatencyHistogram;
use anyhow::{bail, Result};
use disruptor::{build_single_producer, BusySpin, Polling, Producer};

/// Row name; also the ring scenario's baseline.
pub const NAME: &str = "disruptor-inproc";

/// The disruptor peer.
#[derive(Debug, Clone, Copy, Default)]
pub struct DisruptorPeer;

impl Peer for DisruptorPeer {
    fn name(&self) -> &'static str {
        NAME
    }

    fn measure(&self, cfg: &RingBenchConfig) -> Result<Measurement> {
        Ok(Measurement {
            name: NAME.to_owned(),
            latency: latency(cfg)?,
            throughput: throughput(cfg)?,
        })
    }
}

fn latency(cfg: &RingBenchConfig) -> Result<LatencyHistogram> {
    let (mut poller, builder) =
        build_single_producer(cfg.capacity, Message::default, BusySpin).new_event_poller();
    let mut producer = builder.build();
    let recorder = LatencyRecorder::new(cfg.warmup_messages, cfg.latency_messages);
    let total = recorder.total();
    let gap = cfg.gap_ns;
    let (_, recorder) = run_pinned_pair(
        cfg.producer_core,
        cfg.consumer_core,
        move || {
            paced_producer(total, gap, |seq| {
                let mut stamp = 0;
                producer.publish(|slot| {
                    stamp = now_ns();
                    *slot = Message::new(seq, stamp);
                });
                Ok(stamp)
            })
        },
        move || {
            let mut recorder = recorder;
            let deadline = Deadline::after(cfg.timeout);
            while !recorder.is_done() {
                match poller.poll() {
                    Ok(mut events) => {
                        for m in &mut events {
                            recorder.on_message(m, now_ns())?;
                        }
                    }
                    Err(Polling::NoEvents) => {
                        std::hint::spin_loop();
                        deadline.check(NAME)?;
                    }
                    Err(Polling::Shutdown) => {
                        bail!("the producer shut down before sending everything")
                    }
                }
            }
            Ok(recorder)
        },
    )?;
    Ok(recorder.into_histogram())
}

fn throughput(cfg: &RingBenchConfig) -> Result<Throughput> {
    let (mut poller, builder) =
        build_single_producer(cfg.capacity, Message::default, BusySpin).new_event_poller();
    let mut producer = builder.build();
    let (total, batch) = (cfg.throughput_messages, cfg.batch);
    let (_, recorder) = run_pinned_pair(
        cfg.producer_core,
        cfg.consumer_core,
        move || {
            for (first, len) in batches(total, batch) {
                let n = usize::try_from(len)?;
                producer.batch_publish(n, |slots| {
                    let stamp = now_ns();
                    for (seq, slot) in (first..).zip(slots) {
                        *slot = Message::new(seq, stamp);
                    }
                });
            }
            Ok(())
        },
        move || {
            let mut recorder = ThroughputRecorder::new(total);
            let deadline = Deadline::after(cfg.timeout);
            while !recorder.is_done() {
                match poller.poll() {
                    Ok(mut events) => {
                        for m in &mut events {
                            recorder.on_message(m)?;
                        }
                    }
                    Err(Polling::NoEvents) => {
                        std::hint::spin_loop();
                        deadline.check(NAME)?;
                    }
                    Err(Polling::Shutdown) => {
                        bail!("the producer shut down before sending everything")
                    }
                }
            }
            Ok(recorder)
        },
    )?;
    Ok(recorder.finish())
}
