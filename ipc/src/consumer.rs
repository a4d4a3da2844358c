//! A consumer: attaches to a ring by name, reads batches (in place when gating), commits its cursor.

use crate::cleanup::remove_if_finished;
use crate::clock::monotonic_ns;
use crate::config::{ConsumerPolicy, RingConfig, WaitStrategy};
use crate::error::RingError;
use crate::heartbeat::{spawn_heartbeat, stop_heartbeat, Heartbeat};
use crate::layout::{lifecycle, slot_state, ConsumerSlot};
use crate::protocol::commit_cursor;
use crate::record::Record;
use crate::segment::Segment;
use crate::table::{
    activate, claim_free, find_by_name, owner_alive, slot_name, slot_owner, TableLock,
};
use crate::wait::Waiter;
use crate::wake::SharedFutex;
use std::marker::PhantomData;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Longest single sleep of a blocking consumer: a change no wake-up announces (an eviction, a producer
/// that died without closing) is seen within this.
const MAX_SLEEP: Duration = Duration::from_millis(100);

/// Where a consumer that has never attached under its name starts reading.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StartAt {
    /// Only records published from now on.
    #[default]
    Latest,
    /// The oldest record still in the ring.
    Oldest,
}

/// Who this consumer is.
#[derive(Clone, Debug)]
pub struct ConsumerOptions {
    /// Unique per ring; the saved cursor is found again under this name after a restart.
    pub name: String,
    pub policy: ConsumerPolicy,
    pub start: StartAt,
}

/// Why a consumer skipped records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GapCause {
    /// A non-gating consumer was lapped by the producer.
    Lapped,
    /// A gating consumer had stopped gating (declared dead or silent) and the producer overwrote its records.
    Evicted,
    /// Re-attached under a known name, but its saved cursor had already left the ring.
    Resumed,
    /// The producer restarted: this consumer drained the old segment and moved to the new one.
    NewEpoch { old: u64, new: u64 },
}

/// Records a consumer will never see, reported exactly once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Gap {
    pub cause: GapCause,
    /// How many sequences were skipped (0 for a clean epoch change).
    pub missed: u64,
    /// The sequence reading resumes at.
    pub resume_at: u64,
}

/// What one poll found.
#[derive(Debug)]
pub enum Read<'a, T: Record, E: Record = ()> {
    Batch(Batch<'a, T, E>),
    Gap(Gap),
    /// Nothing new yet.
    Empty,
    /// The producer shut down and everything it published has been read.
    Closed,
}

/// A run of consecutive records. Commit it once whatever was done with them has succeeded; a batch dropped
/// without commit is read again by the next poll.
#[derive(Debug)]
pub struct Batch<'a, T: Record, E: Record = ()> {
    consumer: &'a mut Consumer<T, E>,
    first: u64,
    len: usize,
    in_place: bool,
}

/// The producer overwrote records of a batch while it was being read (only possible for a gating consumer
/// after it was evicted). Whatever was derived from the batch must be discarded; the gap is reported next.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("records from sequence {first} were overwritten while being read; discard this batch")]
pub struct Overwritten {
    pub first: u64,
}

impl<T: Record, E: Record> Batch<'_, T, E> {
    /// Sequence of the first record.
    pub fn first_seq(&self) -> u64 {
        self.first
    }

    /// The records, read in place in shared memory for gating consumers (zero-copy), copied and validated for
    /// non-gating ones.
    pub fn records(&self) -> &[T] {
        if self.in_place {
            let index = (self.first & (self.consumer.capacity - 1)) as usize;
            // SAFETY: a gating consumer's committed cursor is at or below `first`, so the producer does not
            // write these slots while it stays ACTIVE; if it was evicted meanwhile, `commit` detects the
            // overwrite via the claim check and the caller discards what it read (T: Pod, so no invalid value
            // can arise even then).
            unsafe { self.consumer.segment.records(index, self.len) }
        } else {
            &self.consumer.buffer
        }
    }

    /// Marks the batch consumed.
    ///
    /// # Errors
    /// [`Overwritten`] when the records were not intact; the cursor then skips past what was lost.
    pub fn commit(self) -> Result<(), Overwritten> {
        let len = self.len;
        self.commit_first(len)
    }

    /// Marks only the first `n` records consumed (at most the batch length); the rest is read again.
    ///
    /// # Errors
    /// As [`Batch::commit`].
    pub fn commit_first(self, n: usize) -> Result<(), Overwritten> {
        let consumer = self.consumer;
        let end = self.first + n.min(self.len) as u64;
        if self.in_place {
            let intact = consumer.segment.cursors().intact_from(consumer.capacity);
            if intact > self.first {
                consumer.skip_to(intact.max(self.first), GapCause::Evicted);
                return Err(Overwritten { first: self.first });
            }
        }
        consumer.cursor = end;
        commit_cursor(&consumer.slot().cursor, end);
        Ok(())
    }
}

