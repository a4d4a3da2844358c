//! Shared by the integration tests: a real ClickHouse server (started by scripts/clickhouse.sh), a real
//! ring, the fixture stream.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;
use tickring_engine::{InstrumentEntry, Tick};
use tickring_ipc::{Producer, RingConfig};
use tickring_sink_clickhouse::fixture::INSTRUMENTS;
use tickring_sink_clickhouse::ClickhouseConfig;

static SCRIPT_LOCK: Mutex<()> = Mutex::new(());

pub fn project_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("project root")
}

/// Runs `scripts/clickhouse.sh ACTION` for the server on `http_port`; panics with its output on failure.
pub fn server(action: &str, http_port: u16) {
    let _guard = SCRIPT_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let mut cmd = Command::new(project_root().join("scripts/clickhouse.sh"));
    cmd.arg(action);
    if http_port != 18123 {
        let home = project_root().join(format!("var/clickhouse-{http_port}"));
        cmd.env("CLICKHOUSE_HTTP_PORT", http_port.to_string())
            .env("CLICKHOUSE_TCP_PORT", (http_port + 877).to_string())
            .env("CLICKHOUSE_HOME", home);
    }
    let out = cmd.output().expect("scripts/clickhouse.sh runs");
    assert!(
        out.status.success(),
        "scripts/clickhouse.sh {action} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A ring of its own for one test; removes its files on drop.
pub struct TestRing {
    pub cfg: RingConfig,
}

impl TestRing {
    pub fn new(name: &str) -> Self {
        let cfg = RingConfig {
            name: format!("{name}-{}", std::process::id()),
            capacity: 1 << 18,
            ..RingConfig::default()
        };
        let _ = std::fs::remove_file(cfg.segment_path());
        let _ = std::fs::remove_file(cfg.lock_path());
        Self { cfg }
    }

    pub fn producer(&self) -> Producer<Tick, InstrumentEntry> {
        let mut p = Producer::<Tick, InstrumentEntry>::create(&self.cfg).unwrap();
        for (sym, ex) in INSTRUMENTS {
            p.push_entry(&InstrumentEntry::new(sym, ex).unwrap()).unwrap();
        }
        p
    }
}

impl Drop for TestRing {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(self.cfg.segment_path());
        let _ = std::fs::remove_file(self.cfg.lock_path());
    }
}

/// Publishes `ticks` in chunks of `chunk`, pausing `pause` between chunks (a live-looking stream).
pub fn publish(
    p: &mut Producer<Tick, InstrumentEntry>,
    ticks: &[Tick],
    chunk: usize,
    pause: Duration,
) {
    for part in ticks.chunks(chunk) {
        let now = Producer::<Tick, InstrumentEntry>::now_ns();
        let stamped: Vec<Tick> = part.iter().map(|t| Tick { ts_publish_ns: now, ..*t }).collect();
        p.publish_batch(&stamped);
        std::thread::sleep(pause);
    }
}

/// Writer settings for a test database: small batches so a test sees many flushes, an hour of grace so
/// candles close only on later ticks and at the end, as offline, and versions can be compared exactly.
pub fn writer_config(database: &str, http_port: u16) -> ClickhouseConfig {
    ClickhouseConfig {
        url: format!("http://127.0.0.1:{http_port}"),
        database: database.into(),
        consumer: "ch-test".into(),
        max_rows: 5_000,
        flush_interval_ms: 200,
        retry_min_ms: 50,
        retry_max_ms: 1_000,
        request_timeout_ms: 5_000,
        candle_grace_ms: 3_600_000,
        ..ClickhouseConfig::default()
    }
}

/// Drops the test database (a fresh start for each run).
pub fn drop_database(cfg: &ClickhouseConfig) {
    let database = &cfg.database;
    // A client of its own: pooled connections belong to the runtime that opened them.
    let store = tickring_sink_clickhouse::Store::new(cfg, "");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(
        store.server_client().query(&format!("DROP DATABASE IF EXISTS `{database}`")).execute(),
    )
    .unwrap();
}

pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
}

/// Logs of the writer on stderr (shown for failing tests; RUST_LOG picks the level, default info).
pub fn init_logs() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_test_writer()
        .try_init();
}
