//! [`TickStream`]: ring when near, journal when behind; see the crate documentation.

use crate::clock::FeedClock;
use crate::error::StreamError;
use crate::event::{Event, Position, ReadingFrom, StreamGap, StreamGapCause};
use crate::instruments::Instruments;
use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};
use tickring_engine::{InstrumentEntry, Tick};
use tickring_ipc::{
    Consumer, ConsumerOptions, ConsumerPolicy, GapCause, Read, RingConfig, RingError, StartAt,
};
use tickring_journal::layout::{list_epochs, EpochDir};
use tickring_journal::{
    FeedGap, FeedGapReader, JournalConfig, JournalError, JournalReader, ReadGapCause, ReadOutcome,
};

type RingReader = Consumer<Tick, InstrumentEntry>;
type Journal = JournalReader<Tick, InstrumentEntry>;

/// How often a missing ring is looked for again.
const ATTACH_EVERY: Duration = Duration::from_millis(200);
/// How long a caught-up journal reader waits before looking again.
const JOURNAL_POLL: Duration = Duration::from_millis(2);
/// How often the epoch's feed gaps are looked for.
const FEED_GAPS_EVERY: Duration = Duration::from_millis(200);

/// What a stream reads and under which name.
#[derive(Clone, Debug)]
pub struct StreamConfig {
    pub ring: RingConfig,
    pub journal: JournalConfig,
    /// The name in the ring's consumer table (shown by `tickring status`).
    pub consumer: String,
    /// Most ticks per event.
    pub max_batch: usize,
}

/// Where a stream opened for the first time starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Start {
    /// What is published from now on.
    Latest,
    /// The oldest tick the journal still holds.
    Oldest,
    /// Right after what a store already holds: the next sequence to read.
    At(Position),
}

/// The one reader under every sink.
#[derive(Debug)]
pub struct TickStream {
    cfg: StreamConfig,
    start: Start,
    pos: Option<Position>,
    ring: Option<RingReader>,
    last_attach: Option<Instant>,
    journal: Option<Journal>,
    from: ReadingFrom,
    ticks: Vec<Tick>,
    clock: FeedClock,
    instruments: Instruments,
    /// Directory indexes of the current epoch that no entry names (damage): index -> the sink id of their
    /// placeholder name, so each is reported once, not once per tick.
    unresolved: HashMap<u32, u32>,
    unresolved_ticks: u64,
    closed_reported: bool,
    /// Feed gaps of the current epoch not yet handed out, and when the log was last read.
    feed_gaps: Option<(u64, FeedGapReader)>,
    pending_feed_gaps: VecDeque<FeedGap>,
    last_feed_gap_check: Option<Instant>,
}

impl TickStream {
    /// A stream that starts at `start`; nothing is read until [`TickStream::next`].
    pub fn new(cfg: StreamConfig, start: Start) -> Self {
        let max_batch = cfg.max_batch.max(1);
        Self {
            cfg: StreamConfig { max_batch, ..cfg },
            start,
            pos: None,
            ring: None,
            last_attach: None,
            journal: None,
            from: ReadingFrom::Journal,
            ticks: Vec::with_capacity(max_batch),
            clock: FeedClock::default(),
            instruments: Instruments::default(),
            unresolved: HashMap::new(),
            unresolved_ticks: 0,
            closed_reported: false,
            feed_gaps: None,
            pending_feed_gaps: VecDeque::new(),
            last_feed_gap_check: None,
        }
    }

    /// The next sequence to read, once the start is resolved.
    pub fn position(&self) -> Option<Position> {
        self.pos
    }

    pub fn reading_from(&self) -> ReadingFrom {
        self.from
    }

    /// Feed time, for closing candles: see [`FeedClock`].
    pub fn clock(&self) -> &FeedClock {
        &self.clock
    }

    /// Records published in the current epoch that this stream has not read yet (0 when unknown).
    pub fn lag(&self) -> u64 {
        match (&self.ring, self.pos) {
            (Some(r), Some(p)) if r.epoch() == p.epoch => r.published().saturating_sub(p.seq),
            _ => 0,
        }
    }

    /// Sink ids -> (symbol, MIC) for every instrument seen; ticks handed out carry these ids.
    pub fn instruments(&self) -> &Instruments {
        &self.instruments
    }

