//! The writer process: reads the [`TickStream`] from where the store ends, accumulates a batch (ticks,
//! candles, latest prices), hands it to ClickHouse in the background (see `flush.rs`) while reading the
//! next one behind it, one flush in flight at a time.
//!
//! Why nothing is lost: the writer never holds the producer back (it is not a gating consumer); whatever it
//! has not stored yet is in the journal, and after any stop it resumes from the store's progress row.
//! Why nothing is stored twice: the resume point is the last acknowledged flush, rows a crash left beyond
//! it are deleted on start, and a retried insert first checks whether it had landed (`flush.rs`).

use crate::config::{ClickhouseConfig, ConfigError};
use crate::error::SinkError;
use crate::flush::{write_job, Done, InFlight, Target};
use crate::pending::{FlushJob, Pending};
use crate::recovery;
use crate::retry::{Next, Retry};
use crate::schema::{self, TableSpec};
use crate::stats::WriterStats;
use crate::store::Store;
use clickhouse::error::Error;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tickring_engine::candles::{CandleAggregator, CandleEvent, Interval, SkipReason};
use tickring_engine::Tick;
use tickring_ipc::RingConfig;
use tickring_journal::JournalConfig;
use tickring_sink_core::{Event, Instruments, Names, Position, Start, StreamConfig, TickStream};

/// How long one wait for new ticks lasts.
const WAIT: Duration = Duration::from_millis(5);
/// How often the counters are logged (at debug level: `up` keeps its terminal quiet).
const STATS_EVERY: Duration = Duration::from_secs(10);

/// Why [`Writer::run`] returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// The producer shut down and everything it published is stored.
    ProducerClosed,
    /// SIGINT/SIGTERM (or [`Writer::shutdown_handle`]): everything read so far is stored.
    Stopped,
}

#[derive(Debug)]
pub struct Writer {
    cfg: ClickhouseConfig,
    source: StreamConfig,
    store: Store,
    tables: Vec<TableSpec>,
    target: Target,
    rt: tokio::runtime::Runtime,
    shutdown: Arc<AtomicBool>,
    retry: Retry,
    agg: CandleAggregator,
    pending: Pending,
    inflight: Option<InFlight>,
    /// The tick buffer of the last acknowledged flush, for the next one.
    spare: Vec<(u64, Tick)>,
    stats: WriterStats,
    /// A copy of `stats` for other threads (the metrics endpoint), refreshed after each acknowledged flush.
    shared_stats: Option<Arc<Mutex<WriterStats>>>,
    last_rev: u64,
    last_flush: Instant,
    last_stats: Instant,
}

