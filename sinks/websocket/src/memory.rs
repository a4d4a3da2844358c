//! The process-wide memory budget of client queues. Every queued message is charged to its client (as if
//! not shared with other clients) until its write completes; past the budget the shedder closes the
//! clients holding the most first (those are the ones not reading), until usage is back under 90%.

use crate::queue::ClientShared;
use crate::stats::Stats;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use tokio::sync::{watch, Notify};

/// What one queued message is charged: its text and about its share of queue bookkeeping.
pub fn cost(msg: &str) -> usize {
    msg.len() + 32
}

#[derive(Debug)]
pub struct MemoryBudget {
    limit: usize,
    used: AtomicUsize,
    over: Notify,
    clients: Mutex<HashMap<u64, Weak<ClientShared>>>,
}

impl MemoryBudget {
    pub fn new(limit: usize) -> Arc<Self> {
        Arc::new(Self {
            limit,
            used: AtomicUsize::new(0),
            over: Notify::new(),
            clients: Mutex::new(HashMap::new()),
        })
    }

    fn clients(&self) -> MutexGuard<'_, HashMap<u64, Weak<ClientShared>>> {
        // Inserts and removes only: a poisoned map is still a valid map.
        self.clients.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn add(&self, n: usize) {
        if self.used.fetch_add(n, Relaxed) + n > self.limit {
            self.over.notify_one();
        }
    }

    pub fn sub(&self, n: usize) {
        self.used.fetch_sub(n, Relaxed);
    }

    pub fn used(&self) -> usize {
        self.used.load(Relaxed)
    }

    pub fn register(&self, client: &Arc<ClientShared>) {
        self.clients().insert(client.id, Arc::downgrade(client));
    }

    pub fn unregister(&self, id: u64) {
        self.clients().remove(&id);
    }

    /// Closes the largest holders until the projected usage is under 90% of the limit; returns how many.
    pub fn shed(&self) -> u64 {
        let mut projected = self.used();
        let low_water = self.limit / 10 * 9;
        if projected <= self.limit {
            return 0;
        }
        let mut by_size: Vec<(usize, Arc<ClientShared>)> = self
            .clients()
            .values()
            .filter_map(Weak::upgrade)
            .map(|c| (c.held_bytes(), c))
            .filter(|(n, _)| *n > 0)
            .collect();
        by_size.sort_unstable_by_key(|b| std::cmp::Reverse(b.0));
        let mut shed = 0;
        for (held, client) in by_size {
            if projected <= low_water {
                break;
            }
            tracing::info!(
                client = client.id,
                held,
                "over the queue memory budget: shedding the largest"
            );
            client.shed("slow consumer: over the queue memory budget");
            projected = projected.saturating_sub(held);
            shed += 1;
        }
        shed
    }

    /// Sheds whenever a push goes over the limit, until shutdown.
    pub async fn run(self: Arc<Self>, stats: Arc<Stats>, mut shutdown: watch::Receiver<bool>) {
        loop {
            tokio::select! {
                () = self.over.notified() => {}
                _ = shutdown.changed() => return,
            }
            Stats::add(&stats.closed_memory_budget, self.shed());
        }
    }
}
