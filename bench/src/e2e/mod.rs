//! The `e2e` scenario: the whole data path on this machine at a set input rate.
//!
//! A paced producer in this process makes synthetic trades (receive time stamped as each is made),
//! the engine's publisher classifies them and publishes them into a ring of this run; three processes read
//! it: a measuring probe (`feed->ring`, `ring-hop`), the ClickHouse writer (`tickring sink clickhouse`,
//! against a local server started for the run) and the websocket pusher (`tickring sink websocket`) with
//! N real websocket clients here (`tick->websocket-client`, `end-to-end`). A poller times
//! `tick->clickhouse-visible`. The first ticks are warm-up, identified by ring sequence everywhere. Each
//! process's CPU per tick over the publishing phase is reported beside the latency rows.

pub mod clickhouse;
pub mod clients;
pub mod feed;
pub mod probe;

use crate::cpu::CpuMeter;
use crate::histogram::LatencyHistogram;
use crate::report::{BenchResult, Measurement, Report, Throughput};
use crate::ring_scenario::{write_outputs, RingRun};
use anyhow::{anyhow, bail, Context, Result};
use clickhouse::{Http, LocalServer, Published};
use rustix::process::{kill_process, Pid, Signal};
use std::fmt::Write as _;
use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, PoisonError};
use std::time::{Duration, Instant};
use tickring_engine::{InstrumentEntry, Tick};
use tickring_ipc::{RingConfig, RingStatus};

/// Scenario name in reports and file names.
pub const SCENARIO: &str = "e2e";
pub const FEED_HOP: &str = "feed->ring";
pub const RING_HOP: &str = "ring-hop";
pub const CLICKHOUSE_HOP: &str = "tick->clickhouse-visible";
pub const WEBSOCKET_HOP: &str = "tick->websocket-client";
pub const END_TO_END: &str = "end-to-end";

/// Where the ClickHouse of the run comes from.
#[derive(Debug, Clone)]
pub enum ClickhouseSource {
    /// Start a server with this script on free ports, in a folder of its own; stop it afterwards.
    Start { script: PathBuf },
    /// Use a running server (`http://host:port`); the run's database is dropped and recreated.
    Existing { url: String },
}

/// Knobs of the e2e scenario.
#[derive(Debug, Clone)]
pub struct E2eConfig {
    /// Input rate, ticks per second.
    pub rate: u64,
    /// Ticks recorded, after the warm-up.
    pub ticks: u64,
    /// Ticks published (at the rate) before recording starts.
    pub warmup_ticks: u64,
    pub clients: usize,
    /// Symbols the ticks go round robin over.
    pub symbols: usize,
    /// Trade channels per client (client i takes symbols i*per_client.. round robin).
    pub per_client: usize,
    /// Ticks per publish (`ingest.publish_batch`).
    pub publish_batch: usize,
    /// Core the producer thread is pinned to.
    pub producer_core: Option<usize>,
    /// The ring's settings (`[ring]` of the tuning); the name is replaced by one of this run.
    pub ring: RingConfig,
    /// The tuning file the sink processes start from (a copy with this run's ring, database, consumer
    /// names and listen address is what they get).
    pub tuning: PathBuf,
    /// `clickhouse.flush_interval_ms` of that tuning, for the target.
    pub flush_interval_ms: u64,
    pub clickhouse: ClickhouseSource,
    /// The `tickring` executable.
    pub program: PathBuf,
    /// Limit on start-up and on draining at the end.
    pub timeout: Duration,
}

impl E2eConfig {
    /// Ticks and warm-up of a full (30 s) or quick (5 s) run at `rate`.
    pub fn counts(rate: u64, quick: bool) -> (u64, u64) {
        let rate = rate.max(1);
        if quick {
            (rate * 5, rate)
        } else {
            (rate * 30, rate * 2)
        }
    }

