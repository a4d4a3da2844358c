//! The writer process: attach to the ring as a gating consumer, accumulate an uncommitted batch (records
//! copied as they are read), hand it to ClickHouse in the background (candle tables and latest prices
//! concurrently, then ticks) while reading the next batch behind it, and commit the ring cursor over a
//! batch's records only once ClickHouse acknowledged all of its inserts. One flush is in flight at a time.
//!
//! Why nothing is lost: the cursor moves only after the acknowledgement, so whatever a crash interrupts is
//! read again. Why nothing is duplicated: on start the writer asks ClickHouse for the highest stored
//! sequence of the ring's epoch and skips records below it; rows written twice anyway (an insert that
//! landed but whose answer was lost) carry the same key in a ReplacingMergeTree (see `schema.rs`).

use crate::backoff::Backoff;
use crate::config::ClickhouseConfig;
use crate::error::SinkError;
use crate::failure::FailureKind;
use crate::instruments::Instruments;
use crate::pending::{FlushJob, Pending};
use crate::recovery;
use crate::schema::{self, TableSpec};
use crate::stats::WriterStats;
use crate::store::Store;
use clickhouse::error::Error;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tickring_engine::candles::{CandleAggregator, CandleEvent, Interval, SkipReason};
use tickring_engine::{InstrumentEntry, Tick};
use tickring_ipc::{
    Consumer, ConsumerOptions, ConsumerPolicy, GapCause, Read, RingConfig, RingError, StartAt,
};

/// How long the loop sleeps when the ring has nothing new.
const IDLE_SLEEP: Duration = Duration::from_millis(1);
/// How often the counters are logged.
const STATS_EVERY: Duration = Duration::from_secs(10);

/// Why [`Writer::run`] returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// The producer shut down and everything it published is stored.
    ProducerClosed,
    /// SIGINT/SIGTERM (or [`Writer::shutdown_handle`]): everything read so far is stored.
    Stopped,
}

type TickConsumer = Consumer<Tick, InstrumentEntry>;

#[derive(Debug)]
pub struct Writer {
    cfg: ClickhouseConfig,
    ring: RingConfig,
    store: Store,
    tables: Vec<TableSpec>,
    intervals: Arc<[Interval]>,
    rt: tokio::runtime::Runtime,
    shutdown: Arc<AtomicBool>,
    agg: CandleAggregator,
    instruments: Instruments,
    pending: Pending,
    /// The flush being written, and the ring records of an acknowledged one still to commit.
    inflight: Option<InFlight>,
    to_commit: Option<(u64, usize)>,
    /// The tick buffer of the last acknowledged flush, for the next one.
    spare: Vec<(u64, Tick)>,
    stats: WriterStats,
    /// A copy of `stats` for other threads (the metrics endpoint), refreshed after each acknowledged flush.
    shared_stats: Option<Arc<std::sync::Mutex<WriterStats>>>,
    backoff: Backoff,
    /// (epoch, end): records of `epoch` below `end` are already stored.
    stored: Option<(u64, u64)>,
    last_rev: u64,
    /// The candle clock: the newest event time read, plus the wall time since a record was last read.
    max_event_ns: u64,
    last_read: Instant,
    last_clock: Instant,
    last_stats: Instant,
}

