//! The single producer: owns the ring's name, writes records, waits for gating consumers, evicts dead ones.

use crate::cleanup::{is_at_path, remove_files, someone_behind};
use crate::clock::{monotonic_ns, realtime_ns};
use crate::config::RingConfig;
use crate::error::RingError;
use crate::heartbeat::{spawn_heartbeat, stop_heartbeat, Heartbeat};
use crate::layout::{lifecycle, slot_state, ConsumerSlot, MAGIC};
use crate::liveness::Liveness;
use crate::protocol::gate_limit;
use crate::record::Record;
use crate::segment::Segment;
use crate::table::{is_gating_active, owner_alive, slot_name, slot_owner};
use crate::wait::Waiter;
use crate::wake::SharedFutex;
use std::fs::{File, OpenOptions};
use std::marker::PhantomData;
use std::os::unix::fs::OpenOptionsExt;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use std::sync::Arc;

/// A gating consumer still needs the slots a publish would reuse.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("ring full: {free} free slots")]
pub struct Full {
    pub free: u64,
}

/// Writes records of type `T` into a named ring; `E` is the directory entry type.
///
/// Exactly one producer may hold a name; the lock is a kernel file lock, so it is released on any exit
/// (SIGKILL included) and the next producer takes the name over with a new epoch.
#[derive(Debug)]
pub struct Producer<T: Record, E: Record = ()> {
    segment: Arc<Segment>,
    cfg: RingConfig,
    head: u64,
    mask: u64,
    /// Highest head allowed by the gating cursors seen at the last scan.
    limit: u64,
    /// `table_gen` that scan reflected.
    scanned_gen: u64,
    heartbeat: Option<Heartbeat>,
    _lock: File,
    _types: PhantomData<(T, E)>,
}