/// Reads records of type `T` from a named ring; `E` is the directory entry type.
#[derive(Debug)]
pub struct Consumer<T: Record, E: Record = ()> {
    cfg: RingConfig,
    opts: ConsumerOptions,
    segment: Arc<Segment>,
    slot: usize,
    cursor: u64,
    capacity: u64,
    buffer: Vec<T>,
    pending: Option<Gap>,
    heartbeat: Option<Heartbeat>,
    _types: PhantomData<E>,
}

impl<T: Record, E: Record> Consumer<T, E> {
    /// Attaches to `cfg.name` as `opts.name`, resuming from the saved cursor if the name is known.
    ///
    /// # Errors
    /// Missing, foreign or mismatched segment; the name held by another live process; a full table.
    pub fn attach(cfg: &RingConfig, opts: ConsumerOptions) -> Result<Self, RingError> {
        cfg.validate()?;
        crate::config::validate_name(&opts.name)?;
        let segment = Arc::new(Segment::open::<T, E>(&cfg.segment_path(), false)?);
        let capacity = segment.geometry().capacity;
        let mut consumer = Self {
            cfg: cfg.clone(),
            opts,
            segment,
            slot: 0,
            cursor: 0,
            capacity,
            buffer: Vec::with_capacity(cfg.max_batch),
            pending: None,
            heartbeat: None,
            _types: PhantomData,
        };
        consumer.register(None)?;
        Ok(consumer)
    }

    /// Finds or claims the slot of this name; `keep` is the cursor to go on from when the name is not
    /// found (a consumer whose slot was taken over while it was away), else the start position is used.
    fn register(&mut self, keep: Option<u64>) -> Result<(), RingError> {
        let (slot, resumed) = {
            let control = self.segment.control();
            let _lock = TableLock::acquire(control);
            let slots = self.segment.slots();
            match find_by_name(slots, &self.opts.name) {
                Some(i) => {
                    let s = &slots[i];
                    self.check_not_taken(s)?;
                    self.cursor = s.cursor.load(Relaxed);
                    activate(s, self.opts.policy);
                    (i, true)
                }
                None => {
                    let start = keep.unwrap_or_else(|| match self.opts.start {
                        StartAt::Latest => self.segment.cursors().available(),
                        StartAt::Oldest => self.segment.cursors().intact_from(self.capacity),
                    });
                    let timeout = self.cfg.heartbeat_timeout_ns();
                    let i = claim_free(slots, &self.opts.name, self.opts.policy, start, timeout)
                        .ok_or(RingError::TableFull {
                            name: self.cfg.name.clone(),
                            max: slots.len() as u32,
                        })?;
                    self.cursor = start;
                    activate(&slots[i], self.opts.policy);
                    (i, keep.is_some())
                }
            }
        };
        self.slot = slot;
        self.join(if resumed { GapCause::Resumed } else { GapCause::Lapped });
        let segment = Arc::clone(&self.segment);
        stop_heartbeat(&mut self.heartbeat);
        self.heartbeat = Some(
            spawn_heartbeat(
                "ring-consumer-heartbeat",
                move || {
                    // Only while the slot is still ours: another consumer may have taken it over.
                    let s = &segment.slots()[slot];
                    if slot_owner(s).is_current() {
                        s.heartbeat_ns.store(monotonic_ns(), Relaxed);
                    }
                },
                self.cfg.heartbeat_interval(),
            )
            .map_err(RingError::io("start heartbeat thread for", &self.cfg.segment_path()))?,
        );
        tracing::debug!(ring = %self.cfg.name, consumer = %self.opts.name, cursor = self.cursor, resumed, "attached");
        Ok(())
    }

    /// [`RingError::NameTaken`] when `slot` is ACTIVE for another process that still runs.
    fn check_not_taken(&self, slot: &ConsumerSlot) -> Result<(), RingError> {
        let owner = slot_owner(slot);
        if slot.state.load(Acquire) == slot_state::ACTIVE
            && !owner.is_current()
            && owner_alive(slot, self.cfg.heartbeat_timeout_ns())
        {
            return Err(RingError::NameTaken {
                ring: self.cfg.name.clone(),
                consumer: self.opts.name.clone(),
                pid: owner.pid,
            });
        }
        Ok(())
    }