    /// Ticks handed out under a placeholder name (`?EPOCH:INDEX`) because their epoch's directory has no
    /// entry for their index: damage, counted here and reported once per index.
    pub fn unresolved_ticks(&self) -> u64 {
        self.unresolved_ticks
    }

    /// For a sink that knows instruments before reading (e.g. from its store): ids it assigns here are
    /// the ones the stream's ticks will carry.
    pub fn instruments_mut(&mut self) -> &mut Instruments {
        &mut self.instruments
    }

    /// The next event, waiting up to `wait` for one.
    ///
    /// # Errors
    /// A ring or journal of another build or ring; the consumer name taken by a live process; I/O errors.
    pub fn next(&mut self, wait: Duration) -> Result<Event<'_>, StreamError> {
        self.attach_ring()?;
        let Some(pos) = self.pos else {
            return match self.resolve_start()? {
                Some(pos) => {
                    self.enter(pos)?;
                    Ok(Event::NewEpoch { epoch: pos.epoch, previous: None })
                }
                None => {
                    std::thread::sleep(wait.min(ATTACH_EVERY));
                    Ok(Event::Idle)
                }
            };
        };
        if let Some(gap) = self.due_feed_gap(pos)? {
            return Ok(Event::FeedGap { epoch: pos.epoch, gap });
        }
        let ring_here = self.ring.as_ref().is_some_and(|r| r.epoch() == pos.epoch);
        if self.from == ReadingFrom::Ring && ring_here {
            self.next_from_ring(pos, wait)
        } else {
            self.from = ReadingFrom::Journal;
            self.next_from_journal(pos, wait)
        }
    }

    /// A feed gap journaled before the position reached, once (gaps before where the stream started in
    /// an epoch are not news to it).
    fn due_feed_gap(&mut self, pos: Position) -> Result<Option<FeedGap>, StreamError> {
        if self.feed_gaps.as_ref().is_none_or(|(e, _)| *e != pos.epoch) {
            let dir = tickring_journal::layout::epoch_path(
                &self.cfg.journal.ring_dir(&self.cfg.ring.name),
                pos.epoch,
            );
            let mut reader = FeedGapReader::new(&dir, pos.epoch);
            self.pending_feed_gaps =
                reader.read_new()?.into_iter().filter(|g| g.seq >= pos.seq).collect();
            self.feed_gaps = Some((pos.epoch, reader));
            self.last_feed_gap_check = Some(Instant::now());
        }
        if self.last_feed_gap_check.is_none_or(|t| t.elapsed() >= FEED_GAPS_EVERY) {
            self.last_feed_gap_check = Some(Instant::now());
            if let Some((_, reader)) = self.feed_gaps.as_mut() {
                self.pending_feed_gaps.extend(reader.read_new()?);
            }
        }
        Ok(self.pending_feed_gaps.front().filter(|g| g.seq <= pos.seq).copied().inspect(|_| {
            self.pending_feed_gaps.pop_front();
        }))
    }

    fn attach_ring(&mut self) -> Result<(), StreamError> {
        if self.ring.is_some() || self.last_attach.is_some_and(|t| t.elapsed() < ATTACH_EVERY) {
            return Ok(());
        }
        self.last_attach = Some(Instant::now());
        let opts = ConsumerOptions {
            name: self.cfg.consumer.clone(),
            policy: ConsumerPolicy::NonGating,
            start: StartAt::Latest,
        };
        match Consumer::attach(&self.cfg.ring, opts) {
            Ok(c) => {
                tracing::info!(ring = %self.cfg.ring.name, consumer = %self.cfg.consumer, epoch = c.epoch(), "attached to the ring (non-gating)");
                self.ring = Some(c);
                Ok(())
            }
            Err(RingError::NotFound { .. } | RingError::NotReady { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    fn epochs(&self) -> Result<Vec<EpochDir>, StreamError> {
        match list_epochs(&self.cfg.journal.ring_dir(&self.cfg.ring.name)) {
            Ok(e) => Ok(e),
            Err(JournalError::Io { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                Ok(Vec::new())
            }
            Err(e) => Err(e.into()),
        }
    }

    fn resolve_start(&mut self) -> Result<Option<Position>, StreamError> {
        // "Latest" is where the ring consumer was placed when it attached, not the head now: ticks
        // published in between belong to this stream.
        let ring = self.ring.as_ref().map(|r| (r.epoch(), r.cursor(), r.oldest()));
        Ok(match self.start {
            Start::At(pos) => Some(self.known_epoch_at_or_after(pos)?),
            Start::Latest => match ring {
                Some((epoch, head, _)) => Some(Position { epoch, seq: head }),
                None => match self.epochs()?.last() {
                    Some(e) => Some(Position {
                        epoch: e.epoch,
                        seq: tickring_journal::info::epoch_head::<Tick>(e, &self.cfg.ring.name)?,
                    }),
                    None => None,
                },
            },
            Start::Oldest => match self.epochs()?.first() {
                Some(e) => {
                    let first = e.segments()?.first().map_or(0, |(f, _)| *f);
                    Some(Position { epoch: e.epoch, seq: first })
                }
                None => ring.map(|(epoch, _, oldest)| Position { epoch, seq: oldest }),
            },
        })
    }

    /// A stored position whose epoch the journal no longer has (retention) continues with the first
    /// later epoch it does have; epochs grow with time.
    fn known_epoch_at_or_after(&self, pos: Position) -> Result<Position, StreamError> {
        let epochs = self.epochs()?;
        let ring_epoch = self.ring.as_ref().map(RingReader::epoch);
        if epochs.iter().any(|e| e.epoch == pos.epoch) || ring_epoch == Some(pos.epoch) {
            return Ok(pos);
        }
        let later =
            epochs.iter().map(|e| e.epoch).chain(ring_epoch).filter(|&e| e > pos.epoch).min();
        Ok(match later {
            Some(epoch) => {
                tracing::warn!(stored_epoch = pos.epoch, epoch, "the stored epoch is no longer in the journal; continuing with the next one it holds");
                Position { epoch, seq: 0 }
            }
            None => pos,
        })
    }

    /// Starts reading `pos`: from the ring if it holds it, else from the journal.
    fn enter(&mut self, pos: Position) -> Result<(), StreamError> {
        if self.pos.is_none_or(|p| p.epoch != pos.epoch) {
            self.instruments.reset_ring();
            self.unresolved.clear();
        }
        self.pos = Some(pos);
        self.closed_reported = false;
        if self.journal.as_ref().is_some_and(|j| j.epoch() != pos.epoch) {
            self.journal = None;
        }
        self.from = ReadingFrom::Journal;
        if let Some(ring) = self.ring.as_mut().filter(|r| r.epoch() == pos.epoch) {
            if ring.oldest() <= pos.seq {
                ring.seek(pos.seq)?;
                self.from = ReadingFrom::Ring;
            }
        }
        tracing::debug!(
            epoch = pos.epoch,
            seq = pos.seq,
            from = self.from.as_str(),
            "stream position"
        );
        Ok(())
    }

    /// The journal reader of `epoch`, opened if needed; `None` if the journal does not have it.
    fn journal_of(&mut self, epoch: u64) -> Result<Option<&mut Journal>, StreamError> {
        if self.journal.as_ref().is_none_or(|j| j.epoch() != epoch) {
            let from = self.pos.map_or(0, |p| p.seq);
            let epochs = self.epochs()?;
            self.journal = match epochs.into_iter().find(|e| e.epoch == epoch) {
                Some(dir) => Some(Journal::at(
                    &self.cfg.ring.name,
                    self.cfg.journal.ring_dir(&self.cfg.ring.name),
                    dir,
                    from,
                )),
                None => None,
            };
        }
        Ok(self.journal.as_mut())
    }

    fn next_from_ring(&mut self, pos: Position, wait: Duration) -> Result<Event<'_>, StreamError> {
        let Some(ring) = self.ring.as_mut() else { return Ok(Event::Idle) };
        match ring.wait(Some(wait))? {
            Read::Batch(batch) => {
                let first = batch.first_seq();
                if first != pos.seq {
                    // Not where this stream stands (cannot happen after a seek; be safe): the journal knows.
                    self.from = ReadingFrom::Journal;
                    return Ok(Event::Idle);
                }
                self.ticks.clear();
                self.ticks.extend_from_slice(batch.records());
                // A non-gating batch is a validated copy: its commit cannot fail.
                let _ = batch.commit();
                self.ticks_event(pos)
            }
            Read::Gap(gap) => match gap.cause {
                GapCause::NewEpoch { old, new } => {
                    tracing::info!(
                        old_epoch = old,
                        epoch = new,
                        "the producer restarted; finishing the old epoch from the journal"
                    );
                    self.from = ReadingFrom::Journal;
                    if self.journal_of(pos.epoch)?.is_none() {
                        // Nothing journaled for the old epoch: move on with the ring.
                        return self.new_epoch(pos.epoch, new);
                    }
                    Ok(Event::Idle)
                }
                _ => {
                    if self.journal_of(pos.epoch)?.is_some() {
                        // Lapped (or resumed behind): the journal has what the ring lost; merge back later.
                        tracing::debug!(
                            seq = pos.seq,
                            missed = gap.missed,
                            "ring lapped this reader; reading the journal"
                        );
                        self.from = ReadingFrom::Journal;
                        return Ok(Event::Idle);
                    }
                    self.pos = Some(Position { epoch: pos.epoch, seq: gap.resume_at });
                    Ok(Event::Gap(StreamGap {
                        epoch: pos.epoch,
                        from: pos.seq,
                        to: gap.resume_at,
                        cause: StreamGapCause::Lapped,
                    }))
                }
            },
            Read::Empty => Ok(Event::Idle),
            Read::Closed => {
                // The producer stopped cleanly and its ring goes away with it: let go of it (the last
                // reader out removes the files), so the next producer's ring is attached afresh; until
                // then the journal is where this epoch ends and the next one begins.
                self.ring = None;
                self.from = ReadingFrom::Journal;
                if self.closed_reported {
                    std::thread::sleep(wait.min(ATTACH_EVERY));
                    return Ok(Event::Idle);
                }
                self.closed_reported = true;
                Ok(Event::Closed)
            }
        }
    }

    fn next_from_journal(
        &mut self,
        pos: Position,
        wait: Duration,
    ) -> Result<Event<'_>, StreamError> {
        let max = self.cfg.max_batch;
        if self.journal_of(pos.epoch)?.is_none() {
            return self.epoch_not_journaled(pos, wait);
        }
        let Some(journal) = self.journal.as_mut() else { return Ok(Event::Idle) };
        journal.seek(pos.seq);
        match journal.read(max)? {
            ReadOutcome::Records { first_seq, records } => {
                self.ticks.clear();
                self.ticks.extend_from_slice(records);
                self.ticks_event(Position { epoch: pos.epoch, seq: first_seq })
            }
            ReadOutcome::Gap { from, to, cause } => {
                self.pos = Some(Position { epoch: pos.epoch, seq: to });
                let cause = match cause {
                    ReadGapCause::Retention => StreamGapCause::Retention,
                    ReadGapCause::Behind => StreamGapCause::JournalBehind,
                    ReadGapCause::Damaged { path, offset } => {
                        StreamGapCause::Damaged { path, offset }
                    }
                };
                if cause == StreamGapCause::JournalBehind {
                    // The ring may still hold what the journal lacks.
                    if let Some(ring) = self.ring.as_mut().filter(|r| r.epoch() == pos.epoch) {
                        if ring.oldest() <= from {
                            ring.seek(from)?;
                            self.pos = Some(Position { epoch: pos.epoch, seq: from });
                            self.from = ReadingFrom::Ring;
                            return Ok(Event::Idle);
                        }
                    }
                }
                Ok(Event::Gap(StreamGap { epoch: pos.epoch, from, to, cause }))
            }
            ReadOutcome::CaughtUp => {
                if let Some(ring) = self.ring.as_mut().filter(|r| r.epoch() == pos.epoch) {
                    // Replay-merge: the journal is never behind the ring, so joining at the journal's end
                    // skips nothing and repeats nothing.
                    ring.seek(pos.seq)?;
                    self.from = ReadingFrom::Ring;
                    tracing::debug!(seq = pos.seq, "caught up from the journal; back on the ring");
                    return Ok(Event::Idle);
                }
                std::thread::sleep(wait.min(JOURNAL_POLL));
                Ok(Event::Idle)
            }
            ReadOutcome::EpochEnd => {
                let epochs = self.epochs()?;
                let ordinal = epochs.iter().find(|e| e.epoch == pos.epoch).map(|e| e.ordinal);
                let next = epochs.iter().find(|e| ordinal.is_some_and(|o| e.ordinal > o));
                match next {
                    Some(next) => {
                        let next = next.epoch;
                        self.new_epoch(pos.epoch, next)
                    }
                    None => match self.ring.as_ref().map(RingReader::epoch) {
                        Some(ring_epoch) if ring_epoch != pos.epoch => {
                            self.new_epoch(pos.epoch, ring_epoch)
                        }
                        _ => {
                            if self.closed_reported {
                                std::thread::sleep(wait.min(ATTACH_EVERY));
                                return Ok(Event::Idle);
                            }
                            self.closed_reported = true;
                            Ok(Event::Closed)
                        }
                    },
                }
            }
        }
    }

    /// The epoch is in neither the journal nor (any more) the ring.
    fn epoch_not_journaled(
        &mut self,
        pos: Position,
        wait: Duration,
    ) -> Result<Event<'_>, StreamError> {
        let ring_epoch = self.ring.as_ref().map(RingReader::epoch);
        if let Some(epoch) = ring_epoch {
            if let Some(ring) = self.ring.as_mut().filter(|_| epoch == pos.epoch) {
                ring.seek(pos.seq)?;
                self.from = ReadingFrom::Ring;
                return Ok(Event::Idle);
            }
            if epoch > pos.epoch {
                return self.new_epoch(pos.epoch, epoch);
            }
        }
        if let Some(next) = self.epochs()?.iter().map(|e| e.epoch).find(|&e| e > pos.epoch) {
            return self.new_epoch(pos.epoch, next);
        }
        std::thread::sleep(wait.min(ATTACH_EVERY));
        Ok(Event::Idle)
    }

    fn new_epoch(&mut self, previous: u64, epoch: u64) -> Result<Event<'_>, StreamError> {
        self.enter(Position { epoch, seq: 0 })?;
        Ok(Event::NewEpoch { epoch, previous: Some(previous) })
    }

    fn ticks_event(&mut self, at: Position) -> Result<Event<'_>, StreamError> {
        let next = Position { epoch: at.epoch, seq: at.seq + self.ticks.len() as u64 };
        self.pos = Some(next);
        if self.from == ReadingFrom::Journal {
            // Keep the ring's consumer table honest for `tickring status`: this sink's real position.
            if let Some(ring) = self.ring.as_mut().filter(|r| r.epoch() == next.epoch) {
                ring.seek(next.seq)?;
            }
        }
        if let Some(ring) = self.ring.as_ref().filter(|r| r.epoch() == next.epoch) {
            ring.set_reading_journal(self.from == ReadingFrom::Journal);
        }
        if let Some(newest) = self.ticks.iter().map(|t| t.ts_event_ns).max() {
            self.clock.observe(newest);
        }
        self.resolve_instruments(at.epoch)?;
        Ok(Event::Ticks {
            epoch: at.epoch,
            first_seq: at.seq,
            ticks: &self.ticks,
            instruments: &self.instruments,
        })
    }

    /// Rewrites the batch's directory indexes of `epoch` to sink ids. A directory entry is written before
    /// any tick that names it, so a miss means the copy here is stale: read the directory again.
    fn resolve_instruments(&mut self, epoch: u64) -> Result<(), StreamError> {
        let known = self.instruments.known();
        let needs_directory = self.ticks.iter().any(|t| {
            t.instrument_id as usize >= known && !self.unresolved.contains_key(&t.instrument_id)
        });
        if !needs_directory {
            return self.rewrite(epoch);
        }
        if let Some(ring) = self.ring.as_ref().filter(|r| r.epoch() == epoch) {
            self.instruments.sync(ring.entries());
        }
        if self.ticks.iter().any(|t| t.instrument_id as usize >= self.instruments.known()) {
            if let Some(journal) = self.journal_of(epoch)? {
                let entries = journal.entries()?.to_vec();
                self.instruments.sync(&entries);
            }
        }
        self.rewrite(epoch)
    }

    fn rewrite(&mut self, epoch: u64) -> Result<(), StreamError> {
        for t in &mut self.ticks {
            let index = t.instrument_id;
            t.instrument_id = match self.instruments.of_ring(index) {
                Some(id) => id,
                None => {
                    // Damage, not a race: keep the tick under a name that says so.
                    self.unresolved_ticks += 1;
                    let instruments = &mut self.instruments;
                    *self.unresolved.entry(index).or_insert_with(|| {
                        tracing::error!(
                            epoch,
                            id = index,
                            "ticks name an instrument missing from the directory; kept as ?{epoch}:{index}"
                        );
                        instruments
                            .intern(&format!("?{epoch}:{index}"), tickring_engine::Exchange::Unknown)
                    })
                }
            };
        }
        Ok(())
    }
}