impl<T: Record, E: Record> Producer<T, E> {
    /// Creates the ring `cfg.name`, taking it over from a previous producer that is gone.
    ///
    /// Consumers registered in the previous segment are carried over (same names and policies, cursor 0 of
    /// the new epoch), so a gating sink that is restarting at the same moment still loses nothing.
    ///
    /// # Errors
    /// Invalid config, another live producer, or I/O errors on the segment folder.
    pub fn create(cfg: &RingConfig) -> Result<Self, RingError> {
        cfg.validate()?;
        let lock_path = cfg.lock_path();
        let lock = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&lock_path)
            .map_err(RingError::io("open", &lock_path))?;
        // A lock taken on a file a closing producer just removed guards nothing: someone else may
        // create the path afresh. Held and still at the path, it is the ring's lock.
        if lock.try_lock().is_err() || !is_at_path(&lock, &lock_path) {
            let pid =
                Segment::open::<T, E>(&cfg.segment_path(), false).map(|s| s.header().producer_pid);
            return Err(RingError::ProducerRunning {
                name: cfg.name.clone(),
                pid: pid.unwrap_or(0),
            });
        }
        let previous = match Segment::open::<T, E>(&cfg.segment_path(), true) {
            Ok(seg) => Some(seg),
            Err(RingError::NotFound { .. }) => None,
            Err(e) => {
                tracing::warn!(error = %e, "replacing an unreadable ring segment");
                None
            }
        };
        let epoch = new_epoch(previous.as_ref().map(|p| p.header().epoch));
        let (mut segment, tmp) = Segment::create::<T, E>(cfg, epoch)?;
        if let Some(prev) = &previous {
            carry_registrations(prev.slots(), segment.slots(), cfg.heartbeat_timeout_ns());
        }
        segment.control().lifecycle.store(lifecycle::RUNNING, Relaxed);
        segment.control().producer_heartbeat_ns.store(monotonic_ns(), Relaxed);
        segment.publish_as(&tmp, &cfg.segment_path())?;
        if let Some(prev) = &previous {
            // Release pairs with consumers' Acquire: they drain the old segment, then re-attach by name.
            prev.control().lifecycle.store(lifecycle::SUPERSEDED, Release);
            prev.wake_words().wake(&SharedFutex);
            tracing::info!(ring = %cfg.name, old_epoch = prev.header().epoch, epoch, "took over ring");
        }
        let segment = Arc::new(segment);
        let beat_on = Arc::clone(&segment);
        let heartbeat = spawn_heartbeat(
            "ring-heartbeat",
            move || beat_on.control().producer_heartbeat_ns.store(monotonic_ns(), Relaxed),
            cfg.heartbeat_interval(),
        )
        .map_err(RingError::io("start heartbeat thread for", &cfg.segment_path()))?;
        let mut producer = Self {
            segment,
            cfg: cfg.clone(),
            head: 0,
            mask: cfg.capacity - 1,
            limit: 0,
            scanned_gen: 0,
            heartbeat: Some(heartbeat),
            _lock: lock,
            _types: PhantomData,
        };
        producer.rescan();
        debug_assert_eq!(producer.segment.header().magic.load(Relaxed), MAGIC);
        Ok(producer)
    }

    /// Sequence the next record will get (= records published so far in this epoch).
    pub fn head(&self) -> u64 {
        self.head
    }

    pub fn epoch(&self) -> u64 {
        self.segment.header().epoch
    }

    pub fn capacity(&self) -> u64 {
        self.cfg.capacity
    }

    /// Publishes one record, waiting first if a gating consumer still needs the slot it reuses.
    pub fn publish(&mut self, record: &T) {
        self.publish_batch(std::slice::from_ref(record));
    }

    /// Publishes records in order with one cursor update per contiguous run (at most `capacity` at a time).
    pub fn publish_batch(&mut self, records: &[T]) {
        for chunk in records.chunks(self.cfg.capacity as usize) {
            // Blocking publishes wait instead of failing.
            let _ = self.publish_chunk(chunk, true);
        }
    }

    /// Publishes records only if no gating consumer is in the way; never waits.
    ///
    /// # Errors
    /// [`Full`] when a gating consumer has not yet read the slots the batch would reuse (or the batch is
    /// larger than the ring).
    pub fn try_publish_batch(&mut self, records: &[T]) -> Result<(), Full> {
        if records.len() as u64 > self.cfg.capacity {
            return Err(Full { free: self.free_slots() });
        }
        self.publish_chunk(records, false)
    }

    /// Slots the producer may fill right now without waiting (as of the last scan of gating cursors).
    pub fn free_slots(&self) -> u64 {
        self.limit.saturating_sub(self.head)
    }

    fn publish_chunk(&mut self, records: &[T], blocking: bool) -> Result<(), Full> {
        let new_head = self.head + records.len() as u64;
        if new_head > self.limit && !self.make_room(new_head, blocking) {
            return Err(Full { free: self.free_slots() });
        }
        if self.segment.cursors().begin_write(new_head) != self.scanned_gen {
            // A gating consumer joined since the last scan: it must gate this very write.
            self.rescan();
            if new_head > self.limit && !self.make_room(new_head, blocking) {
                self.segment.cursors().retract_write(self.head);
                return Err(Full { free: self.free_slots() });
            }
        }
        let start = (self.head & self.mask) as usize;
        let first = records.len().min(self.cfg.capacity as usize - start);
        self.segment.write_records(start, &records[..first]);
        self.segment.write_records(0, &records[first..]);
        self.segment.cursors().end_write(new_head);
        self.segment.wake_words().wake(&SharedFutex);
        self.head = new_head;
        Ok(())
    }

    /// Rescans (and, if `blocking`, waits) until `new_head` is allowed; false if it is not.
    fn make_room(&mut self, new_head: u64, blocking: bool) -> bool {
        if blocking {
            self.wait_for_gate(new_head);
            return true;
        }
        self.rescan();
        new_head <= self.limit
    }

    fn rescan(&mut self) {
        let gen = self.segment.cursors().table_generation();
        let slots = self.segment.slots();
        self.limit = gate_limit(
            slots.iter().filter(|s| is_gating_active(s)).map(|s| &s.cursor),
            self.cfg.capacity,
        );
        self.scanned_gen = gen;
    }

    fn wait_for_gate(&mut self, new_head: u64) {
        self.segment.control().producer_stalls.fetch_add(1, Relaxed);
        let mut waiter = Waiter::new(self.cfg.producer_wait);
        let check_every = self.cfg.heartbeat_interval_ms * 1_000_000 / 2;
        let started = monotonic_ns();
        let mut next_check = started + check_every;
        loop {
            self.rescan();
            if new_head <= self.limit {
                let waited = monotonic_ns().saturating_sub(started);
                self.segment.control().producer_gated_ns.fetch_add(waited, Relaxed);
                return;
            }
            let now = monotonic_ns();
            if now >= next_check {
                self.evict_dead(new_head, now);
                next_check = now + check_every;
            }
            waiter.step();
        }
    }

    /// Stops waiting for gating consumers that block `new_head` and are dead or silent past the timeout.
    fn evict_dead(&self, new_head: u64, now: u64) {
        let timeout = self.cfg.heartbeat_timeout_ms * 1_000_000;
        for slot in self.segment.slots() {
            if !is_gating_active(slot) || slot.cursor.load(Acquire) + self.cfg.capacity >= new_head
            {
                continue;
            }
            let pid = slot.pid.load(Relaxed);
            let silent_ns = now.saturating_sub(slot.heartbeat_ns.load(Relaxed));
            // A process not visible here (another pid namespace) is judged by its silence alone.
            let dead = slot_owner(slot).check() == Liveness::Dead;
            if !dead && silent_ns < timeout {
                continue;
            }
            if slot
                .state
                .compare_exchange(slot_state::ACTIVE, slot_state::EVICTED, Release, Relaxed)
                .is_ok()
            {
                self.segment.control().evictions.fetch_add(1, Relaxed);
                tracing::warn!(
                    ring = %self.cfg.name,
                    consumer = %slot_name(slot),
                    pid,
                    process_gone = dead,
                    silent_ms = silent_ns / 1_000_000,
                    cursor = slot.cursor.load(Relaxed),
                    "gating consumer stopped gating: it will resume from its cursor if that is still in the ring"
                );
            }
        }
    }

    /// Appends an instrument (or other) directory entry and returns its id; readers see it from now on.
    ///
    /// # Errors
    /// [`RingError::DirectoryFull`] when `directory_capacity` entries exist.
    pub fn push_entry(&mut self, entry: &E) -> Result<u32, RingError> {
        let control = self.segment.control();
        let len = control.directory_len.load(Relaxed);
        if len >= u64::from(self.cfg.directory_capacity) {
            return Err(RingError::DirectoryFull(self.cfg.directory_capacity));
        }
        self.segment.write_entry(len as usize, entry);
        // Pairs with the Acquire in `Segment::entries`.
        control.directory_len.store(len + 1, Release);
        Ok(len as u32)
    }

    /// Entries published so far.
    pub fn entries(&self) -> &[E] {
        self.segment.entries()
    }

    /// Wall-clock nanoseconds, for stamping `publish` times users compare across processes.
    pub fn now_ns() -> u64 {
        realtime_ns()
    }
}

