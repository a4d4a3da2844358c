//! `tickring bench clickhouse`: rows per second sustained into a real server with candles on, and the time
//! from a tick's publication to its visibility in ClickHouse (polling `max(seq)`), in the JSON shape of the
//! other tickring benchmarks. A run whose stored counts are wrong reports an error, not numbers.

use crate::config::ClickhouseConfig;
use crate::fixture::{fixture_ticks, FixtureSpec, INSTRUMENTS};
use crate::writer::{Exit, Writer};
use crate::{verify, SinkError, Store};
use hdrhistogram::Histogram;
use serde::Serialize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tickring_engine::{InstrumentEntry, Tick};
use tickring_ipc::{Producer, RingConfig};
use tickring_journal::{FsyncPolicy, JournalConfig, JournalWriter};

/// One measured case.
#[derive(Clone, Debug, Serialize)]
pub struct BenchResult {
    pub name: String,
    pub p50_ns: u64,
    pub p90_ns: u64,
    pub p99_ns: u64,
    pub p999_ns: u64,
    pub p9999_ns: u64,
    pub max_ns: u64,
    pub throughput_per_s: f64,
}

/// A benchmark run.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub scenario: String,
    pub results: Vec<BenchResult>,
}

/// What goes wrong in a benchmark run.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error(transparent)]
    Sink(#[from] SinkError),
    #[error("ring: {0}")]
    Ring(#[from] tickring_ipc::RingError),
    #[error("benchmark result is wrong: {0}")]
    Wrong(String),
    #[error("the writer thread panicked")]
    Panicked,
}

/// Publication times of the ticks, by chunk: (first sequence, publish ns).
type Published = Arc<Mutex<Vec<(u64, u64)>>>;

/// Runs both cases: as fast as the producer can publish, and paced at `rate` ticks/s.
///
/// # Errors
/// The writer failed, or ClickHouse does not hold exactly the published ticks afterwards.
pub fn run(base: &ClickhouseConfig, quick: bool) -> Result<Report, BenchError> {
    let (max_ticks, paced_secs) = if quick { (400_000, 3) } else { (3_000_000, 10) };
    let results = vec![
        case(base, "max_rate", max_ticks, None)?,
        case(base, "paced_100k_per_s", 100_000 * paced_secs, Some(100_000))?,
    ];
    Ok(Report { scenario: "clickhouse".into(), results })
}

/// The writer keeping up with a producer publishing `n` ticks as fast as it can (`max_rate`), named
/// `live` beside [`catch_up`].
///
/// # Errors
/// As [`run`].
pub fn live(base: &ClickhouseConfig, n: usize) -> Result<BenchResult, BenchError> {
    case(base, "live", n, None)
}

/// The writer started behind an outage: `n` ticks are already journaled (the ring, 4,096 records, holds
/// only the last of them) and the producer has stopped; throughput is `n` over the time from the writer's
/// start to its exit with every tick stored. Compare it with `max_rate`, the writer keeping up live.
///
/// # Errors
/// The writer failed, or ClickHouse does not hold exactly the journaled ticks afterwards.
pub fn catch_up(
    base: &ClickhouseConfig,
    journal_dir: &std::path::Path,
    n: usize,
) -> Result<BenchResult, BenchError> {
    let cfg = bench_config(base);
    let ring = RingConfig {
        name: format!("ch-catch-up-{}", std::process::id()),
        capacity: 4096,
        ..RingConfig::default()
    };
    let journal = JournalConfig {
        dir: journal_dir.to_owned(),
        fsync: FsyncPolicy::Never,
        retention_hours: 0,
        retention_bytes: 0,
        ..JournalConfig::default()
    };
    let ticks = bench_ticks(n);
    let mut producer = bench_producer(&ring)?;
    let mut log =
        JournalWriter::<Tick, InstrumentEntry>::open(&journal, &ring.name, producer.epoch())
            .map_err(|e| BenchError::Wrong(format!("opening the journal: {e}")))?;
    for (index, entry) in producer.entries().iter().enumerate() {
        log.push_entry(index as u32, entry)
            .map_err(|e| BenchError::Wrong(format!("journaling the directory: {e}")))?;
    }
    let now = Producer::<Tick, InstrumentEntry>::now_ns();
    for part in ticks.chunks(1_000) {
        let part: Vec<Tick> = part.iter().map(|t| Tick { ts_publish_ns: now, ..*t }).collect();
        log.append(producer.head(), &part)
            .map_err(|e| BenchError::Wrong(format!("journaling ticks: {e}")))?;
        producer.publish_batch(&part);
    }
    log.close().map_err(|e| BenchError::Wrong(format!("sealing the journal: {e}")))?;
    drop(producer);
    drop_bench_database(&cfg)?;
    let mut writer = Writer::new(&ring, &journal, cfg.clone(), &cfg.password)?;
    let started = Instant::now();
    let exit = writer.run()?;
    let elapsed = started.elapsed();
    remove_ring(&ring);
    if exit != Exit::ProducerClosed {
        return Err(BenchError::Wrong(format!("writer stopped early: {exit:?}")));
    }
    check_stored(&cfg, n)?;
    Ok(BenchResult {
        name: "catch-up".into(),
        p50_ns: 0,
        p90_ns: 0,
        p99_ns: 0,
        p999_ns: 0,
        p9999_ns: 0,
        max_ns: 0,
        throughput_per_s: n as f64 / elapsed.as_secs_f64(),
    })
}

/// The bench's own database and consumer name, so a run never touches the product's rows.
fn bench_config(base: &ClickhouseConfig) -> ClickhouseConfig {
    ClickhouseConfig {
        database: format!("{}_bench", base.database),
        consumer: "clickhouse-bench".into(),
        ..base.clone()
    }
}

/// `n` fixture trades spread over six hours.
fn bench_ticks(n: usize) -> Vec<Tick> {
    fixture_ticks(FixtureSpec { span_ns: 6 * 3_600_000_000_000, ..FixtureSpec::new(n) })
}

/// A fresh ring whose directory holds the fixture's instruments.
fn bench_producer(ring: &RingConfig) -> Result<Producer<Tick, InstrumentEntry>, BenchError> {
    remove_ring(ring);
    let mut producer = Producer::<Tick, InstrumentEntry>::create(ring)?;
    for (sym, ex) in INSTRUMENTS {
        let entry = InstrumentEntry::new(sym, ex)
            .ok_or_else(|| BenchError::Wrong(format!("symbol {sym}")))?;
        producer.push_entry(&entry)?;
    }
    Ok(producer)
}

fn remove_ring(ring: &RingConfig) {
    let _ = std::fs::remove_file(ring.segment_path());
    let _ = std::fs::remove_file(ring.lock_path());
}

fn current_thread_runtime() -> Result<tokio::runtime::Runtime, BenchError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| BenchError::Sink(SinkError::Runtime(e)))
}

