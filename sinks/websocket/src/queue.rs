//! One client's outbound queue: bounded trades (dropped past the bound, with a gap notice), price and candle
//! updates conflated per key (the latest wins), and a small queue of replies. Filled by the ring reader,
//! drained by the client's writer task; the lock is held only to push one message or to swap the buffers.

use crate::memory::{cost, MemoryBudget};
use crate::message;
use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::{watch, Notify};

/// What a conflated update replaces: the same kind, instrument, series and bucket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ConflationKey {
    /// 0 = price, 1 + series index = candle.
    pub kind: u8,
    pub instrument_id: u32,
    /// The candle's bucket key (0 for prices).
    pub bucket: u64,
}

/// Why the server closes a connection: a close code and the reason text sent in the close frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CloseReason {
    pub code: u16,
    pub reason: String,
    /// The client closed first: only the library's echoing reply may go out.
    pub by_peer: bool,
}

/// Bounds of one queue, from `[websocket]`.
#[derive(Clone, Copy, Debug)]
pub struct QueueBounds {
    pub trades: usize,
    pub conflated: usize,
    pub control: usize,
}

#[derive(Debug, Default)]
struct Inner {
    control: VecDeque<String>,
    trades: VecDeque<Arc<str>>,
    conflated: Vec<(ConflationKey, Arc<str>)>,
    index: HashMap<ConflationKey, usize>,
    dropped_trades: u64,
    dropped_updates: u64,
    /// Some message was dropped or replaced because the queue was at its bound since the last drain.
    overflowed: bool,
    close: Option<CloseReason>,
    /// Snapshots being encoded outside the hub lock: live events wait in the queue until they are queued.
    held: u32,
}

/// What the writer takes out in one go.
#[derive(Debug, Default)]
pub struct Drained {
    /// Messages in send order: replies first, then a gap notice, then trades, then conflated updates.
    pub messages: Vec<Arc<str>>,
    pub overflowed: bool,
    pub close: Option<CloseReason>,
    /// What these messages were charged; the writer releases it once they are written (or given up).
    pub bytes: usize,
}

/// The part of a client shared between its tasks and the ring reader.
#[derive(Debug)]
pub struct ClientShared {
    pub id: u64,
    bounds: QueueBounds,
    inner: Mutex<Inner>,
    /// Wakes the writer when the queue goes from empty to non-empty or a close is requested.
    pub wake: Notify,
    /// Set once the connection is over (either side): both tasks stop.
    pub stop: watch::Sender<bool>,
    /// The last dispatch that delivered to this client (a client on both `trade.X` and `trade.*` gets each
    /// event once).
    last_dispatch: AtomicU64,
    /// Counters of this client, summed into the server's.
    pub dropped_total: AtomicU64,
    pub conflated_total: AtomicU64,
    budget: Option<Arc<MemoryBudget>>,
    /// Charged to the budget: queued plus drained but not yet written.
    held: AtomicUsize,
}

/// A push that did not fit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Push {
    Queued,
    Dropped,
    Replaced,
}

impl ClientShared {
    pub fn new(id: u64, bounds: QueueBounds) -> Arc<Self> {
        Self::with_budget(id, bounds, None)
    }

    pub fn with_budget(
        id: u64,
        bounds: QueueBounds,
        budget: Option<Arc<MemoryBudget>>,
    ) -> Arc<Self> {
        Arc::new(Self {
            id,
            bounds,
            inner: Mutex::new(Inner::default()),
            wake: Notify::new(),
            stop: watch::Sender::new(false),
            last_dispatch: AtomicU64::new(0),
            dropped_total: AtomicU64::new(0),
            conflated_total: AtomicU64::new(0),
            budget,
            held: AtomicUsize::new(0),
        })
    }

    fn charge(&self, n: usize) {
        self.held.fetch_add(n, Relaxed);
        if let Some(b) = &self.budget {
            b.add(n);
        }
    }