impl<T: Record, E: Record> Drop for Producer<T, E> {
    fn drop(&mut self) {
        stop_heartbeat(&mut self.heartbeat);
        // Consumers drain what was published, then see CLOSED; a later producer turns it into SUPERSEDED.
        let _ = self.segment.control().lifecycle.compare_exchange(
            lifecycle::RUNNING,
            lifecycle::CLOSED,
            Release,
            Relaxed,
        );
        self.segment.wake_words().wake(&SharedFutex);
        // A clean exit leaves nothing behind unless a live consumer still reads (the last of those
        // removes the files, see `cleanup.rs`). The path is ours while the lock is held, and the lock file
        // goes before the lock is let go; a producer that opened the old lock file notices (see `create`).
        if !someone_behind(&self.segment, &self.cfg) {
            remove_files(&self.cfg);
        }
    }
}

/// Epochs grow with time (wall-clock nanoseconds, the low 16 bits replaced by the pid), so the journal and
/// the stores can order them; two producers in the same 65 us still differ by pid.
fn new_epoch(previous: Option<u64>) -> u64 {
    let candidate = (realtime_ns() & !0xffff) | u64::from(std::process::id() & 0xffff);
    match previous {
        Some(p) if p >= candidate => p + 1,
        _ => candidate,
    }
}

fn carry_registrations(old: &[ConsumerSlot], new: &[ConsumerSlot], timeout_ns: u64) {
    for (o, n) in old.iter().zip(new) {
        let state = o.state.load(Acquire);
        if state == slot_state::FREE || state == slot_state::CLAIMING {
            continue;
        }
        for (a, b) in o.name.iter().zip(&n.name) {
            b.store(a.load(Relaxed), Relaxed);
        }
        n.name_len.store(o.name_len.load(Relaxed), Relaxed);
        n.gating.store(o.gating.load(Relaxed), Relaxed);
        n.pid.store(o.pid.load(Relaxed), Relaxed);
        n.start_time.store(o.start_time.load(Relaxed), Relaxed);
        n.pid_ns.store(o.pid_ns.load(Relaxed), Relaxed);
        n.heartbeat_ns.store(o.heartbeat_ns.load(Relaxed), Relaxed);
        n.cursor.store(0, Relaxed);
        // A consumer that was live keeps gating from sequence 0; one that was already gone waits to resume.
        let live = state == slot_state::ACTIVE && owner_alive(o, timeout_ns);
        n.state.store(if live { slot_state::ACTIVE } else { state }, Relaxed);
    }
}