fn drop_bench_database(cfg: &ClickhouseConfig) -> Result<(), BenchError> {
    // A client of its own per runtime: pooled connections belong to the runtime that opened them.
    let store = Store::new(cfg, &cfg.password);
    current_thread_runtime()?
        .block_on(
            store
                .server_client()
                .query(&format!("DROP DATABASE IF EXISTS `{}`", cfg.database))
                .execute(),
        )
        .map_err(|e| BenchError::Wrong(format!("dropping the bench database: {e}")))
}

/// ClickHouse holds exactly `n` distinct ticks.
fn check_stored(cfg: &ClickhouseConfig, n: usize) -> Result<(), BenchError> {
    let store = Store::new(cfg, &cfg.password);
    let counts = current_thread_runtime()?
        .block_on(verify::tick_counts(store.client()))
        .map_err(BenchError::Wrong)?;
    if counts.final_rows != n as u64 || counts.distinct != n as u64 {
        return Err(BenchError::Wrong(format!("{counts:?}, published {n}")));
    }
    Ok(())
}

fn case(
    base: &ClickhouseConfig,
    name: &str,
    n: usize,
    rate: Option<u64>,
) -> Result<BenchResult, BenchError> {
    let cfg = bench_config(base);
    let ring = RingConfig {
        name: format!("ch-bench-{}", std::process::id()),
        capacity: 1 << 21,
        ..RingConfig::default()
    };
    let ticks = bench_ticks(n);
    let mut producer = bench_producer(&ring)?;
    let epoch = producer.epoch();
    let mut writer = Writer::new(&ring, &Default::default(), cfg.clone(), &cfg.password)?;
    drop_bench_database(&cfg)?;
    let handle = std::thread::spawn(move || writer.run());
    // This ring has no journal: publishing before the writer is attached would leave it nothing to
    // read (a ring closed with nobody behind is removed).
    let attached = Instant::now();
    while !tickring_ipc::RingStatus::read::<Tick, InstrumentEntry>(&ring)
        .is_ok_and(|s| s.consumers.iter().any(|c| c.name == cfg.consumer && c.state == "active"))
    {
        if attached.elapsed() > Duration::from_secs(30) || handle.is_finished() {
            return Err(BenchError::Wrong("the writer did not attach to the ring".into()));
        }
        std::thread::sleep(Duration::from_millis(10));
    }

    let published: Published = Arc::new(Mutex::new(Vec::new()));
    let done = Arc::new(AtomicBool::new(false));
    let poller = spawn_poller(
        Store::new(&cfg, &cfg.password),
        epoch,
        n as u64,
        Arc::clone(&published),
        Arc::clone(&done),
    );

    let started = Instant::now();
    let chunk = 1_000;
    let mut buf = Vec::with_capacity(chunk);
    for (i, part) in ticks.chunks(chunk).enumerate() {
        if let Some(rate) = rate {
            let due = Duration::from_secs_f64((i * chunk) as f64 / rate as f64);
            if let Some(wait) = due.checked_sub(started.elapsed()) {
                std::thread::sleep(wait);
            }
        }
        let now = Producer::<Tick, InstrumentEntry>::now_ns();
        buf.clear();
        buf.extend(part.iter().map(|t| Tick { ts_publish_ns: now, ..*t }));
        if let Ok(mut p) = published.lock() {
            p.push(((i * chunk) as u64, now));
        }
        producer.publish_batch(&buf);
    }
    drop(producer);
    let exit = handle.join().map_err(|_| BenchError::Panicked)??;
    let elapsed = started.elapsed();
    done.store(true, Ordering::Relaxed);
    let hist = poller.join().map_err(|_| BenchError::Panicked)?;
    remove_ring(&ring);
    if exit != Exit::ProducerClosed {
        return Err(BenchError::Wrong(format!("writer stopped early: {exit:?}")));
    }
    check_stored(&cfg, n)?;
    let q = |p: f64| hist.value_at_quantile(p);
    Ok(BenchResult {
        name: name.into(),
        p50_ns: q(0.5),
        p90_ns: q(0.9),
        p99_ns: q(0.99),
        p999_ns: q(0.999),
        p9999_ns: q(0.9999),
        max_ns: hist.max(),
        throughput_per_s: n as f64 / elapsed.as_secs_f64(),
    })
}