impl Writer {
    /// # Errors
    /// An invalid setting (naming the key), or no async runtime.
    pub fn new(
        ring: &RingConfig,
        cfg: ClickhouseConfig,
        password: &str,
    ) -> Result<Self, SinkError> {
        cfg.validate()?;
        ring.validate()?;
        if cfg.max_rows as u64 > ring.capacity / 2 {
            return Err(crate::config::ConfigError {
                key: "max_rows",
                message: format!(
                    "{} is more than half of ring.capacity ({}): the producer would stall while a batch fills",
                    cfg.max_rows, ring.capacity
                ),
            }
            .into());
        }
        let mut ring = ring.clone();
        // Uncommitted in the ring: the batch in flight and the one being read behind it.
        ring.max_batch = cfg.max_rows.saturating_mul(2);
        let mut intervals: Vec<Interval> = cfg.candle_series.iter().map(|s| s.interval).collect();
        intervals.sort();
        intervals.dedup();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("clickhouse-io")
            .enable_all()
            .build()
            .map_err(SinkError::Runtime)?;
        let agg = CandleAggregator::new(cfg.candle_config()).map_err(|e| {
            crate::config::ConfigError { key: "candle_series", message: e.to_string() }
        })?;
        Ok(Self {
            store: Store::new(&cfg, password),
            tables: schema::all_tables(&intervals),
            intervals: intervals.into(),
            backoff: Backoff::new(
                Duration::from_millis(cfg.retry_min_ms),
                Duration::from_millis(cfg.retry_max_ms),
            ),
            cfg,
            ring,
            rt,
            shutdown: Arc::new(AtomicBool::new(false)),
            agg,
            instruments: Instruments::default(),
            pending: Pending::default(),
            inflight: None,
            to_commit: None,
            spare: Vec::new(),
            stats: WriterStats::default(),
            shared_stats: None,
            stored: None,
            last_rev: 0,
            max_event_ns: 0,
            last_read: Instant::now(),
            last_clock: Instant::now(),
            last_stats: Instant::now(),
        })
    }

