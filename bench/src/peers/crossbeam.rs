//! `crossbeam-inproc`: a bounded `crossbeam-channel` between two pinned threads.
//!
//! The consumer busy-polls `try_recv` (a blocking `recv` would park and add wake-up time to every hop).
//! The channel has no batch send, so the flat-out phase sends message by message with one clock stamp
//! per batch, spinning on `try_send` while the channel is full.

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
use crossbeam_channel::{bounded, Sender, TryRecvError, TrySendError};

/// Row name.
pub const NAME: &str = "crossbeam-inproc";

/// The crossbeam peer.
#[derive(Debug, Clone, Copy, Default)]
pub struct CrossbeamPeer;

impl Peer for CrossbeamPeer {
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
    let (tx, rx) = bounded::<Message>(cfg.capacity);
    let recorder = LatencyRecorder::new(cfg.warmup_messages, cfg.latency_messages);
    let total = recorder.total();
    let gap = cfg.gap_ns;
    let (_, recorder) = run_pinned_pair(
        cfg.producer_core,
        cfg.consumer_core,
        move || {
            paced_producer(total, gap, |seq| {
                let stamp = now_ns();
                send_spinning(&tx, Message::new(seq, stamp))?;
                Ok(stamp)
            })
        },
        move || {
            let mut recorder = recorder;
            let deadline = Deadline::after(cfg.timeout);
            while !recorder.is_done() {
                match rx.try_recv() {
                    Ok(m) => recorder.on_message(&m, now_ns())?,
                    Err(e) => idle(e, &deadline)?,
                }
            }
            Ok(recorder)
        },
    )?;
    Ok(recorder.into_histogram())
}

fn throughput(cfg: &RingBenchConfig) -> Result<Throughput> {
    let (tx, rx) = bounded::<Message>(cfg.capacity);
    let (total, batch) = (cfg.throughput_messages, cfg.batch);
    let (_, recorder) = run_pinned_pair(
        cfg.producer_core,
        cfg.consumer_core,
        move || {
            for (first, len) in batches(total, batch) {
                let stamp = now_ns();
                for seq in first..first + len {
                    send_spinning(&tx, Message::new(seq, stamp))?;
                }
            }
            Ok(())
        },
        move || {
            let mut recorder = ThroughputRecorder::new(total);
            let deadline = Deadline::after(cfg.timeout);
            while !recorder.is_done() {
                match rx.try_recv() {
                    Ok(m) => {
                        recorder.on_message(&m)?;
                        for m in rx.try_iter() {
                            recorder.on_message(&m)?;
                        }
                    }
                    Err(e) => idle(e, &deadline)?,
                }
            }
            Ok(recorder)
        },
    )?;
    Ok(recorder.finish())
}

#[inline]
fn send_spinning(tx: &Sender<Message>, mut m: Message) -> Result<()> {
    loop {
        match tx.try_send(m) {
            Ok(()) => return Ok(()),
            Err(TrySendError::Full(back)) => {
                m = back;
                std::hint::spin_loop();
            }
            Err(TrySendError::Disconnected(_)) => bail!("the consumer went away"),
        }
    }
}

#[inline]
fn idle(e: TryRecvError, deadline: &Deadline) -> Result<()> {
    match e {
        TryRecvError::Empty => {
            std::hint::spin_loop();
            deadline.check(NAME)
        }
        TryRecvError::Disconnected => bail!("the producer went away before sending everything"),
    }
}
