//! Pieces shared by the peers: two pinned threads started together, the producer loops' pacing, and the
//! consumer-side recorders that check sequence numbers.

use crate::affinity::pin_current_thread;
use crate::clock::now_ns;
use crate::histogram::LatencyHistogram;
use crate::message::Message;
use crate::report::Throughput;
use anyhow::{anyhow, bail, Context, Result};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Barrier;
use std::time::Duration;

/// Runs `producer` on a thread pinned to `producer_core` and `consumer` on one pinned to `consumer_core`.
/// Both are pinned before either starts; the consumer is expected to poll until it has what it wants.
///
/// # Errors
/// A pin failure on either side (neither closure then runs), either closure's error, or a panic.
pub fn run_pinned_pair<P, C, RP, RC>(
    producer_core: usize,
    consumer_core: usize,
    producer: P,
    consumer: C,
) -> Result<(RP, RC)>
where
    P: FnOnce() -> Result<RP> + Send,
    C: FnOnce() -> Result<RC> + Send,
    RP: Send,
    RC: Send,
{
    let start = Barrier::new(2);
    let pin_failed = AtomicBool::new(false);
    let pinned_start = |core: usize| -> Result<()> {
        let pinned = pin_current_thread(core);
        if pinned.is_err() {
            pin_failed.store(true, Ordering::SeqCst);
        }
        // Both threads reach the barrier whatever happened, so neither waits for a partner that left.
        start.wait();
        pinned?;
        if pin_failed.load(Ordering::SeqCst) {
            bail!("the other thread of the pair could not be pinned");
        }
        Ok(())
    };
    std::thread::scope(|s| {
        let c = std::thread::Builder::new()
            .name("bench-consumer".into())
            .spawn_scoped(s, || {
                pinned_start(consumer_core)?;
                consumer()
            })
            .context("spawning the consumer thread")?;
        let p = std::thread::Builder::new()
            .name("bench-producer".into())
            .spawn_scoped(s, || {
                pinned_start(producer_core)?;
                producer()
            })
            .context("spawning the producer thread")?;
        let pr = p.join().map_err(|_| anyhow!("the producer thread panicked"))?;
        let cr = c.join().map_err(|_| anyhow!("the consumer thread panicked"))?;
        // Report the consumer's error first: it usually says what went wrong (lost message, timeout).
        let cr = cr.context("consumer")?;
        let pr = pr.context("producer")?;
        Ok((pr, cr))
    })
}

/// A wall-clock limit checked by polling loops while they find nothing to read.
#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    at_ns: u64,
    limit: Duration,
}

impl Deadline {
    /// `limit` from now.
    pub fn after(limit: Duration) -> Self {
        let ns = u64::try_from(limit.as_nanos()).unwrap_or(u64::MAX);
        Self { at_ns: now_ns().saturating_add(ns), limit }
    }

    /// Errors once the deadline has passed.
    ///
    /// # Errors
    /// When it has.
    #[inline]
    pub fn check(&self, what: &str) -> Result<()> {
        if now_ns() > self.at_ns {
            bail!("{what}: still waiting after {:?}", self.limit);
        }
        Ok(())
    }
}

/// Consumer side of the paced phase: checks order, records `now - stamp` for every message past the
/// warm-up.
#[derive(Debug)]
pub struct LatencyRecorder {
    expected: u64,
    warmup: u64,
    total: u64,
    histogram: LatencyHistogram,
}

impl LatencyRecorder {
    /// Expects `warmup` unrecorded messages, then `messages` recorded ones, sequence numbers from 0.
    pub fn new(warmup: u64, messages: u64) -> Self {
        Self { expected: 0, warmup, total: warmup + messages, histogram: LatencyHistogram::new() }
    }

    /// Takes one message read at `now_ns`.
    ///
    /// # Errors
    /// When the message is not the next in sequence (lost, duplicated or reordered).
    #[inline]
    pub fn on_message(&mut self, m: &Message, now_ns: u64) -> Result<()> {
        if m.seq != self.expected {
            bail!("expected message {} but got {}", self.expected, m.seq);
        }
        if m.seq >= self.warmup {
            self.histogram.record(now_ns.saturating_sub(m.ts_publish_ns));
        }
        self.expected += 1;
        Ok(())
    }