    /// Set it to stop: the writer flushes what it read and returns [`Exit::Stopped`].
    pub fn shutdown_handle(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.shutdown)
    }

    /// Stops on SIGINT and SIGTERM.
    ///
    /// # Errors
    /// The handlers cannot be installed.
    pub fn stop_on_signals(&self) -> Result<(), SinkError> {
        use tokio::signal::unix::{signal, SignalKind};
        let _guard = self.rt.enter();
        let mut term = signal(SignalKind::terminate()).map_err(SinkError::Runtime)?;
        let mut int = signal(SignalKind::interrupt()).map_err(SinkError::Runtime)?;
        let flag = Arc::clone(&self.shutdown);
        self.rt.spawn(async move {
            tokio::select! {
                _ = term.recv() => tracing::info!("SIGTERM: flushing and stopping"),
                _ = int.recv() => tracing::info!("SIGINT: flushing and stopping"),
            }
            flag.store(true, Ordering::Relaxed);
        });
        Ok(())
    }

    pub fn stats(&self) -> &WriterStats {
        &self.stats
    }

    /// Keeps `shared` equal to [`Writer::stats`] as of the last acknowledged flush or retry.
    pub fn share_stats(&mut self, shared: Arc<std::sync::Mutex<WriterStats>>) {
        self.shared_stats = Some(shared);
    }

    fn publish_stats(&self) {
        if let Some(shared) = &self.shared_stats {
            *shared.lock().unwrap_or_else(|p| p.into_inner()) = self.stats.clone();
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    fn stopping(&self) -> bool {
        self.shutdown.load(Ordering::Relaxed)
    }

    /// Runs until the producer closes the ring or a stop is requested.
    ///
    /// # Errors
    /// An incompatible table, a ring that cannot be read, or a stop requested while ClickHouse was failing
    /// (the cursor then stays where ClickHouse last acknowledged).
    pub fn run(&mut self) -> Result<Exit, SinkError> {
        self.prepare_schema()?;
        let Some(mut consumer) = self.attach()? else { return Ok(Exit::Stopped) };
        let epoch = consumer.epoch();
        if !self.recover()? || !self.load_stored_end(epoch)? {
            return Ok(Exit::Stopped);
        }
        tracing::info!(
            ring = %self.ring.name, consumer = %self.cfg.consumer, epoch, cursor = consumer.cursor(),
            already_stored_below = self.stored.map_or(0, |s| s.1), database = %self.store.database(),
            "writing ticks, candles and latest prices to ClickHouse"
        );
        let exit = self.run_loop(&mut consumer);
        tracing::info!(stats = %self.stats, "writer stopped");
        exit
    }

    /// Creates or checks the tables, retrying while ClickHouse is unreachable.
    fn prepare_schema(&mut self) -> Result<(), SinkError> {
        loop {
            let store = self.store.clone();
            let tables = self.tables.clone();
            match self.rt.block_on(async move { store.ensure_schema(&tables).await }) {
                Ok(checked) => return checked,
                Err(e) => {
                    if !self.failed("creating the schema", &e)? {
                        return Err(SinkError::StoppedDuringOutage { last_error: e.to_string() });
                    }
                }
            }
        }
    }

    fn attach(&mut self) -> Result<Option<TickConsumer>, SinkError> {
        let opts = ConsumerOptions {
            name: self.cfg.consumer.clone(),
            policy: ConsumerPolicy::Gating,
            start: StartAt::Oldest,
        };
        let mut waited = false;
        loop {
            match Consumer::attach(&self.ring, opts.clone()) {
                Ok(c) => return Ok(Some(c)),
                Err(RingError::NotFound { path } | RingError::NotReady { path }) => {
                    if !waited {
                        tracing::info!(path = %path.display(), "waiting for the producer to create the ring");
                        waited = true;
                    }
                    if self.stopping() {
                        return Ok(None);
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Rebuilds candle state from stored ticks (see `recovery.rs`). `false` when stopped meanwhile.
    fn recover(&mut self) -> Result<bool, SinkError> {
        let window_ns = self.cfg.recovery_window_s.saturating_mul(1_000_000_000);
        loop {
            let mut agg = CandleAggregator::new(self.cfg.candle_config()).map_err(|e| {
                crate::config::ConfigError { key: "candle_series", message: e.to_string() }
            })?;
            let mut instruments = Instruments::default();
            let started = Instant::now();
            let store = self.store.clone();
            let fed =
                self.rt.block_on(recovery::recover(&store, window_ns, &mut instruments, &mut agg));
            match fed {
                Ok(fed) => {
                    if fed > 0 {
                        tracing::info!(
                            ticks = fed,
                            buckets = agg.buckets_held(),
                            ms = started.elapsed().as_millis() as u64,
                            "candle state rebuilt from stored ticks"
                        );
                    }
                    self.stats.recovered_ticks = fed;
                    self.agg = agg;
                    self.instruments = instruments;
                    return Ok(true);
                }
                Err(e) => {
                    if !self.failed("rebuilding candle state", &e)? {
                        return Ok(false);
                    }
                }
            }
        }
    }

    /// Asks how much of `epoch` is stored. `false` when stopped meanwhile.
    fn load_stored_end(&mut self, epoch: u64) -> Result<bool, SinkError> {
        loop {
            let store = self.store.clone();
            match self.rt.block_on(async move { store.stored_end(epoch).await }) {
                Ok(end) => {
                    self.stored = Some((epoch, end));
                    return Ok(true);
                }
                Err(e) => {
                    if !self.failed("reading the stored sequence", &e)? {
                        return Ok(false);
                    }
                }
            }
        }
    }

    /// Logs and counts a failure, then sleeps the backoff. `Ok(false)` when a stop was requested.
    fn failed(&mut self, what: &str, error: &clickhouse::error::Error) -> Result<bool, SinkError> {
        let kind = FailureKind::of(error);
        self.stats.failed(kind);
        let delay = self.backoff.next_delay();
        tracing::warn!(
            failure = %kind, attempt = self.backoff.failures(), retry_in_ms = delay.as_millis() as u64,
            pending_ticks = self.pending.rows(), "ClickHouse failed {what}: {} ({error}); retrying, ring cursor held",
            kind.hint()
        );
        let until = Instant::now() + delay;
        while Instant::now() < until {
            if self.stopping() {
                return Ok(false);
            }
            std::thread::sleep(Duration::from_millis(20).min(until - Instant::now()));
        }
        self.stats.retries += 1;
        self.publish_stats();
        Ok(true)
    }

    fn run_loop(&mut self, consumer: &mut TickConsumer) -> Result<Exit, SinkError> {
        let mut drained = false;
        loop {
            if consumer.entries().len() > self.instruments.known() {
                self.instruments.sync(consumer.entries());
            }
            if self.inflight.as_ref().is_some_and(|f| f.handle.is_finished()) {
                self.wait_inflight()?;
            }
            let epoch = consumer.epoch();
            if self.stopping() && self.to_commit.is_none() {
                // Finish the flush in flight, write what was read, commit, stop.
                if self.inflight.is_some() {
                    self.wait_inflight()?;
                    continue;
                }
                if !drained {
                    drained = true;
                    self.start_flush(epoch);
                    continue;
                }
                return Ok(Exit::Stopped);
            }
            match consumer.poll()? {
                Read::Batch(batch) => {
                    let first = batch.first_seq();
                    if let Some((seq, n)) = self.to_commit.take() {
                        // The cursor moves over exactly the records ClickHouse acknowledged.
                        if seq == first {
                            if let Err(e) = batch.commit_first(n) {
                                self.stats.overwritten += 1;
                                tracing::error!(error = %e, "ring records were overwritten while being written; rows from that batch may be wrong in ClickHouse");
                            }
                        }
                        continue;
                    }
                    let records = batch.records();
                    let view = records.len();
                    // Records before `start` are in the flush in flight or already processed.
                    let offset = self.inflight.as_ref().map_or(0, |f| f.job.records);
                    if self.pending.done == 0 {
                        self.pending.first_seq = first + offset as u64;
                    }
                    let start = offset + self.pending.done;
                    let room = self.cfg.max_rows.saturating_sub(self.pending.done);
                    let new = records.get(start..).unwrap_or(&[]);
                    let new = &new[..new.len().min(room)];
                    let wanted = new.len();
                    let processed = self.process(epoch, first + start as u64, new);
                    self.pending.done += processed;
                    if processed < wanted {
                        // A tick of an instrument this writer has not seen in the directory yet.
                        self.instruments.sync(consumer.entries());
                        continue;
                    }
                    if processed == 0 {
                        // Nothing new in view: the view ends (ring end, batch limit) although more exists?
                        self.pending.capped = consumer.published() > first + view as u64;
                    }
                    if self.due() {
                        if self.inflight.is_some() {
                            // Flushes are sequential: the next starts once the previous is acknowledged.
                            self.wait_inflight()?;
                        } else {
                            self.start_flush(epoch);
                        }
                    } else if processed == 0 {
                        std::thread::sleep(IDLE_SLEEP);
                    }
                }
                Read::Empty => {
                    if self.inflight.is_none()
                        && (self.due() || self.last_clock.elapsed() >= self.cfg.flush_interval())
                    {
                        self.start_flush(epoch);
                    } else {
                        std::thread::sleep(IDLE_SLEEP);
                    }
                }
                Read::Gap(gap) => {
                    if let GapCause::NewEpoch { old, new } = gap.cause {
                        tracing::info!(
                            old_epoch = old,
                            epoch = new,
                            "producer restarted; following its new ring"
                        );
                        self.instruments.reset_ring();
                        if !self.load_stored_end(new)? {
                            return Ok(Exit::Stopped);
                        }
                    }
                    if gap.missed > 0 {
                        self.stats.ring_missed += gap.missed;
                        tracing::error!(cause = ?gap.cause, missed = gap.missed, resume_at = gap.resume_at,
                            "the ring lost records before this writer read them (was it stopped longer than ring.heartbeat_timeout_ms while the ring filled?)");
                        // The records of the batch being accumulated are gone from the ring.
                        self.pending.drop_records();
                    }
                }
                Read::Closed => {
                    self.wait_inflight()?;
                    self.agg.close_all(&mut |e| {
                        collect(e, &mut self.pending, &mut self.stats, &mut self.last_rev);
                    });
                    self.start_flush(epoch);
                    self.wait_inflight()?;
                    tracing::info!("producer closed the ring and everything is stored");
                    return Ok(Exit::ProducerClosed);
                }
            }
            if self.last_stats.elapsed() >= STATS_EVERY {
                self.last_stats = Instant::now();
                tracing::info!(stats = %self.stats, "clickhouse writer");
            }
        }
    }

    /// Feeds records `first..` to the aggregator and the latest prices and copies them into the pending
    /// batch; stops at a tick whose instrument is not in the directory copy yet. Returns how many were
    /// processed.
    fn process(&mut self, epoch: u64, first: u64, records: &[Tick]) -> usize {
        let skip_below = match self.stored {
            Some((e, end)) if e == epoch => end,
            _ => 0,
        };
        for (i, (seq, tick)) in (first..).zip(records).enumerate() {
            if seq < skip_below {
                self.stats.already_stored += 1;
                self.stats.ticks_read += 1;
                continue;
            }
            let Some(id) = self.instruments.of_ring(tick.instrument_id) else { return i };
            let (symbol, mic) = self.instruments.name(id);
            self.pending.bytes += crate::rows::TickRow::wire_bytes(symbol, mic);
            self.pending.mark();
            self.stats.ticks_read += 1;
            self.max_event_ns = self.max_event_ns.max(tick.ts_event_ns);
            let mut t = *tick;
            t.instrument_id = id;
            self.pending.ticks.push((seq, t));
            self.pending.offer_latest(id, epoch, seq, &t);
            let (pending, stats, rev) = (&mut self.pending, &mut self.stats, &mut self.last_rev);
            self.agg.on_tick(seq, &t, &mut |e| collect(e, pending, stats, rev));
        }
        if !records.is_empty() {
            self.last_read = Instant::now();
        }
        records.len()
    }

    fn due(&self) -> bool {
        let p = &self.pending;
        p.done >= self.cfg.max_rows
            || p.bytes >= self.cfg.max_bytes
            || p.capped
            || p.since.is_some_and(|t| t.elapsed() >= self.cfg.flush_interval())
    }

    /// Closes candles the clock passed, then hands the pending batch (ticks, candles, latest prices and the
    /// ring records they came from) to ClickHouse in the background. At most one flush is in flight.
    fn start_flush(&mut self, epoch: u64) {
        // Feed time, not wall time: a writer catching up after an outage, or a replay of an old day, closes
        // buckets as the ticks' own time passes; when the feed goes quiet the clock runs on with the wall.
        let quiet = u64::try_from(self.last_read.elapsed().as_nanos()).unwrap_or(u64::MAX);
        let now = self.max_event_ns.saturating_add(quiet);
        self.last_clock = Instant::now();
        let (pending, stats, rev) = (&mut self.pending, &mut self.stats, &mut self.last_rev);
        self.agg.on_clock(now, &mut |e| collect(e, pending, stats, rev));
        if self.pending.is_empty() && self.pending.done == 0 {
            self.pending.capped = false;
            return;
        }
        let spare = std::mem::take(&mut self.spare);
        let job = Arc::new(self.pending.take_job(epoch, self.instruments.names(), spare));
        self.spawn(job, Done::default());
    }

    fn spawn(&mut self, job: Arc<FlushJob>, done: Done) {
        let handle = self.rt.spawn(write_job(
            self.store.clone(),
            Arc::clone(&self.intervals),
            Arc::clone(&job),
            done,
        ));
        self.inflight = Some(InFlight { job, started: Instant::now(), handle });
    }

    /// Waits until ClickHouse acknowledged the flush in flight, retrying what failed with backoff; its ring
    /// records are committed by the next poll.
    ///
    /// # Errors
    /// A stop was requested while ClickHouse was failing.
    fn wait_inflight(&mut self) -> Result<(), SinkError> {
        while let Some(InFlight { job, started, mut handle }) = self.inflight.take() {
            let (done, result) = match self.rt.block_on(&mut handle) {
                Ok(outcome) => outcome,
                Err(e) => (Done::default(), Err(Error::Custom(format!("insert task failed: {e}")))),
            };
            match result {
                Ok(()) => {
                    if self.backoff.failures() > 0 {
                        tracing::info!(
                            failures = self.backoff.failures(),
                            "ClickHouse acknowledged again; batch written"
                        );
                    }
                    self.backoff.reset();
                    tracing::debug!(
                        ticks = done.ticks,
                        candles = done.candles,
                        latest = done.latest,
                        ms = started.elapsed().as_millis() as u64,
                        "flush acknowledged"
                    );
                    self.stats.flushes += 1;
                    self.stats.ticks_written += done.ticks;
                    self.stats.candles_written += done.candles;
                    self.stats.latest_written += done.latest;
                    self.stats.candle_late_reemits = self.agg.stats().reemitted;
                    self.publish_stats();
                    if job.records > 0 {
                        self.to_commit = Some((job.first_seq, job.records));
                    }
                    if let Ok(job) = Arc::try_unwrap(job) {
                        self.spare = job.ticks;
                    }
                }
                Err(e) => {
                    if !self.failed("writing a batch", &e)? {
                        return Err(SinkError::StoppedDuringOutage { last_error: e.to_string() });
                    }
                    self.spawn(job, done);
                }
            }
        }
        Ok(())
    }
}

/// The flush ClickHouse is writing while the writer reads on.
#[derive(Debug)]
struct InFlight {
    job: Arc<FlushJob>,
    started: Instant,
    handle: tokio::task::JoinHandle<(Done, clickhouse::error::Result<()>)>,
}

/// Which parts of a flush ClickHouse acknowledged (a retry redoes only the rest) and their row counts.
#[derive(Debug, Default)]
struct Done {
    candle_tables: Vec<Interval>,
    latest_done: bool,
    ticks_done: bool,
    candles: u64,
    latest: u64,
    ticks: u64,
}

enum Part {
    Candles(Interval),
    Latest,
}

/// Candle tables and latest prices concurrently, then, once all of them are acknowledged, the ticks: stored
/// ticks imply their candles are stored, which is what recovery relies on.
async fn write_job(
    store: Store,
    intervals: Arc<[Interval]>,
    job: Arc<FlushJob>,
    mut done: Done,
) -> (Done, clickhouse::error::Result<()>) {
    let mut set = tokio::task::JoinSet::new();
    for &interval in intervals.iter() {
        if done.candle_tables.contains(&interval) {
            continue;
        }
        if job.candles_of(interval).next().is_none() {
            done.candle_tables.push(interval);
            continue;
        }
        let (store, job) = (store.clone(), Arc::clone(&job));
        set.spawn(async move {
            let written =
                store.insert_candles(interval, job.candles_of(interval), &job.names).await;
            (Part::Candles(interval), written)
        });
    }
    if !done.latest_done {
        if job.latest.is_empty() {
            done.latest_done = true;
        } else {
            let (store, job) = (store.clone(), Arc::clone(&job));
            set.spawn(
                async move { (Part::Latest, store.insert_latest(&job.latest, &job.names).await) },
            );
        }
    }
    let mut failed = None;
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok((Part::Candles(interval), Ok(n))) => {
                done.candle_tables.push(interval);
                done.candles += n;
            }
            Ok((Part::Latest, Ok(n))) => {
                done.latest_done = true;
                done.latest += n;
            }
            Ok((_, Err(e))) => {
                failed.get_or_insert(e);
            }
            Err(e) => {
                failed.get_or_insert(Error::Custom(format!("insert task failed: {e}")));
            }
        }
    }
    if let Some(e) = failed {
        return (done, Err(e));
    }
    if !done.ticks_done {
        if !job.ticks.is_empty() {
            match store.insert_ticks(job.epoch, &job.ticks, &job.names).await {
                Ok(n) => done.ticks += n,
                Err(e) => return (done, Err(e)),
            }
        }
        done.ticks_done = true;
    }
    (done, Ok(()))
}

fn collect(e: CandleEvent, pending: &mut Pending, stats: &mut WriterStats, last_rev: &mut u64) {
    match e {
        CandleEvent::Update(candle) => {
            // Last write wins in the candle tables: a revision above every earlier one of this process and,
            // being wall-clock nanoseconds, of any earlier run.
            *last_rev = realtime_ns().max(*last_rev + 1);
            pending.candles.push((candle, *last_rev));
            pending.mark();
        }
        CandleEvent::Skipped(s) => match s.reason {
            SkipReason::TooLate => {
                stats.candle_too_late += 1;
                tracing::warn!(seq = s.seq, series = %s.series, bucket = %s.bucket, "tick too late for its candle (past retention); stored in ticks only");
            }
            SkipReason::UnmatchedCancel => stats.candle_unmatched_cancels += 1,
            SkipReason::NegativeSize => {}
        },
    }
}

fn realtime_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}