    /// Refuses knobs the run cannot work with.
    ///
    /// # Errors
    /// A zero rate, count, client or symbol number.
    pub fn validate(&self) -> Result<()> {
        if self.rate == 0 || self.ticks == 0 {
            bail!("--rate and --ticks must be at least 1");
        }
        if self.clients == 0 || self.symbols == 0 || self.per_client == 0 {
            bail!("--clients, --symbols and --per-client must be at least 1");
        }
        Ok(())
    }

    /// p99 targets per row (the product's latency goals), nanoseconds.
    pub fn targets(&self) -> Vec<(&'static str, u64)> {
        vec![
            (RING_HOP, 5_000),
            (WEBSOCKET_HOP, 10_000_000),
            (CLICKHOUSE_HOP, (self.flush_interval_ms + 100) * 1_000_000),
        ]
    }
}

/// What an e2e run produced.
#[derive(Debug)]
pub struct E2eRun {
    pub run: RingRun,
    /// (row, p99 target ns).
    pub targets: Vec<(&'static str, u64)>,
    /// Counts behind the rows, for the printed notes.
    pub notes: Vec<String>,
}

impl E2eRun {
    /// Whether `row`'s p99 met `target` ns (a row with no samples did not).
    fn met(&self, row: &BenchResult, target: u64) -> bool {
        row.samples > 0 && row.p99_ns < target
    }

    /// Every row with a target met it.
    pub fn targets_met(&self) -> bool {
        self.targets.iter().all(|(name, target)| {
            self.run.report.results.iter().any(|r| r.name == *name && self.met(r, *target))
        })
    }

    /// Rows in microseconds with throughput and each target.
    pub fn table(&self) -> String {
        let mut s = String::new();
        let us = |ns: u64| ns as f64 / 1e3;
        let _ = writeln!(
            s,
            "{:<25} {:>10} {:>10} {:>10} {:>10} {:>10} {:>11} {:>12}  p99 target",
            "hop", "p50 us", "p90 us", "p99 us", "p99.9 us", "p99.99 us", "max us", "per s"
        );
        for r in &self.run.report.results {
            let target = match self.targets.iter().find(|(n, _)| *n == r.name) {
                Some((_, t)) => {
                    format!("< {} us: {}", us(*t), if self.met(r, *t) { "met" } else { "MISSED" })
                }
                None => "-".into(),
            };
            let _ = writeln!(
                s,
                "{:<25} {:>10.2} {:>10.2} {:>10.2} {:>10.2} {:>10.2} {:>11.2} {:>12.0}  {target}",
                r.name,
                us(r.p50_ns),
                us(r.p90_ns),
                us(r.p99_ns),
                us(r.p999_ns),
                us(r.p9999_ns),
                us(r.max_ns),
                r.throughput_per_s
            );
        }
        for n in &self.notes {
            let _ = writeln!(s, "{n}");
        }
        if !self.run.report.cpu.is_empty() {
            let _ = writeln!(s, "\nCPU over the publishing phase:");
            s.push_str(&crate::cpu::cpu_table(&self.run.report.cpu));
        }
        s
    }

    /// The JSON, one `.hgrm` per row and `<stem>.svg` (the percentile plot) next to the JSON.
    ///
    /// # Errors
    /// A file cannot be written.
    pub fn write_outputs(&self, json: &Path, dir: &Path) -> Result<Vec<PathBuf>> {
        let mut written = write_outputs(&self.run, json, dir)?;
        let stem = json.file_stem().and_then(|s| s.to_str()).unwrap_or(SCENARIO);
        let svg = dir.join(format!("{stem}.svg"));
        let series: Vec<(&str, &LatencyHistogram)> = self
            .run
            .measurements
            .iter()
            .filter(|m| !m.latency.is_empty())
            .map(|m| (m.name.as_str(), &m.latency))
            .collect();
        crate::plot::write_percentile_svg(&svg, "tickring e2e: latency by percentile", &series)?;
        written.push(svg);
        Ok(written)
    }
}

/// Removes the run's ring segment and lock file when dropped (after the processes that map it).
#[derive(Debug)]
struct RingFiles(RingConfig);

impl Drop for RingFiles {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(self.0.segment_path());
        let _ = std::fs::remove_file(self.0.lock_path());
    }
}

