//! `tickring sink clickhouse` as a process against a real ClickHouse server (scripts/clickhouse.sh): killed
//! with SIGKILL twice while ticks stream in, restarted each time; afterwards every tick is stored exactly
//! once and every candle equals the offline aggregator's.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tickring_engine::candles::Series;
use tickring_engine::{InstrumentEntry, Tick};
use tickring_ipc::{Producer, RingConfig};
use tickring_sink_clickhouse::fixture::{fixture_ticks, FixtureSpec, INSTRUMENTS};
use tickring_sink_clickhouse::{verify, ClickhouseConfig, Store};

const DATABASE: &str = "tickring_test_kill";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn start_server() {
    let out = Command::new(root().join("scripts/clickhouse.sh")).arg("start").output().unwrap();
    assert!(
        out.status.success(),
        "scripts/clickhouse.sh start failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
}

fn spawn_writer(tuning: &Path, log: &Path) -> Child {
    let log = std::fs::OpenOptions::new().create(true).append(true).open(log).unwrap();
    Command::new(env!("CARGO_BIN_EXE_tickring"))
        .args(["--tuning", tuning.to_str().unwrap(), "sink", "clickhouse"])
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap()
}

fn stored_rows(store: &Store) -> u64 {
    block_on(store.client().query("SELECT count() FROM ticks").fetch_one::<u64>()).unwrap_or(0)
}

#[test]
fn kill_9_mid_stream_then_restart_loses_and_duplicates_nothing() {
    start_server();
    let ring = RingConfig {
        name: format!("ch-kill-{}", std::process::id()),
        capacity: 1 << 18,
        ..RingConfig::default()
    };
    let dir = std::env::temp_dir().join(format!("tickring-kill-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let tuning = dir.join("tuning.toml");
    let log = dir.join("writer.log");
    std::fs::write(
        &tuning,
        format!(
            "[ring]\nname = \"{}\"\ncapacity = {}\n\n[clickhouse]\ndatabase = \"{DATABASE}\"\nconsumer = \"ch-kill\"\n\
             max_rows = 5000\nflush_interval_ms = 100\nretry_min_ms = 50\nretry_max_ms = 500\ncandle_grace_ms = 3600000\n",
            ring.name, ring.capacity
        ),
    )
    .unwrap();
    let store = Store::new(
        &ClickhouseConfig { database: DATABASE.into(), ..ClickhouseConfig::default() },
        "",
    );
    block_on(store.server_client().query(&format!("DROP DATABASE IF EXISTS {DATABASE}")).execute())
        .unwrap();

    let ticks = fixture_ticks(FixtureSpec::new(150_000));
    let mut producer = Producer::<Tick, InstrumentEntry>::create(&ring).unwrap();
    for (sym, ex) in INSTRUMENTS {
        producer.push_entry(&InstrumentEntry::new(sym, ex).unwrap()).unwrap();
    }
    let mut writer = spawn_writer(&tuning, &log);
    let mut kills = 0;
    for (i, part) in ticks.chunks(2_000).enumerate() {
        let now = Producer::<Tick, InstrumentEntry>::now_ns();
        let stamped: Vec<Tick> = part.iter().map(|t| Tick { ts_publish_ns: now, ..*t }).collect();
        producer.publish_batch(&stamped);
        std::thread::sleep(Duration::from_millis(15));
        // Kill twice, once a third and once two thirds in, each time after the writer has stored something.
        if (i == 25 || i == 50) && stored_rows(&store) > 0 {
            writer.kill().unwrap();
            writer.wait().unwrap();
            kills += 1;
            writer = spawn_writer(&tuning, &log);
        }
    }
    drop(producer);
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = writer.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "writer did not exit after the producer closed; log: {}",
            log.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let log_text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(status.success(), "writer exit {status}; log:\n{log_text}");
    assert_eq!(kills, 2, "the writer stored nothing before the kill points; log:\n{log_text}");
    assert!(
        log_text.contains("candle state rebuilt from stored ticks"),
        "restart recovered candles:\n{log_text}"
    );

    let counts = block_on(verify::tick_counts(store.client())).unwrap();
    let n = ticks.len() as u64;
    let verdict = if (counts.raw, counts.distinct) == (n, n) { "ok" } else { "FAIL" };
    println!(
        "FAULT\twriter kill -9 twice mid-stream\t{n}\t{}\t{}\t{}\t{verdict}",
        counts.raw,
        counts.raw.saturating_sub(counts.distinct),
        n.saturating_sub(counts.distinct)
    );
    assert_eq!((counts.raw, counts.final_rows, counts.distinct), (n, n, n), "{counts:?}");
    block_on(verify::check_volumes(store.client(), &ticks)).unwrap();
    block_on(verify::check_latest(store.client(), &ticks)).unwrap();
    for series in Series::DEFAULT {
        block_on(verify::check_candles(store.client(), &ticks, series, true)).unwrap();
    }
    let _ = std::fs::remove_file(ring.segment_path());
    let _ = std::fs::remove_file(ring.lock_path());
    let _ = std::fs::remove_dir_all(&dir);
}