    /// After (re)activating: make sure the records from `cursor` on are still there, else skip and report.
    fn join(&mut self, cause: GapCause) {
        let lost_below = match self.opts.policy {
            ConsumerPolicy::Gating => {
                self.segment.cursors().announce_join().saturating_sub(self.capacity)
            }
            ConsumerPolicy::NonGating => self.segment.cursors().intact_from(self.capacity),
        };
        if self.cursor < lost_below {
            self.skip_to(lost_below, cause);
        }
    }

    fn skip_to(&mut self, to: u64, cause: GapCause) {
        let missed = to.saturating_sub(self.cursor);
        self.cursor = to;
        let slot = self.slot();
        commit_cursor(&slot.cursor, to);
        slot.missed.fetch_add(missed, Relaxed);
        slot.overruns.fetch_add(1, Relaxed);
        tracing::warn!(ring = %self.cfg.name, consumer = %self.opts.name, ?cause, missed, resume_at = to, "consumer skipped records");
        self.pending = Some(Gap { cause, missed, resume_at: to });
    }

    fn slot(&self) -> &ConsumerSlot {
        &self.segment.slots()[self.slot]
    }

    /// Tells `tickring status` whether this consumer now reads the journal (behind the ring) or the ring.
    pub fn set_reading_journal(&self, journal: bool) {
        self.slot().reading_journal.store(u32::from(journal), Relaxed);
    }

    /// Next sequence to read.
    pub fn cursor(&self) -> u64 {
        self.cursor
    }

    pub fn epoch(&self) -> u64 {
        self.segment.header().epoch
    }

    pub fn name(&self) -> &str {
        &self.opts.name
    }

    /// Records published in this epoch (the producer's head as last seen).
    pub fn published(&self) -> u64 {
        self.segment.cursors().available()
    }

    /// The directory entries published so far (instrument id = index).
    pub fn entries(&self) -> &[E] {
        self.segment.entries()
    }

    /// Moves a non-gating consumer to `seq` (a reader that found its place elsewhere, e.g. in a journal, and
    /// joins the ring there). A `seq` the ring no longer holds reads as a [`GapCause::Lapped`] gap; one
    /// ahead of the head waits for it.
    ///
    /// # Errors
    /// [`RingError::Config`] for a gating consumer: moving its cursor would release or hold records it was
    /// trusted with.
    pub fn seek(&mut self, seq: u64) -> Result<(), RingError> {
        if self.opts.policy == ConsumerPolicy::Gating {
            return Err(RingError::Config("a gating consumer cannot seek".into()));
        }
        self.pending = None;
        self.cursor = seq;
        commit_cursor(&self.slot().cursor, seq);
        Ok(())
    }

    /// The oldest sequence still intact in the ring.
    pub fn oldest(&self) -> u64 {
        self.segment.cursors().intact_from(self.capacity)
    }