    /// Gives back what [`Drained::bytes`] or a cleared queue held.
    pub fn release(&self, n: usize) {
        self.held.fetch_sub(n, Relaxed);
        if let Some(b) = &self.budget {
            b.sub(n);
        }
    }

    pub fn held_bytes(&self) -> usize {
        self.held.load(Relaxed)
    }

    /// Over the memory budget: drops the queue and closes (1008). A write in progress is abandoned too,
    /// since it is stuck on a client that does not read.
    pub fn shed(&self, reason: &str) {
        let freed = self.lock().clear();
        self.release(freed);
        self.request_close(1008, reason);
        if self.held_bytes() > 0 {
            self.stop.send_replace(true);
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding this lock cannot leave the queue inconsistent in a way that matters more
        // than losing the client, so a poisoned lock is taken over.
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// True once per dispatch id: the caller delivers only then.
    pub fn first_in_dispatch(&self, dispatch: u64) -> bool {
        self.last_dispatch.swap(dispatch, Relaxed) != dispatch
    }

    /// Queues a trade; past the bound it is dropped and counted for the next gap notice.
    pub fn push_trade(&self, msg: &Arc<str>) -> Push {
        let mut q = self.lock();
        if q.close.is_some() {
            return Push::Dropped;
        }
        if q.trades.len() >= self.bounds.trades {
            q.dropped_trades += 1;
            q.overflowed = true;
            drop(q);
            self.dropped_total.fetch_add(1, Relaxed);
            return Push::Dropped;
        }
        let was_empty = q.is_empty();
        q.trades.push_back(Arc::clone(msg));
        // Charged before the lock is let go: a drain (which takes the lock) then always releases what
        // was already charged, so the counters never run below zero.
        self.charge(cost(msg));
        drop(q);
        if was_empty {
            self.wake.notify_one();
        }
        Push::Queued
    }

    /// Queues a price or candle update, replacing a queued one with the same key.
    pub fn push_conflated(&self, key: ConflationKey, msg: &Arc<str>) -> Push {
        let mut q = self.lock();
        if q.close.is_some() {
            return Push::Dropped;
        }
        if let Some(&i) = q.index.get(&key) {
            // Replacing is normal when several updates of one key arrive between two drains; it is not
            // by itself a sign of a slow client, so `overflowed` stays as it is.
            let old = std::mem::replace(&mut q.conflated[i].1, Arc::clone(msg));
            self.charge(cost(msg));
            self.release(cost(&old));
            drop(q);
            self.conflated_total.fetch_add(1, Relaxed);
            return Push::Replaced;
        }
        if q.conflated.len() >= self.bounds.conflated {
            q.dropped_updates += 1;
            q.overflowed = true;
            drop(q);
            self.dropped_total.fetch_add(1, Relaxed);
            return Push::Dropped;
        }
        let was_empty = q.is_empty();
        let i = q.conflated.len();
        q.conflated.push((key, Arc::clone(msg)));
        q.index.insert(key, i);
        self.charge(cost(msg));
        drop(q);
        if was_empty {
            self.wake.notify_one();
        }
        Push::Queued
    }

    /// Queues a reply, snapshot or notice. `false` when the control queue is full (the client is not
    /// reading what it asks for): the caller closes the connection.
    pub fn push_control(&self, msg: String) -> bool {
        let mut q = self.lock();
        if q.control.len() >= self.bounds.control {
            return false;
        }
        let was_empty = q.is_empty();
        let n = cost(&msg);
        q.control.push_back(msg);
        self.charge(n);
        drop(q);
        if was_empty {
            self.wake.notify_one();
        }
        true
    }

    /// Asks the writer to send what is queued, then a close frame, and stop. The first reason wins.
    pub fn request_close(&self, code: u16, reason: impl Into<String>) {
        let mut q = self.lock();
        if q.close.is_none() {
            q.close = Some(CloseReason { code, reason: reason.into(), by_peer: false });
        }
        drop(q);
        self.wake.notify_one();
    }

    /// The client sent a close frame: nothing more may be sent but the close reply, so the queue is dropped.
    pub fn peer_closed(&self, code: u16) {
        let mut q = self.lock();
        let freed = q.clear();
        q.close = Some(CloseReason { code, reason: String::new(), by_peer: true });
        drop(q);
        self.release(freed);
        self.wake.notify_one();
    }

    pub fn close_requested(&self) -> bool {
        self.lock().close.is_some()
    }

    /// Holds live events back (taken under the hub lock, before the snapshot rows are copied).
    pub fn hold_live(&self) {
        self.lock().held += 1;
    }

    /// The snapshots are queued: live events may follow them.
    pub fn release_live(&self) {
        let mut q = self.lock();
        q.held = q.held.saturating_sub(1);
        let pending = q.held == 0 && !q.is_empty();
        drop(q);
        if pending {
            self.wake.notify_one();
        }
    }

    /// Takes everything queued (only replies while a snapshot is being encoded).
    pub fn drain(&self) -> Drained {
        let mut q = self.lock();
        let control = std::mem::take(&mut q.control);
        if q.held > 0 {
            let close = q.close.clone();
            let bytes = control.iter().map(|m| cost(m)).sum();
            let messages = control.into_iter().map(Arc::from).collect();
            return Drained { messages, overflowed: false, close, bytes };
        }
        let (trades, conflated) = (std::mem::take(&mut q.trades), std::mem::take(&mut q.conflated));
        q.index.clear();
        let (dropped, dropped_updates) =
            (std::mem::take(&mut q.dropped_trades), std::mem::take(&mut q.dropped_updates));
        let overflowed = std::mem::take(&mut q.overflowed);
        let close = q.close.clone();
        drop(q);
        let bytes = control.iter().map(|m| cost(m)).sum::<usize>()
            + trades.iter().map(|m| cost(m)).sum::<usize>()
            + conflated.iter().map(|(_, m)| cost(m)).sum::<usize>();
        let mut messages = Vec::with_capacity(control.len() + trades.len() + conflated.len() + 1);
        messages.extend(control.into_iter().map(Arc::from));
        if dropped > 0 || dropped_updates > 0 {
            messages.push(Arc::from(message::slow_gap(dropped, dropped_updates)));
        }
        messages.extend(trades);
        messages.extend(conflated.into_iter().map(|(_, m)| m));
        Drained { messages, overflowed, close, bytes }
    }
}

impl Inner {
    fn is_empty(&self) -> bool {
        self.control.is_empty() && self.trades.is_empty() && self.conflated.is_empty()
    }

    /// Empties the queue; returns what it was charged.
    fn clear(&mut self) -> usize {
        let n = self.control.iter().map(|m| cost(m)).sum::<usize>()
            + self.trades.iter().map(|m| cost(m)).sum::<usize>()
            + self.conflated.iter().map(|(_, m)| cost(m)).sum::<usize>();
        self.control.clear();
        self.trades.clear();
        self.conflated.clear();
        self.index.clear();
        (self.dropped_trades, self.dropped_updates) = (0, 0);
        n
    }
}

impl Drop for ClientShared {
    fn drop(&mut self) {
        // Whatever is still charged (queued, or a write that was aborted) goes back with the client.
        let held = self.held.load(Relaxed);
        if let Some(b) = &self.budget {
            b.sub(held);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(trades: usize, conflated: usize) -> Arc<ClientShared> {
        ClientShared::new(1, QueueBounds { trades, conflated, control: 4 })
    }

    fn key(instrument_id: u32) -> ConflationKey {
        ConflationKey { kind: 0, instrument_id, bucket: 0 }
    }

    #[test]
    fn a_drain_racing_the_pushes_never_takes_the_budget_below_zero() {
        // The writer drains and releases on its own task while the feed pushes: a message drained
        // before it was charged would take the counters below zero (CI saw the budget wrap).
        let budget = MemoryBudget::new(usize::MAX / 2);
        let c = ClientShared::with_budget(
            1,
            QueueBounds { trades: 1 << 20, conflated: 8, control: 4 },
            Some(Arc::clone(&budget)),
        );
        let m: Arc<str> = Arc::from("{\"t\":1}");
        let drainer = {
            let c = Arc::clone(&c);
            let budget = Arc::clone(&budget);
            std::thread::spawn(move || {
                for _ in 0..200_000 {
                    let d = c.drain();
                    c.release(d.bytes);
                    assert!(budget.used() <= usize::MAX / 2, "budget ran below zero");
                    assert!(c.held_bytes() <= usize::MAX / 2, "held ran below zero");
                }
            })
        };
        for i in 0..200_000u32 {
            c.push_trade(&m);
            c.push_conflated(key(i % 4), &m);
        }
        drainer.join().expect("drainer");
        let d = c.drain();
        c.release(d.bytes);
        assert_eq!((budget.used(), c.held_bytes()), (0, 0));
    }

    #[test]
    fn trades_past_the_bound_are_dropped_and_reported_once() {
        let c = client(2, 8);
        let m: Arc<str> = Arc::from("{\"t\":1}");
        assert_eq!(c.push_trade(&m), Push::Queued);
        assert_eq!(c.push_trade(&m), Push::Queued);
        assert_eq!(c.push_trade(&m), Push::Dropped);
        assert_eq!(c.push_trade(&m), Push::Dropped);
        let d = c.drain();
        assert!(d.overflowed);
        assert_eq!(d.messages.len(), 3);
        let gap: serde_json::Value = serde_json::from_str(&d.messages[0]).expect("json");
        assert_eq!((gap["type"].as_str(), gap["dropped"].as_u64()), (Some("gap"), Some(2)));
        let d = c.drain();
        assert!(d.messages.is_empty() && !d.overflowed);
    }

    #[test]
    fn updates_with_one_key_conflate_and_keep_their_place() {
        let c = client(8, 8);
        for (k, v) in [(1, "a"), (2, "b"), (1, "c")] {
            c.push_conflated(key(k), &Arc::from(v));
        }
        let d = c.drain();
        let got: Vec<&str> = d.messages.iter().map(|m| &**m).collect();
        assert_eq!(got, ["c", "b"]);
        assert_eq!(c.conflated_total.load(Relaxed), 1);
    }

    #[test]
    fn replies_come_first_and_a_full_control_queue_refuses() {
        let c = client(8, 8);
        c.push_trade(&Arc::from("t"));
        for i in 0..4 {
            assert!(c.push_control(format!("r{i}")));
        }
        assert!(!c.push_control("r4".into()));
        let d = c.drain();
        assert_eq!(&*d.messages[0], "r0");
        assert_eq!(&*d.messages[4], "t");
    }

    #[test]
    fn live_events_wait_for_a_snapshot_being_encoded() {
        let c = client(8, 8);
        c.hold_live();
        c.push_trade(&Arc::from("live"));
        assert!(c.push_control("ack".into()));
        let got: Vec<String> = c.drain().messages.iter().map(|m| m.to_string()).collect();
        assert_eq!(got, ["ack"]);
        assert!(c.push_control("snapshot".into()));
        c.release_live();
        let got: Vec<String> = c.drain().messages.iter().map(|m| m.to_string()).collect();
        assert_eq!(got, ["snapshot", "live"]);
    }

    #[test]
    fn close_stops_further_pushes_and_is_kept() {
        let c = client(8, 8);
        c.request_close(1008, "first");
        c.request_close(1011, "second");
        assert_eq!(c.push_trade(&Arc::from("t")), Push::Dropped);
        let d = c.drain();
        assert_eq!(d.close.map(|r| r.reason), Some("first".to_string()));
    }
}