/// Child processes of the run: SIGTERM'd (then killed) when dropped.
#[derive(Debug, Default)]
struct Children(Vec<(&'static str, Child, PathBuf)>);

impl Children {
    fn spawn(&mut self, name: &'static str, cmd: &mut Command, log: PathBuf) -> Result<()> {
        let err =
            std::fs::File::create(&log).with_context(|| format!("creating {}", log.display()))?;
        let child = cmd
            .stdin(Stdio::null())
            .stderr(err)
            .spawn()
            .with_context(|| format!("starting {name}"))?;
        self.0.push((name, child, log));
        Ok(())
    }

    /// (name, pid) of every child.
    fn pids(&self) -> Vec<(&'static str, u32)> {
        self.0.iter().map(|(n, c, _)| (*n, c.id())).collect()
    }

    fn get(&mut self, name: &str) -> Option<&mut Child> {
        self.0.iter_mut().find(|(n, _, _)| *n == name).map(|(_, c, _)| c)
    }

    /// Fails with the log tail of the first child that has exited.
    fn check_running(&mut self) -> Result<()> {
        for (name, child, log) in &mut self.0 {
            if let Ok(Some(status)) = child.try_wait() {
                bail!("{name} exited early ({status}): {}", log_tail(log));
            }
        }
        Ok(())
    }

    /// Waits up to `timeout` for `name` to exit on its own; its exit status, or `None` (still running).
    fn wait(&mut self, name: &str, timeout: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + timeout;
        let child = self.get(name)?;
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn stop(&mut self, name: &str) {
        if let Some(child) = self.get(name) {
            stop_child(child);
        }
    }
}

fn stop_child(child: &mut Child) {
    if let Ok(None) = child.try_wait() {
        if let Some(pid) = i32::try_from(child.id()).ok().and_then(Pid::from_raw) {
            let _ = kill_process(pid, Signal::TERM);
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
    }
    let _ = child.wait();
}

impl Drop for Children {
    fn drop(&mut self) {
        for (_, child, _) in &mut self.0 {
            stop_child(child);
        }
    }
}

fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let tail = lines[lines.len().saturating_sub(8)..].join("\n");
    format!("{} (log {}):\n{tail}", lines.len(), path.display())
}

/// The run's copy of the tuning file: its ring, consumer names, database and pusher limits.
fn write_tuning(
    cfg: &E2eConfig,
    ring: &RingConfig,
    journal: &tickring_journal::JournalConfig,
    url: &str,
    path: &Path,
) -> Result<()> {
    let text = std::fs::read_to_string(&cfg.tuning)
        .with_context(|| format!("reading {}", cfg.tuning.display()))?;
    let mut doc: toml::Table =
        toml::from_str(&text).with_context(|| format!("parsing {}", cfg.tuning.display()))?;
    doc.insert("ring".into(), toml::Value::try_from(ring)?);
    doc.insert("journal".into(), toml::Value::try_from(journal)?);
    let table = |doc: &mut toml::Table, key: &str| -> Result<toml::Table> {
        match doc.remove(key) {
            None => Ok(toml::Table::new()),
            Some(toml::Value::Table(t)) => Ok(t),
            Some(_) => Err(anyhow!("{}: [{key}] is not a table", cfg.tuning.display())),
        }
    };
    let mut ch = table(&mut doc, "clickhouse")?;
    ch.insert("url".into(), url.into());
    ch.insert("database".into(), DATABASE.into());
    ch.insert("consumer".into(), "e2e-clickhouse".into());
    doc.insert("clickhouse".into(), ch.into());
    let mut ws = table(&mut doc, "websocket")?;
    let int =
        |t: &toml::Table, k: &str, d: i64| t.get(k).and_then(toml::Value::as_integer).unwrap_or(d);
    let subs = int(&ws, "max_subscriptions", 200).max(cfg.per_client as i64 + 1);
    ws.insert("consumer_name".into(), "e2e-websocket".into());
    ws.insert("listen".into(), "127.0.0.1:0".into());
    ws.insert(
        "max_connections".into(),
        int(&ws, "max_connections", 5_000).max(cfg.clients as i64 + 16).into(),
    );
    ws.insert("max_subscriptions".into(), subs.into());
    ws.insert("control_queue".into(), int(&ws, "control_queue", 1_024).max(subs + 16).into());
    doc.insert("websocket".into(), ws.into());
    std::fs::write(path, toml::to_string(&doc)?)
        .with_context(|| format!("writing {}", path.display()))
}

/// The database the run's ticks go to.
pub const DATABASE: &str = "tickring_e2e";

fn wait_for_consumers(
    ring: &RingConfig,
    names: &[&str],
    children: &mut Children,
    timeout: Duration,
) -> Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        children.check_running()?;
        if let Ok(status) = RingStatus::read::<Tick, InstrumentEntry>(ring) {
            if names.iter().all(|n| status.consumers.iter().any(|c| c.name == *n)) {
                return Ok(());
            }
        }
        if Instant::now() >= deadline {
            bail!("the sinks did not attach to ring {} within {timeout:?}", ring.name);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Reads the pusher's `websocket: ws://ADDR/ws` line.
fn pusher_url(child: &mut Child, timeout: Duration) -> Result<String> {
    let stdout = child.stdout.take().ok_or_else(|| anyhow!("the pusher's stdout is not piped"))?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Some(url) =
                line.strip_prefix("websocket: ").and_then(|r| r.split_whitespace().next())
            {
                let _ = tx.send(url.to_owned());
            }
        }
    });
    rx.recv_timeout(timeout)
        .map_err(|_| anyhow!("the websocket pusher did not say where it listens"))
}

/// Runs the scenario.
///
/// # Errors
/// Set-up failed (server, ring, processes, clients), or ClickHouse does not hold every published tick.
pub fn run_e2e(cfg: &E2eConfig) -> Result<E2eRun> {
    cfg.validate()?;
    let pid = std::process::id();
    let work = std::env::temp_dir().join(format!("tickring-e2e-{pid}"));
    std::fs::create_dir_all(&work).with_context(|| format!("creating {}", work.display()))?;
    let result = run_in(cfg, &work);
    if result.is_ok() {
        let _ = std::fs::remove_dir_all(&work);
    } else {
        eprintln!("e2e: logs kept in {}", work.display());
    }
    result
}

fn run_in(cfg: &E2eConfig, work: &Path) -> Result<E2eRun> {
    let pid = std::process::id();
    // The server is dropped (stopped) last: declared first.
    let (_server, url) = match &cfg.clickhouse {
        ClickhouseSource::Start { script } => {
            let (http, tcp) = clickhouse::free_ports()?;
            let server = LocalServer::start(script, http, tcp, &work.join("clickhouse"))
                .context("starting the e2e ClickHouse server")?;
            (Some(server), format!("http://127.0.0.1:{http}"))
        }
        ClickhouseSource::Existing { url } => (None, url.clone()),
    };
    let http = Http::new(&url)?;
    http.query(&format!("DROP DATABASE IF EXISTS `{DATABASE}`"))?;

    let ring = RingConfig { name: format!("e2e-{pid}"), ..cfg.ring.clone() };
    let _ring_files = RingFiles(ring.clone());
    let journal = tickring_journal::JournalConfig {
        dir: work.join("journal"),
        ..tickring_journal::JournalConfig::default()
    };
    let mut feed = feed::Feed::create(&ring, &journal, cfg.symbols, cfg.publish_batch)?;
    let epoch = feed.epoch();
    let tuning = work.join("tuning.toml");
    write_tuning(cfg, &ring, &journal, &url, &tuning)?;

    let skip = cfg.symbols as u64 + cfg.warmup_ticks;
    let probe_out = work.join("probe.json");
    let spec = probe::ProbeSpec {
        ring: ring.clone(),
        consumer: "e2e-probe".into(),
        skip,
        out: probe_out.clone(),
    };
    let mut children = Children::default();
    children.spawn(
        "probe",
        Command::new(&cfg.program)
            .args(["bench", "__e2e-probe"])
            .arg(serde_json::to_string(&spec)?)
            .stdout(Stdio::null()),
        work.join("probe.log"),
    )?;
    children.spawn(
        "clickhouse writer",
        Command::new(&cfg.program)
            .arg("--tuning")
            .arg(&tuning)
            .args(["sink", "clickhouse"])
            .stdout(Stdio::null()),
        work.join("writer.log"),
    )?;
    children.spawn(
        "websocket pusher",
        Command::new(&cfg.program)
            .arg("--tuning")
            .arg(&tuning)
            .args(["sink", "websocket"])
            .stdout(Stdio::piped()),
        work.join("pusher.log"),
    )?;
    let ws_url = match children.get("websocket pusher") {
        Some(child) => pusher_url(child, cfg.timeout)?,
        None => bail!("the websocket pusher was not started"),
    };
    wait_for_consumers(
        &ring,
        &["e2e-probe", "e2e-clickhouse", "e2e-websocket"],
        &mut children,
        cfg.timeout,
    )?;

    // Every symbol once, so the pusher knows them all, then the clients.
    feed.seed();
    std::thread::sleep(Duration::from_millis(200));
    let fleet = clients::Fleet::connect(&ws_url, cfg.clients, cfg.per_client, cfg.symbols, skip)?;
    std::thread::sleep(Duration::from_millis(300));
    children.check_running()?;

    let published = Arc::new(Published::default());
    if let Ok(mut chunks) = published.chunks.lock() {
        chunks.push((0, tickring_ipc::clock::realtime_ns()));
    }
    let linger = Duration::from_millis(cfg.flush_interval_ms) + cfg.timeout;
    let poller = clickhouse::spawn_poller(
        http.clone(),
        DATABASE.into(),
        epoch,
        skip,
        Arc::clone(&published),
        linger,
    );

    // CPU per tick of every process, over the publishing phase (warm-up included).
    let mut processes = children.pids();
    processes.push(("bench (feed + clients + poller)", pid));
    let server_pid = std::fs::read_to_string(work.join("clickhouse").join("server.pid"))
        .ok()
        .and_then(|p| p.trim().parse::<u32>().ok());
    if let Some(server) = server_pid {
        processes.push(("clickhouse server", server));
    }
    let cpu = CpuMeter::start(&processes);

    // The producer, on a thread of its own (pinned like the ingest's publisher).
    let (rate, warmup, ticks, core) = (cfg.rate, cfg.warmup_ticks, cfg.ticks, cfg.producer_core);
    let shared = Arc::clone(&published);
    let producer = std::thread::Builder::new().name("e2e-producer".into()).spawn(move || {
        if let Some(core) = core {
            if let Err(e) = tickring_engine::ingest::pinned::pin_current_thread(core) {
                tracing::warn!(error = %e, "e2e producer not pinned");
            }
        }
        let mut record = |c: feed::Chunk| {
            shared.chunks.lock().unwrap_or_else(PoisonError::into_inner).push(c);
        };
        feed.run(rate, warmup, &mut record);
        let measured = feed.run(rate, ticks, &mut record);
        let total = feed.head();
        let rejected = feed.rejected();
        drop(feed); // closes the ring: the writer drains and exits, the probe finishes
        shared.total.store(total, Relaxed);
        shared.done.store(true, Relaxed);
        (measured, total, rejected)
    })?;
    let (measured, total, rejected) =
        producer.join().map_err(|_| anyhow!("the e2e producer thread panicked"))?;
    let cpu = cpu.per_tick(warmup + ticks);
    if rejected > 0 {
        bail!("the publisher rejected {rejected} synthetic trades");
    }

    // Drain: the writer stores everything and exits; the probe exits on the closed ring.
    let writer_exit =
        children.wait("clickhouse writer", linger + Duration::from_millis(cfg.flush_interval_ms));
    let visible = poller.join().map_err(|_| anyhow!("the ClickHouse poller panicked"))?;
    let probe_exit = children.wait("probe", cfg.timeout);
    // Clients: until nothing new arrives for 300 ms (or the timeout).
    let deadline = Instant::now() + cfg.timeout;
    let mut last = fleet.received();
    loop {
        std::thread::sleep(Duration::from_millis(300));
        let now = fleet.received();
        if now == last || Instant::now() >= deadline {
            break;
        }
        last = now;
    }
    let client = fleet.finish();
    children.stop("websocket pusher");
    match writer_exit {
        Some(s) if s.success() => {}
        other => bail!(
            "the ClickHouse writer did not drain and exit cleanly ({other:?}); see {}",
            work.join("writer.log").display()
        ),
    }
    if probe_exit.is_none_or(|s| !s.success()) {
        bail!("the probe did not finish ({probe_exit:?}): {}", log_tail(&work.join("probe.log")));
    }
    let probe = probe::ProbeResult::read(&probe_out)?;
    let stored = http
        .numbers(&format!(
            "SELECT count(), uniqExact(seq) FROM `{DATABASE}`.ticks FINAL WHERE epoch = {epoch}"
        ))
        .context("counting the stored ticks")?;
    if stored != [total, total] {
        bail!("ClickHouse holds {stored:?} (rows, distinct seqs) of the {total} ticks published");
    }
    children.stop("probe");
    drop(children);

    // The measured phase starts with the first publish of a tick at `skip`.
    let start_ns = {
        let chunks = published.chunks.lock().unwrap_or_else(PoisonError::into_inner);
        chunks.iter().find(|c| c.0 >= skip).map_or(0, |c| c.1)
    };
    let span = |end: u64| end.saturating_sub(start_ns);
    let measured_ticks = total.saturating_sub(skip);
    let m = |name: &str, latency: LatencyHistogram, messages: u64, elapsed_ns: u64| Measurement {
        name: name.into(),
        latency,
        throughput: Throughput { messages, elapsed_ns },
    };
    let measurements = vec![
        m(
            FEED_HOP,
            LatencyHistogram::from_pairs(&probe.feed),
            measured_ticks,
            measured.as_nanos() as u64,
        ),
        m(RING_HOP, LatencyHistogram::from_pairs(&probe.hop), probe.seen, span(probe.last_ns)),
        m(
            CLICKHOUSE_HOP,
            visible.latency,
            visible.visible.saturating_sub(skip),
            span(visible.last_ns),
        ),
        m(WEBSOCKET_HOP, client.publish, client.received, span(client.last_ns)),
        m(END_TO_END, client.end_to_end, client.received, span(client.last_ns)),
    ];
    let results: Vec<BenchResult> =
        measurements.iter().map(BenchResult::from_measurement).collect();
    let notes = vec![
        format!(
            "in: {measured_ticks} ticks at {} /s (+{} warm-up, {} seed) in {:.2} s; {} symbols, {} clients x {} trade channels",
            cfg.rate,
            cfg.warmup_ticks,
            cfg.symbols,
            measured.as_secs_f64(),
            cfg.symbols,
            cfg.clients,
            cfg.per_client
        ),
        format!(
            "probe saw {} (lapped over {}); ClickHouse stored all {total} (flush interval {} ms, {} failed polls); clients got {} of {measured_ticks}",
            probe.seen, probe.missed, cfg.flush_interval_ms, visible.failed_polls, client.received
        ),
    ];
    let mut report = Report::new(SCENARIO, results, "");
    report.cpu = cpu;
    Ok(E2eRun {
        run: RingRun { report, measurements, failures: Vec::new() },
        targets: cfg.targets(),
        notes,
    })
}
