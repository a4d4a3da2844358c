//! Connections still in their handshake, capped per remote address and in total. A new connection never
//! waits for room: it evicts the oldest handshake of its address (or the oldest of all), so a flood of
//! incomplete requests only ever evicts itself, and a client that sends its request at once gets in.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::Notify;

#[derive(Debug, Default)]
struct State {
    next: u64,
    /// By age (ids only grow): the address and the eviction signal of each handshake.
    all: BTreeMap<u64, (IpAddr, Arc<Notify>)>,
    per_addr: HashMap<IpAddr, BTreeSet<u64>>,
}

impl State {
    fn remove(&mut self, id: u64) -> Option<Arc<Notify>> {
        let (addr, evict) = self.all.remove(&id)?;
        if let Some(ids) = self.per_addr.get_mut(&addr) {
            ids.remove(&id);
            if ids.is_empty() {
                self.per_addr.remove(&addr);
            }
        }
        Some(evict)
    }
}

/// The handshakes in progress.
#[derive(Debug)]
pub struct Handshakes {
    state: Mutex<State>,
    max_total: usize,
    max_per_addr: usize,
}

/// One connection's place among the handshakes; leaving it (drop) frees the place.
#[derive(Debug)]
pub struct Ticket {
    owner: Arc<Handshakes>,
    id: u64,
    /// Signalled when a newer connection took this place: the connection should close.
    pub evicted: Arc<Notify>,
}

impl Handshakes {
    pub fn new(max_total: usize, max_per_addr: usize) -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(State::default()),
            max_total: max_total.max(1),
            max_per_addr: max_per_addr.max(1),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Every update is a few map operations; a poisoned state is still consistent enough to go on.
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Admits a connection from `addr`; returns its ticket and how many older handshakes it evicted.
    pub fn admit(self: &Arc<Self>, addr: IpAddr) -> (Ticket, u64) {
        let mut st = self.lock();
        let mut evicted = 0;
        let oldest_of_addr = st
            .per_addr
            .get(&addr)
            .filter(|ids| ids.len() >= self.max_per_addr)
            .and_then(|ids| ids.first().copied());
        if let Some(id) = oldest_of_addr {
            evicted += evict(&mut st, id);
        }
        if st.all.len() >= self.max_total {
            if let Some(id) = st.all.keys().next().copied() {
                evicted += evict(&mut st, id);
            }
        }
        st.next += 1;
        let id = st.next;
        let signal = Arc::new(Notify::new());
        st.all.insert(id, (addr, Arc::clone(&signal)));
        st.per_addr.entry(addr).or_default().insert(id);
        (Ticket { owner: Arc::clone(self), id, evicted: signal }, evicted)
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().all.len()
    }
}

fn evict(st: &mut State, id: u64) -> u64 {
    match st.remove(id) {
        Some(signal) => {
            // notify_one keeps the permit if the connection is not waiting yet.
            signal.notify_one();
            1
        }
        None => 0,
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.owner.lock().remove(self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_the_oldest_of_the_address_then_the_oldest_of_all() {
        let hs = Handshakes::new(3, 2);
        let (a, b) = (IpAddr::from([10, 0, 0, 1]), IpAddr::from([10, 0, 0, 2]));
        let (a1, _) = hs.admit(a);
        let (_a2, _) = hs.admit(a);
        let (_a3, n) = hs.admit(a);
        assert_eq!((n, hs.len()), (1, 2), "a's oldest made room for a's newest");
        let (_b1, n) = hs.admit(b);
        assert_eq!((n, hs.len()), (0, 3));
        let (_b2, n) = hs.admit(b);
        assert_eq!((n, hs.len()), (1, 3), "full: the oldest of all goes");
        drop(a1);
        assert_eq!(hs.len(), 3, "an evicted ticket's drop frees nothing twice");
    }
}