    /// Takes what is there without waiting.
    ///
    /// # Errors
    /// Only when moving to a restarted producer's new segment fails (e.g. it was built for other records).
    pub fn poll(&mut self) -> Result<Read<'_, T, E>, RingError> {
        if let Some(gap) = self.pending.take() {
            return Ok(Read::Gap(gap));
        }
        if self.slot().state.load(Acquire) != slot_state::ACTIVE {
            self.rejoin()?;
            if let Some(gap) = self.pending.take() {
                return Ok(Read::Gap(gap));
            }
        }
        let available = self.segment.cursors().available();
        if available <= self.cursor {
            return match self.segment.control().lifecycle.load(Acquire) {
                lifecycle::SUPERSEDED => self.switch_epoch().map(Read::Gap),
                lifecycle::CLOSED => Ok(Read::Closed),
                _ => Ok(Read::Empty),
            };
        }
        let index = (self.cursor & (self.capacity - 1)) as usize;
        let len = (available - self.cursor).min(self.cfg.max_batch as u64) as usize;
        let len = len.min(self.capacity as usize - index);
        match self.opts.policy {
            ConsumerPolicy::Gating => {
                Ok(Read::Batch(Batch { first: self.cursor, len, in_place: true, consumer: self }))
            }
            ConsumerPolicy::NonGating => {
                if available - self.cursor > self.capacity {
                    // Lapped: half a ring behind the head leaves room to catch up before being lapped again.
                    self.skip_to(available - self.capacity / 2, GapCause::Lapped);
                    return Ok(self.pending.take().map_or(Read::Empty, Read::Gap));
                }
                self.buffer.clear();
                self.segment.copy_records(index, len, &mut self.buffer);
                let intact = self.segment.cursors().intact_from(self.capacity);
                if intact > self.cursor {
                    self.skip_to(intact, GapCause::Lapped);
                    return Ok(self.pending.take().map_or(Read::Empty, Read::Gap));
                }
                Ok(Read::Batch(Batch { first: self.cursor, len, in_place: false, consumer: self }))
            }
        }
    }

    /// Waits (with the configured strategy) until there is something to return or `timeout` passes.
    ///
    /// # Errors
    /// As [`Consumer::poll`].
    pub fn wait(&mut self, timeout: Option<Duration>) -> Result<Read<'_, T, E>, RingError> {
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut waiter = Waiter::new(self.cfg.consumer_wait);
        let spins = match self.cfg.consumer_wait {
            WaitStrategy::Block { spins } => Some(spins),
            _ => None,
        };
        let mut checks = 0u32;
        while !self.has_news() {
            checks = checks.wrapping_add(1);
            let past_spins = spins.is_some_and(|s| checks > s);
            if (past_spins || checks.is_multiple_of(64))
                && deadline.is_some_and(|d| Instant::now() >= d)
            {
                return Ok(Read::Empty);
            }
            if past_spins {
                let left =
                    deadline.map_or(MAX_SLEEP, |d| d.saturating_duration_since(Instant::now()));
                self.segment.wake_words().sleep(
                    &SharedFutex,
                    || self.has_news(),
                    left.min(MAX_SLEEP),
                );
            } else {
                waiter.step();
            }
        }
        self.poll()
    }

    fn has_news(&self) -> bool {
        self.pending.is_some()
            || self.segment.cursors().available() > self.cursor
            || self.slot().state.load(Relaxed) != slot_state::ACTIVE
            || self.segment.control().lifecycle.load(Relaxed) != lifecycle::RUNNING
    }

    /// Evicted (or the slot was otherwise changed under us): take it back and check what was lost.
    fn rejoin(&mut self) -> Result<(), RingError> {
        let slot_index = self.slot;
        let taken_over = {
            let control = self.segment.control();
            let _lock = TableLock::acquire(control);
            let slot = &self.segment.slots()[slot_index];
            let taken_over = slot_name(slot) != self.opts.name;
            if !taken_over {
                self.check_not_taken(slot)?;
                commit_cursor(&slot.cursor, self.cursor);
                activate(slot, self.opts.policy);
            }
            taken_over
        };
        if taken_over {
            // Our slot went to another name while we were away (counted as gone): register afresh.
            return self.register(Some(self.cursor));
        }
        tracing::warn!(ring = %self.cfg.name, consumer = %self.opts.name, cursor = self.cursor, "re-attached after being evicted");
        self.join(GapCause::Evicted);
        Ok(())
    }

    /// The producer was replaced: everything of the old epoch is read, so attach to the new segment.
    fn switch_epoch(&mut self) -> Result<Gap, RingError> {
        let old = self.epoch();
        let segment = Arc::new(Segment::open::<T, E>(&self.cfg.segment_path(), false)?);
        self.release_slot();
        stop_heartbeat(&mut self.heartbeat);
        self.segment = segment;
        self.capacity = self.segment.geometry().capacity;
        self.cursor = 0;
        self.register(None)?;
        let new = self.epoch();
        tracing::info!(ring = %self.cfg.name, consumer = %self.opts.name, old_epoch = old, epoch = new, "moved to the restarted producer's segment");
        let gap = self.pending.take().map_or(
            Gap { cause: GapCause::NewEpoch { old, new }, missed: 0, resume_at: self.cursor },
            |g| Gap { cause: GapCause::NewEpoch { old, new }, ..g },
        );
        Ok(gap)
    }

    fn release_slot(&self) {
        let _lock = TableLock::acquire(self.segment.control());
        let slot = self.slot();
        if slot_owner(slot).is_current() && slot_name(slot) == self.opts.name {
            let _ = slot.state.compare_exchange(
                slot_state::ACTIVE,
                slot_state::DETACHED,
                Release,
                Relaxed,
            );
        }
    }
}

impl<T: Record, E: Record> Drop for Consumer<T, E> {
    fn drop(&mut self) {
        stop_heartbeat(&mut self.heartbeat);
        self.release_slot();
        if self.segment.control().lifecycle.load(Acquire) == lifecycle::CLOSED {
            remove_if_finished::<T, E>(&self.cfg, self.segment.header().epoch);
        }
    }
}
