//! The journal's guarantees, tried with real processes (`tickring ingest`, `tickring sink clickhouse`, a
//! real ClickHouse server): a producer takeover while the writer is down, ingest killed mid-write, the
//! writer frozen past the heartbeat with a full ring, ClickHouse stopped longer than the ring holds.
//! Afterwards every published tick is stored exactly once and candles equal the offline aggregation.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tickring_engine::candles::Series;
use tickring_engine::{InstrumentEntry, Tick};
use tickring_ipc::{Producer, RingConfig, RingStatus};
use tickring_journal::{FsyncPolicy, JournalConfig, JournalWriter};
use tickring_sink_clickhouse::fixture::{fixture_ticks, FixtureSpec, INSTRUMENTS};
use tickring_sink_clickhouse::{verify, ClickhouseConfig, Store};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The shared test server (18123), or one of this test's own on `port` with its own data folder.
fn clickhouse(action: &str, port: Option<u16>) {
    // The tests here run in parallel: two starts of one server at once would race for its data folder.
    static SCRIPT: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_at_a_time = SCRIPT.lock().unwrap_or_else(|p| p.into_inner());
    let mut cmd = Command::new(root().join("scripts/clickhouse.sh"));
    cmd.arg(action);
    if let Some(port) = port {
        cmd.env("CLICKHOUSE_HTTP_PORT", port.to_string())
            .env("CLICKHOUSE_TCP_PORT", (port + 877).to_string())
            .env("CLICKHOUSE_HOME", root().join(format!("var/clickhouse-{port}")));
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "scripts/clickhouse.sh {action} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// One row of `scripts/faults.sh`'s table (printed; shown with `--nocapture`).
fn report(scenario: &str, published: u64, stored: u64, distinct: u64) {
    let lost = published.saturating_sub(distinct);
    let duplicates = stored.saturating_sub(distinct);
    let verdict = if lost == 0 && duplicates == 0 && distinct == published { "ok" } else { "FAIL" };
    println!("FAULT\t{scenario}\t{published}\t{stored}\t{duplicates}\t{lost}\t{verdict}");
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
}

/// A child killed when the test ends however it ends.
struct Proc(Option<Child>);

impl Proc {
    fn spawn(tuning: &Path, args: &[&str], log: &Path) -> Self {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(log).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_tickring"))
            .args(["--tuning", tuning.to_str().unwrap()])
            .args(args)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        Self(Some(child))
    }

    fn pid(&self) -> i32 {
        self.0.as_ref().map_or(0, |c| c.id() as i32)
    }

    /// Sends a signal by name (`INT`, `STOP`, `CONT`) with the kill command.
    fn signal(&self, name: &str) {
        let ok = Command::new("kill").args([format!("-{name}"), self.pid().to_string()]).status();
        assert!(ok.is_ok_and(|s| s.success()), "kill -{name} {}", self.pid());
    }

    fn kill9(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Waits for the child to exit on its own; its status.
    fn wait_exit(&mut self, within: Duration, log: &Path) -> std::process::ExitStatus {
        let deadline = Instant::now() + within;
        let child = self.0.as_mut().unwrap();
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                self.0 = None;
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "process did not exit; log:\n{}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill9();
    }
}

struct Scene {
    dir: PathBuf,
    ring: RingConfig,
    journal: JournalConfig,
    tuning: PathBuf,
    store: Store,
    database: String,
}

impl Scene {
    fn new(tag: &str, ring_capacity: u64, http_port: u16, extra: &str) -> Self {
        let id = format!("{tag}-{}", std::process::id());
        let dir = std::env::temp_dir().join(format!("tickring-{id}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let database = format!("tickring_test_{}", tag.replace('-', "_"));
        let ring =
            RingConfig { name: id.clone(), capacity: ring_capacity, ..RingConfig::default() };
        let journal = JournalConfig {
            dir: dir.join("journal"),
            fsync: FsyncPolicy::IntervalMs(100),
            ..JournalConfig::default()
        };
        let tuning = dir.join("tuning.toml");
        std::fs::write(
            &tuning,
            format!(
                "[ring]\nname = \"{id}\"\ncapacity = {ring_capacity}\nheartbeat_timeout_ms = 1000\n\n\
                 [journal]\ndir = \"{journal}\"\nfsync = {{ interval_ms = 100 }}\n\n\
                 [ingest]\nmetrics = \"\"\nquarantine = \"{quarantine}\"\npublisher_core = 1\n\n\
                 [ingest.simulator]\nrate_per_s = 20000\nmean_gap_ms = 20\n\n\
                 [clickhouse]\nurl = \"http://127.0.0.1:{http_port}\"\ndatabase = \"{database}\"\nconsumer = \"ch-{tag}\"\n\
                 metrics = \"\"\nmax_rows = 20000\nflush_interval_ms = 100\nretry_min_ms = 50\nretry_max_ms = 500\n\
                 candle_grace_ms = 3600000\n{extra}",
                journal = dir.join("journal").display(),
                quarantine = dir.join("quarantine.jsonl").display(),
            ),
        )
        .unwrap();
        let store = Store::new(
            &ClickhouseConfig {
                url: format!("http://127.0.0.1:{http_port}"),
                database: database.clone(),
                ..ClickhouseConfig::default()
            },
            "",
        );
        Self { dir, ring, journal, tuning, store, database }
    }

    fn drop_database(&self) {
        block_on(
            self.store
                .server_client()
                .query(&format!("DROP DATABASE IF EXISTS {}", self.database))
                .execute(),
        )
        .unwrap();
    }

    fn log(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.log"))
    }

    fn spawn(&self, name: &str, args: &[&str]) -> Proc {
        Proc::spawn(&self.tuning, args, &self.log(name))
    }

    fn stored(&self) -> u64 {
        block_on(self.store.client().query("SELECT count() FROM ticks").fetch_one::<u64>())
            .unwrap_or(0)
    }

    fn wait_stored(&self, at_least: u64, within: Duration) {
        let deadline = Instant::now() + within;
        while self.stored() < at_least {
            assert!(
                Instant::now() < deadline,
                "only {} stored; writer log:\n{}",
                self.stored(),
                std::fs::read_to_string(self.log("writer")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Per journaled epoch: (epoch, records journaled).
    fn journaled(&self) -> Vec<(u64, u64)> {
        let info = tickring_journal::info::inspect::<Tick, InstrumentEntry>(
            &self.journal,
            &self.ring.name,
        )
        .unwrap();
        info.epochs.iter().map(|e| (e.epoch, e.head)).collect()
    }

    /// Every journaled tick of every epoch is stored once: rows, distinct sequences and the journal agree.
    fn assert_exactly_once(&self, scenario: &str) {
        let (mut published, mut stored, mut distinct) = (0, 0, 0);
        for (epoch, head) in self.journaled() {
            let (rows, d) = block_on(
                self.store
                    .client()
                    .query("SELECT count(), uniqExact(seq) FROM ticks WHERE epoch = ?")
                    .bind(epoch)
                    .fetch_one::<(u64, u64)>(),
            )
            .unwrap();
            (published, stored, distinct) = (published + head, stored + rows, distinct + d);
            assert_eq!((rows, d), (head, head), "epoch {epoch}: rows, distinct vs journaled");
        }
        report(scenario, published, stored, distinct);
    }

    fn cleanup(&self) {
        let _ = std::fs::remove_file(self.ring.segment_path());
        let _ = std::fs::remove_file(self.ring.lock_path());
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn a_takeover_while_the_writer_is_down_loses_and_duplicates_nothing() {
    clickhouse("start", None);
    let scene = Scene::new("takeover", 1 << 16, 18123, "");
    scene.drop_database();
    let mut ingest = scene.spawn("ingest", &["ingest", "--quiet"]);
    let mut writer = scene.spawn("writer", &["sink", "clickhouse"]);
    scene.wait_stored(10_000, Duration::from_secs(30));
    writer.kill9(); // the writer dies with a backlog...
    std::thread::sleep(Duration::from_millis(1500));
    let before = RingStatus::read::<Tick, InstrumentEntry>(&scene.ring).unwrap();
    ingest.kill9(); // ...then ingest, mid-write
    let published = RingStatus::read::<Tick, InstrumentEntry>(&scene.ring).unwrap().published;
    assert!(published >= before.published);
    let journaled = scene.journaled();
    let (old_epoch, old_head) = *journaled.last().unwrap();
    assert_eq!(old_epoch, before.epoch);
    assert!(old_head >= published, "kill -9 loses nothing appended: {old_head} < {published}");
    let report =
        tickring_journal::verify::<Tick, InstrumentEntry>(&scene.journal, &scene.ring.name)
            .unwrap();
    assert!(report.ok(), "a killed writer leaves at most a torn tail: {report:?}");

    // A new ingest takes the ring over (a new epoch) and continues the simulated day; then the writer.
    let mut ingest = scene.spawn("ingest", &["ingest", "--quiet"]);
    std::thread::sleep(Duration::from_millis(1000));
    let mut writer = scene.spawn("writer", &["sink", "clickhouse"]);
    std::thread::sleep(Duration::from_millis(2000));
    ingest.signal("INT");
    assert!(ingest.wait_exit(Duration::from_secs(30), &scene.log("ingest")).success());
    let status = writer.wait_exit(Duration::from_secs(60), &scene.log("writer"));
    assert!(status.success(), "writer: {status}");

    let journaled = scene.journaled();
    assert_eq!(journaled.len(), 2, "{journaled:?}");
    scene.assert_exactly_once("takeover while the writer is down + ingest kill -9");
    // The restarted simulator continued (its trade ids go on): nothing was published twice.
    let (rows, ids) = block_on(
        scene
            .store
            .client()
            .query("SELECT count(), uniqExact(trade_id) FROM ticks")
            .fetch_one::<(u64, u64)>(),
    )
    .unwrap();
    assert_eq!(rows, ids, "a trade was published again after the restart");
    let ingest_log = std::fs::read_to_string(scene.log("ingest")).unwrap();
    assert!(ingest_log.contains("continuing the source"), "{ingest_log}");
    scene.cleanup();
}

/// An in-process producer that journals like ingest, publishing the fixture stream in chunks; `during`
/// runs after each chunk with its index.
fn publish_fixture(scene: &Scene, ticks: &[Tick], pause: Duration, mut during: impl FnMut(usize)) {
    let mut producer = Producer::<Tick, InstrumentEntry>::create(&scene.ring).unwrap();
    let mut journal = JournalWriter::<Tick, InstrumentEntry>::open(
        &scene.journal,
        &scene.ring.name,
        producer.epoch(),
    )
    .unwrap();
    for (sym, ex) in INSTRUMENTS {
        let entry = InstrumentEntry::new(sym, ex).unwrap();
        let index = producer.push_entry(&entry).unwrap();
        journal.push_entry(index, &entry).unwrap();
    }
    for (i, part) in ticks.chunks(2_000).enumerate() {
        let now = Producer::<Tick, InstrumentEntry>::now_ns();
        let stamped: Vec<Tick> = part.iter().map(|t| Tick { ts_publish_ns: now, ..*t }).collect();
        journal.append(producer.head(), &stamped).unwrap();
        producer.publish_batch(&stamped);
        std::thread::sleep(pause);
        during(i);
    }
    let gated = RingStatus::read::<Tick, InstrumentEntry>(&scene.ring).unwrap().producer_gated_ns;
    assert_eq!(gated, 0, "no sink holds the producer back");
    journal.close().unwrap();
}

fn assert_stored_like(scene: &Scene, ticks: &[Tick], scenario: &str) {
    let client = scene.store.client();
    let counts = block_on(verify::tick_counts(client)).unwrap();
    let n = ticks.len() as u64;
    report(scenario, n, counts.raw, counts.distinct);
    assert_eq!((counts.raw, counts.final_rows, counts.distinct), (n, n, n), "{counts:?}");
    block_on(verify::check_volumes(client, ticks)).unwrap();
    block_on(verify::check_latest(client, ticks)).unwrap();
    for series in Series::DEFAULT {
        block_on(verify::check_candles(client, ticks, series, true)).unwrap();
    }
}

#[test]
fn a_writer_frozen_past_the_heartbeat_with_a_full_ring_counts_every_candle_once() {
    clickhouse("start", None);
    let scene = Scene::new("frozen", 1 << 16, 18123, "");
    scene.drop_database();
    // 100 k ticks/s for 6 s; the writer is frozen for 4 s of it (past the 1 s heartbeat timeout, while
    // the 65,536-record ring is lapped six times over).
    let ticks = fixture_ticks(FixtureSpec::new(600_000));
    let mut writer = scene.spawn("writer", &["sink", "clickhouse"]);
    std::thread::sleep(Duration::from_millis(500));
    publish_fixture(&scene, &ticks, Duration::from_millis(20), |i| {
        if i == 50 {
            writer.signal("STOP");
        }
        if i == 250 {
            writer.signal("CONT");
        }
    });
    let status = writer.wait_exit(Duration::from_secs(90), &scene.log("writer"));
    assert!(status.success(), "writer: {status}");
    assert_stored_like(&scene, &ticks, "writer SIGSTOP 4 s past the heartbeat, ring lapped");
    let log = std::fs::read_to_string(scene.log("writer")).unwrap();
    assert!(!log.contains("ticks lost"), "{log}");
    scene.cleanup();
}

#[test]
fn clickhouse_down_longer_than_the_ring_holds_costs_disk_not_the_feed() {
    const PORT: u16 = 18126;
    clickhouse("start", Some(PORT));
    let scene = Scene::new("outage", 1 << 16, PORT, "");
    scene.drop_database();
    // 20 k ticks/s; the server is stopped for 30 s (600 k ticks, nine rings' worth).
    let ticks = fixture_ticks(FixtureSpec::new(900_000));
    let mut writer = scene.spawn("writer", &["sink", "clickhouse"]);
    std::thread::sleep(Duration::from_millis(500));
    let started = Instant::now();
    publish_fixture(&scene, &ticks, Duration::from_millis(100), |i| {
        if i == 50 {
            clickhouse("stop", Some(PORT));
        }
        if i == 50 + 300 {
            clickhouse("start", Some(PORT));
        }
    });
    let took = started.elapsed();
    assert!(took < Duration::from_secs(60), "the feed was held back: {took:?}");
    let status = writer.wait_exit(Duration::from_secs(120), &scene.log("writer"));
    assert!(status.success(), "writer: {status}");
    assert_stored_like(&scene, &ticks, "ClickHouse stopped 30 s at 20 k ticks/s");
    clickhouse("stop", Some(PORT));
    scene.cleanup();
}

/// A replay file of canonical lines: `symbols` in this order of first appearance, prices that tell them
/// apart, event times one millisecond apart ending a minute ago.
fn replay_file(path: &Path, symbols: &[(&str, &str, u64)], trades: usize) {
    use std::fmt::Write as _;
    let end = Producer::<Tick, InstrumentEntry>::now_ns() - 60_000_000_000;
    let start = end - trades as u64 * 1_000_000;
    let mut text = String::new();
    for i in 0..trades {
        let (sym, mic, base) = symbols[i % symbols.len()];
        let _ = writeln!(
            text,
            r#"{{"symbol":"{sym}","exchange":"{mic}","ts":{},"price":"{}.{:02}","size":"{}","trade_id":{}}}"#,
            start + i as u64 * 1_000_000,
            base,
            i % 100,
            1 + i % 7,
            i + 1
        );
    }
    std::fs::write(path, text).unwrap();
}

#[test]
fn a_restart_that_numbers_instruments_differently_never_sends_a_trade_under_another_name() {
    clickhouse("start", None);
    let port = 18_400 + (std::process::id() % 500) as u16;
    let extra =
        format!("\n[websocket]\nlisten = \"127.0.0.1:{port}\"\nconsumer_name = \"ws-mapping\"\n");
    let scene = Scene::new("mapping", 1 << 16, 18123, &extra);
    scene.drop_database();
    let a = scene.dir.join("a.jsonl");
    let b = scene.dir.join("b.jsonl");
    let names = [
        ("AAPL.O", "XNAS", 190),
        ("MSFT.O", "XNAS", 410),
        ("7203.T", "XTKS", 3000),
        ("VOD.L", "XLON", 70),
    ];
    replay_file(&a, &names, 3_000);
    let reversed: Vec<_> = names.iter().rev().copied().collect();
    replay_file(&b, &reversed, 3_000);
    let mut pusher = scene.spawn("pusher", &["sink", "websocket"]);
    let mut writer = scene.spawn("writer", &["sink", "clickhouse"]);

    let deadline = Instant::now() + Duration::from_secs(10);
    let mut ws = loop {
        match tungstenite::connect(format!("ws://127.0.0.1:{port}/ws")) {
            Ok((ws, _)) => break ws,
            Err(e) => assert!(Instant::now() < deadline, "pusher not listening: {e}"),
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    if let tungstenite::stream::MaybeTlsStream::Plain(s) = ws.get_ref() {
        s.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
    }
    ws.send(tungstenite::Message::text(r#"{"op":"subscribe","channels":["trade.*"],"id":1}"#))
        .unwrap();
    let received =
        std::sync::Arc::new(std::sync::Mutex::new(Vec::<(u64, u64, String, String)>::new()));
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let (received, stop) = (received.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let Ok(tungstenite::Message::Text(t)) = ws.read() else { continue };
                // Each frame is an array of events.
                let frame: Vec<serde_json::Value> = serde_json::from_str(&t).unwrap();
                for v in frame.iter().filter(|v| v["type"] == "trade") {
                    received.lock().unwrap().push((
                        v["epoch"].as_u64().unwrap(),
                        v["seq"].as_u64().unwrap(),
                        v["symbol"].as_str().unwrap().to_string(),
                        v["price"].as_str().unwrap().to_string(),
                    ));
                }
            }
        })
    };
    std::thread::sleep(Duration::from_millis(800));
    for (i, file) in [&a, &b].into_iter().enumerate() {
        let mut ingest =
            scene.spawn("ingest", &["ingest", file.to_str().unwrap(), "--speed", "1x", "--quiet"]);
        if i > 0 {
            // Once the new producer holds the ring (a writer finding only a closed ring has nothing to do).
            let deadline = Instant::now() + Duration::from_secs(20);
            while RingStatus::read::<Tick, InstrumentEntry>(&scene.ring)
                .map_or(true, |s| s.producer_state != "running")
            {
                assert!(Instant::now() < deadline, "the second ingest did not take the ring over");
                std::thread::sleep(Duration::from_millis(20));
            }
            writer = scene.spawn("writer", &["sink", "clickhouse"]);
        }
        assert!(ingest.wait_exit(Duration::from_secs(60), &scene.log("ingest")).success());
        // The writer stops once a closed ring is stored; the pusher waits for the next producer.
        let status = writer.wait_exit(Duration::from_secs(60), &scene.log("writer"));
        assert!(status.success(), "writer: {status}");
    }
    std::thread::sleep(Duration::from_millis(500));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    reader.join().unwrap();
    pusher.kill9();

    let stored: std::collections::HashMap<(u64, u64), (String, String)> = block_on(
        scene
            .store
            .client()
            .query("SELECT epoch, seq, symbol, toString(price) FROM ticks")
            .fetch_all::<(u64, u64, String, String)>(),
    )
    .unwrap()
    .into_iter()
    .map(|(e, s, sym, p)| ((e, s), (sym, p)))
    .collect();
    assert_eq!(stored.len(), 6_000, "both files stored");
    let received = received.lock().unwrap();
    let epochs: std::collections::BTreeSet<u64> = received.iter().map(|r| r.0).collect();
    assert_eq!(epochs.len(), 2, "the pusher sent trades of both runs");
    assert!(received.len() > 4_000, "only {} trades reached the client", received.len());
    let n = received.len() as u64;
    let wrong = received
        .iter()
        .filter(|(e, s, sym, _)| stored.get(&(*e, *s)).is_none_or(|(want, _)| want != sym))
        .count() as u64;
    report("ingest restarted, instruments renumbered (pusher)", n, n, n - wrong);
    for (epoch, seq, symbol, price) in received.iter() {
        let (want_symbol, want_price) = &stored[&(*epoch, *seq)];
        assert_eq!(
            (symbol, price.parse::<f64>().ok()),
            (want_symbol, want_price.parse().ok()),
            "({epoch}, {seq})"
        );
    }
    scene.cleanup();
}