    /// All messages arrived.
    #[inline]
    pub fn is_done(&self) -> bool {
        self.expected >= self.total
    }

    /// Messages the producer sends in this phase (warm-up included).
    pub fn total(&self) -> u64 {
        self.total
    }

    /// The recorded latencies.
    pub fn into_histogram(self) -> LatencyHistogram {
        self.histogram
    }
}

/// Consumer side of the flat-out phase: checks order, times first publish stamp to last arrival.
#[derive(Debug)]
pub struct ThroughputRecorder {
    expected: u64,
    total: u64,
    first_stamp_ns: u64,
    end_ns: u64,
}

impl ThroughputRecorder {
    /// Expects `messages` messages, sequence numbers from 0.
    pub fn new(messages: u64) -> Self {
        Self { expected: 0, total: messages, first_stamp_ns: 0, end_ns: 0 }
    }

    /// Takes one message; reads the clock itself after the last one.
    ///
    /// # Errors
    /// When the message is not the next in sequence.
    #[inline]
    pub fn on_message(&mut self, m: &Message) -> Result<()> {
        if m.seq != self.expected {
            bail!("expected message {} but got {}", self.expected, m.seq);
        }
        if m.seq == 0 {
            self.first_stamp_ns = m.ts_publish_ns;
        }
        self.expected += 1;
        if self.expected == self.total {
            self.end_ns = now_ns();
        }
        Ok(())
    }

    /// All messages arrived.
    #[inline]
    pub fn is_done(&self) -> bool {
        self.expected >= self.total
    }

    /// Messages received and the time they took.
    pub fn finish(&self) -> Throughput {
        Throughput {
            messages: self.expected,
            elapsed_ns: self.end_ns.saturating_sub(self.first_stamp_ns),
        }
    }
}

/// The producer side of the paced phase for any transport: `send(seq)` publishes message `seq` and
/// returns the stamp it wrote; the next message goes out `gap_ns` after that stamp.
///
/// # Errors
/// The first error of `send`.
pub fn paced_producer(
    total: u64,
    gap_ns: u64,
    mut send: impl FnMut(u64) -> Result<u64>,
) -> Result<()> {
    for seq in 0..total {
        let stamp = send(seq)?;
        crate::clock::spin_until(stamp.saturating_add(gap_ns));
    }
    Ok(())
}

/// Sizes of the batches that cover `total` messages in batches of at most `batch`.
pub fn batches(total: u64, batch: u64) -> impl Iterator<Item = (u64, u64)> {
    let batch = batch.max(1);
    (0..total.div_ceil(batch)).map(move |i| {
        let first = i * batch;
        (first, batch.min(total - first))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latency_recorder_skips_warmup_and_rejects_gaps() {
        let mut r = LatencyRecorder::new(2, 3);
        for seq in 0..5 {
            r.on_message(&Message::new(seq, 100), 150).expect("in order");
        }
        assert!(r.is_done());
        let h = r.into_histogram();
        assert_eq!(h.len(), 3);
        assert_eq!(h.max(), 50);
        let mut r = LatencyRecorder::new(0, 3);
        r.on_message(&Message::new(0, 1), 2).expect("first");
        assert!(r.on_message(&Message::new(2, 1), 2).is_err());
    }

    #[test]
    fn throughput_recorder_times_first_stamp_to_last_arrival() {
        let mut r = ThroughputRecorder::new(3);
        let t0 = now_ns();
        for seq in 0..3 {
            r.on_message(&Message::new(seq, t0)).expect("in order");
        }
        assert!(r.is_done());
        let t = r.finish();
        assert_eq!(t.messages, 3);
        assert!(t.elapsed_ns < 10_000_000_000);
    }

    #[test]
    fn batches_cover_the_total() {
        let b: Vec<_> = batches(10, 4).collect();
        assert_eq!(b, [(0, 4), (4, 4), (8, 2)]);
        assert_eq!(batches(0, 4).count(), 0);
    }

    #[test]
    fn pair_runs_both_sides() {
        let (p, c) = run_pinned_pair(0, 0, || Ok(1), || Ok(2)).expect("core 0 exists");
        assert_eq!((p, c), (1, 2));
        assert!(run_pinned_pair(0, crate::affinity::CPU_SET_SIZE, || Ok(()), || Ok(())).is_err());
    }
}