/// Polls the newest visible sequence every 10 ms; each newly visible tick's latency is the poll time minus
/// its publication time (an upper bound, 10 ms resolution). `max(seq)` scans the table, which on two cores
/// would take CPU from the server being measured, so it runs only when the row count of the table's active
/// parts (metadata, no scan) changed since the last scan.
fn spawn_poller(
    store: Store,
    epoch: u64,
    n: u64,
    published: Published,
    done: Arc<AtomicBool>,
) -> std::thread::JoinHandle<Histogram<u64>> {
    std::thread::spawn(move || {
        let mut hist = Histogram::<u64>::new_with_bounds(1_000, 600_000_000_000, 3)
            .unwrap_or_else(|_| Histogram::new(3).unwrap_or_else(|_| unreachable!()));
        let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
            return hist;
        };
        let mut seen = 0u64;
        let mut scanned_at_rows = 0u64;
        while seen < n && !done.load(Ordering::Relaxed) {
            let parts = store
                .client()
                .query(
                    "SELECT sum(rows) FROM system.parts \
                     WHERE database = ? AND table = 'ticks' AND active",
                )
                .bind(store.database());
            let rows = rt.block_on(parts.fetch_one::<u64>()).unwrap_or(u64::MAX);
            if rows != scanned_at_rows {
                let q = store
                    .client()
                    .query("SELECT count(), max(seq) FROM ticks WHERE epoch = ?")
                    .bind(epoch);
                if let Ok((count, max)) = rt.block_on(q.fetch_one::<(u64, u64)>()) {
                    scanned_at_rows = rows;
                    let visible = if count == 0 { 0 } else { max + 1 };
                    let now = Producer::<Tick, InstrumentEntry>::now_ns();
                    if visible > seen {
                        if let Ok(chunks) = published.lock() {
                            for (i, &(first, at)) in chunks.iter().enumerate() {
                                let end = chunks.get(i + 1).map_or(n, |c| c.0);
                                let (lo, hi) = (first.max(seen), end.min(visible));
                                if hi > lo {
                                    let _ =
                                        hist.record_n(now.saturating_sub(at).max(1_000), hi - lo);
                                }
                            }
                        }
                        seen = visible;
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        hist
    })
}