impl Writer {
    /// # Errors
    /// An invalid setting (naming the key), or no async runtime.
    pub fn new(
        ring: &RingConfig,
        journal: &JournalConfig,
        cfg: ClickhouseConfig,
        password: &str,
    ) -> Result<Self, SinkError> {
        cfg.validate()?;
        ring.validate()?;
        let mut intervals: Vec<Interval> = cfg.candle_series.iter().map(|s| s.interval).collect();
        intervals.sort();
        intervals.dedup();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("clickhouse-io")
            .enable_all()
            .build()
            .map_err(SinkError::Runtime)?;
        let store = Store::new(&cfg, password);
        let shutdown = Arc::new(AtomicBool::new(false));
        Ok(Self {
            source: StreamConfig {
                ring: ring.clone(),
                journal: journal.clone(),
                consumer: cfg.consumer.clone(),
                max_batch: ring.max_batch,
            },
            target: Target {
                store: store.clone(),
                intervals: intervals.clone().into(),
                consumer: Arc::from(cfg.consumer.as_str()),
            },
            store,
            tables: schema::all_tables(&intervals),
            retry: Retry::new(
                Duration::from_millis(cfg.retry_min_ms),
                Duration::from_millis(cfg.retry_max_ms),
                Arc::clone(&shutdown),
            ),
            agg: new_aggregator(&cfg)?,
            cfg,
            rt,
            shutdown,
            pending: Pending::default(),
            inflight: None,
            spare: Vec::new(),
            stats: WriterStats::default(),
            shared_stats: None,
            last_rev: 0,
            last_flush: Instant::now(),
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
        crate::signals::stop_on_signals(&self.rt, Arc::clone(&self.shutdown))
    }

    pub fn stats(&self) -> &WriterStats {
        &self.stats
    }

    /// Keeps `shared` equal to [`Writer::stats`] as of the last acknowledged flush or retry.
    pub fn share_stats(&mut self, shared: Arc<Mutex<WriterStats>>) {
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
    /// An incompatible table, a permanent ClickHouse error, a journal or ring that cannot be read, or a stop
    /// requested while ClickHouse was failing (nothing unacknowledged counts as stored).
    pub fn run(&mut self) -> Result<Exit, SinkError> {
        let Some(()) = self.prepare_schema()? else { return Ok(Exit::Stopped) };
        let Some(resume) = self.resume_point()? else { return Ok(Exit::Stopped) };
        let start = match resume {
            Some((epoch, seq)) => Start::At(Position { epoch, seq }),
            None => Start::Oldest,
        };
        let mut stream = TickStream::new(self.source.clone(), start);
        if let Some(resume) = resume {
            let Some(()) = self.recover(resume, stream.instruments_mut())? else {
                return Ok(Exit::Stopped);
            };
        }
        tracing::info!(
            ring = %self.source.ring.name, consumer = %self.cfg.consumer, resume = ?resume,
            database = %self.store.database(), "writing ticks, candles and latest prices to ClickHouse"
        );
        let exit = self.run_loop(&mut stream);
        tracing::info!(stats = %self.stats, "writer stopped");
        exit
    }

    /// Runs `op` on the runtime through the retry loop; `None` when stopped meanwhile.
    fn block_on_retry<T, F>(
        &mut self,
        what: &str,
        op: impl Fn(Store) -> F,
    ) -> Result<Option<T>, SinkError>
    where
        F: std::future::Future<Output = clickhouse::error::Result<T>>,
    {
        let (rt, store) = (&self.rt, &self.store);
        let result = self.retry.run(what, &mut self.stats, || rt.block_on(op(store.clone())));
        self.publish_stats();
        result
    }

    /// Creates or checks the tables.
    fn prepare_schema(&mut self) -> Result<Option<()>, SinkError> {
        let tables = self.tables.clone();
        let checked = self.block_on_retry("creating the schema", |store| {
            let tables = tables.clone();
            async move { store.ensure_schema(&tables).await }
        })?;
        checked.map(|c| c.map(Some)).unwrap_or(Ok(None))
    }

    /// Where the store ends, with rows a crash left beyond it deleted. `Some(None)`: an empty store.
    #[allow(clippy::type_complexity)]
    fn resume_point(&mut self) -> Result<Option<Option<(u64, u64)>>, SinkError> {
        let consumer = self.cfg.consumer.clone();
        let Some(point) = self.block_on_retry("reading the resume point", |store| {
            let consumer = consumer.clone();
            async move { store.resume_point(&consumer).await }
        })?
        else {
            return Ok(None);
        };
        let Some((epoch, seq)) = point else { return Ok(Some(None)) };
        let Some(removed) = self
            .block_on_retry("removing unacknowledged rows", |store| async move {
                store.remove_unacknowledged(epoch, seq).await
            })?
        else {
            return Ok(None);
        };
        if removed > 0 {
            tracing::warn!(epoch, seq, rows = removed, "deleted tick rows a crash left beyond the last acknowledged flush; they are written again from the journal");
        }
        Ok(Some(point))
    }

    /// Rebuilds candle state from stored ticks (see `recovery.rs`). `None` when stopped meanwhile.
    fn recover(
        &mut self,
        resume: (u64, u64),
        instruments: &mut Instruments,
    ) -> Result<Option<()>, SinkError> {
        let window_ns = self.cfg.recovery_window_s.saturating_mul(1_000_000_000);
        loop {
            let mut agg = new_aggregator(&self.cfg)?;
            let mut ids = instruments.clone();
            let started = Instant::now();
            let store = self.store.clone();
            let fed =
                self.rt.block_on(recovery::recover(&store, window_ns, resume, &mut ids, &mut agg));
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
                    *instruments = ids;
                    return Ok(Some(()));
                }
                Err(e) => {
                    match self.retry.failed("rebuilding candle state", &e, &mut self.stats)? {
                        Next::Again => {}
                        Next::Stopped => return Ok(None),
                    }
                }
            }
        }
    }

    fn run_loop(&mut self, stream: &mut TickStream) -> Result<Exit, SinkError> {
        loop {
            if self.inflight.as_ref().is_some_and(|f| f.handle.is_finished()) {
                self.wait_inflight()?;
            }
            if self.stopping() {
                // Finish the flush in flight, write what was read, stop.
                self.wait_inflight()?;
                self.start_flush(stream.instruments().names(), stream.clock().now_ns());
                self.wait_inflight()?;
                return Ok(Exit::Stopped);
            }
            match stream.next(WAIT)? {
                Event::Ticks { epoch, first_seq, ticks, instruments } => {
                    self.process(epoch, first_seq, ticks, instruments);
                    if self.due() {
                        let names = instruments.names();
                        let now = stream.clock().now_ns();
                        if self.inflight.is_some() {
                            self.wait_inflight()?;
                        }
                        self.start_flush(names, now);
                    }
                }
                Event::NewEpoch { epoch, previous } => {
                    // A flush holds one epoch: write the old one's ticks first.
                    if !self.pending.ticks.is_empty() {
                        self.wait_inflight()?;
                        self.start_flush(stream.instruments().names(), stream.clock().now_ns());
                        self.wait_inflight()?;
                    }
                    tracing::info!(
                        epoch,
                        ?previous,
                        from = stream.reading_from().as_str(),
                        "writing epoch"
                    );
                    self.pending.epoch = epoch;
                }
                Event::FeedGap { epoch, gap } => {
                    tracing::warn!(
                        epoch,
                        ?gap,
                        "the live feed was down: no trades exist for that time"
                    );
                }
                Event::Gap(gap) => {
                    self.stats.ring_missed += gap.count();
                    tracing::error!(
                        cause = gap.cause.as_str(),
                        epoch = gap.epoch,
                        from = gap.from,
                        to = gap.to,
                        "ticks lost before this writer stored them"
                    );
                }
                Event::Idle => {
                    if self.inflight.is_none()
                        && (self.due() || self.last_flush.elapsed() >= self.cfg.flush_interval())
                    {
                        self.start_flush(stream.instruments().names(), stream.clock().now_ns());
                    }
                }
                Event::Closed => {
                    self.wait_inflight()?;
                    self.agg.close_all(&mut |e| {
                        collect(e, &mut self.pending, &mut self.stats, &mut self.last_rev);
                    });
                    self.start_flush(stream.instruments().names(), None);
                    self.wait_inflight()?;
                    tracing::info!("producer closed the ring and everything is stored");
                    return Ok(Exit::ProducerClosed);
                }
            }
            if self.last_stats.elapsed() >= STATS_EVERY {
                self.last_stats = Instant::now();
                tracing::debug!(stats = %self.stats, lag = stream.lag(), from = stream.reading_from().as_str(), "clickhouse writer");
            }
        }
    }

    /// Feeds the ticks (sink ids already) to the aggregator and the latest prices and copies them into the
    /// pending batch.
    fn process(&mut self, epoch: u64, first_seq: u64, ticks: &[Tick], instruments: &Instruments) {
        self.pending.epoch = epoch;
        for (seq, tick) in (first_seq..).zip(ticks) {
            let (symbol, mic) = instruments.name(tick.instrument_id);
            self.pending.bytes += crate::rows::TickRow::wire_bytes(symbol, mic);
            self.pending.mark();
            self.pending.ticks.push((seq, *tick));
            self.pending.offer_latest(tick.instrument_id, epoch, seq, tick);
            let (pending, stats, rev) = (&mut self.pending, &mut self.stats, &mut self.last_rev);
            self.agg.on_tick(seq, tick, &mut |e| collect(e, pending, stats, rev));
        }
        self.stats.ticks_read += ticks.len() as u64;
        self.pending.end_seq = Some(first_seq + ticks.len() as u64);
    }

    fn due(&self) -> bool {
        let p = &self.pending;
        p.rows() >= self.cfg.max_rows
            || p.bytes >= self.cfg.max_bytes
            || p.since.is_some_and(|t| t.elapsed() >= self.cfg.flush_interval())
    }

    /// Closes candles the feed clock passed, then hands the pending batch to ClickHouse in the background.
    /// At most one flush is in flight.
    fn start_flush(&mut self, names: Arc<Names>, feed_now_ns: Option<u64>) {
        // Feed time, not wall time: a writer catching up after an outage, or a replay of an old day, closes
        // buckets as the ticks' own time passes.
        self.last_flush = Instant::now();
        if let Some(now) = feed_now_ns {
            let (pending, stats, rev) = (&mut self.pending, &mut self.stats, &mut self.last_rev);
            self.agg.on_clock(now, &mut |e| collect(e, pending, stats, rev));
        }
        if self.pending.is_empty() && self.pending.end_seq.is_none() {
            return;
        }
        let spare = std::mem::take(&mut self.spare);
        let job = Arc::new(self.pending.take_job(names, spare));
        self.spawn(job, Done::default());
    }

    fn spawn(&mut self, job: Arc<FlushJob>, done: Done) {
        let handle = self.rt.spawn(write_job(self.target.clone(), Arc::clone(&job), done));
        self.inflight = Some(InFlight { job, started: Instant::now(), handle });
    }

    /// Waits until ClickHouse acknowledged the flush in flight, retrying what failed.
    ///
    /// # Errors
    /// A permanent failure, or a stop requested while ClickHouse was failing.
    fn wait_inflight(&mut self) -> Result<(), SinkError> {
        while let Some(InFlight { job, started, mut handle }) = self.inflight.take() {
            let (done, result) = match self.rt.block_on(&mut handle) {
                Ok(outcome) => outcome,
                Err(e) => (Done::default(), Err(Error::Custom(format!("insert task failed: {e}")))),
            };
            match result {
                Ok(()) => {
                    self.retry.succeeded();
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
                    if let Ok(job) = Arc::try_unwrap(job) {
                        self.spare = job.ticks;
                    }
                }
                Err(e) => {
                    let next = self.retry.failed("writing a batch", &e, &mut self.stats);
                    self.publish_stats();
                    match next? {
                        Next::Again => self.spawn(job, done),
                        Next::Stopped => {
                            return Err(SinkError::StoppedDuringOutage {
                                last_error: e.to_string(),
                            })
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

fn new_aggregator(cfg: &ClickhouseConfig) -> Result<CandleAggregator, SinkError> {
    CandleAggregator::new(cfg.candle_config())
        .map_err(|e| ConfigError { key: "candle_series", message: e.to_string() }.into())
}

fn collect(e: CandleEvent, pending: &mut Pending, stats: &mut WriterStats, last_rev: &mut u64) {
    match e {
        CandleEvent::Update(candle) => {
            // Last write wins in the candle tables: a revision above every earlier one of this process and,
            // being wall-clock nanoseconds, of any earlier run.
            *last_rev = tickring_ipc::clock::realtime_ns().max(*last_rev + 1);
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
